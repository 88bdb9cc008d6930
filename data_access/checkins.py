"""Writing check-ins: pseudonymisation, duplicate-safe inserts, and the rollups kept in step.

Every write goes through `write_checkins`, which inserts the rows and brings the rollups of
the (OPD, day) pairs it touched up to date, in the caller's transaction: a reader never sees raw
rows without their rollup or the other way round.
"""
from __future__ import annotations

import contextlib
import functools
import hmac
import os
import queue
import shutil
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, time, timedelta

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pyarrow import csv as pa_csv
from sqlalchemy import Connection, and_, delete, event, insert, select

from . import config, partitions, scratch
from .calendar import WIB, to_utc_naive
from .models import Checkin, RollupDaily, RollupHourly, RollupOpdDay
from .rollup_spec import ROLLUPS, rollup_frame, rollup_select

CHUNK = 50_000
_ROLLUP_MODELS = {m.__tablename__: m for m in (RollupDaily, RollupOpdDay, RollupHourly)}


def normalise_identifier(raw: str) -> str:
    """One form per person: digits only for NIK/phone (phone 08.. and +628.. alike),
    else lower-cased words."""
    s = str(raw).strip()
    # a plain NIK or phone number (the usual case) is its own digits: no character scan
    digits = s if s.isdigit() else "".join(ch for ch in s if ch.isdigit())
    if digits and len(digits) >= 8 and len(digits) >= len(s.replace(" ", "").replace("-", "").replace("+", "")) - 1:
        if digits.startswith("62"):
            digits = "0" + digits[2:]
        return digits
    return " ".join(s.lower().split())


def pseudonymise(identifier: str, key: bytes | None = None, *, kind: str = "") -> str:
    """Keyed hash (HMAC-SHA256, 128 bits kept) of a NIK, phone number or name. With `kind`
    ("nik", "telepon", ...) the kind is hashed too, so a name never meets a number."""
    key = key if key is not None else config.pseudonym_key()
    text = normalise_identifier(identifier)
    return hmac.digest(key, (f"{kind}:{text}" if kind else text).encode(), "sha256").hex()[:32]


COLUMNS = ("opd_id", "ts", "day", "hour", "visitor_type", "status", "outcome", "visitor_key", "source", "batch_id")
ROW_COLUMNS = COLUMNS[:8]  # per row; source and batch_id are the same for a whole write


TEXT_COLUMNS = ROW_COLUMNS[4:]  # visitor_type, status, outcome, visitor_key


def _encoded(col: pd.Series) -> tuple[np.ndarray, pa.Array]:
    """A text column as integer codes into its distinct values (Arrow's C++ hashing, or the
    codes a categorical column already has)."""
    if isinstance(col.dtype, pd.CategoricalDtype):
        codes = col.cat.codes.to_numpy()
        if (codes < 0).any():
            raise ValueError(f"{col.name}: nilai kosong")
        return codes, pa.array(col.cat.categories.astype(str), type=pa.string())
    arr = pa.array(col, type=pa.string())
    if isinstance(arr, pa.ChunkedArray):  # an Arrow-backed column put together from several
        arr = arr.combine_chunks()
    enc = arr.dictionary_encode()
    if enc.null_count:
        raise ValueError(f"{col.name}: nilai kosong")
    return enc.indices.to_numpy(), enc.dictionary


def frame_to_columns(df: pd.DataFrame) -> tuple[dict[str, np.ndarray], dict[str, pa.Array]]:
    """DataFrame with opd_id, ts (tz-aware, or naive meaning WIB), visitor_type, status,
    outcome, visitor_key -> column arrays for the checkin table (ts in UTC to the second,
    day and hour in WIB), the text columns as codes, and the distinct texts behind the codes."""
    ts = pd.to_datetime(df["ts"])
    if ts.dt.tz is None:
        ts = ts.dt.tz_localize(WIB)
    utc = ts.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy(dtype="datetime64[s]")
    wib = utc + np.timedelta64(7, "h")  # WIB has no daylight saving: always UTC+7
    day = wib.astype("datetime64[D]")
    cols = {"opd_id": df["opd_id"].to_numpy(dtype="int64"), "ts": utc, "day": day,
            "hour": ((wib - day).astype("int64") // 3600)}
    texts = {}
    for k in TEXT_COLUMNS:
        cols[k], texts[k] = _encoded(df[k])
    return cols, texts


def _chunks(cols: dict[str, np.ndarray], texts: dict[str, pa.Array], dialect: str, stages: list[str]):
    """The rows in CHUNK-sized pieces, in the form each driver loads fastest. SQLite: the rows
    are written part by part into the staging files `stages` (see `_stage_sqlite`; the next
    part is staged while the last one is being stored), and each piece is a range of row ids
    in one of them. PostgreSQL: COPY text. MariaDB: tuples."""
    n = len(cols["opd_id"])
    if dialect == "sqlite":
        size = -(-n // len(stages))
        for part, stage in enumerate(stages):
            rows = _stage_sqlite(_arrow_rows({k: v[part * size : (part + 1) * size] for k, v in cols.items()},
                                             texts, fraction=True), stage)
            for start in range(0, rows, CHUNK):
                yield stage, start + 1, min(start + CHUNK, rows)
        return
    table = _arrow_rows(cols, texts, fraction=False)
    for start in range(0, n, CHUNK):
        part = table.slice(start, CHUNK)
        if dialect == "postgresql":  # the values hold no tab, newline or backslash
            buf = pa.BufferOutputStream()
            pa_csv.write_csv(part, buf, pa_csv.WriteOptions(include_header=False, delimiter="\t",
                                                            quoting_style="none"))
            yield buf.getvalue().to_pybytes()
        else:
            yield list(zip(*(c.to_pylist() for c in part.columns)))


def _iso_days(days: np.ndarray) -> pa.Array:
    """Day numbers (since 1970-01-01) as 'YYYY-MM-DD' Arrow text, each distinct day formatted once."""
    lo = int(days.min()) if len(days) else 0
    span = np.arange(lo, int(days.max()) + 1 if len(days) else lo).astype("datetime64[D]")
    return pa.array(np.datetime_as_string(span).tolist(), type=pa.string()).take(pa.array(days - lo))


@functools.cache
def _times_of_day(suffix: str) -> pa.Array:
    """'HH:MM:SS' + suffix for every second of a day, made once."""
    return pa.array([f"{x // 3600:02d}:{x // 60 % 60:02d}:{x % 60:02d}{suffix}" for x in range(86400)])


def _arrow_rows(cols: dict[str, np.ndarray], texts: dict[str, pa.Array], *, fraction: bool) -> pa.Table:
    """The rows as an Arrow table, built column-wise in Arrow's C++: each distinct day and time
    of day is formatted once. With `fraction`, times carry SQLAlchemy's SQLite text form
    ('.000000'), so that ORM reads and range filters agree."""
    secs = cols["ts"].astype("int64")
    days, tod = np.divmod(secs, 86400)
    tod_text = _times_of_day(".000000" if fraction else "").take(pa.array(tod))
    return pa.table({
        "opd_id": cols["opd_id"], "ts": pc.binary_join_element_wise(_iso_days(days), tod_text, " "),
        "day": _iso_days(cols["day"].astype("int64")),
        "hour": cols["hour"], **{k: texts[k].take(pa.array(cols[k])) for k in TEXT_COLUMNS},
    })


def _stage_sqlite(table: pa.Table, path: str) -> int:
    """Write the rows into a new SQLite file through ADBC, whose C driver binds and inserts
    them without Python objects per row and without holding the GIL. Returns the row count."""
    import adbc_driver_sqlite.dbapi as adbc

    with adbc.connect(path, autocommit=True) as load, contextlib.closing(load.cursor()) as cur:
        cur.execute("PRAGMA journal_mode=OFF")  # a scratch file: nothing to recover
        cur.execute("PRAGMA synchronous=OFF")
        cur.adbc_ingest("checkin_load", table, mode="create")
    return table.num_rows


STAGE_ROWS = 125_000  # rows per staging file
MAX_ATTACHED = 9  # SQLite attaches at most 10 databases to a connection
STAGES = "pantau_checkin_stages"  # key in the pooled connection's info: staging file -> attached name


def _new_stages(conn: Connection, rows: int) -> list[str]:
    """Scratch files for one SQLite write, removed (and detached) when `conn` goes back to the
    pool: SQLite cannot detach a database inside the transaction that read it."""
    engine = conn.engine
    if not event.contains(engine, "checkin", _drop_stages):
        event.listen(engine, "checkin", _drop_stages)
    stages = conn.info.setdefault(STAGES, {})
    if not stages:
        scratch.clean_stale()  # what a killed import left behind
    paths = []
    for _ in range(max(1, min(-(-rows // STAGE_ROWS), 8, MAX_ATTACHED - len(stages)))):
        path = str(scratch.new_scratch_dir() / "checkin_load.db")
        stages[path] = None
        paths.append(path)
    return paths


def _drop_stages(dbapi_conn, record) -> None:
    """Pool check-in: detach and delete the staging files of the connection's last transaction."""
    for path, schema in record.info.pop(STAGES, {}).items():
        if schema is not None and dbapi_conn is not None:
            try:
                dbapi_conn.execute(f"DETACH DATABASE {schema}")
            except Exception:  # a connection being discarded: the attachment goes with it
                pass
        shutil.rmtree(os.path.dirname(path), ignore_errors=True)


def _bulk_insert_ignore(conn: Connection, rows, *, source: str, batch_id: int | None) -> int:
    """Insert one chunk from `_chunks` through the driver, skipping existing scans; returns rows
    inserted. The one place where the dialects differ for bulk loads."""
    dialect = conn.dialect.name
    cols = ", ".join(COLUMNS)
    raw = conn.connection.driver_connection
    row_cols = ", ".join(ROW_COLUMNS)
    if dialect == "sqlite":
        # One INSERT..SELECT per piece from the staged file: an INSERT per row into a table
        # with foreign keys and a unique index would cost SQLite a statement transaction each.
        # source and batch_id as literals: the same for every row.
        path, first, last = rows
        stages = conn.info[STAGES]
        if stages[path] is None:
            stages[path] = f"checkin_load_{sum(1 for s in stages.values() if s)}"
            raw.execute(f"ATTACH DATABASE ? AS {stages[path]}", (path,))
        consts = f"{_literal(source)}, {'NULL' if batch_id is None else int(batch_id)}"
        before = raw.total_changes
        raw.execute(f"INSERT OR IGNORE INTO checkin ({cols}) SELECT {row_cols}, {consts} "
                    f"FROM {stages[path]}.checkin_load WHERE rowid BETWEEN ? AND ?", (first, last))
        return raw.total_changes - before
    if dialect == "postgresql":
        cur = raw.cursor()
        cur.execute(
            "CREATE TEMP TABLE IF NOT EXISTS checkin_load (opd_id INT, ts TIMESTAMP, day DATE, hour SMALLINT, "
            "visitor_type VARCHAR(12), status VARCHAR(8), outcome VARCHAR(10), visitor_key VARCHAR(32)) "
            "ON COMMIT DELETE ROWS"
        )
        cur.execute("TRUNCATE checkin_load")
        with cur.copy(f"COPY checkin_load ({row_cols}) FROM STDIN") as copy:
            copy.write(rows)
        cur.execute(
            f"INSERT INTO checkin ({cols}) SELECT {row_cols}, %s, %s FROM checkin_load ON CONFLICT DO NOTHING",
            (source, batch_id),
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
        "outcome VARCHAR(10), visitor_key VARCHAR(32))"
    )
    cur.execute("DELETE FROM checkin_load")
    cur.executemany(f"INSERT INTO checkin_load ({row_cols}) VALUES ({', '.join(['%s'] * 8)})", rows)
    sel = ", ".join(f"t.{c}" for c in ROW_COLUMNS)
    cur.execute(
        f"INSERT INTO checkin ({cols}) SELECT {sel}, %s, %s FROM checkin_load t WHERE NOT EXISTS ("
        "SELECT 1 FROM checkin c WHERE c.opd_id = t.opd_id AND c.ts = t.ts AND c.visitor_key = t.visitor_key)",
        (source, batch_id),
    )
    n = cur.rowcount
    cur.execute("DELETE FROM checkin_load")
    cur.close()
    return n


def _literal(source: str) -> str:
    if not source.isalpha() or not source.isascii():
        raise ValueError(f"source {source!r}")
    return f"'{source}'"


def _in_background(produce, consume) -> None:
    """`produce()` yields items on a second thread while this thread `consume`s them: building
    the next chunk in Python overlaps with the driver storing the last one (SQLite, psycopg and
    PyMySQL release the GIL while they work). An error on either side stops both."""
    items: queue.Queue = queue.Queue(maxsize=2)
    stop = threading.Event()
    done = object()

    def run() -> None:
        try:
            for item in produce():
                while not stop.is_set():
                    try:
                        items.put(item, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            items.put(done)
        except BaseException as exc:  # handed to the consumer, raised there
            items.put(exc)

    worker = threading.Thread(target=run, name="checkin-chunks", daemon=True)
    worker.start()
    try:
        while (item := items.get()) is not done:
            if isinstance(item, BaseException):
                raise item
            consume(item)
    finally:
        stop.set()
        worker.join()


def write_checkins(
    conn: Connection, df: pd.DataFrame, *, source: str, batch_id: int | None = None, progress=None
) -> int:
    """Insert check-ins (duplicates of an existing scan are skipped) and bring the rollups of
    the (OPD, day) pairs they touch up to date. Returns the number of rows inserted.

    Pairs that held no check-in before (new data: the usual import, the demo, the benchmark)
    get their rollups computed from the rows in hand; pairs that did are recomputed from the
    stored check-ins, so that duplicates and overlaps count once."""
    if df.empty:
        return 0
    cols, texts = frame_to_columns(df)
    # index-friendly insert order, in which the same scan twice within one write (counted once)
    # sits side by side
    order = _scan_order(cols["opd_id"], cols["ts"].astype("int64"), cols["visitor_key"])
    cols = {k: v[order] for k, v in cols.items()}
    same = np.zeros(len(order), dtype=bool)
    same[1:] = np.logical_and.reduce([c[1:] == c[:-1] for c in (cols["opd_id"], cols["ts"], cols["visitor_key"])])
    if same.any():
        cols = {k: v[~same] for k, v in cols.items()}
    n = len(cols["opd_id"])
    opd_ids = np.unique(cols["opd_id"]).tolist()
    day_from = pd.Timestamp(cols["day"].min()).date()
    day_to = pd.Timestamp(cols["day"].max()).date()
    partitions.ensure_partitions(conn, day_from, day_to)  # the months' partitions first
    r = RollupOpdDay.__table__
    stored = conn.execute(
        select(r.c.opd_id, r.c.day).where(r.c.opd_id.in_(opd_ids), r.c.day >= day_from, r.c.day <= day_to)
    ).all()
    pair = cols["opd_id"] * 1_000_000 + cols["day"].astype("int64")
    old_pairs = np.array([o * 1_000_000 + (d - date(1970, 1, 1)).days for o, d in stored], dtype="int64")
    old = np.isin(pair, old_pairs)
    new_rows = int((~old).sum())
    dialect = conn.dialect.name
    stages = _new_stages(conn, n) if dialect == "sqlite" else []
    inserted = 0
    done = 0

    def consume(chunk) -> None:
        nonlocal inserted, done
        inserted += _bulk_insert_ignore(conn, chunk, source=source, batch_id=batch_id)
        done = min(done + CHUNK, n)
        if progress is not None:
            progress(done, n)

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="rollups") as pool:
        # the rollups of new pairs are computed from the rows in hand while the rows are stored
        frames = pool.submit(_rollup_frames, {k: v[~old] for k, v in cols.items()}, texts) if new_rows else None
        _in_background(lambda: _chunks(cols, texts, dialect, stages), consume)
        if inserted < new_rows:  # cannot happen unless another writer raced us: recompute all
            refresh_rollups(conn, opd_ids=opd_ids, day_from=day_from, day_to=day_to)
            return inserted
        if frames is not None:
            _insert_rollups(conn, frames.result())
    if old.any():
        old_days = cols["day"][old]
        refresh_rollups(conn, opd_ids=np.unique(cols["opd_id"][old]).tolist(),
                        day_from=pd.Timestamp(old_days.min()).date(), day_to=pd.Timestamp(old_days.max()).date())
    return inserted


def _scan_order(opd: np.ndarray, ts: np.ndarray, vkey: np.ndarray) -> np.ndarray:
    """Row order by (OPD, time, visitor): one int64 sort key when the three fit in it (they
    do for any real file), else a three-key sort."""
    lo = [int(a.min()) for a in (opd, ts, vkey)]
    span = [int(a.max()) - m + 1 for a, m in zip((opd, ts, vkey), lo)]
    if span[0] * span[1] * span[2] < 2**62:
        return np.argsort(((opd - lo[0]) * span[1] + (ts - lo[1])) * span[2] + (vkey - lo[2]), kind="stable")
    return np.lexsort((vkey, ts, opd))


def _rollup_frames(cols: dict[str, np.ndarray], texts: dict[str, pa.Array]) -> list[tuple]:
    """Rollups of (OPD, day) pairs whose every check-in is in `cols`, grouped on integer codes
    (see rollup_spec.rollup_frame)."""
    return [(_ROLLUP_MODELS[r.table], rollup_frame(r, cols, texts)) for r in ROLLUPS]


def _insert_rollups(conn: Connection, frames: list[tuple]) -> None:
    """Straight through the driver: the rollup rows are many and their values plain (days as
    SQLAlchemy's own SQLite text form there, dates elsewhere)."""
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    for model, frame in frames:
        day = pd.to_datetime(frame["day"])
        frame = frame.assign(day=day.dt.strftime("%Y-%m-%d") if conn.dialect.name == "sqlite" else day.dt.date)
        names = list(frame.columns)
        rows = list(zip(*(frame[c].tolist() for c in names)))
        sql = f"INSERT INTO {model.__tablename__} ({', '.join(names)}) VALUES ({', '.join([mark] * len(names))})"
        for i in range(0, len(rows), CHUNK):
            conn.exec_driver_sql(sql, rows[i : i + CHUNK])


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
        if table is Checkin.__table__:  # the same span as UTC times, for the (opd_id, ts, ...) index
            if day_from is not None:
                conds.append(table.c.ts >= to_utc_naive(datetime.combine(day_from, time())))
            if day_to is not None:
                conds.append(table.c.ts < to_utc_naive(datetime.combine(day_to + timedelta(days=1), time())))
        return and_(*conds) if conds else None

    for rollup in ROLLUPS:
        table = _ROLLUP_MODELS[rollup.table].__table__
        cond = where(table)
        conn.execute(delete(table).where(cond) if cond is not None else delete(table))
        sel = rollup_select(rollup, Checkin.__table__)
        src_cond = where(Checkin.__table__)
        if src_cond is not None:
            sel = sel.where(src_cond)
        conn.execute(insert(table).from_select(rollup.columns, sel))
