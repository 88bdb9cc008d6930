"""Fixtures: one engine per database (SQLite file, PostgreSQL and MariaDB on this machine),
a small demo database for page tests, and AppTest helpers."""
from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("PANTAU_PSEUDONYM_KEY", "test-key-0123456789abcdef")

SERVER_URLS = {
    "postgresql": os.environ.get("PANTAU_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/{db}"),
    "mariadb": os.environ.get("PANTAU_TEST_MARIADB", "mysql+pymysql://root@127.0.0.1:3306/{db}"),
}
# a separate name lets several test runs share the servers at once
TEST_DB = os.environ.get("PANTAU_TEST_DB_NAME", "pantau_test")
IN_CI = os.environ.get("CI", "").lower() == "true"


def _admin_url(backend: str) -> str:
    return SERVER_URLS[backend].format(db="postgres" if backend == "postgresql" else "test")


def _fresh_server_db(backend: str, name: str = TEST_DB) -> str:
    """Drop and create a test database on a server; return its URL."""
    admin = create_engine(_admin_url(backend), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if backend == "postgresql":
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            conn.execute(text(f"CREATE DATABASE {name}"))
        else:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name}"))
            conn.execute(text(f"CREATE DATABASE {name} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"))
    admin.dispose()
    return SERVER_URLS[backend].format(db=name)


_schema_ready: dict[str, str] = {}


def _server_url(backend: str) -> str:
    if backend not in _schema_ready:
        try:
            url = _fresh_server_db(backend)
        except Exception as exc:  # service down
            if IN_CI:
                raise
            pytest.skip(f"{backend} not reachable: {exc.__class__.__name__}")
        from data_access.db import init_schema, make_engine

        eng = make_engine(url)
        init_schema(eng)
        eng.dispose()
        _schema_ready[backend] = url
    return _schema_ready[backend]


DATA_TABLES = ["login_throttle", "app_session", "visit_photo", "visit", "rollup_opd_month", "rollup_region_hourly",
               "rollup_region_day", "rollup_hourly", "rollup_opd_day", "rollup_daily", "checkin", "import_batch",
               "audit_log", "app_user", "meta", "opd"]


def _wipe(engine) -> None:
    from sqlalchemy import inspect

    names = set(inspect(engine).get_table_names())
    with engine.begin() as conn:
        for t in DATA_TABLES:
            if t in names:
                conn.execute(text(f"DELETE FROM {t}"))


@pytest.fixture(params=["sqlite", "postgresql", "mariadb"])
def engine(request, tmp_path, monkeypatch):
    """A migrated, empty database with the OPD registry loaded, on each backend."""
    from data_access.db import init_schema, make_engine
    from data_access.registry import load_registry

    monkeypatch.setenv("PANTAU_DATA_DIR", str(tmp_path))
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'test.db'}"
        eng = make_engine(url)
        init_schema(eng)
    else:
        url = _server_url(request.param)
        eng = make_engine(url)
        _wipe(eng)
    with eng.begin() as conn:
        load_registry(conn)
    eng.url_for_test = url
    yield eng
    eng.dispose()


@pytest.fixture
def sqlite_engine(tmp_path, monkeypatch):
    from data_access.db import init_schema, make_engine
    from data_access.registry import load_registry

    monkeypatch.setenv("PANTAU_DATA_DIR", str(tmp_path))
    eng = make_engine(f"sqlite:///{tmp_path / 'test.db'}")
    init_schema(eng)
    with eng.begin() as conn:
        load_registry(conn)
    yield eng
    eng.dispose()


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory) -> Path:
    """A small demo database (45 days, scale 0.3) made once; tests copy it."""
    d = tmp_path_factory.mktemp("demo_template")
    from data_access.auth import create_demo_accounts
    from data_access.db import init_schema, make_engine
    from data_access.demo import fill_demo
    from data_access.registry import load_registry

    eng = make_engine(f"sqlite:///{d / 'pantau.db'}")
    init_schema(eng)
    with eng.begin() as conn:
        load_registry(conn)
    fill_demo(eng, seed=7, days=45, scale=0.3)
    create_demo_accounts(engine=eng)
    _close_template(eng)
    return d / "pantau.db"


def _app_data_dir(template: Path, tmp_path: Path, monkeypatch):
    """A data folder holding a copy of `template`, configured as the app's default (a fixture's body)."""
    d = tmp_path / "data"
    d.mkdir()
    shutil.copy(template, d / "pantau.db")
    monkeypatch.setenv("PANTAU_DATA_DIR", str(d))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    _clear_streamlit_caches()
    yield d
    _clear_streamlit_caches()


def _close_template(eng) -> None:
    """A template database left whole in its one file (the write-ahead log folded in), then closed."""
    with eng.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    eng.dispose()


@pytest.fixture
def demo_dir(demo_template, tmp_path, monkeypatch) -> Path:
    """A data folder holding a copy of the demo database, configured as the app's default."""
    yield from _app_data_dir(demo_template, tmp_path, monkeypatch)


PROVINCE_OPDS = 150  # over East Java's 38 regencies: Bangkalan's 52 and about 3 for each other one


@pytest.fixture(scope="session")
def province_template(tmp_path_factory) -> Path:
    """A province's database made once: the synthetic registry of PROVINCE_OPDS OPDs in 38
    regencies (data_access.synthetic), 40.000 check-ins from 1 February 2022, an account per role."""
    from datetime import date

    from sqlalchemy import insert

    from data_access import queries
    from data_access.auth import create_demo_accounts
    from data_access.checkins import write_checkins
    from data_access.db import init_schema, make_engine
    from data_access.models import Opd
    from data_access.synthetic import synthetic_frame, synthetic_registry

    d = tmp_path_factory.mktemp("province_template")
    eng = make_engine(f"sqlite:///{d / 'pantau.db'}")
    init_schema(eng)
    with eng.begin() as conn:
        conn.execute(insert(Opd), synthetic_registry(PROVINCE_OPDS))
    opds = queries.opd_registry(engine=eng)[["id", "asn_headcount"]]
    with eng.begin() as conn:
        write_checkins(conn, synthetic_frame(opds, 40_000, start=date(2022, 2, 1), days=43, seed=5), source="demo")
    create_demo_accounts(engine=eng)
    _close_template(eng)
    return d / "pantau.db"


@pytest.fixture
def province_dir(province_template, tmp_path, monkeypatch) -> Path:
    """A data folder holding a copy of the province database, configured as the app's default."""
    yield from _app_data_dir(province_template, tmp_path, monkeypatch)


def _clear_streamlit_caches() -> None:
    import streamlit as st

    from ui.warmup import wait

    wait()  # a warm-up of the last test's database (ui/warmup.py) ends before the caches go
    st.cache_data.clear()
    st.cache_resource.clear()


def login_state(username: str, role: str) -> dict:
    return {"username": username, "role": role, "seen": time.time(), "sso": False}


@pytest.fixture
def page():
    """page("ringkasan", role) -> a run AppTest of pages/ringkasan.py signed in with that role."""
    from streamlit.testing.v1 import AppTest

    def run(name: str, role: str = "kominfo", *, query: dict | None = None, username: str | None = None):
        at = AppTest.from_file(str(ROOT / "pages" / f"{name}.py"), default_timeout=60)
        at.session_state["auth"] = login_state(username or role, role)
        for k, v in (query or {}).items():
            at.query_params[k] = v
        return at.run()

    return run


def pytest_collection_modifyitems(config, items):
    """Browser tests drive a real server and Chromium on a shared 2-core machine: a wait that
    runs out under load is tried again (twice at most); a real failure still fails every time."""
    for item in items:
        if item.get_closest_marker("browser") is not None and item.get_closest_marker("flaky") is None:
            item.add_marker(pytest.mark.flaky(reruns=2, reruns_delay=2))
