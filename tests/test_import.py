"""Importing check-in exports: formats, rejections, duplicates, atomicity, fuzzing, CLI, page."""
from __future__ import annotations

import csv

import io
import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from data_access import auth, importer
from data_access import queries as q
from data_access.models import Checkin, ImportBatch
from tests.test_cli import cli

KOMINFO = auth.Actor("kominfo", "kominfo")
HEADER = "waktu,kode_venue,jenis_pengunjung,status,hasil,nik\n"


def count(engine, model=Checkin) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(model)).scalar_one()


def run(engine, text: str | bytes, name: str = "ekspor.csv"):
    data = text.encode("utf-8") if isinstance(text, str) else text
    return importer.import_bytes(engine=engine, actor=KOMINFO, data=data, file_name=name)


def stored(engine) -> pd.DataFrame:
    with engine.connect() as conn:
        df = pd.read_sql(select(Checkin.opd_id, Checkin.ts, Checkin.day, Checkin.hour, Checkin.visitor_type,
                                Checkin.status, Checkin.outcome, Checkin.visitor_key, Checkin.source), conn)
    return df


def test_accepted_forms(engine):
    text = (HEADER
            + "2022-01-31 08:15,BKL019-DISKOMINFO,ASN,Hijau,diterima,3526010101900001\n"
            + "31/01/2022 08.20,Dinas Kesehatan,tamu,RED,,3526010101900002\n"
            + "31-01-2022 8:25,dinkes,pegawai,yellow,Ditolak,3526010101900003\n"
            + "2022-01-31T09:30:00+08:00,diskominfo,,BLACK,,3526010101900004\n"
            + "2022-01-31 09:45 WITA,Kec. Modung,Pengunjung,kuning,,3526010101900005\n")
    res = run(engine, text)
    assert (res.rows_total, res.rows_loaded, res.rows_rejected, res.rows_duplicate) == (5, 5, 0, 0)
    df = stored(engine).sort_values("ts").reset_index(drop=True)
    got = {(str(r.ts)[:16], r.status, r.outcome, r.visitor_type) for r in df.itertuples()}
    assert got == {
        ("2022-01-31 01:15", "hijau", "diterima", "asn"),
        ("2022-01-31 01:20", "merah", "ditolak", "pengunjung"),  # outcome derived from the colour
        ("2022-01-31 01:25", "kuning", "ditolak", "asn"),  # kuning refused by the venue's policy
        ("2022-01-31 01:30", "hitam", "ditolak", "pengunjung"),  # +08:00 -> 01:30 UTC; empty type = visitor
        ("2022-01-31 01:45", "kuning", "diterima", "pengunjung"),  # WITA
    }
    assert set(df["source"]) == {"import"}
    assert (df["hour"] == 8).all() and (df["day"].astype(str) == "2022-01-31").all()
    # the rollups follow: refusals of that day
    d = q.refusals_daily(engine=engine, start=pd.Timestamp("2022-01-31").date(), end=pd.Timestamp("2022-01-31").date())
    assert d.loc[0, "refused"] == 3


@pytest.mark.parametrize("variant", ["semicolon_bom", "english_headers", "date_and_time", "xlsx"])
def test_file_variants(engine, variant):
    rows = [("31/01/2022 08.15", "BKL019-DISKOMINFO", "ASN", "Hijau", "081234567890"),
            ("31/01/2022 08.16", "RSUD Syamrabu", "Pengunjung", "Merah", "085700000000")]
    if variant == "semicolon_bom":
        data = ("\ufeffWaktu;Kode Venue;Jenis Pengunjung;Status;No HP\n"
                + "".join(";".join(r) + "\n" for r in rows)).encode("utf-8")
        name = "ekspor.csv"
    elif variant == "english_headers":
        data = ("Timestamp,Venue,Visitor Type,Color,Phone\n"
                + "".join(",".join(("2022-01-31 08:15", r[1], "visitor" if r[2] == "Pengunjung" else "staff",
                                    r[3], r[4])) + "\n" for r in rows)).encode()
        name = "export.csv"
    elif variant == "date_and_time":
        data = ("Tanggal,Jam,OPD,Warna,Nama\n" + "31/01/2022,08.15,Diskominfo,hijau,Siti\n"
                + "31/01/2022,08.16,RSUD Syamrabu,merah,Budi\n").encode()
        name = "scanner.csv"
    else:
        buf = io.BytesIO()
        pd.DataFrame(rows, columns=["Waktu", "Kode Venue", "Jenis Pengunjung", "Status", "NIK"]).to_excel(buf, index=False)
        data, name = buf.getvalue(), "ekspor.xlsx"
    res = run(engine, data, name)
    assert (res.rows_loaded, res.rows_rejected) == (2, 0), res.rejects


REJECTS = [
    ("2022-01-31 08:15,BKL-TIDAK-ADA,ASN,hijau,,1", "venue tidak dikenal"),
    ("2022-01-31 08:15,,ASN,hijau,,2", "venue kosong"),
    ("2022-02-30 08:15,BKL019-DISKOMINFO,ASN,hijau,,3", "tanggal/waktu tidak valid"),
    ("kemarin pagi,BKL019-DISKOMINFO,ASN,hijau,,4", "tanggal/waktu tidak valid"),
    (",BKL019-DISKOMINFO,ASN,hijau,,5", "waktu kosong"),
    ("2019-01-31 08:15,BKL019-DISKOMINFO,ASN,hijau,,6", "rentang wajar"),
    ("2099-01-31 08:15,BKL019-DISKOMINFO,ASN,hijau,,7", "rentang wajar"),
    ("0022-01-31 08:15,BKL019-DISKOMINFO,ASN,hijau,,7", "rentang wajar"),  # once a crash (beyond pandas' ns range)
    ("2022-01-31 08:15,BKL019-DISKOMINFO,ASN,,,8", "status kosong"),
    ("2022-01-31 08:15,BKL019-DISKOMINFO,ASN,ungu,,9", "status tidak dikenal"),
    ("2022-01-31 08:15,BKL019-DISKOMINFO,alien,hijau,,10", "jenis pengunjung tidak dikenal"),
    ("2022-01-31 08:15,BKL019-DISKOMINFO,ASN,hijau,mungkin,11", "hasil"),
    ("2022-01-31 08:15,BKL019-DISKOMINFO,ASN,hijau,,", "identitas pengunjung kosong"),
]


def test_each_rejection_reason(engine):
    good = "2022-01-31 07:00,BKL019-DISKOMINFO,ASN,hijau,,99\n"
    text = HEADER + good + "".join(r + "\n" for r, _ in REJECTS)
    res = run(engine, text)
    assert (res.rows_loaded, res.rows_rejected) == (1, len(REJECTS))
    rej = res.rejects
    assert rej["baris"].tolist() == list(range(3, 3 + len(REJECTS)))  # file line numbers (header is line 1)
    for (_, reason), got in zip(REJECTS, rej["alasan"]):
        assert reason in got
    assert count(engine) == 1
    csv_text = res.rejects_csv().decode("utf-8-sig")
    table = list(csv.reader(io.StringIO(csv_text)))
    assert table[0][:2] == ["baris", "alasan"]
    assert "[disamarkan]" in csv_text and not any(c.startswith("99") for row in table for c in row)  # masked


def test_whole_file_problems(engine):
    for data, name, msg in [
        (b"", "kosong.csv", "kosong"), (HEADER.encode(), "judul.csv", "tidak berisi baris"),
        (b"a,b,c\n1,2,3\n", "asing.csv", "Kolom wajib tidak ditemukan"),
        (b"PK\x03\x04rusak", "rusak.xlsx", "Excel tidak dapat dibaca"),
        (b"\x00\x01\x02\x03" * 10, "biner.csv", "bukan CSV"), (b"x", "lama.xls", ".xls"),
    ]:
        with pytest.raises(importer.ImportFailed, match=msg):
            run(engine, data, name)
    assert count(engine) == 0 and count(engine, ImportBatch) == 0


def test_reimport_is_idempotent(engine):
    text = HEADER + "".join(f"2022-01-31 08:{i:02d},BKL019-DISKOMINFO,ASN,hijau,,{i}\n" for i in range(20))
    first = run(engine, text)
    assert first.rows_loaded == 20
    again = run(engine, text)
    assert (again.rows_loaded, again.rows_duplicate) == (0, 20)
    overlap = HEADER + "".join(f"2022-01-31 08:{i:02d},BKL019-DISKOMINFO,ASN,hijau,,{i}\n" for i in range(10, 30))
    third = run(engine, overlap + "2022-01-31 08:29,BKL019-DISKOMINFO,ASN,hijau,,29\n")  # a duplicate inside the file
    assert (third.rows_loaded, third.rows_duplicate) == (10, 11)
    assert count(engine) == 30
    hist = importer.import_history(engine=engine)
    assert hist["rows_loaded"].tolist() == [10, 0, 20] and hist["checksum"].iloc[1] == hist["checksum"].iloc[2]
    tot = q.totals(engine=engine, start=pd.Timestamp("2022-01-31").date(), end=pd.Timestamp("2022-01-31").date())
    assert tot["checkins"] == 30


def test_failure_midway_leaves_database_as_it_was(engine, monkeypatch):
    run(engine, HEADER + "2022-01-30 08:00,BKL019-DISKOMINFO,ASN,hijau,,1\n")
    before = (count(engine), count(engine, ImportBatch), q.totals(engine=engine, start=pd.Timestamp("2022-01-01").date(),
                                                                  end=pd.Timestamp("2022-12-31").date()))
    from data_access import checkins

    monkeypatch.setattr(checkins, "CHUNK", 5)
    real = checkins._bulk_insert_ignore
    calls = {"n": 0}

    def flaky(conn, rows, **kw):
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("disk penuh (simulasi)")
        return real(conn, rows, **kw)

    monkeypatch.setattr(checkins, "_bulk_insert_ignore", flaky)
    text = HEADER + "".join(f"2022-02-01 08:{i:02d},BKL019-DISKOMINFO,ASN,hijau,,{i}\n" for i in range(30))
    with pytest.raises(importer.ImportFailed, match="tidak ada baris"):
        run(engine, text)
    assert calls["n"] == 3  # two chunks were written before the failure
    after = (count(engine), count(engine, ImportBatch), q.totals(engine=engine, start=pd.Timestamp("2022-01-01").date(),
                                                                 end=pd.Timestamp("2022-12-31").date()))
    assert after == before


def test_personal_data_is_not_stored(engine):
    run(engine, "waktu,venue,status,nik,no_hp,nama\n"
                "2022-01-31 08:15,Diskominfo,hijau,3526010101900001,081234567890,Siti Aminah\n")
    df = stored(engine)
    flat = " ".join(str(v) for v in df.to_numpy().ravel())
    for secret in ("3526010101900001", "081234567890", "Siti", "Aminah"):
        assert secret not in flat
    assert len(df["visitor_key"].iloc[0]) == 32


def test_only_kominfo_imports(engine):
    with pytest.raises(auth.PermissionDenied):
        importer.import_bytes(engine=engine, actor=auth.Actor("s", "satpolpp"), data=b"x", file_name="x.csv")


cells = st.one_of(st.text(max_size=12), st.sampled_from(["2022-01-31 08:15", "31/01/2022 08.15", "Diskominfo",
                                                          "BKL019-DISKOMINFO", "hijau", "RED", "ASN", "", "ditolak"]))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(header=st.lists(st.sampled_from(["waktu", "venue", "status", "nik", "jenis", "hasil", "x", "tanggal", "jam"]),
                       min_size=1, max_size=7),
       rows=st.lists(st.lists(cells, min_size=0, max_size=8), max_size=15),
       sep=st.sampled_from([",", ";"]), junk=st.binary(max_size=40))
def test_fuzzed_files_never_crash_or_half_load(sqlite_engine, header, rows, sep, junk):
    engine = sqlite_engine
    before = count(engine)
    text = sep.join(header) + "\n" + "".join(sep.join(c.replace("\n", " ") for c in r) + "\n" for r in rows)
    for data in (text.encode("utf-8", "replace"), text.encode("utf-8", "replace") + junk):
        try:
            res = run(engine, data)
        except importer.ImportFailed:
            assert count(engine) == before
            continue
        assert res.rows_loaded + res.rows_rejected + res.rows_duplicate == res.rows_total
        assert count(engine) == before + res.rows_loaded
        before = count(engine)


def test_cli_import(tmp_path):
    cli("init", data_dir=tmp_path)
    f = tmp_path / "ekspor.csv"
    f.write_text(HEADER + "2022-01-31 08:15,BKL019-DISKOMINFO,ASN,hijau,,1\n"
                 + "2022-01-31 08:16,TIDAK-ADA,ASN,hijau,,2\n")
    r = cli("import", str(f), "--rejects", str(tmp_path / "ditolak.csv"), "--quiet", data_dir=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "1 dimuat, 1 ditolak, 0 duplikat" in r.stdout
    rej = pd.read_csv(tmp_path / "ditolak.csv")
    assert rej["baris"].tolist() == [3] and rej["alasan"].tolist() == ["venue tidak dikenal"]
    r = cli("import", str(f), "--json", data_dir=tmp_path)
    out = json.loads(r.stdout)
    assert (out["rows_total"], out["rows_loaded"], out["rows_rejected"], out["rows_duplicate"]) == (2, 0, 1, 1)
    r = cli("import", str(tmp_path / "tidak-ada.csv"), data_dir=tmp_path)
    assert r.returncode == 1 and "tidak dapat dibaca" in r.stderr and "Traceback" not in r.stderr
    r = cli("demo", "--days", "5", "--quiet", data_dir=tmp_path)
    assert r.returncode == 1 and "data impor" in r.stderr  # demo never writes into real data


def test_import_page(demo_dir, page):
    at = page("impor", "kominfo")
    assert not at.exception
    labels = [b.proto.label for b in at.get("download_button")]
    assert "Unduh templat CSV" in labels
    assert any("Belum ada impor" in i.value for i in at.info)
    template = importer.template_csv().decode("utf-8-sig")
    assert template.splitlines()[0] == ";".join(importer.TEMPLATE_COLUMNS)


def test_import_into_demo_database_is_flagged(demo_dir, page):
    from data_access.db import make_engine

    engine = make_engine(f"sqlite:///{demo_dir / 'pantau.db'}")
    run(engine, HEADER + "2022-02-01 08:15,BKL019-DISKOMINFO,ASN,hijau,,777\n")
    at = page("ringkasan", "pimpinan")
    assert not at.exception
    assert any("bercampur data impor" in w.value for w in at.warning)


# The fast paths (Arrow's CSV reader and date parser) must read every file exactly as the
# pandas reference does, or hand it back to pandas.
csv_cells = st.one_of(st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=10),
                      st.sampled_from(['"a;b"', '"x,y"', '""', '"', " ", "  pad ", "NA", "null", "N/A", "#", "0012"]))


@settings(max_examples=150, deadline=None)
@given(header=st.lists(st.sampled_from(["waktu", "venue", "status", "nik", "a", "b", ""]), min_size=1, max_size=5),
       rows=st.lists(st.lists(csv_cells, min_size=1, max_size=6), max_size=12), sep=st.sampled_from([",", ";"]),
       bom=st.booleans(), crlf=st.booleans())
def test_arrow_csv_reader_agrees_with_pandas(header, rows, sep, bom, crlf):
    nl = "\r\n" if crlf else "\n"
    text = sep.join(header) + nl + "".join(sep.join(r) + nl for r in rows)
    data = (b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8")
    first = text[:4096].splitlines()[0] if text[:4096].splitlines() else ""
    fast = importer._read_csv_arrow(data, "utf-8-sig", first, sep)
    if fast is None:
        return
    ref = importer._read_csv_pandas(text, sep)
    pd.testing.assert_frame_equal(fast.astype(object), ref.astype(object), check_dtype=False)


def test_arrow_csv_reader_is_used_for_a_plain_export():
    data = HEADER.encode() + b"2022-01-31 08:15,BKL019-DISKOMINFO,ASN,hijau,,1\n"
    assert importer._read_csv_arrow(data, "utf-8-sig", HEADER.strip(), ",") is not None


TIME_TEXT = ["2022-01-31 08:15:30", "2022-01-31 08:15", "2022-1-3 8:5", "2022-01-31  08:15", "31/01/2022 08.15",
             "31/01/2022 8.15.00", "31/1/22 08.15", "31/01/2022 08:15", "31-01-2022 8:15", "31-01-2022 08.15",
             "2022-01-31T08:15:30", "2022-02-29 08:15", "2024-02-29 08:15", "31/04/2022 08.15", "00/01/2022 08.15",
             "2022-13-01 08:15", "2022-01-31 24:00", "2022-01-31 08:60", "0022-01-31 08:15", "1/3/2022 07.00",
             "3/1/2022 07.00", "29/02/2023 10.00", "30/02/2024 10.00", "2022-01-31 08:15:3", "31/01/2022\t08.15"]


formatted = st.tuples(st.datetimes(min_value=pd.Timestamp("1890-01-01").to_pydatetime(),
                                   max_value=pd.Timestamp("2030-12-31").to_pydatetime()),
                     st.sampled_from(importer.FAST_FORMATS)).map(lambda t: t[0].strftime(t[1]))


@settings(max_examples=150, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(TIME_TEXT), formatted), min_size=1, max_size=30),
       st.sampled_from(importer.FAST_FORMATS))
def test_arrow_date_parser_agrees_with_pandas(values, fmt):
    s = pd.Series(values, dtype="str")
    fast = importer._strptime_arrow(s, fmt).astype("datetime64[us]")
    ref = importer._strptime_pandas(s, fmt).astype("datetime64[us]")
    pd.testing.assert_series_equal(fast, ref)
    a, ra = importer.parse_times(s)
    b, rb = importer.parse_times(s, arrow=False)
    pd.testing.assert_series_equal(a, b)
    assert ra.tolist() == rb.tolist()


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(formatted, st.text(alphabet="0123456789/-:. T", min_size=14, max_size=20),
                          st.sampled_from(TIME_TEXT)), min_size=1, max_size=40),
       st.sampled_from([f for f in importer.FAST_FORMATS if importer._fixed_layout(f)]))
def test_fixed_width_times_read_digit_by_digit_agree_with_pandas(values, fmt):
    """The numpy reader of zero-padded fixed-width times gives pandas' time for every row it
    takes (and NaT for the others, which go on to Arrow's parser), whatever the text."""
    import pyarrow as pa

    s = pd.Series(values, dtype="str")
    fixed = importer._strptime_fixed(pa.array(s.array, type=pa.string()), fmt)
    ref = importer._strptime_pandas(s, fmt).to_numpy().astype("datetime64[s]")
    taken = ~np.isnat(fixed)
    assert (fixed[taken] == ref[taken]).all()
    width = importer._fixed_layout(fmt)[0]
    padded = s.str.len().eq(width).to_numpy() & ~np.isnat(ref) & (ref >= np.datetime64("1900-01-01"))
    assert (taken == padded).all()  # every zero-padded valid row is taken (strftime pads every field)


def test_upload_limit_is_the_importers():
    """The page's uploader (Streamlit's maxUploadSize) takes exactly what the importer accepts."""
    import tomllib
    from pathlib import Path

    cfg = tomllib.loads((Path(__file__).resolve().parent.parent / ".streamlit" / "config.toml").read_text())
    assert cfg["server"]["maxUploadSize"] * 1024 * 1024 == importer.MAX_FILE_BYTES


def test_sqlite_staging_files_are_removed(sqlite_engine, monkeypatch, tmp_path):
    """On SQLite rows are staged in scratch files in the data folder (PANTAU_DATA_DIR is tmp_path);
    after an import, a failed one included, none is left."""
    from data_access import checkins

    scratch = tmp_path / "scratch"
    monkeypatch.setattr(checkins, "STAGE_ROWS", 10)  # several staging files
    text = HEADER + "".join(f"2022-02-01 08:{i:02d},BKL019-DISKOMINFO,ASN,hijau,,{i}\n" for i in range(35))
    assert run(sqlite_engine, text).rows_loaded == 35
    assert list(scratch.iterdir()) == []

    def broken(conn, rows, **kw):
        raise RuntimeError("disk penuh (simulasi)")

    monkeypatch.setattr(checkins, "_bulk_insert_ignore", broken)
    with pytest.raises(importer.ImportFailed):
        run(sqlite_engine, text.replace("2022-02-01", "2022-02-02"))
    assert list(scratch.iterdir()) == []
    assert count(sqlite_engine) == 35


def test_sqlite_reader_goes_on_while_a_staging_file_is_stored(sqlite_engine, monkeypatch):
    """SQLite: while the writer's thread stores a completed staging file, the reading thread goes
    on reading, checking and staging the next pieces (it is not held by a queue of two), and it
    keeps at most STAGE_BACKLOG pieces waiting in memory for the stager."""
    import threading

    from data_access import checkins

    monkeypatch.setattr(importer, "PIECE_ROWS", 5)
    monkeypatch.setattr(checkins, "STAGE_ROWS", 5)  # the first staging file: one piece
    staged, waiting = [], []
    real_stage, real_insert = checkins.CheckinWriter._stage_job, checkins._bulk_insert_ignore
    read_on = threading.Event()

    def stage_job(self, table, opd_ids):
        waiting.append(len([f for f in self._staging if not f.done()]))
        out = real_stage(self, table, opd_ids)
        staged.append(table.num_rows)
        if len(staged) >= 6:
            read_on.set()
        return out

    first = []

    def insert(conn, rows, **kw):
        if not first:  # the first range: held until six pieces were staged after it
            first.append(read_on.wait(timeout=20))
        return real_insert(conn, rows, **kw)

    monkeypatch.setattr(checkins.CheckinWriter, "_stage_job", stage_job)
    monkeypatch.setattr(checkins, "_bulk_insert_ignore", insert)
    text = HEADER + "".join(f"2022-02-01 {8 + i // 60:02d}:{i % 60:02d},BKL019-DISKOMINFO,ASN,hijau,,{i}\n"
                            for i in range(600))  # pieces of at least 1 KB: about 20 rows each
    res = run(sqlite_engine, text)
    assert first == [True]  # the reader staged six more pieces while the first file was being stored
    assert res.rows_loaded == 600 and count(sqlite_engine) == 600
    assert max(waiting) <= checkins.STAGE_BACKLOG


def test_a_pieces_columns_stay_on_the_heap(monkeypatch):
    """The allocator maps afresh only blocks larger than a piece's column (8 bytes a row), so the
    columns of one piece reuse the memory of the last; never below 256 KB."""
    assert importer.mmap_threshold() > importer.PIECE_ROWS * 8
    assert importer.mmap_threshold() <= 2 * importer.PIECE_ROWS * 8
    monkeypatch.setattr(importer, "PIECE_ROWS", 1_000)
    assert importer.mmap_threshold() == 256 * 1024


def test_visitor_key_halves_are_the_keys_own_bytes():
    """Our keys (32 lower-case hex digits, also a slice of a longer array, also large_string) are
    split from Arrow's buffer into the bytes they spell; any other key (upper case too: another
    text is another visitor) is hashed (BLAKE2b), key by key, so that a key has the same halves
    whatever the other keys of its piece."""
    import hashlib
    import secrets

    import pyarrow as pa

    from data_access import checkins

    keys = [secrets.token_hex(16) for _ in range(50)]
    raw = np.frombuffer(bytes.fromhex("".join(keys)), dtype=">u8").reshape(-1, 2)
    for arr, want in ((pa.array(keys), raw), (pa.array(keys).slice(7, 20), raw[7:27]),
                      (pa.array(keys, type=pa.large_string()).slice(3, 5), raw[3:8])):
        hi, lo = checkins._key_halves(arr)
        assert (hi == want[:, 0]).all() and (lo == want[:, 1]).all()

    def blake(k):
        return tuple(np.frombuffer(hashlib.blake2b(k.encode(), digest_size=16).digest(), dtype=">u8"))

    odd = ["ab" * 15 + "zz", "ab " * 10 + "ab", "é" * 16, "abc", keys[0].upper()]
    hi, lo = checkins._key_halves(pa.array(odd + keys[:2]))
    assert [(h, lo_) for h, lo_ in zip(hi[:5], lo[:5])] == [blake(k) for k in odd]
    assert (hi[5:] == raw[:2, 0]).all() and (lo[5:] == raw[:2, 1]).all()


def test_visitor_keys_as_an_arrow_dictionary_are_taken_as_codes():
    """The importer hands its visitor keys over as an Arrow dictionary column: the writer takes its
    codes as they are, unless a value repeats in the dictionary (then equal keys must still get one
    code, or a repeated scan would not be found within its piece)."""
    import pyarrow as pa

    from data_access import checkins

    def column(values, indices):
        return pd.Series(pd.arrays.ArrowExtensionArray(
            pa.DictionaryArray.from_arrays(pa.array(indices, type=pa.int32()), pa.array(values))), name="visitor_key")

    codes, values = checkins._encoded(column(["a", "b", "c"], [2, 0, 2, 1]))
    assert codes.tolist() == [2, 0, 2, 1] and values.to_pylist() == ["a", "b", "c"]
    codes, values = checkins._encoded(column(["a", "b", "a"], [0, 2, 1]))
    assert codes[0] == codes[1] != codes[2]
    assert [values[int(c)].as_py() for c in codes] == ["a", "a", "b"]
    with pytest.raises(ValueError, match="kosong"):
        checkins._encoded(pd.Series(pd.arrays.ArrowExtensionArray(pa.DictionaryArray.from_arrays(
            pa.array([0, None], type=pa.int32()), pa.array(["a"]))), name="visitor_key"))
