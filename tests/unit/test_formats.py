"""Dates, times and amounts through Babel (bot/formats.py), as the layouts use them."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from bot.config import LANGUAGES
from bot.formats import Money, filters
from bot.texts import BABEL_LOCALES, Texts

MOMENTS = [datetime(2026, 1, 5, 0, 7), datetime(2026, 11, 20, 9, 5, tzinfo=timezone(timedelta(hours=8))),
           datetime(2026, 12, 31, 23, 59, tzinfo=ZoneInfo("Asia/Shanghai"))]


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("moment", MOMENTS)
def test_times_keep_the_rule_books_patterns_in_the_moments_own_zone(language: str,
                                                                    moment: datetime) -> None:
    f = filters(BABEL_LOCALES[language])
    assert f["short_time"](moment) == moment.strftime("%m-%d %H:%M")
    assert f["full_time"](moment) == moment.strftime("%Y-%m-%d %H:%M")
    assert f["clock"](moment) == moment.strftime("%H:%M")
    assert f["day"](moment.date()) == moment.strftime("%Y-%m-%d")
    assert f["short_day"](date(2026, 3, 9)) == "03-09"


@pytest.mark.parametrize("language", LANGUAGES)
def test_money_has_two_decimals_grouping_and_the_currency(language: str) -> None:
    f = filters(BABEL_LOCALES[language])
    assert f["money"](Money(123450, "CNY")) == "1,234.50 CNY"
    assert f["money"](Money(5000, "CNY")) == "50.00 CNY"
    assert f["money"](1234.5) == "1,234.50"
    assert str(Money(100000000, "CNY")) == "1,000,000.00 CNY"


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_fine_notice_shows_the_amount(language: str) -> None:
    text = Texts(language).html(language, "fines.changed", fine_id=17, status="paid",
                                money=Money(105000, "CNY"))
    assert "1,050.00 CNY" in text
