"""Deterministic, realistic demo check-ins.

Scanning at an OPD starts on the day its QR code is printed (the 21 OPDs of the article by
31 January 2022, most others later, a few never). ASN scan on working days in the morning,
visitors through office hours. Adoption differs per OPD and rises over the weeks after
printing. Refusals (mostly merah, some hitam) start high and fall as vaccination rises.
"""
from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Engine, func, select, update

from . import config
from .calendar import DEFAULT_DEMO_DAYS, SURAT_EDARAN_DATE, WIB, is_workday
from .checkins import pseudonymise, refresh_rollups, write_checkins
from .db import get_meta, set_meta
from .models import Checkin, ImportBatch, Opd, Visit
from .registry import read_registry

DEFAULT_DAYS = DEFAULT_DEMO_DAYS


class DemoRefused(RuntimeError):
    pass


def holds_real_data(conn: Connection) -> bool:
    imported = conn.execute(select(func.count()).select_from(ImportBatch)).scalar_one()
    if imported:
        return True
    real = conn.execute(select(Checkin.id).where(Checkin.source != "demo").limit(1)).first()
    return real is not None


def _assign_demo_registry(conn: Connection, rng: np.random.Generator, start: date, end: date) -> None:
    """Give OPDs that the article does not name a later printing date (or none), and some a
    registered venue code only, so the onboarding pipeline has every stage."""
    for row in read_registry():  # start from the registry file, so the same seed gives the same state
        conn.execute(
            update(Opd).where(Opd.code == row["code"]).values(
                venue_code=row["venue_code"], qr_printed_on=row["qr_printed_on"],
                venue_registered_on=row["venue_registered_on"],
            )
        )
    opds = conn.execute(select(Opd.id, Opd.code, Opd.venue_code, Opd.qr_printed_on).order_by(Opd.id)).all()
    span = max((end - date(2022, 2, 1)).days, 1)
    for o in opds:
        if o.qr_printed_on is not None:
            continue
        u = rng.random()
        if u < 0.6:  # printed later
            printed = date(2022, 2, 1) + timedelta(days=int(rng.integers(0, span)))
            printed = min(printed, end)
            registered = printed - timedelta(days=int(rng.integers(2, 15)))
            code = o.venue_code or f"BKL{o.id:03d}-{o.code}"
            conn.execute(update(Opd).where(Opd.id == o.id).values(
                venue_code=code, venue_registered_on=registered, qr_printed_on=printed))
        elif u < 0.8:  # registered, QR not printed yet
            registered = date(2022, 1, 20) + timedelta(days=int(rng.integers(0, span)))
            code = o.venue_code or f"BKL{o.id:03d}-{o.code}"
            conn.execute(update(Opd).where(Opd.id == o.id).values(
                venue_code=code, venue_registered_on=min(registered, end)))


def generate_frame(
    opds: pd.DataFrame, *, start: date, days: int, scale: float, seed: int, key: bytes
) -> pd.DataFrame:
    """Check-ins as a DataFrame (opd_id, ts WIB-aware, visitor_type, status, outcome, visitor_key)."""
    rng = np.random.default_rng(seed)
    end = start + timedelta(days=days - 1)
    pool_size = max(int(60_000 * scale), 500)
    visitor_pool = np.array([pseudonymise(f"demo-visitor-{i}", key) for i in range(pool_size)])
    frames = []
    day_list = [start + timedelta(days=i) for i in range(days)]
    for o in opds.itertuples():
        if pd.isna(o.qr_printed_on):
            continue
        printed = o.qr_printed_on
        first = max(printed, start)
        if first > end:
            continue
        n_asn = max(int(round(o.asn_headcount * min(scale, 1.0))), 1)
        asn_keys = np.array([pseudonymise(f"demo-asn-{o.code}-{i}", key) for i in range(n_asn)])
        base = rng.uniform(0.25, 0.55)  # adoption at printing
        top = rng.uniform(0.55, 0.97)  # adoption reached after a few weeks
        speed = rng.uniform(0.25, 0.9)  # per week
        quiet_from = None
        if rng.random() < 0.12:  # some offices go quiet later (scanner broken, rule ignored)
            quiet_from = first + timedelta(days=int(rng.integers(30, 120)))
        vis_rate = {"rsud": 160, "kecamatan": 18, "satuan": 10}.get(o.category, 9) * rng.uniform(0.6, 1.4) * max(scale, 0.01)
        kuning_refused = o.category == "rsud" or o.code == "DINKES"
        parts = []
        for d in day_list:
            if d < first or not is_workday(d):
                continue
            age = (d - first).days
            adopt = base + (top - base) * (1 - np.exp(-speed * age / 7))
            if quiet_from is not None and d >= quiet_from:
                continue  # the office stopped scanning altogether
            adopt = min(adopt, 1.0)
            k = rng.binomial(n_asn, adopt)
            n_vis = rng.poisson(vis_rate * (0.5 + 0.5 * adopt))
            if k + n_vis == 0:
                continue
            who = rng.choice(n_asn, size=k, replace=False)
            day_start_s = int((d - date(1970, 1, 1)).days) * 86400  # WIB wall clock as epoch seconds
            asn_sec = np.clip(rng.normal(7.5 * 3600, 1500, size=k), 6.5 * 3600, 11 * 3600)
            vis_sec = rng.uniform(8 * 3600, 15.5 * 3600, size=n_vis)
            months = (d - SURAT_EDARAN_DATE).days / 30.4
            p_merah = 0.16 * np.exp(-months / 1.8) + 0.015
            omicron = 0.012 if date(2022, 2, 1) <= d <= date(2022, 3, 15) else 0.002
            p_kuning = 0.05
            n = k + n_vis
            vtype = np.array(["asn"] * k + ["pengunjung"] * n_vis)
            pm = np.where(vtype == "asn", p_merah * 0.4, p_merah)
            u = rng.random(n)
            status = np.where(
                u < omicron, "hitam", np.where(u < omicron + pm, "merah", np.where(u < omicron + pm + p_kuning, "kuning", "hijau"))
            )
            refused = (status == "merah") | (status == "hitam") | ((status == "kuning") & kuning_refused)
            keys = np.concatenate([asn_keys[who], visitor_pool[rng.integers(0, pool_size, size=n_vis)]])
            secs = np.concatenate([asn_sec, vis_sec]).astype("int64")
            parts.append((np.full(n, o.id), day_start_s + secs, vtype, status, refused, keys))
        if parts:
            frames.append([np.concatenate(col) for col in zip(*parts)])
    if not frames:
        return pd.DataFrame(columns=["opd_id", "ts", "visitor_type", "status", "outcome", "visitor_key"])
    opd_id, secs, vtype, status, refused, keys = (np.concatenate(col) for col in zip(*frames))
    out = pd.DataFrame(
        {
            "opd_id": opd_id,
            "ts": pd.to_datetime(secs, unit="s").tz_localize(WIB),
            "visitor_type": vtype,
            "status": status,
            "outcome": np.where(refused, "ditolak", "diterima"),
            "visitor_key": keys,
        }
    )
    # A person scanning twice in the same second is one scan.
    return out.drop_duplicates(subset=["opd_id", "ts", "visitor_key"]).reset_index(drop=True)


def fill_demo(
    engine: Engine, *, seed: int = 2022, days: int = DEFAULT_DAYS, scale: float = 1.0, start: date = SURAT_EDARAN_DATE,
    progress=None,
) -> int:
    """Replace demo check-ins with a fresh deterministic set. Refuses a database with real data."""
    if days < 1 or days > 3660:
        raise ValueError("--days harus antara 1 dan 3660.")
    if scale <= 0 or scale > 100:
        raise ValueError("--scale harus lebih dari 0 dan paling besar 100.")
    key = config.pseudonym_key()
    with engine.begin() as conn:
        if holds_real_data(conn):
            raise DemoRefused(
                "Basis data ini berisi data impor (data nyata); data demo tidak akan ditulis ke dalamnya."
            )
        rng = np.random.default_rng(seed)
        _assign_demo_registry(conn, rng, start, start + timedelta(days=days - 1))
        opds = pd.read_sql(
            select(Opd.id, Opd.code, Opd.category, Opd.asn_headcount, Opd.qr_printed_on).order_by(Opd.id), conn
        )
        frame = generate_frame(opds, start=start, days=days, scale=scale, seed=seed + 1, key=key)
        conn.execute(Checkin.__table__.delete())
        refresh_rollups(conn)
        inserted = write_checkins(conn, frame, source="demo", progress=progress)
        _demo_visits(conn, np.random.default_rng(seed + 2), start, start + timedelta(days=days - 1))
        set_meta(conn, "demo", "true")
        set_meta(conn, "demo_seed", str(seed))
        return inserted


OFFICERS = ["Bripka (Satpol) Moh. Rofiq", "Abd. Halim", "Siti Maimunah", "R. Fathorrahman", "Nur Hasanah"]


def _demo_visits(conn: Connection, rng: np.random.Generator, start: date, end: date) -> None:
    """Monitoring visits by Satpol PP from February on: most find the QR posted; some find
    scanning not enforced."""
    from .calendar import now_utc

    conn.execute(Visit.__table__.delete().where(Visit.recorded_by == "demo"))
    opds = conn.execute(select(Opd.id, Opd.qr_printed_on).order_by(Opd.id)).all()
    first = max(start, date(2022, 2, 1))
    for o in opds:
        if first > end or rng.random() > 0.55:
            continue
        for _ in range(int(rng.integers(1, 4))):
            d = first + timedelta(days=int(rng.integers(0, max((end - first).days, 1))))
            while not is_workday(d) and d > first:
                d -= timedelta(days=1)
            printed = o.qr_printed_on is not None and o.qr_printed_on <= d
            posted = printed and rng.random() < 0.9
            enforced = posted and rng.random() < 0.75
            conn.execute(Visit.__table__.insert().values(
                opd_id=o.id, visited_on=d, officer=OFFICERS[int(rng.integers(0, len(OFFICERS)))],
                qr_posted=posted, scanning_enforced=enforced,
                unscanned_entries=0 if enforced else int(rng.integers(1, 15)),
                notes=None if enforced else "Petugas jaga tidak memeriksa status PeduliLindungi.",
                recorded_by="demo", recorded_at=now_utc(),
            ))


def is_demo(conn: Connection) -> bool:
    return get_meta(conn, "demo") in ("true", "campuran")


def demo_state(conn: Connection) -> str | None:
    """'true' for demo data only, 'campuran' once real data was imported beside it, else None."""
    return get_meta(conn, "demo")
