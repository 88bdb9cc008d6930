"""The raw fetch and the dialect helpers that every query module uses: read a select straight
from the driver's cursor, a DATE as days since 1970 in each dialect, columns as numpy arrays,
the OPD filter."""
from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
from sqlalchemy import Date, Integer, bindparam, false, or_, select, union_all
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from ..calendar import next_month
from ..models import RollupHourly, RollupOpdDay, RollupOpdMonth, RollupRegionDay, RollupRegionHourly

_MONDAY = np.datetime64("1970-01-05", "D")  # weeks and days of the week are counted from a Monday
_MONDAY_DAY = 4  # the same Monday as a day number (days since 1970-01-01), for SQL


def _fetch(conn, stmt) -> pd.DataFrame:
    """Run a read-only select straight on the driver's cursor and build the frame from plain
    tuples: the rollups answer in milliseconds, so per-row result processing would dominate."""
    names, rows = _run(conn, stmt)
    # coerce_float: MariaDB's SUM() gives Decimal, read as float64
    return pd.DataFrame.from_records(rows, columns=names, coerce_float=True)


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


class month_start(FunctionElement):
    """The first day of a DATE's month, as a DATE, in every dialect (the key of rollup_opd_month)."""

    type = Date()
    inherit_cache = True


@compiles(month_start, "sqlite")
def _month_start_sqlite(element, compiler, **kw):  # text 'YYYY-MM-01', as SQLite stores a DATE
    return f"date({compiler.process(element.clauses, **kw)}, 'start of month')"


@compiles(month_start, "postgresql")
def _month_start_postgresql(element, compiler, **kw):
    # a timestamp without time zone: date_trunc on a plain DATE would take the session's time zone
    return f"CAST(date_trunc('month', CAST({compiler.process(element.clauses, **kw)} AS TIMESTAMP)) AS DATE)"


@compiles(month_start)
def _month_start_mysql(element, compiler, **kw):  # MariaDB / MySQL
    d = compiler.process(element.clauses, **kw)
    return f"DATE_SUB({d}, INTERVAL (DAYOFMONTH({d}) - 1) DAY)"


class floor_div(FunctionElement):
    """a // b for non-negative integers in every dialect (MariaDB's `/` would give a decimal)."""

    type = Integer()
    inherit_cache = True


@compiles(floor_div)
def _floor_div(element, compiler, **kw):  # SQLite, PostgreSQL: integer division of integers
    a, b = (compiler.process(c, **kw) for c in element.clauses)
    return f"(({a}) / ({b}))"


@compiles(floor_div, "mysql")
@compiles(floor_div, "mariadb")
def _floor_div_mysql(element, compiler, **kw):
    a, b = (compiler.process(c, **kw) for c in element.clauses)
    return f"(({a}) DIV ({b}))"


class bit_at(FunctionElement):
    """2 ** k as a 64-bit integer (k from 0 to 62): a SUM of distinct ones is a bitmask."""

    type = Integer()
    inherit_cache = True


@compiles(bit_at)
def _bit_at(element, compiler, **kw):  # SQLite and MariaDB shift 64-bit integers
    return f"(1 << ({compiler.process(element.clauses, **kw)}))"


@compiles(bit_at, "postgresql")
def _bit_at_postgresql(element, compiler, **kw):  # a plain 1 is a 32-bit int4 there
    return f"(CAST(1 AS BIGINT) << ({compiler.process(element.clauses, **kw)}))"


def is_weekday(day):
    """A DATE column's day is Monday to Friday, in every dialect (1970-01-01 was a Thursday)."""
    return (epoch_day(day) + 3) % 7 < 5


def _col(rows, i: int, dtype=np.int64) -> np.ndarray:
    """Column i of fetched rows as a numpy array."""
    return np.fromiter((r[i] for r in rows), dtype=dtype, count=len(rows))


def _days(rows, i: int) -> np.ndarray:
    """Column i of fetched rows, made by epoch_day(), as datetime64[D]."""
    return _col(rows, i).astype("datetime64[D]")


def _run(conn, stmt) -> tuple[list[str], list[tuple]]:
    """Execute through SQLAlchemy, whose compiled cache keeps the SQL of a statement of the same
    shape (composing it anew took about 2 ms a query), and read the driver's cursor directly."""
    result = conn.execute(stmt)
    try:
        cur = result.cursor
        return [d[0] for d in cur.description], cur.fetchall()
    finally:
        result.close()


def _as_counts(df: pd.DataFrame, cols: list[str]) -> None:
    """Count columns of a fetched frame as int64, 0 where missing (an OPD without a row), in one
    step: a column at a time cost about half a millisecond each."""
    df[cols] = df[cols].fillna(0).astype("int64")


def _rows(conn, stmt) -> list[tuple]:
    """Like `_fetch`, as plain tuples."""
    return _run(conn, stmt)[1]


def in_values(col, values):
    """`col IN (values)` with the values written into the SQL as it runs (the compiled statement
    stays cached): as parameters, a filter of hundreds of OPDs or a year's working days, repeated
    in a union's parts, would pass the 999 variables that SQLite before 3.32 allows."""
    return col.in_(bindparam(None, list(values), expanding=True, literal_execute=True, unique=True))


def _opd_filter(col, opd_ids):
    return in_values(col, opd_ids) if opd_ids is not None else True


def _per_day(opd_ids):
    """The per-day counts to sum for the OPDs in the filter, and the filter's condition: for
    every OPD the region rollup (a row a day, whatever the number of OPDs), else rollup_opd_day
    narrowed to them. Only count measures: the region rollup holds those alone."""
    if opd_ids is None:
        return RollupRegionDay, True
    return RollupOpdDay, _opd_filter(RollupOpdDay.opd_id, opd_ids)


def _per_hour(opd_ids):
    """As `_per_day`, per day and hour: rollup_region_hourly or rollup_hourly."""
    if opd_ids is None:
        return RollupRegionHourly, True
    return RollupHourly, _opd_filter(RollupHourly.opd_id, opd_ids)


def month_split(start: date, end: date) -> tuple[tuple[date, date] | None, list[tuple[date, date]], date]:
    """A period as the whole months it holds, for rollup_opd_month (the first days of the first
    and last one, or None), the days outside them, for rollup_opd_day (spans), and `cut`: the
    first day of the month after the last month that ends by `end` (every month before it is
    over by `end`)."""
    nxt = end + timedelta(days=1)
    cut = nxt if nxt.day == 1 else end.replace(day=1)
    first = start if start.day == 1 else next_month(start)
    if first >= cut:
        return None, [(start, end)], cut
    edges = [(a, b) for a, b in ((start, first - timedelta(days=1)), (cut, end)) if a <= b]
    return (first, (cut - timedelta(days=1)).replace(day=1)), edges, cut


def _in_spans(col, spans: list[tuple[date, date]]):
    return or_(*((col >= a) & (col <= b) for a, b in spans)) if spans else false()


def opd_sums(measures: list[str], start: date, end: date, opd_ids):
    """Per-OPD rows whose sums per OPD are the sums of `measures` over the period: the whole
    months from rollup_opd_month, the days at the ends from rollup_opd_day (a year of a province:
    24.000 + some 60.000 rows instead of 730.000). A subquery with `opd_id` and the measures;
    the caller sums them (per OPD or not)."""
    months, edges, _ = month_split(start, end)
    m, d = RollupOpdMonth, RollupOpdDay
    parts = [select(d.opd_id, *(getattr(d, c) for c in measures))
             .where(_in_spans(d.day, edges), _opd_filter(d.opd_id, opd_ids))]
    if months:
        parts.append(select(m.opd_id, *(getattr(m, c) for c in measures))
                     .where(m.month >= months[0], m.month <= months[1], _opd_filter(m.opd_id, opd_ids)))
    return union_all(*parts).subquery() if len(parts) > 1 else parts[0].subquery()


def _dates(values) -> pd.Series:
    """A fetched DATE column (date objects, or ISO text from SQLite) as Python dates, NaT where
    missing, keeping the column's index: what `pd.to_datetime(col).dt.date` gives, without its
    fixed cost (a millisecond a column; a page converts several)."""
    return date_column(values.tolist(), index=values.index)


def date_column(values: list, index=None) -> pd.Series:
    """Fetched DATE values (date objects, ISO text, None) as a column of Python dates, NaT where
    missing (a column with no date at all comes out as datetime64, as pandas makes it)."""
    out = np.empty(len(values), dtype=object)
    out[:] = [pd.NaT if v is None or v != v else _as_date(v) for v in values]
    return pd.Series(out, index=index)


def _as_date(v) -> date:
    if isinstance(v, str):
        return date.fromisoformat(v[:10])
    return v.date() if hasattr(v, "hour") else v
