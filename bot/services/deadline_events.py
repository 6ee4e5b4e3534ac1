"""Deadline moments as rows (DeadlineEvent), written and called off in this one place: for
the steps of a complaint (StepRecord, bot.services.deadlines) and of a sign-off chain
(ChainStepRecord, bot.services.chains). The scheduler (bot.scheduler) arms and fires them."""

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
