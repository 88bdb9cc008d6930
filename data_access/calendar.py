"""Time zone, the Surat Edaran date, and Indonesia's working-day calendar."""
from __future__ import annotations

import functools
from datetime import date, datetime, timedelta, timezone

WIB = timezone(timedelta(hours=7), "WIB")
SURAT_EDARAN_DATE = date(2022, 1, 5)
SURAT_EDARAN_NO = "440/033/433.031/2022"
DEFAULT_DEMO_DAYS = 181  # the demo's default span: six months from the Surat Edaran

# National holidays and joint leave (cuti bersama) on which ASN do not work.
# Sources: SKB 3 Menteri on 2022 and 2023 holidays and cuti bersama.
HOLIDAYS: dict[date, str] = {
    date(2022, 1, 1): "Tahun Baru Masehi",
    date(2022, 2, 1): "Tahun Baru Imlek",
    date(2022, 2, 28): "Isra Mikraj",
    date(2022, 3, 3): "Hari Suci Nyepi",
    date(2022, 4, 15): "Wafat Isa Almasih",
    date(2022, 4, 29): "Cuti bersama Idulfitri",
    date(2022, 5, 1): "Hari Buruh",
    date(2022, 5, 2): "Idulfitri",
    date(2022, 5, 3): "Idulfitri",
    date(2022, 5, 4): "Cuti bersama Idulfitri",
    date(2022, 5, 5): "Cuti bersama Idulfitri",
    date(2022, 5, 6): "Cuti bersama Idulfitri",
    date(2022, 5, 16): "Hari Raya Waisak",
    date(2022, 5, 26): "Kenaikan Isa Almasih",
    date(2022, 6, 1): "Hari Lahir Pancasila",
    date(2022, 7, 9): "Iduladha",
    date(2022, 7, 30): "Tahun Baru Islam",
    date(2022, 8, 17): "Hari Kemerdekaan",
    date(2022, 10, 8): "Maulid Nabi",
    date(2022, 12, 25): "Hari Raya Natal",
    date(2022, 12, 26): "Cuti bersama Natal",
    date(2023, 1, 1): "Tahun Baru Masehi",
    date(2023, 1, 23): "Cuti bersama Imlek",
    date(2023, 3, 22): "Hari Suci Nyepi",
    date(2023, 3, 23): "Cuti bersama Nyepi",
    date(2023, 4, 7): "Wafat Isa Almasih",
    date(2023, 4, 19): "Cuti bersama Idulfitri",
    date(2023, 4, 20): "Cuti bersama Idulfitri",
    date(2023, 4, 21): "Cuti bersama Idulfitri",
    date(2023, 4, 24): "Cuti bersama Idulfitri",
    date(2023, 4, 25): "Cuti bersama Idulfitri",
    date(2023, 5, 1): "Hari Buruh",
    date(2023, 5, 18): "Kenaikan Isa Almasih",
    date(2023, 6, 1): "Hari Lahir Pancasila",
    date(2023, 6, 2): "Cuti bersama Waisak",
    date(2023, 6, 29): "Iduladha",
    date(2023, 7, 19): "Tahun Baru Islam",
    date(2023, 8, 17): "Hari Kemerdekaan",
    date(2023, 9, 28): "Maulid Nabi",
    date(2023, 12, 25): "Hari Raya Natal",
    date(2023, 12, 26): "Cuti bersama Natal",
}


def is_workday(d: date) -> bool:
    return d.weekday() < 5 and d not in HOLIDAYS


def workdays(start: date, end: date) -> list[date]:
    """Working days from start to end inclusive."""
    return list(_workdays(start, end))


@functools.lru_cache(maxsize=256)
def _workdays(start: date, end: date) -> tuple[date, ...]:
    out, d = [], start
    while d <= end:
        if is_workday(d):
            out.append(d)
        d += timedelta(days=1)
    return tuple(out)


def to_utc_naive(dt: datetime) -> datetime:
    """Store instants as naive UTC; a naive input is taken to be WIB."""
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=WIB)
    return dt.astimezone(timezone.utc).replace(tzinfo=None)


def to_wib(dt_utc_naive: datetime) -> datetime:
    return dt_utc_naive.replace(tzinfo=timezone.utc).astimezone(WIB)


def now_utc() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0)


ACTIVE_WORKDAYS = 5


@functools.lru_cache(maxsize=8192)
def active_window_start(end: date, n_workdays: int = ACTIVE_WORKDAYS) -> date:
    """First day of the 'active' window ending on `end`: the last 7 calendar days in an
    ordinary week, stretched back over long holidays (Lebaran) until it holds 5 working days."""
    d, seen = end, 0
    while True:
        if is_workday(d):
            seen += 1
        if seen >= n_workdays and (end - d).days >= 6:
            return d
        if (end - d).days > 60:  # no working days at all: a calendar week
            return end - timedelta(days=6)
        d -= timedelta(days=1)
