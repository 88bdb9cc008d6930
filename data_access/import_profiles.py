"""Saved column mappings ("profil impor") for exports whose headers are not ours.

A profile keeps a file's headers, the mapping {field: column} that was chosen for them (every
field, recognised or chosen; a field set to None is not used) and the workbook sheet. It is
found again by its name (`--profile NAME`) or by the file's headers: the import page offers
the profile whose headers key (SHA-256 of the normalised header list) matches the new file's.
Every change is written to the audit log."""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, delete, insert, select, update

from .auth import Actor, audit, require
from .calendar import now_utc
from .importer import FIELDS, ImportFailed, check_required, headers_key, resolve_columns
from .models import ImportProfile

_T = ImportProfile.__table__
MAX_NAME = 80  # the column's size
MAX_SHEET = 100


class ProfileError(ValueError):
    """A profile that cannot be saved as given; the message says why, in Bahasa Indonesia."""


@dataclass(frozen=True)
class Profile:
    name: str
    headers: list[str]
    mapping: dict[str, str | None]  # field -> the file's column (None: not used)
    sheet: str | None
    updated_by: str
    updated_at: datetime

    @property
    def headers_key(self) -> str:
        return headers_key(self.headers)


def _profile(row) -> Profile:
    return Profile(name=row.name, headers=json.loads(row.headers), mapping=json.loads(row.mapping),
                   sheet=row.sheet, updated_by=row.updated_by, updated_at=row.updated_at)


def _clean_name(name) -> str:
    name = " ".join(str(name or "").split())
    if not name:
        raise ProfileError("Nama profil impor wajib diisi.")
    if len(name) > MAX_NAME:
        raise ProfileError(f"Nama profil impor paling panjang {MAX_NAME} karakter.")
    return name


def save_profile(*, engine: Engine, actor: Actor, name: str, columns, mapping: dict[str, str | None],
                 sheet: str | None = None) -> Profile:
    """Save (or replace) the profile `name` for a file with these `columns`: the mapping as it
    resolves on them (every field the file provides), which must cover the required fields."""
    require(actor, "import")
    name = _clean_name(name)
    columns = [str(c) for c in columns]
    if sheet is not None and len(str(sheet)) > MAX_SHEET:
        raise ProfileError(f"Nama lembar paling panjang {MAX_SHEET} karakter.")
    try:
        resolved = resolve_columns(columns, mapping)
        check_required(resolved, columns)
    except ImportFailed as exc:
        raise ProfileError(f"Profil tidak disimpan: {exc}") from None
    unused = {f: None for f, c in (mapping or {}).items() if c is None and f in FIELDS}
    stored = {**unused, **resolved}
    now = now_utc()
    values = {"headers_key": headers_key(columns), "headers": json.dumps(columns, ensure_ascii=False),
              "mapping": json.dumps(stored, ensure_ascii=False), "sheet": sheet, "updated_by": actor.username,
              "updated_at": now}
    with engine.begin() as conn:
        old = conn.execute(select(_T).where(_T.c.name == name)).first()
        if old is None:
            conn.execute(insert(ImportProfile).values(name=name, created_by=actor.username, created_at=now, **values))
            audit(conn, username=actor.username, action="profil_impor_buat", target=name,
                  after={"kolom": columns, "pemetaan": stored, "lembar": sheet})
        else:
            before = _profile(old)
            conn.execute(update(ImportProfile).where(ImportProfile.name == name).values(**values))
            audit(conn, username=actor.username, action="profil_impor_ubah", target=name,
                  before={"kolom": before.headers, "pemetaan": before.mapping, "lembar": before.sheet},
                  after={"kolom": columns, "pemetaan": stored, "lembar": sheet})
    return Profile(name=name, headers=columns, mapping=stored, sheet=sheet, updated_by=actor.username, updated_at=now)


def get_profile(*, engine: Engine, name: str) -> Profile:
    """The profile `name`; ImportFailed (naming the profiles there are) when there is none."""
    with engine.connect() as conn:
        row = conn.execute(select(_T).where(_T.c.name == " ".join(str(name).split()))).first()
    if row is None:
        known = [p.name for p in list_profiles(engine=engine)]
        raise ImportFailed(f"Profil impor {name!r} tidak ada. "
                           + (f"Profil yang ada: {', '.join(known)}." if known else "Belum ada profil impor."))
    return _profile(row)


def list_profiles(*, engine: Engine) -> list[Profile]:
    with engine.connect() as conn:
        rows = conn.execute(select(_T).order_by(_T.c.name)).all()
    return [_profile(r) for r in rows]


def profiles_for(*, engine: Engine, columns) -> list[Profile]:
    """The profiles saved for files with these headers, the most recently changed first."""
    with engine.connect() as conn:
        rows = conn.execute(select(_T).where(_T.c.headers_key == headers_key(columns))
                            .order_by(_T.c.updated_at.desc(), _T.c.id.desc())).all()
    return [_profile(r) for r in rows]


def delete_profile(*, engine: Engine, actor: Actor, name: str) -> None:
    require(actor, "import")
    profile = get_profile(engine=engine, name=name)
    with engine.begin() as conn:
        conn.execute(delete(ImportProfile).where(ImportProfile.name == profile.name))
        audit(conn, username=actor.username, action="profil_impor_hapus", target=profile.name,
              before={"kolom": profile.headers, "pemetaan": profile.mapping, "lembar": profile.sheet})
