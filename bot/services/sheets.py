"""Rule 一.4: the daily 質量投訴處理流程表 of compensation / return / exchange cases.

At `sheet.compile_at` on working days the day's cases that have their departments'
answers become the rows of a sheet (each row a ChainItem of the "sheet" chain); HR gets
it as XLSX with a readable summary and confirms it; each responsible head signs their
rows; the next working morning each row goes to the vice-president over the
complainant's department, then the GM, then the order desk (bot/domain/chains.py).
Cases still waiting for an answer roll to the next day's sheet by themselves: a case is
taken once it is answered and not yet on a sheet.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.buttons import DAILY_SHEET
from bot.clock import to_db
from bot.domain.chains import SHEET
from bot.domain.periods import PeriodError, parse_period
from bot.domain.workflow import ACTIVE, Status
from bot.outbox import Button, Keyboard, queue_action, queue_document, queue_message
from bot.services.audit import record
from bot.services.chains import WITHDRAWN, CaseFacts, Chains, ChainView
from bot.services.context import AppContext, Refused
from bot.services.jobs import run_once
from bot.services.people import department_name, holds_role, hr_chat, keeps_hr_books, language_of, person
from bot.spreadsheets import table_columns, table_workbook
from bot.store.models import (
    Answer,
    ChainItem,
    ChainStepRecord,
    Complaint,
    Department,
    Sheet,
)

# Cases with their departments' answers (an appeal under way waits for its answer).
ANSWERED = (Status.ANSWERED.value, Status.CLOSED.value)
WAITING_FOR_ANSWERS = tuple(status.value for status in ACTIVE)  # not yet answered
# The answers a department hands in on a complaint: what the sheet shows per department.
DEPARTMENT_ANSWERS = ("answer", "plan", "escalation")
# Cases answered this long before the sheet's day and never listed predate the sheet (or
# the bot): they are not swept onto it.
LOOK_BACK = timedelta(days=7)
MAX_HOLIDAY_RUN = 15  # the longest run of days off to look back over (Spring Festival)
OFF_WORDS = ("off", "取消", "否")  # /crx <number> off


@dataclass(frozen=True)
class CrxMarked:
    """What /crx did: the case's number, whether it is marked now, and the sheet row it was
    struck off (if it was on one)."""

    number: str
    on: bool
    struck_off: ChainView | None = None


@dataclass(frozen=True)
class SheetShown:
    sheet: SheetView
    filename: str
    data: bytes  # the XLSX
    lang: str
    actions: list[str]  # "c" confirm, "s" sign: what the caller may do now


@dataclass
class SheetView:
    id: int
    day: date
    confirmed: bool
    rows: list[ChainView] = field(default_factory=list)
    facts: dict[int, CaseFacts] = field(default_factory=dict)  # per row: customer, answers
    rolled_over: list[str] = field(default_factory=list)  # complaint numbers still unanswered


class Sheets:
    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx
        self.chains = Chains(ctx)

    def _today(self, now: datetime) -> date:
        return now.astimezone(self.ctx.settings.zone).date()

    # --- compiling at the end of the day -----------------------------------------------

    def due_day(self, now: datetime) -> date:
        """The sheet that should exist by now: today's once compile_at has passed on a working
        day, else the last working day's (compiled late if the bot was down at the time)."""
        local = now.astimezone(self.ctx.settings.zone)
        calendar = self.ctx.sla.calendar
        day = local.date()
        if calendar.is_working_day(day) and local.time() >= self.ctx.settings.sheet.compile_at:
            return day
        day -= timedelta(days=1)
        for _ in range(MAX_HOLIDAY_RUN):
            if calendar.is_working_day(day):
                break
            day -= timedelta(days=1)
        return day

    async def compile_due(self) -> Sheet | None:
        """Compile the due sheet if it was not done yet (once: a JobRun key commits with it).
        Called by the scheduler's sweep, so a sheet missed while the bot was down comes late."""
        if not self.ctx.settings.sheet.enabled:
            return None
        now = self.ctx.now()
        day = self.due_day(now)
        async def compile_day(session: AsyncSession) -> Sheet | None:
            return await self._compile(session, day, now)

        ran = await run_once(self.ctx, f"sheet:{day.isoformat()}", compile_day)
        return ran.value if ran else None

    async def _compile(self, session: AsyncSession, day: date, now: datetime) -> Sheet | None:
        zone = self.ctx.settings.zone
        answered_since = to_db(datetime.combine(day - LOOK_BACK, time(0), tzinfo=zone))
        recently_answered = select(Answer.complaint_id).where(
            Answer.step_key.in_(DEPARTMENT_ANSWERS), Answer.created_at >= answered_since)
        on_a_sheet = select(ChainItem.complaint_id).where(ChainItem.chain == SHEET.key,
                                                          ChainItem.status != WITHDRAWN)
        cases = list(await session.scalars(select(Complaint).where(
            Complaint.is_crx.is_(True), Complaint.status.in_(ANSWERED),
            Complaint.id.in_(recently_answered), Complaint.id.not_in(on_a_sheet))
            .order_by(Complaint.id)))
        waiting = [n or "" for n in await session.scalars(select(Complaint.number).where(
            Complaint.is_crx.is_(True), Complaint.status.in_(WAITING_FOR_ANSWERS),
            Complaint.id.not_in(on_a_sheet)).order_by(Complaint.id))]
        chat_id = await hr_chat(session, self.ctx)
        if not cases:
            if waiting and chat_id is not None:
                lang = await language_of(session, self.ctx, chat_id)
                queue_message(session, now, self.ctx.texts.html(
                    lang, "chains.sheet_empty", day=day, rolled_over=waiting), chat_id=chat_id)
            return None
        sheet = Sheet(day=day, compiled_at=to_db(now))
        session.add(sheet)
        await session.flush()
        first = SHEET.steps[0]
        names = {d.key: d.name for d in await session.scalars(select(Department))}
        for complaint in cases:
            answers = await self._answers(session, complaint, names)
            # The row keeps the answers as they were signed: a later appeal does not change it.
            item = ChainItem(chain=SHEET.key, complaint_id=complaint.id, sheet_id=sheet.id,
                             status="open", created_at=to_db(now),
                             data={"departments": list(dict.fromkeys(k for k, _, _ in answers)),
                                   "answers": [[name, text] for _, name, text in answers]})
            session.add(item)
            await session.flush()
            await self.chains.open(session, item, first, "", now, 0, now)
            record(session, now, complaint.id, None, "sheet_listed", day=day.isoformat())
        if chat_id is not None:
            await self._send_to_hr(session, sheet, chat_id, now, waiting)
        return sheet

    async def _answers(self, session: AsyncSession, complaint: Complaint,
                       names: dict[str, str]) -> list[tuple[str, str, str]]:
        """(department key, name, text) of each answer the departments handed in."""
        rows = await session.scalars(select(Answer).where(
            Answer.complaint_id == complaint.id, Answer.step_key.in_(DEPARTMENT_ANSWERS))
            .order_by(Answer.id))
        return [(a.department_key, names.get(a.department_key, a.department_key),
                 "\n".join(str(v) for v in a.parts.values() if v)) for a in rows]

    async def _send_to_hr(self, session: AsyncSession, sheet: Sheet, chat_id: int, now: datetime,
                          rolled_over: list[str]) -> None:
        lang = await language_of(session, self.ctx, chat_id)
        view = await self.view(session, sheet)
        view.rolled_over = rolled_over
        queue_message(session, now, self.ctx.texts.html(lang, "chains.sheet_for_hr", sheet=view),
                      chat_id=chat_id, keyboard=self.buttons(lang, sheet.id, ["c"]))
        filename, data = self.workbook(view, lang)
        queue_document(session, now, chat_id, filename, data,
                       self.ctx.texts.html(lang, "chains.sheet_caption", sheet=view))

    def buttons(self, lang: str, sheet_id: int, actions: list[str]) -> Keyboard:
        """sh:<sheet>:c (HR confirms) and sh:<sheet>:s (a head signs their rows)."""
        labels = {"c": "buttons.sheet_confirm", "s": "buttons.chain_sign"}
        return [[Button(self.ctx.texts.plain(lang, labels[a]), DAILY_SHEET.data(sheet_id, a))]
                for a in actions]

    # --- HR confirms, heads sign ---------------------------------------------------------

    async def _rows(self, session: AsyncSession, sheet_id: int, step_key: str,
                    status: str = "open") -> list[tuple[ChainItem, ChainStepRecord]]:
        """The sheet's rows (items of this status) whose step is not done."""
        found = await session.execute(
            select(ChainItem, ChainStepRecord).join(ChainStepRecord, ChainStepRecord.item_id == ChainItem.id)
            .where(ChainItem.sheet_id == sheet_id, ChainItem.status == status,
                   ChainStepRecord.step_key == step_key, ChainStepRecord.done_at.is_(None))
            .order_by(ChainItem.id, ChainStepRecord.id))
        return [(item, row) for item, row in found]

    async def press(self, actor_id: int, sheet_id: int, action: str) -> tuple[str, SheetView]:
        """sh:<sheet>:c — HR confirms the sheet; sh:<sheet>:s — a head signs their rows."""
        async with self.ctx.transaction() as session:
            now = self.ctx.now()
            sheet = await session.get(Sheet, sheet_id)
            actor = await person(session, self.ctx, actor_id)
            if sheet is None or actor is None or action not in ("c", "s"):
                raise Refused("errors.stale_button")
            if action == "c":
                rows = await self._rows(session, sheet.id, "hr_confirm")
                if not rows:
                    if sheet.confirmed_at is None \
                            and await self._rows(session, sheet.id, "hr_confirm", WITHDRAWN):
                        raise Refused("errors.sheet_rows_withdrawn", day=sheet.day)
                    raise Refused("errors.chain_step_done")
                await self.chains.sign_many(session, rows, actor_id, now)  # HR only
                sheet.confirmed_at, sheet.confirmed_by = to_db(now), actor_id
                await self._ask_heads(session, sheet, now)
                template = "chains.sheet_confirmed"
            else:
                rows = await self._owed_by(session, sheet.id, "head_sign", actor_id)
                if not rows:
                    signed = await session.scalar(
                        select(ChainStepRecord.id).join(ChainItem, ChainStepRecord.item_id == ChainItem.id)
                        .where(ChainItem.sheet_id == sheet.id, ChainStepRecord.step_key == "head_sign",
                               ChainStepRecord.done_by == actor_id))
                    if signed is not None:
                        raise Refused("errors.chain_step_done")
                    if await self._owed_by(session, sheet.id, "head_sign", actor_id, WITHDRAWN):
                        raise Refused("errors.sheet_rows_withdrawn", day=sheet.day)
                    raise Refused("errors.chain_not_yours", step=SHEET.step("head_sign").label,
                                  role="responsible_head", department="")
                await self.chains.sign_many(session, rows, actor_id, now)
                template = "chains.sheet_signed"
            return template, await self.view(session, sheet)

    async def _owed_by(self, session: AsyncSession, sheet_id: int, step_key: str, actor_id: int,
                       status: str = "open") -> list[tuple[ChainItem, ChainStepRecord]]:
        """The sheet's rows of the step that this person may sign (or might have, had they
        not been withdrawn)."""
        return [(item, row) for item, row in await self._rows(session, sheet_id, step_key, status)
                if actor_id in {uid for uid, _ in await self.chains.actors(session, item, row)}]

    async def actions(self, session: AsyncSession, sheet: Sheet, actor_id: int) -> list[str]:
        """What this person may do on the sheet now: "c" (confirm), "s" (sign their rows)."""
        return [action for action, step_key in (("c", "hr_confirm"), ("s", "head_sign"))
                if await self._owed_by(session, sheet.id, step_key, actor_id)]

    async def _ask_heads(self, session: AsyncSession, sheet: Sheet, now: datetime) -> None:
        """One message per head, listing their rows, with one button to sign them all."""
        view = await self.view(session, sheet)
        by_head: dict[int, list[tuple[ChainItem, ChainStepRecord]]] = {}
        for item, row in await self._rows(session, sheet.id, "head_sign"):
            row.announced_at = to_db(now)
            heads = await self.chains.actors(session, item, row)
            if not heads:
                await self.chains.nobody_can_act(session, item, row, now)
            for head, _role in heads:
                by_head.setdefault(head, []).append((item, row))
        for head, rows in by_head.items():
            lang = await language_of(session, self.ctx, head)
            items = {item.id for item, _ in rows}
            keys = dict.fromkeys(row.department_key for _, row in rows)
            queue_message(session, now, self.ctx.texts.html(
                lang, "chains.sheet_for_head", sheet=replace(view, rows=[
                    r for r in view.rows if r.id in items]),
                departments=[await department_name(session, k) for k in keys],
                due=self.chains.local(min(row.due_at for _, row in rows))), chat_id=head,
                keyboard=self.buttons(lang, sheet.id, ["s"]))

    # --- HR marks a case (rule 一.4: 涉及賠款、退換貨的投訴) -----------------------------------

    async def mark(self, actor_id: int, args: list[str]) -> CrxMarked:
        """/crx <number> [off [reason]]: HR says a case is (or, correcting a wrong match, is
        not) a compensation / return / exchange case. A case already on a sheet is struck
        off it too, unless the GM has approved it (SHEET.withdrawable_until)."""
        if not args or (len(args) >= 2 and args[1].casefold() not in OFF_WORDS) \
                or (len(args) == 1 and args[0].casefold() in OFF_WORDS):
            raise Refused("errors.crx_usage")
        number, on = args[0], len(args) == 1
        reason = self.chains.withdrawal_reason(args[2:])
        async with self.ctx.transaction() as session:
            now = self.ctx.now()
            actor = await person(session, self.ctx, actor_id)
            if not keeps_hr_books(self.ctx, actor):
                raise Refused("errors.crx_hr_only")
            complaint = await session.scalar(select(Complaint).where(
                Complaint.number == number.strip().upper()))
            if complaint is None:
                raise Refused("errors.no_such_complaint", number=number)
            struck_off = None
            row = await session.scalar(select(ChainItem).where(
                ChainItem.complaint_id == complaint.id, ChainItem.chain == SHEET.key,
                ChainItem.status != WITHDRAWN))
            if not on and row is not None:
                if row.status != "open":
                    raise Refused("errors.chain_not_open", number=complaint.number, status=row.status)
                if not await self.chains.may_withdraw(session, row, actor_id):  # SHEET.withdrawn_by
                    raise Refused("errors.crx_hr_only")
                struck_off = await self.chains.withdraw(session, row, actor_id, reason, now)
            if complaint.is_crx != on:
                complaint.is_crx = on
                record(session, now, complaint.id, actor_id, "marked_crx" if on else "unmarked_crx",
                       **({"reason": reason} if reason else {}))
                queue_action(session, now, "refresh_card", complaint.id)
            return CrxMarked(complaint.number or "", on, struck_off)

    # --- /sheet [date] -------------------------------------------------------------------

    async def may_see(self, session: AsyncSession, actor_id: int) -> bool:
        """HR, the order desk, heads, vice-presidents, the GM and assistants, admins."""
        actor = await person(session, self.ctx, actor_id)
        if actor is None:
            return False
        routing = self.ctx.settings.routing
        if actor.is_admin or actor.is_head \
                or actor.department_key in (routing.service_intake, routing.product_intake):
            return True
        if await session.scalar(select(Department.key).where(Department.vice_president_id == actor_id)):
            return True
        return await holds_role(session, actor_id, "general_manager", "gm_assistant")

    async def show(self, actor_id: int, args: list[str]) -> SheetShown:
        """The day's sheet (today, or the latest before it), with its XLSX as it stands and
        the buttons of what the caller may do on it now (so nothing waits on a lost message)."""
        async with self.ctx.sessions() as session:
            if not await self.may_see(session, actor_id):
                raise Refused("errors.sheet_not_allowed")
            if len(args) > 1:
                raise Refused("errors.sheet_usage")
            day = self._today(self.ctx.now())
            if args:
                day = self._day(args[0])
                sheet = await session.scalar(select(Sheet).where(Sheet.day == day))
            else:
                sheet = await session.scalar(select(Sheet).where(Sheet.day <= day)
                                             .order_by(Sheet.day.desc()))
            if sheet is None:
                raise Refused("errors.no_sheet", day=day.isoformat())
            lang = await language_of(session, self.ctx, actor_id)
            view = await self.view(session, sheet)
            filename, data = self.workbook(view, lang)
            return SheetShown(view, filename, data, lang, await self.actions(session, sheet, actor_id))

    def _day(self, text: str) -> date:
        zone = self.ctx.settings.zone
        try:
            period = parse_period(text, self.ctx.now(), zone)
        except PeriodError:
            raise Refused("errors.sheet_usage") from None
        first = period.start.astimezone(zone).date()
        if (period.end - timedelta(seconds=1)).astimezone(zone).date() != first:
            raise Refused("errors.sheet_usage")  # a week or a month: one day, please
        return first

    # --- the sheet as data and as XLSX ---------------------------------------------------

    async def view(self, session: AsyncSession, sheet: Sheet) -> SheetView:
        view = SheetView(sheet.id, sheet.day, sheet.confirmed_at is not None)
        items = list(await session.scalars(select(ChainItem).where(ChainItem.sheet_id == sheet.id)
                                           .order_by(ChainItem.id)))
        view.rows = await self.chains.views(session, items)
        view.facts = {row.id: row.case for row in view.rows if row.case is not None}
        return view

    def workbook(self, view: SheetView, lang: str) -> tuple[str, bytes]:
        """The sheet laid out like the paper form: one row per complaint, a column per
        signature (who, in which role, when, and what they wrote)."""
        texts = self.ctx.texts
        rows = []
        for item in view.rows:
            facts = view.facts[item.id]

            def signed(key: str, item: ChainView = item) -> str:
                return "\n".join(texts.plain(lang, "reports.signature", step=s) for s in item.steps
                                  if s.key == key and s.done is not None)

            rows.append([
                item.complaint_number, facts.customer, facts.product, facts.problem,
                facts.request, "\n".join(f"{name}: {text}" for name, text in facts.answers),
                *(signed(step.key) for step in SHEET.steps),
                texts.plain(lang, "reports.chain_status", item=item)])
        data = table_workbook(texts.plain(lang, "reports.sheet_name"),
                              texts.plain(lang, "reports.sheet_title", day=view.day),
                              table_columns(texts, lang, "sheet_columns"), rows)
        return f"sheet-{view.day.isoformat()}.xlsx", data
