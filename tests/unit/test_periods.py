"""parse_period and split_fines_args: every form, the calendar edges, every refusal."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.periods import Period, PeriodError, parse_period, split_fines_args

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 27, 10, 0, tzinfo=SHANGHAI)  # a Friday


def local(year: int, month: int, day: int, zone: ZoneInfo = SHANGHAI) -> datetime:
    """Local midnight of that day, as aware UTC: what a boundary must be."""
    return datetime(year, month, day, tzinfo=zone).astimezone(UTC)


TODAY = (local(2026, 11, 27), local(2026, 11, 28), "today")
WEEK = (local(2026, 11, 23), local(2026, 11, 30), "week")
MONTH = (local(2026, 11, 1), local(2026, 12, 1), "month")
NOVEMBER = (local(2026, 11, 1), local(2026, 12, 1), "2026-11")
FIRST_HALF = (local(2026, 11, 1), local(2026, 11, 16), "2026-11-01..2026-11-15")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # today
        ("", TODAY),
        ("   ", TODAY),
        ("today", TODAY),
        ("TODAY", TODAY),
        (" Today ", TODAY),
        ("今天", TODAY),
        ("今日", TODAY),
        # yesterday: an absolute one-day range
        ("yesterday", (local(2026, 11, 26), local(2026, 11, 27), "2026-11-26..2026-11-26")),
        ("昨天", (local(2026, 11, 26), local(2026, 11, 27), "2026-11-26..2026-11-26")),
        # this week: Monday 00:00 to next Monday 00:00
        ("week", WEEK),
        ("Week", WEEK),
        ("本週", WEEK),
        ("本周", WEEK),
        # this month
        ("month", MONTH),
        ("MONTH", MONTH),
        ("本月", MONTH),
        # last month: absolute
        ("lastmonth", (local(2026, 10, 1), local(2026, 11, 1), "2026-10")),
        ("LastMonth", (local(2026, 10, 1), local(2026, 11, 1), "2026-10")),
        ("last month", (local(2026, 10, 1), local(2026, 11, 1), "2026-10")),
        ("上月", (local(2026, 10, 1), local(2026, 11, 1), "2026-10")),
        ("上個月", (local(2026, 10, 1), local(2026, 11, 1), "2026-10")),
        # a month
        ("2026-11", NOVEMBER),
        ("2026/11", NOVEMBER),
        ("2026.11", NOVEMBER),
        ("2026年11月", NOVEMBER),
        ("2026 年 11 月", NOVEMBER),
        ("２０２６／１１", NOVEMBER),  # full-width
        ("2026-3", (local(2026, 3, 1), local(2026, 4, 1), "2026-03")),
        ("2026年03月", (local(2026, 3, 1), local(2026, 4, 1), "2026-03")),
        # December rolls into the next year
        ("2026-12", (local(2026, 12, 1), local(2027, 1, 1), "2026-12")),
        # February: leap and not
        ("2028-02", (local(2028, 2, 1), local(2028, 3, 1), "2028-02")),
        ("2026-02", (local(2026, 2, 1), local(2026, 3, 1), "2026-02")),
        # a range, end date included, every separator
        ("2026-11-01..2026-11-15", FIRST_HALF),
        ("2026-11-01 .. 2026-11-15", FIRST_HALF),
        ("2026-11-01~2026-11-15", FIRST_HALF),
        ("2026-11-01～2026-11-15", FIRST_HALF),  # full-width tilde
        ("2026-11-01〜2026-11-15", FIRST_HALF),  # wave dash
        ("2026-11-01–2026-11-15", FIRST_HALF),  # en dash
        ("2026-11-01—2026-11-15", FIRST_HALF),  # em dash
        ("2026-11-01至2026-11-15", FIRST_HALF),
        ("2026-11-01 到 2026-11-15", FIRST_HALF),
        # date forms, mixable
        ("2026/11/01..2026/11/15", FIRST_HALF),
        ("2026/11/1..2026/11/15", FIRST_HALF),
        ("2026.11.01..2026.11.15", FIRST_HALF),
        ("2026年11月1日至2026年11月15日", FIRST_HALF),
        ("2026年11月1日..2026年11月15號", FIRST_HALF),
        ("2026年11月1..2026-11-15", FIRST_HALF),
        ("２０２６－１１－０１～２０２６－１１－１５", FIRST_HALF),
        # ranges at the calendar's edges
        ("2026-11-01..2026-11-30", (local(2026, 11, 1), local(2026, 12, 1), "2026-11-01..2026-11-30")),
        ("2026-12-01..2026-12-31", (local(2026, 12, 1), local(2027, 1, 1), "2026-12-01..2026-12-31")),
        ("2028-02-01..2028-02-29", (local(2028, 2, 1), local(2028, 3, 1), "2028-02-01..2028-02-29")),
        ("2026-12-30..2027-01-02", (local(2026, 12, 30), local(2027, 1, 3), "2026-12-30..2027-01-02")),
        ("2026-11-27..2026-11-27", (local(2026, 11, 27), local(2026, 11, 28), "2026-11-27..2026-11-27")),
        # one date: that day
        ("2026-11-20", (local(2026, 11, 20), local(2026, 11, 21), "2026-11-20..2026-11-20")),
        ("2026年11月20日", (local(2026, 11, 20), local(2026, 11, 21), "2026-11-20..2026-11-20")),
        # the future is a period like any other
        ("2027-01", (local(2027, 1, 1), local(2027, 2, 1), "2027-01")),
    ],
)
def test_accepted(text: str, expected: tuple[datetime, datetime, str]) -> None:
    period = parse_period(text, NOW, SHANGHAI)
    assert (period.start, period.end, period.key) == expected
    assert period.start.tzinfo is UTC and period.end.tzinfo is UTC


def test_boundaries_are_local_midnights_in_utc() -> None:
    period = parse_period("2026-11", NOW, SHANGHAI)
    assert period.start == datetime(2026, 10, 31, 16, 0, tzinfo=UTC)
    assert period.end == datetime(2026, 11, 30, 16, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("now", "start", "end"),
    [
        (datetime(2026, 11, 23, 0, 0, tzinfo=SHANGHAI), (2026, 11, 23), (2026, 11, 30)),  # Monday 00:00
        (datetime(2026, 11, 29, 23, 59, tzinfo=SHANGHAI), (2026, 11, 23), (2026, 11, 30)),  # Sunday night
        (datetime(2026, 11, 30, 0, 0, tzinfo=SHANGHAI), (2026, 11, 30), (2026, 12, 7)),  # next Monday
        (datetime(2026, 12, 31, 12, 0, tzinfo=SHANGHAI), (2026, 12, 28), (2027, 1, 4)),  # across New Year
    ],
)
def test_week_runs_monday_to_monday(now: datetime, start: tuple[int, int, int],
                                    end: tuple[int, int, int]) -> None:
    period = parse_period("week", now, SHANGHAI)
    assert (period.start, period.end) == (local(*start), local(*end))
    assert period.start.astimezone(SHANGHAI).weekday() == 0


def test_now_is_read_in_the_desk_zone() -> None:
    """23:30 UTC on the 26th is already the 27th in Shanghai."""
    now = datetime(2026, 11, 26, 23, 30, tzinfo=UTC)
    assert parse_period("today", now, SHANGHAI).start == local(2026, 11, 27)
    assert parse_period("today", now, ZoneInfo("UTC")).start == datetime(2026, 11, 26, tzinfo=UTC)


@pytest.mark.parametrize(
    ("now", "text", "start", "end"),
    [
        (datetime(2026, 12, 15, 9, 0, tzinfo=SHANGHAI), "month", (2026, 12, 1), (2027, 1, 1)),
        (datetime(2027, 1, 5, 9, 0, tzinfo=SHANGHAI), "lastmonth", (2026, 12, 1), (2027, 1, 1)),
        (datetime(2028, 2, 29, 9, 0, tzinfo=SHANGHAI), "month", (2028, 2, 1), (2028, 3, 1)),
        (datetime(2028, 3, 1, 0, 0, tzinfo=SHANGHAI), "上月", (2028, 2, 1), (2028, 3, 1)),
        (datetime(2028, 3, 1, 0, 0, tzinfo=SHANGHAI), "yesterday", (2028, 2, 29), (2028, 3, 1)),
        (datetime(2027, 1, 1, 0, 30, tzinfo=SHANGHAI), "昨天", (2026, 12, 31), (2027, 1, 1)),
    ],
)
def test_relative_words_at_month_and_year_ends(now: datetime, text: str, start: tuple[int, int, int],
                                               end: tuple[int, int, int]) -> None:
    period = parse_period(text, now, SHANGHAI)
    assert (period.start, period.end) == (local(*start), local(*end))


def test_lastmonth_key_is_the_month() -> None:
    assert parse_period("上月", datetime(2027, 1, 5, tzinfo=SHANGHAI), SHANGHAI).key == "2026-12"


def test_daylight_saving_week_is_local_midnight_to_local_midnight() -> None:
    berlin = ZoneInfo("Europe/Berlin")  # clocks go back on Sunday 2026-10-25
    period = parse_period("week", datetime(2026, 10, 21, 12, 0, tzinfo=berlin), berlin)
    assert period.start == datetime(2026, 10, 18, 22, 0, tzinfo=UTC)  # 00:00 CEST
    assert period.end == datetime(2026, 10, 25, 23, 0, tzinfo=UTC)  # 00:00 CET
    assert period.end - period.start == timedelta(days=7, hours=1)


def test_day_whose_midnight_does_not_exist_starts_at_the_jump() -> None:
    santiago = ZoneInfo("America/Santiago")  # clocks jump from 00:00 to 01:00 on 2026-09-06
    period = parse_period("2026-09-06", datetime(2026, 9, 10, tzinfo=santiago), santiago)
    assert period.start == datetime(2026, 9, 6, 4, 0, tzinfo=UTC)  # = 01:00 -03
    assert period.start.astimezone(santiago).hour == 1
    assert period.end == datetime(2026, 9, 7, 3, 0, tzinfo=UTC)  # 00:00 -03
    assert period.end - period.start == timedelta(hours=23)


def test_period_contains_its_moments() -> None:
    period = parse_period("today", NOW, SHANGHAI)
    assert NOW in period
    assert period.start in period
    assert period.end not in period
    assert period.start - timedelta(microseconds=1) not in period
    assert "2026-11-27" not in period


def test_keys_read_back_to_the_same_period() -> None:
    for text in ("", "week", "本月", "上月", "2026年11月", "昨天", "2026/11/1至2026/11/15", "2026-11-20"):
        period = parse_period(text, NOW, SHANGHAI)
        assert parse_period(period.key, NOW, SHANGHAI) == period


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        # not a period
        ("garbage", "unknown"),
        ("tomorrow", "unknown"),
        ("明天", "unknown"),
        ("本年", "unknown"),
        ("2026", "unknown"),
        ("26-11", "unknown"),  # two-digit year
        ("11月", "unknown"),  # no year
        ("11-01..11-15", "unknown"),
        ("2026-11-01..", "unknown"),
        ("..2026-11-15", "unknown"),
        ("2026-11-01..2026-11-15..2026-11-20", "unknown"),
        ("2026-11-01 2026-11-15", "unknown"),
        ("2026-11-01-2026-11-15", "unknown"),
        ("2026-11..2026-12", "unknown"),  # months are not range ends
        ("2026-11/01", "unknown"),  # mixed separators within a date
        ("٢٠٢٦-١١", "unknown"),  # Arabic-Indic digits
        ("week month", "unknown"),
        ("today\x00", "unknown"),
        # reversed
        ("2026-11-15..2026-11-01", "order"),
        ("2027-01-01至2026-12-31", "order"),
        # no such day or month
        ("2026-02-29", "invalid_date"),
        ("2026-02-01..2026-02-29", "invalid_date"),
        ("2026-11-31", "invalid_date"),
        ("2026-04-31..2026-05-01", "invalid_date"),
        ("2026-13", "invalid_date"),
        ("2026-00", "invalid_date"),
        ("2026年13月", "invalid_date"),
        ("2026-11-00", "invalid_date"),
        ("0000-01", "invalid_date"),
        ("9999-12", "invalid_date"),  # its end is beyond datetime
        ("9999-12-31..9999-12-31", "invalid_date"),
        ("0001-01-01", "invalid_date"),  # its start is before year 1 in UTC
        ("2026-02-30..2026-01-01", "invalid_date"),  # an impossible date wins over the order
    ],
)
def test_refused(text: str, reason: str) -> None:
    with pytest.raises(PeriodError) as caught:
        parse_period(text, NOW, SHANGHAI)
    assert caught.value.reason == reason
    assert caught.value.text == text
    assert isinstance(caught.value, ValueError)


def test_naive_now_is_a_programming_error() -> None:
    with pytest.raises(TypeError):
        parse_period("today", datetime(2026, 11, 27, 10, 0), SHANGHAI)


def test_unknown_reason_code_is_refused() -> None:
    with pytest.raises(ValueError, match="reason"):
        PeriodError("nonsense")  # type: ignore[arg-type]


def test_relative_word_at_the_end_of_time_is_refused_not_crashed() -> None:
    now = datetime(9999, 12, 31, 12, 0, tzinfo=UTC)
    with pytest.raises(PeriodError) as caught:
        parse_period("month", now, SHANGHAI)
    assert caught.value.reason == "invalid_date"


PERIOD_ALPHABET = st.sampled_from(
    [*"0123456789０１２-/.~～〜–—至到年月日號 ", "..", "today", "week", "本月", "上月", "昨天"])


@given(st.text())
def test_any_text_gives_a_period_or_a_period_error(text: str) -> None:
    try:
        period = parse_period(text, NOW, SHANGHAI)
    except PeriodError as e:
        assert e.reason in PeriodError.REASONS
    else:
        assert isinstance(period, Period) and period.start < period.end


@given(st.lists(PERIOD_ALPHABET, max_size=25).map("".join),
       st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30),
                    timezones=st.sampled_from([UTC, SHANGHAI, ZoneInfo("America/Santiago")])))
def test_period_like_text_at_any_moment_gives_a_period_or_a_period_error(text: str, now: datetime) -> None:
    try:
        period = parse_period(text, now, SHANGHAI)
    except PeriodError as e:
        assert e.reason in PeriodError.REASONS
    else:
        assert period.start < period.end
        assert parse_period(period.key, now, SHANGHAI) == period


FIXED_PLUS_8 = ZoneInfo("Etc/GMT-8")  # +08:00 for all time (Shanghai had DST once)


@given(st.dates(), st.dates())
def test_any_two_dates_make_a_range_or_refuse_the_order(first: date, last: date) -> None:
    text = f"{first}..{last}"
    try:
        period = parse_period(text, NOW, FIXED_PLUS_8)
    except PeriodError as e:
        assert e.reason in ("order", "invalid_date")
    else:
        assert period.key == text
        assert period.end - period.start == last - first + timedelta(days=1)


# --- split_fines_args ----------------------------------------------------------------

@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ([], ("", None)),
        (["  "], ("", None)),
        (["本月"], ("本月", None)),
        (["生產部"], ("", "生產部")),
        (["production"], ("", "production")),
        (["本月", "生產部"], ("本月", "生產部")),
        (["生產部", "本月"], ("本月", "生產部")),
        (["hr", "2026-11"], ("2026-11", "hr")),
        (["2026-11-01..2026-11-15", "hr"], ("2026-11-01..2026-11-15", "hr")),
        # a range typed with spaces arrives as several words
        (["2026-11-01", "..", "2026-11-15"], ("2026-11-01 .. 2026-11-15", None)),
        (["hr", "2026-11-01", "至", "2026-11-15"], ("2026-11-01 至 2026-11-15", "hr")),
        (["2026-11-01", "~", "2026-11-15", "生產部"], ("2026-11-01 ~ 2026-11-15", "生產部")),
        (["last", "month", "hr"], ("last month", "hr")),
        (["2026", "年", "11", "月"], ("2026 年 11 月", None)),
        # a period naming no real day is still the period, for parse_period to refuse
        (["2026-02-30", "hr"], ("2026-02-30", "hr")),
        (["2026-13"], ("2026-13", None)),
        (["hr", "2026-11-15..2026-11-01"], ("2026-11-15..2026-11-01", "hr")),
    ],
)
def test_split_fines_args(args: list[str], expected: tuple[str, str | None]) -> None:
    assert split_fines_args(args) == expected


@pytest.mark.parametrize(
    "args",
    [
        ["本月", "上月"],  # two periods
        ["2026-11-01", "2026-11-15"],  # two days, no separator
        ["生產部", "採購部"],  # two departments
        ["本月", "生產部", "採購部"],
        ["生產部", "本月", "採購部"],
        ["a", "b", "c"],
        ["2026-11-01", *["至"] * 20, "2026-11-15"],  # too many words
    ],
)
def test_split_fines_args_refuses(args: list[str]) -> None:
    with pytest.raises(PeriodError) as caught:
        split_fines_args(args)
    assert caught.value.reason == "unknown"


def test_split_then_parse() -> None:
    text, department = split_fines_args(["生產部", "2026/11/1", "到", "2026/11/15"])
    assert department == "生產部"
    assert parse_period(text, NOW, SHANGHAI).key == "2026-11-01..2026-11-15"


@given(st.lists(st.one_of(st.text(max_size=12), PERIOD_ALPHABET), max_size=5))
def test_split_fines_args_gives_a_split_or_a_period_error(args: list[str]) -> None:
    try:
        text, department = split_fines_args(args)
    except PeriodError as e:
        assert e.reason == "unknown"
    else:
        words = [w.strip() for w in args if w.strip()]
        assert department is None or department in words
        try:
            parse_period(text, NOW, SHANGHAI)
        except PeriodError as e:
            assert e.reason != "unknown", (text, department)
