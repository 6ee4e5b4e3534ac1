"""Reading the 發貨日期 (shipping date) the way people type it.

Accepted forms (surrounding spaces, full-width digits/punctuation such as
``２０２６／１１／２０`` and one trailing ``.``/``。``/``!`` are tolerated; numbers may be
zero-padded or not; spaces may appear between the parts):

* ``2026-11-20``, ``2026/11/20``, ``2026.11.20`` -- year first, the same separator twice
* ``26-11-20``, ``26/11/20``, ``26.11.20`` -- a two-digit year means 20YY (see below)
* ``20261120`` -- eight digits, YYYYMMDD
* ``2026年11月20日``, ``26年11月20日`` -- the trailing 日 (or 號/号) is optional
* ``11月20日``, ``11/20``, ``11-20``, ``11.20`` -- no year (see below)
* ``今天`` / ``今日`` / ``today``, ``昨天`` / ``昨日`` / ``yesterday``, ``前天``

Decisions:

* A two-digit year is always 2000 + YY: a shipping date is recent, and this century's
  ``26/11/20`` is never read as day/month/year. Day-first forms such as ``20/11/2026``
  are refused as unparseable rather than guessed (they clash with month-first habits).
* No year given: the most recent such date that is not after ``today``, looking at
  this year and last year only -- 11月20日 typed on 2027-01-05 is 2026-11-20. A 2月29日
  with no leap year among those two is "invalid" rather than several years back.
* Chinese numerals (十一月二十日) are not read.
* Nothing shipped more than ``MAX_YEARS_BACK`` (5) years before ``today`` is taken:
  such a date is a typo (``1899-01-01``, ``2016`` for ``2026``), not a shipment a
  customer still complains about. The earliest accepted day is ``today``'s month and
  day that many years earlier (29 February falls back to the 28th), see
  :func:`earliest_ship_date`. Forms without a year never reach it (they look back one
  year at most) and neither do 今天/昨天/前天.

Refusals raise :class:`DateError` with a reason code, never a sentence:
``"unparseable"`` (not a date form at all), ``"invalid"`` (a date form naming no real
day: 2026-02-30, month 13; params ``year`` (``None`` when not typed), ``month``,
``day``), ``"future"`` (after ``today``; param ``date``, a :class:`datetime.date`),
``"too_old"`` (before :func:`earliest_ship_date`; params ``date``, the day typed, and
``earliest``, the first day accepted, both :class:`datetime.date`). A date form naming
no real day is ``"invalid"`` however old or new; the other checks apply to real days.
The caller passes ``today``; this module never reads the clock.

The written forms and the relative words are read by :mod:`bot.domain.datetext`, the
grammar shared with the ``/fines`` period (:mod:`bot.domain.periods`), with the options
for what only a shipping date takes: two-digit years, YYYYMMDD, no year, 前天 and one
trailing stop. This module decides what a date read that way means on ``today``.
"""

from __future__ import annotations

from datetime import date, timedelta

from .datetext import normalise, read_date, read_relative_day

# How far back a shipping date may lie, in calendar years before today.
MAX_YEARS_BACK = 5


class DateError(ValueError):
    """Why a typed date was refused: ``reason`` is a code, ``params`` fill its template."""

    REASONS = frozenset({"unparseable", "future", "invalid", "too_old"})

    def __init__(self, reason: str, **params: object) -> None:
        if reason not in self.REASONS:
            raise ValueError(f"unknown DateError reason {reason!r}")
        super().__init__(reason, params)
        self.reason = reason
        self.params: dict[str, object] = params


def parse_ship_date(text: str, today: date) -> date:
    """The calendar date ``text`` names, neither after ``today`` nor before
    :func:`earliest_ship_date` of ``today``."""
    normalised = normalise(text, drop_final_stop=True)
    days = read_relative_day(normalised, day_before_yesterday=True)
    if days is not None:
        return _days_before(today, days)
    written = read_date(normalised, short_years=True, compact=True, yearless=True)
    if written is None:
        raise DateError("unparseable")
    if written.year is None:
        parsed = _most_recent(written.month, written.day, today)
    else:
        parsed = _make_date(written.year, written.month, written.day)
    if parsed > today:
        raise DateError("future", date=parsed)
    earliest = earliest_ship_date(today)
    if parsed < earliest:
        raise DateError("too_old", date=parsed, earliest=earliest)
    return parsed


def earliest_ship_date(today: date) -> date:
    """The first shipping date accepted on ``today``: the same month and day
    ``MAX_YEARS_BACK`` years earlier (28 February for a 29 February), or
    ``date.min`` when that would be before year 1."""
    year = today.year - MAX_YEARS_BACK
    if year < date.min.year:
        return date.min
    try:
        return today.replace(year=year)
    except ValueError:  # 29 February, and that year has none
        return date(year, 2, 28)


def _days_before(today: date, days: int) -> date:
    try:
        return today - timedelta(days=days)
    except OverflowError:  # only for today == date.min; keeps the "DateError only" contract
        raise DateError("invalid", year=None, month=None, day=None) from None


def _make_date(year: int | None, month: int, day: int) -> date:
    try:
        return date(year if year is not None else 2000, month, day)
    except ValueError:
        raise DateError("invalid", year=year, month=month, day=day) from None


def _most_recent(month: int, day: int, today: date) -> date:
    """The latest ``month``/``day`` not after ``today``, this year or last year."""
    _make_date(None, month, day)  # 2000 is a leap year: refuses only days no year has
    for year in (today.year, today.year - 1):
        try:
            candidate = date(year, month, day)
        except ValueError:  # 29 Feb outside a leap year, or year 0
            continue
        if candidate <= today:
            return candidate
    raise DateError("invalid", year=None, month=month, day=day)
