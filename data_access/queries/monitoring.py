"""Monitoring visits (Satpol PP) as the other figures read them: the latest visit per OPD, and
the visits' QR findings over time."""
from __future__ import annotations

import functools
from datetime import date

import pandas as pd
from sqlalchemy import Engine, and_, case, func, select
from sqlalchemy.orm import aliased

from ..domain import PHOTO_RESULT_ORDER
from ..models import Opd, Visit, VisitPhoto
from ..photos import QR_OTHER_OPD
from ._base import _as_counts, _dates, _fetch, _opd_filter


@functools.cache
def _photo_findings():
    """Per visit with photos: how many, the best QR result (domain.PHOTO_RESULT_ORDER) and,
    for 'kode OPD lain', which OPD's code was read. Built once: it takes no arguments, and a
    statement is never changed once made (building it took a few milliseconds a page)."""
    rank = case({r: i for i, r in enumerate(PHOTO_RESULT_ORDER)}, value=VisitPhoto.qr_result,
                else_=len(PHOTO_RESULT_ORDER))
    other = aliased(Opd)
    return (
        select(
            VisitPhoto.visit_id, func.count().label("photos"), func.min(rank).label("photo_rank"),
            func.min(case((VisitPhoto.qr_result == QR_OTHER_OPD, other.short_name))).label("photo_other_opd"),
        )
        .join(other, other.id == VisitPhoto.qr_other_opd_id, isouter=True)
        .group_by(VisitPhoto.visit_id)
        .subquery()
    )


def last_visits(*, engine: Engine, end: date, opd_ids=None) -> pd.DataFrame:
    """The latest monitoring visit per OPD on or before `end`, with its photos' findings:
    photos (how many), photo_result (the best QR result, missing without a photo) and
    photo_other_opd (the OPD whose code was read, for 'kode OPD lain')."""
    latest = (
        select(Visit.opd_id, func.max(Visit.visited_on).label("visited_on"))
        .where(Visit.visited_on <= end, _opd_filter(Visit.opd_id, opd_ids))
        .group_by(Visit.opd_id)
        .subquery()
    )
    found = _photo_findings()
    stmt = (
        select(
            Visit.opd_id, Visit.visited_on, Visit.qr_posted, Visit.scanning_enforced, Visit.unscanned_entries,
            Visit.officer, Visit.notes, Visit.id.label("visit_id"), found.c.photos, found.c.photo_rank,
            found.c.photo_other_opd,
        )
        .join(latest, and_(Visit.opd_id == latest.c.opd_id, Visit.visited_on == latest.c.visited_on))
        .join(found, found.c.visit_id == Visit.id, isouter=True)
        .order_by(Visit.opd_id, Visit.id)
    )
    with engine.connect() as conn:
        df = _fetch(conn, stmt)
    df = df.drop_duplicates("opd_id", keep="last")
    df["visited_on"] = _dates(df["visited_on"])
    order = dict(enumerate(PHOTO_RESULT_ORDER))
    df["photo_result"] = pd.Series([order.get(int(r)) if pd.notna(r) else None for r in df["photo_rank"]],
                                   index=df.index, dtype=object)
    df["photo_other_opd"] = df["photo_other_opd"].astype(object).where(df["photo_result"] == QR_OTHER_OPD, None)
    _as_counts(df, ["photos"])
    return df.drop(columns=["photo_rank"])


def qr_findings(*, engine: Engine, end: date, opd_ids=None) -> pd.DataFrame:
    """Every visit on or before `end` with its finding "QR posted", in the order they were
    made (per OPD: day, then record id)."""
    stmt = (select(Visit.opd_id, Visit.visited_on, Visit.qr_posted, Visit.id)
            .where(Visit.visited_on <= end, _opd_filter(Visit.opd_id, opd_ids)))
    with engine.connect() as conn:
        vis = _fetch(conn, stmt)
    vis["visited_on"] = _dates(vis["visited_on"])
    return vis.sort_values(["opd_id", "visited_on", "id"])
