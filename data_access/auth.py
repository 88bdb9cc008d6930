"""Local accounts, roles, lockout, and the audit log.

Every data-changing function in data_access takes an `Actor` and checks the role itself, so
hiding a button is never the only guard."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import pandas as pd
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import Connection, Engine, func, insert, select, update

from .calendar import now_utc
from .models import AuditLog, User

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
MAX_FAILED = 5
LOCK_MINUTES = 15
MIN_PASSWORD = 8
USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")

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


def audit(conn: Connection, *, username: str, action: str, target: str | None = None, before=None, after=None) -> None:
    conn.execute(
        insert(AuditLog).values(
            at=now_utc(), username=username, action=action, target=target, before=_json(before), after=_json(after)
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


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise AuthError(f"Peran tidak dikenal: {role!r}. Pilihan: {', '.join(ROLES)}.")


def has_users(*, engine: Engine) -> bool:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(User)).scalar_one() > 0


def add_user(*, engine: Engine, actor: Actor, username: str, password: str, role: str) -> None:
    require(actor, "users")
    username = (username or "").strip().lower()
    if not USERNAME_RE.match(username):
        raise AuthError("Nama pengguna 3-64 karakter: huruf kecil, angka, titik, garis bawah atau tanda hubung.")
    _check_role(role)
    _check_password(password)
    with engine.begin() as conn:
        if conn.execute(select(User.id).where(User.username == username)).first():
            raise AuthError(f"Nama pengguna {username!r} sudah dipakai.")
        conn.execute(
            insert(User).values(
                username=username, password_hash=_hasher.hash(password), role=role, active=True,
                failed_logins=0, created_at=now_utc(),
            )
        )
        audit(conn, username=actor.username, action="pengguna_tambah", target=username, after={"role": role})


def _get(conn: Connection, username: str):
    row = conn.execute(select(User.__table__).where(User.username == username)).first()
    if row is None:
        raise AuthError(f"Pengguna {username!r} tidak ditemukan.")
    return row


def set_password(*, engine: Engine, actor: Actor, username: str, password: str) -> None:
    """An administrator (kominfo, or the command line) sets a user's password; unlocks it."""
    require(actor, "users")
    _check_password(password)
    with engine.begin() as conn:
        _get(conn, username)
        conn.execute(
            update(User).where(User.username == username).values(
                password_hash=_hasher.hash(password), failed_logins=0, locked_until=None
            )
        )
        audit(conn, username=actor.username, action="pengguna_sandi", target=username)


def change_own_password(*, engine: Engine, actor: Actor, old: str, new: str) -> None:
    _check_password(new)
    if old == new:
        raise AuthError("Kata sandi baru harus berbeda dari yang lama.")
    with engine.begin() as conn:
        user = _get(conn, actor.username)
        try:
            _hasher.verify(user.password_hash or _DUMMY_HASH, old)
        except (VerificationError, InvalidHashError):
            raise AuthError("Kata sandi lama salah.") from None
        conn.execute(update(User).where(User.id == user.id).values(password_hash=_hasher.hash(new)))
        audit(conn, username=actor.username, action="sandi_ganti_sendiri", target=actor.username)


def set_active(*, engine: Engine, actor: Actor, username: str, active: bool) -> None:
    require(actor, "users")
    if not active and username == actor.username:
        raise AuthError("Anda tidak dapat menonaktifkan akun Anda sendiri.")
    with engine.begin() as conn:
        user = _get(conn, username)
        conn.execute(
            update(User).where(User.id == user.id).values(active=active, failed_logins=0, locked_until=None)
        )
        audit(
            conn, username=actor.username, action="pengguna_aktif" if active else "pengguna_nonaktif",
            target=username, before={"active": bool(user.active)}, after={"active": active},
        )


def set_role(*, engine: Engine, actor: Actor, username: str, role: str) -> None:
    require(actor, "users")
    _check_role(role)
    with engine.begin() as conn:
        user = _get(conn, username)
        conn.execute(update(User).where(User.id == user.id).values(role=role))
        audit(conn, username=actor.username, action="pengguna_peran", target=username,
              before={"role": user.role}, after={"role": role})


def list_users(*, engine: Engine) -> pd.DataFrame:
    stmt = select(User.username, User.role, User.active, User.failed_logins, User.locked_until,
                  User.created_at, User.last_login_at).order_by(User.username)
    with engine.connect() as conn:
        return pd.read_sql(stmt, conn)


def authenticate(*, engine: Engine, username: str, password: str, now: datetime | None = None) -> Actor:
    """Check a login. Five wrong passwords in a row lock the account for 15 minutes.
    Every attempt, good or bad, is audited (the failure is committed before it is raised)."""
    now = now or now_utc()
    username = (username or "").strip().lower()
    error: str | None = None
    with engine.begin() as conn:
        user = conn.execute(select(User.__table__).where(User.username == username)).first()
        if user is None:
            try:
                _hasher.verify(_DUMMY_HASH, password or "x")  # same cost as a real check
            except VerificationError:
                pass
            audit(conn, username=username or "-", action="login_gagal", target=username, after={"alasan": "tidak dikenal"})
            error = "Nama pengguna atau kata sandi salah."
        elif not user.active:
            audit(conn, username=username, action="login_gagal", target=username, after={"alasan": "nonaktif"})
            error = "Akun ini dinonaktifkan. Hubungi Diskominfo."
        elif user.locked_until is not None and user.locked_until > now:
            minutes = max(1, int((user.locked_until - now).total_seconds() // 60) + 1)
            audit(conn, username=username, action="login_gagal", target=username, after={"alasan": "terkunci"})
            error = f"Akun terkunci karena terlalu banyak percobaan gagal. Coba lagi dalam {minutes} menit."
        else:
            try:
                _hasher.verify(user.password_hash or _DUMMY_HASH, password or "")
            except (VerifyMismatchError, VerificationError, InvalidHashError):
                failed = (user.failed_logins or 0) + 1
                if user.locked_until is not None and user.locked_until <= now:
                    failed = 1  # the previous lock has expired: a fresh series
                values = {"failed_logins": failed}
                error = "Nama pengguna atau kata sandi salah."
                if failed >= MAX_FAILED:
                    values["locked_until"] = now + timedelta(minutes=LOCK_MINUTES)
                    error = f"Akun terkunci selama {LOCK_MINUTES} menit karena {MAX_FAILED} kali kata sandi salah."
                conn.execute(update(User).where(User.id == user.id).values(**values))
                audit(conn, username=username, action="login_gagal", target=username,
                      after={"alasan": "sandi salah", "ke": failed})
            else:
                values = {"failed_logins": 0, "locked_until": None, "last_login_at": now}
                if _hasher.check_needs_rehash(user.password_hash):
                    values["password_hash"] = _hasher.hash(password)
                conn.execute(update(User).where(User.id == user.id).values(**values))
                audit(conn, username=username, action="login", target=username)
    if error is not None:
        raise AuthError(error)
    return Actor(user.username, user.role)


def role_of(*, engine: Engine, username: str) -> str | None:
    """The current role of an active user (None if missing or disabled): re-checked on every
    page run, so a disabled account or a changed role takes effect at once."""
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
