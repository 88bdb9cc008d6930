"""QR codes and A4 posters for the OPDs' PeduliLindungi venues.

The QR uses error correction Q (above the required M) and keeps the 4-module quiet zone.
On the poster the code itself (without the quiet zone) is at least 12 cm wide."""
from __future__ import annotations

import io
import math
import zipfile
from dataclasses import dataclass

import qrcode
import qrcode.image.svg
from fpdf import FPDF
from qrcode.constants import ERROR_CORRECT_Q

from .calendar import SURAT_EDARAN_NO

BORDER = 4  # modules of quiet zone, as the QR standard asks
PRINT_PX = 1800  # PNG width: 15 cm at 300 dpi
MIN_CODE_CM = 12.5
FORMATS = ("png", "svg", "pdf")
MIME = {"png": "image/png", "svg": "image/svg+xml", "pdf": "application/pdf", "zip": "application/zip"}


@dataclass(frozen=True)
class Venue:
    code: str  # OPD code
    name: str  # official name
    venue_code: str


def _qr(text: str, box_size: int = 10) -> qrcode.QRCode:
    qr = qrcode.QRCode(error_correction=ERROR_CORRECT_Q, box_size=box_size, border=BORDER)
    qr.add_data(text)
    qr.make(fit=True)
    return qr


def modules(text: str) -> int:
    return _qr(text).modules_count


def qr_png(text: str) -> bytes:
    n = modules(text)
    box = max(4, math.ceil(PRINT_PX / (n + 2 * BORDER)))
    img = _qr(text, box).make_image(fill_color="black", back_color="white")
    buf = io.BytesIO()
    img.save(buf, format="PNG", dpi=(300, 300))
    return buf.getvalue()


def qr_svg(text: str) -> bytes:
    img = _qr(text).make_image(image_factory=qrcode.image.svg.SvgPathImage)
    buf = io.BytesIO()
    img.save(buf)
    return buf.getvalue()


def poster_pdf(venue: Venue) -> bytes:
    """An A4 poster in Bahasa Indonesia with the venue's QR code."""
    n = modules(venue.venue_code)
    total = n + 2 * BORDER
    pdf = FPDF(format="A4", unit="mm")
    pdf.set_auto_page_break(False)
    pdf.set_title(f"QR Code PeduliLindungi - {venue.name}")
    pdf.set_author("Diskominfo Kabupaten Bangkalan")
    pdf.add_page()
    pdf.set_fill_color(21, 101, 192)
    pdf.rect(0, 0, 210, 30, style="F")
    pdf.set_text_color(255, 255, 255)
    pdf.set_font("Helvetica", "B", 24)
    pdf.set_xy(10, 8)
    pdf.cell(190, 14, "QR Code PeduliLindungi", align="C")
    pdf.set_text_color(0, 0, 0)
    pdf.set_font("Helvetica", "B", 16)
    pdf.set_xy(15, 35)
    pdf.multi_cell(180, 8, venue.name, align="C")
    pdf.set_font("Helvetica", "B", 20)
    pdf.set_text_color(198, 40, 40)
    pdf.set_x(15)
    pdf.multi_cell(180, 10, "Wajib scan QR Code PeduliLindungi sebelum masuk", align="C")
    pdf.set_text_color(0, 0, 0)
    top = pdf.get_y() + 3
    room = 282 - 48 - top  # leave space for the steps and the footer
    width_mm = min(max(MIN_CODE_CM * 10 * total / n, 140.0), room, 180.0)  # the code itself >= 12.5 cm
    img = _qr(venue.venue_code, box_size=max(4, math.ceil(PRINT_PX / total))).make_image(
        fill_color="black", back_color="white").get_image()
    pdf.image(img, x=(210 - width_mm) / 2, y=top, w=width_mm, h=width_mm)
    y = top + width_mm + 2
    pdf.set_font("Helvetica", "", 9)
    pdf.set_xy(15, y)
    pdf.cell(180, 5, f"Kode venue: {venue.venue_code}", align="C")
    pdf.set_font("Helvetica", "B", 12)
    pdf.set_xy(20, y + 7)
    pdf.cell(170, 6, "Cara check-in:")
    pdf.set_font("Helvetica", "", 11)
    steps = [
        "1. Buka aplikasi PeduliLindungi dan pilih Check-in.",
        "2. Arahkan kamera ke QR Code ini.",
        "3. Tunjukkan warna status kepada petugas: hijau masuk; kuning sesuai kebijakan kantor;",
        "    merah (belum vaksin) dan hitam (positif/kontak erat) tidak diperkenankan masuk.",
        "4. Check-out saat meninggalkan kantor.",
    ]
    for i, s in enumerate(steps):
        pdf.set_xy(20, y + 14 + i * 6)
        pdf.cell(170, 6, s)
    pdf.set_font("Helvetica", "I", 9)
    pdf.set_xy(15, 282)
    pdf.multi_cell(180, 4.5, f"Surat Edaran Bupati Bangkalan Nomor {SURAT_EDARAN_NO} tanggal 5 Januari 2022 "
                             "tentang Pencegahan dan Penanggulangan Covid-19 varian Omicron serta Penegakan "
                             "Penggunaan Aplikasi PeduliLindungi.", align="C")
    return bytes(pdf.output())


def render(venue: Venue, fmt: str) -> bytes:
    if fmt == "png":
        return qr_png(venue.venue_code)
    if fmt == "svg":
        return qr_svg(venue.venue_code)
    if fmt == "pdf":
        return poster_pdf(venue)
    raise ValueError(f"Format tidak dikenal: {fmt!r}. Pilihan: png, svg, pdf.")


def file_name(venue: Venue, fmt: str) -> str:
    stem = "poster-qr" if fmt == "pdf" else "qr"
    return f"{stem}-{venue.code.lower()}.{fmt}"


def posters_zip(venues: list[Venue]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for v in venues:
            zf.writestr(file_name(v, "pdf"), poster_pdf(v))
    return buf.getvalue()
