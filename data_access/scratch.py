"""Scratch folders of large imports, kept in the data folder (not the shared temporary folder)
and removed even when the process that made them was killed.

Each folder's name carries the id of the process that made it, so a later start-up or import
can tell a folder still in use from one left behind by a killed process."""
from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path

from . import config

PREFIX = "pantau-muat-"
LEGACY_MAX_AGE_S = 3600  # folders older versions left in the shared temporary folder


def scratch_root() -> Path:
    return config.private_dir(config.data_dir() / "scratch")


def new_scratch_dir() -> Path:
    """A new private folder for one import's staging files."""
    return Path(tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-", dir=scratch_root()))


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


def _owner_pid(name: str) -> int | None:
    rest = name[len(PREFIX):]
    head = rest.split("-", 1)[0]
    return int(head) if head.isdigit() else None


def clean_stale() -> int:
    """Remove scratch folders whose process is gone (in the data folder), and those older
    versions left in the shared temporary folder that nobody has touched for an hour.
    Returns how many were removed. Safe to call at any time, from several processes."""
    removed = 0
    root = config.data_dir() / "scratch"
    if root.is_dir():
        for entry in root.iterdir():
            if not entry.name.startswith(PREFIX):
                continue
            pid = _owner_pid(entry.name)
            if pid is None or not _alive(pid):
                shutil.rmtree(entry, ignore_errors=True)
                removed += not entry.exists()
    now = time.time()
    try:
        legacy = list(Path(tempfile.gettempdir()).glob(f"{PREFIX}*"))
    except OSError:
        legacy = []
    for entry in legacy:
        try:
            if entry.is_dir() and entry.stat().st_uid == os.getuid() and now - entry.stat().st_mtime > LEGACY_MAX_AGE_S:
                shutil.rmtree(entry, ignore_errors=True)
                removed += not entry.exists()
        except OSError:
            continue
    return removed
