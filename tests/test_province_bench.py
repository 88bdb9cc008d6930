"""The province bench on a CI scale: a synthetic registry of 200 OPDs in East Java's 38 regencies
and 200.000 check-ins; the pages' figures (rollups) equal the naive route's (raw check-ins
grouped in pandas) on SQLite and PostgreSQL, and the command reports it."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta

import pytest
from sqlalchemy import text

from benchmark.runner import figure_differences, fill, fresh_database
from data_access.calendar import SURAT_EDARAN_DATE
from data_access.synthetic import KABUPATEN, synthetic_registry
from tests.conftest import IN_CI, ROOT, TEST_DB, _fresh_server_db

OPDS, ROWS = 200, 200_000


def test_synthetic_registry_spans_the_province():
    rows = synthetic_registry(2000)
    assert len(rows) == 2000 and len({r["code"] for r in rows}) == 2000
    assert {r["kabupaten"] for r in rows} == set(KABUPATEN) and len(KABUPATEN) == 38
    assert len({r["venue_code"] for r in rows if r["venue_code"]}) == sum(1 for r in rows if r["venue_code"])
    # Bangkalan's registry is the real one, unchanged
    assert sum(r["kabupaten"] == "Bangkalan" for r in rows) == len(synthetic_registry(0))


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_province_figures_equal_the_naive_route(backend, tmp_path, monkeypatch):
    monkeypatch.setenv("PANTAU_DATA_DIR", str(tmp_path))
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'prov.db'}"
    else:
        try:
            url = _fresh_server_db(backend, f"{TEST_DB}_prov")
        except Exception as exc:
            if IN_CI:
                raise
            pytest.skip(f"{backend} not reachable: {exc.__class__.__name__}")
    engine = fresh_database(url, opds=OPDS)
    fill(engine, ROWS, chunk=100_000)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM opd")).scalar() == OPDS
        assert conn.execute(text("SELECT COUNT(DISTINCT kabupaten) FROM opd")).scalar() == 38
        assert conn.execute(text("SELECT COUNT(*) FROM checkin")).scalar() > ROWS * 0.99
    start = SURAT_EDARAN_DATE
    assert figure_differences(engine, start, start + timedelta(days=364)) == []
    assert figure_differences(engine, start + timedelta(days=40), start + timedelta(days=100)) == []
    engine.dispose()


def test_bench_command_with_a_province(tmp_path):
    env = {**os.environ, "PANTAU_DATA_DIR": str(tmp_path)}
    env.pop("DATABASE_URL", None)
    r = subprocess.run([sys.executable, "-m", "data_access", "--database-url", f"sqlite:///{tmp_path / 'b.db'}",
                        "bench", "--opds", "120", "--rows", "30000", "--import-rows", "0", "--users", "0", "--json"],
                       cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    out = json.loads(r.stdout)
    assert out["opds"] == 120 and out["kabupaten"] == 38
    assert out["figures_match"] and out["figure_differences"] == []
    assert len(out["pages"]) == 8 and all(p["fast_ms"] > 0 and p["naive_ms"] > 0 for p in out["pages"])
