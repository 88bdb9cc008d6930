"""Writing check-ins: pseudonymisation, duplicate-safe inserts, and the rollups kept in step.

Every write goes through a `CheckinWriter` (`write_checkins` for a frame in hand, the importer
for a file read in pieces), which inserts the rows and brings the rollups of the (OPD, day)
pairs it touched up to date, in the caller's transaction: a reader never sees raw rows without
their rollup or the other way round.
"""
from __future__ import annotations

import collections
import contextlib
import functools
import hashlib
import logging
import os
import queue
import re
import shutil
import tempfile
import threading
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import Connection, and_, delete, event, insert, select
from sqlalchemy.exc import DBAPIError

from . import config, partitions, scratch
from .calendar import WIB, month_end, to_utc_naive
from .models import (
    OUTCOMES,
    STATUSES,
    VISITOR_TYPES,
    Checkin,
    Opd,
    RollupDaily,
    RollupHourly,
    RollupOpdDay,
    RollupOpdMonth,
    RollupRegionDay,
    RollupRegionHourly,
)
from .rollup_spec import OPD_MONTH, REGION_ROLLUPS, ROLLUPS, month_select, region_select, rollup_frame, rollup_select

log = logging.getLogger(__name__)

CHUNK = 50_000
LOAD_MONTH_ROWS = 5_000  # PostgreSQL: rows of an empty month in a write's first unit of it for a load table
SWAP_LOCK_WAIT = 0.5  # seconds a write waits to detach a month's empty partition (CheckinWriter._place_loads)
_ROLLUP_MODELS = {m.__tablename__: m for m in (RollupDaily, RollupOpdDay, RollupHourly)}
_REGION_MODELS = {m.__tablename__: m for m in (RollupRegionDay, RollupRegionHourly)}


def normalise_identifier(raw: str) -> str:
    """One form per person: digits only for NIK/phone (phone 08.. and +628.. alike),
    else lower-cased words."""
    s = str(raw).strip()
    if s.isdigit():  # a plain NIK or phone number (the usual case) is its own digits
        return ("0" + s[2:] if s.startswith("62") else s) if len(s) >= 8 else s
    digits = "".join(ch for ch in s if ch.isdigit())
    if digits and len(digits) >= 8 and len(digits) >= len(s.replace(" ", "").replace("-", "").replace("+", "")) - 1:
        if digits.startswith("62"):
            digits = "0" + digits[2:]
        return digits
    return " ".join(s.lower().split())


def pseudonymise(identifier: str, key: bytes | None = None, *, kind: str = "") -> str:
    """Keyed hash (HMAC-SHA256, 128 bits kept) of a NIK, phone number or name. With `kind`
    ("nik", "telepon", ...) the kind is hashed too, so a name never meets a number."""
    return pseudonymise_many([identifier], key, kind=kind)[0]


def pseudonymise_many(identifiers, key: bytes | None = None, *, kind: str = "") -> list[str]:
    """`pseudonymise` of each identifier. HMAC (RFC 2104) from the key's inner and outer SHA-256
    states, made once: a third of the time of `hmac.digest` per value (an import hashes every
    identifier it has not seen, 50.000 in the bench's file)."""
    inner, outer = _hmac_states(key if key is not None else config.pseudonym_key())
    prefix = f"{kind}:" if kind else ""
    out = []
    for identifier in identifiers:
        h = inner.copy()
        h.update((prefix + normalise_identifier(identifier)).encode())
        o = outer.copy()
        o.update(h.digest())
        out.append(o.hexdigest()[:32])
    return out


@functools.lru_cache(maxsize=4)
def _hmac_states(key: bytes):
    """SHA-256 after the key XOR ipad and after the key XOR opad (HMAC's two passes)."""
    if len(key) > 64:  # SHA-256's block: a longer key is hashed first
        key = hashlib.sha256(key).digest()
    key = key.ljust(64, b"\0")
    return hashlib.sha256(bytes(b ^ 0x36 for b in key)), hashlib.sha256(bytes(b ^ 0x5C for b in key))


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
    if isinstance(col.dtype, pd.ArrowDtype) and pa.types.is_dictionary(col.dtype.pyarrow_dtype):
        coded = _arrow_dictionary(col)  # the importer's visitor keys: codes already
        if coded is not None:
            return coded
    arr = pa.array(col, type=pa.string())
    if isinstance(arr, pa.ChunkedArray):  # an Arrow-backed column put together from several
        arr = arr.combine_chunks()
    enc = arr.dictionary_encode()
    if enc.null_count:
        raise ValueError(f"{col.name}: nilai kosong")
    return enc.indices.to_numpy(), enc.dictionary


def _arrow_dictionary(col: pd.Series) -> tuple[np.ndarray, pa.Array] | None:
    """An Arrow dictionary column's codes and values, when the values are distinct texts (None:
    decode it as any other text column)."""
    arr = pa.array(col)
    if isinstance(arr, pa.ChunkedArray):
        if arr.num_chunks != 1:
            return None
        arr = arr.chunk(0)
    values = arr.dictionary
    if not pa.types.is_string(values.type) or pc.count_distinct(values).as_py() != len(values):
        return None
    if arr.null_count:
        raise ValueError(f"{col.name}: nilai kosong")
    return arr.indices.to_numpy(zero_copy_only=False).astype("int64"), values


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



# ---------------------------------------------------------------- writing in pieces
# A write is a `CheckinWriter`: rows come in pieces (a whole frame for `write_checkins`, a piece
# of a file for the importer), each piece sorted into the scan index's order with its repeated
# scans dropped, and stored in CHUNK-sized units in the caller's transaction. What the rollups
# need of each row is kept in a compact form (17 bytes a row, spilled to a scratch file past
# ACC_SPILL_ROWS), and `finish()` writes the rollups once for the whole write.

VOCABULARY = {"visitor_type": VISITOR_TYPES, "status": STATUSES, "outcome": OUTCOMES}
_FLAG_SHIFT = {"visitor_type": 3, "status": 1, "outcome": 0}  # codes packed in one byte: tttsso
# the compact row the rollups need: OPD, WIB day (days since 1970), WIB second of the day,
# the visitor's number within this write, and the packed type/status/outcome codes
ACC_ROW = np.dtype([("opd", "<i4"), ("day", "<i4"), ("sec", "<i4"), ("vid", "<i4"), ("flags", "u1")])
ACC_SPILL_ROWS = 1_000_000  # compact rows kept in memory (17 MB) before they go to a scratch file
FINISH_ROWS = 250_000  # rows of new (OPD, day) pairs grouped at once when the rollups are made
SQLITE_WRITE_CACHE_KB = 16 * 1024  # SQLite's page cache while a writer stores (the app's connections: 64 MB)
SEEN_BITS = 27  # PostgreSQL: a 16 MB bitmap of the (OPD, second) pairs already written by this write


def _global_codes(codes: np.ndarray, values: pa.Array, column: str) -> np.ndarray:
    """A piece's codes into its own distinct values -> codes into the column's vocabulary."""
    vocab = VOCABULARY[column]
    lut = []
    for v in values.to_pylist():
        if v not in vocab:
            raise ValueError(f"{column}: nilai tidak dikenal {v!r}")
        lut.append(vocab.index(v))
    return np.asarray(lut, dtype="uint8")[codes] if lut else np.zeros(len(codes), dtype="uint8")


@dataclass
class _Piece:
    """One piece, sorted and without repeated scans: `cols` as `frame_to_columns` gives them (the
    three vocabulary columns as codes into VOCABULARY), `texts` the values behind the codes."""

    cols: dict[str, np.ndarray]
    texts: dict[str, pa.Array]
    shared: dict = field(default_factory=dict)  # what the slices of a piece compute once

    @property
    def rows(self) -> int:
        return len(self.cols["opd_id"])

    def slice(self, start: int, stop: int) -> _Piece:
        return _Piece({k: v[start:stop] for k, v in self.cols.items()}, self.texts, self.shared)

    def key_bytes(self) -> tuple[np.ndarray, np.ndarray]:
        """The visitor keys as UTF-8 bytes (fixed-width numpy bytes) and their lengths."""
        if "keys" not in self.shared:
            keys = self.texts["visitor_key"]
            lengths = pc.binary_length(keys.cast(pa.binary())).to_numpy(zero_copy_only=False).astype("int64")
            if len(keys) and lengths.min() == lengths.max() and keys.offset == 0:  # ours: 32 hex digits each
                data = keys.buffers()[2]
                start = int(np.frombuffer(keys.buffers()[1], dtype="int32")[0])
                fixed = np.frombuffer(data, dtype=f"S{lengths[0]}", count=len(keys), offset=start)
            else:
                fixed = np.array([k.encode() for k in keys.to_pylist()], dtype=f"S{max(int(lengths.max(initial=0)), 1)}")
            self.shared["keys"] = (fixed, lengths)
        return self.shared["keys"]


def _piece(df: pd.DataFrame) -> _Piece:
    cols, texts = frame_to_columns(df)
    for k, vocab in VOCABULARY.items():
        cols[k] = _global_codes(cols[k], texts[k], k)
        texts[k] = pa.array(vocab, type=pa.string())
    order = _scan_order(cols["opd_id"], cols["ts"].astype("int64"), cols["visitor_key"])
    cols = {k: v[order] for k, v in cols.items()}
    same = np.zeros(len(order), dtype=bool)
    same[1:] = np.logical_and.reduce([c[1:] == c[:-1] for c in (cols["opd_id"], cols["ts"], cols["visitor_key"])])
    if same.any():
        cols = {k: v[~same] for k, v in cols.items()}
    return _Piece(cols, texts)


class _VisitorNumbers:
    """Visitor keys -> numbers 0, 1, 2, ... that stay the same across the pieces of a write, kept
    as sorted 64-bit halves of the 128-bit keys (20 bytes a visitor, no Python object each)."""

    def __init__(self) -> None:
        self.hi = np.empty(0, dtype="uint64")
        self.lo = np.empty(0, dtype="uint64")
        self.num = np.empty(0, dtype="int64")
        self.exact: dict[bytes, int] | None = None  # after a clash of the first halves (never seen in practice)

    def __len__(self) -> int:
        return len(self.num) if self.exact is None else len(self.exact)

    def numbers(self, keys: pa.Array) -> np.ndarray:
        hi, lo = _key_halves(keys)
        if self.exact is None:
            if len(self.hi):
                at = np.minimum(np.searchsorted(self.hi, hi), len(self.hi) - 1)
                found = self.hi[at] == hi
                clash = bool((found & (self.lo[at] != lo)).any())
            else:
                at, found, clash = np.zeros(len(hi), dtype="int64"), np.zeros(len(hi), dtype=bool), False
            new_hi = hi[~found]
            clash = clash or len(np.unique(new_hi)) != len(new_hi)
            if not clash:
                out = np.empty(len(hi), dtype="int64")
                out[found] = self.num[at[found]]
                out[~found] = np.arange(len(self.num), len(self.num) + len(new_hi))
                hi_all = np.concatenate([self.hi, new_hi])
                order = np.argsort(hi_all, kind="stable")
                self.hi = hi_all[order]
                self.lo = np.concatenate([self.lo, lo[~found]])[order]
                self.num = np.concatenate([self.num, out[~found]])[order]
                return out.astype("int32")
            self.exact = {_key_bytes(h, l): int(n) for h, l, n in zip(self.hi, self.lo, self.num)}
            self.hi = self.lo = self.num = np.empty(0, dtype="uint64")
        out = np.empty(len(hi), dtype="int32")
        for i, (h, l) in enumerate(zip(hi, lo)):
            out[i] = self.exact.setdefault(_key_bytes(h, l), len(self.exact))
        return out


def _key_bytes(hi, lo) -> bytes:
    return int(hi).to_bytes(8, "big") + int(lo).to_bytes(8, "big")


def _key_halves(keys: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """128 bits of each key: the key itself for ours (32 lower-case hex digits), else its
    BLAKE2b hash; decided key by key, so that a key has the same halves in every piece."""
    raw = _hex_keys(keys)
    if raw is None:
        raw = np.frombuffer(b"".join(_key_digest(k) for k in keys.to_pylist()), dtype=">u8").reshape(-1, 2)
    return raw[:, 0].astype("uint64"), raw[:, 1].astype("uint64")


_OUR_KEY = re.compile(r"[0-9a-f]{32}")  # what `pseudonymise` gives


def _key_digest(key: str) -> bytes:
    return bytes.fromhex(key) if _OUR_KEY.fullmatch(key) else hashlib.blake2b(key.encode(), digest_size=16).digest()


def _hex_keys(keys: pa.Array) -> np.ndarray | None:
    """Keys that are all ours (32 lower-case hex digits) as their 16 bytes, two big-endian 64-bit
    halves a row, decoded straight from Arrow's buffer (no Python string per key); None when
    any key is not such (`_key_digest` then takes them one by one)."""
    if not len(keys) or keys.null_count or not (pa.types.is_string(keys.type) or pa.types.is_large_string(keys.type)):
        return None
    width = 8 if pa.types.is_large_string(keys.type) else 4
    offsets = np.frombuffer(keys.buffers()[1], dtype=f"int{width * 8}", count=len(keys) + 1, offset=keys.offset * width)
    if not (np.diff(offsets) == 32).all():
        return None
    start = int(offsets[0])
    text = memoryview(keys.buffers()[2])[start:start + 32 * len(keys)].tobytes()
    if len(text.translate(None, b"ABCDEF")) != len(text):  # upper case: not ours
        return None
    try:
        raw = bytes.fromhex(text.decode("ascii"))
    except (UnicodeDecodeError, ValueError):
        return None
    return np.frombuffer(raw, dtype=">u8").reshape(-1, 2) if len(raw) == 16 * len(keys) else None


class _Compact:
    """The compact rows of a write (ACC_ROW), in memory and, past ACC_SPILL_ROWS, in an unnamed
    scratch file (removed by the system when closed, also when the process dies)."""

    def __init__(self) -> None:
        self.held: list[np.ndarray] = []
        self.held_rows = 0
        self.spill = None
        self.spilled = 0
        self.pairs: dict[int, int] = {}  # (OPD << 32 | day) -> rows

    def add(self, rows: np.ndarray) -> None:
        keys, counts = np.unique(_pair_keys(rows), return_counts=True)
        for k, c in zip(keys.tolist(), counts.tolist()):
            self.pairs[k] = self.pairs.get(k, 0) + c
        self.held.append(rows)
        self.held_rows += len(rows)
        if self.held_rows > ACC_SPILL_ROWS:
            if self.spill is None:
                self.spill = tempfile.TemporaryFile(dir=scratch.scratch_root())  # noqa: SIM115 (closed by close())
            for block in self.held:
                block.tofile(self.spill)
                self.spilled += len(block)
            self.held, self.held_rows = [], 0

    def blocks(self, size: int = 1_000_000):
        if self.spill is not None:
            self.spill.seek(0)
            left = self.spilled
            while left:
                block = np.fromfile(self.spill, dtype=ACC_ROW, count=min(size, left))
                left -= len(block)
                yield block
        yield from self.held

    def close(self) -> None:
        if self.spill is not None:
            self.spill.close()
            self.spill = None


def _pair_keys(rows: np.ndarray) -> np.ndarray:
    return (rows["opd"].astype("int64") << 32) | rows["day"].astype("int64")


def _member(values: np.ndarray, sorted_keys: np.ndarray) -> np.ndarray:
    """values in sorted_keys (np.isin without its temporary copies)."""
    pos = np.minimum(np.searchsorted(sorted_keys, values), len(sorted_keys) - 1)
    return sorted_keys[pos] == values


@dataclass
class _Range:
    """SQLite: rows `first`..`last` (row ids) of a staging file, and the OPDs of its rows."""

    path: str
    first: int
    last: int
    opd_ids: frozenset = frozenset()

    def __iter__(self):
        return iter((self.path, self.first, self.last))


FK_BY_WRITER = "pantau_fk_by_writer"  # key in a SQLite connection's info: foreign keys off, the writer checks


@contextlib.contextmanager
def writing_connection(engine):
    """A connection for one large write (a file's import). On SQLite its foreign keys are
    checked by the CheckinWriter, once per piece by a query on the OPDs the piece names, instead
    of by SQLite per row: a statement that can fail on a foreign key midway keeps a journal of
    every page it changes that the transaction changed before, which for a file read in pieces
    grows to a large part of the file (190 MB for 4 million rows). They are on again before the
    connection goes back to the pool."""
    with engine.connect() as conn:
        sqlite = conn.dialect.name == "sqlite"
        if sqlite:
            conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
            conn.commit()
            conn.info[FK_BY_WRITER] = True
        try:
            yield conn
        finally:
            if sqlite:
                conn.info.pop(FK_BY_WRITER, None)
                try:
                    if conn.in_transaction():
                        conn.rollback()
                    conn.exec_driver_sql("PRAGMA foreign_keys=ON")
                    conn.commit()
                except DBAPIError:
                    conn.invalidate()  # never back to the pool without its foreign keys


@dataclass
class _PgRows:
    """PostgreSQL: a unit of rows; `maybe_seen` marks rows whose (OPD, second) an earlier piece
    of this write had: only those, and rows of (OPD, day) pairs stored before, can be repeats."""

    piece: _Piece
    maybe_seen: np.ndarray
    records: _PgRecords  # the rows in COPY's binary format, built on the preparing thread
    maybe_stored: np.ndarray | None = None  # set by the writer, on the connection's thread
    tables: list[tuple[str, np.ndarray]] = field(default_factory=list)  # ditto: partitions.tables_for_days
    load: dict[str, str] = field(default_factory=dict)  # month partition -> its unindexed load table
    held: np.ndarray | None = None  # set by the store: rows held until their load table has its key


_PLACE_LOADS = object()  # the unit after a PostgreSQL write's last rows: CheckinWriter._place_loads
_LOAD_LOCK_KEY = 720_012  # advisory lock (with the month, YYYYMM): one write at a time loads a month


class _MonthWritten(Exception):
    """Another writer stored rows in a month while this write loaded it."""


@dataclass
class _LoadMonth:
    """PostgreSQL: an empty month whose rows of this write go to an unindexed table of their own,
    which takes the partition's place after the write's last unit (`CheckinWriter._begin_load`)."""

    partition: str
    table: str
    lo: datetime
    hi: datetime


class CheckinWriter:
    """Check-ins written in pieces within the caller's transaction; `finish()` brings the rollups
    up to date. `prepare` may run on another thread (it never touches the connection); `store`
    and `finish` run on the connection's thread, in the order `prepare` gave the units.

    Pairs (OPD, day) that held no check-in before the write (new data: the usual import, the
    demo, the benchmark) get their rollups computed from the compact rows in hand; pairs that
    did are recomputed from the stored check-ins, so that repeats and overlaps count once."""

    def __init__(self, conn: Connection, *, source: str, batch_id: int | None = None, progress=None,
                 total: int | None = None, rollups: bool = True) -> None:
        _literal(source)
        self.conn, self.source, self.batch_id = conn, source, batch_id
        self.dialect = conn.dialect.name
        self.progress, self.total = progress, total
        self.inserted = 0
        self.offered = 0  # rows handed to the database (repeats within a piece dropped)
        self.rollups = rollups  # False: a check only (the importer's dry run), no rollups made
        self._frames = None  # the rollups, made by `flush` on the preparing thread
        self.done = 0
        self.compact = _Compact()
        self.visitors = _VisitorNumbers()
        self._parts: list[str] = []  # SQLite staging files filled so far
        self._part_opds: set[int] = set()  # SQLite: the OPDs of the staging file being filled
        self._part: tuple[str, int] | None = None  # SQLite: the staging file being filled and its rows
        self._budget = 0
        self._seen = np.zeros(1 << (SEEN_BITS - 3), dtype="uint8") if self.dialect == "postgresql" else None
        self._pairs_known: dict[int, bool] = {}  # PostgreSQL: (OPD, day) -> held check-ins before
        self._opds_locked: set[int] = set()
        self._months: dict[str, _LoadMonth | None] = {}  # PostgreSQL: partition -> its load table, if any
        self._held = False  # PostgreSQL: rows wait in checkin_held for a load table's key
        self._may_swap: bool | None = None  # PostgreSQL: the role may detach and attach partitions (asked once)
        self._bypass: bool | None = None  # PostgreSQL: may skip the per-row foreign-key triggers
        self._fk_by_writer = bool(conn.info.get(FK_BY_WRITER))
        if self._fk_by_writer and batch_id is not None and conn.exec_driver_sql(
                "SELECT id FROM import_batch WHERE id = ?", (int(batch_id),)).first() is None:
            raise ValueError(f"import_batch {batch_id} tidak ada")
        self._stager = None
        self._staging: collections.deque[Future] = collections.deque()  # SQLite: staging jobs submitted
        if self.dialect == "sqlite":
            self._stager = ThreadPoolExecutor(max_workers=1, thread_name_prefix="checkin-stage")
            engine = conn.engine
            if not event.contains(engine, "checkin", _drop_stages):
                event.listen(engine, "checkin", _drop_stages)
            stages = conn.info.setdefault(STAGES, {})
            if not stages:
                scratch.clean_stale()  # what a killed import left behind
            self._budget = max(1, min(8, MAX_ATTACHED - len(stages)))
            # a large write spills its dirty pages to the log whatever the cache: a smaller one
            # keeps the import's memory down, and is given back in close()
            self._cache = conn.exec_driver_sql("PRAGMA main.cache_size").scalar()
            if self._cache < 0 and -self._cache > SQLITE_WRITE_CACHE_KB:
                conn.exec_driver_sql(f"PRAGMA main.cache_size = -{SQLITE_WRITE_CACHE_KB}")
            else:
                self._cache = None
        if self.dialect == "postgresql":
            self._pg_setup()
        elif self.dialect != "sqlite":
            # MariaDB: two writes of the same days at once deadlock on InnoDB's gap locks (or fail to
            # read the auto-increment value): its writes take turns from the start (take_turns)
            take_turns(conn)

    @property
    def queue_depth(self) -> int:
        """Units `prepare` may run ahead of `store`. SQLite's are staging jobs (the rows wait on
        disk, and `prepare` keeps at most STAGE_BACKLOG pieces in memory), so the reader goes
        on while a whole staging file is stored; other databases' units hold their rows."""
        return 64 if self.dialect == "sqlite" else 2

    # -------------------------------------------------------- preparing (any thread)
    def prepare(self, df: pd.DataFrame):
        """Yield the storage units of a piece (SQLite: ranges of a staging file, as each file is
        complete; PostgreSQL: rows; MariaDB: tuples)."""
        if df.empty:
            return
        piece = _piece(df)
        self.offered += piece.rows
        self._keep_compact(piece)
        if self.dialect == "sqlite":  # staged on the writer's own thread (ADBC works without the GIL)
            while self._staging and self._staging[0].done():
                self._staging.popleft()
            if len(self._staging) >= STAGE_BACKLOG:  # the pieces wait in memory: no further ahead
                wait([self._staging.popleft()])
            job = self._stager.submit(self._stage_job, _arrow_rows(piece.cols, piece.texts, fraction=True),
                                      np.unique(piece.cols["opd_id"]).tolist())
            self._staging.append(job)
            yield job
        elif self.dialect == "postgresql":
            seen = self._mark_seen(piece.cols["opd_id"], piece.cols["ts"])
            for start in range(0, piece.rows, CHUNK):
                part = piece.slice(start, start + CHUNK)
                yield _PgRows(part, seen[start:start + CHUNK],
                              _PgRecords(part, source=self.source, batch_id=self.batch_id))
        else:
            table = _arrow_rows(piece.cols, piece.texts, fraction=False)
            for start in range(0, piece.rows, CHUNK):
                part = table.slice(start, CHUNK)
                yield list(zip(*(c.to_pylist() for c in part.columns)))

    def flush(self):
        """Yield the units still held back (SQLite: the staging file being filled); then, on this
        thread, make the rollups from the compact rows while the connection's thread stores the
        last units."""
        if self.dialect == "sqlite":
            yield self._stager.submit(self._flush_job)
        elif self.dialect == "postgresql":
            yield _PLACE_LOADS  # every row is stored: the load tables take their places while this thread goes on
        if self.rollups and self.compact.pairs:
            self._frames = self._compute_frames()

    def _stage_job(self, table: pa.Table, opd_ids: list[int]) -> list[_Range]:
        self._part_opds.update(opd_ids)
        return list(self._stage(table))

    def _flush_job(self) -> list[_Range]:
        return list(self._release()) if self._part is not None else []

    def _keep_compact(self, piece: _Piece) -> None:
        c = piece.cols
        rows = np.empty(piece.rows, dtype=ACC_ROW)
        rows["opd"] = c["opd_id"]
        rows["day"] = c["day"].astype("int64")
        wib = c["ts"].astype("int64") + 7 * 3600
        rows["sec"] = wib - c["day"].astype("int64") * 86400
        rows["vid"] = self.visitors.numbers(piece.texts["visitor_key"])[c["visitor_key"]]
        rows["flags"] = sum(c[k].astype("uint8") << s for k, s in _FLAG_SHIFT.items())
        self.compact.add(rows)

    def _stage(self, table: pa.Table):
        """SQLite: append the rows to the staging file being filled; a file is complete (and its
        ranges handed out) at STAGE_ROWS, 1,5 x STAGE_ROWS, 2,25 x ... rows, the last one
        unbounded: a file read in this transaction cannot be written again (its read lock stays)."""
        while table.num_rows:
            if self._part is None:
                self._part = (str(scratch.new_scratch_dir() / "checkin_load.db"), 0)
                self._parts.append(self._part[0])
            path, rows = self._part
            last = len(self._parts) >= self._budget
            capacity = int(STAGE_ROWS * 1.5 ** (len(self._parts) - 1))
            room = table.num_rows if last else capacity - rows
            take = table.slice(0, room)
            table = table.slice(room)
            _stage_sqlite(take, path, append=rows > 0)
            self._part = (path, rows + take.num_rows)
            if not last and self._part[1] >= capacity:
                yield from self._release()

    def _release(self):
        path, rows = self._part
        self._part = None
        opds, self._part_opds = frozenset(self._part_opds), set()
        for start in range(0, rows, CHUNK):
            yield _Range(path, start + 1, min(start + CHUNK, rows), opds)

    def _mark_seen(self, opd: np.ndarray, ts: np.ndarray) -> np.ndarray:
        """PostgreSQL: rows whose (OPD, second) an earlier piece had (or shares a bit with one)."""
        h = opd.astype("uint64") * np.uint64(0x9E3779B97F4A7C15) + ts.astype("int64").astype("uint64")
        h ^= h >> np.uint64(31)
        h *= np.uint64(0xBF58476D1CE4E5B9)
        h ^= h >> np.uint64(29)
        bit = (h >> np.uint64(64 - SEEN_BITS)).astype("int64")
        byte, mask = bit >> 3, (np.uint8(1) << (bit & 7).astype("uint8"))
        seen = (self._seen[byte] & mask) != 0
        np.bitwise_or.at(self._seen, byte, mask)
        return seen

    # -------------------------------------------------------- storing (the connection's thread)
    def store(self, unit) -> None:
        if unit is _PLACE_LOADS:
            self._place_loads()
            return
        if isinstance(unit, Future):  # SQLite: the ranges of staging files the job completed
            for r in unit.result():
                self.store(r)
            return
        if self.dialect == "sqlite":
            stages = self.conn.info[STAGES]
            stages.setdefault(unit.path, None)
            if self._fk_by_writer:
                self._lock_opds(unit.opd_ids)
            rows = unit.last - unit.first + 1
        elif self.dialect == "postgresql":
            partitions.ensure_for_days(self.conn, unit.piece.cols["day"])  # the months' partitions first
            unit.maybe_stored = self._stored_before(unit.piece)
            self._lock_opds(np.unique(unit.piece.cols["opd_id"]).tolist())
            unit.tables = partitions.tables_for_days(self.conn, unit.piece.cols["day"])
            unit.load = self._load_tables(unit.tables)
            rows = unit.piece.rows
        else:
            rows = len(unit)
        self.inserted += _bulk_insert_ignore(self.conn, unit, source=self.source, batch_id=self.batch_id,
                                             checked=bool(self._bypass))
        if self.dialect == "postgresql" and unit.held.any():
            self._held = True
        self.done += rows
        if self.progress is not None:
            self.progress(self.done, max(self.total or 0, self.done))

    def _pg_setup(self) -> None:
        """PostgreSQL checks a foreign key with a query per inserted row (two keys: two thirds of
        an import's time). Where the role may (a superuser, or `GRANT SET ON PARAMETER
        session_replication_role`), the writer checks them itself, once per piece by a join, and
        stores the rows with those triggers off (statement by statement: `_pg_bypass`)."""
        conn = self.conn
        partitions.forget(conn)  # months attached or detached since this pooled connection's last write
        try:
            with conn.begin_nested():
                conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
                conn.exec_driver_sql("SET LOCAL session_replication_role = origin")
            self._bypass = True
        except DBAPIError:
            self._bypass = False
        if self.batch_id is not None:
            found = conn.exec_driver_sql("SELECT id FROM import_batch WHERE id = %(b)s FOR KEY SHARE",
                                         {"b": int(self.batch_id)}).first()
            if found is None:
                raise ValueError(f"import_batch {self.batch_id} tidak ada")

    def _load_tables(self, tables: list[tuple[str, np.ndarray]]) -> dict[str, str]:
        """PostgreSQL: the load tables of the months of a unit's rows (`tables`, as
        `partitions.tables_for_days` gives them; `_begin_load`), deciding each month at its first unit."""
        out = {}
        for table, rows_of in tables:
            if table not in self._months:
                self._months[table] = self._begin_load(table, int(rows_of.sum()))
            if self._months[table] is not None:
                out[table] = self._months[table].table
        return out

    def _begin_load(self, partition: str, rows: int) -> _LoadMonth | None:
        """PostgreSQL: a COPY into an indexed partition costs the server three times what it costs
        into a plain table and a key built afterwards. So when a month's partition is empty and
        this write's first unit has at least LOAD_MONTH_ROWS of its rows, they go to a plain table
        (`checkin_load_pYYYYMM`, checked against the month's range as it is filled), which takes
        the partition's place after the last unit (`_place_loads`). One write at a time loads a
        month (an advisory lock until this transaction ends); other writers are not held up: they
        write into the partition as ever, and `_place_loads` then copies the loaded rows in instead."""
        month = partitions.month_of(partition)
        if not self.rollups or rows < LOAD_MONTH_ROWS or month is None:  # a check only (dry run) never does
            return None
        conn = self.conn
        if self._may_swap is None:  # the role must own the table to detach and attach its partitions
            self._may_swap = bool(conn.exec_driver_sql(
                "SELECT pg_has_role(current_user, relowner, 'USAGE') FROM pg_class WHERE oid = 'checkin'::regclass "
                "AND relkind = 'p'").scalar())
        if not self._may_swap:
            return None
        if not conn.exec_driver_sql(
                f"SELECT pg_try_advisory_xact_lock({_LOAD_LOCK_KEY}, {month.year * 100 + month.month})").scalar():
            return None  # another write loads this month
        if conn.exec_driver_sql(f"SELECT 1 FROM {partition} LIMIT 1").first() is not None:
            return None
        lo, hi = partitions.month_bounds(month)
        table = f"checkin_load_{partition.removeprefix('checkin_')}"
        try:
            with conn.begin_nested():
                conn.exec_driver_sql(
                    f"CREATE TABLE {table} (LIKE {partitions.PARENT} INCLUDING DEFAULTS, CONSTRAINT {table}_range "
                    f"CHECK (ts >= {partitions.ts_literal(lo)} AND ts < {partitions.ts_literal(hi)}))")
        except DBAPIError:
            return None
        return _LoadMonth(partition, table, lo, hi)

    def _place_loads(self) -> None:
        """PostgreSQL, after the last rows: each load table gets its key (one sort instead of an
        index insert per row), then the rows held back (those that might repeat a scan of this
        write) go in with ON CONFLICT DO NOTHING, and the table takes its month's place: the
        empty partition is detached and dropped, the table attached in its stead (PostgreSQL
        checks its foreign keys once, by a join). Attaching locks `opd` and `import_batch`
        against writes (SHARE ROW EXCLUSIVE, taken first) and detaching locks `checkin`, both
        until the commit. If a lock is not had within SWAP_LOCK_WAIT (another import open, a
        long reader) or another writer has put rows in the month meanwhile, the loaded rows are
        copied into the partition instead, repeats of that writer's scans skipped."""
        conn = self.conn
        cols = ", ".join(PG_COLUMNS)
        loaded = [m for m in self._months.values() if m is not None]
        for m in loaded:
            conn.exec_driver_sql(f"ALTER TABLE {m.table} ADD CONSTRAINT {m.table}_pkey "
                                 f"PRIMARY KEY ({SCAN_KEY})")
            if self._held:
                self.inserted += conn.exec_driver_sql(
                    f"INSERT INTO {m.table} ({cols}) SELECT {cols} FROM checkin_held WHERE ts >= "
                    f"{partitions.ts_literal(m.lo)} AND ts < {partitions.ts_literal(m.hi)} "
                    "ON CONFLICT DO NOTHING").rowcount
        waits = conn.exec_driver_sql("SELECT current_setting('lock_timeout')").scalar() if loaded else None
        for m in loaded:  # every key first: `checkin` is locked from the first detach until the commit
            try:
                with conn.begin_nested():
                    conn.exec_driver_sql(f"SET LOCAL lock_timeout = '{int(SWAP_LOCK_WAIT * 1000)}ms'")
                    # attaching's locks before detaching's: waiting for them holds up no reader of checkin
                    conn.exec_driver_sql("LOCK TABLE opd, import_batch IN SHARE ROW EXCLUSIVE MODE")
                    owner = conn.exec_driver_sql(
                        f"SELECT relowner::regrole::text FROM pg_class WHERE oid = '{m.partition}'::regclass").scalar()
                    conn.exec_driver_sql(f"ALTER TABLE {m.table} OWNER TO {owner}")  # as every other month's
                    conn.exec_driver_sql(f"ALTER TABLE {partitions.PARENT} DETACH PARTITION {m.partition}")
                    if conn.exec_driver_sql(f"SELECT 1 FROM {m.partition} LIMIT 1").first() is not None:
                        raise _MonthWritten(f"{m.partition} is no longer empty")
                    conn.exec_driver_sql(f"DROP TABLE {m.partition}")
                    conn.exec_driver_sql(f"ALTER TABLE {m.table} RENAME TO {m.partition}")
                    conn.exec_driver_sql(f"ALTER INDEX {m.table}_pkey RENAME TO {m.partition}_pkey")
                    conn.exec_driver_sql(
                        f"ALTER TABLE {partitions.PARENT} ATTACH PARTITION {m.partition} FOR VALUES FROM "
                        f"({partitions.ts_literal(m.lo)}) TO ({partitions.ts_literal(m.hi)})")
                    conn.exec_driver_sql(f"ALTER TABLE {m.partition} DROP CONSTRAINT {m.table}_range")
                    conn.exec_driver_sql("SELECT set_config('lock_timeout', %(w)s, true)", {"w": waits})
            except (DBAPIError, _MonthWritten) as exc:  # rolled back to the savepoint: the partition is as it was
                log.info("month %s copied into its partition, not attached: %s", m.partition,
                         str(exc).splitlines()[0])
                self._copy_load(m)
        if self._held:  # (a later write in this transaction starts with none)
            conn.exec_driver_sql("TRUNCATE checkin_held")
            self._held = False
        self._months.clear()

    def _copy_load(self, m: _LoadMonth) -> None:
        """A load table's rows into its month's partition (the keys checked, as for any unit);
        rows another writer stored meanwhile are skipped and no longer counted as inserted (so
        `_write_rollups` recomputes the pairs from the stored check-ins)."""
        conn = self.conn
        cols = ", ".join(("id", *PG_COLUMNS))
        rows = conn.exec_driver_sql(f"SELECT COUNT(*) FROM {m.table}").scalar()
        with _pg_bypass(conn, bool(self._bypass)):
            copied = conn.exec_driver_sql(f"INSERT INTO {m.partition} ({cols}) SELECT {cols} FROM {m.table} "
                                          "ON CONFLICT DO NOTHING").rowcount
        self.inserted -= rows - copied
        conn.exec_driver_sql(f"DROP TABLE {m.table}")

    def _lock_opds(self, opd) -> None:
        """The foreign-key check of a piece, as the database would do it per row: its OPDs exist
        (on PostgreSQL also locked against deletion until the transaction ends, as the trigger
        locks them; SQLite's write lock already keeps every other writer out)."""
        todo = sorted({int(o) for o in opd} - self._opds_locked)
        if not todo:
            return
        if self.dialect == "postgresql":
            rows = self.conn.exec_driver_sql("SELECT id FROM opd WHERE id = ANY(%(ids)s) FOR KEY SHARE", {"ids": todo})
        else:
            rows = self.conn.execute(select(Opd.id).where(Opd.id.in_(todo)))
        found = {r[0] for r in rows}
        if found != set(todo):
            raise ValueError(f"opd_id tidak dikenal: {sorted(set(todo) - found)[:5]}")
        self._opds_locked.update(found)

    def _stored_before(self, piece: _Piece) -> np.ndarray:
        """PostgreSQL: rows of (OPD, day) pairs that held check-ins before this write (their
        rollup row exists; the rollups of this write are only written by `finish`)."""
        keys = (piece.cols["opd_id"].astype("int64") << 32) | piece.cols["day"].astype("int64")
        uniq = np.unique(keys)
        todo = [k for k in uniq.tolist() if k not in self._pairs_known]
        if todo:
            opds = sorted({k >> 32 for k in todo})
            days = [k & 0xFFFFFFFF for k in todo]
            r = RollupOpdDay.__table__
            lo, hi = _EPOCH + timedelta(days=min(days)), _EPOCH + timedelta(days=max(days))
            held = {(o << 32) | (d - _EPOCH).days for o, d in self.conn.execute(
                select(r.c.opd_id, r.c.day).where(r.c.opd_id.in_(opds), r.c.day >= lo, r.c.day <= hi))}
            for k in todo:
                self._pairs_known[k] = k in held
        old = np.array([k for k in uniq.tolist() if self._pairs_known[k]], dtype="int64")
        return np.isin(keys, old) if len(old) else np.zeros(len(keys), dtype=bool)

    # -------------------------------------------------------- the rollups
    def finish(self) -> int:
        """Bring the rollups of the pairs written up to date; returns the rows inserted."""
        try:
            if self.dialect == "postgresql":  # (done after the last unit already, when `flush` was run)
                self._place_loads()
            if self.rollups and self.compact.pairs:
                self._write_rollups()
        finally:
            self.close()
        return self.inserted

    def day_span(self) -> tuple[date, date] | None:
        """The first and last WIB day written (None before any row)."""
        if not self.compact.pairs:
            return None
        days = [k & 0xFFFFFFFF for k in self.compact.pairs]
        return _EPOCH + timedelta(days=min(days)), _EPOCH + timedelta(days=max(days))

    def close(self) -> None:
        """Remove what the write holds outside the database: the spilled compact rows, and
        staging files never handed to the connection (those are removed when it goes back to
        the pool)."""
        if self._stager is not None:
            self._stager.shutdown(wait=True, cancel_futures=True)
        self.compact.close()
        if getattr(self, "_cache", None) is not None:
            with contextlib.suppress(DBAPIError):
                self.conn.exec_driver_sql(f"PRAGMA main.cache_size = {int(self._cache)}")
            self._cache = None
        handed = self.conn.info.get(STAGES, {}) if self.dialect == "sqlite" else {}
        for path in self._parts:
            if path not in handed:
                shutil.rmtree(os.path.dirname(path), ignore_errors=True)
        self._parts = [p for p in self._parts if p in handed]

    def _compute_frames(self) -> tuple[dict, dict[int, int]]:
        """The rollups of every (OPD, day) pair written, from the compact rows, grouped FINISH_ROWS
        rows at a time (every row of a pair in its group; repeated scans counted once); and each
        pair's distinct scans. Which pairs held check-ins before is only asked at `finish`: their
        rows are dropped there and recomputed from the stored check-ins."""
        pairs = sorted(self.compact.pairs.items())
        groups: list[list[int]] = [[]]
        held_rows = 0
        for k, c in pairs:
            if groups[-1] and held_rows + c > FINISH_ROWS:
                groups.append([])
                held_rows = 0
            groups[-1].append(k)
            held_rows += c
        frames: dict = {}
        distinct: dict[int, int] = {}
        for group in groups:
            keys = np.array(group, dtype="int64")  # sorted
            rows = np.concatenate([b[_member(_pair_keys(b), keys)] for b in self.compact.blocks(FINISH_ROWS)])
            for model, frame in self._group_rollups(rows, distinct):
                frames.setdefault(model, []).append(frame)
        return frames, distinct

    def _write_rollups(self) -> None:
        conn = self.conn
        take_turns(conn)  # before this write's rollup rows: see take_turns
        frames, distinct = self._frames if self._frames is not None else self._compute_frames()
        self._frames = None
        pairs = np.array(sorted(distinct), dtype="int64")
        opd_ids = sorted({int(k) >> 32 for k in pairs.tolist()})
        days = pairs & 0xFFFFFFFF
        day_from, day_to = _EPOCH + timedelta(days=int(days.min())), _EPOCH + timedelta(days=int(days.max()))
        r = RollupOpdDay.__table__
        held = np.array(sorted((o << 32) | (d - _EPOCH).days for o, d in conn.execute(
            select(r.c.opd_id, r.c.day).where(r.c.opd_id.in_(opd_ids), r.c.day >= day_from, r.c.day <= day_to))),
            dtype="int64")
        old = _member(pairs, held) if len(held) else np.zeros(len(pairs), dtype=bool)
        expected = sum(distinct[k] for k in pairs[~old].tolist())
        if self.inserted < expected:  # another writer stored some of these scans meanwhile: recompute
            refresh_rollups(conn, opd_ids=opd_ids, day_from=day_from, day_to=day_to)
            return
        for model, parts in frames.items():
            frame = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
            if len(held):
                keys = (frame["opd_id"].to_numpy(dtype="int64") << 32) | pd.to_datetime(frame["day"]).to_numpy(
                    dtype="datetime64[D]").astype("int64")
                frame = frame[~_member(keys, held)]
            self._insert_checked(model, frame)
        if old.any():
            old_days = days[old]
            refresh_rollups(conn, opd_ids=sorted({int(k) >> 32 for k in pairs[old].tolist()}),
                            day_from=_EPOCH + timedelta(days=int(old_days.min())),
                            day_to=_EPOCH + timedelta(days=int(old_days.max())), region=False)
        refresh_summary_rollups(conn, day_from=day_from, day_to=day_to)

    def _insert_checked(self, model, frame: pd.DataFrame) -> None:
        """Rollup rows of the pairs written: their OPDs are the check-ins', which `_lock_opds`
        checked, so on PostgreSQL they too skip the per-row foreign-key triggers where the role
        may (a check per row was two thirds of the time of inserting them)."""
        with _pg_bypass(self.conn, bool(self._bypass) and len(self._opds_locked) > 0):
            _insert_rollups(self.conn, [(model, frame)])

    @staticmethod
    def _group_rollups(rows: np.ndarray, distinct: dict[int, int]) -> list[tuple]:
        """Rollups of pairs whose every row is in `rows` (repeated scans counted once); each
        pair's distinct scans added to `distinct`."""
        opd, day = rows["opd"].astype("int64"), rows["day"].astype("int64")
        sec, vid = rows["sec"].astype("int64"), rows["vid"].astype("int64")
        pairs, pair = np.unique((opd << 32) | day, return_inverse=True)
        width = int(vid.max()) + 1
        if len(pairs) * 86400 * width < 2**62:  # one sort key: (pair, second, visitor)
            key = (pair * 86400 + sec) * width + vid
            order = np.argsort(key)
            key = key[order]
            first = np.ones(len(key), dtype=bool)
            np.not_equal(key[1:], key[:-1], out=first[1:])
        else:
            order = np.lexsort((vid, sec, pair))
            first = np.ones(len(order), dtype=bool)
            first[1:] = ((pair[order][1:] != pair[order][:-1]) | (sec[order][1:] != sec[order][:-1])
                         | (vid[order][1:] != vid[order][:-1]))
        take = order[first]
        distinct.update(zip(pairs.tolist(), np.bincount(pair[take], minlength=len(pairs)).tolist()))
        flags = rows["flags"][take]
        cols = {"opd_id": opd[take], "day": day[take].astype("datetime64[D]"), "hour": sec[take] // 3600,
                "visitor_key": vid[take],
                **{k: ((flags >> s) & (7 if k == "visitor_type" else 3 if k == "status" else 1)).astype("int64")
                   for k, s in _FLAG_SHIFT.items()}}
        texts = {k: pa.array(v, type=pa.string()) for k, v in VOCABULARY.items()}
        texts["visitor_key"] = pa.nulls(width, type=pa.string())  # visitor numbers lie in [0, width)
        return _rollup_frames(cols, texts)


_EPOCH = date(1970, 1, 1)


def _iso_days(days: np.ndarray) -> pa.Array:
    """Day numbers (since 1970-01-01) as 'YYYY-MM-DD' Arrow text, each distinct day formatted once."""
    lo = int(days.min()) if len(days) else 0
    span = np.arange(lo, int(days.max()) + 1 if len(days) else lo).astype("datetime64[D]")
    return pa.array(np.datetime_as_string(span).tolist(), type=pa.string()).take(pa.array(days - lo))


@functools.cache
def _times_of_day(suffix: str) -> pa.Array:
    """'HH:MM:SS' + suffix for every second of a day, made once (in Arrow: no Python string each)."""
    two = pa.array([f"{x:02d}" for x in range(60)])
    sec = np.arange(86400)
    parts = [two.take(pa.array(sec // 3600)), two.take(pa.array(sec // 60 % 60)), two.take(pa.array(sec % 60))]
    text = pc.binary_join_element_wise(*parts, ":")
    return pc.binary_join_element_wise(text, pa.scalar(suffix), "") if suffix else text


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


def _stage_sqlite(table: pa.Table, path: str, *, append: bool = False) -> int:
    """Write the rows into a SQLite scratch file through ADBC, whose C driver binds and inserts
    them without Python objects per row and without holding the GIL. Returns the row count."""
    import adbc_driver_sqlite.dbapi as adbc

    with adbc.connect(path, autocommit=True) as load, contextlib.closing(load.cursor()) as cur:
        cur.execute("PRAGMA journal_mode=OFF")  # a scratch file: nothing to recover
        cur.execute("PRAGMA synchronous=OFF")
        cur.adbc_ingest("checkin_load", table, mode="append" if append else "create")
    return table.num_rows


STAGE_ROWS = 125_000  # rows of the first staging file of a write (the next: 1,5 times as many, ...)
STAGE_BACKLOG = 2  # SQLite: pieces waiting to be staged at most
MAX_ATTACHED = 9  # SQLite attaches at most 10 databases to a connection
STAGES = "pantau_checkin_stages"  # key in the pooled connection's info: staging file -> attached name


def _drop_stages(dbapi_conn, record) -> None:
    """Pool check-in: detach and delete the staging files of the connection's last transaction."""
    for path, schema in record.info.pop(STAGES, {}).items():
        if schema is not None and dbapi_conn is not None:
            try:
                dbapi_conn.execute(f"DETACH DATABASE {schema}")
            except Exception:  # a connection being discarded: the attachment goes with it
                pass
        shutil.rmtree(os.path.dirname(path), ignore_errors=True)


# PostgreSQL's binary COPY format: the header, each row's field count and the fields with their
# byte lengths, the trailer
_PG_HEADER = b"PGCOPY\n\xff\r\n\x00" + bytes(8)
_PG_TRAILER = b"\xff\xff"
_PG_EPOCH_S = 946_684_800  # 2000-01-01, PostgreSQL's epoch, in Unix seconds
PG_COLUMNS = ("opd_id", "ts", "day", "hour", "visitor_key", "source", "batch_id", *TEXT_COLUMNS[:3])
SCAN_KEY = "opd_id, ts, visitor_key"  # a scan: its OPD, second and visitor (PostgreSQL: the primary key)
_PG_PIECE_COLUMNS = ("opd_id INT, ts TIMESTAMP, day DATE, hour SMALLINT, visitor_key VARCHAR(32), source VARCHAR(8), "
                     "batch_id INT, visitor_type VARCHAR(12), status VARCHAR(8), outcome VARCHAR(10)")


class _PgRecords:
    """The rows of a unit in PostgreSQL's binary COPY format (columns PG_COLUMNS), built in numpy
    on the preparing thread. Rows are grouped by month (the partition they go to) and by their
    type/status/outcome texts and key length, so that within a group every row has the same
    layout; each group is kept as bytes. `copy_data(take)` joins the groups a subset takes
    whole (the usual case: all of a month's rows) and gathers only the rows of the others."""

    def __init__(self, piece: _Piece, *, source: str, batch_id: int | None) -> None:
        c = piece.cols
        n = piece.rows
        self.blobs: list[bytes] = []
        self.layouts: list[np.dtype] = []
        self.group_of = np.zeros(n, dtype="int64")  # each row's group, and its place in it
        self.place = np.zeros(n, dtype="int64")
        if not n:
            return
        keys, lengths = piece.key_bytes()
        key_len = lengths[c["visitor_key"]]
        vocab = {k: [v.encode() for v in VOCABULARY[k]] for k in TEXT_COLUMNS[:3]}
        month = c["day"].astype("int64").astype("datetime64[D]").astype("datetime64[M]").astype("int64")
        layout = ((c["visitor_type"].astype("int64") * 4 + c["status"]) * 2 + c["outcome"]) * 1024 + key_len
        group = (month - month.min()) * 65536 + layout
        order = np.argsort(group, kind="stable")
        bounds = np.flatnonzero(np.diff(group[order])) + 1
        src = source.encode()
        for gi, idx in enumerate(np.split(order, bounds)):
            g = int(layout[idx[0]])
            klen = g % 1024
            vt, st, oc = (g // 1024) // 8, (g // 1024) // 2 % 4, (g // 1024) % 2
            tail = b"".join(len(v).to_bytes(4, "big") + v for v in (vocab["visitor_type"][vt],
                                                                     vocab["status"][st], vocab["outcome"][oc]))
            fields = [("n", ">i2"), ("l1", ">i4"), ("opd", ">i4"), ("l2", ">i4"), ("ts", ">i8"), ("l3", ">i4"),
                      ("day", ">i4"), ("l4", ">i4"), ("hour", ">i2"), ("l5", ">i4"), ("key", f"S{klen}"),
                      ("l6", ">i4"), ("src", f"S{len(src)}"), ("l7", ">i4")]
            if batch_id is not None:
                fields.append(("batch", ">i4"))
            fields.append(("tail", f"S{len(tail)}"))
            rec = np.empty(len(idx), dtype=np.dtype(fields))
            rec["n"] = len(PG_COLUMNS)
            rec["l1"], rec["l2"], rec["l3"], rec["l4"] = 4, 8, 4, 2
            rec["opd"] = c["opd_id"][idx]
            rec["ts"] = (c["ts"][idx].astype("int64") - _PG_EPOCH_S) * 1_000_000
            rec["day"] = c["day"][idx].astype("int64") - _PG_EPOCH_S // 86400
            rec["hour"] = c["hour"][idx]
            rec["l5"] = klen
            rec["key"] = keys[c["visitor_key"][idx]].astype(f"S{klen}") if klen else b""  # (shorter ones: no padding)
            rec["l6"] = len(src)
            rec["src"] = src
            rec["l7"] = -1 if batch_id is None else 4
            if batch_id is not None:
                rec["batch"] = batch_id
            rec["tail"] = tail
            self.blobs.append(rec.tobytes())
            self.layouts.append(np.dtype((np.void, rec.dtype.itemsize)))  # plain bytes: gathered by memcpy
            self.group_of[idx] = gi
            self.place[idx] = np.arange(len(idx))

    def copy_data(self, take: np.ndarray) -> list[bytes]:
        """The rows `take` (row numbers of the unit) as the parts of one COPY stream, header and
        trailer included: written part by part, not joined (a joined copy of megabytes is a
        fresh mapping of the allocator's, faulted in page by page)."""
        g = self.group_of[take]
        counts = np.bincount(g, minlength=len(self.blobs)).tolist()
        places = ends = None
        out = [_PG_HEADER]
        for gi, k in enumerate(counts):
            if not k:
                continue
            blob, layout = self.blobs[gi], self.layouts[gi]
            if k * layout.itemsize == len(blob):
                out.append(blob)
                continue
            if places is None:  # the rows taken, by group (a sort once, not a pass per group)
                places = self.place[take[np.argsort(g, kind="stable")]]
                ends = np.cumsum(counts).tolist()
            out.append(np.frombuffer(blob, dtype=layout)[places[ends[gi] - k:ends[gi]]].tobytes())
        out.append(_PG_TRAILER)
        return out


def _bulk_insert_ignore(conn: Connection, rows, *, source: str, batch_id: int | None, checked: bool = False) -> int:
    """Insert one unit from `CheckinWriter.prepare`, skipping scans already stored; returns
    rows inserted. The one place where the dialects differ for bulk loads. `checked`: the writer
    checked the unit's foreign keys itself (PostgreSQL may then skip its per-row triggers)."""
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
        if stages.get(path) is None:
            stages[path] = f"checkin_load_{sum(1 for s in stages.values() if s)}"
            raw.execute(f"ATTACH DATABASE ? AS {stages[path]}", (path,))
            # read once, in order: a small page cache (an attached file inherits main's 64 MB)
            raw.execute(f"PRAGMA {stages[path]}.cache_size = -2048")
        consts = f"{_literal(source)}, {'NULL' if batch_id is None else int(batch_id)}"
        before = raw.total_changes
        raw.execute(f"INSERT OR IGNORE INTO checkin ({cols}) SELECT {row_cols}, {consts} "
                    f"FROM {stages[path]}.checkin_load WHERE rowid BETWEEN ? AND ?", (first, last))
        return raw.total_changes - before
    if dialect == "postgresql":
        # Rows that cannot repeat a stored scan (their pair held nothing before this write, and
        # no earlier piece had their OPD and second) are copied straight into the table in
        # binary; the others go through a temporary table and ON CONFLICT DO NOTHING.
        # A month loaded into a table of its own (CheckinWriter._begin_load) has no key yet: its
        # rows that might repeat a scan are held in a temporary table until its key is built
        # (`CheckinWriter._place_loads`).
        maybe = rows.maybe_seen | rows.maybe_stored
        pg_cols = ", ".join(PG_COLUMNS)
        n = 0
        tables, records = rows.tables, rows.records
        rows.held = np.zeros(rows.piece.rows, dtype=bool)
        for table, rows_of in tables:
            if table in rows.load:
                rows.held |= rows_of & maybe
        maybe &= ~rows.held
        with _pg_bypass(conn, checked), raw.cursor() as cur:
            for table, rows_of in tables:
                take = np.flatnonzero(rows_of & ~maybe & ~rows.held)
                if not len(take):
                    continue
                with cur.copy(f"COPY {rows.load.get(table, table)} ({pg_cols}) FROM STDIN (FORMAT BINARY)") as copy:
                    for part in records.copy_data(take):
                        copy.write(part)
                n += cur.rowcount
            if rows.held.any():
                cur.execute(f"CREATE TEMP TABLE IF NOT EXISTS checkin_held ({_PG_PIECE_COLUMNS}) ON COMMIT DROP")
                with cur.copy(f"COPY checkin_held ({pg_cols}) FROM STDIN (FORMAT BINARY)") as copy:
                    for part in records.copy_data(np.flatnonzero(rows.held)):
                        copy.write(part)
            if maybe.any():
                cur.execute(
                    f"CREATE TEMP TABLE IF NOT EXISTS checkin_piece ({_PG_PIECE_COLUMNS}) ON COMMIT DELETE ROWS")
                with cur.copy(f"COPY checkin_piece ({pg_cols}) FROM STDIN (FORMAT BINARY)") as copy:
                    for part in records.copy_data(np.flatnonzero(maybe)):
                        copy.write(part)
                cur.execute(f"INSERT INTO checkin ({pg_cols}) SELECT {pg_cols} FROM checkin_piece "
                            "ON CONFLICT DO NOTHING")
                n += cur.rowcount
                cur.execute("TRUNCATE checkin_piece")
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


@contextlib.contextmanager
def _pg_bypass(conn: Connection, checked: bool):
    """PostgreSQL: the foreign-key triggers off for the statements inside, when `checked`: the
    writer has checked the keys itself (CheckinWriter._lock_opds) and the role may turn them off."""
    if not checked:
        yield
        return
    conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
    yield  # on an error the transaction is rolled back, and the setting with it: a reset in a failed
    # transaction would only replace the real error by "current transaction is aborted"
    conn.exec_driver_sql("SET LOCAL session_replication_role = origin")


def _literal(source: str) -> str:
    if not source.isalpha() or not source.isascii():
        raise ValueError(f"source {source!r}")
    return f"'{source}'"


def _in_background(produce, consume, depth: int) -> None:
    """`produce()` yields items on a second thread while this thread `consume`s them: building
    the next chunk in Python overlaps with the driver storing the last one (SQLite, psycopg and
    PyMySQL release the GIL while they work). An error on either side stops both."""
    items: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()
    done = object()

    def hand_over(item) -> bool:
        """Put `item` in the queue unless the consumer has stopped (then nobody takes it)."""
        while not stop.is_set():
            try:
                items.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def run() -> None:
        try:
            for item in produce():
                if not hand_over(item):
                    return
            hand_over(done)
        except BaseException as exc:  # handed to the consumer, raised there
            hand_over(exc)

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
    the (OPD, day) pairs they touch up to date, in the caller's transaction. Returns the number
    of rows inserted. A frame of many rows is stored in pieces while the next is prepared."""
    if df.empty:
        return 0
    writer = CheckinWriter(conn, source=source, batch_id=batch_id, progress=progress, total=len(df))
    try:
        _in_background(lambda: _pieces_of(writer, df), writer.store, writer.queue_depth)
        return writer.finish()
    finally:
        writer.close()


def _pieces_of(writer: CheckinWriter, df: pd.DataFrame, rows: int = 1_000_000):
    for start in range(0, len(df), rows):
        yield from writer.prepare(df.iloc[start:start + rows])
    yield from writer.flush()


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
        if conn.dialect.name == "postgresql":  # one statement of arrays: a statement per row costs 4 times as much
            table = model.__table__
            types = [table.c[c].type.compile(dialect=conn.dialect) for c in names]
            conn.exec_driver_sql(
                f"INSERT INTO {table.name} ({', '.join(names)}) SELECT * FROM unnest("
                + ", ".join(f"%s::{t}[]" for t in types) + ")", tuple(frame[c].tolist() for c in names))
            continue
        rows = list(zip(*(frame[c].tolist() for c in names)))
        sql = f"INSERT INTO {model.__tablename__} ({', '.join(names)}) VALUES ({', '.join([mark] * len(names))})"
        for i in range(0, len(rows), CHUNK):
            conn.exec_driver_sql(sql, rows[i : i + CHUNK])


def refresh_rollups(
    conn: Connection, *, opd_ids: list[int] | None = None, day_from: date | None = None, day_to: date | None = None,
    region: bool = True,
) -> None:
    """Recompute the rollups from raw check-ins for the given OPDs and day span (all when None),
    then the rollups made from them for the span (refresh_summary_rollups; `region=False`: the caller
    does that)."""
    take_turns(conn)

    def where(table):
        conds = _in_days(table, day_from, day_to)
        if opd_ids is not None:
            conds.append(table.c.opd_id.in_(opd_ids))
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
    if region:
        refresh_summary_rollups(conn, day_from=day_from, day_to=day_to)


def take_turns(conn: Connection) -> None:
    """Writers of rollups take turns from here to their commit; readers are never held up. Two
    imports of the same days for different OPDs each rewrite those days' region rows: under
    PostgreSQL's READ COMMITTED the second one's DELETE would miss the first one's new rows and
    its INSERT collide with them. On MariaDB whole writes take turns (from `CheckinWriter`'s start):
    InnoDB's gap locks deadlocked two writes of the same days even before the rollups. The lock is a row
    lock on the one row of alembic_version (in every database the migrations made; only a
    migration writes it). SQLite has one writer at a time already."""
    if conn.dialect.name != "sqlite":
        conn.exec_driver_sql("SELECT version_num FROM alembic_version FOR UPDATE").all()


def refresh_summary_rollups(conn: Connection, *, day_from: date | None = None, day_to: date | None = None) -> None:
    """Recompute the rollups made from the per-OPD rollups (the region rollups, the month
    rollup) for a day span (all when None): after every write of those, in the same
    transaction, by callers that have taken their turn (`take_turns`: refresh_rollups,
    CheckinWriter._write_rollups)."""
    refresh_region_rollups(conn, day_from=day_from, day_to=day_to)
    refresh_month_rollups(conn, day_from=day_from, day_to=day_to)


def refresh_month_rollups(conn: Connection, *, day_from: date | None = None, day_to: date | None = None,
                          opd_ids: list[int] | None = None) -> None:
    """Recompute rollup_opd_month for every month that a day span (all when None) touches, for
    every OPD (or the OPDs given: after their headcount changed), from rollup_opd_day."""
    table, source = RollupOpdMonth.__table__, RollupOpdDay.__table__
    m_from = day_from.replace(day=1) if day_from is not None else None
    m_to = day_to.replace(day=1) if day_to is not None else None
    conds = _in_days(table, m_from, m_to, column="month")
    src_conds = _in_days(source, m_from, month_end(m_to) if m_to is not None else None)
    if opd_ids is not None:
        conds.append(table.c.opd_id.in_(opd_ids))
        src_conds.append(source.c.opd_id.in_(opd_ids))
    conn.execute(delete(table).where(*conds))
    conn.execute(insert(table).from_select(
        OPD_MONTH.columns, month_select(OPD_MONTH, source, Opd.__table__).where(*src_conds)))


def refresh_region_rollups(conn: Connection, *, day_from: date | None = None, day_to: date | None = None) -> None:
    """Recompute the region rollups of a day span (all when None) from their per-OPD rollups
    (see refresh_summary_rollups)."""
    for rollup in REGION_ROLLUPS:
        table = _REGION_MODELS[rollup.table].__table__
        source = _ROLLUP_MODELS[rollup.source.table].__table__
        conn.execute(delete(table).where(*_in_days(table, day_from, day_to)))
        conn.execute(insert(table).from_select(
            rollup.columns, region_select(rollup, source).where(*_in_days(source, day_from, day_to))))


def _in_days(table, day_from: date | None, day_to: date | None, *, column: str = "day") -> list:
    """The conditions that keep a table's rows to a span of WIB days (open ends: None), on its
    `column` (a day, or a month's first day)."""
    conds = []
    if day_from is not None:
        conds.append(table.c[column] >= day_from)
    if day_to is not None:
        conds.append(table.c[column] <= day_to)
    return conds
