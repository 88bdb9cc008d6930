"""The map page in headless Chromium with every request off this machine refused (the closed
network of the regency's offices): the kecamatan are drawn and named, clicking one shows its
figures and applies it as the sidebar filter; screenshots at desktop and phone size."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from data_access.registry import KECAMATAN_CENTROIDS
from tests.browser import CHROMIUM, CHROMIUM_ARGS, demo_server, skip_without_chromium, wait_idle

pytestmark = pytest.mark.browser
SHOTS = Path(os.environ.get("PANTAU_SCREENSHOTS", "/tmp/pantau-screenshots")) / "map"
FETCHERS = ("plot.ly", "openstreetmap", "openmaptiles", "cartocdn", "mapbox")  # what an online map would load

skip_without_chromium()


@pytest.fixture(scope="module")
def server(demo_template, tmp_path_factory):
    with demo_server(demo_template, tmp_path_factory.mktemp("browser_map")) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


def offline_page(browser, url: str, *, phone: bool = False):
    """A signed-in page on the map, in a context where only the app's own server answers."""
    viewport = {"width": 390, "height": 844} if phone else {"width": 1440, "height": 900}
    context = browser.new_context(viewport=viewport, is_mobile=phone, has_touch=phone, locale="id-ID",
                                  timezone_id="Asia/Jakarta")
    refused: list[str] = []

    def route(r):
        if r.request.url.startswith(url):
            return r.continue_()
        refused.append(r.request.url)
        return r.abort("internetdisconnected")

    context.route("**/*", route)
    page = context.new_page()
    page.set_default_timeout(90_000)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url + "/peta")
    page.get_by_label("Nama pengguna").fill("pimpinan")
    page.get_by_label("Kata sandi").fill("demo-pimpinan")
    page.get_by_role("button", name="Masuk").click()
    page.get_by_role("heading", name="Peta adopsi").wait_for()
    wait_idle(page)
    page.locator(".js-plotly-plot .choroplethlocation").first.wait_for()
    page.wait_for_timeout(800)
    return context, page, refused, errors


def drawn_names(page) -> dict[str, dict]:
    """The kecamatan names as drawn in the map's SVG: name -> its box on the screen."""
    return page.evaluate("""() => {
        const out = {};
        for (const t of document.querySelectorAll('.js-plotly-plot .geo text')) {
            const first = t.querySelector('tspan.line');
            if (!first) continue;
            const r = t.getBoundingClientRect();
            out[first.textContent] = {x: r.x, y: r.y, w: r.width, h: r.height, text: t.textContent};
        }
        return out;
    }""")


def figure_names(page) -> list[str]:
    """The names in the rendered figure's data (the trace plotly.js drew)."""
    return page.evaluate("""() => {
        const gd = document.querySelector('.js-plotly-plot');
        const tr = gd.data.find(t => t.name === 'Nama kecamatan');
        return tr ? tr.text : [];
    }""")


def test_offline_map_names_every_kecamatan_and_a_click_filters(server, browser):
    context, page, refused, errors = offline_page(browser, server)
    try:
        assert errors == []  # plotly fetched no topojson (that error stops the whole map)
        assert not [u for u in refused if any(f in u for f in FETCHERS)], refused
        texts = figure_names(page)
        assert len(texts) == 18
        assert {t.split("</b>")[0].removeprefix("<b>") for t in texts} == set(KECAMATAN_CENTROIDS)
        names = drawn_names(page)
        assert set(KECAMATAN_CENTROIDS) <= set(names)
        geo = page.locator(".js-plotly-plot .geo").first.bounding_box()
        for name in KECAMATAN_CENTROIDS:  # each one drawn, on the map, with its percentage
            box = names[name]
            assert box["w"] > 10 and box["h"] > 10, name
            assert geo["x"] - 1 <= box["x"] and box["x"] + box["w"] <= geo["x"] + geo["width"] + 1, name
            assert box["text"].startswith(name) and box["text"].endswith("%"), box
        assert page.locator(".js-plotly-plot .choroplethlocation").count() >= 18
        page.screenshot(path=str(SHOTS / "browser-kecamatan-1440x900.png"))

        # a click on Kec. Geger: its figures beside the map, then the filter
        box = names["Geger"]
        page.mouse.click(box["x"] + box["w"] / 2, box["y"] + box["h"] + 8)
        wait_idle(page)
        page.get_by_role("heading", name="Kec. Geger").wait_for()
        assert page.get_by_text("Cakupan ASN:").first.is_visible()
        page.screenshot(path=str(SHOTS / "browser-kecamatan-clicked-1440x900.png"))
        page.get_by_role("button", name="Terapkan Kec. Geger sebagai filter").click()
        wait_idle(page)
        page.wait_for_timeout(500)
        sidebar = page.locator('[data-testid="stSidebar"]')
        chips = sidebar.locator('[data-testid="stMultiSelect"]').filter(has_text="Kecamatan")
        assert "Geger" in chips.inner_text()
        assert "kecamatan=Geger" in page.url
        page.locator(".js-plotly-plot .choroplethlocation").first.wait_for()
        coloured = page.evaluate("""() => {
            const gd = document.querySelector('.js-plotly-plot');
            return gd.data.find(t => t.name === 'Cakupan ASN').locations;
        }""")
        assert coloured == ["Geger"]
        page.screenshot(path=str(SHOTS / "browser-kecamatan-filtered-1440x900.png"))

        # per OPD within the filter: Kec. Geger has one office, outside the town: one map, no zoom
        page.get_by_text("Per OPD", exact=True).click()
        wait_idle(page)
        page.wait_for_timeout(800)
        codes = page.evaluate("""() => Array.from(document.querySelectorAll('.js-plotly-plot'))
            .filter(gd => gd.offsetParent !== null)
            .flatMap(gd => gd.data.filter(t => t.mode === 'markers').flatMap(t => t.customdata.map(c => c[0])))""")
        assert codes == ["KEC-GEGER"]
        page.screenshot(path=str(SHOTS / "browser-opd-filtered-1440x900.png"))
    finally:
        context.close()


def test_offline_map_on_a_phone(server, browser):
    context, page, refused, errors = offline_page(browser, server, phone=True)
    try:
        assert errors == []
        names = drawn_names(page)
        assert set(KECAMATAN_CENTROIDS) <= set(names)
        plot = page.locator(".js-plotly-plot").first
        width = plot.bounding_box()["width"]
        assert width <= 390
        plot.scroll_into_view_if_needed()
        page.wait_for_timeout(300)
        page.screenshot(path=str(SHOTS / "browser-kecamatan-390x844.png"))
        # the figures sit under the map on a phone
        assert page.get_by_text("Klik kecamatan pada peta").count() == 1
        page.get_by_text("Per OPD", exact=True).click()
        wait_idle(page)
        town = page.locator(".js-plotly-plot", has_text="Perbesaran: Kota Bangkalan")
        town.wait_for()
        town.scroll_into_view_if_needed()
        page.wait_for_timeout(300)
        town.screenshot(path=str(SHOTS / "browser-town-390x844.png"))
        labels = town.evaluate("""gd => Array.from(gd.querySelectorAll('.geo text'))
            .map(t => t.getBoundingClientRect()).map(r => [r.x, r.y, r.width, r.height])""")
        assert len(labels) >= 20  # the lagging offices of the town, named
        # no two names of the town cover each other on the phone's screen
        for i, a in enumerate(labels):
            for b in labels[i + 1:]:
                ox = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
                oy = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
                assert ox <= 2 or oy <= 2, (a, b)
    finally:
        context.close()
