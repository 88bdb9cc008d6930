"""The figures of the overview (Ringkasan, the page every session opens first) and of the
Onboarding page, from a filter's arguments to the shared figure (ui.figures). The pages show
them and the warm-up (ui/warmup.py) builds them for the default filter once after start-up and
after each write: both call these functions, so the figure the warm-up built is the one the
page asks for, and no visitor builds it while the others wait."""
from __future__ import annotations

from datetime import date

import plotly.graph_objects as go

from ui import charts
from ui.data import daily_counts, onboarding_progress, opd_overview, pipeline_weekly
from ui.figures import figure


def _whole_label(opd_ids) -> str:
    """How the progress chart names the line of every OPD the filter covers."""
    return "Semua OPD" if opd_ids is None else "OPD dalam filter"


def onboarding_progress_chart(overview, *, start: date, end: date, opd_ids) -> go.Figure:
    """Ringkasan: OPDs with a printed QR and OPDs active, against the OPDs of the filter (the rows
    of its `overview`)."""
    return figure(charts.build_onboarding_progress, onboarding_progress(start=start, end=end, opd_ids=opd_ids),
                  total_opds=len(overview), whole=_whole_label(opd_ids))


def daily_checkins_chart(*, start: date, end: date, opd_ids) -> go.Figure | None:
    """Ringkasan: check-ins per day, accepted and refused; None when the filter has none."""
    daily = daily_counts(start=start, end=end, opd_ids=opd_ids)
    return None if daily.empty else figure(charts.build_daily_checkins, daily)


def pipeline_chart(overview, *, start: date, end: date, opd_ids) -> go.Figure:
    """Onboarding: OPDs per stage at the end of each week; the title says how many of the filter's
    OPDs (the rows of its `overview`) have an estimated printing date."""
    estimated = int((overview["qr_printed_on"].notna() & overview["qr_printed_estimate"]).sum())
    return figure(charts.build_pipeline, pipeline_weekly(start=start, end=end, opd_ids=opd_ids),
                  estimated_printing=estimated)


def warm(*, start: date, end: date, opd_ids=None) -> None:
    """Build the figures above for one filter."""
    overview = opd_overview(start=start, end=end, opd_ids=opd_ids)
    onboarding_progress_chart(overview, start=start, end=end, opd_ids=opd_ids)
    daily_checkins_chart(start=start, end=end, opd_ids=opd_ids)
    pipeline_chart(overview, start=start, end=end, opd_ids=opd_ids)
