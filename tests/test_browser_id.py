"""Issue 19 in a real browser: the first start shows no page list before sign-in, a quick period
applies with one click (and the next click is not swallowed), the filter summary opens the
filters on a phone, the wa.me link carries the message shown, and no request leaves the machine."""
from __future__ import annotations

import os
import time
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

from tests.browser import app_env, browser_page, demo_server, login, skip_without_chromium, streamlit_server, wait_idle

pytestmark = pytest.mark.browser
SHOTS = Path(os.environ.get("PANTAU_SCREENSHOTS", "/tmp/pantau-screenshots")) / "id"
SERVER_DIR: list[Path] = []
# the map's optional online base layer is the one thing allowed to come from elsewhere
TILE_HOSTS = ("tile", "openstreetmap", "carto", "mapbox", "arcgis")

skip_without_chromium()


@pytest.fixture(scope="module")
def server(demo_template, tmp_path_factory):
    d = tmp_path_factory.mktemp("browser_id_data")
    SERVER_DIR.append(d)
    with demo_server(demo_template, d) as url:
        yield url


@pytest.fixture
def page():
    SHOTS.mkdir(parents=True, exist_ok=True)
    with browser_page() as p:
        yield p


def sidebar_caption(page) -> str:
    return page.locator('[data-testid="stSidebar"] [data-testid="stCaptionContainer"]').last.inner_text()


def summary(page) -> str:
    return page.locator("button.pantau-filter-summary .pantau-filter-text").inner_text()


@pytest.mark.parametrize("path", ["", "/onboarding?periode=2022-02-01&periode=2022-02-10"])
def test_first_start_shows_no_page_list_before_sign_in(tmp_path, path):
    """A fresh machine: the demo data is written on the first start (about 10 s). All that time and
    on the login form, the sidebar lists no pages; after signing in, the role's pages."""
    with streamlit_server(app_env(tmp_path)) as url, browser_page() as p:
        start = time.time()
        p.goto(url + path)
        seen = []
        while not p.get_by_label("Nama pengguna").count():
            assert time.time() - start < 180, "no login form after 3 minutes"
            if p.locator('[data-testid="stSidebarNav"]').count():
                seen.append(p.locator('[data-testid="stSidebarNav"]').inner_text())
            p.wait_for_timeout(100)
        waited = time.time() - start
        wait_idle(p)
        assert not seen, seen
        assert not p.locator('[data-testid="stSidebarNav"]').count()
        assert p.get_by_text("Basis data demo").is_visible()
        p.screenshot(path=str(SHOTS / f"first-start-login{path.split('?')[0].replace('/', '-')}.png"))
        login(p, url + path, "kominfo", "demo-kominfo")
        nav = p.locator('[data-testid="stSidebarNav"]')
        nav.wait_for()
        # the role's pages by their titles (an icon's ligature leads each text), no raw file names
        titles = {t.strip().splitlines()[-1].strip() for t in nav.locator("a").all_inner_texts()}
        assert {"Ringkasan", "Adopsi per OPD", "Log audit", "Akun saya"} <= titles
        assert not titles & {"dashboard", "adopsi", "akun", "audit", "impor", "monev", "pengguna", "qr"}
        if path:
            p.get_by_role("heading", name="Onboarding OPD").wait_for()
            assert "1–10 Februari 2022" in summary(p)
    print(f"first start: login form after {waited:.1f} s")


def test_quick_period_applies_with_one_click(server, page):
    login(page, server + "/adopsi?periode=2022-02-01&periode=2022-02-10", "pimpinan", "demo-pimpinan")
    page.get_by_role("heading", name="Adopsi per OPD").wait_for()
    wait_idle(page)
    assert summary(page) == "Semua OPD · 1–10 Februari 2022"
    pills = page.locator('[data-testid="stSidebar"]')
    pills.get_by_role("radio", name="Seluruh data").click()  # one click, no calendar to close
    wait_idle(page)
    page.get_by_text("52 dari 52 OPD · 7 Januari 2022 – 18 Februari 2022").wait_for()
    assert summary(page) == "Semua OPD · 7 Januari – 18 Februari 2022"
    assert "periode=" not in page.url
    # two clicks in a row: the second is not swallowed
    pills.get_by_role("radio", name="30 hari terakhir").click()
    pills.get_by_role("radio", name="Sejak Surat Edaran").click()
    wait_idle(page)
    page.wait_for_function("() => document.querySelector('button.pantau-filter-summary')"
                           "?.innerText.includes('5 Januari 2022 – ')")
    assert "periode=2022-01-05" in page.url
    # a typed range, applied with one click
    pills.get_by_label("Dari tanggal").fill("1/2/2022")
    pills.get_by_label("Sampai tanggal").fill("14/02/2022")
    pills.get_by_role("button", name="Terapkan").click()
    wait_idle(page)
    page.wait_for_function("() => document.querySelector('button.pantau-filter-summary')"
                           "?.innerText.includes('1–14 Februari 2022')")
    page.screenshot(path=str(SHOTS / "adopsi-period-1400.png"))


def test_summary_opens_the_filters_on_a_phone(server):
    with browser_page() as p:
        p.set_viewport_size({"width": 390, "height": 844})
        login(p, server + "/penolakan", "satpolpp", "demo-satpolpp")
        p.get_by_role("heading", name="Tren penolakan").wait_for()
        wait_idle(p)
        sidebar = p.locator('[data-testid="stSidebar"]')
        assert sidebar.bounding_box()["x"] < 0 or sidebar.bounding_box()["width"] == 0  # closed on a phone
        p.screenshot(path=str(SHOTS / "penolakan-390.png"))
        p.locator("button.pantau-filter-summary").click()
        p.wait_for_timeout(800)
        box = sidebar.bounding_box()
        assert box["x"] >= 0 and box["width"] > 200
        top = p.locator(".st-key-pantau_filter").bounding_box()["y"]
        assert 0 <= top < 844  # scrolled to the filters, past the page list
        p.screenshot(path=str(SHOTS / "penolakan-390-filter.png"))


def test_whatsapp_link_carries_the_message(server, page):
    from data_access import auth
    from data_access import onboarding as ob
    from data_access import queries as q
    from data_access.db import make_engine

    engine = make_engine(f"sqlite:///{SERVER_DIR[-1] / 'pantau.db'}")
    lo, hi = q.data_range(engine=engine)  # the default period
    first = ob.chase_list(q.opd_overview(engine=engine, start=lo, end=hi), as_of=hi).iloc[0]
    name, code = first["name"], first["code"]
    ob.set_contact(engine=engine, actor=auth.Actor("kominfo", "kominfo"), code=code, name="Bu Sari",
                   whatsapp="0812 7777 8888")
    login(page, server + "/onboarding", "kominfo", "demo-kominfo")
    page.get_by_role("heading", name="Onboarding OPD").wait_for()
    wait_idle(page)
    link = page.get_by_role("link", name="Kirim lewat WhatsApp ke +6281277778888")
    href = link.get_attribute("href")
    url = urlparse(href)
    assert (url.scheme, url.netloc, url.path) == ("https", "wa.me", "/6281277778888")
    text = parse_qs(url.query)["text"][0]
    shown = page.locator('[data-testid="stCode"]').first.inner_text()
    assert text.startswith(f"Yth. Bu Sari di {name},")
    assert " ".join(text.split()) == " ".join(shown.split())
    page.screenshot(path=str(SHOTS / "onboarding-wa-1400.png"), full_page=True)


def test_no_request_leaves_the_machine(server, page):
    own = urlparse(server).netloc
    elsewhere = []

    def record(request):
        host = urlparse(request.url).netloc
        if request.url.startswith(("data:", "blob:")) or host == own:
            return
        if any(t in host for t in TILE_HOSTS):  # the map's optional online tiles
            return
        elsewhere.append(request.url)

    page.on("request", record)
    login(page, server, "kominfo", "demo-kominfo")
    page.get_by_role("heading", name="Ringkasan").wait_for()
    wait_idle(page)
    for key in ("adopsi", "peta", "onboarding", "qr", "penolakan", "monev", "impor", "pengguna", "audit", "akun"):
        page.goto(f"{server}/{key}")
        page.locator("h1").first.wait_for()
        wait_idle(page)
        page.wait_for_timeout(500)
    icon = page.evaluate("() => document.querySelector(\"link[rel='shortcut icon']\")?.href")
    assert icon and urlparse(icon).netloc == own  # the tab icon is the app's own file
    assert not elsewhere, elsewhere
