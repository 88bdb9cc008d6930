"""The warm-up (ui/warmup.py): after start-up and after a write, every page's default figures
are computed once in the background, so the first visitors find them in the shared cache."""
from __future__ import annotations

import time

import pytest

from data_access.synthetic import page_queries


def _wait_for_warm_up(timeout: float = 60) -> None:
    from ui import warmup

    deadline = time.monotonic() + timeout
    while warmup._thread[0] is not None:
        assert time.monotonic() < deadline, "warm-up did not finish"
        time.sleep(0.02)


@pytest.fixture
def computed(monkeypatch):
    """The data functions computed (not served from the cache), by name."""
    import ui.data  # noqa: F401  (registers the page queries; a test run alone imports it first here)
    from ui import cache

    seen: list[str] = []

    def counting(name, fn):
        def run(**kw):
            seen.append(name.rsplit(".", 1)[-1])
            return fn(**kw)

        return run

    for name, fn in list(cache._QUERIES.items()):
        monkeypatch.setitem(cache._QUERIES, name, counting(name, fn))
    return seen


def test_start_up_computes_every_pages_figures_once_and_the_overview_then_computes_nothing(
        demo_dir, computed, page):
    from ui.engine import get_engine

    get_engine()
    _wait_for_warm_up()
    wanted = {name for calls in page_queries(None, None).values() for name, _ in calls}
    assert wanted <= set(computed)
    assert sorted(computed) == sorted(set(computed))  # each once
    computed.clear()
    at = page("ringkasan", "pimpinan")
    assert not at.exception and len(at.metric) == 6
    assert computed == []


def test_a_write_computes_them_again(demo_dir, computed):
    from ui import data
    from ui.cache import data_changed
    from ui.engine import get_engine

    get_engine()
    _wait_for_warm_up()
    computed.clear()
    data_changed()
    _wait_for_warm_up()
    assert {"opd_overview", "totals", "daily_counts", "onboarding_progress"} <= set(computed)
    computed.clear()
    start, end = data.data_range()
    data.opd_overview(start=start, end=end, opd_ids=None)
    assert computed == []


def test_start_up_builds_the_overviews_figures_and_its_visitors_then_build_none(demo_dir, page, monkeypatch):
    """The overview's two charts and the Onboarding page's pipeline are built by the warm-up, from
    the same functions the pages call (ui.page_figures): a visitor's page builds none of them."""
    from ui import charts
    from ui.engine import get_engine

    built: list[str] = []
    names = ("build_daily_checkins", "build_onboarding_progress", "build_pipeline")
    for name in names:
        def counting(*args, _build=getattr(charts, name), _name=name, **kwargs):
            built.append(_name)
            return _build(*args, **kwargs)

        monkeypatch.setattr(charts, name, counting)
    get_engine()
    _wait_for_warm_up()
    assert sorted(built) == list(names)
    built.clear()
    at = page("ringkasan", "pimpinan")
    assert not at.exception and len(at.get("plotly_chart")) == 2
    at = page("onboarding", "kominfo")
    assert not at.exception and len(at.get("plotly_chart")) == 1
    assert built == []
    # another filter's figures are built by the visitor who asks for them (and only once)
    at = page("ringkasan", "pimpinan", query={"kecamatan": "Bangkalan"})
    assert not at.exception and sorted(built) == ["build_daily_checkins", "build_onboarding_progress"]
