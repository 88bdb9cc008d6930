"""Kominfo's registry actions: venue codes and QR printing marks, each audited.

Every function checks the actor's role itself and refuses bad input with a message in
Bahasa Indonesia (OnboardingError); nothing is written then."""
from __future__ import annotations

import re
from datetime import date, timedelta
from urllib.parse import quote

import pandas as pd
from sqlalchemy import Engine, select, update

from . import domain
from .auth import Actor, audit, require
from .calendar import SURAT_EDARAN_DATE, SURAT_EDARAN_NO, today_wib
from .fmt import fmt_date, fmt_int
from .labels import regency_full
from .models import Opd
from .registry import HOME_REGENCY

VENUE_CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/-]{2,63}$")


class OnboardingError(ValueError):
    pass


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


# ---------------------------------------------------------------- whom to chase first
# When each step of the Surat Edaran was due: a venue registered within a week of the letter, and
# the QR printed within a week of the registration (of the registration's due day when the venue
# is not registered yet, or its registration day is not known).
REGISTER_WITHIN_DAYS = 7
PRINT_WITHIN_DAYS = 7


def registration_due() -> date:
    return SURAT_EDARAN_DATE + timedelta(days=REGISTER_WITHIN_DAYS)


def _late(as_of: date, due: date) -> int:
    return max((as_of - due).days, 0)


def chase_list(overview: pd.DataFrame, *, as_of: date) -> pd.DataFrame:
    """The OPDs without a printed QR by `as_of` (as `without_qr`), ranked by whom to chase first.

    Each step still open adds its days late (days since it was due): registering the venue, then
    printing the QR. priority = ASN headcount × the sum of those days, so a big office that has not
    even registered comes before a small one that only has to print. OPDs whose QR is evidently in
    use (domain's anomaly: check-ins or a posted QR without a printing date) only have to report the
    printing day: they come after all others, ranked the same way. Adds steps (list of
    (step, due, days late)), days_late (the oldest open step's), priority, reason (in words) and
    rank (1 = chase first)."""
    df = without_qr(overview, as_of=as_of)
    reg_due = registration_due()
    steps_col, late_col, prio_col, reason_col = [], [], [], []
    for r in df.itertuples():
        if isinstance(r.anomaly, str) and r.anomaly:
            due = reg_due + timedelta(days=PRINT_WITHIN_DAYS)
            steps = [("melaporkan tanggal cetak QR", due, _late(as_of, due))]
        elif r.registered:
            reg_on = r.venue_registered_on
            base = reg_on if reg_on is not None and not pd.isna(reg_on) else reg_due
            due = max(base, SURAT_EDARAN_DATE) + timedelta(days=PRINT_WITHIN_DAYS)
            steps = [("mencetak QR", due, _late(as_of, due))]
        else:
            print_due = reg_due + timedelta(days=PRINT_WITHIN_DAYS)
            steps = [("mendaftarkan venue", reg_due, _late(as_of, reg_due)),
                     ("mencetak QR", print_due, _late(as_of, print_due))]
        days = sum(s[2] for s in steps)
        headcount = int(r.asn_headcount or 0)
        steps_col.append(steps)
        late_col.append(max(s[2] for s in steps))
        prio_col.append(headcount * days)
        parts = [f"{fmt_int(headcount)} ASN"]
        for step, due, late in steps:
            parts.append(f"belum {step}: terlambat {fmt_int(late)} hari (batas {fmt_date(due)})" if late
                         else f"belum {step} (batas {fmt_date(due)})")
        if isinstance(r.anomaly, str) and r.anomaly:
            parts.insert(1, f"{r.anomaly}, QR tampaknya sudah dipakai")
        reason_col.append("; ".join(parts))
    df["steps"] = steps_col
    df["days_late"] = pd.Series(late_col, index=df.index, dtype="int64")
    df["priority"] = pd.Series(prio_col, index=df.index, dtype="int64")
    df["reason"] = pd.Series(reason_col, index=df.index, dtype=object)
    evident = df["anomaly"].notna()
    df = df.assign(_evident=evident).sort_values(["_evident", "priority", "days_late", "name"],
                                                  ascending=[True, False, False, True]).drop(columns="_evident")
    df["rank"] = range(1, len(df) + 1)
    return df.reset_index(drop=True)


def _as_dict(row) -> dict:
    """A row of a frame as a dict, whether a Series (whose .name is its index) or an itertuples row."""
    if hasattr(row, "_asdict"):
        return row._asdict()
    return dict(row)


def _opd_state(r: dict) -> tuple[str, list[str]]:
    """What an OPD in the chase list still has to do: its state in a sentence and the next steps."""
    anomaly = r.get("anomaly")
    if anomaly == domain.CHECKIN_WITHOUT_QR:
        return ("check-in PeduliLindungi di kantor Bapak/Ibu sudah berjalan, tetapi tanggal cetak QR Code-nya "
                "belum dilaporkan ke Diskominfo", ["Kirim tanggal QR Code dicetak ke Diskominfo (cukup balas pesan ini)."])
    if anomaly == domain.POSTED_WITHOUT_QR:
        return ("QR Code sudah terpasang menurut kunjungan monev, tetapi tanggal cetaknya belum dilaporkan ke "
                "Diskominfo", ["Kirim tanggal QR Code dicetak ke Diskominfo (cukup balas pesan ini)."])
    if r.get("registered"):
        return ("kode venue PeduliLindungi sudah terdaftar, tetapi QR Code belum dicetak", [
            "Unduh poster QR siap cetak (A4) dari dasbor Pantau PeduliLindungi, atau minta Diskominfo mengirimkannya.",
            "Cetak dan pasang di pintu masuk utama.",
            "Kirim tanggal cetak ke Diskominfo.",
        ])
    return ("venue PeduliLindungi belum didaftarkan", [
        "Ajukan pendaftaran venue ke layanan registrasi QR Code PeduliLindungi Kementerian Kesehatan: titik "
        "koordinat kantor, jumlah pegawai dan perkiraan tamu per hari, foto gedung; satu QR per pintu masuk.",
        "Kirim kode venue yang diterima ke Diskominfo untuk dicatat.",
        "Cetak poster QR dari dasbor Pantau PeduliLindungi dan pasang di pintu masuk utama.",
    ])


def opd_message(row, *, as_of: date, contact_name: str | None = None) -> str:
    """A ready-to-send WhatsApp message to one OPD of the chase list (a row of `chase_list`)."""
    r = _as_dict(row)
    state, steps = _opd_state(r)
    late = int(r.get("days_late") or 0)
    greeting = f"Yth. {contact_name.strip()}" if contact_name and contact_name.strip() else "Yth. Bapak/Ibu"
    lines = [
        f"{greeting} di {r['name']},",
        "",
        f"Sesuai Surat Edaran Bupati Bangkalan No. {SURAT_EDARAN_NO} tanggal 5 Januari 2022, setiap OPD wajib "
        "memasang QR Code PeduliLindungi di pintu masuk utama.",
        "",
        f"Per {fmt_date(as_of)}, {state}" + (f" (terlambat {fmt_int(late)} hari)." if late else "."),
        "",
        "*Langkah berikutnya:*",
    ]
    lines += [f"{i}. {s}" for i, s in enumerate(steps, 1)]
    lines += ["", "Bila ada kendala, balas pesan ini. Terima kasih.", "Diskominfo Kabupaten Bangkalan"]
    return "\n".join(lines)


def whatsapp_link(text: str, number: str | None = None) -> str:
    """A wa.me link that opens WhatsApp with `text` ready to send: to `number` (digits with the
    country code, 62…) or, without one, to a chat the user picks."""
    digits = re.sub(r"\D", "", number or "")
    return f"https://wa.me/{digits}?text={quote(text, safe='')}"


# ---------------------------------------------------------------- contact person per OPD (kominfo only)
WHATSAPP_RE = re.compile(r"^62[1-9]\d{7,11}$")
MAX_CONTACT_NAME = 120


def normalize_whatsapp(raw: str | None) -> str | None:
    """'+62 812-3456-7890', '0812 3456 7890' or '6281234567890' -> '6281234567890'; empty -> None.
    Raises OnboardingError for anything that is not an Indonesian number."""
    s = (raw or "").strip()
    if not s:
        return None
    if len(s) > 32 or re.search(r"[^\d\s+().-]", s):
        raise OnboardingError("Nomor WhatsApp hanya boleh berisi angka (boleh dengan spasi, tanda hubung, atau +).")
    digits = re.sub(r"\D", "", s)
    if digits.startswith("0"):
        digits = "62" + digits[1:]
    elif digits.startswith("8"):
        digits = "62" + digits
    if not WHATSAPP_RE.match(digits):
        raise OnboardingError("Nomor WhatsApp harus nomor Indonesia dengan kode negara 62, misalnya 6281234567890 "
                              "(10–14 angka).")
    return digits


def _clean_contact_name(name: str | None) -> str | None:
    s = " ".join((name or "").split())
    if len(s) > MAX_CONTACT_NAME:
        raise OnboardingError(f"Nama narahubung maksimal {MAX_CONTACT_NAME} karakter.")
    if any(ord(c) < 32 for c in s):
        raise OnboardingError("Nama narahubung berisi karakter yang tidak sah.")
    return s or None


def set_contact(*, engine: Engine, actor: Actor, code: str, name: str | None, whatsapp: str | None) -> None:
    """An OPD's contact person and WhatsApp number (both may be cleared). Kominfo only, audited."""
    require(actor, "registry_edit")
    values = {"contact_name": _clean_contact_name(name), "contact_whatsapp": normalize_whatsapp(whatsapp)}
    with engine.begin() as conn:
        opd = _opd(conn, code)
        if all(getattr(opd, k) == v for k, v in values.items()):
            return
        _apply(conn, actor, opd, "kontak_ubah", values)


def contacts(*, engine: Engine, actor: Actor, opd_ids=None) -> pd.DataFrame:
    """code, contact_name, contact_whatsapp of the OPDs (in the filter). Kominfo only: the other
    roles never receive these."""
    require(actor, "registry_edit")
    stmt = select(Opd.code, Opd.contact_name, Opd.contact_whatsapp).order_by(Opd.id)
    if opd_ids is not None:
        stmt = stmt.where(Opd.id.in_(list(opd_ids)))
    with engine.connect() as conn:
        rows = conn.execute(stmt).all()
    return pd.DataFrame(rows, columns=["code", "contact_name", "contact_whatsapp"])


GROUP_MESSAGE_OPDS = 60  # OPDs named in one group message (queries.province.MANY_OPDS: Bangkalan's all fit)


def whatsapp_message(df: pd.DataFrame, *, as_of: date, regency: str | None = None,
                     most: int = GROUP_MESSAGE_OPDS) -> str:
    """A ready-to-send message for the OPD WhatsApp groups, naming the OPDs of `df` (chase_list's,
    in its order) without a printed QR. At most `most` are named, the rest counted: a longer
    message is hard to read on a phone and its wa.me link may be cut. `regency`: the message is for
    that regency's group (a province's registry): named in its title, its own Diskominfo to call,
    and the Surat Edaran of the Bupati of Bangkalan cited for Bangkalan's OPDs only."""
    title = "*Pengingat QR Code PeduliLindungi*"
    rule = (f"Sesuai Surat Edaran Bupati Bangkalan No. {SURAT_EDARAN_NO} tanggal 5 Januari 2022, setiap OPD wajib "
            "memasang QR Code PeduliLindungi di pintu masuk utama.")
    office = "Diskominfo Kabupaten Bangkalan"
    if regency is not None:
        title = f"*Pengingat QR Code PeduliLindungi: OPD {regency_full(regency)}*"
        office = f"Diskominfo {regency_full(regency)}"
        if regency != HOME_REGENCY:
            rule = "Setiap OPD wajib memasang QR Code PeduliLindungi di pintu masuk utama kantornya."
    lines = [title, rule, "", f"Per {fmt_date(as_of)}, OPD berikut belum mencetak QR Code ({len(df)} OPD):"]
    for i, r in enumerate(df.head(most).itertuples(), 1):
        if r.anomaly == domain.CHECKIN_WITHOUT_QR:
            state = "check-in sudah berjalan, tanggal cetak QR belum dilaporkan ke Diskominfo"
        elif r.anomaly == domain.POSTED_WITHOUT_QR:
            state = "QR sudah terpasang, tanggal cetaknya belum dilaporkan ke Diskominfo"
        else:
            state = "kode venue sudah ada, tinggal cetak" if r.registered else "belum mendaftar venue"
        lines.append(f"{i}. {r.name} ({state})")
    if len(df) > most:
        lines.append(f"… dan {fmt_int(len(df) - most)} OPD lainnya: daftar lengkapnya di dasbor Pantau PeduliLindungi, "
                     "halaman Onboarding OPD.")
    lines += [
        "",
        "*Langkah mendapatkan QR Code:*",
        "1. Ajukan pendaftaran venue ke layanan registrasi QR Code PeduliLindungi Kementerian Kesehatan: "
        "titik koordinat kantor, jumlah pegawai dan perkiraan tamu per hari, foto gedung; satu QR per pintu masuk.",
        "2. Kirim kode venue yang diterima ke Diskominfo untuk dicatat.",
        "3. Unduh poster QR siap cetak (A4) dari dasbor Pantau PeduliLindungi, cetak, dan pasang di pintu masuk utama.",
        "4. Pastikan setiap ASN dan tamu memindai QR sebelum masuk.",
        "",
        f"Panduan dan video tutorial ada di grup ini. Bila ada kendala, hubungi {office}.",
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


def log_download(*, engine: Engine, actor: Actor, target: str, fmt: str, opd_codes: list[str] | None = None) -> None:
    """Every QR / poster download: who, when, which OPD (or, for a ZIP, 'semua' or how many, with
    the OPD codes it held), which format."""
    after: dict = {"format": fmt}
    if opd_codes is not None:
        after.update(jumlah=len(opd_codes), opd=list(opd_codes))
    with engine.begin() as conn:
        audit(conn, username=actor.username, action="qr_unduh", target=target, after=after)
