"""Tren penolakan: who is turned away at the doors, where and when, and whether it falls. With
more OPDs in the filter than a chart can show one by one (a province), the per-OPD charts follow
a search and the per-OPD table shows the two ends of the ranking; the downloads keep every OPD."""
import pandas as pd
import streamlit as st

from data_access.domain import REFUSAL_MIN_VOLUME
from data_access.fmt import fmt_int, fmt_pct
from data_access.labels import VISITOR_TYPE_LABELS, label_of
from data_access.queries import RANK_ENDS, search_rows
from ui import charts
from ui.data import (
    merah_by_kecamatan,
    opd_registry,
    refusal_heatmap,
    refusals_by_opd,
    refusals_by_visitor_type,
    refusals_daily,
)
from ui.export import download_buttons
from ui.figures import figure
from ui.page import empty_notice, setup_page
from ui.ranking import ranking_view
from ui.tables import show_table

actor, engine, flt = setup_page(
    "penolakan", "Tren penolakan",
    caption="Ditolak: status merah (belum vaksin), hitam (positif/kontak erat), dan kuning bila kantor menolaknya.")
stamp = f"{flt.start:%Y%m%d}-{flt.end:%Y%m%d}"


COUNTS = ("Check-in", "Ditolak", "Merah", "Hitam", "Kuning ditolak", "Ditolak (merah)")
DAYS = ("Tanggal", "Pekan mulai")


def table_block(df: pd.DataFrame, name: str, key: str, *, shown: pd.DataFrame | None = None) -> None:
    """The chart's numbers in Indonesian formats (counts, rates in %, days); the downloads keep the
    numbers and write days as 31/01/2022. `shown`: the rows to show when not all of them (the
    ends of a long ranking); the downloads hold every row of `df`."""
    with st.expander("Tabel data grafik"):
        formats = ({c: "int" for c in COUNTS} | {c: "date" for c in DAYS}
                   | {"Tingkat penolakan (%)": "pct_points2", "Peringkat": "int"})
        if shown is not None:
            st.caption(f"Tabel memuat {fmt_int(len(shown))} OPD: yang teratas dan terbawah menurut jumlah penolakan. "
                       f"Unduhan CSV dan Excel memuat semua {fmt_int(len(df))} OPD.")
        show_table(df if shown is None else shown, key=f"{key}_table", formats=formats)
        export = df.assign(**{c: df[c].dt.strftime("%d/%m/%Y") for c in DAYS if c in df})
        download_buttons(export, f"{name}-{stamp}", key=key, sheet=name[:31])


def refusal_rows(t: pd.DataFrame) -> pd.DataFrame:
    """The per-OPD table's columns in Bahasa Indonesia; the kecamatan as the filter names it
    (with its regency in a registry of several)."""
    reg = opd_registry()
    kecamatan = t["opd_id"].map(dict(zip(reg["id"], reg["kecamatan_label"]))).fillna(t["kecamatan"])
    return pd.DataFrame({
        "OPD": t["short_name"], "Kecamatan": kecamatan, "Check-in": t["checkins"],
        "Ditolak": t["refused"], "Merah": t["merah"], "Hitam": t["hitam"],
        "Tingkat penolakan (%)": (t["rate"] * 100).round(2),
    })


daily = refusals_daily(**flt.kwargs)
if daily.empty:
    empty_notice("check-in")
    st.stop()
total, refused = int(daily["checkins"].sum()), int(daily["refused"].sum())
c = st.columns(4)
c[0].metric("Check-in ditolak", fmt_int(refused), border=True)
c[1].metric("Tingkat penolakan", fmt_pct(refused / total if total else None), border=True)
c[2].metric("Ditolak: merah", fmt_int(daily["merah"].sum()), border=True)
c[3].metric("Ditolak: hitam", fmt_int(daily["hitam"].sum()), border=True)

a, b = st.columns(2)
period = a.segmented_control("Satuan waktu grafik", ["Harian", "Pekanan"], default="Pekanan", key="penolakan_period",
                              help="Titik grafik per hari atau per pekan; periodenya diatur di filter.")
measure = b.segmented_control("Ukuran", ["Jumlah", "Persentase"], default="Jumlah", key="penolakan_measure")
trend = daily if period == "Harian" else charts.weekly_refusals(daily)
st.plotly_chart(figure(charts.build_refusal_trend, trend, as_rate=measure == "Persentase",
                       period_label="hari" if period == "Harian" else "pekan"),
                width="stretch", key="penolakan_trend", config=charts.PLOT_CONFIG)
table_block(pd.DataFrame({
    "Tanggal" if period == "Harian" else "Pekan mulai": trend["day"],
    "Check-in": trend["checkins"], "Ditolak": trend["refused"], "Merah": trend["merah"], "Hitam": trend["hitam"],
    "Kuning ditolak": trend["kuning"],
    "Tingkat penolakan (%)": (trend["refused"] / trend["checkins"].where(trend["checkins"] > 0) * 100).round(2),
}), "penolakan-tren", "penolakan_trend")

st.subheader("Per OPD")
by_opd = refusals_by_opd(**flt.kwargs)
ends = None
if flt.many_opds:  # a search narrows the charts; the table shows the ends of the ranking
    ends = ranking_view(by_opd, by="refused", key="penolakan", measure="jumlah penolakan",
                        where=" di tabel data grafik (kedua grafik mengikuti pencarian)")
pool = by_opd if ends is None else search_rows(by_opd, ends.search)
min_volume = st.number_input("Volume minimum untuk peringkat tingkat penolakan (check-in)", min_value=0,
                             value=REFUSAL_MIN_VOLUME, step=50, key="penolakan_min_volume",
                             help="Kantor kecil dengan sedikit check-in tidak masuk peringkat tingkat penolakan.")
left, right = st.columns(2)
with left:
    top_n = pool.nlargest(10, "refused")
    st.plotly_chart(figure(charts.build_top_opd, top_n, value="refused", title="Penolakan terbanyak"), width="stretch",
                    key="penolakan_top_count", config=charts.PLOT_CONFIG)
with right:
    eligible = pool[pool["checkins"] >= min_volume]
    if eligible.empty:
        st.info(f"Tidak ada OPD dengan sedikitnya {fmt_int(min_volume)} check-in.")
    else:
        st.plotly_chart(figure(charts.build_top_opd, eligible.nlargest(10, "rate"), value="rate",
                               title=f"Tingkat penolakan tertinggi (≥ {fmt_int(min_volume)} check-in)"),
                        width="stretch", key="penolakan_top_rate", config=charts.PLOT_CONFIG)

listed = None
if ends is not None:
    listed = refusal_rows(ends.rows)
    listed.insert(0, "Peringkat", ends.rows["position"].to_numpy())
table_block(refusal_rows(by_opd).sort_values("Ditolak", ascending=False), "penolakan-per-opd", "penolakan_opd",
            shown=listed)

left, right = st.columns(2)
with left:
    vt = refusals_by_visitor_type(**flt.kwargs)
    st.plotly_chart(figure(charts.build_visitor_type_refusals, vt), width="stretch", key="penolakan_vt", config=charts.PLOT_CONFIG)
    table_block(pd.DataFrame({
        "Jenis": vt["visitor_type"].map(lambda v: label_of(VISITOR_TYPE_LABELS, v)), "Check-in": vt["checkins"],
        "Ditolak": vt["refused"], "Merah": vt["merah"], "Hitam": vt["hitam"], "Kuning ditolak": vt["kuning"],
        "Tingkat penolakan (%)": (vt["rate"] * 100).round(2),
    }), "penolakan-asn-pengunjung", "penolakan_vt")
with right:
    heat = refusal_heatmap(**flt.kwargs)
    heat_rate = st.toggle("Tampilkan sebagai persentase", key="penolakan_heat_rate")
    st.plotly_chart(figure(charts.build_refusal_heatmap, heat, as_rate=heat_rate), width="stretch", key="penolakan_heat", config=charts.PLOT_CONFIG)
    table_block(pd.DataFrame({
        "Hari": heat["dow"].map(dict(enumerate(charts.DAY_NAMES))), "Jam (WIB)": heat["hour"],
        "Check-in": heat["checkins"], "Ditolak": heat["refused"],
    }), "penolakan-hari-jam", "penolakan_heat")

st.subheader("Tindak lanjut vaksinasi")
merah = merah_by_kecamatan(**flt.kwargs)
if merah.empty:
    st.info("Tidak ada penolakan berstatus merah pada filter ini.")
else:
    lines = merah
    n_kec = merah["kecamatan"].nunique()
    if flt.many_opds and n_kec > RANK_ENDS:  # a line per kecamatan of a province: the ten with the most
        most = merah.groupby("kecamatan")["merah"].sum().sort_values(ascending=False, kind="stable")
        lines = merah[merah["kecamatan"].isin(most.index[:RANK_ENDS])]
        st.caption(f"Grafik menampilkan {RANK_ENDS} dari {fmt_int(n_kec)} kecamatan dengan penolakan merah terbanyak; "
                   "tabel dan unduhannya memuat semua kecamatan.")
    st.plotly_chart(figure(charts.build_merah_kecamatan, lines), width="stretch", key="penolakan_merah", config=charts.PLOT_CONFIG)
    table_block(pd.DataFrame({"Kecamatan": merah["kecamatan"], "Pekan mulai": merah["week"],
                              "Ditolak (merah)": merah["merah"]}), "penolakan-merah-kecamatan", "penolakan_merah")
