"""The message templates: one set of layouts, every macro renders in every language, output
is safe.

(a) templates/ holds one layout per file (no copy per language), each Chinese word in it
    is marked for translation, and imports name other layouts;
(b) every macro renders through bot.texts.Texts with realistic values, including
    hostile user text: *.html.j2 output must be HTML that Telegram accepts (parse
    mode HTML) with user text escaped; *.txt.j2 output is plain, non-empty text that
    fits where it is used (button labels, command descriptions, alerts).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from functools import cache
from typing import Any

import pytest
from jinja2 import nodes
from jinja2.runtime import Macro
from markupsafe import escape

from bot.commands import FINES_HR, GROUP_ADMIN, PRIVATE_ANYONE, PRIVATE_MEMBER
from bot.config import LANGUAGES
from bot.domain.chains import CHAINS, FREIGHT, SHEET, Chain
from bot.domain.fields import PRODUCT_FIELDS, SERVICE_FIELDS, ComplaintKind, Field, fields_of
from bot.domain.figures import timing
from bot.domain.followup import MAX_WORDS, Method, Satisfaction, Visit, VisitAnswers
from bot.domain.periods import Period
from bot.domain.severity import GROUND_WORDS, MajorGround, Severity
from bot.domain.validation import Invalid
from bot.domain.workflow import ESCALATION_STEP, Status, steps_of
from bot.formats import Money
from bot.services.analysis import (
    AppealFigures,
    DepartmentFigures,
    FollowUpFigures,
    MonthReport,
    MonthTotals,
)
from bot.services.cases import LISTED as LISTED_CASES
from bot.services.cases import MAX_LESSON, MAX_TAGS
from bot.services.cases import Case as LibraryCase
from bot.services.chains import CaseFacts, ChainStepView, ChainView, Signature, Withdrawal
from bot.services.complaints import CardView, HistoryItem, StepView
from bot.services.error_reports import PLACES as ERROR_PLACES
from bot.services.fines import Listing
from bot.services.followups import LISTED as LISTED_VISITS
from bot.services.followups import Waiting
from bot.services.forms import FormScreen, asked_fields
from bot.services.freight import SlipForm
from bot.services.lists import Line
from bot.services.people import Person
from bot.services.sheets import SheetView
from bot.spreadsheets import FineRow, TotalRow, fines_totals, sum_totals, table_columns, table_workbook
from bot.texts import TEMPLATES, TEXT_BUDGET, Texts, template_environment, visible_length

# The tests that check wording, in the two languages whose words they know; every message
# renders in every language (LANGUAGES: Simplified Chinese too) in test_renders.
LOCALES = ("zh-Hant", "en")

HOSTILE = '<b>x</b> & "q"'
HOSTILE_HTML = str(escape(HOSTILE))  # &lt;b&gt;x&lt;/b&gt; &amp; &#34;q&#34;

HKT = timezone(timedelta(hours=8))
FILED_AT = datetime(2026, 11, 20, 9, 5, tzinfo=HKT)
LINK = "https://t.me/c/123456/78?a=1&b=2"

BUTTON_MAX = 64
BUTTON_SHORT = 30  # labels without parameters should fit a phone's button row
COMMAND_MAX = 256
ALERT_MAX = 200  # answerCallbackQuery shows at most 200 characters


# --- structure ----------------------------------------------------------------------

STRUCTURE_ENV = template_environment()
HAN = re.compile(r"[\u3400-\u9fff]")
# Written the same in every language, so not for translation: each language's own name.
UNTRANSLATED = {"简体中文", "繁體中文"}


@cache
def template_files() -> tuple[str, ...]:
    return tuple(sorted(p.name for p in TEMPLATES.iterdir() if p.is_file()))


def parsed(file: str) -> nodes.Template:
    source = (TEMPLATES / file).read_text(encoding="utf-8")
    return STRUCTURE_ENV.parse(source, name=file)


@cache
def macro_signatures(file: str) -> dict[str, tuple[str, ...]]:
    """Top-level macros of a template file and their argument names, from the parse tree."""
    return {node.name: tuple(arg.name for arg in node.args)
            for node in parsed(file).body if isinstance(node, nodes.Macro)}


def module_signatures(file: str) -> dict[str, tuple[str, ...]]:
    """The same, as the loaded template module exposes them."""
    module = STRUCTURE_ENV.get_template(file).module
    return {name: tuple(value.arguments) for name, value in vars(module).items()
            if isinstance(value, Macro)}


def all_macros() -> list[tuple[str, str]]:
    return [(file, name) for file in template_files() for name in macro_signatures(file)]


def test_one_set_of_layouts() -> None:
    # One layout per message, for every language: no folder of copies per language.
    assert not [p for p in TEMPLATES.iterdir() if p.is_dir()]
    assert len(template_files()) >= 17
    for file in template_files():
        assert file.endswith((".html.j2", ".txt.j2")), file
        assert macro_signatures(file), f"{file} defines no macro"


@pytest.mark.parametrize("file", template_files())
def test_module_macros_match_parse_tree(file: str) -> None:
    assert module_signatures(file) == macro_signatures(file)


@pytest.mark.parametrize("file", template_files())
def test_imports_name_layouts(file: str) -> None:
    for node in parsed(file).find_all((nodes.Import, nodes.FromImport, nodes.Include,
                                       nodes.Extends)):
        template = dict(node.iter_fields())["template"]
        assert isinstance(template, nodes.Const), f"{file}: dynamic import"
        assert template.value in template_files(), f"{file} imports {template.value}"


def gettext_arguments(tree: nodes.Node) -> set[int]:
    """The ids of the string constants given to gettext (`_()`, `{% trans %}`)."""
    found: set[int] = set()
    for call in tree.find_all(nodes.Call):
        if isinstance(call.node, nodes.Name) and call.node.name in (
                "_", "gettext", "ngettext", "pgettext", "npgettext"):
            found |= {id(arg) for arg in call.args if isinstance(arg, nodes.Const)}
    return found


@pytest.mark.parametrize("file", template_files())
def test_every_chinese_word_is_marked_for_translation(file: str) -> None:
    # Text outside gettext reaches every language as written: Simplified readers would see
    # Traditional characters, English readers Chinese.
    tree = parsed(file)
    marked = gettext_arguments(tree)
    unmarked = [node.data for node in tree.find_all(nodes.TemplateData)
                if HAN.search(node.data) and node.data not in UNTRANSLATED]
    unmarked += [node.value for node in tree.find_all(nodes.Const)
                 if isinstance(node.value, str) and HAN.search(node.value)
                 and id(node) not in marked and node.value not in UNTRANSLATED]
    assert not unmarked, f"{file}: not in a trans block or _(): {unmarked[:5]}"


# --- sample values ------------------------------------------------------------------

PRODUCT_ANSWERS = {
    "complainant": HOSTILE,
    "customer": HOSTILE,
    "ship_date": "2026-11-18",
    "brand": "金龍",
    "spec_qty": "500ml × 20箱",
    "problem": "瓶蓋漏水，約三成有問題\n<i>見圖</i> a<b & c>d",
    "request": "賠款",
}
SERVICE_ANSWERS = {
    "complainant": HOSTILE,
    "target": HOSTILE,
    "event_time": "11月19日下午三點",
    "event_cause": "客戶來電查詢送貨時間",
    "event_course": "接線同事語氣不佳 & 掛斷電話",
    "event_result": "客戶不滿 >_<",
    "purpose": "改進服務質量",
}
ANSWERS = {ComplaintKind.PRODUCT: PRODUCT_ANSWERS, ComplaintKind.SERVICE: SERVICE_ANSWERS}


INTAKE = {ComplaintKind.PRODUCT: ("order_desk", "打單部"), ComplaintKind.SERVICE: ("hr", "人力資源部")}


def step_views(kind: ComplaintKind, done: int) -> list[StepView]:
    """The kind's steps, the first `done` of them done; investigators not yet assigned."""
    views = []
    for i, step in enumerate(steps_of(kind)):
        key, name = INTAKE[kind] if step.owner.value == "intake" else (None, None)
        if i < done:
            views.append(StepView(step.key, step.label, name or HOSTILE, HOSTILE,
                                  FILED_AT + timedelta(minutes=3 * (i + 1)),
                                  department_key=key or "production"))
        else:
            views.append(StepView(step.key, step.label, name, None, None, department_key=key))
    return views


def answering(done_by: list[bool], *, step: str = "answer", label: str = "質量鑒定結果和處理意見",
              round: int = 0) -> list[StepView]:
    """Steps owed by several assigned departments (the first named HOSTILE), some done."""
    departments = [("production", HOSTILE), ("purchasing", "採購部"), ("logistics", "物流部")]
    return [StepView(step, label, name, HOSTILE if done else None,
                     FILED_AT + timedelta(hours=1) if done else None, department_key=key, round=round)
            for (key, name), done in zip(departments, done_by, strict=False)]


def product_answering(done_by: list[bool]) -> list[StepView]:
    """打單部 has accepted and published the process; the named departments answer."""
    return [*step_views(ComplaintKind.PRODUCT, 2)[:2], *answering(done_by)]


def escalation(round: int, done: bool = False) -> StepView:
    return StepView(ESCALATION_STEP.key, ESCALATION_STEP.label, "監察部", HOSTILE if done else None,
                    FILED_AT + timedelta(days=round) if done else None,
                    department_key="supervision", round=round)


def card_view(kind: ComplaintKind = ComplaintKind.PRODUCT, status: Status = Status.OPEN, *,
              number: str | None = "P-2026-0001", done: int = 1, **changes: Any) -> CardView:
    view = CardView(
        number=number, kind=kind, status=status, answers=dict(ANSWERS[kind]),
        photo_count=3 if kind is ComplaintKind.PRODUCT else 0, filed_at=FILED_AT,
        complainant_name=HOSTILE, department_name=HOSTILE,
        is_crx=kind is ComplaintKind.PRODUCT, steps=step_views(kind, done) if number else [],
    )
    return replace(view, **changes)


def screen(kind: ComplaintKind = ComplaintKind.PRODUCT, field: Field | None = None,
           **changes: Any) -> FormScreen:
    form = fields_of(kind)
    s = FormScreen(draft_id=7, kind=kind, answers=dict(ANSWERS[kind]), photo_count=2,
                   field=field, position=form.index(field) + 1 if field else 0, total=len(form))
    return replace(s, **changes)


def person(**changes: Any) -> Person:
    base = Person(id=1001, name=HOSTILE, display_name=HOSTILE, department_key="sales",
                  department_name="業務部", is_head=False, is_admin=False, language="en")
    return replace(base, **changes)


INVALIDS = [
    Invalid("empty"),
    Invalid("too_long", {"max": 200, "length": 245}),
    Invalid("not_text"),
    Invalid("date_unparseable"),
    Invalid("date_invalid", {"year": 2026, "month": 2, "day": 30}),
    Invalid("date_invalid", {"year": None, "month": 13, "day": 1}),
    Invalid("date_future", {"date": date(2026, 12, 1)}),
    Invalid("date_too_old", {"date": date(1899, 1, 1), "earliest": date(2021, 12, 3)}),
    Invalid("photo_not_here"),
    Invalid("too_many_photos", {"max": 10}),
    Invalid("caption_too_long", {"max": 2000, "length": 2011}),
    Invalid("use_buttons"),
    Invalid("some_new_code"),
]

HISTORY = [
    HistoryItem(FILED_AT, "submitted", HOSTILE, {}),
    HistoryItem(FILED_AT + timedelta(minutes=1), "rejected", "王經理", {"reason": HOSTILE}),
    HistoryItem(FILED_AT + timedelta(minutes=2), "submitted", HOSTILE, {}),
    HistoryItem(FILED_AT + timedelta(minutes=2), "approved", HOSTILE,
                {"implicit": True, "number": "P-2026-0001"}),
    HistoryItem(FILED_AT + timedelta(minutes=3), "posted", None, {"chat_id": -1001, "thread_id": 5}),
    HistoryItem(FILED_AT + timedelta(minutes=5), "accepted", "李小明", {}),
    HistoryItem(FILED_AT + timedelta(minutes=6), "something_else", None, {}),
    HistoryItem(FILED_AT + timedelta(minutes=7), "step_done", HOSTILE,
                {"step": "accept", "department": "order_desk", "round": 0, "parts": {},
                 "assigned": None}),
    HistoryItem(FILED_AT + timedelta(minutes=20), "step_done", "李小明",
                {"step": "publish_process", "department": "order_desk", "round": 0,
                 "parts": {"text": HOSTILE}, "assigned": ["production", "purchasing"]}),
    HistoryItem(FILED_AT + timedelta(minutes=25), "comment", HOSTILE, {"text": HOSTILE}),
    HistoryItem(FILED_AT + timedelta(hours=2), "step_done", "陳主任",
                {"step": "answer", "department": HOSTILE, "round": 0,
                 "parts": {"assessment": HOSTILE, "opinion": "退貨"}, "assigned": None}),
    HistoryItem(FILED_AT + timedelta(hours=2), "answered", None, {}),
    HistoryItem(FILED_AT + timedelta(hours=3), "escalated", HOSTILE,
                {"body": "supervision", "reason": HOSTILE, "round": 1}),
    HistoryItem(FILED_AT + timedelta(hours=4), "step_done", "監察部主任",
                {"step": "escalation", "department": "supervision", "round": 1,
                 "parts": {"text": "維持原判"}, "assigned": None}),
    HistoryItem(FILED_AT + timedelta(hours=5), "closed", HOSTILE, {}),
]

STEP_KEYS = ("accept", "publish_process", "answer", "route", "plan", "notify", "escalation")
# Who a step prompt is for: a tg://user mention of them, their department, the complaint.
STEP_BASE = {"number": "P-2026-0001", "department": HOSTILE, "who": HOSTILE, "mention_id": 1001}

LINES = [
    Line("P-2026-0007", Status.OPEN, HOSTILE, [HOSTILE, "採購部"], "質量鑒定結果和處理意見",
         FILED_AT, LINK),
    Line(None, Status.PENDING_APPROVAL, "大華超市", [], None, FILED_AT, None),
    Line("S-2026-0002", Status.ESCALATED, "物流部", ["監察部"], "申訴處理意見", FILED_AT, None),
    Line("P-2026-0003", Status.ANSWERED, "金龍餐廳", [], None, FILED_AT, LINK),
    Line("P-2026-0001", Status.CLOSED, "", [], None, FILED_AT, None),
    Line("S-2026-0003", Status.REJECTED, HOSTILE, [], None, FILED_AT, None),
]
OWED = [
    Line("P-2026-0007", Status.OPEN, HOSTILE, ["生產部"], "質量鑒定結果和處理意見",
         FILED_AT + timedelta(hours=1), LINK),
    Line("S-2026-0002", Status.ESCALATED, "物流部", ["生產部"], "申訴處理意見",
         FILED_AT + timedelta(days=1), None),
]

# The answers a complainant is sent (outcome.answers items), as handling.py builds them.
PRODUCT_ITEMS: list[dict[str, Any]] = [
    {"step": "answer", "parts": {"assessment": HOSTILE, "opinion": "同意退貨\n<u>並賠償</u>"},
     "department": HOSTILE, "who": HOSTILE},
    {"step": "answer", "parts": {"assessment": "包裝破損", "opinion": "換貨"},
     "department": "物流部", "who": "李小明"},
]
SERVICE_ITEMS = [
    {"step": "plan", "parts": {"text": HOSTILE}, "department": HOSTILE, "who": "陳主任"},
    {"step": "notify", "parts": {"text": "已向客戶致歉 & 安排培訓"}, "department": "人力資源部",
     "who": HOSTILE},
]
APPEAL_ITEMS = [
    {"step": "escalation", "parts": {"text": HOSTILE}, "department": "監察部", "who": HOSTILE},
]
# An answer handed in as photos or files only: its text is empty.
FILES_ONLY_ITEMS = [
    {"step": "plan", "parts": {"text": ""}, "department": HOSTILE, "who": "陳主任"},
    {"step": "notify", "parts": {"text": "已致電客戶"}, "department": "人力資源部", "who": "李小明"},
]

# --- deadlines (rules 一.2, 一.3, 一.5) and the fruit fund ---------------------------------

# The card is drawn at NOW (local time); steps fall due around it.
NOW = FILED_AT + timedelta(hours=1, minutes=30)  # 11-20 10:35
DUE_SOON = NOW + timedelta(minutes=30)  # 11-20 11:05: 30 minutes left
DUE_PAST = NOW - timedelta(minutes=1)  # 11-20 10:34: overdue


def timed(steps: list[StepView], due: datetime) -> list[StepView]:
    """The same steps, those not done yet due at `due`."""
    return [s if s.done_at else replace(s, due_at=due) for s in steps]


# What DeadlineEngine passes every deadlines.* macro (bot/services/deadlines.py, _facts).
DEADLINE_FACTS = {"number": "P-2026-0007", "step": "answer", "step_label": "質量鑒定結果和處理意見",
                  "department": HOSTILE, "due": DUE_SOON}
FINE_FACTS = {**DEADLINE_FACTS, "due": DUE_PAST, "money": Money(5000, "CNY"), "fine_id": 17}

PERIOD = Period(datetime(2026, 11, 1, tzinfo=HKT), datetime(2026, 12, 1, tzinfo=HKT), "2026-11")


def fine_row(i: int, **changes: Any) -> FineRow:
    base = FineRow(id=100 + i, number=f"P-2026-{i:04d}", step="質量鑒定結果和處理意見",
                   department="生產部", head="陳大文", amount=Decimal("50.00"), currency="CNY",
                   status="已記錄", status_code="levied", levied_at=FILED_AT + timedelta(hours=i),
                   changed_at=None, reason="", link=None)
    return replace(base, **changes)


FINE_ROWS = [
    fine_row(1, department=HOSTILE, head=HOSTILE, link=LINK),
    fine_row(2, status="已豁免", status_code="waived", reason=HOSTILE,
             changed_at=FILED_AT + timedelta(days=1)),
    fine_row(3, department="採購部", head="", status="已繳", status_code="paid",
             amount=Decimal("1234.5"), changed_at=FILED_AT + timedelta(days=2)),
    fine_row(4, department="物流部", reason="客戶原因\n<i>經理批准</i> & 不計"),
]
# A head's fines in two currencies, then the grand totals (as /fund shows them).
FUND = [
    TotalRow(HOSTILE, HOSTILE, "CNY", count=3, levied=Decimal("150"), waived=Decimal("50"),
             paid=Decimal("30")),
    TotalRow("採購部", "", "HKD", count=1, levied=Decimal("1234.5"), waived=Decimal(0),
             paid=Decimal(0)),
    TotalRow("物流部", "李小明", "CNY", count=2, levied=Decimal("100"), waived=Decimal("100"),
             paid=Decimal(0)),
]
FUND_TOTALS = [*FUND, *sum_totals(FUND)]


def listing(rows: list[FineRow], department: str | None = None, period: Period = PERIOD) -> Listing:
    return Listing(period, department, rows, fines_totals(rows))


def many_fines(count: int) -> list[FineRow]:
    return [fine_row(i, department="生產部物流組", head="陳大文",
                     status="已豁免" if i % 3 == 0 else "已記錄",
                     status_code="waived" if i % 3 == 0 else "levied",
                     reason="客戶原因，經理批准" if i % 3 == 0 else "")
            for i in range(1, count + 1)]


# What Fines.daily_summary returns (bot/services/fines.py).
SUMMARY: dict[str, Any] = {
    "day": date(2026, 11, 20),
    "departments": [
        {"name": HOSTILE, "breaches": 2, "fines": 1, "cents": 5000, "money": Money(5000, "CNY")},
        {"name": "採購部", "breaches": 1, "fines": 0, "cents": 0, "money": Money(0, "CNY")},
    ],
    "at_risk": [
        {"number": "P-2026-0007", "department": HOSTILE, "step": "質量鑒定結果和處理意見",
         "due": DUE_PAST, "overdue": True},
        {"number": "S-2026-0002", "department": "物流部", "step": "處理方案", "due": DUE_SOON,
         "overdue": False},
    ],
}


# --- sign-off chains (rule 一.4's sheet, rule 三's freight slips) -------------------------

SHEET_DAY = date(2026, 11, 20)
NEXT_MORNING = datetime(2026, 11, 23, 9, 0, tzinfo=HKT)  # the Monday after
FREIGHT_AMOUNT_CENTS = 123450


def signature(who: str, role: str, at: datetime, department: str | None = None,
              **value: Any) -> Signature:
    return Signature(who, role, department, at, dict(value))


def chain_step(chain: Chain, key: str, *, department: str | None = None, round: int = 0,
               due: datetime = DUE_SOON, starts: datetime = FILED_AT,
               done: Signature | None = None, attempt: int | None = None) -> ChainStepView:
    """A step as opened in `round`; by default asked for the round+1-th time (as the VP's and
    the GM's steps are after each rejection)."""
    step = chain.step(key)
    return ChainStepView(key, step.label, step.role.value, department, round, due, starts, done,
                         round + 1 if attempt is None else attempt)


def sheet_row(stage: str, *, item_id: int = 1, number: str = "P-2026-0001",
              sheet_day: date | None = SHEET_DAY) -> ChainView:
    """A complaint's row on the sheet, its steps as opened so far (ChainStepRecord rows)."""
    at = FILED_AT + timedelta(hours=8)
    hr = chain_step(SHEET, "hr_confirm", due=at + timedelta(minutes=20))
    heads = [chain_step(SHEET, "head_sign", department=HOSTILE, due=at + timedelta(minutes=50)),
             chain_step(SHEET, "head_sign", department="採購部", due=at + timedelta(minutes=50))]
    hr_done = replace(hr, done=signature(HOSTILE, "hr", at + timedelta(minutes=5)))
    heads_done = [replace(heads[0], done=signature("陳主任", "head", at + timedelta(minutes=20),
                                                   HOSTILE)),
                  replace(heads[1], done=signature("李經理", "head", at + timedelta(minutes=30),
                                                   "採購部"))]
    vp = chain_step(SHEET, "vp_opinion", due=NEXT_MORNING + timedelta(hours=3), starts=NEXT_MORNING)
    vp_done = replace(vp, done=signature("王副總", "vice_president", NEXT_MORNING + timedelta(hours=1),
                                         text="賠償 500 元並換貨\n" + HOSTILE))
    gm = chain_step(SHEET, "gm_decision", due=NEXT_MORNING + timedelta(hours=5))
    steps: list[ChainStepView]
    status = "open"
    if stage == "new":
        steps = [hr]
    elif stage == "heads":  # one head signed, the other not yet
        steps = [hr_done, heads_done[0], heads[1]]
    elif stage == "vp":  # waiting for the next morning
        steps = [hr_done, *heads_done, vp]
    elif stage == "rejected":  # the GM sent it back to the VP: round 1
        rejected = replace(gm, done=signature(
            "總經理", "general_manager", NEXT_MORNING + timedelta(hours=2), decision="reject",
            text=HOSTILE))
        steps = [hr_done, *heads_done, vp_done, rejected,
                 chain_step(SHEET, "vp_opinion", round=1, due=NEXT_MORNING + timedelta(hours=5))]
    elif stage == "withdrawn":  # HR struck it off after one head had signed: no step waits
        return replace(ChainView(item_id, SHEET.key, SHEET.label, number, number, "withdrawn",
                                 [hr_done, heads_done[0]], {"departments": ["production"]}, sheet_day),
                       withdrawn=Withdrawal(HOSTILE, at + timedelta(hours=1), "不是賠款案件 " + HOSTILE))
    elif stage == "amended":  # the GM's assistant approved with changes; the desk carries it out
        steps = [hr_done, *heads_done, vp_done,
                 replace(gm, done=signature("助理小張", "gm_assistant", NEXT_MORNING + timedelta(hours=3),
                                            decision="amend", text="只換貨 & 不賠款 " + HOSTILE)),
                 chain_step(SHEET, "execution", due=NEXT_MORNING + timedelta(hours=11))]
    else:
        assert stage == "done"
        status = "done"
        steps = [hr_done, *heads_done, vp_done,
                 replace(gm, done=signature("總經理", "general_manager",
                                            NEXT_MORNING + timedelta(hours=3), decision="approve")),
                 replace(chain_step(SHEET, "execution"), done=signature(
                     "李小明", "order_desk", NEXT_MORNING + timedelta(hours=4),
                     text="已安排換貨 " + HOSTILE))]
    return ChainView(item_id, SHEET.key, SHEET.label, number, number, status, steps,
                     {"departments": ["production", "purchasing"]}, sheet_day, case=SHEET_FACTS)


def freight_slip(stage: str, *, item_id: int = 9, number: str = "F-2026-0001") -> ChainView:
    """A freight slip opened by an order follower, its steps as done so far."""
    at = FILED_AT + timedelta(days=2)
    data = {"amount_cents": FREIGHT_AMOUNT_CENTS, "amount": "1,234.50", "carrier": HOSTILE,
            "waybill": "SF1234567890", "bearer": "production", "bearer_name": HOSTILE}
    keys = [s.key for s in FREIGHT.steps]
    signers: dict[str, Signature] = {
        "bearer_sign": signature("陳主任", "bearer_head", at + timedelta(minutes=30), HOSTILE),
        "desk_sign": signature("助理小林", "order_desk_assistant", at + timedelta(hours=1)),
        "cash_collected": signature(HOSTILE, "order_follower", at + timedelta(hours=2),
                                    amount_cents=FREIGHT_AMOUNT_CENTS),
        "paid_booked": signature("財務小周", "finance", at + timedelta(hours=3),
                                 text="已付款，憑證 #88 & 入賬 " + HOSTILE),
        "honoured": signature("人事小何", "hr", at + timedelta(days=1), text="生產部已承擔"),
        "closed": signature("財務小周", "finance", at + timedelta(days=1, hours=1)),
    }
    if stage == "withdrawn":  # the amount was wrong: struck out after two signatures
        return ChainView(item_id, FREIGHT.key, FREIGHT.label, number, "P-2026-0001", "withdrawn",
                         [chain_step(FREIGHT, key, department=HOSTILE if key == "bearer_sign" else None,
                                     done=signers[key]) for key in keys[:2]], data,
                         withdrawn=Withdrawal("李小明", at + timedelta(hours=1), "金額填錯\n" + HOSTILE))
    done = {"new": 0, "signed": 2, "paid": 4, "done": 6}[stage]
    steps = [chain_step(FREIGHT, key, department=HOSTILE if key == "bearer_sign" else None,
                        due=at + timedelta(hours=2 * (i + 1)), done=signers[key])
             for i, key in enumerate(keys[:done])]
    if done < len(keys):
        steps.append(chain_step(FREIGHT, keys[done], due=DUE_SOON,
                                department=HOSTILE if keys[done] == "bearer_sign" else None))
    return ChainView(item_id, FREIGHT.key, FREIGHT.label, number, "P-2026-0001",
                     "done" if stage == "done" else "open", steps, data)


SHEET_FACTS = CaseFacts(
    customer=HOSTILE, product="金龍 500ml × 20箱", problem="瓶蓋漏水",
    request="賠款 & 退貨 <全數>",
    answers=[(HOSTILE, "包裝破損\n" + HOSTILE), ("採購部", "供應商同意換貨。" * 30)],
)


def sheet_view(*rows: ChainView, confirmed: bool = False,
               rolled_over: list[str] | None = None) -> SheetView:
    facts = {row.id: replace(SHEET_FACTS, customer=HOSTILE if i == 0 else "大華超市",
                             answers=SHEET_FACTS.answers if i == 0 else [])
             for i, row in enumerate(rows)}
    return SheetView(3, SHEET_DAY, confirmed, list(rows), facts, list(rolled_over or []))


SHEET_VIEW = sheet_view(sheet_row("new"), sheet_row("new", item_id=2, number="S-2026-0004"),
                        rolled_over=["P-2026-0009", "S-2026-0005"])
def signed_hostile(step: ChainStepView) -> bool:
    """Whether HOSTILE is among what a done step's signature shows."""
    assert step.done is not None
    return HOSTILE in (step.done.who, step.done.department) \
        or HOSTILE in str(step.done.value.get("text", ""))


# What bot/services/chains.py, sheets.py and freight.py write to the audit log.
CHAIN_ACTIONS = ("chain_step_done", "chain_done", "chain_warning", "chain_breached", "sheet_listed",
                 "marked_crx", "unmarked_crx", "freight_opened", "chain_no_actor", "chain_withdrawn")
CHAIN_STEP_KEYS = tuple(step.key for chain in CHAINS.values() for step in chain.steps)
CHAIN_HISTORY = [
    HistoryItem(FILED_AT, "marked_crx", HOSTILE, {}),
    HistoryItem(FILED_AT + timedelta(hours=8), "sheet_listed", None, {"day": "2026-11-20"}),
    HistoryItem(FILED_AT + timedelta(hours=8, minutes=5), "chain_step_done", HOSTILE,
                {"chain": "sheet", "item": 1, "step": "hr_confirm", "department": None, "role": "hr",
                 "round": 0}),
    HistoryItem(FILED_AT + timedelta(hours=8, minutes=30), "chain_warning", None,
                {"chain": "sheet", "item": 1, "step": "head_sign", "department": "purchasing"}),
    HistoryItem(FILED_AT + timedelta(hours=9), "chain_breached", None,
                {"chain": "sheet", "item": 1, "step": "head_sign", "department": "purchasing"}),
    HistoryItem(FILED_AT + timedelta(days=3), "chain_step_done", "總經理",
                {"chain": "sheet", "item": 1, "step": "gm_decision", "department": None,
                 "role": "general_manager", "round": 0, "decision": "reject", "text": HOSTILE}),
    HistoryItem(FILED_AT + timedelta(days=3, hours=1), "freight_opened", "李小明",
                {"item": 9, "slip": "F-2026-0001", "department": "production",
                 "amount_cents": FREIGHT_AMOUNT_CENTS}),
    HistoryItem(FILED_AT + timedelta(days=3, hours=2), "chain_step_done", "財務小周",
                {"chain": "freight", "item": 9, "step": "cash_collected", "department": None,
                 "role": "order_follower", "round": 0, "amount_cents": FREIGHT_AMOUNT_CENTS}),
    HistoryItem(FILED_AT + timedelta(days=5), "chain_done", None, {"chain": "freight", "item": 9}),
    HistoryItem(FILED_AT + timedelta(days=5, hours=1), "chain_withdrawn", HOSTILE,
                {"chain": "freight", "item": 10, "number": "F-2026-0002", "reason": "金額填錯 " + HOSTILE}),
]
def worst_row(item_id: int = 1, rounds: int = 6) -> ChainView:
    """A sheet row at its longest: every text typed at the 2,000-character limit, long names,
    and the GM rejecting it `rounds` times (each round adds a VP and a GM step)."""
    long = ("很長的意見 & <說明>\n" * 200)[:2000]
    at = FILED_AT + timedelta(hours=8)
    steps = [chain_step(SHEET, "hr_confirm", done=signature("歐陽" * 25, "hr", at)),
             *(chain_step(SHEET, "head_sign", department="品質管理及客戶服務部" * 2,
                          done=signature("司馬" * 25, "head", at, "品質管理及客戶服務部" * 2))
               for _ in range(3))]
    for r in range(rounds):
        steps += [chain_step(SHEET, "vp_opinion", round=r,
                             done=signature("諸葛" * 25, "vice_president", at, text=long)),
                  chain_step(SHEET, "gm_decision", round=r,
                             done=signature("上官" * 25, "general_manager", at, decision="reject",
                                            text=long))]
    steps.append(chain_step(SHEET, "vp_opinion", round=rounds))
    return ChainView(item_id, "sheet", SHEET.label, f"P-2026-{item_id:04d}", f"P-2026-{item_id:04d}",
                     "open", steps, {}, SHEET_DAY)


SHEET_STAGES = ("new", "heads", "vp", "rejected", "amended", "done", "withdrawn")
FREIGHT_STAGES = ("new", "signed", "paid", "done", "withdrawn")


def visit_of(*, severity: Severity = Severity.MINOR, customer: str = HOSTILE,
             done: bool = False, **answers: Any) -> Visit:
    return Visit(id=7, number="P-2026-0001", customer=customer, severity=severity,
                 visitor=HOSTILE, due_at=DUE_SOON, answers=VisitAnswers(**answers),
                 done_at=DUE_SOON if done else None, overdue=False, reopened=False)


LONGEST_WORDS = HOSTILE + "客" * (MAX_WORDS - len(HOSTILE))  # the longest the visit takes
VISITS = {
    "new": visit_of(),
    "major": visit_of(severity=Severity.MAJOR),
    "method given": visit_of(method=Method.PHONE),
    "major by phone": visit_of(severity=Severity.MAJOR, method=Method.PHONE,
                               satisfaction=Satisfaction.SATISFIED, words=HOSTILE,
                               more_needed=False, done=True),
    "words next": visit_of(method=Method.IN_PERSON, satisfaction=Satisfaction.FAIRLY),
    "more next": visit_of(method=Method.WECHAT, satisfaction=Satisfaction.FAIRLY,
                          words=LONGEST_WORDS),
    "unhappy": visit_of(method=Method.LETTER, satisfaction=Satisfaction.DISSATISFIED,
                        words=LONGEST_WORDS, more_needed=True, done=True),
    "satisfied": visit_of(method=Method.PHONE, satisfaction=Satisfaction.SATISFIED,
                          words="無", more_needed=False, done=True),
    "overdue": replace(visit_of(customer="大華"), overdue=True),
    "reopened": replace(visit_of(method=Method.LETTER, satisfaction=Satisfaction.DISSATISFIED,
                                 words=HOSTILE, more_needed=False, done=True), reopened=True),
}

# The longest a case's texts may be (bot/services/cases.py), with hostile text in each.
CASES_SEEN = [
    LibraryCase(number="P-2026-0001", customer=HOSTILE + "客" * 200, brand=HOSTILE,
                problem=HOSTILE + "問" * 2000, lesson=HOSTILE + "教" * (MAX_LESSON - 20),
                tags=tuple(f"<b>x</b>標籤{i:02}" for i in range(MAX_TAGS)), marked_by=HOSTILE,
                marked_at=FILED_AT),
    LibraryCase(number="S-2026-0002", customer="", brand="", problem="", lesson="包裝要複檢",
                tags=(), marked_by="何人事", marked_at=FILED_AT),
]


def month_report(department: str | None, *, empty: bool = False) -> MonthReport:
    totals = MonthTotals(0, 0, 0, 0, 0, 0, 0, 0, 0) if empty else \
        MonthTotals(120, 80, 40, 3, 7, 5, 25000, 100, 97)
    report = MonthReport(month="2026-11", start=FILED_AT, end=FILED_AT, department=department,
                         currency="CNY", totals=totals,
                         previous=MonthTotals(100, 70, 30, 1, 9, 6, 30000, 90, 90))
    if empty:
        return report
    report.timings = [timing(key, [3.0, 4.0, 250.0], 2, 5.0) for key in
                      ("accept", "publish_process", "answer", "route", "plan", "notify")]
    report.timings.append(timing("close", [1500.0], 1, None))
    report.departments = [DepartmentFigures(f"d{i}", HOSTILE + "部" * 20, 3, 2, 10000, 40, 35)
                          for i in range(12)]
    report.appeals = AppealFigures(4, 2, 1, 0, 1, 1)
    report.followups = FollowUpFigures(100, 97, 5, {"good": 90, "bad": 7}, 2)
    report.problems = [(HOSTILE + "問" * 40, 30 - i) for i in range(10)]
    report.cases = CASES_SEEN
    return report


MONTH_REPORTS = {"company": month_report(None), "department": month_report(HOSTILE),
                 "empty": month_report(None, empty=True)}


@dataclass(frozen=True)
class Case:
    name: str  # "file.macro" as the bot calls it
    params: dict[str, Any]
    hostile: bool = False  # HOSTILE is among the params and must show (escaped in HTML)
    label: str = ""

    @property
    def id(self) -> str:
        return f"{self.name}[{self.label}]" if self.label else self.name


def build_cases() -> list[Case]:
    P, S = ComplaintKind.PRODUCT, ComplaintKind.SERVICE
    cases: list[Case] = []

    def add(name: str, hostile: bool = False, label: str = "", /, **params: Any) -> None:
        cases.append(Case(name, params, hostile, label))

    # approval.html.j2
    for kind in (P, S):
        add("approval.request", True, kind.value,
            card=card_view(kind, Status.PENDING_APPROVAL, number=None))
    add("approval.approver_unreachable", True, approver=HOSTILE)
    add("approval.approved", True, "by manager", number="P-2026-0001", approver=HOSTILE, implicit=False)
    add("approval.approved", False, "implicit", number="P-2026-0001", approver=HOSTILE, implicit=True)
    add("approval.rejected", True, "product", approver=HOSTILE, reason=HOSTILE, customer=HOSTILE)
    add("approval.rejected", True, "no customer", approver=HOSTILE, reason="資料不全\n請補充", customer="")
    add("approval.posted", False, "link", number="P-2026-0001", link="https://t.me/c/123456/78?a=1&b=2")
    add("approval.posted", False, "no link", number="S-2026-0002", link=None)
    add("approval.ask_reason")
    add("approval.decided_approved", number="P-2026-0001")
    add("approval.decided_rejected")

    # buttons.txt.j2
    for name in ("kind_product", "kind_service", "next", "back", "cancel", "submit", "approve",
                 "reject", "edit_resubmit", "confirm_departments", "verdict_accept",
                 "verdict_appeal", "join_approve", "join_refuse", "open_private", "chain_sign",
                 "chain_write", "chain_approve", "chain_amend",
                 "chain_reject", "sheet_confirm"):
        add(f"buttons.{name}")
    for name in ("fine_waive", "fine_paid"):
        add(f"buttons.{name}", False, "fine", fine_id=123456)
    for step in STEP_KEYS:
        # The card's buttons: one per department that owes a step; the department is named
        # where several may owe it at once.
        add("buttons.step", step in ("answer", "plan", "escalation"), step, step=step,
            department=HOSTILE)
        add("buttons.step", False, f"{step}-long", step=step, department="品質管理及客戶服務部門" * 2)
    add("buttons.step", False, "unknown", step="some_new_step", department=None)
    add("buttons.tick", True, "ticked", name=HOSTILE, ticked=True)
    add("buttons.tick", False, "not ticked", name="生產部", ticked=False)
    add("buttons.keep_name", True, "hostile", name=HOSTILE)
    add("buttons.keep_name", False, "long", name="陳" * 80)
    for f in (*PRODUCT_FIELDS, *SERVICE_FIELDS):
        add("buttons.edit_field", False, f.key, label=f.label)
    add("buttons.edit_field", True, "hostile", label=HOSTILE)

    # card.html.j2
    for kind in (P, S):
        add("card.kind_name", False, kind.value, kind=kind)
        add("card.body", True, kind.value, card=card_view(kind))
        add("card.record", True, kind.value, card=card_view(kind), items=HISTORY)
        add("card.card", True, f"{kind.value}-all-done",
            card=card_view(kind, Status.ANSWERED, done=len(steps_of(kind))))
    add("card.page_heading", False, "numbered", number="P-2026-0001", page=2, pages=3)
    add("card.page_heading", False, "draft", number=None, page=1, pages=2)
    add("card.record_file_caption", False, "numbered", number="P-2026-0001", pages=7)
    for status in Status:
        add("card.status_name", False, status.value, status=status)
        number = None if status in (Status.PENDING_APPROVAL, Status.REJECTED) else "P-2026-0003"
        add("card.card", True, status.value, card=card_view(P, status, number=number))
    add("card.card", True, "open-nothing-done", card=card_view(S, Status.OPEN, number="S-2026-0001",
                                                               done=0))
    add("card.card", True, "answers-partly-in",
        card=card_view(P, steps=product_answering([True, False, False])))
    add("card.card", True, "answers-none-in",
        card=card_view(P, steps=product_answering([False, False])))
    add("card.card", True, "routed", card=card_view(
        S, number="S-2026-0001", done=2,
        steps=[*step_views(S, 2)[:2], *answering([False], step="plan", label="處理方案"),
               *step_views(S, 2)[3:]]))
    add("card.card", True, "notify-waiting", card=card_view(
        S, number="S-2026-0001",
        steps=[*step_views(S, 2)[:2], *answering([True], step="plan", label="處理方案"),
               *step_views(S, 2)[3:]]))
    add("card.card", True, "appealed", card=card_view(
        P, Status.ESCALATED, round=1, steps=[*product_answering([True, True]), escalation(1)]))
    add("card.card", True, "second-appeal", card=card_view(
        P, Status.ESCALATED, round=2,
        steps=[*product_answering([True]), escalation(1, done=True), escalation(2)]))
    add("card.card", True, "appeal-answered", card=card_view(
        P, Status.ANSWERED, round=1, steps=[*product_answering([True]), escalation(1, done=True)]))
    add("card.card", True, "service-closed", card=card_view(
        S, Status.CLOSED, number="S-2026-0001", done=len(steps_of(S))))
    add("card.card", True, "no-photos-no-crx-no-dept",
        card=card_view(P, photo_count=0, is_crx=False, department_name=None, answers={}))
    add("card.card", True, "one-photo", card=card_view(P, photo_count=1))
    add("card.card", True, "due-soon", card=card_view(
        P, now=NOW, steps=timed(product_answering([True, False, False]), DUE_SOON)))
    add("card.card", True, "overdue", card=card_view(
        P, now=NOW, steps=timed(product_answering([True, False, False]), DUE_PAST)))
    add("card.card", True, "due-now", card=card_view(
        P, now=NOW, steps=timed(product_answering([False]), NOW)))
    add("card.card", True, "one-overdue-one-not", card=card_view(
        P, now=NOW, steps=[*product_answering([True]),
                           *timed(answering([False, False, False])[1:2], DUE_PAST),
                           *timed(answering([False, False, False])[2:], DUE_SOON)]))
    add("card.card", True, "due-not-yet-assigned", card=card_view(
        S, number="S-2026-0001", now=NOW,
        steps=[*timed(step_views(S, 2)[:3], DUE_SOON), *step_views(S, 2)[3:]]))
    add("card.card", True, "appeal-overdue", card=card_view(
        P, Status.ESCALATED, round=1, now=NOW,
        steps=[*product_answering([True]), replace(escalation(1), due_at=DUE_PAST)]))
    add("card.card", True, "due-no-now", card=card_view(
        P, steps=timed(product_answering([True, False]), DUE_SOON)))
    add("card.card", True, "closed-with-due-times", card=card_view(
        S, Status.CLOSED, number="S-2026-0001", now=NOW,
        steps=[replace(s, due_at=DUE_PAST) for s in step_views(S, len(steps_of(S)))]))
    add("card.record", False, "empty", card=card_view(), items=[])
    add("card.record", True, "chains", card=card_view(), items=CHAIN_HISTORY)
    add("card.record", True, "severity", card=card_view(), items=[
        HistoryItem(FILED_AT, "severity_raised", HOSTILE, {"ground": "a", "note": HOSTILE}),
        HistoryItem(FILED_AT, "severity_lowered", HOSTILE, {"reason": "誤判"}),
        HistoryItem(FILED_AT, "severity_raised", None, {"ground": "d", "automatic": True}),
        HistoryItem(FILED_AT, "major_warning", None, {"before_seconds": 1800}),
        HistoryItem(FILED_AT, "major_overdue", None, {}),
        HistoryItem(FILED_AT, "feedback_due", None, {})])
    add("card.when", moment=FILED_AT)
    for action in ("submitted", "approved", "rejected", "posted", "accepted", "step_done",
                   "answered", "closed", "escalated", "comment", "join_approved", *CHAIN_ACTIONS):
        add("card.action_name", False, action, action=action)
    add("card.accepted_notice", True, number="P-2026-0001", who=HOSTILE, department=HOSTILE,
        at=FILED_AT)
    add("card.accepted_private", True, number="P-2026-0001", department=HOSTILE)

    # card.txt.j2
    add("card.topic_name", True, "product", card=card_view(P))
    add("card.topic_name", True, "service", card=card_view(S, number="S-2026-0001"))
    add("card.topic_name", False, "no customer", card=card_view(P, answers={}))
    for status in (Status.OPEN, Status.ANSWERED, Status.ESCALATED, Status.CLOSED):
        add("card.topic_name", True, status.value, card=card_view(P, status))
    for status in Status:
        add("card.status_prefix", False, status.value, status=status)

    # commands.txt.j2
    for name in sorted({*PRIVATE_ANYONE, *PRIVATE_MEMBER, *GROUP_ADMIN, *FINES_HR}):
        add(f"commands.{name}")

    # errors.txt.j2
    for name in ("admins_only", "stale_button", "no_form", "kind_not_available", "already_decided",
                 "step_done", "reason_empty", "bad_name", "show_usage", "private_only",
                 "group_only", "internal", "answer_empty", "choose_one", "answer_where",
                 "fines_not_allowed", "fines_hr_only", "fines_usage", "fines_own_department",
                 "board_not_allowed",
                 "waive_usage", "paid_usage", "chain_step_done", "chain_text_empty",
                 "amount_not_number", "amount_not_positive", "amount_decimals",
                 "freight_followers_only", "freight_waybill", "freight_choose_bearer",
                 "freight_usage", "freight_export_not_allowed", "freight_xlsx_usage",
                 "sheet_not_allowed", "sheet_usage", "crx_usage", "crx_hr_only"):
        add(f"errors.{name}")
    add("errors.split_tail")
    for role in ("hr", "head", "responsible_head", "bearer_head", "vice_president",
                 "general_manager", "order_desk", "order_desk_manager", "order_follower",
                 "finance", "some_new_role"):
        department = "品質管理及客戶服務部門" if "head" in role else ""
        add("errors.chain_not_yours", False, role, step="人力資源部跟進責任部門承擔運費", role=role,
            department=department)
    add("errors.chain_not_yours", True, "hostile department", step="承擔部門負責人簽字",
        role="head", department=HOSTILE)
    for what in ("reject", "appeal", "waive"):  # each reason named as its own
        add("errors.reason_empty", False, what, what=what)
    add("errors.chain_not_started", at=NEXT_MORNING)
    add("errors.amount_too_large", max="1,000,000")
    add("errors.freight_carrier", max=50)
    add("errors.freight_no_finance")
    add("errors.no_sheet", day="2026-11-27")
    add("errors.step_not_open", number="P-2026-0001")
    add("errors.only_departments", True, "several", departments=[HOSTILE, "採購部", "物流部"])
    add("errors.only_departments", False, "one", departments=["人力資源部"])
    add("errors.not_member", True, "admins", admins=[HOSTILE, "陳大文"])
    add("errors.not_member", False, "no admins", admins=[])
    add("errors.form_incomplete", False, "all", fields=[f.label for f in asked_fields(P)])
    add("errors.form_incomplete", True, "hostile", fields=[HOSTILE])
    for name in ("no_head", "only_head", "only_head_or_admin", "only_department"):
        add(f"errors.{name}", True, department=HOSTILE)
    add("errors.too_long", max=1000, length=1234)
    add("errors.no_such_complaint", True, number=HOSTILE)
    add("errors.not_allowed_to_see", number="P-2026-0001")
    add("errors.no_such_fine", fine_id=17)
    for code in ("waived", "paid"):
        add("errors.fine_already", False, code, fine_id=17, status=code)
    add("errors.no_such_department", True, name=HOSTILE)

    # form.html.j2
    for kind in (P, S):
        add("form.title", False, kind.value, kind=kind)
        for f in asked_fields(kind):
            s = screen(kind, f)
            hostile = f.key == "complainant"
            add("form.prompt", hostile, f"{kind.value}-{f.key}", field=f, screen=s)
            add("form.ask", hostile, f"{kind.value}-{f.key}", screen=s, field=f)
        for f in fields_of(kind):
            add("form.value", ANSWERS[kind].get(f.key) == HOSTILE, f"{kind.value}-{f.key}",
                screen=screen(kind), f=f)
            add("form.value", False, f"{kind.value}-{f.key}-empty",
                screen=screen(kind, answers={}, photo_count=0), f=f)
        add("form.summary", True, kind.value, screen=screen(kind), fields=fields_of(kind))
    problem = PRODUCT_FIELDS[5]
    ship_date = PRODUCT_FIELDS[2]
    for error in INVALIDS:
        label = f"{error.reason}-{error.params.get('year', '')}"
        add("form.invalid", False, label, error=error, field=ship_date)
        add("form.invalid", False, f"{label}-summary", error=error, field=None)
        add("form.ask", False, label, screen=screen(P, ship_date, error=error), field=ship_date)
        add("form.summary", True, label, screen=screen(P, error=error), fields=PRODUCT_FIELDS)
    pasted = screen(P, ship_date, pasted=True, missing=[PRODUCT_FIELDS[3], PRODUCT_FIELDS[4]],
                    invalid=[(ship_date, INVALIDS[4]), (PRODUCT_FIELDS[1], INVALIDS[1])])
    add("form.pasted_notice", False, "to fill", screen=pasted)
    add("form.pasted_notice", False, "invalid only",
        screen=screen(P, pasted=True, invalid=[(ship_date, INVALIDS[6])]))
    add("form.pasted_notice", False, "missing only",
        screen=screen(S, pasted=True, missing=[SERVICE_FIELDS[2]]))
    add("form.ask", False, "pasted", screen=pasted, field=ship_date)
    add("form.summary", True, "pasted complete", screen=screen(P, pasted=True), fields=PRODUCT_FIELDS)
    add("form.ask", False, "photo added",
        screen=screen(P, problem, photo_added=True, photo_count=1, error=INVALIDS[9]), field=problem)
    add("form.ask", False, "photo added, caption too long",
        screen=screen(P, problem, photo_added=True, photo_count=4, error=INVALIDS[10]), field=problem)
    for name in ("resumed", "cancelled", "nothing_to_cancel", "submitted_self"):
        add(f"form.{name}")
    add("form.submitted", True, approver=HOSTILE)

    # general.html.j2
    add("general.choose_language")
    add("general.language_fixed")
    for lang in LANGUAGES:
        add("general.language_chosen", False, lang, language=HOSTILE if lang == "en" else lang)
        add("buttons.language_name", False, lang, language=lang)
    add("errors.language_fixed")
    # severity.html.j2 (ch. 9: /major, /minor)
    add("severity.major_usage", grounds=GROUND_WORDS)
    for ground in MajorGround:
        add("severity.marked", True, f"{ground.value} told", number="P-2026-0001", ground=ground,
            words=GROUND_WORDS[ground], told=HOSTILE)
        add("card.card", False, f"major {ground.value}",
            card=card_view(severity=Severity.MAJOR, severity_ground=ground))
    add("severity.marked", False, "no head", number="P-2026-0001", ground=MajorGround.LOSS_OR_INJURY,
        words=GROUND_WORDS[MajorGround.LOSS_OR_INJURY], told=None)
    add("severity.reported", True, "note", number="P-2026-0001", ground="b",
        words=GROUND_WORDS[MajorGround.DISRUPTED], note=HOSTILE, who=HOSTILE, due=DUE_SOON)
    add("severity.reported", True, "no note", number="P-2026-0001", ground="a",
        words=GROUND_WORDS[MajorGround.NOT_DELIVERED], note="", who=HOSTILE, due=None)
    add("severity.reported", False, "by itself", number="P-2026-0001", ground="d",
        words=GROUND_WORDS[MajorGround.UNRESOLVED_10_DAYS], note="", who=None, due=DUE_SOON)
    for late in (False, True):
        add("severity.resolve_warning", False, f"late={late}", number="P-2026-0001",
            left=timedelta(minutes=30), due=DUE_SOON, late=late)
        add("severity.resolve_overdue", False, f"late={late}", number="P-2026-0001",
            due=DUE_PAST, late=late)
    add("card.card", False, "major due", card=card_view(
        severity=Severity.MAJOR, severity_ground=MajorGround.LOSS_OR_INJURY, major_due=DUE_SOON,
        now=FILED_AT))
    add("card.card", False, "major overdue", card=card_view(
        severity=Severity.MAJOR, severity_ground=MajorGround.LOSS_OR_INJURY, major_due=FILED_AT,
        now=DUE_SOON))
    add("severity.lowered", number="P-2026-0001")
    # feedback.html.j2 (ch. 9: the 24-hour progress note)
    waiting = [(HOSTILE, "質量鑒定結果和處理意見"), ("採購部", "質量鑒定結果和處理意見")]
    for status, number in ((Status.PENDING_APPROVAL, None), (Status.OPEN, "P-2026-0001")):
        for late in (False, True):
            label = f"{status.value} late={late}"
            add("feedback.progress", True, label, number=number, status=status,
                waiting=waiting, filed=FILED_AT, late=late)
            add("feedback.intake_told", True, label, number=number, complainant=HOSTILE,
                status=status, waiting=waiting, filed=FILED_AT, late=late)
    add("feedback.progress", False, "waiting on no one", number="P-2026-0001",
        status=Status.APPROVED, waiting=[], filed=FILED_AT, late=False)
    add("feedback.intake_told", True, "waiting on no one", number="P-2026-0001",
        complainant=HOSTILE, status=Status.APPROVED, waiting=[], filed=FILED_AT, late=False)
    add("feedback.where", True, waiting=waiting)
    # followup.html.j2 (ch. 9: the follow-up visit, 回訪)
    for name, visit in VISITS.items():
        hostile = visit.customer == HOSTILE or bool(visit.answers.words)
        add("followup.question", hostile, name, visit=visit)
        add("followup.card_line", False, name, visit=visit)
        add("followup.line", visit.customer == HOSTILE, name, visit=visit)
        add("card.card", True, f"visit {name}", card=card_view(P, Status.CLOSED if not visit.reopened
                                                               else Status.REOPENED, visit=visit))
    visit, unhappy = VISITS["new"], VISITS["unhappy"]
    add("followup.about", True, "customer", visit=visit)
    add("followup.about", False, "no customer", visit=replace(visit, customer=""))
    add("followup.more_words", False, "yes", more=True)
    add("followup.more_words", False, "no", more=False)
    add("followup.answers", True, a=unhappy.answers)
    add("followup.kept_closed", True, visit=unhappy)
    add("followup.nobody_to_visit", True, visit=visit)
    add("followup.thread_recorded", True, who=HOSTILE, visit=unhappy)
    add("followup.thread_recorded", True, "major by phone", who=HOSTILE,
        visit=VISITS["major by phone"])
    add("followup.unhappy_head", True, who=HOSTILE, visit=unhappy)
    add("followup.thread_reopened", True, who=HOSTILE, visit=unhappy, departments=[HOSTILE, "採購部"],
        round=2, due=DUE_SOON)
    add("followup.reopened_head", True, visit=unhappy, department=HOSTILE, due=DUE_SOON)
    add("followup.reopened_complainant", visit=unhappy)
    for late in (False, True):
        add("followup.reminder", True, f"late={late}", visit=visit, left=timedelta(minutes=30),
            late=late)
        for fine in (None, Money(5000, "CNY")):
            label = f"late={late} fine={fine is not None}"
            add("followup.overdue", True, label, visit=visit, late=late, fine=fine)
            add("followup.overdue_visitor", True, label, visit=visit, late=late, fine=fine)
    add("followup.overdue", True, "no visitor", visit=replace(visit, visitor=None), late=False,
        fine=None)
    add("followup.fine_note", False, "fine", fine=Money(5000, "CNY"))
    add("followup.fine_note", False, "none", fine=None)
    add("followup.listing", True, "mine and others",
        waiting=Waiting([visit, VISITS["overdue"]], 2, [VISITS["major"]], 1))
    # The longest: LISTED of each, long customers and visitors, and more not listed.
    longest_visit = replace(visit, customer=HOSTILE + "客" * 200, visitor=HOSTILE + "人" * 50)
    add("followup.listing", True, "longest",
        waiting=Waiting([longest_visit] * LISTED_VISITS, 500, [longest_visit] * LISTED_VISITS, 900))
    add("followup.listing", False, "nothing", waiting=Waiting([], 0, [], 0))
    add("followup.more", False, "more", listed=[visit], count=3)
    add("followup.more", False, "all", listed=[visit], count=1)
    add("card.record", True, "visit", card=card_view(P, Status.CLOSED, visit=unhappy), items=[
        HistoryItem(FILED_AT, "followup_opened", None, {"round": 0}),
        HistoryItem(FILED_AT, "followup_warning", None, {"before_seconds": 1800}),
        HistoryItem(FILED_AT, "followup_overdue", None, {}),
        HistoryItem(FILED_AT, "fine_levied", None, {"amount": "50"}),
        HistoryItem(FILED_AT, "followup_recorded", HOSTILE, {"visit": unhappy.answers}),
        HistoryItem(FILED_AT, "reopened", HOSTILE, {"round": 1}),
        HistoryItem(FILED_AT, "followup_kept_closed", HOSTILE, {})])
    # cases.html.j2 (ch. 9: the typical-case library)
    add("cases.marked", True, "tags", case=CASES_SEEN[0])
    add("cases.marked", True, "no tags", case=replace(CASES_SEEN[0], tags=()))
    add("cases.unmarked", number="P-2026-0001")
    add("cases.usage")
    add("cases.tags", False, case=CASES_SEEN[0])  # (tags have no spaces: escaped, checked above)
    add("cases.entry", True, "full", case=CASES_SEEN[0])
    add("cases.entry", False, "bare", case=CASES_SEEN[1])
    add("cases.search", True, "found", cases=CASES_SEEN, count=25, words=HOSTILE)
    add("cases.search", True, "longest", cases=[CASES_SEEN[0]] * LISTED_CASES, count=300,
        words=HOSTILE * 10)
    add("cases.search", False, "none found", cases=[], count=0, words="包裝")
    add("cases.search", False, "empty library", cases=[], count=0, words="")
    for name in ("case_usage", "not_allowed_to_mark_case", "not_member_cases", "export_usage"):
        add(f"errors.{name}")
    for name in ("case_not_closed", "not_a_case"):
        add(f"errors.{name}", number="P-2026-0001")
    add("errors.too_many_tags", max=10)
    add("errors.case_not_yours", number="P-2026-0001")
    # card.html.j2: the record as a file (/export, the archive chat)
    add("card.record_document_title", False, "numbered", number="P-2026-0001")
    add("card.record_document_title", False, "draft", number=None)
    add("card.record_photos_heading", count=3)
    add("card.record_photo_missing", index=2)
    add("card.record_document_footer", at=FILED_AT)
    add("card.record_document_caption", False, "photos", number="P-2026-0001", photos=3)
    add("card.record_document_caption", False, "none", number=None, photos=0)
    add("card.record_on_its_way", number="P-2026-0001")
    # analysis.html.j2 / analysis.txt.j2 (ch. 9: the monthly analysis report)
    for label, report in MONTH_REPORTS.items():
        add("analysis.summary", label != "empty", label, report=report,
            steps={x.key: HOSTILE for x in report.timings},
            money_of=lambda cents: Money(cents, "CNY"))
    add("analysis.workbook_caption", month="2026-11")
    add("analysis.chart_caption", True, title=HOSTILE)
    add("analysis.pct", False, "some", value=0.755)
    add("analysis.pct", False, "none", value=None)
    add("analysis.mins", False, "some", value=12.34)
    add("analysis.mins", False, "none", value=None)
    for now, before in ((3, 1), (1, 3), (2, 2)):
        add("analysis.delta", False, f"{now}-{before}", now=now, before=before)
    add("analysis.scope", False, "company", month="2026-11", department=None)
    add("analysis.scope", True, "department", month="2026-11", department=HOSTILE)
    for name in ("sheet_names", "kinds", "severities", "yes_no", "statuses", "metrics",
                 "summary_columns", "dimensions", "count_columns", "weekly_columns",
                 "timing_columns", "close_step", "department_columns", "appeal_columns",
                 "appeal_rows", "visit_columns", "problem_columns", "case_columns",
                 "record_columns", "record_times", "chart_titles", "chart_units"):
        add(f"analysis.{name}")
    add("sender.unexpected_error", True, "complaint", what=HOSTILE, place="command",
        detail=HOSTILE, number="P-2026-0001")
    add("sender.unexpected_error", True, "none", what="x" * 300 + HOSTILE, place="deadline",
        detail="", number=None)
    for place in ERROR_PLACES:
        add("sender.failed_where", False, place, place=place, detail="/mine")
    add("errors.report_usage")
    add("errors.report_not_allowed")
    add("errors.report_future", month="2027-01")
    add("buttons.followup_more", False, "yes", more=True)
    add("buttons.followup_more", False, "no", more=False)
    add("buttons.followup_reopen")
    add("buttons.followup_keep_closed")
    add("buttons.followup_record", number="P-2026-0001")
    add("buttons.step", False, "revisit", step="revisit", department=HOSTILE)
    add("errors.followup_words_empty")
    for name in ("followup_done", "not_your_followup"):
        add(f"errors.{name}", number="P-2026-0001")
    add("card.topic_name", True, "major", card=card_view(severity=Severity.MAJOR,
                                                        severity_ground=MajorGround.DISRUPTED,
                                                        answers={"customer": HOSTILE}))
    for name in ("major_usage", "minor_usage"):
        add(f"errors.{name}")
    for name in ("not_allowed_to_grade", "not_allowed_to_lower", "already_major", "not_major",
                 "grade_closed"):
        add(f"errors.{name}", number="P-2026-0001")
    add("buttons.language_follow_app")
    # Fragments the layouts slot into sentences
    add("approval.for_customer", True, "customer", customer=HOSTILE)
    add("approval.for_customer", False, "none", customer="")
    add("approval.view_link", False, "link", link=LINK)
    add("approval.view_link", False, "none", link=None)
    add("card.field_line", True, f=PRODUCT_FIELDS[1], answer=HOSTILE)
    add("chains.in_department", True, "department", department=HOSTILE)
    add("chains.in_department", False, "none", department=None)
    add("chains.waiting_step", True, s=chain_step(SHEET, "head_sign", department=HOSTILE))
    add("sender.about", False, "number", number="P-2026-0001")
    add("sender.about", False, "none", number=None)
    add("sender.addressed", True, "recipient", recipient=HOSTILE)
    add("sender.addressed", False, "none", recipient=None)
    add("general.welcome", True, "member", person=person())
    add("general.welcome", False, "newcomer", person=person(department_key=None, department_name=None))
    for label, names in (("private", PRIVATE_MEMBER), ("group", GROUP_ADMIN)):
        add("general.help", False, label, person=person(),
            commands=[(name, f"description of /{name} <{name}> & more") for name in names])
    add("general.help", False, "newcomer", person=person(department_key=None, department_name=None),
        commands=[(name, f"description of /{name}") for name in PRIVATE_ANYONE])
    add("general.bound", True, title=HOSTILE)
    add("general.complain_here")
    add("general.idle_hint")
    for buttons in (False, True):  # before a question asked again (handlers.forms.ask_again)
        add("general.typed_answer_needed", False, f"buttons={buttons}", buttons=buttons)
    add("general.unknown_command", True, "hostile", command=HOSTILE, suggestions=[])
    add("general.unknown_command", False, "one near", command="fine", suggestions=["fines"])
    add("general.unknown_command", False, "three near", command="fre",
        suggestions=["freight", "freight_xlsx", "fund"])
    add("general.unknown_command", False, "long", command="x" * 64, suggestions=[])
    add("general.group_setup_problem", True, problems=[HOSTILE, "cannot manage topics"])
    add("general.group_setup_problem", False, "one", problems=["cannot pin messages"])

    # lists.html.j2
    add("lists.mine", True, "several", lines=LINES)
    add("lists.mine", False, "none", lines=[])
    for i, line in enumerate(LINES):
        add("lists.line", line.customer == HOSTILE, f"{i}-{line.status.value}", item=line)
    add("lists.owed", True, "several", department=HOSTILE, lines=OWED)
    add("lists.owed", True, "none", department=HOSTILE, lines=[])
    add("lists.owed", True, "major first", department=HOSTILE,
        lines=[replace(OWED[0], major=True), *OWED[1:]])
    add("lists.mine", True, "major", lines=[replace(LINES[0], major=True)])

    # outcome.html.j2
    add("outcome.answers", True, "product", number="P-2026-0001", items=PRODUCT_ITEMS)
    add("outcome.answers", True, "service", number="S-2026-0001", items=SERVICE_ITEMS)
    add("outcome.answers", True, "appeal", number="P-2026-0001", items=APPEAL_ITEMS, appeal=1)
    add("outcome.answers", True, "revisit", number="P-2026-0001", items=APPEAL_ITEMS,
        revisit=True)
    add("outcome.answers", True, "files only", number="S-2026-0001", items=FILES_ONLY_ITEMS)
    add("outcome.answers", False, "no items", number="P-2026-0001", items=[], appeal=2)
    add("outcome.closed_private", number="P-2026-0001")
    add("outcome.thread_closed", True, number="P-2026-0001", who=HOSTILE)
    add("outcome.ask_reason", number="P-2026-0001")
    add("outcome.choose_body", number="P-2026-0001")
    add("outcome.escalated_private", True, body=HOSTILE)
    add("outcome.thread_escalated", True, number="P-2026-0001", body=HOSTILE,
        reason="處理太慢\n<i>不合理</i> & " + HOSTILE, who=HOSTILE, round=1)
    add("outcome.escalated_head", True, number="P-2026-0001", body=HOSTILE,
        reason="處理太慢\n" + HOSTILE)

    # steps.html.j2
    add("steps.mention", True, who=HOSTILE, mention_id=1001)
    for step in (*STEP_KEYS, *CHAIN_STEP_KEYS, "some_new_step"):
        add("steps.step_name", False, step, step=step)
    for step in ("route", "publish_process"):  # 分流 picks one; 打單部 ticks several
        add("steps.choose", True, step, **STEP_BASE, step=step)
    for step in ("publish_process", "plan", "notify", "escalation", "some_new_step"):
        add("steps.ask_text", True, step, **STEP_BASE, step=step)
    add("steps.ask_assessment", True, **STEP_BASE, step="answer")
    add("steps.ask_opinion", True, **STEP_BASE, step="answer")
    for step, parts, files in (
            ("answer", {"assessment": HOSTILE, "opinion": "退貨\n<b>全數</b>"}, 2),
            ("publish_process", {"text": HOSTILE}, 0),
            ("publish_process", {"text": ""}, 3),  # photos only
            ("plan", {"text": "安排培訓 & 致歉"}, 1),
            ("notify", {"text": "已致電客戶"}, 0),
            ("escalation", {"text": "維持原判"}, 0)):
        add("steps.thread_recorded", True, f"{step}-{files}", number="P-2026-0001", step=step,
            department=HOSTILE, who=HOSTILE, parts=parts, files=files)
    # The configured deadline and its due time (local), as bot/services/handling.py passes them.
    for label, delta in (("2h", timedelta(hours=2)), ("90min", timedelta(minutes=90)),
                         ("1min", timedelta(minutes=1)), ("9s", timedelta(seconds=9)),
                         ("16h", timedelta(hours=16))):
        add("steps.duration", False, label, delta=delta)
    add("steps.due_time", due=DUE_SOON)
    add("steps.thread_assigned", True, "answer", number="P-2026-0001",
        departments=[HOSTILE, "採購部"], step="answer", within=timedelta(hours=2), due=DUE_SOON)
    add("steps.thread_assigned", False, "plan", number="S-2026-0001", departments=["物流部"],
        step="plan", within=timedelta(minutes=90), due=DUE_SOON)
    for step in ("answer", "plan"):
        add("steps.assigned_head", True, step, number="P-2026-0001", step=step, department=HOSTILE,
            within=timedelta(seconds=9), due=DUE_SOON)
    add("steps.plan_arrived_head", number="S-2026-0001", within=timedelta(minutes=10), due=DUE_SOON)

    # deadlines.html.j2 (called by bot.services.deadlines.DeadlineEngine)
    add("deadlines.minutes", False, "30", delta=timedelta(minutes=30))
    add("deadlines.minutes", False, "2h", delta=timedelta(hours=2))
    add("deadlines.minutes", False, "0", delta=timedelta(seconds=20))
    add("deadlines.due_text", False, "due", due=DUE_SOON)
    add("deadlines.due_text", False, "none", due=None)
    for late in (False, True):
        add("deadlines.late_note", False, f"late={late}", late=late)
    for late in (False, True):
        for left in (timedelta(minutes=30), timedelta(minutes=5)):
            for name in ("thread_warning", "thread_warning_line", "head_warning"):
                add(f"deadlines.{name}", True, f"late={late}-{left}", **DEADLINE_FACTS,
                    left=left, late=late)
        for name in ("thread_breach", "thread_breach_line", "head_breach"):
            add(f"deadlines.{name}", True, f"late={late}", **DEADLINE_FACTS, late=late)
        for name in ("hr_breach", "hr_breach_line"):
            add(f"deadlines.{name}", True, f"no fine-late={late}", **DEADLINE_FACTS, late=late,
                fine=None, head=None, fine_id=None)
            add(f"deadlines.{name}", True, f"fine-late={late}", **DEADLINE_FACTS, late=late,
                fine=Money(5000, "CNY"), head=HOSTILE, fine_id=17)
    for name in ("hr_breach", "hr_breach_line"):
        add(f"deadlines.{name}", True, "fine-no head", **DEADLINE_FACTS, late=False,
            fine=Money(5000, "CNY"), head=None, fine_id=17)
    add("deadlines.hr_breach", False, "service", **{**DEADLINE_FACTS, "department": "物流部"},
        late=False, fine=Money(105000, "CNY"), head="李小明", fine_id=18)
    for name in ("thread_warning", "thread_warning_line", "head_warning"):
        add(f"deadlines.{name}", True, "no due", **{**DEADLINE_FACTS, "due": None},
            left=timedelta(minutes=30), late=False)
    for name in ("thread_breach", "thread_breach_line", "head_breach"):
        add(f"deadlines.{name}", True, "no due", **{**DEADLINE_FACTS, "due": None}, late=False)
    for head in (HOSTILE, None):
        for name in ("thread_fine", "thread_fine_line"):
            add(f"deadlines.{name}", True, f"head={head is not None}", **FINE_FACTS, head=head)
    add("deadlines.head_fine", True, **FINE_FACTS)

    # fines.html.j2
    for code in ("levied", "waived", "paid", "some_new_status"):
        add("fines.status_name", False, code, status=code)
    add("fines.amount", False, "50", value=Decimal("50"), currency="CNY")
    add("fines.amount", False, "1234.5", value=Decimal("1234.5"), currency="HKD")
    add("fines.amount", False, "0", value=Decimal(0), currency="CNY")
    add("fines.fund", True, "departments and totals", totals=FUND_TOTALS)
    add("fines.fund", False, "totals only", totals=sum_totals(fines_totals(FINE_ROWS)))
    add("fines.fund", True, "one department", totals=fines_totals(FINE_ROWS[:1]))
    add("fines.fund", False, "none", totals=[])
    add("fines.listing", True, "all departments", listing=listing(FINE_ROWS))
    add("fines.listing", True, "one department", listing=listing(FINE_ROWS[:1], HOSTILE))
    add("fines.listing", True, "empty, department", listing=listing([], HOSTILE))
    add("fines.listing", False, "empty", listing=listing([]))
    add("fines.listing", False, "40", listing=listing(many_fines(40)))
    add("fines.listing", False, "45", listing=listing(many_fines(45), "生產部"))
    for key in ("today", "week", "month", "2026-11-01..2026-11-15"):
        add("fines.listing", False, key, listing=listing(FINE_ROWS[2:], period=replace(PERIOD, key=key)))
        add("fines.workbook_caption", False, key, listing=listing(FINE_ROWS[2:],
                                                                period=replace(PERIOD, key=key)))
    add("fines.workbook_caption", True, "department", listing=listing(FINE_ROWS, HOSTILE))
    add("fines.workbook_caption", False, "empty", listing=listing([]))
    add("fines.ask_waive_reason", False, "private", fine_id=17)
    add("fines.ask_waive_reason", False, "pressed in HR's group", fine_id=17, private=False)
    for code in ("waived", "paid"):
        add("fines.changed", False, code, fine_id=17, status=code, money=Money(5000, "CNY"))
    add("fines.head_changed", True, "waived", fine_id=17, status="waived", reason=HOSTILE,
        who=HOSTILE, money=Money(5000, "CNY"))
    add("fines.head_changed", True, "waived multiline", fine_id=17, status="waived",
        reason="客戶原因\n經理批准 & <不計>", who=HOSTILE, money=Money(105000, "CNY"))
    add("fines.head_changed", True, "paid", fine_id=17, status="paid", reason=None, who=HOSTILE,
        money=Money(5000, "CNY"))
    add("fines.daily_summary", True, "busy day", summary=SUMMARY)
    add("fines.daily_summary", False, "quiet day", summary={**SUMMARY, "departments": [],
                                                            "at_risk": []})
    add("fines.daily_summary", True, "breaches only", summary={**SUMMARY, "at_risk": []})
    add("fines.daily_summary", True, "at risk only", summary={**SUMMARY, "departments": []})
    add("fines.daily_summary", False, "due soon only", summary={
        **SUMMARY, "departments": [], "at_risk": SUMMARY["at_risk"][1:]})

    # board.txt.j2 (HR's board, a Mini App: plain words the page puts in as text)
    for name in ("title", "open_complaints", "fines", "charts", "all_departments", "all_kinds",
                 "all_severities", "owner", "due", "none_open", "none_fines", "month",
                 "load_charts", "no_charts", "more", "unassigned", "scope_all", "scope_own",
                 "fine_columns", "menu_button", "not_signed_in"):
        add(f"board.{name}")
    add("board.scope_department", True, name=HOSTILE)
    for minutes in (-75, 0, 119):
        add("board.left", False, str(minutes), minutes=minutes)
    for kind_key in ("product", "service"):
        add("board.kind", False, kind_key, kind=kind_key)
    add("board.severity", False, "major", major=True)
    add("board.severity", False, "minor", major=False)
    add("board.amount", False, money=Money(123450, "CNY"))
    add("board.total", False, money=Money(123450, "CNY"))

    # demo.txt.j2 (`make demo`'s page: plain words the page puts in as text)
    for name in ("title", "tour", "workgroup", "general", "acting_as", "send",
                 "placeholder", "private", "bot", "tour_filing", "tour_approval", "tour_accept",
                 "tour_answers", "tour_verdict", "tour_done", "tour_stopped"):
        add(f"demo.{name}")
    for speed in (60, 600, 7.5):
        add("demo.intro", False, str(speed), speed=speed)
        add("demo.tour_late", False, str(speed), speed=speed)
    for kind_key in ("photo", "document", "sticker", ""):
        add("demo.media", False, kind_key, kind=kind_key)

    # reports.txt.j2 (plain text: the XLSX report's headings)
    for name in ("fines_sheet", "totals_sheet", "fine_columns", "totals_columns", "total"):
        add(f"reports.{name}")
    for key in ("today", "week", "month", "2026-11", "2026-11-01..2026-11-15", "2026-11-26..2026-11-26"):
        add("reports.period", False, key, key=key)
    add("reports.title", True, "department", period="2026-11", department=HOSTILE)
    add("reports.title", False, "all", period="week", department=None)
    for code in ("levied", "waived", "paid"):
        add("reports.status", False, code, status=code)
    for name in ("sheet_name", "sheet_columns", "freight_sheet_name", "freight_columns"):
        add(f"reports.{name}")
    add("reports.sheet_title", day=SHEET_DAY)
    for key in ("2026-11", "month", "2026-11-01..2026-11-15"):
        add("reports.freight_title", False, key, period=key)
    for role in ("hr", "head", "vice_president", "general_manager", "gm_assistant", "order_desk",
                 "order_desk_head", "order_desk_assistant", "order_follower", "finance",
                 "some_new_role"):
        add("reports.role_label", False, role, role=role)
    for stage in SHEET_STAGES:
        row = sheet_row(stage)
        add("reports.chain_status", False, f"sheet-{stage}", item=row)
        for i, done in enumerate(s for s in row.steps if s.done):
            add("reports.signature", signed_hostile(done), f"sheet-{stage}-{i}-{done.key}",
                step=done)
    for stage in FREIGHT_STAGES:
        slip = freight_slip(stage)
        add("reports.chain_status", stage == "new", f"freight-{stage}", item=slip)
        for done in slip.steps:
            if done.done:
                add("reports.signature", signed_hostile(done), f"freight-{stage}-{done.key}",
                    step=done)

    # sender.html.j2 (bot.sender: digests, delivery problems told to the admins)
    for count in (3, 12):
        add("sender.digest_heading", False, str(count), count=count)
    for buttons in (True, False):
        add("sender.private_digest_heading", False, f"buttons={buttons}", count=45, buttons=buttons)
    add("sender.blocked", True, name=HOSTILE)
    add("sender.fallback", False, "numbered", number="P-2026-0001")
    add("sender.fallback", False, "no number", number=None)
    add("sender.fell_back", True, "all", recipient=HOSTILE, number="P-2026-0001",
        error="Bad Request: message is too long")
    add("sender.fell_back", False, "thread", recipient=None, number=None,
        error="Bad Request: can't parse entities")
    add("sender.blocked", False, "user id", name="123456789")
    add("sender.failed", True, "all", recipient=HOSTILE, number="P-2026-0001",
        error="Bad Request: can't parse entities: unsupported start tag \"x&y\" at byte offset 3 "
              + HOSTILE)
    add("sender.failed", False, "group", recipient=None, number="P-2026-0001",
        error="Bad Request: message thread not found")
    add("sender.failed", True, "no complaint", recipient=HOSTILE, number=None,
        error="Bad Request: chat not found")
    add("sender.failed", False, "neither", recipient=None, number=None,
        error="Forbidden: bot was kicked from the supergroup chat")

    # chains.html.j2 (bot/services/chains.py, sheets.py, freight.py; rules 一.4 and 三)
    for role in ("hr", "head", "responsible_head", "bearer_head", "vice_president",
                 "general_manager", "gm_assistant", "order_desk", "order_desk_manager",
                 "order_desk_head", "order_desk_assistant", "order_follower", "finance",
                 "some_new_role"):
        add("chains.role_name", False, role, role=role)
    add("chains.when", moment=FILED_AT)
    for label, value, hostile in (("approve", {"decision": "approve"}, False),
                                  ("amend", {"decision": "amend", "text": HOSTILE}, True),
                                  ("reject", {"decision": "reject", "text": HOSTILE}, True),
                                  ("amount", {"amount_cents": 123450}, False),
                                  ("one fen", {"amount_cents": 1}, False),
                                  ("text", {"text": HOSTILE}, True),
                                  ("signature only", {}, False)):
        add("chains.value_text", hostile, label, value=value)
    for label, sig in (
            ("hostile who and text", signature(HOSTILE, "vice_president", FILED_AT, None,
                                               text="換貨\n" + HOSTILE)),
            ("department", signature(HOSTILE, "head", FILED_AT, HOSTILE)),
            ("reject", signature(HOSTILE, "general_manager", FILED_AT, decision="reject",
                                 text="金額過高 & 不合理")),
            ("amount", signature(HOSTILE, "order_follower", FILED_AT, amount_cents=99999999))):
        add("chains.signature", True, label, s=sig)
    for stage in SHEET_STAGES:
        row = sheet_row(stage)
        add("chains.item_title", False, f"sheet-{stage}", item=row)
        add("chains.slip_facts", False, f"sheet-{stage}", item=row)
        hostile = stage != "new"  # HR's signature (who) and the heads' departments
        add("chains.progress", hostile, f"sheet-{stage}", item=row)
        add("chains.complainant_stage", hostile, f"sheet-{stage}", item=row,
            label=row.steps[-1].label)
        if stage in ("rejected", "amended"):  # the GM's decision, said as what was decided
            for gm_said in ("approve", "amend", "reject"):
                add("chains.complainant_stage", True, f"sheet-{stage}-{gm_said}", item=row,
                    label="總經理意見", decision=gm_said)
        # The card shows the last signature and what is waiting, not every step.
        add("chains.card_chains", False, f"sheet-{stage}", chains=[row])
    add("chains.item_title", False, "sheet without a day", item=sheet_row("new", sheet_day=None))
    add("chains.case_facts", False, "hostile", item=sheet_row("vp"))
    for stage in FREIGHT_STAGES:
        slip = freight_slip(stage)
        add("chains.item_title", False, f"freight-{stage}", item=slip)
        add("chains.slip_facts", True, f"freight-{stage}", item=slip)
        add("chains.progress", True, f"freight-{stage}", item=slip)
        add("chains.card_chains", False, f"freight-{stage}", chains=[slip])
    add("chains.card_chains", True, "sheet and two slips",
        chains=[sheet_row("amended"), freight_slip("paid"),
                freight_slip("new", item_id=10, number="F-2026-0002")])
    add("chains.card_chains", False, "none", chains=[])
    # The step's actors are told it is theirs, one message per step.
    for chain, stage, key, hostile in ((SHEET, "new", "hr_confirm", False),
                                       (SHEET, "heads", "head_sign", True),
                                       (SHEET, "vp", "vp_opinion", True),
                                       (SHEET, "rejected", "vp_opinion", True),
                                       (SHEET, "vp", "gm_decision", True),
                                       (SHEET, "amended", "execution", True),
                                       (FREIGHT, "new", "bearer_sign", True),
                                       (FREIGHT, "signed", "cash_collected", True),
                                       (FREIGHT, "paid", "honoured", True)):
        spec = chain.step(key)
        item = sheet_row(stage) if chain is SHEET else freight_slip(stage)
        add("chains.your_turn", hostile, f"{chain.key}-{stage}-{key}", item=item,
            label=spec.label, gives=spec.gives.value, due=DUE_SOON)
    for chain in (SHEET, FREIGHT):
        add("chains.signed", False, chain.key, label=chain.steps[0].label,
            number="F-2026-0001" if chain is FREIGHT else "P-2026-0001")
    for label, gives, decision in (("amend", "decision", "amend"), ("reject", "decision", "reject"),
                                   ("amount", "amount", None), ("text", "text", None)):
        step_label = {"decision": "總經理意見", "amount": "跟單員向財務領款"}.get(gives, "打單部執行")
        add("chains.ask_input", False, label, label=step_label, gives=gives, decision=decision,
            number="P-2026-0001", dropped=False)
    add("chains.ask_input", False, "slip dropped", label="總經理意見", gives="decision",
        decision="amend", number="P-2026-0001", dropped=True)
    add("chains.hr_told", True, item=freight_slip("paid"), label="財務付款並入賬", who=HOSTILE)
    for late in (False, True):
        add("chains.late_note", False, f"late={late}", late=late)
        for item, label, department in ((sheet_row("heads"), "責任部門負責人簽名", "採購部"),
                                        (freight_slip("new"), "承擔部門負責人簽字", HOSTILE),
                                        (sheet_row("vp"), "分管副總綜合處理意見", "")):
            tag = f"{item.chain}-{department != ''}-late={late}"
            hostile = item.chain == "freight"
            add("chains.warning", hostile, tag, item=item, label=label, due=DUE_SOON,
                department=department, late=late, left=timedelta(minutes=10))
            add("chains.breach", hostile, tag, item=item, label=label, due=DUE_PAST,
                department=department, late=late)
            add("chains.hr_breach", hostile, tag, item=item, label=label, due=DUE_PAST,
                department=department, late=late)
    for count in (1, 40):  # the same notice on other rows of the sheet, named in one message
        others = [f"P-2026-{i:04d}" for i in range(2, 2 + count)]
        add("chains.also_on_sheet", False, f"{count} more", others=others)
        add("chains.warning", False, f"{count} more rows", item=sheet_row("heads"),
            label="責任部門負責人簽名", due=DUE_SOON, department="採購部", late=False,
            left=timedelta(minutes=10), others=others)
        for name in ("chains.breach", "chains.hr_breach"):
            add(name, False, f"{count} more rows", item=sheet_row("heads"), label="責任部門負責人簽名",
                due=DUE_PAST, department="採購部", late=False, others=others)
    add("chains.sheet_rows", True, sheet=SHEET_VIEW)
    add("chains.sheet_for_hr", True, "rolled over", sheet=SHEET_VIEW)
    add("chains.sheet_for_hr", True, "one row, nothing rolled over",
        sheet=sheet_view(sheet_row("new")))
    add("chains.sheet_caption", False, "two", sheet=SHEET_VIEW)
    add("chains.sheet_caption", False, "one", sheet=sheet_view(sheet_row("new")))
    add("chains.sheet_empty", False, day=SHEET_DAY, rolled_over=["P-2026-0009", "S-2026-0005"])
    add("chains.sheet_confirmed", False, sheet=SHEET_VIEW)
    add("chains.sheet_signed", False, sheet=SHEET_VIEW)
    add("chains.sheet_for_head", True, "two departments", sheet=SHEET_VIEW,
        departments=[HOSTILE, "採購部"], due=DUE_SOON)
    add("chains.sheet_for_head", True, "no due", sheet=SHEET_VIEW, departments=["採購部"],
        due=None)
    add("chains.sheet_status", True, "unconfirmed", sheet=SHEET_VIEW)
    add("chains.sheet_status", True, "every stage", sheet=sheet_view(
        *(sheet_row(stage, item_id=i, number=f"P-2026-{i:04d}")
          for i, stage in enumerate(SHEET_STAGES, start=1)), confirmed=True))
    add("chains.sheet_status", False, "empty", sheet=sheet_view(confirmed=True))
    add("chains.crx_marked", False, "on", number="P-2026-0001", on=True)
    add("chains.crx_marked", False, "off", number="P-2026-0001", on=False)
    add("chains.crx_marked", False, "off and struck off the sheet", number="P-2026-0001", on=False,
        struck_off=sheet_row("withdrawn"))
    for item in (sheet_row("withdrawn"), freight_slip("withdrawn")):
        add("chains.withdrawn", True, item.chain, item=item)
        assert item.withdrawn is not None
        add("chains.withdrawal", True, item.chain, w=item.withdrawn)
    add("errors.chain_withdrawn", number="F-2026-0001")
    for item_status in ("done", "withdrawn"):
        add("errors.chain_not_open", False, item_status, number="F-2026-0001", status=item_status)
    add("errors.chain_too_late_to_withdraw", number="F-2026-0001", label="跟單員向財務領款")
    add("errors.freight_cancel_usage")
    add("errors.sheet_rows_withdrawn", day=SHEET_DAY)
    add("errors.freight_cancel_not_allowed")
    add("errors.no_such_slip", True, "", number=HOSTILE)
    # The longest each message can get: 2,000-character texts, many rounds, many rows.
    worst = worst_row()
    for name, params in (("your_turn", {"item": worst, "label": "分管副總綜合處理意見",
                                        "gives": "text", "due": DUE_SOON}),
                         ("complainant_stage", {"item": worst, "label": "總經理意見"}),
                         ("progress", {"item": worst}),
                         ("card_chains", {"chains": [worst] * 5}),
                         ("sheet_status", {"sheet": sheet_view(*(worst_row(i) for i in range(1, 41)))})):
        add(f"chains.{name}", False, "worst case", **params)
    add("card.card", True, "worst chains", card=card_view(chains=[worst] * 5))
    # A sheet at its longest: every row with answers from many departments (appeal rounds
    # add more), long names, and a long list of cases rolled over.
    long_text = ("很長的答覆 & <說明>\n" * 200)[:2000]
    rows = [worst_row(i) for i in range(1, 41)]
    longest = SheetView(3, SHEET_DAY, False, rows, {row.id: CaseFacts(
        customer="客" * 200, product="品" * 200, problem="問" * 200, request="求" * 200,
        answers=[("品質管理及客戶服務部" * 2, long_text)] * 8) for row in rows},
        [f"P-2026-{i:04d}" for i in range(100, 400)])
    for name in ("sheet_for_hr", "sheet_for_head", "sheet_rows"):
        extra = {"departments": ["品質管理及客戶服務部"] * 3, "due": DUE_SOON} \
            if name == "sheet_for_head" else {}
        add(f"chains.{name}", False, "longest", sheet=longest, **extra)
    add("chains.rolled", False, "300", numbers=[f"P-2026-{i:04d}" for i in range(100, 400)])
    add("chains.rolled", False, "2", numbers=["P-2026-0001", "P-2026-0002"])
    add("chains.sheet_empty", False, "300 rolled over", day=SHEET_DAY,
        rolled_over=[f"P-2026-{i:04d}" for i in range(100, 400)])
    add("chains.nobody_can_act", False, "finance", item=freight_slip("paid"), label="財務銷賬",
        role="finance", department="")
    add("chains.nobody_can_act", True, "head", item=sheet_row("new"), label="責任部門負責人簽名",
        role="responsible_head", department=HOSTILE)
    # A busy day: more rows than one message lists (the XLSX has them all).
    busy = sheet_view(*(sheet_row("new", item_id=i, number=f"P-2026-{i:04d}")
                        for i in range(1, 31)), rolled_over=[f"P-2026-{i:04d}" for i in range(31, 61)])
    for name in ("sheet_for_hr", "sheet_for_head", "sheet_status"):
        extra = {"departments": ["採購部"], "due": DUE_SOON} if name == "sheet_for_head" else {}
        add(f"chains.{name}", True, "thirty rows", sheet=busy, **extra)
    add("chains.freight_owed", False, "thirty slips", slips=[
        freight_slip("new", item_id=i, number=f"F-2026-{i:04d}") for i in range(1, 31)])
    for stage in ("amount", "carrier", "waybill"):
        add("chains.freight_form", False, stage, form=SlipForm(stage, "P-2026-0001"))
    add("chains.freight_form", False, "amount, earlier input dropped",
        form=SlipForm("amount", "P-2026-0001", dropped=True))
    add("chains.freight_form", False, "bearer", form=SlipForm(
        "bearer", "P-2026-0001", [("production", HOSTILE), ("purchasing", "採購部")]))
    add("chains.freight_form", True, "opened",
        form=SlipForm("opened", "P-2026-0001", slip=freight_slip("new")))
    add("chains.freight_owed", False, "several", slips=[
        freight_slip("new"), freight_slip("signed", item_id=10, number="F-2026-0002")])
    add("chains.freight_owed", False, "none", slips=[])
    for count in (0, 1, 12):
        add("chains.freight_xlsx_caption", False, str(count), count=count,
            filename="freight-2026-11.xlsx")
    for stage in SHEET_STAGES:
        add("card.card", True, f"chains-sheet-{stage}", card=card_view(
            P, Status.CLOSED if stage == "done" else Status.ANSWERED, done=len(steps_of(P)),
            chains=[sheet_row(stage)]))
    add("card.card", True, "chains-while-waiting", card=card_view(
        P, now=NOW, steps=timed(product_answering([True, False, False]), DUE_SOON),
        chains=[sheet_row("new"), freight_slip("signed")]))
    add("card.card", True, "chains-freight-only", card=card_view(
        S, Status.CLOSED, number="S-2026-0001", done=len(steps_of(S)),
        chains=[freight_slip(stage, item_id=i, number=f"F-2026-{i:04d}")
                for i, stage in enumerate(FREIGHT_STAGES, start=1)]))

    # membership.html.j2
    add("membership.whoami", True, "head admin", user_id=1001, person=person(is_head=True, is_admin=True))
    add("membership.whoami", True, "member no name", user_id=1001, person=person(name=None))
    add("membership.whoami", False, "newcomer", user_id=1002,
        person=person(department_key=None, department_name=None))
    add("membership.whoami", False, "newcomer admin", user_id=1003,
        person=person(department_key=None, department_name=None, is_admin=True))
    add("membership.whoami", False, "unknown", user_id=1004, person=None)
    add("membership.choose_department")
    for name in ("already_member", "ask_name", "join_sent"):
        add(f"membership.{name}", True, department=HOSTILE)
    add("membership.join_request", True, name=HOSTILE, department=HOSTILE, user_id=1005,
        telegram_name=HOSTILE)
    add("membership.join_approved", True, department=HOSTILE, name=HOSTILE)
    add("membership.join_refused", True, department=HOSTILE, name=HOSTILE)
    add("membership.decided", True, "approved", approved=True, name=HOSTILE, department=HOSTILE)
    add("membership.decided", True, "refused", approved=False, name=HOSTILE, department=HOSTILE)
    return cases


CASES = build_cases()
# Pieces of other texts rather than texts of their own: empty output is fine.
MAY_BE_EMPTY = {"card.status_prefix", "deadlines.late_note", "deadlines.due_text",
                "chains.late_note", "chains.value_text", "chains.slip_facts", "chains.card_chains",
                "approval.for_customer", "approval.view_link", "chains.in_department",
                "sender.about", "sender.addressed", "followup.fine_note", "followup.more"}
# Known faults in the zh-Hant templates, by case id: the test is expected to fail (strictly:
# once the template is fixed, the entry must go).
ZH_HANT_KNOWN_FAULTS: dict[str, str] = {}


def case_file(case: Case) -> str:
    """The template file a case renders: the .html.j2 or the .txt.j2 of its name."""
    stem, _, _ = case.name.rpartition(".")
    for file in template_files():
        if file in (f"{stem}.html.j2", f"{stem}.txt.j2"):
            macro = case.name.rpartition(".")[2]
            if macro in macro_signatures(file):
                return file
    raise AssertionError(f"no template defines {case.name}")


def render(locale: str, case: Case) -> tuple[str, str]:
    file = case_file(case)
    texts = Texts(default_language=locale)
    if file.endswith(".html.j2"):
        return file, texts.html(locale, case.name, **case.params)
    return file, texts.plain(locale, case.name, **case.params)


def test_every_macro_has_a_sample() -> None:
    sampled = {(case_file(case), case.name.rpartition(".")[2]) for case in CASES}
    missing = [f"{file}:{name}" for file, name in all_macros() if (file, name) not in sampled]
    assert not missing, f"add sample params for {missing}"


# --- Telegram HTML ------------------------------------------------------------------

TAGS = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre",
        "blockquote", "tg-spoiler", "span"}
SPECIAL = re.compile(r"[<>&]")
ENTITY = re.compile(r"&(?:lt|gt|amp|quot|#[0-9]+|#x[0-9a-fA-F]+);")
TAG = re.compile(r"<(/?)([a-z][a-z-]*)((?:\s+[a-z-]+=\"[^\"<>]*\")*)\s*>")
ATTRIBUTE = re.compile(r"([a-z-]+)=\"([^\"]*)\"")


def telegram_html_problems(text: str) -> list[str]:
    """Why Telegram would refuse `text` with parse mode HTML (empty when it is fine)."""
    problems: list[str] = []
    stack: list[str] = []
    pos = 0
    while (m := SPECIAL.search(text, pos)) is not None:
        i = m.start()
        where = f"at {i}: {text[max(0, i - 15):i + 25]!r}"
        if text[i] == "&":
            entity = ENTITY.match(text, i)
            if entity is None:
                problems.append(f"bare & or unknown entity {where}")
                pos = i + 1
            else:
                pos = entity.end()
            continue
        if text[i] == ">":
            problems.append(f"bare > {where}")
            pos = i + 1
            continue
        tag = TAG.match(text, i)
        if tag is None:
            problems.append(f"bare < or malformed tag {where}")
            pos = i + 1
            continue
        pos = tag.end()
        closing, name = bool(tag.group(1)), tag.group(2)
        attributes = dict(ATTRIBUTE.findall(tag.group(3)))
        if name not in TAGS:
            problems.append(f"tag <{name}> not supported {where}")
            continue
        if closing:
            if attributes:
                problems.append(f"closing tag with attributes {where}")
            if not stack or stack[-1] != name:
                problems.append(f"</{name}> does not close {stack[-1:] or 'anything'} {where}")
            else:
                stack.pop()
            continue
        allowed: dict[str, set[str] | None] = {
            "a": {"href"}, "span": {"class"}, "code": {"class"},
        }
        for key, value in attributes.items():
            if key not in (allowed.get(name) or set()):
                problems.append(f"attribute {key} not allowed on <{name}> {where}")
            if "&" in ENTITY.sub("", value):
                problems.append(f"bare & in attribute {where}")
        if name == "a" and not attributes.get("href"):
            problems.append(f"<a> without href {where}")
        if name == "span" and attributes.get("class") != "tg-spoiler":
            problems.append(f"<span> must be class tg-spoiler {where}")
        if name == "code" and not attributes.get("class", "language-").startswith("language-"):
            problems.append(f"<code> class must be language-… {where}")
        stack.append(name)
    if stack:
        problems.append(f"unclosed tags {stack}")
    return problems


@pytest.mark.parametrize("text", [
    "<b>ok</b> &lt;b&gt; &amp; &quot; &#34; &#x27;",
    '<a href="https://t.me/c/1/2?a=1&amp;b=2">link</a> <span class="tg-spoiler">s</span>',
    "<pre><code class=\"language-python\">x &lt; 1</code></pre><tg-spoiler>s</tg-spoiler>",
])
def test_html_checker_accepts_telegram_html(text: str) -> None:
    assert telegram_html_problems(text) == []


@pytest.mark.parametrize("text", [
    "<b>open", "<b>x</i>", "</b>", "<div>x</div>", "a & b", "a &nbsp; b", "a < b", "a > b",
    '<a href="x&y">l</a>', '<b class="x">y</b>', '<span class="other">x</span>', "<a>x</a>",
    "<b>x</b ", "<br>",
])
def test_html_checker_refuses_what_telegram_refuses(text: str) -> None:
    assert telegram_html_problems(text) != []


# --- rendering ----------------------------------------------------------------------

@pytest.mark.parametrize("locale", LANGUAGES)
@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_renders(locale: str, case: Case, request: pytest.FixtureRequest) -> None:
    if locale == "zh-Hant" and case.id in ZH_HANT_KNOWN_FAULTS:
        request.applymarker(pytest.mark.xfail(reason=ZH_HANT_KNOWN_FAULTS[case.id], strict=True))
    file, text = render(locale, case)
    if file.endswith(".html.j2"):
        # A fragment may render nothing (e.g. no late note); a message may not.
        assert text or case.name in MAY_BE_EMPTY, f"{case.id}: empty message"
        assert telegram_html_problems(text) == [], text
        assert "<b>x</b>" not in text, f"{case.id}: user text not escaped:\n{text}"
        if case.hostile:
            assert HOSTILE_HTML in text, f"{case.id}: user text missing or mangled:\n{text}"
        assert "\n\n\n" not in text, f"{case.id}: more than one blank line:\n{text}"
        assert visible_length(text) <= TEXT_BUDGET, f"{case.id}: {visible_length(text)} characters"
        return
    assert text or case.name in MAY_BE_EMPTY, f"{case.id}: empty text"
    assert "&lt;" not in text and "&amp;" not in text, f"{case.id}: plain text was escaped: {text}"
    if case.hostile:
        assert HOSTILE in text, f"{case.id}: user text missing: {text}"
    if file == "buttons.txt.j2":
        assert "\n" not in text
        assert len(text) <= BUTTON_MAX, f"{case.id}: button label too long ({len(text)}): {text}"
        if not case.params:
            assert len(text) <= BUTTON_SHORT, f"{case.id}: button label long ({len(text)}): {text}"
    elif file == "commands.txt.j2":
        assert "\n" not in text
        assert 1 <= len(text) <= COMMAND_MAX, f"{case.id}: {len(text)} characters"
    elif file == "errors.txt.j2":
        assert len(text) <= ALERT_MAX, f"{case.id}: alert text cut at {ALERT_MAX}: {text}"


def emoji(text: str) -> set[str]:
    return {ch for ch in text if unicodedata.category(ch) == "So"}


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_both_locales_use_the_same_emoji(case: Case) -> None:
    assert emoji(render("en", case)[1]) == emoji(render("zh-Hant", case)[1])


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("kind", list(ComplaintKind))
def test_card_shows_filed_at_in_the_rule_book_format(locale: str, kind: ComplaintKind) -> None:
    text = Texts(locale).html(locale, "card.card", card=card_view(kind))
    assert "2026年11月20日09時05分" in text
    for f in fields_of(kind):
        if f.key.startswith("event_"):  # 投訴事件·時間 etc.: one 投訴事件 heading, then its parts
            event, _, part = f.label.partition("·")
            assert text.count(f"<b>{event}") == 1 and f"　{part}" in text, f.label
        else:
            assert f.label in text


@pytest.mark.parametrize("locale", LOCALES)
def test_approved_link_is_kept(locale: str) -> None:
    link = "https://t.me/c/123456/78"
    text = Texts(locale).html(locale, "approval.posted", number="P-2026-0001", link=link)
    assert f'<a href="{link}">' in text


@pytest.mark.parametrize("locale", LOCALES)
def test_keep_name_button_shortens_long_names(locale: str) -> None:
    text = Texts(locale).plain(locale, "buttons.keep_name", name="陳" * 80)
    assert "陳" * 20 in text and "陳" * 21 not in text


def test_en_is_english() -> None:
    """The English files are not a copy of the Chinese ones."""
    for name, params in (("errors.internal", {}), ("form.cancelled", {}),
                         ("general.idle_hint", {}), ("commands.help", {}),
                         ("buttons.verdict_appeal", {}), ("errors.answer_where", {}),
                         ("outcome.ask_reason", {"number": "P-2026-0001"}),
                         ("steps.plan_arrived_head", {"number": "S-2026-0001",
                                                      "within": timedelta(minutes=10),
                                                      "due": DUE_SOON}),
                         ("chains.signed", {"label": "人力資源部確認", "number": "P-2026-0001"}),
                         ("chains.crx_marked", {"number": "P-2026-0001", "on": True}),
                         ("buttons.chain_amend", {}), ("errors.freight_waybill", {}),
                         ("reports.sheet_columns", {})):
        case = Case(name, params)
        zh, en = render("zh-Hant", case)[1], render("en", case)[1]
        assert zh != en
        assert re.search(r"[A-Za-z]{4,}", en), en


@pytest.mark.parametrize("locale", LOCALES)
def test_each_empty_reason_names_its_own_thing(locale: str) -> None:
    """The manager's 退回, the complainant's 申訴 and HR's 豁免 each say whose reason is empty."""
    texts = Texts(locale)
    said = {what: texts.plain(locale, "errors.reason_empty", what=what)
            for what in ("reject", "appeal", "waive", "")}
    assert len(set(said.values())) == 4, said
    if locale == "zh-Hant":
        assert said["reject"].startswith("退回原因") and said["appeal"].startswith("申訴原因")
        assert said["waive"].startswith("豁免原因") and "退回" not in said["appeal"] + said["waive"]


@pytest.mark.parametrize("locale", LOCALES)
def test_card_names_every_department_it_waits_on(locale: str) -> None:
    view = card_view(steps=product_answering([True, False, False]))
    assert [s.department for s in view.waiting] == ["採購部", "物流部"]
    now = Texts(locale).html(locale, "card.card", card=view).rsplit("\n", 1)[-1]
    assert now.startswith("👉") and "採購部" in now and "物流部" in now
    assert HOSTILE_HTML not in now  # done already
    assert now.endswith("質量鑒定結果和處理意見")


@pytest.mark.parametrize("locale", LOCALES)
def test_card_shows_the_appeal_round(locale: str) -> None:
    view = card_view(status=Status.ESCALATED, round=2,
                     steps=[*product_answering([True]), escalation(1, done=True), escalation(2)])
    lines = Texts(locale).html(locale, "card.card", card=view).split("\n")
    appeals = [line for line in lines if line.startswith(("✅ 申訴處理意見", "⏳ 申訴處理意見"))]
    assert len(appeals) == 2
    assert "1" in appeals[0] and appeals[0].startswith("✅")
    assert "2" in appeals[1] and appeals[1].startswith("⏳")
    assert lines[-1].startswith("👉") and "監察部" in lines[-1]


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("status", [Status.ANSWERED, Status.CLOSED])
def test_card_waits_on_no_one_once_answered(locale: str, status: Status) -> None:
    text = Texts(locale).html(locale, "card.card", card=card_view(status=status, done=3))
    assert "👉" not in text


@pytest.mark.parametrize("locale", LOCALES)
def test_step_buttons_name_the_department_where_several_may_owe(locale: str) -> None:
    texts = Texts(locale)
    labels = {step: texts.plain(locale, "buttons.step", step=step, department="採購部")
              for step in STEP_KEYS}
    for step in ("answer", "plan", "escalation"):
        assert "採購部" in labels[step], labels[step]
    assert len(set(labels.values())) == len(STEP_KEYS), labels


@pytest.mark.parametrize("locale", LOCALES)
def test_tick_shows_whether_ticked(locale: str) -> None:
    texts = Texts(locale)
    ticked = texts.plain(locale, "buttons.tick", name="生產部", ticked=True)
    unticked = texts.plain(locale, "buttons.tick", name="生產部", ticked=False)
    assert ticked != unticked and "生產部" in ticked and "生產部" in unticked


@pytest.mark.parametrize("locale", LOCALES)
def test_topic_name_shows_the_status_once_answered(locale: str) -> None:
    texts = Texts(locale)
    names = {status: texts.plain(locale, "card.topic_name", card=card_view(status=status))
             for status in (Status.OPEN, Status.ANSWERED, Status.ESCALATED, Status.CLOSED)}
    assert names[Status.OPEN].startswith("#P-2026-0001 ")
    for status in (Status.ANSWERED, Status.ESCALATED, Status.CLOSED):
        prefix, _, rest = names[status].partition(" #P-2026-0001 ")
        assert prefix and rest and "#" not in prefix, names[status]
    assert len(set(names.values())) == len(names)
    for name in names.values():
        assert len(name) <= 128  # Telegram's limit for a topic name


@pytest.mark.parametrize("locale", LOCALES)
def test_assignment_notices_say_the_deadline_they_are_given(locale: str) -> None:
    """Not the rule book's "2 hours" / "10 minutes" whatever config says: the duration and
    the due time passed in."""
    texts = Texts(locale)
    said = {"zh-Hant": ("1 小時 30 分鐘", "2 小時", "15 分鐘", "10 分鐘"),
            "en": ("1 hour 30 minutes", "2 hours", "15 minutes", "10 minutes")}[locale]
    within = timedelta(minutes=90)
    for name, params in (("thread_assigned", {"departments": ["採購部"], "step": "answer"}),
                         ("thread_assigned", {"departments": ["物流部"], "step": "plan"}),
                         ("assigned_head", {"department": "採購部", "step": "answer"}),
                         ("assigned_head", {"department": "物流部", "step": "plan"})):
        text = texts.html(locale, f"steps.{name}", number="P-2026-0001", within=within,
                          due=DUE_SOON, **params)
        assert said[0] in text and "11-20 11:05" in text and said[1] not in text, text
    text = texts.html(locale, "steps.plan_arrived_head", number="S-2026-0001",
                      within=timedelta(minutes=15), due=DUE_SOON)
    assert said[2] in text and "11-20 11:05" in text and said[3] not in text, text


@pytest.mark.parametrize("locale", LOCALES)
def test_step_prompts_mention_the_actor(locale: str) -> None:
    text = Texts(locale).html(locale, "steps.ask_assessment", **STEP_BASE, step="answer")
    assert text.startswith(f'<a href="tg://user?id=1001">{HOSTILE_HTML}</a>')


@pytest.mark.parametrize("locale", LOCALES)
def test_lists_link_to_the_card(locale: str) -> None:
    texts = Texts(locale)
    for text in (texts.html(locale, "lists.mine", lines=LINES),
                 texts.html(locale, "lists.owed", department="生產部", lines=OWED)):
        assert '<a href="https://t.me/c/123456/78?a=1&amp;b=2">P-2026-0007</a>' in text
        assert "S-2026-0002" in text


@pytest.mark.parametrize("locale", LOCALES)
def test_outcome_shows_both_parts_of_an_assessment(locale: str) -> None:
    text = Texts(locale).html(locale, "outcome.answers", number="P-2026-0001",
                              items=PRODUCT_ITEMS)
    for item in PRODUCT_ITEMS:
        assert str(escape(item["parts"]["assessment"])) in text
        assert str(escape(item["parts"]["opinion"])) in text
        assert str(escape(item["department"])) in text


# --- deadlines and the fruit fund -------------------------------------------------------

LEFT_30 = {"zh-Hant": "剩 30 分鐘", "en": "30 min left"}
OVERDUE = {"zh-Hant": "已逾期", "en": "overdue"}
OUTSTANDING = {"zh-Hant": "未繳", "en": "outstanding"}


def step_lines(text: str, department: str) -> list[str]:
    """The card's progress lines for `department`'s steps (not the 👉 line)."""
    return [line for line in text.split("\n")
            if f"— {department}" in line and not line.startswith("👉")]


@pytest.mark.parametrize("locale", LOCALES)
def test_card_shows_due_time_and_time_left_of_an_open_step(locale: str) -> None:
    view = card_view(now=NOW, steps=timed(product_answering([True, False, False]), DUE_SOON))
    text = Texts(locale).html(locale, "card.card", card=view)
    for department in ("採購部", "物流部"):
        [line] = step_lines(text, department)
        assert line.startswith("⏳"), line
        assert "11-20 11:05" in line and LEFT_30[locale] in line, line
        assert OVERDUE[locale] not in line, line
    [done] = step_lines(text, HOSTILE_HTML)  # done already: no deadline shown
    assert done.startswith("✅") and "11:05" not in done and LEFT_30[locale] not in done, done


@pytest.mark.parametrize("locale", LOCALES)
def test_card_marks_a_step_overdue_once_past_due(locale: str) -> None:
    steps = [*product_answering([True]), *timed(answering([False, False, False])[1:2], DUE_PAST),
             *timed(answering([False, False, False])[2:], DUE_SOON)]
    text = Texts(locale).html(locale, "card.card", card=card_view(now=NOW, steps=steps))
    [late] = step_lines(text, "採購部")
    assert late.startswith("🚨") and OVERDUE[locale] in late and "11-20 10:34" in late, late
    assert LEFT_30[locale] not in late, late
    [open_] = step_lines(text, "物流部")
    assert open_.startswith("⏳") and LEFT_30[locale] in open_ and OVERDUE[locale] not in open_
    # The same step a minute before its due time is not overdue yet.
    before = card_view(now=DUE_PAST - timedelta(minutes=1), steps=steps)
    [line] = step_lines(Texts(locale).html(locale, "card.card", card=before), "採購部")
    assert line.startswith("⏳") and OVERDUE[locale] not in line, line


@pytest.mark.parametrize("locale", LOCALES)
def test_card_shows_no_deadline_without_a_clock(locale: str) -> None:
    """No due time, or no `now` to count from, or the step done: no deadline, no marker."""
    texts = Texts(locale)
    for view in (card_view(now=NOW, steps=product_answering([True, False])),
                 card_view(steps=timed(product_answering([True, False]), DUE_PAST)),
                 card_view(now=NOW, steps=[replace(s, due_at=DUE_PAST)
                                           for s in product_answering([True, True])])):
        text = texts.html(locale, "card.card", card=view)
        assert "🚨" not in text and OVERDUE[locale] not in text
        assert "10:34" not in text and "11:05" not in text


LINE_CASES = [case for case in CASES if case.name.startswith("deadlines.thread_")
              and not case.name.endswith("_line")]


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("case", LINE_CASES, ids=[c.id for c in LINE_CASES])
def test_deadline_digest_lines_are_one_line(locale: str, case: Case) -> None:
    """The sender merges a burst of thread notices into one digest, a `_line` each
    (bot.services.deadlines: same parameters as the full notice)."""
    line = Texts(locale).html(locale, case.name + "_line", **case.params)
    assert line and "\n" not in line, line
    assert telegram_html_problems(line) == [], line
    assert f"#{case.params['number']}" in line and HOSTILE_HTML in line, line
    assert visible_length(line) < TEXT_BUDGET // 2  # else the sender sends it alone


@pytest.mark.parametrize("locale", LOCALES)
def test_late_notices_say_so(locale: str) -> None:
    texts = Texts(locale)
    note = texts.html(locale, "deadlines.late_note", late=True)
    assert note and texts.html(locale, "deadlines.late_note", late=False) == ""
    for name, extra in (("thread_warning", {"left": timedelta(minutes=30)}),
                        ("head_warning", {"left": timedelta(minutes=30)}),
                        ("thread_breach", {}), ("head_breach", {}),
                        ("hr_breach", {"fine": Money(5000, "CNY"), "head": HOSTILE, "fine_id": 17})):
        for late in (False, True):
            text = texts.html(locale, f"deadlines.{name}", **DEADLINE_FACTS, **extra, late=late)
            assert (note in text) is late, text
            assert "11-20 11:05" in text, text


@pytest.mark.parametrize("locale", LOCALES)
def test_hr_breach_names_the_fine_only_when_there_is_one(locale: str) -> None:
    texts = Texts(locale)
    for name in ("hr_breach", "hr_breach_line"):
        fined = texts.html(locale, f"deadlines.{name}", **DEADLINE_FACTS, late=False,
                           fine=Money(5000, "CNY"), head="陳大文", fine_id=4321)
        unfined = texts.html(locale, f"deadlines.{name}", **DEADLINE_FACTS, late=False,
                             fine=None, head=None, fine_id=None)
        # The fine's number is what /waive N and /paid N take.
        assert "50.00 CNY" in fined and "陳大文" in fined and "4321" in fined
        assert "CNY" not in unfined


@pytest.mark.parametrize("locale", LOCALES)
def test_fund_shows_what_is_outstanding(locale: str) -> None:
    text = Texts(locale).html(locale, "fines.fund", totals=FUND_TOTALS)
    lines = text.split("\n")
    # Each department and each currency's total, levied - waived - paid.
    for total in FUND_TOTALS:
        assert total.outstanding == total.levied - total.waived - total.paid
    [hostile] = [line for line in lines if line.startswith(f"• {HOSTILE_HTML}")]
    assert "<b>70.00 CNY</b>" in hostile and OUTSTANDING[locale] in hostile, hostile
    [logistics] = [line for line in lines if line.startswith("• 物流部")]
    assert "<b>0.00 CNY</b>" in logistics, logistics
    totals = [line for line in lines if not line.startswith("•") and OUTSTANDING[locale] in line]
    assert len(totals) == 2, totals  # one per currency
    assert "<b>70.00 CNY</b>" in totals[0] and "<b>1,234.50 HKD</b>" in totals[1], totals


def listing_rows(text: str) -> list[str]:
    return [line for line in text.split("\n") if line.startswith("• #")]


@pytest.mark.parametrize("locale", LOCALES)
def test_listing_caps_at_20_rows(locale: str) -> None:
    texts = Texts(locale)
    text = texts.html(locale, "fines.listing", listing=listing(many_fines(45)))
    rows = listing_rows(text)
    assert len(rows) == 20
    assert rows[0].startswith("• #101 ") and rows[-1].startswith("• #120 ")
    assert "#121" not in text
    note = text.split("\n")[-1]
    assert "/fines_xlsx" in note and "45" in note, note
    full = texts.html(locale, "fines.listing", listing=listing(many_fines(20)))
    assert len(listing_rows(full)) == 20 and "/fines_xlsx" not in full
    assert "/fines_xlsx" not in texts.html(locale, "fines.listing", listing=listing([]))


@pytest.mark.parametrize("locale", LOCALES)
def test_listing_shows_each_fine(locale: str) -> None:
    text = Texts(locale).html(locale, "fines.listing", listing=listing(FINE_ROWS[:3], HOSTILE))
    rows = listing_rows(text)
    assert len(rows) == 3
    assert HOSTILE_HTML in text.split("\n")[0]  # the department asked for
    assert "P-2026-0001" in rows[0] and "50.00 CNY" in rows[0] and HOSTILE_HTML in rows[0]
    assert HOSTILE_HTML in rows[1]  # the reason it was waived
    # The status in the reader's language, from the ledger's code (not the default's words).
    assert "1,234.50 CNY" in rows[2] and {"zh-Hant": "已繳", "en": "paid"}[locale] in rows[2]


LONG_REASON = "客戶原因，經理批准。" * 50  # Fines.waive keeps 500 characters


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("reason", [
    "",
    "客戶原因，經理批准",
    LONG_REASON,
], ids=["no reason", "short reason", "500-character reasons"])
def test_listing_fits_one_message(locale: str, reason: str) -> None:
    rows = [replace(row, department="品質管理及客戶服務部", head="歐陽大文", reason=reason)
            for row in many_fines(45)]
    text = Texts(locale).html(locale, "fines.listing", listing=listing(rows, "品質管理及客戶服務部"))
    assert visible_length(text) <= TEXT_BUDGET


@pytest.mark.parametrize("locale", LOCALES)
def test_daily_summary_tells_overdue_from_due_soon(locale: str) -> None:
    text = Texts(locale).html(locale, "fines.daily_summary", summary=SUMMARY)
    [late] = [line for line in text.split("\n") if "P-2026-0007" in line]
    [soon] = [line for line in text.split("\n") if "S-2026-0002" in line]
    assert OVERDUE[locale] in late and "11-20 10:34" in late, late
    assert OVERDUE[locale] not in soon and "11-20 11:05" in soon, soon
    assert "50.00 CNY" in text and "2026-11-20" in text


# --- sign-off chains (rules 一.4 and 三) ----------------------------------------------------

ROUND_2 = {"zh-Hant": "第 2 次", "en": "round 2"}


@pytest.mark.parametrize("locale", LOCALES)
def test_card_shows_chains_after_its_steps_and_before_the_waiting_line(locale: str) -> None:
    view = card_view(now=NOW, steps=timed(product_answering([True, False, False]), DUE_SOON),
                     chains=[sheet_row("heads"), freight_slip("signed")])
    text = Texts(locale).html(locale, "card.card", card=view)
    lines = text.split("\n")
    assert lines[-1].startswith("👉") and "採購部" in lines[-1]
    headings = [i for i, line in enumerate(lines) if line.startswith("<b>")
                and ("F-2026-0001" in line or "質量投訴處理流程表" in line)]
    assert len(headings) == 2, lines
    last_step = max(i for i, line in enumerate(lines) if "質量鑒定結果和處理意見 —" in line)
    assert last_step < headings[0] < headings[1] < len(lines) - 1
    for i in headings:
        assert lines[i - 1] == "", lines  # each chain under a blank line
    assert lines[-2] == ""
    assert "\n\n\n" not in text
    # Each chain shows its last signature and what it waits on (every step: /sheet, XLSX).
    chain_lines = lines[headings[0]:-2]
    assert sum(line.startswith("✅") for line in chain_lines) == 1 + 1
    assert sum(line.startswith("⏳") for line in chain_lines) == 1 + 1
    assert "助理小林" in text


@pytest.mark.parametrize("locale", LOCALES)
def test_card_without_chains_is_unchanged(locale: str) -> None:
    texts = Texts(locale)
    for view in (card_view(), card_view(status=Status.CLOSED, done=3)):
        assert texts.html(locale, "card.card", card=view) == \
            texts.html(locale, "card.card", card=replace(view, chains=[]))


@pytest.mark.parametrize("locale", LOCALES)
def test_progress_shows_the_round_and_each_decision(locale: str) -> None:
    texts = Texts(locale)
    rejected = texts.html(locale, "chains.progress", item=sheet_row("rejected")).split("\n")
    done = [line for line in rejected if line.startswith("✅")]
    waiting = [line for line in rejected if line.startswith("⏳")]
    assert len(done) == 5 and len(waiting) == 1
    assert ROUND_2[locale] not in "".join(done)
    # The VP agrees a new opinion after the GM's rejection: the second time round.
    assert waiting[0].startswith("⏳") and "11-23 14:00" in waiting[0]
    assert HOSTILE_HTML in done[-1]  # the GM's reason
    amended = sheet_row("amended")  # the GM's decision the second time round
    amended.steps[-2] = replace(amended.steps[-2], round=1, attempt=2)
    [line] = [line for line in texts.html(locale, "chains.progress", item=amended).split("\n")
              if ROUND_2[locale] in line]
    assert line.startswith("✅") and "助理小張" in line
    approve, amend, reject = (texts.html(locale, "chains.value_text", value={"decision": d, "text": "x"})
                              for d in ("approve", "amend", "reject"))
    assert len({approve, amend, reject}) == 3 and "x" in amend and "x" in reject


@pytest.mark.parametrize("locale", LOCALES)
def test_a_step_asked_once_never_says_round_2(locale: str) -> None:
    """After a rejection the VP and the GM act a second time (round 1); the execution that
    follows also belongs to round 1, but is done once: no "second time" on it."""
    row = sheet_row("done")
    steps = list(row.steps)
    steps[-2:] = [replace(steps[-2], round=1, attempt=2), replace(steps[-1], round=1, attempt=1)]
    lines = Texts(locale).html(locale, "chains.progress", item=replace(row, steps=steps)).split("\n")
    [gm] = [line for line in lines if ROUND_2[locale] in line]
    assert "總經理" in gm
    assert ROUND_2[locale] not in lines[-1] and "李小明" in lines[-1]


@pytest.mark.parametrize("locale", LOCALES)
def test_amounts_show_two_decimals(locale: str) -> None:
    texts = Texts(locale)
    for cents, shown in ((123450, "1,234.50"), (1, "0.01"), (100000000, "1,000,000.00")):
        assert shown in texts.html(locale, "chains.value_text", value={"amount_cents": cents})
        step = chain_step(FREIGHT, "cash_collected", done=signature(
            "李小明", "order_follower", FILED_AT, amount_cents=cents))
        assert shown in texts.plain(locale, "reports.signature", step=step)


@pytest.mark.parametrize("locale", LOCALES)
def test_chain_tables_have_a_column_per_cell(locale: str) -> None:
    """Sheets.workbook and Freight.workbook write 6 facts + a column per step + the status,
    and 8 facts + a column per step + the status."""
    texts = Texts(locale)
    for prefix, chain, facts, count in (("sheet", SHEET, 6, 12), ("freight", FREIGHT, 8, 15)):
        columns = table_columns(texts, locale, f"{prefix}_columns")
        assert len(columns) == facts + len(chain.steps) + 1 == count, columns
        assert all(columns) and len(set(columns)) == len(columns), columns
    sheet_name = texts.plain(locale, "reports.sheet_name")
    freight_name = texts.plain(locale, "reports.freight_sheet_name")
    # table_workbook refuses a sheet name Excel would refuse.
    table_workbook(sheet_name, texts.plain(locale, "reports.sheet_title", day=SHEET_DAY),
                   table_columns(texts, locale, "sheet_columns"), [])
    table_workbook(freight_name, texts.plain(locale, "reports.freight_title", period="2026-11"),
                   table_columns(texts, locale, "freight_columns"), [])


@pytest.mark.parametrize("chain", list(CHAINS.values()), ids=list(CHAINS))
def test_en_glosses_every_chain_step(chain: Chain) -> None:
    texts = Texts("en")
    for step in chain.steps:
        signed = texts.html("en", "chains.signed", label=step.label, number="P-2026-0001")
        assert step.label not in signed, signed
        item = ChainView(1, chain.key, chain.label, "P-2026-0001", "P-2026-0001", "open",
                         [chain_step(chain, step.key)])
        assert step.label not in texts.plain("en", "reports.chain_status", item=item)
        for refusal, params in (("chain_not_yours", {"step": step.label, "role": step.role.value,
                                                     "department": ""}),
                                ("chain_too_late_to_withdraw", {"number": "F-2026-0001",
                                                                "label": step.label})):
            assert step.label not in texts.plain("en", f"errors.{refusal}", **params), refusal


@pytest.mark.parametrize("locale", LOCALES)
def test_chain_status_names_what_is_waiting(locale: str) -> None:
    texts = Texts(locale)
    done = texts.plain(locale, "reports.chain_status", item=freight_slip("done"))
    waiting = texts.plain(locale, "reports.chain_status", item=sheet_row("heads"))
    assert done != waiting and "採購部" in waiting and "採購部" not in done


@pytest.mark.parametrize("locale", LOCALES)
def test_history_names_every_chain_step_and_action(locale: str) -> None:
    """The card's history shows the chains' audit entries in words, not their codes."""
    texts = Texts(locale)
    for key in CHAIN_STEP_KEYS:
        assert texts.html(locale, "steps.step_name", step=key) != key, key
    for action in CHAIN_ACTIONS:
        assert texts.html(locale, "card.action_name", action=action) != action, action
