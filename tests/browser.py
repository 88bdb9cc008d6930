"""Browser harness: run `streamlit run dashboard.py` on a free localhost port against a
given database and drive Debian's Chromium through Playwright. A browser test module calls
skip_without_chromium() at import and starts its server with demo_server()."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("PANTAU_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage",
]


def chromium_available() -> bool:
    return Path(CHROMIUM).exists() or shutil.which(CHROMIUM) is not None


def skip_without_chromium() -> None:
    """Skip the calling test module when Chromium is missing; on CI (CI=true) that is an error
    instead, since .ci/run installs it."""
    if chromium_available():
        return
    if os.environ.get("CI", "").lower() == "true":
        raise RuntimeError("chromium is missing: .ci/run installs it")
    pytest.skip("chromium not installed", allow_module_level=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def streamlit_server(env: dict[str, str], *, timeout: float = 120):
    port = free_port()
    full_env = {**os.environ, **env, "PYTHONUNBUFFERED": "1"}
    log = open(Path(env.get("PANTAU_DATA_DIR", "/tmp")) / f"streamlit-{port}.log", "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "dashboard.py"), "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env=full_env, stdout=log, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                time.sleep(0.3)
            if proc.poll() is not None:
                raise RuntimeError("streamlit exited early; see " + log.name)
        else:
            raise RuntimeError("streamlit did not start in time")
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def app_env(data_dir: Path) -> dict[str, str]:
    """The environment of an app whose SQLite database lives in `data_dir` (created with the demo
    data on the first start when missing)."""
    return {"PANTAU_DATA_DIR": str(data_dir), "PANTAU_PSEUDONYM_KEY": os.environ["PANTAU_PSEUDONYM_KEY"]}


@contextmanager
def demo_server(demo_template: Path, folder: Path, prepare: Callable[[Path], None] | None = None):
    """A Streamlit server on a copy of the demo database (`demo_template`) in the data folder
    `folder`, with no DATABASE_URL; `prepare(folder)` runs on the copy before the server starts
    (to add a user, say). Yields the server's URL."""
    shutil.copy(demo_template, folder / "pantau.db")
    if prepare is not None:
        prepare(folder)
    os.environ.pop("DATABASE_URL", None)
    with streamlit_server(app_env(folder)) as url:
        yield url


@contextmanager
def browser_page(*, accept_downloads: bool = True):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=accept_downloads,
                                      locale="id-ID", timezone_id="Asia/Jakarta")
        page = context.new_page()
        page.set_default_timeout(60_000)
        try:
            yield page
        finally:
            context.close()
            browser.close()


def wait_idle(page) -> None:
    """Wait until Streamlit has finished running the script."""
    page.wait_for_timeout(300)
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=60_000
    )
    page.wait_for_timeout(300)


def login(page, url: str, username: str, password: str) -> None:
    page.goto(url)
    page.get_by_label("Nama pengguna").fill(username)
    page.get_by_label("Kata sandi").fill(password)
    page.get_by_role("button", name="Masuk").click()
    wait_idle(page)
