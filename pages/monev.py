"""Monev (Satpol PP): the monitoring visits with their photo evidence (recorded here on a phone at
the OPD's door, corrected, photos added later), compliance per OPD for the filtered agencies and
dates, and the printable report. For Satpol PP the visit form comes first, so a phone shows it
on its first screen; a visit just saved is shown at once, with the period that lists it. With
more OPDs in the filter than a table can show usefully (a province), the compliance table shows
its two ends with a search; its download and the report keep every OPD."""
from datetime import date

import pandas as pd
import streamlit as st

from data_access import photos as ph
from data_access import visits as vs
from data_access.calendar import SURAT_EDARAN_DATE, month_end, now_utc
from data_access.domain import photo_label, stage_label
from data_access.fmt import fmt_date, fmt_int, fmt_month, parse_date
from data_access.onboarding import today_wib
from data_access.report import monev_report
from ui.chrome import indonesian_uploader, keep_in_view
from ui.data import compliance, display_name_of, list_visits, opd_registry, visit_photos
from ui.export import download_buttons
from ui.filters import apply_period
from ui.page import run_action, setup_page
from ui.ranking import ranking_view
from ui.safe import md
from ui.tables import show_table

actor, engine, flt = setup_page("monev", "Monev dan kunjungan",
                                caption="Kunjungan monitoring Satpol PP dengan foto QR di pintu OPD, dan kepatuhan "
                                        "OPD terhadap Surat Edaran.")
stamp = f"{flt.start:%Y%m%d}-{flt.end:%Y%m%d}"
YES_NO = {True: "ya", False: "tidak"}
GALLERY_VISITS = 12  # visits whose photos the list shows as pictures (all are in the table)
THUMB_W = 150  # px: two thumbnails side by side on a 390 px phone
writer = actor.can("visit_write")
reg = opd_registry()
names = dict(zip(reg["code"], reg["short_name"]))
ids = dict(zip(reg["code"], reg["id"]))

visits = list_visits(**flt.kwargs)
photos = visit_photos(visit_ids=tuple(int(i) for i in visits["id"]))


def gallery(rows: pd.DataFrame) -> None:
    """Thumbnails with each photo's QR result as its caption."""
    st.image([bytes(t) for t in rows["thumb"]], caption=[md(label) for label in rows["result_label"]],
             width=THUMB_W)


def period_showing(day: date) -> tuple[date, date]:
    """The month of `day` (up to today): the period a link offers for a visit outside the filter."""
    return day.replace(day=1), min(month_end(day), max(today_wib(), day))


def saved_visit_notice() -> None:
    """Right after a save, under the form (where a phone still shows the page): the visit with
    its photos' results, and when the chosen period or filter leaves it out of the list below,
    which period shows it, with a link there."""
    saved = st.session_state.pop("monev_saved_visit", None)
    if not saved:
        return
    vid, day, code = saved
    in_period = flt.start <= day <= flt.end
    in_filter = flt.opd_ids is None or ids.get(code) in flt.opd_ids
    shots = visit_photos(visit_ids=(vid,))
    with st.container(border=True, key="monev_saved_card"):
        keep_in_view("monev_saved_card")  # a phone's screen would otherwise stay on the form above
        st.markdown(f":material/check_circle: **Tersimpan: kunjungan #{vid}** · {fmt_date(day)} · "
                    f"{md(names.get(code, code))}" + (" · tercantum di daftar di bawah" if in_period and in_filter
                                                      else ""))
        if len(shots):
            gallery(shots)
        if not (in_period and in_filter):
            outside_period_link(vid, day, in_period=in_period, in_filter=in_filter)


def outside_period_link(vid: int, day: date, *, in_period: bool, in_filter: bool) -> None:
    start, end = period_showing(day)
    why = []
    if not in_period:
        why.append(f"periode {fmt_date(flt.start)} – {fmt_date(flt.end)}")
    if not in_filter:
        why.append("filter OPD")
    where = f"{fmt_date(start)} – {fmt_date(end)}" + ("" if in_filter else " untuk semua OPD")
    st.warning(f"Di luar {' dan '.join(why)} yang dipilih, jadi kunjungan #{vid} tidak tercantum di daftar di bawah. "
               f"Kunjungan ini tampil pada periode {where}.", icon=":material/event:")
    # a button on this page, not a link: the filters (period, and the OPD filter when it hides the
    # visit) change in this session and in the address, so a reload keeps the view
    st.button(f"Tampilkan {fmt_month(start)}" + ("" if in_filter else ", semua OPD"), key=f"monev_show_{vid}",
              icon=":material/arrow_forward:", on_click=apply_period, args=((start, end),),
              kwargs={"every_opd": not in_filter})


def visit_form(key: str, *, current: pd.Series | None = None, default_opd: str | None = None,
               officer: str = "", camera: bool = False):
    """The visit's facts (and, for a new visit, its photos). -> (VisitInput, [(name, bytes)])
    when submitted, else None. The yes/no questions of a new visit start unanswered."""
    new = current is None
    today = today_wib()
    codes = list(reg["code"])
    with st.form(key, enter_to_submit=False):
        if new:
            index = codes.index(default_opd) if default_opd in codes else None
        else:
            index = codes.index(current["code"])
        opd = st.selectbox("OPD", codes, index=index, format_func=lambda c: names[c], placeholder="Pilih OPD",
                           key=f"{key}_opd")
        # typed, not picked: Streamlit's calendar speaks English (issue 19); any way Indonesians write
        # a day is read (data_access.fmt.parse_date)
        typed = st.text_input("Tanggal kunjungan (hh/bb/tttt)", value=f"{today if new else current['visited_on']:%d/%m/%Y}",
                              max_chars=40, key=f"{key}_date", placeholder="hh/bb/tttt",
                              help=f"Tanggal WIB, antara {fmt_date(SURAT_EDARAN_DATE)} dan hari ini ({fmt_date(today)}). "
                                   "Boleh ditulis 14/02/2022, 14-2-2022 atau 14 Februari 2022.")
        who = st.text_input("Petugas", value=officer if new else current["officer"], key=f"{key}_officer",
                            max_chars=vs.MAX_OFFICER)
        c1, c2 = st.columns(2)
        posted = c1.radio("QR terpasang di pintu masuk utama?", ["ya", "tidak"], horizontal=True,
                          index=None if new else (0 if current["qr_posted"] else 1), key=f"{key}_posted")
        enforced = c2.radio("Pemindaian ditegakkan?", ["ya", "tidak"], horizontal=True,
                            index=None if new else (0 if current["scanning_enforced"] else 1), key=f"{key}_enforced")
        unscanned = st.number_input("Orang masuk tanpa memindai", value=0 if new else int(current["unscanned_entries"]),
                                    step=1, min_value=0, max_value=vs.MAX_UNSCANNED, key=f"{key}_unscanned")
        notes = st.text_area("Catatan", value="" if new else (current["notes"] or ""), key=f"{key}_notes",
                             max_chars=vs.MAX_NOTES, height=80)
        files, shot = [], None
        if new:
            files = photo_uploader(f"{key}_photos", ph.MAX_PHOTOS)
            if camera:
                shot = st.camera_input("Foto dari kamera", key=f"{key}_camera")
        submitted = st.form_submit_button("Simpan kunjungan" if new else "Simpan koreksi", type="primary",
                                          icon=":material/save:")
    if not submitted:
        return None
    try:
        day = parse_date(typed)
    except ValueError as exc:  # nothing is stored; the form keeps what was typed
        st.error(md(f"Tanggal kunjungan tidak dapat dipakai: {exc}."))
        return None
    answer = {"ya": True, "tidak": False}
    visit = vs.VisitInput(opd, day, who, answer.get(posted), answer.get(enforced), unscanned, notes)
    uploads = list(files or []) + ([shot] if shot is not None else [])
    return visit, [(f.name, f.getvalue()) for f in uploads]


def photo_uploader(key: str, room: int):
    files = st.file_uploader(
        f"Foto QR di pintu (JPEG/PNG, paling banyak {room} foto, masing-masing hingga 10 MB)",
        type=["jpg", "jpeg", "png"], accept_multiple_files=True, key=key, max_upload_size=10,
        help="Di ponsel, tombol unggah juga menawarkan kamera. Metadata foto (lokasi GPS, jenis kamera) dihapus; "
             "QR pada foto dibaca dan dicocokkan dengan kode venue OPD.")
    indonesian_uploader(key, note="Maks. 10 MB per foto · JPG, PNG", button="Pilih foto")
    return files


def record_tab() -> None:
    # a fresh, empty form after each saved visit (a refused one keeps what was typed and chosen)
    n_saved = st.session_state.setdefault("monev_saved", 0)
    form_key = "monev_new" if n_saved == 0 else f"monev_new{n_saved}"
    single = [c for c, i in ids.items() if flt.opd_ids is not None and len(flt.opd_ids) == 1 and i in flt.opd_ids]
    camera = st.toggle("Ambil foto dengan kamera di halaman ini", key="monev_camera",
                       help="Tanpa ini, tombol unggah foto di ponsel tetap dapat membuka kamera.")
    got = visit_form(form_key, default_opd=single[0] if single else None,
                     officer=display_name_of(username=actor.username), camera=camera)
    saved_visit_notice()
    if got is None:
        return
    new, shots = got

    def add_and_count() -> None:
        vid = vs.add_visit(engine=engine, actor=actor, visit=new, photos=shots)
        st.session_state["monev_saved"] = n_saved + 1
        st.session_state["monev_saved_visit"] = (vid, new.visited_on, new.opd_code)

    run_action(add_and_count, f"Kunjungan ke {names.get(new.opd_code, '')} dicatat"
                              + (f" dengan {len(shots)} foto." if shots else "."))


def fix_tab() -> None:
    if visits.empty:
        st.caption("Tidak ada kunjungan pada periode dan filter ini untuk dikoreksi.")
        return
    by_id = visits.set_index("id")
    vid = st.selectbox("Kunjungan", list(visits["id"]), key="monev_fix_id",
                       format_func=lambda i: f"#{i} · {by_id.loc[i, 'visited_on']:%d/%m/%Y} · {by_id.loc[i, 'short_name']}")
    current = by_id.loc[vid]
    got = visit_form(f"monev_fix_{vid}", current=current)
    if got is not None:
        fixed, _ = got
        run_action(lambda: vs.update_visit(engine=engine, actor=actor, visit_id=int(vid), visit=fixed),
                   f"Kunjungan #{vid} dikoreksi.")
    have = photos[photos["visit_id"] == vid]
    st.markdown(f"**Foto kunjungan #{vid}** ({fmt_int(len(have))} dari {ph.MAX_PHOTOS})")
    if len(have):
        gallery(have)
    room = ph.MAX_PHOTOS - len(have)
    if room <= 0:
        st.caption(f"Kunjungan ini sudah memiliki {ph.MAX_PHOTOS} foto.")
        return
    n_added = st.session_state.setdefault("monev_photos_added", 0)
    with st.form(f"monev_addphoto_{vid}_{n_added}", enter_to_submit=False):
        files = photo_uploader(f"monev_addphoto_{vid}_{n_added}_files", room)
        if st.form_submit_button("Tambah foto", icon=":material/add_photo_alternate:"):
            def add() -> None:
                if not files:
                    raise vs.VisitError("Pilih foto yang akan ditambahkan.")
                vs.add_photos(engine=engine, actor=actor, visit_id=int(vid),
                              photos=[(f.name, f.getvalue()) for f in files])
                st.session_state["monev_photos_added"] = n_added + 1

            run_action(add, f"{len(files or [])} foto ditambahkan ke kunjungan #{vid}.")


def visit_list() -> None:
    st.subheader(f"Kunjungan monev ({fmt_int(len(visits))})")
    if visits.empty:
        st.info(f"Belum ada kunjungan pada periode {fmt_date(flt.start)} – {fmt_date(flt.end)} dan filter ini. "
                "Ubah periode di bilah samping untuk melihat kunjungan lain.")
        return
    by_visit = photos.groupby("visit_id")["result_label"]
    results = by_visit.agg(lambda s: "; ".join(s))
    counts = by_visit.size()
    vtable = pd.DataFrame({
        "No.": visits["id"],
        "Tanggal": pd.to_datetime(visits["visited_on"]),
        "OPD": visits["short_name"],
        "Hasil foto QR": [results.get(i, "–") for i in visits["id"]],
        "QR terpasang": visits["qr_posted"].map(YES_NO),
        "Scan ditegakkan": visits["scanning_enforced"].map(YES_NO),
        "Masuk tanpa scan": visits["unscanned_entries"],
        "Foto": [int(counts.get(i, 0)) for i in visits["id"]],
        "Petugas": visits["officer"],
        "Catatan": visits["notes"].fillna(""),
        "Dicatat oleh": visits["recorded_by"],
    })
    st.space("xxsmall")  # room above the table for its toolbar, which a touch screen always shows
    show_table(vtable, key="monev_visits", formats={"Tanggal": "date", "Masuk tanpa scan": "int", "Foto": "int"})
    vexport = vtable.assign(Tanggal=vtable["Tanggal"].dt.strftime("%d/%m/%Y"))
    download_buttons(vexport, f"kunjungan-monev-{stamp}", key="monev_visits_export", sheet="Kunjungan")
    with_photos = visits[visits["id"].isin(photos["visit_id"])]
    if with_photos.empty:
        return
    st.markdown(f"**Foto kunjungan** ({fmt_int(len(with_photos))} kunjungan berfoto)")
    for r in with_photos.head(GALLERY_VISITS).itertuples():
        with st.container(border=True):
            st.markdown(f"**#{r.id}** · {fmt_date(r.visited_on)} · {md(r.short_name)} · {md(r.officer)}")
            gallery(photos[photos["visit_id"] == r.id])
    if len(with_photos) > GALLERY_VISITS:
        st.caption(f"{GALLERY_VISITS} kunjungan berfoto terbaru ditampilkan; hasil foto semua kunjungan ada di tabel "
                   "dan di laporan PDF.")


def compliance_table() -> None:
    comp = compliance(**flt.kwargs)
    st.subheader("Kepatuhan per OPD")
    st.caption("Terburuk di atas: belum ada QR, lalu temuan kunjungan yang bermasalah (termasuk foto dengan QR yang "
               "salah atau tak terbaca), lalu cakupan ASN terendah.")
    def compliance_rows(c: pd.DataFrame) -> pd.DataFrame:
        return pd.DataFrame({
            "OPD": c["short_name"],
            "Tahap": stage_label(c),
            "Foto QR": photo_label(c),
            "QR dicetak": pd.to_datetime(c["qr_printed_on"]),
            "Kunjungan terakhir": pd.to_datetime(c["visited_on"]),
            "QR terpasang": c["qr_posted"].map(lambda v: YES_NO.get(bool(v)) if pd.notna(v) else "–"),
            "Scan ditegakkan": c["scanning_enforced"].map(lambda v: YES_NO.get(bool(v)) if pd.notna(v) else "–"),
            "Cakupan ASN (%)": (c["coverage"] * 100).round(1),
            "Check-in per hari kerja": c["checkins_per_workday"].round(1),
            "Tingkat penolakan (%)": (c["refusal_rate"] * 100).round(1),
            "Check-in terakhir": pd.to_datetime(c["last_day"]),
            "Hari sejak check-in terakhir": c["days_since"],
        })

    table = compliance_rows(comp)
    listed = table
    if flt.many_opds:  # the worst and the best of hundreds of OPDs, and a search
        ends = ranking_view(comp.assign(order=range(1, len(comp) + 1)), by="order", ascending=True, key="monev",
                            measure="kepatuhan (terburuk di atas)")
        listed = compliance_rows(ends.rows)
        listed.insert(0, "Peringkat", ends.rows["position"].to_numpy())
        st.caption(f"Unduhan CSV dan Excel serta laporan PDF memuat semua {fmt_int(len(comp))} OPD.")
    st.space("xxsmall")
    if not listed.empty:
        show_table(listed, key="monev_compliance", formats={
            "QR dicetak": "date", "Kunjungan terakhir": "date", "Check-in terakhir": "date",
            "Cakupan ASN (%)": "pct_points", "Check-in per hari kerja": "dec", "Tingkat penolakan (%)": "pct_points",
            "Hari sejak check-in terakhir": "int", "Peringkat": "int",
        })
    export = table.copy()
    for c in ("QR dicetak", "Kunjungan terakhir", "Check-in terakhir"):
        export[c] = export[c].dt.strftime("%d/%m/%Y")
    download_buttons(export, f"kepatuhan-opd-{stamp}", key="monev_compliance_export", sheet="Kepatuhan OPD")

    def report_bytes() -> bytes:
        return monev_report(compliance=comp, visits=visits, start=flt.start, end=flt.end, filter_labels=flt.labels,
                            generated_by=actor.username, generated_at=now_utc(),
                            photos=visit_photos(visit_ids=tuple(int(i) for i in visits["id"])))

    st.download_button("Unduh laporan PDF (kepatuhan + kunjungan)", report_bytes,
                       file_name=f"laporan-monev-{stamp}.pdf", mime="application/pdf", key="monev_report",
                       type="primary", icon=":material/picture_as_pdf:", on_click="ignore")


if writer:
    tab_new, tab_fix = st.tabs(["Catat kunjungan", "Koreksi dan tambah foto"])
    with tab_new:
        record_tab()
    with tab_fix:
        fix_tab()
    visit_list()
    compliance_table()
else:
    compliance_table()
    visit_list()
    st.caption("Kunjungan dicatat oleh Satpol PP.")
