"""Writing check-ins: pseudonymisation, duplicate-safe inserts, and the rollups kept in step.

Every write goes through `write_checkins`, which inserts the rows and recomputes the rollups
of the (OPD, day) span it touched, in the caller's transaction: a reader never sees raw
rows without their rollup or the other way round.
"""
from __future__ import annotations

import hashlib
import hmac
from datetime import date

import numpy as np
import pandas as pd
from sqlalchemy import Connection, and_, case, delete, func, insert, select

from . import config
from .calendar import WIB
from .models import Checkin, RollupDaily, RollupHourly, RollupOpdDay

CHUNK = 50_000


def normalise_identifier(raw: str) -> str:
    """One form per person: digits only for NIK/phone (phone 08.. and +628.. alike),
    else lower-cased words."""
    s = str(raw).strip()
    digits = "".join(ch for ch in s if ch.isdigit())
    if digits and len(digits) >= 8 and len(digits) >= len(s.replace(" ", "").replace("-", "").replace("+", "")) - 1:
        if digits.startswith("62"):
            digits = "0" + digits[2:]
        return digits
    return " ".join(s.lower().split())


def pseudonymise(identifier: str, key: bytes | None = None) -> str:
    """Keyed hash (HMAC-SHA256, 128 bits kept) of a NIK, phone number or name."""
    key = key if key is not None else config.pseudonym_key()
    return hmac.new(key, normalise_identifier(identifier).encode(), hashlib.sha256).hexdigest()[:32]


COLUMNS = ("opd_id", "ts", "day", "hour", "visitor_type", "status", "outcome", "visitor_key", "source", "batch_id")


def frame_to_columns(df: pd.DataFrame) -> dict[str, np.ndarray]:
    """DataFrame with opd_id, ts (tz-aware, or naive meaning WIB), visitor_type, status,
    outcome, visitor_key -> column arrays for the checkin table: ts in UTC to the second,
    day and hour in WIB."""
    ts = pd.to_datetime(df["ts"])
    if ts.dt.tz is None:
        ts = ts.dt.tz_localize(WIB)
    ts = ts.dt.floor("s")
    wib = ts.dt.tz_convert(WIB).dt.tz_localize(None)
    utc = ts.dt.tz_convert("UTC").dt.tz_localize(None)
    return {
        "opd_id": df["opd_id"].to_numpy(dtype="int64"),
        "ts": utc.to_numpy(dtype="datetime64[s]"),
        "day": wib.to_numpy(dtype="datetime64[D]"),
        "hour": wib.dt.hour.to_numpy(dtype="int64"),
        "visitor_type": df["visitor_type"].astype(str).to_numpy(dtype=object),
        "status": df["status"].astype(str).to_numpy(dtype=object),
        "outcome": df["outcome"].astype(str).to_numpy(dtype=object),
        "visitor_key": df["visitor_key"].astype(str).to_numpy(dtype=object),
    }


def _tuples(cols: dict[str, np.ndarray], source: str, batch_id: int | None, dialect: str):
    """Row tuples in COLUMNS order, with dates as the text each driver stores or casts.
    SQLite gets exactly SQLAlchemy's own text form, so ORM reads and range filters agree."""
    n = len(cols["opd_id"])
    ts = np.char.replace(np.datetime_as_string(cols["ts"], unit="s"), "T", " ")
    if dialect == "sqlite":
        ts = np.char.add(ts, ".000000")
    day = np.datetime_as_string(cols["day"], unit="D")
    return list(
        zip(
            cols["opd_id"].tolist(),
            ts.tolist(),
            day.tolist(),
            cols["hour"].tolist(),
            cols["visitor_type"].tolist(),
            cols["status"].tolist(),
            cols["outcome"].tolist(),
            cols["visitor_key"].tolist(),
            [source] * n,
            [batch_id] * n,
        )
    )


def _bulk_insert_ignore(conn: Connection, rows: list[tuple]) -> int:
    """Insert check-in tuples through the driver, skipping existing scans; returns rows inserted.
    The one place where the dialects differ for bulk loads."""
    dialect = conn.dialect.name
    cols = ", ".join(COLUMNS)
    raw = conn.connection.driver_connection
    if dialect == "sqlite":
        before = raw.total_changes
        cur = raw.cursor()
        cur.executemany(f"INSERT OR IGNORE INTO checkin ({cols}) VALUES ({', '.join('?' * len(COLUMNS))})", rows)
        cur.close()
        return raw.total_changes - before
    if dialect == "postgresql":
        cur = raw.cursor()
        cur.execute(
            "CREATE TEMP TABLE IF NOT EXISTS checkin_load (LIKE checkin INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
        )
        cur.execute("ALTER TABLE checkin_load ALTER COLUMN id DROP NOT NULL")
        cur.execute("TRUNCATE checkin_load")
        with cur.copy(f"COPY checkin_load ({cols}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        cur.execute(
            f"INSERT INTO checkin ({cols}) SELECT {cols} FROM checkin_load ON CONFLICT DO NOTHING"
        )
        n = cur.rowcount
        cur.execute("TRUNCATE checkin_load")
        cur.close()
        return n
    # MariaDB: INSERT IGNORE would also swallow foreign-key errors, so stage the rows and
    # insert only those whose scan is not stored yet.
    cur = raw.cursor()
    cur.execute(
        "CREATE TEMPORARY TABLE IF NOT EXISTS checkin_load ("
        "opd_id INT, ts DATETIME, day DATE, hour SMALLINT, visitor_type VARCHAR(12), status VARCHAR(8), "
        "outcome VARCHAR(10), visitor_key VARCHAR(32), source VARCHAR(8), batch_id INT)"
    )
    cur.execute("DELETE FROM checkin_load")
    placeholders = ", ".join(["%s"] * len(COLUMNS))
    cur.executemany(f"INSERT INTO checkin_load ({cols}) VALUES ({placeholders})", rows)
    sel = ", ".join(f"t.{c}" for c in COLUMNS)
    cur.execute(
        f"INSERT INTO checkin ({cols}) SELECT {sel} FROM checkin_load t WHERE NOT EXISTS ("
        "SELECT 1 FROM checkin c WHERE c.opd_id = t.opd_id AND c.ts = t.ts AND c.visitor_key = t.visitor_key)"
    )
    n = cur.rowcount
    cur.execute("DELETE FROM checkin_load")
    cur.close()
    return n


def write_checkins(
    conn: Connection, df: pd.DataFrame, *, source: str, batch_id: int | None = None, progress=None
) -> int:
    """Insert check-ins (duplicates of an existing scan are skipped) and bring the rollups of
    the span they touch up to date. Returns the number of rows inserted.

    When the database holds no check-in yet for those OPDs and days (new data: the usual
    import, the demo, the benchmark), the rollups are computed from the rows in hand;
    otherwise they are recomputed from the stored check-ins of that span."""
    if df.empty:
        return 0
    cols = frame_to_columns(df)
    keep = ~pd.DataFrame({k: cols[k] for k in ("opd_id", "ts", "visitor_key")}).duplicated().to_numpy()
    if not keep.all():  # the same scan twice within one write counts once
        cols = {k: v[keep] for k, v in cols.items()}
    order = np.lexsort((cols["ts"], cols["opd_id"]))  # index-friendly insert order
    cols = {k: v[order] for k, v in cols.items()}
    opd_ids = sorted(set(cols["opd_id"].tolist()))
    day_from = pd.Timestamp(cols["day"].min()).date()
    day_to = pd.Timestamp(cols["day"].max()).date()
    c = Checkin.__table__
    span_empty = conn.execute(
        select(c.c.id).where(c.c.opd_id.in_(opd_ids), c.c.day >= day_from, c.c.day <= day_to).limit(1)
    ).first() is None
    rows = _tuples(cols, source, batch_id, conn.dialect.name)
    inserted = 0
    for start in range(0, len(rows), CHUNK):
        inserted += _bulk_insert_ignore(conn, rows[start : start + CHUNK])
        if progress is not None:
            progress(min(start + CHUNK, len(rows)), len(rows))
    if span_empty and inserted == len(rows):
        _rollups_from_frame(conn, cols, opd_ids=opd_ids, day_from=day_from, day_to=day_to)
    else:
        refresh_rollups(conn, opd_ids=opd_ids, day_from=day_from, day_to=day_to)
    return inserted


def _rollups_from_frame(conn: Connection, cols: dict[str, np.ndarray], **span) -> None:
    """Rollups of a span whose every check-in is in `cols` (nothing else stored there)."""
    f = pd.DataFrame({k: cols[k] for k in ("opd_id", "day", "hour", "visitor_type", "status", "outcome",
                                           "visitor_key")})
    f["day"] = pd.to_datetime(f["day"]).dt.date
    ref = f["outcome"] == "ditolak"
    asn = f["visitor_type"] == "asn"
    f = f.assign(
        refused=ref.astype("int64"), asn_checkins=asn.astype("int64"), asn_refused=(asn & ref).astype("int64"),
        merah=(ref & (f["status"] == "merah")).astype("int64"), hitam=(ref & (f["status"] == "hitam")).astype("int64"),
        kuning=(ref & (f["status"] == "kuning")).astype("int64"),
        asn_merah=(asn & ref & (f["status"] == "merah")).astype("int64"),
        asn_hitam=(asn & ref & (f["status"] == "hitam")).astype("int64"),
        asn_kuning=(asn & ref & (f["status"] == "kuning")).astype("int64"),
        asn_key=f["visitor_key"].where(asn), visitor_key_p=f["visitor_key"].where(~asn),
    )
    daily = f.groupby(["opd_id", "day", "visitor_type", "status", "outcome"], as_index=False).agg(
        checkins=("visitor_key", "size"), visitors=("visitor_key", "nunique"))
    opd_day = f.groupby(["opd_id", "day"], as_index=False).agg(
        checkins=("visitor_key", "size"), refused=("refused", "sum"), asn_checkins=("asn_checkins", "sum"),
        asn_refused=("asn_refused", "sum"), merah=("merah", "sum"), hitam=("hitam", "sum"), kuning=("kuning", "sum"),
        asn_merah=("asn_merah", "sum"), asn_hitam=("asn_hitam", "sum"), asn_kuning=("asn_kuning", "sum"),
        asn_visitors=("asn_key", "nunique"), visitors=("visitor_key_p", "nunique"))
    hourly = f.groupby(["opd_id", "day", "hour"], as_index=False).agg(
        checkins=("visitor_key", "size"), refused=("refused", "sum"))
    for model, frame in ((RollupDaily, daily), (RollupOpdDay, opd_day), (RollupHourly, hourly)):
        table = model.__table__
        conds = [table.c.opd_id.in_(span["opd_ids"]), table.c.day >= span["day_from"], table.c.day <= span["day_to"]]
        conn.execute(delete(table).where(and_(*conds)))
        records = frame.to_dict("records")
        for i in range(0, len(records), CHUNK):
            conn.execute(insert(table), records[i : i + CHUNK])


def refresh_rollups(
    conn: Connection, *, opd_ids: list[int] | None = None, day_from: date | None = None, day_to: date | None = None
) -> None:
    """Recompute the rollups from raw check-ins for the given OPDs and day span (all when None)."""

    def where(table):
        conds = []
        if opd_ids is not None:
            conds.append(table.c.opd_id.in_(opd_ids))
        if day_from is not None:
            conds.append(table.c.day >= day_from)
        if day_to is not None:
            conds.append(table.c.day <= day_to)
        return and_(*conds) if conds else None

    c = Checkin.__table__
    ref = c.c.outcome == "ditolak"
    asn = c.c.visitor_type == "asn"

    def when(cond, value=1):
        return case((cond, value), else_=0)

    specs = [
        (
            RollupDaily.__table__,
            [c.c.opd_id, c.c.day, c.c.visitor_type, c.c.status, c.c.outcome],
            [func.count(), func.count(func.distinct(c.c.visitor_key))],
            ["opd_id", "day", "visitor_type", "status", "outcome", "checkins", "visitors"],
        ),
        (
            RollupOpdDay.__table__,
            [c.c.opd_id, c.c.day],
            [func.count(), func.sum(when(ref)), func.sum(when(asn)), func.sum(when(and_(asn, ref))),
             func.sum(when(and_(ref, c.c.status == "merah"))), func.sum(when(and_(ref, c.c.status == "hitam"))),
             func.sum(when(and_(ref, c.c.status == "kuning"))),
             func.sum(when(and_(asn, ref, c.c.status == "merah"))), func.sum(when(and_(asn, ref, c.c.status == "hitam"))),
             func.sum(when(and_(asn, ref, c.c.status == "kuning"))),
             func.count(func.distinct(case((asn, c.c.visitor_key)))),
             func.count(func.distinct(case((~asn, c.c.visitor_key))))],
            ["opd_id", "day", "checkins", "refused", "asn_checkins", "asn_refused", "merah", "hitam", "kuning",
             "asn_merah", "asn_hitam", "asn_kuning", "asn_visitors", "visitors"],
        ),
        (
            RollupHourly.__table__,
            [c.c.opd_id, c.c.day, c.c.hour],
            [func.count(), func.sum(when(ref))],
            ["opd_id", "day", "hour", "checkins", "refused"],
        ),
    ]
    for table, keys, aggs, cols in specs:
        cond = where(table)
        conn.execute(delete(table).where(cond) if cond is not None else delete(table))
        sel = select(*keys, *aggs)
        src_cond = where(c)
        if src_cond is not None:
            sel = sel.where(src_cond)
        sel = sel.group_by(*keys)
        conn.execute(insert(table).from_select(cols, sel))
