"""Scale: the same data gives the same figures on SQLite, PostgreSQL and MariaDB for every
page; the bench command runs end to end (its timings are printed, never asserted)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from data_access import queries as q
from data_access.checkins import write_checkins
from data_access.db import init_schema, make_engine
from data_access.registry import load_registry
from data_access.synthetic import page_queries, synthetic_frame
from tests.conftest import _server_url, _wipe

ROOT = Path(__file__).resolve().parent.parent


def _normalise(v):
    if isinstance(v, pd.DataFrame):
        df = v.copy()
        for c in df.columns:
            if df[c].dtype == object or str(df[c].dtype).startswith(("str", "string")):
                df[c] = df[c].map(lambda x: x.isoformat() if hasattr(x, "isoformat") else x)
            elif str(df[c].dtype).startswith("datetime"):
                df[c] = df[c].dt.strftime("%Y-%m-%d")
            elif str(df[c].dtype) == "bool":
                df[c] = df[c].astype(int)
        sort_cols = [c for c in df.columns if c in ("opd_id", "id", "day", "week", "week_end", "stage", "kecamatan",
                                                     "dow", "hour", "visitor_type")]
        return df.sort_values(sort_cols).reset_index(drop=True) if sort_cols else df.reset_index(drop=True)
    return v


def test_identical_figures_on_all_databases(tmp_path, monkeypatch):
    monkeypatch.setenv("PANTAU_DATA_DIR", str(tmp_path))
    engines = {"sqlite": make_engine(f"sqlite:///{tmp_path / 'x.db'}")}
    init_schema(engines["sqlite"])
    for backend in ("postgresql", "mariadb"):
        engines[backend] = make_engine(_server_url(backend))
        _wipe(engines[backend])
    start = date(2022, 1, 5)
    for eng in engines.values():
        with eng.begin() as conn:
            load_registry(conn)
        opds = q.opd_registry(engine=eng)[["id", "asn_headcount"]]
        frame = synthetic_frame(opds, 30_000, start=start, days=60, seed=3)
        # a second write overlapping the first: the recompute path as well as the fast path
        with eng.begin() as conn:
            write_checkins(conn, frame.iloc[:20_000], source="demo")
        with eng.begin() as conn:
            write_checkins(conn, frame.iloc[15_000:], source="demo")
    end = date(2022, 3, 5)
    calls = {name: kw for page in page_queries(start, end).values() for name, kw in page}
    calls["refusals_by_opd"] = {"start": start, "end": end, "opd_ids": [1, 5, 19, 33]}
    for name, kw in calls.items():
        results = {b: _normalise(getattr(q, name)(engine=e, **kw)) for b, e in engines.items()}
        base = results["sqlite"]
        for b in ("postgresql", "mariadb"):
            if isinstance(base, pd.DataFrame):
                pd.testing.assert_frame_equal(base, results[b], check_dtype=False, check_exact=False, rtol=1e-9,
                                              obj=f"{name} on {b}")
            elif isinstance(base, float):
                assert results[b] == pytest.approx(base, rel=1e-9), name
            else:
                assert results[b] == base, (name, b)
    tot = q.totals(engine=engines["mariadb"], start=start, end=end)
    assert tot["checkins"] == 30_000 - int(pd.DataFrame(frame).duplicated(["opd_id", "ts", "visitor_key"]).sum())
    for e in engines.values():
        e.dispose()


def test_bench_command_runs(tmp_path):
    env = {**os.environ, "PANTAU_DATA_DIR": str(tmp_path)}
    env.pop("DATABASE_URL", None)
    url = f"sqlite:///{tmp_path / 'bench.db'}"
    r = subprocess.run([sys.executable, "-m", "data_access", "--database-url", url, "bench", "--rows", "20000",
                        "--import-rows", "3000", "--users", "2", "--json"], cwd=ROOT, env=env, capture_output=True,
                       text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    out = json.loads(r.stdout)
    assert out["rows"] == 20000 and len(out["pages"]) == 8
    for p in out["pages"]:
        assert p["fast_ms"] > 0 and p["naive_ms"] > 0 and p["ratio"] > 0
    assert out["import"]["rows"] == 3000 and out["import"]["loaded"] + out["import"]["duplicate"] == 3000
    c = out["concurrent"]
    assert c["users"] == 2 and c["errors"] == 0 and c["at_start"]["errors"] == c["after_warm_up"]["errors"] == 0
    assert c["warm_up_s"] > 0 and c["slowest_s"] == c["after_warm_up"]["slowest_s"] > 0
    assert out["fast_route_peak_mb"] > 0 and out["apptest_cold_s"] > 0
    # a second run empties its own benchmark database first (foreign keys and all)
    again = subprocess.run([sys.executable, "-m", "data_access", "--database-url", url, "bench", "--rows", "5000",
                            "--import-rows", "0", "--users", "0", "--json"], cwd=ROOT, env=env, capture_output=True,
                           text=True, timeout=600)
    assert again.returncode == 0, again.stderr[-2000:]
    assert json.loads(again.stdout)["rows"] == 5000


def test_bench_refuses_real_data(tmp_path):
    from tests.test_cli import cli

    cli("init", data_dir=tmp_path)
    f = tmp_path / "e.csv"
    f.write_text("waktu,venue,status,nik\n2022-01-31 08:15,Diskominfo,hijau,1\n")
    cli("import", str(f), "--quiet", data_dir=tmp_path)
    r = cli("bench", "--rows", "100", data_dir=tmp_path)
    assert r.returncode == 1 and "data impor" in r.stderr
