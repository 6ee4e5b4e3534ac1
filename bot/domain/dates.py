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
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, timedelta

# How far back a shipping date may lie, in calendar years before today.
MAX_YEARS_BACK = 5

# Every regex runs on the NFKC-normalised, lower-cased, stripped text, so full-width
# digits and ／．－ are already ASCII here. [0-9] rather than \d: \d would also
# accept Arabic-Indic and other Unicode digits.
_YMD_SEP = re.compile(r"([0-9]{4}|[0-9]{2})\s*([-/.])\s*([0-9]{1,2})\s*\2\s*([0-9]{1,2})")
_YMD_COMPACT = re.compile(r"([0-9]{4})([0-9]{2})([0-9]{2})")
_YMD_CJK = re.compile(
    r"(?:([0-9]{4}|[0-9]{2})\s*年\s*)?([0-9]{1,2})\s*月\s*([0-9]{1,2})\s*[日號号]?"
)
_MD_SEP = re.compile(r"([0-9]{1,2})\s*[-/.]\s*([0-9]{1,2})")
_TRAILING_PUNCT = re.compile(r"[.。!]$")

# Words meaning "n days before today".
_RELATIVE_DAYS = {
    "今天": 0,
    "今日": 0,
    "today": 0,
    "昨天": 1,
    "昨日": 1,
    "yesterday": 1,
    "前天": 2,
}


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
    normalised = _normalise(text)
    if normalised in _RELATIVE_DAYS:
        return _days_before(today, _RELATIVE_DAYS[normalised])
    parsed = _parse_absolute(normalised, today)
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


def _normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).strip().lower()
    return _TRAILING_PUNCT.sub("", text).strip()


def _days_before(today: date, days: int) -> date:
    try:
        return today - timedelta(days=days)
    except OverflowError:  # only for today == date.min; keeps the "DateError only" contract
        raise DateError("invalid", year=None, month=None, day=None) from None


def _parse_absolute(text: str, today: date) -> date:
    for pattern in (_YMD_SEP, _YMD_COMPACT):
        m = pattern.fullmatch(text)
        if m:
            year, month, day = m.group(1), m.groups()[-2], m.groups()[-1]
            return _make_date(_full_year(year), int(month), int(day))
    m = _YMD_CJK.fullmatch(text)
    if m:
        year_text, month, day = m.groups()
        if year_text is not None:
            return _make_date(_full_year(year_text), int(month), int(day))
        return _most_recent(int(month), int(day), today)
    m = _MD_SEP.fullmatch(text)
    if m:
        return _most_recent(int(m.group(1)), int(m.group(2)), today)
    raise DateError("unparseable")


def _full_year(text: str) -> int:
    year = int(text)
    return 2000 + year if len(text) == 2 else year


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
