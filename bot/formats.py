"""Dates, times and amounts as the messages show them, through Babel in the reader's locale.

The patterns are the ones the rule book's forms use (11-20 09:05, 2026-11-20); Babel
supplies the digits and separators of each locale. Templates use them as filters:
`{{ due | short_time }}`, `{{ amount | money }}`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import partial
from typing import Any

from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal

PATTERNS = {
    "short_time": "MM-dd HH:mm",  # a deadline, a step's time: 11-20 09:05
    "full_time": "yyyy-MM-dd HH:mm",  # a record's time: 2026-11-20 09:05
    "clock": "HH:mm",  # today's time: 09:05
}
DAY_PATTERNS = {
    "day": "yyyy-MM-dd",  # a sheet's day
    "short_day": "MM-dd",
}


def _moment(value: datetime, pattern: str, locale: str) -> str:
    # The moment's own zone (the company's): Babel would otherwise show naive times as UTC.
    return format_datetime(value, pattern, tzinfo=value.tzinfo, locale=locale)


def _day(value: date, pattern: str, locale: str) -> str:
    return format_date(value, pattern, locale=locale)


@dataclass(frozen=True)
class Money:
    """An amount of money as the ledger keeps it (cents) and the currency it is in."""

    cents: int
    currency: str

    @property
    def amount(self) -> Decimal:
        return Decimal(self.cents) / 100

    def __str__(self) -> str:  # outside a message (logs): the locale-free form
        return f"{self.amount:,.2f} {self.currency}"


def money(value: Money | Decimal | float | int, locale: str) -> str:
    """1,234.50 (a number) or 1,234.50 CNY (Money): two decimals, the locale's grouping."""
    if isinstance(value, Money):
        return f"{format_decimal(value.amount, '#,##0.00', locale=locale)} {value.currency}"
    return format_decimal(value, "#,##0.00", locale=locale)


def filters(locale: str) -> dict[str, Callable[..., Any]]:
    """The Jinja filters of one locale."""
    found: dict[str, Callable[..., Any]] = {
        name: partial(_moment, pattern=pattern, locale=locale) for name, pattern in PATTERNS.items()}
    found.update({name: partial(_day, pattern=pattern, locale=locale)
                  for name, pattern in DAY_PATTERNS.items()})
    found["money"] = partial(money, locale=locale)
    return found
