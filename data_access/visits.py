"""Satpol PP monitoring visits (monev): record, correct, list; the compliance table."""
from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date

import numpy as np
import pandas as pd
from sqlalchemy import Engine, func, insert, select, update

from . import domain, queries
from .auth import Actor, audit, require
from .calendar import SURAT_EDARAN_DATE, now_utc, workdays
from . import photos as photos_mod
from .models import Opd, Visit, VisitPhoto
from .onboarding import today_wib


class VisitError(ValueError):
    pass


MAX_OFFICER = 120
MAX_NOTES = 2000
MAX_UNSCANNED = 100_000  # people seen entering in one visit: far above any office's day


@dataclass
class VisitInput:
    opd_code: str | None
    visited_on: date | None
    officer: str
    qr_posted: bool | None  # None: not answered yet, and a visit is not saved so
    scanning_enforced: bool | None
    unscanned_entries: int
    notes: str = ""


def _validate(conn, v: VisitInput) -> int:
    if not v.opd_code:
        raise VisitError("Pilih OPD yang dikunjungi.")
    if len(str(v.opd_code)) > 64:  # bounded before it reaches the database
        raise VisitError("Kode OPD tidak dikenal.")
    opd_id = conn.execute(select(Opd.id).where(Opd.code == v.opd_code)).scalar_one_or_none()
    if opd_id is None:
        raise VisitError(f"OPD {v.opd_code!r} tidak dikenal.")
    if v.visited_on is None:
        raise VisitError("Tanggal kunjungan wajib diisi.")
    if v.visited_on > today_wib():
        raise VisitError("Tanggal kunjungan tidak boleh di masa depan.")
    if v.visited_on < SURAT_EDARAN_DATE:
        raise VisitError("Tanggal kunjungan tidak boleh sebelum Surat Edaran (5 Januari 2022).")
    if not (v.officer or "").strip():
        raise VisitError("Nama petugas wajib diisi.")
    if v.qr_posted is None:
        raise VisitError("Jawab dulu: apakah QR terpasang di pintu masuk utama?")
    if v.scanning_enforced is None:
        raise VisitError("Jawab dulu: apakah pemindaian ditegakkan?")
    if len(v.officer.strip()) > MAX_OFFICER:
        raise VisitError(f"Nama petugas terlalu panjang (maksimal {MAX_OFFICER} karakter).")
    try:
        n = int(v.unscanned_entries)
    except (TypeError, ValueError):
        raise VisitError("Jumlah orang masuk tanpa memindai harus bilangan bulat.") from None
    if n < 0 or n != v.unscanned_entries:
        raise VisitError("Jumlah orang masuk tanpa memindai tidak boleh negatif atau pecahan.")
    if n > MAX_UNSCANNED:
        raise VisitError(f"Jumlah orang masuk tanpa memindai terlalu besar (maksimal {MAX_UNSCANNED:,}).".replace(",", "."))
    if len(v.notes or "") > MAX_NOTES:
        raise VisitError("Catatan terlalu panjang (maksimal 2.000 karakter).")
    return opd_id


def _values(v: VisitInput, opd_id: int) -> dict:
    return {
        "opd_id": opd_id, "visited_on": v.visited_on, "officer": v.officer.strip(), "qr_posted": bool(v.qr_posted),
        "scanning_enforced": bool(v.scanning_enforced), "unscanned_entries": int(v.unscanned_entries),
        "notes": (v.notes or "").strip() or None,
    }


def add_visit(*, engine: Engine, actor: Actor, visit: VisitInput, photos: list[tuple[str, bytes]] = ()) -> int:
    """Record a visit with its photos (name, bytes): all in one transaction; a photo that
    cannot be used refuses the whole visit with its reason, before anything is written."""
    require(actor, "visit_write")
    cleaned = _clean_photos(photos, already=0)
    with engine.begin() as conn:
        opd_id = _validate(conn, visit)
        values = _values(visit, opd_id)
        res = conn.execute(insert(Visit).values(**values, recorded_by=actor.username, recorded_at=now_utc()))
        vid = int(res.inserted_primary_key[0])
        results = _store_photos(conn, actor, vid, visit.opd_code, cleaned, first=0)
        audit(conn, username=actor.username, action="kunjungan_catat", target=f"{visit.opd_code} #{vid}",
              after={**asdict(visit), "foto": results})
    return vid


def add_photos(*, engine: Engine, actor: Actor, visit_id: int, photos: list[tuple[str, bytes]]) -> list[str]:
    """Add photos to a recorded visit (at most MAX_PHOTOS in all); returns their QR results."""
    require(actor, "visit_write")
    with engine.connect() as conn:
        n = conn.execute(select(func.count()).select_from(VisitPhoto).where(VisitPhoto.visit_id == visit_id)).scalar()
    cleaned = _clean_photos(photos, already=int(n))
    with engine.begin() as conn:
        row = conn.execute(select(Visit.id, Opd.code).join(Opd, Opd.id == Visit.opd_id)
                           .where(Visit.id == visit_id)).first()
        if row is None:
            raise VisitError(f"Kunjungan #{visit_id} tidak ditemukan.")
        results = _store_photos(conn, actor, visit_id, row.code, cleaned, first=int(n))
        audit(conn, username=actor.username, action="kunjungan_foto", target=f"{row.code} #{visit_id}",
              after={"foto": results})
    return results


def _clean_photos(photos, *, already: int) -> list[photos_mod.CleanPhoto]:
    photos = list(photos or [])
    if already + len(photos) > photos_mod.MAX_PHOTOS:
        raise VisitError(f"Paling banyak {photos_mod.MAX_PHOTOS} foto per kunjungan.")
    try:
        return [photos_mod.clean_photo(data, name) for name, data in photos]
    except photos_mod.PhotoError as exc:
        raise VisitError(str(exc)) from None


def _store_photos(conn, actor: Actor, visit_id: int, opd_code: str, cleaned, *, first: int) -> list[str]:
    if not cleaned:
        return []
    reg = conn.execute(select(Opd.id, Opd.code, Opd.venue_code).where(Opd.venue_code.is_not(None))).all()
    venues = {r.venue_code: r.code for r in reg}
    ids = {r.code: r.id for r in reg}
    results = []
    for i, photo in enumerate(cleaned):
        result, other = photos_mod.classify(photo.qr_texts, opd_code, venues)
        conn.execute(insert(VisitPhoto).values(
            visit_id=visit_id, position=first + i, image=photo.image, thumb=photo.thumb, width=photo.width,
            height=photo.height, qr_result=result, qr_text=(photo.qr_texts[0][:255] if photo.qr_texts else None),
            qr_other_opd_id=ids.get(other), uploaded_by=actor.username, uploaded_at=now_utc(),
        ))
        results.append(result if other is None else f"{result}:{other}")
    return results


def visit_photos(*, engine: Engine, visit_ids, with_images: bool = False) -> pd.DataFrame:
    """Photos of these visits in order: thumbnail (and the full image when asked), QR result,
    the other OPD's short name for 'kode OPD lain'."""
    ids = [int(i) for i in visit_ids]
    cols = [VisitPhoto.id, VisitPhoto.visit_id, VisitPhoto.position, VisitPhoto.thumb, VisitPhoto.width,
            VisitPhoto.height, VisitPhoto.qr_result, VisitPhoto.qr_text, Opd.short_name.label("other_opd")]
    if with_images:
        cols.append(VisitPhoto.image)
    if not ids:
        return pd.DataFrame(columns=[c.key if hasattr(c, "key") else c.name for c in cols] + ["result_label"])
    stmt = (select(*cols).join(Opd, Opd.id == VisitPhoto.qr_other_opd_id, isouter=True)
            .where(VisitPhoto.visit_id.in_(ids)).order_by(VisitPhoto.visit_id, VisitPhoto.position))
    with engine.connect() as conn:
        rows = conn.execute(stmt).mappings().all()
    df = pd.DataFrame([dict(r) for r in rows], columns=[c.key for c in cols])
    df["result_label"] = [photos_mod.result_label(r, o if isinstance(o, str) else None)
                          for r, o in zip(df["qr_result"], df["other_opd"])]
    return df


def update_visit(*, engine: Engine, actor: Actor, visit_id: int, visit: VisitInput) -> None:
    require(actor, "visit_write")
    with engine.begin() as conn:
        old = conn.execute(select(Visit.__table__).where(Visit.id == visit_id)).first()
        if old is None:
            raise VisitError(f"Kunjungan #{visit_id} tidak ditemukan.")
        opd_id = _validate(conn, visit)
        values = _values(visit, opd_id)
        conn.execute(update(Visit).where(Visit.id == visit_id).values(**values))
        before = {k: getattr(old, k) for k in values}
        audit(conn, username=actor.username, action="kunjungan_koreksi", target=f"{visit.opd_code} #{visit_id}",
              before=before, after=values)


def list_visits(*, engine: Engine, start: date, end: date, opd_ids=None) -> pd.DataFrame:
    stmt = (
        select(Visit.id, Visit.visited_on, Opd.code, Opd.short_name, Opd.kecamatan, Visit.officer, Visit.qr_posted,
               Visit.scanning_enforced, Visit.unscanned_entries, Visit.notes, Visit.recorded_by, Visit.recorded_at)
        .join(Opd, Opd.id == Visit.opd_id)
        .where(Visit.visited_on >= start, Visit.visited_on <= end)
        .order_by(Visit.visited_on.desc(), Visit.id.desc())
    )
    if opd_ids is not None:
        stmt = stmt.where(Visit.opd_id.in_(list(opd_ids)))
    with engine.connect() as conn:
        df = pd.read_sql(stmt, conn)
    df["visited_on"] = pd.to_datetime(df["visited_on"]).dt.date
    for c in ("qr_posted", "scanning_enforced"):
        df[c] = df[c].astype(bool)
    return df


def compliance(*, engine: Engine, start: date, end: date, opd_ids=None) -> pd.DataFrame:
    """Per OPD, worst first: QR printed, the last visit's findings (its photos' best QR result
    included: domain.photo_label), ASN coverage, check-ins per working day, refusal rate, last
    check-in and days since (as of the range's end)."""
    ov = queries.opd_overview(engine=engine, start=start, end=end, opd_ids=opd_ids)
    n_wd = len(workdays(start, end))
    ov["checkins_per_workday"] = ov["checkins"] / n_wd if n_wd else np.nan
    ov["days_since"] = [(end - d).days if d is not None and not pd.isna(d) else None for d in ov["last_day"]]
    printed = domain.qr_printed(ov)
    # worst first: no QR, then a visit that found problems (a photo of the wrong or no QR too),
    # then lowest coverage
    visit_bad = (ov["qr_posted"] == False) | (ov["scanning_enforced"] == False) | domain.photo_problem(ov)  # noqa: E712
    ov["_score"] = (~printed).astype(int) * 100 + visit_bad.astype(int) * 10 + (1 - ov["coverage"].fillna(0))
    return ov.sort_values(["_score", "short_name"], ascending=[False, True]).drop(columns=["_score"]).reset_index(drop=True)
