"""Ringkasan: the state of adoption at a glance, for every office."""
import pandas as pd
import streamlit as st

from data_access import domain
from data_access.brief import Week, brief_pdf, log_brief, weekly_brief
from data_access.brief import file_name as brief_file_name
from data_access.calendar import now_utc
from data_access.domain import ACTIVE_WINDOW_DAYS, STAGE_LABELS
from data_access.fmt import fmt_date, fmt_int, fmt_pct
from data_access.queries import weighted_coverage
from ui import charts
from ui.data import daily_counts, map_boundaries, onboarding_progress, opd_overview, totals
from ui.figures import figure
from ui.page import empty_notice, setup_page

actor, engine, flt = setup_page("ringkasan", "Ringkasan", caption="Penerapan check-in PeduliLindungi di OPD Kabupaten Bangkalan")

overview = opd_overview(**flt.kwargs)
tot = totals(**flt.kwargs)
coverage = weighted_coverage(overview)

n_opd = len(overview)
printed = int(domain.qr_printed(overview).sum())
active = int(domain.active(overview).sum())

c = st.columns(3) + st.columns(3)
c[0].metric("Jumlah OPD", fmt_int(n_opd), border=True)
c[1].metric("QR dicetak", fmt_int(printed), help="OPD dengan tanggal cetak QR Code sampai akhir periode; check-in saja "
            "tanpa tanggal cetak tidak dihitung.", border=True)
c[2].metric(f"Aktif {ACTIVE_WINDOW_DAYS} hari terakhir", fmt_int(active),
            help=f"OPD dengan check-in dalam {ACTIVE_WINDOW_DAYS} hari terakhir periode.", border=True)
c[3].metric("Check-in", fmt_int(tot["checkins"]), border=True)
c[4].metric("Tingkat penolakan", fmt_pct(tot["refusal_rate"]), help="Check-in ditolak ÷ semua check-in.", border=True)
c[5].metric("Cakupan ASN", fmt_pct(coverage), help="Rata-rata harian ASN yang check-in ÷ jumlah ASN, pada hari kerja; "
            "tertimbang jumlah ASN.", border=True)

# the weekly brief for the Bupati's office: the Monday-Sunday week holding the period's end
brief_week = Week.containing(flt.end)
brief_bounds, _ = map_boundaries()


def brief_bytes() -> bytes:
    """Made on click (in Streamlit's download thread) and written to the audit log."""
    data = brief_pdf(weekly_brief(engine=engine, week=brief_week), brief_bounds, generated_by=actor.username,
                     generated_at=now_utc())
    log_brief(engine=engine, actor=actor, week=brief_week, via="halaman")
    return data


st.download_button(
    f"Unduh laporan mingguan pimpinan (PDF): {brief_week.label()}", brief_bytes, file_name=brief_file_name(brief_week),
    mime="application/pdf", key="ringkasan_brief", icon=":material/picture_as_pdf:", on_click="ignore",
    help="Satu halaman A4 untuk seluruh OPD (tidak mengikuti filter kategori, kecamatan atau OPD): angka utama pekan "
         "Senin–Minggu yang memuat akhir periode dibanding pekan sebelumnya, OPD yang mencetak QR atau mulai aktif, "
         "10 OPD paling tertinggal beserta alasannya, dan peta cakupan ASN per kecamatan.",
)

progress = onboarding_progress(**flt.kwargs)
left, right = st.columns(2)
with left:
    st.plotly_chart(figure(charts.build_onboarding_progress, progress, total_opds=n_opd), width="stretch",
                    key="ringkasan_progress")
daily = daily_counts(**flt.kwargs)
with right:
    if daily.empty:
        empty_notice("check-in")
    else:
        st.plotly_chart(figure(charts.build_daily_checkins, daily), width="stretch", key="ringkasan_daily")

st.subheader("Perlu perhatian")
no_qr = overview[domain.no_qr(overview)]
quiet = overview[domain.quiet(overview)]
bad_photo = overview[domain.photo_problem(overview)]
st.caption(f"{fmt_int(int(domain.needs_attention(overview).sum()))} OPD: belum mencetak QR Code, QR sudah "
           f"dicetak tetapi tanpa check-in {ACTIVE_WINDOW_DAYS} hari terakhir, atau foto QR pada kunjungan monev "
           "terakhir tidak menunjukkan kode venue OPD itu.")


def attention_panel(title: str, rows: pd.DataFrame, none_msg: str, table: dict, key: str) -> None:
    """One list of OPDs needing attention: a count in the title, the table, or a note when empty."""
    st.markdown(f"**{title}** ({fmt_int(len(rows))} OPD)")
    if rows.empty:
        st.success(none_msg)
    else:
        st.dataframe(pd.DataFrame(table), hide_index=True, width="stretch", placeholder="–", key=key)


a, b = st.columns(2)
with a:
    attention_panel("Belum mencetak QR Code", no_qr, "Semua OPD dalam filter sudah mencetak QR Code.", {
        "OPD": no_qr["short_name"], "Tahap": no_qr["stage"].map(STAGE_LABELS),
        "Keterangan": no_qr["anomaly"], "Kecamatan": no_qr["kecamatan"],
    }, "ringkasan_no_qr")
with b:
    attention_panel(f"QR sudah dicetak, tetapi sepi {ACTIVE_WINDOW_DAYS} hari terakhir", quiet,
                    "Semua OPD yang sudah mencetak QR masih aktif.", {
                        "OPD": quiet["short_name"],
                        "Tahap": quiet["stage"].map(STAGE_LABELS),
                        "Check-in terakhir": [fmt_date(d) if not pd.isna(d) else "belum pernah"
                                              for d in quiet["last_day"]],
                        "Dicetak": [fmt_date(d) for d in quiet["qr_printed_on"]],
                    }, "ringkasan_quiet")
attention_panel("Foto QR kunjungan terakhir bermasalah", bad_photo,
                "Tidak ada foto QR bermasalah pada kunjungan monev terakhir tiap OPD.", {
                    "OPD": bad_photo["short_name"],
                    "Hasil foto": domain.photo_label(bad_photo),
                    "Kunjungan": [fmt_date(d) for d in bad_photo["visited_on"]],
                    "Tahap": domain.stage_label(bad_photo),
                }, "ringkasan_bad_photo")
