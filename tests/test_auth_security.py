"""Login security on all three databases: atomic lockout under parallel attempts, the
per-address throttle, the limit on changing one's own password, refusals that look alike
(message and time), bounded inputs, and the last administrator kept."""
from __future__ import annotations

import statistics
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete, select, update
from streamlit.testing.v1 import AppTest

from data_access import auth
from data_access.calendar import now_utc
from data_access.models import AuditLog, LoginThrottle, User

ROOT = Path(__file__).resolve().parent.parent
PASSWORDS = {"admin": "rahasia-admin", "andi": "rahasia-andi", "budi": "rahasia-budi", "cici": "rahasia-cici"}
ROLES = {"admin": "kominfo", "andi": "satpolpp", "budi": "pimpinan", "cici": "satpolpp"}
ADMIN = auth.Actor("admin", "kominfo")


@pytest.fixture
def accounts(engine):
    """The engine with four accounts (one kominfo) and no login counts from earlier tests."""
    with engine.begin() as conn:
        conn.execute(delete(LoginThrottle))  # not among the tables conftest wipes
    for name, pw in PASSWORDS.items():
        auth.add_user(engine=engine, actor=auth.SYSTEM, username=name, password=pw, role=ROLES[name])
    return engine


def user_row(engine, name: str):
    with engine.connect() as conn:
        return conn.execute(select(User.__table__).where(User.username == name)).one()


def login(engine, name: str, pw: str, **kw) -> str | None:
    """None when the login succeeds, else the refusal's message."""
    try:
        auth.authenticate(engine=engine, username=name, password=pw, **kw)
    except auth.AuthError as exc:
        return str(exc)
    return None


def in_parallel(n: int, work) -> list:
    """work(i) in n threads released at the same moment; returns each result or exception."""
    barrier = threading.Barrier(n)
    results: list = [None] * n

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = work(i)
        except Exception as exc:  # noqa: BLE001 - handed back to the test
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    return results


def test_parallel_wrong_passwords_lock_the_account(accounts):
    engine = accounts
    results = in_parallel(10, lambda i: [login(engine, "andi", f"salah-{i}-{j}") for j in range(3)])
    assert all(r == [auth.LOGIN_FAILED] * 3 for r in results), results
    assert login(engine, "andi", PASSWORDS["andi"]) == auth.LOGIN_FAILED  # the right password: still locked
    row = user_row(engine, "andi")
    assert row.failed_logins == 31  # every attempt counted: none lost to a parallel one
    assert row.locked_until is not None and row.locked_until > now_utc()
    with engine.connect() as conn:
        failed = conn.execute(select(AuditLog.after).where(AuditLog.action == "login_gagal",
                                                          AuditLog.target == "andi")).scalars().all()
    assert len(failed) == 31
    later = now_utc() + timedelta(minutes=auth.LOCK_MINUTES + 1)
    assert login(engine, "andi", PASSWORDS["andi"], now=later) is None  # the lock expires
    assert user_row(engine, "andi").failed_logins == 0


def test_address_throttle(accounts):
    engine = accounts
    here, elsewhere = "203.0.113.9", "198.51.100.4"
    for _ in range(3):  # a successful login gives its attempt back
        assert login(engine, "andi", PASSWORDS["andi"], address=here) is None
    # wrong passwords sprayed over many names from one address, in parallel
    per_thread = auth.MAX_FAILED_PER_ADDRESS // 4
    results = in_parallel(4, lambda i: [login(engine, name, "salah-sandi", address=here)
                                        for name in [f"tamu{i}{j}" for j in range(per_thread - 1)] + ["budi"]])
    assert all(r == [auth.LOGIN_FAILED] * per_thread for r in results), results
    with engine.connect() as conn:
        assert conn.execute(select(LoginThrottle.failures).where(LoginThrottle.address == here)).scalar_one() \
            == auth.MAX_FAILED_PER_ADDRESS
    # the address has used its budget: even the right password is refused from it, with the same answer
    assert login(engine, "andi", PASSWORDS["andi"], address=here) == auth.LOGIN_FAILED
    assert login(engine, "andi", PASSWORDS["andi"], address=elsewhere) is None
    assert login(engine, "andi", PASSWORDS["andi"]) is None  # no address known (a local connection)
    later = now_utc() + timedelta(minutes=auth.ADDRESS_WINDOW_MINUTES + 1)
    assert login(engine, "andi", PASSWORDS["andi"], address=here, now=later) is None  # a new window
    assert login(engine, "budi", PASSWORDS["budi"], address=here, now=later) is None  # 4 failures: not locked
    log = auth.audit_log(engine=engine, actor=ADMIN)
    assert log["after"].str.contains("alamat dibatasi").sum() == 1


def test_change_own_password_is_limited(accounts):
    engine = accounts
    andi = auth.Actor("andi", "satpolpp")
    for i in range(2):  # failed logins and wrong old passwords share one count
        assert login(engine, "andi", "salah-sandi") == auth.LOGIN_FAILED
    for i in range(2):
        with pytest.raises(auth.AuthError, match="Kata sandi lama salah. Sisa"):
            auth.change_own_password(engine=engine, actor=andi, old=f"salah-{i}", new="sandi-baru-123")
    with pytest.raises(auth.AuthError, match="kini dikunci"):
        auth.change_own_password(engine=engine, actor=andi, old="salah-5", new="sandi-baru-123")
    with pytest.raises(auth.AuthError) as refused:  # the right old password, but locked now
        auth.change_own_password(engine=engine, actor=andi, old=PASSWORDS["andi"], new="sandi-baru-123")
    assert str(refused.value) == auth.OWN_PASSWORD_LOCKED
    assert login(engine, "andi", PASSWORDS["andi"]) == auth.LOGIN_FAILED
    assert user_row(engine, "andi").password_hash is not None
    # parallel guesses of the old password: at most MAX_FAILED of them are checked at all
    auth.set_password(engine=engine, actor=ADMIN, username="andi", password="diatur-admin")
    results = in_parallel(8, lambda i: auth.change_own_password(engine=engine, actor=andi, old=f"tebak-{i}",
                                                                new="sandi-baru-123"))
    assert all(isinstance(r, auth.AuthError) for r in results)
    assert sum(str(r) == auth.OWN_PASSWORD_LOCKED for r in results) == 8 - auth.MAX_FAILED
    # an administrator's reset unlocks; then the change works and resets the count
    auth.set_password(engine=engine, actor=ADMIN, username="andi", password="diatur-admin")
    auth.change_own_password(engine=engine, actor=andi, old="diatur-admin", new="sandi-baru-123")
    assert user_row(engine, "andi").failed_logins == 0
    assert login(engine, "andi", "sandi-baru-123") is None
    log = auth.audit_log(engine=engine, actor=ADMIN)
    assert (log["action"] == "sandi_ganti_gagal").sum() == 4 + 8


def _lock(engine, name: str) -> None:
    for _ in range(auth.MAX_FAILED):
        login(engine, name, "salah-sandi")


def test_refusals_look_alike(accounts):
    """Unknown, wrong password, locked and disabled accounts get the same answer in about the same time."""
    engine = accounts
    auth.set_active(engine=engine, actor=ADMIN, username="budi", active=False)
    _lock(engine, "cici")
    cases = {
        "tidak dikenal": ("siapa", "rahasia-siapa"),
        "sandi salah": ("andi", "salah-sandi"),
        "terkunci": ("cici", PASSWORDS["cici"]),  # right password, locked account
        "nonaktif": ("budi", PASSWORDS["budi"]),  # right password, disabled account
    }
    times: dict[str, list[float]] = {k: [] for k in cases}
    for _ in range(7):  # interleaved, so a busy moment on the machine hits every case alike
        for reason, (name, pw) in cases.items():
            with engine.begin() as conn:  # keep andi below the lock
                conn.execute(update(User).where(User.username == "andi").values(failed_logins=0))
            t0 = time.perf_counter()
            message = login(engine, name, pw)
            times[reason].append(time.perf_counter() - t0)
            assert message == auth.LOGIN_FAILED, reason
    medians = {k: statistics.median(v) for k, v in times.items()}
    # before the fix: locked and disabled answered at once (a few ms), unknown after one argon2 verify
    assert min(medians.values()) >= 0.5 * max(medians.values()), medians
    # the audit log still tells the administrator why
    log = auth.audit_log(engine=engine, actor=ADMIN)
    failed = " ".join(log.loc[log["action"] == "login_gagal", "after"])
    for reason in cases:
        assert f'"alasan": "{reason}"' in failed


@pytest.mark.parametrize("length", [65, 10_000])
def test_long_inputs_give_the_plain_refusal(accounts, length):
    engine = accounts
    long_name, long_pw = "a" * length, "x" * length
    too_long_pw = "x" * (auth.MAX_PASSWORD + 1)
    assert login(engine, long_name, "salah-sandi") == auth.LOGIN_FAILED
    assert login(engine, long_name, PASSWORDS["andi"], address="203.0.113.5") == auth.LOGIN_FAILED
    assert login(engine, "andi" + "i" * (length - 4), PASSWORDS["andi"]) == auth.LOGIN_FAILED
    assert login(engine, "andi", long_pw) == auth.LOGIN_FAILED
    assert user_row(engine, "andi").failed_logins == 1  # counted as a wrong password, however long
    assert login(engine, "andi", PASSWORDS["andi"], address="1" * length) is None  # the address is cut to fit
    with engine.connect() as conn:
        names = conn.execute(select(AuditLog.username)).scalars().all()
    assert max(len(n) for n in names) <= 64
    with pytest.raises(auth.AuthError, match="Nama pengguna 3-64"):
        auth.add_user(engine=engine, actor=ADMIN, username=long_name, password="rahasia-baru", role="satpolpp")
    with pytest.raises(auth.AuthError, match="maksimal"):
        auth.add_user(engine=engine, actor=ADMIN, username="dewi", password=too_long_pw, role="satpolpp")
    with pytest.raises(auth.AuthError, match="Peran tidak dikenal"):
        auth.add_user(engine=engine, actor=ADMIN, username="dewi", password="rahasia-baru", role="r" * length)
    with pytest.raises(auth.AuthError, match="maksimal"):
        auth.set_password(engine=engine, actor=ADMIN, username="andi", password=too_long_pw)
    for call in (
        lambda: auth.set_password(engine=engine, actor=ADMIN, username=long_name, password="rahasia-baru"),
        lambda: auth.set_role(engine=engine, actor=ADMIN, username=long_name, role="satpolpp"),
        lambda: auth.set_active(engine=engine, actor=ADMIN, username=long_name, active=False),
    ):
        with pytest.raises(auth.AuthError, match="tidak ditemukan"):
            call()
    with pytest.raises(auth.AuthError, match="Peran tidak dikenal"):
        auth.set_role(engine=engine, actor=ADMIN, username="andi", role="r" * length)
    andi = auth.Actor("andi", "satpolpp")
    with pytest.raises(auth.AuthError, match="Kata sandi lama salah"):
        auth.change_own_password(engine=engine, actor=andi, old=long_pw, new="sandi-baru-123")
    with pytest.raises(auth.AuthError, match="maksimal"):
        auth.change_own_password(engine=engine, actor=andi, old=PASSWORDS["andi"], new=too_long_pw)
    assert auth.role_of(engine=engine, username=long_name) is None
    assert user_row(engine, "andi").role == "satpolpp"


def test_last_active_kominfo_is_kept(accounts):
    engine = accounts
    with pytest.raises(auth.AuthError, match="satu-satunya akun Diskominfo"):
        auth.set_role(engine=engine, actor=ADMIN, username="admin", role="pimpinan")  # by itself
    with pytest.raises(auth.AuthError, match="satu-satunya akun Diskominfo"):
        auth.set_role(engine=engine, actor=auth.SYSTEM, username="admin", role="satpolpp")  # the command line
    with pytest.raises(auth.AuthError, match="satu-satunya akun Diskominfo"):
        auth.set_active(engine=engine, actor=auth.SYSTEM, username="admin", active=False)
    with pytest.raises(auth.AuthError, match="akun Anda sendiri"):
        auth.set_active(engine=engine, actor=ADMIN, username="admin", active=False)
    # a disabled kominfo account does not count as another administrator
    auth.add_user(engine=engine, actor=ADMIN, username="dewi", password="rahasia-dewi", role="kominfo")
    auth.set_active(engine=engine, actor=ADMIN, username="dewi", active=False)
    with pytest.raises(auth.AuthError, match="satu-satunya akun Diskominfo"):
        auth.set_role(engine=engine, actor=ADMIN, username="admin", role="pimpinan")
    # with two active ones, either may go; then the other is the last one again
    auth.set_active(engine=engine, actor=ADMIN, username="dewi", active=True)
    auth.set_role(engine=engine, actor=ADMIN, username="admin", role="pimpinan")
    with pytest.raises(auth.AuthError, match="satu-satunya akun Diskominfo"):
        auth.set_role(engine=engine, actor=auth.Actor("dewi", "kominfo"), username="dewi", role="satpolpp")
    with pytest.raises(auth.AuthError, match="satu-satunya akun Diskominfo"):
        auth.set_active(engine=engine, actor=auth.SYSTEM, username="dewi", active=False)
    auth.set_role(engine=engine, actor=auth.SYSTEM, username="andi", role="pimpinan")  # others change freely
    auth.set_active(engine=engine, actor=auth.SYSTEM, username="andi", active=False)
    assert (user_row(engine, "admin").role, user_row(engine, "dewi").role) == ("pimpinan", "kominfo")
    assert user_row(engine, "dewi").active


def test_parallel_demotions_keep_one_administrator(accounts):
    engine = accounts
    auth.add_user(engine=engine, actor=ADMIN, username="dewi", password="rahasia-dewi", role="kominfo")
    names = ("admin", "dewi")

    def demote(i: int) -> None:
        auth.set_role(engine=engine, actor=auth.SYSTEM, username=names[i], role="pimpinan")

    def disable(i: int) -> None:
        auth.set_active(engine=engine, actor=auth.SYSTEM, username=names[i], active=False)

    def one_of_each(i: int) -> None:
        (demote, disable)[i](i)

    for change in (demote, disable, one_of_each):
        for _ in range(2):
            results = in_parallel(2, change)
            assert results.count(None) == 1, results  # one went through
            refused = [r for r in results if r is not None]
            assert isinstance(refused[0], auth.AuthError) and "satu-satunya" in str(refused[0]), results
            with engine.connect() as conn:
                admins = conn.execute(select(User.username).where(User.role == "kominfo", User.active.is_(True))).all()
            assert len(admins) == 1
            with engine.begin() as conn:  # both administrators again for the next round
                conn.execute(update(User).where(User.username.in_(["admin", "dewi"])).values(role="kominfo", active=True))


def test_forms_bound_their_inputs(demo_dir, page):
    """The login form and the account forms limit what can be typed; a longer name sent anyway
    (bypassing the browser's limit) gets the plain refusal, not an error."""
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=60).run()
    assert at.text_input(key="login_username").max_chars == auth.MAX_USERNAME
    assert at.text_input(key="login_password").max_chars == auth.MAX_PASSWORD
    at.text_input(key="login_username").set_value("k" * 65)
    at.text_input(key="login_password").set_value("demo-kominfo")
    at.button[0].click()
    at.run()
    assert not at.exception
    assert [e.value for e in at.error] == [auth.LOGIN_FAILED]
    akun = page("akun", "satpolpp")
    assert [akun.text_input(key=k).max_chars for k in ("akun_old", "akun_new", "akun_again")] == [auth.MAX_PASSWORD] * 3
    pengguna = page("pengguna", "kominfo")
    assert pengguna.text_input(key="pengguna_add_name").max_chars == auth.MAX_USERNAME
    assert pengguna.text_input(key="pengguna_add_pw").max_chars == auth.MAX_PASSWORD
    assert pengguna.text_input(key="pengguna_reset_pw").max_chars == auth.MAX_PASSWORD
