"""The importer against hostile and odd files (issue 14, defects 6, 7, 8 and 12): zip bombs
and oversized sheets refused quickly in bounded memory, bad dates and impossible time-zone
offsets rejected per row, one visitor key whatever the encoding or accent composition, and
the command line going on after a broken file."""
from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
import unicodedata
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import func, select

from data_access import importer
from data_access.models import Checkin, ImportBatch
from tests.test_cli import cli
from tests.test_import import HEADER, count, run, stored

ROOT = Path(__file__).resolve().parent.parent

# ---------------------------------------------------------------- hand-written workbooks
# The XML is written here (not by openpyxl) so a test file can hold what no spreadsheet
# program writes, streamed into the zip so a bomb stays small on disk and in memory.
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_DOC_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
SHEET_HEAD = f'{_XML}<worksheet xmlns="{_MAIN}"><sheetData>'.encode()
SHEET_TAIL = b"</sheetData></worksheet>"


def write_xlsx(target, sheet_chunks, sst_chunks=None) -> None:
    """A minimal workbook: one sheet (its XML given in chunks), shared strings if given."""
    sst = sst_chunks is not None
    types = (f'{_XML}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
             '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
             '<Default Extension="xml" ContentType="application/xml"/>'
             '<Override PartName="/xl/workbook.xml" '
             'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
             '<Override PartName="/xl/worksheets/sheet1.xml" '
             'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
             + ('<Override PartName="/xl/sharedStrings.xml" '
                'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
                if sst else "") + "</Types>")
    rels = (f'{_XML}<Relationships xmlns="{_PKG_REL}"><Relationship Id="rId1" '
            f'Type="{_DOC_REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>')
    workbook = (f'{_XML}<workbook xmlns="{_MAIN}" xmlns:r="{_DOC_REL}"><sheets>'
                '<sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>')
    wb_rels = (f'{_XML}<Relationships xmlns="{_PKG_REL}">'
               f'<Relationship Id="rId1" Type="{_DOC_REL}/worksheet" Target="worksheets/sheet1.xml"/>'
               + (f'<Relationship Id="rId2" Type="{_DOC_REL}/sharedStrings" Target="sharedStrings.xml"/>'
                  if sst else "") + "</Relationships>")
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        zf.writestr("[Content_Types].xml", types)
        zf.writestr("_rels/.rels", rels)
        zf.writestr("xl/workbook.xml", workbook)
        zf.writestr("xl/_rels/workbook.xml.rels", wb_rels)
        with zf.open("xl/worksheets/sheet1.xml", "w") as f:
            for chunk in sheet_chunks:
                f.write(chunk)
        if sst:
            with zf.open("xl/sharedStrings.xml", "w") as f:
                for chunk in sst_chunks:
                    f.write(chunk)


def col(j: int) -> str:
    s = ""
    j += 1
    while j:
        j, r = divmod(j - 1, 26)
        s = chr(65 + r) + s
    return s


def xrow(n: int, *values: str) -> bytes:
    cells = "".join(f'<c r="{col(j)}{n}" t="inlineStr"><is><t>{escape(v)}</t></is></c>'
                    for j, v in enumerate(values) if v != "")
    return f'<row r="{n}">{cells}</row>'.encode()


def xlsx_bytes(rows: list[tuple[str, ...]]) -> bytes:
    buf = io.BytesIO()
    write_xlsx(buf, [SHEET_HEAD, *(xrow(i + 1, *r) for i, r in enumerate(rows)), SHEET_TAIL])
    return buf.getvalue()


XHEADER = ("waktu", "kode_venue", "status", "nik")
XGOOD = ("2022-01-31 08:15", "BKL019-DISKOMINFO", "hijau", "3526010101900001")


def test_hand_written_workbook_loads(sqlite_engine):
    """The builder's workbooks are read: the refusals below are for their content."""
    res = run(sqlite_engine, xlsx_bytes([XHEADER, XGOOD]), "kecil.xlsx")
    assert (res.rows_loaded, res.rows_rejected) == (1, 0)


# ---------------------------------------------------------------- zip bombs and bounds
def measured_import(path: Path, engine_url: str) -> dict:
    """Import `path` in a fresh interpreter: seconds taken, peak memory growth (MB) and the error."""
    script = f"""
import json, resource, time
from data_access import auth, importer
from data_access.db import make_engine
engine = make_engine({engine_url!r})
data = open({str(path)!r}, "rb").read()
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t0 = time.perf_counter()
try:
    importer.import_bytes(engine=engine, actor=auth.Actor("kominfo", "kominfo"), data=data, file_name="bom.xlsx")
    error = None
except importer.ImportFailed as exc:
    error = str(exc)
secs = time.perf_counter() - t0
grew = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
print(json.dumps({{"seconds": secs, "grew_mb": grew, "error": error}}))
"""
    r = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=300,
                       env={**os.environ})
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout.strip().splitlines()[-1])


def test_zip_bomb_one_huge_cell_refused_quickly_in_little_memory(sqlite_engine, tmp_path):
    """As found by the attack run: ~400 KB on disk, one cell of 400 MB."""
    path = tmp_path / "bom.xlsx"
    block = b"A" * (1 << 20)
    write_xlsx(path, [SHEET_HEAD, xrow(1, *XHEADER), b'<row r="2"><c r="A2" t="inlineStr"><is><t>',
                      *(block for _ in range(400)), b"</t></is></c></row>", SHEET_TAIL])
    assert path.stat().st_size < 1024 * 1024
    got = measured_import(path, str(sqlite_engine.url))
    assert got["error"] and "Berkas Excel ditolak" in got["error"]
    assert got["seconds"] < 10
    assert got["grew_mb"] < 200
    assert count(sqlite_engine) == 0 and count(sqlite_engine, ImportBatch) == 0


def _moderate_block() -> bytes:
    """1 MB that deflate packs about 150 times: under the ratio bound, so the scan must find it."""
    rng = np.random.default_rng(14)
    return rng.integers(97, 123, 8192, dtype=np.uint8).tobytes() * 128


def test_huge_cell_under_the_ratio_bound_refused(sqlite_engine, tmp_path):
    path = tmp_path / "bom.xlsx"
    block = _moderate_block()
    write_xlsx(path, [SHEET_HEAD, xrow(1, *XHEADER), b'<row r="2"><c r="A2" t="inlineStr"><is><t>',
                      *(block for _ in range(60)), b"</t></is></c></row>", SHEET_TAIL])
    info = zipfile.ZipFile(path).getinfo("xl/worksheets/sheet1.xml")
    assert info.file_size < importer.MAX_XLSX_RATIO * info.compress_size  # not caught by the ratio
    got = measured_import(path, str(sqlite_engine.url))
    assert got["error"] and "terlalu panjang" in got["error"]
    assert got["seconds"] < 10 and got["grew_mb"] < 200


def test_huge_shared_string_of_many_runs_refused(sqlite_engine, tmp_path):
    """A shared string split into short rich-text runs (no long text between two tags) that
    openpyxl would join into one 60 MB value."""
    path = tmp_path / "bom.xlsx"
    part = b"<r><t>" + _moderate_block()[:32_000] + b"</t></r>"
    sst = [f'{_XML}<sst xmlns="{_MAIN}" count="1" uniqueCount="1"><si>'.encode(),
           *(part for _ in range(2000)), b"</si></sst>"]
    write_xlsx(path, [SHEET_HEAD, xrow(1, *XHEADER), b'<row r="2"><c r="A2" t="s"><v>0</v></c></row>', SHEET_TAIL],
               sst)
    got = measured_import(path, str(sqlite_engine.url))
    assert got["error"] and "terlalu besar" in got["error"]
    assert got["seconds"] < 10 and got["grew_mb"] < 200


def test_many_rows_refused_quickly(sqlite_engine, tmp_path):
    """More rows than a sheet can hold (the attack run's file had 3 million in 1,9 MB)."""
    path = tmp_path / "baris.xlsx"
    n = importer.MAX_XLSX_ROWS + 50_000

    def rows():
        yield SHEET_HEAD
        yield xrow(1, *XHEADER)
        for start in range(2, n + 1, 10_000):  # numbered rows: under the ratio bound, so the scan counts them
            yield b"".join(b'<row r="%d"><c r="A%d"><v>1</v></c></row>' % (i, i)
                           for i in range(start, min(start + 10_000, n + 1)))
        yield SHEET_TAIL

    write_xlsx(path, rows())
    info = zipfile.ZipFile(path).getinfo("xl/worksheets/sheet1.xml")
    assert info.file_size < importer.MAX_XLSX_RATIO * info.compress_size
    t0 = time.perf_counter()
    with pytest.raises(importer.ImportFailed, match="lebih dari 1.048.576 baris"):
        run(sqlite_engine, path.read_bytes(), "baris.xlsx")
    assert time.perf_counter() - t0 < 10
    assert count(sqlite_engine) == 0


def test_rows_filled_in_by_the_reader_are_bounded(monkeypatch):
    """A row numbered far beyond the others: the reader fills the gap with empty rows, which
    count too."""
    monkeypatch.setattr(importer, "MAX_XLSX_ROWS", 1000)
    data = io.BytesIO()
    write_xlsx(data, [SHEET_HEAD, xrow(1, *XHEADER), xrow(5000, *XGOOD), SHEET_TAIL])
    with pytest.raises(importer.ImportFailed, match="lebih dari 1.000 baris"):
        importer.read_table(data.getvalue(), "celah.xlsx")


@pytest.mark.parametrize("shared", [False, True])
def test_cells_and_shared_strings_are_counted_before_reading(monkeypatch, shared):
    """Millions of tiny cells or shared strings (memory per value) are counted by the scan."""
    monkeypatch.setattr(importer, "MAX_XLSX_CELLS", 1000)
    rows = [xrow(1, *XHEADER)]
    rows += [b'<row r="%d"><c r="A%d" t="s"><v>0</v></c><c r="B%d"><v>1</v></c></row>' % (i, i, i)
             for i in range(2, 600)]
    sst = None
    if shared:
        rows = rows[:2]
        sst = [f'{_XML}<sst xmlns="{_MAIN}">'.encode(), *(b"<si><t>%d</t></si>" % i for i in range(1001)), b"</sst>"]
    buf = io.BytesIO()
    write_xlsx(buf, [SHEET_HEAD, *rows, SHEET_TAIL], sst)
    with pytest.raises(importer.ImportFailed, match="lebih dari 1.000 sel"):
        importer.read_table(buf.getvalue(), "sel.xlsx")


@pytest.mark.parametrize("case, message", [
    ("long_cell", "lebih dari 1.000 karakter"),
    ("many_columns", "lebih dari 100 kolom"),
    ("wide_empty_row", "lebih dari 1.000 sel"),
    ("doctype", "DTD"),
    ("comment", "tidak lazim"),
    ("ratio", "tidak wajar"),
])
def test_sheet_bounds(case, message):
    head = [SHEET_HEAD, xrow(1, *XHEADER)]
    if case == "long_cell":
        body = [xrow(2, *XGOOD[:3], "9" * 1001)]
    elif case == "many_columns":
        body = [xrow(2, *XGOOD, *("x" for _ in range(importer.MAX_COLUMNS)))]
    elif case == "wide_empty_row":  # formatted empty cells far to the right
        body = [b'<row r="2">' + b"".join(b'<c r="%s2" s="0"/>' % col(j).encode() for j in range(1500)) + b"</row>"]
    elif case == "doctype":
        head = [f'{_XML}<!DOCTYPE worksheet [<!ENTITY a "aaaa">]><worksheet xmlns="{_MAIN}"><sheetData>'.encode(),
                xrow(1, *XHEADER)]
        body = [xrow(2, *XGOOD)]
    elif case == "comment":  # a comment can hide a long text behind its '<'
        body = [b"<!-- x -->", xrow(2, *XGOOD)]
    else:
        body = [b'<row r="2"><c r="A2" t="inlineStr"><is><t>' + b"A" * (4 << 20) + b"</t></is></c></row>"]
    buf = io.BytesIO()
    write_xlsx(buf, [*head, *body, SHEET_TAIL])
    with pytest.raises(importer.ImportFailed, match=message):
        importer.read_table(buf.getvalue(), "batas.xlsx")


def test_cells_at_the_bounds_are_read():
    buf = io.BytesIO()
    write_xlsx(buf, [SHEET_HEAD, xrow(1, *XHEADER, *(f"k{j}" for j in range(importer.MAX_COLUMNS - 4))),
                     xrow(2, *XGOOD[:3], "9" * importer.MAX_CELL_CHARS), SHEET_TAIL])
    df = importer.read_table(buf.getvalue(), "batas.xlsx")
    assert df.shape == (1, importer.MAX_COLUMNS)
    assert df["nik"].iloc[0] == "9" * importer.MAX_CELL_CHARS


def test_xlsx_values_read_as_pandas_read_excel_does():
    """The streaming reader gives the table pd.read_excel(dtype=str) gave: whole numbers without
    '.0', dates as text, empty and error cells missing, empty rows inside kept, duplicate and
    missing headers named as pandas names them."""
    import datetime as dt

    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["waktu", "nik", None, 5, "waktu"])
    for v in [dt.datetime(2022, 1, 31, 8, 15), dt.date(2022, 1, 31), dt.time(8, 15), 3526010101900001, 1.5, 2.0,
              True, None, "NA", "#N/A", "  x  ", "", dt.datetime(2022, 1, 31, 8, 15, 0, 500000), 1e20, "José"]:
        ws.append([v, "081234567890", None, 1])
    ws.append([])
    ws.append(["akhir", 3526010101900002])
    ws.append([])
    buf = io.BytesIO()
    wb.save(buf)
    ref = pd.read_excel(io.BytesIO(buf.getvalue()), dtype=str, engine="openpyxl")
    ref.columns = [str(c) for c in ref.columns]
    got = importer.read_table(buf.getvalue(), "jenis.xlsx")
    pd.testing.assert_frame_equal(got, ref)


def test_damaged_xlsx_still_a_clean_refusal():
    for data in (b"PK\x03\x04rusak", b"PK" + bytes(range(256)) * 4):
        with pytest.raises(importer.ImportFailed, match="Excel tidak dapat dibaca"):
            importer.read_table(data, "rusak.xlsx")


def test_xlsx_prescan_keeps_up_with_large_files():
    """A real-sized sheet (60 MB of XML, 300.000 rows) is scanned in a few seconds."""
    rng = np.random.default_rng(3)
    rows = 300_000
    nik = (3526000000000000 + rng.integers(0, 10**6, rows)).astype(str)

    def sheet():
        yield SHEET_HEAD
        yield xrow(1, *XHEADER)
        for start in range(0, rows, 20_000):
            yield b"".join(xrow(i + 2, "31/01/2022 08.15", "Diskominfo", "hijau", nik[i])
                           for i in range(start, min(start + 20_000, rows)))
        yield SHEET_TAIL

    buf = io.BytesIO()
    write_xlsx(buf, sheet())
    t0 = time.perf_counter()
    with zipfile.ZipFile(buf) as zf:
        importer._check_xlsx_package(zf)
    assert time.perf_counter() - t0 < 5


# ---------------------------------------------------------------- dates and offsets
def test_bad_dates_rejected_per_row(engine):
    """The attack run's file ('Out of bounds nanosecond timestamp' for the whole file) and other
    years far from ours, beside good rows."""
    rows = [
        ("2022-01-31 08:15+05:30", None),
        ("0022-01-31 08:15", importer.OUT_OF_RANGE),
        ("9999-12-31 23:59", importer.OUT_OF_RANGE),
        ("9999-12-31 23:59-12:00", importer.OUT_OF_RANGE),  # year 10000 in UTC
        ("0001-01-01 00:00+14:00", importer.OUT_OF_RANGE),  # year 0 in UTC
        ("2022-01-31 09:00", None),
        ("31/12/9999 23.59", importer.OUT_OF_RANGE),
        ("1677-09-21 00:12", importer.OUT_OF_RANGE),  # just outside pandas' nanosecond range
        ("2262-04-12 00:00+07:00", importer.OUT_OF_RANGE),
        ("99999-01-31 08:15", importer.BAD_TIME),
        ("2022-01-31T08:15:00.123456789+07:00", None),
    ]
    text = HEADER + "".join(f"{w},BKL019-DISKOMINFO,ASN,hijau,,{i}\n" for i, (w, _) in enumerate(rows))
    res = run(engine, text)
    bad = [(i + 2, reason) for i, (_, reason) in enumerate(rows) if reason]
    assert (res.rows_loaded, res.rows_rejected) == (len(rows) - len(bad), len(bad))
    assert list(zip(res.rejects["baris"], res.rejects["alasan"])) == bad
    got = sorted(str(t)[:16] for t in stored(engine)["ts"])
    assert got == ["2022-01-31 01:15", "2022-01-31 02:00", "2022-01-31 02:45"]


def test_bad_dates_in_a_workbook_rejected_per_row(sqlite_engine):
    res = run(sqlite_engine, xlsx_bytes([XHEADER, ("2022-01-31 08:15+05:30", *XGOOD[1:]),
                                         ("0022-01-31 08:15", *XGOOD[1:3], "3526010101900002")]), "campur.xlsx")
    assert (res.rows_loaded, res.rows_rejected) == (1, 1)
    assert res.rejects["alasan"].tolist() == [importer.OUT_OF_RANGE]


def test_offsets_out_of_range_rejected(engine):
    rows = [
        ("2022-01-31 08:15+99:99", None),
        ("2022-01-31 08:15+14:00", "2022-01-30 18:15"),
        ("2022-01-31 08:15-12:00", "2022-01-31 20:15"),
        ("2022-01-31 08:15+14:01", None),
        ("2022-01-31 08:15-12:30", None),
        ("2022-01-31 08:15+05:60", None),
        ("2022-01-31 08:15+15:00", None),
        ("2022-01-31 08:15+05:45", "2022-01-31 02:30"),
        ("2022-01-31 08:15 +0530", "2022-01-31 02:45"),
        ("2022-01-31T08:15:00Z", "2022-01-31 08:15"),
        ("2022-01-31 08:15 WITA", "2022-01-31 00:15"),
    ]
    text = HEADER + "".join(f"{w},BKL019-DISKOMINFO,ASN,hijau,,{i}\n" for i, (w, _) in enumerate(rows))
    res = run(engine, text)
    bad = [i + 2 for i, (_, utc) in enumerate(rows) if utc is None]
    assert res.rejects["baris"].tolist() == bad
    assert set(res.rejects["alasan"]) == {importer.BAD_OFFSET}
    assert sorted(str(t)[:16] for t in stored(engine)["ts"]) == sorted(utc for _, utc in rows if utc)


def test_parse_times_never_raises_on_mixed_units():
    s = pd.Series(["2022-01-31 08:15+05:30", "0022-01-31 08:15", "9999-12-31 23:59:59.999999+14:00",
                   "0001-01-01 00:00-12:00", "", "x"])
    ts, reason = importer.parse_times(s)
    assert ts.dtype == "datetime64[us]"
    assert reason.tolist() == ["", importer.OUT_OF_RANGE, importer.OUT_OF_RANGE, importer.OUT_OF_RANGE,
                               "waktu kosong", importer.BAD_TIME]


def test_unexpected_error_while_checking_becomes_import_failed(sqlite_engine, monkeypatch):
    def broken(*a, **kw):
        raise KeyError("kolom hilang (simulasi)")

    monkeypatch.setattr(importer, "parse_frame", broken)
    with pytest.raises(importer.ImportFailed, match="tidak dapat diolah \\(KeyError\\)"):
        run(sqlite_engine, HEADER + "2022-01-31 08:15,BKL019-DISKOMINFO,ASN,hijau,,1\n")
    assert count(sqlite_engine, ImportBatch) == 0


# ---------------------------------------------------------------- encodings and NFC
NAME = "José Ñúñez"


def name_file(name: str, when: str, encoding: str, *, nfd: bool = False) -> bytes:
    text = f"waktu;venue;status;nama\n{when};Diskominfo;hijau;{name}\n"
    if nfd:
        text = unicodedata.normalize("NFD", text)
    return text.encode(encoding)


def test_same_name_in_any_encoding_is_one_visitor(engine):
    files = [
        name_file(NAME, "2022-01-31 08:00", "utf-8", nfd=True),  # macOS writes accents decomposed
        name_file(NAME, "2022-01-31 08:01", "utf-8"),
        name_file(NAME, "2022-01-31 08:02", "cp1252"),
        name_file(NAME, "2022-01-31 08:03", "utf-16"),  # with a byte-order mark
        name_file(NAME, "2022-01-31 08:04", "utf-16", nfd=True),
        name_file(NAME, "2022-01-31 08:05", "utf-8-sig"),
    ]
    assert files[0] != files[1]
    for data in files:
        res = run(engine, data)
        assert (res.rows_loaded, res.rows_rejected) == (1, 0)
    df = stored(engine)
    assert len(df) == len(files) and df["visitor_key"].nunique() == 1


def test_nfc_applies_on_the_arrow_path():
    """The fast reader takes the decomposed file as it is; the key is still the composed name's."""
    nfd = name_file(NAME, "2022-01-31 08:00", "utf-8", nfd=True)
    first = unicodedata.normalize("NFD", "waktu;venue;status;nama")
    assert importer._read_csv_arrow(nfd, "utf-8-sig", first, ";") is not None
    keys = []
    for data in (nfd, name_file(NAME, "2022-01-31 08:00", "utf-8")):
        frame = importer.read_table(data, "a.csv")
        keys.append(importer._keys(frame, importer.map_columns(frame.columns), b"k" * 16).iloc[0])
    assert keys[0] == keys[1]


@pytest.mark.parametrize("encoding, bom", [("utf-16-le", True), ("utf-16-be", True), ("utf-16-le", False),
                                           ("utf-16-be", False), ("utf-32", True)])
def test_utf16_file_imports(sqlite_engine, encoding, bom):
    text = HEADER + "2022-01-31 08:15,BKL019-DISKOMINFO,ASN,hijau,,1\n2022-01-31 08:16,Dinas Kesehatan,tamu,merah,,2\n"
    data = text.encode(encoding)
    if bom and encoding != "utf-32":
        data = ("\ufeff" + text).encode(encoding)
    res = run(sqlite_engine, data)
    assert (res.rows_loaded, res.rows_rejected) == (2, 0)


def test_binary_is_still_binary():
    for data in (b"\x00\x01\x02\x03" * 10, b"\xff\xfe" + b"\x01\x00\x02\x00" * 20, bytes(range(256)) * 8):
        with pytest.raises(importer.ImportFailed, match="bukan CSV"):
            importer.read_table(data, "biner.csv")


# ---------------------------------------------------------------- command line
def test_cli_goes_on_after_a_broken_file(tmp_path):
    assert cli("init", data_dir=tmp_path).returncode == 0
    bomb = tmp_path / "bom.xlsx"
    block = b"A" * (1 << 20)
    write_xlsx(bomb, [SHEET_HEAD, b'<row r="1"><c r="A1" t="inlineStr"><is><t>', *(block for _ in range(300)),
                      b"</t></is></c></row>", SHEET_TAIL])
    dates = tmp_path / "tanggal.csv"
    dates.write_text(HEADER + "2022-01-31 08:15+05:30,BKL019-DISKOMINFO,ASN,hijau,,1\n"
                     + "0022-01-31 08:15,BKL019-DISKOMINFO,ASN,hijau,,2\n")
    good = tmp_path / "baik.csv"
    good.write_text(HEADER + "2022-02-01 08:15,BKL019-DISKOMINFO,ASN,hijau,,3\n")
    r = cli("import", str(bomb), str(tmp_path / "hilang.csv"), str(dates), str(good), "--quiet", data_dir=tmp_path)
    assert r.returncode == 1
    assert "Traceback" not in r.stderr
    assert f"{bomb}: GAGAL: Berkas Excel ditolak" in r.stderr and "hilang.csv: GAGAL" in r.stderr
    assert f"{dates}: 2 baris: 1 dimuat, 1 ditolak" in r.stdout
    assert f"{good}: 1 baris: 1 dimuat" in r.stdout
    r = cli("import", str(bomb), str(good), "--json", data_dir=tmp_path)
    out = json.loads(r.stdout)
    assert r.returncode == 1 and "error" in out[0] and out[1]["rows_duplicate"] == 1


def test_cli_goes_on_after_an_unexpected_error(tmp_path, monkeypatch, capsys):
    """Whatever escapes the importer for one file is reported for that file only."""
    from data_access import cli as cli_module

    monkeypatch.setenv("PANTAU_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    assert cli_module.main(["init"]) == 0
    real = importer.import_file
    seen = []

    def flaky(*, path, **kw):
        seen.append(Path(path).name)
        if Path(path).name == "pertama.csv":
            raise ValueError("tak terduga (simulasi)")
        return real(path=path, **kw)

    monkeypatch.setattr(importer, "import_file", flaky)
    first, second = tmp_path / "pertama.csv", tmp_path / "kedua.csv"
    for f in (first, second):
        f.write_text(HEADER + "2022-02-01 08:15,BKL019-DISKOMINFO,ASN,hijau,,3\n")
    assert cli_module.main(["import", str(first), str(second), "--quiet"]) == 1
    out, err = capsys.readouterr()
    assert seen == ["pertama.csv", "kedua.csv"]
    assert "pertama.csv: GAGAL: galat tak terduga (ValueError)" in err
    assert "kedua.csv: 1 baris: 1 dimuat" in out
    from data_access.db import make_engine

    engine = make_engine(None)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Checkin)).scalar_one() == 1
    engine.dispose()
