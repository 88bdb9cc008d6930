"""The quick periods of the period picker ("Minggu ini", "Bulan lalu", "Sejak Surat Edaran", ...)
as dates, relative to a day (today in WIB), and the months a user can pick. No Streamlit here:
the sidebar, the audit page and the tests share these definitions."""
from __future__ import annotations

from datetime import date, timedelta

from .calendar import SURAT_EDARAN_DATE, month_end
from .fmt import fmt_month

# key -> label, in the order the picker shows them. "semua" is the data's own range.
QUICK_PERIODS: dict[str, str] = {
    "semua": "Seluruh data",
    "minggu-ini": "Minggu ini",
    "minggu-lalu": "Minggu lalu",
    "bulan-ini": "Bulan ini",
    "bulan-lalu": "Bulan lalu",
    "30-hari": "30 hari terakhir",
    "sejak-se": "Sejak Surat Edaran",
}


def _month_start(d: date) -> date:
    return d.replace(day=1)


def quick_period(key: str, *, today: date, data_range: tuple[date, date] | None = None) -> tuple[date, date]:
    """The dates of a quick period. Weeks start on Monday; 'this week/month' end today.
    'semua' is the data's range (or since the Surat Edaran when there is no data)."""
    if key == "semua":
        return data_range if data_range else (SURAT_EDARAN_DATE, today)
    if key == "minggu-ini":
        return today - timedelta(days=today.weekday()), today
    if key == "minggu-lalu":
        monday = today - timedelta(days=today.weekday() + 7)
        return monday, monday + timedelta(days=6)
    if key == "bulan-ini":
        return _month_start(today), today
    if key == "bulan-lalu":
        last = _month_start(today) - timedelta(days=1)
        return _month_start(last), last
    if key == "30-hari":
        return today - timedelta(days=29), today
    if key == "sejak-se":
        return SURAT_EDARAN_DATE, today
    raise KeyError(key)


def matching_quick(start: date, end: date, *, today: date, data_range: tuple[date, date] | None = None) -> str | None:
    """The quick period that covers exactly start..end, if any (the first in QUICK_PERIODS order)."""
    for key in QUICK_PERIODS:
        if quick_period(key, today=today, data_range=data_range) == (start, end):
            return key
    return None


def month_range(month_start: date, *, today: date) -> tuple[date, date]:
    """A whole month, up to today for the current month."""
    return month_start, min(month_end(month_start), today)


def months_between(lo: date, hi: date) -> list[date]:
    """First days of the months from hi's back to lo's, newest first."""
    out, m = [], _month_start(hi)
    while m >= _month_start(lo):
        out.append(m)
        m = _month_start(m - timedelta(days=1))
    return out


def month_label(month_start: date) -> str:
    return fmt_month(month_start)
