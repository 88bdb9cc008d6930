"""Read-side queries. Every figure a page shows comes from here, aggregated in the database
from the rollups (never from raw check-ins). Functions are keyword-only and typed."""
from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
from sqlalchemy import Engine, Integer, and_, case, false, func, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from . import domain
from .calendar import active_window_start, workdays
from .domain import ACTIVE_WINDOW_DAYS, STAGE_LABELS, STAGES  # noqa: F401  (re-exported: older imports)
from .models import Opd, RollupHourly, RollupOpdDay, Visit

_MONDAY = np.datetime64("1970-01-05", "D")  # weeks and days of the week are counted from a Monday
COVERAGE_TARGET = 0.8


def _fetch(conn, stmt) -> pd.DataFrame:
    """Run a read-only select straight on the driver's cursor and build the frame from plain
    tuples: the rollups answer in milliseconds, so per-row result processing would dominate.
    Bound values here are dates and integers made by this module, rendered as literals."""
    names, rows = _run(conn, stmt)
    df = pd.DataFrame.from_records(rows, columns=names, coerce_float=True)
    for c in df.columns:  # MariaDB returns Decimal for SUM()
        if df[c].dtype == object and len(df) and type(df[c].iloc[0]).__name__ == "Decimal":
            df[c] = df[c].astype("float64")
    return df


class epoch_day(FunctionElement):
    """A DATE column as days since 1970-01-01 (an integer) in every dialect: thousands of rows
    come back as plain integers, never as date objects or text to parse."""

    type = Integer()
    inherit_cache = True


@compiles(epoch_day)
def _epoch_day_mysql(element, compiler, **kw):  # MariaDB / MySQL
    return f"DATEDIFF({compiler.process(element.clauses, **kw)}, '1970-01-01')"


@compiles(epoch_day, "sqlite")
def _epoch_day_sqlite(element, compiler, **kw):
    return f"CAST(julianday({compiler.process(element.clauses, **kw)}) - 2440587.5 AS INTEGER)"


@compiles(epoch_day, "postgresql")
def _epoch_day_postgresql(element, compiler, **kw):
    return f"({compiler.process(element.clauses, **kw)} - DATE '1970-01-01')"


def _col(rows, i: int, dtype=np.int64) -> np.ndarray:
    """Column i of fetched rows as a numpy array."""
    return np.fromiter((r[i] for r in rows), dtype=dtype, count=len(rows))


def _days(rows, i: int) -> np.ndarray:
    """Column i of fetched rows, made by epoch_day(), as datetime64[D]."""
    return _col(rows, i).astype("datetime64[D]")


def _run(conn, stmt) -> tuple[list[str], list[tuple]]:
    sql = str(stmt.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
    if conn.dialect.name != "sqlite":
        sql = sql.replace("%%", "%")
    cur = conn.connection.driver_connection.cursor()
    try:
        cur.execute(sql)
        return [d[0] for d in cur.description], cur.fetchall()
    finally:
        cur.close()


def _rows(conn, stmt) -> list[tuple]:
    """Like `_fetch`, as plain tuples."""
    return _run(conn, stmt)[1]


def _opd_filter(col, opd_ids):
    return col.in_(list(opd_ids)) if opd_ids is not None else True


def data_range(*, engine: Engine) -> tuple[date, date] | None:
    """First and last day with check-ins, or None for an empty database."""
    with engine.connect() as conn:
        lo, hi = conn.execute(select(func.min(RollupOpdDay.day), func.max(RollupOpdDay.day))).one()
    if lo is None:
        return None
    return (_as_date(lo), _as_date(hi))


def _as_date(v) -> date:
    if isinstance(v, str):
        return date.fromisoformat(v[:10])
    return v.date() if hasattr(v, "hour") else v


def opd_registry(*, engine: Engine) -> pd.DataFrame:
    stmt = select(
        Opd.id, Opd.code, Opd.name, Opd.short_name, Opd.category, Opd.kecamatan, Opd.lat, Opd.lon,
        Opd.asn_headcount, Opd.headcount_is_estimate, Opd.venue_code, Opd.venue_registered_on, Opd.qr_printed_on,
        Opd.qr_printed_estimate, Opd.location_approx,
    ).order_by(Opd.id)
    with engine.connect() as conn:
        df = _fetch(conn, stmt)
    for c in ("qr_printed_on", "venue_registered_on"):
        df[c] = pd.to_datetime(df[c]).dt.date
    df["venue_code"] = df["venue_code"].astype(object).where(df["venue_code"].notna(), None)
    for c in ("qr_printed_estimate", "location_approx"):
        df[c] = df[c].astype(bool)
    return df


def _registry(engine: Engine, opd_ids) -> pd.DataFrame:
    """The registry, limited to the OPDs in the filter."""
    reg = opd_registry(engine=engine)
    return reg if opd_ids is None else reg[reg["id"].isin(list(opd_ids))]


def totals(*, engine: Engine, start: date, end: date, opd_ids=None) -> dict:
    r = RollupOpdDay
    stmt = select(
        func.coalesce(func.sum(r.checkins), 0), func.coalesce(func.sum(r.refused), 0),
        func.coalesce(func.sum(r.checkins - r.asn_checkins), 0),
    ).where(r.day >= start, r.day <= end, _opd_filter(r.opd_id, opd_ids))
    with engine.connect() as conn:
        checkins, refused, visitor_checkins = (int(x) for x in conn.execute(stmt).one())
    return {
        "checkins": checkins,
        "refused": refused,
        "visitor_checkins": visitor_checkins,
        "refusal_rate": (refused / checkins) if checkins else None,
    }


def daily_counts(*, engine: Engine, start: date, end: date, opd_ids=None) -> pd.DataFrame:
    """Per day: check-ins, refusals, visitor check-ins."""
    r = RollupOpdDay
    stmt = (
        select(
            r.day,
            func.sum(r.checkins).label("checkins"),
            func.sum(r.refused).label("refused"),
            func.sum(r.checkins - r.asn_checkins).label("visitor_checkins"),
        )
        .where(r.day >= start, r.day <= end, _opd_filter(r.opd_id, opd_ids))
        .group_by(r.day)
        .order_by(r.day)
    )
    with engine.connect() as conn:
        df = _fetch(conn, stmt)
    df["day"] = pd.to_datetime(df["day"])
    for c in ("checkins", "refused", "visitor_checkins"):
        df[c] = df[c].astype("int64")
    return df


def _capped_asn(v, h):
    return case((v.asn_visitors > h, h), else_=v.asn_visitors)


def coverage_by_opd(*, engine: Engine, start: date, end: date, opd_ids=None) -> pd.DataFrame:
    """Cakupan ASN per OPD: mean over the period's working days of
    min(distinct ASN that day, headcount) / headcount. OPDs without any ASN scan get 0."""
    return _coverage(engine, _registry(engine, opd_ids), start, end, opd_ids)


def _coverage(engine: Engine, reg: pd.DataFrame, start: date, end: date, opd_ids) -> pd.DataFrame:
    """coverage_by_opd for the OPDs of a registry frame already in hand."""
    wd = workdays(start, end)
    v, o = RollupOpdDay, Opd
    sums = (  # an inner join over the period's days: the rollup's day index does the work
        select(v.opd_id, func.sum(_capped_asn(v, o.asn_headcount)).label("asn_days"))
        .join(o, o.id == v.opd_id)
        .where(v.day >= start, v.day <= end, v.day.in_(wd) if wd else false(), v.asn_visitors > 0,
               _opd_filter(v.opd_id, opd_ids))
        .group_by(v.opd_id)
    )
    with engine.connect() as conn:
        got = _fetch(conn, sums)
    df = reg[["id", "asn_headcount"]].rename(columns={"id": "opd_id"}).merge(got, on="opd_id", how="left")
    df["asn_days"] = df["asn_days"].astype("float64").fillna(0.0)
    n = len(wd)
    df["workdays"] = n
    df["coverage"] = df["asn_days"] / (n * df["asn_headcount"]) if n else np.nan
    return df[["opd_id", "asn_headcount", "asn_days", "workdays", "coverage"]]


def regency_coverage(*, engine: Engine, start: date, end: date, opd_ids=None) -> float | None:
    """Coverage of several OPDs together, weighted by headcount."""
    return weighted_coverage(coverage_by_opd(engine=engine, start=start, end=end, opd_ids=opd_ids))


def weighted_coverage(df: pd.DataFrame) -> float | None:
    """Headcount-weighted coverage of the OPDs in a frame with `coverage` and `asn_headcount`
    (coverage_by_opd, opd_overview, adoption_table): Σ capped ASN-days ÷ (working days × Σ headcount)."""
    if df.empty or df["coverage"].isna().all() or df["asn_headcount"].sum() == 0:
        return None
    return float((df["coverage"].fillna(0) * df["asn_headcount"]).sum() / df["asn_headcount"].sum())


def coverage_daily(*, engine: Engine, start: date, end: date, opd_ids=None) -> pd.DataFrame:
    """Per working day and OPD: distinct ASN capped at the headcount (the numerator of daily
    coverage)."""
    wd = workdays(start, end)
    v, o = RollupOpdDay, Opd
    stmt = (  # (opd_id, day) is the rollup's key: one row each, nothing to group
        select(epoch_day(v.day), v.opd_id, _capped_asn(v, o.asn_headcount).label("asn"))
        .join(o, o.id == v.opd_id)
        .where(v.day >= start, v.day <= end, v.asn_visitors > 0, v.day.in_(wd) if wd else false(),
               _opd_filter(v.opd_id, opd_ids))
    )
    with engine.connect() as conn:
        rows = _rows(conn, stmt)
    return pd.DataFrame({
        "day": _days(rows, 0).astype("datetime64[ns]"),
        "opd_id": _col(rows, 1),
        "asn": _col(rows, 2, np.float64),
    })


def coverage_weekly(*, engine: Engine, start: date, end: date, opd_ids=None) -> pd.DataFrame:
    """Weekly coverage (weeks starting Monday) per OPD and for the selection as a whole
    (opd_id = 0), each the mean over the week's working days."""
    daily = coverage_daily(engine=engine, start=start, end=end, opd_ids=opd_ids)
    reg = _registry(engine, opd_ids)
    wd = np.array(workdays(start, end), dtype="datetime64[D]")
    if not len(wd) or reg.empty:
        return pd.DataFrame(columns=["week", "opd_id", "coverage"])
    # weeks × OPDs in numpy: a year of a regency is a few thousand cells
    wd_week = (wd - _MONDAY).astype(np.int64) // 7
    weeks, n_wd = np.unique(wd_week, return_counts=True)
    ids = reg["id"].to_numpy(dtype=np.int64)
    order = np.argsort(ids)
    ids, head = ids[order], reg["asn_headcount"].to_numpy(dtype=np.float64)[order]
    asn = np.zeros((len(weeks), len(ids)))
    if not daily.empty:
        d_week = (daily["day"].to_numpy(dtype="datetime64[D]") - _MONDAY).astype(np.int64) // 7
        np.add.at(asn, (np.searchsorted(weeks, d_week), np.searchsorted(ids, daily["opd_id"].to_numpy())),
                  daily["asn"].to_numpy(dtype=np.float64))
    per = asn / (n_wd[:, None] * head[None, :])
    tot = asn.sum(axis=1) / (n_wd * head.sum())
    week_ts = (_MONDAY + weeks * 7).astype("datetime64[ns]")
    return pd.DataFrame({
        "week": np.concatenate([week_ts, np.tile(week_ts, len(ids))]),
        "opd_id": np.concatenate([np.zeros(len(weeks), dtype=np.int64), np.repeat(ids, len(weeks))]),
        "coverage": np.concatenate([tot, per.T.ravel()]),
    })


def opd_activity(*, engine: Engine, start: date, end: date, opd_ids=None) -> pd.DataFrame:
    """Per OPD over the period: check-ins, visitor check-ins, refusals, last day with a
    check-in (up to `end`), and check-ins in the active window at the end of the range."""
    r = RollupOpdDay
    recent_from = active_window_start(end)
    in_range = r.day >= start
    stmt = (  # one pass: the last day needs every day up to `end`, the sums only the period
        select(r.opd_id, func.max(r.day).label("last_day"),
               func.sum(case((in_range, r.checkins), else_=0)).label("checkins"),
               func.sum(case((in_range, r.checkins - r.asn_checkins), else_=0)).label("visitor_checkins"),
               func.sum(case((in_range, r.refused), else_=0)).label("refused"),
               func.sum(case((r.day >= recent_from, r.checkins), else_=0)).label("checkins_7d"))
        .where(r.day <= end, _opd_filter(r.opd_id, opd_ids)).group_by(r.opd_id)
    )
    with engine.connect() as conn:
        df = _fetch(conn, stmt)
    for c in ("checkins", "visitor_checkins", "refused", "checkins_7d"):
        df[c] = df[c].fillna(0).astype("int64")
    df["last_day"] = pd.to_datetime(df["last_day"]).dt.date
    return df


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


def opd_overview(*, engine: Engine, start: date, end: date, opd_ids=None) -> pd.DataFrame:
    """One row per OPD in the filter with registry facts, activity, coverage, and the stage
    columns of domain.classify (stage, qr_printed, active, anomaly, ...) as of `end`."""
    reg = _registry(engine, opd_ids)
    act = opd_activity(engine=engine, start=start, end=end, opd_ids=opd_ids)
    cov = _coverage(engine, reg, start, end, opd_ids)
    vis = last_visits(engine=engine, end=end, opd_ids=opd_ids)
    df = reg.merge(act, left_on="id", right_on="opd_id", how="left").drop(columns=["opd_id"])
    df = df.merge(cov[["opd_id", "coverage"]], left_on="id", right_on="opd_id", how="left").drop(columns=["opd_id"])
    df = df.merge(
        vis[["opd_id", "visited_on", "qr_posted", "scanning_enforced", "unscanned_entries"]],
        left_on="id", right_on="opd_id", how="left",
    ).drop(columns=["opd_id"])
    for c in ("checkins", "visitor_checkins", "refused", "checkins_7d"):
        df[c] = df[c].fillna(0).astype("int64")
    df["refusal_rate"] = (df["refused"] / df["checkins"]).where(df["checkins"] > 0)
    return domain.classify(df, end=end).reset_index(drop=True)


def _active_matrix(engine: Engine, first: date, end: date, opd_ids) -> tuple[pd.DatetimeIndex, list, np.ndarray]:
    """Days × OPDs: running count of days with a check-in (for 'active' windows)."""
    v = RollupOpdDay
    stmt = select(v.opd_id, epoch_day(v.day)).where(v.day >= first, v.day <= end, _opd_filter(v.opd_id, opd_ids))
    with engine.connect() as conn:
        rows = _rows(conn, stmt)  # thousands of pairs: plain arrays, no frame
    all_days = pd.date_range(first, end, freq="D")
    opd = _col(rows, 0)
    day = _days(rows, 1)
    ids = np.unique(opd).tolist()
    m = np.zeros((len(all_days) + 1, max(len(ids), 1)), dtype=np.int32)
    if rows:
        m[(day - np.datetime64(first, "D")).astype(np.int64) + 1, np.searchsorted(ids, opd)] = 1
    return all_days, ids, m.cumsum(axis=0)


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


def _hourly(start: date, end: date, opd_ids, *, day_numbers: bool = False):
    """Per day and hour (WIB): check-ins and refusals."""
    h = RollupHourly
    return (
        select(epoch_day(h.day).label("day") if day_numbers else h.day, h.hour,
               func.sum(h.checkins).label("checkins"), func.sum(h.refused).label("refused"))
        .where(h.day >= start, h.day <= end, _opd_filter(h.opd_id, opd_ids))
        .group_by(h.day, h.hour)
    )


def hourly_counts(*, engine: Engine, start: date, end: date, opd_ids=None) -> pd.DataFrame:
    with engine.connect() as conn:
        df = _fetch(conn, _hourly(start, end, opd_ids))
    df["day"] = pd.to_datetime(df["day"])
    return df


def adoption_table(*, engine: Engine, start: date, end: date, opd_ids=None) -> pd.DataFrame:
    """The adoption table: overview plus visitor check-ins per working day."""
    df = opd_overview(engine=engine, start=start, end=end, opd_ids=opd_ids)
    n_wd = len(workdays(start, end))
    df["visitors_per_day"] = df["visitor_checkins"] / n_wd if n_wd else np.nan
    return df


def kecamatan_summary(*, engine: Engine, start: date, end: date, opd_ids=None) -> pd.DataFrame:
    """Per kecamatan: OPDs, check-ins, refusals, coverage weighted by headcount, centroid."""
    from .registry import KECAMATAN_CENTROIDS

    ov = opd_overview(engine=engine, start=start, end=end, opd_ids=opd_ids)
    ov["asn_days"] = ov["coverage"].fillna(0) * ov["asn_headcount"]
    ov["printed"] = domain.qr_printed(ov)
    g = ov.groupby("kecamatan", as_index=False).agg(
        opds=("id", "count"), checkins=("checkins", "sum"), refused=("refused", "sum"),
        headcount=("asn_headcount", "sum"), asn_days=("asn_days", "sum"),
        printed=("printed", "sum"),
    )
    g["coverage"] = g["asn_days"] / g["headcount"]
    g["refusal_rate"] = (g["refused"] / g["checkins"]).where(g["checkins"] > 0)
    g["lat"] = g["kecamatan"].map(lambda k: KECAMATAN_CENTROIDS[k][0])
    g["lon"] = g["kecamatan"].map(lambda k: KECAMATAN_CENTROIDS[k][1])
    return g.drop(columns=["asn_days"])


def pipeline_weekly(*, engine: Engine, start: date, end: date, opd_ids=None) -> pd.DataFrame:
    """How many OPDs stood at each onboarding stage at the end of each week (Sunday, or the
    range's last day): one row per (week_end, stage)."""
    reg = _registry(engine, opd_ids)
    ends = list(pd.date_range(start, end, freq="W-SUN").date)
    if not ends or ends[-1] != end:
        ends.append(end)
    all_days, ids, cum = _active_matrix(engine, active_window_start(start), end, opd_ids)
    col = pd.Index(ids).get_indexer(reg["id"])
    with engine.connect() as conn:
        vis = _fetch(conn, select(Visit.opd_id, Visit.visited_on, Visit.qr_posted, Visit.id)
                     .where(Visit.visited_on <= end, _opd_filter(Visit.opd_id, opd_ids)))
    vis["visited_on"] = pd.to_datetime(vis["visited_on"]).dt.date
    vis = vis.sort_values(["opd_id", "visited_on", "id"])
    far = date(9999, 12, 31)
    registered_on = [far if not isinstance(c, str) or not c else (r if r is not None and not pd.isna(r) else date.min)
                     for c, r in zip(reg["venue_code"], reg["venue_registered_on"])]
    printed_on = [p if p is not None and not pd.isna(p) else far for p in reg["qr_printed_on"]]
    registered_on, printed_on = np.array(registered_on), np.array(printed_on)
    on = _active_at(all_days, cum, ends)  # weeks × OPD columns
    active = np.where(col >= 0, on[:, np.clip(col, 0, None)], False)
    verified = np.zeros((len(ends), len(reg)), dtype=bool)
    pos = {opd: i for i, opd in enumerate(reg["id"])}
    ends_arr = np.array(ends, dtype="datetime64[D]")
    for opd, v in vis.groupby("opd_id"):
        dates = np.array(v["visited_on"].tolist(), dtype="datetime64[D]")
        idx = np.searchsorted(dates, ends_arr, side="right") - 1  # the last visit on or before each week end
        posted = v["qr_posted"].astype(bool).to_numpy()
        verified[:, pos[opd]] = np.where(idx >= 0, posted[np.clip(idx, 0, None)], False)
    ends_col = ends_arr[:, None]
    code = domain.stage_codes(registered=registered_on.astype("datetime64[D]")[None, :] <= ends_col,
                              printed=printed_on.astype("datetime64[D]")[None, :] <= ends_col,
                              active=active, verified=verified)
    rows = []
    for i, d in enumerate(ends):
        counts = np.bincount(code[i], minlength=len(STAGES))
        rows += [{"week_end": pd.Timestamp(d), "stage": st, "opds": int(counts[j])} for j, st in enumerate(STAGES)]
    return pd.DataFrame(rows)


# ---------------------------------------------------------------- refusals
REFUSAL_MIN_VOLUME = 200


def refusals_daily(*, engine: Engine, start: date, end: date, opd_ids=None) -> pd.DataFrame:
    """Per day: all check-ins, refusals, and refusals by colour (merah, hitam, kuning)."""
    r = RollupOpdDay
    stmt = (
        select(r.day, func.sum(r.checkins).label("checkins"), func.sum(r.merah).label("merah"),
               func.sum(r.hitam).label("hitam"), func.sum(r.kuning).label("kuning"), func.sum(r.refused).label("refused"))
        .where(r.day >= start, r.day <= end, _opd_filter(r.opd_id, opd_ids))
        .group_by(r.day).order_by(r.day)
    )
    with engine.connect() as conn:
        df = _fetch(conn, stmt)
    df["day"] = pd.to_datetime(df["day"])
    for c in ("checkins", "merah", "hitam", "kuning", "refused"):
        df[c] = df[c].astype("int64")
    return df


def refusals_by_opd(*, engine: Engine, start: date, end: date, opd_ids=None) -> pd.DataFrame:
    """Per OPD: check-ins, refusals (total, merah, hitam) and the refusal rate."""
    r, o = RollupOpdDay, Opd
    sums = (
        select(r.opd_id, func.sum(r.checkins).label("checkins"), func.sum(r.refused).label("refused"),
               func.sum(r.merah).label("merah"), func.sum(r.hitam).label("hitam"))
        .where(r.day >= start, r.day <= end, _opd_filter(r.opd_id, opd_ids))
        .group_by(r.opd_id)
        .subquery()
    )
    stmt = select(sums, o.short_name, o.kecamatan).join(o, o.id == sums.c.opd_id).order_by(sums.c.opd_id)
    with engine.connect() as conn:
        df = _fetch(conn, stmt)
    for c in ("checkins", "refused", "merah", "hitam"):
        df[c] = df[c].astype("int64")
    df["rate"] = df["refused"] / df["checkins"]
    return df


def refusals_by_visitor_type(*, engine: Engine, start: date, end: date, opd_ids=None) -> pd.DataFrame:
    r = RollupOpdDay
    sums = [func.coalesce(func.sum(c), 0) for c in (
        r.checkins, r.refused, r.merah, r.hitam, r.kuning, r.asn_checkins, r.asn_refused, r.asn_merah, r.asn_hitam,
        r.asn_kuning)]
    stmt = select(*sums).where(r.day >= start, r.day <= end, _opd_filter(r.opd_id, opd_ids))
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
    keep coming."""
    r, o = RollupOpdDay, Opd
    stmt = (
        select(o.kecamatan, epoch_day(r.day), func.sum(r.merah).label("merah"))
        .join(o, o.id == r.opd_id)
        .where(r.day >= start, r.day <= end, r.merah > 0, _opd_filter(r.opd_id, opd_ids))
        .group_by(o.kecamatan, r.day)
    )
    with engine.connect() as conn:
        rows = _rows(conn, stmt)
    day = _days(rows, 1)
    df = pd.DataFrame({
        "kecamatan": [r[0] for r in rows],
        "week": (day - (day - _MONDAY).astype(np.int64) % 7).astype("datetime64[ns]"),
        "merah": _col(rows, 2),
    })
    return df.groupby(["kecamatan", "week"], as_index=False, sort=True)["merah"].sum()
