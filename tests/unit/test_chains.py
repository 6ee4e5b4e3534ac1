"""The sign-off chains as data (bot/domain/chains.py): rule 一.4's daily sheet, rule 三's
freight slip, freight amounts, and their deadlines (bot/domain/sla.py)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.calendar import CalendarMode, WorkingCalendar
from bot.domain.chains import (
    CHAINS,
    FREIGHT,
    MAX_AMOUNT,
    SHEET,
    Chain,
    Gives,
    Role,
    Starts,
    next_morning,
    parse_amount,
    to_cents,
)
from bot.domain.sla import SlaPolicy, check_overrides
from bot.domain.validation import Invalid

SHANGHAI = ZoneInfo("Asia/Shanghai")
CALENDAR = WorkingCalendar(SHANGHAI)
DEFAULT = SlaPolicy.build(CALENDAR)


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


# --- parse_amount ---------------------------------------------------------------------

@pytest.mark.parametrize(("text", "expected"), [
    ("120", "120.00"),
    ("120.5", "120.50"),
    ("120.50", "120.50"),
    ("¥1,200.00元", "1200.00"),
    ("１２０．５０", "120.50"),  # full-width digits and point, as a Chinese keyboard types them
    ("１，２００元", "1200.00"),
    ("0.01", "0.01"),
    (" 120 元 ", "120.00"),
    ("RMB 50", "50.00"),
    ("rmb50", "50.00"),
    ("50CNY", "50.00"),
    ("12,345.6", "12345.60"),
    ("999,999.99", "999999.99"),
    ("1.230", "1.23"),  # a trailing zero is not a third decimal
    ("1000000", "1000000.00"),  # the most a slip may claim
])
def test_valid_amounts(text: str, expected: str) -> None:
    value = parse_amount(text)
    assert not isinstance(value, Invalid), value
    assert value == Decimal(expected)
    assert str(value) == expected  # always two decimals: cents are exact
    assert to_cents(value) == int(Decimal(expected) * 100)


@pytest.mark.parametrize(("text", "reason"), [
    ("-5", "amount_not_positive"),
    ("\u22125", "amount_not_positive"),  # the minus sign, not a hyphen
    ("-0.5", "amount_not_positive"),
    ("0", "amount_not_positive"),
    ("0.00", "amount_not_positive"),
    ("¥0元", "amount_not_positive"),
    ("1.234", "amount_decimals"),
    ("0.001", "amount_decimals"),
    ("abc", "amount_not_number"),
    ("", "amount_not_number"),
    ("   ", "amount_not_number"),
    ("12,34", "amount_not_number"),
    ("1,2345", "amount_not_number"),
    ("12.5.3", "amount_not_number"),
    ("1e3", "amount_not_number"),
    ("NaN", "amount_not_number"),
    ("Infinity", "amount_not_number"),
    ("¥", "amount_not_number"),
    ("120元5", "amount_not_number"),
    ("2000000", "amount_too_large"),
    ("1000000.01", "amount_too_large"),
])
def test_invalid_amounts_say_why(text: str, reason: str) -> None:
    value = parse_amount(text)
    assert isinstance(value, Invalid), value
    assert value.reason == reason


def test_too_large_names_the_limit() -> None:
    value = parse_amount("2000000")
    assert isinstance(value, Invalid)
    assert value.params == {"max": "1,000,000"}


@pytest.mark.parametrize("text", [
    "1" * 30,  # the fault: quantize beyond the context's 28 digits raised InvalidOperation
    "9" * 27,  # fits the context, but cents do not
    "9" * 28,
    "1" * 30 + ".5",
    "1" * 30 + ".00",
    "¥" + "1" * 40 + "元",
    "１" * 30,
    "1" + ",000" * 20,
    "1" * 5000,  # longer than int()'s default digit limit
    "0" * 50 + "1" * 30,
])
def test_huge_amounts_are_too_large_not_a_crash(text: str) -> None:
    value = parse_amount(text)
    assert value == Invalid("amount_too_large", {"max": "1,000,000"})


@pytest.mark.parametrize(("text", "expected"), [
    ("0" * 50 + "120", "120.00"),  # leading zeros do not make an amount large
    ("120." + "0" * 50, "120.00"),
    ("0" * 40 + "1000000.00", "1000000.00"),
])
def test_long_but_small_amounts(text: str, expected: str) -> None:
    assert parse_amount(text) == Decimal(expected)
    assert str(parse_amount(text)) == expected


AMOUNT_REASONS = {"amount_not_number", "amount_not_positive", "amount_decimals",
                  "amount_too_large"}


def _check_amount(value: Decimal | Invalid) -> None:
    if isinstance(value, Invalid):
        assert value.reason in AMOUNT_REASONS
        assert value.params == ({"max": "1,000,000"} if value.reason == "amount_too_large" else {})
    else:
        assert Decimal("0.01") <= value <= MAX_AMOUNT
        assert value.as_tuple().exponent == -2
        assert to_cents(value) == int(value * 100)


@given(st.text())
def test_parse_amount_never_raises(text: str) -> None:
    _check_amount(parse_amount(text))


@given(st.text(alphabet="0123456789", min_size=1, max_size=200))
def test_parse_amount_never_raises_on_digits(digits: str) -> None:
    value = parse_amount(digits)
    _check_amount(value)
    if int(digits) == 0:
        assert value == Invalid("amount_not_positive")
    elif int(digits) > MAX_AMOUNT:
        assert value == Invalid("amount_too_large", {"max": "1,000,000"})
    else:
        assert value == Decimal(digits)


@given(st.text(alphabet="0123456789０１２３４５６７８９,.，．¥元 -RMBCNY", max_size=80))
def test_parse_amount_never_raises_on_amount_like_text(text: str) -> None:
    _check_amount(parse_amount(text))


AMOUNTS = st.decimals(min_value=Decimal("0.01"), max_value=MAX_AMOUNT, places=2,
                      allow_nan=False, allow_infinity=False)


@given(AMOUNTS)
def test_any_amount_round_trips(amount: Decimal) -> None:
    for text in (str(amount), f"{amount:,}", f"¥{amount}元", f"{amount:.2f}"):
        value = parse_amount(text)
        assert not isinstance(value, Invalid), (text, value)
        assert value == amount, text
        assert to_cents(value) == int(amount * 100), text


@given(st.decimals(min_value=Decimal("0.001"), max_value=MAX_AMOUNT, places=3,
                   allow_nan=False, allow_infinity=False))
def test_a_third_decimal_is_refused_unless_zero(amount: Decimal) -> None:
    value = parse_amount(str(amount))
    if amount == amount.quantize(Decimal("0.01")):
        assert value == amount
    else:
        assert isinstance(value, Invalid) and value.reason == "amount_decimals"


# --- the chains -----------------------------------------------------------------------

def test_the_sheet_runs_in_rule_one_four_order() -> None:
    assert [s.key for s in SHEET.steps] == [
        "hr_confirm", "head_sign", "vp_opinion", "gm_decision", "execution"]
    assert [s.role for s in SHEET.steps] == [
        Role.HR, Role.RESPONSIBLE_HEAD, Role.VICE_PRESIDENT, Role.GENERAL_MANAGER, Role.ORDER_DESK]
    assert SHEET.rule == "一.4" and SHEET.label == "質量投訴處理流程表"
    # Each responsible department's head signs its own rows; the VP the next morning.
    assert [s.key for s in SHEET.steps if s.per_department] == ["head_sign"]
    assert [s.key for s in SHEET.steps if s.starts is Starts.NEXT_MORNING] == ["vp_opinion"]
    # HR and the heads act on the whole sheet at once (one message, one button each).
    assert [s.key for s in SHEET.steps if s.per_sheet] == ["hr_confirm", "head_sign"]
    assert SHEET.tells_complainant  # rule 一.4: the case is the complainant's
    assert SHEET.step("vp_opinion").gives is Gives.TEXT
    assert SHEET.step("gm_decision").gives is Gives.DECISION


def test_the_gm_sends_a_rejection_back_to_the_vice_president() -> None:
    gm = SHEET.step("gm_decision")
    assert gm.on_reject == "vp_opinion"
    assert SHEET.index(gm.on_reject) < SHEET.index(gm.key)


def test_every_rejection_goes_back_to_an_earlier_step() -> None:
    rejecting = [(chain, step) for chain in CHAINS.values() for step in chain.steps
                 if step.on_reject is not None]
    assert rejecting, "no step can reject: the GM's decision should"
    for chain, step in rejecting:
        assert step.on_reject is not None
        assert chain.index(chain.step(step.on_reject).key) < chain.index(step.key), step.key
        # Only a decision can be a rejection (bot/services/chains.py: Decision.REJECT).
        assert step.gives is Gives.DECISION, step.key


def test_the_freight_slip_runs_in_rule_three_order() -> None:
    assert [(s.key, s.role) for s in FREIGHT.steps] == [
        ("bearer_sign", Role.BEARER_HEAD),
        ("desk_sign", Role.ORDER_DESK_MANAGER),
        ("cash_collected", Role.ORDER_FOLLOWER),
        ("paid_booked", Role.FINANCE),
        ("honoured", Role.HR),
        ("closed", Role.FINANCE),
    ]
    assert FREIGHT.rule == "三"
    assert FREIGHT.step("cash_collected").gives is Gives.AMOUNT
    assert FREIGHT.step("paid_booked").tells == (Role.HR,)  # finance tells HR (rule 三)
    assert all(s.on_reject is None for s in FREIGHT.steps)
    assert not any(s.per_sheet or s.per_department for s in FREIGHT.steps)
    assert not FREIGHT.tells_complainant
    assert all(s.starts is Starts.AFTER_PREVIOUS for s in FREIGHT.steps)


@pytest.mark.parametrize("chain", list(CHAINS.values()), ids=list(CHAINS))
def test_steps_are_well_formed(chain: Chain) -> None:
    steps = chain.steps
    keys = [s.key for s in steps]
    assert len(keys) == len(set(keys)), keys
    assert len({s.label for s in steps}) == len(steps)
    for step in steps:
        assert step.deadline > timedelta(0), step.key
        # A warning not shorter than the step would be dropped silently (SlaPolicy._times).
        assert step.warn_before and all(timedelta(0) < w < step.deadline for w in step.warn_before)
        assert isinstance(step.role, Role) and isinstance(step.gives, Gives)


@pytest.mark.parametrize("chain", list(CHAINS.values()), ids=list(CHAINS))
def test_every_chain_can_be_withdrawn_until_one_of_its_own_steps(chain: Chain) -> None:
    """Someone may strike an item out, up to a step of the chain that is neither its first
    (that would end withdrawing before anyone could notice the mistake) nor its last."""
    assert chain.withdrawn_by
    assert chain.withdrawable_until is not None
    assert 0 < chain.index(chain.withdrawable_until) < len(chain.steps) - 1


def test_step_after_and_index() -> None:
    assert SHEET.step("head_sign").label == "責任部門負責人簽名"
    assert SHEET.after("hr_confirm") is SHEET.step("head_sign")
    assert SHEET.after("gm_decision") is SHEET.step("execution")
    assert SHEET.after("execution") is None
    assert FREIGHT.after("honoured") is FREIGHT.step("closed")
    assert FREIGHT.after("closed") is None
    assert [SHEET.index(s.key) for s in SHEET.steps] == list(range(len(SHEET.steps)))
    assert FREIGHT.index("bearer_sign") == 0 and FREIGHT.index("closed") == 5
    with pytest.raises(KeyError, match="no step 'nope'"):
        SHEET.step("nope")
    with pytest.raises(KeyError):
        FREIGHT.step("head_sign")  # a step of the other chain


@pytest.mark.parametrize("method", ["after", "index"])
def test_unknown_step_is_a_key_error_everywhere(method: str) -> None:
    with pytest.raises(KeyError):
        getattr(SHEET, method)("nope")


# --- deadlines (bot/domain/sla.py) ------------------------------------------------------

FRIDAY_10 = at(2026, 11, 27, 10, 0)


def test_chain_defaults_come_from_the_chains() -> None:
    for chain in CHAINS.values():
        for step in chain.steps:
            rule = DEFAULT.rules[(chain.key, step.key)]
            assert rule.duration == step.deadline and rule.warn_before == step.warn_before
            assert not rule.fines, f"{chain.key}.{step.key}: rule 一.5 fines complaints only"


def test_chain_times_on_the_working_calendar() -> None:
    times = DEFAULT.chain_times("sheet", "hr_confirm", FRIDAY_10)
    assert times.due_at == at(2026, 11, 27, 10, 20)
    assert times.warnings == ((timedelta(minutes=10), at(2026, 11, 27, 10, 10)),)
    # 16 working hours from Friday 17:00: Friday 1 h, Monday 9 h, Tuesday until 15:00.
    honoured = DEFAULT.chain_times("freight", "honoured", at(2026, 11, 27, 17, 0))
    assert honoured.due_at == at(2026, 12, 1, 15, 0)
    assert honoured.warnings == ((timedelta(hours=2), at(2026, 12, 1, 13, 0)),)
    vp = DEFAULT.chain_times("sheet", "vp_opinion", at(2026, 11, 30, 9, 0))
    assert vp.due_at == at(2026, 11, 30, 12, 0)
    assert [w for w, _ in vp.warnings] == [timedelta(minutes=60), timedelta(minutes=15)]


def test_chain_times_honour_overrides() -> None:
    policy = SlaPolicy.build(CALENDAR, {"sheet": {"head_sign": {"minutes": 1, "warn_before": [0.5]}}})
    times = policy.chain_times("sheet", "head_sign", FRIDAY_10)
    assert times.due_at == FRIDAY_10 + timedelta(minutes=1)
    assert times.warnings == ((timedelta(seconds=30), FRIDAY_10 + timedelta(seconds=30)),)
    # Only that step changed.
    for chain, step in (("sheet", "hr_confirm"), ("sheet", "gm_decision"), ("freight", "desk_sign")):
        assert policy.chain_times(chain, step, FRIDAY_10) == DEFAULT.chain_times(chain, step, FRIDAY_10)
    assert not policy.rules[("sheet", "head_sign")].fines


def test_chain_overrides_keep_what_they_leave_out() -> None:
    policy = SlaPolicy.build(CALENDAR, {"freight": {"closed": {"minutes": 30}}})
    rule = policy.rules[("freight", "closed")]
    assert rule.duration == timedelta(minutes=30)
    assert rule.warn_before == FREIGHT.step("closed").warn_before == (timedelta(minutes=60),)
    # The default 60-minute warning is not shorter than 30 minutes: dropped, not sent late.
    assert policy.chain_times("freight", "closed", FRIDAY_10).warnings == ()


def test_check_overrides_knows_the_chains() -> None:
    check_overrides({"sheet": {s.key for s in SHEET.steps}, "freight": {s.key for s in FREIGHT.steps},
                     "product": {"answer"}})
    with pytest.raises(ValueError, match=r"deadlines\.sheet\.nope: no such step"):
        check_overrides({"sheet": {"head_sign", "nope"}})
    with pytest.raises(ValueError, match=r"deadlines\.freight\.head_sign: no such step"):
        check_overrides({"freight": {"head_sign"}})  # the sheet's step, not the slip's
    with pytest.raises(ValueError, match=r"deadlines\.payroll: unknown.*sheet, freight"):
        check_overrides({"payroll": {"pay"}})


# --- rule 一.4's "next morning" ---------------------------------------------------------

@pytest.mark.parametrize(("day", "expected"), [
    (date(2026, 11, 26), date(2026, 11, 27)),  # Thursday → Friday
    (date(2026, 11, 27), date(2026, 11, 30)),  # Friday → Monday
    (date(2026, 9, 30), date(2026, 10, 8)),  # before National Day → after its week off
    (date(2026, 10, 9), date(2026, 10, 10)),  # Friday → the make-up Saturday
    (date(2026, 9, 19), date(2026, 9, 20)),  # a Saturday sheet → the make-up Sunday
])
def test_next_morning_is_the_next_working_day(day: date, expected: date) -> None:
    assert next_morning(CALENDAR, day, time(9, 0)) == datetime.combine(expected, time(9, 0),
                                                                      tzinfo=SHANGHAI)


def test_next_morning_around_the_clock_is_the_next_day() -> None:
    calendar = WorkingCalendar(SHANGHAI, mode=CalendarMode.ALWAYS)
    assert next_morning(calendar, date(2026, 10, 1), time(8, 30)) == at(2026, 10, 2, 8, 30)
