"""Built figures, shared by every session. Building a plotly figure costs tens of milliseconds of
Python (plotly validates every property it is given), more than the page's cached data: twenty
sessions opening the same page at once would build the same figures twenty times, one after
another under the interpreter lock. `figure(builder, *args, **kwargs)` builds once per distinct
input (frames compared by content) and hands every session the same figure; while one session
builds it, the others asking for it wait for that figure (Streamlit's per-key compute lock).

Figures are never changed after they are built (st.plotly_chart serialises a copy), so sharing
one object is safe; a builder whose result a page changes afterwards must not go through here."""
from __future__ import annotations

from collections.abc import Callable

import plotly.graph_objects as go
import streamlit as st

from ui.cache import CACHE_TTL


@st.cache_resource(ttl=CACHE_TTL, max_entries=100, show_spinner=False)
def _built(_builder: Callable[..., go.Figure], name: str, args: tuple, kwargs: dict) -> go.Figure:
    fig = _builder(*args, **kwargs)
    # st.plotly_chart asks the figure for its dict (a deep copy, typed arrays encoded) on every
    # run; the figure does not change, so its dict is made once
    as_dict = fig.to_dict()
    fig.to_dict = lambda: as_dict
    return fig


def figure(builder: Callable[..., go.Figure], *args, **kwargs) -> go.Figure:
    """builder(*args, **kwargs), or the same figure built before from equal arguments."""
    return _built(builder, f"{builder.__module__}.{builder.__qualname__}", args, kwargs)
