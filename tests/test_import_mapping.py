"""Real exports go in (issue 18): column mapping (--map, the page's mapping step, saved profiles),
checking without storing, the rejected rows on the page, encodings reported, workbooks with
several sheets, Excel's serial dates and NIKs turned into numbers, and files read and written in
pieces (one transaction per file, memory that does not grow with the file)."""
from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from sqlalchemy import select

from data_access import auth, import_profiles, importer
from data_access.models import AuditLog, ImportBatch, ImportProfile
from tests.conftest import login_state
from tests.test_cli import cli
from tests.test_import import HEADER, count, run, stored

ROOT = Path(__file__).resolve().parent.parent
KOMINFO = auth.Actor("kominfo", "kominfo")
# a door-scanner log whose headers are none of ours
FOREIGN = ("Jam Masuk;Tempat Check-in;Warna;No KTP;Catatan\n"
           "31/01/2022 08.15;BKL019-DISKOMINFO;hijau;3526010101900001;-\n"
           "31/01/2022 08.16;Dinas Kesehatan;merah;3526010101900002;-\n"
           "31/01/2022 08.17;Dinas Kesehatan;ungu;3526010101900003;-\n")
FOREIGN_MAP = {"waktu": "Jam Masuk", "venue": "Tempat Check-in"}


def audit_actions(engine) -> list[str]:
    with engine.connect() as conn:
        return [r[0] for r in conn.execute(select(AuditLog.action).order_by(AuditLog.id))]


# ---------------------------------------------------------------- mapping
def test_unrecognised_file_is_refused_with_its_columns_and_the_missing_fields(engine):
    with pytest.raises(importer.ImportFailed) as err:
        run(engine, FOREIGN)
    msg = str(err.value)
    assert "Kolom wajib tidak ditemukan: waktu (atau tanggal dan jam), venue/kode venue/OPD." in msg
    assert "Jam Masuk, Tempat Check-in, Warna, No KTP, Catatan" in msg and "--map" in msg and "Pemetaan kolom" in msg
    assert count(engine) == 0 and count(engine, ImportBatch) == 0


def test_mapping_overrides_recognition(engine):
    res = importer.import_bytes(engine=engine, actor=KOMINFO, data=FOREIGN.encode(), file_name="pintu.csv",
                                mapping=FOREIGN_MAP)
    assert (res.rows_loaded, res.rows_rejected) == (2, 1)
    assert res.mapping == {"waktu": "Jam Masuk", "venue": "Tempat Check-in", "status": "Warna", "nik": "No KTP"}
    # a field mapped to no column is not used, even where a column's name would be recognised
    text = HEADER + "2022-01-31 09:15,BKL019-DISKOMINFO,ASN,hijau,ditolak,7\n"
    res = importer.import_bytes(engine=engine, actor=KOMINFO, data=text.encode(), file_name="a.csv",
                                mapping={"hasil": None, "jenis": None})
    assert "hasil" not in res.mapping and "jenis" not in res.mapping
    row = stored(engine).sort_values("ts").iloc[-1]
    assert (row.outcome, row.visitor_type) == ("diterima", "pengunjung")  # hijau: admitted; no type: visitor


def test_bad_mappings_are_clear_errors(sqlite_engine):
    with pytest.raises(importer.ImportFailed, match="isian 'kota' tidak dikenal"):
        importer.parse_mapping(["kota=Tempat"])
    with pytest.raises(importer.ImportFailed, match="ISIAN=KOLOM"):
        importer.parse_mapping(["venue"])
    for mapping, message in [({"venue": "Lokasi Lain"}, "'Lokasi Lain' \\(untuk venue\\) tidak ada di berkas"),
                             ({"waktu": "Jam Masuk", "venue": "Jam Masuk"}, "lebih dari satu isian")]:
        with pytest.raises(importer.ImportFailed, match=message):
            importer.import_bytes(engine=sqlite_engine, actor=KOMINFO, data=FOREIGN.encode(), file_name="p.csv",
                                  mapping=mapping)
    assert count(sqlite_engine, ImportBatch) == 0
    # names are matched as headers are: case, spaces and punctuation aside
    assert importer.resolve_columns(["Tempat Check-in"], {"venue": "tempat check in"}) == {"venue": "Tempat Check-in"}


def test_ambiguous_or_missing_fields_need_the_mapping_step():
    assert importer.needs_mapping(["Jam Masuk", "Tempat Check-in", "Warna", "No KTP"])
    assert not importer.needs_mapping(["waktu", "venue", "status", "nik"])
    assert importer.needs_mapping(["waktu", "venue", "lokasi", "status", "nik"])  # two venue columns
    assert not importer.needs_mapping(["waktu", "venue", "lokasi", "status", "nik"], {"venue": "lokasi"})


def test_cli_map_and_profiles(tmp_path):
    assert cli("init", data_dir=tmp_path).returncode == 0
    f = tmp_path / "pintu.csv"
    f.write_text(FOREIGN, encoding="utf-8")
    r = cli("import", str(f), "--quiet", data_dir=tmp_path)
    assert r.returncode == 1 and "Kolom wajib tidak ditemukan" in r.stderr and "Traceback" not in r.stderr
    r = cli("import", str(f), "--map", "kota=Tempat", data_dir=tmp_path)
    assert r.returncode == 1 and "isian 'kota' tidak dikenal" in r.stderr
    r = cli("import", str(f), "--map", "venue=Tidak Ada", "--map", "waktu=Jam Masuk", "--quiet", data_dir=tmp_path)
    assert r.returncode == 1 and "'Tidak Ada' (untuk venue) tidak ada di berkas" in r.stderr
    r = cli("import", str(f), "--map", "waktu=Jam Masuk", "--map", "venue=Tempat Check-in", "--save-profile",
            "Log pintu", "--quiet", "--rejects", str(tmp_path / "tolak.csv"), data_dir=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "3 baris: 2 dimuat, 1 ditolak, 0 duplikat" in r.stdout
    assert "dibaca sebagai UTF-8, pemisah titik koma" in r.stdout and "ditolak: status tidak dikenal (1)" in r.stdout
    assert "profil impor disimpan: Log pintu" in r.stdout
    rejects = (tmp_path / "tolak.csv").read_text(encoding="utf-8-sig")
    assert rejects.splitlines()[0].startswith('"baris";"alasan";')  # the file's own delimiter
    # the next export of that scanner: the profile by name
    g = tmp_path / "pintu-februari.csv"
    g.write_text(FOREIGN.replace("31/01/2022", "01/02/2022"), encoding="utf-8")
    r = cli("import", str(g), "--profile", "Log pintu", "--json", data_dir=tmp_path)
    out = json.loads(r.stdout)
    assert r.returncode == 0 and (out["rows_loaded"], out["profile"]) == (2, "Log pintu")
    r = cli("import", str(g), "--profile", "Tidak ada", data_dir=tmp_path)
    assert r.returncode == 1 and "Profil impor 'Tidak ada' tidak ada. Profil yang ada: Log pintu." in r.stderr
    r = cli("profiles", data_dir=tmp_path)
    assert "Log pintu: waktu=Jam Masuk, venue=Tempat Check-in, status=Warna, nik=No KTP" in r.stdout
    assert cli("profiles", "--delete", "Log pintu", data_dir=tmp_path).returncode == 0
    assert "Belum ada profil impor" in cli("profiles", data_dir=tmp_path).stdout


def test_saved_profile_is_found_by_headers_and_audited(engine):
    columns = ["Jam Masuk", "Tempat Check-in", "Warna", "No KTP", "Catatan"]
    saved = import_profiles.save_profile(engine=engine, actor=KOMINFO, name="  Log   pintu ", columns=columns,
                                         mapping={**FOREIGN_MAP, "hasil": None})
    assert saved.name == "Log pintu" and saved.mapping["hasil"] is None and saved.mapping["nik"] == "No KTP"
    # the same headers written otherwise (case, spaces) find it; other headers do not
    found = import_profiles.profiles_for(engine=engine, columns=["jam masuk", "TEMPAT CHECK-IN", "warna", "no ktp",
                                                                 "catatan"])
    assert [p.name for p in found] == ["Log pintu"]
    assert import_profiles.profiles_for(engine=engine, columns=["waktu", "venue"]) == []
    with pytest.raises(import_profiles.ProfileError, match="identitas"):
        import_profiles.save_profile(engine=engine, actor=KOMINFO, name="Log pintu", columns=columns,
                                     mapping={**FOREIGN_MAP, "nik": None})
    import_profiles.save_profile(engine=engine, actor=KOMINFO, name="Log pintu", columns=columns,
                                 mapping={**FOREIGN_MAP, "status": "Warna"}, sheet=None)
    res = importer.import_bytes(engine=engine, actor=KOMINFO, data=FOREIGN.encode(), file_name="pintu.csv",
                                profile="Log pintu")
    assert (res.rows_loaded, res.profile) == (2, "Log pintu")
    with pytest.raises(auth.PermissionDenied):
        import_profiles.save_profile(engine=engine, actor=auth.Actor("s", "satpolpp"), name="x", columns=columns,
                                     mapping=FOREIGN_MAP)
    import_profiles.delete_profile(engine=engine, actor=KOMINFO, name="Log pintu")
    assert count(engine, ImportProfile) == 0
    assert [a for a in audit_actions(engine) if a.startswith("profil")] == [
        "profil_impor_buat", "profil_impor_ubah", "profil_impor_hapus"]


# ---------------------------------------------------------------- checking only
def test_dry_run_reports_everything_and_stores_nothing(engine):
    run(engine, HEADER + "2022-01-31 08:15,BKL019-DISKOMINFO,ASN,hijau,,1\n")
    before = (count(engine), count(engine, ImportBatch), len(audit_actions(engine)))
    text = (HEADER + "2022-01-31 08:15,BKL019-DISKOMINFO,ASN,hijau,,1\n"  # stored already: a duplicate
            + "2022-01-31 08:16,BKL019-DISKOMINFO,ASN,hijau,,2\n" + "2022-01-31 08:17,TIDAK-ADA,ASN,hijau,,3\n"
            + "2022-01-31 08:18,TIDAK-ADA,ASN,hijau,,4\n" + "2022-01-31 08:19,BKL019-DISKOMINFO,ASN,,,5\n")
    res = importer.import_bytes(engine=engine, actor=KOMINFO, data=text.encode(), file_name="cek.csv", dry_run=True)
    assert res.dry_run and res.batch_id is None
    assert (res.rows_total, res.rows_loaded, res.rows_rejected, res.rows_duplicate) == (5, 1, 3, 1)
    assert res.reasons == {"venue tidak dikenal": 2, "status kosong": 1}
    assert (count(engine), count(engine, ImportBatch), len(audit_actions(engine))) == before
    real = run(engine, text)
    assert (real.rows_loaded, real.rows_rejected, real.rows_duplicate) == (1, 3, 1)


def test_cli_dry_run(tmp_path):
    cli("init", data_dir=tmp_path)
    f = tmp_path / "ekspor.csv"
    f.write_text(HEADER + "2022-01-31 08:15,BKL019-DISKOMINFO,ASN,hijau,,1\n")
    r = cli("import", str(f), "--dry-run", "--quiet", data_dir=tmp_path)
    assert r.returncode == 0 and "1 dimuat, 0 ditolak, 0 duplikat (periksa saja: tidak ada yang disimpan)" in r.stdout
    r = cli("import", str(f), "--quiet", data_dir=tmp_path)
    assert "1 dimuat" in r.stdout  # the dry run left nothing behind


# ---------------------------------------------------------------- files as they come
NAME_ROWS = "waktu;venue;status;nama\n2022-01-31 08:00;Diskominfo;hijau;José Müller\n2022-01-31 08:01;Diskominfo;hijau;Zoë\n"


@pytest.mark.parametrize("data, label", [
    (NAME_ROWS.encode("utf-8"), "UTF-8"),
    (NAME_ROWS.encode("utf-8-sig"), "UTF-8 dengan BOM"),
    (NAME_ROWS.encode("utf-16"), "UTF-16 LE dengan BOM"),  # Excel's "Unicode text"
    (NAME_ROWS.encode("utf-16-be"), "UTF-16 BE"),
    (NAME_ROWS.replace("Zoë", "Zoë €").encode("cp1252"), "Windows-1252"),
    (NAME_ROWS.encode("latin-1") + "2022-01-31 08:02;Diskominfo;hijau;X\x81\n".encode("latin-1"),
     "Latin-1 (ISO-8859-1)"),
])
def test_each_encoding_is_detected_and_reported(sqlite_engine, data, label):
    res = run(sqlite_engine, data, "nama.csv")
    assert res.encoding == label and res.delimiter == ";"
    assert res.rows_rejected == 0 and res.rows_loaded == len(data.decode(_codec(label)).strip().splitlines()) - 1


def _codec(label: str) -> str:
    return {"UTF-8": "utf-8", "UTF-8 dengan BOM": "utf-8-sig", "UTF-16 LE dengan BOM": "utf-16",
            "UTF-16 BE": "utf-16-be", "Windows-1252": "cp1252", "Latin-1 (ISO-8859-1)": "latin-1"}[label]


def test_same_person_whatever_the_encoding(sqlite_engine):
    for i, enc in enumerate(("utf-8", "utf-16", "cp1252")):
        run(sqlite_engine, NAME_ROWS.replace("08:0", f"0{i + 1}:0").encode(enc), "nama.csv")
    assert stored(sqlite_engine)["visitor_key"].nunique() == 2


def workbook(sheets: dict[str, list[list]]) -> bytes:
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for title, rows in sheets.items():
        ws = wb.create_sheet(title)
        for r in rows:
            ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


DATA_SHEET = [["waktu", "kode_venue", "status", "nik"],
              ["2022-01-31 08:15", "BKL019-DISKOMINFO", "hijau", "3526010101900001"],
              ["2022-01-31 08:16", "BKL019-DISKOMINFO", "merah", "3526010101900002"]]


def test_workbook_with_several_sheets(engine):
    data = workbook({"Petunjuk": [["Ekspor dari aplikasi pemindai"], ["Jangan diubah"]], "Januari": DATA_SHEET,
                     "Februari": [DATA_SHEET[0], ["2022-02-01 08:15", "BKL019-DISKOMINFO", "hijau", "9"]]})
    table = importer.open_table(data, "log.xlsx")
    assert table.sheets == ["Petunjuk", "Januari", "Februari"] and table.sheet == "Januari"
    res = importer.import_bytes(engine=engine, actor=KOMINFO, data=data, file_name="log.xlsx")
    assert (res.sheet, res.rows_loaded, res.encoding, res.delimiter) == ("Januari", 2, None, None)
    for chosen in ("Februari", "februari", "3"):
        res = importer.import_bytes(engine=engine, actor=KOMINFO, data=data, file_name="log.xlsx", sheet=chosen,
                                    dry_run=True)
        assert (res.sheet, res.rows_loaded) == ("Februari", 1)
    with pytest.raises(importer.ImportFailed, match="Lembar 'Maret' tidak ada di berkas. Lembar yang ada: "
                                                    "'Petunjuk', 'Januari', 'Februari'"):
        importer.import_bytes(engine=engine, actor=KOMINFO, data=data, file_name="log.xlsx", sheet="Maret")
    with pytest.raises(importer.ImportFailed, match="Kolom wajib tidak ditemukan"):
        importer.import_bytes(engine=engine, actor=KOMINFO, data=data, file_name="log.xlsx", sheet="Petunjuk")


def test_cli_sheet(tmp_path):
    cli("init", data_dir=tmp_path)
    f = tmp_path / "log.xlsx"
    f.write_bytes(workbook({"Catatan": [["x"]], "Data": DATA_SHEET}))
    r = cli("import", str(f), "--sheet", "Data", "--quiet", data_dir=tmp_path)
    assert r.returncode == 0 and "2 baris: 2 dimuat" in r.stdout and "lembar: Data" in r.stdout
    r = cli("import", str(f), "--sheet", "Maret", "--quiet", data_dir=tmp_path)
    assert r.returncode == 1 and "Lembar 'Maret' tidak ada" in r.stderr


def test_excel_serial_times(engine):
    """Times stored as numbers: Excel's serial dates (days since 30 December 1899, the time of day
    as the fraction), in a workbook without a date format and in a CSV written from it."""
    serial = (datetime(2022, 1, 31, 8, 15) - datetime(1899, 12, 30)) / timedelta(days=1)  # 44592.34375
    data = workbook({"Data": [["waktu", "kode_venue", "status", "nik"],
                              [serial, "BKL019-DISKOMINFO", "hijau", "1"],
                              [44592, "BKL019-DISKOMINFO", "hijau", "2"],  # midnight
                              [9_999_999, "BKL019-DISKOMINFO", "hijau", "3"],  # no day at all
                              [1.5, "BKL019-DISKOMINFO", "hijau", "4"]]})  # 1900: out of range
    res = run(engine, data, "serial.xlsx")
    assert res.rows_loaded == 2
    assert list(zip(res.rejects["baris"], res.rejects["alasan"])) == [(4, importer.BAD_SERIAL), (5, importer.OUT_OF_RANGE)]
    text = "waktu;venue;status;nik\n44592,375;Diskominfo;hijau;5\n"  # Indonesian decimal comma
    assert run(engine, text).rows_loaded == 1
    got = sorted(str(t)[:16] for t in stored(engine)["ts"])
    assert got == ["2022-01-30 17:00", "2022-01-31 01:15", "2022-01-31 02:00"]  # WIB -> UTC


def test_date_and_time_cells_of_a_workbook(sqlite_engine):
    """'tanggal' and 'jam' apart, as date and time cells or as Excel's numbers."""
    import datetime as dt

    data = workbook({"Data": [["tanggal", "jam", "opd", "warna", "nik"],
                              [dt.datetime(2022, 1, 31), dt.time(8, 15), "Diskominfo", "hijau", "1"],
                              [44592, 0.375, "Diskominfo", "hijau", "2"],
                              ["31/01/2022", "10.30", "Diskominfo", "hijau", "3"]]})
    res = run(sqlite_engine, data, "terpisah.xlsx")
    assert (res.rows_loaded, res.rows_rejected) == (3, 0), res.rejects
    assert sorted(str(t)[:16] for t in stored(sqlite_engine)["ts"]) == ["2022-01-31 01:15", "2022-01-31 02:00",
                                                                        "2022-01-31 03:30"]


def test_nik_that_lost_digits_is_rejected_never_hashed(engine):
    """Excel shows a 16-digit NIK as 3.52601E+15 and keeps 15 digits of it: such a NIK is rejected
    with its own reason, and nobody gets a key made from it."""
    text = ("waktu,kode_venue,status,nik,no_hp\n"
            "2022-01-31 08:15,BKL019-DISKOMINFO,hijau,3.52601E+15,\n"
            "2022-01-31 08:16,BKL019-DISKOMINFO,hijau,\"3,52601E+15\",081234567890\n"
            "2022-01-31 08:17,BKL019-DISKOMINFO,hijau,,8.12346E+10\n"
            "2022-01-31 08:18,BKL019-DISKOMINFO,hijau,3526010101900001,\n")
    res = run(engine, text)
    assert res.rows_loaded == 1
    assert res.rejects["alasan"].tolist() == [importer.LOST_DIGITS] * 3
    assert res.reasons == {importer.LOST_DIGITS: 3}
    data = workbook({"Data": [["waktu", "kode_venue", "status", "nik"],
                              ["2022-01-31 09:15", "BKL019-DISKOMINFO", "hijau", 3526010101900000],  # a number cell
                              ["2022-01-31 09:16", "BKL019-DISKOMINFO", "hijau", "3526010101900000"]]})  # text
    res = run(engine, data, "nik.xlsx")
    assert (res.rows_loaded, res.rejects["alasan"].tolist()) == (1, [importer.LOST_DIGITS])
    assert count(engine) == 2


# ---------------------------------------------------------------- in pieces, one transaction
def pieces_file(rows: int, *, repeat_every: int = 0) -> str:
    lines = [HEADER.strip()]
    for i in range(rows):
        j = i - repeat_every if repeat_every and i >= repeat_every and i % 3 == 0 else i  # repeats across pieces
        lines.append(f"2022-02-{1 + j % 20:02d} {7 + j % 9:02d}:{j % 60:02d}:{j % 7:02d},"
                     f"{['BKL019-DISKOMINFO', 'Dinas Kesehatan', 'Inspektorat'][j % 3]},"
                     f"{['ASN', 'tamu'][j % 2]},{['hijau', 'kuning', 'merah', 'hitam'][j % 4]},,{j % 37}")
    lines.append("2022-02-03 08:00,TIDAK-ADA,ASN,hijau,,1")
    return "\n".join(lines) + "\n"


def test_pieces_give_what_one_piece_gives(engine, monkeypatch):
    """A file read in pieces of 7 rows (scans repeated across pieces, and a scan stored before)
    stores the rows and rollups a single piece would: the rollups equal the recompute from the
    stored check-ins."""
    from data_access import checkins
    from tests.test_data_layer import rollup_snapshot

    run(engine, HEADER + "2022-02-02 08:01:01,Dinas Kesehatan,tamu,kuning,,1\n")
    monkeypatch.setattr(importer, "PIECE_ROWS", 7)
    monkeypatch.setattr(checkins, "FINISH_ROWS", 11)
    monkeypatch.setattr(checkins, "ACC_SPILL_ROWS", 20)
    text = pieces_file(150, repeat_every=40)
    res = run(engine, text)
    assert res.rows_total == 151 and res.rows_rejected == 1
    assert res.rows_loaded + res.rows_duplicate == 150 and res.rows_duplicate > 10
    assert count(engine) == 1 + res.rows_loaded
    fast = rollup_snapshot(engine)
    with engine.begin() as conn:
        checkins.refresh_rollups(conn)
    slow = rollup_snapshot(engine)
    for name in fast:
        pd.testing.assert_frame_equal(fast[name], slow[name], check_dtype=False, obj=name)
    monkeypatch.setattr(importer, "PIECE_ROWS", 10_000)
    again = run(engine, text)
    assert (again.rows_loaded, again.rows_duplicate) == (0, 150)


def test_failure_in_a_later_piece_stores_nothing(engine, monkeypatch):
    monkeypatch.setattr(importer, "PIECE_ROWS", 10)
    real = importer.parse_frame
    calls = {"n": 0}

    def flaky(*a, **kw):
        calls["n"] += 1
        if calls["n"] == 4:
            raise MemoryError("simulasi")
        return real(*a, **kw)

    monkeypatch.setattr(importer, "parse_frame", flaky)
    with pytest.raises(importer.ImportFailed, match="tidak ada baris yang disimpan"):
        run(engine, pieces_file(60))
    assert calls["n"] == 4 and count(engine) == 0 and count(engine, ImportBatch) == 0


def test_a_file_arrow_gives_up_on_midway_is_read_again_by_pandas(sqlite_engine, monkeypatch):
    """A short row far into a well-formed file: Arrow's reader stops there after pieces were
    written; the import starts again with pandas' reader (which fills the row) and stores each
    row once."""
    monkeypatch.setattr(importer, "PIECE_ROWS", 5)
    text = pieces_file(40).replace("\n2022-02-03 08:00,TIDAK-ADA,ASN,hijau,,1\n", "\n2022-02-03 08:00,TIDAK-ADA\n")
    assert importer.open_table(text.encode(), "a.csv").arrow
    res = run(sqlite_engine, text)
    assert (res.rows_total, res.rows_loaded, res.rows_rejected) == (41, 40, 1)
    assert count(sqlite_engine) == 40 and count(sqlite_engine, ImportBatch) == 1


MEMORY_SCRIPT = """
import json, sys
from pathlib import Path
from data_access import auth, checkins, importer
from data_access.db import init_schema, make_engine
from data_access.registry import load_registry
importer.PIECE_ROWS = 10_000  # every bound reached by both files: pieces, rollup groups, rows kept
checkins.FINISH_ROWS = 50_000
checkins.ACC_SPILL_ROWS = 100_000
checkins.SQLITE_WRITE_CACHE_KB = 2048
eng = make_engine(sys.argv[1])
init_schema(eng)
with eng.begin() as conn:
    load_registry(conn)
res = importer.import_file(engine=eng, actor=auth.SYSTEM, path=Path(sys.argv[2]))
peak = [int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM")][0] // 1024
print(json.dumps({"rows": res.rows_loaded, "peak_mb": peak}))
"""


def test_memory_does_not_grow_with_the_file(tmp_path):
    """The bench's figure in small: with its bounds scaled down (pieces of 10.000 rows, rollups
    made 50.000 rows at a time, 100.000 compact rows kept in memory, SQLite's page cache 2 MB),
    importing 400.000 rows takes no more memory than importing 100.000 (within 15 MB), and stays
    under 300 MB, whatever
    else the process holds (Python, pandas, pyarrow: about 140 MB before the first row)."""
    from benchmark.runner import generate_csv

    peaks = {}
    for rows in (100_000, 400_000):
        path = tmp_path / f"f{rows}.csv"
        generate_csv(path, rows, piece=50_000)
        env = {**os.environ, "PANTAU_DATA_DIR": str(tmp_path / f"d{rows}"), "PYTHONPATH": str(ROOT)}
        r = subprocess.run([sys.executable, "-c", MEMORY_SCRIPT, f"sqlite:///{tmp_path / f'm{rows}.db'}", str(path)],
                           env=env, cwd=ROOT, capture_output=True, text=True, timeout=600)
        assert r.returncode == 0, r.stderr[-2000:]
        out = json.loads(r.stdout.strip().splitlines()[-1])
        assert out["rows"] > 0.95 * rows
        peaks[rows] = out["peak_mb"]
    assert peaks[400_000] - peaks[100_000] < 15, peaks
    assert peaks[400_000] < 300, peaks


# ---------------------------------------------------------------- the page
def page_run(monkeypatch=None):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "pages" / "impor.py"), default_timeout=120)
    at.session_state["auth"] = login_state("kominfo", "kominfo")
    return at.run()


def choose(at, field: str, value: str) -> None:
    [box] = [s for s in at.selectbox if (s.key or "").endswith(f"_map_{field}")]
    box.set_value(value)


def test_page_mapping_step_preview_check_and_import(demo_dir):
    from data_access.db import make_engine

    engine = make_engine(f"sqlite:///{demo_dir / 'pantau.db'}")
    batches = count(engine, ImportBatch)
    at = page_run()
    at.file_uploader(key="impor_files").set_value(("pintu.csv", FOREIGN.encode(), "text/csv")).run()
    assert not at.exception
    assert at.expander[1].proto.expanded  # the mapping step is open (after the help)
    assert any("Kolom wajib belum dipetakan" in w.value for w in at.warning)
    assert at.button(key="impor_go").disabled and at.button(key="impor_check").disabled
    choose(at, "waktu", "Jam Masuk")
    choose(at, "venue", "Tempat Check-in")
    at.run()
    assert not at.exception and not at.warning
    preview = at.dataframe[0].value
    assert preview["Baris"].tolist() == [2, 3, 4] and preview["OPD"].tolist()[:2] == ["Diskominfo", "Dinas Kesehatan"]
    assert preview["Waktu (WIB)"].iloc[0] == "31/01/2022 08:15:00" and preview["Status"].iloc[1] == "merah"
    assert preview["Keterangan"].tolist() == ["siap dimuat", "siap dimuat", "status tidak dikenal"]
    assert preview["Identitas"].iloc[0] == "NIK 3526••••••••••01"  # masked
    assert "3526010101900001" not in preview.to_string()

    at.button(key="impor_check").click().run()  # Periksa saja
    assert not at.exception
    assert any("Periksa saja, tidak ada yang disimpan" in i.value and "2 dimuat" in i.value for i in at.info)
    assert count(engine, ImportBatch) == batches

    at.button(key="impor_go").click().run()
    assert not at.exception
    assert any("3 baris · 2 dimuat · 1 ditolak · 0 duplikat" in w.value for w in at.warning)
    reasons, rejected = at.dataframe[-3].value, at.dataframe[-2].value
    assert reasons.to_dict("list") == {"Alasan": ["status tidak dikenal"], "Baris": [1]}
    assert rejected["baris"].tolist() == [4] and rejected["No KTP"].tolist() == ["[disamarkan]"]
    assert count(engine, ImportBatch) == batches + 1
    engine.dispose()


def test_page_saves_a_profile_and_offers_it_again(demo_dir):
    from data_access.db import make_engine

    engine = make_engine(f"sqlite:///{demo_dir / 'pantau.db'}")
    at = page_run()
    at.file_uploader(key="impor_files").set_value(("pintu.csv", FOREIGN.encode(), "text/csv")).run()
    choose(at, "waktu", "Jam Masuk")
    choose(at, "venue", "Tempat Check-in")
    at.run()
    [name] = [t for t in at.text_input if t.key.endswith("_profile_name")]
    name.input("Pemindai pintu").run()
    [save] = [b for b in at.button if (b.key or "").endswith("_profile_save")]
    save.click().run()
    assert not at.exception
    assert any("Pemindai pintu" in s.value and "disimpan" in s.value for s in at.success)
    assert "profil_impor_buat" in audit_actions(engine)

    # a new session, the next month's file with the same headers: the profile is chosen, no step needed
    at = page_run()
    at.file_uploader(key="impor_files").set_value(
        ("pintu-februari.csv", FOREIGN.replace("31/01/2022", "01/02/2022").encode(), "text/csv")).run()
    assert not at.exception
    [profile] = [s for s in at.selectbox if s.key.endswith("_profile")]
    assert profile.value == "Pemindai pintu"
    assert not at.expander[1].proto.expanded and not at.warning
    at.button(key="impor_go").click().run()
    assert any("2 dimuat · 1 ditolak" in w.value for w in at.warning)
    assert any("profil impor Pemindai pintu" in c.value for c in at.caption)
    engine.dispose()


def test_page_rejected_rows_first_hundred_and_download_in_the_files_delimiter(demo_dir):
    lines = ["waktu;kode_venue;status;nik"] + [f"2022-01-31 08:{i % 60:02d};TIDAK-ADA-{i};hijau;{i}" for i in range(150)]
    lines += ["2022-01-31 09:00;BKL019-DISKOMINFO;;1", "2022-01-31 09:01;BKL019-DISKOMINFO;hijau;2"]
    at = page_run()
    at.file_uploader(key="impor_files").set_value(("banyak.csv", ("\n".join(lines) + "\n").encode(), "text/csv"))
    at.run()
    at.button(key="impor_go").click().run()
    assert not at.exception
    reasons, rejected = at.dataframe[-3].value, at.dataframe[-2].value
    assert reasons.to_dict("list") == {"Alasan": ["venue tidak dikenal", "status kosong"], "Baris": [150, 1]}
    assert len(rejected) == 100 and rejected["baris"].tolist()[:2] == [2, 3]
    [download] = [b for b in at.get("download_button") if b.proto.label.startswith("Unduh baris ditolak")]
    assert "(151)" in download.proto.label
    state = at.session_state["impor_results"][0]
    table = list(csv.reader(io.StringIO(state["rejects_csv"].decode("utf-8-sig")), delimiter=";"))
    assert table[0][:2] == ["baris", "alasan"] and len(table) == 152 and table[-1][:2] == ["152", "status kosong"]
    assert any("Dibaca sebagai UTF\\-8, pemisah titik koma" in c.value for c in at.caption)  # Markdown-escaped


def test_page_workbook_sheet_choice(demo_dir):
    data = workbook({"Petunjuk": [["catatan"]], "Januari": DATA_SHEET,
                     "Februari": [DATA_SHEET[0], ["2022-02-01 08:15", "BKL019-DISKOMINFO", "hijau", "9"]]})
    at = page_run()
    at.file_uploader(key="impor_files").set_value(("log.xlsx", data, "application/octet-stream")).run()
    assert not at.exception
    [sheet] = [s for s in at.selectbox if s.key.endswith("_sheet")]
    assert sheet.value == "Januari" and sheet.options == ["Petunjuk", "Januari", "Februari"]
    sheet.set_value("Februari").run()
    assert not at.exception
    assert at.dataframe[0].value["Waktu (WIB)"].tolist() == ["01/02/2022 08:15:00"]
    at.button(key="impor_check").click().run()
    assert any("1 baris · 1 dimuat" in i.value for i in at.info)
    assert any("Lembar Februari" in c.value for c in at.caption)


def test_page_ambiguous_columns_open_the_mapping_step(demo_dir):
    data = ("waktu;venue;lokasi;status;nik\n"
            "2022-01-31 08:15;BKL019-DISKOMINFO;Lantai 2;hijau;1\n").encode("utf-8")
    at = page_run()
    at.file_uploader(key="impor_files").set_value(("dua-venue.csv", data, "text/csv")).run()
    assert not at.exception
    assert at.expander[1].proto.expanded
    assert any("Lebih dari satu kolom berkas cocok untuk: Venue" in i.value for i in at.info)
    [venue] = [s for s in at.selectbox if s.key.endswith("_map_venue")]
    assert venue.value == "venue"  # the first is proposed; the user may choose the other
    at.button(key="impor_check").click().run()
    assert any("1 dimuat" in i.value for i in at.info)


def test_housekeeping_after_an_import_takes_the_days_written(engine):
    """After a large import only the months written are analysed on PostgreSQL (the whole
    partitioned table takes seconds); every database accepts the span, with or without data."""
    from datetime import date

    from data_access.db import after_bulk_write

    run(engine, HEADER + "2022-01-31 08:15,BKL019-DISKOMINFO,ASN,hijau,,1\n")
    if engine.dialect.name == "postgresql":
        from sqlalchemy import create_engine

        # a pool of two: the connections that did the housekeeping are the ones checked after it
        two = create_engine(engine.url.render_as_string(hide_password=False), pool_size=2, max_overflow=0)
        try:
            with two.begin() as conn:
                target = conn.exec_driver_sql("SHOW default_statistics_target").scalar()
                # statistics an earlier test's whole-table ANALYZE left on this partition (the test
                # databases are emptied between tests, not dropped)
                conn.exec_driver_sql("DELETE FROM pg_statistic WHERE starelid = 'checkin_p202201'::regclass")
            after_bulk_write(two, days=(date(2022, 1, 31), date(2022, 3, 2)))
            with two.connect() as conn, two.connect() as other:
                # the month written has statistics for the key columns alone, from the small sample
                analysed = {r[0] for r in conn.exec_driver_sql(
                    "SELECT attname FROM pg_stats WHERE tablename = 'checkin_p202201'")}
                assert analysed == {"opd_id", "ts", "day"}
                # and the pooled connections are back at the server's own statistics target
                for c in (conn, other):
                    assert c.exec_driver_sql("SHOW default_statistics_target").scalar() == target
        finally:
            two.dispose()
    else:
        after_bulk_write(engine, days=(date(2022, 1, 31), date(2022, 3, 2)))
    after_bulk_write(engine, days=(date(2030, 1, 1), date(2030, 1, 2)))  # no partition for those months
    assert count(engine) == 1
