"""Every data call a page makes: a data_access function, cached by `ui.cache.cached_query` and
called without the engine, e.g. `opd_overview(start=..., end=..., opd_ids=...)`. Pages import
the names they use, so a misspelt one fails at import, not when a user opens the page."""
from __future__ import annotations

import streamlit as st

from data_access import auth, holidays, queries, visits
from data_access.config import get_settings
from ui.cache import cached_query
from ui.engine import get_engine

# adoption
opd_registry = cached_query(queries.opd_registry)
data_range = cached_query(queries.data_range)
totals = cached_query(queries.totals)
daily_counts = cached_query(queries.daily_counts)
opd_overview = cached_query(queries.opd_overview)
coverage_weekly = cached_query(queries.coverage_weekly)


# frames made from the period's overview, from the cached one: a page that shows both, or a visitor
# coming from another page with the same filter, has the overview computed once (`engine` is
# cached_query's: the cache is kept per database)
@cached_query
def adoption_table(*, engine, start, end, opd_ids=None):
    return queries.adoption_table_of(opd_overview(start=start, end=end, opd_ids=opd_ids), start=start, end=end)


@cached_query
def kecamatan_summary(*, engine, start, end, opd_ids=None):
    return queries.kecamatan_summary_of(opd_overview(start=start, end=end, opd_ids=opd_ids))


@cached_query
def regency_summary(*, engine, start, end, opd_ids=None):  # a province's registry (several regencies)
    return queries.regency_summary_of(opd_overview(start=start, end=end, opd_ids=opd_ids))

# onboarding
onboarding_progress = cached_query(queries.onboarding_progress)
pipeline_weekly = cached_query(queries.pipeline_weekly)

# refusals
refusals_daily = cached_query(queries.refusals_daily)
refusals_by_opd = cached_query(queries.refusals_by_opd)
refusals_by_visitor_type = cached_query(queries.refusals_by_visitor_type)
refusal_heatmap = cached_query(queries.refusal_heatmap)
merah_by_kecamatan = cached_query(queries.merah_by_kecamatan)

# monitoring visits
compliance = cached_query(visits.compliance)
list_visits = cached_query(visits.list_visits)
visit_photos = cached_query(visits.visit_photos)

# accounts
display_name_of = cached_query(auth.display_name_of)

# working days
holiday_coverage = cached_query(holidays.coverage)


@st.cache_data(ttl=60, show_spinner=False)
def _demo_state(db_url: str) -> str | None:
    from data_access.demo import demo_state

    with get_engine().connect() as conn:
        return demo_state(conn)


def demo_state() -> str | None:
    """'true' for demo data only, 'campuran' once real data was imported beside it, else None;
    read again at most once a minute."""
    return _demo_state(get_settings().database_url)


# map boundaries (the shipped kecamatan outlines, or PANTAU_BOUNDARY_GEOJSON)
@st.cache_data(ttl=3600, show_spinner=False)
def _map_boundaries(path: str | None):
    from pathlib import Path

    from data_access import boundaries

    problem = None
    if path:
        try:
            return boundaries.load(boundaries.configured_file(Path(path))), None
        except boundaries.BoundaryError as exc:
            problem = str(exc)
    return boundaries.load(), problem


def map_boundaries():
    """(Boundaries, problem): the configured boundary file, else the shipped outlines; a file that
    cannot be used falls back to the shipped outlines, with the reason in Bahasa Indonesia."""
    path = get_settings().boundary_geojson
    return _map_boundaries(str(path) if path is not None else None)
