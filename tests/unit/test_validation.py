"""validate_answer, clean_text, choice labels and the rule 一.4 test."""

from __future__ import annotations

from datetime import date
from typing import Any, cast

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.fields import (
    CRX_REQUESTS,
    PRODUCT_FIELDS,
    SERVICE_FIELDS,
    ComplaintKind,
    Field,
    FieldType,
    field_by_key,
)
from bot.domain.validation import (
    MAX_BLANK_LINES,
    PURPOSE_LABELS,
    REQUEST_LABELS,
    Invalid,
    choice_value,
    clean_text,
    is_crx_request,
    validate_answer,
)

TODAY = date(2026, 11, 25)
P = ComplaintKind.PRODUCT
S = ComplaintKind.SERVICE
COMPLAINANT = field_by_key(P, "complainant")
CUSTOMER = field_by_key(P, "customer")
SHIP_DATE = field_by_key(P, "ship_date")
BRAND = field_by_key(P, "brand")
PROBLEM = field_by_key(P, "problem")
REQUEST = field_by_key(P, "request")
PURPOSE = field_by_key(S, "purpose")
TARGET = field_by_key(S, "target")


# --- clean_text -------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("  永輝超市  ", "永輝超市"),
        ("\u3000永輝\u3000", "永輝"),
        ("a\r\nb\rc\u2028d\u2029e\x85f", "a\nb\nc\nd\ne\nf"),
        ("a\x00b\x07c\x1bd\x7fe", "abcde"),
        ("a\tb", "a b"),
        ("a  \nb\t\n", "a\nb"),
        ("a\n\nb", "a\n\nb"),
        ("a\n\n\nb", "a\n\n\nb"),
        ("a\n\n\n\n\n\nb", "a\n\n\nb"),
        ("a\n \n\t\n \n \nb", "a\n\n\nb"),
        ("\n\n\na\n\n\n", "a"),
        ("<b>bold</b> & co", "<b>bold</b> & co"),
        ("漏液😀👍🏽", "漏液😀👍🏽"),
        ("👨\u200d👩\u200d👧", "👨\u200d👩\u200d👧"),
        ("x\ud800y", "xy"),
    ],
)
def test_clean_text(text: str, expected: str) -> None:
    assert clean_text(text) == expected


@given(st.text())
def test_clean_text_properties(text: str) -> None:
    cleaned = clean_text(text)
    assert cleaned == cleaned.strip()
    assert "\r" not in cleaned and "\t" not in cleaned
    assert "\n" * (MAX_BLANK_LINES + 2) not in cleaned
    assert clean_text(cleaned) == cleaned


# --- validate_answer --------------------------------------------------------------
@pytest.mark.parametrize(
    ("f", "text", "expected"),
    [
        (CUSTOMER, " 永輝超市 ", "永輝超市"),
        (CUSTOMER, "<b>永輝</b> & Co", "<b>永輝</b> & Co"),
        (CUSTOMER, "A&amp;B", "A&amp;B"),
        (PROBLEM, "瓶蓋漏液 😡\n\n\n\n標籤脫落", "瓶蓋漏液 😡\n\n\n標籤脫落"),
        (COMPLAINANT, " 王\n小明 ", "王 小明"),
        (SHIP_DATE, "2026年11月20日", "2026-11-20"),
        (SHIP_DATE, "今天", "2026-11-25"),
        (SHIP_DATE, " ２０２６／１１／２０ ", "2026-11-20"),
        (REQUEST, "赔款", "賠款"),
        (REQUEST, "退货", "退貨"),
        (REQUEST, "要求部分退款", "要求部分退款"),
        (PURPOSE, "改进服务质量", "改進服務質量"),
        (BRAND, "康師傅", "康師傅"),
        (TARGET, "物流部 張三", "物流部 張三"),
    ],
)
def test_valid_answers(f: Field, text: str, expected: str) -> None:
    assert validate_answer(f, text, TODAY) == expected


@pytest.mark.parametrize(
    ("f", "text", "expected"),
    [
        (CUSTOMER, "", Invalid("empty")),
        (CUSTOMER, "   \n\t \u3000", Invalid("empty")),
        (CUSTOMER, "\u200b\ufeff", Invalid("empty")),
        (CUSTOMER, "\x00\x01", Invalid("empty")),
        (SHIP_DATE, "  ", Invalid("empty")),
        (COMPLAINANT, "王" * 51, Invalid("too_long", {"max": 50, "length": 51})),
        (SHIP_DATE, "hello", Invalid("date_unparseable")),
        (SHIP_DATE, "2026-02-30", Invalid("date_invalid", {"year": 2026, "month": 2, "day": 30})),
        (SHIP_DATE, "2026-11-26", Invalid("date_future", {"date": date(2026, 11, 26)})),
        (SHIP_DATE, "1899-01-01",
         Invalid("date_too_old", {"date": date(1899, 1, 1), "earliest": date(2021, 11, 25)})),
        (SHIP_DATE, "2016年11月20日",
         Invalid("date_too_old", {"date": date(2016, 11, 20), "earliest": date(2021, 11, 25)})),
    ],
)
def test_invalid_answers(f: Field, text: str, expected: Invalid) -> None:
    assert validate_answer(f, text, TODAY) == expected


def test_length_limit_is_inclusive_and_counts_cleaned_text() -> None:
    assert validate_answer(COMPLAINANT, "王" * 50, TODAY) == "王" * 50
    assert validate_answer(COMPLAINANT, "  " + "王" * 50 + "\n\n", TODAY) == "王" * 50
    assert validate_answer(PROBLEM, "x" * 2001, TODAY) == Invalid(
        "too_long", {"max": 2000, "length": 2001}
    )


def test_every_field_has_a_limit_that_is_enforced() -> None:
    for f in PRODUCT_FIELDS + SERVICE_FIELDS:
        if f.type is FieldType.DATE:
            continue
        result = validate_answer(f, "x" * (f.max_length + 1), TODAY)
        assert isinstance(result, Invalid) and result.reason == "too_long", f.key


def test_not_text() -> None:
    assert validate_answer(CUSTOMER, cast(Any, None), TODAY) == Invalid("not_text")
    assert validate_answer(CUSTOMER, cast(Any, 42), TODAY) == Invalid("not_text")


@given(st.text())
def test_validate_answer_returns_str_or_invalid(text: str) -> None:
    for f in PRODUCT_FIELDS + SERVICE_FIELDS:
        result = validate_answer(f, text, TODAY)
        assert isinstance(result, str | Invalid)
        if isinstance(result, str):
            assert result.strip() and len(result) <= f.max_length


# --- choices ----------------------------------------------------------------------
def test_labels_cover_the_choices() -> None:
    assert set(REQUEST_LABELS) == set(REQUEST.choices)
    assert set(PURPOSE_LABELS) == set(PURPOSE.choices)
    assert set(CRX_REQUESTS) <= set(REQUEST_LABELS)
    assert REQUEST_LABELS == {"compensation": "賠款", "return": "退貨", "exchange": "換貨",
                              "other": "其他"}
    assert PURPOSE_LABELS == {"claim": "索賠", "discipline": "處理", "improve": "改進服務質量"}


@pytest.mark.parametrize(
    ("f", "text", "expected"),
    [
        (REQUEST, "賠款", "賠款"),
        (REQUEST, "赔款", "賠款"),
        (REQUEST, "賠償", "賠款"),
        (REQUEST, "赔偿。", "賠款"),
        (REQUEST, "compensation", "賠款"),
        (REQUEST, "退貨", "退貨"),
        (REQUEST, "退货", "退貨"),
        (REQUEST, " Return ", "退貨"),
        (REQUEST, "換貨", "換貨"),
        (REQUEST, "换货！", "換貨"),
        (REQUEST, "其他", "其他"),
        (REQUEST, "其它", "其他"),
        (REQUEST, "退貨並賠償運費", "退貨並賠償運費"),
        (REQUEST, "索賠", "索賠"),  # a purpose label is no request label
        (PURPOSE, "索赔", "索賠"),
        (PURPOSE, "處理", "處理"),
        (PURPOSE, "处理", "處理"),
        (PURPOSE, "改進服務質量", "改進服務質量"),
        (PURPOSE, "improve", "改進服務質量"),
        (PURPOSE, "處理司機", "處理司機"),
        (BRAND, "退貨", "退貨"),  # a field without choices keeps the text
    ],
)
def test_choice_value(f: Field, text: str, expected: str) -> None:
    assert choice_value(f, text) == expected


# --- rule 一.4 --------------------------------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        "賠款", "赔款", "退貨", "退货", "換貨", "换货", "賠償", "赔偿", "退款",
        "要求退貨並賠償運費", "客户要求换新", "希望調換一批", "全部退回",
        "Refund please", "RETURN", "exchange", "replacement", "compensation for the loss",
    ],
)
def test_crx_requests(text: str) -> None:
    assert is_crx_request(text)


@pytest.mark.parametrize(
    "text", ["其他", "", "要求道歉", "下次注意", "加強品控", "<b>說明原因</b>", "other"]
)
def test_not_crx_requests(text: str) -> None:
    assert not is_crx_request(text)


def test_crx_of_canonical_labels_matches_crx_requests() -> None:
    for key, label in REQUEST_LABELS.items():
        assert is_crx_request(label) is (key in CRX_REQUESTS)
