"""Refusals: per day and by colour, per OPD, ASN against other visitors, the day-of-week × hour
heatmap, and merah refusals per kecamatan and week."""
from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
from sqlalchemy import Engine, distinct, func, select

from ..labels import kecamatan_label
from ..models import Opd, RollupOpdDay
from ._base import (_MONDAY, _MONDAY_DAY, _as_counts, _col, _days, _fetch, _opd_filter, _per_day, _per_hour, _rows, epoch_day,
                    floor_div, opd_sums)


def _hourly(start: date, end: date, opd_ids, *, day_numbers: bool = False):
    """Per day and hour (WIB): check-ins and refusals."""
    h, in_filter = _per_hour(opd_ids)
    return (
        select(epoch_day(h.day).label("day") if day_numbers else h.day, h.hour,
               func.sum(h.checkins).label("checkins"), func.sum(h.refused).label("refused"))
        .where(h.day >= start, h.day <= end, in_filter)
        .group_by(h.day, h.hour)
        .order_by(h.day, h.hour)
    )


def hourly_counts(*, engine: Engine, start: date, end: date, opd_ids=None) -> pd.DataFrame:
    with engine.connect() as conn:
        df = _fetch(conn, _hourly(start, end, opd_ids))
    df["day"] = pd.to_datetime(df["day"])
    return df


def refusals_daily(*, engine: Engine, start: date, end: date, opd_ids=None) -> pd.DataFrame:
    """Per day: all check-ins, refusals, and refusals by colour (merah, hitam, kuning)."""
    r, in_filter = _per_day(opd_ids)
    stmt = (
        select(r.day, func.sum(r.checkins).label("checkins"), func.sum(r.merah).label("merah"),
               func.sum(r.hitam).label("hitam"), func.sum(r.kuning).label("kuning"), func.sum(r.refused).label("refused"))
        .where(r.day >= start, r.day <= end, in_filter)
        .group_by(r.day).order_by(r.day)
    )
    with engine.connect() as conn:
        df = _fetch(conn, stmt)
    df["day"] = pd.to_datetime(df["day"])
    _as_counts(df, ["checkins", "merah", "hitam", "kuning", "refused"])
    return df


def refusals_by_opd(*, engine: Engine, start: date, end: date, opd_ids=None) -> pd.DataFrame:
    """Per OPD: check-ins, refusals (total, merah, hitam) and the refusal rate."""
    o = Opd
    u = opd_sums(["checkins", "refused", "merah", "hitam"], start, end, opd_ids)
    sums = (
        select(u.c.opd_id, func.sum(u.c.checkins).label("checkins"), func.sum(u.c.refused).label("refused"),
               func.sum(u.c.merah).label("merah"), func.sum(u.c.hitam).label("hitam"))
        .group_by(u.c.opd_id)
        .subquery()
    )
    stmt = select(sums, o.short_name, o.kecamatan).join(o, o.id == sums.c.opd_id).order_by(sums.c.opd_id)
    with engine.connect() as conn:
        df = _fetch(conn, stmt)
    _as_counts(df, ["checkins", "refused", "merah", "hitam"])
    df["rate"] = df["refused"] / df["checkins"]
    return df


def refusals_by_visitor_type(*, engine: Engine, start: date, end: date, opd_ids=None) -> pd.DataFrame:
    names = ["checkins", "refused", "merah", "hitam", "kuning", "asn_checkins", "asn_refused", "asn_merah", "asn_hitam",
             "asn_kuning"]
    u = opd_sums(names, start, end, opd_ids)
    stmt = select(*(func.coalesce(func.sum(u.c[c]), 0) for c in names))
    with engine.connect() as conn:
        t, ref, me, hi, ku, a, a_ref, a_me, a_hi, a_ku = (int(x) for x in conn.execute(stmt).one())
    out = pd.DataFrame([
        {"visitor_type": "asn", "checkins": a, "refused": a_ref, "merah": a_me, "hitam": a_hi, "kuning": a_ku},
        {"visitor_type": "pengunjung", "checkins": t - a, "refused": ref - a_ref, "merah": me - a_me,
         "hitam": hi - a_hi, "kuning": ku - a_ku},
    ])
    out["rate"] = (out["refused"] / out["checkins"]).where(out["checkins"] > 0)
    return out


def refusal_heatmap(*, engine: Engine, start: date, end: date, opd_ids=None) -> pd.DataFrame:
    """Per day of week (0 = Monday) and hour (WIB): check-ins and refusals."""
    with engine.connect() as conn:
        rows = _rows(conn, _hourly(start, end, opd_ids, day_numbers=True))
    day = _days(rows, 0)
    dow = (day - _MONDAY).astype(np.int64) % 7
    hour = _col(rows, 1)
    seen, checkins, refused = (np.zeros((7, 24), dtype=np.int64) for _ in range(3))
    np.add.at(seen, (dow, hour), 1)
    np.add.at(checkins, (dow, hour), _col(rows, 2))
    np.add.at(refused, (dow, hour), _col(rows, 3))
    d, hr = np.nonzero(seen)  # the (day of week, hour) cells with any check-in row, in order
    return pd.DataFrame({"dow": d.astype(np.int64), "hour": hr.astype(np.int64), "checkins": checkins[d, hr],
                         "refused": refused[d, hr]})


def merah_by_kecamatan(*, engine: Engine, start: date, end: date, opd_ids=None) -> pd.DataFrame:
    """Merah refusals per kecamatan and week (weeks start Monday): where unvaccinated people
    keep coming. `kecamatan` is the kecamatan's label (labels.kecamatan_label): in a registry of
    several regencies, two regencies' kecamatan of one name stay apart."""
    r, o = RollupOpdDay, Opd
    week = floor_div(epoch_day(r.day) - _MONDAY_DAY, 7)  # weeks since the Monday 1970-01-05
    stmt = (  # summed per week in the database: a province's year is 20.000 rows, not 140.000
        select(o.kecamatan, o.kabupaten, week.label("week"), func.sum(r.merah).label("merah"))
        .join(o, o.id == r.opd_id)
        .where(r.day >= start, r.day <= end, r.merah > 0, _opd_filter(r.opd_id, opd_ids))
        .group_by(o.kecamatan, o.kabupaten, week)
    )
    with engine.connect() as conn:
        rows = _rows(conn, stmt)
        province = conn.execute(select(func.count(distinct(o.kabupaten)))).scalar_one() > 1
    labels = {k: kecamatan_label(k[0], k[1], province=province) for k in {(r[0], r[1]) for r in rows}}
    df = pd.DataFrame({
        "kecamatan": [labels[(r[0], r[1])] for r in rows],
        "week": (_MONDAY + _col(rows, 2) * 7).astype("datetime64[ns]"),
        "merah": _col(rows, 3),
    })
    return df.groupby(["kecamatan", "week"], as_index=False, sort=True)["merah"].sum()
