"""The shared filters of the sidebar (period, category, kecamatan, OPD): bound to the page
address so a link carries them, remembered from page to page, and checked, so a link with
values that cannot be used falls back to the defaults with a notice naming each unusable part.

A registry of several regencies (a province) adds a regency choice above the others, which
narrows the kecamatan and OPDs offered; with Bangkalan's alone there is none. A kecamatan is
chosen by its label (queries.opd_registry's `kecamatan_label`): in a province, "Galis (Kab.
Pamekasan)" and "Galis (Kab. Bangkalan)" are two choices.

The period is chosen without a calendar widget (Streamlit's speaks English): a quick period
(Minggu ini, Bulan lalu, Sejak Surat Edaran, ...) applies with one click, a month from a list
likewise, and a typed range ("01/06/2022" – "30/06/2022") with one click on "Terapkan". It reaches
today (WIB), whatever day the check-in data ends; by default it is the data's own range.
`filter_summary` draws the one line at the top of a data page that says what the page shows
("Dinas Kesehatan · 1–30 Juni 2022") and opens the filters (the sidebar) on a phone."""
from __future__ import annotations

import html
from dataclasses import dataclass, field
from datetime import date

import pandas as pd
import streamlit as st

from data_access.calendar import SURAT_EDARAN_DATE, years_without_holidays
from data_access.fmt import fmt_date, fmt_int, fmt_range, parse_date
from data_access.labels import regency_label
from data_access.onboarding import today_wib
from data_access.periods import (
    QUICK_PERIODS,
    matching_quick,
    month_label,
    month_range,
    months_between,
    quick_period,
)
from data_access.queries.province import MANY_OPDS
from data_access.registry import CATEGORY_LABELS
from ui.data import data_range, opd_registry
from ui.safe import md

PERIOD = "periode"  # the state key and the address parameter (two ISO days)
BOUND = ("kab", "kategori", "kecamatan", "opd")  # multiselects bound to the address by Streamlit
# parameters that are no filter but may stand in an address: Streamlit's own
OTHER_LINK_KEYS = frozenset({"embed", "embed_options"})
FILTER_BOX = "pantau_filter"  # the sidebar container's key (its CSS class: st-key-pantau_filter)
LINK_NAMES = {"kab": "kabupaten/kota", "opd": "OPD", "kategori": "kategori", "kecamatan": "kecamatan",
              PERIOD: "periode"}


@dataclass(frozen=True)
class Filters:
    start: date
    end: date
    opd_ids: tuple[int, ...] | None  # None: every OPD
    data_start: date
    data_end: date
    labels: list[str] = field(default_factory=list)
    summary: str = ""
    opd_count: int = 0  # OPDs in the filter
    kabupaten: tuple[str, ...] = ()  # the regencies chosen (none: every regency)

    @property
    def kwargs(self) -> dict:
        return {"start": self.start, "end": self.end, "opd_ids": self.opd_ids}

    @property
    def many_opds(self) -> bool:
        """More OPDs than a chart can show one by one (a province): rankings show their ends, maps aggregate."""
        return self.opd_count > MANY_OPDS


@dataclass(frozen=True)
class Bounds:
    """What the period picker may choose, and its default."""
    lo: date  # the earliest day (the Surat Edaran, or the first check-in before it)
    hi: date  # today in WIB (or a later last check-in day)
    default: tuple[date, date]  # the data's range, or since the Surat Edaran without data
    data: tuple[date, date] | None
    today: date


def period_bounds() -> Bounds:
    today = today_wib()
    rng = data_range()
    lo = min(rng[0], SURAT_EDARAN_DATE) if rng else SURAT_EDARAN_DATE
    hi = max(rng[1], today) if rng else today
    default = tuple(rng) if rng else (SURAT_EDARAN_DATE, today)
    return Bounds(lo, hi, default, tuple(rng) if rng else None, today)


# ---------------------------------------------------------------- the address
def _period_from_link(values: list[str], b: Bounds) -> tuple[tuple[date, date] | None, str | None]:
    """(the period, None) or (None, why the link's period cannot be used)."""
    shown = ", ".join(md(v) for v in values)
    if len(values) > 2:
        return None, f"periode berisi lebih dari dua tanggal ({shown})"
    bad = []
    for v in values:
        try:
            date.fromisoformat(v)
        except ValueError:
            bad.append(md(v))
    if bad:
        return None, f"periode bukan tanggal yang sah ({', '.join(bad)}; tulis TTTT-BB-HH, misalnya 2022-06-01)"
    days = [date.fromisoformat(v) for v in values]
    start, end = (days[0], days[1]) if len(days) == 2 else (days[0], max(days[0], b.default[1]))
    if start > end:
        return None, "periode terbalik (tanggal awal sesudah tanggal akhir)"
    if start < b.lo or end > b.hi:
        return None, f"periode di luar rentang yang dapat dipilih ({fmt_date(b.lo)} – {fmt_date(b.hi)})"
    return (start, end), None


def _link_notices(reg: pd.DataFrame, b: Bounds) -> tuple[list[str], tuple[date, date] | None]:
    """Each part of the page address that cannot be used, in words, and the link's period (if usable).
    The address carries the labels the user sees (?opd=Diskominfo&kategori=Dinas)."""
    notes: list[str] = []
    qp = st.query_params
    checks = {
        "kab": set(reg["kabupaten"]),
        "opd": set(reg["short_name"]),
        "kategori": set(CATEGORY_LABELS.values()),
        "kecamatan": set(reg["kecamatan_label"]),
    }
    for key, allowed in checks.items():
        bad = [v for v in qp.get_all(key) if v not in allowed]
        if bad:
            notes.append(f"{LINK_NAMES[key]} tidak dikenal dan dibuang: {', '.join(md(v) for v in bad)}")
    period = None
    values = qp.get_all(PERIOD)
    if values:
        period, problem = _period_from_link(values, b)
        if problem:
            notes.append(problem)
    unknown = [k for k in qp.keys() if k not in LINK_NAMES and k not in OTHER_LINK_KEYS]
    if unknown:
        notes.append("parameter tidak dikenal: " + ", ".join(md(k) for k in unknown))
    return notes, period


def _clean_bound_state(reg: pd.DataFrame) -> None:
    """Drop invalid values from the bound widgets' state before they are drawn."""
    ss = st.session_state
    for key, allowed in (("opd", set(reg["code"])), ("kategori", set(CATEGORY_LABELS)),
                         ("kecamatan", set(reg["kecamatan_label"])), ("kab", set(reg["kabupaten"]))):
        if key in ss and isinstance(ss[key], list):
            kept = [v for v in ss[key] if v in allowed]
            if kept != ss[key]:
                ss[key] = kept


def _write_period_link(period: tuple[date, date], b: Bounds) -> None:
    """The period in the address, so a copied link shows the same days; none for the default."""
    want = [] if period == b.default else [period[0].isoformat(), period[1].isoformat()]
    if st.query_params.get_all(PERIOD) != want:
        if want:
            st.query_params[PERIOD] = want
        else:
            del st.query_params[PERIOD]


def apply_period(period: tuple[date, date], *, every_opd: bool = False) -> None:
    """A button's callback: make `period` the sidebar's period (and the address's), and with
    `every_opd` drop the OPD filters (regency, category, kecamatan, OPD) as well."""
    ss = st.session_state
    ss[PERIOD] = period
    ss.pop(f"{PERIOD}_error", None)
    st.query_params[PERIOD] = [period[0].isoformat(), period[1].isoformat()]
    if every_opd:
        for key in ("kab", "kategori", "kecamatan", "opd"):
            ss[key] = []


# ---------------------------------------------------------------- the period picker
def _set_period(key: str, period: tuple[date, date], b: Bounds) -> None:
    st.session_state[key] = period
    st.session_state.pop(f"{key}_error", None)
    if key == PERIOD:
        _write_period_link(period, b)


def _quick_chosen(key: str, b: Bounds) -> None:
    choice = st.session_state.get(f"{key}_cepat")
    if choice:  # a click on the chosen pill unselects it: the period stays
        _set_period(key, quick_period(choice, today=b.today, data_range=b.data), b)


def _month_period(month: date, b: Bounds) -> tuple[date, date]:
    """A whole month, within what the picker may choose (from the Surat Edaran, up to today)."""
    start, end = month_range(month, today=b.hi)
    return max(start, b.lo), min(end, b.hi)


def _month_chosen(key: str, b: Bounds) -> None:
    month = st.session_state.get(f"{key}_bulan")
    if month:
        _set_period(key, _month_period(month, b), b)


def _typed(key: str, b: Bounds) -> None:
    ss = st.session_state
    try:
        start = parse_date(ss.get(f"{key}_dari", ""))
        end = parse_date(ss.get(f"{key}_sampai", ""))
    except ValueError as exc:
        ss[f"{key}_error"] = f"Tanggal tidak dapat dipakai: {exc}."
        return
    if start > end:
        ss[f"{key}_error"] = "Tanggal awal sesudah tanggal akhir: tukar urutannya."
    elif start < b.lo or end > b.hi:
        ss[f"{key}_error"] = (f"Pilih tanggal antara {fmt_date(b.lo)} dan {fmt_date(b.hi)} "
                              f"({'hari ini' if b.hi == b.today else 'hari data terakhir'}).")
    else:
        _set_period(key, (start, end), b)


def period_picker(container, *, key: str, b: Bounds, label: str = "Periode") -> tuple[date, date]:
    """The period chooser (quick periods, a month, a typed range) in `container`; returns the period
    held in st.session_state[key] (the default when there is none)."""
    ss = st.session_state
    period = ss.get(key)
    if not (isinstance(period, tuple) and len(period) == 2 and all(isinstance(d, date) for d in period)
            and b.lo <= period[0] <= period[1] <= b.hi):
        period = ss[key] = b.default
    start, end = period
    # the widgets show the period in force (set before they are drawn)
    ss[f"{key}_cepat"] = matching_quick(start, end, today=b.today, data_range=b.data)
    months = months_between(b.lo, b.hi)
    month = start.replace(day=1)
    ss[f"{key}_bulan"] = month if _month_period(month, b) == period else None
    # a period applied elsewhere, or the typed fields' state dropped by a change of page: they follow it
    if ss.get(f"{key}_shown") != period or not ss.get(f"{key}_dari") or not ss.get(f"{key}_sampai"):
        ss[f"{key}_dari"], ss[f"{key}_sampai"] = f"{start:%d/%m/%Y}", f"{end:%d/%m/%Y}"
        ss[f"{key}_shown"] = period
    container.pills(label, list(QUICK_PERIODS), format_func=QUICK_PERIODS.get, key=f"{key}_cepat",
                    on_change=_quick_chosen, args=(key, b),
                    help=f"Satu klik menerapkan periode (WIB). Tanggal paling akhir: hari ini ({fmt_date(b.today)}).")
    container.selectbox("Satu bulan", months, format_func=month_label, index=None, key=f"{key}_bulan",
                        placeholder="Pilih bulan…", on_change=_month_chosen, args=(key, b))
    form = container.form(f"{key}_form", border=False)
    c1, c2 = form.columns(2)
    c1.text_input("Dari tanggal", key=f"{key}_dari", max_chars=40, placeholder="hh/bb/tttt")
    c2.text_input("Sampai tanggal", key=f"{key}_sampai", max_chars=40, placeholder="hh/bb/tttt")
    form.form_submit_button("Terapkan", on_click=_typed, args=(key, b), icon=":material/check:")
    error = ss.get(f"{key}_error")
    if error:
        container.error(md(error))
    return ss[key]


# ---------------------------------------------------------------- the sidebar
def _narrow(key: str, allowed) -> None:
    """Keep only the allowed values in a bound widget's state (its options narrowed by the regency)."""
    ss = st.session_state
    if key in ss and isinstance(ss[key], list):
        kept = [v for v in ss[key] if v in allowed]
        if kept != ss[key]:
            ss[key] = kept


def _opd_summary(reg: pd.DataFrame, shown: pd.DataFrame, cats, kecs, opds, names: dict, kabs=()) -> str:
    if opds:
        picked = [names.get(c, c) for c in opds]
        return ", ".join(picked[:2]) + (f" +{len(picked) - 2} OPD lain" if len(picked) > 2 else "")
    parts = []
    if kabs:
        parts.append(", ".join(regency_label(k) for k in kabs[:3])
                     + (f" +{len(kabs) - 3} kabupaten/kota lain" if len(kabs) > 3 else ""))
    if cats:
        parts.append(", ".join(CATEGORY_LABELS[c] for c in cats))
    if kecs:
        parts.append("Kec. " + ", ".join(kecs))
    if parts:
        return " · ".join(parts) + f" ({fmt_int(len(shown))} OPD)"
    return "Semua OPD"


def _regency_choice(sb, reg: pd.DataFrame) -> list[str]:
    """The regencies chosen: a multiselect when the registry holds more than one (a province);
    with one regency none is drawn, and a ?kab= in the address is dropped (named if unknown)."""
    regencies = sorted(reg["kabupaten"].unique())
    if len(regencies) <= 1:
        st.session_state.pop("kab", None)
        if "kab" in st.query_params:
            del st.query_params["kab"]
        return []
    return sb.multiselect(
        "Kabupaten/Kota", options=regencies, key="kab", placeholder="Semua kabupaten/kota", bind="query-params",
        help="Memilih kabupaten/kota mempersempit pilihan kecamatan dan OPD di bawahnya.",
    )


def sidebar_filters(page_key: str = "") -> Filters:
    reg = opd_registry()
    b = period_bounds()
    notices, link_period = _link_notices(reg, b)
    ss = st.session_state
    # Filters follow the user from page to page: a page opened without filter parameters in its
    # address starts from the filters last used in this session.
    memory = ss.get("_filter_memory", {})
    if memory.get("page") != page_key:
        for key, value in memory.get("values", {}).items():
            if key not in st.query_params:
                ss[key] = value
    if link_period is not None:
        ss[PERIOD] = link_period
    elif st.query_params.get_all(PERIOD):  # unusable: the default, and the address says so
        ss[PERIOD] = b.default
    _clean_bound_state(reg)
    sb = st.sidebar.container(key=FILTER_BOX)  # the summary's script scrolls to it
    sb.header("Filter", anchor=False)
    start, end = period_picker(sb, key=PERIOD, b=b)
    _write_period_link((start, end), b)
    kabs = _regency_choice(sb, reg)
    in_kab = reg[reg["kabupaten"].isin(kabs)] if kabs else reg
    if kabs:  # the kecamatan and OPDs to choose from: those of the chosen regencies
        _narrow("kecamatan", set(in_kab["kecamatan_label"]))
        _narrow("opd", set(in_kab["code"]))
    cats = sb.multiselect(
        "Kategori", options=list(CATEGORY_LABELS), format_func=CATEGORY_LABELS.get, key="kategori",
        placeholder="Semua kategori", bind="query-params",
    )
    kecs = sb.multiselect(
        "Kecamatan", options=sorted(in_kab["kecamatan_label"].unique()), key="kecamatan",
        placeholder="Semua kecamatan", bind="query-params",
    )
    shown = in_kab
    if cats:
        shown = shown[shown["category"].isin(cats)]
    if kecs:
        shown = shown[shown["kecamatan_label"].isin(kecs)]
    names = dict(zip(reg["code"], reg["short_name"]))
    opds = sb.multiselect(
        "OPD", options=list(in_kab["code"]), format_func=lambda c: names.get(c, c), key="opd",
        placeholder="Semua OPD", bind="query-params",
    )
    if opds:
        shown = shown[shown["code"].isin(opds)]
    ss["_filter_memory"] = {"page": page_key, "values": {
        PERIOD: (start, end), "kab": list(kabs), "kategori": list(cats), "kecamatan": list(kecs),
        "opd": list(opds)}}
    if notices:
        st.warning("Sebagian parameter tautan diabaikan dan diganti bawaan: " + "; ".join(notices) + ".",
                   icon=":material/link_off:")
    if b.data and (end < b.data[0] or start > b.data[1]):
        st.info(f"Tidak ada data check-in pada periode ini: data tersedia {fmt_range(*b.data)}. Pilih "
                "**Seluruh data** di filter periode untuk melihatnya.", icon=":material/event_busy:")
    no_holidays = years_without_holidays(start, end)
    if no_holidays:
        st.info(f"Belum ada data hari libur untuk tahun {', '.join(map(str, no_holidays))}: hari kerja di tahun itu "
                "dihitung Senin–Jumat saja (libur nasional dan cuti bersama tidak dikurangkan).",
                icon=":material/event_busy:")
    filtered = bool(kabs or cats or kecs or opds)
    labels = []
    if kabs:
        labels.append("kabupaten/kota: " + ", ".join(regency_label(k) for k in kabs))
    if cats:
        labels.append("kategori: " + ", ".join(CATEGORY_LABELS[c] for c in cats))
    if kecs:
        labels.append("kecamatan: " + ", ".join(kecs))
    if opds:
        labels.append("OPD: " + ", ".join(names.get(c, c) for c in opds))
    sb.caption(f"{fmt_int(len(shown))} dari {fmt_int(len(reg))} OPD · {fmt_date(start)} – {fmt_date(end)}")
    ids = tuple(sorted(int(i) for i in shown["id"])) if filtered else None
    summary = f"{_opd_summary(reg, shown, cats, kecs, opds, names, kabs)} · {fmt_range(start, end)}"
    data_lo, data_hi = b.data or b.default
    return Filters(start, end, ids, data_lo, data_hi, labels, summary, len(shown), tuple(kabs))


# ---------------------------------------------------------------- the page's first line
_SUMMARY_SCRIPT = """
<script>
(() => {
  const box = document.currentScript.parentElement;
  const button = box.querySelector("button.pantau-filter-summary");
  if (!button) return;
  button.addEventListener("click", () => {
    const open = document.querySelector('[data-testid="stExpandSidebarButton"]');
    if (open) open.click();
    setTimeout(() => {  // the filters sit below the page list: bring them into view
      const head = document.querySelector(".st-key-pantau_filter");
      if (head) head.scrollIntoView({block: "start", behavior: "smooth"});
    }, 350);
  });
})();
</script>
"""
_SUMMARY_STYLE = """
<style>
button.pantau-filter-summary {
  display: inline-flex; align-items: center; gap: .45rem; max-width: 100%;
  padding: .3rem .75rem; border: 1px solid rgba(49, 51, 63, .2); border-radius: 999px;
  background: rgba(21, 101, 192, .06); color: inherit; font: inherit; font-size: .95rem;
  cursor: pointer; text-align: left; line-height: 1.35;
}
button.pantau-filter-summary:hover, button.pantau-filter-summary:focus-visible {
  border-color: #1565c0; color: #1565c0; outline: none;
}
button.pantau-filter-summary .pantau-filter-edit { color: #1565c0; font-size: .85rem; white-space: nowrap; }
</style>
"""
_FILTER_ICON = ('<svg aria-hidden="true" width="16" height="16" viewBox="0 0 24 24" fill="currentColor">'
                '<path d="M4 5h16l-6 7v6l-4 2v-8z"/></svg>')


def filter_summary(container, summary: str) -> None:
    """The page's filter in one line; a click (or tap) opens the filters in the sidebar."""
    body = (f'{_SUMMARY_STYLE}<button type="button" class="pantau-filter-summary" '
            f'title="Ubah periode dan OPD di bilah filter">{_FILTER_ICON}'
            f'<span class="pantau-filter-text">{html.escape(summary)}</span>'
            '<span class="pantau-filter-edit">Ubah filter</span></button>' + _SUMMARY_SCRIPT)
    container.html(body, unsafe_allow_javascript=True)

