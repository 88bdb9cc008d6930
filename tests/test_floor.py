"""`python -m benchmark.floor`, the PostgreSQL import's lower bound: it copies every valid row of
the file and builds a key, then leaves the database as it found it; it refuses other databases."""
from __future__ import annotations

import subprocess
import sys

import pytest
from sqlalchemy import inspect, text

from benchmark.floor import TABLE, measure_floor
from data_access import checkins, importer
from benchmark.runner import fresh_database, generate_csv
from tests.conftest import IN_CI, ROOT, TEST_DB, _fresh_server_db


@pytest.fixture
def pg_url(tmp_path, monkeypatch):
    monkeypatch.setenv("PANTAU_DATA_DIR", str(tmp_path))
    try:
        url = _fresh_server_db("postgresql", f"{TEST_DB}_floor")
    except Exception as exc:
        if IN_CI:
            raise
        pytest.skip(f"postgresql not reachable: {exc.__class__.__name__}")
    fresh_database(url).dispose()
    return url


def _stored(url) -> dict:
    from data_access.db import make_engine

    engine = make_engine(url)
    with engine.connect() as conn:
        out = {t: conn.execute(text(f"SELECT COUNT(*) FROM {t}")).scalar()
               for t in ("checkin", "import_batch", "audit_log", "rollup_opd_day")}
        out["checkin_id_seq"] = tuple(conn.execute(text("SELECT last_value, is_called FROM checkin_id_seq")).one())
        out["sequences"] = sorted(r[0] for r in conn.execute(text(
            "SELECT relname FROM pg_class WHERE relkind = 'S'")))
    out["tables"] = sorted(inspect(engine).get_table_names())
    engine.dispose()
    return out


def test_floor_copies_every_row_and_stores_nothing(pg_url, tmp_path, monkeypatch):
    # several pieces and several units per piece, as a large file has
    monkeypatch.setattr(importer, "PIECE_ROWS", 7_000)
    monkeypatch.setattr(checkins, "CHUNK", 3_000)
    path = tmp_path / "f.csv"
    generate_csv(path, 30_000)
    before = _stored(pg_url)
    r = measure_floor(pg_url, path)
    assert r["rows"] == 30_000  # the bench's CSV has no reject: every row copied once (the server's count)
    assert 0 < r["checked"] <= r["done"] and 0 < r["copied"] <= r["key_built"] <= r["done"]
    after = _stored(pg_url)
    assert after == before and TABLE not in after["tables"]  # checkin's id sequence too


def test_floor_refuses_sqlite(tmp_path):
    path = tmp_path / "f.csv"
    generate_csv(path, 10)
    with pytest.raises(ValueError, match="PostgreSQL"):
        measure_floor(f"sqlite:///{tmp_path / 'x.db'}", path)
    assert not (tmp_path / "x.db").exists()  # refused before anything is made


def test_floor_command_refuses_sqlite_before_any_work(tmp_path):
    r = subprocess.run([sys.executable, "-m", "benchmark.floor", "--database-url", f"sqlite:///{tmp_path / 'x.db'}"],
                       cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "hanya untuk PostgreSQL" in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "x.db").exists()


def test_floor_command_prints_its_figures(pg_url, tmp_path):
    r = subprocess.run([sys.executable, "-m", "benchmark.floor", "--database-url", pg_url, "--rows", "20000",
                        "--runs", "1"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert "20.000 baris: diperiksa" in r.stdout and "Batas bawah (median 1 jalankan)" in r.stdout
    assert "baris/dtk" in r.stdout


def test_floor_command_names_an_unreachable_database(tmp_path):
    r = subprocess.run([sys.executable, "-m", "benchmark.floor", "--database-url",
                        "postgresql+psycopg://postgres@127.0.0.1:5432/pantau_tidak_ada", "--rows", "100", "--runs", "1"],
                       cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert "Galat: basis data tidak dapat dihubungi" in r.stderr
