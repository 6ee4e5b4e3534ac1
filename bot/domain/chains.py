"""Chains of people who must each act in order, by a time (rules 一.4 and 三), as data.

Two chains run on paper today and get lost: the daily complaint handling sheet
(質量投訴處理流程表) for compensation / return / exchange cases, and the return-freight
expense slip. Each is an ordered tuple of steps: who acts (a role, resolved against the
database when someone presses a button), what they hand in, how long they have on the
working calendar, and where a rejection sends the item back to. The deadline engine of
rule 一.5 (warnings, breaches, the outbox) runs them like any other step.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from enum import StrEnum

from bot.domain.calendar import WorkingCalendar
from bot.domain.validation import Invalid
from bot.domain.words import N_


class Role(StrEnum):
    """Who acts on a chain step. bot/services/chains.py says who plays each role."""

    HR = "hr"  # 人力資源部 (routing.service_intake)
    RESPONSIBLE_HEAD = "responsible_head"  # the head of a department that answered the complaint
    VICE_PRESIDENT = "vice_president"  # the VP over the complainant's department
    GENERAL_MANAGER = "general_manager"  # 總經理, or 總經理助理 signing for the GM
    ORDER_DESK = "order_desk"  # 打單部 (routing.product_intake)
    BEARER_HEAD = "bearer_head"  # the head of the department bearing the freight
    ORDER_DESK_MANAGER = "order_desk_manager"  # 打單部經理 (its head) or its assistant
    ORDER_FOLLOWER = "order_follower"  # 客服跟單員
    FINANCE = "finance"  # 財務部


class Gives(StrEnum):
    """What the actor hands in. A signature is the person, their role then and the time."""

    SIGNATURE = "signature"  # one button press
    TEXT = "text"  # one typed message
    AMOUNT = "amount"  # money in CNY, typed
    DECISION = "decision"  # approve as proposed / approve with changes (text) / reject (text)


class Decision(StrEnum):
    APPROVE = "approve"
    AMEND = "amend"  # approved with changes, written down
    REJECT = "reject"  # refused, with the reason; the item goes back (ChainStep.on_reject)


class Starts(StrEnum):
    AFTER_PREVIOUS = "after_previous"  # when the step before it is done
    NEXT_MORNING = "next_morning"  # the working morning after the sheet's day (rule 一.4: 第二天早上)


@dataclass(frozen=True)
class ChainStep:
    key: str
    label: str  # the rule book's words
    role: Role
    gives: Gives
    deadline: timedelta  # working time from the moment the step starts
    warn_before: tuple[timedelta, ...]
    starts: Starts = Starts.AFTER_PREVIOUS
    # True when each responsible department does the step for its own rows.
    per_department: bool = False
    # The step a rejection sends the item back to (None: this step cannot reject).
    on_reject: str | None = None
    # Roles told when the step is done, besides the complainant (e.g. finance tells HR).
    tells: tuple[Role, ...] = ()
    # Done for the whole day's sheet at once (one message, one button), not row by row.
    per_sheet: bool = False


@dataclass(frozen=True)
class Chain:
    key: str
    label: str
    rule: str
    steps: tuple[ChainStep, ...]
    # The complainant hears of every stage (rule 一.4: the outcome of their case).
    tells_complainant: bool = False
    # Not in the rule book, but paper has it too: an item opened by mistake (a wrong amount,
    # a case marked by mistake) is struck out, with a reason, by these roles, until it has
    # gone past the step `withdrawable_until`: after it money has moved or the GM's approval
    # is being carried out, and a correction goes through them. (A rejection sends the item
    # back before that step, so it can be withdrawn again.)
    withdrawn_by: tuple[Role, ...] = ()
    withdrawable_until: str | None = None

    def step(self, key: str) -> ChainStep:
        for step in self.steps:
            if step.key == key:
                return step
        raise KeyError(f"the {self.key} chain has no step {key!r}")

    def after(self, key: str) -> ChainStep | None:
        """The step that follows `key`; None when `key` is the last."""
        index = self.index(key)
        return self.steps[index + 1] if index + 1 < len(self.steps) else None

    def steps_after(self, key: str) -> tuple[str, ...]:
        return tuple(step.key for step in self.steps[self.index(key) + 1:])

    def index(self, key: str) -> int:
        for i, step in enumerate(self.steps):
            if step.key == key:
                return i
        raise KeyError(f"the {self.key} chain has no step {key!r}")


def _m(*minutes: float) -> tuple[timedelta, ...]:
    return tuple(timedelta(minutes=m) for m in minutes)


# Rule 一.4: 人力資源部在每日下班前整理成《質量投訴處理流程表》，責任部門負責人簽名，第二天早上
# 報投訴人所在部門的分管副總，與客戶協商出綜合處理意見寫在表上；再報總經理助理簽署總經理意見
# (總經理或助理均可簽署)；打單部按總經理批示執行。
SHEET = Chain("sheet", N_("質量投訴處理流程表"), "一.4", (
    ChainStep("hr_confirm", N_("人力資源部確認"), Role.HR, Gives.SIGNATURE,
              timedelta(minutes=20), _m(10), per_sheet=True),
    ChainStep("head_sign", N_("責任部門負責人簽名"), Role.RESPONSIBLE_HEAD, Gives.SIGNATURE,
              timedelta(minutes=30), _m(10), per_department=True, per_sheet=True),
    ChainStep("vp_opinion", N_("分管副總綜合處理意見"), Role.VICE_PRESIDENT, Gives.TEXT,
              timedelta(hours=3), _m(60, 15), starts=Starts.NEXT_MORNING),
    ChainStep("gm_decision", N_("總經理意見"), Role.GENERAL_MANAGER, Gives.DECISION,
              timedelta(hours=4), _m(60, 15), on_reject="vp_opinion"),
    ChainStep("execution", N_("打單部執行"), Role.ORDER_DESK, Gives.TEXT,
              timedelta(hours=8), _m(120, 30)),
), tells_complainant=True, withdrawn_by=(Role.HR,), withdrawable_until="gm_decision")

# Rule 三: 退貨運費 — 客服跟單員填寫費用單並寫明承擔部門 → 承擔部門負責人簽字 → 打單部經理或
# 助理簽字 → 跟單員到財務領款 → 財務付款、入賬並通知人力資源部 → 人力資源部跟進責任部門承擔
# 運費後通知財務銷賬。 (The follower's writing the slip opens the chain.)
FREIGHT = Chain("freight", N_("退貨運費報銷"), "三", (
    ChainStep("bearer_sign", N_("承擔部門負責人簽字"), Role.BEARER_HEAD, Gives.SIGNATURE,
              timedelta(hours=2), _m(30)),
    ChainStep("desk_sign", N_("打單部經理或助理簽字"), Role.ORDER_DESK_MANAGER, Gives.SIGNATURE,
              timedelta(hours=2), _m(30)),
    ChainStep("cash_collected", N_("跟單員向財務領款"), Role.ORDER_FOLLOWER, Gives.AMOUNT,
              timedelta(hours=4), _m(60)),
    ChainStep("paid_booked", N_("財務付款並入賬"), Role.FINANCE, Gives.TEXT,
              timedelta(hours=4), _m(60), tells=(Role.HR,)),
    ChainStep("honoured", N_("人力資源部跟進責任部門承擔運費"), Role.HR, Gives.TEXT,
              timedelta(hours=16), _m(120)),
    ChainStep("closed", N_("財務銷賬"), Role.FINANCE, Gives.SIGNATURE,
              timedelta(hours=4), _m(60)),
), withdrawn_by=(Role.ORDER_FOLLOWER, Role.HR), withdrawable_until="cash_collected")

CHAINS: dict[str, Chain] = {SHEET.key: SHEET, FREIGHT.key: FREIGHT}


def chain_of(key: str) -> Chain:
    return CHAINS[key]


def next_morning(calendar: WorkingCalendar, day: date, at: time) -> datetime:
    """Rule 一.4's 第二天早上: `at` on the first working day after `day`, in the calendar's
    zone (the Monday after a Friday, the day after a holiday, a make-up Saturday)."""
    following = day + timedelta(days=1)
    while not calendar.is_working_day(following):
        following += timedelta(days=1)
    return datetime.combine(following, at, tzinfo=calendar.zone)


# --- money -----------------------------------------------------------------------------

_AMOUNT = re.compile(r"^(?:¥|RMB|CNY)?([0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)?(?:\.([0-9]+))?(?:元|CNY|RMB)?$")
MAX_AMOUNT = Decimal("1000000")


def parse_amount(text: str) -> Decimal | Invalid:
    """A freight amount in CNY: positive, at most two decimals ("120", "120.5", "¥1,200.00元"),
    at most MAX_AMOUNT; always with exactly two decimals. Never raises, whatever the text.

    Reason codes: "amount_not_number", "amount_not_positive", "amount_decimals",
    "amount_too_large" (param max, MAX_AMOUNT written "1,000,000")."""
    raw = unicodedata.normalize("NFKC", text).strip().replace(" ", "").upper()
    if raw.startswith(("-", "\u2212")):
        return Invalid("amount_not_positive")
    match = _AMOUNT.match(raw)
    if match is None or not (match.group(1) or match.group(2)):
        return Invalid("amount_not_number")
    whole, fraction = (match.group(1) or "0").replace(",", ""), match.group(2) or ""
    if len(fraction.rstrip("0")) > 2:
        return Invalid("amount_decimals")
    # Built from a string, a Decimal is exact whatever its length; only arithmetic rounds
    # to the context's 28 digits, and quantize refuses a result longer than that (30
    # typed digits raised InvalidOperation). So compare first and quantize what fits.
    value = Decimal(f"{whole}.{fraction or '0'}")
    if value <= 0:
        return Invalid("amount_not_positive")
    if value > MAX_AMOUNT:
        return Invalid("amount_too_large", {"max": f"{MAX_AMOUNT:,.0f}"})
    return value.quantize(Decimal("0.01"))


def to_cents(value: Decimal) -> int:
    return int(value * 100)
