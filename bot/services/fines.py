"""The fruit fund (水果基金, rule 一.5): HR's ledger of fines, its views and reports.

Only HR (the department that takes in service complaints) and admins change a fine or
see everyone's; a department head sees their own department's. A fine is never deleted:
waiving or paying it changes its status and writes an audit event.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import from_db, to_db
from bot.domain.fields import ComplaintKind
from bot.domain.followup import VISIT_WORDS
from bot.domain.periods import Period, PeriodError, parse_period, split_fines_args
from bot.domain.script import same_name
from bot.domain.validation import clean_text
from bot.domain.workflow import ACTIVE, step_of
from bot.formats import Money
from bot.outbox import queue_message, retire_buttons
from bot.services.audit import record
from bot.services.complaints import message_link
from bot.services.context import AppContext, Refused
from bot.services.conversation import drop_pending, set_pending
from bot.services.people import Person, keeps_hr_books, person
from bot.spreadsheets import FineRow, TotalRow, fines_totals, fines_workbook, render_headings, sum_totals
from bot.store.models import Complaint, DeadlineEvent, Department, Fine, StepRecord

WAIVE_REASON = "waive_reason"
MAX_WAIVE_REASON = 500  # longer reasons are kept cut to this


@dataclass(frozen=True)
class Scope:
    """Whose fines the actor may see: everyone's (HR, admins) or one department's (its head)."""

    department_key: str | None
    manages: bool  # may waive and mark paid


@dataclass(frozen=True)
class Listing:
    period: Period
    department: str | None
    rows: list[FineRow]
    totals: list[TotalRow]


class Fines:
    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx

    async def _scope(self, session: AsyncSession, actor_id: int) -> tuple[Person, Scope]:
        actor = await person(session, self.ctx, actor_id)
        if actor is not None and keeps_hr_books(self.ctx, actor):
            return actor, Scope(None, manages=True)
        if actor is not None and actor.is_head and actor.department_key:
            return actor, Scope(actor.department_key, manages=False)
        raise Refused("errors.fines_not_allowed")

    # --- changing a fine ----------------------------------------------------------------

    async def _managed(self, session: AsyncSession, actor_id: int, fine_id: int) -> tuple[Person, Fine]:
        actor, scope = await self._scope(session, actor_id)
        if not scope.manages:
            raise Refused("errors.fines_hr_only")
        fine = await session.get(Fine, fine_id)
        if fine is None:
            raise Refused("errors.no_such_fine", fine_id=fine_id)
        if fine.status != "levied":
            raise Refused("errors.fine_already", fine_id=fine_id, status=fine.status)
        return actor, fine

    async def ask_waive_reason(self, actor_id: int, fine_id: int) -> None:
        async with self.ctx.transaction() as session:
            await self._managed(session, actor_id, fine_id)
            await set_pending(session, self.ctx, actor_id, WAIVE_REASON, ref_id=fine_id)

    async def waive(self, actor_id: int, fine_id: int, reason: str) -> Fine:
        reason = clean_text(reason)
        if not reason:
            raise Refused("errors.reason_empty", what="waive")
        async with self.ctx.transaction() as session:
            actor, fine = await self._managed(session, actor_id, fine_id)
            await drop_pending(session, actor_id, WAIVE_REASON)
            return await self._change(session, actor, fine, "waived", reason[:MAX_WAIVE_REASON])

    async def mark_paid(self, actor_id: int, fine_id: int) -> Fine:
        async with self.ctx.transaction() as session:
            actor, fine = await self._managed(session, actor_id, fine_id)
            return await self._change(session, actor, fine, "paid", None)

    async def _change(self, session: AsyncSession, actor: Person, fine: Fine, status: str,
                      reason: str | None) -> Fine:
        now = self.ctx.now()
        fine.status, fine.changed_by, fine.changed_at, fine.reason = status, actor.id, to_db(now), reason
        await retire_buttons(session, now, f"fine:{fine.id}")  # HR's notice, wherever it is
        record(session, now, fine.complaint_id, actor.id, f"fine_{status}", fine_id=fine.id,
               reason=reason)
        if fine.head_user_id:
            head = await person(session, self.ctx, fine.head_user_id)
            if head is not None:
                queue_message(session, now, self.ctx.texts.html(
                    head.language, "fines.head_changed", fine_id=fine.id, status=status,
                    reason=reason, who=actor.display_name, money=self.money(fine.amount_cents)),
                    chat_id=head.id)
        return fine

    def money(self, cents: int) -> Money:
        return Money(cents, self.ctx.settings.fines.currency)

    # --- looking at the ledger ------------------------------------------------------------

    async def listing(self, actor_id: int, args: list[str]) -> Listing:
        """/fines [today|week|month|YYYY-MM|from..to] [department]"""
        try:
            period_text, department_text = split_fines_args(args)
            period = parse_period(period_text, self.ctx.now(), self.ctx.settings.zone)
        except PeriodError:
            raise Refused("errors.fines_usage") from None
        async with self.ctx.sessions() as session:
            _actor, scope = await self._scope(session, actor_id)
            department_key = scope.department_key
            if department_text:
                wanted = await self._department(session, department_text)
                if scope.department_key is not None and wanted != scope.department_key:
                    raise Refused("errors.fines_own_department")
                department_key = wanted
            rows = await self._rows(session, period, department_key)
            name = None
            if department_key:
                dept = await session.get(Department, department_key)
                name = dept.name if dept else department_key
        return Listing(period, name, rows, fines_totals(rows))

    async def listing_for_hr(self, args: list[str]) -> Listing:
        """The whole ledger for a period, for HR's scheduled reports (no actor)."""
        period = parse_period(split_fines_args(args)[0], self.ctx.now(), self.ctx.settings.zone)
        async with self.ctx.sessions() as session:
            rows = await self._rows(session, period, None)
        return Listing(period, None, rows, fines_totals(rows))

    async def _department(self, session: AsyncSession, text: str) -> str:
        for dept in await session.scalars(select(Department)):
            if text == dept.key or same_name(text, dept.name):
                return dept.key
        raise Refused("errors.no_such_department", name=text)

    async def _rows(self, session: AsyncSession, period: Period,
                    department_key: str | None) -> list[FineRow]:
        query = (select(Fine, Complaint, StepRecord)
                 .join(Complaint, Complaint.id == Fine.complaint_id)
                 .outerjoin(StepRecord, StepRecord.id == Fine.step_id)  # none: a missed visit
                 .where(Fine.levied_at >= to_db(period.start), Fine.levied_at < to_db(period.end))
                 .order_by(Fine.levied_at, Fine.id))
        if department_key:
            query = query.where(Fine.department_key == department_key)
        names = {d.key: d.name for d in await session.scalars(select(Department))}
        lang = self.ctx.settings.general.default_language
        rows = []
        for fine, complaint, step in await session.execute(query):
            link = message_link(complaint.chat_id, complaint.thread_id, complaint.card_message_id) \
                if complaint.chat_id and complaint.card_message_id else None
            rows.append(FineRow(
                id=fine.id, number=complaint.number or "",
                step=step_of(ComplaintKind(complaint.kind), step.step_key).label if step
                else VISIT_WORDS,
                department=names.get(fine.department_key, fine.department_key),
                head=fine.head_name or "", amount=Decimal(fine.amount_cents) / 100,
                currency=fine.currency, status=self.ctx.texts.plain(lang, "reports.status",
                                                                    status=fine.status),
                status_code=fine.status, levied_at=self._local(fine.levied_at),
                changed_at=self._local(fine.changed_at) if fine.changed_at else None,
                reason=fine.reason or "", link=link))
        return rows

    def _local(self, moment: datetime) -> datetime:
        return from_db(moment).astimezone(self.ctx.settings.zone)

    async def fund(self, actor_id: int) -> list[TotalRow]:
        """The fruit fund: levied, waived, paid, outstanding (all time, within the actor's scope)."""
        async with self.ctx.sessions() as session:
            _actor, scope = await self._scope(session, actor_id)
            everything = Period(datetime(2000, 1, 1, tzinfo=self.ctx.settings.zone),
                                self.ctx.now() + timedelta(days=1), "all")
            rows = await self._rows(session, everything, scope.department_key)
        totals = fines_totals(rows)
        return [*totals, *sum_totals(totals)]  # per department and head, then the whole fund

    async def workbook(self, actor_id: int, args: list[str]) -> tuple[str, bytes, Listing]:
        listing = await self.listing(actor_id, args or ["month"])
        lang = self.ctx.settings.general.default_language
        headings = render_headings(self.ctx.texts, lang, listing.period.key, listing.department)
        return (f"fines-{listing.period.key.replace('..', '_')}.xlsx",
                fines_workbook(listing.rows, headings), listing)

    # --- HR's daily summary -----------------------------------------------------------------

    async def daily_summary(self, day_start: datetime, day_end: datetime,
                            now: datetime) -> dict[str, object]:
        """The day's breaches and fines per department, and open steps at risk (due within
        the next working hours or already overdue)."""
        async with self.ctx.sessions() as session:
            breaches = list(await session.execute(
                select(DeadlineEvent, StepRecord).join(StepRecord, StepRecord.id == DeadlineEvent.step_id)
                .where(DeadlineEvent.kind == "breach", DeadlineEvent.fired_at >= to_db(day_start),
                       DeadlineEvent.fired_at < to_db(day_end))))
            fines = list(await session.scalars(select(Fine).where(
                Fine.levied_at >= to_db(day_start), Fine.levied_at < to_db(day_end))))
            names = {d.key: d.name for d in await session.scalars(select(Department))}
            per_department: dict[str, dict[str, int]] = {}
            for _event, step in breaches:
                per_department.setdefault(step.department_key, {"breaches": 0, "fines": 0, "cents": 0})
                per_department[step.department_key]["breaches"] += 1
            for fine in fines:
                entry = per_department.setdefault(fine.department_key,
                                                  {"breaches": 0, "fines": 0, "cents": 0})
                entry["fines"] += 1
                entry["cents"] += fine.amount_cents
            horizon = self.ctx.sla.calendar.add(now, timedelta(hours=2))
            at_risk_rows = list(await session.execute(
                select(StepRecord, Complaint).join(Complaint, Complaint.id == StepRecord.complaint_id)
                .where(StepRecord.done_at.is_(None), StepRecord.due_at.is_not(None),
                       StepRecord.due_at <= to_db(horizon),
                       Complaint.status.in_([s.value for s in ACTIVE]))
                .order_by(StepRecord.due_at).limit(30)))
            at_risk = [{"number": complaint.number,
                        "department": names.get(step.department_key, step.department_key),
                        "step": step_of(ComplaintKind(complaint.kind), step.step_key).label,
                        "due": self._local(step.due_at),
                        "overdue": from_db(step.due_at) < now}
                       for step, complaint in at_risk_rows if step.due_at is not None]
        return {"departments": [{"name": names.get(k, k), **v, "money": self.money(v["cents"])}
                                for k, v in sorted(per_department.items())],
                "at_risk": at_risk, "day": self._local(to_db(day_start)).date()}
