"""The whole app in headless Chromium: log in through the form and use the pages."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from ui import charts
from tests.browser import app_env, browser_page, demo_server, login, skip_without_chromium, streamlit_server, wait_idle

pytestmark = pytest.mark.browser
SERVER_DIR: list[Path] = []
SHOTS = Path(os.environ.get("PANTAU_SCREENSHOTS", "/tmp/pantau-screenshots"))

skip_without_chromium()


@pytest.fixture(scope="module")
def server(demo_template, tmp_path_factory):
    d = tmp_path_factory.mktemp("browser_data")
    SERVER_DIR.append(d)
    with demo_server(demo_template, d) as url:
        yield url


@pytest.fixture
def page():
    SHOTS.mkdir(parents=True, exist_ok=True)
    with browser_page() as p:
        yield p


def test_first_run_creates_demo_database(tmp_path):
    """No DATABASE_URL and no file: the app creates the SQLite file with demo data itself."""
    with streamlit_server(app_env(tmp_path)) as url, browser_page() as p:
        p.goto(url)
        p.get_by_label("Nama pengguna").wait_for(timeout=180_000)
        assert (tmp_path / "pantau.db").exists()
        assert p.get_by_text("Basis data demo").is_visible()


def test_login_and_overview(server, page):
    page.goto(server)
    page.get_by_label("Nama pengguna").wait_for()
    page.screenshot(path=str(SHOTS / "login.png"))
    login(page, server, "pimpinan", "salah-sandi")
    assert page.get_by_text("Nama pengguna atau kata sandi salah").is_visible()
    login(page, server, "pimpinan", "demo-pimpinan")
    page.get_by_role("heading", name="Ringkasan").wait_for()
    page.get_by_text("Perlu perhatian").wait_for()
    wait_idle(page)
    assert page.get_by_text("Data demo.").is_visible()
    metrics = page.locator('[data-testid="stMetric"]')
    metrics.nth(5).wait_for()  # the page renders its elements one after another
    assert metrics.count() == 6
    labels = page.locator('[data-testid="stMetricLabel"]').all_inner_texts()
    assert "Jumlah OPD" in labels[0]
    assert page.locator('[data-testid="stMetricValue"]').first.inner_text() == "52"
    charts = page.locator(".js-plotly-plot")
    charts.nth(1).wait_for()
    assert charts.count() == 2
    assert page.locator(".js-plotly-plot .scatterlayer .trace").count() >= 2  # lines were drawn
    # pimpinan has no Kominfo admin pages in the navigation
    nav = page.locator('[data-testid="stSidebarNav"]').inner_text()
    assert "Pengguna" not in nav and "Log audit" not in nav
    page.screenshot(path=str(SHOTS / "ringkasan.png"), full_page=True)


def test_adoption_and_map(server, page):
    # a shared link to a filtered page opens that page, filters intact, right after signing in
    login(page, server + "/adopsi", "satpolpp", "demo-satpolpp")
    page.get_by_role("heading", name="Adopsi per OPD").wait_for()
    page.get_by_text("Tabel adopsi").wait_for()
    wait_idle(page)
    page.locator(".js-plotly-plot").nth(1).wait_for()
    assert page.locator(".js-plotly-plot").count() == 2
    page.screenshot(path=str(SHOTS / "adopsi.png"), full_page=True)
    page.locator('[data-testid="stSidebarNav"]').get_by_text("Peta adopsi").click()
    page.get_by_role("heading", name="Peta adopsi").wait_for()
    wait_idle(page)
    page.locator(".js-plotly-plot .choroplethlocation").first.wait_for()  # the kecamatan, drawn offline
    assert page.locator(".js-plotly-plot").count() == 1
    page.wait_for_timeout(1000)
    page.screenshot(path=str(SHOTS / "peta-kecamatan.png"))
    page.get_by_text("Per OPD", exact=True).click()
    wait_idle(page)
    page.locator(".js-plotly-plot").nth(1).wait_for()  # the regency and the town
    page.get_by_text("Tabel data peta").click()
    page.locator('[data-testid="stExpander"] [data-testid="stDataFrame"]').wait_for()
    page.screenshot(path=str(SHOTS / "peta-opd.png"))


def json_format(text: str) -> str:
    import json

    return json.loads(text)["format"]


def test_qr_download(server, page):
    import pypdfium2 as pdfium
    import zxingcpp
    from PIL import Image

    login(page, server + "/qr", "kominfo", "demo-kominfo")
    page.get_by_role("heading", name="Unduh QR Code").wait_for()
    wait_idle(page)
    page.screenshot(path=str(SHOTS / "qr.png"))
    # one OPD's row, its buttons as rendered (the rows above may still be drawing theirs: a click on
    # "the first Poster PDF button" could hit another row's)
    row = page.locator('[data-testid="stHorizontalBlock"]').filter(has_text="BKL019-DISKOMINFO").filter(
        has=page.get_by_role("button", name="Poster PDF"))
    with page.expect_download() as dl:
        row.get_by_role("button", name="Poster PDF").click()
    path = dl.value.path()
    assert dl.value.suggested_filename == "poster-qr-diskominfo.pdf"
    img = pdfium.PdfDocument(path)[0].render(scale=2).to_pil()
    texts = [r.text for r in zxingcpp.read_barcodes(img)]
    assert texts == ["BKL019-DISKOMINFO"]
    with page.expect_download() as dl:
        row.get_by_role("button", name="PNG").click()
    assert dl.value.suggested_filename == "qr-diskominfo.png"
    assert [r.text for r in zxingcpp.read_barcodes(Image.open(dl.value.path()))] == texts
    # the download is logged: who, which OPD, which format
    from data_access import auth
    from data_access.db import make_engine

    log = auth.audit_log(engine=make_engine(f"sqlite:///{SERVER_DIR[-1] / 'pantau.db'}"), actor=auth.SYSTEM)
    got = log[log["action"] == "qr_unduh"]
    assert set(got["username"]) == {"kominfo"}
    assert {json_format(a) for a in got["after"]} >= {"pdf", "png"}
    page.locator('[data-testid="stSidebarNav"]').get_by_text("Log audit").click()
    page.get_by_role("heading", name="Log audit").wait_for()
    wait_idle(page)
    page.screenshot(path=str(SHOTS / "audit.png"))


def test_refusal_page(server, page):
    login(page, server + "/penolakan", "pimpinan", "demo-pimpinan")
    page.get_by_role("heading", name="Tren penolakan").wait_for()
    page.get_by_text("Tindak lanjut vaksinasi").first.wait_for()
    wait_idle(page)
    page.locator(".js-plotly-plot").nth(5).wait_for()
    assert page.locator(".js-plotly-plot").count() == 6
    page.get_by_role("radio", name="Persentase").click()
    wait_idle(page)
    page.wait_for_timeout(500)
    assert "%" in page.locator(".js-plotly-plot").first.locator(".ytick").first.text_content()
    page.screenshot(path=str(SHOTS / "penolakan.png"))


def test_filtered_link_and_visit(server, page):
    link = server + "/monev?opd=Diskominfo&opd=RSUD+Syamrabu&periode=2022-02-01&periode=2022-02-14"
    login(page, link, "satpolpp", "demo-satpolpp")
    page.get_by_role("heading", name="Monev dan kunjungan").wait_for()
    wait_idle(page)
    page.get_by_text("2 dari 52 OPD · 1 Februari 2022 – 14 Februari 2022").wait_for()
    assert "opd=Diskominfo" in page.url and "periode=2022-02-01" in page.url
    # the filters follow to another page through the navigation
    page.locator('[data-testid="stSidebarNav"]').get_by_text("Adopsi per OPD").click()
    page.get_by_role("heading", name="Adopsi per OPD").wait_for()
    wait_idle(page)
    page.get_by_text("2 dari 52 OPD · 1 Februari 2022 – 14 Februari 2022").wait_for()
    page.locator('[data-testid="stSidebarNav"]').get_by_text("Monev dan kunjungan").click()
    page.get_by_role("heading", name="Monev dan kunjungan").wait_for()
    wait_idle(page)
    # record a visit through the form
    form = page.locator('[data-testid="stForm"]').filter(has=page.get_by_role("button", name="Simpan kunjungan")).first
    form.locator('[data-testid="stSelectbox"]').first.click()
    page.keyboard.type("Diskominfo")
    page.get_by_role("option", name="Diskominfo").first.click()
    form.get_by_role("textbox", name="Tanggal kunjungan (hh/bb/tttt)").fill("14/02/2022")
    form.get_by_label("Petugas").fill("Petugas Peramban")
    form.get_by_label("Orang masuk tanpa memindai").fill("2")
    form.get_by_label("Catatan").fill("Uji melalui peramban")
    # the two questions start unanswered and must be answered
    form.get_by_role("radiogroup", name="QR terpasang di pintu masuk utama?").get_by_text("ya", exact=True).click()
    form.get_by_role("radiogroup", name="Pemindaian ditegakkan?").get_by_text("tidak", exact=True).click()
    form.get_by_role("button", name="Simpan kunjungan").click()
    wait_idle(page)
    page.get_by_text("Kunjungan ke Diskominfo dicatat.").wait_for()
    page.screenshot(path=str(SHOTS / "monev.png"), full_page=True)
    from data_access import visits as vs
    from data_access.db import make_engine
    from datetime import date

    got = vs.list_visits(engine=make_engine(f"sqlite:///{SERVER_DIR[-1] / 'pantau.db'}"),
                         start=date(2022, 1, 1), end=date(2026, 12, 31))
    row = got[got["officer"] == "Petugas Peramban"].iloc[0]
    assert row["code"] == "DISKOMINFO" and row["unscanned_entries"] == 2 and row["recorded_by"] == "satpolpp"
    assert row["visited_on"] == date(2022, 2, 14)
    page.get_by_text("Kunjungan monev (1)").wait_for()  # listed at once, within the filtered period


def test_import_upload_and_rejects(server, page, tmp_path):
    f = tmp_path / "ekspor-pintu.csv"
    f.write_text("waktu;kode_venue;jenis_pengunjung;status;nik\n"
                 "14/02/2022 07.31;BKL019-DISKOMINFO;ASN;Hijau;3526019999000001\n"
                 "14/02/2022 07.32;BKL019-DISKOMINFO;ASN;ungu;3526019999000002\n", encoding="utf-8")
    login(page, server + "/impor", "kominfo", "demo-kominfo")
    page.get_by_role("heading", name="Impor data check-in").wait_for()
    wait_idle(page)
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(f))
    page.get_by_text("ekspor-pintu.csv").first.wait_for()
    wait_idle(page)
    page.get_by_role("button", name="Impor", exact=True).click()
    page.get_by_text("1 dimuat · 1 ditolak · 0 duplikat").wait_for()
    page.screenshot(path=str(SHOTS / "impor.png"), full_page=True)
    with page.expect_download() as dl:
        page.get_by_role("button", name="Unduh baris ditolak (1) dari ekspor-pintu.csv").click()
    text = open(dl.value.path(), encoding="utf-8-sig").read()
    import csv
    import io

    rows = list(csv.reader(io.StringIO(text), delimiter=";"))  # the uploaded file's own delimiter
    assert rows[0][:2] == ["baris", "alasan"] and rows[1][:2] == ["3", "status tidak dikenal"]
    assert "3526019999000002" not in text


def test_import_mapping_step(server, page, tmp_path):
    """A door-scanner log whose headers are not ours: the mapping step opens, the columns are
    chosen in its select boxes, the preview appears, "Periksa saja" stores nothing, the import
    stores the rows, and the mapping is saved as a profile for the next file."""
    f = tmp_path / "pemindai-pintu.csv"
    f.write_text("Jam Masuk;Tempat Check-in;Warna;No KTP\n"
                 "15/02/2022 07.41;BKL019-DISKOMINFO;Hijau;3526019999000011\n"
                 "15/02/2022 07.42;BKL019-DISKOMINFO;ungu;3526019999000012\n", encoding="utf-8")
    login(page, server + "/impor", "kominfo", "demo-kominfo")
    page.get_by_role("heading", name="Impor data check-in").wait_for()
    wait_idle(page)
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(f))
    page.get_by_text("Kolom wajib belum dipetakan").wait_for()
    assert page.get_by_role("button", name="Impor", exact=True).is_disabled()
    for field, column in (("waktu", "Jam Masuk"), ("venue", "Tempat Check-in")):
        page.locator(f'[class*="_map_{field}"] [data-testid="stSelectbox"]').click()
        page.get_by_role("option", name=column, exact=True).click()
        wait_idle(page)
    page.get_by_text("Pratinjau 20 baris pertama").wait_for()
    assert page.get_by_text("Kolom wajib belum dipetakan").count() == 0
    page.screenshot(path=str(SHOTS / "impor-pemetaan.png"), full_page=True)
    page.get_by_role("button", name="Periksa saja").click()
    page.get_by_text("Periksa saja, tidak ada yang disimpan").wait_for()
    page.get_by_role("button", name="Impor", exact=True).click()
    page.get_by_text("2 baris · 1 dimuat · 1 ditolak · 0 duplikat").wait_for()
    page.get_by_label("Simpan pemetaan ini sebagai profil impor").fill("Pemindai pintu")
    page.get_by_label("Simpan pemetaan ini sebagai profil impor").press("Enter")
    wait_idle(page)
    page.get_by_role("button", name="Simpan profil").click()
    page.get_by_text("disimpan; berkas dengan judul kolom yang sama").wait_for()


def test_addresses_outside_the_menu_answer_in_indonesian(server, page):
    """A page of another role, and the overview's own name, instead of Streamlit's English
    'Page not found'."""
    login(page, server + "/impor", "pimpinan", "demo-pimpinan")
    page.get_by_role("heading", name="Impor data check-in").wait_for()
    page.get_by_text("hanya untuk Diskominfo").wait_for()
    assert page.get_by_text("Page not found").count() == 0
    assert page.get_by_role("link", name="Buka Ringkasan").is_visible()
    page.goto(server + "/ringkasan?periode=2022-02-01&periode=2022-02-14")
    page.get_by_role("heading", name="Ringkasan").wait_for()
    wait_idle(page)
    page.get_by_text("Semua OPD · 1–14 Februari 2022").first.wait_for()  # the link's filters kept
    assert page.get_by_text("Page not found").count() == 0


def test_chart_toolbar_speaks_indonesian(server, page):
    """plotly's toolbar tooltips come from the locale passed with every chart (ui.charts.PLOT_CONFIG);
    Streamlit's own 'Fullscreen' button is the one left in English (listed in the README)."""
    login(page, server, "pimpinan", "demo-pimpinan")
    page.get_by_role("heading", name="Ringkasan").wait_for()
    buttons = page.locator(".js-plotly-plot .modebar-btn")
    buttons.first.wait_for(state="attached")
    wait_idle(page)
    titles = set(buttons.evaluate_all("els => els.map(e => e.getAttribute('data-title'))"))
    assert {"Unduh grafik sebagai PNG", "Perbesar", "Perkecil", "Skala otomatis"} <= titles, titles
    assert titles - {"Fullscreen"} <= set(charts.PLOT_LOCALE["dictionary"].values()), titles
