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
