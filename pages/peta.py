"""Peta adopsi: where the OPDs lag. Per kecamatan (a choropleth of Cakupan ASN with names and
percentages written on it) or per OPD (the regency and a zoom to the town), drawn from the shipped
boundaries with no internet; a click shows the figures beside the map and offers them as the
sidebar filter. With more OPDs in the filter than a map can show one by one (a province), no
marker per OPD: per regency (a bubble at the mean point of its OPDs) or per kecamatan."""
import pandas as pd
import streamlit as st

from data_access import boundaries, domain
from data_access.domain import COVERAGE_TARGET
from data_access.fmt import fmt_date, fmt_int, fmt_pct
from data_access.labels import regency_label
from data_access.queries import MANY_OPDS
from data_access.registry import HOME_REGENCY
from ui import charts
from ui.data import kecamatan_summary, map_boundaries, opd_overview, opd_registry, regency_summary
from ui.export import download_buttons
from ui.page import empty_notice, setup_page
from ui.safe import md
from ui.tables import show_table

actor, engine, flt = setup_page(
    "peta", "Peta adopsi",
    caption=f"Warna = cakupan ASN (target {fmt_pct(COVERAGE_TARGET, 0)}). Nama yang tertulis di peta per OPD: OPD "
            "yang tertinggal (QR belum dicetak atau cakupan di bawah target). Klik kecamatan atau OPD untuk melihat "
            "angkanya.")


def _remember_pick(chart_key: str, pick_key: str) -> None:
    """on_select: the last thing clicked on any of the page's maps (None once deselected)."""
    points = st.session_state[chart_key].selection.points
    if not points:
        st.session_state[pick_key] = None
        return
    pt = points[-1]
    if pt.get("location"):
        st.session_state[pick_key] = ("kecamatan", pt["location"])
    elif pt.get("customdata"):
        st.session_state[pick_key] = (st.session_state.get("peta_view_kind", "opd"), pt["customdata"][0])


def _apply_filter(key: str, value: str, pick_key: str) -> None:
    """Make the clicked kecamatan or OPD the sidebar filter (ui/filters.py reads these keys)."""
    st.session_state[key] = [value]
    st.session_state[pick_key] = None


def _map(fig, key: str, pick_key: str):
    st.plotly_chart(fig, width="stretch", key=key, on_select=lambda: _remember_pick(key, pick_key),
                    selection_mode="points", config=charts.MAP_CONFIG)


def figures(rows: list[tuple[str, str]]) -> None:
    """The clicked place's figures as a short list (fits a narrow column and a phone)."""
    st.markdown("\n".join(f"- {label}: **{md(value)}**" for label, value in rows))


def behind_list(ov: pd.DataFrame, where: str) -> None:
    """The OPDs of an area furthest behind, with why (at most eight named)."""
    behind = domain.furthest_behind(ov)
    if behind.empty:
        st.success(f"Semua OPD di {where} ini mencapai target.")
    else:
        reasons = domain.behind_reasons(behind)
        lines = [f"- **{md(s)}**: {md(r)}" for s, r in zip(behind["short_name"].head(8), reasons.head(8))]
        more = len(behind) - 8
        st.markdown(f"**Tertinggal ({fmt_int(len(behind))} OPD)**\n" + "\n".join(lines)
                    + (f"\n- … dan {fmt_int(more)} OPD lainnya" if more > 0 else ""))


def area_figures(row: pd.Series, *, active: bool = False) -> None:
    """A kecamatan's or a regency's figures (`active`: with its OPDs active lately)."""
    rows = [("Cakupan ASN", f"{fmt_pct(row['coverage'])} (target {fmt_pct(COVERAGE_TARGET, 0)})"),
            ("QR dicetak", f"{fmt_int(row['printed'])} dari {fmt_int(row['opds'])} OPD")]
    if active:
        rows.append((f"Aktif {domain.ACTIVE_WINDOW_DAYS} hari terakhir", f"{fmt_int(row['active'])} OPD"))
    figures(rows + [("Check-in", fmt_int(row["checkins"])), ("Tingkat penolakan", fmt_pct(row["refusal_rate"]))])


def kecamatan_panel(name: str, row: pd.Series | None, ov: pd.DataFrame) -> None:
    """`name`: the kecamatan's label, with its regency in a province ("Galis (Kab. Pamekasan)")."""
    st.markdown(f"#### Kec. {md(name)}")
    if row is None:
        st.info("Kecamatan ini tidak termasuk filter yang dipakai.")
        return
    area_figures(row)
    behind_list(ov[ov["kecamatan_label"] == name], "kecamatan")
    st.button(f"Terapkan Kec. {name} sebagai filter", key="peta_apply_kecamatan", type="primary",
              icon=":material/filter_alt:", on_click=_apply_filter, args=("kecamatan", name, "peta_pick_kecamatan"),
              width="stretch")


def regency_panel(name: str, row: pd.Series | None, ov: pd.DataFrame) -> None:
    label = regency_label(name)
    st.markdown(f"#### {md(label)}")
    if row is None:
        st.info("Kabupaten/kota ini tidak termasuk filter yang dipakai.")
        return
    area_figures(row, active=True)
    behind_list(ov[ov["kabupaten"] == name], "kabupaten/kota")
    st.button(f"Terapkan {label} sebagai filter", key="peta_apply_kabupaten", type="primary",
              icon=":material/filter_alt:", on_click=_apply_filter, args=("kab", name, "peta_pick_kabupaten"),
              width="stretch")


def opd_panel(row: pd.Series) -> None:
    st.markdown(f"#### {md(row['name'])}")
    st.caption(f"Kec. {md(row['kecamatan_label'])} · {md(domain.stage_label(row.to_frame().T).iloc[0])}")
    printed, last = row["qr_printed_on"], row["last_day"]
    figures([("Cakupan ASN", f"{fmt_pct(row['coverage'])} (target {fmt_pct(COVERAGE_TARGET, 0)})"),
             ("QR dicetak", fmt_date(printed) if printed is not None and not pd.isna(printed) else "belum"),
             ("Check-in", fmt_int(row["checkins"])), ("Tingkat penolakan", fmt_pct(row["refusal_rate"])),
             ("Check-in terakhir", fmt_date(last) if last is not None and not pd.isna(last) else "belum ada")])
    why = domain.behind_reasons(row.to_frame().T).iloc[0]
    if why:
        st.warning(f"Tertinggal: {md(why)}.")
    else:
        st.success("Mencapai target.")
    st.button(f"Terapkan {row['short_name']} sebagai filter", key="peta_apply_opd", type="primary",
              icon=":material/filter_alt:", on_click=_apply_filter, args=("opd", row["code"], "peta_pick_opd"),
              width="stretch")


def summary_panel(ov: pd.DataFrame, what: str) -> None:
    behind = domain.behind(ov)
    st.info(f"Klik {what} pada peta untuk melihat angkanya dan memakainya sebagai filter.",
            icon=":material/touch_app:")
    st.markdown(f"**Tertinggal: {fmt_int(int(behind.sum()))} dari {fmt_int(len(ov))} OPD**  \n"
                f"QR belum dicetak: {fmt_int(int(domain.no_qr(ov).sum()))} · cakupan ASN di bawah "
                f"{fmt_pct(COVERAGE_TARGET, 0)}: {fmt_int(int((behind & domain.qr_printed(ov)).sum()))}")


bounds, problem = map_boundaries()
if problem:
    st.warning(f"Berkas batas wilayah PANTAU_BOUNDARY_GEOJSON tidak dapat dipakai: {md(problem)}. Peta memakai "
               "batas kecamatan bawaan.")
PER_REGENCY, PER_KECAMATAN, PER_OPD = "Per kabupaten/kota", "Per kecamatan", "Per OPD"
if flt.many_opds:  # a marker per OPD would be hundreds of them: the figures per regency or per kecamatan
    reg = opd_registry()
    in_filter = reg if flt.opd_ids is None else reg[reg["id"].isin(flt.opd_ids)]
    several = in_filter["kabupaten"].nunique() > 1
    view = st.segmented_control("Tampilan", [PER_REGENCY, PER_KECAMATAN], key="peta_level",
                                default=PER_REGENCY if several else PER_KECAMATAN) or PER_REGENCY
    st.caption(f"{fmt_int(flt.opd_count)} OPD dalam filter: peta menampilkan angka per kabupaten/kota atau per "
               f"kecamatan, tanpa titik per OPD. Persempit filter hingga {MANY_OPDS} OPD atau kurang untuk "
               "melihat tiap OPD.")
else:
    view = st.segmented_control("Tampilan", [PER_KECAMATAN, PER_OPD], default=PER_KECAMATAN, key="peta_view")
if view == PER_REGENCY:
    data = regency_summary(**flt.kwargs)
    if data.empty:
        empty_notice("OPD")
        st.stop()
    ov = opd_overview(**flt.kwargs)
    st.session_state["peta_view_kind"] = "kabupaten"
    labels = {k: regency_label(k) for k in data["kabupaten"]}
    map_col, side = st.columns([3, 1.2], gap="medium")
    with map_col:
        _map(charts.build_regency_map(data, bounds, labels=labels), "peta_kabupaten", "peta_pick_kabupaten")
    with side:
        pick = st.session_state.get("peta_pick_kabupaten")
        if pick:
            rows = data[data["kabupaten"] == pick[1]]
            regency_panel(pick[1], rows.iloc[0] if not rows.empty else None, ov)
        else:
            summary_panel(ov, "kabupaten/kota")
    table = pd.DataFrame({
        "Kabupaten/Kota": data["kabupaten"].map(labels), "OPD": data["opds"], "QR dicetak": data["printed"],
        "Aktif": data["active"], "Cakupan ASN (%)": (data["coverage"] * 100).round(1), "Check-in": data["checkins"],
        "Tingkat penolakan (%)": (data["refusal_rate"] * 100).round(1),
    }).sort_values("Cakupan ASN (%)", kind="stable")
elif view != PER_OPD:
    data = kecamatan_summary(**flt.kwargs)
    if data.empty:
        empty_notice("OPD")
        st.stop()
    ov = opd_overview(**flt.kwargs)
    st.session_state["peta_view_kind"] = "kecamatan"
    map_col, side = st.columns([3, 1.2], gap="medium")
    with map_col:
        _map(charts.build_kecamatan_map(data, bounds, province=flt.many_opds), "peta_kecamatan",
             "peta_pick_kecamatan")
    with side:
        pick = st.session_state.get("peta_pick_kecamatan")
        if pick:
            # an outline clicked names Bangkalan's kecamatan; a marker, the kecamatan's label
            outlined = data[data["kabupaten"] == HOME_REGENCY]
            name = dict(zip(outlined["kecamatan"], outlined["kecamatan_label"])).get(pick[1], pick[1])
            rows = data[data["kecamatan_label"] == name]
            kecamatan_panel(name, rows.iloc[0] if not rows.empty else None, ov)
        else:
            summary_panel(ov, "kecamatan")
    table = pd.DataFrame({
        "Kecamatan": data["kecamatan_label"], "OPD": data["opds"], "QR dicetak": data["printed"],
        "Cakupan ASN (%)": (data["coverage"] * 100).round(1), "Check-in": data["checkins"],
        "Tingkat penolakan (%)": (data["refusal_rate"] * 100).round(1),
    })
else:
    data = opd_overview(**flt.kwargs)
    if data.empty:
        empty_notice("OPD")
        st.stop()
    st.session_state["peta_view_kind"] = "opd"
    has_town = charts.town_bbox(data) is not None
    # phone: the columns stack in this order (the regency, the town, the figures of the clicked OPD)
    cols = st.columns([4, 5, 3] if has_town else [3, 1.2], gap="small")
    with cols[0]:
        _map(charts.build_opd_map(data, bounds), "peta_opd", "peta_pick_opd")
    if has_town:
        with cols[1]:
            _map(charts.build_town_map(data, bounds), "peta_kota", "peta_pick_opd")
    with cols[-1]:
        pick = st.session_state.get("peta_pick_opd")
        rows = data[data["code"] == pick[1]] if pick else data.iloc[0:0]
        if not rows.empty:
            opd_panel(rows.iloc[0])
        else:
            summary_panel(data, "OPD")
    table = pd.DataFrame({
        "OPD": data["short_name"], "Kecamatan": data["kecamatan_label"],
        "Cakupan ASN (%)": (data["coverage"] * 100).round(1), "Check-in": data["checkins"],
        "Lintang": data["lat"], "Bujur": data["lon"],
    })
st.caption(boundaries.SOURCE_NOTE + "." if bounds.shipped else f"Batas wilayah: {md(bounds.source)}.")
with st.expander("Tabel data peta"):
    # Indonesian formats on screen (87,6%; 1.234; -7,0279), the numbers kept for sorting and the download
    show_table(table, key="peta_table", formats={"Cakupan ASN (%)": "pct_points", "Check-in": "int", "QR dicetak": "int",
                                                 "Aktif": "int", "Tingkat penolakan (%)": "pct_points",
                                                 "Lintang": "coord", "Bujur": "coord"})
    download_buttons(table, f"peta-adopsi-{flt.start:%Y%m%d}-{flt.end:%Y%m%d}", key="peta_export", sheet="Peta")
