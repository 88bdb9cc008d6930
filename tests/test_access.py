"""Access control: login, roles, lockout, session expiry, audit."""
from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from data_access import auth
from data_access.calendar import now_utc
from ui.nav import PAGES
from tests.conftest import login_state

ROOT = Path(__file__).resolve().parent.parent
ROLES = ["pimpinan", "kominfo", "satpolpp"]


def app() -> AppTest:
    return AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=60)


def do_login(at: AppTest, user: str, pw: str) -> AppTest:
    at.text_input(key="login_username").input(user)
    at.text_input(key="login_password").input(pw)
    at.button[0].click()
    return at.run()


def test_nothing_before_login(demo_dir):
    at = app().run()
    assert not at.exception
    assert [t.label for t in at.text_input] == ["Nama pengguna", "Kata sandi"]
    assert len(at.metric) == 0 and len(at.dataframe) == 0
    assert "demo-kominfo" in " ".join(i.value for i in at.info)  # demo notice with demo accounts


def test_misconfiguration_shows_only_the_message(tmp_path, monkeypatch):
    """A configuration error is said in Bahasa Indonesia, with no traceback and no menu of pages."""
    import streamlit as st

    monkeypatch.setenv("PANTAU_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("PANTAU_PSEUDONYM_KEY", "pendek")
    st.cache_resource.clear()
    at = app().run()
    assert not at.exception
    assert [e.value for e in at.error] == ["Konfigurasi salah: PANTAU_PSEUDONYM_KEY terlalu pendek: minimal 16 karakter."]
    assert len(at.text_input) == 0 and len(at.metric) == 0
    st.cache_resource.clear()


@pytest.mark.parametrize("name", [p.key for p in PAGES])
def test_page_refused_without_login(demo_dir, name):
    at = AppTest.from_file(str(ROOT / "pages" / f"{name}.py"), default_timeout=60).run()
    assert not at.exception
    assert "masuk" in at.warning[0].value.lower()
    assert len(at.metric) == 0 and len(at.dataframe) == 0


@pytest.mark.parametrize("role", ROLES)
def test_login_each_role_sees_its_pages(demo_dir, role):
    at = do_login(app().run(), role, f"demo-{role}")
    assert not at.exception and not at.error
    assert at.title[0].value == "Ringkasan"
    for p in PAGES:
        at.switch_page(p.file).run()
        assert not at.exception, p.key
        titles = [t.value for t in at.title]
        if role in p.roles:
            assert titles == [p.title], (role, p.key)
            assert not any("tidak berwenang" in e.value for e in at.error)
        else:
            # not in this role's navigation: the address leads back to the default page
            assert p.title not in titles, (role, p.key)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("pdef", PAGES, ids=lambda p: p.key)
def test_page_guard_by_direct_run(demo_dir, page, role, pdef):
    at = page(pdef.key, role)
    assert not at.exception
    refused = any("tidak berwenang" in e.value for e in at.error)
    assert refused == (role not in pdef.roles)


def test_wrong_password_and_lockout(demo_dir):
    from data_access.db import make_engine

    engine = make_engine(f"sqlite:///{demo_dir / 'pantau.db'}")
    at = app().run()
    at = do_login(at, "satpolpp", "salah-sandi")
    assert [e.value for e in at.error] == [auth.LOGIN_FAILED]
    for _ in range(4):
        at = do_login(at, "satpolpp", "salah-sandi")
    assert [e.value for e in at.error] == [auth.LOGIN_FAILED]
    users = auth.list_users(engine=engine).set_index("username")
    assert users.loc["satpolpp", "locked_until"] is not None and users.loc["satpolpp", "failed_logins"] == 5
    at = do_login(at, "satpolpp", "demo-satpolpp")  # right password, still locked: the same answer
    assert [e.value for e in at.error] == [auth.LOGIN_FAILED] and len(at.metric) == 0
    # lock expiry: 16 minutes later the right password works again
    with pytest.raises(auth.AuthError):
        auth.authenticate(engine=engine, username="satpolpp", password="demo-satpolpp")
    later = now_utc() + timedelta(minutes=16)
    assert auth.authenticate(engine=engine, username="satpolpp", password="demo-satpolpp", now=later).role == "satpolpp"
    log = auth.audit_log(engine=engine, actor=auth.Actor("kominfo", "kominfo"))
    assert (log["action"] == "login_gagal").sum() >= 6 and (log["action"] == "login").sum() >= 1
    assert "password" not in " ".join(log["after"].dropna()).lower()


def test_lockout_counts_only_consecutive_failures(demo_dir):
    from data_access.db import make_engine

    engine = make_engine(f"sqlite:///{demo_dir / 'pantau.db'}")
    for _ in range(4):
        with pytest.raises(auth.AuthError):
            auth.authenticate(engine=engine, username="pimpinan", password="x")
    auth.authenticate(engine=engine, username="pimpinan", password="demo-pimpinan")
    for _ in range(4):
        with pytest.raises(auth.AuthError):
            auth.authenticate(engine=engine, username="pimpinan", password="x")
    # 4 + 4 failures, but not in a row: not locked
    assert auth.authenticate(engine=engine, username="pimpinan", password="demo-pimpinan").role == "pimpinan"


def test_disabled_account(demo_dir, page):
    from data_access.db import make_engine

    engine = make_engine(f"sqlite:///{demo_dir / 'pantau.db'}")
    auth.set_active(engine=engine, actor=auth.SYSTEM, username="pimpinan", active=False)
    at = do_login(app().run(), "pimpinan", "demo-pimpinan")
    assert [e.value for e in at.error] == [auth.LOGIN_FAILED]  # the same answer as a wrong password
    assert len(at.metric) == 0
    log = auth.audit_log(engine=engine, actor=auth.Actor("kominfo", "kominfo"))
    assert '"alasan": "nonaktif"' in log.loc[log["action"] == "login_gagal", "after"].iloc[0]
    # an open session of a disabled user ends at its next page run
    at = page("ringkasan", "pimpinan")
    assert len(at.metric) == 0 and at.warning


def test_session_expires_after_30_minutes(demo_dir):
    at = app()
    at.session_state["auth"] = {**login_state("kominfo", "kominfo"), "seen": time.time() - 31 * 60}
    at.run()
    assert not at.exception
    assert [t.label for t in at.text_input] == ["Nama pengguna", "Kata sandi"]
    assert any("30 menit" in w.value for w in at.warning)
    fresh = app()
    fresh.session_state["auth"] = {**login_state("kominfo", "kominfo"), "seen": time.time() - 29 * 60}
    fresh.run()
    assert fresh.title[0].value == "Ringkasan"


def test_logout(demo_dir):
    at = do_login(app().run(), "kominfo", "demo-kominfo")
    at.button(key="logout_button").click().run()
    assert not at.exception
    assert "auth" not in at.session_state
    assert len(at.metric) == 0 and len(at.dataframe) == 0
    assert any("keluar" in w.value for w in at.warning)


def test_change_own_password(demo_dir, page):
    at = page("akun", "satpolpp")
    at.text_input(key="akun_old").input("demo-satpolpp")
    at.text_input(key="akun_new").input("sandi-baru-123")
    at.text_input(key="akun_again").input("sandi-baru-123")
    at.button[0].click().run()
    assert at.success and not at.error
    at = do_login(app().run(), "satpolpp", "sandi-baru-123")
    assert at.title[0].value == "Ringkasan"


def test_actions_check_role_server_side(demo_dir):
    from data_access.db import make_engine

    engine = make_engine(f"sqlite:///{demo_dir / 'pantau.db'}")
    for role in ("pimpinan", "satpolpp"):
        actor = auth.Actor(role, role)
        with pytest.raises(auth.PermissionDenied):
            auth.add_user(engine=engine, actor=actor, username="eve", password="x" * 10, role="kominfo")
        with pytest.raises(auth.PermissionDenied):
            auth.audit_log(engine=engine, actor=actor)


def test_user_admin_page(demo_dir, page):
    at = page("pengguna", "kominfo")
    at.text_input(key="pengguna_add_name").input("dewi")
    at.selectbox(key="pengguna_add_role").select("satpolpp")
    at.text_input(key="pengguna_add_pw").input("rahasia-dewi")
    at.button[0].click().run()
    assert not at.exception and at.success
    names = at.dataframe[0].value["Nama pengguna"].tolist()
    assert "dewi" in names
    at = page("audit", "kominfo")
    log = at.dataframe[0].value  # the times are shown in WIB (tests/test_indonesian.py)
    assert (log["Kejadian"] == "kominfo menambah pengguna dewi dengan peran Satpol PP").any()


def test_no_default_accounts_outside_demo(sqlite_engine, monkeypatch, tmp_path):
    """A database that is not a demo gets no default accounts; the login page says how to make one."""
    monkeypatch.setenv("DATABASE_URL", str(sqlite_engine.url))
    import streamlit as st

    st.cache_resource.clear()
    st.cache_data.clear()
    at = app().run()
    assert not at.exception
    assert not auth.has_users(engine=sqlite_engine)
    assert any("users add" in w.value for w in at.warning)
    assert not at.info  # no demo notice
    st.cache_resource.clear()


def _sso_app(email: str) -> AppTest:
    at = app()
    at.secrets["auth"] = {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "x" * 32,
                          "client_id": "pantau", "client_secret": "s", "server_metadata_url": "https://sso.example/.wk"}
    at.secrets["pantau"] = {"sso_roles": {"kabid.monev@bangkalankab.go.id": "satpolpp"}}
    at.user = {"is_logged_in": True, "email": email, "name": "Pengguna SSO"}
    return at


def test_sso_allow_list_maps_roles(demo_dir):
    at = _sso_app("Kabid.Monev@bangkalankab.go.id").run()
    assert not at.exception
    assert at.title[0].value == "Ringkasan"
    assert "satpolpp" == at.session_state["auth"]["role"] and at.session_state["auth"]["sso"]
    stranger = _sso_app("orang.lain@gmail.com").run()
    assert not stranger.exception
    assert [t.label for t in stranger.text_input] == ["Nama pengguna", "Kata sandi"]  # local login still there
    assert any(b.label.startswith("Masuk dengan akun instansi") for b in stranger.button)


def test_first_run_cut_short_completes_on_next_start(tmp_path, monkeypatch):
    """The server stopped while the first run wrote the demo: the next start finishes the demo
    and the demo accounts instead of leaving an empty database nobody can log in to."""
    from sqlalchemy import func, select

    from data_access import demo
    from data_access.db import get_meta, make_engine
    from data_access.models import Checkin, User
    from ui.engine import bootstrap

    real = demo.fill_demo
    eng = make_engine(f"sqlite:///{tmp_path / 'pantau.db'}")

    def stopped(engine, **kw):
        raise KeyboardInterrupt  # the server is stopped mid-way

    monkeypatch.setattr(demo, "fill_demo", stopped)
    with pytest.raises(KeyboardInterrupt):
        bootstrap(eng, default_sqlite=True, new_file=True)
    monkeypatch.setattr(demo, "fill_demo", lambda engine, **kw: real(engine, days=10, scale=0.2))
    bootstrap(eng, default_sqlite=True, new_file=False)  # the next start: the file exists now
    with eng.connect() as conn:
        assert conn.execute(select(func.count()).select_from(User)).scalar_one() >= 3
        n = conn.execute(select(func.count()).select_from(Checkin)).scalar_one()
        assert n > 0 and get_meta(conn, "first_run") == "done"
    monkeypatch.setattr(demo, "fill_demo", stopped)  # later starts do not write the demo again
    bootstrap(eng, default_sqlite=True, new_file=False)
    with eng.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Checkin)).scalar_one() == n
