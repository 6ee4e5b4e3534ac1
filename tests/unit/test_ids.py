"""parse_id: numeric ids typed by users or carried in callback data."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.ids import MAX_ID, parse_id

FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1", 1),
        ("42", 42),
        (" 42 ", 42),
        ("42\n", 42),
        ("#42", 42),
        ("# 42", 42),
        ("＃42", 42),
        ("４２", 42),  # full-width, as a Chinese phone keyboard types them
        ("＃４２", 42),
        ("\u3000４２\u3000", 42),
        ("007", 7),
        ("0" * 100 + "7", 7),  # leading zeros never make a number long
        ("2147483647", MAX_ID),
        ("２１４７４８３６４７", MAX_ID),
    ],
)
def test_accepted(text: str, expected: int) -> None:
    assert parse_id(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "#",
        "##1",
        "#1#",
        "1#",
        "0",
        "000",
        "#0",
        "2147483648",  # one past MAX_ID
        "99999999999999999999999",  # passed isdigit() and overflowed SQLite's INTEGER
        "9" * 5000,  # longer than int()'s default digit limit
        "²",  # "²".isdigit() is True and int("²") raised ValueError
        "1²",
        "₂",
        "①",  # NFKC would make these 2, 2, 2, 1 and 5: they are not typed ids
        "𝟓",
        "٣",  # Arabic-Indic
        "१२",  # Devanagari
        "+1",
        "-1",
        "\u22121",
        "－１",
        "1 2",
        "1,000",
        "1_000",  # int() accepts underscores
        "1.0",
        "1e3",
        "0x10",
        "12a",
        "P-2026-0001",
        "Ⅻ",
        "一",
    ],
)
def test_refused(text: str) -> None:
    assert parse_id(text) is None


def test_not_text_is_none() -> None:
    assert parse_id(None) is None


def test_the_handler_crashes_are_refusals() -> None:
    # what handlers checked with str.isdigit() before calling int()
    assert "²".isdigit() and parse_id("²") is None
    assert "99999999999999999999999".isdigit() and parse_id("99999999999999999999999") is None


def test_max_id_fits_a_signed_32_bit_integer() -> None:
    assert MAX_ID == 2**31 - 1


# --- properties -------------------------------------------------------------------
@given(st.text())
def test_never_raises_and_round_trips(text: str) -> None:
    value = parse_id(text)
    if value is not None:
        assert type(value) is int
        assert 1 <= value <= MAX_ID
        assert parse_id(str(value)) == value


@given(st.text(alphabet="0123456789０１２３４５６７８９#＃ \u3000+-²①", max_size=40))
def test_never_raises_on_id_like_text(text: str) -> None:
    value = parse_id(text)
    if value is not None:
        assert 1 <= value <= MAX_ID
        assert parse_id(str(value)) == value
        assert not set(text) & set("+-²①")


@given(st.integers(min_value=1, max_value=MAX_ID))
def test_every_id_in_range_is_read_back(n: int) -> None:
    for text in (str(n), f"#{n}", f" #{n} ", str(n).translate(FULL_WIDTH), f"＃{n}",
                 f"00{n}"):
        assert parse_id(text) == n, text


@given(st.integers().filter(lambda n: not 1 <= n <= MAX_ID))
def test_every_id_out_of_range_is_refused(n: int) -> None:
    assert parse_id(str(n)) is None
    assert parse_id(f"#{n}") is None
