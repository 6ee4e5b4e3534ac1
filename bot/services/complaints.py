"""A complaint's life after its form: approval (rule 一.1), posting, and intake (一.2/一.3)."""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as dc_field
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.buttons import APPROVAL, RESUBMIT
from bot.clock import from_db, to_db
from bot.domain.fields import ComplaintKind, Field, fields_of
from bot.domain.followup import Method, Satisfaction, Visit, VisitAnswers
from bot.domain.severity import GROUND_WORDS, MajorGround, Severity
from bot.domain.timefmt import complaint_number
from bot.domain.validation import clean_text, is_crx_request
from bot.domain.workflow import (
    ROUND_STEPS,
    ClockStart,
    Event,
    InvalidTransition,
    Owner,
    Status,
    Step,
    next_status,
    steps_of,
    waiting_step,
)
from bot.outbox import Button, queue_action, queue_message, release_after_posting
from bot.services.audit import history, record
from bot.services.chains import Chains, ChainView
from bot.services.context import AppContext, Refused
from bot.services.conversation import drop_pending, set_pending
from bot.services.deadline_events import AUTO_MAJOR, FEEDBACK, start_clock
from bot.services.deadlines import open_step
from bot.services.forms import missing_fields
from bot.services.people import Person, person, require_member
from bot.services.threads import remember
from bot.store.models import Complaint, Department, Draft, Escalation, NumberCounter, StepRecord


@dataclass(frozen=True)
class PressedCard:
    """The message a card button was pressed on, as Telegram reports it."""

    chat_id: int
    thread_id: int | None
    message_id: int


def intake_department(ctx: AppContext, kind: ComplaintKind) -> str:
    routing = ctx.settings.routing
    return routing.product_intake if kind is ComplaintKind.PRODUCT else routing.service_intake


def owner_department(ctx: AppContext, kind: ComplaintKind, owner: Owner) -> str | None:
    return intake_department(ctx, kind) if owner is Owner.INTAKE else None


MAX_REJECT_REASON = 1000  # the manager's 退回 reason


@dataclass(frozen=True)
class Submitted:
    complaint_id: int
    approver: Person | None  # None when the complainant approved it themselves (a head)


class Complaints:
    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx

    # --- rule 一.1: submit, then the department manager approves ---------------------

    async def submit(self, user_id: int, draft_id: int) -> Submitted:
        async with self.ctx.transaction() as session:
            now = self.ctx.now()
            member = await require_member(session, self.ctx, user_id)
            draft = await session.scalar(select(Draft).where(Draft.user_id == user_id))
            if draft is None or draft.id != draft_id:
                raise Refused("errors.no_form")
            kind = ComplaintKind(draft.kind)
            missing = missing_fields(kind, draft.answers, len(draft.photos))
            if missing:
                raise Refused("errors.form_incomplete", fields=[f.label for f in missing])
            complaint = Complaint(
                kind=kind.value, status=Status.PENDING_APPROVAL.value, complainant_id=user_id,
                department_key=member.department_key, answers=dict(draft.answers),
                photos=list(draft.photos), filed_at=to_db(now),
                # Rule 一.4: 客戶要求 賠款/退貨/換貨, or a service complaint's 投訴目的 索賠.
                is_crx=is_crx_request(draft.answers.get("request")
                                      or draft.answers.get("purpose", "")),
            )
            session.add(complaint)
            await session.delete(draft)
            await session.flush()
            record(session, now, complaint.id, user_id, "submitted")
            start_clock(session, complaint.id, FEEDBACK,
                        now + timedelta(hours=self.ctx.settings.feedback.within_hours))
            dept = await session.get(Department, member.department_key)
            assert dept is not None
            if dept.head_user_id == user_id:
                # A head's own complaint needs no one else's approval (rule 一.1).
                await self._approve(session, complaint, member, now, implicit=True)
                return Submitted(complaint.id, None)
            approver_id = dept.head_user_id
            approver = await person(session, self.ctx, approver_id) if approver_id else None
            if approver is None:
                raise Refused("errors.no_head", department=dept.name)
            self._ask_approval(session, complaint, member, approver, now)
            return Submitted(complaint.id, approver)

    def _ask_approval(self, session: AsyncSession, complaint: Complaint, complainant: Person,
                      approver: Person, now: datetime) -> None:
        texts, lang = self.ctx.texts, approver.language
        view = self.card_view_of(complaint, complainant.display_name, complainant.department_name)
        text = texts.html(lang, "approval.request", card=view)
        keyboard = [[Button(texts.plain(lang, "buttons.approve"), APPROVAL.data(complaint.id, "y")),
                     Button(texts.plain(lang, "buttons.reject"), APPROVAL.data(complaint.id, "n"))]]
        waiting = texts.html(complainant.language, "approval.approver_unreachable",
                             approver=approver.display_name)
        queue_message(session, now, text, chat_id=approver.id, keyboard=keyboard,
                      on_held=(complainant.id, waiting))

    async def _load_for_decision(self, session: AsyncSession, actor_id: int,
                                 complaint_id: int) -> tuple[Complaint, Person]:
        complaint = await session.get(Complaint, complaint_id)
        if complaint is None:
            raise Refused("errors.stale_button")
        actor = await person(session, self.ctx, actor_id)
        dept = await session.get(Department, complaint.department_key) \
            if complaint.department_key else None
        if actor is None or dept is None or dept.head_user_id != actor_id:
            raise Refused("errors.only_head", department=dept.name if dept else "")
        if complaint.status != Status.PENDING_APPROVAL.value:
            raise Refused("errors.already_decided")
        return complaint, actor

    async def approve(self, actor_id: int, complaint_id: int) -> str:
        """The manager approves: the complaint gets its number and is queued for the group."""
        async with self.ctx.transaction() as session:
            complaint, actor = await self._load_for_decision(session, actor_id, complaint_id)
            await self._approve(session, complaint, actor, self.ctx.now(), implicit=False)
            assert complaint.number is not None
            return complaint.number

    async def _approve(self, session: AsyncSession, complaint: Complaint, approver: Person,
                       now: datetime, *, implicit: bool) -> None:
        complaint.status = next_status(Status(complaint.status), Event.APPROVE).value
        complaint.approver_id = approver.id
        complaint.decided_at = to_db(now)
        complaint.number = await next_number(session, ComplaintKind(complaint.kind).number_prefix,
                                             now.astimezone(self.ctx.settings.zone).year)
        record(session, now, complaint.id, approver.id, "approved", implicit=implicit,
               number=complaint.number)
        queue_action(session, now, "post_card", complaint.id)
        complainant = await person(session, self.ctx, complaint.complainant_id)
        assert complainant is not None
        queue_message(session, now, self.ctx.texts.html(
            complainant.language, "approval.approved", number=complaint.number,
            approver=approver.display_name, implicit=implicit), chat_id=complainant.id)

    async def ask_reject_reason(self, actor_id: int, complaint_id: int) -> None:
        async with self.ctx.transaction() as session:
            await self._load_for_decision(session, actor_id, complaint_id)
            await set_pending(session, self.ctx, actor_id, "reject_reason", ref_id=complaint_id)

    async def reject(self, actor_id: int, complaint_id: int, reason: str) -> None:
        reason = clean_text(reason)
        if not reason:
            raise Refused("errors.reason_empty", what="reject")
        if len(reason) > MAX_REJECT_REASON:
            raise Refused("errors.too_long", max=MAX_REJECT_REASON, length=len(reason))
        async with self.ctx.transaction() as session:
            now = self.ctx.now()
            complaint, actor = await self._load_for_decision(session, actor_id, complaint_id)
            await drop_pending(session, actor_id, "reject_reason")
            complaint.status = next_status(Status(complaint.status), Event.REJECT).value
            complaint.approver_id = actor_id
            complaint.decided_at = to_db(now)
            complaint.reject_reason = reason
            record(session, now, complaint.id, actor_id, "rejected", reason=reason)
            complainant = await person(session, self.ctx, complaint.complainant_id)
            assert complainant is not None
            lang = complainant.language
            queue_message(
                session, now,
                self.ctx.texts.html(lang, "approval.rejected", approver=actor.display_name,
                                    reason=reason, customer=complaint.answers.get("customer", "")),
                chat_id=complainant.id,
                keyboard=[[Button(self.ctx.texts.plain(lang, "buttons.edit_resubmit"),
                                  RESUBMIT.data(complaint.id))]])

    # --- posting (called by the sender once the card is in the group) ---------------

    async def mark_posted(self, session: AsyncSession, complaint: Complaint, chat_id: int,
                          thread_id: int | None, card_message_id: int) -> None:
        now = self.ctx.now()
        complaint.status = next_status(Status(complaint.status), Event.POST).value
        complaint.chat_id, complaint.thread_id = chat_id, thread_id
        complaint.card_message_id = card_message_id
        complaint.posted_at = to_db(now)
        kind = ComplaintKind(complaint.kind)
        for step in steps_of(kind):
            dept = owner_department(self.ctx, kind, step.owner)
            if dept is not None and step.clock_starts is ClockStart.POSTED:
                await open_step(self.ctx, session, complaint, step.key, dept, now)
        record(session, now, complaint.id, None, "posted", chat_id=chat_id, thread_id=thread_id)
        start_clock(session, complaint.id, AUTO_MAJOR,
                    now + timedelta(days=self.ctx.settings.severity.major_after_days))
        await release_after_posting(session, complaint.id)
        if complaint.photos:
            queue_action(session, now, "post_photos", complaint.id)
        complainant = await person(session, self.ctx, complaint.complainant_id)
        assert complainant is not None
        queue_message(session, now, self.ctx.texts.html(
            complainant.language, "approval.posted", number=complaint.number,
            link=message_link(chat_id, thread_id, card_message_id)), chat_id=complainant.id)

    async def adopt_card(self, session: AsyncSession, complaint: Complaint,
                         pressed: PressedCard) -> None:
        """A button was pressed on the complaint's card before its posting was recorded:
        Telegram showed the card, but its sender never learnt it (the answer was lost, or
        the process was killed before its commit). The card is there, so the complaint is
        posted now, with that card: the press counts and no second card is posted. Only a
        card in the chat (and topic) the sender was posting to qualifies."""
        if (complaint.posted_at is not None or complaint.status != Status.APPROVED.value
                or complaint.chat_id != pressed.chat_id
                or complaint.thread_id != pressed.thread_id):
            return
        await self.mark_posted(session, complaint, pressed.chat_id, pressed.thread_id,
                               pressed.message_id)
        complaint.card_hash = None  # what it shows is not known: the next redraw edits it
        await remember(session, pressed.chat_id, pressed.message_id, complaint.id)

    # --- looking at a complaint ------------------------------------------------------

    def local(self, moment: datetime) -> datetime:
        if moment.tzinfo is None:
            moment = from_db(moment)
        return moment.astimezone(self.ctx.settings.zone)

    def card_view_of(self, complaint: Complaint, complainant_name: str,
                     department_name: str | None) -> CardView:
        return CardView(
            number=complaint.number, kind=ComplaintKind(complaint.kind),
            status=Status(complaint.status), answers=dict(complaint.answers),
            photo_count=len(complaint.photos), filed_at=self.local(complaint.filed_at),
            complainant_name=complainant_name, department_name=department_name,
            is_crx=complaint.is_crx, steps=[], round=complaint.round,
            now=self.local(self.ctx.now()), severity=Severity(complaint.severity or "minor"),
            severity_ground=MajorGround(complaint.severity_ground) if complaint.severity_ground
            else None,
            major_due=self.local(complaint.major_due_at) if complaint.major_due_at else None,
        )

    async def card(self, session: AsyncSession, complaint: Complaint) -> CardView:
        complainant = await person(session, self.ctx, complaint.complainant_id)
        view = self.card_view_of(complaint, complainant.display_name if complainant else "?",
                                 complainant.department_name if complainant else None)
        rows = list(await session.scalars(select(StepRecord).where(
            StepRecord.complaint_id == complaint.id).order_by(StepRecord.id)))
        kind = ComplaintKind(complaint.kind)
        names = {d.key: d.name for d in await session.scalars(select(Department))}

        async def step_view(step: Step, record: StepRecord | None, dept_key: str | None) -> StepView:
            who = await person(session, self.ctx, record.done_by) if record and record.done_by \
                else None
            return StepView(step.key, step.label, names.get(dept_key) if dept_key else None,
                            who.display_name if who else None,
                            self.local(record.done_at) if record and record.done_at else None,
                            department_key=dept_key, round=record.round if record else 0,
                            due_at=self.local(record.due_at) if record and record.due_at else None)

        for step in (*steps_of(kind), *ROUND_STEPS):
            records = [r for r in rows if r.step_key == step.key]
            if records:
                view.steps.extend([await step_view(step, r, r.department_key) for r in records])
            elif step not in ROUND_STEPS:
                view.steps.append(await step_view(step, None,
                                                  owner_department(self.ctx, kind, step.owner)))
        view.chains = await Chains(self.ctx).views_of_complaint(session, complaint.id)
        if complaint.status == Status.CLOSED or complaint.round > 0:  # visits follow closing
            from bot.services.followups import FollowUps  # (it builds on this module)

            view.visit = await FollowUps(self.ctx).latest(session, complaint)
        return view

    async def find(self, session: AsyncSession, number: str) -> Complaint | None:
        return await session.scalar(select(Complaint).where(Complaint.number == number.upper()))

    async def show(self, actor_id: int, number: str) -> tuple[CardView, list[HistoryItem]]:
        """The card and its history, for the people allowed to see it."""
        async with self.ctx.sessions() as session:
            complaint = await self.find(session, number.strip())
            actor = await person(session, self.ctx, actor_id)
            if complaint is None:
                raise Refused("errors.no_such_complaint", number=number)
            if actor is None or not await self.may_see(session, actor, complaint):
                raise Refused("errors.not_allowed_to_see", number=complaint.number)
            return await self.record_of(session, complaint)

    async def record_of(self, session: AsyncSession,
                        complaint: Complaint) -> tuple[CardView, list[HistoryItem]]:
        """The card and its whole history (/show, /export, the archive)."""
        view = await self.card(session, complaint)
        names = {d.key: d.name for d in await session.scalars(select(Department))}
        items = []
        for event in await history(session, complaint.id):
            who = await person(session, self.ctx, event.actor_id) if event.actor_id else None
            details = dict(event.details)
            if details.get("department") in names:  # audit keeps keys; people read names
                details["department"] = names[details["department"]]
            if event.action == "followup_recorded":  # the visit's choices, as words
                details["visit"] = VisitAnswers(
                    Method(details["method"]), Satisfaction(details["satisfaction"]),
                    details.get("words"), details.get("more"))
            items.append(HistoryItem(self.local(event.at), event.action,
                                     who.display_name if who else None, details))
        return view, items

    async def may_see(self, session: AsyncSession, actor: Person, complaint: Complaint) -> bool:
        if actor.is_admin or actor.id == complaint.complainant_id:
            return True
        if actor.department_key is None:
            return False
        if actor.is_head and actor.department_key == complaint.department_key:
            return True
        # HR keeps every record (rules 一.4, 一.5); the intake department takes it in.
        involved = {self.ctx.settings.routing.service_intake,
                    intake_department(self.ctx, ComplaintKind(complaint.kind))}
        steps = await session.scalars(select(StepRecord.department_key).where(
            StepRecord.complaint_id == complaint.id))
        involved.update(steps)
        return actor.department_key in involved


@dataclass
class StepView:
    key: str
    label: str
    department: str | None  # its name; None while nobody is assigned yet
    done_by: str | None
    done_at: datetime | None
    department_key: str | None = None
    round: int = 0
    due_at: datetime | None = None  # local time


@dataclass
class CardView:
    number: str | None
    kind: ComplaintKind
    status: Status
    answers: dict[str, str]
    photo_count: int
    filed_at: datetime
    complainant_name: str
    department_name: str | None
    is_crx: bool
    steps: list[StepView]
    round: int = 0
    now: datetime | None = None  # local time the card was drawn: for "time left"
    # Its row on the daily sign-off sheet and its freight slips (rules 一.4 and 三).
    chains: list[ChainView] = dc_field(default_factory=list)
    # 輕微 or 重大 (ch. 9), and for 重大 the rule book's ground (a–d).
    severity: Severity = Severity.MINOR
    severity_ground: MajorGround | None = None
    major_due: datetime | None = None  # local: a major one is resolved with the customer by then
    visit: Visit | None = None  # its last follow-up visit (回訪), once it has closed

    @property
    def is_major(self) -> bool:
        return self.severity is Severity.MAJOR

    @property
    def severity_words(self) -> str:
        """The major ground as the rule book words it ("" for a minor complaint)."""
        return GROUND_WORDS[self.severity_ground] if self.severity_ground else ""

    def left(self, step: StepView) -> timedelta | None:
        """Time left before the step's deadline (negative once overdue)."""
        if step.due_at is None or self.now is None or step.done_at is not None:
            return None
        return step.due_at - self.now

    @property
    def fields(self) -> tuple[Field, ...]:
        return fields_of(self.kind)

    @property
    def waiting(self) -> list[StepView]:
        """The steps the complaint waits on now, one per department that owes one."""
        done = {s.key for s in self.steps} - {s.key for s in self.steps if s.done_at is None}
        step = waiting_step(self.kind, self.status, done)
        if step is None:
            return []
        return [s for s in self.steps if s.key == step.key and s.done_at is None
                and (step not in ROUND_STEPS or s.round == self.round)]

    @property
    def actions(self) -> list[StepView]:
        """Waiting steps someone can act on now (a department is named)."""
        return [s for s in self.waiting if s.department_key is not None]

    @property
    def current(self) -> StepView | None:
        return next(iter(self.waiting), None)


@dataclass(frozen=True)
class HistoryItem:
    at: datetime
    action: str
    who: str | None
    details: dict


def message_link(chat_id: int, thread_id: int | None, message_id: int) -> str | None:
    """t.me link to a message in a supergroup (private ids only work for members)."""
    text = str(chat_id)
    if not text.startswith("-100"):
        return None
    return f"https://t.me/c/{text[4:]}/{message_id}"


__all__ = ["CardView", "Complaints", "HistoryItem", "InvalidTransition", "StepView", "Submitted"]


async def appeals_of(session: AsyncSession, complaint_id: int) -> int:
    """How many times the complaint has been appealed (a round may also be a reopening after
    a follow-up visit, so the round is not the appeal's number)."""
    return await session.scalar(select(func.count()).select_from(Escalation).where(
        Escalation.complaint_id == complaint_id)) or 0


async def next_number(session: AsyncSession, prefix: str, year: int) -> str:
    """The next P-/S-/F-YYYY-NNNN: one counter per prefix and year, taken in the caller's
    transaction (so a rolled-back filing or slip gives its number back)."""
    counter = await session.get(NumberCounter, (prefix, year))
    if counter is None:
        counter = NumberCounter(prefix=prefix, year=year, last=0)
        session.add(counter)
    counter.last += 1
    return complaint_number(prefix, year, counter.last)
