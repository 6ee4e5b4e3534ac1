"""parse_ship_date: every accepted form, every refusal, and the calendar edges."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.dates import MAX_YEARS_BACK, DateError, earliest_ship_date, parse_ship_date

TODAY = date(2026, 11, 25)
EARLIEST = date(2021, 11, 25)  # MAX_YEARS_BACK years before TODAY


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # year first, one separator
        ("2026-11-20", date(2026, 11, 20)),
        ("2026/11/20", date(2026, 11, 20)),
        ("2026.11.20", date(2026, 11, 20)),
        ("2026-1-5", date(2026, 1, 5)),
        ("2026/01/05", date(2026, 1, 5)),
        ("2026 - 11 - 20", date(2026, 11, 20)),
        ("20261120", date(2026, 11, 20)),
        # two-digit year = 20YY
        ("26/11/20", date(2026, 11, 20)),
        ("26-1-5", date(2026, 1, 5)),
        ("25.1.5", date(2025, 1, 5)),
        # Chinese
        ("2026年11月20日", date(2026, 11, 20)),
        ("2026年11月20號", date(2026, 11, 20)),
        ("2026年11月20号", date(2026, 11, 20)),
        ("2026年11月20", date(2026, 11, 20)),
        ("2026 年 11 月 20 日", date(2026, 11, 20)),
        ("26年11月20日", date(2026, 11, 20)),
        ("2026年01月05日", date(2026, 1, 5)),
        # no year: this year when not after today
        ("11月20日", date(2026, 11, 20)),
        ("11月20", date(2026, 11, 20)),
        ("11月20號", date(2026, 11, 20)),
        ("11/20", date(2026, 11, 20)),
        ("11-20", date(2026, 11, 20)),
        ("11.20", date(2026, 11, 20)),
        ("1/5", date(2026, 1, 5)),
        ("01/05", date(2026, 1, 5)),
        ("11月25日", TODAY),
        # no year: last year when this year's would be in the future
        ("11月26日", date(2025, 11, 26)),
        ("12/31", date(2025, 12, 31)),
        # relative words
        ("今天", TODAY),
        ("今日", TODAY),
        ("today", TODAY),
        ("Today", TODAY),
        ("昨天", date(2026, 11, 24)),
        ("昨日", date(2026, 11, 24)),
        ("yesterday", date(2026, 11, 24)),
        ("前天", date(2026, 11, 23)),
        # full-width, spaces, trailing punctuation
        ("２０２６／１１／２０", date(2026, 11, 20)),
        ("２０２６－１１－２０", date(2026, 11, 20)),
        ("２０２６年１１月２０日", date(2026, 11, 20)),
        ("１１月２０日", date(2026, 11, 20)),
        ("  2026-11-20  ", date(2026, 11, 20)),
        ("\u30002026年11月20日\u3000", date(2026, 11, 20)),
        ("\n今天\n", TODAY),
        ("2026-11-20。", date(2026, 11, 20)),
        ("11月20日.", date(2026, 11, 20)),
    ],
)
def test_accepted_forms(text: str, expected: date) -> None:
    assert parse_ship_date(text, TODAY) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "abc",
        "下週",
        "十一月二十日",
        "2026-11",
        "2026年11月",
        "11月",
        "20/11/2026",  # day first is not guessed
        "2026-11/20",  # mixed separators
        "2026--11--20",
        "11/20/26/1",
        "2026-11-20 10:00",
        "123/11/20",
        "2026-11-200",
        "明天見",
        "٢٠٢٦-١١-٢٠",  # Arabic-Indic digits are not ours to read
        "2026-11-20 2026-11-21",
    ],
)
def test_unparseable(text: str) -> None:
    with pytest.raises(DateError) as info:
        parse_ship_date(text, TODAY)
    assert info.value.reason == "unparseable"


@pytest.mark.parametrize(
    ("text", "params"),
    [
        ("2026-02-30", {"year": 2026, "month": 2, "day": 30}),
        ("2026-13-01", {"year": 2026, "month": 13, "day": 1}),
        ("2026-00-10", {"year": 2026, "month": 0, "day": 10}),
        ("2026-04-31", {"year": 2026, "month": 4, "day": 31}),
        ("2026-01-32", {"year": 2026, "month": 1, "day": 32}),
        ("2026-01-00", {"year": 2026, "month": 1, "day": 0}),
        ("2026-02-29", {"year": 2026, "month": 2, "day": 29}),  # 2026 is no leap year
        ("2100/02/29", {"year": 2100, "month": 2, "day": 29}),  # centuries are not, either
        ("13月1日", {"year": None, "month": 13, "day": 1}),
        ("2月30日", {"year": None, "month": 2, "day": 30}),
        ("13/1", {"year": None, "month": 13, "day": 1}),
        ("0000-01-01", {"year": 0, "month": 1, "day": 1}),
        ("11/20/26", {"year": 2011, "month": 20, "day": 26}),  # read year first
        ("20261320", {"year": 2026, "month": 13, "day": 20}),
    ],
)
def test_invalid(text: str, params: dict[str, object]) -> None:
    with pytest.raises(DateError) as info:
        parse_ship_date(text, TODAY)
    assert info.value.reason == "invalid"
    assert info.value.params == params


@pytest.mark.parametrize(
    ("text", "today", "parsed"),
    [
        ("2026-11-26", TODAY, date(2026, 11, 26)),  # tomorrow
        ("2027-01-01", TODAY, date(2027, 1, 1)),
        ("27/1/1", TODAY, date(2027, 1, 1)),
        ("2027年1月1日", TODAY, date(2027, 1, 1)),
        ("2099-12-31", TODAY, date(2099, 12, 31)),
        ("2027-01-06", date(2027, 1, 5), date(2027, 1, 6)),
    ],
)
def test_future(text: str, today: date, parsed: date) -> None:
    with pytest.raises(DateError) as info:
        parse_ship_date(text, today)
    assert info.value.reason == "future"
    assert info.value.params == {"date": parsed}


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("1899-01-01", date(1899, 1, 1)),  # the fault: a typo taken as a shipping date
        ("1900-01-01", date(1900, 1, 1)),
        ("0001-01-01", date(1, 1, 1)),
        ("1026-11-20", date(1026, 11, 20)),
        ("2016-11-20", date(2016, 11, 20)),  # one digit wrong in 2026
        ("16/11/20", date(2016, 11, 20)),
        ("2016年11月20日", date(2016, 11, 20)),
        ("20161120", date(2016, 11, 20)),
        ("００/１/１", date(2000, 1, 1)),
        ("2021-11-24", date(2021, 11, 24)),  # the day before the earliest
    ],
)
def test_too_old(text: str, parsed: date) -> None:
    with pytest.raises(DateError) as info:
        parse_ship_date(text, TODAY)
    assert info.value.reason == "too_old"
    assert info.value.params == {"date": parsed, "earliest": EARLIEST}


def test_the_earliest_day_itself_is_accepted() -> None:
    assert MAX_YEARS_BACK == 5
    assert earliest_ship_date(TODAY) == EARLIEST
    assert parse_ship_date("2021-11-25", TODAY) == EARLIEST
    assert parse_ship_date("21/11/25", TODAY) == EARLIEST
    assert parse_ship_date("2022-01-01", TODAY) == date(2022, 1, 1)  # real old shipments stay


@pytest.mark.parametrize(
    ("today", "earliest"),
    [
        (date(2028, 2, 29), date(2023, 2, 28)),  # no 29 February five years back
        (date(2032, 2, 29), date(2027, 2, 28)),
        (date(2029, 2, 28), date(2024, 2, 28)),
        (date(2026, 1, 1), date(2021, 1, 1)),
        (date(6, 3, 1), date(1, 3, 1)),
        (date(5, 12, 31), date.min),  # year 0 does not exist: no bound at all
        (date.min, date.min),
    ],
)
def test_earliest_ship_date(today: date, earliest: date) -> None:
    assert earliest_ship_date(today) == earliest


def test_earliest_ship_date_on_a_leap_day() -> None:
    today = date(2028, 2, 29)
    assert parse_ship_date("2023-02-28", today) == date(2023, 2, 28)
    with pytest.raises(DateError) as info:
        parse_ship_date("2023-02-27", today)
    assert info.value.params == {"date": date(2023, 2, 27), "earliest": date(2023, 2, 28)}


def test_a_day_that_does_not_exist_is_invalid_even_when_old() -> None:
    with pytest.raises(DateError) as info:
        parse_ship_date("1899-02-30", TODAY)
    assert info.value.reason == "invalid"


def test_dates_without_a_year_are_never_too_old() -> None:
    # they look back one year at most: 12/31 on 1 January is last year's
    assert parse_ship_date("12/31", date(2027, 1, 1)) == date(2026, 12, 31)
    assert parse_ship_date("前天", date(2027, 1, 1)) == date(2026, 12, 30)


def test_today_itself_is_not_future() -> None:
    assert parse_ship_date("2026-11-25", TODAY) == TODAY


def test_year_rollover() -> None:
    new_year = date(2027, 1, 5)
    assert parse_ship_date("11月20日", new_year) == date(2026, 11, 20)
    assert parse_ship_date("12/31", new_year) == date(2026, 12, 31)
    assert parse_ship_date("1/5", new_year) == date(2027, 1, 5)
    assert parse_ship_date("1/6", new_year) == date(2026, 1, 6)
    assert parse_ship_date("前天", date(2027, 1, 1)) == date(2026, 12, 30)
    assert parse_ship_date("昨天", date(2027, 1, 1)) == date(2026, 12, 31)


def test_leap_day() -> None:
    assert parse_ship_date("2028-02-29", date(2028, 3, 1)) == date(2028, 2, 29)
    assert parse_ship_date("2月29日", date(2028, 3, 1)) == date(2028, 2, 29)
    # a year later the most recent 29 February is the previous year's
    assert parse_ship_date("2/29", date(2029, 1, 10)) == date(2028, 2, 29)
    assert parse_ship_date("昨天", date(2028, 3, 1)) == date(2028, 2, 29)


def test_leap_day_without_year_and_no_recent_leap_year_is_invalid() -> None:
    with pytest.raises(DateError) as info:
        parse_ship_date("2月29日", TODAY)  # neither 2026 nor 2025 has one
    assert info.value.reason == "invalid"
    assert info.value.params == {"year": None, "month": 2, "day": 29}


def test_leap_day_in_the_future_is_future() -> None:
    with pytest.raises(DateError) as info:
        parse_ship_date("2028-02-29", TODAY)
    assert info.value.reason == "future"


def test_date_error_is_a_value_error_with_a_known_reason() -> None:
    err = DateError("future", date=TODAY)
    assert isinstance(err, ValueError)
    assert (err.reason, err.params) == ("future", {"date": TODAY})
    assert DateError("too_old", date=date(1899, 1, 1), earliest=EARLIEST).reason == "too_old"
    with pytest.raises(ValueError):
        DateError("nonsense")


@given(text=st.text(), today=st.dates())
def test_never_raises_anything_but_date_error(text: str, today: date) -> None:
    try:
        result = parse_ship_date(text, today)
    except DateError as err:
        assert err.reason in {"unparseable", "future", "invalid", "too_old"}
        if err.reason == "too_old":
            typed = err.params["date"]
            assert isinstance(typed, date) and typed < earliest_ship_date(today)
            assert err.params["earliest"] == earliest_ship_date(today)
    else:
        assert earliest_ship_date(today) <= result <= today


@given(day=st.dates(), today=st.dates())
def test_every_real_day_is_accepted_or_refused_for_its_age(day: date, today: date) -> None:
    try:
        result = parse_ship_date(day.isoformat(), today)
    except DateError as err:
        assert (err.reason == "future") == (day > today)
        assert (err.reason == "too_old") == (day < earliest_ship_date(today))
        assert err.params["date"] == day
    else:
        assert result == day
        assert earliest_ship_date(today) <= day <= today


@given(day=st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31)),
       today=st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31)))
def test_iso_round_trip(day: date, today: date) -> None:
    try:
        assert parse_ship_date(day.isoformat(), today) == day
    except DateError as err:
        if err.reason == "future":
            assert day > today
        else:
            assert err.reason == "too_old"
            assert day < earliest_ship_date(today)
