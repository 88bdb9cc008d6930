"""Importing check-in exports (PeduliLindungi venue exports, door-scanner logs): CSV or XLSX.

A file is one transaction: its batch record, its rows, the rollups and the audit entry are
written together or not at all. Rows that cannot be used are rejected with a reason (and
their line number); rows already stored are counted as duplicates, never stored twice.
NIK, phone and name columns become the keyed pseudonymous visitor key; the raw values are
dropped (and masked in the rejects file)."""
from __future__ import annotations

import codecs
import csv
import hashlib
import io
import logging
import re
import unicodedata
import zipfile
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import Engine, insert, select, update

from . import config
from .auth import Actor, audit, require
from .calendar import now_utc
from .checkins import pseudonymise, write_checkins
from .db import after_bulk_write, get_meta, set_meta
from .fmt import fmt_int
from .models import ImportBatch, Opd

log = logging.getLogger(__name__)

PLAUSIBLE_FROM = datetime(2021, 1, 1, tzinfo=timezone.utc)  # PeduliLindungi check-ins at offices began in 2021
MAX_FILE_BYTES = 512 * 1024 * 1024
LARGE_IMPORT = 100_000  # rows; after such an import SQLite's write-ahead log is folded back

# Column names as offices write them (Indonesian or English), normalised: lower case,
# accents and punctuation removed, spaces as underscores.
ALIASES: dict[str, tuple[str, ...]] = {
    "waktu": ("waktu", "tanggal_waktu", "waktu_checkin", "waktu_check_in", "tanggal_jam", "timestamp", "datetime",
              "date_time", "checkin_time", "check_in_time", "waktu_scan", "scan_time", "time_stamp"),
    "tanggal": ("tanggal", "tgl", "date", "tanggal_checkin", "tanggal_check_in"),
    "jam": ("jam", "pukul", "time", "jam_checkin", "jam_check_in"),
    "venue": ("venue", "kode_venue", "venue_code", "venue_id", "id_venue", "lokasi", "location", "opd", "nama_opd",
              "tempat", "place", "site", "kantor", "instansi", "nama_venue", "venue_name"),
    "status": ("status", "warna", "status_warna", "color", "colour", "status_color", "status_colour",
               "status_pedulilindungi", "warna_status", "kategori_status"),
    "jenis": ("jenis", "jenis_pengunjung", "tipe", "tipe_pengunjung", "visitor_type", "type", "peran", "role",
              "kategori_pengunjung"),
    "hasil": ("hasil", "keputusan", "outcome", "result", "akses", "access", "status_masuk", "diizinkan", "decision"),
    "nik": ("nik", "no_ktp", "nomor_induk_kependudukan", "national_id", "id_number"),
    "telepon": ("telepon", "no_hp", "nomor_hp", "hp", "no_telepon", "nomor_telepon", "phone", "phone_number",
                "telp", "whatsapp", "no_wa"),
    "nama": ("nama", "nama_lengkap", "name", "full_name", "nama_pengunjung", "visitor_name"),
    "visitor_id": ("visitor_id", "id_pengunjung", "user_id", "id_pengguna", "device_id", "id"),
}
IDENTITY_FIELDS = ("nik", "telepon", "nama", "visitor_id")
STATUS_MAP = {"hijau": "hijau", "green": "hijau", "kuning": "kuning", "yellow": "kuning", "merah": "merah",
              "red": "merah", "hitam": "hitam", "black": "hitam"}
TYPE_MAP = {"asn": "asn", "pns": "asn", "pegawai": "asn", "karyawan": "asn", "staf": "asn", "staff": "asn",
            "employee": "asn", "pppk": "asn", "pengunjung": "pengunjung", "tamu": "pengunjung", "visitor": "pengunjung",
            "guest": "pengunjung", "umum": "pengunjung", "masyarakat": "pengunjung", "public": "pengunjung"}
OUTCOME_MAP = {"diterima": "diterima", "terima": "diterima", "masuk": "diterima", "boleh": "diterima",
               "diizinkan": "diterima", "ya": "diterima", "yes": "diterima", "accepted": "diterima",
               "allowed": "diterima", "admitted": "diterima", "true": "diterima", "1": "diterima",
               "ditolak": "ditolak", "tolak": "ditolak", "tidak": "ditolak", "no": "ditolak", "refused": "ditolak",
               "denied": "ditolak", "rejected": "ditolak", "false": "ditolak", "0": "ditolak"}
ZONES = {"wib": 7, "wita": 8, "wit": 9, "utc": 0, "gmt": 0, "z": 0}
TEMPLATE_COLUMNS = ["waktu", "kode_venue", "jenis_pengunjung", "status", "hasil", "nik", "no_hp", "nama"]


class ImportFailed(RuntimeError):
    """The file could not be imported at all; nothing of it was stored."""


@dataclass
class ImportResult:
    file_name: str
    checksum: str
    batch_id: int | None = None
    rows_total: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    rows_duplicate: int = 0
    rejects: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["baris", "alasan"]))

    def summary(self) -> dict:
        d = asdict(self)
        d.pop("rejects")
        return d

    def rejects_csv(self) -> bytes:
        """The rejected rows as CSV, formula-leading text neutralised (data_access.safe_export)."""
        from .safe_export import csv_bytes

        return csv_bytes(self.rejects)


# ---------------------------------------------------------------- reading
def _norm_header(h: str) -> str:
    h = unicodedata.normalize("NFKD", str(h)).encode("ascii", "ignore").decode().strip().lower()
    h = re.sub(r"[^a-z0-9]+", "_", h).strip("_")
    return h


def read_table(data: bytes, file_name: str) -> pd.DataFrame:
    """The file as a table of strings, with its own column names."""
    if len(data) > MAX_FILE_BYTES:
        raise ImportFailed("Berkas terlalu besar (maksimal 512 MB); pecah menjadi beberapa berkas.")
    name = file_name.lower()
    if name.endswith((".xlsx", ".xlsm")) or data[:2] == b"PK":
        return _read_xlsx(data)
    if name.endswith(".xls"):
        raise ImportFailed("Format .xls lama tidak didukung; simpan ulang sebagai .xlsx atau .csv.")
    text, enc = _decode(data)
    if not text or text.isspace():
        raise ImportFailed("Berkas kosong.")
    first = next(iter(text[:4096].splitlines()), "")
    sep = ";" if first.count(";") > first.count(",") else ("\t" if first.count("\t") > first.count(",") else ",")
    fast = _read_csv_arrow(data, enc, first, sep)
    return fast if fast is not None else _read_csv_pandas(text, sep)


def _decode(data: bytes) -> tuple[str, str]:
    """The text of a CSV file and the encoding it was read with: UTF-32 or UTF-16 (by their
    byte-order mark, or UTF-16 without one by its pattern of zero bytes), else UTF-8, else
    Windows-1252, else Latin-1 (which decodes any byte)."""
    utf = _utf16_or_32(data)
    if utf is not None:
        try:
            text = data.decode(utf)
        except UnicodeDecodeError:
            raise ImportFailed(f"Berkas tampak berkode {utf.upper()} tetapi tidak dapat dibaca sebagai teks; "
                               "simpan ulang sebagai CSV UTF-8.") from None
        text = text.removeprefix("\ufeff")
        if _CONTROL.search(text, 0, 4096):
            raise ImportFailed("Berkas ini bukan CSV teks (berisi data biner). Gunakan CSV atau XLSX.")
        return text, utf
    if b"\x00" in data[:4096]:
        raise ImportFailed("Berkas ini bukan CSV teks (berisi data biner). Gunakan CSV atau XLSX.")
    for enc in ("utf-8-sig", "cp1252", "latin-1"):
        try:
            return data.decode(enc), enc
        except UnicodeDecodeError:
            continue
    raise AssertionError("latin-1 decodes any byte")


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _utf16_or_32(data: bytes) -> str | None:
    """The codec of a UTF-32 or UTF-16 file, None for a byte-oriented one."""
    if data.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        return "utf-32"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    head = data[:4096]
    head = head[:len(head) // 2 * 2]
    if len(head) < 4:
        return None
    half = len(head) // 2
    zeros_even, zeros_odd = head[0::2].count(0), head[1::2].count(0)
    # Latin text in UTF-16 (ASCII and accented letters alike): the high byte of nearly every
    # character is zero, the low byte almost never
    if zeros_odd >= 0.9 * half and zeros_even <= 0.05 * half:
        return "utf-16-le"
    if zeros_even >= 0.9 * half and zeros_odd <= 0.05 * half:
        return "utf-16-be"
    return None


def _read_csv_pandas(text: str, sep: str) -> pd.DataFrame:
    try:
        return pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False, skip_blank_lines=True,
                           engine="c", on_bad_lines="error", quoting=csv.QUOTE_MINIMAL)
    except (pd.errors.ParserError, ValueError) as exc:
        raise ImportFailed(f"CSV tidak dapat dibaca: {str(exc).splitlines()[0]}") from None


def _read_csv_arrow(data: bytes, enc: str, first: str, sep: str) -> pd.DataFrame | None:
    """The multi-threaded Arrow reader for the usual well-formed file; None hands the file to
    pandas' reader (odd headers, short or long rows, quoted line breaks), whose results are the
    reference."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    try:
        names = next(csv.reader([first], delimiter=sep))
    except (csv.Error, StopIteration):
        return None
    if not names or len(set(names)) != len(names) or any(not n.strip() for n in names):
        return None  # pandas renames duplicate and empty headers
    if len(names) < 2:
        return None  # one column: pandas skips lines of blanks, Arrow keeps them as values
    if enc != "utf-8-sig" or b'"' in data:
        return None  # quoted fields: pandas' rules for stray quotes are the reference
    body = data[3:] if data.startswith(codecs.BOM_UTF8) else data
    try:
        table = pacsv.read_csv(
            io.BytesIO(body),
            parse_options=pacsv.ParseOptions(delimiter=sep),
            convert_options=pacsv.ConvertOptions(column_types={n: pa.string() for n in names},
                                                 strings_can_be_null=False, quoted_strings_can_be_null=False),
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, ValueError):
        return None
    if table.column_names != names:
        return None
    return table.to_pandas()


# XLSX is a zip of XML parts. What the reader unpacks is bounded before anything is parsed
# (zip bombs: a 400 KB file can unpack to gigabytes), then the first sheet is read streaming
# with bounds on rows, columns and cell length.
MAX_XLSX_UNPACKED = 1024 * 1024 * 1024  # all parts together, unpacked
MAX_XLSX_RATIO = 200  # unpacked / packed, per part over 1 MB (real workbooks: 2-30)
MAX_XLSX_MEMBERS = 10_000
MAX_XLSX_PART = 16 * 1024 * 1024  # a part other than a sheet or the shared strings (styles, theme, ...)
MAX_XLSX_ROWS = 1_048_576  # Excel's own limit per sheet, header included
MAX_COLUMNS = 100  # columns holding data
MAX_ROW_CELLS = 1_000  # cells in a row, empty formatted ones included
MAX_CELL_CHARS = 1_000
MAX_XLSX_CELLS = 20_000_000  # cells (or shared strings) in a part: 1 million rows of 20 columns
MAX_XML_RUN = 64 * 1024  # bytes between two '<' in a sheet: no cell of MAX_CELL_CHARS needs more
MAX_XML_ELEMENT = 1024 * 1024  # bytes of one row or one shared string
_XML_SCAN_CHUNK = 1024 * 1024
# the root element's name, after nothing but a byte-order mark and an XML declaration
_XML_ROOT = re.compile(rb"(?:\xef\xbb\xbf)?\s*(?:<\?xml[^<>]*\?>\s*)?<(?:[A-Za-z_][\w.\-]*:)?([A-Za-z_][\w.\-]*)")
# pd.read_excel's missing values (its default na_values and Excel's error values) stay missing
_XLSX_NA = frozenset({
    "", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN", "<NA>", "N/A", "NA",
    "NULL", "NaN", "None", "n/a", "nan", "null",
    "#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#GETTING_DATA", "#SPILL!", "#CALC!",
})


def _xlsx_refused(why: str) -> ImportFailed:
    return ImportFailed(f"Berkas Excel ditolak: {why}. Simpan ulang dari Excel, pecah menjadi beberapa berkas, "
                        "atau gunakan CSV.")


def _read_xlsx(data: bytes) -> pd.DataFrame:
    """The first sheet as pd.read_excel(dtype=str) reads it (numbers that are whole without
    '.0', dates as 'YYYY-MM-DD HH:MM:SS', empty and error cells missing), within bounds."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            _check_xlsx_package(zf)
        rows = _xlsx_rows(data)
    except ImportFailed:
        raise
    except Exception as exc:  # zipfile and openpyxl raise many kinds for a damaged file
        raise ImportFailed(f"Berkas Excel tidak dapat dibaca ({exc.__class__.__name__}).") from None
    while rows and not rows[-1]:
        rows.pop()  # trailing empty rows
    if not rows:
        return pd.DataFrame()
    width = max(map(len, rows))
    header = rows[0] + [None] * (width - len(rows[0]))
    names: list[str] = []
    for i, h in enumerate(header):
        name = f"Unnamed: {i}" if h is None else h
        base, k = name, 0
        while name in names:  # duplicates as pandas names them: a, a.1, a.2
            k += 1
            name = f"{base}.{k}"
        names.append(name)
    body = rows[1:]
    del rows
    cols = {}
    for j, name in enumerate(names):
        cols[name] = pd.array([r[j] if j < len(r) else None for r in body], dtype="str")
    return pd.DataFrame(cols, index=pd.RangeIndex(len(body)))


def _check_xlsx_package(zf: zipfile.ZipFile) -> None:
    """Refuse a package whose parts unpack to too much, or too much for their packed size,
    before any XML parser sees it; scan sheets and shared strings (streaming, in constant
    memory) for rows, runs of text and single rows or strings that are too long."""
    infos = zf.infolist()
    if len(infos) > MAX_XLSX_MEMBERS:
        raise _xlsx_refused(f"terlalu banyak bagian di dalam berkas (lebih dari {fmt_int(MAX_XLSX_MEMBERS)})")
    if sum(i.file_size for i in infos) > MAX_XLSX_UNPACKED:
        raise _xlsx_refused("isinya lebih dari 1 GB setelah dibuka")
    for info in infos:
        if info.file_size > 1024 * 1024 and info.file_size > MAX_XLSX_RATIO * max(info.compress_size, 1):
            raise _xlsx_refused(f"isinya dipadatkan secara tidak wajar (mengembang lebih dari {MAX_XLSX_RATIO} kali)")
    for info in infos:
        if not info.is_dir():
            _scan_xlsx_part(zf, info)


def _scan_xlsx_part(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
    with zf.open(info) as f:
        buf = f.read(4096)
        head = buf.removeprefix(codecs.BOM_UTF8).lstrip()
        utf16 = head[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\x00" in head[:4]
        if not head.startswith(b"<") and not utf16:
            return  # not XML (an image, ...): openpyxl parses no such part
        if utf16:
            head = head.decode("utf-16", "replace").encode("utf-8", "replace")
        if b"<!DOCTYPE" in head or b"<!ENTITY" in head:
            raise _xlsx_refused("berisi deklarasi DTD")
        root = None if utf16 else _XML_ROOT.match(buf)
        if root is None or root.group(1) not in (b"worksheet", b"sst"):
            # any other part (workbook, styles, theme, ...) is read whole by openpyxl: small only
            if info.file_size > MAX_XLSX_PART:
                raise _xlsx_refused("salah satu bagiannya terlalu besar")
            return
        _scan_xml(f, buf, root.end(), sheet=root.group(1) == b"worksheet")


def _tag_named(a: np.ndarray, end: np.ndarray, length: np.ndarray, name: bytes) -> np.ndarray:
    """Which tags (their names ending at `end`, `length` long) have the local name `name`,
    with or without a namespace prefix."""
    n = len(name)
    hit = length >= n
    end = np.where(hit, end, n + 1)  # where the name is too short, look at harmless bytes
    for k, ch in enumerate(name):
        hit &= a[end - n + k] == ch
    return hit & ((length == n) | (a[end - n - 1] == ord(":")))


_NAME_END = np.zeros(256, dtype=bool)
_NAME_END[[ord(c) for c in " \t\r\n>/<"]] = True


def _scan_xml(f, buf: bytes, body: int, *, sheet: bool) -> None:
    """Stream over an unpacked sheet or shared-strings part (from its root element at `body`)
    in chunks, vectorised: no run of bytes between two '<' longer than MAX_XML_RUN, no row
    or shared string longer than MAX_XML_ELEMENT, at most MAX_XLSX_ROWS rows and
    MAX_XLSX_CELLS cells (or shared strings). With comments, CDATA and processing
    instructions refused (no writer puts them there), every '<' starts a tag, so a long
    text cannot hide behind a '<' that is not one."""
    base = 0  # offset of buf[0] in the part
    start = -1  # offset of the row or shared string being read, -1 between them
    rows = cells = 0
    while True:
        chunk = f.read(_XML_SCAN_CHUNK)
        final = not chunk
        buf += chunk
        a = np.frombuffer(buf, dtype=np.uint8)
        lt = np.flatnonzero(a == 0x3C)  # '<'
        bounds = np.concatenate(([0], lt, [len(a)])) if final else np.concatenate(([0], lt))
        if np.diff(bounds).max(initial=0) > MAX_XML_RUN or (not final and len(a) - bounds[-1] > MAX_XML_RUN):
            raise _xlsx_refused(f"berisi sel yang terlalu panjang (lebih dari {fmt_int(MAX_CELL_CHARS)} karakter)")
        cut = len(a) if final else (int(lt[-1]) if lt.size else 0)  # a tag cut by the chunk waits for the next
        tags = lt[(lt < cut) & (lt + base >= body)]
        if tags.size:
            after = a[np.minimum(tags + 1, len(a) - 1)]
            if ((after == ord("!")) | (after == ord("?"))).any():
                raise _xlsx_refused("struktur XML tidak lazim (komentar atau CDATA di dalam lembar)")
            closing = after == ord("/")
            name_start = tags + 1 + closing
            ends = np.flatnonzero(_NAME_END[a])
            ends = np.append(ends, len(a))
            name_end = ends[np.searchsorted(ends, name_start)]
            last = a[name_end - 1]

            def named(name: bytes, closing_tag: bool) -> np.ndarray:
                """Tags (opening or closing) with this local name; only those ending in its last
                letter are looked at closely."""
                hit = (last == name[-1]) & (closing == closing_tag)
                idx = np.flatnonzero(hit)
                hit[idx] = _tag_named(a, name_end[idx], name_end[idx] - name_start[idx], name)
                return hit

            row = named(b"row", False)
            si = named(b"si", False)
            opens = row | si
            closes = named(b"sheetData", True) | named(b"sst", True)
            rows += int(row.sum())
            if sheet and rows > MAX_XLSX_ROWS:
                raise _xlsx_refused(f"berisi lebih dari {fmt_int(MAX_XLSX_ROWS)} baris")
            cells += int(named(b"c", False).sum()) if sheet else int(si.sum())  # cells, or shared strings
            if cells > MAX_XLSX_CELLS:
                raise _xlsx_refused(f"berisi lebih dari {fmt_int(MAX_XLSX_CELLS)} sel")
            events = opens | closes
            pos = tags[events] + base
            is_open = opens[events]
            if start >= 0:
                pos = np.concatenate(([start], pos))
                is_open = np.concatenate(([True], is_open))
            if pos.size:
                if pos.size > 1 and np.diff(pos)[is_open[:-1]].max(initial=0) > MAX_XML_ELEMENT:
                    raise _xlsx_refused("berisi baris atau sel yang terlalu besar")
                start = int(pos[-1]) if is_open[-1] else -1
        if start >= 0 and base + cut - start > MAX_XML_ELEMENT:
            raise _xlsx_refused("berisi baris atau sel yang terlalu besar")
        if final:
            return
        buf = buf[cut:]
        base += cut


def _xlsx_rows(data: bytes) -> list[list]:
    """The first sheet's rows, read streaming, as lists of text (None for missing), without
    trailing empty cells; bounded in rows, columns and cell length."""
    import openpyxl

    wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True, keep_links=False)
    try:
        if not wb.worksheets:
            return []
        ws = wb.worksheets[0]
        if hasattr(ws, "reset_dimensions"):
            ws.reset_dimensions()  # a row is as long as its cells, not as the sheet claims
        rows: list[list] = []
        for n, values in enumerate(ws.iter_rows(values_only=True), start=1):
            if n > MAX_XLSX_ROWS:
                raise _xlsx_refused(f"berisi lebih dari {fmt_int(MAX_XLSX_ROWS)} baris")
            if len(values) > MAX_ROW_CELLS:
                raise _xlsx_refused(f"baris {fmt_int(n)} berisi lebih dari {fmt_int(MAX_ROW_CELLS)} sel")
            cells = [_xlsx_text(v) for v in values] if n == 1 else [_xlsx_value(v) for v in values]
            while cells and cells[-1] is None:
                cells.pop()
            if len(cells) > MAX_COLUMNS:
                raise _xlsx_refused(f"baris {fmt_int(n)} berisi lebih dari {MAX_COLUMNS} kolom")
            for j, c in enumerate(cells):
                if c is not None and len(c) > MAX_CELL_CHARS:
                    raise _xlsx_refused(f"sel di baris {fmt_int(n)}, kolom {j + 1} lebih dari "
                                        f"{fmt_int(MAX_CELL_CHARS)} karakter")
            rows.append(cells)
        return rows
    finally:
        wb.close()


def _xlsx_text(v) -> str | None:
    """A cell's value as text, as pd.read_excel(dtype=str) writes it: 2.0 -> '2', 1.5 -> '1.5',
    a date and time -> '2022-01-31 08:15:00', True -> 'True'."""
    if v is None or type(v) is str:
        return v
    if type(v) is float and v.is_integer():
        return str(int(v))
    return str(v)


def _xlsx_value(v) -> str | None:
    """A data cell's text; None where pd.read_excel finds a missing value ('', 'NA', '#N/A', ...)."""
    if type(v) is str:
        return None if v in _XLSX_NA else v
    return _xlsx_text(v)


def map_columns(columns) -> dict[str, str]:
    """Our field -> the file's column."""
    found: dict[str, str] = {}
    normalised = {c: _norm_header(c) for c in columns}
    for fld, names in ALIASES.items():
        for col, n in normalised.items():
            if n in names and col not in found.values():
                found[fld] = col
                break
    return found


# ---------------------------------------------------------------- parsing
_TIME_DOT = re.compile(r"(\d{1,2})\.(\d{2})(?=(?:[.:]\d{2})?\s*$)")
_ZONE = re.compile(r"\s*(?:(wib|wita|wit|utc|gmt|z)|([+-])(\d{2}):?(\d{2}))\s*$", re.IGNORECASE)
FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%d-%m-%Y %H:%M:%S",
           "%d-%m-%Y %H:%M", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M")
# Tried first on the raw text (C speed): the forms offices write most.
FAST_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%d/%m/%Y %H.%M.%S", "%d/%m/%Y %H.%M", "%d/%m/%Y %H:%M:%S",
                "%d/%m/%Y %H:%M", "%d-%m-%Y %H:%M:%S", "%d-%m-%Y %H:%M", "%d-%m-%Y %H.%M", "%Y-%m-%dT%H:%M:%S")


BAD_TIME = "tanggal/waktu tidak valid"
BAD_OFFSET = "zona waktu tidak valid (selisih dari UTC harus antara -12:00 dan +14:00)"
OUT_OF_RANGE = "waktu di luar rentang wajar (sebelum 2021 atau di masa depan)"
OFFSET_MINUTES = (-12 * 60, 14 * 60)  # the real UTC offsets, Baker Island to Kiribati


def parse_times(raw: pd.Series, *, arrow: bool = True) -> tuple[pd.Series, pd.Series]:
    """Text -> (UTC timestamps, error reason or ''). Naive times are WIB.
    The common forms are parsed straight away (by Arrow's C++ parser when `arrow`, with the
    rows it reads differently from pandas checked again); only the rest (time zones, odd
    spacing, fractions of a second) goes through the slower normalisation. Everything is
    held in microseconds (years 1 to 9999 fit), so no year in a file can overflow; a time
    that cannot be used is that row's reason, never an error for the file."""
    s = _stripped(raw)
    fast = pd.Series(pd.NaT, index=s.index, dtype="datetime64[us]")
    sample = s[s != ""].head(500)
    hits = {f: int(_strptime_pandas(sample, f).notna().sum()) for f in FAST_FORMATS}
    for fmt in sorted(FAST_FORMATS, key=lambda f: -hits[f]):  # the file's own form first
        todo = fast.isna() & (s != "")
        if not todo.any():
            break
        fast.loc[todo] = (_strptime_arrow if arrow else _strptime_pandas)(s[todo], fmt)
    rest = fast.isna() & (s != "")
    if not rest.any():
        return _checked(s, fast, pd.Series(7.0, index=s.index))
    slow_local, slow_hours = _parse_slow(s[rest])
    local = fast.copy()
    local.loc[rest] = slow_local
    hours = pd.Series(7.0, index=s.index)
    hours.loc[rest] = slow_hours
    return _checked(s, local, hours)


def _strptime_pandas(s: pd.Series, fmt: str) -> pd.Series:
    try:
        return pd.to_datetime(s, format=fmt, errors="coerce").astype("datetime64[us]")
    except (ValueError, OverflowError):  # out of pandas' range after all: value by value
        return pd.Series(np.array([_strptime_one(v, fmt) for v in s], dtype="datetime64[us]"), index=s.index)


def _strptime_one(v: str, fmt: str) -> np.datetime64:
    try:
        return np.datetime64(datetime.strptime(v, fmt), "us")
    except (ValueError, TypeError, OverflowError):
        return np.datetime64("NaT", "us")


def _strptime_arrow(s: pd.Series, fmt: str) -> pd.Series:
    """Like `_strptime_pandas`, about 20 times faster. Arrow's parser rolls an impossible day
    over (31/02 becomes 3 March) and takes two-digit years as years 0-99, so the rows that can
    come from that (day 1 to 3 of a month, year before 1900) are parsed again by pandas."""
    import pyarrow as pa
    import pyarrow.compute as pc

    arr = pa.array(s.array, type=pa.string())  # zero-copy for Arrow-backed text
    parsed = pc.strptime(arr, format=fmt, unit="s", error_is_null=True)
    out = pd.Series(parsed.to_numpy(zero_copy_only=False).astype("datetime64[us]"), index=s.index)
    doubt = (out.dt.day <= 3) | (out.dt.year < 1900)
    if doubt.any():
        out.loc[doubt] = _strptime_pandas(s[doubt], fmt)
    return out


def _checked(s: pd.Series, local: pd.Series, hours: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Local times and their UTC offsets in hours (NaN: an offset that does not exist) ->
    (UTC, reason). In numpy microseconds throughout: pandas would turn a mix of units into
    nanoseconds, which end in 2262 and begin in 1677."""
    loc = local.to_numpy(dtype="datetime64[us]")
    h = hours.to_numpy(dtype="float64")
    real_offset = ~np.isnan(h)
    shift = np.where(real_offset, np.rint(h * 3600), 0).astype("int64").astype("timedelta64[s]")
    utc = loc - shift
    blank = (s == "").to_numpy()
    parsed = ~np.isnat(loc)
    lo = np.datetime64(PLAUSIBLE_FROM.replace(tzinfo=None), "us")
    hi = np.datetime64(now_utc() + timedelta(days=1), "us")
    reason = np.full(len(s), "", dtype=object)
    reason[blank] = "waktu kosong"
    reason[~blank & ~parsed] = BAD_TIME
    reason[parsed & ~real_offset] = BAD_OFFSET
    reason[parsed & real_offset & ((utc < lo) | (utc > hi))] = OUT_OF_RANGE
    return pd.Series(utc, index=s.index), pd.Series(reason, index=s.index, dtype="str")


def _parse_slow(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    s = s.str.replace(r"(\d)T(\d)", r"\1 \2", regex=True)  # ISO 8601 'T'
    zone = s.str.extract(_ZONE)
    s = s.str.replace(_ZONE, "", regex=True).str.strip()
    s = s.str.replace(r"(:\d{2}:\d{2})[.,]\d+$", r"\1", regex=True)  # fractional seconds
    s = s.str.replace(r"(\d{1,2})\.(\d{2})\.(\d{2})$", r"\1:\2:\3", regex=True)  # 08.15.30
    s = s.str.replace(_TIME_DOT, r"\1:\2", regex=True)  # 08.15
    s = s.str.replace(r"\s+", " ", regex=True)
    local = pd.Series(pd.NaT, index=s.index, dtype="datetime64[us]")
    for fmt in FORMATS:
        todo = local.isna() & (s != "")
        if not todo.any():
            break
        local.loc[todo] = _strptime_pandas(s[todo], fmt)
    hours = pd.Series(7.0, index=s.index)
    named = zone[0].str.lower()
    hours = hours.where(named.isna(), named.map(ZONES))
    numeric = zone[1].notna()
    sign = zone[1].map({"+": 1, "-": -1})
    hh = pd.to_numeric(zone[2], errors="coerce")
    mm = pd.to_numeric(zone[3], errors="coerce")
    minutes = sign * (hh * 60 + mm)
    real = (mm < 60) & (minutes >= OFFSET_MINUTES[0]) & (minutes <= OFFSET_MINUTES[1])
    hours = hours.where(~numeric, (minutes / 60).where(real))  # NaN: no such offset
    return local, hours


def _lookup(raw: pd.Series, mapping: dict) -> pd.Series:
    """Case- and space-insensitive lookup, done once per distinct value. The result is
    categorical, its categories the mapping's values in order (so lookups into the same values
    combine by code), NaN where a value is missing or unknown."""
    cats = sorted(set(mapping.values()))
    pos = {c: i for i, c in enumerate(cats)}
    codes, uniq = pd.factorize(raw, use_na_sentinel=False)
    hit = np.array([-1 if pd.isna(u) else pos.get(mapping.get(_norm_value(u)), -1) for u in uniq], dtype="int64")
    return pd.Series(pd.Categorical.from_codes(hit[codes], categories=cats), index=raw.index)


def _norm_value(v) -> str:
    """Lower case, single spaces, composed accents: how file values and registry names are compared."""
    return " ".join(_nfc(str(v)).lower().split())


def _nfc(text: str) -> str:
    """Unicode NFC: 'e' + combining acute (as macOS and some exports write it) becomes 'é', the
    form every other encoding gives. ASCII is its own NFC form."""
    return text if text.isascii() else unicodedata.normalize("NFC", text)


def _stripped(raw: pd.Series) -> pd.Series:
    return raw.fillna("").astype(str).str.strip()


def _venue_index(engine: Engine) -> dict[str, int]:
    """Venue code, OPD code, official name and short name (case- and space-insensitive) -> OPD id."""
    with engine.connect() as conn:
        rows = conn.execute(select(Opd.id, Opd.code, Opd.name, Opd.short_name, Opd.venue_code)).all()
    idx: dict[str, int] = {}
    for r in rows:
        for v in (r.code, r.name, r.short_name, r.venue_code):
            if v:
                idx[_norm_value(v)] = r.id
    return idx


def _keys(frame: pd.DataFrame, cols: dict[str, str], key: bytes) -> pd.Series:
    """Visitor key: keyed hash of the first identity column with a value (NIK, phone, name, ID),
    NaN where there is none; categorical. Each distinct identifier is hashed once, in Unicode
    NFC, so the same name written with composed or decomposed accents, or read from UTF-8,
    UTF-16 or Windows-1252, is the same person."""
    codes = np.full(len(frame), -1, dtype="int64")  # into the hashes of all fields, in order
    hashes = []
    for fld in IDENTITY_FIELDS:
        if fld not in cols:
            continue
        vals = _stripped(frame[cols[fld]])
        take = (codes < 0) & (vals != "").to_numpy()
        if not take.any():
            continue
        field_codes, uniq = pd.factorize(vals[take])
        codes[take] = field_codes + sum(len(h) for h in hashes)
        hashes.append(np.array([pseudonymise(_nfc(u), key, kind=fld) for u in uniq], dtype=object))
    # identifiers written differently ('0812...', '+62 812...') share one key: one category each
    key_codes, keys = pd.factorize(np.concatenate(hashes)) if hashes else (np.empty(0, "int64"), [])
    codes = np.where(codes >= 0, key_codes[np.maximum(codes, 0)] if hashes else -1, -1)
    return pd.Series(pd.Categorical.from_codes(codes, categories=keys), index=frame.index)


def parse_frame(frame: pd.DataFrame, *, engine: Engine, key: bytes) -> tuple[pd.DataFrame, pd.DataFrame]:
    """-> (valid rows for write_checkins, rejects with line numbers and reasons)."""
    cols = map_columns(frame.columns)
    missing = []
    if "waktu" not in cols and not ("tanggal" in cols and "jam" in cols):
        missing.append("waktu (atau tanggal dan jam)")
    if "venue" not in cols:
        missing.append("venue/kode venue/OPD")
    if "status" not in cols:
        missing.append("status warna")
    if not any(f in cols for f in IDENTITY_FIELDS):
        missing.append("identitas (NIK, nomor HP, nama, atau ID pengunjung)")
    if missing:
        raise ImportFailed("Kolom wajib tidak ditemukan: " + ", ".join(missing) +
                           f". Kolom di berkas: {', '.join(map(str, frame.columns))}.")
    frame = frame.reset_index(drop=True)
    n = len(frame)
    reasons = np.full(n, "", dtype=object)
    ok = np.ones(n, dtype=bool)  # no reason found yet

    def add(mask, reason: str) -> None:
        """The first reason found for a row is the one reported."""
        take = ok & np.asarray(mask, dtype=bool)
        reasons[take] = reason
        ok[take] = False

    if "waktu" in cols:
        when = frame[cols["waktu"]]
    else:
        when = _stripped(frame[cols["tanggal"]]) + " " + _stripped(frame[cols["jam"]])
    ts, r = parse_times(when)
    for reason in r[r != ""].unique():
        add(r == reason, reason)
    vraw = _stripped(frame[cols["venue"]])
    opd_id = _lookup(vraw, _venue_index(engine))
    add(vraw == "", "venue kosong")
    add(opd_id.isna(), "venue tidak dikenal")
    sraw = _stripped(frame[cols["status"]])
    status = _lookup(sraw, STATUS_MAP)
    add(sraw == "", "status kosong")
    add(status.isna(), "status tidak dikenal")
    if "jenis" in cols:
        traw = _stripped(frame[cols["jenis"]])
        vtype = _lookup(traw, {**TYPE_MAP, "": "pengunjung"})  # no type given: a visitor
        add(vtype.isna(), "jenis pengunjung tidak dikenal")
    else:
        vtype = pd.Series("pengunjung", index=frame.index, dtype="category")
    derived = _lookup(status, {"hijau": "diterima", "kuning": "diterima", "merah": "ditolak", "hitam": "ditolak"})
    if "hasil" in cols:
        oraw = _stripped(frame[cols["hasil"]])
        given = _lookup(oraw, OUTCOME_MAP)  # same categories as `derived`: combined by code
        assert list(given.cat.categories) == list(derived.cat.categories)
        empty = (oraw == "").to_numpy()
        outcome = pd.Series(pd.Categorical.from_codes(np.where(empty, derived.cat.codes, given.cat.codes),
                                                      categories=derived.cat.categories), index=frame.index)
        add(given.isna() & ~empty, "hasil (diterima/ditolak) tidak dikenal")
    else:
        outcome = derived
    keys = _keys(frame, cols, key)
    add(keys.isna(), "identitas pengunjung kosong (NIK, nomor HP, nama, atau ID)")
    valid = pd.DataFrame({
        "opd_id": opd_id[ok].astype("int64"),
        "ts": ts[ok].dt.tz_localize("UTC"),
        "visitor_type": vtype[ok],
        "status": status[ok],
        "outcome": outcome[ok],
        "visitor_key": keys[ok],
    })
    bad = frame[~ok].copy()
    for fld in IDENTITY_FIELDS:  # never hand personal data back in the rejects file
        if fld in cols:
            bad[cols[fld]] = np.where(_stripped(bad[cols[fld]]) != "", "[disamarkan]", "")
    bad.insert(0, "alasan", reasons[~ok])
    bad.insert(0, "baris", bad.index + 2)  # line in the file: header is line 1
    assert len(valid) + len(bad) == n
    return valid.reset_index(drop=True), bad.reset_index(drop=True)


# ---------------------------------------------------------------- importing
def import_bytes(*, engine: Engine, actor: Actor, data: bytes, file_name: str, progress=None) -> ImportResult:
    """Import one file as one transaction. Raises ImportFailed (nothing stored) when the file
    cannot be used at all or anything goes wrong while writing."""
    require(actor, "import")
    checksum = hashlib.sha256(data).hexdigest()
    result = ImportResult(file_name=Path(file_name).name, checksum=checksum)
    try:
        frame = read_table(data, file_name)
        if frame.empty:
            raise ImportFailed("Berkas tidak berisi baris data (hanya judul kolom atau kosong).")
        key = config.pseudonym_key()
        valid, rejects = parse_frame(frame, engine=engine, key=key)
    except (ImportFailed, config.ConfigError):
        raise
    except Exception as exc:  # a problem of a row is a reject; anything else is this file's failure
        log.exception("Impor %r: berkas tidak dapat diolah", result.file_name)
        raise ImportFailed(f"Berkas tidak dapat diolah ({exc.__class__.__name__}); tidak ada baris yang "
                           "disimpan. Periksa isinya atau gunakan templat CSV.") from exc
    result.rows_total = len(frame)
    del frame  # the file's own table is not needed while writing: its memory goes back
    result.rows_rejected = len(rejects)
    result.rejects = rejects
    try:
        with engine.begin() as conn:
            batch_id = conn.execute(insert(ImportBatch).values(
                file_name=result.file_name, checksum=checksum, imported_by=actor.username, imported_at=now_utc(),
                rows_total=result.rows_total, rows_loaded=0, rows_rejected=result.rows_rejected, rows_duplicate=0,
            )).inserted_primary_key[0]
            loaded = write_checkins(conn, valid, source="import", batch_id=int(batch_id), progress=progress)
            result.batch_id = int(batch_id)
            result.rows_loaded = loaded
            result.rows_duplicate = len(valid) - loaded
            conn.execute(update(ImportBatch).where(ImportBatch.id == batch_id).values(
                rows_loaded=loaded, rows_duplicate=result.rows_duplicate))
            audit(conn, username=actor.username, action="impor", target=result.file_name, after=result.summary())
            if loaded and get_meta(conn, "demo") == "true":
                set_meta(conn, "demo", "campuran")  # real rows now sit beside the demo rows
    except ImportFailed:
        raise
    except Exception as exc:
        raise ImportFailed(
            f"Impor gagal; tidak ada baris dari berkas ini yang disimpan ({exc.__class__.__name__}: "
            f"{str(exc).splitlines()[0][:200]})."
        ) from exc
    if progress is not None and valid.empty:
        progress(0, 0)
    if result.rows_loaded >= LARGE_IMPORT:
        after_bulk_write(engine)
    return result


def import_file(*, engine: Engine, actor: Actor, path: str | Path, progress=None) -> ImportResult:
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise ImportFailed(f"Berkas {p} tidak dapat dibaca: {exc.strerror or exc}.") from None
    return import_bytes(engine=engine, actor=actor, data=data, file_name=p.name, progress=progress)


def import_history(*, engine: Engine, limit: int = 200) -> pd.DataFrame:
    with engine.connect() as conn:
        return pd.read_sql(select(*ImportBatch.__table__.columns).order_by(ImportBatch.id.desc()).limit(limit), conn)


def template_csv() -> bytes:
    """A template with the accepted columns and two example rows."""
    rows = [
        ["2022-01-31 08:15", "BKL019-DISKOMINFO", "ASN", "Hijau", "diterima", "3526010101900001", "081234567890",
         "Contoh Pegawai"],
        ["31/01/2022 09.40", "Dinas Kesehatan", "pengunjung", "Merah", "ditolak", "", "085712345678", "Contoh Tamu"],
    ]
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=";")
    w.writerow(TEMPLATE_COLUMNS)
    w.writerows(rows)
    return buf.getvalue().encode("utf-8-sig")
