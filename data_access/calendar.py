"""Time zone, the Surat Edaran date, and Indonesia's working-day calendar."""
from __future__ import annotations

import functools
from datetime import date, datetime, timedelta, timezone

WIB = timezone(timedelta(hours=7), "WIB")
SURAT_EDARAN_DATE = date(2022, 1, 5)
SURAT_EDARAN_NO = "440/033/433.031/2022"
DEFAULT_DEMO_DAYS = 181  # the demo's default span: six months from the Surat Edaran


def next_month(d: date) -> date:
    """The first day of the month after `d`'s."""
    return (d.replace(day=28) + timedelta(days=4)).replace(day=1)


def month_end(d: date) -> date:
    """The last day of `d`'s month."""
    return next_month(d) - timedelta(days=1)

# National holidays and joint leave (cuti bersama) on which ASN do not work: data, not code.
# The shipped file data_access/hari_libur.csv is loaded into the database (table `holiday`), which an
# operator updates each year (`python -m data_access libur --muat BERKAS`); the app and the command line
# install the database's set here at start-up (data_access.holidays.install). Until then, e.g. in a
# script without a database, the shipped file is used.
_holidays: dict[date, str] | None = None
_years: frozenset[int] = frozenset()
_generation = 0  # part of every cache key below: a new set of holidays never meets an old result


def set_holidays(days: dict[date, str], years=None) -> None:
    """Use `days` (date -> name) as the holidays from now on; `years` are the years they cover
    (default: the years of the dates)."""
    global _holidays, _years, _generation
    _years = frozenset(years if years is not None else {d.year for d in days})
    _holidays = dict(days)
    _generation += 1
    _workdays.cache_clear()
    _active_window_start.cache_clear()


def holidays() -> dict[date, str]:
    """The holidays in use: date -> name."""
    if _holidays is None:
        from .holidays import read_file

        rows = read_file()
        set_holidays({h.day: h.name for h in rows})
    return _holidays


def holiday_years() -> frozenset[int]:
    """The years for which holiday data is loaded."""
    holidays()
    return _years


def years_without_holidays(start: date, end: date) -> list[int]:
    """The years from start to end without holiday data: their working days count Monday to Friday only."""
    covered = holiday_years()
    return [y for y in range(start.year, end.year + 1) if y not in covered]


def is_workday(d: date) -> bool:
    return d.weekday() < 5 and d not in (_holidays if _holidays is not None else holidays())


def workdays(start: date, end: date) -> list[date]:
    """Working days from start to end inclusive."""
    holidays()
    return list(_workdays(start, end, _generation))


@functools.lru_cache(maxsize=256)
def _workdays(start: date, end: date, _gen: int) -> tuple[date, ...]:
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


def today_wib() -> date:
    return (now_utc() + timedelta(hours=7)).date()


ACTIVE_WORKDAYS = 5


def active_window_start(end: date, n_workdays: int = ACTIVE_WORKDAYS) -> date:
    """First day of the 'active' window ending on `end`: the last 7 calendar days in an
    ordinary week, stretched back over long holidays (Lebaran) until it holds 5 working days."""
    holidays()
    return _active_window_start(end, n_workdays, _generation)


@functools.lru_cache(maxsize=8192)
def _active_window_start(end: date, n_workdays: int, _gen: int) -> date:
    d, seen = end, 0
    while True:
        if is_workday(d):
            seen += 1
        if seen >= n_workdays and (end - d).days >= 6:
            return d
        if (end - d).days > 60:  # no working days at all: a calendar week
            return end - timedelta(days=6)
        d -= timedelta(days=1)
