"""HR's scheduled reports (rule 一.5): the daily summary on working days and the monthly
XLSX on the first working day of the month, with the monthly analysis report (ch. 9: the
company's to HR, each department's part to its head) — each sent exactly once (a JobRun row is
claimed in the transaction that queues it), late if the bot was down at the time."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

if TYPE_CHECKING:
    from bot.monthly_report import ReportFiles

from bot.outbox import queue_document, queue_message
from bot.services.analysis import Analysis
from bot.services.context import AppContext, Refused
from bot.services.deadlines import hr_chat
from bot.services.fines import Fines
from bot.services.jobs import run_once
from bot.services.people import keeps_hr_books, language_of, person
from bot.spreadsheets import fines_workbook, render_headings
from bot.store.models import Department, JobRun


def _midnight(day: date, ctx: AppContext) -> datetime:
    return datetime.combine(day, time(0), tzinfo=ctx.settings.zone)


def _is_report_day(ctx: AppContext, day: date) -> bool:
    return ctx.sla.calendar.mode.value == "24x7" or ctx.sla.calendar.is_working_day(day)


async def _summary_html(ctx: AppContext, lang: str, day: date, now: datetime) -> str:
    start = _midnight(day, ctx)
    data = await Fines(ctx).daily_summary(start, start + timedelta(days=1), now)
    return ctx.texts.html(lang, "fines.daily_summary", summary=data)


def _last_month(today: date) -> str:
    return (today.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")


def _first_report_day_of_month(ctx: AppContext, today: date) -> bool:
    day = today.replace(day=1)
    while not _is_report_day(ctx, day):
        day += timedelta(days=1)
    return day == today


class ScheduledReports:
    """HR's daily summary and the monthly workbook, when due and on demand."""

    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx

    async def summary_text(self, actor_id: int) -> str:
        """/summary: today's summary now, for HR and admins."""
        async with self.ctx.sessions() as session:
            actor = await person(session, self.ctx, actor_id)
        if actor is None or not keeps_hr_books(self.ctx, actor):
            raise Refused("errors.fines_hr_only")
        now = self.ctx.now()
        today = now.astimezone(self.ctx.settings.zone).date()
        return await _summary_html(self.ctx, actor.language, today, now)

    async def run_due(self) -> list[str]:
        """Send whichever reports are due and not yet sent; returns their keys. Called by the
        scheduler at the summary time, each morning, and at start-up (to catch up)."""
        now = self.ctx.now()
        local = now.astimezone(self.ctx.settings.zone)
        today = local.date()
        sent: list[str] = []
        lang = self.ctx.settings.general.default_language
        async with self.ctx.sessions() as session:
            chat_id = await hr_chat(session, self.ctx)
        fines = self.ctx.settings.fines
        last_month = _last_month(today)
        if fines.monthly_report and _first_report_day_of_month(self.ctx, today) \
                and local.time() >= self.ctx.settings.calendar.day_start:
            sent += await self._analysis(last_month, chat_id, now)  # heads' too without HR
        if chat_id is None:
            return sent
        async with self.ctx.sessions() as session:
            done = set(await session.scalars(select(JobRun.key).where(JobRun.key.in_(
                [f"daily:{today.isoformat()}", f"monthly:{_last_month(today)}"]))))
        if _is_report_day(self.ctx, today) and local.time() >= fines.daily_summary_at \
                and f"daily:{today.isoformat()}" not in done:
            text = await _summary_html(self.ctx, lang, today, now)

            async def daily(session: AsyncSession) -> None:
                queue_message(session, now, text, chat_id=chat_id)

            if await run_once(self.ctx, f"daily:{today.isoformat()}", daily):
                sent.append(f"daily:{today.isoformat()}")
        if fines.monthly_report and _first_report_day_of_month(self.ctx, today) \
                and local.time() >= self.ctx.settings.calendar.day_start \
                and f"monthly:{last_month}" not in done:
            listing = await Fines(self.ctx).listing_for_hr([last_month])
            headings = render_headings(self.ctx.texts, lang, listing.period.key, None)
            data = fines_workbook(listing.rows, headings)
            caption = self.ctx.texts.html(lang, "fines.workbook_caption", listing=listing)

            async def monthly(session: AsyncSession) -> None:
                queue_document(session, now, chat_id, f"fines-{last_month}.xlsx", data, caption)

            if await run_once(self.ctx, f"monthly:{last_month}", monthly):
                sent.append(f"monthly:{last_month}")
        return sent

    async def _analysis(self, month: str, hr: int | None, now: datetime) -> list[str]:
        """The month's analysis report (ch. 9): the whole company to HR, each department's
        part to its head; each once (a JobRun per reader)."""
        analysis = Analysis(self.ctx)
        async with self.ctx.sessions() as session:
            heads = [(d.head_user_id, d.key) for d in await session.scalars(
                select(Department).where(Department.head_user_id.is_not(None))
                .order_by(Department.key)) if d.head_user_id != hr]
            done = set(await session.scalars(select(JobRun.key).where(
                JobRun.key.like(f"analysis:{month}:%"))))
            readers = [*([(hr, None, await language_of(session, self.ctx, hr))] if hr else []),
                       *[(head, key, await language_of(session, self.ctx, head))
                         for head, key in heads if head is not None]]
        sent = []
        for chat, department, lang in readers:
            key = f"analysis:{month}:{department or 'company'}"
            if key in done:
                continue
            files = await analysis.files(lang, month, department)

            async def deliver(session: AsyncSession, chat: int = chat,
                              files: ReportFiles = files) -> None:
                analysis.queue(session, now, chat, files)

            if await run_once(self.ctx, key, deliver):
                sent.append(key)
        return sent
