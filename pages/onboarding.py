"""Onboarding OPD (Diskominfo): who has a printed QR code, who to chase, and the registry
actions (venue code, printed mark) for kominfo."""
from datetime import timedelta

import pandas as pd
import streamlit as st

from data_access import onboarding as ob
from data_access.domain import STAGE_LABELS, STAGES
from data_access.fmt import fmt_date, fmt_int
from data_access.registry import CATEGORY_LABELS
from ui import charts
from ui.data import holiday_coverage, opd_overview, opd_registry, pipeline_weekly
from ui.export import download_buttons
from ui.page import run_action, setup_page
from ui.safe import md

actor, engine, flt = setup_page("onboarding", "Onboarding OPD",
                                caption="Kode venue terdaftar → QR dicetak → aktif → terverifikasi oleh kunjungan monev.")
overview = opd_overview(**flt.kwargs)

counts = overview["stage"].value_counts()
cols = st.columns(len(STAGES))
for col, stage in zip(cols, STAGES):
    col.metric(STAGE_LABELS[stage], fmt_int(counts.get(stage, 0)), border=True)

estimated = int((overview["qr_printed_on"].notna() & overview["qr_printed_estimate"]).sum())
st.plotly_chart(charts.build_pipeline(pipeline_weekly(**flt.kwargs), estimated_printing=estimated),
                width="stretch", key="onboarding_pipeline")

st.subheader("OPD yang belum mencetak QR Code")
missing = ob.without_qr(overview, as_of=flt.end)
st.caption(f"Per {fmt_date(flt.end)}: terlambat {fmt_int(ob.overdue_days(flt.end))} hari sejak Surat Edaran "
           "(5 Januari 2022).")
if missing.empty:
    st.success("Semua OPD dalam filter sudah mencetak QR Code.")
else:
    table = pd.DataFrame({
        "Kode": missing["code"],
        "OPD": missing["name"],
        "Kategori": missing["category"].map(CATEGORY_LABELS),
        "Kecamatan": missing["kecamatan"],
        "Kode venue terdaftar": missing["registered"].map({True: "ya", False: "belum"}),
        "Keterangan": missing["anomaly"],
        "Terlambat (hari)": missing["overdue_days"],
    })
    st.dataframe(table, hide_index=True, width="stretch", placeholder="–", key="onboarding_missing")
    download_buttons(table, f"opd-tanpa-qr-{flt.end:%Y%m%d}", key="onboarding_export", sheet="OPD tanpa QR")
    with st.expander("Pesan untuk grup WhatsApp OPD", icon=":material/chat:"):
        st.caption("Salin dengan tombol di pojok kanan atas kotak pesan.")
        st.code(ob.whatsapp_message(missing, as_of=flt.end), language=None, wrap_lines=True)

with st.expander("Hari libur yang dipakai menghitung hari kerja", icon=":material/event:"):
    libur = holiday_coverage()
    st.dataframe(pd.DataFrame({
        "Tahun": libur["year"].astype(str), "Libur nasional": libur["libur_nasional"],
        "Cuti bersama": libur["cuti_bersama"], "Hari kerja": libur["workdays"],
        "Dasar hukum (SKB)": ["; ".join(b) for b in libur["legal_basis"]],
    }), hide_index=True, width="stretch", key="onboarding_holidays")
    st.caption("Tahun lain dihitung Senin–Jumat saja. Diskominfo memperbarui data ini tiap tahun dengan "
               "`python -m data_access libur --muat BERKAS` (lihat `data_access/hari_libur.csv`).")

if not actor.can("registry_edit"):
    st.caption("Perubahan registri (kode venue, tanda QR dicetak) dilakukan oleh Diskominfo.")
    st.stop()

st.subheader("Catat perubahan registri")
reg = opd_registry()
labels = dict(zip(reg["code"], reg["short_name"]))
code = st.selectbox("OPD", list(reg["code"]), format_func=lambda c: f"{labels[c]} ({c})", key="onboarding_opd")
row = reg.set_index("code").loc[code]
st.write(f"Kode venue: **{md(row['venue_code'] or 'belum ada')}** · QR dicetak: "
         f"**{fmt_date(row['qr_printed_on']) if row['qr_printed_on'] is not None and not pd.isna(row['qr_printed_on']) else 'belum'}**"
         + (" (perkiraan)" if row["qr_printed_estimate"] else ""))


left, right = st.columns(2)
with left:
    with st.form("onboarding_venue_form"):
        venue = st.text_input("Kode venue PeduliLindungi", value=row["venue_code"] or "", key="onboarding_venue", max_chars=64)
        reg_on = st.date_input("Tanggal terdaftar", value=ob.today_wib(), key="onboarding_reg_on", format="DD/MM/YYYY")
        if st.form_submit_button("Simpan kode venue", type="primary"):
            run_action(lambda: ob.record_venue_code(engine=engine, actor=actor, code=code, venue_code=venue,
                                             registered_on=reg_on),
                f"Kode venue {labels[code]} dicatat.")
    if row["venue_code"] and st.button("Hapus kode venue (salah catat)", key="onboarding_clear_venue"):
        run_action(lambda: ob.clear_venue_code(engine=engine, actor=actor, code=code), f"Kode venue {labels[code]} dihapus.")
with right:
    with st.form("onboarding_print_form"):
        printed_on = st.date_input("Tanggal QR dicetak", value=ob.today_wib(), key="onboarding_printed_on",
                                   format="DD/MM/YYYY", max_value=ob.today_wib() + timedelta(days=3650))
        if st.form_submit_button("Tandai QR dicetak", type="primary"):
            run_action(lambda: ob.mark_printed(engine=engine, actor=actor, code=code, printed_on=printed_on),
                f"QR {labels[code]} ditandai dicetak.")
    if row["qr_printed_on"] is not None and not pd.isna(row["qr_printed_on"]):
        if st.button("Batalkan tanda dicetak", key="onboarding_undo_print"):
            run_action(lambda: ob.undo_printed(engine=engine, actor=actor, code=code),
                f"Tanda QR dicetak {labels[code]} dibatalkan.")
