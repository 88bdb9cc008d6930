"""The shared filters of the sidebar (period, category, kecamatan, OPD): bound to the page
address so a link carries them, remembered from page to page, and checked, so a link with
values that cannot be used falls back to the defaults with a notice."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import pandas as pd
import streamlit as st

from data_access.calendar import SURAT_EDARAN_DATE, years_without_holidays
from data_access.fmt import fmt_date
from data_access.registry import CATEGORY_LABELS
from ui.data import data_range, opd_registry
from ui.safe import md


@dataclass(frozen=True)
class Filters:
    start: date
    end: date
    opd_ids: tuple[int, ...] | None  # None: every OPD
    data_start: date
    data_end: date
    labels: list[str] = field(default_factory=list)

    @property
    def kwargs(self) -> dict:
        return {"start": self.start, "end": self.end, "opd_ids": self.opd_ids}


def _url_notices(reg: pd.DataFrame, lo: date, hi: date) -> list[str]:
    """Parameters in the page address that cannot be used: they fall back to the default.
    The address carries the labels the user sees (?opd=Diskominfo&kategori=Dinas)."""
    notes = []
    qp = st.query_params
    checks = {
        "opd": set(reg["short_name"]),
        "kategori": set(CATEGORY_LABELS.values()),
        "kecamatan": set(reg["kecamatan"]),
    }
    for key, allowed in checks.items():
        bad = [v for v in qp.get_all(key) if v not in allowed]
        if bad:
            notes.append(f"{key} tidak dikenal: {', '.join(md(v) for v in bad)}")
    period = qp.get_all("periode")
    if period:
        try:
            days = [date.fromisoformat(v) for v in period]
        except ValueError:
            notes.append("periode bukan tanggal yang sah: " + ", ".join(md(v) for v in period))
        else:
            if len(days) == 2 and days[0] > days[1]:
                notes.append("periode terbalik (tanggal awal sesudah tanggal akhir)")
            elif any(d < lo or d > hi for d in days):
                notes.append(f"periode di luar rentang data ({fmt_date(lo)} – {fmt_date(hi)})")
    return notes


def _clean_url_state(reg: pd.DataFrame, lo: date, hi: date) -> None:
    """Drop invalid values from the bound widgets' state before they are drawn."""
    ss = st.session_state
    for key, allowed in (("opd", set(reg["code"])), ("kategori", set(CATEGORY_LABELS)),
                         ("kecamatan", set(reg["kecamatan"]))):
        if key in ss and isinstance(ss[key], list):
            kept = [v for v in ss[key] if v in allowed]
            if kept != ss[key]:
                ss[key] = kept
    if "periode" in ss:
        val = ss["periode"]
        ok = isinstance(val, (tuple, list)) and len(val) == 2 and all(isinstance(d, date) for d in val)
        if (not ok or val[0] > val[1] or val[0] < lo or val[1] > hi) and val != (lo, hi):
            ss["periode"] = (lo, hi)


def sidebar_filters(page_key: str = "") -> Filters:
    reg = opd_registry()
    rng = data_range() or (SURAT_EDARAN_DATE, SURAT_EDARAN_DATE + timedelta(days=180))
    lo, hi = rng
    notices = _url_notices(reg, lo, hi)
    # Filters follow the user from page to page: a page opened without filter parameters in its
    # address starts from the filters last used in this session.
    memory = st.session_state.get("_filter_memory", {})
    if memory.get("page") != page_key:
        for key, value in memory.get("values", {}).items():
            if key not in st.query_params:
                st.session_state[key] = value
    _clean_url_state(reg, lo, hi)
    sb = st.sidebar
    sb.header("Filter")
    period = sb.date_input(
        "Periode", value=(lo, hi), min_value=lo, max_value=hi, key="periode", format="DD/MM/YYYY",
        bind="query-params",
        help="Rentang tanggal (WIB). Bawaan: seluruh rentang data.",
    )
    cats = sb.multiselect(
        "Kategori", options=list(CATEGORY_LABELS), format_func=CATEGORY_LABELS.get, key="kategori",
        placeholder="Semua kategori", bind="query-params",
    )
    kecs = sb.multiselect(
        "Kecamatan", options=sorted(reg["kecamatan"].unique()), key="kecamatan",
        placeholder="Semua kecamatan", bind="query-params",
    )
    shown = reg
    if cats:
        shown = shown[shown["category"].isin(cats)]
    if kecs:
        shown = shown[shown["kecamatan"].isin(kecs)]
    names = dict(zip(reg["code"], reg["short_name"]))
    opds = sb.multiselect(
        "OPD", options=list(reg["code"]), format_func=lambda c: names.get(c, c), key="opd",
        placeholder="Semua OPD", bind="query-params",
    )
    if opds:
        shown = shown[shown["code"].isin(opds)]
    if isinstance(period, (tuple, list)) and len(period) == 2 and period[0] > period[1]:
        # a range the wrong way round from a link: run again with the default range
        if not st.session_state.get("_periode_reset"):
            st.session_state["_periode_reset"] = True
            st.rerun()
        start, end = lo, hi
    elif isinstance(period, (tuple, list)) and len(period) == 2:
        start, end = period
    elif isinstance(period, (tuple, list)) and len(period) == 1:
        start, end = period[0], hi
    else:
        start, end = lo, hi
    st.session_state.pop("_periode_reset", None) if not notices else None
    st.session_state["_filter_memory"] = {"page": page_key, "values": {
        "periode": (start, end), "kategori": list(cats), "kecamatan": list(kecs), "opd": list(opds)}}
    if notices:
        st.warning("Sebagian parameter tautan diabaikan dan diganti bawaan: " + "; ".join(notices) + ".")
    no_holidays = years_without_holidays(start, end)
    if no_holidays:
        st.info(f"Belum ada data hari libur untuk tahun {', '.join(map(str, no_holidays))}: hari kerja di tahun itu "
                "dihitung Senin–Jumat saja (libur nasional dan cuti bersama tidak dikurangkan).",
                icon=":material/event_busy:")
    filtered = bool(cats or kecs or opds)
    labels = []
    if cats:
        labels.append("kategori: " + ", ".join(CATEGORY_LABELS[c] for c in cats))
    if kecs:
        labels.append("kecamatan: " + ", ".join(kecs))
    if opds:
        labels.append("OPD: " + ", ".join(names.get(c, c) for c in opds))
    sb.caption(f"{len(shown)} dari {len(reg)} OPD · {fmt_date(start)} – {fmt_date(end)}")
    ids = tuple(sorted(int(i) for i in shown["id"])) if filtered else None
    return Filters(start, end, ids, lo, hi, labels)
