"""`python -m benchmark.floor`: the least a PostgreSQL import of a file can take on this machine.

It does what every import into PostgreSQL must do, with the importer's own code, and nothing
more: the file read, checked and prepared piece by piece (open_table, parse_frame and
CheckinWriter.prepare, the rollups computed from the compact rows by CheckinWriter.flush), on
one thread, while the connection's thread copies every row in binary into one plain table,
then builds that table's primary key once. Left out, because this lower bound need not pay for
them: the repeat checks against stored rows, the months' partitions and their attaching, the
rollups' writing, the audit entry, the commit (the transaction is rolled back: nothing is
stored) and the housekeeping after it. Issue #18 and #20's target, 250.000 rows a second, is
4,0 seconds for the bench's 1.000.000-row CSV: when this bound alone comes near that, the whole
import cannot meet it on this machine.

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

from data_access import config
from data_access.checkins import PG_COLUMNS, CheckinWriter, _in_background, _PgRows
from data_access.db import make_engine
from data_access.fmt import fmt_dec, fmt_int
from data_access.importer import _venue_index, bounded_memory, open_table, parse_frame, resolve_columns

from .runner import generate_csv

TABLE = "bench_floor"


def measure_floor(url: str, path: Path) -> dict:
    """One pass over the CSV at `path` as described above; seconds from the start to the last
    row checked, to the last row copied and to the key built, and the rows copied."""
    bounded_memory()  # the allocator set as for an import
    engine = make_engine(url)
    if engine.dialect.name != "postgresql":
        raise ValueError("batas bawah ini hanya untuk PostgreSQL")
    table = open_table(path, path.name)
    cols = resolve_columns(table.columns)
    key = config.pseudonym_key()
    marks: dict[str, float] = {}
    copied = 0
    writer = None
    with engine.connect() as conn:
        trans = conn.begin()
        try:
            venues = _venue_index(conn)
            conn.exec_driver_sql(f"CREATE TABLE {TABLE} (LIKE checkin INCLUDING DEFAULTS)")
            writer = CheckinWriter(conn, source="import")
            raw = conn.connection.driver_connection
            cache: dict = {}  # the keyed hashes of identities already seen, as in the import
            t0 = time.perf_counter()

            def produce():
                for piece in table.pieces():
                    valid, _bad = parse_frame(piece, key=key, cols=cols, venues=venues, cache=cache)
                    yield from writer.prepare(valid)
                marks["checked"] = time.perf_counter() - t0
                yield from writer.flush()  # (the rollups: computed on this thread, as in the import)

            def consume(unit) -> None:
                nonlocal copied
                if not isinstance(unit, _PgRows):  # the marker after the last rows: the key, while
                    # the other thread computes the rollups (as the import places its months)
                    conn.exec_driver_sql(f"ALTER TABLE {TABLE} ADD PRIMARY KEY (opd_id, ts, visitor_key)")
                    marks["key_built"] = time.perf_counter() - t0
                    return
                with raw.cursor() as cur, cur.copy(
                        f"COPY {TABLE} ({', '.join(PG_COLUMNS)}) FROM STDIN (FORMAT BINARY)") as copy:
                    for part in unit.records.copy_data(np.arange(unit.piece.rows)):
                        copy.write(part)
                copied += unit.piece.rows
                marks["copied"] = time.perf_counter() - t0

            _in_background(produce, consume, writer.queue_depth)
            marks["done"] = time.perf_counter() - t0  # the key built and the rollups computed
        finally:
            if writer is not None:
                writer.close()
            trans.rollback()  # nothing stays: neither the table nor its rows
    engine.dispose()
    return {"rows": copied, **{k: round(v, 2) for k, v in marks.items()}}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m benchmark.floor",
        description="Batas bawah waktu impor PostgreSQL di mesin ini (tidak menyimpan apa pun).")
    p.add_argument("--database-url", help="URL PostgreSQL (bawaan: DATABASE_URL); tidak ada yang disimpan di sana")
    p.add_argument("--rows", type=int, default=1_000_000, help="baris CSV bench (bawaan 1.000.000)")
    p.add_argument("--runs", type=int, default=3, help="jumlah jalankan (bawaan 3)")
    args = p.parse_args(argv)
    url = args.database_url or config.get_settings().database_url
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "floor.csv"
        generate_csv(path, args.rows)
        runs = [measure_floor(url, path) for _ in range(args.runs)]
    for r in runs:
        print(f"{fmt_int(r['rows'])} baris: diperiksa {fmt_dec(r['checked'], 2)} dtk, disalin "
              f"{fmt_dec(r['copied'], 2)} dtk, kunci primer {fmt_dec(r['key_built'], 2)} dtk, rollup dihitung dan "
              f"semuanya selesai {fmt_dec(r['done'], 2)} dtk")
    best = statistics.median(r["done"] for r in runs)
    print(f"Batas bawah (median {len(runs)} jalankan): {fmt_dec(best, 2)} dtk = "
          f"{fmt_int(int(runs[0]['rows'] / best))} baris/dtk, tanpa cek ulangan, partisi, penulisan rollup, "
          "commit dan pemeliharaan")
    return 0


if __name__ == "__main__":
    sys.exit(main())
