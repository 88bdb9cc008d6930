"""Configuration: where the database is, the pseudonymisation key, optional files.

Everything comes from environment variables so that the CLI, the app and the tests
read the same settings. Unset DATABASE_URL means the embedded SQLite file.
"""
from __future__ import annotations

import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA_DIR = PROJECT_ROOT / "data"
DEFAULT_SQLITE_NAME = "pantau.db"


class ConfigError(RuntimeError):
    """A setting is missing or wrong; the message is meant for the user (Bahasa Indonesia)."""


@dataclass(frozen=True)
class Settings:
    database_url: str
    is_default_sqlite: bool
    data_dir: Path
    boundary_geojson: Path | None


def data_dir() -> Path:
    return Path(os.environ.get("PANTAU_DATA_DIR", DEFAULT_DATA_DIR))


# user:password@ in a URL, and password=... in a query string or a connection string
_URL_CREDENTIALS = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.\-]*://[^:/@\s'\"]*):[^\s/'\"]*@")
_PASSWORD_PARAM = re.compile(r"(?P<head>\b(?:password|passwd|pwd)\s*=\s*)[^&\s;'\"]+", re.IGNORECASE)


def mask_credentials(text: object) -> str:
    """`text` with any password in a database URL (scheme://user:password@host) or a
    password=... parameter replaced by ***: for every message and log line that may quote a
    DATABASE_URL, even one too mistyped to parse."""
    s = str(text)
    s = _URL_CREDENTIALS.sub(lambda m: m.group("head") + ":***@", s)
    return _PASSWORD_PARAM.sub(lambda m: m.group("head") + "***", s)


def private_dir(path: Path) -> Path:
    """Create `path` (and missing parents) readable by the owner only (0700); an existing
    folder of ours that others can read is tightened."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    _tighten(path, 0o700)
    return path


def private_file(path: Path) -> None:
    """Make sure `path` exists with mode 0600 before a library (SQLite) creates it with the
    process' umask; an existing file of ours that others can read is tightened."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        _tighten(path, 0o600)


def _tighten(path: Path, mode: int) -> None:
    try:
        st = path.stat()
        if st.st_uid == os.getuid() and st.st_mode & 0o077:
            path.chmod(mode)
    except OSError:  # not ours, or gone: leave it
        pass


def default_sqlite_path() -> Path:
    return data_dir() / DEFAULT_SQLITE_NAME


def get_settings() -> Settings:
    url = os.environ.get("DATABASE_URL", "").strip()
    geo = os.environ.get("PANTAU_BOUNDARY_GEOJSON", "").strip()
    if url:
        return Settings(url, False, data_dir(), Path(geo) if geo else None)
    path = default_sqlite_path()
    return Settings(f"sqlite:///{path}", True, data_dir(), Path(geo) if geo else None)


def pseudonym_key() -> bytes:
    """The key of the keyed hash that turns NIK / phone / name into a visitor key.

    Taken from PANTAU_PSEUDONYM_KEY. When it is not set, a random key is created once in
    the data folder (file mode 0600) so the embedded default works with no setup; a real
    deployment sets the variable (and keeps it secret and stable: a new key means new
    visitor keys, so distinct-visitor counts would restart).
    """
    env = os.environ.get("PANTAU_PSEUDONYM_KEY", "")
    if env:
        if len(env) < 16:
            raise ConfigError("PANTAU_PSEUDONYM_KEY terlalu pendek: minimal 16 karakter.")
        return env.encode()
    return secret_file("pseudonym.key")


def secret_file(name: str) -> bytes:
    """A random key kept in the data folder under `name` (mode 0600), created on first use;
    safe when several processes ask at once."""
    path = private_dir(data_dir()) / name
    if path.exists():
        return path.read_bytes().strip()
    key = secrets.token_hex(32).encode()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process created it first
        return path.read_bytes().strip()
    with os.fdopen(fd, "wb") as fh:
        fh.write(key)
    return key
