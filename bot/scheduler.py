"""Timers derived from deadline rows: arm what falls due soon, sweep for the rest.

Only the events due within WINDOW get an in-memory job (100,000 open deadlines must not
mean 100,000 jobs); a periodic sweep fires anything overdue and arms the next window.
Jobs are added with misfire_grace_time=None: APScheduler's default (1 s) would silently
skip a job armed for a moment already past, e.g. right after a restart.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta
from typing import Any

from apscheduler.jobstores.base import JobLookupError
from sqlalchemy import select
from telegram.ext import ContextTypes, Job, JobQueue

from bot.clock import from_db, to_db
from bot.services.context import AppContext
from bot.services.deadlines import DeadlineEngine
from bot.services.error_reports import ErrorReports
from bot.services.health import Health
from bot.services.scheduled_reports import ScheduledReports
from bot.services.sheets import Sheets
from bot.store.models import Complaint, DeadlineEvent

log = logging.getLogger(__name__)

WINDOW = timedelta(hours=1)


class DeadlineScheduler:
    def __init__(self, ctx: AppContext, job_queue: JobQueue[Any]) -> None:
        self.ctx = ctx
        self.job_queue = job_queue
        self.engine = DeadlineEngine(ctx)
        self.armed: dict[int, Job[Any]] = {}
        self._arming: asyncio.Task[None] | None = None
        self._stopped = False
        self.fired = 0  # for the benchmark and logs

    async def start(self) -> None:
        """Fire what fell due while the bot was down (once, marked late), arm the window,
        and start the sweep."""
        self.engine.started_at = self.ctx.now()
        await self.sweep()
        self.job_queue.run_repeating(self._sweep_job, interval=self.ctx.settings.sweep_seconds,
                                     first=self.ctx.settings.sweep_seconds, name="deadline-sweep")

    def stop(self) -> None:
        """Disarm; safe to call twice. The rows stay: the next start re-arms from them."""
        self._stopped = True  # a sweep still running must not arm new jobs
        if self._arming is not None:
            self._arming.cancel()
        for job in self.armed.values():
            # A job APScheduler has just dispatched is already gone from its store.
            with contextlib.suppress(JobLookupError):
                job.schedule_removal()
        self.armed.clear()

    def wake(self) -> None:
        """New deadlines were committed: arm those that fall within the window."""
        if self._stopped:
            return
        if self._arming is None or self._arming.done():
            self._arming = asyncio.get_running_loop().create_task(self.arm_window())

    async def sweep(self) -> None:
        now = self.ctx.now()
        async with self.ctx.sessions() as session:
            overdue = list(await session.scalars(
                select(DeadlineEvent.id).where(DeadlineEvent.fired_at.is_(None),
                                               DeadlineEvent.cancelled_at.is_(None),
                                               DeadlineEvent.due_at <= to_db(now))
                .order_by(DeadlineEvent.due_at, DeadlineEvent.id)))
        for event_id in overdue:
            await self._fire(event_id)
        await self.arm_window()
        try:
            await ScheduledReports(self.ctx).run_due()  # HR's daily summary and monthly XLSX, once each
        except Exception as exc:
            log.exception("scheduled reports failed; the next sweep tries again")
            await ErrorReports(self.ctx).report(exc, "reports")
        try:
            if await Sheets(self.ctx).compile_due() is not None:  # rule 一.4, once a day
                await self.arm_window()
        except Exception as exc:
            log.exception("compiling the daily sheet failed; the next sweep tries again")
            await ErrorReports(self.ctx).report(exc, "sheet")
        try:
            await Health(self.ctx).beat(now)  # `complaint-bot status` and /healthz read it
        except Exception:
            log.exception("the heartbeat could not be written")

    async def arm_window(self) -> None:
        now = self.ctx.now()
        async with self.ctx.sessions() as session:
            rows = await session.execute(
                select(DeadlineEvent.id, DeadlineEvent.due_at).where(
                    DeadlineEvent.fired_at.is_(None), DeadlineEvent.cancelled_at.is_(None),
                    DeadlineEvent.due_at <= to_db(now + WINDOW)))
            pending = list(rows)
        if self._stopped:
            return
        for event_id, due_at in pending:
            if event_id in self.armed:
                continue
            when = max(from_db(due_at), now)
            self.armed[event_id] = self.job_queue.run_once(
                self._job, when=when, data=event_id, name=f"deadline-{event_id}",
                job_kwargs={"misfire_grace_time": None})

    async def _job(self, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert context.job is not None
        event_id = int(context.job.data)  # type: ignore[call-overload]
        self.armed.pop(event_id, None)
        await self._fire(event_id)

    async def _sweep_job(self, _context: ContextTypes.DEFAULT_TYPE) -> None:
        await self.sweep()

    async def _number_of(self, event_id: int) -> str | None:
        """The complaint a deadline moment belongs to, for the admins' report."""
        try:
            async with self.ctx.sessions() as session:
                return await session.scalar(
                    select(Complaint.number).join(DeadlineEvent,
                                                  DeadlineEvent.complaint_id == Complaint.id)
                    .where(DeadlineEvent.id == event_id))
        except Exception:  # the database itself: the report goes without it
            return None

    async def _fire(self, event_id: int) -> None:
        try:
            fired = await self.engine.fire(event_id)
        except Exception as exc:  # the row stays unclaimed; the next sweep tries again
            log.exception("deadline event %s failed", event_id)
            await ErrorReports(self.ctx).report(exc, "deadline",
                                                number=await self._number_of(event_id))
            return
        if fired is not None:
            self.fired += 1
            metrics = self.ctx.metrics
            metrics.deadlines.labels(fired.kind).inc()
            metrics.lateness_seconds.observe(max(fired.lateness, 0.0))
            if fired.fine_id is not None:
                metrics.fines.inc()
        with contextlib.suppress(KeyError):
            del self.armed[event_id]
