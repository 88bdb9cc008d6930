"""Read-side queries. Every figure a page shows comes from here, aggregated in the database
from the rollups (never from raw check-ins). Functions are keyword-only and typed.

One module per area, over `_base` (the raw fetch and the dialect helpers):
adoption (registry, totals, coverage, per-OPD overview, kecamatan summary), onboarding (stage
timeline), refusals, monitoring (the visits as other figures read them). Onboarding imports
adoption and monitoring, adoption imports monitoring; never the other way round. The public
names are all here: `from data_access import queries; queries.opd_overview(engine=..., ...)`.
"""
from .adoption import (
    WEEKLY_LINES_MAX,
    adoption_table,
    adoption_table_of,
    coverage_by_opd,
    coverage_daily,
    coverage_weekly,
    daily_counts,
    data_range,
    kecamatan_summary,
    kecamatan_summary_of,
    opd_activity,
    opd_overview,
    opd_registry,
    regency_coverage,
    totals,
    weekly_lines_per_opd,
    weighted_coverage,
)
from .monitoring import last_visits, qr_findings
from .onboarding import onboarding_progress, pipeline_weekly
from .province import (
    MANY_OPDS,
    RANK_ENDS,
    opd_ids_of_regencies,
    ranking_ends,
    regencies,
    regency_summary,
    regency_summary_of,
    search_rows,
)
from .refusals import (
    hourly_counts,
    merah_by_kecamatan,
    refusal_heatmap,
    refusals_by_opd,
    refusals_by_visitor_type,
    refusals_daily,
)

__all__ = [
    "WEEKLY_LINES_MAX", "adoption_table", "adoption_table_of", "coverage_by_opd", "coverage_daily", "coverage_weekly", "daily_counts",
    "data_range", "hourly_counts", "kecamatan_summary", "kecamatan_summary_of", "last_visits", "merah_by_kecamatan", "onboarding_progress",
    "opd_activity", "opd_overview", "opd_registry", "pipeline_weekly", "qr_findings", "refusal_heatmap",
    "refusals_by_opd", "refusals_by_visitor_type", "refusals_daily", "regency_coverage", "totals",
    "weekly_lines_per_opd", "weighted_coverage", "MANY_OPDS", "RANK_ENDS", "opd_ids_of_regencies", "ranking_ends",
    "regencies", "regency_summary", "regency_summary_of", "search_rows",
]
