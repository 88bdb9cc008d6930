"""Adoption: the registry, totals and daily counts, Cakupan ASN (per OPD, weighted, daily,
weekly), the per-OPD activity and overview with its stage columns, the adoption table and the
kecamatan summary. Every figure is aggregated in the database from the rollups."""
from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
from sqlalchemy import Engine, case, false, func, literal, or_, select, union_all

from .. import domain
from ..calendar import active_window_start, month_end, workdays
from ..models import Opd, RollupOpdDay, RollupOpdMonth
from ..labels import kecamatan_label
from ..registry import HOME_REGENCY, KECAMATAN_CENTROIDS
from ._base import (_MONDAY, _MONDAY_DAY, _as_counts, _as_date, _col, _dates, _days, _fetch, _in_spans, _opd_filter,
                    _per_day, _rows, _run, date_column, epoch_day, floor_div, in_values, is_weekday, month_split)
from .monitoring import last_visits


def data_range(*, engine: Engine) -> tuple[date, date] | None:
    """First and last day with check-ins, or None for an empty database."""
    with engine.connect() as conn:
        lo, hi = conn.execute(select(func.min(RollupOpdDay.day), func.max(RollupOpdDay.day))).one()
    if lo is None:
        return None
    return (_as_date(lo), _as_date(hi))


def opd_registry(*, engine: Engine) -> pd.DataFrame:
    """The registry, one row per OPD, with `kecamatan_label`: the kecamatan as the filter, the maps
    and the tables key it (its name; with its regency when the registry holds several)."""
    stmt = select(
        Opd.id, Opd.code, Opd.name, Opd.short_name, Opd.category, Opd.kecamatan, Opd.lat, Opd.lon,
        Opd.asn_headcount, Opd.headcount_is_estimate, Opd.venue_code, Opd.venue_registered_on, Opd.qr_printed_on,
        Opd.qr_printed_estimate, Opd.location_approx, Opd.kabupaten,
    ).order_by(Opd.id)
    with engine.connect() as conn:
        names, rows = _run(conn, stmt)
    # built column by column from the rows, each in its final form (a frame converted afterwards,
    # column by column, took twice as long as the query)
    # (no rows: columns of objects, as a frame made from no records has them)
    cols = dict(zip(names, (list(c) for c in zip(*rows)))) if rows else {n: pd.Series([], dtype=object) for n in names}
    for c in ("qr_printed_on", "venue_registered_on"):
        cols[c] = date_column(cols[c])
    cols["venue_code"] = _object_column(cols["venue_code"])
    for c in ("qr_printed_estimate", "location_approx"):
        cols[c] = np.array([bool(v) for v in cols[c]], dtype=bool)
    province = len(set(cols["kabupaten"])) > 1
    cols["kecamatan_label"] = _object_column([kecamatan_label(k, b, province=province)
                                             for k, b in zip(cols["kecamatan"], cols["kabupaten"])])
    return pd.DataFrame(cols)


def _object_column(values: list) -> pd.Series:
    """Values as a column of Python objects (None stays None, text is not made a string
    column), for dates or text with gaps."""
    return pd.Series(values, dtype=object)


def _registry(engine: Engine, opd_ids) -> pd.DataFrame:
    """The registry, limited to the OPDs in the filter."""
    reg = opd_registry(engine=engine)
    return reg if opd_ids is None else reg[reg["id"].isin(list(opd_ids))]


def totals(*, engine: Engine, start: date, end: date, opd_ids=None) -> dict:
    r, in_filter = _per_day(opd_ids)
    stmt = select(
        func.coalesce(func.sum(r.checkins), 0), func.coalesce(func.sum(r.refused), 0),
        func.coalesce(func.sum(r.checkins - r.asn_checkins), 0),
    ).where(r.day >= start, r.day <= end, in_filter)
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
    r, in_filter = _per_day(opd_ids)
    stmt = (
        select(
            r.day,
            func.sum(r.checkins).label("checkins"),
            func.sum(r.refused).label("refused"),
            func.sum(r.checkins - r.asn_checkins).label("visitor_checkins"),
        )
        .where(r.day >= start, r.day <= end, in_filter)
        .group_by(r.day)
        .order_by(r.day)
    )
    with engine.connect() as conn:
        df = _fetch(conn, stmt)
    df["day"] = pd.to_datetime(df["day"])
    _as_counts(df, ["checkins", "refused", "visitor_checkins"])
    return df


def _capped_asn(v, h):
    return case((v.asn_visitors > h, h), else_=v.asn_visitors)


def coverage_by_opd(*, engine: Engine, start: date, end: date, opd_ids=None) -> pd.DataFrame:
    """Cakupan ASN per OPD: mean over the period's working days of
    min(distinct ASN that day, headcount) / headcount. OPDs without any ASN scan get 0."""
    return _coverage(engine, _registry(engine, opd_ids), start, end, opd_ids)


def _coverage(engine: Engine, reg: pd.DataFrame, start: date, end: date, opd_ids) -> pd.DataFrame:
    """coverage_by_opd for the OPDs of a registry frame already in hand. The capped ASN-days of
    whole months come from rollup_opd_month (the sum over its weekdays), less those of its
    weekdays that are holidays; the days at the period's ends come from rollup_opd_day. Where an
    OPD's headcount has changed since its month row was made, the month's weekdays are
    corrected from the day rows (the new cap less the old)."""
    wd = workdays(start, end)
    months, edges, _ = month_split(start, end)
    v, m, o = RollupOpdDay, RollupOpdMonth, Opd
    capped = _capped_asn(v, o.asn_headcount)
    add = [d for d in wd if any(a <= d <= b for a, b in edges)]
    off = []
    if months:
        work, weekdays = _workdays_between(months[0], month_end(months[1]))
        off = [d for d in weekdays if d not in work]  # weekdays that are holidays
    # one pass over the day index: the ends' working days add, the holidays of whole months take off
    days = (select(v.opd_id, case((in_values(v.day, off), -capped), else_=capped).label("asn_days"))
            .join(o, o.id == v.opd_id)
            .where(in_values(v.day, add + off) if add or off else false(), v.asn_visitors > 0,
                   _opd_filter(v.opd_id, opd_ids)))
    parts = [days]
    if months:
        in_months = (m.month >= months[0]) & (m.month <= months[1]) & _opd_filter(m.opd_id, opd_ids)
        parts.append(select(m.opd_id, m.asn_capped_wd.label("asn_days")).where(in_months))
        changed = select(m.opd_id).join(o, o.id == m.opd_id).where(in_months, m.cap_headcount != o.asn_headcount)
        of_month = (v.opd_id == m.opd_id) & (v.day >= m.month) & (v.day <= m.last_day)  # the month's day rows
        parts.append(select(v.opd_id, (capped - _capped_asn(v, m.cap_headcount)).label("asn_days"))
                     .join(o, o.id == v.opd_id).join(m, of_month)
                     .where(v.opd_id.in_(changed), in_months, m.cap_headcount != o.asn_headcount, is_weekday(v.day),
                            v.asn_visitors > 0))
    u = union_all(*parts).subquery() if len(parts) > 1 else parts[0].subquery()
    sums = select(u.c.opd_id, func.sum(u.c.asn_days).label("asn_days")).group_by(u.c.opd_id)
    with engine.connect() as conn:
        got = _rows(conn, sums)
    # each OPD of the registry frame with its sum (0 where it has none), in the frame's order
    ids = reg["id"].to_numpy(dtype=np.int64)
    asn_days = np.zeros(len(ids))
    if got:
        pos = pd.Index(_col(got, 0)).get_indexer(ids)
        got_days = _col(got, 1, dtype=np.float64)  # (MariaDB's SUM is a Decimal)
        asn_days[pos >= 0] = got_days[pos[pos >= 0]]
    n = len(wd)
    head = reg["asn_headcount"].to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):  # a headcount of 0: no coverage (NaN), as before
        coverage = asn_days / (n * head) if n else np.nan
    return pd.DataFrame({"opd_id": ids, "asn_headcount": head, "asn_days": asn_days, "workdays": n,
                         "coverage": coverage})


def _workdays_between(start: date, end: date) -> tuple[set[date], list[date]]:
    """The working days of a span (a set) and its Mondays to Fridays (a list)."""
    weekdays = [d.date() for d in pd.date_range(start, end, freq="D") if d.weekday() < 5]
    return set(workdays(start, end)), weekdays


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
        .where(v.day >= start, v.day <= end, v.asn_visitors > 0, in_values(v.day, wd) if wd else false(),
               _opd_filter(v.opd_id, opd_ids))
    )
    with engine.connect() as conn:
        rows = _rows(conn, stmt)
    return pd.DataFrame({
        "day": _days(rows, 0).astype("datetime64[ns]"),
        "opd_id": _col(rows, 1),
        "asn": _col(rows, 2, np.float64),
    })


WEEKLY_LINES_MAX = 12  # the weekly coverage chart draws a line per OPD for at most this many


def weekly_lines_per_opd(opd_ids) -> bool:
    """Whether the weekly coverage chart of this filter draws a line per OPD (else only the
    selection as a whole): a filter of at most WEEKLY_LINES_MAX OPDs."""
    return opd_ids is not None and len(opd_ids) <= WEEKLY_LINES_MAX


def coverage_weekly(*, engine: Engine, start: date, end: date, opd_ids=None, per_opd: bool = True) -> pd.DataFrame:
    """Weekly coverage (weeks starting Monday) per OPD and for the selection as a whole
    (opd_id = 0), each the mean over the week's working days; `per_opd=False`: the selection
    as a whole alone (summed per week in the database: a province's year is 52 rows, not 100.000)."""
    heads = select(Opd.id, Opd.asn_headcount).where(_opd_filter(Opd.id, opd_ids))  # the registry's two columns
    with engine.connect() as conn:
        reg = _rows(conn, heads)
    wd = np.array(workdays(start, end), dtype="datetime64[D]")
    if not len(wd) or not reg:
        return pd.DataFrame(columns=["week", "opd_id", "coverage"])
    # the daily numerators summed per OPD and week in the database: one row per OPD-week, not
    # per OPD-day (a province's year: 100.000 rows instead of 500.000)
    v, o = RollupOpdDay, Opd
    week = floor_div(epoch_day(v.day) - _MONDAY_DAY, 7)  # weeks since the Monday 1970-01-05
    stmt = (
        select(week.label("week"), v.opd_id if per_opd else literal(0), func.sum(_capped_asn(v, o.asn_headcount)))
        .join(o, o.id == v.opd_id)
        .where(v.day >= start, v.day <= end, v.asn_visitors > 0, in_values(v.day, wd.tolist()),
               _opd_filter(v.opd_id, opd_ids))
        .group_by(week, *([v.opd_id] if per_opd else []))
    )
    with engine.connect() as conn:
        rows = _rows(conn, stmt)
    # weeks × OPDs in numpy: a year of a regency is a few thousand cells
    wd_week = (wd - _MONDAY).astype(np.int64) // 7
    weeks, n_wd = np.unique(wd_week, return_counts=True)
    if not per_opd:
        asn = np.zeros(len(weeks))
        if rows:
            np.add.at(asn, np.searchsorted(weeks, _col(rows, 0)), _col(rows, 2, np.float64))
        return pd.DataFrame({"week": (_MONDAY + weeks * 7).astype("datetime64[ns]"),
                             "opd_id": np.zeros(len(weeks), dtype=np.int64),
                             "coverage": asn / (n_wd * _col(reg, 1, np.float64).sum())})
    ids = _col(reg, 0)
    order = np.argsort(ids)
    ids, head = ids[order], _col(reg, 1, np.float64)[order]
    asn = np.zeros((len(weeks), len(ids)))
    if rows:
        np.add.at(asn, (np.searchsorted(weeks, _col(rows, 0)), np.searchsorted(ids, _col(rows, 1))),
                  _col(rows, 2, np.float64))
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
    d, m = RollupOpdDay, RollupOpdMonth
    recent_from = active_window_start(end)
    months, edges, cut = month_split(start, end)
    in_filter = _opd_filter(d.opd_id, opd_ids)

    def summed(in_sum, col):
        return case((in_sum, col), else_=0)

    # the last day looks back over every month that is over by `end` (month rows), then the
    # days of `end`'s own month; the sums read whole months and the days at the period's ends
    in_months = (m.month >= months[0]) & (m.month <= months[1]) if months else false()
    month_part = (
        select(m.opd_id, m.last_day.label("last_day"), summed(in_months, m.checkins).label("checkins"),
               summed(in_months, m.checkins - m.asn_checkins).label("visitor_checkins"),
               summed(in_months, m.refused).label("refused"), literal(0).label("checkins_7d"))
        .where(m.month < cut, _opd_filter(m.opd_id, opd_ids))
    )
    in_edges = _in_spans(d.day, edges)
    recent = d.day >= recent_from
    day_part = (
        select(d.opd_id, d.day.label("last_day"), summed(in_edges, d.checkins).label("checkins"),
               summed(in_edges, d.checkins - d.asn_checkins).label("visitor_checkins"),
               summed(in_edges, d.refused).label("refused"), summed(recent, d.checkins).label("checkins_7d"))
        .where(d.day <= end, or_(d.day >= cut, recent, in_edges), in_filter)
    )
    u = union_all(month_part, day_part).subquery()
    stmt = select(u.c.opd_id, func.max(u.c.last_day).label("last_day"),
                  *(func.sum(u.c[c]).label(c) for c in ("checkins", "visitor_checkins", "refused", "checkins_7d"))
                  ).group_by(u.c.opd_id)
    with engine.connect() as conn:
        df = _fetch(conn, stmt)
    _as_counts(df, ["checkins", "visitor_checkins", "refused", "checkins_7d"])
    df["last_day"] = _dates(df["last_day"])
    return df


def _lined(part: pd.DataFrame, cols: list[str], ids: np.ndarray, index: pd.Index) -> pd.DataFrame:
    """The `cols` of a frame with one row per OPD (or none), in the order of `ids` and with
    `index`: as a left join from the OPDs would give them (missing where an OPD has no row, the
    column types widened as pandas does for that). Taken by position when every OPD has its row."""
    pos = pd.Index(part["opd_id"]).get_indexer(ids)
    if len(pos) and (pos >= 0).all():
        return part[cols].take(pos).set_axis(index)
    return part.set_index("opd_id")[cols].reindex(ids).set_axis(index)


def opd_overview(*, engine: Engine, start: date, end: date, opd_ids=None) -> pd.DataFrame:
    """One row per OPD in the filter with registry facts, activity, coverage, and the stage
    columns of domain.classify (stage, qr_printed, active, anomaly, ...) as of `end`."""
    reg = _registry(engine, opd_ids)
    act = opd_activity(engine=engine, start=start, end=end, opd_ids=opd_ids)
    cov = _coverage(engine, reg, start, end, opd_ids)
    vis = last_visits(engine=engine, end=end, opd_ids=opd_ids)
    # each part has one row per OPD (or none): its columns lined up with the registry's rows, as a
    # left join would give them (missing where an OPD has no row)
    df = reg.reset_index(drop=True)
    ids = df["id"].to_numpy()
    lined = [_lined(part, cols, ids, df.index)
             for part, cols in ((act, [c for c in act.columns if c != "opd_id"]),
                                (vis, ["visited_on", "qr_posted", "scanning_enforced", "unscanned_entries", "photos",
                                       "photo_result", "photo_other_opd"]))]
    coverage = pd.Series(cov["coverage"].to_numpy(), index=df.index, name="coverage")  # (in the registry's order)
    df = pd.concat([df, lined[0], coverage, lined[1]], axis=1)
    _as_counts(df, ["checkins", "visitor_checkins", "refused", "checkins_7d"])
    df["refusal_rate"] = (df["refused"] / df["checkins"]).where(df["checkins"] > 0)
    return domain.classify(df, end=end).reset_index(drop=True)


def adoption_table(*, engine: Engine, start: date, end: date, opd_ids=None) -> pd.DataFrame:
    """The adoption table: overview plus visitor check-ins per working day."""
    return adoption_table_of(opd_overview(engine=engine, start=start, end=end, opd_ids=opd_ids), start=start, end=end)


def adoption_table_of(df: pd.DataFrame, *, start: date, end: date) -> pd.DataFrame:
    """`adoption_table` from the period's opd_overview frame (which it extends)."""
    n_wd = len(workdays(start, end))
    df["visitors_per_day"] = df["visitor_checkins"] / n_wd if n_wd else np.nan
    return df


def _area_sums(ov: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """An opd_overview frame summed per area (the `keys` columns: a kecamatan, a regency): OPDs,
    OPDs with a printed QR, active OPDs, check-ins, refusals, headcount, the mean point of its
    OPDs (lat, lon), Cakupan ASN weighted by headcount (Σ coverage × headcount ÷ Σ headcount,
    weighted_coverage's rule per area, as a number: 0 for a period without working days) and
    the refusal rate. One grouped sum of every column, a mean as a sum over a count: a third of
    the time of an aggregation per column."""
    g = pd.DataFrame({
        **{k: ov[k] for k in keys}, "opds": ov["id"].notna(), "printed": domain.qr_printed(ov),
        "active": domain.active(ov), "checkins": ov["checkins"], "refused": ov["refused"],
        "headcount": ov["asn_headcount"], "asn_days": ov["coverage"].fillna(0) * ov["asn_headcount"],
        "lat": ov["lat"], "lon": ov["lon"], "lat_n": ov["lat"].notna(), "lon_n": ov["lon"].notna(),
    }).groupby(keys, as_index=False).sum()
    g["lat"] = g["lat"] / g.pop("lat_n")
    g["lon"] = g["lon"] / g.pop("lon_n")
    g["coverage"] = g.pop("asn_days") / g["headcount"]
    g["refusal_rate"] = (g["refused"] / g["checkins"]).where(g["checkins"] > 0)
    return g


def kecamatan_summary(*, engine: Engine, start: date, end: date, opd_ids=None) -> pd.DataFrame:
    """Per kecamatan of a regency (two regencies' kecamatan of one name stay apart): its regency,
    name and `kecamatan_label` (opd_registry's), OPDs, check-ins, refusals, coverage weighted by
    headcount, centroid."""
    return kecamatan_summary_of(opd_overview(engine=engine, start=start, end=end, opd_ids=opd_ids))


def kecamatan_summary_of(ov: pd.DataFrame) -> pd.DataFrame:
    """`kecamatan_summary` from the period's opd_overview frame."""
    g = _area_sums(ov, ["kabupaten", "kecamatan", "kecamatan_label"])
    g = g[["kabupaten", "kecamatan", "kecamatan_label", "opds", "checkins", "refused", "headcount", "printed",
           "lat", "lon", "coverage", "refusal_rate"]].rename(columns={"lat": "opd_lat", "lon": "opd_lon"})
    # Bangkalan's kecamatan at their centroids; another regency's (a province's registry), also
    # one named like a kecamatan of Bangkalan, at the mean of its OPDs' points
    centroid = g["kecamatan"].where(g["kabupaten"] == HOME_REGENCY).map(KECAMATAN_CENTROIDS)
    g["lat"] = centroid.map(lambda c: c[0], na_action="ignore").astype("float64").fillna(g["opd_lat"])
    g["lon"] = centroid.map(lambda c: c[1], na_action="ignore").astype("float64").fillna(g["opd_lon"])
    return g.drop(columns=["opd_lat", "opd_lon"])
