"""The one grammar of typed dates, shared by every parser that reads them.

The shipping date (:mod:`bot.domain.dates`) and the period of ``/fines``
(:mod:`bot.domain.periods`) both read dates people type. They read them here, so that a
written date means the same thing wherever it is typed; each parser only chooses which
of these forms it takes and what to make of them.

* :func:`normalise` -- NFKC (full-width ``２０２６／１１／０１`` becomes ``2026/11/01``),
  lower case, no surrounding spaces; optionally (shipping dates) one trailing
  ``.``/``。``/``!`` dropped.
* :func:`read_date` -- one written calendar date, year first:

  * ``2026-11-01``, ``2026/11/1``, ``2026.11.01`` -- the same separator twice
  * ``2026年11月1日`` -- the trailing 日 (or 號/号) is optional

  numbers zero-padded or not, spaces allowed between the parts. Options add the forms
  only shipping dates take: ``short_years`` (``26/11/1``, ``26年11月1日``: a two-digit
  year is always 20YY), ``compact`` (``20261101``, YYYYMMDD) and ``yearless``
  (``11月1日``, ``11/1``, ``11-1``, ``11.1``).
* :func:`read_month` -- one written month, ``2026-11``, ``2026/11``, ``2026.11`` or
  ``2026年11月`` (four-digit year; periods only: a month is no shipping date).
* :func:`read_relative_day` -- ``今天``/``今日``/``today`` (0 days before today),
  ``昨天``/``昨日``/``yesterday`` (1) and, as an option, ``前天`` (2).

Readers recognise forms and nothing more: numbers come back unchecked (``2026-02-30``
is year 2026, month 2, day 30) and text in no accepted form gives ``None``. Checking the
day, choosing a year for a date typed without one, refusing, and placing it on a
calendar are each parser's own decisions. Day-first dates (``20/11/2026``) and Chinese
numerals (``十一月一日``) are read by none. Nothing here reads the clock.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

__all__ = ["WrittenDate", "normalise", "read_date", "read_month", "read_relative_day"]

# Every pattern runs on normalise()d text: full-width digits and ／．－ are ASCII
# already. [0-9] rather than \d: \d would also take Arabic-Indic and other digits.
_YEAR = r"(?P<year>[0-9]{4}|[0-9]{2})"  # two digits: dates with short_years only
_MONTH = r"(?P<month>[0-9]{1,2})"
_DAY = r"(?P<day>[0-9]{1,2})"
_SEPARATOR = r"[-/.]"

# Year first, the same separator twice: "2026-11/01" is no date.
_SEPARATED = re.compile(rf"{_YEAR}\s*(?P<sep>{_SEPARATOR})\s*{_MONTH}\s*(?P=sep)\s*{_DAY}")
# The year is optional in the pattern so that the yearless option needs no second copy.
_CHINESE = re.compile(rf"(?:{_YEAR}\s*年\s*)?{_MONTH}\s*月\s*{_DAY}\s*[日號号]?")
_COMPACT = re.compile(r"(?P<year>[0-9]{4})(?P<month>[0-9]{2})(?P<day>[0-9]{2})")
_NO_YEAR = re.compile(rf"{_MONTH}\s*{_SEPARATOR}\s*{_DAY}")

_MONTH_FORMS = (
    re.compile(rf"{_YEAR}\s*{_SEPARATOR}\s*{_MONTH}"),
    re.compile(rf"{_YEAR}\s*年\s*{_MONTH}\s*月"),
)

_FINAL_STOP = re.compile(r"[.。!]$")

# Words meaning "n days before today", as normalise() leaves them.
_RELATIVE_DAYS = {
    "今天": 0,
    "今日": 0,
    "today": 0,
    "昨天": 1,
    "昨日": 1,
    "yesterday": 1,
}
_DAY_BEFORE_YESTERDAY = "前天"


@dataclass(frozen=True)
class WrittenDate:
    """A date as typed: the numbers are not checked, so it may name no real day."""

    year: int | None  # None: typed without a year (only with yearless=True)
    month: int
    day: int


def normalise(text: str, *, drop_final_stop: bool = False) -> str:
    """``text`` as the readers below expect it: NFKC, stripped, lower case; with
    ``drop_final_stop``, also without one trailing ``.``, ``。`` or ``!``."""
    text = unicodedata.normalize("NFKC", text).strip().lower()
    if drop_final_stop:
        text = _FINAL_STOP.sub("", text).strip()
    return text


def read_date(text: str, *, short_years: bool = False, compact: bool = False,
              yearless: bool = False) -> WrittenDate | None:
    """The date normalised ``text`` is written as, or None when it is in no form taken.

    Without options only four-digit years, year first, are read (what periods take);
    each option adds the forms described in the module docstring.
    """
    m = _SEPARATED.fullmatch(text) or _CHINESE.fullmatch(text)
    if m is None and compact:
        m = _COMPACT.fullmatch(text)
    if m is None and yearless:
        m = _NO_YEAR.fullmatch(text)
    if m is None:
        return None
    month, day = int(m["month"]), int(m["day"])
    year = m.groupdict().get("year")
    if year is None:
        return WrittenDate(None, month, day) if yearless else None
    if len(year) == 2:
        if not short_years:
            return None
        # Always this century's: shipping dates are recent, and 26/11/20 is never
        # read day first.
        return WrittenDate(2000 + int(year), month, day)
    return WrittenDate(int(year), month, day)


def read_month(text: str) -> tuple[int, int] | None:
    """(year, month) of the month normalised ``text`` is written as, unchecked, or None."""
    for pattern in _MONTH_FORMS:
        m = pattern.fullmatch(text)
        if m is not None:
            return (int(m["year"]), int(m["month"])) if len(m["year"]) == 4 else None
    return None


def read_relative_day(text: str, *, day_before_yesterday: bool = False) -> int | None:
    """How many days before today normalised ``text`` names (0 for 今天), or None."""
    if day_before_yesterday and text == _DAY_BEFORE_YESTERDAY:
        return 2
    return _RELATIVE_DAYS.get(text)
