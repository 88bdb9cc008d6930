"""Words for the codes the database keeps: visitor types, statuses, outcomes, and the audit log's
actions and fields, so every table, export and report says "Pengunjung", "Dinas" or "mengunduh
poster QR Dinas Kesehatan" instead of "pengunjung", "dinas" or `qr_unduh`. No Streamlit here.

The category, stage and role labels live beside their rules (registry.CATEGORY_LABELS,
domain.STAGE_LABELS, auth.ROLE_LABELS) and are re-exported here for convenience."""
from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import date

from .auth import ROLE_LABELS
from .domain import STAGE_LABELS
from .fmt import fmt_date, fmt_int
from .registry import CATEGORY_LABELS

__all__ = ["CATEGORY_LABELS", "STAGE_LABELS", "ROLE_LABELS", "VISITOR_TYPE_LABELS", "STATUS_LABELS",
           "OUTCOME_LABELS", "YES_NO", "ACTION_LABELS", "FIELD_LABELS", "audit_sentence", "audit_changes",
           "label_of", "regency_label", "regency_full", "regencies_phrase", "kecamatan_label"]

VISITOR_TYPE_LABELS = {"asn": "ASN", "pengunjung": "Pengunjung"}
STATUS_LABELS = {"hijau": "Hijau", "kuning": "Kuning", "merah": "Merah", "hitam": "Hitam"}
OUTCOME_LABELS = {"diterima": "Diterima", "ditolak": "Ditolak"}
YES_NO = {True: "ya", False: "tidak"}


def regency_label(name: str) -> str:
    """A regency as a sentence names it: "Kab. Bangkalan", "Kota Surabaya" (the registry keeps
    "Bangkalan" and "Kota Surabaya")."""
    name = str(name)
    return name if name.startswith(("Kota ", "Kab. ", "Kabupaten ")) else f"Kab. {name}"


def regency_full(name: str) -> str:
    """A regency's full name for a heading or a sentence: "Kabupaten Bangkalan", "Kota Surabaya"."""
    name = str(name)
    if name.startswith(("Kota ", "Kabupaten ")):
        return name
    return f"Kabupaten {name.removeprefix('Kab. ')}"


def regencies_phrase(kabupaten, *, named: int = 3) -> str:
    """The regencies a page covers, in words: "Kabupaten Bangkalan", "Kabupaten Bangkalan dan Kota
    Surabaya", up to `named` of them named ("Kabupaten Gresik, Kabupaten Sidoarjo dan Kota
    Surabaya"), more as their number ("38 kabupaten/kota"); "" for none."""
    names = sorted({str(k) for k in kabupaten})
    if len(names) > named:
        return f"{fmt_int(len(names))} kabupaten/kota"
    full = [regency_full(k) for k in names]
    if len(full) <= 1:
        return "".join(full)
    return ", ".join(full[:-1]) + " dan " + full[-1]


def kecamatan_label(kecamatan: str, kabupaten: str, *, province: bool) -> str:
    """A kecamatan as the filter, the maps and the tables name (and key) it: its name alone in a
    registry of one regency (Bangkalan's: "Galis"); with its regency in a registry of several (a
    province), where two regencies may each have a kecamatan of that name: "Galis (Kab. Pamekasan)".
    `province`: the registry holds more than one regency."""
    return f"{kecamatan} ({regency_label(kabupaten)})" if province else str(kecamatan)

# Every action the audit log records, as the kind of event (for the filter of the audit page).
ACTION_LABELS = {
    "login": "Masuk",
    "login_gagal": "Gagal masuk",
    "pengguna_tambah": "Pengguna ditambah",
    "pengguna_sandi": "Kata sandi diatur ulang",
    "sandi_ganti_sendiri": "Kata sandi sendiri diganti",
    "sandi_ganti_gagal": "Gagal mengganti kata sandi",
    "pengguna_aktif": "Akun diaktifkan",
    "pengguna_nonaktif": "Akun dinonaktifkan",
    "pengguna_peran": "Peran diubah",
    "pengguna_nama": "Nama tampilan diubah",
    "qr_unduh": "QR / poster diunduh",
    "venue_catat": "Kode venue dicatat",
    "venue_hapus": "Kode venue dihapus",
    "qr_dicetak": "QR ditandai dicetak",
    "qr_dicetak_batal": "Tanda QR dicetak dibatalkan",
    "kontak_ubah": "Narahubung OPD diubah",
    "kunjungan_catat": "Kunjungan monev dicatat",
    "kunjungan_koreksi": "Kunjungan monev dikoreksi",
    "kunjungan_foto": "Foto kunjungan ditambah",
    "impor": "Data check-in diimpor",
    "profil_impor_buat": "Profil impor dibuat",
    "profil_impor_ubah": "Profil impor diubah",
    "profil_impor_hapus": "Profil impor dihapus",
    "libur_muat": "Hari libur dimuat",
    "laporan_mingguan_unduh": "Laporan mingguan diunduh",
}

FIELD_LABELS = {
    "venue_code": "Kode venue", "venue_registered_on": "Tanggal terdaftar", "qr_printed_on": "Tanggal QR dicetak",
    "qr_printed_estimate": "Tanggal cetak perkiraan", "contact_name": "Narahubung", "contact_whatsapp": "WhatsApp",
    "role": "Peran", "active": "Aktif", "display_name": "Nama tampilan", "format": "Format", "opd": "OPD",
    "opd_code": "OPD", "opd_id": "OPD", "visited_on": "Tanggal kunjungan", "officer": "Petugas",
    "qr_posted": "QR terpasang", "scanning_enforced": "Pemindaian ditegakkan",
    "unscanned_entries": "Masuk tanpa memindai", "notes": "Catatan", "foto": "Hasil foto",
    "file_name": "Berkas", "checksum": "SHA-256", "batch_id": "No. impor", "rows_total": "Baris",
    "rows_loaded": "Dimuat", "rows_rejected": "Ditolak", "rows_duplicate": "Duplikat", "alasan": "Alasan",
    "ke": "Percobaan ke-", "alamat": "Alamat klien", "entri": "Entri", "ditambah": "Ditambah", "dihapus": "Dihapus",
    "dasar_hukum": "Dasar hukum", "berkas": "Berkas", "jumlah": "Jumlah OPD", "via": "Melalui",
    "kolom": "Kolom berkas", "pemetaan": "Pemetaan kolom", "lembar": "Lembar",
}
FORMAT_LABELS = {"png": "gambar QR (PNG)", "svg": "gambar QR (SVG)", "pdf": "poster QR", "zip": "ZIP poster QR"}
_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def label_of(mapping: Mapping, code) -> str:
    """The label of a code, or the code itself when it has none (never an empty cell)."""
    if code is None:
        return "–"
    return mapping.get(code, str(code))


def _load(value) -> dict:
    if value is None or value == "" or (isinstance(value, float) and value != value):
        return {}
    if isinstance(value, dict):
        return value
    try:
        got = json.loads(value)
    except (TypeError, ValueError):
        return {"nilai": str(value)}
    return got if isinstance(got, dict) else {"nilai": got}


def _value(key: str, v, opd_names: Mapping[str, str]) -> str:
    if v is None or v == "":
        return "(kosong)"
    if isinstance(v, bool):
        return YES_NO[v]
    if key == "role":
        return ROLE_LABELS.get(v, str(v))
    if key == "format":
        return FORMAT_LABELS.get(v, str(v))
    if key in ("opd_code", "opd"):
        if isinstance(v, list):
            return ", ".join(opd_names.get(c, str(c)) for c in v)
        return opd_names.get(v, str(v))
    if isinstance(v, (int, float)) and key not in ("batch_id", "ke", "opd_id"):
        return fmt_int(v) if float(v).is_integer() else str(v).replace(".", ",")
    if isinstance(v, date):
        return fmt_date(v)
    if isinstance(v, str) and _ISO_DAY.match(v):
        try:
            return fmt_date(date.fromisoformat(v))
        except ValueError:
            return v
    if isinstance(v, list):
        return ", ".join(_value(key, x, opd_names) for x in v) if v else "(tidak ada)"
    if isinstance(v, dict):
        return "; ".join(f"{k}: {_value(k, x, opd_names)}" for k, x in v.items())
    return str(v)


def audit_changes(before, after, *, opd_names: Mapping[str, str] | None = None) -> list[str]:
    """The before/after values of an audit entry as lines: 'Kode venue: (kosong) → PL-123',
    or 'Format: poster QR' for a value recorded only after (or only before)."""
    names = opd_names or {}
    b, a = _load(before), _load(after)
    lines = []
    for key in list(b) + [k for k in a if k not in b]:
        label = FIELD_LABELS.get(key, key.replace("_", " ").capitalize())
        if key in b and key in a:
            if b[key] == a[key]:
                continue
            lines.append(f"{label}: {_value(key, b[key], names)} → {_value(key, a[key], names)}")
        elif key in a:
            lines.append(f"{label}: {_value(key, a[key], names)}")
        else:
            lines.append(f"{label} (sebelumnya): {_value(key, b[key], names)}")
    return lines


def _opd_and_number(target: str | None, names: Mapping[str, str]) -> tuple[str, str]:
    """'DINKES #12' -> ('Dinas Kesehatan', '#12'); 'DINKES' -> ('Dinas Kesehatan', '')."""
    t = (target or "").strip()
    code, _, number = t.partition(" #")
    return names.get(code, code or "–"), f"#{number}" if number else ""


def audit_sentence(*, username: str, action: str, target: str | None, before=None, after=None,
                   opd_names: Mapping[str, str] | None = None) -> str:
    """One audit entry as a sentence: 'kominfo mengunduh poster QR Dinas Kesehatan'."""
    names = opd_names or {}
    u = username if username and username != "-" else "Seseorang"
    t = target or "–"
    a, b = _load(after), _load(before)
    opd, number = _opd_and_number(target, names)
    if action == "login":
        return f"{u} masuk ke dasbor"
    if action == "login_gagal":
        reason = a.get("alasan")
        return f"Percobaan masuk sebagai {t} gagal" + (f" ({reason})" if reason else "")
    if action == "pengguna_tambah":
        role = ROLE_LABELS.get(a.get("role"), a.get("role"))
        return f"{u} menambah pengguna {t}" + (f" dengan peran {role}" if role else "")
    if action == "pengguna_sandi":
        return f"{u} mengatur ulang kata sandi {t}"
    if action == "sandi_ganti_sendiri":
        return f"{u} mengganti kata sandinya sendiri"
    if action == "sandi_ganti_gagal":
        return f"{u} gagal mengganti kata sandinya" + (f" ({a['alasan']})" if a.get("alasan") else "")
    if action == "pengguna_aktif":
        return f"{u} mengaktifkan kembali akun {t}"
    if action == "pengguna_nonaktif":
        return f"{u} menonaktifkan akun {t}"
    if action == "pengguna_peran":
        old, new = (ROLE_LABELS.get(x.get("role"), x.get("role")) for x in (b, a))
        return f"{u} mengubah peran {t} dari {old} menjadi {new}"
    if action == "pengguna_nama":
        return f"{u} mengubah nama tampilan {t}"
    if action == "qr_unduh":
        fmt = a.get("format")
        if fmt == "zip":
            count = a.get("jumlah")
            which = "semua OPD" if t == "semua" else (f"{fmt_int(count)} OPD" if count else t)
            return f"{u} mengunduh ZIP poster QR ({which})"
        return f"{u} mengunduh {FORMAT_LABELS.get(fmt, 'QR')} {opd}"
    if action == "venue_catat":
        return f"{u} mencatat kode venue {opd}"
    if action == "venue_hapus":
        return f"{u} menghapus kode venue {opd}"
    if action == "qr_dicetak":
        return f"{u} menandai QR {opd} sudah dicetak"
    if action == "qr_dicetak_batal":
        return f"{u} membatalkan tanda QR dicetak {opd}"
    if action == "kontak_ubah":
        return f"{u} mengubah narahubung {opd}"
    if action == "kunjungan_catat":
        return f"{u} mencatat kunjungan monev {number} ke {opd}".replace("  ", " ")
    if action == "kunjungan_koreksi":
        return f"{u} mengoreksi kunjungan monev {number} ke {opd}".replace("  ", " ")
    if action == "kunjungan_foto":
        return f"{u} menambah foto kunjungan monev {number} ke {opd}".replace("  ", " ")
    if action == "impor":
        return f"{u} mengimpor data check-in dari berkas {t}"
    if action == "libur_muat":
        return f"{u} memuat hari libur tahun {t}"
    if action in ("profil_impor_buat", "profil_impor_ubah", "profil_impor_hapus"):
        verb = {"profil_impor_buat": "membuat", "profil_impor_ubah": "mengubah", "profil_impor_hapus": "menghapus"}
        return f"{u} {verb[action]} profil impor {t}"
    if action == "laporan_mingguan_unduh":
        return f"{u} mengunduh laporan mingguan pekan {t}"
    label = ACTION_LABELS.get(action, action.replace("_", " "))
    return f"{u}: {label.lower()}" + (f" ({t})" if target else "")


def audit_export(log, *, opd_names: Mapping[str, str] | None = None):
    """The audit log (auth.audit_log's frame) for a download: the words a user reads (time in WIB,
    the sentence, the changes one per line) and, beside them, the raw record as stored (UTC time,
    action code, target, JSON before/after)."""
    import pandas as pd

    from .fmt import fmt_datetime_wib

    rows = list(log.itertuples())
    return pd.DataFrame({
        "Waktu (WIB)": [fmt_datetime_wib(r.at) for r in rows],
        "Kejadian": [audit_sentence(username=r.username, action=r.action, target=r.target, before=r.before,
                                    after=r.after, opd_names=opd_names) for r in rows],
        "Perubahan": ["\n".join(audit_changes(r.before, r.after, opd_names=opd_names)) for r in rows],
        "Pengguna": [r.username for r in rows],
        "Jenis": [ACTION_LABELS.get(r.action, r.action) for r in rows],
        "waktu_utc": [f"{pd.Timestamp(r.at):%Y-%m-%d %H:%M:%S}" for r in rows],
        "tindakan": [r.action for r in rows],
        "sasaran": [r.target for r in rows],
        "sebelum": [r.before for r in rows],
        "sesudah": [r.after for r in rows],
    }, columns=["Waktu (WIB)", "Kejadian", "Perubahan", "Pengguna", "Jenis", "waktu_utc", "tindakan", "sasaran",
                "sebelum", "sesudah"])
