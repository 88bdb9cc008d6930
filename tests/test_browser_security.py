"""Issue 14 in the browser: parallel sign-ins from several browser sessions lock the account,
a link's Markdown is not rendered, and no error shows a traceback. Its own server, so the
lockout and the address throttle touch no other test."""
from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from data_access import auth
from data_access.db import make_engine
from data_access.models import User
from tests.browser import CHROMIUM, CHROMIUM_ARGS, demo_server, login, skip_without_chromium, wait_idle

pytestmark = pytest.mark.browser

skip_without_chromium()


@pytest.fixture(scope="module")
def app(demo_template, tmp_path_factory):
    d = tmp_path_factory.mktemp("browser_security")
    eng = None

    def add_target(folder: Path) -> None:  # the account the sign-in tests lock
        nonlocal eng
        eng = make_engine(f"sqlite:///{folder / 'pantau.db'}")
        auth.add_user(engine=eng, actor=auth.SYSTEM, username="sasaran", password="sandi-benar-123", role="satpolpp")

    with demo_server(demo_template, d, prepare=add_target) as url:
        yield url, eng
    eng.dispose()


def test_parallel_browser_sessions_lock_the_account(app):
    from playwright.sync_api import sync_playwright

    url, eng = app
    sessions = 4
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            pages = [browser.new_context(locale="id-ID").new_page() for _ in range(sessions)]
            for page in pages:
                page.set_default_timeout(60_000)
                page.goto(url)
                page.get_by_label("Nama pengguna").wait_for()
            for _ in range(2):  # each round: every session submits a wrong password at the same moment
                for i, page in enumerate(pages):
                    page.get_by_label("Nama pengguna").fill("sasaran")
                    page.get_by_label("Kata sandi").fill(f"salah-{i}")
                for page in pages:  # clicked one after another without waiting for the answer
                    page.get_by_role("button", name="Masuk").click(no_wait_after=True)
                for page in pages:
                    page.get_by_text("Nama pengguna atau kata sandi salah").first.wait_for(timeout=30_000)
                    wait_idle(page)
            with eng.connect() as conn:
                user = conn.execute(select(User.failed_logins, User.locked_until).where(User.username == "sasaran")).one()
            assert user.failed_logins >= auth.MAX_FAILED and user.locked_until is not None
            # the right password is refused now, with the same words as a wrong one
            page = pages[0]
            login(page, url, "sasaran", "sandi-benar-123")
            assert page.get_by_text("Nama pengguna atau kata sandi salah").first.is_visible()
            assert page.get_by_role("heading", name="Ringkasan").count() == 0
        finally:
            browser.close()


def test_link_markdown_is_not_rendered(app):
    from playwright.sync_api import sync_playwright

    url, _ = app
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_context(locale="id-ID").new_page()
            page.set_default_timeout(60_000)
            requests: list[str] = []
            page.on("request", lambda r: requests.append(r.url))
            login(page, url + "/ringkasan?opd=[klik di sini](http://evil.example/x)"
                  "&kecamatan=![](http://evil.example/p.png)&kategori=www.evil.example", "pimpinan", "demo-pimpinan")
            page.get_by_text("tautan diabaikan").first.wait_for()
            wait_idle(page)
            alert = page.locator('[data-testid="stAlert"]', has_text="tautan diabaikan")
            assert "klik di sini" in alert.inner_text()
            assert alert.locator("a").count() == 0 and alert.locator("img").count() == 0
            from urllib.parse import urlsplit

            assert not [r for r in requests if (urlsplit(r).hostname or "").endswith("evil.example")]
        finally:
            browser.close()
