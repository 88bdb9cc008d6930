"""The OPD registry: the editable data file and its loading into the database."""
from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

from sqlalchemy import Connection, insert, select, update

from .models import Opd

REGISTRY_FILE = Path(__file__).with_name("opd_registry.csv")

CATEGORY_LABELS = {
    "sekretariat": "Sekretariat",
    "inspektorat": "Inspektorat",
    "badan": "Badan",
    "dinas": "Dinas",
    "rsud": "RSUD",
    "satuan": "Satuan",
    "kecamatan": "Kantor Kecamatan",
}
HOME_REGENCY = "Bangkalan"  # the regency of the shipped registry, its kecamatan centroids and boundaries
KECAMATAN_CENTROIDS: dict[str, tuple[float, float]] = {  # HOME_REGENCY's kecamatan
    "Arosbaya": (-6.9727, 112.8394), "Bangkalan": (-7.0279, 112.7423), "Blega": (-7.1241, 113.0488),
    "Burneh": (-7.0334, 112.8041), "Galis": (-7.0885, 112.9630), "Geger": (-7.0019, 112.9327),
    "Kamal": (-7.1391, 112.7287), "Klampis": (-6.9255, 112.8890), "Kokop": (-6.9804, 113.0633),
    "Konang": (-7.0457, 113.0568), "Kwanyar": (-7.1469, 112.8780), "Labang": (-7.1367, 112.7882),
    "Modung": (-7.1717, 112.9767), "Sepulu": (-6.9266, 112.9689), "Socah": (-7.0810, 112.7319),
    "Tanah Merah": (-7.0717, 112.8698), "Tanjung Bumi": (-6.9097, 113.0641), "Tragah": (-7.1002, 112.8216),
}


def _yes(value: str | None) -> bool:
    return (value or "").strip().lower() in ("ya", "yes", "1", "true")


def read_registry(path: Path = REGISTRY_FILE) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as fh:
        lines = [line for line in fh if not line.startswith("#")]
    rows = []
    for raw in csv.DictReader(lines):
        rows.append(
            {
                "code": raw["code"].strip(),
                "name": raw["name"].strip(),
                "short_name": raw["short_name"].strip(),
                "category": raw["category"].strip(),
                "kecamatan": raw["kecamatan"].strip(),
                "lat": float(raw["lat"]),
                "lon": float(raw["lon"]),
                "asn_headcount": int(raw["asn_headcount"]),
                "headcount_is_estimate": _yes(raw["headcount_estimate"]),
                "venue_code": raw["venue_code"].strip() or None,
                "qr_printed_on": date.fromisoformat(raw["qr_printed_on"]) if raw["qr_printed_on"].strip() else None,
                # the source gives only "printed by": the day is an estimate (shown as "perkiraan")
                "qr_printed_estimate": _yes(raw.get("qr_printed_estimate")) and bool(raw["qr_printed_on"].strip()),
                "location_approx": _yes(raw.get("location_approx")),
            }
        )
        # the file knows no registration date: a printed code was registered by its printing day
        rows[-1]["venue_registered_on"] = rows[-1]["qr_printed_on"] if rows[-1]["venue_code"] else None
        # optional columns: a local copy of the file may carry each OPD's contact person
        contact = _contact(raw, len(rows))
        if contact:
            rows[-1].update(contact)
    return rows


CONTACT_FIELDS = ("contact_name", "contact_whatsapp")


def _contact(raw: dict, line: int) -> dict:
    """contact_name / contact_whatsapp of a registry row, checked as Kominfo's form checks them."""
    from .onboarding import OnboardingError, _clean_contact_name, normalize_whatsapp

    if not any((raw.get(k) or "").strip() for k in CONTACT_FIELDS):
        return {}
    try:
        return {"contact_name": _clean_contact_name(raw.get("contact_name")),
                "contact_whatsapp": normalize_whatsapp(raw.get("contact_whatsapp"))}
    except OnboardingError as exc:
        raise ValueError(f"opd_registry.csv, OPD {raw.get('code', '').strip()} (baris data ke-{line}): {exc}") from None


def load_registry(conn: Connection, path: Path = REGISTRY_FILE) -> dict[str, int]:
    """Insert new OPDs and refresh the descriptive fields of known ones. A venue code or
    printing date already recorded in the database is never overwritten by the file (nor is
    whether that date is an estimate), and a contact person the file names fills only an OPD that
    has none (Kominfo's edits on the Onboarding page win). A changed headcount recomputes the
    OPD's month rollup rows (their Cakupan ASN numerator is capped at the headcount)."""
    rows = read_registry(path)
    existing = {r.code: r for r in conn.execute(select(Opd.code, Opd.id, Opd.asn_headcount, Opd.venue_code,
                                                        Opd.qr_printed_on, Opd.contact_name, Opd.contact_whatsapp))}
    added = updated = 0
    recount = []  # OPDs whose headcount changes: their month rollup rows are capped at the old one
    for row in rows:
        cur = existing.get(row["code"])
        if cur is None:
            conn.execute(insert(Opd).values(**row))
            added += 1
            continue
        values = {k: v for k, v in row.items()
                  if k not in ("code", "venue_code", "qr_printed_on", "qr_printed_estimate", *CONTACT_FIELDS)}
        if cur.contact_name is None and cur.contact_whatsapp is None and any(row.get(k) for k in CONTACT_FIELDS):
            values.update({k: row.get(k) for k in CONTACT_FIELDS})
        if cur.venue_code is None and row["venue_code"]:
            values["venue_code"] = row["venue_code"]
            values["venue_registered_on"] = row["venue_registered_on"]
        if cur.qr_printed_on is None and row["qr_printed_on"]:
            values["qr_printed_on"] = row["qr_printed_on"]
            values["qr_printed_estimate"] = row["qr_printed_estimate"]
        conn.execute(update(Opd).where(Opd.code == row["code"]).values(**values))
        updated += 1
        if "asn_headcount" in values and values["asn_headcount"] != cur.asn_headcount:
            recount.append(cur.id)
    if recount:
        from .checkins import refresh_month_rollups, take_turns

        take_turns(conn)
        refresh_month_rollups(conn, opd_ids=recount)
    return {"added": added, "updated": updated}


def regencies(conn: Connection) -> list[str]:
    """The regencies (kabupaten/kota) of the registry's OPDs, sorted; empty for an empty registry."""
    from sqlalchemy import select

    from .models import Opd

    return sorted(conn.execute(select(Opd.kabupaten).distinct()).scalars())


def scope_sentence(names: list[str]) -> str:
    """What the dashboard watches, in one sentence for its front page: Bangkalan's own registry
    names its Surat Edaran; a province's names its regencies (or their number)."""
    from .calendar import SURAT_EDARAN_NO
    from .labels import regencies_phrase

    names = names or [HOME_REGENCY]
    rule = f" (Surat Edaran Bupati {SURAT_EDARAN_NO})" if names == [HOME_REGENCY] else ""
    return f"Pemantauan penerapan check-in PeduliLindungi di OPD {regencies_phrase(names)}{rule}."

