"""Unduh QR: one click for each OPD's QR (PNG, SVG) and A4 poster (PDF); all posters as a ZIP."""
import pandas as pd
import streamlit as st

from data_access import onboarding as ob
from data_access import qr
from data_access.calendar import SURAT_EDARAN_NO
from data_access.fmt import fmt_date
from ui.data import opd_registry
from ui.page import run_action, setup_page
from ui.safe import md

actor, engine, flt = setup_page("qr", "Unduh QR Code",
                                caption="QR koreksi galat Q dengan zona tenang; poster A4 dengan kode selebar ≥ 12 cm.")


def downloader(venue, fmt):
    """Render on click (in Streamlit's download thread) and log who downloaded what."""
    def make() -> bytes:
        data = qr.render(venue, fmt)
        ob.log_download(engine=engine, actor=actor, target=venue.code, fmt=fmt)
        return data
    return make


def all_posters(venues):
    def make() -> bytes:
        data = qr.posters_zip(venues)
        ob.log_download(engine=engine, actor=actor, target="semua", fmt="zip")
        return data
    return make


venues = ob.venues(engine=engine, opd_ids=flt.opd_ids)
reg = opd_registry()
if flt.opd_ids is not None:
    reg = reg[reg["id"].isin(flt.opd_ids)]

st.download_button(
    f"Unduh semua poster ({len(venues)} OPD, ZIP)", all_posters(venues), file_name="poster-qr-pedulilindungi.zip",
    mime=qr.MIME["zip"], key="qr_zip", type="primary", icon=":material/folder_zip:", on_click="ignore",
    disabled=not venues,
)
st.subheader(f"OPD dengan kode venue ({len(venues)})")
printed = {r.code: (r.qr_printed_on, r.qr_printed_estimate) for r in reg.itertuples()}
for v in venues:
    c1, c2, c3, c4 = st.columns([5, 1, 1, 1.3], vertical_alignment="center")
    day, estimate = printed.get(v.code, (None, False))
    when = f" · dicetak {fmt_date(day)}" + (" (perkiraan)" if estimate else "") if pd.notna(day) else ""
    c1.markdown(f"**{md(v.name)}**  \n`{v.venue_code}`{when}")
    for col, fmt, label in ((c2, "png", "PNG"), (c3, "svg", "SVG"), (c4, "pdf", "Poster PDF")):
        col.download_button(label, downloader(v, fmt), file_name=qr.file_name(v, fmt), mime=qr.MIME[fmt],
                            key=f"qr_{fmt}_{v.code}", icon=":material/download:", on_click="ignore")

without = reg[reg["venue_code"].isna()]
st.subheader(f"OPD tanpa kode venue ({len(without)})")
if without.empty:
    st.success("Semua OPD dalam filter sudah memiliki kode venue.")
else:
    st.markdown(
        "Belum ada QR untuk OPD di bawah ini. **Cara mendaftarkan venue ke PeduliLindungi:**\n"
        "1. OPD mengajukan permohonan QR Code ke layanan registrasi QR Code PeduliLindungi Kementerian Kesehatan.\n"
        "2. Data yang diminta: nama dan alamat kantor, **titik koordinat** kantor, **jumlah pegawai dan perkiraan "
        "tamu** per hari, **foto gedung** tampak depan, serta narahubung.\n"
        "3. **Satu QR untuk setiap pintu masuk**; pintu masuk utama wajib.\n"
        "4. Setelah kode venue diterima, kirimkan ke Diskominfo untuk dicatat di bawah; poster siap cetak langsung "
        f"tersedia di halaman ini (Surat Edaran {SURAT_EDARAN_NO})."
    )
    for r in without.itertuples():
        with st.expander(f"{md(r.name)} · Kec. {md(r.kecamatan)}"):
            st.caption(f"Koordinat untuk formulir pendaftaran: {r.lat:.4f}, {r.lon:.4f} · perkiraan ASN: "
                       f"{r.asn_headcount}")
            if actor.can("registry_edit"):
                with st.form(f"qr_record_{r.code}"):
                    code = st.text_input("Kode venue yang diterima", key=f"qr_venue_{r.code}", max_chars=64)
                    if st.form_submit_button("Catat kode venue"):
                        run_action(lambda r=r, code=code: ob.record_venue_code(
                            engine=engine, actor=actor, code=r.code, venue_code=code),
                            f"Kode venue {r.short_name} dicatat; QR-nya kini dapat diunduh.")
            else:
                st.caption("Kode venue dicatat oleh Diskominfo.")
