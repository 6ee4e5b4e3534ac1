"""The handling flow of rule 一, as data.

A complaint moves through statuses (filed → approved by the department manager →
posted in the workgroup → handled → closed). Once posted, the rule book's steps run
in order, each owned by a department role and bounded by a deadline. Later parts of
the bot (deadlines, fines, reports) read these definitions instead of repeating them.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from bot.domain.fields import ComplaintKind
from bot.domain.words import N_


class Status(StrEnum):
    PENDING_APPROVAL = "pending_approval"  # waiting for the complainant's department manager
    REJECTED = "rejected"  # sent back by the manager (退回), with a reason
    APPROVED = "approved"  # approved and numbered; its card is on its way to the workgroup
    OPEN = "open"  # posted; the steps below are running
    ANSWERED = "answered"  # every step done; waiting for the complainant's verdict
    ESCALATED = "escalated"  # the complainant appealed (rule 一.6); a higher body answers
    # Reopened after a follow-up visit (回訪) found the customer dissatisfied: the
    # departments that answered answer again.
    REOPENED = "reopened"
    CLOSED = "closed"


class Event(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    POST = "post"
    FINISH_STEPS = "finish_steps"
    CLOSE = "close"  # the complainant accepts the outcome
    ESCALATE = "escalate"  # the complainant finds it unreasonable and appeals
    ANSWER_ESCALATION = "answer_escalation"  # (and a reopened round's answers)
    REOPEN = "reopen"  # after a follow-up visit


class InvalidTransition(Exception):
    def __init__(self, status: Status, event: Event) -> None:
        super().__init__(f"cannot {event.value} a complaint that is {status.value}")
        self.status = status
        self.event = event


_TRANSITIONS: dict[tuple[Status, Event], Status] = {
    (Status.PENDING_APPROVAL, Event.APPROVE): Status.APPROVED,
    (Status.PENDING_APPROVAL, Event.REJECT): Status.REJECTED,
    (Status.APPROVED, Event.POST): Status.OPEN,
    (Status.OPEN, Event.FINISH_STEPS): Status.ANSWERED,
    (Status.ANSWERED, Event.CLOSE): Status.CLOSED,
    (Status.ANSWERED, Event.ESCALATE): Status.ESCALATED,
    (Status.ESCALATED, Event.ANSWER_ESCALATION): Status.ANSWERED,
    (Status.CLOSED, Event.REOPEN): Status.REOPENED,
    (Status.REOPENED, Event.ANSWER_ESCALATION): Status.ANSWERED,
}

# Where a complaint waits for someone to act (its steps, an appeal's or a new round's answer).
ACTIVE = (Status.OPEN, Status.ESCALATED, Status.REOPENED)


def next_status(status: Status, event: Event) -> Status:
    try:
        return _TRANSITIONS[(status, event)]
    except KeyError:
        raise InvalidTransition(status, event) from None


class Owner(StrEnum):
    """Who owns a step, as a role; config says which department plays it."""

    INTAKE = "intake"  # 打單部 for product complaints, 人力資源部 for service complaints
    INVESTIGATORS = "investigators"  # the departments assigned to answer (生產部/採購部/物流部, …)


class Assigns(StrEnum):
    """A step that, when done, names the departments that must answer."""

    NONE = "none"
    MANY = "many"  # 打單部 names one or several of production / purchasing / logistics
    ONE = "one"  # HR routes (分流) a service complaint to the department concerned


class Provides(StrEnum):
    """What the owner hands in to complete a step."""

    NOTHING = "nothing"  # a button press (受理)
    TEXT = "text"  # one message: text, or a photo/document with a caption
    ASSESSMENT = "assessment"  # 質量鑒定結果 then 處理意見: two messages
    CHOICE = "choice"  # a choice of departments only (分流)


class ClockStart(StrEnum):
    """The moment a step's deadline starts counting from."""

    POSTED = "posted"
    ASSIGNED = "assigned"  # a department is given the complaint to answer
    PREVIOUS_STEP = "previous_step"


@dataclass(frozen=True)
class Step:
    key: str
    label: str  # the rule book's words
    rule: str  # where the rule book says so
    owner: Owner
    deadline: timedelta
    clock_starts: ClockStart
    # True when every assigned department must do the step itself (each its own deadline).
    per_department: bool = False
    provides: Provides = Provides.NOTHING
    assigns: Assigns = Assigns.NONE
    # The complainant is sent what was handed in (the answers, the plan).
    tells_complainant: bool = False


PRODUCT_STEPS: tuple[Step, ...] = (
    # 打單部在5分鐘內受理
    Step("accept", N_("受理"), "一.2", Owner.INTAKE, timedelta(minutes=5), ClockStart.POSTED),
    # 在30分鐘內公布問題產品的工藝流程信息 (and names who investigates)
    Step("publish_process", N_("公布工藝流程信息"), "一.2", Owner.INTAKE,
         timedelta(minutes=30), ClockStart.POSTED, provides=Provides.TEXT, assigns=Assigns.MANY),
    # 生產部、采購部、物流部…在二個小時內做出質量鑒定結果和處理意見並回復到輝煌同仁群
    Step("answer", N_("質量鑒定結果和處理意見"), "一.2", Owner.INVESTIGATORS,
         timedelta(hours=2), ClockStart.ASSIGNED, per_department=True,
         provides=Provides.ASSESSMENT, tells_complainant=True),
)

SERVICE_STEPS: tuple[Step, ...] = (
    # 人力資源部在5分鐘內受理
    Step("accept", N_("受理"), "一.3", Owner.INTAKE, timedelta(minutes=5), ClockStart.POSTED),
    # 在30分鐘內分流到相關管理部門
    Step("route", N_("分流到相關管理部門"), "一.3", Owner.INTAKE, timedelta(minutes=30),
         ClockStart.POSTED, provides=Provides.CHOICE, assigns=Assigns.ONE),
    # 相關管理部門…在二個小時內做出處理方案上交到人力資源部
    Step("plan", N_("處理方案"), "一.3", Owner.INVESTIGATORS, timedelta(hours=2),
         ClockStart.ASSIGNED, per_department=True, provides=Provides.TEXT),
    # 人力資源部在接到處理方案後10分鐘內通知投訴人
    Step("notify", N_("通知投訴人"), "一.3", Owner.INTAKE, timedelta(minutes=10),
         ClockStart.PREVIOUS_STEP, provides=Provides.TEXT, tells_complainant=True),
)

# Rule 一.6: an appeal is answered by the body it was made to, like a department's answer.
ESCALATION_STEP = Step("escalation", N_("申訴處理意見"), "一.6", Owner.INVESTIGATORS,
                       timedelta(hours=2), ClockStart.ASSIGNED, per_department=True,
                       provides=Provides.TEXT, tells_complainant=True)

# Ch. 9 回訪: a visit that found the customer dissatisfied reopens the complaint; the
# departments that answered the last round answer again, like an appeal.
REVISIT_STEP = Step("revisit", N_("回訪後再處理意見"), "ch.9", Owner.INVESTIGATORS,
                    timedelta(hours=2), ClockStart.ASSIGNED, per_department=True,
                    provides=Provides.TEXT, tells_complainant=True)
# The steps of a later round (an appeal, a reopening): whatever the kind, answered per round.
ROUND_STEPS = (ESCALATION_STEP, REVISIT_STEP)
ROUND_STEP_OF = {Status.ESCALATED: ESCALATION_STEP, Status.REOPENED: REVISIT_STEP}

STEPS: dict[ComplaintKind, tuple[Step, ...]] = {
    ComplaintKind.PRODUCT: PRODUCT_STEPS,
    ComplaintKind.SERVICE: SERVICE_STEPS,
}


def steps_of(kind: ComplaintKind) -> tuple[Step, ...]:
    return STEPS[kind]


def step_of(kind: ComplaintKind, key: str) -> Step:
    for step in ROUND_STEPS:
        if step.key == key:
            return step
    for step in STEPS[kind]:
        if step.key == key:
            return step
    raise KeyError(f"{kind.value} complaints have no step {key!r}")


def current_step(kind: ComplaintKind, done: Collection[str]) -> Step | None:
    """The first step not yet done: the only one that may be done next."""
    for step in STEPS[kind]:
        if step.key not in done:
            return step
    return None


def waiting_step(kind: ComplaintKind, status: Status, done: Collection[str]) -> Step | None:
    """The step a complaint waits on now: the first not done while it is open, the appeal's
    answer while it is under appeal (or reopened), none otherwise. `done` holds the steps finished by
    every department that owns them. The card, /open and the step buttons all ask this."""
    if status in ROUND_STEP_OF:
        return ROUND_STEP_OF[status]
    if status is not Status.OPEN:
        return None
    return current_step(kind, done)
