"""PostgreSQL's monthly partitions of checkin (migration 0011, data_access/partitions.py): a
database already holding check-ins is converted without losing a row, new months get their
partition before the write, stray rows in the default partition move out, and the migration
goes back down. On SQLite and MariaDB the migration changes nothing."""
from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
from sqlalchemy import text

from data_access import checkins, partitions
from data_access.checkins import refresh_rollups, write_checkins
from data_access.db import after_bulk_write, make_engine
from data_access.registry import load_registry
from data_access.synthetic import synthetic_frame
from tests.test_migrations import _fresh_url, _upgrade

ALL_CHECKIN = "SELECT * FROM checkin ORDER BY id"


def _snapshot(engine) -> dict[str, pd.DataFrame]:
    with engine.connect() as conn:
        return {
            "checkin": pd.read_sql(text(ALL_CHECKIN), conn),
            "rollup_opd_day": pd.read_sql(text("SELECT * FROM rollup_opd_day ORDER BY opd_id, day"), conn),
            "rollup_hourly": pd.read_sql(text("SELECT * FROM rollup_hourly ORDER BY opd_id, day, hour"), conn),
            "rollup_daily": pd.read_sql(text("SELECT * FROM rollup_daily ORDER BY opd_id, day"), conn),
        }


def _per_partition(engine) -> dict[str, int]:
    with engine.connect() as conn:
        rows = conn.exec_driver_sql("SELECT tableoid::regclass::text, COUNT(*) FROM checkin GROUP BY 1").all()
    return dict(rows)


def _opds(engine) -> pd.DataFrame:
    with engine.connect() as conn:
        return pd.read_sql(text("SELECT id, asn_headcount FROM opd"), conn)


def _as_at_0010(m) -> None:
    """Writes as the code of revision 0010 made them: no region or month rollups yet (migrations
    0013 and 0014)."""
    m.setattr(checkins, "refresh_summary_rollups", lambda conn, **kw: None)


@pytest.fixture
def populated_0010(request, tmp_path, monkeypatch):
    """A database at revision 0010 holding check-ins over three months (20 Jan - 19 Apr 2022)."""
    monkeypatch.setenv("PANTAU_DATA_DIR", str(tmp_path))
    eng = make_engine(_fresh_url(request.param, tmp_path))
    _upgrade(eng, "0010")
    with eng.begin() as conn:
        load_registry(conn)
    frame = synthetic_frame(_opds(eng), 30_000, start=date(2022, 1, 20), days=90, seed=11)
    with monkeypatch.context() as m, eng.begin() as conn:
        _as_at_0010(m)
        write_checkins(conn, frame, source="demo")
    yield eng
    eng.dispose()


@pytest.mark.parametrize("populated_0010", ["postgresql"], indirect=True)
def test_partitioning_an_existing_table_keeps_every_row_and_rollup(populated_0010, monkeypatch):
    eng = populated_0010
    before = _snapshot(eng)
    assert len(before["checkin"]) > 29_000
    _upgrade(eng, "head")
    with eng.connect() as conn:
        assert partitions.is_partitioned(conn)
        keys = dict(conn.exec_driver_sql(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = 'checkin'::regclass"
        ).all())
    # the scan's key is the primary key (migration 0012): one index per row written
    assert keys["pk_checkin"] == "PRIMARY KEY (opd_id, ts, visitor_key)" and "uq_checkin_scan" not in keys
    after = _snapshot(eng)
    for name in before:
        pd.testing.assert_frame_equal(before[name], after[name], check_dtype=False)
    # each WIB month in its own partition (a scan at 03:00 WIB on 1 Feb is February's), nothing in the default
    counts = _per_partition(eng)
    assert set(counts) == {"checkin_p202201", "checkin_p202202", "checkin_p202203", "checkin_p202204"}
    by_month = before["checkin"].assign(m=pd.to_datetime(before["checkin"]["day"]).dt.strftime("checkin_p%Y%m"))
    assert counts == by_month["m"].value_counts().to_dict()
    # the rollups still equal a recompute from the partitioned table
    with eng.begin() as conn:
        refresh_rollups(conn)
    recomputed = _snapshot(eng)
    for name in ("rollup_opd_day", "rollup_hourly"):
        pd.testing.assert_frame_equal(after[name], recomputed[name], check_dtype=False)

    # a new month: its partition exists before the rows arrive; a repeated write adds nothing
    may = synthetic_frame(_opds(eng), 5_000, start=date(2023, 5, 1), days=31, seed=12)
    with eng.begin() as conn:
        added = write_checkins(conn, may, source="demo")
    assert added > 4_900
    with eng.begin() as conn:
        assert write_checkins(conn, may, source="demo") == 0
    counts = _per_partition(eng)
    assert counts["checkin_p202305"] == added and "checkin_default" not in counts
    assert {"checkin_p202306", "checkin_p202307"} <= partitions.existing(eng.connect())

    # rows that reached the default partition (no partition of their month) move out after the write
    with eng.begin() as conn:
        conn.exec_driver_sql("INSERT INTO checkin (opd_id, ts, day, hour, visitor_type, status, outcome, "
                             "visitor_key, source) SELECT opd_id, ts - interval '3 years', day - 1096, hour, "
                             "visitor_type, status, outcome, visitor_key, source FROM checkin_p202202")
    assert _per_partition(eng)["checkin_default"] == counts["checkin_p202202"]
    total = sum(_per_partition(eng).values())
    after_bulk_write(eng)
    counts = _per_partition(eng)
    assert "checkin_default" not in counts and sum(counts.values()) == total
    assert {"checkin_p201902", "checkin_p201903"} & set(counts)

    # and back down: one plain table again, every row kept
    with eng.connect() as conn:
        rows = pd.read_sql(text(ALL_CHECKIN), conn)
    _upgrade_down(eng, "0010")
    with eng.connect() as conn:
        assert not partitions.is_partitioned(conn)
        pd.testing.assert_frame_equal(rows, pd.read_sql(text(ALL_CHECKIN), conn), check_dtype=False)
        assert conn.exec_driver_sql("SELECT pg_get_constraintdef(oid) FROM pg_constraint "
                                    "WHERE conname = 'pk_checkin'").scalar() == "PRIMARY KEY (id)"
    with monkeypatch.context() as m, eng.begin() as conn:  # ids go on from the same sequence
        _as_at_0010(m)
        write_checkins(conn, synthetic_frame(_opds(eng), 100, start=date(2023, 9, 1), days=2, seed=13),
                       source="demo")
        assert conn.exec_driver_sql("SELECT MIN(id) FROM checkin WHERE day >= '2023-09-01'").scalar() > rows["id"].max()


@pytest.mark.parametrize("populated_0010", ["sqlite", "mariadb"], indirect=True)
def test_partition_migration_is_a_no_op_elsewhere(populated_0010):
    before = _snapshot(populated_0010)
    _upgrade(populated_0010, "head")
    with populated_0010.connect() as conn:
        assert not partitions.is_partitioned(conn)
    after = _snapshot(populated_0010)
    for name in before:
        pd.testing.assert_frame_equal(before[name], after[name], check_dtype=False)


def _upgrade_down(engine, to: str) -> None:
    from alembic import command
    from alembic.config import Config

    from data_access.db import ALEMBIC_INI

    cfg = Config(str(ALEMBIC_INI))
    cfg.attributes["configure_logger"] = False
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, to)


def test_rows_are_written_to_their_months_partition_or_else_the_parent():
    """A piece's rows go straight into their WIB month's partition where it exists (no routing
    through the parent), and through the parent (the default partition) where it does not."""
    import numpy as np

    class Conn:
        info = {partitions._HAVE: {"checkin_p202203", "checkin_default"}}

    days = np.array(["2022-03-01", "2022-02-28", "2022-03-31", "2022-04-01"], dtype="datetime64[D]").astype("int64")
    got = dict(partitions.tables_for_days(Conn, days))
    assert set(got) == {"checkin_p202203", "checkin"}
    assert got["checkin_p202203"].tolist() == [True, False, True, False]
    assert got["checkin"].tolist() == [False, True, False, True]


@pytest.mark.parametrize("populated_0010", ["postgresql"], indirect=True)
def test_months_since_the_surat_edaran_exist_before_a_write_and_archived_ones_stay_away(populated_0010):
    """Start-up (init_schema) makes every month's partition from the Surat Edaran's to two months
    ahead, so an import never has to create one inside its transaction; a month detached and
    archived (meta checkin_archived_through) is not made again."""
    from data_access.calendar import today_wib
    from data_access.db import init_schema

    eng = populated_0010
    init_schema(eng)
    with eng.connect() as conn:
        have = partitions.existing(conn)
    last = partitions.next_month(partitions.next_month(partitions.month_start(today_wib())))
    assert {partitions.partition_name(m) for m in partitions.months(date(2022, 1, 1), last)} <= have
    with eng.begin() as conn:
        rows = conn.exec_driver_sql("SELECT COUNT(*) FROM checkin_p202201").scalar()
        conn.exec_driver_sql("ALTER TABLE checkin DETACH PARTITION checkin_p202201")
        conn.exec_driver_sql("ALTER TABLE checkin_p202201 RENAME TO arsip_2022_01")
        conn.exec_driver_sql(f"INSERT INTO meta (key, value) VALUES ('{partitions.ARCHIVED_KEY}', '2022-01')")
    assert rows > 0
    assert partitions.ensure_span(eng) == []
    with eng.connect() as conn:
        assert "checkin_p202201" not in partitions.existing(conn) and "checkin_p202202" in partitions.existing(conn)


@pytest.mark.parametrize("populated_0010", ["postgresql"], indirect=True)
def test_a_write_sees_months_detached_since_and_a_small_import_leaves_nothing_in_the_default(populated_0010):
    """A pooled connection's next write reads the partitions afresh (a month detached meanwhile
    is not written into the detached table), and rows an import of any size leaves in the default
    partition move to their own month's partition afterwards."""
    from data_access.auth import SYSTEM
    from data_access.db import init_schema
    from data_access.importer import import_bytes

    eng = populated_0010
    init_schema(eng)
    # June 2022: after the fixture's days, so that every (OPD, day) pair is new and copied straight in
    early = synthetic_frame(_opds(eng), 150, start=date(2022, 6, 2), days=3, seed=21)
    late = synthetic_frame(_opds(eng), 150, start=date(2022, 6, 21), days=3, seed=22)
    with eng.connect() as conn:
        with conn.begin():
            write_checkins(conn, early, source="demo")
        with eng.begin() as side:  # an operator archives June meanwhile
            side.exec_driver_sql("ALTER TABLE checkin DETACH PARTITION checkin_p202206")
            side.exec_driver_sql("ALTER TABLE checkin_p202206 RENAME TO arsip_2022_06")
            archived = side.exec_driver_sql("SELECT COUNT(*) FROM arsip_2022_06").scalar()
        with conn.begin():
            added = write_checkins(conn, late, source="demo")
    with eng.connect() as conn:
        assert conn.exec_driver_sql("SELECT COUNT(*) FROM arsip_2022_06").scalar() == archived == len(early)
        assert conn.exec_driver_sql(
            "SELECT COUNT(*) FROM checkin WHERE day BETWEEN '2022-06-01' AND '2022-06-30'").scalar() == added > 0

    csv = "waktu;kode_venue;status;nik\n" + "".join(
        f"1{d}/06/2021 08.{m:02d};BKL019-DISKOMINFO;Hijau;35260199990000{m:02d}\n" for d in range(3) for m in range(10))
    res = import_bytes(engine=eng, actor=SYSTEM, data=csv.encode(), file_name="juni2021.csv")
    assert res.rows_loaded == 30
    counts = _per_partition(eng)
    assert counts.get("checkin_default", 0) == 0 and counts["checkin_p202106"] == 30


# ------------------------------------------------ empty months loaded unindexed (CheckinWriter._begin_load)
def _june_july_file(rows: int) -> str:
    """Scans over June and July 2022 (empty months in the fixture), one in three repeating a scan
    40 rows earlier, so that with small pieces repeats fall in later pieces (rows held back)."""
    lines = ["waktu,kode_venue,jenis_pengunjung,status,hasil,nik"]
    for i in range(rows):
        j = i - 40 if i >= 40 and i % 3 == 0 else i
        lines.append(f"2022-{6 + j % 2:02d}-{1 + j % 28:02d} {7 + j % 9:02d}:{j % 60:02d}:{j % 7:02d},"
                     f"{['BKL019-DISKOMINFO', 'Dinas Kesehatan', 'Inspektorat'][j % 3]},"
                     f"{['ASN', 'tamu'][j % 2]},{['hijau', 'kuning', 'merah', 'hitam'][j % 4]},,{j % 37}")
    return "\n".join(lines) + "\n"


def _relids(engine, *names: str) -> dict[str, int]:
    with engine.connect() as conn:
        return {n: conn.exec_driver_sql(f"SELECT '{n}'::regclass::oid").scalar() for n in names}


def _leftovers(engine) -> list[str]:
    with engine.connect() as conn:
        return conn.exec_driver_sql("SELECT relname FROM pg_class WHERE relname LIKE 'checkin_load%%'").scalars().all()


def _constraints(engine, partition: str) -> list[tuple]:
    with engine.connect() as conn:
        return sorted(conn.exec_driver_sql(
            "SELECT replace(conname, %(p)s, 'P'), contype, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = %(p)s::regclass", {"p": partition}).all())


def _import(engine, text: str, **kw):
    from data_access.auth import Actor
    from data_access.importer import import_bytes

    return import_bytes(engine=engine, actor=Actor("kominfo", "kominfo"), data=text.encode(), file_name="jj.csv", **kw)


@pytest.mark.parametrize("populated_0010", ["postgresql"], indirect=True)
def test_a_large_write_loads_empty_months_without_their_index_then_puts_them_in_place(populated_0010, monkeypatch):
    """A write with many rows of an empty month copies them into a plain table, builds its key
    once and attaches it in place of the empty partition: the same rows, counts and rollups as
    the usual way (scans repeated across pieces counted once), the partition shaped as every
    other, nothing left behind. A dry run never does it; a later write into the month (not
    empty now) goes the usual way and finds every scan stored."""
    from data_access import importer
    from data_access.db import init_schema
    from tests.test_data_layer import assert_rollups_match_full_recompute

    eng = populated_0010
    init_schema(eng)
    monkeypatch.setattr(importer, "PIECE_ROWS", 50)
    monkeypatch.setattr(checkins, "LOAD_MONTH_ROWS", 5)
    text = _june_july_file(600)
    before = _relids(eng, "checkin_p202206", "checkin_p202207")
    shape = _constraints(eng, "checkin_p202205")

    dry = _import(eng, text, dry_run=True)
    assert _relids(eng, "checkin_p202206", "checkin_p202207") == before and _leftovers(eng) == []
    res = _import(eng, text)
    assert (res.rows_loaded, res.rows_duplicate) == (dry.rows_loaded, dry.rows_duplicate)
    assert res.rows_loaded + res.rows_duplicate == 600 and res.rows_duplicate == 200 - 14  # i >= 40, i % 3 == 0
    after = _relids(eng, "checkin_p202206", "checkin_p202207")
    assert all(after[n] != before[n] for n in before)  # each month's table is the loaded one
    assert _leftovers(eng) == []
    for name in before:
        assert _constraints(eng, name) == shape
    counts = _per_partition(eng)
    assert counts["checkin_p202206"] + counts["checkin_p202207"] == res.rows_loaded
    assert counts.get("checkin_default", 0) == 0
    assert_rollups_match_full_recompute(eng)

    again = _import(eng, text)
    assert (again.rows_loaded, again.rows_duplicate) == (0, 600)
    assert _relids(eng, "checkin_p202206", "checkin_p202207") == after


@pytest.mark.parametrize("populated_0010", ["postgresql"], indirect=True)
def test_a_month_another_writer_holds_or_a_reader_keeps_goes_in_the_usual_way(populated_0010, monkeypatch, caplog):
    """A month whose partition cannot be detached at the end (a reader keeps it open in its
    transaction, another writer has rows in it not yet committed) has its loaded rows copied
    into the partition instead, without waiting on the other writer meanwhile. Every row is
    stored once, the rollups agree, and no load table remains."""
    from data_access import importer
    from data_access.db import init_schema
    from tests.test_data_layer import assert_rollups_match_full_recompute

    eng = populated_0010
    init_schema(eng)
    monkeypatch.setattr(importer, "PIECE_ROWS", 50)
    monkeypatch.setattr(checkins, "LOAD_MONTH_ROWS", 5)
    monkeypatch.setattr(checkins, "SWAP_LOCK_WAIT", 0.2)
    before = _relids(eng, "checkin_p202206", "checkin_p202207")
    opd = _opds(eng)["id"].iloc[0]
    with eng.connect() as writer, eng.connect() as reader:
        writer.begin()
        writer.exec_driver_sql(
            "INSERT INTO checkin_p202207 (opd_id, ts, day, hour, visitor_type, status, outcome, visitor_key, source) "
            f"VALUES ({int(opd)}, '2022-07-30 01:00', '2022-07-30', 8, 'asn', 'hijau', 'diterima', 'lain', 'demo')")
        reader.begin()
        reader.exec_driver_sql("SELECT COUNT(*) FROM checkin_p202206").scalar()  # June's partition stays open
        with caplog.at_level("INFO", logger="data_access.checkins"):
            res = _import(eng, _june_july_file(600))
        assert "checkin_p202206 copied into its partition" in caplog.text  # the reader
        assert "checkin_p202207 copied into its partition" in caplog.text  # the other writer
        assert _relids(eng, "checkin_p202206", "checkin_p202207") == before  # both partitions kept
        reader.rollback()
        writer.commit()
    assert res.rows_loaded == 600 - 186 and _leftovers(eng) == []
    counts = _per_partition(eng)
    assert counts["checkin_p202206"] + counts["checkin_p202207"] == res.rows_loaded + 1
    with eng.begin() as conn:  # the other writer's row has no rollup of its own: recompute July's
        refresh_rollups(conn, day_from=date(2022, 7, 1), day_to=date(2022, 7, 31))
    assert_rollups_match_full_recompute(eng)


def _read_copy(parts: list[bytes]) -> list[tuple]:
    """PostgreSQL's binary COPY stream read back: each row's fields as bytes (None for NULL)."""
    import struct

    data = b"".join(parts)
    assert data[:11] == b"PGCOPY\n\xff\r\n\x00" and data[-2:] == b"\xff\xff"
    pos, rows = 19, []
    while pos < len(data) - 2:
        (n,) = struct.unpack_from(">h", data, pos)
        pos += 2
        row = []
        for _ in range(n):
            (size,) = struct.unpack_from(">i", data, pos)
            pos += 4
            row.append(None if size < 0 else data[pos:pos + size])
            pos += max(size, 0)
        rows.append(tuple(row))
    return rows


@pytest.mark.parametrize("batch_id", [None, 7])
def test_copy_records_of_any_subset_are_the_rows_taken(batch_id):
    """The COPY data built once per unit (grouped by month and layout) gives, for any subset of
    its rows (a month's, one with rows left out, none), exactly those rows with their values."""
    import struct

    import numpy as np

    from data_access.checkins import PG_COLUMNS, VOCABULARY, _piece, _PgRecords

    opds = pd.DataFrame({"id": range(1, 12), "asn_headcount": [40] * 11})
    frame = synthetic_frame(opds, 3_000, start=date(2022, 1, 25), days=70, seed=5)
    frame.loc[frame.index[::7], "visitor_key"] = "k"  # keys of another length: another layout
    piece = _piece(frame)
    records = _PgRecords(piece, source="import", batch_id=batch_id)
    c = piece.cols
    month = c["day"].astype("int64").astype("datetime64[D]").astype("datetime64[M]")
    rng = np.random.default_rng(3)
    subsets = [np.arange(piece.rows), np.array([], dtype="int64")]
    subsets += [np.flatnonzero(month == m) for m in np.unique(month)]
    subsets += [np.flatnonzero((month == m) & (rng.random(piece.rows) < 0.9)) for m in np.unique(month)]
    keys = piece.texts["visitor_key"].to_pylist()
    for take in subsets:
        got = sorted(_read_copy(records.copy_data(take)))
        want = []
        for i in take.tolist():
            want.append((
                struct.pack(">i", int(c["opd_id"][i])),
                struct.pack(">q", (int(c["ts"][i].astype("int64")) - 946_684_800) * 1_000_000),
                struct.pack(">i", int(c["day"][i].astype("int64")) - 10_957),
                struct.pack(">h", int(c["hour"][i])),
                keys[c["visitor_key"][i]].encode(),
                b"import",
                None if batch_id is None else struct.pack(">i", batch_id),
                *(VOCABULARY[k][c[k][i]].encode() for k in PG_COLUMNS[7:]),
            ))
        assert got == sorted(want)


@pytest.mark.parametrize("populated_0010", ["postgresql"], indirect=True)
def test_a_month_another_writer_fills_meanwhile_keeps_its_rows_and_each_scan_once(populated_0010, monkeypatch,
                                                                                   caplog):
    """Another writer stores and commits a row in a month while this write loads it (one of
    this file's scans): the loaded rows are copied into the partition, that scan is stored and
    counted once, and the rollups are recomputed to agree."""
    from data_access import config, importer
    from data_access.checkins import pseudonymise
    from data_access.db import init_schema
    from tests.test_data_layer import assert_rollups_match_full_recompute

    eng = populated_0010
    init_schema(eng)
    monkeypatch.setattr(importer, "PIECE_ROWS", 50)
    monkeypatch.setattr(checkins, "LOAD_MONTH_ROWS", 5)
    with eng.connect() as conn:
        opd = conn.exec_driver_sql("SELECT id FROM opd WHERE venue_code = 'BKL019-DISKOMINFO'").scalar()
    key = pseudonymise("0", config.pseudonym_key(), kind="nik")
    done = []

    def meanwhile(rows, total):
        if not done:  # the file's first scan (2022-06-01 07:00:00 WIB), stored by someone else
            with eng.begin() as side:
                side.exec_driver_sql(
                    "INSERT INTO checkin (opd_id, ts, day, hour, visitor_type, status, outcome, visitor_key, source) "
                    f"VALUES ({opd}, '2022-06-01 00:00', '2022-06-01', 7, 'asn', 'hijau', 'diterima', '{key}', 'demo')")
            done.append(rows)

    with caplog.at_level("INFO", logger="data_access.checkins"):
        res = _import(eng, _june_july_file(600), progress=meanwhile)
    assert done and "checkin_p202206 copied into its partition" in caplog.text
    assert "checkin_p202207 copied" not in caplog.text
    assert (res.rows_loaded, res.rows_duplicate) == (600 - 186 - 1, 186 + 1)
    counts = _per_partition(eng)
    assert counts["checkin_p202206"] + counts["checkin_p202207"] == res.rows_loaded + 1 and _leftovers(eng) == []
    assert_rollups_match_full_recompute(eng)
