"""Adopsi OPD: which OPDs really use PeduliLindungi, ranked by ASN coverage. With more OPDs in
the filter than a chart can show one by one (a province), the chart and the table show the top
and the bottom of the ranking, with a search; the downloads keep every OPD."""
import pandas as pd
import streamlit as st

from data_access.domain import COVERAGE_TARGET, stage_label
from data_access.fmt import fmt_int, fmt_pct
from data_access.labels import CATEGORY_LABELS, label_of
from data_access.queries import RANK_ENDS, WEEKLY_LINES_MAX, weekly_lines_per_opd, weighted_coverage
from ui import charts
from ui.data import adoption_table, coverage_weekly
from ui.export import download_buttons
from ui.figures import figure
from ui.page import empty_notice, setup_page
from ui.ranking import ranking_view
from ui.tables import show_table


def adoption_rows(t: pd.DataFrame) -> pd.DataFrame:
    """The table's columns in Bahasa Indonesia."""
    return pd.DataFrame({
        "OPD": t["short_name"],
        "Kategori": t["category"].map(lambda c: label_of(CATEGORY_LABELS, c)),
        "Kecamatan": t["kecamatan_label"],
        "Tahap": stage_label(t),
        "Cakupan ASN (%)": (t["coverage"] * 100).round(1),
        "Check-in": t["checkins"],
        "Pengunjung per hari kerja": t["visitors_per_day"].round(1),
        "Tingkat penolakan (%)": (t["refusal_rate"] * 100).round(1),
        "Check-in terakhir": pd.to_datetime(t["last_day"]),
    })


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
c2.metric(f"OPD mencapai target {int(COVERAGE_TARGET * 100)}%", f"{fmt_int(meeting)} dari {fmt_int(len(table))}",
          border=True)
c3.metric("OPD tanpa data check-in", fmt_int(int((table["checkins"] == 0).sum())), border=True)

ends = None
if not flt.many_opds:
    st.plotly_chart(figure(charts.build_coverage_bar, table), width="stretch", key="adopsi_bar", config=charts.PLOT_CONFIG)
else:  # a bar per OPD would be hundreds of bars: the two ends of the ranking, and a search
    ends = ranking_view(table, by="coverage", key="adopsi", measure="cakupan ASN")
    if ends.split:
        left, right = st.columns(2)
        left.plotly_chart(figure(charts.build_coverage_bar, ends.top,
                                 title=f"{RANK_ENDS} OPD dengan cakupan ASN tertinggi"),
                          width="stretch", key="adopsi_bar_top", config=charts.PLOT_CONFIG)
        right.plotly_chart(figure(charts.build_coverage_bar, ends.bottom,
                                  title=f"{RANK_ENDS} OPD dengan cakupan ASN terendah"),
                           width="stretch", key="adopsi_bar_bottom", config=charts.PLOT_CONFIG)
    elif ends.matched:
        st.plotly_chart(figure(charts.build_coverage_bar, ends.top,
                               title=f"Cakupan ASN OPD yang dicari ({ends.matched} OPD)"),
                        width="stretch", key="adopsi_bar", config=charts.PLOT_CONFIG)

lines = weekly_lines_per_opd(flt.opd_ids)
weekly = coverage_weekly(**flt.kwargs, per_opd=lines)
names = dict(zip(table["id"], table["short_name"]))
if not lines:
    st.caption(f"Grafik pekanan menampilkan seluruh pilihan; pilih hingga {WEEKLY_LINES_MAX} OPD di bilah samping untuk "
               "melihat garis per OPD.")
st.plotly_chart(figure(charts.build_coverage_weekly, weekly, names), width="stretch", key="adopsi_weekly", config=charts.PLOT_CONFIG)


st.subheader("Tabel adopsi")
out = adoption_rows(table).sort_values("Cakupan ASN (%)", ascending=False)
formats = {"Cakupan ASN (%)": "pct_points", "Check-in": "int", "Pengunjung per hari kerja": "dec",
           "Tingkat penolakan (%)": "pct_points", "Check-in terakhir": "date", "Peringkat": "int"}
if ends is None:
    show_table(out, key="adopsi_table", formats=formats)
else:
    st.caption(f"Tabel memuat OPD yang tampil di grafik; unduhan CSV dan Excel memuat semua {fmt_int(ends.total)} OPD.")
    if ends.matched:
        listed = adoption_rows(ends.rows)
        listed.insert(0, "Peringkat", ends.rows["position"].to_numpy())
        show_table(listed, key="adopsi_table", formats=formats)
export = out.assign(**{"Check-in terakhir": out["Check-in terakhir"].dt.strftime("%d/%m/%Y")})
download_buttons(export, f"adopsi-opd-{flt.start:%Y%m%d}-{flt.end:%Y%m%d}", key="adopsi_export", sheet="Adopsi OPD")
