"""Indonesian number and date formats (1.234.567; 45,3%; 5 Januari 2022), shared by the
app, the reports and the command line."""
from __future__ import annotations

import math
from datetime import datetime

from .calendar import WIB

MONTHS = ["Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September",
          "Oktober", "November", "Desember"]
MONTHS_SHORT = ["Jan", "Feb", "Mar", "Apr", "Mei", "Jun", "Jul", "Agu", "Sep", "Okt", "Nov", "Des"]
DAYS = ["Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu"]


def _missing(x) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def fmt_int(n) -> str:
    if _missing(n):
        return "–"
    return f"{int(round(n)):,}".replace(",", ".")


def fmt_dec(x, digits: int = 1) -> str:
    if _missing(x):
        return "–"
    s = f"{x:,.{digits}f}"
    return s.replace(",", "_").replace(".", ",").replace("_", ".")


def fmt_pct(x, digits: int = 1) -> str:
    """0.453 -> '45,3%'."""
    if _missing(x):
        return "–"
    return fmt_dec(x * 100, digits) + "%"


def fmt_date(d, short: bool = False) -> str:
    if _missing(d) or d is None:
        return "–"
    if hasattr(d, "to_pydatetime"):
        d = d.to_pydatetime()
    if isinstance(d, datetime):
        d = d.date()
    months = MONTHS_SHORT if short else MONTHS
    return f"{d.day} {months[d.month - 1]} {d.year}"


def fmt_datetime_wib(dt_utc_naive) -> str:
    """A naive-UTC instant from the database, shown in WIB."""
    if _missing(dt_utc_naive) or dt_utc_naive is None:
        return "–"
    if hasattr(dt_utc_naive, "to_pydatetime"):
        dt_utc_naive = dt_utc_naive.to_pydatetime()
    from datetime import timezone

    wib = dt_utc_naive.replace(tzinfo=timezone.utc).astimezone(WIB)
    return f"{fmt_date(wib)} {wib:%H.%M} WIB"


def fmt_range(start, end) -> str:
    """A period in few words: '1–30 Juni 2022', '1 Mei – 30 Juni 2022', '7 Januari 2022 – 5 Januari 2023',
    or one day ('5 Januari 2022')."""
    if _missing(start) or _missing(end) or start is None or end is None:
        return "–"
    start, end = (d.to_pydatetime().date() if hasattr(d, "to_pydatetime") else
                  d.date() if isinstance(d, datetime) else d for d in (start, end))
    if start == end:
        return fmt_date(start)
    if start.year != end.year:
        return f"{fmt_date(start)} – {fmt_date(end)}"
    if start.month != end.month:
        return f"{start.day} {MONTHS[start.month - 1]} – {fmt_date(end)}"
    return f"{start.day}–{fmt_date(end)}"


def fmt_month(d) -> str:
    """'Juni 2022'."""
    return f"{MONTHS[d.month - 1]} {d.year}"


_MONTH_WORDS = {m.lower(): i for i, m in enumerate(MONTHS, 1)}
_MONTH_WORDS.update({m.lower(): i for i, m in enumerate(MONTHS_SHORT, 1)})
_MONTH_WORDS.update({"agt": 8, "ags": 8, "okt": 10, "des": 12, "sept": 9})


def parse_date(text: str):
    """A day typed the way Indonesians write it: '01/06/2022', '1-6-2022', '1.6.2022', '1 Juni 2022',
    '1 Jun 2022', or ISO '2022-06-01'. Raises ValueError with a message in Bahasa Indonesia."""
    import re
    from datetime import date

    s = " ".join(str(text or "").strip().lower().split())
    if not s:
        raise ValueError("tanggal kosong")
    if len(s) > 40:
        raise ValueError("terlalu panjang untuk sebuah tanggal")
    m = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", s)
    if m:
        y, mo, d = (int(g) for g in m.groups())
    else:
        m = re.fullmatch(r"(\d{1,2})\s*[/.\-]\s*(\d{1,2})\s*[/.\-]\s*(\d{2}|\d{4})", s)
        if m:
            d, mo, y = (int(g) for g in m.groups())
        else:
            m = re.fullmatch(r"(\d{1,2})\s+([a-z]+)\.?\s+(\d{2}|\d{4})", s)
            if not m or m.group(2) not in _MONTH_WORDS:
                raise ValueError(f"“{text}” tidak dikenali sebagai tanggal; tulis misalnya 01/06/2022")
            d, mo, y = int(m.group(1)), _MONTH_WORDS[m.group(2)], int(m.group(3))
        if y < 100:
            y += 2000
    try:
        return date(y, mo, d)
    except ValueError:
        raise ValueError(f"“{text}” bukan tanggal yang ada") from None
