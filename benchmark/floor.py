"""`python -m benchmark.floor`: a lower bound, with this importer's reader, for a PostgreSQL import
of the bench's CSV on this machine.

It does what every import of the file into PostgreSQL does, with the importer's own code, and
nothing more: the file opened (its checksum and encoding scan), an import batch recorded, the
rows read, checked and prepared piece by piece (open_table, parse_frame with its hash cache,
CheckinWriter.prepare, the rollups computed from the compact rows by CheckinWriter.flush) on one
thread, while the connection's thread copies every row in binary into one plain table; after
the last row that table's primary key is built once, while the other thread computes the
rollups (as the import builds its months' keys). Left out, because a lower bound need not pay
for them: the repeat checks against stored rows and within the file, the OPD locks, the months'
partitions (range checks, attaching), the rollups' writing, the audit entry, the commit and the
housekeeping after it. The transaction is rolled back: no row stays, and the rows' ids come
from a sequence of the transaction's own; only the import batch's id sequence moves on by one.

Issue #18 and #20's target, 250.000 rows a second, is 4,0 seconds for the bench's 1.000.000
rows: when this bound reaches that, the whole import cannot meet it on this machine.

    python -m benchmark.floor --database-url postgresql+psycopg://... [--rows 1000000] [--runs 3]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from sqlalchemy import insert
from sqlalchemy.engine import make_url

from data_access import config
from data_access.calendar import now_utc
from data_access.checkins import _PLACE_LOADS, PG_COLUMNS, SCAN_KEY, CheckinWriter, _in_background, _PgRows
from data_access.cli import EXIT_ERROR, error_message
from data_access.db import make_engine
from data_access.fmt import fmt_dec, fmt_int
from data_access.importer import _venue_index, bounded_memory, open_table, parse_frame, resolve_columns
from data_access.models import ImportBatch

from .runner import generate_csv

TABLE = "bench_floor"


def is_postgresql(url: str) -> bool:
    return make_url(url).get_backend_name() == "postgresql"


def measure_floor(url: str, path: Path) -> dict:
    """One pass over the CSV at `path` as described above: seconds from the start to the last
    row checked, to the last row copied, to the key built and to the end (key built and rollups
    computed), and the rows the server took."""
    if not is_postgresql(url):
        raise ValueError("batas bawah ini hanya untuk PostgreSQL")
    bounded_memory()  # the allocator set as for an import
    engine = make_engine(url)
    marks: dict[str, float] = {}
    copied = 0
    try:
        # closed without a commit: the table, its sequence, its rows and the batch are rolled back
        with engine.connect() as conn:
            conn.begin()
            t0 = time.perf_counter()
            table = open_table(path, path.name)
            cols = resolve_columns(table.columns)
            key = config.pseudonym_key()
            venues = _venue_index(conn)
            batch_id = conn.execute(insert(ImportBatch).values(
                file_name=path.name, checksum=table.checksum, imported_by="bench", imported_at=now_utc(),
                rows_total=0, rows_loaded=0, rows_rejected=0, rows_duplicate=0)).inserted_primary_key[0]
            conn.exec_driver_sql(f"CREATE SEQUENCE {TABLE}_id_seq")  # (checkin's own would move on)
            conn.exec_driver_sql(f"CREATE TABLE {TABLE} (LIKE checkin INCLUDING DEFAULTS)")
            conn.exec_driver_sql(f"ALTER TABLE {TABLE} ALTER id SET DEFAULT nextval('{TABLE}_id_seq')")
            writer = CheckinWriter(conn, source="import", batch_id=int(batch_id))
            raw = conn.connection.driver_connection
            cache: dict = {}  # the keyed hashes of identities already seen, as in the import

            def produce():
                for piece in table.pieces():
                    valid, bad = parse_frame(piece, key=key, cols=cols, venues=venues, cache=cache)
                    del piece, bad
                    yield from writer.prepare(valid)
                    yield None  # (the import's progress report: a place in the queue, as there)
                marks["checked"] = time.perf_counter() - t0
                yield from writer.flush()  # the rollups: computed on this thread, as in the import

            def consume(unit) -> None:
                nonlocal copied
                if unit is None:
                    return
                if unit is _PLACE_LOADS:  # after the last rows: the key, while the other thread
                    # computes the rollups (as the import builds its months' keys)
                    conn.exec_driver_sql(f"ALTER TABLE {TABLE} ADD PRIMARY KEY ({SCAN_KEY})")
                    marks["key_built"] = time.perf_counter() - t0
                    return
                if not isinstance(unit, _PgRows):
                    raise TypeError(f"unit {type(unit).__name__}")
                with raw.cursor() as cur:
                    with cur.copy(f"COPY {TABLE} ({', '.join(PG_COLUMNS)}) FROM STDIN (FORMAT BINARY)") as copy:
                        for part in unit.records.copy_data(np.arange(unit.piece.rows)):
                            copy.write(part)
                    copied += cur.rowcount
                marks["copied"] = time.perf_counter() - t0

            try:
                _in_background(produce, consume, writer.queue_depth)
            finally:
                writer.close()
            marks["done"] = time.perf_counter() - t0
    finally:
        engine.dispose()
    return {"rows": copied, **{k: round(v, 2) for k, v in marks.items()}}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m benchmark.floor",
        description="Batas bawah waktu impor PostgreSQL di mesin ini dengan pembaca pengimpor ini (tidak ada "
                    "baris yang disimpan).")
    p.add_argument("--database-url", help="URL PostgreSQL (bawaan: DATABASE_URL); tidak ada baris yang disimpan")
    p.add_argument("--rows", type=int, default=1_000_000, help="baris CSV bench (bawaan 1.000.000)")
    p.add_argument("--runs", type=int, default=3, help="jumlah jalankan (bawaan 3)")
    args = p.parse_args(argv)
    url = args.database_url or config.get_settings().database_url
    if not is_postgresql(url):
        p.error("batas bawah ini hanya untuk PostgreSQL: beri --database-url postgresql+psycopg://...")
    if args.rows < 1 or args.runs < 1:
        p.error("--rows dan --runs paling sedikit 1")
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "floor.csv"
        generate_csv(path, args.rows)
        try:
            runs = [measure_floor(url, path) for _ in range(args.runs)]
        except Exception as exc:  # an unreachable database, say: the operator's message, as the commands give
            message = error_message(exc)
            if message is None:
                raise
            print(message, file=sys.stderr)
            return EXIT_ERROR
    for r in runs:
        print(f"{fmt_int(r['rows'])} baris: diperiksa {fmt_dec(r['checked'], 2)} dtk, disalin "
              f"{fmt_dec(r['copied'], 2)} dtk, kunci primer {fmt_dec(r['key_built'], 2)} dtk, selesai (kunci dan "
              f"rollup) {fmt_dec(r['done'], 2)} dtk")
    median = statistics.median(r["done"] for r in runs)
    rate = f" = {fmt_int(int(runs[0]['rows'] / median))} baris/dtk" if median > 0 else ""
    print(f"Batas bawah (median {len(runs)} jalankan): {fmt_dec(median, 2)} dtk{rate}, tanpa cek ulangan, kunci "
          "OPD, partisi, penulisan rollup, audit, commit dan pemeliharaan")
    return 0


if __name__ == "__main__":
    sys.exit(main())
