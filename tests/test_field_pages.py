"""Issue 16 on the pages (AppTest): the visit form's defaults and its photos, the saved visit shown
at once (or the period that lists it), photo findings on Monev, Ringkasan and in the PDF report,
display names, and the session that a reload resumes and the server ends."""
from __future__ import annotations

import time
from datetime import date, timedelta
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from sqlalchemy import func, select
from streamlit.testing.v1 import AppTest

from data_access import auth, sessions
from data_access import visits as vs
from data_access.calendar import now_utc
from data_access.db import make_engine
from data_access.models import AppSession, Opd
from data_access.onboarding import today_wib
from data_access.report import monev_report
from tests.photo_fixtures import blank_photo, poster_photo

ROOT = Path(__file__).resolve().parent.parent
SATPOL = auth.Actor("satpolpp", "satpolpp")
OWN, OTHER, BLANK = "pintu.jpg", "poster-lain.jpg", "kosong.jpg"


@pytest.fixture
def eng(demo_dir):
    e = make_engine(f"sqlite:///{demo_dir / 'pantau.db'}")
    yield e
    e.dispose()


def venue(eng, code: str) -> str:
    with eng.connect() as conn:
        return conn.execute(select(Opd.venue_code).where(Opd.code == code)).scalar_one()


def three_photos(eng) -> list[tuple[str, bytes, str]]:
    return [(OWN, poster_photo(venue(eng, "DISKOMINFO"), "Diskominfo"), "image/jpeg"),
            (OTHER, poster_photo(venue(eng, "DINKES"), "Dinas Kesehatan", angle=-8, seed=2), "image/jpeg"),
            (BLANK, blank_photo(), "image/jpeg")]


def visit_table(at):
    return next(d.value for d in at.dataframe if "Petugas" in d.value.columns)


def today_period() -> dict:
    t = today_wib().isoformat()
    return {"periode": [t, t]}


def answer(at, form: str, posted: str = "ya", enforced: str = "ya") -> None:
    at.radio(key=f"{form}_posted").set_value(posted)
    at.radio(key=f"{form}_enforced").set_value(enforced)


def plain(text: str) -> str:
    """Markdown-escaped text as read: no backslashes, no word joiners."""
    return text.replace("\\", "").replace("\u2060", "")


# ---------------------------------------------------------------- the visit form
def test_form_defaults_and_a_visit_with_photos(eng, page):
    at = page("monev", "satpolpp", query={"opd": "Diskominfo", **today_period()})
    assert not at.exception
    assert at.selectbox(key="monev_new_opd").value == "DISKOMINFO"  # the filter names exactly one OPD
    assert at.text_input(key="monev_new_officer").value == "satpolpp"
    assert at.text_input(key="monev_new_date").value == f"{today_wib():%d/%m/%Y}"
    assert at.radio(key="monev_new_posted").index is None
    uploader = at.file_uploader(key="monev_new_photos")
    assert uploader.accept_multiple_files and set(uploader.allowed_type) >= {".jpg", ".png"}
    uploader.set_value(three_photos(eng))
    answer(at, "monev_new", "ya", "tidak")
    at.button(key="FormSubmitter:monev_new-Simpan kunjungan").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert plain(at.success[0].value) == "Kunjungan ke Diskominfo dicatat dengan 3 foto."
    # shown at once: the saved card under the form, with each photo's result
    card = [plain(m.value) for m in at.markdown if "Tersimpan: kunjungan" in m.value]
    assert card and "tercantum di daftar di bawah" in card[0]
    results = ["Sesuai", "Kode OPD lain: Dinas Kesehatan", "QR tidak terbaca"]
    captions = [plain(i.caption) for el in at.image for i in el.proto.imgs]
    assert captions[:3] == results
    row = visit_table(at).iloc[0]
    assert row["OPD"] == "Diskominfo" and row["Foto"] == 3 and plain(row["Hasil foto QR"]) == "; ".join(results)
    assert not at.warning  # dated today, inside today's period: no notice
    # a fresh form for the next visit: unanswered again, no photos
    assert at.radio(key="monev_new1_posted").value is None and not at.file_uploader(key="monev_new1_photos").value


def test_a_bad_photo_refuses_the_visit_with_its_reason(eng, page):
    at = page("monev", "satpolpp", query=today_period())
    at.selectbox(key="monev_new_opd").select("DINKES")
    answer(at, "monev_new")
    at.file_uploader(key="monev_new_photos").set_value([("rusak.jpg", b"bukan gambar", "image/jpeg")])
    at.button(key="FormSubmitter:monev_new-Simpan kunjungan").click().run()
    assert not at.exception
    assert any("rusak.jpg" in plain(e.value) and "bukan gambar" in plain(e.value) for e in at.error)
    assert vs.list_visits(engine=eng, start=today_wib(), end=today_wib()).empty


def test_camera_photo(eng, page):
    at = page("monev", "satpolpp", query=today_period())
    at.toggle(key="monev_camera").set_value(True).run()
    at.selectbox(key="monev_new_opd").select("DISKOMINFO")
    answer(at, "monev_new")
    at.camera_input(key="monev_new_camera").set_value(("kamera.jpg", three_photos(eng)[0][1], "image/jpeg"))
    at.button(key="FormSubmitter:monev_new-Simpan kunjungan").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert visit_table(at).iloc[0]["Hasil foto QR"] == "Sesuai"


def test_a_visit_outside_the_period_says_where_it_is(eng, page):
    """The demo's check-ins end in 2022, the default period with them: a visit dated today is
    saved, said to lie outside, and linked to the period that lists it."""
    at = page("monev", "satpolpp")
    n_before = len(visit_table(at))
    at.selectbox(key="monev_new_opd").select("DINKES")
    answer(at, "monev_new")
    at.button(key="FormSubmitter:monev_new-Simpan kunjungan").click().run()
    assert not at.exception and not at.error
    assert len(visit_table(at)) == n_before
    note = plain(at.warning[0].value)
    assert "tidak tercantum di daftar" in note
    today = today_wib()
    first = today.replace(day=1)
    show = next(b for b in at.button if b.label.startswith("Tampilkan "))
    show.click().run()  # that period lists it, and the address says so (a reload keeps the view)
    assert not at.exception
    assert at.query_params["periode"] == [first.isoformat(), today.isoformat()]
    table = visit_table(at)
    assert (table["OPD"] == "Dinas Kesehatan").any() and table["Tanggal"].dt.date.eq(today).any()


def test_a_visit_outside_the_opd_filter_links_to_every_opd(eng, page):
    at = page("monev", "satpolpp", query={"opd": "Diskominfo", **today_period()})
    at.selectbox(key="monev_new_opd").select("DINKES")
    answer(at, "monev_new")
    at.button(key="FormSubmitter:monev_new-Simpan kunjungan").click().run()
    assert "filter OPD" in plain(at.warning[0].value) and "untuk semua OPD" in plain(at.warning[0].value)
    show = next(b for b in at.button if b.label.startswith("Tampilkan "))
    assert show.label.endswith(", semua OPD")
    show.click().run()  # the OPD filter goes with the click: the visit is listed
    assert not at.exception and "opd" not in at.query_params
    table = visit_table(at)
    assert (table["OPD"] == "Dinas Kesehatan").any()


def test_correction_tab_adds_photos(eng, page):
    day = date(2022, 2, 14)
    vid = vs.add_visit(engine=eng, actor=SATPOL, visit=vs.VisitInput("DISKOMINFO", day, "Budi", True, True, 0, ""))
    at = page("monev", "satpolpp")
    at.selectbox(key="monev_fix_id").select(vid).run()
    at.file_uploader(key=f"monev_addphoto_{vid}_0_files").set_value([three_photos(eng)[0]])
    at.button(key=f"FormSubmitter:monev_addphoto_{vid}_0-Tambah foto").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert "1 foto ditambahkan" in plain(at.success[0].value)
    assert visit_table(at).set_index("No.").loc[vid, "Hasil foto QR"] == "Sesuai"
    assert list(vs.visit_photos(engine=eng, visit_ids=[vid])["qr_result"]) == ["sesuai"]


# ---------------------------------------------------------------- photo findings elsewhere
@pytest.fixture
def findings(eng):
    """Diskominfo's latest visit: a photo of its own poster; Dinas Kesehatan's: another OPD's poster;
    Bappeda's: a blank picture. All on the demo's last day."""
    from data_access.queries import data_range

    last = data_range(engine=eng)[1]
    diskominfo_poster = poster_photo(venue(eng, "DISKOMINFO"), "Diskominfo")
    photos = {"DISKOMINFO": [(OWN, diskominfo_poster)], "DINKES": [(OTHER, diskominfo_poster)],
              "BAPPEDA": [(BLANK, blank_photo())]}
    for code, shots in photos.items():
        vs.add_visit(engine=eng, actor=SATPOL, visit=vs.VisitInput(code, last, "Budi", True, True, 0, ""), photos=shots)
    return last


def test_monev_compliance_and_ringkasan_show_photo_findings(findings, page):
    at = page("monev", "pimpinan")
    assert not at.exception
    comp = next(d.value for d in at.dataframe if "Foto QR" in d.value.columns).set_index("OPD")
    assert comp.loc["Diskominfo", "Tahap"] == "Terverifikasi (foto)"
    assert comp.loc["Diskominfo", "Foto QR"] == "Sesuai"
    assert plain(comp.loc["Dinas Kesehatan", "Foto QR"]) == "Kode OPD lain: Diskominfo"
    assert comp.loc["Dinas Kesehatan", "Tahap"] == "Terverifikasi"
    assert comp.loc["Bappeda", "Foto QR"] == "QR tidak terbaca"
    at = page("ringkasan", "pimpinan")
    assert not at.exception
    title = next(m.value for m in at.markdown if m.value.startswith("**Foto QR kunjungan terakhir bermasalah**"))
    assert title.endswith("(2 OPD)")
    bad = next(d.value for d in at.dataframe if "Hasil foto" in d.value.columns).set_index("OPD")
    assert set(bad.index) == {"Dinas Kesehatan", "Bappeda"}
    assert plain(bad.loc["Dinas Kesehatan", "Hasil foto"]) == "Kode OPD lain: Diskominfo"


def test_report_has_the_photos_and_their_results(eng, findings):
    start = findings.replace(day=1)
    visits = vs.list_visits(engine=eng, start=start, end=findings)
    photos = vs.visit_photos(engine=eng, visit_ids=visits["id"])
    pdf = monev_report(compliance=vs.compliance(engine=eng, start=start, end=findings), visits=visits, start=start,
                       end=findings, filter_labels=[], generated_by="satpolpp", generated_at=now_utc(),
                       photos=photos)
    doc = pdfium.PdfDocument(pdf)
    try:
        text = " ".join(doc[i].get_textpage().get_text_range() for i in range(len(doc)))
        images = sum(1 for i in range(len(doc)) for o in doc[i].get_objects() if o.type == pdfium.raw.FPDF_PAGEOBJ_IMAGE)
    finally:
        doc.close()
    text = " ".join(text.split())
    assert images == len(photos) == 3
    for needle in ("Foto kunjungan (3 foto)", "Sesuai", "Kode OPD lain: Diskominfo", "QR tidak terbaca",
                   "Terverifikasi (foto)", "Foto QR"):
        assert needle in text, needle


# ---------------------------------------------------------------- display names
def test_display_names(eng, page):
    at = page("akun", "satpolpp")
    at.text_input(key="akun_display_name").input("Abd. Halim (Satpol PP)")
    at.button(key="FormSubmitter:akun_name-Simpan nama").click().run()
    assert not at.exception and "disimpan" in plain(at.success[0].value)
    at = page("monev", "satpolpp")
    assert at.text_input(key="monev_new_officer").value == "Abd. Halim (Satpol PP)"
    at = page("pengguna", "kominfo")
    at.text_input(key="pengguna_add_name").input("dewi")
    at.selectbox(key="pengguna_add_role").select("satpolpp")
    at.text_input(key="pengguna_add_display").input("Dewi Lestari")
    at.text_input(key="pengguna_add_pw").input("rahasia-dewi-1")
    at.button(key="FormSubmitter:pengguna_add-Tambah").click().run()
    assert not at.exception and not at.error
    users = at.dataframe[0].value.set_index("Nama pengguna")
    assert users.loc["dewi", "Nama tampilan"] == "Dewi Lestari"
    at.selectbox(key="pengguna_target").select("satpolpp").run()
    at.text_input(key="pengguna_name_satpolpp").input("Petugas Monev")
    at.button(key="FormSubmitter:pengguna_name-Simpan nama tampilan").click().run()
    assert not at.exception and not at.error
    assert auth.display_name_of(engine=eng, username="satpolpp") == "Petugas Monev"


# ---------------------------------------------------------------- staying signed in
def app() -> AppTest:
    return AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=60)


def sign_in(username: str, password: str) -> AppTest:
    at = app().run()
    at.text_input(key="login_username").input(username)
    at.text_input(key="login_password").input(password)
    at.button[0].click()
    return at.run()


def reloaded(monkeypatch, token: str | None) -> AppTest:
    """A new browser session (a reload, a new tab) that sends this cookie."""
    import ui.session

    monkeypatch.setattr(ui.session, "_sent_cookie", lambda: token)
    return app().run()


def cookie_scripts(at) -> list[str]:
    return [h.proto.body for h in at.get("html") if sessions.COOKIE in h.proto.body]


def test_sign_in_sets_a_session_cookie_and_a_reload_resumes_it(eng, monkeypatch):
    at = sign_in("satpolpp", "demo-satpolpp")
    assert at.title[0].value == "Ringkasan"
    token = at.session_state["auth"]["token"]
    scripts = cookie_scripts(at)
    assert len(scripts) == 1 and token in scripts[0]
    for part in (f'"{sessions.COOKIE}"', "Path=/", f"Max-Age={sessions.MAX_AGE_S}", "SameSite=Strict",
                 "location.protocol==='https:'", "Secure"):
        assert part in scripts[0], part
    assert "demo-satpolpp" not in scripts[0]  # the token only, never the password
    again = reloaded(monkeypatch, token)
    assert not again.exception and again.title[0].value == "Ringkasan"
    assert again.session_state["auth"]["username"] == "satpolpp"
    for forged in (token[:-3] + "AAA", "rubbish"):  # the login form
        assert [t.label for t in reloaded(monkeypatch, forged).text_input] == ["Nama pengguna", "Kata sandi"]


def test_logout_ends_the_session_and_clears_the_cookie(eng, monkeypatch):
    at = sign_in("kominfo", "demo-kominfo")
    token = at.session_state["auth"]["token"]
    at.button(key="logout_button").click().run()
    assert "auth" not in at.session_state and any("keluar" in w.value for w in at.warning)
    with eng.connect() as conn:
        assert conn.execute(select(func.count()).select_from(AppSession)).scalar_one() == 0
    again = reloaded(monkeypatch, token)  # the browser still sends the old cookie: refused, and cleared
    assert [t.label for t in again.text_input] == ["Nama pengguna", "Kata sandi"]
    assert any("Max-Age=0" in s for s in cookie_scripts(again))


def test_a_disabled_account_is_signed_out_on_its_next_run(eng, monkeypatch):
    at = sign_in("satpolpp", "demo-satpolpp")
    token = at.session_state["auth"]["token"]
    auth.set_active(engine=eng, actor=auth.SYSTEM, username="satpolpp", active=False)
    at.run()  # the tab that is already open
    assert not at.exception
    assert "auth" not in at.session_state and len(at.metric) == 0
    assert any("berakhir" in w.value for w in at.warning)
    assert [t.label for t in reloaded(monkeypatch, token).text_input] == ["Nama pengguna", "Kata sandi"]


def test_own_password_change_keeps_this_browser_and_ends_the_others(eng, monkeypatch):
    at = sign_in("satpolpp", "demo-satpolpp")
    other = at.session_state["auth"]["token"]  # say, the same account on a second phone
    at.switch_page("pages/akun.py").run()
    at.text_input(key="akun_old").input("demo-satpolpp")
    at.text_input(key="akun_new").input("sandi-baru-123")
    at.text_input(key="akun_again").input("sandi-baru-123")
    at.button(key="FormSubmitter:akun_password-Simpan kata sandi").click().run()
    assert at.success and not at.error
    mine = at.session_state["auth"]["token"]
    assert mine != other
    assert sessions.resume(engine=eng, token=mine) == "satpolpp"
    assert sessions.resume(engine=eng, token=other) is None
    at.run()
    assert at.title[0].value == "Akun saya"  # still signed in here


def test_idle_sessions_end_after_30_minutes(eng, monkeypatch):
    token = sessions.create(engine=eng, username="pimpinan",
                            now=now_utc() - timedelta(minutes=31))
    assert [t.label for t in reloaded(monkeypatch, token).text_input] == ["Nama pengguna", "Kata sandi"]
    at = app()
    at.session_state["auth"] = {"username": "pimpinan", "role": "pimpinan", "seen": time.time(), "sso": False,
                                "token": token}
    at.run()
    assert any("30 menit" in w.value for w in at.warning)
