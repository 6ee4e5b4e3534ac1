"""WorkingCalendar: working days, exact deadline boundaries, holidays, and properties.

Every moment is an explicit datetime; nothing here reads the clock.

Official 2026 data, as checked against the installed ``holidays`` package (0.109:
``holidays/countries/china.py``, ``special_public_holidays[2026]``, which cites the
State Council notice gov.cn/gongbao/2025/issue_12406/202511/content_7048922.html):

* New Year: 01-01..01-03 off (01-02 moved from Sunday 01-04, a make-up workday).
* Spring Festival: 02-15..02-23 off; Saturdays 02-14 and 02-28 are make-up workdays.
* Labour Day: 05-01..05-05 off; Saturday 05-09 a make-up workday.
* National Day + Mid-Autumn: 10-01..10-07 off (10-06/10-07 moved from Sunday 09-20 and
  Saturday 10-10, both make-up workdays). Thursday 10-08 is a working day in 2026; it was
  2025 whose National Day break ran 10-01..10-08.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.calendar import CalendarMode, WorkingCalendar, _china_holidays

SH = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")

CAL = WorkingCalendar(SH)
LUNCH_CAL = WorkingCalendar(SH, lunch=(time(12, 0), time(13, 0)))
ALWAYS = WorkingCalendar(SH, mode=CalendarMode.ALWAYS)


def at(y: int, mo: int, d: int, h: int = 0, mi: int = 0, s: int = 0, us: int = 0, tz: ZoneInfo = SH):
    return datetime(y, mo, d, h, mi, s, us, tzinfo=tz)


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)


# -- the official data ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2026, 1, 1), False),
        (date(2026, 1, 2), False),
        (date(2026, 1, 3), False),
        (date(2026, 1, 4), True),  # Sunday, make-up workday
        (date(2026, 1, 5), True),
        (date(2026, 2, 13), True),
        (date(2026, 2, 14), True),  # Saturday, make-up workday
        (date(2026, 2, 15), False),
        (date(2026, 2, 17), False),  # Spring Festival
        (date(2026, 2, 23), False),
        (date(2026, 2, 24), True),
        (date(2026, 2, 28), True),  # Saturday, make-up workday
        (date(2026, 3, 1), False),  # ordinary Sunday
        (date(2026, 3, 7), False),  # ordinary Saturday
        (date(2026, 5, 1), False),
        (date(2026, 5, 5), False),
        (date(2026, 5, 9), True),  # Saturday, make-up workday
        (date(2026, 9, 20), True),  # Sunday, make-up workday
        (date(2026, 9, 30), True),
        (date(2026, 10, 1), False),
        (date(2026, 10, 4), False),
        (date(2026, 10, 7), False),
        (date(2026, 10, 8), True),
        (date(2026, 10, 10), True),  # Saturday, make-up workday
        (date(2026, 10, 11), False),
        (date(2025, 10, 8), False),  # 2025: National Day + Mid-Autumn ran to 10-08
        (date(2025, 10, 11), True),  # Saturday, make-up workday
    ],
)
def test_official_2026_calendar(day: date, working: bool) -> None:
    assert holidays.country_holidays("CN", years=day.year).is_working_day(day) is working
    assert CAL.is_working_day(day) is working


def test_default_week_matches_package_every_day_2025_to_2027() -> None:
    day = date(2025, 1, 1)
    while day <= date(2027, 12, 31):
        official = holidays.China(years=day.year)
        assert CAL.is_working_day(day) is official.is_working_day(day), day
        day += timedelta(days=1)


def test_holidays_cached_per_year() -> None:
    assert _china_holidays(2026) is _china_holidays(2026)
    assert _china_holidays(2026) is not _china_holidays(2027)


def test_without_official_holidays_only_weekdays_count() -> None:
    cal = WorkingCalendar(SH, official_holidays=False)
    assert cal.is_working_day(date(2026, 10, 1))  # Thursday holiday ignored
    assert not cal.is_working_day(date(2026, 2, 14))  # make-up Saturday ignored
    six_days = WorkingCalendar(SH, official_holidays=False, weekdays=frozenset(range(6)))
    assert six_days.is_working_day(date(2026, 3, 7))  # Saturday
    assert not six_days.is_working_day(date(2026, 3, 8))  # Sunday


def test_custom_week_with_official_data() -> None:
    # Monday..Saturday desk: official data decides the days it names, the week the rest.
    cal = WorkingCalendar(SH, weekdays=frozenset(range(6)))
    assert cal.is_working_day(date(2026, 3, 7))  # ordinary Saturday
    assert not cal.is_working_day(date(2026, 3, 8))  # ordinary Sunday
    assert not cal.is_working_day(date(2026, 5, 2))  # Saturday, Labour Day
    assert not cal.is_working_day(date(2026, 10, 1))
    assert cal.is_working_day(date(2026, 9, 20))  # Sunday make-up workday


def test_years_outside_published_data_do_not_raise() -> None:
    for year in (1900, 1949, 2035, 2100):
        start = at(year, 6, 15, 10)
        result = CAL.add(start, timedelta(hours=30))
        assert result > start
        assert CAL.working_time_between(start, result) == timedelta(hours=30)
    # Statutory days are still computed for a year without a published notice.
    assert not CAL.is_working_day(date(2035, 10, 1))


# -- exact boundaries -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        # 5:01 before day end: inside the day
        (at(2026, 3, 10, 17, 54, 59), at(2026, 3, 10, 17, 59, 59)),
        # 5:00 before day end: lands exactly on 18:00 and stays there
        (at(2026, 3, 10, 17, 55), at(2026, 3, 10, 18, 0)),
        # 4:59 before day end: one second spills into the next morning
        (at(2026, 3, 10, 17, 55, 1), at(2026, 3, 11, 9, 0, 1)),
    ],
)
def test_five_minutes_before_day_end(start: datetime, expected: datetime) -> None:
    assert CAL.add(start, minutes(5)) == expected


@pytest.mark.parametrize(
    ("start", "step", "expected"),
    [
        (at(2026, 3, 10, 11, 54, 59), minutes(5), at(2026, 3, 10, 11, 59, 59)),
        (at(2026, 3, 10, 11, 55), minutes(5), at(2026, 3, 10, 12, 0)),  # stays at lunch start
        (at(2026, 3, 10, 11, 55, 1), minutes(5), at(2026, 3, 10, 13, 0, 1)),
        (at(2026, 3, 10, 11, 30), minutes(60), at(2026, 3, 10, 13, 30)),  # 30 + 30 around lunch
        (at(2026, 3, 10, 17, 55), minutes(5), at(2026, 3, 10, 18, 0)),  # day end still stays
        (at(2026, 3, 10, 17, 55), minutes(30), at(2026, 3, 11, 9, 25)),
    ],
)
def test_across_lunch(start: datetime, step: timedelta, expected: datetime) -> None:
    assert LUNCH_CAL.add(start, step) == expected


def test_lunch_only_matters_when_set() -> None:
    assert CAL.add(at(2026, 3, 10, 11, 55, 1), minutes(5)) == at(2026, 3, 10, 12, 0, 1)


def test_complaint_at_1755_with_30_minutes_is_due_0925_next_working_day() -> None:
    assert CAL.add(at(2026, 3, 10, 17, 55), minutes(30)) == at(2026, 3, 11, 9, 25)  # Tue -> Wed
    assert CAL.add(at(2026, 3, 13, 17, 55), minutes(30)) == at(2026, 3, 16, 9, 25)  # Fri -> Mon


def test_across_the_night() -> None:
    assert CAL.add(at(2026, 3, 10, 16, 0), timedelta(hours=3)) == at(2026, 3, 11, 10, 0)
    assert CAL.add(at(2026, 3, 10, 9, 0), timedelta(hours=9)) == at(2026, 3, 10, 18, 0)
    assert CAL.add(at(2026, 3, 10, 9, 0), timedelta(hours=18)) == at(2026, 3, 11, 18, 0)


def test_across_a_weekend() -> None:
    assert CAL.add(at(2026, 3, 13, 17, 0), timedelta(hours=2)) == at(2026, 3, 16, 10, 0)


def test_across_national_day() -> None:
    assert CAL.add(at(2026, 9, 30, 17, 0), timedelta(hours=2)) == at(2026, 10, 8, 10, 0)
    assert CAL.add(at(2025, 9, 30, 17, 0), timedelta(hours=2)) == at(2025, 10, 9, 10, 0)


def test_across_spring_festival() -> None:
    # Friday 02-13 -> make-up Saturday 02-14 -> after the break, Tuesday 02-24.
    assert CAL.add(at(2026, 2, 13, 17, 0), timedelta(hours=2)) == at(2026, 2, 14, 10, 0)
    assert CAL.add(at(2026, 2, 14, 17, 0), timedelta(hours=2)) == at(2026, 2, 24, 10, 0)


def test_across_new_year_into_a_make_up_sunday() -> None:
    assert CAL.add(at(2025, 12, 31, 17, 30), timedelta(hours=1)) == at(2026, 1, 4, 9, 30)


@pytest.mark.parametrize(
    "day", [date(2026, 1, 4), date(2026, 2, 14), date(2026, 2, 28), date(2026, 9, 20), date(2026, 10, 10)]
)
def test_make_up_weekend_day_is_a_working_day(day: date) -> None:
    assert day.weekday() in (5, 6)
    start = datetime.combine(day, time(10, 0), tzinfo=SH)
    assert CAL.is_working_moment(start)
    assert CAL.add(start, timedelta(hours=1)) == start + timedelta(hours=1)


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        (at(2026, 3, 10, 7, 0), at(2026, 3, 10, 9, 30)),  # before opening
        (at(2026, 3, 10, 0, 0), at(2026, 3, 10, 9, 30)),  # midnight
        (at(2026, 3, 10, 9, 0), at(2026, 3, 10, 9, 30)),  # exactly at opening counts
        (at(2026, 3, 10, 18, 0), at(2026, 3, 11, 9, 30)),  # exactly at closing
        (at(2026, 3, 10, 20, 0), at(2026, 3, 11, 9, 30)),  # after closing
        (at(2026, 3, 14, 10, 0), at(2026, 3, 16, 9, 30)),  # Saturday
        (at(2026, 10, 1, 10, 0), at(2026, 10, 8, 9, 30)),  # National Day
        (at(2026, 2, 17, 10, 0), at(2026, 2, 24, 9, 30)),  # Spring Festival
    ],
)
def test_start_outside_working_time_counts_from_next_opening(start: datetime, expected: datetime) -> None:
    assert CAL.add(start, minutes(30)) == expected


def test_start_during_lunch_counts_from_lunch_end() -> None:
    assert LUNCH_CAL.add(at(2026, 3, 10, 12, 30), minutes(30)) == at(2026, 3, 10, 13, 30)
    assert LUNCH_CAL.add(at(2026, 3, 10, 12, 0), minutes(30)) == at(2026, 3, 10, 13, 30)


def test_zero_duration() -> None:
    assert CAL.add(at(2026, 3, 10, 10, 17), timedelta(0)) == at(2026, 3, 10, 10, 17)
    assert CAL.add(at(2026, 3, 10, 18, 0), timedelta(0)) == at(2026, 3, 11, 9, 0)
    assert CAL.add(at(2026, 10, 1, 10, 0), timedelta(0)) == at(2026, 10, 8, 9, 0)


def test_results_are_utc_aware_and_inputs_may_be_in_any_zone() -> None:
    result = CAL.add(at(2026, 3, 10, 17, 55), minutes(30))
    assert result.tzinfo is UTC
    assert result == datetime(2026, 3, 11, 1, 25, tzinfo=UTC)
    # 09:55 UTC is 17:55 in Shanghai.
    assert CAL.add(datetime(2026, 3, 10, 9, 55, tzinfo=UTC), minutes(30)) == at(2026, 3, 11, 9, 25)
    assert CAL.next_working_moment(at(2026, 3, 10, 20)).tzinfo is UTC


# -- moments --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("moment", "working"),
    [
        (at(2026, 3, 10, 8, 59, 59, 999999), False),
        (at(2026, 3, 10, 9, 0), True),
        (at(2026, 3, 10, 17, 59, 59, 999999), True),
        (at(2026, 3, 10, 18, 0), False),
        (at(2026, 3, 10, 12, 30), True),  # no lunch in CAL
        (at(2026, 3, 14, 10, 0), False),  # Saturday
        (at(2026, 10, 1, 10, 0), False),
    ],
)
def test_is_working_moment(moment: datetime, working: bool) -> None:
    assert CAL.is_working_moment(moment) is working


def test_is_working_moment_with_lunch() -> None:
    assert LUNCH_CAL.is_working_moment(at(2026, 3, 10, 11, 59, 59))
    assert not LUNCH_CAL.is_working_moment(at(2026, 3, 10, 12, 0))
    assert not LUNCH_CAL.is_working_moment(at(2026, 3, 10, 12, 59, 59))
    assert LUNCH_CAL.is_working_moment(at(2026, 3, 10, 13, 0))


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (at(2026, 3, 10, 10, 17, 3), at(2026, 3, 10, 10, 17, 3)),
        (at(2026, 3, 10, 9, 0), at(2026, 3, 10, 9, 0)),
        (at(2026, 3, 10, 6, 0), at(2026, 3, 10, 9, 0)),
        (at(2026, 3, 10, 18, 0), at(2026, 3, 11, 9, 0)),
        (at(2026, 3, 13, 19, 0), at(2026, 3, 16, 9, 0)),
        (at(2026, 9, 30, 18, 0), at(2026, 10, 8, 9, 0)),
    ],
)
def test_next_working_moment(moment: datetime, expected: datetime) -> None:
    assert CAL.next_working_moment(moment) == expected


def test_next_working_moment_at_lunch() -> None:
    assert LUNCH_CAL.next_working_moment(at(2026, 3, 10, 12, 0)) == at(2026, 3, 10, 13, 0)


# -- working_time_between -------------------------------------------------------------


def test_working_time_between() -> None:
    assert CAL.working_time_between(at(2026, 3, 10, 17, 0), at(2026, 3, 11, 10, 0)) == timedelta(hours=2)
    assert CAL.working_time_between(at(2026, 3, 10, 10), at(2026, 3, 10, 10)) == timedelta(0)
    assert CAL.working_time_between(at(2026, 3, 11, 10), at(2026, 3, 10, 10)) == timedelta(0)
    assert CAL.working_time_between(at(2026, 3, 14, 0), at(2026, 3, 16, 0)) == timedelta(0)  # weekend
    assert CAL.working_time_between(at(2026, 9, 30, 0), at(2026, 10, 9, 0)) == timedelta(hours=18)
    assert LUNCH_CAL.working_time_between(at(2026, 3, 10, 0), at(2026, 3, 11, 0)) == timedelta(hours=8)
    # Mixed zones compare as instants: 10:00 UTC is 18:00 Shanghai.
    assert CAL.working_time_between(at(2026, 3, 10, 17), datetime(2026, 3, 10, 10, tzinfo=UTC)) == (
        timedelta(hours=1)
    )


def test_working_time_between_same_tzinfo_compares_instants() -> None:
    # Aware datetimes sharing a tzinfo compare by wall time in Python; at a fall-back
    # transition 01:30 (second occurrence, fold=1) is later than 01:45 (fold=0).
    cal = WorkingCalendar(NEW_YORK, official_holidays=False, mode=CalendarMode.ALWAYS)
    earlier = datetime(2026, 11, 1, 1, 45, tzinfo=NEW_YORK)
    later = datetime(2026, 11, 1, 1, 30, tzinfo=NEW_YORK, fold=1)
    assert cal.working_time_between(earlier, later) == minutes(45)
    assert cal.working_time_between(later, earlier) == timedelta(0)


# -- ALWAYS mode ----------------------------------------------------------------------


def test_always_mode_is_plain_addition() -> None:
    start = at(2026, 10, 1, 23, 0)
    assert ALWAYS.add(start, minutes(5)) == start + minutes(5)
    assert ALWAYS.add(start, timedelta(days=3)) == start + timedelta(days=3)
    assert ALWAYS.add(start, minutes(5)).tzinfo is UTC
    assert ALWAYS.working_time_between(start, start + timedelta(hours=30)) == timedelta(hours=30)
    assert ALWAYS.working_time_between(start, start - timedelta(hours=1)) == timedelta(0)
    assert ALWAYS.is_working_moment(start)
    assert ALWAYS.is_working_day(date(2026, 10, 1))
    assert ALWAYS.next_working_moment(start) == start


def test_always_mode_adds_elapsed_time_across_dst() -> None:
    cal = WorkingCalendar(BERLIN, mode=CalendarMode("24x7"))
    start = datetime(2026, 3, 29, 1, 30, tzinfo=BERLIN)  # clocks jump 02:00 -> 03:00
    assert cal.add(start, timedelta(hours=1)).astimezone(BERLIN) == datetime(
        2026, 3, 29, 3, 30, tzinfo=BERLIN
    )


# -- DST zones in WORKING mode --------------------------------------------------------


def test_working_mode_in_a_dst_zone() -> None:
    cal = WorkingCalendar(BERLIN, official_holidays=False)
    # Friday before the spring-forward weekend -> Monday in summer time (UTC+2).
    result = cal.add(datetime(2026, 3, 27, 17, 0, tzinfo=BERLIN), timedelta(hours=2))
    assert result == datetime(2026, 3, 30, 8, 0, tzinfo=UTC)
    assert cal.working_time_between(datetime(2026, 3, 27, 17, 0, tzinfo=BERLIN), result) == timedelta(hours=2)
    ny = WorkingCalendar(NEW_YORK, official_holidays=False)
    # Friday before fall-back -> Monday in standard time (UTC-5).
    assert ny.add(datetime(2026, 10, 30, 17, 30, tzinfo=NEW_YORK), timedelta(hours=1)) == datetime(
        2026, 11, 2, 14, 30, tzinfo=UTC
    )


# -- configuration and input errors ---------------------------------------------------


def test_invalid_configuration() -> None:
    with pytest.raises(ValueError):
        WorkingCalendar(SH, day_start=time(18), day_end=time(9))
    with pytest.raises(ValueError):
        WorkingCalendar(SH, lunch=(time(13), time(12)))
    with pytest.raises(ValueError):
        WorkingCalendar(SH, lunch=(time(8), time(10)))
    with pytest.raises(ValueError):
        WorkingCalendar(SH, weekdays=frozenset())
    with pytest.raises(ValueError):
        WorkingCalendar(SH, weekdays=frozenset({7}))


def test_invalid_inputs() -> None:
    with pytest.raises(ValueError):
        CAL.add(datetime(2026, 3, 10, 10), minutes(5))  # naive
    with pytest.raises(ValueError):
        CAL.add(at(2026, 3, 10, 10), minutes(-5))
    with pytest.raises(ValueError):
        CAL.is_working_moment(datetime(2026, 3, 10, 10))
    with pytest.raises(TypeError):
        CAL.is_working_day(at(2026, 3, 10, 10))  # a datetime, not a date


def test_calendar_is_hashable_and_comparable() -> None:
    assert WorkingCalendar(SH) == CAL
    assert hash(WorkingCalendar(SH)) == hash(CAL)
    assert WorkingCalendar(SH, lunch=(time(12), time(13))) != CAL


# -- cost: day by day, never minute by minute -----------------------------------------


def test_add_steps_day_by_day_over_long_holidays(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[date] = []
    original = WorkingCalendar.is_working_day

    def counting(self: WorkingCalendar, day: date) -> bool:
        calls.append(day)
        return original(self, day)

    monkeypatch.setattr(WorkingCalendar, "is_working_day", counting)
    assert CAL.add(at(2026, 2, 14, 17, 0), timedelta(hours=2)) == at(2026, 2, 24, 10, 0)
    assert len(calls) == 11  # 02-14 .. 02-24, one look per day
    calls.clear()
    assert CAL.add(at(2026, 3, 10, 10, 0), timedelta(hours=2)) == at(2026, 3, 10, 12, 0)
    assert len(calls) == 1


# -- properties -----------------------------------------------------------------------

CALENDARS = st.sampled_from([CAL, LUNCH_CAL])
STARTS = st.datetimes(
    min_value=datetime(2025, 1, 1), max_value=datetime(2027, 12, 31, 23, 59, 59), timezones=st.just(SH)
)
# 0 .. 3 full days of working time, to the microsecond.
DURATIONS = st.integers(min_value=0, max_value=3 * 9 * 3600 * 10**6).map(
    lambda us: timedelta(microseconds=us)
)


@settings(deadline=None)
@given(cal=CALENDARS, start=STARTS, duration=DURATIONS)
def test_property_working_time_round_trips(
    cal: WorkingCalendar, start: datetime, duration: timedelta
) -> None:
    assert cal.working_time_between(start, cal.add(start, duration)) == duration


@settings(deadline=None)
@given(
    zone=st.sampled_from([SH, BERLIN, NEW_YORK]),
    lunch=st.sampled_from([None, (time(12), time(13))]),
    official=st.booleans(),
    start=st.datetimes(
        min_value=datetime(2025, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)
    ),
    duration=DURATIONS,
)
def test_property_round_trips_in_any_zone(
    zone: ZoneInfo, lunch: tuple[time, time] | None, official: bool, start: datetime, duration: timedelta
) -> None:
    cal = WorkingCalendar(zone, lunch=lunch, official_holidays=official)
    result = cal.add(start, duration)
    assert result >= start
    assert cal.working_time_between(start, result) == duration


@settings(deadline=None)
@given(cal=CALENDARS, start=STARTS, a=DURATIONS, b=DURATIONS)
def test_property_add_is_monotonic(cal: WorkingCalendar, start: datetime, a: timedelta, b: timedelta) -> None:
    short, long = sorted((a, b))
    assert start <= cal.add(start, short) <= cal.add(start, long)


@settings(deadline=None)
@given(cal=CALENDARS, start=STARTS, duration=DURATIONS)
def test_property_result_is_working_moment_or_span_end(
    cal: WorkingCalendar, start: datetime, duration: timedelta
) -> None:
    result = cal.add(start, duration)
    if cal.is_working_moment(result):
        return
    local = result.astimezone(SH)
    span_ends = {cal.day_end} | ({cal.lunch[0]} if cal.lunch else set())
    assert duration > timedelta(0)
    assert local.time().replace(tzinfo=None) in span_ends
    assert cal.is_working_day(local.date())


@settings(deadline=None)
@given(cal=CALENDARS, start=STARTS, a=DURATIONS, b=DURATIONS.filter(bool))
def test_property_add_composes(cal: WorkingCalendar, start: datetime, a: timedelta, b: timedelta) -> None:
    assert cal.add(cal.add(start, a), b) == cal.add(start, a + b)


@settings(deadline=None)
@given(cal=CALENDARS, times=st.lists(STARTS, min_size=3, max_size=3))
def test_property_working_time_is_additive(cal: WorkingCalendar, times: list[datetime]) -> None:
    a, b, c = sorted(times)
    assert cal.working_time_between(a, c) == cal.working_time_between(a, b) + cal.working_time_between(b, c)
    assert cal.working_time_between(a, c) <= c - a
