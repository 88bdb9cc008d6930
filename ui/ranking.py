"""Long rankings (a province's hundreds of OPDs): a "Cari OPD" field, the top and the bottom of
the ranking (data_access.queries.province.ranking_ends) and a sentence saying how many OPDs are
ranked. A page shows `ends.rows` where it showed every row; its downloads keep every row.

    ends = ranking_view(table, by="coverage", key="adopsi", measure="cakupan ASN")
"""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import streamlit as st

from data_access.fmt import fmt_int
from data_access.queries.province import RANK_ENDS, ranking_ends, search_rows
from ui.safe import md


@dataclass(frozen=True)
class Ends:
    top: pd.DataFrame  # the first rows of the ranking (all the matches when they fit in 2 x RANK_ENDS)
    bottom: pd.DataFrame  # the last rows (empty when the top holds every match)
    total: int  # rows ranked
    matched: int  # rows that match the search (all of them without one)
    search: str

    @property
    def rows(self) -> pd.DataFrame:
        """The rows shown, top then bottom, each with its `position` in the whole ranking."""
        return pd.concat([self.top, self.bottom], ignore_index=True)

    @property
    def split(self) -> bool:
        """Whether the rows shown are two ends with rows between them left out."""
        return not self.bottom.empty


def ranking_view(df: pd.DataFrame, *, by: str, key: str, measure: str, ascending: bool = False,
                 name_col: str = "short_name", n: int = RANK_ENDS, where: str = "") -> Ends:
    """The search field (key `<key>_cari`) and, under it, what the ranking shows in words; returns
    the rows to show. `measure` completes "diperingkat menurut ..." (e.g. "cakupan ASN"), `where`
    "tampil 10 teratas dan 10 terbawah..." (e.g. " di tabel")."""
    search = st.text_input("Cari OPD", key=f"{key}_cari", max_chars=80, placeholder="Ketik sebagian nama OPD…",
                           help="Menyaring OPD menurut nama sebelum diperingkat. Nomor peringkat tetap dihitung "
                                "dari semua OPD dalam filter.").strip()
    top, bottom = ranking_ends(df, by=by, n=n, search=search, name_col=name_col, ascending=ascending)
    total = len(df)
    matched = len(search_rows(df, search, name_col=name_col))
    ends = Ends(top, bottom, total, matched, search)
    ranked = f"{fmt_int(total)} OPD diperingkat menurut {measure}"
    if not search:
        st.caption(f"{ranked}. Tampil {n} teratas dan {n} terbawah{where}; cari OPD untuk melihat yang lain.")
    elif not matched:
        st.info(f"Tidak ada OPD yang namanya memuat “{md(search)}” ({ranked}). Ubah atau kosongkan pencarian.",
                icon=":material/search_off:")
    elif ends.split:
        st.caption(f"{ranked}. {fmt_int(matched)} OPD cocok dengan “{md(search)}”: tampil {n} teratas dan "
                   f"{n} terbawah di antaranya{where}.")
    else:
        st.caption(f"{ranked}. {fmt_int(matched)} OPD cocok dengan “{md(search)}”, semuanya tampil{where}.")
    return ends
