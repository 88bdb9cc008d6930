"""The pages' cached data calls (ui/cache.py, ui/data.py): one computation per figure when
sessions ask at once, copies handed out, a wrong argument refused before any work, and a fresh
computation after a write."""
from __future__ import annotations

import inspect
import threading
import time
from datetime import date
from types import SimpleNamespace

import pandas as pd
import pytest
import streamlit as st

from ui import cache, data


@pytest.fixture
def calls(monkeypatch):
    st.cache_data.clear()
    monkeypatch.setattr(cache, "get_engine", lambda: "the engine")
    monkeypatch.setattr(cache, "get_settings", lambda: SimpleNamespace(database_url="sqlite://"))
    seen: list[tuple] = []
    yield seen
    st.cache_data.clear()


def _query(seen):
    def per_opd(*, engine, start: date, end: date, opd_ids=None) -> pd.DataFrame:
        """Per OPD, slowly."""
        seen.append((engine, start, end, opd_ids))
        time.sleep(0.3)
        return pd.DataFrame({"opd_id": [1, 2], "checkins": [3, 4]})

    return per_opd


def test_concurrent_callers_share_one_computation(calls):
    per_opd = cache.cached_query(_query(calls))
    out, barrier = [], threading.Barrier(8)

    def one():
        barrier.wait()
        out.append(per_opd(start=date(2022, 2, 1), end=date(2022, 2, 28), opd_ids=[2, 1]))

    threads = [threading.Thread(target=one) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert calls == [("the engine", date(2022, 2, 1), date(2022, 2, 28), (1, 2))]  # lists count as sorted tuples
    assert len(out) == 8 and all(df.equals(out[0]) for df in out)
    out[0].loc[0, "checkins"] = 99  # a page changing its frame does not change the next one's
    again = per_opd(start=date(2022, 2, 1), end=date(2022, 2, 28), opd_ids=(1, 2))
    assert again.loc[0, "checkins"] == 3 and len(calls) == 1


def test_same_call_spelt_differently_is_one_entry_and_a_write_clears_it(calls):
    per_opd = cache.cached_query(_query(calls))
    per_opd(start=date(2022, 2, 1), end=date(2022, 2, 28))
    per_opd(end=date(2022, 2, 28), start=date(2022, 2, 1), opd_ids=None)
    assert len(calls) == 1
    cache.data_changed()
    per_opd(start=date(2022, 2, 1), end=date(2022, 2, 28))
    assert len(calls) == 2


def test_signature_without_engine_and_wrong_arguments_refused(calls):
    fn = _query(calls)
    per_opd = cache.cached_query(fn)
    assert list(inspect.signature(per_opd).parameters) == ["start", "end", "opd_ids"]
    assert per_opd.__name__ == "per_opd" and per_opd.__doc__ == fn.__doc__
    with pytest.raises(TypeError):
        per_opd(start=date(2022, 2, 1), end=date(2022, 2, 28), opd=[1])  # misspelt: refused before any work
    with pytest.raises(TypeError):
        per_opd(date(2022, 2, 1), date(2022, 2, 28))  # keyword-only, as the data function
    assert calls == []
    with pytest.raises(TypeError):
        cache.cached_query(lambda *, start: start)  # no engine: nothing to cache


def test_every_data_call_mirrors_its_data_access_function():
    wrapped = {n: f for n, f in vars(data).items()
               if callable(f) and getattr(f, "__wrapped__", None) and f.__wrapped__.__module__.startswith("data_access")}
    assert {"opd_overview", "totals", "refusals_daily", "compliance", "holiday_coverage"} <= set(wrapped)
    for name, f in wrapped.items():
        params = inspect.signature(f.__wrapped__).parameters
        assert "engine" in params, name
        assert list(inspect.signature(f).parameters) == [p for p in params if p != "engine"], name
