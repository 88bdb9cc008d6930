"""Cached data calls. `cached_query(fn)` turns a data_access function `fn(*, engine, ...)` into
a function of the same parameters without `engine`: its result is kept for CACHE_TTL seconds
(per database and arguments), and when many sessions ask for the same figure while the cache
is empty, one computes it and the others wait for its result. Each call gets an object of its
own (st.cache_data unpickles the result for every read), so a page may change what it gets. `data_changed()`
forgets every cached result."""
from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import TypeVar

import streamlit as st

from data_access.config import get_settings
from ui.engine import get_engine

CACHE_TTL = 300
R = TypeVar("R")

_QUERIES: dict[str, Callable] = {}  # "module.function" -> the data_access function


def _freeze(v):
    if isinstance(v, (list, set, tuple)):
        return tuple(sorted(v))
    return v


@st.cache_data(ttl=CACHE_TTL, max_entries=500, show_spinner=False)
def _cached_call(name: str, db_url: str, items: tuple):
    return _QUERIES[name](engine=get_engine(), **dict(items))


def cached_query(fn: Callable[..., R]) -> Callable[..., R]:
    """fn(*, engine, **params) -> cached(**params), with fn's name, documentation and
    signature (less `engine`). Lists and sets among the arguments count as sorted tuples."""
    name = f"{fn.__module__}.{fn.__qualname__}"
    signature = inspect.signature(fn)
    if "engine" not in signature.parameters:
        raise TypeError(f"{name} takes no engine: nothing to cache")
    signature = signature.replace(parameters=[p for n, p in signature.parameters.items() if n != "engine"])
    _QUERIES[name] = fn

    @functools.wraps(fn)
    def cached(*args, **kwargs):
        call = signature.bind(*args, **kwargs)  # a wrong argument fails here, before any work
        call.apply_defaults()
        items = tuple(sorted((k, _freeze(v)) for k, v in call.arguments.items()))
        # when many sessions ask for the same figure while the cache is empty, one computes it and
        # the others wait for its result: st.cache_data's own lock per key, taken on a miss only
        # st.cache_data keeps results pickled and unpickles them on every read: each caller gets
        # an object of its own (the one that computed it, the result itself), which it may change
        return _cached_call(name, get_settings().database_url, items)

    cached.__signature__ = signature
    return cached


def data_changed() -> None:
    """After a write: every session must see fresh figures (the common ones computed again in
    the background at once, see ui.warmup)."""
    st.cache_data.clear()
    from ui.warmup import start_warm_up

    start_warm_up()
