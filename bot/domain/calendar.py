"""Working time: when the rule book's clocks run, and where a deadline lands.

The rule book's deadlines (accept within 5 minutes, answer within 2 hours, ...) run in
*working* time unless a rule says otherwise. :class:`WorkingCalendar` answers the four
questions the deadline code needs: is this a working day / moment, what is the next
working moment, where does ``duration`` of working time after ``start`` end, and how
much working time lies between two moments. It never reads the clock: every moment is
passed in as an aware :class:`~datetime.datetime`.

Rules
-----

Two modes (:class:`CalendarMode`):

* ``WORKING`` (default) -- only working time counts.
* ``ALWAYS`` (``"24x7"``) -- every moment counts: ``add`` is plain addition of elapsed
  time, ``working_time_between`` is plain subtraction (clamped at zero).

Working days, with ``official_holidays=True`` (default), China's official calendar:

* a make-up working day (调休, a Saturday or Sunday the State Council declares a
  working day, ``weekend_workdays`` in the ``holidays`` package) is a working day;
* otherwise a public holiday or a day off moved onto a weekday is not;
* any other day is a working day iff its weekday is in ``weekdays`` (Monday = 0).

With the default ``weekdays`` (Monday..Friday) this is exactly the package's own
``China.is_working_day`` (checked for every day of 2025-2027 in the tests). The
combination rule matters only for a custom week (say a Monday..Saturday desk): the
official data decides the days it names, the desk's week decides the rest. With
``official_holidays=False`` a day is a working day iff its weekday is in ``weekdays``.

Working hours on a working day: ``[day_start, day_end)``, minus the optional
``lunch`` break ``[lunch_start, lunch_end)``, all in the calendar's ``zone`` wall time.

* Work at exactly ``day_start`` (or at exactly the lunch end) counts.
* A deadline that lands exactly on the end of a working span *stays there*: 17:55 + 5
  minutes is 18:00 the same day, not 09:00 the next morning; 11:55 + 5 minutes with lunch
  (12:00, 13:00) is 12:00. Only a positive remainder moves on: 17:55 + 30 minutes is
  09:25 on the next working day.
* A start outside working time (before opening, after closing, at lunch, on a day off)
  counts from the next working moment. ``add(start, 0)`` is therefore the next working
  moment (``start`` itself when inside working time).
* For a positive ``duration``, ``add`` returns the *earliest* moment by which
  ``duration`` of working time has elapsed, so
  ``working_time_between(start, add(start, d)) == d`` always holds.

Time zones: moments are converted to the calendar's ``zone`` and all arithmetic is done
in local wall time, then converted back (results are UTC-aware). Working time is
measured on the wall clock, so in a zone with daylight saving time a working day is
always ``day_end - day_start`` long (transitions happen at night in practice; a jump
inside working hours would be counted as the wall clock shows it). A wall time that is
ambiguous at a fall-back transition is read as its first occurrence.

Why ``holidays`` and not ``chinesecalendar``: ``holidays`` (vacanza/holidays) is
actively maintained, models make-up working days (``weekend_workdays``) from the State
Council notices, and computes the fixed and lunar-calendar holidays for *any* year
(years after the last published notice get the statutory days without the 调休
shuffling), so a deadline in a year without published data degrades gracefully.
``chinesecalendar`` raises ``NotImplementedError`` for years it has no data for, which
would turn a calendar question into a crash at New Year. The package's data is read per
year and cached (``_china_holidays``), so a lookup is a cache hit plus a set/dict probe.

Walking is day by day, never minute by minute: ``add`` over the 9-day Spring Festival
looks at about a dozen days, and adding 2 hours inside a working day costs microseconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

__all__ = ["CalendarMode", "WorkingCalendar"]

_ONE_DAY = timedelta(days=1)
_ZERO = timedelta(0)


class CalendarMode(StrEnum):
    """Whether deadlines run in working time or around the clock."""

    WORKING = "working"
    ALWAYS = "24x7"


@lru_cache(maxsize=64)
def _china_holidays(year: int) -> holidays.HolidayBase:
    """China's official calendar for ``year`` (public holidays + make-up workdays).

    One object per year, built once. Only dates of that ``year`` are looked up in it, so
    the package never has to expand (mutate) the cached object.
    """
    return holidays.country_holidays("CN", years=year)


@dataclass(frozen=True)
class WorkingCalendar:
    """A desk's working time: zone, hours, optional lunch, week, official holidays."""

    zone: ZoneInfo
    mode: CalendarMode = CalendarMode.WORKING
    day_start: time = time(9, 0)
    day_end: time = time(18, 0)
    lunch: tuple[time, time] | None = None
    weekdays: frozenset[int] = frozenset({0, 1, 2, 3, 4})
    official_holidays: bool = True

    def __post_init__(self) -> None:
        if not isinstance(self.zone, ZoneInfo):
            raise TypeError(f"zone must be a ZoneInfo, not {type(self.zone).__name__}")
        object.__setattr__(self, "mode", CalendarMode(self.mode))
        for name in ("day_start", "day_end"):
            value = getattr(self, name)
            if value.tzinfo is not None:
                raise ValueError(f"{name} must be a naive wall-clock time")
        if not self.day_start < self.day_end:
            raise ValueError("day_start must be before day_end")
        weekdays = frozenset(self.weekdays)
        if not weekdays or not weekdays <= frozenset(range(7)):
            raise ValueError("weekdays must be a non-empty set of 0..6 (Monday = 0)")
        object.__setattr__(self, "weekdays", weekdays)
        if self.lunch is not None:
            lunch_start, lunch_end = self.lunch
            if lunch_start.tzinfo is not None or lunch_end.tzinfo is not None:
                raise ValueError("lunch must be naive wall-clock times")
            if not self.day_start < lunch_start < lunch_end < self.day_end:
                raise ValueError("lunch must be a non-empty break strictly inside the working day")

    @property
    def _spans(self) -> tuple[tuple[time, time], ...]:
        """The working spans of a working day, as (start, end) wall-clock times."""
        if self.lunch is None:
            return ((self.day_start, self.day_end),)
        lunch_start, lunch_end = self.lunch
        return ((self.day_start, lunch_start), (lunch_end, self.day_end))

    # -- days ---------------------------------------------------------------------------

    def is_working_day(self, day: date) -> bool:
        """Whether ``day`` (a calendar date in ``zone``) has working hours.

        In ``ALWAYS`` mode every day is a working day (consistent with
        ``is_working_moment``); the official calendar is consulted only in ``WORKING`` mode.
        """
        if isinstance(day, datetime):
            raise TypeError("is_working_day takes a date; a datetime's date depends on the zone")
        if self.mode is CalendarMode.ALWAYS:
            return True
        if self.official_holidays:
            official = _china_holidays(day.year)
            if day in official.weekend_workdays:
                return True
            if day in official:
                return False
        return day.weekday() in self.weekdays

    # -- moments ------------------------------------------------------------------------

    def is_working_moment(self, moment: datetime) -> bool:
        """Whether ``moment`` falls inside working time (``[start, end)`` of a span)."""
        if self.mode is CalendarMode.ALWAYS:
            _check_aware(moment)
            return True
        local = self._local(moment)
        if not self.is_working_day(local.date()):
            return False
        now = local.time()
        return any(start <= now < end for start, end in self._spans)

    def next_working_moment(self, moment: datetime) -> datetime:
        """The first working moment at or after ``moment`` (UTC-aware).

        ``moment`` itself (as UTC) when it is a working moment; otherwise the next opening
        (the next ``day_start`` or lunch end on a working day).
        """
        if self.mode is CalendarMode.ALWAYS:
            return _check_aware(moment).astimezone(UTC)
        return self._to_utc(self._next_working_local(self._local(moment)))

    def add(self, start: datetime, duration: timedelta) -> datetime:
        """The moment ``duration`` of working time after ``start`` (UTC-aware).

        ``ALWAYS`` mode: ``start + duration`` in elapsed time. ``WORKING`` mode: counting
        starts at ``start`` or, outside working time, at the next working moment; a result
        that lands exactly on the end of a span (``day_end``, lunch start) stays there.
        """
        if duration < _ZERO:
            raise ValueError("duration must not be negative")
        if self.mode is CalendarMode.ALWAYS:
            return _check_aware(start).astimezone(UTC) + duration
        local = self._local(start)
        if not duration:
            return self._to_utc(self._next_working_local(local))
        remaining = duration
        day = local.date()
        while True:
            if self.is_working_day(day):
                for span_start, span_end in self._spans:
                    end = datetime.combine(day, span_end)
                    if local >= end:
                        continue
                    begin = max(local, datetime.combine(day, span_start))
                    available = end - begin
                    if remaining <= available:
                        return self._to_utc(begin + remaining)
                    remaining -= available
            day += _ONE_DAY
            local = datetime.combine(day, time.min)

    def working_time_between(self, start: datetime, end: datetime) -> timedelta:
        """Working time in ``[start, end)``; zero when ``end <= start``."""
        if self.mode is CalendarMode.ALWAYS:
            return max(_check_aware(end).astimezone(UTC) - _check_aware(start).astimezone(UTC), _ZERO)
        # Compare as UTC: aware datetimes sharing a tzinfo compare by wall time.
        if _check_aware(end).astimezone(UTC) <= _check_aware(start).astimezone(UTC):
            return _ZERO
        local_start, local_end = self._local(start), self._local(end)
        total = _ZERO
        day = local_start.date()
        last = local_end.date()
        while day <= last:
            if self.is_working_day(day):
                for span_start, span_end in self._spans:
                    begin = max(local_start, datetime.combine(day, span_start))
                    finish = min(local_end, datetime.combine(day, span_end))
                    if finish > begin:
                        total += finish - begin
            day += _ONE_DAY
        return total

    # -- helpers ------------------------------------------------------------------------

    def _local(self, moment: datetime) -> datetime:
        """``moment`` as naive wall time in ``zone``."""
        return _check_aware(moment).astimezone(self.zone).replace(tzinfo=None)

    def _to_utc(self, local: datetime) -> datetime:
        """Naive wall time in ``zone`` -> UTC-aware moment."""
        return local.replace(tzinfo=self.zone).astimezone(UTC)

    def _next_working_local(self, local: datetime) -> datetime:
        day = local.date()
        while True:
            if self.is_working_day(day):
                for span_start, span_end in self._spans:
                    end = datetime.combine(day, span_end)
                    if local < end:
                        return max(local, datetime.combine(day, span_start))
            day += _ONE_DAY
            local = datetime.combine(day, time.min)


def _check_aware(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("moments must be timezone-aware datetimes")
    return moment
