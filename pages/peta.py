"""Peta adopsi: every OPD (or every kecamatan) on a map of the regency."""
import json

import pandas as pd
import streamlit as st

from data_access.config import get_settings
from data_access.fmt import fmt_int, fmt_pct
from ui import charts
from ui.data import kecamatan_summary, opd_overview
from ui.export import download_buttons
from ui.page import empty_notice, setup_page

actor, engine, flt = setup_page("peta", "Peta adopsi",
                                caption="Warna = cakupan ASN, ukuran = jumlah check-in. Arahkan kursor ke penanda untuk rinciannya.")


@st.cache_data(ttl=3600, show_spinner=False)
def load_boundaries(path: str) -> tuple[dict | None, str | None]:
    try:
        with open(path, encoding="utf-8") as fh:
            gj = json.load(fh)
        feats = [f for f in gj.get("features", []) if f.get("properties", {}).get("nama")]
        if not feats:
            return None, "berkas batas wilayah tidak memuat fitur dengan properti 'nama'"
        return {"type": "FeatureCollection", "features": feats}, None
    except (OSError, ValueError, AttributeError) as exc:
        return None, f"berkas batas wilayah tidak dapat dibaca ({exc.__class__.__name__})"


view = st.segmented_control("Tampilan", ["Per OPD", "Per kecamatan"], default="Per OPD", key="peta_view")
if view == "Per kecamatan":
    data = kecamatan_summary(**flt.kwargs)
    if data.empty:
        empty_notice("OPD")
        st.stop()
    geo = None
    path = get_settings().boundary_geojson
    if path is not None:
        geo, problem = load_boundaries(str(path))
        if problem:
            st.warning(f"Peta kecamatan digambar tanpa batas wilayah: {problem}.")
    st.plotly_chart(charts.build_kecamatan_map(data, geo), width="stretch", key="peta_kecamatan")
    table = pd.DataFrame({
        "Kecamatan": data["kecamatan"], "OPD": data["opds"], "QR dicetak": data["printed"],
        "Cakupan ASN": [fmt_pct(v) for v in data["coverage"]], "Check-in": [fmt_int(v) for v in data["checkins"]],
        "Tingkat penolakan": [fmt_pct(v) for v in data["refusal_rate"]],
    })
else:
    data = opd_overview(**flt.kwargs)
    if data.empty:
        empty_notice("OPD")
        st.stop()
    st.plotly_chart(charts.build_opd_map(data), width="stretch", key="peta_opd")
    table = pd.DataFrame({
        "OPD": data["short_name"], "Kecamatan": data["kecamatan"],
        "Cakupan ASN": [fmt_pct(v) for v in data["coverage"]], "Check-in": [fmt_int(v) for v in data["checkins"]],
        "Lintang": data["lat"], "Bujur": data["lon"],
    })
st.caption("Peta dasar OpenStreetMap dimuat bila peramban dapat menjangkau internet; tanpa itu, penanda tetap tampil "
           "di atas latar polos.")
with st.expander("Tabel data peta"):
    st.dataframe(table, hide_index=True, width="stretch", placeholder="–", key="peta_table")
    download_buttons(table, f"peta-adopsi-{flt.start:%Y%m%d}-{flt.end:%Y%m%d}", key="peta_export", sheet="Peta")
