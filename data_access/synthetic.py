"""A synthetic workload, shared by the benchmark (`python -m data_access bench`) and the tests:
generated check-ins, and the queries each page runs."""
from __future__ import annotations

from datetime import date, timedelta

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
    from .queries import weekly_lines_per_opd

    kw = {"start": start, "end": end, "opd_ids": None}
    return {
        "Ringkasan": [("opd_overview", kw), ("totals", kw), ("onboarding_progress", kw), ("daily_counts", kw)],
        "Adopsi per OPD": [("adoption_table", kw), ("coverage_weekly", {**kw, "per_opd": weekly_lines_per_opd(None)})],
        "Peta adopsi": [("opd_overview", kw)],  # the default view; the kecamatan view reads kecamatan_summary
        "Peta (per kecamatan)": [("kecamatan_summary", kw)],
        "Peta (per kabupaten/kota)": [("regency_summary", kw)],  # a province's default view
        "Onboarding OPD": [("opd_overview", kw), ("pipeline_weekly", kw)],
        "Tren penolakan": [("refusals_daily", kw), ("refusals_by_opd", kw), ("refusals_by_visitor_type", kw),
                           ("refusal_heatmap", kw), ("merah_by_kecamatan", kw)],
        "Monev dan kunjungan": [("opd_overview", kw)],
    }


# East Java's 38 regencies and cities (Bangkalan first: its registry is the real one)
KABUPATEN = (
    "Bangkalan", "Banyuwangi", "Blitar", "Bojonegoro", "Bondowoso", "Gresik", "Jember", "Jombang",
    "Kediri", "Lamongan", "Lumajang", "Madiun", "Magetan", "Malang", "Mojokerto", "Nganjuk", "Ngawi",
    "Pacitan", "Pamekasan", "Pasuruan", "Ponorogo", "Probolinggo", "Sampang", "Sidoarjo", "Situbondo",
    "Sumenep", "Trenggalek", "Tuban", "Tulungagung", "Kota Batu", "Kota Blitar", "Kota Kediri",
    "Kota Madiun", "Kota Malang", "Kota Mojokerto", "Kota Pasuruan", "Kota Probolinggo", "Kota Surabaya",
)
# each regency's seat, roughly (lat, lon): a synthetic OPD stands near the seat of its regency
# (a city's within a few km, a regency's within some 15 km), so a map of the province shows them
# where they belong
SEATS = {
    "Bangkalan": (-7.05, 112.93), "Banyuwangi": (-8.22, 114.37), "Blitar": (-8.13, 112.22),
    "Bojonegoro": (-7.15, 111.88), "Bondowoso": (-7.91, 113.82), "Gresik": (-7.16, 112.65),
    "Jember": (-8.17, 113.70), "Jombang": (-7.55, 112.23), "Kediri": (-7.80, 112.10), "Lamongan": (-7.12, 112.42),
    "Lumajang": (-8.13, 113.22), "Madiun": (-7.55, 111.65), "Magetan": (-7.65, 111.33), "Malang": (-8.15, 112.57),
    "Mojokerto": (-7.55, 112.48), "Nganjuk": (-7.60, 111.90), "Ngawi": (-7.40, 111.44), "Pacitan": (-8.20, 111.10),
    "Pamekasan": (-7.16, 113.48), "Pasuruan": (-7.70, 112.85), "Ponorogo": (-7.87, 111.46),
    "Probolinggo": (-7.80, 113.40), "Sampang": (-7.19, 113.24), "Sidoarjo": (-7.45, 112.72),
    "Situbondo": (-7.71, 114.01), "Sumenep": (-7.01, 113.86), "Trenggalek": (-8.05, 111.71),
    "Tuban": (-6.90, 112.05), "Tulungagung": (-8.07, 111.90), "Kota Batu": (-7.87, 112.52),
    "Kota Blitar": (-8.10, 112.17), "Kota Kediri": (-7.82, 112.01), "Kota Madiun": (-7.63, 111.52),
    "Kota Malang": (-7.98, 112.63), "Kota Mojokerto": (-7.47, 112.43), "Kota Pasuruan": (-7.65, 112.91),
    "Kota Probolinggo": (-7.75, 113.22), "Kota Surabaya": (-7.27, 112.75),
}
# kecamatan named as a kecamatan of another regency, as in the real province (Pamekasan has a
# Galis, as Bangkalan has): a province's pages must keep the two apart. (regency, n) -> name
SHARED_KECAMATAN = {("Pamekasan", 1): "Galis"}
_CATEGORIES = np.array(["dinas", "badan", "kecamatan", "sekretariat", "inspektorat", "rsud", "satuan"])
_CATEGORY_P = np.array([0.42, 0.14, 0.34, 0.04, 0.02, 0.02, 0.02])


def synthetic_registry(opds: int, *, seed: int = 38) -> list[dict]:
    """A province's registry of `opds` OPDs in the 38 regencies of KABUPATEN: Bangkalan's real
    registry (data_access/opd_registry.csv) and synthetic OPDs of the other 37 regencies in
    equal shares, ten kecamatan each (one of Pamekasan's named Galis, like one of Bangkalan's:
    SHARED_KECAMATAN), as rows for the `opd` table. With `opds` at most Bangkalan's count,
    Bangkalan's registry alone."""
    from .registry import read_registry

    rows = [{**r, "kabupaten": "Bangkalan"} for r in read_registry()]
    rng = np.random.default_rng(seed)
    others = KABUPATEN[1:]
    for i in range(max(opds - len(rows), 0)):
        kab = others[i % len(others)]
        k = i // len(others)
        cat = str(rng.choice(_CATEGORIES, p=_CATEGORY_P))
        printed = date(2021, 12, 20) + timedelta(days=int(rng.integers(0, 90)))
        code = f"P{i + 1:04d}"
        lat, lon = SEATS[kab]
        spread = 0.03 if kab.startswith("Kota ") else 0.15
        has_qr = rng.random() < 0.85
        rows.append({
            "code": code, "name": f"{cat.title()} {k + 1} {kab}", "short_name": f"{cat.title()} {k + 1} {kab}"[:80],
            "category": cat, "kecamatan": SHARED_KECAMATAN.get((kab, k % 10 + 1), f"{kab} {k % 10 + 1}"),
            "lat": lat + float(rng.uniform(-spread, spread)), "lon": lon + float(rng.uniform(-spread, spread)),
            "asn_headcount": int(rng.integers(15, 400)), "headcount_is_estimate": True,
            "venue_code": f"JTM-{code}" if has_qr else None, "venue_registered_on": printed if has_qr else None,
            "qr_printed_on": printed if has_qr and rng.random() < 0.9 else None, "qr_printed_estimate": False,
            "location_approx": True, "kabupaten": kab,
        })
    return rows
