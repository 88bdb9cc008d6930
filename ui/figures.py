"""Built figures, shared by every session. Building a plotly figure costs tens of milliseconds of
Python (plotly validates every property it is given), more than the page's cached data: twenty
sessions opening the same page at once would build the same figures twenty times, one after
another under the interpreter lock. `figure(builder, *args, **kwargs)` builds once per distinct
input (frames compared by content) and hands every session the same figure; while one session
builds it, the others asking for it wait for that figure (Streamlit's per-key compute lock).

Figures are never changed after they are built (st.plotly_chart serialises a copy), so sharing
one object is safe; a builder whose result a page changes afterwards must not go through here."""
from __future__ import annotations

import hashlib
import pickle
from collections.abc import Callable

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from ui.cache import CACHE_TTL


@st.cache_resource(ttl=CACHE_TTL, max_entries=100, show_spinner=False)
def _built(_builder: Callable[..., go.Figure], name: str, key: tuple, _args: tuple, _kwargs: dict) -> go.Figure:
    fig = _builder(*_args, **_kwargs)
    # st.plotly_chart asks the figure for its dict (a deep copy, typed arrays encoded) on every
    # run; the figure does not change, so its dict is made once
    as_dict = fig.to_dict()
    fig.to_dict = lambda: as_dict
    return fig


def figure(builder: Callable[..., go.Figure], *args, **kwargs) -> go.Figure:
    """builder(*args, **kwargs), or the same figure built before from equal arguments."""
    key = (tuple(fingerprint(a) for a in args), tuple(sorted((k, fingerprint(v)) for k, v in kwargs.items())))
    return _built(builder, f"{builder.__module__}.{builder.__qualname__}", key, args, kwargs)


def fingerprint(value):
    """A frame or series as a digest of its whole content (its axes' labels, names and types, and
    its values), anything else as itself: the figure's cache key. Numbers and times are digested
    as their bytes, other columns as their pickled values (types kept apart: 1 and True, None
    and NaN differ). Streamlit's own hashing of a frame hashed it several times over, and
    sampled a frame of 50.000 rows or more: two frames differing only outside the sample would
    have shared one figure."""
    if isinstance(value, pd.DataFrame):
        h = hashlib.blake2b(digest_size=20)
        h.update(repr((value.shape, list(value.columns), value.columns.names, value.index.names,
                       [repr(t) for t in value.dtypes])).encode())
        h.update(_digest(value.index))
        for i in range(value.shape[1]):
            h.update(_digest(value.iloc[:, i]))
        return ("frame", h.hexdigest())
    if isinstance(value, pd.Series):
        h = hashlib.blake2b(digest_size=20)
        h.update(repr((len(value), value.name, value.index.names, repr(value.dtype))).encode())
        h.update(_digest(value.index))
        h.update(_digest(value))
        return ("series", h.hexdigest())
    return value


def _digest(values) -> bytes:
    """A column's or an index's values (with the type of the column) as a digest."""
    arr = values.to_numpy()
    h = hashlib.blake2b(repr(values.dtype).encode(), digest_size=20)
    if arr.dtype.kind in "biufcmM":
        h.update(np.ascontiguousarray(arr).tobytes())
    else:
        h.update(pickle.dumps(arr.tolist(), protocol=pickle.HIGHEST_PROTOCOL))
    return h.digest()
