"""Local accounts, roles, lockout, and the audit log.

Every data-changing function in data_access takes an `Actor` and checks the role itself, so
hiding a button is never the only guard.

Login attempts are counted in the database before the password is checked: one atomic
UPDATE (failed_logins = failed_logins + 1) per account and one atomic upsert per client
address, each read back under its row lock, so parallel attempts cannot overwrite each other's
count. A correct password gives the attempt back. Every refusal of a login says the same thing
after the same work (one argon2 verify), whether the account is unknown, locked, disabled or the
password wrong, so the answer does not tell which accounts exist."""
from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import pandas as pd
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, Engine, case, func, insert, select, update
from sqlalchemy.dialects.mysql import insert as mysql_insert
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DBAPIError

from . import sessions
from .calendar import now_utc
from .models import AuditLog, LoginThrottle, User

ROLES = ("pimpinan", "kominfo", "satpolpp")
ROLE_LABELS = {
    "pimpinan": "Pimpinan (Kantor Bupati)",
    "kominfo": "Diskominfo",
    "satpolpp": "Satpol PP",
}
PERMISSIONS: dict[str, set[str]] = {
    "registry_edit": {"kominfo"},
    "import": {"kominfo"},
    "users": {"kominfo"},
    "audit_read": {"kominfo"},
    "visit_write": {"kominfo", "satpolpp"},
}
MAX_FAILED = 5  # wrong passwords in a row that lock an account
LOCK_MINUTES = 15
MAX_FAILED_PER_ADDRESS = 20  # failed logins from one client address per window
ADDRESS_WINDOW_MINUTES = 15
MIN_PASSWORD = 8
# input bounds, checked before anything reaches the database (the columns are String(64))
MAX_USERNAME = 64
MAX_PASSWORD = 1024
MAX_ADDRESS = 64
MAX_DISPLAY_NAME = 120  # as a visit's officer
USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")

# the one answer to every refused login: unknown user, wrong password, locked, disabled, throttled
LOGIN_FAILED = (
    "Nama pengguna atau kata sandi salah, atau akun sementara dikunci karena terlalu banyak "
    "percobaan. Coba lagi nanti; bila tetap gagal, hubungi Diskominfo."
)
OWN_PASSWORD_LOCKED = (
    f"Akun Anda dikunci sementara karena terlalu banyak percobaan kata sandi salah. Coba lagi dalam "
    f"{LOCK_MINUTES} menit, atau minta Diskominfo mengatur ulang kata sandi Anda."
)
LAST_ADMIN = (
    "{username} adalah satu-satunya akun Diskominfo yang aktif, sehingga tidak dapat {change}. "
    "Tambahkan atau aktifkan akun Diskominfo lain terlebih dahulu, agar selalu ada yang dapat mengelola pengguna."
)

_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash("pantau-dummy-password")


class AuthError(Exception):
    """A refusal with a message in Bahasa Indonesia for the user."""


class PermissionDenied(AuthError):
    pass


@dataclass(frozen=True)
class Actor:
    username: str
    role: str

    def can(self, permission: str) -> bool:
        return self.role in PERMISSIONS.get(permission, set())


SYSTEM = Actor("sistem", "kominfo")  # the command line, run by an operator on the server


def require(actor: Actor | None, permission: str) -> None:
    if actor is None or not actor.can(permission):
        raise PermissionDenied("Anda tidak berwenang melakukan tindakan ini.")


def _json(value) -> str | None:
    if value is None:
        return None

    def default(o):
        if isinstance(o, (date, datetime)):
            return o.isoformat()
        return str(o)

    return json.dumps(value, default=default, ensure_ascii=False, sort_keys=True)


def _clip(text: str, limit: int) -> str:
    """`text` cut to `limit` characters (marked with an ellipsis), to fit its column."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def audit(conn: Connection, *, username: str, action: str, target: str | None = None, before=None, after=None) -> None:
    conn.execute(
        insert(AuditLog).values(
            at=now_utc(), username=_clip(str(username), 64), action=_clip(action, 40),
            target=None if target is None else _clip(str(target), 200), before=_json(before), after=_json(after),
        )
    )


def audit_log(*, engine: Engine, actor: Actor, start: date | None = None, end: date | None = None,
              limit: int = 5000) -> pd.DataFrame:
    require(actor, "audit_read")
    stmt = select(AuditLog.at, AuditLog.username, AuditLog.action, AuditLog.target, AuditLog.before, AuditLog.after)
    if start is not None:
        stmt = stmt.where(AuditLog.at >= datetime.combine(start, datetime.min.time()) - timedelta(hours=7))
    if end is not None:
        stmt = stmt.where(AuditLog.at < datetime.combine(end + timedelta(days=1), datetime.min.time()) - timedelta(hours=7))
    stmt = stmt.order_by(AuditLog.at.desc(), AuditLog.id.desc()).limit(limit)
    with engine.connect() as conn:
        return pd.read_sql(stmt, conn)


def _check_password(password: str) -> None:
    if len(password or "") < MIN_PASSWORD:
        raise AuthError(f"Kata sandi minimal {MIN_PASSWORD} karakter.")
    if len(password) > MAX_PASSWORD:
        raise AuthError(f"Kata sandi maksimal {MAX_PASSWORD} karakter.")


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise AuthError(f"Peran tidak dikenal: {_clip(str(role), 20)!r}. Pilihan: {', '.join(ROLES)}.")


def _name(username: str | None) -> str:
    """A user name as stored (trimmed, lower case); an over-long one is refused before any query."""
    name = (username or "").strip().lower()
    if len(name) > MAX_USERNAME:
        raise AuthError(f"Pengguna {_clip(name, 20)!r} tidak ditemukan.")
    return name


def _is_deadlock(exc: DBAPIError) -> bool:
    orig = exc.orig
    if getattr(orig, "sqlstate", None) in ("40P01", "40001"):  # PostgreSQL
        return True
    args = getattr(orig, "args", ())
    return bool(args) and args[0] == 1213  # MariaDB/MySQL: deadlock found, transaction rolled back


def _retrying(fn, attempts: int = 4):
    """fn() again when the database chose it as a deadlock victim (parallel upserts on MariaDB
    can be): its transaction was rolled back whole, so running it again is safe."""
    for i in range(attempts):
        try:
            return fn()
        except DBAPIError as exc:
            if i == attempts - 1 or not _is_deadlock(exc):
                raise
            time.sleep(0.02 * (i + 1))


def _bump_account(conn: Connection, username: str, now: datetime) -> tuple:
    """Count one attempt against `username` before its password is checked, atomically:
    UPDATE ... SET failed_logins = failed_logins + 1, then read back under the row lock that
    UPDATE took (on SQLite: the write lock). Returns (row or None, attempts in this series,
    this one included). A lock that has expired starts a fresh series; the attempt that reaches
    MAX_FAILED sets the lock at once, so attempts running beside it are refused (a correct
    password in that attempt lifts it again)."""
    conn.execute(update(User).where(User.username == username).values(failed_logins=User.failed_logins + 1))
    user = conn.execute(select(User.__table__).where(User.username == username).with_for_update()).first()
    if user is None:
        return None, 0
    n, locked_until, values = user.failed_logins, user.locked_until, {}
    if locked_until is not None and locked_until <= now:
        n, locked_until = 1, None  # the previous lock has expired: a fresh series
        values.update(failed_logins=1, locked_until=None)
    if n >= MAX_FAILED and locked_until is None:
        values["locked_until"] = now + timedelta(minutes=LOCK_MINUTES)
    if values:
        conn.execute(update(User).where(User.id == user.id).values(**values))
    return user, n


def _bump_address(conn: Connection, address: str, now: datetime) -> int:
    """Count one login attempt from `address` in its window with one atomic upsert; returns the
    count in the current window, this attempt included (read back under the row lock)."""
    t = LoginThrottle.__table__
    expired = t.c.window_start <= now - timedelta(minutes=ADDRESS_WINDOW_MINUTES)
    failures = case((expired, 1), else_=t.c.failures + 1)
    start = case((expired, now), else_=t.c.window_start)
    dialect = conn.dialect.name
    if dialect in ("sqlite", "postgresql"):
        stmt = (sqlite_insert if dialect == "sqlite" else pg_insert)(t).values(address=address, failures=1, window_start=now)
        stmt = stmt.on_conflict_do_update(index_elements=[t.c.address], set_={"failures": failures, "window_start": start})
    else:
        # MariaDB/MySQL assign left to right, each seeing the ones before: failures first,
        # so that it still compares the old window_start
        stmt = mysql_insert(t).values(address=address, failures=1, window_start=now)
        stmt = stmt.on_duplicate_key_update([("failures", failures), ("window_start", start)])
    conn.execute(stmt)
    return conn.execute(select(t.c.failures).where(t.c.address == address).with_for_update()).scalar_one()


def _release_address(conn: Connection, address: str) -> None:
    """A successful login gives back the attempt it counted against its address."""
    t = LoginThrottle.__table__
    conn.execute(update(t).where(t.c.address == address, t.c.failures > 0).values(failures=t.c.failures - 1))


def _verify(password_hash: str | None, password: str) -> bool:
    """One argon2 verify, whatever the case (a dummy hash when there is no real one), so that
    every answer costs the same time. True only for a real hash that matches."""
    try:
        _hasher.verify(password_hash or _DUMMY_HASH, password[:MAX_PASSWORD] or "-")
    except (VerificationError, InvalidHashError):
        return False
    return password_hash is not None


def _lock_admins(conn: Connection) -> list[int]:
    """The ids of the active kominfo accounts, locked until the end of the transaction, so
    two parallel changes cannot both remove "another" administrator: SELECT ... FOR UPDATE on
    PostgreSQL and MariaDB (a waiting transaction re-reads the rows once the first commits);
    on SQLite a first write takes the database's write lock before anything is read."""
    is_admin = (User.role == "kominfo") & User.active.is_(True)
    if conn.dialect.name == "sqlite":
        conn.execute(update(User).where(is_admin).values(role=User.role))
    return list(conn.execute(select(User.id).where(is_admin).order_by(User.id).with_for_update()).scalars())


def has_users(*, engine: Engine) -> bool:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(User)).scalar_one() > 0


def add_user(*, engine: Engine, actor: Actor, username: str, password: str, role: str,
             display_name: str | None = None) -> None:
    require(actor, "users")
    display_name = _check_display_name(display_name)
    username = (username or "").strip().lower()
    if len(username) > MAX_USERNAME or not USERNAME_RE.match(username):
        raise AuthError("Nama pengguna 3-64 karakter: huruf kecil, angka, titik, garis bawah atau tanda hubung.")
    _check_role(role)
    _check_password(password)
    with engine.begin() as conn:
        if conn.execute(select(User.id).where(User.username == username)).first():
            raise AuthError(f"Nama pengguna {username!r} sudah dipakai.")
        conn.execute(
            insert(User).values(
                username=username, password_hash=_hasher.hash(password), role=role, active=True,
                failed_logins=0, created_at=now_utc(), display_name=display_name,
            )
        )
        audit(conn, username=actor.username, action="pengguna_tambah", target=username,
              after={"role": role, "display_name": display_name})


def _get(conn: Connection, username: str):
    row = conn.execute(select(User.__table__).where(User.username == username)).first()
    if row is None:
        raise AuthError(f"Pengguna {username!r} tidak ditemukan.")
    return row


def set_password(*, engine: Engine, actor: Actor, username: str, password: str) -> None:
    """An administrator (kominfo, or the command line) sets a user's password; unlocks it."""
    require(actor, "users")
    _check_password(password)
    username = _name(username)
    with engine.begin() as conn:
        _get(conn, username)
        conn.execute(
            update(User).where(User.username == username).values(
                password_hash=_hasher.hash(password), failed_logins=0, locked_until=None
            )
        )
        sessions.end_all(conn, username)  # a new password ends every signed-in browser
        audit(conn, username=actor.username, action="pengguna_sandi", target=username)


def change_own_password(*, engine: Engine, actor: Actor, old: str, new: str, now: datetime | None = None) -> None:
    """A signed-in user changes their own password. A wrong old password counts against the
    same per-account counter as a failed login: five in a row lock the account (for logins and
    for this form) for LOCK_MINUTES."""
    _check_password(new)
    old = old or ""
    if old == new:
        raise AuthError("Kata sandi baru harus berbeda dari yang lama.")
    now = now or now_utc()
    username = _name(actor.username)

    def count_attempt():
        with engine.begin() as conn:
            return _bump_account(conn, username, now)

    user, n = _retrying(count_attempt)
    if user is None:
        raise AuthError(f"Pengguna {username!r} tidak ditemukan.")
    locked = n > MAX_FAILED
    ok = _verify(None if locked or len(old) > MAX_PASSWORD else user.password_hash, old)
    new_hash = _hasher.hash(new) if ok else None
    with engine.begin() as conn:
        if ok:
            conn.execute(update(User).where(User.id == user.id).values(
                password_hash=new_hash, failed_logins=0, locked_until=None))
            sessions.end_all(conn, username)  # other browsers signed in with the old password
            audit(conn, username=username, action="sandi_ganti_sendiri", target=username)
        else:
            audit(conn, username=username, action="sandi_ganti_gagal", target=username,
                  after={"alasan": "terkunci" if locked else "sandi lama salah", "ke": n})
    if locked:
        raise AuthError(OWN_PASSWORD_LOCKED)
    if not ok:
        if n >= MAX_FAILED:
            raise AuthError(f"Kata sandi lama salah. Akun Anda kini dikunci {LOCK_MINUTES} menit karena "
                            f"{MAX_FAILED} kali salah berturut-turut.")
        raise AuthError(f"Kata sandi lama salah. Sisa {MAX_FAILED - n} percobaan sebelum akun dikunci.")


def set_active(*, engine: Engine, actor: Actor, username: str, active: bool) -> None:
    """Disable or re-enable an account (re-enabling also unlocks it). The last active kominfo
    account cannot be disabled, by anyone."""
    require(actor, "users")
    username = _name(username)
    if not active and username == actor.username:
        raise AuthError("Anda tidak dapat menonaktifkan akun Anda sendiri.")

    def change():
        with engine.begin() as conn:
            admins = _lock_admins(conn)
            user = _get(conn, username)
            if not active and admins == [user.id]:
                raise AuthError(LAST_ADMIN.format(username=username, change="dinonaktifkan"))
            conn.execute(
                update(User).where(User.id == user.id).values(active=active, failed_logins=0, locked_until=None)
            )
            if not active:
                sessions.end_all(conn, username)
            audit(
                conn, username=actor.username, action="pengguna_aktif" if active else "pengguna_nonaktif",
                target=username, before={"active": bool(user.active)}, after={"active": active},
            )

    _retrying(change)


def set_role(*, engine: Engine, actor: Actor, username: str, role: str) -> None:
    """Change an account's role. The last active kominfo account cannot lose that role, by
    anyone (itself included)."""
    require(actor, "users")
    _check_role(role)
    username = _name(username)

    def change():
        with engine.begin() as conn:
            admins = _lock_admins(conn)
            user = _get(conn, username)
            if role != "kominfo" and admins == [user.id]:
                raise AuthError(LAST_ADMIN.format(username=username, change="diubah perannya"))
            conn.execute(update(User).where(User.id == user.id).values(role=role))
            audit(conn, username=actor.username, action="pengguna_peran", target=username,
                  before={"role": user.role}, after={"role": role})

    _retrying(change)


def _check_display_name(name: str | None) -> str | None:
    name = " ".join((name or "").split())
    if len(name) > MAX_DISPLAY_NAME:
        raise AuthError(f"Nama tampilan maksimal {MAX_DISPLAY_NAME} karakter.")
    return name or None


def set_display_name(*, engine: Engine, actor: Actor, username: str, display_name: str | None) -> None:
    """The name shown for an account (the officer of a visit, for instance). Everyone may set
    their own; kominfo may set anyone's."""
    username = _name(username)
    if username != actor.username:
        require(actor, "users")
    name = _check_display_name(display_name)
    with engine.begin() as conn:
        user = _get(conn, username)
        if user.display_name == name:
            return
        conn.execute(update(User).where(User.id == user.id).values(display_name=name))
        audit(conn, username=actor.username, action="pengguna_nama", target=username,
              before={"display_name": user.display_name}, after={"display_name": name})


def display_name_of(*, engine: Engine, username: str) -> str:
    """The account's display name, or its user name when it has none."""
    if not username or len(username) > MAX_USERNAME:
        return username or ""
    with engine.connect() as conn:
        name = conn.execute(select(User.display_name).where(User.username == username)).scalar_one_or_none()
    return name or username


def list_users(*, engine: Engine) -> pd.DataFrame:
    stmt = select(User.username, User.display_name, User.role, User.active, User.failed_logins, User.locked_until,
                  User.created_at, User.last_login_at).order_by(User.username)
    with engine.connect() as conn:
        return pd.read_sql(stmt, conn)


def authenticate(*, engine: Engine, username: str, password: str, address: str | None = None,
                 now: datetime | None = None) -> Actor:
    """Check a login. Five wrong passwords in a row lock the account for 15 minutes; more than
    MAX_FAILED_PER_ADDRESS failed logins from one client `address` (None: not known, e.g. a
    local connection) in ADDRESS_WINDOW_MINUTES refuse that address until its window ends.
    Both counts are taken atomically in the database before the password is checked. Every
    refusal raises AuthError(LOGIN_FAILED) after one argon2 verify. Every attempt, good or bad,
    is audited (the failure is committed before it is raised)."""
    now = now or now_utc()
    username = (username or "").strip().lower()
    password = password or ""
    # a string or nothing (Streamlit's AppTest hands over a stand-in object), cut to fit its column
    address = (address.strip()[:MAX_ADDRESS] or None) if isinstance(address, str) else None
    # an over-long name matches no account (it never reaches a String(64) comparison)
    lookup = username if len(username) <= MAX_USERNAME else ""

    def count_attempt():
        with engine.begin() as conn:
            from_address = _bump_address(conn, address, now) if address else 0
            user, n = _bump_account(conn, lookup, now)
            return from_address, user, n

    from_address, user, n = _retrying(count_attempt)
    if from_address > MAX_FAILED_PER_ADDRESS:
        reason = "alamat dibatasi"
    elif user is None:
        reason = "tidak dikenal"
    elif not user.active:
        reason = "nonaktif"
    elif n > MAX_FAILED:
        reason = "terkunci"
    elif len(password) > MAX_PASSWORD:
        reason = "sandi salah"
    else:
        reason = None
    ok = _verify(user.password_hash if reason is None else None, password)  # one verify on every path
    if not ok and reason is None:
        reason = "sandi salah"
    new_hash = _hasher.hash(password) if ok and _hasher.check_needs_rehash(user.password_hash) else None

    def record():
        with engine.begin() as conn:
            if ok:
                values = {"failed_logins": 0, "locked_until": None, "last_login_at": now}
                if new_hash:
                    values["password_hash"] = new_hash
                conn.execute(update(User).where(User.id == user.id).values(**values))
                if address:
                    _release_address(conn, address)
                audit(conn, username=username, action="login", target=username)
            else:
                after = {"alasan": reason}
                if user is not None:
                    after["ke"] = n
                if address:
                    after["alamat"] = address
                audit(conn, username=username or "-", action="login_gagal", target=username, after=after)

    _retrying(record)
    if not ok:
        raise AuthError(LOGIN_FAILED)
    return Actor(user.username, user.role)


def role_of(*, engine: Engine, username: str) -> str | None:
    """The current role of an active user (None if missing or disabled): re-checked on every
    page run, so a disabled account or a changed role takes effect at once."""
    if not username or len(username) > MAX_USERNAME:
        return None
    with engine.connect() as conn:
        row = conn.execute(select(User.role, User.active).where(User.username == username)).first()
    if row is None or not row.active:
        return None
    return row.role


def create_demo_accounts(*, engine: Engine) -> list[str]:
    """One account per role on a demo database, password 'demo-<name>'."""
    made = []
    with engine.begin() as conn:
        for role in ROLES:
            if conn.execute(select(User.id).where(User.username == role)).first():
                continue
            conn.execute(
                insert(User).values(
                    username=role, password_hash=_hasher.hash(f"demo-{role}"), role=role, active=True,
                    failed_logins=0, created_at=now_utc(),
                )
            )
            made.append(role)
    return made
