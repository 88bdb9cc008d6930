"""Kominfo's registry actions: venue codes and QR printing marks, each audited.

Every function checks the actor's role itself and refuses bad input with a message in
Bahasa Indonesia (OnboardingError); nothing is written then."""
from __future__ import annotations

import re
from datetime import date, timedelta

import pandas as pd
from sqlalchemy import Engine, select, update

from . import domain
from .auth import Actor, audit, require
from .calendar import SURAT_EDARAN_DATE, now_utc
from .models import Opd

VENUE_CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/-]{2,63}$")


class OnboardingError(ValueError):
    pass


def today_wib() -> date:
    return (now_utc() + timedelta(hours=7)).date()


def _opd(conn, code: str):
    if not isinstance(code, str) or len(code) > 64:  # bounded before it reaches the database
        raise OnboardingError("OPD dengan kode itu tidak dikenal.")
    row = conn.execute(select(Opd.__table__).where(Opd.code == code)).first()
    if row is None:
        raise OnboardingError(f"OPD dengan kode {code!r} tidak dikenal.")
    return row


def _apply(conn, actor: Actor, opd, action: str, values: dict, *, log_after: bool = True) -> None:
    """Write `values` to the OPD and audit the change: those fields before (and after)."""
    conn.execute(update(Opd).where(Opd.id == opd.id).values(**values))
    audit(conn, username=actor.username, action=action, target=opd.code,
          before={k: getattr(opd, k) for k in values}, after=values if log_after else None)


def record_venue_code(*, engine: Engine, actor: Actor, code: str, venue_code: str,
                      registered_on: date | None = None) -> None:
    require(actor, "registry_edit")
    venue_code = (venue_code or "").strip()
    if not venue_code:
        raise OnboardingError("Kode venue tidak boleh kosong.")
    if not VENUE_CODE_RE.match(venue_code):
        raise OnboardingError("Kode venue hanya boleh berisi huruf, angka, dan . _ : / - (3-64 karakter).")
    registered_on = registered_on or today_wib()
    if registered_on > today_wib():
        raise OnboardingError("Tanggal pendaftaran tidak boleh di masa depan.")
    with engine.begin() as conn:
        opd = _opd(conn, code)
        other = conn.execute(select(Opd.code).where(Opd.venue_code == venue_code, Opd.code != code)).first()
        if other is not None:
            raise OnboardingError(f"Kode venue {venue_code} sudah dipakai oleh OPD {other.code}.")
        if opd.qr_printed_on is not None and opd.venue_code != venue_code:
            raise OnboardingError("QR OPD ini sudah dicetak dengan kode lain; batalkan dulu tanda cetaknya.")
        _apply(conn, actor, opd, "venue_catat", {"venue_code": venue_code, "venue_registered_on": registered_on})


def clear_venue_code(*, engine: Engine, actor: Actor, code: str) -> None:
    require(actor, "registry_edit")
    with engine.begin() as conn:
        opd = _opd(conn, code)
        if opd.venue_code is None:
            raise OnboardingError("OPD ini belum memiliki kode venue.")
        if opd.qr_printed_on is not None:
            raise OnboardingError("QR OPD ini sudah ditandai dicetak; batalkan dulu tanda cetaknya.")
        _apply(conn, actor, opd, "venue_hapus", {"venue_code": None, "venue_registered_on": None}, log_after=False)


def mark_printed(*, engine: Engine, actor: Actor, code: str, printed_on: date) -> None:
    require(actor, "registry_edit")
    if printed_on is None:
        raise OnboardingError("Tanggal cetak wajib diisi.")
    if printed_on > today_wib():
        raise OnboardingError("Tanggal cetak tidak boleh di masa depan.")
    with engine.begin() as conn:
        opd = _opd(conn, code)
        if opd.venue_code is None:
            raise OnboardingError("OPD ini belum memiliki kode venue: catat kodenya dulu sebelum menandai QR dicetak.")
        values = {"qr_printed_on": printed_on, **_not_estimate(opd)}
        if opd.qr_printed_estimate and opd.venue_registered_on == opd.qr_printed_on:
            # a registration day the registry file took from the estimated printing day: no earlier bound
            if printed_on < opd.venue_registered_on:
                values["venue_registered_on"] = printed_on
        elif opd.venue_registered_on is not None and printed_on < opd.venue_registered_on:
            raise OnboardingError(
                f"Tanggal cetak sebelum kode venue didaftarkan ({opd.venue_registered_on:%d/%m/%Y}).")
        _apply(conn, actor, opd, "qr_dicetak", values)


def _not_estimate(opd) -> dict:
    """A printing date the operator records (or clears) is no estimate: clear the mark if set."""
    return {"qr_printed_estimate": False} if opd.qr_printed_estimate else {}


def undo_printed(*, engine: Engine, actor: Actor, code: str) -> None:
    require(actor, "registry_edit")
    with engine.begin() as conn:
        opd = _opd(conn, code)
        if opd.qr_printed_on is None:
            raise OnboardingError("QR OPD ini belum ditandai dicetak.")
        _apply(conn, actor, opd, "qr_dicetak_batal", {"qr_printed_on": None, **_not_estimate(opd)})


def overdue_days(as_of: date) -> int:
    """Days since the Surat Edaran that an OPD without a printed QR is overdue."""
    return max((as_of - SURAT_EDARAN_DATE).days, 0)


def without_qr(overview: pd.DataFrame, *, as_of: date) -> pd.DataFrame:
    """OPDs with no QR printed by `as_of` (domain.no_qr, the anomaly included), from an
    opd_overview frame whose period ends on `as_of`."""
    df = overview[domain.no_qr(overview)].copy()
    df["overdue_days"] = overdue_days(as_of)
    return df


def whatsapp_message(df: pd.DataFrame, *, as_of: date) -> str:
    """A ready-to-send message for the OPD WhatsApp groups."""
    from .calendar import SURAT_EDARAN_NO
    from .fmt import fmt_date

    lines = [
        "*Pengingat QR Code PeduliLindungi*",
        f"Sesuai Surat Edaran Bupati Bangkalan No. {SURAT_EDARAN_NO} tanggal 5 Januari 2022, setiap OPD wajib "
        "memasang QR Code PeduliLindungi di pintu masuk utama.",
        "",
        f"Per {fmt_date(as_of)}, OPD berikut belum mencetak QR Code ({len(df)} OPD):",
    ]
    for i, r in enumerate(df.itertuples(), 1):
        if r.anomaly == domain.CHECKIN_WITHOUT_QR:
            state = "check-in sudah berjalan, tanggal cetak QR belum dilaporkan ke Diskominfo"
        elif r.anomaly == domain.POSTED_WITHOUT_QR:
            state = "QR sudah terpasang, tanggal cetaknya belum dilaporkan ke Diskominfo"
        else:
            state = "kode venue sudah ada, tinggal cetak" if r.registered else "belum mendaftar venue"
        lines.append(f"{i}. {r.name} ({state})")
    lines += [
        "",
        "*Langkah mendapatkan QR Code:*",
        "1. Ajukan pendaftaran venue ke layanan registrasi QR Code PeduliLindungi Kementerian Kesehatan: "
        "titik koordinat kantor, jumlah pegawai dan perkiraan tamu per hari, foto gedung; satu QR per pintu masuk.",
        "2. Kirim kode venue yang diterima ke Diskominfo untuk dicatat.",
        "3. Unduh poster QR siap cetak (A4) dari dasbor Pantau PeduliLindungi, cetak, dan pasang di pintu masuk utama.",
        "4. Pastikan setiap ASN dan tamu memindai QR sebelum masuk.",
        "",
        "Panduan dan video tutorial ada di grup ini. Bila ada kendala, hubungi Diskominfo Kabupaten Bangkalan.",
    ]
    return "\n".join(lines)


def venues(*, engine: Engine, opd_ids=None) -> list:
    """The OPDs that have a venue code, as qr.Venue, in registry order."""
    from .qr import Venue

    stmt = select(Opd.code, Opd.name, Opd.venue_code).where(Opd.venue_code.is_not(None)).order_by(Opd.id)
    if opd_ids is not None:
        stmt = stmt.where(Opd.id.in_(list(opd_ids)))
    with engine.connect() as conn:
        return [Venue(r.code, r.name, r.venue_code) for r in conn.execute(stmt)]


def log_download(*, engine: Engine, actor: Actor, target: str, fmt: str) -> None:
    """Every QR / poster download: who, when, which OPD (or 'semua' for a ZIP), which format."""
    with engine.begin() as conn:
        audit(conn, username=actor.username, action="qr_unduh", target=target, after={"format": fmt})
