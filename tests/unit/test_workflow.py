"""The workflow definition: statuses, steps, owners, and what may happen when."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.domain.fields import ComplaintKind, fields_of
from bot.domain.workflow import (
    Assigns,
    ClockStart,
    Event,
    InvalidTransition,
    Owner,
    Provides,
    Status,
    current_step,
    next_status,
    step_of,
    steps_of,
    waiting_step,
)


def test_product_form_has_the_eight_fields_of_the_template_in_order() -> None:
    labels = [f.label for f in fields_of(ComplaintKind.PRODUCT)]
    assert labels == ["投訴人", "客戶名稱", "發貨日期", "品牌", "規格及數量", "產品存在的質量問題",
                      "客戶要求", "投訴時間"]
    assert "投拆人" in fields_of(ComplaintKind.PRODUCT)[0].aliases


def test_product_steps_follow_rule_1_2() -> None:
    steps = steps_of(ComplaintKind.PRODUCT)
    assert [(s.key, s.owner, s.deadline) for s in steps] == [
        ("accept", Owner.INTAKE, timedelta(minutes=5)),
        ("publish_process", Owner.INTAKE, timedelta(minutes=30)),
        ("answer", Owner.INVESTIGATORS, timedelta(hours=2)),
    ]
    assert steps[2].per_department and steps[2].clock_starts is ClockStart.ASSIGNED


def test_service_steps_follow_rule_1_3() -> None:
    steps = steps_of(ComplaintKind.SERVICE)
    assert [(s.key, s.deadline) for s in steps] == [
        ("accept", timedelta(minutes=5)), ("route", timedelta(minutes=30)),
        ("plan", timedelta(hours=2)), ("notify", timedelta(minutes=10))]
    assert steps[3].clock_starts is ClockStart.PREVIOUS_STEP


@pytest.mark.parametrize(("status", "event", "after"), [
    (Status.PENDING_APPROVAL, Event.APPROVE, Status.APPROVED),
    (Status.PENDING_APPROVAL, Event.REJECT, Status.REJECTED),
    (Status.APPROVED, Event.POST, Status.OPEN),
    (Status.OPEN, Event.FINISH_STEPS, Status.ANSWERED),
    (Status.ANSWERED, Event.CLOSE, Status.CLOSED),
])
def test_allowed_transitions(status: Status, event: Event, after: Status) -> None:
    assert next_status(status, event) is after


@pytest.mark.parametrize(("status", "event"), [
    (Status.APPROVED, Event.APPROVE),  # approved twice
    (Status.REJECTED, Event.APPROVE),  # approved after being sent back
    (Status.PENDING_APPROVAL, Event.POST),  # posted without approval
    (Status.OPEN, Event.REJECT),
    (Status.CLOSED, Event.POST),
    (Status.OPEN, Event.CLOSE),  # closed before it was answered
])
def test_forbidden_transitions(status: Status, event: Event) -> None:
    with pytest.raises(InvalidTransition):
        next_status(status, event)


def test_steps_are_waited_on_in_order_and_never_skipped() -> None:
    kind, open_ = ComplaintKind.PRODUCT, Status.OPEN
    assert current_step(kind, set()).key == "accept"  # type: ignore[union-attr]
    assert waiting_step(kind, open_, set()).key == "accept"  # type: ignore[union-attr]
    # Publishing before accepting is not waited on: it cannot be skipped to.
    assert waiting_step(kind, open_, {"publish_process"}).key == "accept"  # type: ignore[union-attr]
    # Once done, a step is never waited on again.
    assert waiting_step(kind, open_, {"accept"}).key == "publish_process"  # type: ignore[union-attr]
    assert waiting_step(kind, open_, {"accept", "publish_process"}).key == "answer"  # type: ignore[union-attr]
    assert waiting_step(kind, open_, {"accept", "publish_process", "answer"}) is None
    service = [waiting_step(ComplaintKind.SERVICE, open_, set(done)).key  # type: ignore[union-attr]
               for done in ([], ["accept"], ["accept", "route"], ["accept", "route", "plan"])]
    assert service == ["accept", "route", "plan", "notify"]


def test_nothing_is_waited_on_before_posting_or_after_the_answers() -> None:
    for status in (Status.PENDING_APPROVAL, Status.APPROVED, Status.REJECTED, Status.ANSWERED,
                   Status.CLOSED):
        assert waiting_step(ComplaintKind.PRODUCT, status, set()) is None


def test_appeal_rounds_follow_rule_1_6() -> None:
    assert next_status(Status.ANSWERED, Event.ESCALATE) is Status.ESCALATED
    assert next_status(Status.ESCALATED, Event.ANSWER_ESCALATION) is Status.ANSWERED
    with pytest.raises(InvalidTransition):
        next_status(Status.ESCALATED, Event.CLOSE)  # not before the appeal is answered
    with pytest.raises(InvalidTransition):
        next_status(Status.OPEN, Event.ESCALATE)  # nothing to appeal before the answers
    # Under appeal, the appealed body's answer is what the complaint waits on.
    everything = {s.key for s in steps_of(ComplaintKind.PRODUCT)}
    assert waiting_step(ComplaintKind.PRODUCT, Status.ESCALATED, everything).key == "escalation"  # type: ignore[union-attr]


def test_a_follow_up_visit_may_reopen_a_closed_complaint_into_a_new_round() -> None:
    assert next_status(Status.CLOSED, Event.REOPEN) is Status.REOPENED
    assert next_status(Status.REOPENED, Event.ANSWER_ESCALATION) is Status.ANSWERED
    for status in (Status.OPEN, Status.ANSWERED, Status.ESCALATED):
        with pytest.raises(InvalidTransition):
            next_status(status, Event.REOPEN)  # only a closed complaint is reopened
    for kind in ComplaintKind:
        everything = {s.key for s in steps_of(kind)}
        assert waiting_step(kind, Status.REOPENED, everything).key == "revisit"  # type: ignore[union-attr]
        assert step_of(kind, "revisit").tells_complainant


def test_what_each_step_asks_for_and_whom_it_tells() -> None:
    product = {s.key: s for s in steps_of(ComplaintKind.PRODUCT)}
    service = {s.key: s for s in steps_of(ComplaintKind.SERVICE)}
    assert product["publish_process"].assigns is Assigns.MANY
    assert product["answer"].provides is Provides.ASSESSMENT and product["answer"].tells_complainant
    assert service["route"].assigns is Assigns.ONE and service["route"].provides is Provides.CHOICE
    assert service["plan"].owner is Owner.INVESTIGATORS and not service["plan"].tells_complainant
    assert service["notify"].owner is Owner.INTAKE and service["notify"].tells_complainant
