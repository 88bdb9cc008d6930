"""Unduh QR: search the OPDs, see which QR is not printed yet, one click for each QR (PNG, SVG) and A4
poster (PDF), and the posters of the OPDs listed as one ZIP. A list longer than MANY_OPDS (a
province's) shows a page of rows at a time (ui.paging); the ZIP still holds every OPD listed."""
import pandas as pd
import streamlit as st

from data_access import onboarding as ob
from data_access import qr
from data_access.calendar import SURAT_EDARAN_NO
from data_access.fmt import fmt_date, fmt_int
from data_access.labels import regency_label
from data_access.queries.province import MANY_OPDS
from ui.data import opd_registry
from ui.page import run_action, setup_page
from ui.paging import paged
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
    """The posters of the OPDs listed, as one ZIP; the log names how many and which."""
    def make() -> bytes:
        data = qr.posters_zip(venues)
        ob.log_download(engine=engine, actor=actor, target=f"{len(venues)} OPD", fmt="zip",
                        opd_codes=[v.code for v in venues])
        return data
    return make


venues = ob.venues(engine=engine, opd_ids=flt.opd_ids)
reg = opd_registry()
# a province's registry: each OPD with its regency (every regency has its Dinas Kesehatan), found by it too
place = dict(zip(reg["code"], reg["kabupaten"].map(regency_label))) if reg["kabupaten"].nunique() > 1 else {}
if flt.opd_ids is not None:
    reg = reg[reg["id"].isin(flt.opd_ids)]

printed = {r.code: (r.qr_printed_on, r.qr_printed_estimate) for r in reg.itertuples()}
short = dict(zip(reg["code"], reg["short_name"]))


def is_printed(v) -> bool:
    day = printed.get(v.code, (None, False))[0]
    return day is not None and not pd.isna(day)


st.subheader(f"OPD dengan kode venue ({len(venues)})")
c1, c2 = st.columns([3, 2], vertical_alignment="bottom")
query = c1.text_input("Cari OPD atau kode venue", key="qr_search", max_chars=80, placeholder="mis. kesehatan, Kec. Blega")
show = c2.segmented_control("Tampilkan", ["Semua", "Belum dicetak", "Sudah dicetak"], default="Semua",
                            key="qr_printed_filter", help="Menurut tanggal cetak QR yang tercatat di registri.")
words = query.lower().split()
listed = sorted(
    (v for v in venues
     if all(w in f"{v.name} {short.get(v.code, '')} {v.venue_code} {v.code} {place.get(v.code, '')}".lower()
            for w in words)
     and (show != "Belum dicetak" or not is_printed(v)) and (show != "Sudah dicetak" or is_printed(v))),
    key=lambda v: (is_printed(v), v.name.lower()),
)
waiting = sum(not is_printed(v) for v in venues)
st.caption(f"{fmt_int(len(listed))} dari {fmt_int(len(venues))} OPD tampil · {fmt_int(waiting)} belum dicetak. "
           "Yang belum dicetak di atas.")
many = len(listed) > MANY_OPDS  # a province's list: a page at a time, the ZIP still of all of them
st.download_button(
    f"Unduh poster {'semua OPD dalam daftar' if many else 'yang tampil'} ({fmt_int(len(listed))} OPD, ZIP)",
    all_posters(listed), file_name=f"poster-qr-pedulilindungi-{len(listed)}-opd.zip", mime=qr.MIME["zip"],
    key="qr_zip", type="primary", icon=":material/folder_zip:", on_click="ignore", disabled=not listed,
    help="Poster setiap OPD dalam daftar, dari semua halaman." if many else None,
)
if venues and not listed:
    st.info("Tidak ada OPD yang cocok dengan pencarian dan pilihan ini.")
if many:
    st.caption("Daftar ini panjang: persempit dengan pencarian, pilihan **Belum dicetak**, atau kabupaten/kota di "
               "filter.")
pg = paged(listed, key="qr_halaman", listing=(query, show), longer_than=MANY_OPDS)
for v in pg.rows:
    c1, c2, c3, c4 = st.columns([5, 1, 1, 1.3], vertical_alignment="center")
    day, estimate = printed.get(v.code, (None, False))
    when = (f" · dicetak {fmt_date(day)}" + (" (perkiraan)" if estimate else "") if is_printed(v)
            else " · :orange-badge[belum dicetak]")
    where = f" · {md(place[v.code])}" if v.code in place else ""
    c1.markdown(f"**{md(v.name)}**  \n`{v.venue_code}`{where}{when}")
    for col, fmt, label in ((c2, "png", "PNG"), (c3, "svg", "SVG"), (c4, "pdf", "Poster PDF")):
        col.download_button(label, downloader(v, fmt), file_name=qr.file_name(v, fmt), mime=qr.MIME[fmt],
                            key=f"qr_{fmt}_{v.code}", icon=":material/download:", on_click="ignore")
pg.footer()

without = reg[reg["venue_code"].isna()]
if words:  # the search applies here too
    without = without[[all(w in f"{r.name} {r.short_name} {r.code} {r.kecamatan_label}".lower() for w in words)
                       for r in without.itertuples()]]
st.subheader(f"OPD tanpa kode venue ({len(without)})")
if without.empty and words and reg["venue_code"].isna().any():  # the search hides them, they are there
    st.info("Tidak ada OPD tanpa kode venue yang cocok dengan pencarian.")
elif without.empty:
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
    pg = paged(list(without.itertuples()), key="qr_tanpa_halaman", listing=query, longer_than=MANY_OPDS)
    for r in pg.rows:
        with st.expander(f"{md(r.name)} · Kec. {md(r.kecamatan_label)}"):
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
    pg.footer()
