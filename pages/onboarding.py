"""Onboarding OPD (Diskominfo): who has a printed QR code, whom to chase first and why, a
WhatsApp message per OPD and for the groups (in a province's registry one per regency, each
regency's OPDs having their own group), and the registry actions (venue code, printed mark,
contact person) for kominfo. With more OPDs in the filter than a table can show usefully (a
province), the chase list shows its two ends with a search; its download keeps every OPD."""
import pandas as pd
import streamlit as st

from data_access import onboarding as ob
from data_access.domain import STAGE_LABELS, STAGES, stage_label
from data_access.fmt import fmt_date, fmt_int, parse_date
from data_access.labels import CATEGORY_LABELS, label_of, regency_label
from ui import charts
from ui.data import holiday_coverage, opd_overview, opd_registry
from ui.export import download_buttons
from ui.page import run_action, setup_page
from ui.page_figures import pipeline_chart
from ui.ranking import ranking_view
from ui.safe import md
from ui.tables import show_table


def typed_day(text: str, what: str):
    """A day typed as 31/01/2022 (or 31 Januari 2022); a refusal in words otherwise."""
    try:
        return parse_date(text)
    except ValueError as exc:
        raise ob.OnboardingError(f"{what}: {exc}.") from None

actor, engine, flt = setup_page("onboarding", "Onboarding OPD",
                                caption="Kode venue terdaftar → QR dicetak → aktif → terverifikasi oleh kunjungan monev.")
overview = opd_overview(**flt.kwargs)

counts = overview["stage"].value_counts()
cols = st.columns(len(STAGES))
for col, stage in zip(cols, STAGES):
    col.metric(STAGE_LABELS[stage], fmt_int(counts.get(stage, 0)), border=True)

st.plotly_chart(pipeline_chart(overview, **flt.kwargs),
                width="stretch", key="onboarding_pipeline", config=charts.PLOT_CONFIG)

st.subheader("OPD yang belum mencetak QR Code: siapa dikejar dulu")
missing = ob.chase_list(overview, as_of=flt.end)
st.caption(f"Per {fmt_date(flt.end)}. Urutan = jumlah ASN × hari keterlambatan tiap langkah yang belum selesai "
           f"(daftar venue paling lambat {fmt_date(ob.registration_due())}, cetak QR {ob.PRINT_WITHIN_DAYS} hari "
           "setelah terdaftar). OPD yang QR-nya tampak sudah dipakai tinggal melaporkan tanggal cetak: paling bawah.")
# contact persons: Kominfo only; the other roles never receive them
contacts = (ob.contacts(engine=engine, actor=actor).set_index("code") if actor.can("registry_edit")
            else None)
if missing.empty:
    st.success("Semua OPD dalam filter sudah mencetak QR Code.")
else:
    def chase_rows(m: pd.DataFrame) -> pd.DataFrame:
        t = pd.DataFrame({
            "Urutan": m["rank"],
            "OPD": m["name"],
            "Alasan": m["reason"],
            "Skor prioritas": m["priority"],
            "Terlambat (hari)": m["days_late"],
            "ASN": m["asn_headcount"],
            "Tahap": stage_label(m),
            "Kategori": m["category"].map(lambda c: label_of(CATEGORY_LABELS, c)),
            "Kecamatan": m["kecamatan_label"],
        })
        if contacts is not None:
            t["Narahubung"] = m["code"].map(contacts["contact_name"])
            t["WhatsApp"] = m["code"].map(contacts["contact_whatsapp"]).map(
                lambda n: f"+{n}" if isinstance(n, str) else None)
        return t

    table = chase_rows(missing)
    listed = table
    if flt.many_opds:  # hundreds of OPDs to chase: the first and the last of the list, and a search
        ends = ranking_view(missing, by="rank", ascending=True, key="onboarding", name_col="name",
                            measure="urutan kejar")
        listed = chase_rows(ends.rows)
        if ends.split or ends.search:
            st.caption(f"Unduhan CSV dan Excel memuat semua {fmt_int(len(missing))} OPD yang belum mencetak QR.")
    if not listed.empty:
        show_table(listed, key="onboarding_missing",
                   formats={"ASN": "int", "Terlambat (hari)": "int", "Skor prioritas": "int"},
                   column_config={"Urutan": st.column_config.NumberColumn(width="small"),
                                  "OPD": st.column_config.TextColumn(width="medium"),
                                  "Alasan": st.column_config.TextColumn(width="large")})
    download_buttons(table.assign(**{"Kode OPD": missing["code"]}), f"opd-tanpa-qr-{flt.end:%Y%m%d}",
                     key="onboarding_export", sheet="OPD tanpa QR")

    st.markdown("**Pesan WhatsApp**")
    tab_opd, tab_group = st.tabs(["Per OPD", "Untuk grup OPD"])
    with tab_opd:
        names = dict(zip(missing["code"], missing["name"]))
        ranks = dict(zip(missing["code"], missing["rank"]))
        pick = st.selectbox("OPD", list(missing["code"]), key="onboarding_msg_opd",
                            format_func=lambda c: f"{ranks[c]}. {names[c]}")
        row = missing[missing["code"] == pick].iloc[0]
        st.caption(f"Alasan: {md(row['reason'])}.")
        person = number = None
        if contacts is not None and pick in contacts.index:
            person, number = (v if isinstance(v, str) else None
                              for v in (contacts.loc[pick, "contact_name"], contacts.loc[pick, "contact_whatsapp"]))
        text = ob.opd_message(row, as_of=flt.end, contact_name=person)
        st.code(text, language=None, wrap_lines=True)
        st.link_button(f"Kirim lewat WhatsApp{' ke +' + number if number else ''}", ob.whatsapp_link(text, number),
                       icon=":material/chat:", type="primary")
        if number:
            st.caption(f"Membuka WhatsApp dengan pesan ini untuk {md(person or names[pick])}; periksa lalu tekan kirim.")
        elif contacts is not None:
            st.caption("Nomor WhatsApp narahubung OPD ini belum dicatat: WhatsApp akan meminta Anda memilih penerima. "
                       "Catat narahubung di bagian **Catat perubahan registri** di bawah.")
        else:
            st.caption("WhatsApp akan meminta Anda memilih penerima. Nomor narahubung OPD dikelola Diskominfo.")
    with tab_group:
        group, regency = missing, None
        if opd_registry()["kabupaten"].nunique() > 1:  # a province: each regency's OPDs have their own group
            per_kab = missing["kabupaten"].value_counts()
            kabs = sorted(per_kab.index, key=lambda k: (-per_kab[k], k))  # the most OPDs to chase first
            regency = kabs[0]
            if len(kabs) > 1:
                regency = st.selectbox("Pesan untuk grup OPD", kabs, key="onboarding_msg_kab",
                                       format_func=lambda k: f"{regency_label(k)} ({fmt_int(per_kab[k])} OPD)")
                st.caption(f"OPD yang belum mencetak QR ada di {fmt_int(len(kabs))} kabupaten/kota. Tiap kabupaten/kota "
                           "punya grup WhatsApp OPD-nya sendiri, jadi pesannya satu per kabupaten/kota: pilih di atas "
                           "(yang paling banyak OPD-nya di urutan pertama).")
            group = missing[missing["kabupaten"] == regency]
        if len(group) > ob.GROUP_MESSAGE_OPDS:
            st.caption(f"Pesan menyebut {ob.GROUP_MESSAGE_OPDS} dari {fmt_int(len(group))} OPD, menurut urutan kejar; "
                       "sisanya disebut jumlahnya saja, karena pesan WhatsApp yang terlalu panjang sulit dibaca dan "
                       "tautannya bisa terpotong. Daftar lengkap ada di tabel dan unduhan di atas.")
        st.caption("Salin dengan tombol di pojok kanan atas kotak pesan, atau buka langsung di WhatsApp.")
        group_text = ob.whatsapp_message(group, as_of=flt.end, regency=regency)
        st.code(group_text, language=None, wrap_lines=True)
        st.link_button("Buka di WhatsApp (pilih grup)", ob.whatsapp_link(group_text), icon=":material/groups:")

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
    st.caption("Perubahan registri (kode venue, tanda QR dicetak, narahubung) dilakukan oleh Diskominfo.")
    st.stop()

st.subheader("Catat perubahan registri")
reg = opd_registry()
labels = dict(zip(reg["code"], reg["short_name"]))
code = st.selectbox("OPD", list(reg["code"]), format_func=lambda c: f"{labels[c]} ({c})", key="onboarding_opd")
row = reg.set_index("code").loc[code]
st.write(f"Kode venue: **{md(row['venue_code'] or 'belum ada')}** · QR dicetak: "
         f"**{fmt_date(row['qr_printed_on']) if row['qr_printed_on'] is not None and not pd.isna(row['qr_printed_on']) else 'belum'}**"
         + (" (perkiraan)" if row["qr_printed_estimate"] else ""))
today_text = f"{ob.today_wib():%d/%m/%Y}"


left, right = st.columns(2)
with left:
    with st.form("onboarding_venue_form"):
        venue = st.text_input("Kode venue PeduliLindungi", value=row["venue_code"] or "", key="onboarding_venue", max_chars=64)
        reg_on = st.text_input("Tanggal terdaftar", value=today_text, key="onboarding_reg_on", max_chars=40,
                               help="Tulis seperti 31/01/2022 (WIB). Bawaan: hari ini.")
        if st.form_submit_button("Simpan kode venue", type="primary"):
            run_action(lambda: ob.record_venue_code(engine=engine, actor=actor, code=code, venue_code=venue,
                                             registered_on=typed_day(reg_on, "Tanggal terdaftar")),
                f"Kode venue {labels[code]} dicatat.")
    if row["venue_code"] and st.button("Hapus kode venue (salah catat)", key="onboarding_clear_venue"):
        run_action(lambda: ob.clear_venue_code(engine=engine, actor=actor, code=code), f"Kode venue {labels[code]} dihapus.")
with right:
    with st.form("onboarding_print_form"):
        printed_on = st.text_input("Tanggal QR dicetak", value=today_text, key="onboarding_printed_on", max_chars=40,
                                   help="Tulis seperti 31/01/2022 (WIB). Bawaan: hari ini.")
        if st.form_submit_button("Tandai QR dicetak", type="primary"):
            run_action(lambda: ob.mark_printed(engine=engine, actor=actor, code=code,
                                               printed_on=typed_day(printed_on, "Tanggal QR dicetak")),
                f"QR {labels[code]} ditandai dicetak.")
    if row["qr_printed_on"] is not None and not pd.isna(row["qr_printed_on"]):
        if st.button("Batalkan tanda dicetak", key="onboarding_undo_print"):
            run_action(lambda: ob.undo_printed(engine=engine, actor=actor, code=code),
                f"Tanda QR dicetak {labels[code]} dibatalkan.")

st.markdown(f"**Narahubung {md(labels[code])}** (hanya terlihat oleh Diskominfo)")
current = contacts.loc[code] if code in contacts.index else pd.Series({"contact_name": None, "contact_whatsapp": None})
with st.form(f"onboarding_contact_{code}"):
    c1, c2 = st.columns(2)
    person = c1.text_input("Nama narahubung", value=current["contact_name"] if isinstance(current["contact_name"], str) else "",
                           key=f"onboarding_contact_name_{code}", max_chars=ob.MAX_CONTACT_NAME)
    wa = c2.text_input("Nomor WhatsApp", value=current["contact_whatsapp"] if isinstance(current["contact_whatsapp"], str) else "",
                       key=f"onboarding_contact_wa_{code}", max_chars=32, placeholder="6281234567890",
                       help="Nomor Indonesia dengan kode negara 62 (0812… juga diterima dan diubah menjadi 62812…). "
                            "Kosongkan keduanya untuk menghapus.")
    if st.form_submit_button("Simpan narahubung"):
        run_action(lambda: ob.set_contact(engine=engine, actor=actor, code=code, name=person, whatsapp=wa),
                   f"Narahubung {labels[code]} disimpan.")
