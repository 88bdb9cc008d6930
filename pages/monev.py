"""Monev (Satpol PP): compliance per OPD for the filtered agencies and dates, the record of
monitoring visits, and the printable report."""

import pandas as pd
import streamlit as st

from data_access import visits as vs
from data_access.calendar import now_utc
from data_access.domain import stage_label
from data_access.onboarding import today_wib
from data_access.report import monev_report
from ui.data import compliance, list_visits, opd_registry
from ui.export import download_buttons
from ui.page import run_action, setup_page

actor, engine, flt = setup_page("monev", "Monev dan kunjungan",
                                caption="Kepatuhan OPD terhadap Surat Edaran dan catatan kunjungan monitoring Satpol PP.")
stamp = f"{flt.start:%Y%m%d}-{flt.end:%Y%m%d}"
YES_NO = {True: "ya", False: "tidak"}


comp = compliance(**flt.kwargs)
visits = list_visits(**flt.kwargs)

st.subheader("Kepatuhan per OPD")
st.caption("Terburuk di atas: belum ada QR, lalu temuan kunjungan yang bermasalah, lalu cakupan ASN terendah.")
table = pd.DataFrame({
    "OPD": comp["short_name"],
    "Tahap": stage_label(comp),
    "QR dicetak": pd.to_datetime(comp["qr_printed_on"]),
    "Kunjungan terakhir": pd.to_datetime(comp["visited_on"]),
    "QR terpasang": comp["qr_posted"].map(lambda v: YES_NO.get(bool(v)) if pd.notna(v) else "–"),
    "Scan ditegakkan": comp["scanning_enforced"].map(lambda v: YES_NO.get(bool(v)) if pd.notna(v) else "–"),
    "Cakupan ASN (%)": (comp["coverage"] * 100).round(1),
    "Check-in per hari kerja": comp["checkins_per_workday"].round(1),
    "Tingkat penolakan (%)": (comp["refusal_rate"] * 100).round(1),
    "Check-in terakhir": pd.to_datetime(comp["last_day"]),
    "Hari sejak check-in terakhir": comp["days_since"],
})
date_col = st.column_config.DateColumn(format="DD/MM/YYYY")
num_col = st.column_config.NumberColumn(format="localized")
st.dataframe(table, hide_index=True, width="stretch", placeholder="–", key="monev_compliance", column_config={
    "QR dicetak": date_col, "Kunjungan terakhir": date_col, "Check-in terakhir": date_col,
    "Cakupan ASN (%)": num_col, "Check-in per hari kerja": num_col, "Tingkat penolakan (%)": num_col,
    "Hari sejak check-in terakhir": num_col,
})
export = table.copy()
for c in ("QR dicetak", "Kunjungan terakhir", "Check-in terakhir"):
    export[c] = export[c].dt.strftime("%d/%m/%Y")
download_buttons(export, f"kepatuhan-opd-{stamp}", key="monev_compliance_export", sheet="Kepatuhan OPD")


def report_bytes() -> bytes:
    return monev_report(compliance=comp, visits=visits, start=flt.start, end=flt.end, filter_labels=flt.labels,
                        generated_by=actor.username, generated_at=now_utc())


st.download_button("Unduh laporan PDF (kepatuhan + kunjungan)", report_bytes, file_name=f"laporan-monev-{stamp}.pdf",
                   mime="application/pdf", key="monev_report", type="primary", icon=":material/picture_as_pdf:",
                   on_click="ignore")

st.subheader(f"Kunjungan monev ({len(visits)})")
vtable = pd.DataFrame({
    "No.": visits["id"],
    "Tanggal": pd.to_datetime(visits["visited_on"]),
    "OPD": visits["short_name"],
    "Petugas": visits["officer"],
    "QR terpasang": visits["qr_posted"].map(YES_NO),
    "Scan ditegakkan": visits["scanning_enforced"].map(YES_NO),
    "Masuk tanpa scan": visits["unscanned_entries"],
    "Catatan": visits["notes"].fillna(""),
    "Dicatat oleh": visits["recorded_by"],
})
if vtable.empty:
    st.info("Belum ada kunjungan pada periode dan filter ini.")
else:
    st.dataframe(vtable, hide_index=True, width="stretch", placeholder="–", key="monev_visits",
                 column_config={"Tanggal": date_col})
    vexport = vtable.assign(Tanggal=vtable["Tanggal"].dt.strftime("%d/%m/%Y"))
    download_buttons(vexport, f"kunjungan-monev-{stamp}", key="monev_visits_export", sheet="Kunjungan")

if not actor.can("visit_write"):
    st.caption("Kunjungan dicatat oleh Satpol PP.")
    st.stop()

reg = opd_registry()
names = dict(zip(reg["code"], reg["short_name"]))


def visit_form(key: str, *, current: pd.Series | None = None) -> vs.VisitInput | None:
    with st.form(key):
        codes = list(reg["code"])
        c1, c2 = st.columns(2)
        opd = c1.selectbox("OPD", codes, index=codes.index(current["code"]) if current is not None else None,
                           format_func=lambda c: names[c], placeholder="Pilih OPD", key=f"{key}_opd")
        day = c2.date_input("Tanggal kunjungan", value=current["visited_on"] if current is not None else today_wib(),
                            format="DD/MM/YYYY", key=f"{key}_date")
        officer = st.text_input("Petugas", value=current["officer"] if current is not None else "", key=f"{key}_officer",
                                max_chars=vs.MAX_OFFICER)
        c3, c4, c5 = st.columns(3)
        posted = c3.radio("QR terpasang di pintu masuk utama?", ["ya", "tidak"], horizontal=True, key=f"{key}_posted",
                          index=0 if current is None or current["qr_posted"] else 1)
        enforced = c4.radio("Pemindaian ditegakkan?", ["ya", "tidak"], horizontal=True, key=f"{key}_enforced",
                            index=0 if current is None or current["scanning_enforced"] else 1)
        unscanned = c5.number_input("Orang masuk tanpa memindai", value=int(current["unscanned_entries"])
                                    if current is not None else 0, step=1, key=f"{key}_unscanned",
                                    min_value=0, max_value=vs.MAX_UNSCANNED)
        notes = st.text_area("Catatan", value=current["notes"] or "" if current is not None else "", key=f"{key}_notes",
                             max_chars=vs.MAX_NOTES)
        label = "Simpan koreksi" if current is not None else "Simpan kunjungan"
        if not st.form_submit_button(label, type="primary"):
            return None
    return vs.VisitInput(opd, day, officer, posted == "ya", enforced == "ya", unscanned, notes)


tab_new, tab_fix = st.tabs(["Catat kunjungan", "Koreksi kunjungan"])
with tab_new:
    # a fresh, empty form after each saved visit (a refused one keeps what was typed)
    n_saved = st.session_state.setdefault("monev_saved", 0)
    form_key = "monev_new" if n_saved == 0 else f"monev_new{n_saved}"
    new = visit_form(form_key)
    if new is not None:
        def add_and_count() -> None:
            vs.add_visit(engine=engine, actor=actor, visit=new)
            st.session_state["monev_saved"] = n_saved + 1

        run_action(add_and_count, f"Kunjungan ke {names.get(new.opd_code, '')} dicatat.")
with tab_fix:
    if visits.empty:
        st.caption("Tidak ada kunjungan pada filter ini untuk dikoreksi.")
    else:
        vid = st.selectbox("Kunjungan", list(visits["id"]), key="monev_fix_id",
                           format_func=lambda i: (lambda r: f"#{i} · {r['visited_on']:%d/%m/%Y} · {r['short_name']}")(
                               visits.set_index("id").loc[i]))
        current = visits.set_index("id").loc[vid]
        fixed = visit_form(f"monev_fix_{vid}", current=current)
        if fixed is not None:
            run_action(lambda: vs.update_visit(engine=engine, actor=actor, visit_id=int(vid), visit=fixed),
                 f"Kunjungan #{vid} dikoreksi.")
