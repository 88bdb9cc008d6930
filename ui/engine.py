"""Start-up: the schema brought up to date, the registry and holidays in an empty database, the
demo on the first run of the embedded default, and the one engine every session shares."""
from __future__ import annotations

import streamlit as st
from sqlalchemy import inspect, select

from data_access import auth, holidays, scratch
from data_access.config import ConfigError, default_sqlite_path, get_settings
from data_access.db import init_schema, make_engine
from data_access.models import Opd
from data_access.registry import load_registry


class SchemaMissing(Exception):
    pass


def bootstrap(engine, *, default_sqlite: bool, new_file: bool) -> None:
    """Bring the schema up to date; load the registry into an empty one; on the first run of
    the embedded default, fill demo data and the demo accounts. The first run is marked as
    started together with the registry load and as done only at the end, so a first run cut
    short (the server stopped while the demo was being written) completes on the next start
    instead of leaving an empty database without accounts."""
    from data_access.db import get_meta, set_meta
    from data_access.demo import fill_demo

    init_schema(engine)
    scratch.clean_stale()  # staging files of an import that was killed
    with engine.begin() as conn:
        empty = conn.execute(select(Opd.id).limit(1)).first() is None
        if empty:
            load_registry(conn)
        holidays.ensure_loaded(conn)  # the shipped holidays into an empty table
        if default_sqlite and (new_file or empty):
            set_meta(conn, "first_run", "started")
        first_run = default_sqlite and get_meta(conn, "first_run") == "started"
    holidays.install(engine)  # working days count the database's holidays
    if first_run:
        fill_demo(engine)
        auth.create_demo_accounts(engine=engine)
        with engine.begin() as conn:
            set_meta(conn, "first_run", "done")


@st.cache_resource(show_spinner="Menyiapkan basis data (sekali saja)…")
def get_engine():
    settings = get_settings()
    new_file = settings.is_default_sqlite and not default_sqlite_path().exists()
    engine = make_engine(settings.database_url)
    if not settings.is_default_sqlite and not inspect(engine).has_table("opd"):
        raise SchemaMissing  # not cached: the next run looks again, e.g. after `init`
    bootstrap(engine, default_sqlite=settings.is_default_sqlite, new_file=new_file)
    from ui.warmup import start_warm_up

    start_warm_up()  # the figures every session needs, into the shared cache before the first asks
    return engine


def open_engine():
    """-> (engine, None), or (None, what is wrong, in words an operator can act on)."""
    try:
        return get_engine(), None
    except SchemaMissing:
        return None, "Skema basis data belum dibuat. Jalankan: `python -m data_access init`"
    except ConfigError as exc:
        return None, f"Konfigurasi salah: {exc}"
    except Exception as exc:  # database unreachable, permissions, ...
        return None, ("Basis data tidak dapat dibuka. Periksa DATABASE_URL dan apakah server basis data berjalan. "
                      f"(Rincian: {exc.__class__.__name__})")


def engine_or_stop():
    engine, problem = open_engine()
    if problem:
        st.error(problem)
        st.stop()
    return engine
