"""ui/figures.py: a figure is built once per distinct input and shared by every session."""
from __future__ import annotations

import threading
import time

import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
import pytest
import streamlit as st

from ui.figures import figure

calls: list[int] = []


def slow_bar(df: pd.DataFrame, *, title: str = "") -> go.Figure:
    calls.append(1)
    time.sleep(0.2)
    return go.Figure(go.Bar(x=df["x"], y=df["y"]), layout=dict(title=title))


@pytest.fixture(autouse=True)
def fresh():
    st.cache_resource.clear()
    calls.clear()
    yield
    st.cache_resource.clear()


def frame(*ys) -> pd.DataFrame:
    return pd.DataFrame({"x": list("abc")[: len(ys)], "y": list(ys)})


def test_equal_inputs_share_one_figure_and_other_inputs_build_their_own():
    a = figure(slow_bar, frame(1, 2, 3), title="T")
    b = figure(slow_bar, frame(1, 2, 3), title="T")  # an equal frame, another object
    assert a is b and len(calls) == 1
    c = figure(slow_bar, frame(1, 2, 4), title="T")  # one value differs
    d = figure(slow_bar, frame(1, 2, 3), title="U")
    assert c is not a and d is not a and len(calls) == 3
    assert list(c.data[0].y) == [1, 2, 4] and d.layout.title.text == "U"


def test_the_kept_dict_is_the_figures_own():
    fig = figure(slow_bar, frame(5, 6), title="Dict")
    built_again = slow_bar(frame(5, 6), title="Dict")
    assert pio.to_json(fig.to_dict(), validate=False) == built_again.to_json()


def test_sessions_asking_at_once_wait_for_one_build():
    got: list[go.Figure] = []
    barrier = threading.Barrier(8)

    def session():
        barrier.wait()
        got.append(figure(slow_bar, frame(7, 8, 9)))

    threads = [threading.Thread(target=session) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1 and len(got) == 8 and all(f is got[0] for f in got)


def test_a_large_frame_is_keyed_by_all_of_its_rows():
    """Streamlit's own hash samples a frame of 50.000 rows or more: two frames that differ in one
    row outside the sample would have shared a figure."""
    big = pd.DataFrame({"x": [str(i) for i in range(60_000)], "y": range(60_000)})
    changed = big.copy()
    changed.loc[59_999, "y"] = -1
    a = figure(slow_bar, big.head(3))
    assert figure(slow_bar, big.head(3).copy()) is a
    f1, f2 = figure(slow_bar, big), figure(slow_bar, changed)
    assert f1 is not f2 and len(calls) == 3 and f2.data[0].y[-1] == -1


def test_type_names_and_index_are_part_of_the_key():
    base = frame(1, 2, 3)
    assert figure(slow_bar, base) is not figure(slow_bar, base.astype({"y": "float64"}))
    assert figure(slow_bar, base) is not figure(slow_bar, base.rename(columns={"x": "x", "y": "y"}).set_axis([5, 6, 7]))
    texts = pd.DataFrame({"x": ["a", "b", None], "y": [1, 2, 3]})
    assert figure(slow_bar, texts) is figure(slow_bar, texts.copy())
    assert figure(slow_bar, texts) is not figure(slow_bar, texts.fillna("z"))
    assert len(calls) == 5


def test_labels_and_value_types_that_compare_alike_are_kept_apart():
    ints = pd.DataFrame({"x": ["a", "b"], "y": [1, 0]})
    assert figure(slow_bar, ints) is not figure(slow_bar, ints.rename(columns={"y": 1}).rename(columns={1: "y"})
                                                 .astype({"y": "object"}).assign(y=[True, False]))
    gaps = pd.DataFrame({"x": ["a", "b"], "y": [None, 2]}, dtype=object)
    assert figure(slow_bar, gaps) is not figure(slow_bar, gaps.fillna(float("nan")))
    cells = pd.DataFrame({"x": ["a", "b"], "y": [1, 2], "lists": [[1], [2]]})  # unhashable cells: still a key
    assert figure(slow_bar, cells) is figure(slow_bar, cells.copy())
    assert len(calls) == 5
