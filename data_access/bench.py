"""`python -m data_access bench`: measured figures for the README's 'Skala' section.

It generates N check-ins into a fresh database at the given URL, then prints, for each page,
the time to compute its data from the rollups and the time the same figures take by the
naive route (raw check-ins read into pandas and grouped there), the ratio, the import speed
of a generated CSV in rows per second, the peak memory, and the slowest page of twenty
concurrent sessions."""
from __future__ import annotations

import gc
import os
import resource
import statistics
import tempfile
import threading
import time
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import Engine, insert, inspect, select, text

from . import queries as q
from .calendar import SURAT_EDARAN_DATE, now_utc, workdays
from .checkins import write_checkins
from .db import SQLITE_PAGE_SIZE, after_bulk_write, get_meta, init_schema, make_engine, set_meta
from .demo import holds_real_data
from .models import Checkin, Opd, User
from .registry import load_registry

STATUSES = np.array(["hijau", "kuning", "merah", "hitam"])
STATUS_P = np.array([0.9, 0.05, 0.04, 0.01])


def synthetic_frame(opds: pd.DataFrame, rows: int, *, start: date, days: int, seed: int) -> pd.DataFrame:
    """`rows` check-ins spread over `days` from `start`, over the OPDs in proportion to headcount."""
    rng = np.random.default_rng(seed)
    weights = opds["asn_headcount"].to_numpy(dtype=float)
    opd = rng.choice(opds["id"].to_numpy(), size=rows, p=weights / weights.sum())
    day = rng.integers(0, days, size=rows)
    secs = (rng.normal(7.6, 1.8, size=rows).clip(6, 17) * 3600).astype("int64")
    base = np.datetime64(start) + day.astype("timedelta64[D]")
    ts = base.astype("datetime64[s]") + secs.astype("timedelta64[s]") - np.timedelta64(7, "h")
    status = rng.choice(STATUSES, size=rows, p=STATUS_P)
    vtype = np.where(rng.random(rows) < 0.7, "asn", "pengunjung")
    person = rng.integers(0, max(rows // 40, 1000), size=rows)
    keys = np.char.add("k", person.astype(str))
    return pd.DataFrame({
        "opd_id": opd, "ts": pd.to_datetime(ts).tz_localize("UTC"), "visitor_type": vtype, "status": status,
        "outcome": np.where((status == "merah") | (status == "hitam"), "ditolak", "diterima"),
        "visitor_key": keys,
    })


def fresh_database(url: str) -> Engine:
    engine = make_engine(url)
    insp = inspect(engine)
    names = insp.get_table_names()
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            for t in names:
                conn.execute(text(f'DROP TABLE IF EXISTS "{t}" CASCADE'))
        else:  # foreign keys off for the drops (SQLite allows that only outside a transaction)
            sqlite = engine.dialect.name == "sqlite"
            conn.execute(text("PRAGMA foreign_keys=OFF" if sqlite else "SET FOREIGN_KEY_CHECKS=0"))
            conn.commit()
            for t in names:
                conn.execute(text(f"DROP TABLE IF EXISTS {t}"))
            conn.commit()
            conn.execute(text("PRAGMA foreign_keys=ON" if sqlite else "SET FOREIGN_KEY_CHECKS=1"))
        conn.commit()
        if engine.dialect.name == "sqlite" and engine.url.database not in (None, "", ":memory:"):
            # the emptied file rebuilt with the page size a new database gets
            # (a page size can change only outside write-ahead-log mode)
            for sql in ("PRAGMA journal_mode=DELETE", f"PRAGMA page_size={SQLITE_PAGE_SIZE}", "VACUUM",
                        "PRAGMA journal_mode=WAL"):
                conn.exec_driver_sql(sql)
    init_schema(engine)
    with engine.begin() as conn:
        load_registry(conn)
    return engine


def fill(engine: Engine, rows: int, *, days: int = 365, seed: int = 1, chunk: int = 1_000_000) -> float:
    """Write `rows` synthetic check-ins (with rollups) in chunks of consecutive days, as monthly
    imports would arrive; returns seconds."""
    with engine.connect() as conn:
        opds = pd.read_sql(select(Opd.id, Opd.asn_headcount), conn)
    t0 = time.perf_counter()
    parts = max(1, -(-rows // chunk))
    done = 0
    part = 0
    while done < rows:
        n = min(chunk, rows - done)
        first = part * days // parts
        span = max((part + 1) * days // parts - first, 1)
        frame = synthetic_frame(opds, n, start=SURAT_EDARAN_DATE + timedelta(days=first), days=span, seed=seed + part)
        with engine.begin() as conn:
            write_checkins(conn, frame, source="demo")
        done += n
        part += 1
        del frame
        gc.collect()
    return time.perf_counter() - t0


# ------------------------------------------------------------- per page: fast and naive routes
def page_queries(start: date, end: date) -> dict[str, list[tuple[str, dict]]]:
    kw = {"start": start, "end": end, "opd_ids": None}
    return {
        "Ringkasan": [("opd_overview", kw), ("totals", kw), ("onboarding_progress", kw), ("daily_counts", kw)],
        "Adopsi per OPD": [("adoption_table", kw), ("coverage_weekly", kw)],
        "Peta adopsi": [("opd_overview", kw)],  # the default view; the kecamatan view reads kecamatan_summary
        "Peta (per kecamatan)": [("kecamatan_summary", kw)],
        "Onboarding OPD": [("opd_overview", kw), ("pipeline_weekly", kw)],
        "Tren penolakan": [("refusals_daily", kw), ("refusals_by_opd", kw), ("refusals_by_visitor_type", kw),
                           ("refusal_heatmap", kw), ("merah_by_kecamatan", kw)],
        "Monev dan kunjungan": [("opd_overview", kw)],
    }


def naive_page(engine: Engine, page: str, start: date, end: date) -> None:
    """The same figures the naive way: read the raw check-ins of the period into pandas and group."""
    c = Checkin
    cols = [c.opd_id, c.day, c.hour, c.visitor_type, c.status, c.outcome, c.visitor_key]
    with engine.connect() as conn:
        raw = pd.read_sql(select(*cols).where(c.day >= start, c.day <= end), conn)
        reg = pd.read_sql(select(Opd.id, Opd.asn_headcount, Opd.kecamatan), conn)
    raw["day"] = pd.to_datetime(raw["day"])
    refused = raw["outcome"] == "ditolak"
    asn = raw[raw["visitor_type"] == "asn"]
    wd = pd.to_datetime(pd.Series(workdays(start, end)))
    per_day = asn[asn["day"].isin(wd)].groupby(["opd_id", "day"])["visitor_key"].nunique().reset_index()
    per_day = per_day.merge(reg, left_on="opd_id", right_on="id")
    per_day["capped"] = per_day[["visitor_key", "asn_headcount"]].min(axis=1)
    per_day.groupby("opd_id")["capped"].sum()
    raw.groupby("opd_id").agg(n=("status", "size"), last=("day", "max"))
    if page in ("Ringkasan", "Tren penolakan"):
        raw.groupby(["day", "status"])["outcome"].size()
        raw[refused].groupby(["day", "status"]).size()
    if page == "Tren penolakan":
        raw.assign(dow=raw["day"].dt.day_of_week).groupby(["dow", "hour"])["outcome"].apply(lambda s: (s == "ditolak").sum())
        raw.groupby("visitor_type")["outcome"].value_counts()
    if page in ("Adopsi per OPD", "Peta adopsi", "Peta (per kecamatan)"):
        per_day.assign(week=per_day["day"].dt.to_period("W")).groupby(["week", "opd_id"])["capped"].sum()
    del raw, asn, per_day


def time_it(fn, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def measure_pages(engine: Engine, start: date, end: date, *, naive: bool = True) -> list[dict]:
    out = []
    for page, calls in page_queries(start, end).items():
        fast = time_it(lambda: [getattr(q, name)(engine=engine, **kw) for name, kw in calls])
        row = {"page": page, "fast_ms": round(fast * 1000, 1)}
        if naive:
            slow = time_it(lambda: naive_page(engine, page, start, end), repeat=1)
            row["naive_ms"] = round(slow * 1000, 1)
            row["ratio"] = round(slow / fast, 1) if fast > 0 else None
        out.append(row)
    return out


def generate_csv(path: Path, rows: int, *, seed: int = 5) -> None:
    """A CSV export as an office would produce it (semicolon, Indonesian dates, names)."""
    rng = np.random.default_rng(seed)
    day = rng.integers(0, 180, size=rows)
    mins = rng.integers(6 * 60, 16 * 60, size=rows)
    secs = rng.integers(0, 60, size=rows)
    base = np.datetime64("2023-01-02") + day.astype("timedelta64[D]")
    stamp = pd.to_datetime(base) + pd.to_timedelta(mins, unit="m") + pd.to_timedelta(secs, unit="s")
    nik = (3526000000000000 + rng.integers(0, rows // 20 + 1000, size=rows)).astype(str)
    status = rng.choice(["Hijau", "HIJAU", "green", "Kuning", "Merah", "RED", "Hitam"], size=rows,
                        p=[0.5, 0.2, 0.18, 0.05, 0.04, 0.02, 0.01])
    frame = pd.DataFrame({
        "Waktu": stamp.strftime("%d/%m/%Y %H.%M.%S"), "Kode Venue": rng.choice(CSV_VENUES, size=rows),
        "Jenis Pengunjung": rng.choice(["ASN", "Pengunjung"], size=rows, p=[0.7, 0.3]), "Status": status, "NIK": nik,
    })
    frame.to_csv(path, sep=";", index=False)


CSV_VENUES = ["BKL019-DISKOMINFO", "BKL033-RSUD", "BKL011-DINKES", "BKL020-DISKAN", "BKL022-DPMPTSP",
              "Dinas Pertanian", "Inspektorat"]


def measure_import(engine: Engine, rows: int, workdir: Path) -> dict:
    from .auth import SYSTEM
    from .importer import import_file

    path = workdir / f"bench-{rows}.csv"
    generate_csv(path, rows)
    t0 = time.perf_counter()
    res = import_file(engine=engine, actor=SYSTEM, path=path)
    secs = time.perf_counter() - t0
    path.unlink(missing_ok=True)
    return {"rows": rows, "seconds": round(secs, 2), "rows_per_second": int(rows / secs),
            "loaded": res.rows_loaded, "rejected": res.rows_rejected, "duplicate": res.rows_duplicate}


def concurrent_sessions(url: str, users: int = 20) -> dict:
    """`users` sessions render the overview at the same moment, as one Streamlit server runs
    them: one process, a thread per session, one shared data cache, cleared first (cold)."""
    os.environ["DATABASE_URL"] = url
    _quiet_streamlit()
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    root = _server_started()
    times: list[float] = []
    errors: list[str] = []
    barrier = threading.Barrier(users)

    def one() -> None:
        at = AppTest.from_file(str(root / "pages" / "ringkasan.py"), default_timeout=300)
        at.session_state["auth"] = {"username": BENCH_USER, "role": "pimpinan", "seen": time.time(), "sso": False}
        barrier.wait()
        t0 = time.perf_counter()
        try:
            at.run()
        except Exception as exc:  # noqa: BLE001 - counted, reported
            errors.append(f"{exc.__class__.__name__}: {exc}")
        else:
            if at.exception:
                errors.append(at.exception[0].message)
            elif len(at.metric) != 6:
                errors.append("ringkasan tanpa angka")
        times.append(time.perf_counter() - t0)

    st.cache_data.clear()
    st.cache_resource.clear()
    threads = [threading.Thread(target=one) for _ in range(users)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    return {"users": users, "errors": len(errors), "slowest_s": round(max(times), 2),
            "median_s": round(statistics.median(times), 2), "wall_s": round(wall, 2),
            "first_error": errors[0] if errors else None}


def _concurrent_worker(args) -> dict:
    url, users = args
    return concurrent_sessions(url, users)


def _quiet_streamlit() -> None:
    """Sessions run by AppTest outside a server have no runtime; Streamlit warns so on every
    cached call. Expected here: keep the benchmark's output to its figures."""
    import logging

    for name in ("streamlit", "streamlit.runtime.caching.cache_data_api",
                 "streamlit.runtime.scriptrunner_utils.script_run_context"):
        logging.getLogger(name).addFilter(lambda record: record.levelno >= logging.ERROR)


def _server_started() -> Path:
    """Bring this process to the state of a running Streamlit server: Streamlit's own machinery
    loaded by one page run. AppTest also scans every installed package for components on each
    run (~0,5 s here, holding the GIL); a server does that once at start, so the measured runs
    leave it out. Returns the project root."""
    from streamlit.testing.v1 import AppTest

    root = Path(__file__).resolve().parent.parent
    warm = AppTest.from_file(str(root / "pages" / "akun.py"), default_timeout=120)
    warm.session_state["auth"] = {"username": BENCH_USER, "role": "pimpinan", "seen": time.time(), "sso": False}
    warm.run()
    from streamlit.components.v2.component_manager import BidiComponentManager

    BidiComponentManager.discover_and_register_components = lambda self, **kw: None
    return root


def cold_apptest(url: str) -> float:
    """Seconds for an AppTest run of the overview with empty Streamlit caches (data and engine),
    in a process whose modules are already imported (as in a running server)."""
    os.environ["DATABASE_URL"] = url
    _quiet_streamlit()
    import plotly.graph_objects  # noqa: F401 - imported by the page; a server has it loaded
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    import ui.charts  # noqa: F401
    import ui.common  # noqa: F401

    root = _server_started()
    runs = []
    for _ in range(3):  # the median of three cold runs: one run on this shared machine varies by ±40 %
        st.cache_data.clear()
        st.cache_resource.clear()
        at = AppTest.from_file(str(root / "pages" / "ringkasan.py"), default_timeout=120)
        at.session_state["auth"] = {"username": BENCH_USER, "role": "pimpinan", "seen": time.time(), "sso": False}
        t0 = time.perf_counter()
        at.run()
        runs.append(time.perf_counter() - t0)
        if at.exception or len(at.metric) != 6:
            raise RuntimeError("Ringkasan gagal dirender dalam AppTest")
    return statistics.median(runs)


def peak_rss_mb() -> float:
    """This process's peak resident memory (VmHWM, which, unlike ru_maxrss, starts afresh at exec)."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


BENCH_USER = "bench"


def _fast_worker(args) -> dict:
    """In a child process: every page's data from the rollups; the process's peak memory."""
    url, start, end = args
    engine = make_engine(url)
    rows = measure_pages(engine, start, end, naive=False)
    return {"pages": rows, "peak_mb": round(peak_rss_mb(), 1)}


def _naive_worker(args) -> dict:
    url, start, end = args
    engine = make_engine(url)
    out = {}
    for page in page_queries(start, end):
        out[page] = round(time_it(lambda: naive_page(engine, page, start, end), repeat=1) * 1000, 1)
    return {"naive": out, "peak_mb": round(peak_rss_mb(), 1)}


def _in_child(fn, args):
    """Run in a fresh (spawned) process, so its peak memory is its own."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as ex:
        return ex.submit(fn, args).result()


def run_bench(*, url: str, rows: int, import_rows: int = 1_000_000, users: int = 20, log=print) -> dict:
    """The whole benchmark; returns the figures (and logs progress lines)."""
    import platform

    engine = make_engine(url)
    if inspect(engine).has_table("import_batch"):
        with engine.connect() as conn:
            if holds_real_data(conn) and get_meta(conn, "bench") != "true":
                raise ValueError("Basis data ini berisi data impor; bench hanya berjalan pada basis data uji.")
    engine.dispose()
    log(f"Menyiapkan basis data baru ({engine.dialect.name}) ...")
    engine = fresh_database(url)
    with engine.begin() as conn:
        set_meta(conn, "bench", "true")  # this database may be emptied by the next bench run
        conn.execute(insert(User).values(username=BENCH_USER, password_hash=None, role="pimpinan", active=True,
                                         failed_logins=0, created_at=now_utc()))
    log(f"Menulis {rows:,} check-in sintetis (setahun) ...".replace(",", "."))
    fill_s = fill(engine, rows)
    after_bulk_write(engine)  # as the importer leaves the database after a large import
    start, end = SURAT_EDARAN_DATE, SURAT_EDARAN_DATE + timedelta(days=364)
    log("Mengukur halaman: jalur rollup ...")
    fast = _in_child(_fast_worker, (url, start, end))
    log("Mengukur halaman: jalur naif (check-in mentah ke pandas) ...")
    naive = _in_child(_naive_worker, (url, start, end))
    pages = []
    for row in fast["pages"]:
        n = naive["naive"][row["page"]]
        pages.append({**row, "naive_ms": n, "ratio": round(n / row["fast_ms"], 1) if row["fast_ms"] else None})
    log("Mengukur halaman lewat AppTest (cache dingin) ...")
    cold = _in_child(cold_apptest, url)
    result = {
        "machine": f"{platform.machine()}, {os.cpu_count()} inti, Python {platform.python_version()}",
        "database": engine.dialect.name, "rows": rows, "fill_seconds": round(fill_s, 1),
        "fill_rows_per_second": int(rows / fill_s) if fill_s else None,
        "pages": pages, "fast_route_peak_mb": fast["peak_mb"], "naive_route_peak_mb": naive["peak_mb"],
        "apptest_cold_s": round(cold, 3),
    }
    if import_rows:
        log(f"Mengukur impor CSV {import_rows:,} baris ...".replace(",", "."))
        with tempfile.TemporaryDirectory() as d:
            result["import"] = _in_child(_import_worker, (url, import_rows, d))
    if users:
        log(f"{users} sesi bersamaan ...")
        result["concurrent"] = _in_child(_concurrent_worker, (url, users))
    engine.dispose()
    return result


def _import_worker(args) -> dict:
    url, rows, d = args
    engine = make_engine(url)
    res = measure_import(engine, rows, Path(d))
    res["peak_mb"] = round(peak_rss_mb(), 1)
    return res


def format_report(r: dict) -> str:
    from .fmt import fmt_dec, fmt_int

    lines = [f"Mesin: {r['machine']}", f"Basis data: {r['database']}, {fmt_int(r['rows'])} check-in "
             f"(ditulis dalam {fmt_dec(r['fill_seconds'])} dtk, {fmt_int(r['fill_rows_per_second'])} baris/dtk)", "",
             f"{'Halaman':<22} {'rollup (ms)':>12} {'naif (ms)':>12} {'rasio':>8}"]
    for p in r["pages"]:
        lines.append(f"{p['page']:<22} {fmt_dec(p['fast_ms']):>12} {fmt_dec(p['naive_ms']):>12} "
                     f"{fmt_dec(p['ratio']) + 'x':>8}")
    lines += ["", f"Memori puncak jalur rollup: {fmt_dec(r['fast_route_peak_mb'])} MB; "
              f"jalur naif: {fmt_dec(r['naive_route_peak_mb'])} MB",
              f"Halaman Ringkasan lewat AppTest, cache dingin: {fmt_dec(r['apptest_cold_s'], 3)} dtk"]
    if "import" in r:
        i = r["import"]
        lines.append(f"Impor CSV: {fmt_int(i['rows'])} baris dalam {fmt_dec(i['seconds'])} dtk = "
                     f"{fmt_int(i['rows_per_second'])} baris/dtk (memori puncak {fmt_dec(i['peak_mb'])} MB)")
    if "concurrent" in r:
        c = r["concurrent"]
        lines.append(f"{c['users']} sesi bersamaan: {c['errors']} galat, terlambat {fmt_dec(c['slowest_s'], 2)} dtk, "
                     f"median {fmt_dec(c['median_s'], 2)} dtk")
    return "\n".join(lines)
