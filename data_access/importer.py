"""Importing check-in exports (PeduliLindungi venue exports, door-scanner logs): CSV or XLSX.

A file is one transaction: its batch record, its rows, the rollups and the audit entry are
written together or not at all. The file is read, checked and written in pieces (PIECE_ROWS
rows), so an import's memory does not grow with the file. Rows that cannot be used are
rejected with a reason (and their line number); rows already stored are counted as
duplicates, never stored twice. NIK, phone and name columns become the keyed pseudonymous
visitor key; the raw values are dropped (and masked in the rejects file).

Columns are recognised by their names (ALIASES); a mapping {field: column} (the page's mapping
step, `--map` on the command line, or a saved profile, see import_profiles) overrides that."""
from __future__ import annotations

import codecs
import csv
import functools
import hashlib
import io
import logging
import re
import tempfile
import unicodedata
import zipfile
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Engine, insert, select, update

from . import config, partitions, scratch
from .auth import Actor, audit, require
from .calendar import now_utc
from .checkins import CheckinWriter, _in_background, pseudonymise_many, writing_connection
from .db import after_bulk_write, get_meta, set_meta
from .fmt import fmt_int
from .models import ImportBatch, Opd

log = logging.getLogger(__name__)

PLAUSIBLE_FROM = datetime(2021, 1, 1, tzinfo=timezone.utc)  # PeduliLindungi check-ins at offices began in 2021
MAX_FILE_BYTES = 512 * 1024 * 1024
LARGE_IMPORT = 100_000  # rows; after such an import SQLite's write-ahead log is folded back
PIECE_ROWS = 100_000  # rows read, checked and written at a time
REJECTS_KEPT = 10_000  # rejected rows kept in memory (ImportResult.rejects); all of them go to the rejects file

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
FIELDS = tuple(ALIASES)  # the keys of a mapping (`--map KEY=COLUMN`)
FIELD_LABELS = {
    "waktu": "Waktu (tanggal dan jam)", "tanggal": "Tanggal", "jam": "Jam", "venue": "Venue / kode venue / OPD",
    "status": "Status warna", "jenis": "Jenis pengunjung", "hasil": "Hasil (diterima/ditolak)", "nik": "NIK",
    "telepon": "Nomor HP", "nama": "Nama", "visitor_id": "ID pengunjung",
}
IDENTITY_FIELDS = ("nik", "telepon", "nama", "visitor_id")
NUMBER_IDENTITIES = ("nik", "telepon", "visitor_id")  # identities that a spreadsheet may turn into numbers
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
    dry_run: bool = False  # checked only ("Periksa saja", --dry-run): nothing was stored
    encoding: str | None = None  # how a CSV was decoded, e.g. "UTF-16 LE"
    delimiter: str | None = None  # a CSV's separator; the rejects file uses it too
    sheet: str | None = None  # the XLSX sheet read
    columns: list[str] = field(default_factory=list)  # the file's columns (of the sheet read)
    mapping: dict[str, str] = field(default_factory=dict)  # field -> the file's column
    profile: str | None = None  # the saved mapping used
    reasons: dict[str, int] = field(default_factory=dict)  # rejection reason -> rows, most frequent first
    # the first REJECTS_KEPT rejected rows (line number, reason, the file's columns, identities masked)
    rejects: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["baris", "alasan"]))
    _rejects_file: object = field(default=None, repr=False)  # every rejected row, as CSV (see rejects_csv)

    def summary(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k not in ("rejects", "_rejects_file")}

    def rejects_csv(self) -> bytes:
        """All rejected rows as CSV with the file's own delimiter (XLSX: comma), formula-leading
        text neutralised (data_access.safe_export)."""
        if self._rejects_file is None:
            from .safe_export import csv_bytes

            return csv_bytes(self.rejects, self.delimiter or ",")
        self._rejects_file.seek(0)
        return self._rejects_file.read()

    def write_rejects(self, path: str | Path) -> None:
        """The rejects file written to `path` (in blocks: it may be large)."""
        import shutil

        with open(path, "wb") as out:
            if self._rejects_file is None:
                out.write(self.rejects_csv())
            else:
                self._rejects_file.seek(0)
                shutil.copyfileobj(self._rejects_file, out, 1 << 20)


# ---------------------------------------------------------------- columns
def _norm_header(h: str) -> str:
    h = unicodedata.normalize("NFKD", str(h)).encode("ascii", "ignore").decode().strip().lower()
    h = re.sub(r"[^a-z0-9]+", "_", h).strip("_")
    return h


def map_columns(columns) -> dict[str, str]:
    """Our field -> the file's column, recognised by name."""
    found: dict[str, str] = {}
    normalised = {c: _norm_header(c) for c in columns}
    for fld, names in ALIASES.items():
        for col, n in normalised.items():
            if n in names and col not in found.values():
                found[fld] = col
                break
    return found


def column_candidates(columns) -> dict[str, list[str]]:
    """Every column whose name is an alias of a field: more than one is an ambiguous field."""
    out: dict[str, list[str]] = {f: [] for f in FIELDS}
    for col in columns:
        n = _norm_header(col)
        for fld, names in ALIASES.items():
            if n in names:
                out[fld].append(col)
    return out


def parse_mapping(items) -> dict[str, str | None]:
    """`KEY=COLUMN` texts (the command line's --map) -> {field: column}; an empty COLUMN means
    'do not use this field'."""
    mapping: dict[str, str | None] = {}
    for item in items or []:
        key, sep, column = str(item).partition("=")
        key = key.strip().lower()
        if not sep:
            raise ImportFailed(f"--map {item!r}: tulis sebagai ISIAN=KOLOM, mis. --map venue=\"Tempat Check-in\".")
        if key not in FIELDS:
            raise ImportFailed(f"--map: isian {key!r} tidak dikenal. Pilihan: {', '.join(FIELDS)}.")
        mapping[key] = column.strip() or None
    return mapping


def resolve_columns(columns, mapping: dict[str, str | None] | None = None) -> dict[str, str]:
    """Our field -> the file's column: recognised by name, then `mapping` on top (a field mapped
    to None is not used). A mapped column the file lacks, or one column given two fields, is
    refused."""
    columns = [str(c) for c in columns]
    mapping = dict(mapping or {})
    chosen: dict[str, str] = {}
    for fld, col in mapping.items():
        if fld not in FIELDS:
            raise ImportFailed(f"Isian {fld!r} tidak dikenal. Pilihan: {', '.join(FIELDS)}.")
        if col is None:
            continue
        match = col if col in columns else next((c for c in columns if _norm_header(c) == _norm_header(col)), None)
        if match is None:
            raise ImportFailed(f"Kolom {col!r} (untuk {fld}) tidak ada di berkas. Kolom di berkas: "
                               f"{', '.join(columns)}.")
        chosen[fld] = match
    twice = [c for c, n in Counter(chosen.values()).items() if n > 1]
    if twice:
        raise ImportFailed(f"Kolom {twice[0]!r} dipetakan ke lebih dari satu isian "
                           f"({', '.join(f for f, c in chosen.items() if c == twice[0])}).")
    used = set(chosen.values())
    auto = map_columns([c for c in columns if c not in used])
    for fld, col in auto.items():
        if fld not in mapping:
            chosen[fld] = col
    if ("tanggal" in mapping or "jam" in mapping) and "waktu" not in mapping:
        chosen.pop("waktu", None)  # date and time given apart: a recognised 'waktu' column does not win
    return {f: chosen[f] for f in FIELDS if f in chosen}


def missing_fields(cols: dict[str, str]) -> list[str]:
    """The required fields a column mapping still lacks, as the user reads them."""
    missing = []
    if "waktu" not in cols and not ("tanggal" in cols and "jam" in cols):
        missing.append("waktu (atau tanggal dan jam)")
    if "venue" not in cols:
        missing.append("venue/kode venue/OPD")
    if "status" not in cols:
        missing.append("status warna")
    if not any(f in cols for f in IDENTITY_FIELDS):
        missing.append("identitas (NIK, nomor HP, nama, atau ID pengunjung)")
    return missing


def check_required(cols: dict[str, str], columns) -> None:
    missing = missing_fields(cols)
    if missing:
        raise ImportFailed(
            "Kolom wajib tidak ditemukan: " + ", ".join(missing) + f". Kolom di berkas: {', '.join(map(str, columns))}. "
            "Petakan kolomnya: di halaman Impor lewat langkah 'Pemetaan kolom' (dan simpan sebagai profil impor), "
            "di baris perintah dengan --map ISIAN=KOLOM, mis. --map venue=\"Tempat Check-in\" (isian: "
            + ", ".join(FIELDS) + "), atau --profile NAMA."
        )


def needs_mapping(columns, mapping: dict[str, str | None] | None = None) -> bool:
    """Whether the page shows the mapping step: a required field is missing, or a field could be
    any of several columns (and no mapping chose one)."""
    try:
        cols = resolve_columns(columns, mapping)
    except ImportFailed:
        return True
    if missing_fields(cols):
        return True
    mapping = mapping or {}
    return any(len(c) > 1 and f not in mapping for f, c in column_candidates(columns).items())


def headers_key(columns) -> str:
    """SHA-256 of the normalised header list: the same headers (whatever their case, accents or
    punctuation) give the same key, so a saved profile is offered again."""
    import json

    return hashlib.sha256(json.dumps([_norm_header(c) for c in columns]).encode()).hexdigest()


# ---------------------------------------------------------------- reading, in pieces
ENCODING_LABELS = {"utf-8-sig": "UTF-8", "utf-16": "UTF-16", "utf-16-le": "UTF-16 LE", "utf-16-be": "UTF-16 BE",
                   "utf-32": "UTF-32", "cp1252": "Windows-1252", "latin-1": "Latin-1 (ISO-8859-1)"}
DELIMITER_LABELS = {",": "koma", ";": "titik koma", "\t": "tab"}
_BLOCK = 1 << 20
_CP1252_UNDEFINED = (b"\x81", b"\x8d", b"\x8f", b"\x90", b"\x9d")  # bytes Windows-1252 leaves undefined


class _ArrowGaveUp(Exception):
    """Arrow's reader met what pandas' reader handles differently, after pieces were read: the
    import starts again with pandas' reader (nothing was stored: one transaction)."""


@dataclass
class OpenedFile:
    """A check-in export opened for reading in pieces: its columns, how it is read (encoding
    and delimiter of a CSV, the sheet of a workbook) and its SHA-256. Each pass over the rows
    opens the source afresh; `source` is a path or the file's bytes."""

    file_name: str
    kind: str  # "csv" or "xlsx"
    size: int
    checksum: str
    columns: list[str]
    encoding: str | None = None  # label, e.g. "UTF-16 LE"; None for a workbook
    delimiter: str | None = None
    sheet: str | None = None
    sheets: list[str] = field(default_factory=list)
    source: Path | bytes = field(default=b"", repr=False)
    codec: str | None = field(default=None, repr=False)
    arrow: bool = field(default=False, repr=False)  # the well-formed UTF-8 CSV: Arrow's reader
    bom: int = field(default=0, repr=False)
    rows_hint: int | None = field(default=None, repr=False)  # a workbook's row count as it states it
    _tell = None  # bytes read so far (CSV), for the progress estimate

    def binary(self):
        return open(self.source, "rb") if isinstance(self.source, Path) else io.BytesIO(self.source)

    def estimated_rows(self, done: int) -> int:
        """The file's rows as far as can be told after `done` of them (for a progress bar)."""
        if self.kind == "xlsx":
            return max(done, (self.rows_hint or 1) - 1)
        pos = self._tell() if self._tell is not None else 0
        return max(done, int(done * self.size / pos)) if pos else done

    # -------------------------------------------------------- rows
    def pieces(self, rows: int | None = None):
        """The data rows as frames of text of about `rows` (default PIECE_ROWS) rows (index: the
        row's number in the file, 0 for the first data row)."""
        rows = rows or PIECE_ROWS
        if self.kind == "xlsx":
            yield from self._xlsx_pieces(rows)
            return
        if self.arrow:
            started = False
            try:
                for piece in self._arrow_pieces(rows):
                    started = True
                    yield piece
                return
            except _ArrowGaveUp:
                self.arrow = False
                if started:
                    raise
        yield from self._pandas_pieces(rows)

    def head(self, n: int = 20) -> pd.DataFrame:
        """The first `n` data rows (n >= 1)."""
        for piece in (self._xlsx_pieces(n) if self.kind == "xlsx" else self._pandas_pieces(n, nrows=n)):
            return piece.iloc[:n]
        return pd.DataFrame({c: pd.array([], dtype="str") for c in self.columns})

    def _pandas_columns(self) -> list[str]:
        with self.binary() as raw, io.TextIOWrapper(raw, encoding=self.codec, newline="") as text:
            try:
                return [str(c) for c in pd.read_csv(text, sep=self.delimiter, dtype=str, nrows=0, engine="c",
                                                    quoting=csv.QUOTE_MINIMAL).columns]
            except (pd.errors.ParserError, ValueError) as exc:
                raise ImportFailed(f"CSV tidak dapat dibaca: {str(exc).splitlines()[0]}") from None

    def read_all(self) -> pd.DataFrame:
        if self.kind == "xlsx":
            return _read_xlsx(self.binary(), self.sheet)
        parts = list(self.pieces())
        if not parts:
            return pd.DataFrame({c: pd.array([], dtype="str") for c in self.columns})
        return pd.concat(parts) if len(parts) > 1 else parts[0]

    def _arrow_pieces(self, rows: int):
        with self.binary() as stream:
            stream.seek(self.bom)
            self._tell = stream.tell
            yield from _arrow_frames(stream, self.columns, self.delimiter, rows)

    def _pandas_pieces(self, rows: int, nrows: int | None = None):
        with self.binary() as raw, io.TextIOWrapper(raw, encoding=self.codec, newline="") as text:
            self._tell = raw.tell
            try:
                reader = pd.read_csv(text, sep=self.delimiter, dtype=str, keep_default_na=False,
                                     skip_blank_lines=True, engine="c", on_bad_lines="error",
                                     quoting=csv.QUOTE_MINIMAL, chunksize=rows, nrows=nrows)
                with reader:
                    yield from reader
            except (pd.errors.ParserError, ValueError) as exc:
                raise ImportFailed(f"CSV tidak dapat dibaca: {str(exc).splitlines()[0]}") from None

    def _xlsx_pieces(self, rows: int):
        with self.binary() as raw:
            wb = _load_workbook(raw)
            try:
                ws = wb[self.sheet] if self.sheet else None
                if ws is None:
                    return
                it = _xlsx_sheet_rows(ws)
                header = next(it, None)
                if header is None:
                    return
                names: list[str] | None = None
                held: list[tuple[list, int]] = []
                empty: list[tuple[list, int]] = []  # empty rows, kept only when a row follows them
                offset = 0
                for cells, numeric in it:
                    if not cells:
                        empty.append((cells, numeric))
                        continue
                    held += empty
                    empty = []
                    held.append((cells, numeric))
                    if len(held) >= rows:
                        names = names or _xlsx_names(header[0], max(len(header[0]), *(len(c) for c, _ in held)))
                        yield _frame_from_rows(names, held, offset)
                        offset += len(held)
                        held = []
                if held:
                    names = names or _xlsx_names(header[0], max(len(header[0]), *(len(c) for c, _ in held)))
                    yield _frame_from_rows(names, held, offset)
            finally:
                wb.close()


def open_table(source: Path | bytes, file_name: str, *, sheet: str | None = None,
               mapping: dict[str, str | None] | None = None) -> OpenedFile:
    """Open a CSV or XLSX export for reading: check its size, compute its SHA-256, detect a
    CSV's encoding (UTF-8 with or without BOM, UTF-16, UTF-32, Windows-1252, else Latin-1) and
    delimiter, or choose a workbook's sheet (`sheet`, else the first whose columns are
    recognised, with `mapping` if given)."""
    size = source.stat().st_size if isinstance(source, Path) else len(source)
    if size > MAX_FILE_BYTES:
        raise ImportFailed("Berkas terlalu besar (maksimal 512 MB); pecah menjadi beberapa berkas.")
    name = file_name.lower()
    opened = OpenedFile(file_name=Path(file_name).name, kind="csv", size=size, checksum="", columns=[],
                        source=source)
    with opened.binary() as f:
        head = f.read(64 * 1024)
    if name.endswith((".xlsx", ".xlsm")) or head[:2] == b"PK":
        opened.kind = "xlsx"
        opened.checksum = _sha256(opened)
        _open_xlsx(opened, sheet, mapping)
        return opened
    if name.endswith(".xls"):
        raise ImportFailed("Format .xls lama tidak didukung; simpan ulang sebagai .xlsx atau .csv.")
    opened.checksum, codec, has_quote = _prescan(opened, head)
    opened.codec = codec
    label = ENCODING_LABELS[codec]
    if codec == "utf-8-sig" and head.startswith(codecs.BOM_UTF8):
        label, opened.bom = "UTF-8 dengan BOM", len(codecs.BOM_UTF8)
    elif codec == "utf-16":
        label = ("UTF-16 LE" if head.startswith(codecs.BOM_UTF16_LE) else "UTF-16 BE") + " dengan BOM"
    opened.encoding = label
    text = codecs.getincrementaldecoder(codec)(errors="replace").decode(head, final=size <= len(head))
    if not text or (size <= len(head) and text.isspace()):
        raise ImportFailed("Berkas kosong.")
    first = next(iter(text[:4096].splitlines()), "")
    sep = ";" if first.count(";") > first.count(",") else ("\t" if first.count("\t") > first.count(",") else ",")
    opened.delimiter = sep
    try:
        names = next(csv.reader([first], delimiter=sep))
    except (csv.Error, StopIteration):
        names = []
    opened.arrow = (codec == "utf-8-sig" and not has_quote and len(names) >= 2 and len(set(names)) == len(names)
                    and all(n.strip() for n in names))  # else pandas' rules for quotes and odd headers apply
    opened.columns = names if opened.arrow else opened._pandas_columns()
    return opened


def _prescan(opened: OpenedFile, head: bytes) -> tuple[str, str, bool]:
    """A text file's SHA-256, the codec it decodes with and whether it holds a quote character
    (then pandas' reader is the reference). The hash is computed on a thread of its own
    meanwhile (hashlib works without the GIL)."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="import-sha256") as pool:
        digest = pool.submit(_sha256, opened)
        codec, quote = _scan_text(opened, head)
        return digest.result(), codec, quote


def _sha256(opened: OpenedFile) -> str:
    sha = hashlib.sha256()
    with opened.binary() as f:
        while block := f.read(_BLOCK):
            sha.update(block)
    return sha.hexdigest()


def _scan_text(opened: OpenedFile, head: bytes) -> tuple[str, bool]:
    """The codec a text file decodes with, and whether it holds a quote character."""
    codec = _utf16_or_32(head)
    if codec is None and b"\x00" in head[:4096]:
        raise ImportFailed("Berkas ini bukan CSV teks (berisi data biner). Gunakan CSV atau XLSX.")
    decoder = codecs.getincrementaldecoder(codec or "utf-8")()
    utf8, cp1252, quote, checked_head = True, True, False, False
    with opened.binary() as f:
        while block := f.read(_BLOCK):
            quote = quote or b'"' in block
            if codec is None:
                cp1252 = cp1252 and not any(b in block for b in _CP1252_UNDEFINED)
            if decoder is not None:
                try:
                    decoded = decoder.decode(block)
                except UnicodeDecodeError:
                    if codec is not None:
                        raise ImportFailed(f"Berkas tampak berkode {codec.upper()} tetapi tidak dapat dibaca sebagai "
                                           "teks; simpan ulang sebagai CSV UTF-8.") from None
                    utf8, decoder = False, None
                    continue
                if codec is not None and not checked_head:
                    checked_head = True
                    if _CONTROL.search(decoded.removeprefix("\ufeff"), 0, 4096):
                        raise ImportFailed("Berkas ini bukan CSV teks (berisi data biner). Gunakan CSV atau XLSX.")
        if decoder is not None:
            try:
                decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                if codec is not None:
                    raise ImportFailed(f"Berkas tampak berkode {codec.upper()} tetapi tidak dapat dibaca sebagai "
                                       "teks; simpan ulang sebagai CSV UTF-8.") from None
                utf8 = False
    if codec is None:
        codec = "utf-8-sig" if utf8 else ("cp1252" if cp1252 else "latin-1")
    return codec, quote


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


def read_table(data: bytes, file_name: str) -> pd.DataFrame:
    """The whole file as a table of strings, with its own column names (tests and small files;
    imports read in pieces)."""
    return open_table(data, file_name).read_all()


def _read_csv_pandas(text: str, sep: str) -> pd.DataFrame:
    """pandas' reading of a CSV text: the reference the Arrow reader must agree with."""
    try:
        return pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False, skip_blank_lines=True,
                           engine="c", on_bad_lines="error", quoting=csv.QUOTE_MINIMAL)
    except (pd.errors.ParserError, ValueError) as exc:
        raise ImportFailed(f"CSV tidak dapat dibaca: {str(exc).splitlines()[0]}") from None


def _read_csv_arrow(data: bytes, enc: str, first: str, sep: str) -> pd.DataFrame | None:
    """The Arrow reading of a whole CSV, or None where the importer hands the file to pandas'
    reader (odd headers, short or long rows, quoted line breaks): the pieces `OpenedFile` reads,
    put together."""
    try:
        names = next(csv.reader([first], delimiter=sep))
    except (csv.Error, StopIteration):
        return None
    if not names or len(set(names)) != len(names) or any(not n.strip() for n in names) or len(names) < 2:
        return None
    if enc != "utf-8-sig" or b'"' in data:
        return None
    body = data[3:] if data.startswith(codecs.BOM_UTF8) else data
    try:
        parts = list(_arrow_frames(io.BytesIO(body), names, sep, PIECE_ROWS))
    except _ArrowGaveUp:
        return None
    if not parts:
        return pd.DataFrame({n: pd.array([], dtype="str") for n in names})
    return pd.concat(parts) if len(parts) > 1 else parts[0]


def _arrow_frames(stream, names: list[str], sep: str, rows: int):
    """Arrow's CSV reader (C++, several threads) over `stream` (a binary file positioned at the
    header line), as frames of text of about `rows` rows; _ArrowGaveUp where its reading could
    differ from pandas'. The bytes are cut into pieces at line ends (the file holds no quote, so
    every line end ends a row) and each piece parsed whole: no read-ahead beyond the piece."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    options = {
        "read_options": pacsv.ReadOptions(column_names=names, use_threads=True, block_size=1 << 20),
        "parse_options": pacsv.ParseOptions(delimiter=sep),
        "convert_options": pacsv.ConvertOptions(column_types={n: pa.string() for n in names},
                                                strings_can_be_null=False, quoted_strings_can_be_null=False),
    }
    size = max(rows * 64, 1 << 10)  # bytes read at a time, until the file's own bytes per row are known
    carry, offset, header = b"", 0, True
    while True:
        block = stream.read(size)
        data = carry + block if carry else block
        final = not block
        cut = len(data) if final else data.rfind(b"\n") + 1
        body = memoryview(data)[:cut]
        carry = bytes(memoryview(data)[cut:])
        if header:
            end = bytes(body[:1 << 20]).find(b"\n") if len(body) else -1
            if end < 0 and not final:
                carry, size = data, size * 2  # the header line is longer than a block
                continue
            body = body[end + 1:] if end >= 0 else body[len(body):]
            header = False
        if len(body):
            try:
                table = pacsv.read_csv(pa.py_buffer(body), **options)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError, ValueError):
                if bytes(body).strip():
                    raise _ArrowGaveUp from None
                table = None  # blank lines only
            if table is not None and table.num_rows:
                frame = table.to_pandas()
                frame.index = pd.RangeIndex(offset, offset + len(frame))
                offset += len(frame)
                size = max(int(len(body) / len(frame) * rows), 1 << 10)
                del table
                yield frame
        if final:
            return


# XLSX is a zip of XML parts. What the reader unpacks is bounded before anything is parsed
# (zip bombs: a 400 KB file can unpack to gigabytes), then the chosen sheet is read streaming
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



def _load_workbook(raw):
    import openpyxl

    return openpyxl.load_workbook(raw, read_only=True, data_only=True, keep_links=False)


@contextmanager
def _workbook(raw):
    """The workbook in the binary stream `raw`, read only, after the package checks (bounds
    before any XML parser sees it); closed on leaving. A damaged file, whether found on opening
    or while reading the workbook inside the block, becomes ImportFailed."""
    try:
        with zipfile.ZipFile(raw) as zf:
            _check_xlsx_package(zf)
        raw.seek(0)
        wb = _load_workbook(raw)
        try:
            yield wb
        finally:
            wb.close()
    except ImportFailed:
        raise
    except Exception as exc:  # zipfile and openpyxl raise many kinds for a damaged file
        raise ImportFailed(f"Berkas Excel tidak dapat dibaca ({exc.__class__.__name__}).") from None


def _open_xlsx(opened: OpenedFile, sheet: str | None, mapping: dict[str, str | None] | None) -> None:
    """Check the package (bounds before any XML parser sees it), list its sheets and choose one:
    `sheet` (its name, or its number counted from 1), else the first whose columns cover the
    required fields, else the first with a recognised column, else the first."""
    with opened.binary() as raw, _workbook(raw) as wb:
        headers: dict[str, list[str]] = {}
        hints: dict[str, int | None] = {}
        for ws in wb.worksheets:
            hints[ws.title] = getattr(ws, "max_row", None)
            first = next(_xlsx_sheet_rows(ws), None)
            headers[ws.title] = _xlsx_names(first[0], len(first[0])) if first else []
    opened.sheets = list(headers)
    if sheet is not None:
        chosen = _sheet_named(opened.sheets, sheet)
    else:
        chosen = None
        for title, cols in headers.items():
            try:
                if not missing_fields(resolve_columns(cols, mapping)):
                    chosen = title
                    break
            except ImportFailed:
                continue
        if chosen is None:
            chosen = next((t for t, cols in headers.items() if map_columns(cols)), None)
        if chosen is None and opened.sheets:
            chosen = opened.sheets[0]
    opened.sheet = chosen
    opened.columns = headers.get(chosen, []) if chosen else []
    opened.rows_hint = hints.get(chosen) if chosen else None


def _sheet_named(sheets: list[str], wanted: str) -> str:
    if wanted in sheets:
        return wanted
    folded = [s for s in sheets if s.strip().casefold() == str(wanted).strip().casefold()]
    if folded:
        return folded[0]
    if str(wanted).strip().isdigit() and 1 <= int(wanted) <= len(sheets):
        return sheets[int(wanted) - 1]
    raise ImportFailed(f"Lembar {wanted!r} tidak ada di berkas. Lembar yang ada: "
                       f"{', '.join(repr(s) for s in sheets) or '(tidak ada)'}.")


def _xlsx_sheet_rows(ws):
    """A sheet's rows, read streaming, as (texts, numeric) without trailing empty cells: the
    texts as pd.read_excel(dtype=str) gives them (None for missing), and, for data rows, a bit
    per cell that held a number (a NIK stored as a number has lost digits). Bounded in rows,
    columns and cell length."""
    if hasattr(ws, "reset_dimensions"):
        ws.reset_dimensions()  # a row is as long as its cells, not as the sheet claims
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
        numeric = 0
        for j, c in enumerate(cells):
            if c is not None and len(c) > MAX_CELL_CHARS:
                raise _xlsx_refused(f"sel di baris {fmt_int(n)}, kolom {j + 1} lebih dari "
                                    f"{fmt_int(MAX_CELL_CHARS)} karakter")
            if n > 1 and type(values[j]) in (int, float):
                numeric |= 1 << j
        yield cells, numeric


def _xlsx_names(header: list, width: int) -> list[str]:
    """Column names as pandas gives them: 'Unnamed: 3' for a missing one, 'a.1' for a repeat."""
    header = list(header) + [None] * (width - len(header))
    names: list[str] = []
    for i, h in enumerate(header):
        name = f"Unnamed: {i}" if h is None else h
        base, k = name, 0
        while name in names:
            k += 1
            name = f"{base}.{k}"
        names.append(name)
    return names


def _frame_from_rows(names: list[str], rows: list[tuple[list, int]], offset: int) -> pd.DataFrame:
    """Rows (texts, numeric bits) -> a frame of text; `attrs["numeric"]`: per column, which
    cells held numbers."""
    cols, numeric = {}, {}
    masks = [m for _, m in rows]
    union = 0
    for m in masks:
        union |= m
    for j, name in enumerate(names):
        cols[name] = pd.array([r[j] if j < len(r) else None for r, _ in rows], dtype="str")
        if union >> j & 1:
            numeric[name] = np.fromiter((m >> j & 1 for m in masks), dtype=bool, count=len(masks))
    frame = pd.DataFrame(cols, index=pd.RangeIndex(offset, offset + len(rows)))
    frame.attrs["numeric"] = numeric
    return frame


def _read_xlsx(raw, sheet: str | None = None) -> pd.DataFrame:
    """A sheet (default: the first) whole, as pd.read_excel(dtype=str) reads it (numbers that are whole
    without '.0', dates as 'YYYY-MM-DD HH:MM:SS', empty and error cells missing, empty rows
    inside kept)."""
    with raw, _workbook(raw) as wb:
        ws = wb[sheet] if sheet else (wb.worksheets[0] if wb.worksheets else None)
        rows = list(_xlsx_sheet_rows(ws)) if ws is not None else []
    while rows and not rows[-1][0]:
        rows.pop()  # trailing empty rows
    if not rows:
        return pd.DataFrame()
    names = _xlsx_names(rows[0][0], max(len(r) for r, _ in rows))
    return _frame_from_rows(names, rows[1:], 0)


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
BAD_SERIAL = "waktu berupa angka yang bukan nomor seri tanggal Excel"
LOST_DIGITS = ("identitas rusak oleh Excel: tersimpan sebagai angka atau notasi ilmiah (mis. 3,52601E+15), "
               "digitnya hilang")
OFFSET_MINUTES = (-12 * 60, 14 * 60)  # the real UTC offsets, Baker Island to Kiribati


def format_order(s: pd.Series) -> tuple[str, ...]:
    """FAST_FORMATS, the ones that read most of a sample of `s` first."""
    sample = s[s != ""].head(500)
    hits = {f: int(_strptime_pandas(sample, f).notna().sum()) for f in FAST_FORMATS}
    return tuple(sorted(FAST_FORMATS, key=lambda f: -hits[f]))


def parse_times(raw: pd.Series, *, arrow: bool = True, formats: tuple[str, ...] | None = None
                ) -> tuple[pd.Series, pd.Series]:
    """Text -> (UTC timestamps, error reason or ''). Naive times are WIB.
    The common forms are parsed straight away (by Arrow's C++ parser when `arrow`, with the
    rows it reads differently from pandas checked again); only the rest (time zones, odd
    spacing, fractions of a second) goes through the slower normalisation; a plain number is
    Excel's serial date (BAD_SERIAL where it is none). Everything is
    held in microseconds (years 1 to 9999 fit), so no year in a file can overflow; a time
    that cannot be used is that row's reason, never an error for the file. `formats`: the
    order to try FAST_FORMATS in (default: `format_order` of these values)."""
    s = _stripped(raw)
    fast = pd.Series(pd.NaT, index=s.index, dtype="datetime64[us]")
    for fmt in formats or format_order(s):  # the file's own form first
        todo = fast.isna() & (s != "")
        if not todo.any():
            break
        fast.loc[todo] = (_strptime_arrow if arrow else _strptime_pandas)(s[todo], fmt)
    rest = fast.isna() & (s != "")
    bad_serial = None
    if rest.any():  # Excel's serial numbers (days since 30 December 1899, the time as a fraction)
        serial = pd.Series(False, index=s.index)
        serial.loc[rest] = s[rest].str.fullmatch(_SERIAL).to_numpy(dtype=bool, na_value=False)
        if serial.any():
            fast.loc[serial] = _excel_serials(s[serial])
            bad_serial = (serial & fast.isna()).to_numpy()
            rest &= ~serial
    hours = pd.Series(7.0, index=s.index)
    if not rest.any():
        utc, reason = _checked(s, fast, hours)
    else:
        slow_local, slow_hours = _parse_slow(s[rest])
        local = fast.copy()
        local.loc[rest] = slow_local
        hours.loc[rest] = slow_hours
        utc, reason = _checked(s, local, hours)
    if bad_serial is not None and bad_serial.any():
        reason = reason.copy()
        reason[bad_serial] = BAD_SERIAL
    return utc, reason


_SERIAL = r"\d{1,7}(?:[.,]\d+)?"
_EXCEL_EPOCH = np.datetime64("1899-12-30T00:00:00", "us")
_EXCEL_LAST = 2_958_466  # 1 January 10000


def _excel_serials(s: pd.Series) -> np.ndarray:
    """Excel serial numbers ('44592.34375', '44592,34375') -> local times to the second; NaT
    for a number that is no day of the years 1900 to 9999."""
    days = pd.to_numeric(s.str.replace(",", ".", regex=False), errors="coerce").to_numpy(dtype="float64")
    ok = (days >= 1) & (days < _EXCEL_LAST)
    secs = np.rint(np.where(ok, days, 0) * 86400).astype("int64")
    out = _EXCEL_EPOCH + secs.astype("timedelta64[s]")
    out[~ok] = np.datetime64("NaT")
    return out


def _date_and_time(day: pd.Series, clock: pd.Series) -> pd.Series:
    """'tanggal' and 'jam' columns as one text to parse: an Excel day number becomes a date, a
    fraction of a day a time, and the midnight or 30 December 1899 that a workbook's date-only
    or time-only cells carry is dropped."""
    day, clock = _stripped(day), _stripped(clock)
    day = day.str.replace(r"^(\d{4}-\d{2}-\d{2}) 00:00:00$", r"\1", regex=True)
    whole = day.str.fullmatch(r"\d{1,7}(?:[.,]0+)?").to_numpy(dtype=bool, na_value=False)
    if whole.any():
        dates = pd.Series(_excel_serials(day[whole]), index=day.index[whole])
        day = day.copy()
        day.loc[whole] = dates.dt.strftime("%Y-%m-%d").fillna("?")
    clock = clock.str.replace(r"^1899-12-3[01] ", "", regex=True)
    frac = clock.str.fullmatch(r"0?[.,]\d+|0").to_numpy(dtype=bool, na_value=False)
    if frac.any():
        secs = np.rint(pd.to_numeric(clock[frac].str.replace(",", ".", regex=False), errors="coerce")
                       .to_numpy(dtype="float64") * 86400).astype("int64")
        clock = clock.copy()
        clock.loc[frac] = [f"{x // 3600:02d}:{x // 60 % 60:02d}:{x % 60:02d}" for x in secs]
    return day + " " + clock


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


_FIXED_FIELDS = {"%Y": 4, "%m": 2, "%d": 2, "%H": 2, "%M": 2, "%S": 2}


@functools.cache
def _fixed_layout(fmt: str) -> tuple[int, dict[str, int], tuple[tuple[int, int], ...]] | None:
    """A format of zero-padded fields and single-byte separators as (width, field -> position,
    (position, byte) of each separator); None for any other format."""
    pos, fields, literals, i = 0, {}, [], 0
    while i < len(fmt):
        if fmt[i] == "%":
            code = fmt[i:i + 2]
            if code not in _FIXED_FIELDS or code in fields:
                return None
            fields[code] = pos
            pos, i = pos + _FIXED_FIELDS[code], i + 2
        else:
            if not fmt[i].isascii() or fmt[i].isdigit():
                return None
            literals.append((pos, ord(fmt[i])))
            pos, i = pos + 1, i + 1
    return (pos, fields, tuple(literals)) if set(fields) == set(_FIXED_FIELDS) else None


_DAYS_IN_MONTH = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])


def _strptime_fixed(arr, fmt: str) -> np.ndarray | None:
    """Times written exactly as `fmt` with every field zero-padded ('02/05/2023 10.11.02'), read
    digit by digit from the text's bytes in numpy (a third of the time of Arrow's strptime,
    8 ms for 100.000 rows): datetime64[s], NaT for any other row (another width, a non-digit, an impossible
    date or time, a year before 1900), which the caller parses as before. None when `fmt` is
    not such a format."""
    import pyarrow as pa

    layout = _fixed_layout(fmt)
    if layout is None or not len(arr):
        return None
    width, fields, literals = layout
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if arr.null_count:
        arr = arr.fill_null("")
    wide = pa.types.is_large_string(arr.type)
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int64 if wide else np.int32)
    offsets = offsets[arr.offset:arr.offset + len(arr) + 1]
    data = np.frombuffer(arr.buffers()[2], dtype=np.uint8) if arr.buffers()[2] is not None else np.empty(0, np.uint8)
    start = offsets[:-1].astype(np.int64)
    fits = (offsets[1:] - offsets[:-1]) == width
    out = np.full(len(arr), np.datetime64("NaT"), dtype="datetime64[s]")
    if not fits.any():
        return out
    if fits.all() and start[-1] - start[0] == (len(arr) - 1) * width:  # one block of equal rows: a view
        chars = data[start[0]:start[0] + len(arr) * width].reshape(len(arr), width)
    else:
        chars = data[start[fits][:, None] + np.arange(width)]
    ok = np.ones(len(chars), dtype=bool)
    for at, byte in literals:
        ok &= chars[:, at] == byte
    codes = tuple(_FIXED_FIELDS)  # Y m d H M S
    at = [fields[c] + k for c in codes for k in range(_FIXED_FIELDS[c])]
    digits = np.ascontiguousarray((chars[:, at] - np.uint8(48)).T)  # one row per digit (a byte below '0' wraps)
    ok &= (digits <= 9).all(axis=0)
    digits = digits.astype(np.int32)
    values, i = [], 0
    for c in codes:
        v = digits[i]
        for k in range(1, _FIXED_FIELDS[c]):
            v = v * 10 + digits[i + k]
        values.append(v)
        i += _FIXED_FIELDS[c]
    year, month, day, hour, minute, second = values
    ok &= (year >= 1900) & (month >= 1) & (month <= 12) & (hour < 24) & (minute < 60) & (second < 60)
    leap = ((year & 3) == 0) & ((year % 100 != 0) | (year % 400 == 0))
    ok &= (day >= 1) & (day <= _DAYS_IN_MONTH[np.clip(month - 1, 0, 11)] + (leap & (month == 2)))
    # days since 1970-01-01 of the proleptic Gregorian date (years from March, 400-year eras)
    march = month <= 2
    y = year - march
    era = y // 400
    yoe = y - era * 400
    doy = (153 * (month + np.where(march, 9, -3)) + 2) // 5 + day - 1
    days = (era * 146097 + yoe * 365 + yoe // 4 - yoe // 100 + doy - 719468).astype(np.int64)
    secs = days * 86400 + (hour * 3600 + minute * 60 + second)
    secs[~ok] = np.iinfo(np.int64).min  # NaT
    out[fits] = secs.view("datetime64[s]")
    return out


def _strptime_arrow(s: pd.Series, fmt: str) -> pd.Series:
    """Like `_strptime_pandas`, about 20 times faster (and zero-padded fixed-width rows of the
    common formats in numpy, `_strptime_fixed`). Arrow's parser rolls an impossible day
    over (31/02 becomes 3 March) and takes two-digit years as years 0-99, so the rows that can
    come from that (day 1 to 3 of a month, year before 1900) are parsed again by pandas."""
    import pyarrow as pa

    if _fixed_layout(fmt) is None:
        return _strptime_c(s, fmt)
    fixed = _strptime_fixed(pa.array(s.array, type=pa.large_string()), fmt)  # zero-copy for pandas' Arrow text
    out = pd.Series(fixed.astype("datetime64[us]"), index=s.index)
    rest = np.flatnonzero(np.isnat(fixed))
    if len(rest):
        out.iloc[rest] = _strptime_c(s.iloc[rest], fmt).to_numpy()
    return out


def _strptime_c(s: pd.Series, fmt: str) -> pd.Series:
    """`_strptime_arrow` by Arrow's C++ parser, doubtful rows checked again by pandas."""
    import pyarrow as pa
    import pyarrow.compute as pc

    arr = pa.array(s.array, type=pa.string())
    parsed = pc.strptime(arr, format=fmt, unit="s", error_is_null=True)
    out = pd.Series(parsed.to_numpy(zero_copy_only=False).astype("datetime64[us]"), index=s.index)
    doubt = ((out.dt.day <= 3) | (out.dt.year < 1900)).to_numpy()
    if doubt.any():
        # a doubtful time that Arrow writes back exactly as the file wrote it was read right (a
        # rolled-over day or a two-digit year would come back different): only the others go
        # to pandas
        rows = np.flatnonzero(doubt)
        back = pc.strftime(parsed.take(pa.array(rows)), format=fmt)
        same = pc.fill_null(pc.equal(back, arr.take(pa.array(rows))), False).to_numpy(zero_copy_only=False)
        redo = rows[~same]
        if len(redo):
            out.iloc[redo] = _strptime_pandas(s.iloc[redo], fmt).to_numpy()
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
    return pd.Series(pd.Categorical.from_codes(hit[codes], categories=cats, validate=False), index=raw.index)


def _norm_value(v) -> str:
    """Lower case, single spaces, composed accents: how file values and registry names are compared."""
    return " ".join(_nfc(str(v)).lower().split())


def _nfc(text: str) -> str:
    """Unicode NFC: 'e' + combining acute (as macOS and some exports write it) becomes 'é', the
    form every other encoding gives. ASCII is its own NFC form."""
    return text if text.isascii() else unicodedata.normalize("NFC", text)


def _stripped(raw: pd.Series) -> pd.Series:
    if not isinstance(raw.dtype, pd.StringDtype) or raw.hasnans:
        raw = raw.fillna("").astype(str)
    return raw.str.strip()



def _venue_index(source: Engine | Connection) -> dict[str, int]:
    """Venue code, OPD code, official name and short name (case- and space-insensitive) -> OPD id."""
    sel = select(Opd.id, Opd.code, Opd.name, Opd.short_name, Opd.venue_code)
    if isinstance(source, Connection):
        rows = source.execute(sel).all()
    else:
        with source.connect() as conn:
            rows = conn.execute(sel).all()
    idx: dict[str, int] = {}
    for r in rows:
        for v in (r.code, r.name, r.short_name, r.venue_code):
            if v:
                idx[_norm_value(v)] = r.id
    return idx


HASH_CACHE = 100_000  # identifiers (per field) whose keys an import remembers between pieces (~200 bytes each)


def _keys(frame: pd.DataFrame, cols: dict[str, str], key: bytes, *, skip: np.ndarray | None = None,
          cache: dict | None = None) -> pd.Series:
    """Visitor key: keyed hash of the first identity column with a value (NIK, phone, name, ID),
    missing where there is none (or the row is in `skip`); an Arrow dictionary column (codes
    into the piece's distinct keys, all in Arrow's C++: no Python object per row or per key).
    Each distinct identifier is hashed once (`cache` carries them from piece to piece), in
    Unicode NFC, so the same name written with composed or decomposed accents, or read from
    UTF-8, UTF-16 or Windows-1252, is the same person."""
    import pyarrow as pa
    import pyarrow.compute as pc

    codes = np.full(len(frame), -1, dtype="int64")  # into the hashes of all fields, in order
    blocked = np.zeros(len(frame), dtype=bool) if skip is None else skip.copy()
    hashes: list[pa.Array] = []
    offset = 0
    for fld in IDENTITY_FIELDS:
        if fld not in cols:
            continue
        vals = _stripped(frame[cols[fld]])
        take = ~blocked & (vals != "").to_numpy()
        if not take.any():
            continue
        blocked |= take
        text = _arrow_text(vals)
        enc = (text if take.all() else text.filter(pa.array(take))).dictionary_encode()
        uniq = enc.dictionary
        codes[take] = enc.indices.to_numpy(zero_copy_only=False) + offset
        offset += len(uniq)
        if cache is None:
            hashes.append(pa.array(pseudonymise_many([_nfc(u) for u in uniq.to_pylist()], key, kind=fld),
                                   type=pa.string()))
            continue
        # identifiers seen in earlier pieces are found in C++ (Arrow's index_in) and not hashed again
        known, known_keys = cache.get(fld, (None, None))
        if known is None or len(known) > HASH_CACHE:
            known, known_keys = pa.array([], type=pa.string()), pa.array([], type=pa.string())
        pos = pc.fill_null(pc.index_in(uniq, value_set=known), -1).to_numpy(zero_copy_only=False).astype("int64")
        new = np.flatnonzero(pos < 0)
        if len(new):
            fresh_values = uniq.take(pa.array(new))
            fresh = pa.array(pseudonymise_many([_nfc(u) for u in fresh_values.to_pylist()], key, kind=fld),
                             type=pa.string())
            pos[new] = np.arange(len(known), len(known) + len(new))
            known, known_keys = pa.concat_arrays([known, fresh_values]), pa.concat_arrays([known_keys, fresh])
        cache[fld] = (known, known_keys)
        hashes.append(known_keys.take(pa.array(pos)))
    # identifiers written differently ('0812...', '+62 812...') share one key: one code each
    if hashes:
        enc = (pa.concat_arrays(hashes) if len(hashes) > 1 else hashes[0]).dictionary_encode()
        key_codes = enc.indices.to_numpy(zero_copy_only=False)
        codes = np.where(codes >= 0, key_codes[np.maximum(codes, 0)], -1)
        keys = enc.dictionary
    else:
        keys = pa.array([], type=pa.string())
    indices = pa.array(codes.astype("int32"), mask=codes < 0)
    return pd.Series(pd.arrays.ArrowExtensionArray(pa.DictionaryArray.from_arrays(indices, keys)), index=frame.index)


def _arrow_text(vals: pd.Series):
    """A text column (as `_stripped` gives it) as one Arrow string array (no copy of the text
    where pandas holds it in Arrow already)."""
    import pyarrow as pa

    arr = pa.array(vals.array, type=None if isinstance(vals.dtype, pd.StringDtype) else pa.string())
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    return arr if arr.type == pa.string() else arr.cast(pa.string())


_SCIENTIFIC = r"[+-]?\d+(?:[.,]\d+)?[eE][+-]?\d+"


def _lost_digits(frame: pd.DataFrame, cols: dict[str, str], numeric: dict[str, np.ndarray]) -> np.ndarray:
    """Rows whose identity (the first identity column with a value, as `_keys` takes it) is a
    number that lost digits: written in scientific notation ('3.52601E+15'), or a workbook cell
    holding a number of 16 digits or more (Excel keeps 15)."""
    lost = np.zeros(len(frame), dtype=bool)
    taken = np.zeros(len(frame), dtype=bool)
    for fld in IDENTITY_FIELDS:
        if fld not in cols:
            continue
        vals = _stripped(frame[cols[fld]])
        present = (vals != "").to_numpy()
        if fld in NUMBER_IDENTITIES:
            # only a value with something other than digits can be in scientific notation
            import pyarrow.compute as pc

            other = ~pc.utf8_is_digit(_arrow_text(vals)).to_numpy(zero_copy_only=False)
            broken = np.zeros(len(vals), dtype=bool)
            if other.any():
                broken[other] = vals[other].str.fullmatch(_SCIENTIFIC).to_numpy(dtype=bool, na_value=False)
            cells = numeric.get(cols[fld])
            if cells is not None:
                broken |= cells & (vals.str.len() >= 16).to_numpy(dtype=bool, na_value=False)
            lost |= present & ~taken & broken
        taken |= present
    return lost


@dataclass
class _Checked:
    """Each row of a piece, checked: its values as they would be stored, and why it cannot be
    ('' where it can)."""

    ts: pd.Series
    opd_id: pd.Series
    status: pd.Series
    vtype: pd.Series
    outcome: pd.Series
    keys: pd.Series
    reasons: np.ndarray
    ok: np.ndarray


def _check_rows(frame: pd.DataFrame, *, cols: dict[str, str], venues: dict[str, int], key: bytes,
                numeric: dict[str, np.ndarray] | None = None, cache: dict | None = None) -> _Checked:
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
        when = _date_and_time(frame[cols["tanggal"]], frame[cols["jam"]])
    if cache is not None and "formats" not in cache:
        cache["formats"] = format_order(_stripped(when))
    ts, r = parse_times(when, formats=cache.get("formats") if cache is not None else None)
    for reason in r[r != ""].unique():
        add(r == reason, reason)
    vraw = _stripped(frame[cols["venue"]])
    opd_id = _lookup(vraw, venues)
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
    lost = _lost_digits(frame, cols, numeric or {})
    add(lost, LOST_DIGITS)  # never hashed: a NIK that lost digits is not that person's
    keys = _keys(frame, cols, key, skip=lost, cache=cache.setdefault("keys", {}) if cache is not None else None)
    add(keys.isna(), "identitas pengunjung kosong (NIK, nomor HP, nama, atau ID)")
    return _Checked(ts, opd_id, status, vtype, outcome, keys, reasons, ok)


def parse_frame(frame: pd.DataFrame, *, engine: Engine | None = None, key: bytes, cols: dict[str, str] | None = None,
                venues: dict[str, int] | None = None, cache: dict | None = None
                ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A piece of a file -> (valid rows for the CheckinWriter, rejects with line numbers and
    reasons). `cols` (our field -> the file's column) is recognised from the names when not
    given; `venues` is read from the database when not given."""
    numeric = frame.attrs.get("numeric", {})
    if cols is None:
        cols = map_columns(frame.columns)
        check_required(cols, frame.columns)
    if venues is None:
        venues = _venue_index(engine)
    lines = frame.index.to_numpy() + 2  # line in the file: header is line 1
    frame = frame.reset_index(drop=True)
    numeric = {c: np.asarray(v, dtype=bool) for c, v in numeric.items()}
    checked = _check_rows(frame, cols=cols, venues=venues, key=key, numeric=numeric, cache=cache)
    ok = checked.ok
    valid = pd.DataFrame({
        "opd_id": checked.opd_id[ok].astype("int64"),
        "ts": checked.ts[ok].dt.tz_localize("UTC"),
        "visitor_type": checked.vtype[ok],
        "status": checked.status[ok],
        "outcome": checked.outcome[ok],
        "visitor_key": checked.keys[ok],
    })
    bad = frame[~ok].copy()
    for fld in IDENTITY_FIELDS:  # never hand personal data back in the rejects file
        if fld in cols:
            bad[cols[fld]] = np.where(_stripped(bad[cols[fld]]) != "", "[disamarkan]", "")
    bad.insert(0, "alasan", checked.reasons[~ok])
    bad.insert(0, "baris", lines[~ok])
    assert len(valid) + len(bad) == len(frame)
    return valid.reset_index(drop=True), bad.reset_index(drop=True)


def mask_identity(value: str) -> str:
    """An identifier shown without giving it away: digits keep their first four and last two
    ('3526••••••••••01'), words their first letter ('S••• A•••')."""
    v = str(value).strip()
    if not v:
        return ""
    digits = v.replace(" ", "").replace("-", "").replace("+", "")
    if digits.isdigit():
        return digits[:4] + "•" * max(len(digits) - 6, 2) + digits[-2:] if len(digits) > 6 else "•" * len(digits)
    return " ".join(w[0] + "•" * min(max(len(w) - 1, 1), 4) for w in v.split())


PREVIEW_ROWS = 20


def preview(*, engine: Engine, table: OpenedFile, cols: dict[str, str], rows: int = PREVIEW_ROWS) -> pd.DataFrame:
    """The first `rows` rows as they would be stored (see `preview_rows`)."""
    return preview_rows(engine=engine, head=table.head(rows), cols=cols)


def preview_rows(*, engine: Engine, head: pd.DataFrame, cols: dict[str, str]) -> pd.DataFrame:
    """Rows of a file (as `OpenedFile.head` gives them) as they would be stored: time in WIB,
    the OPD matched, status, visitor type, outcome, the identity masked, and the reason a row
    would be rejected. Nothing is hashed or written."""
    if head.empty:
        return pd.DataFrame(columns=["Baris", "Waktu (WIB)", "OPD", "Status", "Jenis", "Hasil", "Identitas",
                                     "Keterangan"])
    numeric = {c: np.asarray(v, dtype=bool) for c, v in head.attrs.get("numeric", {}).items()}
    lines = head.index.to_numpy() + 2
    head = head.reset_index(drop=True)
    checked = _check_rows(head, cols=cols, venues=_venue_index(engine), key=b"preview-only", numeric=numeric)
    with engine.connect() as conn:
        names = dict(conn.execute(select(Opd.id, Opd.short_name)).all())
    wib = checked.ts.astype("datetime64[us]") + pd.Timedelta(hours=7)
    identity = pd.Series("", index=head.index, dtype=object)
    for fld in reversed(IDENTITY_FIELDS):  # the first identity with a value, as the key takes it
        if fld in cols:
            vals = _stripped(head[cols[fld]])
            identity = identity.where(vals == "", FIELD_LABELS[fld] + " " + vals.map(mask_identity))
    fine = checked.reasons == ""
    return pd.DataFrame({
        "Baris": lines,
        "Waktu (WIB)": [t.strftime("%d/%m/%Y %H:%M:%S") if pd.notna(t) else "" for t in wib],
        "OPD": [names.get(int(o), "") if pd.notna(o) else "" for o in checked.opd_id],
        "Status": checked.status.astype(object).fillna(""),
        "Jenis": checked.vtype.astype(object).map({"asn": "ASN", "pengunjung": "pengunjung"}).fillna(""),
        "Hasil": checked.outcome.astype(object).fillna(""),
        "Identitas": identity,
        "Keterangan": np.where(fine, "siap dimuat", checked.reasons),
    })


# ---------------------------------------------------------------- memory
_MEMORY_SET = False


def mmap_threshold() -> int:
    """Blocks this large or larger are mapped afresh and handed back when freed: the power of two
    above a piece's column (PIECE_ROWS values of 8 bytes), at least 256 KB. A piece's columns
    thus reuse the heap; mapped, each was faulted in again page by page. The bench's
    1.000.000-row import on SQLite (pieces of 100.000 rows): 500.000 page faults at 256 KB, 260.000
    at 1 MB; 3,87 s against 3,33 s (medians of four); peak memory 296 -> 334 MB, and 323 -> 365 MB
    for 4.000.000 rows."""
    return max(256 * 1024, 1 << (PIECE_ROWS * 8).bit_length())


def bounded_memory() -> None:
    """Memory that an import frees goes back to the system, so that the pieces of a large file
    do not pile up in the allocators' reserves (measured: a 1.000.000-row import peaked 120 MB
    higher without this). Arrow allocates from the C library (its default, mimalloc, keeps what
    it freed), and the C library hands blocks of `mmap_threshold()` or more straight back when freed
    instead of raising that threshold as large blocks come and go. Once per process."""
    global _MEMORY_SET
    if _MEMORY_SET:
        return
    _MEMORY_SET = True
    import ctypes
    import ctypes.util

    import pyarrow as pa

    try:
        pa.set_memory_pool(pa.system_memory_pool())
    except Exception:  # an Arrow build without it: its own pool stays
        log.debug("Arrow memory pool unchanged", exc_info=True)
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        threshold = mmap_threshold()
        libc.mallopt(-3, threshold)  # M_MMAP_THRESHOLD (fixed: no longer raised dynamically)
        libc.mallopt(-1, threshold)  # M_TRIM_THRESHOLD
    except (OSError, AttributeError):  # not glibc
        log.debug("mallopt unavailable", exc_info=True)


# ---------------------------------------------------------------- rejected rows
class _Rejects:
    """The rejected rows of an import: counted per reason, the first REJECTS_KEPT kept, and all of
    them written as CSV (the file's own delimiter) to a scratch file that stays in memory while
    small (data_access.safe_export neutralises formula-leading text)."""

    def __init__(self, sep: str) -> None:
        self.sep = sep
        self.counts: Counter = Counter()
        self.kept: list[pd.DataFrame] = []
        self.kept_rows = 0
        self.rows = 0
        self.file = tempfile.SpooledTemporaryFile(max_size=4 << 20, dir=scratch.scratch_root())  # noqa: SIM115

    def add(self, bad: pd.DataFrame) -> None:
        from .safe_export import csv_bytes, csv_text

        if bad.empty:
            return
        self.counts.update(Counter(bad["alasan"].tolist()))
        if self.kept_rows < REJECTS_KEPT:
            keep = bad.iloc[:REJECTS_KEPT - self.kept_rows]
            self.kept.append(keep)
            self.kept_rows += len(keep)
        self.file.write(csv_bytes(bad, self.sep) if self.rows == 0
                        else csv_text(bad, self.sep, header=False).encode("utf-8"))
        self.rows += len(bad)

    def frame(self) -> pd.DataFrame:
        if not self.kept:
            return pd.DataFrame(columns=["baris", "alasan"])
        return pd.concat(self.kept, ignore_index=True)

    def reasons(self) -> dict[str, int]:
        return dict(self.counts.most_common())


# ---------------------------------------------------------------- importing
class _CheckFailed(Exception):
    """Something other than a row's own problem went wrong while a piece was read or checked."""


@dataclass
class _Progress:
    done: int
    total: int


def import_source(*, engine: Engine, actor: Actor, source: Path | bytes, file_name: str,
                  mapping: dict[str, str | None] | None = None, profile: str | None = None,
                  sheet: str | None = None, dry_run: bool = False, progress=None) -> ImportResult:
    """Import one file (a path, or its bytes) as one transaction, read and written in pieces.
    `mapping` {field: column} (or a saved `profile`, which `mapping` overrides) says which
    column is which; `sheet` chooses a workbook's sheet. With `dry_run` everything is checked
    and counted as an import would, then rolled back: nothing is stored. Raises ImportFailed
    (nothing stored) when the file cannot be used at all or anything goes wrong while writing."""
    require(actor, "import")
    bounded_memory()
    used_profile = None
    if profile:
        from .import_profiles import get_profile

        used_profile = get_profile(engine=engine, name=profile)
        mapping = {**used_profile.mapping, **(mapping or {})}
        sheet = sheet or used_profile.sheet
    try:
        table = open_table(source, file_name, sheet=sheet, mapping=mapping)
    except ImportFailed:
        raise
    except Exception as exc:
        log.exception("Impor %r: berkas tidak dapat dibuka", file_name)
        raise ImportFailed(f"Berkas tidak dapat diolah ({exc.__class__.__name__}); tidak ada baris yang "
                           "disimpan. Periksa isinya atau gunakan templat CSV.") from exc
    cols = resolve_columns(table.columns, mapping)
    if not table.columns:
        raise ImportFailed("Berkas tidak berisi baris data (hanya judul kolom atau kosong).")
    check_required(cols, table.columns)
    result = ImportResult(file_name=table.file_name, checksum=table.checksum, dry_run=dry_run,
                          encoding=table.encoding, delimiter=table.delimiter, sheet=table.sheet,
                          columns=list(table.columns), mapping=cols,
                          profile=used_profile.name if used_profile else None)
    key = config.pseudonym_key()
    if not dry_run:
        partitions.ensure_span(engine)  # before the transaction: inside it, new months must wait for it
    while True:
        try:
            span = _import(engine=engine, actor=actor, table=table, cols=cols, key=key, result=result,
                           progress=progress)
            break
        except _ArrowGaveUp:  # Arrow's reader gave up midway: again with pandas' (nothing was stored)
            table.arrow = False
        except (ImportFailed, config.ConfigError):
            raise
        except _CheckFailed as exc:  # a problem of a row is a reject; anything else is this file's failure
            cause = exc.__cause__ or exc
            log.error("Impor %r: berkas tidak dapat diolah", result.file_name, exc_info=cause)
            raise ImportFailed(f"Berkas tidak dapat diolah ({cause.__class__.__name__}); tidak ada baris yang "
                               "disimpan. Periksa isinya atau gunakan templat CSV.") from cause
        except Exception as exc:
            raise ImportFailed(
                f"Impor gagal; tidak ada baris dari berkas ini yang disimpan ({exc.__class__.__name__}: "
                f"{(str(exc).splitlines() or [''])[0][:200]})."
            ) from exc
    if not dry_run and result.rows_loaded >= LARGE_IMPORT:
        after_bulk_write(engine, days=span)  # (moves rows out of the default partition too)
    elif not dry_run and result.rows_loaded:
        partitions.settle(engine)
    return result


def _import(*, engine: Engine, actor: Actor, table: OpenedFile, cols: dict[str, str], key: bytes,
            result: ImportResult, progress):
    """One pass: a thread reads and checks the pieces and prepares their rows while this one
    stores them; the batch record, rows, rollups and audit entry in one transaction. Returns the
    span of WIB days written."""
    rejects = _Rejects(table.delimiter or ",")
    counts = {"total": 0, "valid": 0}
    with writing_connection(engine) as conn:
        trans = conn.begin()
        writer = None
        try:
            venues = _venue_index(conn)
            batch_id = conn.execute(insert(ImportBatch).values(
                file_name=result.file_name, checksum=result.checksum, imported_by=actor.username,
                imported_at=now_utc(), rows_total=0, rows_loaded=0, rows_rejected=0, rows_duplicate=0,
            )).inserted_primary_key[0]
            writer = CheckinWriter(conn, source="import", batch_id=int(batch_id), rollups=not result.dry_run)
            cache: dict = {}

            def produce():
                for piece in table.pieces():
                    try:
                        valid, bad = parse_frame(piece, key=key, cols=cols, venues=venues, cache=cache)
                    except ImportFailed:
                        raise
                    except Exception as exc:
                        raise _CheckFailed(str(exc)) from exc
                    counts["total"] += len(piece)
                    counts["valid"] += len(valid)
                    rejects.add(bad)
                    del piece, bad
                    yield from writer.prepare(valid)
                    yield _Progress(counts["total"], table.estimated_rows(counts["total"]))
                yield from writer.flush()

            def consume(item) -> None:
                if isinstance(item, _Progress):
                    if progress is not None:
                        progress(item.done, item.total)
                else:
                    writer.store(item)

            _in_background(produce, consume, writer.queue_depth)
            if counts["total"] == 0:
                raise ImportFailed("Berkas tidak berisi baris data (hanya judul kolom atau kosong).")
            span = writer.day_span()
            loaded = writer.finish()
            result.rows_total = counts["total"]
            result.rows_rejected = rejects.rows
            result.rows_loaded = loaded
            result.rows_duplicate = counts["valid"] - loaded
            result.reasons = rejects.reasons()
            result.rejects = rejects.frame()
            result._rejects_file = rejects.file
            if progress is not None:
                progress(result.rows_total, result.rows_total)
            if result.dry_run:
                trans.rollback()
                return span
            conn.execute(update(ImportBatch).where(ImportBatch.id == batch_id).values(
                rows_total=result.rows_total, rows_loaded=loaded, rows_rejected=result.rows_rejected,
                rows_duplicate=result.rows_duplicate))
            result.batch_id = int(batch_id)
            audit(conn, username=actor.username, action="impor", target=result.file_name, after=result.summary())
            if loaded and get_meta(conn, "demo") == "true":
                set_meta(conn, "demo", "campuran")  # real rows now sit beside the demo rows
            trans.commit()
            return span
        except BaseException:
            result.batch_id = None
            if trans.is_active:
                trans.rollback()
            raise
        finally:
            if writer is not None:
                writer.close()


def import_bytes(*, engine: Engine, actor: Actor, data: bytes, file_name: str, progress=None,
                 **options) -> ImportResult:
    """Import a file given as bytes (an upload); `options` as for `import_source`."""
    require(actor, "import")
    return import_source(engine=engine, actor=actor, source=bytes(data), file_name=file_name, progress=progress,
                         **options)


def import_file(*, engine: Engine, actor: Actor, path: str | Path, progress=None, **options) -> ImportResult:
    """Import a file on disk, read from there piece by piece; `options` as for `import_source`."""
    p = Path(path)
    try:
        with open(p, "rb"):
            pass
        if not p.is_file():
            raise IsADirectoryError(21, "bukan berkas")
    except OSError as exc:
        raise ImportFailed(f"Berkas {p} tidak dapat dibaca: {exc.strerror or exc}.") from None
    return import_source(engine=engine, actor=actor, source=p, file_name=p.name, progress=progress, **options)


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
