"""Monthly partitions of the check-ins on PostgreSQL (migration 0011).

`checkin` is partitioned by RANGE (ts), one partition per month of WIB days: a month runs from
WIB midnight on its first day, which is 17:00 UTC the day before (`ts` is UTC, naive). So a
month's import touches one partition, and the scan's key (opd_id, ts, visitor_key) contains the
partition key as PostgreSQL requires: duplicates are detected as before. That key is the
primary key (migration 0012). A default partition catches rows of a month nobody created;
`split_default` gives them their own partition after the write.

On SQLite and MariaDB everything here is a no-op."""
from __future__ import annotations

import logging
import re
from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd
from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError

from .calendar import next_month

log = logging.getLogger(__name__)

PARENT = "checkin"
DEFAULT = "checkin_default"
AHEAD_MONTHS = 2  # months created past the newest one written (and past today, by the migration)
_LOCK_KEY = 720_011  # advisory lock: one session at a time creates partitions
_NAME = re.compile(r"checkin_(p\d{6}|default)")


def is_partition(name: str) -> bool:
    """A partition's table name (migrations and models describe the parent only)."""
    return bool(_NAME.fullmatch(name or ""))


def partition_name(month: date) -> str:
    return f"checkin_p{month:%Y%m}"


def month_start(d: date) -> date:
    return d.replace(day=1)


def month_bounds(month: date) -> tuple[datetime, datetime]:
    """The month of WIB days as a half-open range of UTC (naive) times."""
    start = datetime(month.year, month.month, 1) - timedelta(hours=7)
    nxt = next_month(month)
    return start, datetime(nxt.year, nxt.month, 1) - timedelta(hours=7)


def months(first: date, last: date) -> list[date]:
    out, m = [], month_start(first)
    while m <= last:
        out.append(m)
        m = next_month(m)
    return out


def is_partitioned(conn: Connection) -> bool:
    if conn.dialect.name != "postgresql":
        return False
    return bool(conn.exec_driver_sql(
        "SELECT 1 FROM pg_partitioned_table p JOIN pg_class c ON c.oid = p.partrelid "
        "WHERE c.relname = 'checkin' AND c.relnamespace = current_schema()::regnamespace"
    ).scalar())


def existing(conn: Connection) -> set[str]:
    return set(conn.exec_driver_sql(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "WHERE i.inhparent = 'checkin'::regclass"
    ).scalars())


def ts_literal(t: datetime) -> str:
    """A time as an SQL literal (the partition bounds are made of them)."""
    return f"'{t:%Y-%m-%d %H:%M:%S}'"


def month_of(name: str) -> date | None:
    """The month of a month's partition name (None for the default partition or another table)."""
    m = re.fullmatch(r"checkin_p(\d{4})(\d{2})", name or "")
    return date(int(m[1]), int(m[2]), 1) if m else None


def create_partitions(conn: Connection, wanted: list[date]) -> list[str]:
    """Create the partitions of the months `wanted` that are missing (and the default partition);
    rows of such a month already in the default partition move into the new one. Returns the
    names created."""
    have = existing(conn)
    made = []
    if DEFAULT not in have:
        conn.exec_driver_sql(f"CREATE TABLE {DEFAULT} PARTITION OF {PARENT} DEFAULT")
        made.append(DEFAULT)
    for month in wanted:
        name = partition_name(month)
        if name in have:
            continue
        lo, hi = month_bounds(month)
        rng = f"FOR VALUES FROM ({ts_literal(lo)}) TO ({ts_literal(hi)})"
        stray = conn.exec_driver_sql(
            f"SELECT 1 FROM {DEFAULT} WHERE ts >= {ts_literal(lo)} AND ts < {ts_literal(hi)} LIMIT 1").scalar()
        if stray:  # PostgreSQL refuses a partition whose rows sit in the default one: move them first
            conn.exec_driver_sql(f"CREATE TABLE {name} (LIKE {PARENT} INCLUDING DEFAULTS)")
            conn.exec_driver_sql(
                f"WITH moved AS (DELETE FROM {DEFAULT} WHERE ts >= {ts_literal(lo)} AND ts < {ts_literal(hi)} "
                "RETURNING *) "
                f"INSERT INTO {name} SELECT * FROM moved")
            conn.exec_driver_sql(f"ALTER TABLE {PARENT} ATTACH PARTITION {name} {rng}")
        else:
            conn.exec_driver_sql(f"CREATE TABLE {name} PARTITION OF {PARENT} {rng}")
        made.append(name)
    return made


def ensure_partitions(conn: Connection, day_from: date, day_to: date) -> list[str]:
    """Before a write of the WIB days `day_from`..`day_to`: create the months' partitions (and
    AHEAD_MONTHS more) that are missing, in a short transaction of its own: creating a partition
    locks the whole table, which an import's transaction should not hold for its duration. If
    that must wait (this transaction holds the table, a reader runs long), the rows go to the
    default partition for now and `split_default` (after the write) moves them out. Returns the
    names created; a no-op (two catalog reads) when they all exist, and on SQLite/MariaDB."""
    if not is_partitioned(conn):
        return []
    last = day_to
    for _ in range(AHEAD_MONTHS):
        last = next_month(last)
    wanted = months(day_from, last)
    have = existing(conn)
    if DEFAULT in have and all(partition_name(m) in have for m in wanted):
        return []
    try:
        with conn.engine.connect() as side, side.begin():
            side.exec_driver_sql("SET LOCAL lock_timeout = '1s'")
            side.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_LOCK_KEY})")
            return create_partitions(side, wanted)
    except DBAPIError:
        log.info("partitions for %s..%s not created now: rows go to %s", day_from, day_to, DEFAULT)
        return []


def ensure_span(engine) -> list[str]:
    """The months from the Surat Edaran's (the first a check-in of this rule can carry) to this
    month (WIB) and AHEAD_MONTHS more, created before any write needs them: at start-up
    (`db.init_schema`) and before each import's transaction. Inside a write, creating a
    partition waits for the write's own locks (a new partition takes its foreign keys from
    `opd` and `import_batch`, which the import has just written to), so such rows would go to
    the default partition and be moved after the write. Two catalog reads when all exist."""
    if engine.dialect.name != "postgresql":
        return []
    from .calendar import SURAT_EDARAN_DATE, today_wib

    with engine.connect() as conn:
        first = month_start(SURAT_EDARAN_DATE)
        archived = conn.exec_driver_sql("SELECT value FROM meta WHERE key = %(k)s", {"k": ARCHIVED_KEY}).scalar()
        if archived:
            try:
                first = max(first, next_month(date.fromisoformat(f"{archived.strip()}-01")))
            except ValueError:
                log.warning("meta %s=%r is not YYYY-MM: ignored", ARCHIVED_KEY, archived)
        made = ensure_partitions(conn, first, today_wib()) if first <= today_wib() else []
        conn.commit()
    return made


# meta key: the last month (YYYY-MM) whose partition was detached and archived (README, "Melepas bulan
# lama"); ensure_span creates no partition for it or earlier months again
ARCHIVED_KEY = "checkin_archived_through"


_READY = "pantau_checkin_months_ready"  # key in a connection's info: months already ensured


def ensure_for_days(conn: Connection, days: np.ndarray) -> None:
    """`ensure_partitions` for a piece's WIB days (numpy dates), once per month and connection."""
    if conn.dialect.name != "postgresql" or not len(days):
        return
    days = np.asarray(days).astype("datetime64[D]")  # day numbers or dates alike
    lo = pd.Timestamp(days.min()).date()
    hi = pd.Timestamp(days.max()).date()
    key = (month_start(lo), month_start(hi))
    ready = conn.info.setdefault(_READY, set())
    if key not in ready:
        ensure_partitions(conn, lo, hi)
        ready.add(key)
        conn.info[_HAVE] = existing(conn)


_HAVE = "pantau_checkin_partitions"  # key in a connection's info: the partitions it last saw


def forget(conn: Connection) -> None:
    """Drop what a pooled connection remembers of the partitions (at the start of each write):
    a month may have been detached or attached since."""
    conn.info.pop(_HAVE, None)
    conn.info.pop(_READY, None)


def tables_for_days(conn: Connection, days: np.ndarray) -> list[tuple[str, np.ndarray]]:
    """Rows of the WIB days `days` (day numbers) grouped by the table to write them to: their
    month's partition where it exists (a COPY straight into it skips routing each row through
    the parent, about a tenth of the database's time), else the parent, which puts them in the
    default partition. Each group as (table, row mask); the rows of a partition are checked
    against its range by PostgreSQL all the same."""
    month = np.asarray(days).astype("int64").astype("datetime64[D]").astype("datetime64[M]")
    have = conn.info.get(_HAVE)
    if have is None:
        have = conn.info[_HAVE] = existing(conn)
    out: dict[str, np.ndarray] = {}
    for m in np.unique(month):
        name = partition_name(pd.Timestamp(m).date())
        table = name if name in have else PARENT
        mask = month == m
        out[table] = out[table] | mask if table in out else mask
    return list(out.items())


def split_default(conn: Connection) -> list[str]:
    """Give the months found in the default partition partitions of their own (rows moved);
    run outside an import's transaction (`db.after_bulk_write`)."""
    if not is_partitioned(conn) or DEFAULT not in existing(conn):
        return []
    lo, hi = conn.exec_driver_sql(f"SELECT MIN(day), MAX(day) FROM {DEFAULT}").one()
    if lo is None:
        return []
    conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_LOCK_KEY})")
    return create_partitions(conn, months(lo, hi))


def settle(engine) -> list[str]:
    """After an import (outside its transaction): rows it left in the default partition (a month
    outside `ensure_span`'s, whose partition could not be made inside the import) move to their
    own month's partition. A no-op elsewhere and when the default partition is empty."""
    if engine.dialect.name != "postgresql":
        return []
    with engine.begin() as conn:
        return split_default(conn)

