"""A synthetic workload, shared by the benchmark (`python -m data_access bench`) and the tests:
generated check-ins, and the queries each page runs."""
from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

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


def page_queries(start: date, end: date) -> dict[str, list[tuple[str, dict]]]:
    """For each page, the data_access.queries functions it calls (by name) with their arguments."""
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
