"""The rollup tables as data: each table's grouping keys and measures, written once.

Everything that computes or declares a rollup is derived from the specifications below:

- `rollup_select`: the SQL that recomputes a rollup from the stored check-ins
  (`checkins.refresh_rollups`, and migration 0003, which filled the tables it created);
- `rollup_frame`: the same figures from check-ins in hand, vectorised on the integer codes
  `checkins.frame_to_columns` gives (`checkins._rollup_frames`, used by every write);
- `group_raw`: the plain pandas way, grouping raw check-in rows as read from the database
  (the benchmark's naive route, and the test that the three routes agree);
- the models' columns (`models.py`) and the columns migrations 0003 and 0004 created.

A measure is one of two kinds over the check-ins of a group that meet its condition (all of
its (column, value) pairs hold; no pairs: every check-in):

- ``count``: how many check-ins (SQL: COUNT(*), or SUM(CASE WHEN cond THEN 1 ELSE 0 END));
- ``distinct``: how many distinct visitors (COUNT(DISTINCT visitor_key), or of
  CASE WHEN cond THEN visitor_key END).

Adding a measure means a new migration that adds its column and fills it (see the note in
migration 0003, which builds its tables from this module).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

COUNT = "count"
DISTINCT = "distinct"


@dataclass(frozen=True)
class Measure:
    name: str
    kind: str  # COUNT or DISTINCT
    where: tuple[tuple[str, str], ...] = ()  # (checkin column, value) pairs that must all hold
    doc: str = ""

    def __post_init__(self) -> None:
        if self.kind not in (COUNT, DISTINCT):
            raise ValueError(f"{self.name}: kind {self.kind!r}")


@dataclass(frozen=True)
class Rollup:
    table: str
    keys: tuple[str, ...]  # checkin columns grouped by: the table's primary key, in order
    measures: tuple[Measure, ...]
    doc: str = ""

    @property
    def measure_names(self) -> list[str]:
        return [m.name for m in self.measures]

    @property
    def columns(self) -> list[str]:
        return [*self.keys, *self.measure_names]

    def measure(self, name: str) -> Measure:
        return next(m for m in self.measures if m.name == name)


ASN = ("visitor_type", "asn")
PENGUNJUNG = ("visitor_type", "pengunjung")
REFUSED = ("outcome", "ditolak")


def _status(colour: str) -> tuple[str, str]:
    return ("status", colour)


DAILY = Rollup(
    "rollup_daily",
    ("opd_id", "day", "visitor_type", "status", "outcome"),
    (
        Measure("checkins", COUNT),
        Measure("visitors", DISTINCT),
    ),
    doc="Check-ins and distinct visitors per OPD, WIB day, visitor type, colour and outcome.",
)

OPD_DAY = Rollup(
    "rollup_opd_day",
    ("opd_id", "day"),
    (
        Measure("checkins", COUNT),
        Measure("refused", COUNT, (REFUSED,)),
        Measure("asn_checkins", COUNT, (ASN,)),
        Measure("asn_refused", COUNT, (ASN, REFUSED)),
        Measure("merah", COUNT, (REFUSED, _status("merah")), "refused with status merah"),
        Measure("hitam", COUNT, (REFUSED, _status("hitam")), "refused with status hitam"),
        Measure("kuning", COUNT, (REFUSED, _status("kuning")), "refused with status kuning"),
        Measure("asn_merah", COUNT, (ASN, REFUSED, _status("merah")), "ASN refused with status merah"),
        Measure("asn_hitam", COUNT, (ASN, REFUSED, _status("hitam")), "ASN refused with status hitam"),
        Measure("asn_kuning", COUNT, (ASN, REFUSED, _status("kuning")), "ASN refused with status kuning"),
        Measure("asn_visitors", DISTINCT, (ASN,), "distinct ASN: the numerator of coverage"),
        Measure("visitors", DISTINCT, (PENGUNJUNG,), "distinct pengunjung"),
    ),
    doc="One row per OPD and WIB day with every figure the pages ask for most: the narrow table that keeps "
        "page queries fast at millions of check-ins (one row per OPD-day, ~19.000 a year).",
)

HOURLY = Rollup(
    "rollup_hourly",
    ("opd_id", "day", "hour"),
    (
        Measure("checkins", COUNT),
        Measure("refused", COUNT, (REFUSED,)),
    ),
    doc="Check-ins and refusals per OPD, WIB day and hour (for time-of-day views).",
)

ROLLUPS = (DAILY, OPD_DAY, HOURLY)


@dataclass(frozen=True)
class RegionRollup:
    """A rollup of the whole registry, without the OPD: the count measures of a per-OPD rollup
    summed over every OPD. Figures asked for every OPD at once (the default view of every page)
    read a few hundred rows instead of one per OPD and day (730.000 a year for a province). It
    is made from its source rollup, never from the check-ins, after every write of that one
    (`checkins.refresh_region_rollups`)."""

    table: str
    source: Rollup
    measures: tuple[str, ...]  # COUNT measures of `source`, summed
    doc: str = ""

    def __post_init__(self) -> None:
        for name in self.measures:
            if self.source.measure(name).kind != COUNT:
                raise ValueError(f"{self.table}: {name} is not a count (distinct visitors do not add up)")

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(k for k in self.source.keys if k != "opd_id")

    @property
    def columns(self) -> list[str]:
        return [*self.keys, *self.measures]


REGION_DAY = RegionRollup(
    "rollup_region_day", OPD_DAY, ("checkins", "refused", "asn_checkins", "merah", "hitam", "kuning"),
    doc="rollup_opd_day's counts summed over every OPD, per WIB day.",
)
REGION_HOURLY = RegionRollup(
    "rollup_region_hourly", HOURLY, ("checkins", "refused"),
    doc="rollup_hourly summed over every OPD, per WIB day and hour.",
)
REGION_ROLLUPS = (REGION_DAY, REGION_HOURLY)


def region_select(rollup: RegionRollup, source):
    """SELECT keys, SUM(measures) FROM `source` (the source rollup's table) GROUP BY keys."""
    from sqlalchemy import func, select

    c = source.c
    keys = [c[k] for k in rollup.keys]
    return select(*keys, *(func.sum(c[m]).label(m) for m in rollup.measures)).group_by(*keys)


@dataclass(frozen=True)
class MonthRollup:
    """A per-OPD rollup by calendar month (WIB) instead of day: the count measures of a per-OPD
    day rollup summed, and the month's last day with a row. Per-OPD sums over a long period
    (a year of a province: 730.000 OPD-days) read a row per OPD and whole month, plus the days
    at the period's ends from the day rollup (`queries._base.opd_sums`). Made from its source
    rollup after every write of that one (`checkins.refresh_month_rollups`). `days_mask` has bit
    k set when the month's day k + 1 has a row (the days an OPD was active, for the onboarding
    views' active windows: a row per OPD and month instead of one per OPD and day).
    `asn_capped_wd` is the numerator of Cakupan ASN over the month's Monday-to-Fridays: the sum
    of min(distinct ASN, headcount) with the OPD's headcount at the time, `cap_headcount`. A
    reader subtracts the weekdays that are holidays, and reads the days instead where the
    headcount has changed since (`queries.adoption._coverage`)."""

    table: str
    source: Rollup
    measures: tuple[str, ...]  # COUNT measures of `source`, summed
    doc: str = ""
    keys = ("opd_id", "month")

    def __post_init__(self) -> None:
        for name in self.measures:
            if self.source.measure(name).kind != COUNT:
                raise ValueError(f"{self.table}: {name} is not a count (distinct visitors do not add up)")

    @property
    def columns(self) -> list[str]:
        return [*self.keys, "last_day", "days_mask", "cap_headcount", "asn_capped_wd", *self.measures]


OPD_MONTH = MonthRollup(
    "rollup_opd_month", OPD_DAY, tuple(m.name for m in OPD_DAY.measures if m.kind == COUNT),
    doc="rollup_opd_day's counts summed per OPD and WIB month (month: its first day), with the month's last day "
        "with check-ins and a bitmask of its days with check-ins.",
)


def month_select(rollup: MonthRollup, source, opd):
    """SELECT opd_id, month, MAX(day), the days' bitmask, the headcount, the capped ASN sum of
    Monday to Friday, SUM(measures) FROM `source` (the day rollup's table, one row per OPD and
    day) JOIN `opd` (the registry: id, asn_headcount) GROUP BY opd_id, month."""
    from sqlalchemy import case, func, select

    from .queries._base import bit_at, epoch_day, is_weekday, month_start

    c, h = source.c, opd.c.asn_headcount
    month = month_start(c.day)
    day_bit = bit_at(epoch_day(c.day) - epoch_day(month))  # distinct days: their sum is the mask
    capped = case((c.asn_visitors > h, h), else_=c.asn_visitors)
    return (select(c.opd_id, month.label("month"), func.max(c.day).label("last_day"),
                   func.sum(day_bit).label("days_mask"), func.max(h).label("cap_headcount"),
                   func.sum(case((is_weekday(c.day), capped), else_=0)).label("asn_capped_wd"),
                   *(func.sum(c[m]).label(m) for m in rollup.measures))
            .select_from(source.join(opd, opd.c.id == c.opd_id))
            .group_by(c.opd_id, month))


# ------------------------------------------------------------------ (a) SQL
def rollup_select(rollup: Rollup, source):
    """SELECT keys, measures FROM `source` GROUP BY keys: the rows of `rollup` recomputed from
    stored check-ins. `source` is the checkin table, or any table-like object with its column
    names (a migration's `sa.table("checkin", ...)`); add a WHERE to narrow it."""
    from sqlalchemy import and_, case, func, select

    c = source.c
    aggs = []
    for m in rollup.measures:
        cond = and_(*(c[col] == value for col, value in m.where)) if m.where else None
        if m.kind == COUNT:
            agg = func.count() if cond is None else func.sum(case((cond, 1), else_=0))
        else:
            agg = func.count(func.distinct(c.visitor_key if cond is None else case((cond, c.visitor_key))))
        aggs.append(agg.label(m.name))
    keys = [c[k] for k in rollup.keys]
    return select(*keys, *aggs).group_by(*keys)


# --------------------------------------------------- (b) in memory, on integer codes
def rollup_frame(rollup: Rollup, cols: dict[str, np.ndarray], texts: dict) -> pd.DataFrame:
    """The rows of `rollup` from check-ins in hand, in the form `checkins.frame_to_columns` gives
    (text columns as integer codes into `texts`, `day` as datetime64[D]), for groups whose every
    check-in is in `cols`. Vectorised: one integer key per group, measures by bincount."""
    n = len(cols["opd_id"])
    if n == 0:
        return pd.DataFrame({c: pd.Series(dtype="int64") for c in rollup.columns})
    inv, rep = _groups([cols[k] for k in rollup.keys])
    groups = len(rep)
    out: dict[str, np.ndarray] = {}
    for k in rollup.keys:
        v = cols[k][rep]
        out[k] = texts[k].to_numpy(zero_copy_only=False)[v] if k in texts else v
    masks: dict[tuple, np.ndarray] = {}

    def mask(where: tuple) -> np.ndarray:
        if where not in masks:
            m = np.ones(n, dtype=bool)
            for col, value in where:
                m &= _code_is(cols, texts, col, value)
            masks[where] = m
        return masks[where]

    vkey = cols["visitor_key"]
    width = len(texts["visitor_key"])  # visitor codes lie in [0, width)
    for m in rollup.measures:
        g, vk = (inv, vkey) if not m.where else (inv[mask(m.where)], vkey[mask(m.where)])
        if m.kind == COUNT:
            out[m.name] = np.bincount(g, minlength=groups)
        else:  # the distinct (group, visitor) pairs, counted per group (sorting beats hashing here)
            pairs = np.sort(g.astype("int64") * width + vk)
            first = np.ones(len(pairs), dtype=bool)
            np.not_equal(pairs[1:], pairs[:-1], out=first[1:])
            out[m.name] = np.bincount(pairs[first] // width, minlength=groups)
    return pd.DataFrame(out, copy=False)


def _code_is(cols: dict[str, np.ndarray], texts: dict, column: str, value: str) -> np.ndarray:
    """Rows whose text `column` holds `value`, compared on the integer codes."""
    values = texts[column].to_pylist()
    return cols[column] == values.index(value) if value in values else np.zeros(len(cols[column]), dtype=bool)


def _groups(parts: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Group number of each row (groups in key order) and one row of each group. The keys become
    one int64 (mixed radix) when they fit in it, as they do for any real data."""
    ints = [p.astype("int64", copy=False) if p.dtype.kind != "M" else p.view("int64") for p in parts]
    lo = [int(a.min()) for a in ints]
    span = [int(a.max()) - m + 1 for a, m in zip(ints, lo)]
    total = int(np.prod([float(s) for s in span]))
    if total < 2**62:
        key = ints[0] - lo[0]
        for a, m, s in zip(ints[1:], lo[1:], span[1:]):
            key = key * s + (a - m)
        if total <= max(4 * len(key), 1 << 20):  # the usual case: number the keys present, no hashing
            present = np.zeros(total, dtype=bool)
            present[key] = True
            inv = (np.cumsum(present) - 1)[key]
        else:
            inv, _ = pd.factorize(key, sort=True)
    else:
        inv = pd.DataFrame(dict(enumerate(ints)), copy=False).groupby(list(range(len(ints))), sort=True).ngroup()
        inv = inv.to_numpy()
    rep = np.empty(int(inv.max()) + 1, dtype="int64")
    rep[inv] = np.arange(len(inv))
    return inv, rep


# ---------------------------------------------------- (c) plain pandas, raw rows
def group_raw(rollup: Rollup, raw: pd.DataFrame, measures: list[str] | None = None) -> pd.DataFrame:
    """The rows of `rollup` the plain pandas way: raw check-in rows (text columns as text, as
    read from the database) grouped by the keys. `measures`: only these (default all)."""
    chosen = [m for m in rollup.measures if measures is None or m.name in measures]
    data = {k: raw[k] for k in rollup.keys}
    for m in chosen:
        cond = pd.Series(True, index=raw.index)
        for col, value in m.where:
            cond &= raw[col] == value
        data[m.name] = cond.astype("int64") if m.kind == COUNT else raw["visitor_key"].where(cond)
    how = {m.name: "sum" if m.kind == COUNT else "nunique" for m in chosen}
    return pd.DataFrame(data).groupby(list(rollup.keys), as_index=False).agg(how)
