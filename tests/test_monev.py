"""Satpol PP: filters from the address, visits (record, correct, audit), compliance, the PDF report."""
from __future__ import annotations

from datetime import date, timedelta

import pypdfium2 as pdfium
import pytest

from data_access import auth
from data_access import queries as q
from data_access import visits as vs
from data_access.calendar import now_utc
from data_access.db import make_engine
from data_access.onboarding import today_wib
from data_access.report import monev_report
from tests.helpers import load_small, opd_id
from ui.nav import PAGES

SATPOL = auth.Actor("satpolpp", "satpolpp")
KOMINFO = auth.Actor("kominfo", "kominfo")
JAN10, JAN15 = date(2022, 1, 10), date(2022, 1, 15)


def good(**kw) -> vs.VisitInput:
    base = dict(opd_code="DISKOMINFO", visited_on=date(2022, 1, 12), officer="Abd. Halim", qr_posted=True,
                scanning_enforced=False, unscanned_entries=3, notes="Penjaga tidak memeriksa.")
    return vs.VisitInput(**{**base, **kw})


def test_visit_record_correct_and_stage(engine):
    load_small(engine)
    vid = vs.add_visit(engine=engine, actor=SATPOL, visit=good())
    ov = q.opd_overview(engine=engine, start=JAN10, end=JAN15).set_index("code")
    assert ov.loc["DISKOMINFO", "stage"] == "terverifikasi"
    assert ov.loc["DINKES", "stage"] == "aktif"
    lst = vs.list_visits(engine=engine, start=JAN10, end=JAN15)
    assert lst[["code", "officer", "qr_posted", "scanning_enforced", "unscanned_entries"]].values.tolist() == [
        ["DISKOMINFO", "Abd. Halim", True, False, 3]]
    vs.update_visit(engine=engine, actor=SATPOL, visit_id=vid, visit=good(qr_posted=False, unscanned_entries=5))
    ov = q.opd_overview(engine=engine, start=JAN10, end=JAN15).set_index("code")
    assert ov.loc["DISKOMINFO", "stage"] == "aktif"  # the corrected visit did not find the QR
    log = auth.audit_log(engine=engine, actor=KOMINFO)
    fix = log[log["action"] == "kunjungan_koreksi"].iloc[0]
    assert '"qr_posted": true' in fix["before"] and '"qr_posted": false' in fix["after"]
    assert '"unscanned_entries": 5' in fix["after"]
    comp = vs.compliance(engine=engine, start=JAN10, end=JAN15, opd_ids=[opd_id(engine, "DISKOMINFO"),
                                                                          opd_id(engine, "DINKES"),
                                                                          opd_id(engine, "DISDIK")])
    assert list(comp["code"]) == ["DISDIK", "DISKOMINFO", "DINKES"]  # no QR, then a bad visit, then the rest
    row = comp.set_index("code").loc["DINKES"]
    assert row["checkins_per_workday"] == pytest.approx(3 / 5)
    assert row["days_since"] == 5


@pytest.mark.parametrize("change, message", [
    (dict(opd_code=None), "Pilih OPD"), (dict(opd_code="NOPE"), "tidak dikenal"),
    (dict(visited_on=None), "wajib"), (dict(officer="  "), "Nama petugas"),
    (dict(unscanned_entries=-1), "negatif"), (dict(unscanned_entries=1.5), "pecahan"),
    (dict(visited_on=date(2021, 12, 31)), "sebelum Surat Edaran"),
])
def test_bad_visits(engine, change, message):
    with pytest.raises(vs.VisitError, match=message):
        vs.add_visit(engine=engine, actor=SATPOL, visit=good(**change))
    assert vs.list_visits(engine=engine, start=date(2021, 1, 1), end=date(2030, 1, 1)).empty


def test_visit_in_future_and_roles(engine):
    with pytest.raises(vs.VisitError, match="masa depan"):
        vs.add_visit(engine=engine, actor=SATPOL, visit=good(visited_on=today_wib() + timedelta(days=1)))
    with pytest.raises(auth.PermissionDenied):
        vs.add_visit(engine=engine, actor=auth.Actor("p", "pimpinan"), visit=good())
    with pytest.raises(vs.VisitError, match="tidak ditemukan"):
        vs.update_visit(engine=engine, actor=SATPOL, visit_id=999, visit=good())


def test_report_content(engine):
    load_small(engine)
    vs.add_visit(engine=engine, actor=SATPOL, visit=good())
    ids = [opd_id(engine, "DISKOMINFO"), opd_id(engine, "DINKES")]
    pdf = monev_report(compliance=vs.compliance(engine=engine, start=JAN10, end=JAN15, opd_ids=ids),
                       visits=vs.list_visits(engine=engine, start=JAN10, end=JAN15, opd_ids=ids),
                       start=JAN10, end=JAN15, filter_labels=["OPD: Diskominfo, Dinas Kesehatan"],
                       generated_by="satpolpp", generated_at=now_utc())
    doc = pdfium.PdfDocument(pdf)
    text = " ".join(doc[i].get_textpage().get_text_range() for i in range(len(doc))).replace("\r\n", " ")
    doc.close()
    for needle in ("Laporan Monev Penerapan PeduliLindungi", "10 Januari 2022 - 15 Januari 2022",
                   "OPD: Diskominfo, Dinas Kesehatan", "Kepatuhan per OPD (2 OPD", "Kunjungan monev (1)",
                   "Abd. Halim", "Penjaga tidak memeriksa.", "Dinas Kesehatan", "15,0%", "20,0%", "WIB"):
        assert needle in text, needle


@pytest.mark.parametrize("pdef", [p for p in PAGES if p.key not in ("pengguna", "audit", "akun", "impor")], ids=lambda p: p.key)
def test_filters_from_address_on_every_page(demo_dir, page, pdef):
    at = page(pdef.key, "kominfo", query={"opd": ["Diskominfo", "RSUD Syamrabu"],
                                           "periode": ["2022-02-01", "2022-02-10"]})
    assert not at.exception and not at.warning
    assert at.sidebar.caption[-1].value == "2 dari 52 OPD · 1 Februari 2022 – 10 Februari 2022"
    bad = page(pdef.key, "kominfo", query={"opd": "Dinas Fiktif", "periode": ["2022-03-01", "2022-02-01"]})
    assert not bad.exception
    text = bad.warning[0].value
    assert "Dinas Fiktif" in text and "terbalik" in text
    assert bad.sidebar.caption[-1].value.startswith("52 dari 52 OPD · 7 Januari 2022")


def visit_table(at):
    """The list of visits on the monev page (the table with a 'Petugas' column)."""
    return next(d.value for d in at.dataframe if "Petugas" in d.value.columns)


def test_visit_form_and_correction(demo_dir, page):
    at = page("monev", "satpolpp")
    assert not at.exception
    n_before = len(visit_table(at))
    # the yes/no questions start unanswered; the officer is the signed-in user; the date is today (WIB)
    assert at.radio(key="monev_new_posted").value is None and at.radio(key="monev_new_enforced").value is None
    assert at.text_input(key="monev_new_officer").value == "satpolpp"
    assert at.text_input(key="monev_new_date").value == f"{today_wib():%d/%m/%Y}"
    assert not at.date_input  # no calendar: Streamlit's speaks English
    at.selectbox(key="monev_new_opd").select("DISDIK")
    at.text_input(key="monev_new_date").input("14 Februari 2022")
    at.text_input(key="monev_new_officer").input("   ")
    at.radio(key="monev_new_posted").set_value("tidak")
    at.number_input(key="monev_new_unscanned").set_value(4)  # the form itself refuses a negative count
    at.button(key="FormSubmitter:monev_new-Simpan kunjungan").click().run()
    assert any("Nama petugas wajib diisi" in e.value for e in at.error)
    at.text_input(key="monev_new_officer").input("Petugas Uji Coba")
    at.button(key="FormSubmitter:monev_new-Simpan kunjungan").click().run()
    assert any("Jawab dulu" in e.value and "pemindaian" in e.value for e in at.error)  # one answer still missing
    assert len(visit_table(at)) == n_before
    at.radio(key="monev_new_enforced").set_value("ya")
    at.button(key="FormSubmitter:monev_new-Simpan kunjungan").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert "dicatat" in at.success[0].value
    fresh = at.radio(key="monev_new1_posted")  # a fresh form for the next visit
    assert fresh.value is None and at.text_input(key="monev_new1_officer").value == "satpolpp"
    visits = visit_table(at)
    assert len(visits) == n_before + 1
    new = visits[visits["Petugas"] == "Petugas Uji Coba"].iloc[0]
    assert new["OPD"] == "Dinas Pendidikan" and new["QR terpasang"] == "tidak" and new["Masuk tanpa scan"] == 4
    assert new["Scan ditegakkan"] == "ya" and new["Hasil foto QR"] == "–"
    # correct it
    vid = int(new["No."])
    at.selectbox(key="monev_fix_id").select(vid).run()
    assert at.radio(key=f"monev_fix_{vid}_posted").value == "tidak"  # a correction starts from the record
    at.number_input(key=f"monev_fix_{vid}_unscanned").set_value(6)
    at.button(key=f"FormSubmitter:monev_fix_{vid}-Simpan koreksi").click().run()
    assert not at.exception and "dikoreksi" in at.success[0].value
    visits = visit_table(at)
    assert visits.set_index("No.").loc[vid, "Masuk tanpa scan"] == 6
    labels = [b.proto.label for b in at.get("download_button")]
    assert "Unduh laporan PDF (kepatuhan + kunjungan)" in labels


def test_visit_date_is_typed_and_a_bad_one_is_refused_in_words(demo_dir, page):
    at = page("monev", "satpolpp")
    n_before = len(visit_table(at))
    at.selectbox(key="monev_new_opd").select("DISDIK")
    at.radio(key="monev_new_posted").set_value("ya")
    at.radio(key="monev_new_enforced").set_value("ya")
    tomorrow = today_wib() + timedelta(days=1)
    for typed, reason in (("31/02/2022", "bukan tanggal yang ada"), ("kemarin lusa", "tidak dikenali"),
                          (f"{tomorrow:%d/%m/%Y}", "masa depan"), ("04/01/2022", "sebelum Surat Edaran"),
                          ("", "tanggal kosong")):
        at.text_input(key="monev_new_date").input(typed)
        at.button(key="FormSubmitter:monev_new-Simpan kunjungan").click().run()
        assert not at.exception and any(reason in e.value for e in at.error), (typed, [e.value for e in at.error])
        assert len(visit_table(at)) == n_before
        assert at.radio(key="monev_new_posted").value == "ya"  # what was answered stays
    at.text_input(key="monev_new_date").input("5-1-2022")
    at.button(key="FormSubmitter:monev_new-Simpan kunjungan").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    got = vs.list_visits(engine=make_engine(f"sqlite:///{demo_dir / 'pantau.db'}"), start=date(2022, 1, 5), end=date(2022, 1, 5))
    assert list(got["code"]) == ["DISDIK"]


def test_monev_read_only_for_pimpinan(demo_dir, page):
    at = page("monev", "pimpinan")
    assert not at.exception
    assert not at.tabs and len(at.main.text_input) == 0 and len(at.main.file_uploader) == 0  # no visit form
    assert len(at.dataframe) == 2
