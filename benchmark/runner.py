"""`python -m data_access bench`: measured figures for the README's 'Skala' section.

It generates N check-ins into a fresh database at the given URL, then prints, for each page,
the time to compute its data from the rollups and the time the same figures take by the
naive route (raw check-ins read into pandas and grouped there), the ratio, the import speed
of a generated CSV in rows per second, the peak memory, and the slowest page of twenty
concurrent sessions.

The parts that run the app itself (Streamlit's AppTest) are in `benchmark.app_timing`; the
data package `data_access` imports this package only inside its `bench` command."""
from __future__ import annotations

import gc
import os
import resource
import statistics
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import Engine, insert, inspect, select, text

from data_access import queries as q
from data_access.calendar import SURAT_EDARAN_DATE, now_utc, workdays
from data_access.checkins import write_checkins
from data_access.db import SQLITE_PAGE_SIZE, after_bulk_write, get_meta, init_schema, make_engine, set_meta
from data_access.demo import holds_real_data
from data_access.models import Checkin, Opd, User
from data_access.registry import load_registry
from data_access.rollup_spec import DAILY, HOURLY, OPD_DAY, group_raw
from data_access.synthetic import page_queries, synthetic_frame, synthetic_registry

from .app_timing import BENCH_USER, cold_apptest, concurrent_worker


def fresh_database(url: str, *, opds: int | None = None) -> Engine:
    """An emptied, migrated database with Bangkalan's registry, or with `opds` OPDs of the
    province's synthetic registry (data_access.synthetic.synthetic_registry)."""
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
        if opds:
            conn.execute(insert(Opd), synthetic_registry(opds))
        else:
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
def read_raw(engine: Engine, start: date | None = None, end: date | None = None) -> pd.DataFrame:
    """The raw check-ins (of the period), as pandas reads them from the database; days as datetimes."""
    c = Checkin
    sel = select(c.opd_id, c.day, c.hour, c.visitor_type, c.status, c.outcome, c.visitor_key)
    if start is not None:
        sel = sel.where(c.day >= start)
    if end is not None:
        sel = sel.where(c.day <= end)
    with engine.connect() as conn:
        raw = pd.read_sql(sel, conn)
    raw["day"] = pd.to_datetime(raw["day"])
    return raw


def naive_page(engine: Engine, page: str, start: date, end: date) -> None:
    """The same figures the naive way: read the raw check-ins of the period into pandas and group
    there, the rollups' measures (as rollup_spec defines them) and from them the page's figures."""
    raw = read_raw(engine, start, end)
    with engine.connect() as conn:
        reg = pd.read_sql(select(Opd.id, Opd.asn_headcount, Opd.kecamatan), conn)
    opd_day = group_raw(OPD_DAY, raw, ["checkins", "asn_visitors"])
    wd = pd.to_datetime(pd.Series(workdays(start, end)))
    per_day = opd_day[opd_day["day"].isin(wd)].merge(reg, left_on="opd_id", right_on="id")
    per_day["capped"] = per_day[["asn_visitors", "asn_headcount"]].min(axis=1)
    per_day.groupby("opd_id")["capped"].sum()
    opd_day.groupby("opd_id").agg(n=("checkins", "sum"), last=("day", "max"))
    if page in ("Ringkasan", "Tren penolakan"):
        daily = group_raw(DAILY, raw, ["checkins"])
        daily.groupby(["day", "status"])["checkins"].sum()
        daily[daily["outcome"] == "ditolak"].groupby(["day", "status"])["checkins"].sum()
    if page == "Tren penolakan":
        hourly = group_raw(HOURLY, raw, ["refused"])
        hourly.assign(dow=hourly["day"].dt.day_of_week).groupby(["dow", "hour"])["refused"].sum()
        daily.groupby(["visitor_type", "outcome"])["checkins"].sum()
    if page in ("Adopsi per OPD", "Peta adopsi", "Peta (per kecamatan)", "Peta (per kabupaten/kota)"):
        per_day.assign(week=per_day["day"].dt.to_period("W")).groupby(["week", "opd_id"])["capped"].sum()
    del raw, opd_day, per_day


FIGURE_MEASURES = ["checkins", "refused", "asn_checkins", "merah", "hitam", "kuning", "asn_visitors"]


def naive_figures(engine: Engine, start: date, end: date) -> dict[str, pd.DataFrame]:
    """Figures every page shows, the naive way (raw check-ins grouped in pandas, the measures
    as rollup_spec defines them): totals, per day, per OPD, and ASN coverage's numerator."""
    raw = read_raw(engine, start, end)
    with engine.connect() as conn:
        reg = pd.read_sql(select(Opd.id, Opd.asn_headcount), conn)
    od = group_raw(OPD_DAY, raw, FIGURE_MEASURES)
    wd = pd.to_datetime(pd.Series(workdays(start, end)))
    cov = od[od["day"].isin(wd) & (od["asn_visitors"] > 0)].merge(reg, left_on="opd_id", right_on="id")
    cov["capped"] = cov[["asn_visitors", "asn_headcount"]].min(axis=1)
    per_day = od.groupby("day", as_index=False)[["checkins", "merah", "hitam", "kuning", "refused"]].sum()
    per_opd = od.groupby("opd_id", as_index=False)[["checkins", "refused"]].sum()
    return {
        "totals": pd.DataFrame([{"checkins": int(od["checkins"].sum()), "refused": int(od["refused"].sum()),
                                 "visitor_checkins": int((od["checkins"] - od["asn_checkins"]).sum())}]),
        "per_day": per_day,
        "per_opd": per_opd,
        "asn_days": cov.groupby("opd_id", as_index=False)["capped"].sum().rename(columns={"capped": "asn_days"}),
    }


def fast_figures(engine: Engine, start: date, end: date) -> dict[str, pd.DataFrame]:
    """The same figures from the pages' queries (the rollups)."""
    tot = q.totals(engine=engine, start=start, end=end)
    act = q.opd_activity(engine=engine, start=start, end=end)
    cov = q.coverage_by_opd(engine=engine, start=start, end=end)
    return {
        "totals": pd.DataFrame([{k: tot[k] for k in ("checkins", "refused", "visitor_checkins")}]),
        "per_day": q.refusals_daily(engine=engine, start=start, end=end)[
            ["day", "checkins", "merah", "hitam", "kuning", "refused"]],
        "per_opd": act[act["checkins"] > 0][["opd_id", "checkins", "refused"]],
        "asn_days": cov[cov["asn_days"] > 0][["opd_id", "asn_days"]],
    }


def figure_differences(engine: Engine, start: date, end: date) -> list[str]:
    """The figures on which the pages' queries and the naive route disagree (empty: none)."""
    naive, fast = naive_figures(engine, start, end), fast_figures(engine, start, end)
    out = []
    for name, a in naive.items():
        b = fast[name]
        keys = [c for c in ("opd_id", "day") if c in a.columns]
        a, b = ((f.sort_values(keys) if keys else f).reset_index(drop=True)
                .astype({c: "float64" for c in f.columns if c not in keys}) for f in (a, b))
        try:
            pd.testing.assert_frame_equal(a, b, check_dtype=False, check_exact=False, rtol=1e-9)
        except AssertionError as exc:
            out.append(f"{name}: {str(exc).splitlines()[0]}")
    return out


def time_it(fn, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


FAST_REPEAT = 10  # runs of each page's rollup queries: on this shared machine one run varies by ±40 %


def measure_pages(engine: Engine, start: date, end: date, *, naive: bool = True) -> list[dict]:
    """Each page's data: the best and the median of FAST_REPEAT runs of its rollup queries (the
    best is the figure the targets and ratios use: the other runs measure the machine's other
    work as well), and, with `naive`, one run of the naive route."""
    out = []
    for page, calls in page_queries(start, end).items():
        runs = [time_it(lambda: [getattr(q, name)(engine=engine, **kw) for name, kw in calls], repeat=1)
                for _ in range(FAST_REPEAT)]
        fast = min(runs)
        row = {"page": page, "fast_ms": round(fast * 1000, 1),
               "fast_median_ms": round(statistics.median(runs) * 1000, 1)}
        if naive:
            slow = time_it(lambda: naive_page(engine, page, start, end), repeat=1)
            row["naive_ms"] = round(slow * 1000, 1)
            row["ratio"] = round(slow / fast, 1) if fast > 0 else None
        out.append(row)
    return out


def generate_csv(path: Path, rows: int, *, seed: int = 5, start: str = "2023-01-02", piece: int = 250_000) -> None:
    """A CSV export as an office would produce it (semicolon, Indonesian dates, NIKs): 180 days
    from `start`, written a piece at a time so that making a large file takes little memory."""
    people = rows // 20 + 1000
    with open(path, "w", encoding="utf-8", newline="") as out:
        for k, first in enumerate(range(0, rows, piece)):
            n = min(piece, rows - first)
            rng = np.random.default_rng([seed, k])
            day = rng.integers(0, 180, size=n)
            mins = rng.integers(6 * 60, 16 * 60, size=n)
            secs = rng.integers(0, 60, size=n)
            base = np.datetime64(start) + day.astype("timedelta64[D]")
            stamp = pd.to_datetime(base) + pd.to_timedelta(mins, unit="m") + pd.to_timedelta(secs, unit="s")
            nik = (3526000000000000 + rng.integers(0, people, size=n)).astype(str)
            status = rng.choice(["Hijau", "HIJAU", "green", "Kuning", "Merah", "RED", "Hitam"], size=n,
                                p=[0.5, 0.2, 0.18, 0.05, 0.04, 0.02, 0.01])
            pd.DataFrame({
                "Waktu": stamp.strftime("%d/%m/%Y %H.%M.%S"), "Kode Venue": rng.choice(CSV_VENUES, size=n),
                "Jenis Pengunjung": rng.choice(["ASN", "Pengunjung"], size=n, p=[0.7, 0.3]), "Status": status,
                "NIK": nik,
            }).to_csv(out, sep=";", index=False, header=k == 0)


CSV_VENUES = ["BKL019-DISKOMINFO", "BKL033-RSUD", "BKL011-DINKES", "BKL020-DISKAN", "BKL022-DPMPTSP",
              "Dinas Pertanian", "Inspektorat"]


def measure_import(engine: Engine, path: Path) -> dict:
    """Import a generated CSV through the command line's route (import_file: read, checked and
    written in pieces); its time and counts."""
    from data_access.auth import SYSTEM
    from data_access.importer import import_file

    t0 = time.perf_counter()
    res = import_file(engine=engine, actor=SYSTEM, path=path)
    secs = time.perf_counter() - t0
    return {"rows": res.rows_total, "seconds": round(secs, 2), "rows_per_second": int(res.rows_total / secs),
            "loaded": res.rows_loaded, "rejected": res.rows_rejected, "duplicate": res.rows_duplicate}


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


def run_bench(*, url: str, rows: int, import_rows: int = 1_000_000, users: int = 20, opds: int | None = None,
              memory_rows: tuple[int, ...] = (4_000_000,), log=print) -> dict:
    """The whole benchmark; returns the figures (and logs progress lines). `opds`: a province's
    synthetic registry of that many OPDs in 38 regencies instead of Bangkalan's. `memory_rows`:
    further imports whose peak memory is measured (the first import's is measured too)."""
    import platform

    engine = make_engine(url)
    if inspect(engine).has_table("import_batch"):
        with engine.connect() as conn:
            if holds_real_data(conn) and get_meta(conn, "bench") != "true":
                raise ValueError("Basis data ini berisi data impor; bench hanya berjalan pada basis data uji.")
    engine.dispose()
    log(f"Menyiapkan basis data baru ({engine.dialect.name}) ...")
    engine = fresh_database(url, opds=opds)
    with engine.begin() as conn:
        set_meta(conn, "bench", "true")  # this database may be emptied by the next bench run
        conn.execute(insert(User).values(username=BENCH_USER, password_hash=None, role="pimpinan", active=True,
                                         failed_logins=0, created_at=now_utc()))
    log(f"Menulis {rows:,} check-in sintetis (setahun) ...".replace(",", "."))
    fill_s = fill(engine, rows)
    after_bulk_write(engine)  # as the importer leaves the database after a large import
    _settled(engine)
    start, end = SURAT_EDARAN_DATE, SURAT_EDARAN_DATE + timedelta(days=364)
    log("Mengukur halaman: jalur rollup ...")
    fast = _in_child(_fast_worker, (url, start, end))
    log("Mengukur halaman: jalur naif (check-in mentah ke pandas) ...")
    naive = _in_child(_naive_worker, (url, start, end))
    pages = []
    for row in fast["pages"]:
        n = naive["naive"][row["page"]]
        pages.append({**row, "naive_ms": n, "ratio": round(n / row["fast_ms"], 1) if row["fast_ms"] else None})
    log("Membandingkan angka jalur rollup dengan jalur naif ...")
    differences = figure_differences(engine, start, end)
    log("Mengukur halaman lewat AppTest (cache dingin) ...")
    cold = _in_child(cold_apptest, url)
    result = {
        "machine": f"{platform.machine()}, {os.cpu_count()} inti, Python {platform.python_version()}",
        "database": engine.dialect.name, "rows": rows, "fill_seconds": round(fill_s, 1),
        "opds": _count(engine, Opd.id), "kabupaten": _count(engine, Opd.kabupaten.distinct()),
        "figures_match": not differences, "figure_differences": differences,
        "fill_rows_per_second": int(rows / fill_s) if fill_s else None,
        "pages": pages, "fast_route_peak_mb": fast["peak_mb"], "naive_route_peak_mb": naive["peak_mb"],
        "apptest_cold_s": round(cold, 3),
    }
    if import_rows:
        log(f"Mengukur impor CSV {import_rows:,} baris ...".replace(",", "."))
        with tempfile.TemporaryDirectory() as d:
            result["import"] = _measured_import(url, Path(d), import_rows, start="2023-01-02")
            result["import_memory"] = [{"rows": import_rows, "peak_mb": result["import"]["peak_mb"]}]
            for n in memory_rows or ():
                log(f"Mengukur memori impor {n:,} baris ...".replace(",", "."))
                # a later half-year: new (OPD, day) pairs, as the first import's were
                got = _measured_import(url, Path(d), n, start="2024-01-01" if n != import_rows else "2025-01-01")
                result["import_memory"].append({"rows": n, "peak_mb": got["peak_mb"], "seconds": got["seconds"],
                                                "rows_per_second": got["rows_per_second"]})
    if users:
        log(f"{users} sesi bersamaan ...")
        result["concurrent"] = _in_child(concurrent_worker, (url, users))
    engine.dispose()
    return result


def _settled(engine: Engine) -> None:
    """Before anything is timed: the fill's writes on disk (the kernel writing back the hundreds
    of megabytes just written took the first page measured from 36 to 56 ms on SQLite) and, on
    PostgreSQL where the role may, its checkpoint done."""
    os.sync()
    if engine.dialect.name == "postgresql":
        try:
            with engine.connect() as conn:
                conn.exec_driver_sql("CHECKPOINT")
        except Exception:  # noqa: BLE001 - not a superuser (or pg_checkpoint): the server checkpoints on its own
            pass
        os.sync()


def _count(engine: Engine, col) -> int:
    from sqlalchemy import func

    with engine.connect() as conn:
        return int(conn.execute(select(func.count(col))).scalar())


def _measured_import(url: str, workdir: Path, rows: int, *, start: str) -> dict:
    """A CSV of `rows` rows made in one child process and imported in a fresh one, so that the
    import's peak memory is its own (the child's VmHWM: Python, pandas, pyarrow and all)."""
    path = workdir / f"bench-{rows}-{start}.csv"
    _in_child(_generate_worker, (str(path), rows, start))
    try:
        return _in_child(_import_worker, (url, str(path)))
    finally:
        path.unlink(missing_ok=True)


def _generate_worker(args) -> None:
    path, rows, start = args
    generate_csv(Path(path), rows, start=start)


def _import_worker(args) -> dict:
    url, path = args
    engine = make_engine(url)
    res = measure_import(engine, Path(path))
    res["peak_mb"] = round(peak_rss_mb(), 1)
    return res


def format_report(r: dict) -> str:
    from data_access.fmt import fmt_dec, fmt_int

    lines = [f"Mesin: {r['machine']}", f"Basis data: {r['database']}, {fmt_int(r['rows'])} check-in "
             f"(ditulis dalam {fmt_dec(r['fill_seconds'])} dtk, {fmt_int(r['fill_rows_per_second'])} baris/dtk)",
             f"Registri: {fmt_int(r['opds'])} OPD di {fmt_int(r['kabupaten'])} kabupaten/kota; angka jalur rollup "
             + ("sama dengan jalur naif" if r["figures_match"] else "BERBEDA dari jalur naif: "
                + "; ".join(r["figure_differences"])), "",
             f"{'Halaman':<26} {'rollup (ms)':>12} {'median':>8} {'naif (ms)':>12} {'rasio':>8}"]
    for p in r["pages"]:
        lines.append(f"{p['page']:<26} {fmt_dec(p['fast_ms']):>12} {fmt_dec(p.get('fast_median_ms')):>8} "
                     f"{fmt_dec(p['naive_ms']):>12} {fmt_dec(p['ratio']) + 'x':>8}")
    lines.append(f"(rollup: terbaik dari {FAST_REPEAT} kali; median: nilai tengahnya)")
    lines += ["", f"Memori puncak jalur rollup: {fmt_dec(r['fast_route_peak_mb'])} MB; "
              f"jalur naif: {fmt_dec(r['naive_route_peak_mb'])} MB",
              f"Halaman Ringkasan lewat AppTest, cache dingin: {fmt_dec(r['apptest_cold_s'], 3)} dtk"]
    if "import" in r:
        i = r["import"]
        lines.append(f"Impor CSV: {fmt_int(i['rows'])} baris dalam {fmt_dec(i['seconds'])} dtk = "
                     f"{fmt_int(i['rows_per_second'])} baris/dtk (memori puncak {fmt_dec(i['peak_mb'])} MB)")
    if r.get("import_memory"):
        lines.append("Memori puncak proses impor (batas 400 MB): " + "; ".join(
            f"{fmt_int(m['rows'])} baris {fmt_dec(m['peak_mb'])} MB" for m in r["import_memory"]))
    if "concurrent" in r:
        c = r["concurrent"]
        a, w = c["at_start"], c["after_warm_up"]
        lines.append(f"{c['users']} sesi bersamaan, cache kosong, setelah pemanasan server "
                     f"({fmt_dec(c['warm_up_s'], 2)} dtk): {w['errors']} galat, paling lambat "
                     f"{fmt_dec(w['slowest_s'], 2)} dtk, median {fmt_dec(w['median_s'], 2)} dtk"
                     + (" (gelombang dengan nilai tengah dari "
                        + " / ".join(fmt_dec(x, 2) for x in w["batches_slowest_s"]) + " dtk)"
                        if w.get("batches_slowest_s") else ""))
        lines.append(f"{c['users']} sesi bersamaan tepat saat server menyala: {a['errors']} galat, paling lambat "
                     f"{fmt_dec(a['slowest_s'], 2)} dtk, median {fmt_dec(a['median_s'], 2)} dtk")
    return "\n".join(lines)
