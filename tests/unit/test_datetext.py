"""The shared date grammar (bot.domain.datetext), and that both its parsers read alike."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.dates import earliest_ship_date, parse_ship_date
from bot.domain.datetext import WrittenDate, normalise, read_date, read_month, read_relative_day
from bot.domain.periods import parse_period

SHANGHAI = ZoneInfo("Asia/Shanghai")
TODAY = date(2026, 11, 25)
NOW = datetime(2026, 11, 25, 10, 0, tzinfo=SHANGHAI)  # TODAY in the desk's zone
ALL_OPTIONS = {"short_years": True, "compact": True, "yearless": True}


# --- normalise -----------------------------------------------------------------------

@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("２０２６／１１／２０", "2026/11/20"),
        ("２０２６－１１－２０", "2026-11-20"),
        ("２０２６年１１月２０日", "2026年11月20日"),
        ("\u3000 2026-11-20 \n", "2026-11-20"),
        ("ToDay", "today"),
        ("2026-11-20。", "2026-11-20。"),  # stops stay unless asked
        ("", ""),
    ],
)
def test_normalise(text: str, expected: str) -> None:
    assert normalise(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-20。", "2026-11-20"),
        ("11月20日.", "11月20日"),
        ("今天！", "今天"),  # full-width ! is ! after NFKC
        ("2026-11-20 . ", "2026-11-20"),
        ("2026-11-20..", "2026-11-20."),  # one stop only
        ("2026-11-20", "2026-11-20"),
    ],
)
def test_normalise_drops_one_final_stop_when_asked(text: str, expected: str) -> None:
    assert normalise(text, drop_final_stop=True) == expected


# --- read_date -----------------------------------------------------------------------

@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-01", WrittenDate(2026, 11, 1)),
        ("2026/11/1", WrittenDate(2026, 11, 1)),
        ("2026.11.01", WrittenDate(2026, 11, 1)),
        ("2026 - 11 - 01", WrittenDate(2026, 11, 1)),
        ("2026年11月1日", WrittenDate(2026, 11, 1)),
        ("2026年11月1號", WrittenDate(2026, 11, 1)),
        ("2026年11月1号", WrittenDate(2026, 11, 1)),
        ("2026年11月1", WrittenDate(2026, 11, 1)),
        ("2026 年 11 月 01 日", WrittenDate(2026, 11, 1)),
        # numbers come back unchecked: refusing them is the parser's business
        ("2026-02-30", WrittenDate(2026, 2, 30)),
        ("0000-13-00", WrittenDate(0, 13, 0)),
    ],
)
def test_read_date_without_options(text: str, expected: WrittenDate) -> None:
    assert read_date(text) == expected
    assert read_date(text, **ALL_OPTIONS) == expected  # options only add forms


@pytest.mark.parametrize(
    ("text", "option", "expected"),
    [
        ("26/11/1", "short_years", WrittenDate(2026, 11, 1)),
        ("00-1-1", "short_years", WrittenDate(2000, 1, 1)),
        ("26年11月1日", "short_years", WrittenDate(2026, 11, 1)),
        ("20261101", "compact", WrittenDate(2026, 11, 1)),
        ("20261399", "compact", WrittenDate(2026, 13, 99)),
        ("11月1日", "yearless", WrittenDate(None, 11, 1)),
        ("11月1", "yearless", WrittenDate(None, 11, 1)),
        ("11/1", "yearless", WrittenDate(None, 11, 1)),
        ("11-1", "yearless", WrittenDate(None, 11, 1)),
        ("11.01", "yearless", WrittenDate(None, 11, 1)),
    ],
)
def test_each_option_adds_its_own_forms(text: str, option: str, expected: WrittenDate) -> None:
    assert read_date(text) is None
    assert read_date(text, **{option: True}) == expected
    assert read_date(text, **ALL_OPTIONS) == expected
    others = {name: True for name in ALL_OPTIONS if name != option}
    assert read_date(text, **others) is None  # and no other option does


@pytest.mark.parametrize(
    "text",
    [
        "",
        "2026",
        "2026-11",  # a month is no date
        "2026年11月",
        "11月",
        "20/11/2026",  # day first is never guessed
        "2026-11/20",  # mixed separators
        "2026--11--20",
        "123/11/20",
        "2026-11-200",
        "202611201",
        "十一月二十日",
        "٢٠٢٦-١١-٢٠",  # Arabic-Indic digits
        "2026-11-20 10:00",
        "2026-11-20..2026-11-21",  # ranges are the period parser's
        "today",
    ],
)
def test_read_date_refuses_what_is_no_date(text: str) -> None:
    assert read_date(text) is None
    assert read_date(text, **ALL_OPTIONS) is None


DATE_ALPHABET = st.sampled_from([*"0123456789-/.年月日號号 x", "2026", "11", "26"])


@given(st.lists(DATE_ALPHABET, max_size=14).map("".join))
def test_options_never_change_a_date_read_without_them(text: str) -> None:
    plain = read_date(text)
    if plain is not None:
        assert read_date(text, **ALL_OPTIONS) == plain
        assert plain.year is not None and plain.year >= 1000  # four digits typed


# --- read_month and read_relative_day ------------------------------------------------

@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11", (2026, 11)),
        ("2026/3", (2026, 3)),
        ("2026.11", (2026, 11)),
        ("2026年11月", (2026, 11)),
        ("2026 年 03 月", (2026, 3)),
        ("2026-13", (2026, 13)),  # unchecked
        ("26-11", None),  # four-digit years only
        ("26年11月", None),
        ("11月", None),
        ("2026-11-01", None),
        ("2026年11月1日", None),
        ("2026", None),
    ],
)
def test_read_month(text: str, expected: tuple[int, int] | None) -> None:
    assert read_month(text) == expected


@pytest.mark.parametrize(
    ("text", "days"),
    [("今天", 0), ("今日", 0), ("today", 0), ("昨天", 1), ("昨日", 1), ("yesterday", 1)],
)
def test_relative_days(text: str, days: int) -> None:
    assert read_relative_day(text) == days
    assert read_relative_day(text, day_before_yesterday=True) == days


def test_day_before_yesterday_is_an_option() -> None:
    assert read_relative_day("前天") is None
    assert read_relative_day("前天", day_before_yesterday=True) == 2
    for text in ("明天", "tomorrow", "", "Today"):  # "Today": callers normalise first
        assert read_relative_day(text, day_before_yesterday=True) is None


# --- both parsers read the same written forms the same way ---------------------------

# Every way periods accepts one date, each naming 2026-01-05.
PERIOD_DATE_FORMS = [
    "2026-01-05",
    "2026-1-5",
    "2026/01/05",
    "2026/1/5",
    "2026.01.05",
    "2026.1.5",
    "2026 - 1 - 05",
    "2026年1月5日",
    "2026年01月05日",
    "2026年1月5號",
    "2026年1月5号",
    "2026年1月5",
    "2026 年 1 月 5 日",
    "２０２６／１／５",
    "２０２６－０１－０５",
    "２０２６．１．５",
    "２０２６年１月５日",
    " 2026-01-05 ",
    "\u30002026年1月5日\u3000",
    "\n2026/1/5\n",
]


@pytest.mark.parametrize("text", PERIOD_DATE_FORMS)
def test_every_period_date_form_is_the_same_shipping_date(text: str) -> None:
    day = date(2026, 1, 5)
    assert parse_period(text, NOW, SHANGHAI).key == "2026-01-05..2026-01-05"
    assert parse_ship_date(text, TODAY) == day
    assert read_date(normalise(text)) == WrittenDate(2026, 1, 5)


@pytest.mark.parametrize(("text", "day"), [("今天", TODAY), ("today", TODAY), ("今日", TODAY),
                                           ("昨天", TODAY - timedelta(days=1)),
                                           ("yesterday", TODAY - timedelta(days=1)),
                                           ("昨日", TODAY - timedelta(days=1))])
def test_relative_words_are_the_same_day_for_both(text: str, day: date) -> None:
    period = parse_period(text, NOW, SHANGHAI)
    assert period.start.astimezone(SHANGHAI).date() == day
    assert period.end - period.start == timedelta(days=1)
    assert parse_ship_date(text, TODAY) == day


FULL_WIDTH = str.maketrans("0123456789-/.", "０１２３４５６７８９－／．")

WRITERS: list[Callable[[date], str]] = [
    lambda d: f"{d.year:04d}-{d.month:02d}-{d.day:02d}",
    lambda d: f"{d.year}/{d.month}/{d.day}",
    lambda d: f"{d.year}.{d.month:02d}.{d.day}",
    lambda d: f"{d.year} / {d.month} / {d.day:02d}",
    lambda d: f"{d.year}年{d.month}月{d.day}日",
    lambda d: f"{d.year}年{d.month:02d}月{d.day:02d}號",
    lambda d: f"{d.year} 年 {d.month} 月 {d.day}",
    lambda d: f"{d.year}-{d.month}-{d.day}".translate(FULL_WIDTH),
]


@given(st.dates(min_value=earliest_ship_date(TODAY), max_value=TODAY),
       st.sampled_from(WRITERS))
def test_both_parsers_read_any_recent_day_alike(day: date, write: Callable[[date], str]) -> None:
    text = write(day)
    assert parse_ship_date(text, TODAY) == day
    assert parse_period(text, NOW, SHANGHAI).key == f"{day.isoformat()}..{day.isoformat()}"
