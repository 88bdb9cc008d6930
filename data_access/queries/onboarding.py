"""Onboarding over time: the days × OPDs activity matrix, the daily progress (QR printed,
active) and the weekly count of OPDs at each stage."""
from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
from sqlalchemy import Engine, select

from .. import domain
from ..calendar import active_window_start
from ..domain import STAGES
from ..models import RollupOpdMonth
from ._base import _col, _opd_filter, _rows, epoch_day
from .adoption import _registry
from .monitoring import qr_findings


def _active_matrix(engine: Engine, first: date, end: date, opd_ids) -> tuple[pd.DatetimeIndex, list, np.ndarray]:
    """Days × OPDs: running count of days with a check-in (for 'active' windows). Read from the
    month rollup's bitmask of days with check-ins: a row per OPD and month (a province's year:
    24.000 rows instead of 730.000)."""
    m = RollupOpdMonth
    stmt = (select(m.opd_id, epoch_day(m.month), m.days_mask)
            .where(m.month >= first.replace(day=1), m.month <= end, _opd_filter(m.opd_id, opd_ids)))
    with engine.connect() as conn:
        rows = _rows(conn, stmt)
    all_days = pd.date_range(first, end, freq="D")
    opd = _col(rows, 0)
    ids = np.unique(opd).tolist()
    mat = np.zeros((len(all_days) + 1, max(len(ids), 1)), dtype=np.int32)
    if rows:
        masks = np.fromiter((int(r[2]) for r in rows), dtype=np.int64, count=len(rows))
        hit, bit = np.nonzero((masks[:, None] >> np.arange(31)) & 1)
        day = _col(rows, 1)[hit] + bit - (first - date(1970, 1, 1)).days  # days since `first`
        keep = (day >= 0) & (day < len(all_days))
        mat[day[keep] + 1, np.searchsorted(ids, opd[hit][keep])] = 1
    return all_days, ids, mat.cumsum(axis=0)


def _active_at(all_days: pd.DatetimeIndex, cum: np.ndarray, days) -> np.ndarray:
    """Days × OPD columns, boolean: a check-in within the active window ending on each day."""
    first = all_days[0].date()
    lo = np.array([max((active_window_start(d) - first).days, 0) for d in days])
    hi = np.array([(d - first).days + 1 for d in days])
    return (cum[hi] - cum[lo]) > 0


def onboarding_progress(*, engine: Engine, start: date, end: date, opd_ids=None) -> pd.DataFrame:
    """Per day: OPDs with a printed QR by then (domain.qr_printed: a printing date on or before
    the day), and OPDs active then (a check-in within the active window ending that day)."""
    reg = _registry(engine, opd_ids)
    days = pd.date_range(start, end, freq="D")
    printed = pd.to_datetime(reg["qr_printed_on"]).dropna().sort_values().to_numpy()
    printed_count = np.searchsorted(printed, days.to_numpy(), side="right")
    all_days, _, cum = _active_matrix(engine, active_window_start(start), end, opd_ids)
    active = _active_at(all_days, cum, [d.date() for d in days]).sum(axis=1)
    return pd.DataFrame({"day": days, "qr_printed": printed_count, "active": active})


def _latest_visit_posted(vis: pd.DataFrame, opd_ids: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Weeks × OPDs: whether the latest visit on or before each week end (of the visits in day,
    then record order, qr_findings) found the OPD's QR posted; False before its first visit.
    One search over all visits keyed by (OPD, day), not a search per OPD."""
    out = np.zeros((len(ends), len(opd_ids)), dtype=bool)
    if vis.empty or not len(ends):
        return out
    col = pd.Index(opd_ids).get_indexer(vis["opd_id"]).astype(np.int64)  # each visit's OPD column
    day = np.array(vis["visited_on"].tolist(), dtype="datetime64[D]").astype(np.int64)
    end = ends.astype("datetime64[D]").astype(np.int64)
    lo = min(day.min(), end.min())
    span = max(day.max(), end.max()) - lo + 1
    key = col * span + (day - lo)
    order = np.argsort(key, kind="stable")  # within an OPD and day, the later record last
    key, col, posted = key[order], col[order], vis["qr_posted"].astype(bool).to_numpy()[order]
    cols = np.arange(len(opd_ids))
    idx = np.searchsorted(key, cols[None, :] * span + (end[:, None] - lo), side="right") - 1
    at = np.clip(idx, 0, None)
    return (idx >= 0) & (col[at] == cols[None, :]) & posted[at]


def pipeline_weekly(*, engine: Engine, start: date, end: date, opd_ids=None) -> pd.DataFrame:
    """How many OPDs stood at each onboarding stage at the end of each week (Sunday, or the
    range's last day): one row per (week_end, stage)."""
    reg = _registry(engine, opd_ids)
    ends = list(pd.date_range(start, end, freq="W-SUN").date)
    if not ends or ends[-1] != end:
        ends.append(end)
    all_days, ids, cum = _active_matrix(engine, active_window_start(start), end, opd_ids)
    col = pd.Index(ids).get_indexer(reg["id"])
    vis = qr_findings(engine=engine, end=end, opd_ids=opd_ids)
    far = date(9999, 12, 31)
    registered_on = [far if not isinstance(c, str) or not c else (r if r is not None and not pd.isna(r) else date.min)
                     for c, r in zip(reg["venue_code"], reg["venue_registered_on"])]
    printed_on = [p if p is not None and not pd.isna(p) else far for p in reg["qr_printed_on"]]
    registered_on, printed_on = np.array(registered_on), np.array(printed_on)
    on = _active_at(all_days, cum, ends)  # weeks × OPD columns
    active = np.where(col >= 0, on[:, np.clip(col, 0, None)], False)
    ends_arr = np.array(ends, dtype="datetime64[D]")
    verified = _latest_visit_posted(vis, reg["id"].to_numpy(), ends_arr)
    ends_col = ends_arr[:, None]
    code = domain.stage_codes(registered=registered_on.astype("datetime64[D]")[None, :] <= ends_col,
                              printed=printed_on.astype("datetime64[D]")[None, :] <= ends_col,
                              active=active, verified=verified)
    counts = (code[:, :, None] == np.arange(len(STAGES))).sum(axis=1)  # weeks × stages
    return pd.DataFrame({"week_end": np.repeat(pd.DatetimeIndex(ends_arr), len(STAGES)),
                         "stage": pd.Series(np.tile(STAGES, len(ends)), dtype="str"), "opds": counts.ravel()})
