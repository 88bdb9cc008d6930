"""Page set-up: `setup_page` runs first on every page (the router check, the engine, the login
guard, the title and the demo notice, the shared filters); `run_action` and `flash_and_rerun`
carry a write's outcome to the user; `empty_notice` says when a filter leaves nothing."""
from __future__ import annotations

import sys
from collections.abc import Callable

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from data_access import auth, holidays
from ui.cache import data_changed
from ui.data import demo_state
from ui.engine import engine_or_stop
from ui.filters import Filters, filter_summary, sidebar_filters
from ui.safe import md
from ui.session import guard


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


def setup_page(page_key: str, title: str, *, filters: bool = True,
               caption: str | Callable[[Filters], str] | None = None):
    """Guard, title, demo notice and (optionally) the shared filter sidebar. `caption`: a line
    under the title, or a function of the filters making it (e.g. naming the regencies they cover).
    Returns (actor, engine, filters or None)."""
    _use_router()
    engine = engine_or_stop()
    if holidays.refresh(engine):  # an operator loaded holidays from the command line
        data_changed()
    actor = guard(engine, page_key)
    st.title(title)
    summary_slot = st.empty() if filters else None  # the filter in one line, filled below
    caption_slot = st.empty() if callable(caption) else None  # filled once the filters are known
    if caption and not callable(caption):
        st.caption(caption)
    state = demo_state()
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
    flt = sidebar_filters(page_key) if filters else None
    if flt is not None:
        filter_summary(summary_slot, flt.summary)
    if caption_slot is not None:
        caption_slot.caption(caption(flt))
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
