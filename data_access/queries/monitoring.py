"""Monitoring visits (Satpol PP) as the other figures read them: the latest visit per OPD, and
the visits' QR findings over time."""
from __future__ import annotations

from datetime import date

import pandas as pd
from sqlalchemy import Engine, and_, func, select

from ..models import Visit
from ._base import _fetch, _opd_filter


def last_visits(*, engine: Engine, end: date, opd_ids=None) -> pd.DataFrame:
    """The latest monitoring visit per OPD on or before `end`."""
    latest = (
        select(Visit.opd_id, func.max(Visit.visited_on).label("visited_on"))
        .where(Visit.visited_on <= end, _opd_filter(Visit.opd_id, opd_ids))
        .group_by(Visit.opd_id)
        .subquery()
    )
    stmt = (
        select(
            Visit.opd_id, Visit.visited_on, Visit.qr_posted, Visit.scanning_enforced, Visit.unscanned_entries,
            Visit.officer, Visit.notes, Visit.id.label("visit_id"),
        )
        .join(latest, and_(Visit.opd_id == latest.c.opd_id, Visit.visited_on == latest.c.visited_on))
        .order_by(Visit.opd_id, Visit.id)
    )
    with engine.connect() as conn:
        df = _fetch(conn, stmt)
    df = df.drop_duplicates("opd_id", keep="last")
    df["visited_on"] = pd.to_datetime(df["visited_on"]).dt.date
    return df


def qr_findings(*, engine: Engine, end: date, opd_ids=None) -> pd.DataFrame:
    """Every visit on or before `end` with its finding "QR posted", in the order they were
    made (per OPD: day, then record id)."""
    stmt = (select(Visit.opd_id, Visit.visited_on, Visit.qr_posted, Visit.id)
            .where(Visit.visited_on <= end, _opd_filter(Visit.opd_id, opd_ids)))
    with engine.connect() as conn:
        vis = _fetch(conn, stmt)
    vis["visited_on"] = pd.to_datetime(vis["visited_on"]).dt.date
    return vis.sort_values(["opd_id", "visited_on", "id"])
