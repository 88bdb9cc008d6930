"""The printable monev report (PDF, A4 landscape): the compliance table and the visits for a
chosen period and filter."""
from __future__ import annotations

import io
from datetime import date, datetime

import pandas as pd
from fpdf import FPDF
from fpdf.fonts import FontFace

from .calendar import SURAT_EDARAN_NO
from .domain import photo_label, stage_label
from .fmt import fmt_date, fmt_datetime_wib, fmt_dec, fmt_int, fmt_pct


def _latin1(text) -> str:
    """fpdf2's core fonts are Latin-1: keep what fits, replace the rest."""
    s = "" if text is None or (isinstance(text, float) and pd.isna(text)) else str(text)
    s = s.replace("–", "-").replace("—", "-").replace("≥", ">=").replace("…", "...")
    return s.encode("latin-1", "replace").decode("latin-1")


def _yes_no(v) -> str:
    if v is None or (isinstance(v, float) and pd.isna(v)):
        return "-"
    return "ya" if bool(v) else "tidak"


class _Report(FPDF):
    def __init__(self, title: str):
        super().__init__(orientation="L", unit="mm", format="A4")
        self.report_title = title
        self.set_auto_page_break(True, margin=14)
        self.set_title(title)
        self.set_author("Pantau PeduliLindungi Bangkalan")

    def footer(self):
        self.set_y(-10)
        self.set_font("Helvetica", "I", 8)
        self.cell(0, 5, _latin1(f"{self.report_title} - halaman {self.page_no()}/{{nb}}"), align="C")


PHOTO_W = 42  # mm: a thumbnail in the report, five to a row on A4 landscape
PHOTO_GAP = 5


def _photo_rows(pdf: _Report, visits: pd.DataFrame, photos: pd.DataFrame) -> None:
    """Each visit's photos: a line naming the visit, then its thumbnails with their QR results."""
    from PIL import Image

    pdf.set_font("Helvetica", "B", 12)
    pdf.cell(0, 7, _latin1(f"Foto kunjungan ({len(photos)} foto)"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 7.5)
    pdf.multi_cell(0, 4, _latin1("Hasil pembacaan QR pada foto: Sesuai (kode venue OPD itu sendiri), Kode OPD lain, "
                                 "Bukan kode venue terdaftar, atau QR tidak terbaca."), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(1)
    by_visit = {int(k): g for k, g in photos.groupby("visit_id", sort=False)}
    for r in visits.itertuples():
        group = by_visit.get(int(r.id))
        if group is None:
            continue
        sizes = []
        for thumb in group["thumb"]:
            with Image.open(io.BytesIO(bytes(thumb))) as im:
                sizes.append(im.size)
        h = max(PHOTO_W * hh / ww for ww, hh in sizes)
        if pdf.get_y() + 6 + h + 10 > pdf.page_break_trigger:
            pdf.add_page()
        pdf.set_font("Helvetica", "B", 8.5)
        pdf.cell(0, 5, _latin1(f"#{r.id} - {fmt_date(r.visited_on, short=True)} - {r.short_name} - {r.officer}"),
                 new_x="LMARGIN", new_y="NEXT")
        top = pdf.get_y() + 0.5
        pdf.set_font("Helvetica", "", 7.5)
        for i, (thumb, label, (ww, hh)) in enumerate(zip(group["thumb"], group["result_label"], sizes)):
            x = pdf.l_margin + i * (PHOTO_W + PHOTO_GAP)
            pdf.image(io.BytesIO(bytes(thumb)), x=x, y=top, w=PHOTO_W, h=PHOTO_W * hh / ww)
            pdf.set_xy(x, top + h + 0.8)
            pdf.multi_cell(PHOTO_W, 3.6, _latin1(label), align="C", new_x="RIGHT", new_y="TOP")
        pdf.set_xy(pdf.l_margin, top + h + 9)


def monev_report(*, compliance: pd.DataFrame, visits: pd.DataFrame, start: date, end: date,
                 filter_labels: list[str], generated_by: str, generated_at: datetime,
                 photos: pd.DataFrame | None = None) -> bytes:
    """`photos`: data_access.visits.visit_photos of the listed visits (thumb, result_label);
    when given, each visit's thumbnails and QR results follow the visits' table."""
    title = "Laporan Monev Penerapan PeduliLindungi"
    pdf = _Report(title)
    pdf.alias_nb_pages()
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 16)
    pdf.cell(0, 9, _latin1(title), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 10)
    lines = [
        f"Pemerintah Kabupaten Bangkalan - Satuan Polisi Pamong Praja. Dasar: Surat Edaran Bupati Nomor {SURAT_EDARAN_NO}.",
        f"Periode: {fmt_date(start)} - {fmt_date(end)}. Filter: {'; '.join(filter_labels) if filter_labels else 'semua OPD'}.",
        f"Dibuat oleh {generated_by} pada {fmt_datetime_wib(generated_at)}.",
    ]
    for line in lines:
        pdf.cell(0, 5.5, _latin1(line), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)

    pdf.set_font("Helvetica", "B", 12)
    pdf.cell(0, 7, _latin1(f"Kepatuhan per OPD ({len(compliance)} OPD, terburuk di atas)"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 7.5)
    head = ["OPD", "Tahap", "QR dicetak", "Kunjungan terakhir", "QR terpasang", "Scan ditegakkan", "Foto QR",
            "Cakupan ASN", "Check-in/hari kerja", "Tingkat penolakan", "Check-in terakhir", "Hari sejak"]
    widths = (42, 30, 18, 21, 17, 18, 26, 17, 21, 19, 21, 14)
    heading = FontFace(emphasis="BOLD", fill_color=(21, 101, 192), color=(255, 255, 255))
    stages = stage_label(compliance)
    photo_found = photo_label(compliance)
    with pdf.table(col_widths=widths, headings_style=heading, line_height=4.6, text_align="LEFT",
                   first_row_as_headings=True) as table:
        table.row([_latin1(h) for h in head])
        for r, stage, found in zip(compliance.itertuples(), stages, photo_found):
            table.row([_latin1(x) for x in (
                r.short_name, stage,
                fmt_date(r.qr_printed_on, short=True) if r.qr_printed_on is not None and not pd.isna(r.qr_printed_on) else "belum",
                fmt_date(r.visited_on, short=True) if r.visited_on is not None and not pd.isna(r.visited_on) else "-",
                _yes_no(r.qr_posted), _yes_no(r.scanning_enforced), found or "-", fmt_pct(r.coverage),
                fmt_dec(r.checkins_per_workday, 1), fmt_pct(r.refusal_rate),
                fmt_date(r.last_day, short=True) if r.last_day is not None and not pd.isna(r.last_day) else "-",
                fmt_int(r.days_since) if r.days_since is not None and not pd.isna(r.days_since) else "-",
            )])

    pdf.ln(4)
    pdf.set_font("Helvetica", "B", 12)
    pdf.cell(0, 7, _latin1(f"Kunjungan monev ({len(visits)})"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 7.5)
    if visits.empty:
        pdf.cell(0, 6, _latin1("Tidak ada kunjungan pada periode dan filter ini."), new_x="LMARGIN", new_y="NEXT")
    else:
        head = ["No.", "Tanggal", "OPD", "Petugas", "QR terpasang", "Scan ditegakkan", "Masuk tanpa scan", "Foto",
                "Catatan"]
        widths = (12, 20, 42, 38, 20, 22, 22, 12, 89)
        counts = photos["visit_id"].value_counts() if photos is not None and not photos.empty else pd.Series(dtype=int)
        with pdf.table(col_widths=widths, headings_style=heading, line_height=4.6, text_align="LEFT") as table:
            table.row([_latin1(h) for h in head])
            for r in visits.itertuples():
                table.row([_latin1(x) for x in (
                    f"#{r.id}", fmt_date(r.visited_on, short=True), r.short_name, r.officer, _yes_no(r.qr_posted),
                    _yes_no(r.scanning_enforced), fmt_int(r.unscanned_entries), fmt_int(counts.get(r.id, 0)),
                    r.notes or "",
                )])
        if photos is not None and not photos.empty:
            pdf.ln(4)
            _photo_rows(pdf, visits, photos)
    return bytes(pdf.output())
