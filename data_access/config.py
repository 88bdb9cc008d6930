"""Configuration: where the database is, the pseudonymisation key, optional files.

Everything comes from environment variables so that the CLI, the app and the tests
read the same settings. Unset DATABASE_URL means the embedded SQLite file.
"""
from __future__ import annotations

import os
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
    path = data_dir() / "pseudonym.key"
    if path.exists():
        return path.read_bytes().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32).encode()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process created it first
        return path.read_bytes().strip()
    with os.fdopen(fd, "wb") as fh:
        fh.write(key)
    return key
