"""Follow-up visits (回訪, ch. 9; the rules in bot/domain/followup.py).

When a complaint closes, a visit opens in the same transaction: its visitor (by role, from
config [followup]), its due time and its clock (complaint-level DeadlineEvent rows of kind
"followup": warnings to the visitor, then the breach — the visitor's head and HR told, a fine
if configured — each once, fired by bot.services.deadlines). The visitor answers in their
private chat, a question at a time (buttons where the choice is fixed, typed text for the
customer's words); recording the last answer stops the clock. A visit that found the customer
dissatisfied (or more to do) may reopen the complaint: a new round in which the departments
that answered last answer again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.buttons import FOLLOW_UP
from bot.clock import to_db
from bot.domain.fields import ComplaintKind
from bot.domain.followup import (
    MAX_WORDS,
    METHOD_WORDS,
    SATISFACTION_WORDS,
    Method,
    Question,
    Satisfaction,
    Visit,
    VisitAnswers,
    Visitor,
    visitor_for,
)
from bot.domain.severity import Severity
from bot.domain.validation import clean_text
from bot.domain.workflow import REVISIT_STEP, Event, Owner, Status, next_status, step_of
from bot.formats import Money
from bot.outbox import Button, Keyboard, queue_action, queue_message
from bot.services.audit import record
from bot.services.complaints import Complaints, intake_department
from bot.services.context import AppContext, Refused
from bot.services.conversation import drop_pending, set_pending
from bot.services.deadline_events import (
    AUTO_MAJOR,
    FOLLOW_UP_CLOCK,
    RESOLVE,
    start_clock,
    stop_clocks,
)
from bot.services.deadlines import open_step
from bot.services.people import (
    Person,
    department_name,
    head_of,
    hr_chat,
    keeps_hr_books,
    language_of,
    person,
)
from bot.store.models import (
    Answer,
    Complaint,
    DeadlineEvent,
    Fine,
    FollowUp,
    PendingInput,
    StepRecord,
)

FOLLOW_UP_WORDS = "followup_words"  # PendingInput.purpose: the customer's words
LISTED = 20  # /followups: of each list, the soonest due (the message stays short)


@dataclass(frozen=True)
class Waiting:
    """/followups: the visits listed (the soonest due) and how many there are in all."""

    mine: list[Visit]
    mine_count: int
    others: list[Visit]
    others_count: int


def answers_of(row: FollowUp) -> VisitAnswers:
    return VisitAnswers(Method(row.method) if row.method else None,
                        Satisfaction(row.satisfaction) if row.satisfaction else None,
                        row.words, row.more_needed)


class FollowUps:
    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx
        self.complaints = Complaints(ctx)

    # --- opening, on closing -------------------------------------------------------------

    async def open(self, session: AsyncSession, complaint: Complaint, now: datetime) -> None:
        """The complaint closed: its visit, its clock, and the visitor asked the first question."""
        settings = self.ctx.settings.followup
        severity = Severity(complaint.severity)
        visitor = await self._visitor(session, complaint, visitor_for(
            severity, settings.minor_visitor, settings.major_visitor))
        due = now + timedelta(hours=settings.within_hours)
        row = FollowUp(complaint_id=complaint.id, round=complaint.round,
                       visitor_id=visitor.id if visitor else None,
                       visitor_department_key=visitor.department_key if visitor else None,
                       severity=severity.value, opened_at=to_db(now), due_at=to_db(due))
        session.add(row)
        await session.flush()
        start_clock(session, complaint.id, FOLLOW_UP_CLOCK, due, now=now,
                    warn_before=[timedelta(minutes=m) for m in settings.warn_before])
        record(session, now, complaint.id, None, "followup_opened",
               visitor=visitor.id if visitor else None, round=complaint.round)
        visit = await self._visit(session, row, complaint)
        if visitor is not None:
            text, keyboard = self.question(visitor.language, visit)
            queue_message(session, now, text, chat_id=visitor.id, keyboard=keyboard)
            return
        hr = await hr_chat(session, self.ctx)  # nobody holds the role: HR sees to it
        if hr is not None:
            queue_message(session, now, self.ctx.texts.html(
                await language_of(session, self.ctx, hr), "followup.nobody_to_visit", visit=visit),
                chat_id=hr)

    async def _visitor(self, session: AsyncSession, complaint: Complaint,
                       role: Visitor) -> Person | None:
        """Who holds the role for this complaint; else the intake department's head."""
        intake = intake_department(self.ctx, ComplaintKind(complaint.kind))
        found = None
        if role is Visitor.ACCEPTER:
            accepter = await session.scalar(select(StepRecord.done_by).where(
                StepRecord.complaint_id == complaint.id, StepRecord.step_key == "accept",
                StepRecord.done_by.is_not(None)).order_by(StepRecord.id))
            found = await person(session, self.ctx, accepter) if accepter else None
        elif role is Visitor.MANAGING_HEAD:
            found = await head_of(session, self.ctx,
                                  self.ctx.settings.severity.managing_department or intake)
        return found or await head_of(session, self.ctx, intake)

    # --- the questions ---------------------------------------------------------------------

    def question(self, lang: str, visit: Visit) -> tuple[str, Keyboard | None]:
        """The next thing the visit asks, with its buttons (none for the customer's words)."""
        texts, question = self.ctx.texts, visit.question

        def button(words: str, field: str, value: str) -> Button:
            return Button(words, FOLLOW_UP.data(visit.id, field, value))

        keyboard: Keyboard | None
        if question is Question.METHOD:
            keyboard = [[button(texts.gettext(lang, w), "m", m.value)
                         for m, w in METHOD_WORDS.items()]]
        elif question is Question.SATISFACTION:
            keyboard = [[button(texts.gettext(lang, w), "s", s.value)
                         for s, w in SATISFACTION_WORDS.items()]]
        elif question is Question.MORE:
            keyboard = [[button(texts.plain(lang, "buttons.followup_more", more=more), "n",
                                "y" if more else "n") for more in (True, False)]]
        elif question is Question.DONE and visit.answers.may_reopen and not visit.decided:
            keyboard = [[button(texts.plain(lang, "buttons.followup_reopen"), "r", "y")],
                        [button(texts.plain(lang, "buttons.followup_keep_closed"), "r", "n")]]
        else:
            keyboard = None
        return texts.html(lang, "followup.question", visit=visit), keyboard

    async def choose(self, actor_id: int, visit_id: int, field: str, value: str) -> Visit:
        """A button: how (m), satisfaction (s), more needed (n). Pressed again before the
        visit is recorded, it changes the answer; after, it is stale."""
        async with self.ctx.transaction() as session:
            now = self.ctx.now()
            row, complaint, actor = await self._mine(session, actor_id, visit_id)
            if row.done_at is not None:
                raise Refused("errors.followup_done", number=complaint.number)
            try:
                if field == "m":
                    row.method = Method(value).value
                elif field == "s":
                    row.satisfaction = Satisfaction(value).value
                elif field == "n" and value in ("y", "n"):
                    row.more_needed = value == "y"
                else:
                    raise ValueError(field)
            except ValueError:
                raise Refused("errors.stale_button") from None
            return await self._after_answer(session, row, complaint, actor, now)

    async def take_words(self, actor_id: int, pending: PendingInput, text: str) -> Visit:
        words = clean_text(text)
        if not words:
            raise Refused("errors.followup_words_empty")
        if len(words) > MAX_WORDS:
            raise Refused("errors.too_long", max=MAX_WORDS, length=len(words))
        async with self.ctx.transaction() as session:
            now = self.ctx.now()
            row, complaint, actor = await self._mine(session, actor_id, int(pending.ref_id or 0))
            if row.done_at is None:
                row.words = words
                return await self._after_answer(session, row, complaint, actor, now)
            # Recorded meanwhile (by HR, say): the question goes — committed, not undone by
            # the refusal — so that the visitor's next texts are theirs again.
            await drop_pending(session, actor_id, FOLLOW_UP_WORDS)
        raise Refused("errors.followup_done", number=complaint.number)

    async def _after_answer(self, session: AsyncSession, row: FollowUp, complaint: Complaint,
                            actor: Person, now: datetime) -> Visit:
        """Ask for the words next (a typed answer), or record the visit once all is given."""
        answers = answers_of(row)
        if answers.next_question is Question.WORDS:
            await set_pending(session, self.ctx, actor.id, FOLLOW_UP_WORDS, ref_id=row.id)
        else:
            await drop_pending(session, actor.id, FOLLOW_UP_WORDS)
        if answers.next_question is Question.DONE:
            await self._recorded(session, row, complaint, actor, answers, now)
        return await self._visit(session, row, complaint)

    async def _recorded(self, session: AsyncSession, row: FollowUp, complaint: Complaint,
                        actor: Person, answers: VisitAnswers, now: datetime) -> None:
        # Claimed with a conditional UPDATE: two last answers at once record the visit once.
        claimed = await session.execute(
            update(FollowUp).where(FollowUp.id == row.id, FollowUp.done_at.is_(None))
            .values(done_at=to_db(now), done_by=actor.id)
            .execution_options(synchronize_session="fetch"))
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            raise Refused("errors.followup_done", number=complaint.number)
        await stop_clocks(session, complaint.id, now, FOLLOW_UP_CLOCK)
        record(session, now, complaint.id, actor.id, "followup_recorded", method=row.method,
               satisfaction=row.satisfaction, more=row.more_needed, words=row.words,
               late=row.overdue_at is not None)
        visit = await self._visit(session, row, complaint)
        lang = self.ctx.settings.general.default_language
        queue_message(session, now, self.ctx.texts.html(
            lang, "followup.thread_recorded", visit=visit, who=actor.display_name),
            complaint_id=complaint.id, to_thread=True)
        queue_action(session, now, "refresh_card", complaint.id)
        if answers.may_reopen:  # the intake head hears of an unhappy customer at once
            head = await head_of(session, self.ctx,
                                 intake_department(self.ctx, ComplaintKind(complaint.kind)))
            if head is not None and head.id != actor.id:
                queue_message(session, now, self.ctx.texts.html(
                    head.language, "followup.unhappy_head", visit=visit,
                    who=actor.display_name), chat_id=head.id)

    # --- reopening ------------------------------------------------------------------------

    async def reopen(self, actor_id: int, visit_id: int, reopen: bool) -> Visit:
        """After a visit that found the customer dissatisfied: a new round, or closed as is."""
        async with self.ctx.transaction() as session:
            now = self.ctx.now()
            row, complaint, actor = await self._mine(session, actor_id, visit_id)
            if row.done_at is None or not answers_of(row).may_reopen:
                raise Refused("errors.stale_button")
            # Claimed with conditional UPDATEs, the decision and then the complaint's new
            # round: two presses at once (the visitor and HR, a double tap) decide once.
            decided = await session.execute(
                update(FollowUp).where(FollowUp.id == row.id, FollowUp.reopened_at.is_(None),
                                       FollowUp.kept_closed_at.is_(None))
                .values(**{"reopened_at" if reopen else "kept_closed_at": to_db(now)})
                .execution_options(synchronize_session="fetch"))
            if decided.rowcount != 1:  # type: ignore[attr-defined]
                raise Refused("errors.stale_button")
            if not reopen:
                record(session, now, complaint.id, actor.id, "followup_kept_closed")
                return await self._visit(session, row, complaint)
            moved = await session.execute(
                update(Complaint).where(Complaint.id == complaint.id,
                                        Complaint.status == Status.CLOSED.value,
                                        Complaint.round == row.round)
                .values(status=next_status(Status.CLOSED, Event.REOPEN).value, closed_at=None,
                        round=Complaint.round + 1)
                .execution_options(synchronize_session="fetch"))
            if moved.rowcount != 1:  # type: ignore[attr-defined]
                raise Refused("errors.stale_button")
            await session.refresh(complaint)
            await self._new_round(session, complaint, row, actor, now)
            return await self._visit(session, row, complaint)

    async def _new_round(self, session: AsyncSession, complaint: Complaint, row: FollowUp,
                         actor: Person, now: datetime) -> None:
        """The departments that answered the last round (not HR passing it on) answer again."""
        kind = ComplaintKind(complaint.kind)
        answers = await session.execute(
            select(Answer.department_key, Answer.step_key).where(
                Answer.complaint_id == complaint.id, Answer.round == row.round)
            .order_by(Answer.id))
        answered = list(dict.fromkeys(department for department, step in answers
                                      if step_of(kind, step).owner is Owner.INVESTIGATORS))
        departments = answered or [intake_department(self.ctx, kind)]
        for key in departments:
            await open_step(self.ctx, session, complaint, REVISIT_STEP.key, key, now,
                            round=complaint.round)
        record(session, now, complaint.id, actor.id, "reopened", round=complaint.round,
               departments=departments)
        self._restart_clocks(session, complaint, now)
        visit = await self._visit(session, row, complaint)
        names = [await department_name(session, key) for key in departments]
        due = self.complaints.local(self.ctx.sla.times(kind, REVISIT_STEP.key, now).due_at)
        lang = self.ctx.settings.general.default_language
        queue_message(session, now, self.ctx.texts.html(
            lang, "followup.thread_reopened", visit=visit, who=actor.display_name,
            departments=names, round=complaint.round, due=due),
            complaint_id=complaint.id, to_thread=True)
        for key, name in zip(departments, names, strict=True):
            head = await head_of(session, self.ctx, key)
            if head is not None:
                queue_message(session, now, self.ctx.texts.html(
                    head.language, "followup.reopened_head", visit=visit, department=name,
                    due=due), chat_id=head.id)
        complainant = await person(session, self.ctx, complaint.complainant_id)
        if complainant is not None and complainant.id != actor.id:
            queue_message(session, now, self.ctx.texts.html(
                complainant.language, "followup.reopened_complainant", visit=visit),
                chat_id=complainant.id)
        queue_action(session, now, "refresh_card", complaint.id)
        queue_action(session, now, "refresh_topic", complaint.id)

    def _restart_clocks(self, session: AsyncSession, complaint: Complaint, now: datetime) -> None:
        """Unresolved again: a major one has its 12 hours again; a minor one becomes 重大 10
        days after posting (at once if those have passed)."""
        settings = self.ctx.settings.severity
        if complaint.severity == Severity.MAJOR:
            due = now + timedelta(hours=settings.resolve_within_hours)
            complaint.major_due_at = to_db(due)
            start_clock(session, complaint.id, RESOLVE, due, now=now,
                        warn_before=[timedelta(minutes=m) for m in settings.resolve_warn_before])
        elif complaint.posted_at is not None:
            posted = self.complaints.local(complaint.posted_at)
            start_clock(session, complaint.id, AUTO_MAJOR,
                        max(posted + timedelta(days=settings.major_after_days), now))

    # --- the clock -------------------------------------------------------------------------

    async def fire(self, session: AsyncSession, event: DeadlineEvent, now: datetime,
                   late: bool) -> bool:
        """A warning (before_seconds > 0) or the deadline of the complaint's open visit."""
        event_complaint_id, before_seconds = event.complaint_id, event.before_seconds
        row = await session.scalar(select(FollowUp).where(
            FollowUp.complaint_id == event_complaint_id, FollowUp.done_at.is_(None))
            .order_by(FollowUp.round.desc()))
        complaint = await session.get(Complaint, event_complaint_id)
        if row is None or complaint is None:
            return False  # recorded in time
        visit = await self._visit(session, row, complaint)
        visitor = await person(session, self.ctx, row.visitor_id) if row.visitor_id else None
        if before_seconds > 0:
            record(session, now, complaint.id, None, "followup_warning",
                   before_seconds=before_seconds, late=late)
            if visitor is not None:
                text, keyboard = self.question(visitor.language, visit)
                queue_message(session, now, self.ctx.texts.html(
                    visitor.language, "followup.reminder", visit=visit,
                    left=timedelta(seconds=before_seconds), late=late) + "\n\n" + text,
                    chat_id=visitor.id, keyboard=keyboard)
            return True
        row.overdue_at = to_db(now)
        record(session, now, complaint.id, None, "followup_overdue", visitor=row.visitor_id,
               late=late)
        fine = await self._levy(session, row, complaint, visitor, now)
        money = Money(fine.amount_cents, fine.currency) if fine else None
        visit = await self._visit(session, row, complaint)
        chats = []
        head = await head_of(session, self.ctx, row.visitor_department_key)
        if head is not None and head.id != row.visitor_id:
            chats.append(head.id)
        hr = await hr_chat(session, self.ctx)
        if hr is not None:
            chats.append(hr)
        for chat in dict.fromkeys(chats):
            queue_message(session, now, self.ctx.texts.html(
                await language_of(session, self.ctx, chat), "followup.overdue", visit=visit,
                late=late, fine=money), chat_id=chat)
        if visitor is not None:
            text, keyboard = self.question(visitor.language, visit)
            queue_message(session, now, self.ctx.texts.html(
                visitor.language, "followup.overdue_visitor", visit=visit, late=late,
                fine=money) + "\n\n" + text, chat_id=visitor.id, keyboard=keyboard)
        queue_action(session, now, "refresh_card", complaint.id)
        return True

    async def _levy(self, session: AsyncSession, row: FollowUp, complaint: Complaint,
                    visitor: Person | None, now: datetime) -> Fine | None:
        """[followup] fine > 0: the missed visit is fined to the visitor's department's head."""
        amount = self.ctx.settings.followup.fine
        if amount <= 0 or not row.visitor_department_key:
            return None
        head = await head_of(session, self.ctx, row.visitor_department_key)
        currency = self.ctx.settings.fines.currency
        fine = Fine(complaint_id=complaint.id, follow_up_id=row.id,
                    department_key=row.visitor_department_key,
                    head_user_id=head.id if head else None,
                    head_name=head.display_name if head else None,
                    amount_cents=int(amount * 100), currency=currency, status="levied",
                    levied_at=to_db(now))
        session.add(fine)
        await session.flush()
        record(session, now, complaint.id, None, "fine_levied", fine_id=fine.id,
               department=row.visitor_department_key, head=fine.head_user_id,
               amount=str(amount), currency=currency, followup=row.id)
        return fine

    # --- reading ----------------------------------------------------------------------------

    async def _mine(self, session: AsyncSession, actor_id: int,
                    visit_id: int) -> tuple[FollowUp, Complaint, Person]:
        """The visit, if the actor may record it: its visitor, HR, or an admin."""
        row = await session.get(FollowUp, visit_id)
        complaint = await session.get(Complaint, row.complaint_id) if row else None
        actor = await person(session, self.ctx, actor_id)
        if row is None or complaint is None or actor is None:
            raise Refused("errors.stale_button")
        if actor.id != row.visitor_id and not keeps_hr_books(self.ctx, actor):
            raise Refused("errors.not_your_followup", number=complaint.number)
        return row, complaint, actor

    async def _visit(self, session: AsyncSession, row: FollowUp, complaint: Complaint) -> Visit:
        visitor = await person(session, self.ctx, row.visitor_id) if row.visitor_id else None
        answers = complaint.answers or {}
        return Visit(id=row.id, number=complaint.number or "",
                     customer=str(answers.get("customer") or answers.get("target") or ""),
                     severity=Severity(row.severity),
                     visitor=visitor.display_name if visitor else None,
                     due_at=self.complaints.local(row.due_at), answers=answers_of(row),
                     done_at=self.complaints.local(row.done_at) if row.done_at else None,
                     overdue=row.overdue_at is not None, reopened=row.reopened_at is not None,
                     kept_closed=row.kept_closed_at is not None)

    async def latest(self, session: AsyncSession, complaint: Complaint) -> Visit | None:
        """The complaint's last visit (for the card and /show)."""
        row = await session.scalar(select(FollowUp).where(
            FollowUp.complaint_id == complaint.id).order_by(FollowUp.round.desc()))
        return await self._visit(session, row, complaint) if row is not None else None

    async def asked(self, actor_id: int, pending: PendingInput) -> tuple[str, Keyboard | None]:
        """The question waiting in the private chat, to ask it again."""
        async with self.ctx.sessions() as session:
            row, complaint, actor = await self._mine(session, actor_id, int(pending.ref_id or 0))
            return self.question(actor.language, await self._visit(session, row, complaint))

    async def start(self, actor_id: int, visit_id: int) -> tuple[str, Keyboard | None]:
        """/followups' button: the visit's next question (the words: asked as a typed answer)."""
        async with self.ctx.transaction() as session:
            row, complaint, actor = await self._mine(session, actor_id, visit_id)
            if row.done_at is not None:
                raise Refused("errors.followup_done", number=complaint.number)
            visit = await self._visit(session, row, complaint)
            if visit.question is Question.WORDS:
                await set_pending(session, self.ctx, actor.id, FOLLOW_UP_WORDS, ref_id=row.id)
            return self.question(actor.language, visit)

    async def waiting(self, actor_id: int) -> Waiting:
        """/followups: the visits waiting on the actor, and (for HR and the admins) everyone
        else's still waiting — the soonest due first, at most LISTED of each."""
        async with self.ctx.sessions() as session:
            actor = await person(session, self.ctx, actor_id)
            if actor is None:
                return Waiting([], 0, [], 0)
            undone = (select(FollowUp, Complaint)
                      .join(Complaint, Complaint.id == FollowUp.complaint_id)
                      .where(FollowUp.done_at.is_(None)))
            lists: list[tuple[list[Visit], int]] = []
            for mine in (True, False):
                if not mine and not keeps_hr_books(self.ctx, actor):
                    lists.append(([], 0))
                    continue
                whose = FollowUp.visitor_id == actor.id if mine else \
                    or_(FollowUp.visitor_id.is_(None), FollowUp.visitor_id != actor.id)
                count = await session.scalar(
                    undone.where(whose).with_only_columns(func.count())) or 0
                rows = await session.execute(
                    undone.where(whose).order_by(FollowUp.due_at, FollowUp.id).limit(LISTED))
                lists.append(([await self._visit(session, row, complaint)
                               for row, complaint in rows], count))
            (mine_list, mine_count), (others, others_count) = lists
            return Waiting(mine_list, mine_count, others, others_count)
