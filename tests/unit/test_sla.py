"""Deadline arithmetic of the rule book's steps, with a fixed clock."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.domain.calendar import CalendarMode, WorkingCalendar
from bot.domain.fields import ComplaintKind
from bot.domain.sla import SlaPolicy, check_overrides

SHANGHAI = ZoneInfo("Asia/Shanghai")
P, S = ComplaintKind.PRODUCT, ComplaintKind.SERVICE
WORKING = SlaPolicy.build(WorkingCalendar(SHANGHAI))


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)  # type: ignore[misc, arg-type]


def test_rule_book_defaults() -> None:
    assert WORKING.rule(P, "accept").duration == timedelta(minutes=5)
    assert WORKING.rule(P, "publish_process").duration == timedelta(minutes=30)
    assert WORKING.rule(P, "answer").duration == timedelta(hours=2)
    assert WORKING.rule(S, "notify").duration == timedelta(minutes=10)
    assert [r for r in ("answer", "plan") if WORKING.rule(P if r == "answer" else S, r).fines] == [
        "answer", "plan"]
    assert not WORKING.rule(P, "accept").fines and not WORKING.rule(S, "notify").fines
    assert not WORKING.rule(P, "escalation").fines


@pytest.mark.parametrize(("posted", "due"), [
    (at(2026, 11, 27, 10, 0), at(2026, 11, 27, 10, 5)),  # Friday morning
    (at(2026, 11, 27, 17, 54), at(2026, 11, 27, 17, 59)),
    (at(2026, 11, 27, 17, 55), at(2026, 11, 27, 18, 0)),  # exactly at closing: stays today
    (at(2026, 11, 27, 17, 56), at(2026, 11, 30, 9, 1)),  # over the weekend to Monday
    (at(2026, 11, 28, 11, 0), at(2026, 11, 30, 9, 5)),  # posted on a Saturday
    (at(2026, 9, 30, 17, 58), at(2026, 10, 8, 9, 3)),  # National Day 2026: Oct 1–7 off
    (at(2026, 10, 9, 17, 58), at(2026, 10, 10, 9, 3)),  # Saturday Oct 10 is a make-up workday
])
def test_five_minute_acceptance_on_the_working_calendar(posted: datetime, due: datetime) -> None:
    assert WORKING.times(P, "accept", posted).due_at == due


def test_thirty_minutes_from_1755_is_0925_next_working_day() -> None:
    times = WORKING.times(P, "publish_process", at(2026, 11, 26, 17, 55))  # a Thursday
    assert times.due_at == at(2026, 11, 27, 9, 25)
    # 10 minutes before, in working time: 09:15, not 09:15 measured back over the night.
    assert times.warnings == ((timedelta(minutes=10), at(2026, 11, 27, 9, 15)),)


def test_two_hour_answer_warned_at_30_and_10_minutes() -> None:
    times = WORKING.times(P, "answer", at(2026, 11, 27, 16, 30))
    assert times.due_at == at(2026, 11, 30, 9, 30)
    # 30 working minutes before is Friday's closing time; 10 before is Monday 09:20.
    assert [moment for _, moment in times.warnings] == [at(2026, 11, 27, 18, 0),
                                                        at(2026, 11, 30, 9, 20)]


def test_lunch_break_is_not_working_time() -> None:
    policy = SlaPolicy.build(WorkingCalendar(SHANGHAI, lunch=(at(2026, 1, 1, 12).time(),
                                                              at(2026, 1, 1, 13).time())))
    assert policy.times(P, "publish_process", at(2026, 11, 27, 11, 50)).due_at == \
        at(2026, 11, 27, 13, 20)


def test_24x7_is_plain_elapsed_time() -> None:
    policy = SlaPolicy.build(WorkingCalendar(SHANGHAI, mode=CalendarMode.ALWAYS))
    assert policy.times(P, "accept", at(2026, 11, 28, 23, 58)).due_at == at(2026, 11, 29, 0, 3)


@pytest.mark.parametrize(("offset", "before_due"), [
    (timedelta(minutes=4, seconds=59), True), (timedelta(minutes=5), False),
    (timedelta(minutes=5, seconds=1), False)])
def test_exact_boundary_of_the_five_minute_step(offset: timedelta, before_due: bool) -> None:
    posted = at(2026, 11, 27, 10, 0)
    due = WORKING.times(P, "accept", posted).due_at
    assert ((posted + offset) < due) is before_due


def test_overrides_and_a_config_change_mid_flight() -> None:
    posted = at(2026, 11, 27, 10, 0)
    before = WORKING.times(P, "answer", posted)
    changed = SlaPolicy.build(WORKING.calendar, {"product": {"answer": {
        "minutes": 60, "warn_before": [15], "fines": False}}})
    after = changed.times(P, "answer", posted)
    assert after.due_at == at(2026, 11, 27, 11, 0)
    assert after.warnings == ((timedelta(minutes=15), at(2026, 11, 27, 10, 45)),)
    assert not changed.rule(P, "answer").fines
    # A deadline is fixed when its clock starts: what was computed before does not move.
    assert before.due_at == at(2026, 11, 27, 12, 0)
    assert changed.rule(S, "plan").duration == timedelta(hours=2)  # the rest untouched


def test_a_warning_not_shorter_than_the_step_is_dropped() -> None:
    policy = SlaPolicy.build(WORKING.calendar, {"product": {"accept": {"warn_before": [5, 10, 2]}}})
    assert [before for before, _ in policy.times(P, "accept", at(2026, 11, 27, 10)).warnings] == [
        timedelta(minutes=2)]


def test_unknown_override_sections_are_named() -> None:
    with pytest.raises(ValueError, match=r"deadlines\.product\.acept"):
        check_overrides({"product": {"acept"}})
    with pytest.raises(ValueError, match=r"deadlines\.products"):
        check_overrides({"products": {"accept"}})
