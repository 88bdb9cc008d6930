"""Long lists of OPDs drawn one row of widgets each (a province's QR page: four download buttons per
OPD), shown a page at a time: "Halaman 2 dari 80" with "Sebelumnya" and "Berikutnya" above and under
the rows. The page returns to the first whenever what is listed changes (a search, a choice).

    pg = paged(listed, key="qr_halaman", listing=(query, show), longer_than=MANY_OPDS)
    for v in pg.rows: ...  # the rows of the page in force
    pg.footer()
"""
from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import streamlit as st

from data_access.fmt import fmt_int

PAGE_ROWS = 25  # rows per page


@dataclass(frozen=True)
class Page:
    rows: Sequence  # the rows to draw
    page: int
    pages: int
    key: str

    def footer(self) -> None:
        """The page controls again, under the rows (nothing when every row is on one page)."""
        if self.pages > 1:
            _nav(self.key, self.page, self.pages, "_bawah")


def _step(key: str, by: int, pages: int) -> None:
    st.session_state[key] = min(max(st.session_state.get(key, 1) + by, 1), pages)


def _nav(key: str, page: int, pages: int, suffix: str) -> None:
    """One row (a flex row, not columns, which stack on a phone): the two buttons side by side, then
    where we are, which moves under them on a narrow phone rather than split the buttons."""
    row = st.container(horizontal=True, vertical_alignment="center", gap="small")
    row.button("Sebelumnya", key=f"{key}_sebelumnya{suffix}", icon=":material/chevron_left:", disabled=page <= 1,
               on_click=_step, args=(key, -1, pages))
    row.button("Berikutnya", key=f"{key}_berikutnya{suffix}", icon=":material/chevron_right:",
               icon_position="right", disabled=page >= pages, on_click=_step, args=(key, 1, pages))
    row.markdown(f"Halaman {fmt_int(page)} dari {fmt_int(pages)}", width="content")


def paged(rows: Sequence, *, key: str, listing: Hashable = None, longer_than: int = 0, what: str = "OPD",
          per_page: int = PAGE_ROWS) -> Page:
    """The page in force of `rows`, a list longer than `longer_than` (shorter ones: every row, no
    controls), with a line saying which rows and the page controls drawn above them; `.footer()`
    draws the controls again under the rows. `listing`: what is listed (e.g. the search and a
    choice): a change returns to the first page. The page number is kept in st.session_state[key]."""
    ss = st.session_state
    if ss.get(f"{key}_listing") != (listing, len(rows)):
        ss[f"{key}_listing"] = (listing, len(rows))
        ss[key] = 1
    pages = max(math.ceil(len(rows) / per_page), 1) if len(rows) > longer_than else 1
    page = ss[key] = min(max(int(ss.get(key, 1)), 1), pages)
    if pages == 1:
        return Page(rows, 1, 1, key)
    first = (page - 1) * per_page
    shown = rows[first:first + per_page]
    st.caption(f"{fmt_int(len(rows))} {what}, {fmt_int(per_page)} per halaman: tampil {what} ke-{fmt_int(first + 1)}"
               f"–{fmt_int(first + len(shown))}.")
    _nav(key, page, pages, "")
    return Page(shown, page, pages, key)
