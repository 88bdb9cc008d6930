"""Ringkasan: the state of adoption at a glance, for every office. The line under the title names
the regencies the filter covers. With more OPDs in the filter than a list can show usefully (a
province), each "Perlu perhatian" list shows its most urgent RANK_ENDS OPDs with a search, and a
download holds every OPD needing attention."""
import pandas as pd
import streamlit as st

from data_access import domain
from data_access import onboarding as ob
from data_access.brief import Week, brief_pdf, log_brief, weekly_brief
from data_access.brief import file_name as brief_file_name
from data_access.calendar import now_utc
from data_access.domain import ACTIVE_WINDOW_DAYS, STAGE_LABELS
from data_access.fmt import fmt_date, fmt_int, fmt_pct
from data_access.labels import regencies_phrase, regency_full, regency_label
from data_access.queries import weighted_coverage
from data_access.queries.province import RANK_ENDS, search_rows
from ui import charts
from ui.data import map_boundaries, opd_overview, opd_registry, totals
from ui.export import download_buttons
from ui.page import empty_notice, setup_page
from ui.page_figures import daily_checkins_chart, onboarding_progress_chart
from ui.safe import md


def covered(flt) -> str:
    """What the page covers: the regencies chosen, else those of the OPDs in the filter (Bangkalan
    alone for its own registry; "38 kabupaten/kota" for a province's)."""
    reg = opd_registry()
    if flt.opd_ids is not None:
        reg = reg[reg["id"].isin(flt.opd_ids)]
    where = regencies_phrase(flt.kabupaten or reg["kabupaten"])
    return f"Penerapan check-in PeduliLindungi di OPD {where}" if where else \
        "Penerapan check-in PeduliLindungi di OPD dalam filter"


actor, engine, flt = setup_page("ringkasan", "Ringkasan", caption=covered)

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


# one regency chosen in the filter: its OPDs' brief; else every OPD of the registry
brief_regency = flt.kabupaten[0] if len(flt.kabupaten) == 1 else None


def brief_bytes() -> bytes:
    """Made on click (in Streamlit's download thread) and written to the audit log."""
    brief = weekly_brief(engine=engine, week=brief_week, kabupaten=brief_regency)
    data = brief_pdf(brief, brief_bounds, generated_by=actor.username, generated_at=now_utc())
    log_brief(engine=engine, actor=actor, week=brief_week, via="halaman", scope=brief.scope)
    return data


st.download_button(
    f"Unduh laporan mingguan pimpinan (PDF): {brief_week.label()}", brief_bytes, file_name=brief_file_name(brief_week),
    mime="application/pdf", key="ringkasan_brief", icon=":material/picture_as_pdf:", on_click="ignore",
    help="Satu halaman A4 untuk seluruh OPD" + (f" {regency_full(brief_regency)}" if brief_regency else "")
         + " (tidak mengikuti filter kategori, kecamatan atau OPD): angka utama pekan Senin–Minggu yang memuat akhir "
         "periode dibanding pekan sebelumnya, OPD yang mencetak QR atau mulai aktif, 10 OPD paling tertinggal beserta "
         "alasannya, dan peta cakupan ASN per kecamatan (Kabupaten Bangkalan) atau, untuk kabupaten/kota lain, "
         "kecamatan dan kabupaten/kota dengan cakupan terendah.",
)

left, right = st.columns(2)
with left:
    st.plotly_chart(onboarding_progress_chart(overview, **flt.kwargs), width="stretch",
                    key="ringkasan_progress", config=charts.PLOT_CONFIG)
daily_chart = daily_checkins_chart(**flt.kwargs)
with right:
    if daily_chart is None:
        empty_notice("check-in")
    else:
        st.plotly_chart(daily_chart, width="stretch", key="ringkasan_daily", config=charts.PLOT_CONFIG)

st.subheader("Perlu perhatian")
no_qr = overview[domain.no_qr(overview)]
quiet = overview[domain.quiet(overview)]
bad_photo = overview[domain.photo_problem(overview)]
attention = domain.needs_attention(overview)
st.caption(f"{fmt_int(int(attention.sum()))} OPD: belum mencetak QR Code, QR sudah "
           f"dicetak tetapi tanpa check-in {ACTIVE_WINDOW_DAYS} hari terakhir, atau foto QR pada kunjungan monev "
           "terakhir tidak menunjukkan kode venue OPD itu.")
search = ""
if flt.many_opds:  # hundreds of OPDs: each list its most urgent RANK_ENDS, a search, a download of all
    no_qr = ob.chase_list(overview, as_of=flt.end)  # the Onboarding page's order: whom to chase first
    quiet = domain.longest_quiet_first(quiet)
    bad_photo = domain.largest_first(bad_photo)
    search = st.text_input("Cari OPD", key="ringkasan_cari", max_chars=80, placeholder="Ketik sebagian nama OPD…",
                           help="Menyaring ketiga daftar menurut nama OPD.").strip()
    st.caption(f"{fmt_int(flt.opd_count)} OPD dalam filter: tiap daftar menampilkan paling banyak {RANK_ENDS} OPD, "
               "yang paling mendesak dulu; cari OPD untuk melihat yang lain."
               + (f" Unduhan di bawah memuat semua {fmt_int(int(attention.sum()))} OPD yang perlu perhatian."
                  if attention.any() else ""))


def attention_panel(title: str, rows: pd.DataFrame, none_msg: str, table, key: str, order: str) -> None:
    """One list of OPDs needing attention: a count in the title, the table (`table(rows)`: its
    columns), or a note when empty. With many OPDs: the first RANK_ENDS rows matching the search,
    `order` saying which come first."""
    st.markdown(f"**{title}** ({fmt_int(len(rows))} OPD)")
    if rows.empty:
        st.success(none_msg)
        return
    shown = matched = rows
    if flt.many_opds:
        matched = search_rows(rows, search)
        shown = matched.head(RANK_ENDS)
        if matched.empty:
            st.caption(f"Tidak ada OPD di daftar ini yang namanya memuat “{md(search)}”.")
            return
    st.dataframe(pd.DataFrame(table(shown)), hide_index=True, width="stretch", placeholder="–", key=key)
    if len(matched) > len(shown):
        which = f" yang cocok dengan “{md(search)}”" if search else ""
        st.caption(f"Tampil {fmt_int(len(shown))} dari {fmt_int(len(matched))} OPD{which}, {order}.")
    elif search:
        st.caption(f"{fmt_int(len(matched))} OPD cocok dengan “{md(search)}”, semuanya tampil.")


a, b = st.columns(2)
with a:
    attention_panel("Belum mencetak QR Code", no_qr, "Semua OPD dalam filter sudah mencetak QR Code.", lambda r: {
        "OPD": r["short_name"], "Tahap": r["stage"].map(STAGE_LABELS),
        "Keterangan": r["anomaly"], "Kecamatan": r["kecamatan_label"],
    }, "ringkasan_no_qr", "menurut urutan kejar halaman Onboarding (jumlah ASN × hari terlambat)")
with b:
    attention_panel(f"QR sudah dicetak, tetapi sepi {ACTIVE_WINDOW_DAYS} hari terakhir", quiet,
                    "Semua OPD yang sudah mencetak QR masih aktif.", lambda r: {
                        "OPD": r["short_name"],
                        "Tahap": r["stage"].map(STAGE_LABELS),
                        "Check-in terakhir": [fmt_date(d) if not pd.isna(d) else "belum pernah"
                                              for d in r["last_day"]],
                        "Dicetak": [fmt_date(d) for d in r["qr_printed_on"]],
                    }, "ringkasan_quiet", "yang belum pernah check-in dan paling lama sepi dulu")
attention_panel("Foto QR kunjungan terakhir bermasalah", bad_photo,
                "Tidak ada foto QR bermasalah pada kunjungan monev terakhir tiap OPD.", lambda r: {
                    "OPD": r["short_name"],
                    "Hasil foto": domain.photo_label(r),
                    "Kunjungan": [fmt_date(d) for d in r["visited_on"]],
                    "Tahap": domain.stage_label(r),
                }, "ringkasan_bad_photo", "OPD dengan ASN terbanyak dulu")

if flt.many_opds and attention.any():  # the lists show their first rows: the download holds every OPD
    rows = overview[attention].sort_values(["kabupaten", "short_name"], kind="stable")
    why = pd.DataFrame({
        "Belum mencetak QR Code": domain.no_qr(rows),
        f"Sepi {ACTIVE_WINDOW_DAYS} hari terakhir": domain.quiet(rows),
        "Foto QR bermasalah": domain.photo_problem(rows),
    })
    st.markdown(f"**Unduh semua OPD yang perlu perhatian** ({fmt_int(len(rows))} OPD)")
    download_buttons(pd.DataFrame({
        "OPD": rows["short_name"], "Kode OPD": rows["code"], "Kabupaten/Kota": rows["kabupaten"].map(regency_label),
        "Kecamatan": rows["kecamatan"],
        "Perlu perhatian": ["; ".join(c for c, hit in flags.items() if hit) for flags in why.to_dict("records")],
        "Tahap": domain.stage_label(rows), "Keterangan": rows["anomaly"],
        "QR dicetak": pd.to_datetime(rows["qr_printed_on"]), "Check-in terakhir": pd.to_datetime(rows["last_day"]),
        "Hasil foto kunjungan terakhir": domain.photo_label(rows),
    }), f"opd-perlu-perhatian-{flt.end:%Y%m%d}", key="ringkasan_export", sheet="Perlu perhatian")
