"""The only Streamlit glue: the engine, cached queries, login state, the shared filter
sidebar and page set-up. Pages call `setup_page(...)` first and get the signed-in actor,
the engine and the filters back."""
from __future__ import annotations

import importlib
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import date, timedelta

import pandas as pd
import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx
from sqlalchemy import inspect, select

from data_access import auth, holidays, queries, scratch
from data_access.calendar import SURAT_EDARAN_DATE, years_without_holidays
from data_access.config import ConfigError, default_sqlite_path, get_settings
from data_access.db import init_schema, make_engine
from data_access.fmt import fmt_date
from data_access.models import Opd
from data_access.registry import CATEGORY_LABELS, load_registry
from ui.nav import PAGE_ROLES
from ui.safe import md

SESSION_TIMEOUT_S = 30 * 60
CACHE_TTL = 300


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
    return engine


class SchemaMissing(Exception):
    pass


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


def _freeze(v):
    if isinstance(v, (list, set, tuple)):
        return tuple(sorted(v))
    return v


@st.cache_data(ttl=CACHE_TTL, max_entries=500, show_spinner=False)
def _cached_query(name: str, db_url: str, items: tuple):
    module, _, fn = name.rpartition(".")
    source = importlib.import_module(f"data_access.{module}") if module else queries
    return getattr(source, fn)(engine=get_engine(), **dict(items))


_flights: dict[tuple, threading.Lock] = {}
_flights_guard = threading.Lock()


def _flight(key: tuple) -> threading.Lock:
    """One lock per distinct query: when many sessions ask for the same figures while the cache
    is empty, one computes them and the others wait for its cached result instead of all
    computing the same thing at once."""
    with _flights_guard:
        if len(_flights) > 5000:  # forget old keys; at worst a figure is computed twice
            _flights.clear()
        return _flights.setdefault(key, threading.Lock())


def q(name: str, **kwargs):
    """A cached call of data_access.queries.<name>(engine=..., **kwargs); a dotted name
    ("visits.compliance") calls that function of another data_access module."""
    items = tuple(sorted((k, _freeze(v)) for k, v in kwargs.items()))
    url = get_settings().database_url
    with _flight((name, url, items)):
        result = _cached_query(name, url, items)
    return result.copy() if isinstance(result, pd.DataFrame) else result


def data_changed() -> None:
    """After a write: every session must see fresh figures."""
    st.cache_data.clear()


@st.cache_data(ttl=60, show_spinner=False)
def _demo_state(db_url: str) -> str | None:
    from data_access.demo import demo_state

    with get_engine().connect() as conn:
        return demo_state(conn)


# ---------------------------------------------------------------- login state
def _sso_configured() -> bool:
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets file at all
        return False


def _sso_actor(engine) -> auth.Actor | None:
    """A user signed in through st.login, mapped to a role by the allow-list in secrets
    ([pantau.sso_roles] email = "role")."""
    if not _sso_configured():
        return None
    try:
        if not st.user.is_logged_in:
            return None
        email = str(st.user.get("email", "")).lower()
        roles = {k.lower(): v for k, v in dict(st.secrets.get("pantau", {}).get("sso_roles", {})).items()}
    except Exception:
        return None
    role = roles.get(email)
    if role not in auth.ROLES:
        return None
    return auth.Actor(email, role)


def current_actor(engine) -> auth.Actor | None:
    state = st.session_state.get("auth")
    now = time.time()
    if state:
        if now - state["seen"] > SESSION_TIMEOUT_S:
            logout("Sesi Anda berakhir setelah 30 menit tanpa aktivitas. Silakan masuk lagi.")
            return None
        if state.get("sso"):
            actor = _sso_actor(engine)
        else:
            role = auth.role_of(engine=engine, username=state["username"])
            actor = auth.Actor(state["username"], role) if role else None
        if actor is None:
            logout("Akun Anda dinonaktifkan atau tidak lagi berwenang.")
            return None
        state["seen"] = now
        state["role"] = actor.role
        return actor
    actor = _sso_actor(engine)
    if actor is not None:
        st.session_state["auth"] = {"username": actor.username, "role": actor.role, "seen": now, "sso": True}
    return actor


def sign_in(actor: auth.Actor) -> None:
    st.session_state["auth"] = {"username": actor.username, "role": actor.role, "seen": time.time(), "sso": False}


def logout(message: str | None = None) -> None:
    st.session_state.pop("auth", None)
    if message:
        st.session_state["auth_message"] = message


def guard(engine, page_key: str) -> auth.Actor:
    """Stop the page unless someone is signed in with a role that may open it."""
    actor = current_actor(engine)
    if actor is None:
        msg = st.session_state.pop("auth_message", None)
        st.warning(msg or "Silakan masuk terlebih dahulu.")
        st.stop()
    if actor.role not in PAGE_ROLES[page_key]:
        st.error("Anda tidak berwenang membuka halaman ini.")
        st.stop()
    return actor


# ---------------------------------------------------------------- filters
@dataclass(frozen=True)
class Filters:
    start: date
    end: date
    opd_ids: tuple[int, ...] | None  # None: every OPD
    data_start: date
    data_end: date
    labels: list[str] = field(default_factory=list)

    @property
    def kwargs(self) -> dict:
        return {"start": self.start, "end": self.end, "opd_ids": self.opd_ids}


def _url_notices(reg: pd.DataFrame, lo: date, hi: date) -> list[str]:
    """Parameters in the page address that cannot be used: they fall back to the default.
    The address carries the labels the user sees (?opd=Diskominfo&kategori=Dinas)."""
    notes = []
    qp = st.query_params
    checks = {
        "opd": set(reg["short_name"]),
        "kategori": set(CATEGORY_LABELS.values()),
        "kecamatan": set(reg["kecamatan"]),
    }
    for key, allowed in checks.items():
        bad = [v for v in qp.get_all(key) if v not in allowed]
        if bad:
            notes.append(f"{key} tidak dikenal: {', '.join(md(v) for v in bad)}")
    period = qp.get_all("periode")
    if period:
        try:
            days = [date.fromisoformat(v) for v in period]
        except ValueError:
            notes.append("periode bukan tanggal yang sah: " + ", ".join(md(v) for v in period))
        else:
            if len(days) == 2 and days[0] > days[1]:
                notes.append("periode terbalik (tanggal awal sesudah tanggal akhir)")
            elif any(d < lo or d > hi for d in days):
                notes.append(f"periode di luar rentang data ({fmt_date(lo)} – {fmt_date(hi)})")
    return notes


def _clean_url_state(reg: pd.DataFrame, lo: date, hi: date) -> None:
    """Drop invalid values from the bound widgets' state before they are drawn."""
    ss = st.session_state
    for key, allowed in (("opd", set(reg["code"])), ("kategori", set(CATEGORY_LABELS)),
                         ("kecamatan", set(reg["kecamatan"]))):
        if key in ss and isinstance(ss[key], list):
            kept = [v for v in ss[key] if v in allowed]
            if kept != ss[key]:
                ss[key] = kept
    if "periode" in ss:
        val = ss["periode"]
        ok = isinstance(val, (tuple, list)) and len(val) == 2 and all(isinstance(d, date) for d in val)
        if (not ok or val[0] > val[1] or val[0] < lo or val[1] > hi) and val != (lo, hi):
            ss["periode"] = (lo, hi)


def sidebar_filters(engine, page_key: str = "") -> Filters:
    reg = q("opd_registry")
    rng = q("data_range") or (SURAT_EDARAN_DATE, SURAT_EDARAN_DATE + timedelta(days=180))
    lo, hi = rng
    notices = _url_notices(reg, lo, hi)
    # Filters follow the user from page to page: a page opened without filter parameters in its
    # address starts from the filters last used in this session.
    memory = st.session_state.get("_filter_memory", {})
    if memory.get("page") != page_key:
        for key, value in memory.get("values", {}).items():
            if key not in st.query_params:
                st.session_state[key] = value
    _clean_url_state(reg, lo, hi)
    sb = st.sidebar
    sb.header("Filter")
    period = sb.date_input(
        "Periode", value=(lo, hi), min_value=lo, max_value=hi, key="periode", format="DD/MM/YYYY",
        bind="query-params",
        help="Rentang tanggal (WIB). Bawaan: seluruh rentang data.",
    )
    cats = sb.multiselect(
        "Kategori", options=list(CATEGORY_LABELS), format_func=CATEGORY_LABELS.get, key="kategori",
        placeholder="Semua kategori", bind="query-params",
    )
    kecs = sb.multiselect(
        "Kecamatan", options=sorted(reg["kecamatan"].unique()), key="kecamatan",
        placeholder="Semua kecamatan", bind="query-params",
    )
    shown = reg
    if cats:
        shown = shown[shown["category"].isin(cats)]
    if kecs:
        shown = shown[shown["kecamatan"].isin(kecs)]
    names = dict(zip(reg["code"], reg["short_name"]))
    opds = sb.multiselect(
        "OPD", options=list(reg["code"]), format_func=lambda c: names.get(c, c), key="opd",
        placeholder="Semua OPD", bind="query-params",
    )
    if opds:
        shown = shown[shown["code"].isin(opds)]
    if isinstance(period, (tuple, list)) and len(period) == 2 and period[0] > period[1]:
        # a range the wrong way round from a link: run again with the default range
        if not st.session_state.get("_periode_reset"):
            st.session_state["_periode_reset"] = True
            st.rerun()
        start, end = lo, hi
    elif isinstance(period, (tuple, list)) and len(period) == 2:
        start, end = period
    elif isinstance(period, (tuple, list)) and len(period) == 1:
        start, end = period[0], hi
    else:
        start, end = lo, hi
    st.session_state.pop("_periode_reset", None) if not notices else None
    st.session_state["_filter_memory"] = {"page": page_key, "values": {
        "periode": (start, end), "kategori": list(cats), "kecamatan": list(kecs), "opd": list(opds)}}
    if notices:
        st.warning("Sebagian parameter tautan diabaikan dan diganti bawaan: " + "; ".join(notices) + ".")
    no_holidays = years_without_holidays(start, end)
    if no_holidays:
        st.info(f"Belum ada data hari libur untuk tahun {', '.join(map(str, no_holidays))}: hari kerja di tahun itu "
                "dihitung Senin–Jumat saja (libur nasional dan cuti bersama tidak dikurangkan).",
                icon=":material/event_busy:")
    filtered = bool(cats or kecs or opds)
    labels = []
    if cats:
        labels.append("kategori: " + ", ".join(CATEGORY_LABELS[c] for c in cats))
    if kecs:
        labels.append("kecamatan: " + ", ".join(kecs))
    if opds:
        labels.append("OPD: " + ", ".join(names.get(c, c) for c in opds))
    sb.caption(f"{len(shown)} dari {len(reg)} OPD · {fmt_date(start)} – {fmt_date(end)}")
    ids = tuple(sorted(int(i) for i in shown["id"])) if filtered else None
    return Filters(start, end, ids, lo, hi, labels)


# ---------------------------------------------------------------- page set-up
def _use_router() -> None:
    """The first request after a server start for a page address (a bookmark) would run
    pages/<x>.py straight through Streamlit's legacy pages-folder mode, past dashboard.py.
    Switch that mode off and run again, so the router (login gate, navigation) decides."""
    try:
        from streamlit.runtime.pages_manager import PagesManager
    except ImportError:  # pragma: no cover - a future Streamlit without it
        return
    if PagesManager.uses_pages_directory and get_script_run_ctx() is not None and not _under_apptest():
        PagesManager.uses_pages_directory = False
        st.rerun()


def _under_apptest() -> bool:
    return "streamlit.testing" in sys.modules



def setup_page(page_key: str, title: str, *, filters: bool = True, caption: str | None = None):
    """Guard, title, demo notice and (optionally) the shared filter sidebar.
    Returns (actor, engine, filters or None)."""
    _use_router()
    engine = engine_or_stop()
    if holidays.refresh(engine):  # an operator loaded holidays from the command line
        data_changed()
    actor = guard(engine, page_key)
    st.title(title)
    if caption:
        st.caption(caption)
    state = _demo_state(get_settings().database_url)
    if state == "true":
        st.info(
            "**Data demo.** Angka di halaman ini berasal dari data contoh buatan, bukan check-in nyata.",
            icon=":material/science:",
        )
    elif state == "campuran":
        st.warning(
            "**Data demo bercampur data impor.** Basis data demo ini kini juga berisi check-in hasil impor; angkanya "
            "tidak mewakili kenyataan. Untuk data nyata gunakan basis data baru (atur `DATABASE_URL`).",
            icon=":material/science:",
        )
    flash = st.session_state.pop("flash", None)
    if flash:
        st.success(md(flash))
    flt = sidebar_filters(engine, page_key) if filters else None
    return actor, engine, flt


def run_action(action, success: str) -> None:
    """Run a data-changing action: a refusal (bad input, no permission) is shown in Bahasa
    Indonesia and nothing changes; success shows `success` after the page re-reads the data."""
    from data_access.onboarding import OnboardingError
    from data_access.visits import VisitError

    try:
        action()
    except (auth.AuthError, OnboardingError, VisitError) as exc:
        st.error(md(exc))
    else:
        flash_and_rerun(success)


def flash_and_rerun(message: str) -> None:
    """Show a success message on the next run, after the page re-reads the changed data."""
    data_changed()
    st.session_state["flash"] = message
    st.rerun()


def empty_notice(what: str = "data") -> None:
    st.info(f"Tidak ada {what} untuk filter ini. Perluas periode atau hapus sebagian filter di bilah samping.")
