"""National holidays and cuti bersama as data: the shipped file, its loading into the database
(one transaction, audited, a year at a time) and installing the database's set in data_access.calendar.

The file (data_access/hari_libur.csv) has the columns tanggal, nama, jenis, dasar_hukum; `#` lines are
comments. A year present in a loaded file replaces every entry of that year in the database; years
absent from the file are left as they are."""
from __future__ import annotations

import csv
import hashlib
import io
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd
from sqlalchemy import Connection, Engine, delete, inspect, insert, select

from . import calendar
from .auth import Actor, audit, require
from .db import get_meta, set_meta
from .models import Holiday as HolidayRow

HOLIDAY_FILE = Path(__file__).with_name("hari_libur.csv")
COLUMNS = ("tanggal", "nama", "jenis", "dasar_hukum")
KINDS = ("libur nasional", "cuti bersama")
MAX_NAME = 120
MAX_BASIS = 200
MAX_ROWS = 5000
MAX_BYTES = 1_000_000
VERSION_KEY = "holidays_version"


class HolidayFileError(ValueError):
    """A holiday file that cannot be loaded; the message is for the operator (Bahasa Indonesia)."""


@dataclass(frozen=True)
class Holiday:
    day: date
    name: str
    kind: str
    legal_basis: str


# ---------------------------------------------------------------- the file
def read_file(path: Path | str = HOLIDAY_FILE) -> list[Holiday]:
    """The entries of a holiday file, sorted by date. Refuses the whole file on the first problem."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise HolidayFileError(f"Berkas {path.name} tidak dapat dibaca ({exc.strerror or exc.__class__.__name__}).")
    if len(raw) > MAX_BYTES:
        raise HolidayFileError(f"Berkas {path.name} terlalu besar (maksimal {MAX_BYTES // 1000} kB).")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise HolidayFileError(f"Berkas {path.name} bukan teks UTF-8.") from None
    return parse(text)


def parse(text: str) -> list[Holiday]:
    numbered = [(n, line) for n, line in enumerate(text.splitlines(), 1)
                if line.strip() and not line.lstrip().startswith("#")]
    if not numbered:
        raise HolidayFileError("Berkas kosong: tidak ada baris data.")
    header = numbered[0][1]
    sep = ";" if header.count(";") > header.count(",") else ","  # a spreadsheet saved with ';'
    reader = csv.reader(io.StringIO("\n".join(line for _, line in numbered)), delimiter=sep)
    names = [c.strip().lower() for c in next(reader)]
    missing = [c for c in COLUMNS if c not in names]
    if missing:
        raise HolidayFileError(f"Kolom tidak ada: {', '.join(missing)} (wajib: {', '.join(COLUMNS)}).")
    at = {c: names.index(c) for c in COLUMNS}
    out: dict[date, Holiday] = {}
    for (line_no, _), cells in zip(numbered[1:], reader):
        if len(out) >= MAX_ROWS:
            raise HolidayFileError(f"Terlalu banyak baris (maksimal {MAX_ROWS}).")
        where = f"Baris {line_no}"
        if len(cells) < len(names):
            raise HolidayFileError(f"{where}: kolomnya kurang dari {len(names)}.")
        value = {c: cells[i].strip() for c, i in at.items()}
        try:
            day = date.fromisoformat(value["tanggal"])
        except ValueError:
            raise HolidayFileError(f"{where}: tanggal {value['tanggal'][:20]!r} bukan tanggal TTTT-BB-HH.") from None
        kind = " ".join(value["jenis"].lower().replace("_", " ").split())
        if kind not in KINDS:
            raise HolidayFileError(f"{where}: jenis {value['jenis'][:30]!r} tidak dikenal "
                                   "(pilihan: libur nasional, cuti bersama).")
        if not value["nama"] or len(value["nama"]) > MAX_NAME:
            raise HolidayFileError(f"{where}: nama kosong atau lebih dari {MAX_NAME} karakter.")
        if not value["dasar_hukum"] or len(value["dasar_hukum"]) > MAX_BASIS:
            raise HolidayFileError(f"{where}: dasar_hukum (nomor SKB) kosong atau lebih dari {MAX_BASIS} karakter.")
        if day in out:
            raise HolidayFileError(f"{where}: tanggal {day.isoformat()} tercantum dua kali.")
        out[day] = Holiday(day, value["nama"], kind, value["dasar_hukum"])
    if not out:
        raise HolidayFileError("Berkas tidak berisi satu pun hari libur.")
    return sorted(out.values(), key=lambda h: h.day)


# ---------------------------------------------------------------- the database
def _rows(conn: Connection, year: int | None = None) -> list[Holiday]:
    t = HolidayRow.__table__
    stmt = select(t.c.day, t.c.name, t.c.kind, t.c.legal_basis).order_by(t.c.day)
    if year is not None:
        stmt = stmt.where(t.c.day >= date(year, 1, 1), t.c.day <= date(year, 12, 31))
    return [Holiday(_as_date(r.day), r.name, r.kind, r.legal_basis) for r in conn.execute(stmt)]


def _as_date(v) -> date:
    if isinstance(v, str):
        return date.fromisoformat(v[:10])
    return v.date() if hasattr(v, "hour") else v


def _version(rows: list[Holiday]) -> str:
    digest = hashlib.sha256()
    for h in rows:
        digest.update(f"{h.day.isoformat()}|{h.name}|{h.kind}|{h.legal_basis}\n".encode())
    return digest.hexdigest()[:16]


def _insert(conn: Connection, rows: list[Holiday]) -> None:
    if rows:
        conn.execute(insert(HolidayRow), [
            {"day": h.day, "name": h.name, "kind": h.kind, "legal_basis": h.legal_basis} for h in rows])


def ensure_loaded(conn: Connection, path: Path | str = HOLIDAY_FILE) -> int:
    """Load the shipped file into an empty holiday table (`init`, the app's first start);
    returns the entries loaded (0: the table already had data)."""
    if conn.execute(select(HolidayRow.day).limit(1)).first() is not None:
        return 0
    rows = read_file(path)
    _insert(conn, rows)
    set_meta(conn, VERSION_KEY, _version(rows))
    return len(rows)


def load_file(*, engine: Engine, actor: Actor, path: Path | str) -> list[dict]:
    """Replace, for every year in the file, that year's entries in the database: all years in one
    transaction, each changed year audited (action libur_muat, target the year). Then use them here.
    Returns one summary per year: year, entries before and after, dates added and removed."""
    require(actor, "registry_edit")
    rows = read_file(path)
    years = sorted({h.day.year for h in rows})
    out = []
    with engine.begin() as conn:
        for year in years:
            new = [h for h in rows if h.day.year == year]
            old = _rows(conn, year)
            added = sorted({h.day for h in new} - {h.day for h in old})
            removed = sorted({h.day for h in old} - {h.day for h in new})
            changed = set(old) != set(new)
            if changed:
                t = HolidayRow.__table__
                conn.execute(delete(t).where(t.c.day >= date(year, 1, 1), t.c.day <= date(year, 12, 31)))
                _insert(conn, new)
                audit(conn, username=actor.username, action="libur_muat", target=str(year),
                      before={"entri": len(old), "dihapus": [d.isoformat() for d in removed],
                              "dasar_hukum": sorted({h.legal_basis for h in old})},
                      after={"entri": len(new), "ditambah": [d.isoformat() for d in added],
                             "dasar_hukum": sorted({h.legal_basis for h in new}), "berkas": Path(path).name})
            out.append({"year": year, "before": len(old), "after": len(new), "added": added, "removed": removed,
                        "changed": changed})
        set_meta(conn, VERSION_KEY, _version(_rows(conn)))
    install(engine)
    return out


def coverage(*, engine: Engine) -> pd.DataFrame:
    """One row per year with holiday data: entries by kind, the working days of the year,
    and the legal bases (SKB numbers)."""
    with engine.connect() as conn:
        rows = _rows(conn) if _has_table(conn) else []
    return coverage_of(rows)


def coverage_of(rows: list[Holiday]) -> pd.DataFrame:
    cols = ["year", "libur_nasional", "cuti_bersama", "workdays", "legal_basis"]
    out = []
    for year in sorted({h.day.year for h in rows}):
        part = [h for h in rows if h.day.year == year]
        off = {h.day for h in part}
        first, last = date(year, 1, 1), date(year, 12, 31)
        n_work = sum(1 for i in range((last - first).days + 1)
                     if (d := date.fromordinal(first.toordinal() + i)).weekday() < 5 and d not in off)
        bases = list(dict.fromkeys(h.legal_basis for h in part))
        out.append({"year": year, "libur_nasional": sum(h.kind == "libur nasional" for h in part),
                    "cuti_bersama": sum(h.kind == "cuti bersama" for h in part), "workdays": n_work,
                    "legal_basis": bases})
    return pd.DataFrame(out, columns=cols)


def entries(*, engine: Engine, year: int | None = None) -> list[Holiday]:
    with engine.connect() as conn:
        return _rows(conn, year) if _has_table(conn) else []


def _has_table(conn: Connection) -> bool:
    return inspect(conn).has_table(HolidayRow.__tablename__)


# ---------------------------------------------------------------- the calendar in use
_installed: dict = {"url": None, "version": None, "checked": 0.0}


def install(engine: Engine) -> None:
    """Use the database's holidays in data_access.calendar (the shipped file while the table is
    missing or empty)."""
    with engine.connect() as conn:
        rows, version = ([], None)
        if _has_table(conn):
            rows, version = _rows(conn), get_meta(conn, VERSION_KEY)
    if not rows:
        rows = read_file()
    calendar.set_holidays({h.day: h.name for h in rows})
    _installed.update(url=engine.url.render_as_string(hide_password=True), version=version, checked=time.monotonic())


def refresh(engine: Engine, *, max_age_s: float = 60.0) -> bool:
    """Look, at most every `max_age_s` seconds, whether the holidays in the database changed (an
    operator loaded a file from the command line) and install them if so. True when they changed."""
    url = engine.url.render_as_string(hide_password=True)
    now = time.monotonic()
    if _installed["url"] == url and now - _installed["checked"] < max_age_s:
        return False
    _installed["checked"] = now
    try:
        with engine.connect() as conn:
            version = get_meta(conn, VERSION_KEY)
    except Exception:  # an older schema or a database away for a moment: keep what is in use
        return False
    if _installed["url"] == url and version == _installed["version"]:
        return False
    install(engine)
    return True
