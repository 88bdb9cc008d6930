"""Adopsi OPD: which OPDs really use PeduliLindungi, ranked by ASN coverage."""
import pandas as pd
import streamlit as st

from data_access.domain import COVERAGE_TARGET, stage_label
from data_access.fmt import fmt_pct
from data_access.labels import CATEGORY_LABELS, label_of
from data_access.queries import weighted_coverage
from ui import charts
from ui.data import adoption_table, coverage_weekly
from ui.export import download_buttons
from ui.page import empty_notice, setup_page
from ui.tables import show_table

actor, engine, flt = setup_page("adopsi", "Adopsi per OPD",
                                caption="Cakupan ASN = rata-rata harian ASN yang check-in ÷ jumlah ASN, pada hari kerja.")
table = adoption_table(**flt.kwargs)
if table.empty:
    empty_notice("OPD")
    st.stop()

cov_all = weighted_coverage(table)
meeting = int((table["coverage"] >= COVERAGE_TARGET).sum())
c1, c2, c3 = st.columns(3)
c1.metric("Cakupan ASN (tertimbang)", fmt_pct(cov_all), border=True)
c2.metric(f"OPD mencapai target {int(COVERAGE_TARGET * 100)}%", f"{meeting} dari {len(table)}", border=True)
c3.metric("OPD tanpa data check-in", str(int((table["checkins"] == 0).sum())), border=True)

st.plotly_chart(charts.build_coverage_bar(table), width="stretch", key="adopsi_bar")

weekly = coverage_weekly(**flt.kwargs)
names = dict(zip(table["id"], table["short_name"]))
if flt.opd_ids is not None and len(flt.opd_ids) <= 12:
    shown = weekly
else:
    shown = weekly[weekly["opd_id"] == 0]
    st.caption("Grafik pekanan menampilkan seluruh pilihan; pilih hingga 12 OPD di bilah samping untuk melihat garis per OPD.")
st.plotly_chart(charts.build_coverage_weekly(shown, names), width="stretch", key="adopsi_weekly")

st.subheader("Tabel adopsi")
out = pd.DataFrame({
    "OPD": table["short_name"],
    "Kategori": table["category"].map(lambda c: label_of(CATEGORY_LABELS, c)),
    "Kecamatan": table["kecamatan"],
    "Tahap": stage_label(table),
    "Cakupan ASN (%)": (table["coverage"] * 100).round(1),
    "Check-in": table["checkins"],
    "Pengunjung per hari kerja": table["visitors_per_day"].round(1),
    "Tingkat penolakan (%)": (table["refusal_rate"] * 100).round(1),
    "Check-in terakhir": pd.to_datetime(table["last_day"]),
}).sort_values("Cakupan ASN (%)", ascending=False)
show_table(out, key="adopsi_table", formats={
    "Cakupan ASN (%)": "pct_points", "Check-in": "int", "Pengunjung per hari kerja": "dec",
    "Tingkat penolakan (%)": "pct_points", "Check-in terakhir": "date",
})
export = out.assign(**{"Check-in terakhir": out["Check-in terakhir"].dt.strftime("%d/%m/%Y")})
download_buttons(export, f"adopsi-opd-{flt.start:%Y%m%d}-{flt.end:%Y%m%d}", key="adopsi_export", sheet="Adopsi OPD")
