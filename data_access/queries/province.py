"""Pages over a province's registry (hundreds or thousands of OPDs in several regencies): the
regency (kabupaten) of each OPD, figures per regency, the OPDs of chosen regencies (a regency
filter), and the top and bottom of a ranking instead of a chart of every OPD. For Bangkalan
alone (one regency, about fifty OPDs) pages need none of this: see MANY_OPDS."""
from __future__ import annotations

from datetime import date

import pandas as pd
from sqlalchemy import Engine, select

from ..models import Opd
from ._base import _fetch
from .adoption import _area_sums, opd_overview

MANY_OPDS = 60  # above this many OPDs in the filter, rankings show their ends and maps aggregate


def regencies(*, engine: Engine) -> pd.DataFrame:
    """Each regency with its number of OPDs, by name."""
    with engine.connect() as conn:
        df = _fetch(conn, select(Opd.id, Opd.kabupaten))
    return (df.groupby("kabupaten", as_index=False).agg(opds=("id", "count"))
            .sort_values("kabupaten").reset_index(drop=True))


def opd_ids_of_regencies(*, engine: Engine, kabupaten: list[str] | tuple[str, ...]) -> tuple[int, ...]:
    """The OPDs of the given regencies, as the `opd_ids` of a filter."""
    with engine.connect() as conn:
        df = _fetch(conn, select(Opd.id).where(Opd.kabupaten.in_(list(kabupaten))).order_by(Opd.id))
    return tuple(int(i) for i in df["id"])


def regency_summary(*, engine: Engine, start: date, end: date, opd_ids=None) -> pd.DataFrame:
    """Per regency: OPDs, OPDs with a printed QR, active OPDs, check-ins, refusals, ASN coverage
    weighted by headcount (as per kecamatan), the refusal rate, and the mean point of its OPDs."""
    return regency_summary_of(opd_overview(engine=engine, start=start, end=end, opd_ids=opd_ids))


def regency_summary_of(ov: pd.DataFrame) -> pd.DataFrame:
    """`regency_summary` from the period's opd_overview frame (the registry's kabupaten in it)."""
    return _area_sums(ov, ["kabupaten"])[["kabupaten", "opds", "printed", "active", "checkins", "refused", "headcount",
                                         "lat", "lon", "coverage", "refusal_rate"]]


RANK_ENDS = 10  # rows shown at each end of a long ranking


def search_rows(df: pd.DataFrame, search: str, *, name_col: str = "short_name") -> pd.DataFrame:
    """The rows whose `name_col` contains `search` (any case, literally); all of them for an empty search."""
    if not search.strip():
        return df
    return df[df[name_col].astype(str).str.contains(search.strip(), case=False, regex=False)]


def ranking_ends(df: pd.DataFrame, *, by: str, n: int = RANK_ENDS, search: str = "", name_col: str = "short_name",
                 ascending: bool = False) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The first and the last `n` rows of a ranking by `by` (highest first unless `ascending`),
    after keeping the rows whose `name_col` contains `search` (any case). Rows without a value
    rank last. When the rows fit in 2 x n, the top holds them all and the bottom is empty.
    A column `position` holds each row's place in the whole ranking (1 = first), before the search."""
    ranked = df.sort_values([by, name_col], ascending=[ascending, True], na_position="last",
                            kind="stable").reset_index(drop=True)
    ranked["position"] = range(1, len(ranked) + 1)
    ranked = search_rows(ranked, search, name_col=name_col).reset_index(drop=True)
    if len(ranked) <= 2 * n:
        return ranked, ranked.iloc[0:0]
    return ranked.iloc[:n], ranked.iloc[-n:]
