"""Onboarding and one-click QR: registry actions, QR files decoded by a real decoder, pages, CLI."""
from __future__ import annotations

import csv

import io
import json
import zipfile
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest
import pypdfium2 as pdfium
import zxingcpp
from PIL import Image

from data_access import auth, qr
from data_access import onboarding as ob
from data_access import queries as q
from tests.helpers import load_small, opd_id
from tests.test_cli import cli

KOMINFO = auth.Actor("kominfo", "kominfo")
SATPOL = auth.Actor("satpolpp", "satpolpp")


def audit_actions(engine):
    return auth.audit_log(engine=engine, actor=KOMINFO)


def test_registry_actions_and_audit(engine):
    today = ob.today_wib()
    ob.record_venue_code(engine=engine, actor=KOMINFO, code="DISDIK", venue_code="PL-DISDIK-01",
                         registered_on=today - timedelta(days=3))
    with pytest.raises(ob.OnboardingError, match="di masa depan"):
        ob.mark_printed(engine=engine, actor=KOMINFO, code="DISDIK", printed_on=today + timedelta(days=1))
    with pytest.raises(ob.OnboardingError, match="sebelum kode venue"):
        ob.mark_printed(engine=engine, actor=KOMINFO, code="DISDIK", printed_on=today - timedelta(days=10))
    ob.mark_printed(engine=engine, actor=KOMINFO, code="DISDIK", printed_on=today - timedelta(days=1))
    reg = q.opd_registry(engine=engine).set_index("code")
    assert reg.loc["DISDIK", "venue_code"] == "PL-DISDIK-01"
    assert reg.loc["DISDIK", "qr_printed_on"] == today - timedelta(days=1)
    ob.undo_printed(engine=engine, actor=KOMINFO, code="DISDIK")
    assert pd.isna(q.opd_registry(engine=engine).set_index("code").loc["DISDIK", "qr_printed_on"])
    ob.clear_venue_code(engine=engine, actor=KOMINFO, code="DISDIK")
    log = audit_actions(engine)
    acts = list(log.loc[log["target"] == "DISDIK", "action"])
    assert acts[::-1] == ["venue_catat", "qr_dicetak", "qr_dicetak_batal", "venue_hapus"]
    row = log[(log["action"] == "qr_dicetak")].iloc[0]
    assert json.loads(row["before"]) == {"qr_printed_on": None}
    assert json.loads(row["after"])["qr_printed_on"] == (today - timedelta(days=1)).isoformat()


@pytest.mark.parametrize("venue, message", [
    ("", "tidak boleh kosong"), ("   ", "tidak boleh kosong"), ("BKL019-DISKOMINFO", "sudah dipakai"),
    ("kode dengan spasi", "hanya boleh"),
])
def test_bad_venue_codes(engine, venue, message):
    with pytest.raises(ob.OnboardingError, match=message):
        ob.record_venue_code(engine=engine, actor=KOMINFO, code="DISDIK", venue_code=venue)
    assert pd.isna(q.opd_registry(engine=engine).set_index("code").loc["DISDIK", "venue_code"])


def test_registry_actions_refuse_other_roles_and_unknown(engine):
    with pytest.raises(auth.PermissionDenied):
        ob.record_venue_code(engine=engine, actor=SATPOL, code="DISDIK", venue_code="X-1234")
    with pytest.raises(auth.PermissionDenied):
        ob.mark_printed(engine=engine, actor=auth.Actor("p", "pimpinan"), code="DISKOMINFO", printed_on=date(2022, 1, 7))
    with pytest.raises(ob.OnboardingError, match="tidak dikenal"):
        ob.mark_printed(engine=engine, actor=KOMINFO, code="NOPE", printed_on=date(2022, 1, 7))
    with pytest.raises(ob.OnboardingError, match="belum memiliki kode venue"):
        ob.mark_printed(engine=engine, actor=KOMINFO, code="DISDIK", printed_on=date(2022, 1, 7))


def test_pipeline_weekly(engine):
    load_small(engine)
    a = opd_id(engine, "DISKOMINFO")
    b = opd_id(engine, "DISDIK")
    p = q.pipeline_weekly(engine=engine, start=date(2022, 1, 3), end=date(2022, 1, 16), opd_ids=[a, b])
    wk = {(r.week_end.date(), r.stage): r.opds for r in p.itertuples()}
    assert wk[(date(2022, 1, 9), "qr_dicetak")] == 1  # Diskominfo printed 7 Jan, first scan 10 Jan
    assert wk[(date(2022, 1, 16), "aktif")] == 1
    assert wk[(date(2022, 1, 16), "belum_terdaftar")] == 1  # Dinas Pendidikan


def decode(img: Image.Image) -> list:
    return zxingcpp.read_barcodes(img)


def test_qr_files_decode_to_the_venue_code():
    v = qr.Venue("DISKOMINFO", "Dinas Komunikasi dan Informatika", "BKL019-DISKOMINFO")
    png = Image.open(io.BytesIO(qr.qr_png(v.venue_code)))
    assert png.size[0] >= 1400  # print resolution
    res = decode(png)
    assert [r.text for r in res] == ["BKL019-DISKOMINFO"]
    assert res[0].ec_level in ("M", "Q", "H")
    svg = qr.qr_svg(v.venue_code).decode()
    assert svg.startswith("<?xml") and "<path" in svg
    pdf = pdfium.PdfDocument(qr.poster_pdf(v))
    assert len(pdf) == 1
    page = pdf[0]
    w_pt, h_pt = page.get_size()
    assert round(w_pt / 72 * 25.4) == 210 and round(h_pt / 72 * 25.4) == 297  # A4
    text = page.get_textpage().get_text_range()
    for needle in ("Dinas Komunikasi dan Informatika", "Wajib scan QR Code PeduliLindungi sebelum masuk",
                   "440/033/433.031/2022", "Cara check-in"):
        assert needle in text.replace("\r", "").replace("\n", " ")
    scale = 3
    img = page.render(scale=scale).to_pil()
    res = decode(img)
    assert [r.text for r in res] == ["BKL019-DISKOMINFO"]
    pos = res[0].position
    ys = [pos.top_left.y, pos.top_right.y, pos.bottom_left.y, pos.bottom_right.y]
    gray = np.asarray(img.convert("L"))
    band = gray[min(ys):max(ys) + 1]  # rows across the code only
    dark_cols = np.where((band < 128).any(axis=0))[0]
    left, right = dark_cols.min(), dark_cols.max() + 1
    width_px = right - left
    assert width_px / (72 * scale) * 2.54 >= 12.0  # the code is at least 12 cm wide
    module = width_px / qr.modules(v.venue_code)
    # quiet zone: four modules of white on each side of the code
    quiet_left = gray[min(ys):max(ys) + 1, int(left - 4 * module) + 1:left]
    quiet_right = gray[min(ys):max(ys) + 1, right:int(right + 4 * module) - 1]
    assert quiet_left.min() > 200 and quiet_right.min() > 200
    pdf.close()


def test_posters_zip():
    vs = [qr.Venue(f"OPD{i}", f"OPD nomor {i}", f"CODE-{i:04d}") for i in range(3)]
    zf = zipfile.ZipFile(io.BytesIO(qr.posters_zip(vs)))
    assert sorted(zf.namelist()) == ["poster-qr-opd0.pdf", "poster-qr-opd1.pdf", "poster-qr-opd2.pdf"]
    img = pdfium.PdfDocument(zf.read("poster-qr-opd1.pdf"))[0].render(scale=2).to_pil()
    assert [r.text for r in decode(img)] == ["CODE-0001"]


def test_cli_opds_and_qr(tmp_path):
    cli("init", data_dir=tmp_path)
    r = cli("opds", "--without-qr", "--format", "json", data_dir=tmp_path)
    rows = json.loads(r.stdout)
    assert len(rows) == 31 and all(x["stage"] in ("belum_terdaftar", "terdaftar") for x in rows)
    r = cli("opds", "--format", "csv", data_dir=tmp_path)
    table = list(csv.reader(io.StringIO(r.stdout)))  # text fields are quoted (spreadsheet-safe writer)
    assert table[0][:2] == ["code", "short_name"] and len(table) == 53
    assert "52 OPD" in cli("opds", data_dir=tmp_path).stdout
    r = cli("qr", "DISKOMINFO", "--format", "png", "--out", str(tmp_path / "q.png"), data_dir=tmp_path)
    assert r.returncode == 0, r.stderr
    assert [x.text for x in decode(Image.open(tmp_path / "q.png"))] == ["BKL019-DISKOMINFO"]
    assert cli("qr", "diskominfo", "--format", "svg", "--out", str(tmp_path / "q.svg"), data_dir=tmp_path).returncode == 0
    r = cli("qr", "--all", "--out", str(tmp_path / "all.zip"), data_dir=tmp_path)
    assert r.returncode == 0 and len(zipfile.ZipFile(tmp_path / "all.zip").namelist()) == 21
    r = cli("qr", "DISDIK", "--out", str(tmp_path / "x.pdf"), data_dir=tmp_path)
    assert r.returncode == 1 and "belum memiliki kode venue" in r.stderr
    r = cli("qr", "NOPE", "--out", str(tmp_path / "x.pdf"), data_dir=tmp_path)
    assert r.returncode == 1 and "tidak dikenal" in r.stderr and "Traceback" not in r.stderr
    r = cli("qr", "DISKOMINFO", "--out", str(tmp_path / "no" / "dir" / "x.pdf"), data_dir=tmp_path)
    assert r.returncode == 1 and "Traceback" not in r.stderr


def test_onboarding_page_kominfo(demo_dir, page):
    at = page("onboarding", "kominfo")
    assert not at.exception
    assert [m.label for m in at.metric][:2] == ["Belum terdaftar", "Terdaftar (QR belum dicetak)"]
    missing = at.dataframe[0].value
    n_missing = int(at.metric[0].value) + int(at.metric[1].value)
    assert len(missing) == n_missing
    message = at.code[1].value  # the group message (the first is the message to one OPD)
    assert "Surat Edaran" in message and all(name in message for name in missing["OPD"])
    # record a venue code for an OPD without one, then a printing date in the future
    from data_access.db import make_engine

    reg = q.opd_registry(engine=make_engine(f"sqlite:///{demo_dir / 'pantau.db'}"))
    codes = dict(zip(reg["name"], reg["code"]))
    target = codes[missing[missing["Tahap"] == "Belum terdaftar"]["OPD"].iloc[0]]
    at.selectbox(key="onboarding_opd").select(target).run()
    at.text_input(key="onboarding_venue").input("PL-BARU-0001")
    at.button(key="FormSubmitter:onboarding_venue_form-Simpan kode venue").click().run()
    assert not at.exception and not at.error
    assert "dicatat" in at.success[0].value
    at.text_input(key="onboarding_printed_on").input(f"{ob.today_wib() + timedelta(days=2):%d/%m/%Y}")
    at.button(key="FormSubmitter:onboarding_print_form-Tandai QR dicetak").click().run()
    assert any("masa depan" in e.value for e in at.error)
    at.text_input(key="onboarding_printed_on").input("31/02/2022")  # typed, not picked from a calendar
    at.button(key="FormSubmitter:onboarding_print_form-Tandai QR dicetak").click().run()
    assert any("Tanggal QR dicetak" in e.value and "bukan tanggal yang ada" in e.value for e in at.error)


def test_onboarding_page_read_only_for_satpolpp(demo_dir, page):
    at = page("onboarding", "satpolpp")
    assert not at.exception
    assert len(at.main.text_input) == 0 and not at.main.get("form")  # the sidebar's period form aside
    assert any("dilakukan oleh Diskominfo" in c.value for c in at.main.caption)


def test_qr_page(demo_dir, page):
    at = page("qr", "kominfo")
    assert not at.exception
    buttons = at.get("download_button")
    labels = [b.proto.label for b in buttons]
    n_venues = labels.count("Poster PDF")
    assert n_venues > 20 and labels.count("PNG") == n_venues and labels.count("SVG") == n_venues
    assert labels[0].startswith(f"Unduh poster yang tampil ({n_venues} OPD")
    assert len(at.expander) == 52 - n_venues  # OPDs without a code get the registration steps
    assert "titik koordinat" in at.markdown[-1].value or any("titik koordinat" in m.value for m in at.markdown)
    # a search that finds nothing does not claim every OPD has a venue code
    at.text_input(key="qr_search").input("zzz").run()
    assert not at.exception and not at.success
    assert any("Tidak ada OPD tanpa kode venue yang cocok" in i.value for i in at.info)


def test_qr_page_records_a_code_then_offers_downloads(demo_dir, page):
    from data_access.db import make_engine

    at = page("qr", "kominfo")
    reg = q.opd_registry(engine=make_engine(f"sqlite:///{demo_dir / 'pantau.db'}"))
    code = reg[reg["venue_code"].isna()]["code"].iloc[0]
    at.text_input(key=f"qr_venue_{code}").input("kode dengan spasi")
    at.button(key=f"FormSubmitter:qr_record_{code}-Catat kode venue").click().run()
    assert any("hanya boleh" in e.value for e in at.error)  # refused, nothing stored
    at.text_input(key=f"qr_venue_{code}").input(f"PL-{code}-2022")
    at.button(key=f"FormSubmitter:qr_record_{code}-Catat kode venue").click().run()
    assert not at.exception and "dapat diunduh" in at.success[0].value
    labels = [b.proto.label for b in at.get("download_button")]
    assert labels[0].startswith(f"Unduh poster yang tampil ({labels.count('Poster PDF')} OPD")
    assert f"`PL-{code}-2022`" in " ".join(m.value for m in at.markdown)
