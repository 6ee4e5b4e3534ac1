"""Telegram's limits for every message, whatever people typed.

Each message that carries typed text is rendered, in each language, with the longest value
every field and every question allows (hostile characters included, so that escaping is
exercised too): it must be well-formed HTML within 4,096 characters (TEXT_BUDGET keeps a
margin), and where typed texts had to be shortened it must say where to read them whole.
A caption stays within 1,024 characters. /show's whole record is paged, each page a message.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from bot import views
from bot.config import LANGUAGES
from bot.domain.chains import SHEET
from bot.domain.fields import ComplaintKind, fields_of
from bot.domain.workflow import Status, steps_of
from bot.formats import Money
from bot.sandbox.formatting import parse_text
from bot.services.chains import MAX_TEXT as MAX_CHAIN_TEXT
from bot.services.chains import CaseFacts, ChainStepView, ChainView, Signature
from bot.services.complaints import MAX_REJECT_REASON, CardView, HistoryItem, StepView
from bot.services.fines import MAX_WAIVE_REASON
from bot.services.forms import FormScreen
from bot.services.handling import MAX_ANSWER
from bot.services.lists import LIMIT as LISTED
from bot.services.lists import Line
from bot.services.outcome import MAX_REASON as MAX_APPEAL
from bot.services.people import Person
from bot.texts import TEXT_BUDGET, Texts, visible_length

LOCALES = LANGUAGES  # every message in every language
HKT = timezone(timedelta(hours=8))
AT = datetime(2026, 11, 20, 9, 5, tzinfo=HKT)
NAME = 50  # a registered name (/join, config)
TELEGRAM_NAME = 200  # what the bot keeps of a Telegram name
CAPTION_MAX = 1024


def typed(length: int) -> str:
    """The longest text a question allows, with what HTML must escape in it."""
    unit = "客戶<b>&說：“不行”</b> "
    return (unit * (length // len(unit) + 1))[:length]


def answers(kind: ComplaintKind) -> dict[str, str]:
    return {f.key: typed(f.max_length) for f in fields_of(kind) if f.asked}


def card(kind: ComplaintKind, status: Status = Status.ANSWERED) -> CardView:
    steps = [StepView(step.key, step.label, "品質管理及客戶服務部門", typed(TELEGRAM_NAME),
                      AT + timedelta(minutes=5 * i), department_key="production")
             for i, step in enumerate(steps_of(kind))]
    return CardView(number="P-2026-0001", kind=kind, status=status, answers=answers(kind),
                    photo_count=10, filed_at=AT, complainant_name=typed(TELEGRAM_NAME),
                    department_name="業務部", is_crx=True, steps=steps, now=AT)


def person() -> Person:
    return Person(id=1, name=typed(NAME), display_name=typed(TELEGRAM_NAME),
                  department_key="sales", department_name="業務部", is_head=True,
                  is_admin=True, language="zh-Hant")


ASSESSMENT = {"assessment": typed(MAX_ANSWER), "opinion": typed(MAX_ANSWER)}
TEXT = {"text": typed(MAX_ANSWER)}


def sheet_row() -> ChainView:
    """A sign-off sheet's row at the GM's turn: the case with three departments' longest
    answers, and every step before signed with the longest texts."""
    fields = answers(ComplaintKind.PRODUCT)
    case = CaseFacts(customer=fields["customer"], product=f"{fields['brand']} {fields['spec_qty']}",
                     problem=fields["problem"], request=fields["request"],
                     answers=[(f"部門{i}", typed(2 * MAX_ANSWER + 20)) for i in range(3)])
    steps = [ChainStepView(step.key, step.label, step.role.value, "品質管理及客戶服務部門", 0, AT, AT,
                           Signature(typed(TELEGRAM_NAME), step.role.value, "業務部", AT,
                                     {"text": typed(MAX_CHAIN_TEXT)}))
             for step in SHEET.steps[:3]]
    return ChainView(1, SHEET.key, SHEET.label, "P-2026-0001", "P-2026-0001", "open",
                     steps=steps, sheet_day=AT.date(), case=case)


def worst_cases() -> list[tuple[str, dict[str, Any]]]:
    P, S = ComplaintKind.PRODUCT, ComplaintKind.SERVICE
    three = [{"step": "answer", "parts": ASSESSMENT, "department": f"部門{i}",
              "who": typed(TELEGRAM_NAME)} for i in range(3)]
    plan = [{"step": "plan", "parts": TEXT, "department": "物流部", "who": typed(TELEGRAM_NAME)},
            {"step": "notify", "parts": TEXT, "department": "人力資源部",
             "who": typed(TELEGRAM_NAME)}]
    lines = [Line(f"P-2026-{i:04d}", Status.OPEN, typed(200), ["生產部", "採購部", "物流部"],
                  "質量鑒定結果和處理意見", AT, "https://t.me/c/1/2") for i in range(LISTED)]
    cases: list[tuple[str, dict[str, Any]]] = []
    for kind in (P, S):
        summary = FormScreen(draft_id=1, kind=kind, answers=answers(kind), photo_count=10,
                             total=len(fields_of(kind)))
        cases += [("form.summary", {"screen": summary, "fields": fields_of(kind)}),
                  ("approval.request", {"card": replace(card(kind), number=None,
                                                        status=Status.PENDING_APPROVAL)}),
                  ("card.card", {"card": card(kind)})]
    cases += [
        ("steps.thread_recorded", {"number": "P-2026-0001", "step": "answer",
                                   "department": "生產部", "who": typed(TELEGRAM_NAME),
                                   "parts": ASSESSMENT, "files": 10}),
        ("steps.thread_recorded", {"number": "S-2026-0001", "step": "plan",
                                   "department": "物流部", "who": typed(TELEGRAM_NAME),
                                   "parts": TEXT, "files": 0}),
        ("outcome.answers", {"number": "P-2026-0001", "items": three}),
        ("outcome.answers", {"number": "S-2026-0001", "items": plan, "appeal": 3}),
        ("outcome.thread_escalated", {"number": "P-2026-0001", "body": "監察部",
                                      "reason": typed(MAX_APPEAL), "who": typed(TELEGRAM_NAME),
                                      "round": 2}),
        ("outcome.escalated_head", {"number": "P-2026-0001", "body": "監察部",
                                    "reason": typed(MAX_APPEAL)}),
        ("approval.rejected", {"approver": typed(TELEGRAM_NAME),
                               "reason": typed(MAX_REJECT_REASON), "customer": typed(200)}),
        ("fines.head_changed", {"fine_id": 2**31 - 1, "status": "waived",
                                "reason": typed(MAX_WAIVE_REASON), "who": typed(TELEGRAM_NAME),
                                "money": Money(100000000, "CNY")}),
        ("lists.mine", {"lines": lines}),
        ("lists.owed", {"department": "品質管理及客戶服務部門", "lines": lines}),
        ("membership.join_request", {"name": typed(NAME), "department": "業務部",
                                     "user_id": 2**40, "telegram_name": typed(TELEGRAM_NAME)}),
        ("general.welcome", {"person": person()}),
        ("chains.your_turn", {"item": sheet_row(), "label": SHEET.steps[3].label,
                              "gives": "decision", "due": AT}),
    ]
    return cases


CASES = worst_cases()


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize(("name", "params"), CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)])
def test_the_longest_input_still_fits_one_message(locale: str, name: str,
                                                  params: dict[str, Any]) -> None:
    text = Texts(locale).html(locale, name, **params)
    parse_text(text, "HTML")  # well-formed, or Telegram refuses the whole message
    assert visible_length(text) <= TEXT_BUDGET, f"{name}: {visible_length(text)} characters"


@pytest.mark.parametrize("locale", LOCALES)
def test_a_shortened_message_says_where_the_whole_is(locale: str) -> None:
    texts = Texts(locale)
    for name, params in CASES:
        full = texts.unfitted_html(locale, name, **params)
        if visible_length(full) <= TEXT_BUDGET:
            continue
        shown = texts.html(locale, name, **params)
        number = (params.get("number") or getattr(params.get("card"), "number", None)
                  or getattr(params.get("item"), "complaint_number", None))
        if number:
            assert f"/show {number}" in shown, name
        assert "…" in shown, name


@pytest.mark.parametrize("locale", LOCALES)
def test_an_ordinary_message_is_not_shortened(locale: str) -> None:
    texts = Texts(locale)
    parts = {"assessment": "瓶蓋不密封", "opinion": "同意退貨"}
    text = texts.html(locale, "steps.thread_recorded", number="P-2026-0001", step="answer",
                      department="生產部", who="周生產", parts=parts, files=0)
    assert "瓶蓋不密封" in text and "同意退貨" in text and "/show" not in text


@pytest.mark.parametrize("locale", LOCALES)
def test_the_whole_record_is_paged_and_nothing_is_lost(locale: str) -> None:
    """/show: every field and every answer whole, over as many messages as it takes."""
    texts = Texts(locale)
    view = card(ComplaintKind.SERVICE)
    comment = "很長的留言" * 900  # a group message of 4,500 characters, kept as a comment
    items = [HistoryItem(AT, "step_done", typed(TELEGRAM_NAME),
                         {"step": "answer", "department": "生產部", "parts": ASSESSMENT})
             for _ in range(3)] + [HistoryItem(AT, "comment", "某人", {"text": comment})]
    pages = views.record_pages(texts, locale, view, items)
    assert len(pages) > 1
    for page in pages:
        parse_text(page, "HTML")
        assert visible_length(page) <= TEXT_BUDGET
    # Read across the pages (their headings left out), every text is there whole, once.
    whole = "".join(parse_text(page.split("\n", 1)[1], "HTML")[0] for page in pages)
    whole = whole.replace("\n", "")
    for value in [*view.answers.values(), ASSESSMENT["assessment"], ASSESSMENT["opinion"]]:
        assert value in whole
    assert whole.count(comment) == 1
    data = views.record_file(pages).decode()
    assert ASSESSMENT["opinion"] in data and "&lt;" not in data


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("name", ["card.record_file_caption", "fines.workbook_caption",
                                  "chains.freight_xlsx_caption"])
def test_captions_fit(locale: str, name: str) -> None:
    from bot.domain.periods import Period
    from bot.services.fines import Listing

    cases: dict[str, dict[str, Any]] = {
        "card.record_file_caption": {"number": "P-2026-0001", "pages": 99},
        "fines.workbook_caption": {"listing": Listing(Period(AT, AT + timedelta(days=30),
                                                             "2026-11"),
                                                      "品質管理及客戶服務部門", [], [])},
        "chains.freight_xlsx_caption": {"count": 10**6, "filename": "freight-2026-11.xlsx"},
    }
    text = Texts(locale).html(locale, name, **cases[name])
    assert visible_length(text) <= CAPTION_MAX
