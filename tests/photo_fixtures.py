"""Photos for the visit tests: the project's own A4 poster of an OPD, rendered and then
'photographed' (rotated, scaled down, with sensor noise and a camera's EXIF, GPS included),
and a blank picture."""
from __future__ import annotations

import io

import numpy as np
from PIL import Image

from data_access import qr


def poster_photo(venue_code: str, name: str = "OPD", *, angle: float = 11, width: int = 900, seed: int = 1) -> bytes:
    import pypdfium2 as pdfium

    page = pdfium.PdfDocument(qr.poster_pdf(qr.Venue("X", name, venue_code)))[0].render(scale=1.3).to_pil()
    img = page.convert("RGB").rotate(angle, expand=True, fillcolor=(96, 84, 70))  # the wall around it
    img = img.resize((width, int(width * img.height / img.width)))
    noise = np.random.default_rng(seed).normal(0, 16, (img.height, img.width, 3))
    img = Image.fromarray(np.clip(np.asarray(img, dtype=np.float64) + noise, 0, 255).astype(np.uint8))
    return jpeg_with_exif(img)


def blank_photo(width: int = 800, height: int = 600) -> bytes:
    rng = np.random.default_rng(3)
    arr = np.clip(rng.normal(200, 10, (height, width, 3)), 0, 255).astype(np.uint8)
    return jpeg_with_exif(Image.fromarray(arr))


def jpeg_with_exif(img: Image.Image) -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "KameraPonsel"  # Make
    exif[0x0110] = "Model Rahasia"  # Model
    exif[0x8825] = {1: "S", 2: (7.0, 2.0, 3.0), 3: "E", 4: (112.0, 44.0, 5.0)}  # GPS IFD: a position
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=80, exif=exif.tobytes())
    return buf.getvalue()
