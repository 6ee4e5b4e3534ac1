"""Deadlines that are never lost (rules 一.2, 一.3, 一.5).

Opening a step stores its due time and its warning and breach moments as rows, in the
transaction that starts the clock. The scheduler (bot.scheduler) only arms timers from
these rows; `fire` claims a row with a conditional update, so each warning, breach and
fine happens exactly once whatever crashes, restarts or extra processes there are.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.buttons import FINE
from bot.clock import from_db, to_db
from bot.domain.fields import ComplaintKind
from bot.domain.workflow import step_of
from bot.formats import Money
from bot.outbox import Button, make_digestible, queue_action, queue_message
from bot.services.audit import record
from bot.services.chains import ChainNotices
from bot.services.context import AppContext
from bot.services.deadline_events import (
    FEEDBACK,
    FOLLOW_UP_CLOCK,
    add_deadline_events,
    cancel_deadline_events,
)
from bot.services.people import hr_chat, language_of, person
from bot.store.models import Complaint, DeadlineEvent, Department, Fine, StepRecord

# A notice this much later than its moment says so (it fell due while the bot was down).
LATE_AFTER = timedelta(minutes=1)


async def open_step(ctx: AppContext, session: AsyncSession, complaint: Complaint, step_key: str,
                    department_key: str, started_at: datetime, round: int = 0) -> StepRecord:
    """A step's clock starts: the step row, its due time, its warnings and its breach."""
    times = ctx.sla.times(ComplaintKind(complaint.kind), step_key, started_at)
    row = StepRecord(complaint_id=complaint.id, step_key=step_key, department_key=department_key,
                     round=round, started_at=to_db(started_at), due_at=to_db(times.due_at))
    session.add(row)
    await session.flush()
    add_deadline_events(session, complaint.id, times, step_id=row.id)
    return row


async def close_step(session: AsyncSession, step: StepRecord, now: datetime) -> None:
    """The step was met: its warnings and breach that have not fired never will."""
    await cancel_deadline_events(session, now, step_ids=[step.id])


@dataclass(frozen=True)
class Fired:
    kind: str
    late: bool
    fine_id: int | None
    lateness: float = 0.0  # seconds after its moment it was acted on


class DeadlineEngine:
    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx
        # When this process started: what fell due before it, fell due while the bot was down.
        self.started_at: datetime | None = None

    async def fire(self, event_id: int) -> Fired | None:
        """Act on one warning or breach, once. None if it was already done or cancelled."""
        async with self.ctx.transaction() as session:
            now = self.ctx.now()
            claimed = await session.execute(
                update(DeadlineEvent)
                .where(DeadlineEvent.id == event_id, DeadlineEvent.fired_at.is_(None),
                       DeadlineEvent.cancelled_at.is_(None),
                       # A timer that went off early (the clock was set back) does nothing.
                       DeadlineEvent.due_at <= to_db(now))
                .values(fired_at=to_db(now)))
            if claimed.rowcount != 1:  # type: ignore[attr-defined]
                return None
            event = await session.get(DeadlineEvent, event_id)
            assert event is not None
            due = from_db(event.due_at)
            late = now - due > LATE_AFTER or (self.started_at is not None and due < self.started_at)
            if event.chain_step_id is not None:  # a step of the sheet or of a freight slip
                acted = await ChainNotices(self.ctx).fire(session, event, now, late)
                return Fired(event.kind, late, None, (now - due).total_seconds()) \
                    if acted else None
            if event.step_id is None:  # the complaint's own clocks of ch. 9
                # (imported here: both build on this module)
                from bot.services.feedback import Feedback
                from bot.services.followups import FollowUps
                from bot.services.severity import SeverityMarks

                clock = FollowUps(self.ctx) if event.kind == FOLLOW_UP_CLOCK else \
                    Feedback(self.ctx) if event.kind == FEEDBACK else SeverityMarks(self.ctx)
                acted = await clock.fire(session, event, now, late)
                return Fired(event.kind, late, None, (now - due).total_seconds()) \
                    if acted else None
            step = await session.get(StepRecord, event.step_id)
            complaint = await session.get(Complaint, event.complaint_id)
            assert step is not None and complaint is not None
            if step.done_at is not None:  # met in the meantime: nothing to say
                event.cancelled_at = to_db(now)
                return None
            fine_id = None
            if event.kind == "warning":
                await self._warn(session, complaint, step, event, now, late)
            else:
                fine_id = await self._breach(session, complaint, step, now, late)
            queue_action(session, now, "refresh_card", complaint.id)
            return Fired(event.kind, late, fine_id, (now - due).total_seconds())

    async def _facts(self, session: AsyncSession, complaint: Complaint,
                     step: StepRecord) -> dict[str, object]:
        dept = await session.get(Department, step.department_key)
        label = step_of(ComplaintKind(complaint.kind), step.step_key).label
        due = from_db(step.due_at) if step.due_at else None
        return {"number": complaint.number, "step": step.step_key, "step_label": label,
                "department": dept.name if dept else step.department_key,
                "due": due.astimezone(self.ctx.settings.zone) if due else None}

    async def _warn(self, session: AsyncSession, complaint: Complaint, step: StepRecord,
                    event: DeadlineEvent, now: datetime, late: bool) -> None:
        facts = await self._facts(session, complaint, step)
        left = timedelta(seconds=event.before_seconds)
        record(session, now, complaint.id, None, "deadline_warning", step=step.step_key,
               department=step.department_key, late=late)
        await self._to_thread(session, complaint, "deadlines.thread_warning",
                              left=left, late=late, **facts)
        await self._to_head(session, step.department_key, "deadlines.head_warning",
                            left=left, late=late, **facts)

    async def _breach(self, session: AsyncSession, complaint: Complaint, step: StepRecord,
                      now: datetime, late: bool) -> int | None:
        facts = await self._facts(session, complaint, step)
        record(session, now, complaint.id, None, "deadline_breached", step=step.step_key,
               department=step.department_key, late=late)
        await self._to_thread(session, complaint, "deadlines.thread_breach", late=late, **facts)
        await self._to_head(session, step.department_key, "deadlines.head_breach", late=late,
                            **facts)
        rule = self.ctx.sla.rule(ComplaintKind(complaint.kind), step.step_key)
        fine = await self._levy(session, complaint, step, now) if rule.fines else None
        await self._to_hr(session, "deadlines.hr_breach", fine_id=fine.id if fine else None,
                          late=late, fine=self._money(fine.amount_cents) if fine else None,
                          head=fine.head_name if fine else None, **facts)
        return fine.id if fine else None

    async def _levy(self, session: AsyncSession, complaint: Complaint, step: StepRecord,
                    now: datetime) -> Fine:
        """Rule 一.5: charged to the head of the department at this moment."""
        existing = await session.scalar(select(Fine).where(Fine.step_id == step.id))
        if existing is not None:  # the unique key's promise, checked before it has to bite
            return existing
        dept = await session.get(Department, step.department_key)
        head_id = dept.head_user_id if dept else None
        head = await person(session, self.ctx, head_id) if head_id else None
        settings = self.ctx.settings.fines
        fine = Fine(complaint_id=complaint.id, step_id=step.id,
                    department_key=step.department_key, head_user_id=head_id,
                    head_name=head.display_name if head else None,
                    amount_cents=int(settings.amount * 100), currency=settings.currency,
                    status="levied", levied_at=to_db(now))
        session.add(fine)
        await session.flush()
        record(session, now, complaint.id, None, "fine_levied", fine_id=fine.id,
               department=step.department_key, head=head_id, amount=str(settings.amount),
               currency=settings.currency)
        facts = await self._facts(session, complaint, step)
        money = self._money(fine.amount_cents)
        await self._to_thread(session, complaint, "deadlines.thread_fine", money=money,
                              head=fine.head_name, fine_id=fine.id, **facts)
        await self._to_head(session, step.department_key, "deadlines.head_fine", money=money,
                            fine_id=fine.id, **facts)
        return fine

    def _money(self, cents: int) -> Money:
        return Money(cents, self.ctx.settings.fines.currency)

    # --- who hears of it ------------------------------------------------------------------

    async def _to_thread(self, session: AsyncSession, complaint: Complaint, template: str,
                         **params: object) -> None:
        lang = self.ctx.settings.general.default_language
        texts = self.ctx.texts
        row = queue_message(session, self.ctx.now(), texts.html(lang, template, **params),
                            complaint_id=complaint.id, to_thread=True)
        # In a burst the sender merges such notices into one message per group.
        make_digestible(row, texts.html(lang, template + "_line", **params))

    async def _to_head(self, session: AsyncSession, department_key: str, template: str,
                       **params: object) -> None:
        dept = await session.get(Department, department_key)
        if dept is None or dept.head_user_id is None:
            return
        head = await person(session, self.ctx, dept.head_user_id)
        if head is None:
            return
        queue_message(session, self.ctx.now(), self.ctx.texts.html(head.language, template, **params),
                      chat_id=head.id)

    async def _to_hr(self, session: AsyncSession, template: str, fine_id: int | None,
                     **params: object) -> None:
        """HR hears of every breach; a fine comes with 豁免 / 已繳 buttons."""
        chat_id = await hr_chat(session, self.ctx)
        if chat_id is None:
            return
        lang = await language_of(session, self.ctx, chat_id)
        texts = self.ctx.texts
        keyboard = [[Button(texts.plain(lang, "buttons.fine_waive", fine_id=fine_id),
                            FINE.data(fine_id, "waive")),
                     Button(texts.plain(lang, "buttons.fine_paid", fine_id=fine_id),
                            FINE.data(fine_id, "paid"))]] if fine_id else None
        row = queue_message(session, self.ctx.now(), texts.html(lang, template, fine_id=fine_id,
                                                                **params),
                            chat_id=chat_id, keyboard=keyboard,
                            subject=f"fine:{fine_id}" if fine_id else None)
        # In a burst HR gets one message listing the fines, each with its own buttons.
        make_digestible(row, texts.html(lang, template + "_line", fine_id=fine_id, **params),
                        keyboard)


__all__ = ["DeadlineEngine", "Fired", "close_step", "hr_chat", "open_step"]
