"""Impor data (kominfo only): load check-in exports (CSV/XLSX). Each file gets a mapping step
(which column is which field, with a 20-row preview as the rows would be stored) when a field is
missing or ambiguous, a saved profile when its headers were seen before, and a sheet choice for a
workbook; "Periksa saja" reports without storing. Then what was loaded, rejected (reasons with
counts, the first 100 rows, the download in the file's delimiter) or duplicate, and the record of
every import."""
import pandas as pd
import streamlit as st

from data_access import import_profiles, importer
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
        "Judul kolom lain (mis. `Tempat Check-in`): pilih kolomnya di **Pemetaan kolom** (dengan pratinjau 20 "
        "baris), lalu simpan sebagai **profil impor**; berkas berikutnya dengan judul kolom yang sama memakai "
        "profil itu otomatis.\n\n"
        "Pemisah koma, titik koma, atau tab; UTF-8 (dengan atau tanpa BOM), UTF-16 (\"Unicode text\" Excel), "
        "Windows-1252/Latin-1 dikenali sendiri. XLSX dengan beberapa lembar: lembar pertama yang kolomnya "
        "dikenali, atau pilih lembarnya. Waktu berupa nomor seri tanggal Excel dibaca; NIK yang oleh Excel "
        "diubah menjadi angka atau notasi ilmiah (`3,52601E+15`) ditolak karena digitnya sudah hilang.\n\n"
        "**Periksa saja** memberi laporan lengkap tanpa menyimpan apa pun. Satu berkas = satu transaksi: bila "
        "gagal, tidak ada baris yang disimpan. Baris yang sama tidak pernah disimpan dua kali."
    )
    st.download_button("Unduh templat CSV", importer.template_csv(), file_name="templat-impor-checkin.csv",
                       mime="text/csv", key="impor_template", icon=":material/download:", on_click="ignore")

uploads = st.file_uploader("Berkas ekspor check-in", type=["csv", "xlsx"], accept_multiple_files=True,
                           key="impor_files")
indonesian_uploader("impor_files", note=f"Maks. {importer.MAX_FILE_BYTES // 2**20} MB per berkas · CSV, XLSX")
NONE = "— tidak dipakai —"
NO_PROFILE = "— tanpa profil —"
REJECTS_SHOWN = 100


def _inspect(up, sheet: str | None) -> dict:
    """How a file reads (columns, sheets, encoding, delimiter) and its first rows, kept for the
    session: a workbook's checks run once per file and sheet, not on every rerun."""
    seen = st.session_state.setdefault("impor_inspected", {})
    key = (up.file_id, sheet)
    if key not in seen:
        try:
            table = importer.open_table(up.getvalue(), up.name, sheet=sheet)
            seen[key] = {"columns": table.columns, "sheets": table.sheets, "sheet": table.sheet,
                         "encoding": table.encoding, "delimiter": table.delimiter,
                         "head": table.head(importer.PREVIEW_ROWS)}
        except importer.ImportFailed as exc:
            seen[key] = {"error": str(exc)}
    return seen[key]


def _read_as(info: dict) -> str:
    if info.get("encoding"):
        sep = importer.DELIMITER_LABELS.get(info["delimiter"], info["delimiter"])
        return f"Dibaca sebagai {info['encoding']}, pemisah {sep}"
    sheets = info.get("sheets") or []
    return f"Lembar {info['sheet']}" + (f" (dari {len(sheets)} lembar)" if len(sheets) > 1 else "")


def _plan(i: int, up) -> dict:
    """One file's mapping step: sheet, profile, one select box per field, the preview, and the
    profile to save. -> what the import of this file needs, and whether it can run."""
    fid = up.file_id  # widget keys follow the file, not its place in the list
    with st.container(border=True, key=f"impor_file_{fid}"):
        st.markdown(f"**{md(up.name)}**")
        info = _inspect(up, None)
        if "error" in info:
            st.error(md(info["error"]))
            return {"up": up, "ready": False}
        sheet = info["sheet"]
        if len(info["sheets"]) > 1:
            sheet = st.selectbox("Lembar", info["sheets"], index=info["sheets"].index(info["sheet"]),
                                 key=f"impor_{fid}_sheet")
            if sheet != info["sheet"]:
                info = _inspect(up, sheet)
                if "error" in info:
                    st.error(md(info["error"]))
                    return {"up": up, "ready": False}
        st.caption(md(_read_as(info)))
        columns = info["columns"]
        profiles = {p.name: p for p in import_profiles.profiles_for(engine=engine, columns=columns)}
        profile = None
        if profiles:
            chosen = st.selectbox("Profil impor (judul kolom berkas ini sudah pernah dipetakan)",
                                  [NO_PROFILE, *profiles], index=1, key=f"impor_{fid}_{sheet}_profile")
            profile = profiles.get(chosen)
        base = dict(profile.mapping) if profile else {}
        try:
            auto = importer.resolve_columns(columns, base)
        except importer.ImportFailed:
            auto = importer.resolve_columns(columns)
        need = importer.needs_mapping(columns, base)
        pkey = f"{sheet}_{profile.name if profile else ''}"
        with st.expander("Pemetaan kolom dan pratinjau", expanded=need, icon=":material/table_rows:"):
            twice = [importer.FIELD_LABELS[f] for f, c in importer.column_candidates(columns).items()
                     if len(c) > 1 and f not in base]
            if twice:
                st.info("Lebih dari satu kolom berkas cocok untuk: " + md(", ".join(twice))
                        + ". Periksa kolom yang dipilih.")
            options = [NONE, *columns]
            grid = st.columns(3)
            mapping: dict[str, str | None] = {}
            for k, f in enumerate(importer.FIELDS):
                current = auto.get(f)
                sel = grid[k % 3].selectbox(importer.FIELD_LABELS[f], options,
                                            index=options.index(current) if current in options else 0,
                                            key=f"impor_{fid}_{pkey}_map_{f}")
                mapping[f] = None if sel == NONE else sel
            try:
                cols = importer.resolve_columns(columns, mapping)
            except importer.ImportFailed as exc:
                st.error(md(exc))
                return {"up": up, "ready": False}
            missing = importer.missing_fields(cols)
            if missing:
                st.warning("Kolom wajib belum dipetakan: " + md(", ".join(missing)) + ".")
                return {"up": up, "ready": False}
            st.markdown(f"**Pratinjau {importer.PREVIEW_ROWS} baris pertama**, sebagaimana akan disimpan "
                        "(identitas disamarkan):")
            show_table(importer.preview_rows(engine=engine, head=info["head"], cols=cols), key=f"impor_{fid}_preview")
            left, right = st.columns([3, 1], vertical_alignment="bottom")
            name = left.text_input("Simpan pemetaan ini sebagai profil impor", key=f"impor_{fid}_profile_name",
                                   max_chars=import_profiles.MAX_NAME, placeholder="mis. Log pemindai RSUD")
            if right.button("Simpan profil", key=f"impor_{fid}_profile_save", icon=":material/bookmark_add:"):
                try:
                    saved = import_profiles.save_profile(engine=engine, actor=actor, name=name, columns=columns,
                                                         mapping=mapping, sheet=sheet)
                    st.success(f"Profil impor **{md(saved.name)}** disimpan; berkas dengan judul kolom yang sama "
                               "akan memakainya otomatis.")
                except (import_profiles.ProfileError, AuthError) as exc:
                    st.error(md(exc))
    return {"up": up, "ready": True, "mapping": mapping, "sheet": sheet,
            "profile": profile.name if profile else None}


def _run(plans: list[dict], *, dry_run: bool) -> None:
    results = []
    for plan in plans:
        up = plan["up"]
        bar = st.progress(0.0, text=f"{'Memeriksa' if dry_run else 'Memuat'} {md(up.name)}…")

        def progress(done, total, bar=bar, name=md(up.name), verb="Memeriksa" if dry_run else "Memuat"):
            bar.progress(min(done / total, 1.0) if total else 1.0,
                         text=f"{verb} {name}: {fmt_int(done)} dari {'±' if done < total else ''}{fmt_int(total)} baris")

        try:
            res = importer.import_bytes(engine=engine, actor=actor, data=up.getvalue(), file_name=up.name,
                                        progress=progress, mapping=plan["mapping"], sheet=plan["sheet"],
                                        profile=plan["profile"], dry_run=dry_run)
        except (importer.ImportFailed, AuthError) as exc:
            bar.empty()
            st.error(f"**{md(up.name)}**: {md(exc)}")
            continue
        bar.progress(1.0, text=f"{md(up.name)} selesai")
        results.append(res)
    if results and not dry_run:
        data_changed()
    st.session_state["impor_results"] = [
        {**r.summary(), "rejects_csv": r.rejects_csv() if r.rows_rejected else None,
         "rejects_head": r.rejects.head(REJECTS_SHOWN)} for r in results
    ]


plans = [_plan(i, up) for i, up in enumerate(uploads or [])]
ready = [p for p in plans if p["ready"]]
buttons = st.columns([1, 1, 4])
check = buttons[0].button("Periksa saja", key="impor_check", disabled=not ready, icon=":material/fact_check:",
                          help="Laporan lengkap (dimuat, ditolak, duplikat, alasan) tanpa menyimpan apa pun")
go = buttons[1].button("Impor", type="primary", key="impor_go", disabled=not ready)
if check or go:
    _run(ready, dry_run=bool(check))

for i, r in enumerate(st.session_state.get("impor_results", [])):
    name = md(r["file_name"])
    msg = (f"**{name}**: {fmt_int(r['rows_total'])} baris · {fmt_int(r['rows_loaded'])} dimuat · "
           f"{fmt_int(r['rows_rejected'])} ditolak · {fmt_int(r['rows_duplicate'])} duplikat")
    if r["dry_run"]:
        st.info("Periksa saja, tidak ada yang disimpan. " + msg, icon=":material/fact_check:")
    else:
        (st.warning if r["rows_rejected"] else st.success)(msg)
    facts = [_read_as(r)] + ([f"profil impor {r['profile']}"] if r.get("profile") else [])
    st.caption(md(" · ".join(facts)) + " · kolom: " + md(", ".join(f"{f}={c}" for f, c in r["mapping"].items())))
    if r["rows_rejected"]:
        with st.expander(f"Baris ditolak dari {name}", expanded=True, icon=":material/block:"):
            show_table(pd.DataFrame({"Alasan": list(r["reasons"]), "Baris": list(r["reasons"].values())}),
                       key=f"impor_reasons_{i}", formats={"Baris": "int"})
            shown = r["rejects_head"]
            st.markdown(f"**{fmt_int(len(shown))} baris ditolak pertama** (nomor baris di berkas; identitas "
                        "disamarkan)")
            show_table(shown, key=f"impor_rejected_{i}")
            st.download_button(f"Unduh baris ditolak ({fmt_int(r['rows_rejected'])}) dari {name}",
                               r["rejects_csv"], file_name=f"ditolak-{r['file_name'].rsplit('.', 1)[0]}.csv",
                               mime="text/csv", key=f"impor_rejects_{i}", icon=":material/download:",
                               on_click="ignore")

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
