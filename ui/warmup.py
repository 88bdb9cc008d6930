"""The figures every session needs, computed once in the background: after start-up (the engine
made by `ui.engine.get_engine`) and after each write (`ui.cache.data_changed`), each page's data
for the default filters (the data's whole period, every OPD) goes into the shared cache before
the first visitor asks for it, and the overview's figures are built from it (ui.page_figures).
A session that asks while the warm-up runs waits for the same computation (`st.cache_data`'s
and `st.cache_resource`'s lock per key) instead of doing it again."""
from __future__ import annotations

import logging
import threading

log = logging.getLogger(__name__)

THREAD_NAME = "pantau-warm-up"
_running = threading.Lock()
_again = threading.Event()


def warm_up() -> None:
    """Compute and cache every page's default data, the overview first (see
    data_access.synthetic.page_queries, the calls each page makes), then the figures of the
    overview and the Onboarding page (ui.page_figures)."""
    from data_access.config import get_settings
    from data_access.synthetic import page_queries
    from ui import data, page_figures
    from ui.filters import period_bounds

    url = get_settings().database_url
    data.opd_registry()
    start, end = period_bounds().default
    seen = set()
    for calls in page_queries(start, end).values():
        for name, kw in calls:
            key = (name, tuple(sorted(kw.items())))
            if key in seen:
                continue
            if get_settings().database_url != url:  # the app now reads another database (tests)
                return
            seen.add(key)
            getattr(data, name)(**kw)
    if get_settings().database_url != url:
        return
    # the figures built from that data (the overview's first): building one costs more than
    # reading its data, and a visitor who had to would keep the others waiting for it
    page_figures.warm(start=start, end=end)


def _not_from_warm_up(record: logging.LogRecord) -> bool:
    return record.threadName != THREAD_NAME


def _run() -> None:
    for name in ("streamlit.runtime.scriptrunner_utils.script_run_context",
                 "streamlit.runtime.caching.cache_data_api"):
        logger = logging.getLogger(name)
        if _not_from_warm_up not in logger.filters:
            logger.addFilter(_not_from_warm_up)
    while True:
        _again.clear()
        try:
            warm_up()
        except Exception:  # a page computes its own data as before; nothing is lost
            log.warning("warm-up of the shared figures failed", exc_info=True)
        with _running:
            if not _again.is_set():
                _thread[0] = None
                return


_thread: list[threading.Thread | None] = [None]


def start_warm_up() -> None:
    """Start the warm-up on a background thread; if one is running, it goes round once more
    when done (the data changed under it)."""
    with _running:
        _again.set()
        if _thread[0] is not None:
            return
        # no session's context: the thread belongs to no visitor (Streamlit's note that it runs
        # without one is silenced for this thread alone)
        t = threading.Thread(target=_run, name=THREAD_NAME, daemon=True)
        _thread[0] = t
        t.start()


def wait(timeout: float = 60) -> None:
    """Until a running warm-up has finished (tests: before the caches are cleared)."""
    t = _thread[0]
    if t is not None:
        t.join(timeout)
