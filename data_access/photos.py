"""Photo evidence of a monitoring visit: what the officer saw at the OPD's door.

A photo is checked, cleaned and read on the server:
- JPEG or PNG only, at most 10 MB, at most 5 per visit; anything else is refused with a reason;
- every piece of metadata (EXIF with its GPS position and camera, XMP, ICC, text chunks) is
  dropped by re-encoding the pixels alone, after turning the picture upright as the camera
  said; the longer side is scaled down to at most 1.600 px;
- the QR code in it is decoded with ZXing (zxing-cpp) and compared with the registry:
  *sesuai* (the OPD's own venue code), *kode OPD lain* (another OPD's code: which one),
  *bukan kode venue terdaftar* (a QR, but no registered venue), *QR tidak terbaca*.
A photo without a readable code is still kept: it shows what was there."""
from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

MAX_PHOTO_BYTES = 10 * 1024 * 1024
MAX_PHOTOS = 5
MAX_SIDE = 1600
THUMB_SIDE = 320
MAX_PIXELS = 60_000_000  # a 10 MB file claiming more pixels than this is a decompression bomb
JPEG_QUALITY = 85

# The QR result of a photo: code -> label shown to users
QR_MATCH = "sesuai"
QR_OTHER_OPD = "kode_opd_lain"
QR_UNKNOWN = "bukan_kode_terdaftar"
QR_UNREADABLE = "tidak_terbaca"
QR_RESULTS = {
    QR_MATCH: "Sesuai",
    QR_OTHER_OPD: "Kode OPD lain",
    QR_UNKNOWN: "Bukan kode venue terdaftar",
    QR_UNREADABLE: "QR tidak terbaca",
}
QR_PROBLEMS = (QR_OTHER_OPD, QR_UNKNOWN, QR_UNREADABLE)  # results that need attention


class PhotoError(ValueError):
    """A photo that cannot be used; the message (Bahasa Indonesia) names the file."""


@dataclass(frozen=True)
class CleanPhoto:
    image: bytes  # JPEG, no metadata, longer side <= MAX_SIDE
    thumb: bytes  # JPEG, longer side <= THUMB_SIDE
    width: int
    height: int
    qr_texts: tuple[str, ...]  # every QR code read, in the decoder's order


def clean_photo(data: bytes, name: str = "foto") -> CleanPhoto:
    """Check, strip, scale and read one uploaded photo. Raises PhotoError."""
    if not data:
        raise PhotoError(f"{name}: berkas kosong.")
    if len(data) > MAX_PHOTO_BYTES:
        raise PhotoError(f"{name}: lebih dari 10 MB. Kirim foto yang lebih kecil.")
    try:
        with Image.open(io.BytesIO(data)) as probe:
            fmt = probe.format
            w, h = probe.size
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        raise PhotoError(f"{name}: bukan gambar JPEG atau PNG yang dapat dibaca.") from None
    if fmt not in ("JPEG", "PNG", "MPO"):  # MPO: the JPEG some phone cameras write
        raise PhotoError(f"{name}: format {fmt or 'tak dikenal'} tidak diterima; gunakan JPEG atau PNG.")
    if w * h > MAX_PIXELS:
        raise PhotoError(f"{name}: gambar terlalu besar ({w}×{h} piksel).")
    try:
        with Image.open(io.BytesIO(data)) as img:
            img.load()
            upright = ImageOps.exif_transpose(img)  # the orientation the camera recorded, applied
            rgb = _flatten(upright)
    except (OSError, ValueError, SyntaxError):
        raise PhotoError(f"{name}: gambar rusak atau terpotong.") from None
    texts = read_qr(rgb)
    big = rgb.copy()
    big.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
    if not texts:  # a code too small at full size may still read once scaled
        texts = read_qr(big)
    thumb = big.copy()
    thumb.thumbnail((THUMB_SIDE, THUMB_SIDE), Image.Resampling.LANCZOS)
    return CleanPhoto(_jpeg(big), _jpeg(thumb), big.width, big.height, texts)


def _flatten(img: Image.Image) -> Image.Image:
    """RGB pixels only: transparency onto white, palettes and grey expanded; a new image, so
    nothing of the original's info (EXIF, ICC, XMP, PNG text) comes along."""
    if img.mode in ("RGBA", "LA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        out = Image.new("RGB", rgba.size, (255, 255, 255))
        out.paste(rgba, mask=rgba.getchannel("A"))
        return out
    return Image.frombytes("RGB", img.size, img.convert("RGB").tobytes())


def _jpeg(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=JPEG_QUALITY, optimize=True)  # no exif= given: none written
    return buf.getvalue()


def read_qr(img: Image.Image) -> tuple[str, ...]:
    """The texts of the QR codes ZXing finds in the picture (any angle, light on dark too)."""
    import zxingcpp

    found = zxingcpp.read_barcodes(img.convert("L"), formats=zxingcpp.BarcodeFormat.QRCode)
    return tuple(dict.fromkeys(b.text for b in found if b.valid and b.text))


def classify(qr_texts: tuple[str, ...], opd_code: str, venues: dict[str, str]) -> tuple[str, str | None]:
    """-> (result, the other OPD's code when the poster belongs to another OPD).
    `venues`: registered venue code -> OPD code. The OPD's own code anywhere in the picture
    wins; then another OPD's; then any other QR."""
    if not qr_texts:
        return QR_UNREADABLE, None
    owners = [venues.get(t.strip()) for t in qr_texts]
    if opd_code in owners:
        return QR_MATCH, None
    other = next((o for o in owners if o is not None), None)
    if other is not None:
        return QR_OTHER_OPD, other
    return QR_UNKNOWN, None


def result_label(result: str, other_name: str | None = None) -> str:
    label = QR_RESULTS.get(result, result)
    if result == QR_OTHER_OPD and other_name:
        return f"{label}: {other_name}"
    return label
