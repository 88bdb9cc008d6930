"""Impor data (kominfo only): load check-in exports (CSV/XLSX), see what was loaded,
rejected or duplicate, download the rejected rows, and the record of every import."""
import pandas as pd
import streamlit as st

from data_access import importer
from data_access.auth import AuthError
from data_access.fmt import fmt_datetime_wib, fmt_int
from ui.cache import data_changed
from ui.chrome import indonesian_uploader
from ui.page import setup_page
from ui.safe import md
from ui.tables import show_table

actor, engine, _ = setup_page("impor", "Impor data check-in", filters=False,
                              caption="Ekspor akun venue PeduliLindungi atau log pemindai di pintu masuk, CSV atau XLSX.")

with st.expander("Kolom yang diterima dan templat", icon=":material/help:"):
    st.markdown(
        "- **Waktu**: `waktu` / `timestamp` (atau `tanggal` + `jam`), misalnya `2022-01-31 08:15`, "
        "`31/01/2022 08.15`, `31-01-2022 8:15`; WIB kecuali zona ditulis (`WITA`, `+08:00`, `Z`).\n"
        "- **Venue**: `kode_venue` / `venue` / `opd` berisi kode venue, nama OPD, atau nama singkatnya.\n"
        "- **Status**: `status` / `warna`: hijau, kuning, merah, hitam (juga `GREEN`, `Red`, ...).\n"
        "- **Jenis** (opsional): `jenis_pengunjung`: ASN/pegawai atau pengunjung/tamu; bila tidak ada: pengunjung.\n"
        "- **Hasil** (opsional): `hasil`: diterima/ditolak; bila tidak ada: merah dan hitam ditolak.\n"
        "- **Identitas** (salah satu): `nik`, `no_hp`, `nama`, atau `id_pengunjung`. Identitas **tidak disimpan**: "
        "diubah menjadi kunci samaran (hash berkunci) lalu dibuang.\n\n"
        "Pemisah koma atau titik koma, UTF-8 dengan atau tanpa BOM. Satu berkas = satu transaksi: bila gagal, "
        "tidak ada baris yang disimpan. Baris yang sama tidak pernah disimpan dua kali."
    )
    st.download_button("Unduh templat CSV", importer.template_csv(), file_name="templat-impor-checkin.csv",
                       mime="text/csv", key="impor_template", icon=":material/download:", on_click="ignore")

uploads = st.file_uploader("Berkas ekspor check-in", type=["csv", "xlsx"], accept_multiple_files=True,
                           key="impor_files")
indonesian_uploader("impor_files", note=f"Maks. {importer.MAX_FILE_BYTES // 2**20} MB per berkas · CSV, XLSX")
if st.button("Impor", type="primary", key="impor_go", disabled=not uploads):
    results = []
    for up in uploads:
        bar = st.progress(0.0, text=f"Memuat {md(up.name)}…")

        def progress(done, total, bar=bar, name=md(up.name)):
            bar.progress(done / total if total else 1.0, text=f"Memuat {name}: {fmt_int(done)} dari {fmt_int(total)} baris")

        try:
            res = importer.import_bytes(engine=engine, actor=actor, data=up.getvalue(), file_name=up.name,
                                        progress=progress)
        except (importer.ImportFailed, AuthError) as exc:
            bar.empty()
            st.error(f"**{md(up.name)}**: {md(exc)}")
            continue
        bar.progress(1.0, text=f"{md(up.name)} selesai")
        results.append(res)
    if results:
        data_changed()
    st.session_state["impor_results"] = [
        {**r.summary(), "rejects_csv": r.rejects_csv() if r.rows_rejected else None} for r in results
    ]

for i, r in enumerate(st.session_state.get("impor_results", [])):
    msg = (f"**{md(r['file_name'])}**: {fmt_int(r['rows_total'])} baris · {fmt_int(r['rows_loaded'])} dimuat · "
           f"{fmt_int(r['rows_rejected'])} ditolak · {fmt_int(r['rows_duplicate'])} duplikat")
    (st.warning if r["rows_rejected"] else st.success)(msg)
    if r["rejects_csv"]:
        st.download_button(f"Unduh baris ditolak ({fmt_int(r['rows_rejected'])}) dari {md(r['file_name'])}",
                           r["rejects_csv"], file_name=f"ditolak-{r['file_name'].rsplit('.', 1)[0]}.csv",
                           mime="text/csv", key=f"impor_rejects_{i}", icon=":material/download:", on_click="ignore")

st.subheader("Riwayat impor")
hist = importer.import_history(engine=engine)
if hist.empty:
    st.info("Belum ada impor.")
else:
    show_table(pd.DataFrame({
        "Waktu (WIB)": [fmt_datetime_wib(t) for t in hist["imported_at"]],
        "Berkas": hist["file_name"], "Oleh": hist["imported_by"],
        "Baris": hist["rows_total"], "Dimuat": hist["rows_loaded"], "Ditolak": hist["rows_rejected"],
        "Duplikat": hist["rows_duplicate"], "SHA-256": hist["checksum"].str[:16] + "…",
    }), key="impor_history", formats={c: "int" for c in ("Baris", "Dimuat", "Ditolak", "Duplikat")})
