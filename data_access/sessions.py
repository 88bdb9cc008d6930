"""Sign-in sessions that survive a reload or a second tab, and that the server can end.

After a password sign-in the browser gets a token `v1.<secret>.<issued>.<signature>`:
- `secret` is 32 random bytes; the database keeps only its SHA-256 (app_session), so a copy of
  the database does not let anyone resume a session;
- `issued` is the second it was made; a token older than MAX_AGE_S is refused whatever happens;
- `signature` is an HMAC-SHA256 over both with the session key (PANTAU_SESSION_KEY, or a
  random key kept in the data folder, mode 0600), so a made-up token is refused before any
  database look-up.
A session also ends after IDLE_S without use, when the user signs out (its row is deleted),
and for every session of an account that is disabled or whose password changes.
The password is never stored in the browser."""
from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from datetime import datetime, timedelta

from sqlalchemy import Engine, delete, insert, select, update

from . import config
from .calendar import now_utc
from .models import AppSession, User

IDLE_S = 30 * 60  # the session's lifetime without use
MAX_AGE_S = 12 * 3600  # a working day: after that the password is asked again in any case
TOUCH_EVERY_S = 60  # last_seen is written at most once a minute per session
COOKIE = "pantau_sesi"
_PREFIX = "v1"


def session_key() -> bytes:
    env = os.environ.get("PANTAU_SESSION_KEY", "")
    if env:
        if len(env) < 32:
            raise config.ConfigError("PANTAU_SESSION_KEY terlalu pendek: minimal 32 karakter.")
        return env.encode()
    return config.secret_file("session.key")


def _b64(b: bytes) -> str:
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def _sign(secret: str, issued: int, key: bytes) -> str:
    return _b64(hmac.new(key, f"{_PREFIX}.{secret}.{issued}".encode(), hashlib.sha256).digest())


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create(*, engine: Engine, username: str, now: datetime | None = None) -> str:
    """A new session for `username`; returns the token for the browser."""
    now = now or now_utc()
    secret = _b64(secrets.token_bytes(32))
    issued = int((now - datetime(1970, 1, 1)).total_seconds())
    with engine.begin() as conn:
        # sessions of anyone that ran out long ago are removed on the way
        conn.execute(delete(AppSession).where(AppSession.last_seen < now - timedelta(seconds=MAX_AGE_S)))
        conn.execute(insert(AppSession).values(id_hash=_hash(secret), username=username, created_at=now,
                                               last_seen=now))
    return f"{_PREFIX}.{secret}.{issued}.{_sign(secret, issued, session_key())}"


def _parse(token: object, now: datetime) -> str | None:
    """The token's secret when its form, signature and age are right."""
    if not isinstance(token, str) or len(token) > 200:
        return None
    parts = token.split(".")
    if len(parts) != 4 or parts[0] != _PREFIX or not parts[2].isdigit():
        return None
    _, secret, issued_s, sig = parts
    if not hmac.compare_digest(sig, _sign(secret, int(issued_s), session_key())):
        return None
    issued = datetime(1970, 1, 1) + timedelta(seconds=int(issued_s))
    if not (now - timedelta(seconds=MAX_AGE_S) <= issued <= now + timedelta(minutes=5)):
        return None
    return secret


def resume(*, engine: Engine, token: object, now: datetime | None = None) -> str | None:
    """The user name of a valid, unexpired session of an active account (and its use noted);
    None otherwise, and an expired session is removed."""
    now = now or now_utc()
    secret = _parse(token, now)
    if secret is None:
        return None
    h = _hash(secret)
    with engine.begin() as conn:
        row = conn.execute(
            select(AppSession.username, AppSession.last_seen, User.active)
            .join(User, User.username == AppSession.username, isouter=True)
            .where(AppSession.id_hash == h)
        ).first()
        if row is None:
            return None
        if not row.active or now - row.last_seen > timedelta(seconds=IDLE_S):
            conn.execute(delete(AppSession).where(AppSession.id_hash == h))
            return None
        if now - row.last_seen >= timedelta(seconds=TOUCH_EVERY_S):
            conn.execute(update(AppSession).where(AppSession.id_hash == h).values(last_seen=now))
    return row.username


def end(*, engine: Engine, token: object) -> None:
    """Sign out: this browser's session ends."""
    parts = token.split(".") if isinstance(token, str) else []
    if len(parts) == 4:
        with engine.begin() as conn:
            conn.execute(delete(AppSession).where(AppSession.id_hash == _hash(parts[1])))


def end_all(conn, username: str) -> None:
    """Every session of an account (disabled, password changed); inside the caller's transaction."""
    conn.execute(delete(AppSession).where(AppSession.username == username))
