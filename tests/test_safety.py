"""Issue 14's defects 3 (no traceback: an error id), 4 (Markdown escaped), 9 (scratch files),
10 (credentials masked) and 11 (file modes): one regression test each, or more."""
from __future__ import annotations

import logging
import os
import re
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from markdown_it import MarkdownIt
from streamlit.testing.v1 import AppTest

from data_access import config, scratch
from data_access.db import make_engine
from tests.conftest import login_state
from ui.safe import WORD_JOINER, md

ROOT = Path(__file__).resolve().parent.parent
HOSTILE = [
    "[klik di sini](http://evil.example/x)",
    "![](http://evil.example/pixel.png)",
    "<img src=x onerror=alert(1)>",
    "**tebal** _miring_ `kode` ~~coret~~",
    ":red[merah] :material/warning: :smile:",
    "$x^2$ # judul | tabel | &amp; \\ [ref]: http://evil.example",
    "bare links: http://evil.example/x www.evil.example petugas@evil.example",
]


# ---------------------------------------------------------------- 4: Markdown
@pytest.mark.parametrize("text", HOSTILE)
def test_md_renders_as_the_literal_text(text):
    """What md() returns renders (CommonMark) to exactly the characters typed: no link, image,
    emphasis or HTML."""
    html = MarkdownIt("commonmark").renderInline(md(text))
    assert "<a " not in html and "<img" not in html and "<em>" not in html and "<strong>" not in html
    assert "<code>" not in html
    import html as h

    assert h.unescape(html).replace(WORD_JOINER, "") == " ".join(text.split())
    # GitHub-flavoured bare links (which Streamlit renders) are broken by an invisible joiner
    shown = md(text)
    assert "://" not in shown and "www." not in shown.lower() and not re.search(r"\w@", shown)


def _page(name: str, role: str = "kominfo", query: dict | None = None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "pages" / f"{name}.py"), default_timeout=60)
    at.session_state["auth"] = login_state(role, role)
    for k, v in (query or {}).items():
        at.query_params[k] = v
    return at


def test_link_parameters_are_escaped_in_the_notice(demo_dir):
    at = _page("ringkasan", query={"opd": "[klik di sini](http://evil.example)",
                                   "periode": "![](http://evil.example/p.png)"}).run()
    assert not at.exception
    notice = " ".join(w.value for w in at.warning)
    assert "tautan diabaikan" in notice
    html = MarkdownIt("commonmark").render(notice)
    assert "<a " not in html and "<img" not in html
    assert "klik di sini" in html and "evil" in html  # the user still sees what was wrong


def test_uploaded_file_name_is_escaped(demo_dir):
    from data_access import auth, importer

    eng = make_engine(f"sqlite:///{demo_dir / 'pantau.db'}")
    text = ("waktu,kode_venue,jenis_pengunjung,status,hasil,nik\n"
            "2022-02-01 08:00,BKL019-DISKOMINFO,ASN,hijau,,1\n2022-02-01 08:05,BKL019-DISKOMINFO,ASN,ungu,,2\n")
    res = importer.import_bytes(engine=eng, actor=auth.SYSTEM, data=text.encode(), dry_run=True,
                                file_name="[klik](evil.example)![gambar](evil.png) www.evil.example.csv")
    eng.dispose()
    at = _page("impor").run()
    # the page keeps each result as its summary (pages/impor.py)
    at.session_state["impor_results"] = [{**res.summary(), "rejects_csv": res.rejects_csv(),
                                          "rejects_head": res.rejects.head(100)}]
    at.run()
    assert not at.exception
    body = " ".join(w.value for w in [*at.warning, *at.info, *at.success, *at.caption])
    html = MarkdownIt("commonmark").render(body)
    assert "<a " not in html and "<img" not in html and "klik" in html


# ---------------------------------------------------------------- 3: no traceback, an error id
def test_unexpected_error_shows_an_id_that_is_in_the_log(demo_dir, monkeypatch, capfd):
    from ui import data

    def boom(**kwargs):
        raise RuntimeError("rahasia internal: SELECT * FROM app_user")

    monkeypatch.setattr(data, "opd_overview", boom)
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=60)
    at.session_state["auth"] = login_state("kominfo", "kominfo")
    at.run()
    assert not at.exception
    errors = " ".join(e.value for e in at.error)
    assert "Kode galat" in errors and "rahasia" not in errors and "SELECT" not in errors
    error_id = errors.split("**")[1]
    assert len(error_id) == 8
    log = capfd.readouterr().err
    assert f"galat {error_id}" in log and "rahasia internal" in log  # the details are on the server


def test_streamlit_shows_no_error_details():
    import tomllib

    cfg = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert cfg["client"]["showErrorDetails"] == "none"


# ---------------------------------------------------------------- 10: credentials masked
@pytest.mark.parametrize("url", [
    "postgresl://admin:hunter2-secret@db.local/pantau",  # unknown dialect
    "postgresql+psycopg://admin:hunter2-secret@db.local:notaport/pantau",  # unparseable
])
def test_bad_database_url_never_shows_the_password(url):
    with pytest.raises(config.ConfigError) as err:
        make_engine(url)
    assert "hunter2" not in str(err.value) and "admin:***@" in str(err.value)
    assert err.value.__cause__ is None or "hunter2" not in str(err.value.__cause__)


def test_login_page_never_shows_the_password(tmp_path, monkeypatch):
    import streamlit as st

    monkeypatch.setenv("PANTAU_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", "postgresl://admin:hunter2-secret@db.local/pantau")
    st.cache_resource.clear()
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=60).run()
    assert not at.exception
    shown = " ".join(e.value for e in at.error)
    assert "DATABASE_URL" in shown and "hunter2" not in shown
    st.cache_resource.clear()


def test_log_lines_mask_credentials(capfd):
    from ui.safe import log_unexpected

    try:
        raise RuntimeError("cannot connect to mysql+pymysql://root:hunter2-secret@10.0.0.5/x (password=hunter2)")
    except RuntimeError as exc:
        log_unexpected(exc)
    err = capfd.readouterr().err
    assert "hunter2" not in err and "root:***@" in err


# ---------------------------------------------------------------- 11: file modes
def _mode(p: Path) -> int:
    return stat.S_IMODE(p.stat().st_mode)


def test_data_folder_and_database_are_private(tmp_path, monkeypatch):
    from data_access.db import init_schema

    data = tmp_path / "data"
    monkeypatch.setenv("PANTAU_DATA_DIR", str(data))
    monkeypatch.delenv("PANTAU_PSEUDONYM_KEY")  # the key file is made in the data folder
    old = os.umask(0o022)
    try:
        eng = make_engine(f"sqlite:///{data / 'pantau.db'}")
        init_schema(eng)
        with eng.begin() as conn:
            conn.exec_driver_sql("CREATE TABLE t (x INT)")
        config.pseudonym_key()
        assert _mode(data) == 0o700
        assert _mode(data / "pantau.db") == 0o600
        assert _mode(data / "pseudonym.key") == 0o600
        for extra in ("pantau.db-wal", "pantau.db-shm"):
            if (data / extra).exists():
                assert _mode(data / extra) == 0o600
        eng.dispose()
    finally:
        os.umask(old)


def test_existing_open_files_are_tightened(tmp_path, monkeypatch):
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    data.chmod(0o755)
    db = data / "pantau.db"
    db.touch()
    db.chmod(0o644)
    monkeypatch.setenv("PANTAU_DATA_DIR", str(data))
    make_engine(f"sqlite:///{db}").dispose()
    assert _mode(data) == 0o700 and _mode(db) == 0o600


def test_a_folder_named_elsewhere_is_not_changed(tmp_path, monkeypatch):
    """A database the operator placed in their own folder: the file is private, the folder left as is."""
    monkeypatch.setenv("PANTAU_DATA_DIR", str(tmp_path / "data"))
    own = tmp_path / "elsewhere"
    own.mkdir()
    own.chmod(0o755)
    make_engine(f"sqlite:///{own / 'x.db'}").dispose()
    assert _mode(own) == 0o755 and _mode(own / "x.db") == 0o600


# ---------------------------------------------------------------- 9: scratch files
def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_stale_scratch_folders_are_removed(tmp_path, monkeypatch):
    monkeypatch.setenv("PANTAU_DATA_DIR", str(tmp_path / "data"))
    root = scratch.scratch_root()
    assert _mode(root) == 0o700 and root.parent == tmp_path / "data"
    stale = root / f"{scratch.PREFIX}{_dead_pid()}-abc"
    stale.mkdir()
    (stale / "checkin_load.db").write_bytes(b"x" * 1000)
    mine = scratch.new_scratch_dir()  # this process is alive: kept
    legacy_tmp = tmp_path / "systmp"
    legacy_tmp.mkdir()
    monkeypatch.setattr("tempfile.tempdir", str(legacy_tmp))
    old_legacy = legacy_tmp / f"{scratch.PREFIX}k3x9"
    old_legacy.mkdir()
    hour_ago = time.time() - 2 * scratch.LEGACY_MAX_AGE_S
    os.utime(old_legacy, (hour_ago, hour_ago))
    fresh_legacy = legacy_tmp / f"{scratch.PREFIX}z8q1"
    fresh_legacy.mkdir()
    assert scratch.clean_stale() == 2
    assert not stale.exists() and not old_legacy.exists()
    assert mine.exists() and fresh_legacy.exists()


def test_killed_import_leaves_nothing_after_the_next_start(tmp_path):
    """kill -9 in the middle of an import on SQLite: its staging folders stay behind, and the
    next start-up (bootstrap) removes them."""
    data = tmp_path / "data"
    env = {**os.environ, "PANTAU_DATA_DIR": str(data), "PYTHONPATH": str(ROOT)}
    script = f"""
import os, signal, pandas as pd
from data_access import checkins, auth
from data_access.db import init_schema, make_engine
from data_access.registry import load_registry
from data_access.importer import import_bytes
eng = make_engine("sqlite:///{data / 'pantau.db'}")
init_schema(eng)
with eng.begin() as conn:
    load_registry(conn)
checkins.STAGE_ROWS = 10
real = checkins._bulk_insert_ignore
def die(conn, rows, **kw):
    os.kill(os.getpid(), signal.SIGKILL)
checkins._bulk_insert_ignore = die
text = "waktu,kode_venue,jenis_pengunjung,status,hasil,nik\\n" + "".join(
    f"2022-02-01 08:{{i:02d}},BKL019-DISKOMINFO,ASN,hijau,,{{i}}\\n" for i in range(40))
import_bytes(engine=eng, actor=auth.SYSTEM, data=text.encode(), file_name="a.csv")
"""
    proc = subprocess.run([sys.executable, "-c", script], env=env, cwd=ROOT, capture_output=True, timeout=120)
    assert proc.returncode == -9, proc.stderr.decode()[-2000:]
    left = list((data / "scratch").iterdir())
    assert left and all(p.name.startswith(scratch.PREFIX) for p in left)
    os.environ["PANTAU_DATA_DIR"], saved = str(data), os.environ.get("PANTAU_DATA_DIR")
    try:
        from ui.engine import bootstrap

        eng = make_engine(f"sqlite:///{data / 'pantau.db'}")
        bootstrap(eng, default_sqlite=False, new_file=False)
        eng.dispose()
    finally:
        if saved is None:
            os.environ.pop("PANTAU_DATA_DIR")
        else:
            os.environ["PANTAU_DATA_DIR"] = saved
    assert list((data / "scratch").iterdir()) == []


def test_unused_logger_names_do_not_leak_to_root():
    from ui import safe

    safe._logger()
    assert logging.getLogger("pantau").propagate is False


# ---------------------------------------------------------------- 3: inputs bounded before the database
def test_long_inputs_are_refused_before_the_database(engine):
    """Over-long or out-of-range values give a message in Bahasa Indonesia on every database,
    never a DataError from a column's size."""
    from datetime import date

    from data_access import auth, onboarding, visits

    long = "x" * 10_000
    base = dict(opd_code="DISKOMINFO", visited_on=date(2022, 3, 1), officer="Budi", qr_posted=True,
                scanning_enforced=True, unscanned_entries=0, notes="")
    cases = [dict(officer=long), dict(notes=long), dict(opd_code=long), dict(unscanned_entries=10**12)]
    for change in cases:
        with pytest.raises(visits.VisitError):
            visits.add_visit(engine=engine, actor=auth.SYSTEM, visit=visits.VisitInput(**{**base, **change}))
    with pytest.raises(onboarding.OnboardingError):
        onboarding.record_venue_code(engine=engine, actor=auth.SYSTEM, code=long, venue_code="BKL-1")
    with pytest.raises(onboarding.OnboardingError):
        onboarding.record_venue_code(engine=engine, actor=auth.SYSTEM, code="DISKOMINFO", venue_code="V" * 65)
    with pytest.raises(onboarding.OnboardingError):
        onboarding.mark_printed(engine=engine, actor=auth.SYSTEM, code=long, printed_on=date(2022, 1, 20))
    visits.add_visit(engine=engine, actor=auth.SYSTEM, visit=visits.VisitInput(**base))  # the database still works
