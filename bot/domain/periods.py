"""Reading the period of ``/fines [period] [department]``: a span of local days.

Accepted forms (case-insensitive; surrounding spaces, full-width digits and punctuation
such as ``２０２６／１１`` are tolerated; spaces may appear between the parts):

* nothing at all, ``today`` / ``今天`` / ``今日`` -- today (key ``today``)
* ``yesterday`` / ``昨天`` / ``昨日`` -- yesterday (key ``2026-11-26..2026-11-26``)
* ``week`` / ``本週`` / ``本周`` -- this week, Monday 00:00 to next Monday 00:00 (key ``week``)
* ``month`` / ``本月`` -- this month, the 1st 00:00 to the next 1st (key ``month``)
* ``lastmonth`` / ``last month`` / ``上月`` / ``上個月`` / ``上个月`` -- the month before this one
  (key ``2026-10``)
* ``2026-11``, ``2026/11``, ``2026.11``, ``2026年11月`` -- that month (key ``2026-11``)
* ``2026-11-01..2026-11-15`` -- the days from the first to the second date, both included;
  each date written ``2026-11-01``, ``2026/11/1``, ``2026.11.01`` or ``2026年11月1日`` (the
  trailing 日/號/号 is optional), the two joined by ``..``, ``~``, ``～``, ``〜``, ``–``, ``—``,
  ``至`` or ``到`` (key ``2026-11-01..2026-11-15``, zero-padded)
* ``2026-11-01`` (one date in any of those forms) -- that one day (key ``2026-11-01..2026-11-01``)

Decisions:

* Days, weeks and months are those of the desk's time zone: boundaries are midnights of
  the local wall clock, returned as aware UTC datetimes (``start`` inclusive, ``end``
  exclusive). Where a midnight does not exist (a daylight-saving jump at 00:00), the day
  starts at the transition; an ambiguous midnight is its first occurrence.
* Keys are canonical, so the same request always gives the same key: the relative words
  ``today``, ``week`` and ``month`` stay relative (a report titled "this month"); every
  other form becomes absolute (``上月`` typed in November is ``2026-10``, ``昨天`` is a
  one-day range).
* A year is always four digits, month and day one or two. Periods in the future are not
  refused: an empty report says so plainly.
* Chinese numerals (十一月) and ranges without years (11-01..11-15) are not read.

Refusals raise :class:`PeriodError` with a reason code: ``"unknown"`` (not a period at
all), ``"order"`` (a range whose end is before its start), ``"invalid_date"`` (a date or
month that does not exist: 2026-02-30, 2026-13, or outside the years datetime can hold).
The caller passes ``now``; this module never reads the clock.

The dates, months and the words for today and yesterday are read by
:mod:`bot.domain.datetext`, the grammar shared with the shipping date
(:mod:`bot.domain.dates`), without its options (so: four-digit years, no YYYYMMDD, no
dates without a year, no 前天, no trailing stop dropped). This module adds the week and
month words, the ranges, and the calendar.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from .datetext import WrittenDate, normalise, read_date, read_month, read_relative_day

__all__ = ["Period", "PeriodError", "is_period", "parse_period", "split_fines_args"]

# Between the two dates of a range. "." also separates a date's parts, so every place a
# separator occurs is tried (2026.11.01..2026.11.15 splits at the "..").
_SEPARATOR_RE = re.compile(r"\.\.|~|〜|–|—|至|到")
_SPACES = re.compile(r"\s+")
# The most words /fines takes: "2026 年 11 月 1 日 至 2026 年 11 月 15 日" and a department.
MAX_ARGS = 16

# Today and yesterday are datetext's relative words; these are the period's own.
_DAYS_BACK = {0: "today", 1: "yesterday"}
_WORDS: dict[str, str] = {
    "": "today",
    "week": "week",
    "thisweek": "week",
    "本週": "week",
    "本周": "week",
    "month": "month",
    "thismonth": "month",
    "本月": "month",
    "lastmonth": "lastmonth",
    "上月": "lastmonth",
    "上個月": "lastmonth",
    "上个月": "lastmonth",
}

Reason = Literal["unknown", "order", "invalid_date"]


class PeriodError(ValueError):
    """Why a typed period was refused: ``reason`` is a code, ``text`` what was typed."""

    REASONS = frozenset({"unknown", "order", "invalid_date"})

    def __init__(self, reason: Reason, text: str = "") -> None:
        if reason not in self.REASONS:
            raise ValueError(f"unknown PeriodError reason {reason!r}")
        super().__init__(reason, text)
        self.reason: Reason = reason
        self.text = text


@dataclass(frozen=True)
class Period:
    """A span of time: ``start`` (inclusive) to ``end`` (exclusive), both aware UTC."""

    start: datetime
    end: datetime
    key: str  # "today" | "week" | "month" | "2026-11" | "2026-11-01..2026-11-15"

    def __contains__(self, moment: object) -> bool:
        return isinstance(moment, datetime) and self.start <= moment < self.end


# --- reading the text, without a calendar --------------------------------------------

@dataclass(frozen=True)
class _Word:
    word: str  # a value of _WORDS or _DAYS_BACK


@dataclass(frozen=True)
class _Month:
    year: int
    month: int


@dataclass(frozen=True)
class _Days:
    first: WrittenDate  # as typed: not yet checked, and always with a year
    last: WrittenDate


_Form = _Word | _Month | _Days


def _read(text: str) -> _Form | None:
    """What form ``text`` is written in, or None when it is no period at all."""
    normalised = normalise(text)
    unspaced = _SPACES.sub("", normalised)  # "last month", "今 天": words may be spaced
    days = read_relative_day(unspaced)
    word = _DAYS_BACK[days] if days is not None else _WORDS.get(unspaced)
    if word is not None:
        return _Word(word)
    month = read_month(normalised)
    if month is not None:
        return _Month(*month)
    for m in _SEPARATOR_RE.finditer(normalised):
        first = read_date(normalised[:m.start()].strip())
        last = read_date(normalised[m.end():].strip())
        if first is not None and last is not None:
            return _Days(first, last)
    day = read_date(normalised)
    return _Days(day, day) if day is not None else None


# --- placing it on the calendar ------------------------------------------------------

def _real_day(written: WrittenDate) -> date:
    """The day ``written`` names; ValueError when there is none."""
    assert written.year is not None  # read_date without yearless=True always has one
    return date(written.year, written.month, written.day)


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    """The moment ``day`` begins on the wall clock of ``zone``, as aware UTC."""
    return datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(UTC)


def _next_month(year: int, month: int) -> date:
    return date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)


def _month(year: int, month: int, zone: ZoneInfo, key: str) -> Period:
    first = date(year, month, 1)
    return Period(_midnight(first, zone), _midnight(_next_month(year, month), zone), key)


def _days(first: date, last: date, zone: ZoneInfo, key: str | None = None) -> Period:
    key = key or f"{first.isoformat()}..{last.isoformat()}"
    return Period(_midnight(first, zone), _midnight(last + timedelta(days=1), zone), key)


def _place(form: _Form, today: date, zone: ZoneInfo, text: str) -> Period:
    if isinstance(form, _Word):
        if form.word == "today":
            return _days(today, today, zone, "today")
        if form.word == "yesterday":
            yesterday = today - timedelta(days=1)
            return _days(yesterday, yesterday, zone)
        if form.word == "week":
            monday = today - timedelta(days=today.weekday())
            return _days(monday, monday + timedelta(days=6), zone, "week")
        if form.word == "month":
            return _month(today.year, today.month, zone, "month")
        last = date(today.year, today.month, 1) - timedelta(days=1)  # lastmonth
        return _month(last.year, last.month, zone, f"{last.year:04d}-{last.month:02d}")
    if isinstance(form, _Month):
        try:
            date(form.year, form.month, 1)
        except ValueError:
            raise PeriodError("invalid_date", text) from None
        return _month(form.year, form.month, zone, f"{form.year:04d}-{form.month:02d}")
    try:
        first, last = _real_day(form.first), _real_day(form.last)
    except ValueError:
        raise PeriodError("invalid_date", text) from None
    if last < first:
        raise PeriodError("order", text)
    return _days(first, last, zone)


def parse_period(text: str, now: datetime, zone: ZoneInfo) -> Period:
    """The period ``text`` names, seen from ``now`` (aware) in the wall time of ``zone``.

    Raises :class:`PeriodError` and nothing else for any ``text``.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise TypeError("now must be an aware datetime")
    form = _read(text)
    if form is None:
        raise PeriodError("unknown", text)
    try:
        today = now.astimezone(zone).date()
        return _place(form, today, zone, text)
    except PeriodError:
        raise
    except (ValueError, OverflowError):  # a boundary beyond year 1 or 9999
        raise PeriodError("invalid_date", text) from None


def is_period(text: str) -> bool:
    """Whether ``text`` is written as a period (which may still name no real date)."""
    return _read(text) is not None and normalise(text) != ""


def split_fines_args(args: list[str]) -> tuple[str, str | None]:
    """``/fines`` arguments → (period text, department word or None).

    Arguments may come in either order. The period is the run of arguments that reads
    as a period (a range may arrive as three words: ``2026-11-01 .. 2026-11-15``), or ""
    (today) when none does; whatever is left must be one word, the department's name or
    key. Two periods, or more than one other word, raise ``PeriodError("unknown")``.
    A period that names no real date (2026-02-30) is still taken as the period, so that
    ``parse_period`` refuses it with ``"invalid_date"``.
    """
    words = [w.strip() for w in args if w.strip()]
    text = " ".join(words)
    if len(words) > MAX_ARGS:  # also keeps the search below small
        raise PeriodError("unknown", text)
    choices: set[tuple[str, str | None]] = set()
    longest = 0
    for i in range(len(words)):
        for j in range(i + 1, len(words) + 1):
            rest = words[:i] + words[j:]
            if len(rest) > 1 or not is_period(" ".join(words[i:j])):
                continue
            if rest and is_period(rest[0]):
                continue
            if j - i > longest:
                choices, longest = set(), j - i
            if j - i == longest:
                choices.add((" ".join(words[i:j]), rest[0] if rest else None))
    if len(choices) == 1:
        return choices.pop()
    if choices or len(words) > 1:
        raise PeriodError("unknown", text)
    return "", words[0] if words else None
