"""Deadline moments as rows (DeadlineEvent), written and called off in this one place: for
the steps of a complaint (StepRecord, bot.services.deadlines), of a sign-off chain
(ChainStepRecord, bot.services.chains), and the complaint's own clocks of ch. 9 (10 days to
become 重大, 12 hours to resolve a major one: bot.services.severity; the 24-hour feedback:
bot.services.feedback; the follow-up visit: bot.services.followups). The scheduler
(bot.scheduler) arms and fires them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import or_, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import to_db
from bot.domain.sla import StepTimes
from bot.services.context import deadlines_changed
from bot.store.models import DeadlineEvent


def add_deadline_events(session: AsyncSession, complaint_id: int, times: StepTimes, *,
                        step_id: int | None = None, chain_step_id: int | None = None,
                        starts_at: datetime | None = None) -> None:
    """A step's moments as rows: each warning, the breach, and (for a step that starts
    later) its start; the scheduler arms them once the transaction commits."""
    def event(kind: str, before: timedelta, moment: datetime) -> DeadlineEvent:
        return DeadlineEvent(step_id=step_id, chain_step_id=chain_step_id,
                             complaint_id=complaint_id, kind=kind,
                             before_seconds=int(before.total_seconds()), due_at=to_db(moment))

    for before, moment in times.warnings:
        session.add(event("warning", before, moment))
    session.add(event("breach", timedelta(0), times.due_at))
    if starts_at is not None:
        session.add(event("start", timedelta(0), starts_at))
    deadlines_changed(session)


async def cancel_deadline_events(session: AsyncSession, now: datetime, *,
                                 step_ids: Sequence[int] = (),
                                 chain_step_ids: Sequence[int] = ()) -> None:
    """Steps met or withdrawn: their moments that have not fired never will."""
    if not step_ids and not chain_step_ids:
        return
    belongs = or_(DeadlineEvent.step_id.in_(step_ids),
                  DeadlineEvent.chain_step_id.in_(chain_step_ids))
    await session.execute(update(DeadlineEvent).where(
        belongs, DeadlineEvent.fired_at.is_(None), DeadlineEvent.cancelled_at.is_(None))
        .values(cancelled_at=to_db(now)))


# DeadlineEvent.kind of the complaint's own clocks (ch. 9): 10 days open → 重大 by itself;
# a major one resolved within 12 hours; the complainant hears back within 24 hours; the
# follow-up visit (回訪) within 24 hours of closing (bot.services.followups).
AUTO_MAJOR, RESOLVE, FEEDBACK, FOLLOW_UP_CLOCK = "major", "resolve", "feedback", "followup"


def start_clock(session: AsyncSession, complaint_id: int, kind: str, due: datetime, *,
                now: datetime | None = None, warn_before: Sequence[timedelta] = ()) -> None:
    """One of the complaint's own clocks (ch. 9): its moment `due` and, for the 12 hours of a
    major complaint, warnings `warn_before` it (those still ahead of `now`)."""
    for before in sorted(set(warn_before), reverse=True):
        if now is None or due - before > now:
            session.add(DeadlineEvent(complaint_id=complaint_id, kind=kind,
                                      before_seconds=int(before.total_seconds()),
                                      due_at=to_db(due - before)))
    session.add(DeadlineEvent(complaint_id=complaint_id, kind=kind, before_seconds=0,
                              due_at=to_db(due)))
    deadlines_changed(session)


async def stop_clocks(session: AsyncSession, complaint_id: int, now: datetime,
                      *kinds: str) -> None:
    """The complaint closed (all its clocks but the visit's, which starts then), was lowered
    (its resolution's), or its visit was recorded (the visit's)."""
    await session.execute(
        update(DeadlineEvent)
        .where(DeadlineEvent.complaint_id == complaint_id,
               DeadlineEvent.kind.in_(kinds or (AUTO_MAJOR, RESOLVE, FEEDBACK)),
               DeadlineEvent.fired_at.is_(None), DeadlineEvent.cancelled_at.is_(None))
        .values(cancelled_at=to_db(now)))
