"""Running the chains of rules 一.4 and 三 (bot/domain/chains.py): who may act on a step,
taking their signature, text, amount or decision, and opening what comes next.

Every act is one transaction: the step is claimed with a conditional update (a signature
is given once and never changed), its deadline events are cancelled, the next step is
opened with its own deadline rows, the audit log and the outbox are written. Deadline
moments of chain steps are fired by the same engine as the complaints' (bot.services.
deadlines), which hands them to `ChainNotices.fire`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.buttons import CHAIN_STEP
from bot.clock import from_db, to_db
from bot.domain.chains import (
    SHEET,
    Chain,
    ChainStep,
    Decision,
    Gives,
    Role,
    Starts,
    chain_of,
    next_morning,
    parse_amount,
    to_cents,
)
from bot.domain.validation import Invalid, clean_text
from bot.outbox import Button, Keyboard, queue_action, queue_message, retire_buttons
from bot.services.audit import record
from bot.services.context import AppContext, Refused
from bot.services.conversation import drop_pending, set_pending
from bot.services.deadline_events import add_deadline_events, cancel_deadline_events
from bot.services.people import (
    Person,
    department_name,
    holds_role,
    hr_chat,
    keeps_hr_books,
    language_of,
    person,
)
from bot.store.models import (
    ChainItem,
    ChainStepRecord,
    Complaint,
    DeadlineEvent,
    Department,
    PendingInput,
    Sheet,
    User,
    UserRole,
)

WITHDRAWN = "withdrawn"  # ChainItem.status besides "open" and "done"
CHAIN_INPUT = "chain_input"  # PendingInput purpose: the text, amount or reason a step needs
FREIGHT_FORM = "freight_form"  # PendingInput purpose: a slip being written (bot.services.freight)
MAX_TEXT = 2000
MAX_REASON = 200  # why an item was withdrawn


class Gone(Refused):
    """A refusal that holds for good: the step is done, or not this person's, or unknown.
    A typed answer waiting for such a step is dropped instead of asked again."""


# --- views ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Signature:
    who: str
    role: str  # the role it was given in, as recorded then (e.g. "gm_assistant")
    department: str | None
    at: datetime  # local time
    value: dict[str, Any]


@dataclass(frozen=True)
class ChainStepView:
    key: str
    label: str
    role: str
    department: str | None
    round: int  # the rejection cycle it belongs to (0 before any rejection)
    due_at: datetime  # local time
    starts_at: datetime  # local time; later than now for a step waiting for the morning
    done: Signature | None
    # The how-many-th time this step (for this department) is asked of the item: 1, then 2
    # for a step asked again after a rejection. Not `round + 1`: the steps after a rejected
    # one (the execution after a second GM decision) belong to round 1 but come only once.
    attempt: int = 1


@dataclass(frozen=True)
class Withdrawal:
    who: str
    at: datetime  # local time
    reason: str


@dataclass(frozen=True)
class CaseFacts:
    """What the paper form showed of a case beside its signatures (rule 一.4): the people
    who sign see what they sign for."""

    customer: str
    product: str
    problem: str
    request: str
    answers: list[tuple[str, str]]  # (department, its answer) as they were when listed


def case_facts(answers: dict[str, Any], item: ChainItem) -> CaseFacts:
    """A complaint's facts (its form's answers) and the departments' answers on its row."""
    return CaseFacts(
        customer=answers.get("customer") or answers.get("target", ""),
        product=" ".join(v for v in (answers.get("brand"), answers.get("spec_qty")) if v),
        problem=answers.get("problem") or answers.get("event_course", ""),
        request=answers.get("request") or answers.get("purpose", ""),
        answers=[(str(name), str(text)) for name, text in item.data.get("answers", [])])


@dataclass
class ChainView:
    id: int
    chain: str
    label: str
    number: str  # the slip's number, or for a sheet row the complaint's
    complaint_number: str
    status: str
    steps: list[ChainStepView] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)  # freight: amount, carrier, waybill, bearer
    sheet_day: date | None = None
    withdrawn: Withdrawal | None = None  # struck out; its steps not done are left out
    case: CaseFacts | None = None  # the complaint's facts (a sign-off sheet's row)

    @property
    def waiting(self) -> list[ChainStepView]:
        return [s for s in self.steps if s.done is None]


@dataclass(frozen=True)
class Acted:
    """What the handler tells the actor after a press or a typed answer."""

    template: str  # in templates/<lang>/chains.html.j2
    params: dict[str, Any] = field(default_factory=dict)


def step_subject(row_id: int) -> str:
    """What the buttons of a chain step's prompt act on (bot.outbox.retire_buttons)."""
    return f"chain_step:{row_id}"


def money(cents: int) -> str:
    return f"{Decimal(cents) / 100:,.2f}"


class Chains:
    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx
        # Who holds a role, read once per use of this object (one request or one sweep): a
        # sheet's rows mostly ask the same question (HR; the same few heads).
        self._holders: dict[tuple[Role, str], list[tuple[int, str]]] = {}

    def local(self, moment: datetime) -> datetime:
        return from_db(moment).astimezone(self.ctx.settings.zone)

    # --- who plays a role (always read from the database) ---------------------------------

    async def _members(self, session: AsyncSession, department_key: str | None) -> list[int]:
        if department_key is None:
            return []
        dept = await session.get(Department, department_key)
        ids = list(await session.scalars(select(User.id).where(
            User.department_key == department_key).order_by(User.id)))
        if dept and dept.head_user_id and dept.head_user_id not in ids:
            ids.insert(0, dept.head_user_id)
        return ids

    async def _with_role(self, session: AsyncSession, *roles: str) -> list[int]:
        return list(await session.scalars(select(UserRole.user_id).where(
            UserRole.role.in_(roles)).order_by(UserRole.role, UserRole.user_id)))

    async def _head(self, session: AsyncSession, department_key: str) -> list[int]:
        dept = await session.get(Department, department_key)
        return [dept.head_user_id] if dept and dept.head_user_id else []

    async def actors(self, session: AsyncSession, item: ChainItem,
                     row: ChainStepRecord) -> list[tuple[int, str]]:
        """Who may do this step now, each with the role they would sign in."""
        role = chain_of(item.chain).step(row.step_key).role
        if role is Role.VICE_PRESIDENT:  # depends on the complaint, not only the role
            return await self._actors(session, item, row, role)
        key = (role, row.department_key)
        if key not in self._holders:
            self._holders[key] = await self._actors(session, item, row, role)
        return self._holders[key]

    async def _actors(self, session: AsyncSession, item: ChainItem, row: ChainStepRecord,
                      role: Role) -> list[tuple[int, str]]:
        routing = self.ctx.settings.routing
        if role is Role.HR:
            return [(uid, "hr") for uid in await self._members(session, routing.service_intake)]
        if role in (Role.RESPONSIBLE_HEAD, Role.BEARER_HEAD):
            signs_as = "head" if role is Role.RESPONSIBLE_HEAD else "bearer_head"
            return [(uid, signs_as) for uid in await self._head(session, row.department_key)]
        if role is Role.VICE_PRESIDENT:
            complaint = await session.get(Complaint, item.complaint_id)
            dept = await session.get(Department, complaint.department_key) \
                if complaint and complaint.department_key else None
            if dept and dept.vice_president_id:
                return [(dept.vice_president_id, "vice_president")]
            role = Role.GENERAL_MANAGER  # no VP over that department: the GM agrees it
        if role is Role.GENERAL_MANAGER:
            gm = await self._with_role(session, "general_manager")
            assistants = await self._with_role(session, "gm_assistant")
            return [(uid, "general_manager") for uid in gm] + \
                [(uid, "gm_assistant") for uid in assistants if uid not in gm]
        if role is Role.ORDER_DESK:
            return [(uid, "order_desk") for uid in await self._members(session, routing.product_intake)]
        if role is Role.ORDER_DESK_MANAGER:
            heads = await self._head(session, routing.product_intake)
            return [(uid, "order_desk_head") for uid in heads] + \
                [(uid, "order_desk_assistant")
                 for uid in await self._with_role(session, "order_desk_assistant") if uid not in heads]
        if role is Role.ORDER_FOLLOWER:
            return [(uid, "order_follower") for uid in await self._with_role(session, "order_follower")]
        assert role is Role.FINANCE
        return [(uid, "finance") for uid in await self._members(session, self.ctx.settings.roles.finance)]

    async def _role_of(self, session: AsyncSession, item: ChainItem, row: ChainStepRecord,
                       actor_id: int) -> str:
        """The role the actor signs this step in, or a refusal naming who may."""
        for uid, role in await self.actors(session, item, row):
            if uid == actor_id:
                return role
        step = chain_of(item.chain).step(row.step_key)
        raise Gone("errors.chain_not_yours", step=step.label, role=step.role.value,
                      department=await department_name(session, row.department_key))

    # --- opening steps --------------------------------------------------------------------

    async def open(self, session: AsyncSession, item: ChainItem, step: ChainStep,
                   department_key: str, started_at: datetime, round: int,
                   now: datetime) -> ChainStepRecord:
        """A step's clock starts (now, or later: the next morning). Its deadline moments are
        rows; a step starting later has a "start" row that tells its actors then. Steps
        done per sheet are announced by bot.services.sheets, one message per sheet."""
        times = self.ctx.sla.chain_times(item.chain, step.key, started_at)
        row = ChainStepRecord(item_id=item.id, step_key=step.key, department_key=department_key,
                              round=round, started_at=to_db(started_at), due_at=to_db(times.due_at),
                              value={})
        session.add(row)
        await session.flush()
        add_deadline_events(session, item.complaint_id, times, chain_step_id=row.id,
                            starts_at=started_at if started_at > now else None)
        if started_at <= now and not step.per_sheet:
            await self.announce(session, item, row, now)
        queue_action(session, now, "refresh_card", item.complaint_id)
        return row

    async def announce(self, session: AsyncSession, item: ChainItem, row: ChainStepRecord,
                       now: datetime) -> None:
        """Tell everyone who may do the step that it is theirs, with its buttons."""
        row.announced_at = to_db(now)
        step = chain_of(item.chain).step(row.step_key)
        view = await self.view(session, item)
        actors = await self.actors(session, item, row)
        if not actors:
            await self.nobody_can_act(session, item, row, now)
        for uid, _role in actors:
            lang = await language_of(session, self.ctx, uid)
            queue_message(session, now, self.ctx.texts.html(
                lang, "chains.your_turn", item=view, label=step.label,
                gives=step.gives.value, due=self.local(row.due_at)),
                chat_id=uid, keyboard=self.buttons(lang, step, row.id), subject=step_subject(row.id))

    async def nobody_can_act(self, session: AsyncSession, item: ChainItem, row: ChainStepRecord,
                             now: datetime) -> None:
        """Nobody holds the step's role (no head, no GM, no finance department in config):
        HR hears of it at once rather than when the deadline breaches."""
        step = chain_of(item.chain).step(row.step_key)
        record(session, now, item.complaint_id, None, "chain_no_actor", chain=item.chain,
               item=item.id, step=step.key, role=step.role.value)
        chat_id = await hr_chat(session, self.ctx)
        if chat_id is None:
            return
        lang = await language_of(session, self.ctx, chat_id)
        queue_message(session, now, self.ctx.texts.html(
            lang, "chains.nobody_can_act", item=await self.view(session, item), label=step.label,
            role=step.role.value, department=await department_name(session, row.department_key)),
            chat_id=chat_id)

    def buttons(self, lang: str, step: ChainStep, row_id: int) -> Keyboard:
        label = self.ctx.texts.plain
        if step.gives is Gives.SIGNATURE:
            return [[Button(label(lang, "buttons.chain_sign"), CHAIN_STEP.data(row_id, "s"))]]
        if step.gives is Gives.DECISION:
            return [[Button(label(lang, "buttons.chain_approve"), CHAIN_STEP.data(row_id, "a"))],
                    [Button(label(lang, "buttons.chain_amend"), CHAIN_STEP.data(row_id, "m")),
                     Button(label(lang, "buttons.chain_reject"), CHAIN_STEP.data(row_id, "r"))]]
        return [[Button(label(lang, "buttons.chain_write"), CHAIN_STEP.data(row_id, "t"))]]

    # --- acting ---------------------------------------------------------------------------

    async def _load(self, session: AsyncSession, row_id: int) -> tuple[ChainItem, ChainStepRecord]:
        row = await session.get(ChainStepRecord, row_id)
        item = await session.get(ChainItem, row.item_id) if row else None
        if row is None or item is None:
            raise Gone("errors.stale_button")
        return item, row

    async def press(self, actor_id: int, row_id: int, action: str) -> Acted:
        """cs:<row>:<action> — s sign, t write (text or amount), a approve, m amend, r reject."""
        async with self.ctx.transaction() as session:
            now = self.ctx.now()
            item, row = await self._load(session, row_id)
            step = chain_of(item.chain).step(row.step_key)
            expected = {Gives.SIGNATURE: {"s"}, Gives.TEXT: {"t"}, Gives.AMOUNT: {"t"},
                        Gives.DECISION: {"a", "m", "r"}}[step.gives]
            if action not in expected:
                raise Gone("errors.stale_button")
            await self._not_withdrawn(session, item)
            self._still_open(row, now)
            role = await self._role_of(session, item, row, actor_id)
            number = await self._number(session, item)
            if action in ("s", "a"):
                value = {"decision": Decision.APPROVE.value} if action == "a" else {}
                await self._complete(session, item, row, actor_id, role, value, now)
                return Acted("chains.signed", {"label": step.label, "number": number})
            decision = {"m": Decision.AMEND.value, "r": Decision.REJECT.value}.get(action)
            replaced = await set_pending(session, self.ctx, actor_id, CHAIN_INPUT, ref_id=row.id,
                                         data={"decision": decision})
            return Acted("chains.ask_input", {"label": step.label, "gives": step.gives.value,
                                              "decision": decision, "number": number,
                                              "dropped": replaced == FREIGHT_FORM})

    async def _not_withdrawn(self, session: AsyncSession, item: ChainItem) -> None:
        if item.status == WITHDRAWN:
            raise Gone("errors.chain_withdrawn", number=await self._number(session, item))

    def _still_open(self, row: ChainStepRecord, now: datetime) -> None:
        if row.done_at is not None:
            raise Gone("errors.chain_step_done")
        if from_db(row.started_at) > now:
            raise Refused("errors.chain_not_started", at=self.local(row.started_at))

    async def question(self, actor_id: int, pending: PendingInput) -> Acted:
        """The text, amount or reason the actor was asked for, to ask it again (something
        other than text came); a step that can no longer be done ends the question."""
        try:
            async with self.ctx.sessions() as session:
                item, row = await self._load(session, int(pending.ref_id or 0))
                step = chain_of(item.chain).step(row.step_key)
                await self._not_withdrawn(session, item)
                if row.done_at is not None:
                    raise Gone("errors.chain_step_done")
                await self._role_of(session, item, row, actor_id)
                return Acted("chains.ask_input", {
                    "label": step.label, "gives": step.gives.value,
                    "decision": pending.data.get("decision"),
                    "number": await self._number(session, item), "dropped": False})
        except Gone:
            async with self.ctx.transaction() as session:
                await drop_pending(session, actor_id, CHAIN_INPUT)
            raise

    async def take_input(self, actor_id: int, pending: PendingInput, text: str) -> Acted:
        """The typed text, amount or reason for a step begun with a button. A bad value is
        refused and asked again; a step that can no longer be done ends the question."""
        try:
            return await self._take_input(actor_id, pending, text)
        except Gone:
            async with self.ctx.transaction() as session:  # the refusal rolled back the rest
                await drop_pending(session, actor_id, CHAIN_INPUT)
            raise

    async def _take_input(self, actor_id: int, pending: PendingInput, text: str) -> Acted:
        async with self.ctx.transaction() as session:
            now = self.ctx.now()
            item, row = await self._load(session, int(pending.ref_id or 0))
            step = chain_of(item.chain).step(row.step_key)
            await self._not_withdrawn(session, item)
            if row.done_at is not None:
                raise Gone("errors.chain_step_done")
            role = await self._role_of(session, item, row, actor_id)
            value: dict[str, Any]
            if step.gives is Gives.AMOUNT:
                amount = parse_amount(text)
                if isinstance(amount, Invalid):
                    raise Refused(f"errors.{amount.reason}", **amount.params)
                value = {"amount_cents": to_cents(amount)}
            else:
                value = {"text": self._text(text)}
                decision = pending.data.get("decision")
                if step.gives is Gives.DECISION:
                    value["decision"] = decision or Decision.AMEND.value
            await drop_pending(session, actor_id, CHAIN_INPUT)
            await self._complete(session, item, row, actor_id, role, value, now)
            return Acted("chains.signed", {"label": step.label, "number": await self._number(session, item)})

    @staticmethod
    def _text(text: str) -> str:
        cleaned = clean_text(text)
        if not cleaned:
            raise Refused("errors.chain_text_empty")
        if len(cleaned) > MAX_TEXT:
            raise Refused("errors.too_long", max=MAX_TEXT, length=len(cleaned))
        return cleaned

    async def sign_many(self, session: AsyncSession, rows: list[tuple[ChainItem, ChainStepRecord]],
                        actor_id: int, now: datetime) -> int:
        """Sign several rows at once (HR confirming a sheet, a head signing their rows)."""
        signed = 0
        for item, row in rows:
            if row.done_at is not None or from_db(row.started_at) > now:
                continue
            role = await self._role_of(session, item, row, actor_id)
            try:
                await self._complete(session, item, row, actor_id, role, {}, now)
            except Gone:  # withdrawn or signed since the rows were read: the others still count
                continue
            signed += 1
        return signed

    async def _complete(self, session: AsyncSession, item: ChainItem, row: ChainStepRecord,
                        actor_id: int, role: str, value: dict[str, Any], now: datetime) -> None:
        actor = await person(session, self.ctx, actor_id)
        assert actor is not None
        item_open = select(ChainItem.id).where(ChainItem.id == item.id, ChainItem.status == "open")
        claimed = await session.execute(
            update(ChainStepRecord).where(ChainStepRecord.id == row.id,
                                          ChainStepRecord.done_at.is_(None),
                                          ChainStepRecord.item_id.in_(item_open))
            .values(done_at=to_db(now), done_by=actor_id, done_role=role,
                    done_name=actor.display_name[:50], value=value))
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            await session.refresh(item)
            await self._not_withdrawn(session, item)
            raise Gone("errors.chain_step_done")
        await session.refresh(row)
        await cancel_deadline_events(session, now, chain_step_ids=[row.id])
        await retire_buttons(session, now, step_subject(row.id))  # the co-signers' copies
        chain = chain_of(item.chain)
        step = chain.step(row.step_key)
        record(session, now, item.complaint_id, actor_id, "chain_step_done", chain=item.chain,
               item=item.id, step=step.key, department=row.department_key or None, role=role,
               round=row.round, **value)
        await self._advance(session, item, chain, step, row, value, now)
        await self._tell(session, item, step, actor, value, now)  # with the step it opened
        queue_action(session, now, "refresh_card", item.complaint_id)

    async def _advance(self, session: AsyncSession, item: ChainItem, chain: Chain, step: ChainStep,
                       row: ChainStepRecord, value: dict[str, Any], now: datetime) -> None:
        if value.get("decision") == Decision.REJECT.value and step.on_reject:
            back = chain.step(step.on_reject)
            previous = await session.scalar(select(ChainStepRecord).where(
                ChainStepRecord.item_id == item.id, ChainStepRecord.step_key == back.key)
                .order_by(ChainStepRecord.id.desc()))
            await self.open(session, item, back, previous.department_key if previous else "",
                            now, row.round + 1, now)
            return
        if step.per_department and await session.scalar(select(ChainStepRecord.id).where(
                ChainStepRecord.item_id == item.id, ChainStepRecord.step_key == step.key,
                ChainStepRecord.round == row.round, ChainStepRecord.done_at.is_(None))):
            return  # another department still has to sign its part
        following = chain.after(step.key)
        if following is None:
            item.status, item.closed_at = "done", to_db(now)
            record(session, now, item.complaint_id, None, "chain_done", chain=item.chain, item=item.id)
            return
        departments = self.departments_for(item, following)
        started = now
        if following.starts is Starts.NEXT_MORNING and item.sheet_id is not None:
            sheet = await session.get(Sheet, item.sheet_id)
            assert sheet is not None
            started = max(now, next_morning(self.ctx.sla.calendar, sheet.day,
                                            self.ctx.settings.sheet.morning_at))
        for department_key in departments:
            await self.open(session, item, following, department_key, started, row.round, now)

    @staticmethod
    def departments_for(item: ChainItem, step: ChainStep) -> list[str]:
        """One row per responsible department for a per-department step, else one row."""
        if step.role is Role.BEARER_HEAD:
            return [str(item.data["bearer"])]
        if not step.per_department:
            return [""]
        return list(item.data.get("departments") or [""])

    async def _number(self, session: AsyncSession, item: ChainItem) -> str:
        if item.number:
            return item.number
        complaint = await session.get(Complaint, item.complaint_id)
        return complaint.number or "" if complaint else ""

    async def _tell(self, session: AsyncSession, item: ChainItem, step: ChainStep, actor: Person,
                    value: dict[str, Any], now: datetime) -> None:
        """The complainant hears of each stage of their sheet row (a decision as what was
        decided); `tells` roles are told."""
        tells_complainant = chain_of(item.chain).tells_complainant
        if not tells_complainant and Role.HR not in step.tells:
            return
        view = await self.view(session, item)
        if tells_complainant:
            complaint = await session.get(Complaint, item.complaint_id)
            complainant = await person(session, self.ctx, complaint.complainant_id) \
                if complaint is not None else None
            if complainant is not None:
                queue_message(session, now, self.ctx.texts.html(
                    complainant.language, "chains.complainant_stage", item=view, label=step.label,
                    decision=value.get("decision")),
                    chat_id=complainant.id)
        chat_id = await hr_chat(session, self.ctx) if Role.HR in step.tells else None
        if chat_id is not None:
            lang = await language_of(session, self.ctx, chat_id)
            queue_message(session, now, self.ctx.texts.html(
                lang, "chains.hr_told", item=view, label=step.label, who=actor.display_name),
                chat_id=chat_id)

    # --- withdrawing ----------------------------------------------------------------------

    async def may_withdraw(self, session: AsyncSession, item: ChainItem, actor_id: int) -> bool:
        """The chain's `withdrawn_by` roles, read from the database."""
        for role in chain_of(item.chain).withdrawn_by:
            if role is Role.ORDER_FOLLOWER and await holds_role(session, actor_id, "order_follower"):
                return True
            if role is Role.HR and keeps_hr_books(self.ctx, await person(session, self.ctx, actor_id)):
                return True
        return False

    @staticmethod
    def withdrawal_reason(words: list[str]) -> str:
        """The reason typed after a withdrawing command, cleaned ("" when none)."""
        reason = clean_text(" ".join(words))
        if len(reason) > MAX_REASON:
            raise Refused("errors.too_long", max=MAX_REASON, length=len(reason))
        return reason

    async def withdraw(self, session: AsyncSession, item: ChainItem, actor_id: int, reason: str,
                       now: datetime) -> ChainView:
        """Strike the item out: nothing more is asked of anyone, its deadlines are cancelled,
        and those it was waiting on (and HR, the slip's writer, a sheet row's complainant)
        are told. The signatures given stay, as on paper. The caller has checked
        may_withdraw."""
        chain = chain_of(item.chain)
        number = await self._number(session, item)
        if item.status != "open":
            raise Refused("errors.chain_not_open", number=number, status=item.status)
        actor = await person(session, self.ctx, actor_id)
        assert actor is not None
        until = chain.withdrawable_until
        too_late = select(ChainStepRecord.id).where(  # the item has gone past `until`
            ChainStepRecord.item_id == item.id,
            ChainStepRecord.step_key.in_(chain.steps_after(until) if until else ()))
        # One conditional statement: a step done meanwhile by someone else wins.
        claimed = await session.execute(
            update(ChainItem).where(ChainItem.id == item.id, ChainItem.status == "open",
                                    ~too_late.exists())
            .values(status=WITHDRAWN, closed_at=to_db(now),
                    data={**item.data, "withdrawn": {"by": actor_id, "name": actor.display_name[:50],
                                                     "reason": reason}}))
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            await session.refresh(item)
            if item.status != "open":
                raise Refused("errors.chain_not_open", number=number, status=item.status)
            raise Refused("errors.chain_too_late_to_withdraw", number=number,
                          label=chain.step(until).label if until else "")
        await session.refresh(item)
        waiting = list(await session.scalars(select(ChainStepRecord).where(
            ChainStepRecord.item_id == item.id, ChainStepRecord.done_at.is_(None))))
        await cancel_deadline_events(session, now, chain_step_ids=[row.id for row in waiting])
        await session.execute(delete(PendingInput).where(  # a half-typed answer to it ends too
            PendingInput.purpose == CHAIN_INPUT, PendingInput.ref_id.in_([row.id for row in waiting])))
        for row in waiting:  # and its buttons
            await retire_buttons(session, now, step_subject(row.id))
        record(session, now, item.complaint_id, actor_id, "chain_withdrawn", chain=item.chain,
               item=item.id, number=number, reason=reason)
        view = await self.view(session, item)
        told: set[int] = {actor_id}
        for row in waiting:  # those already asked (not those whose step starts tomorrow)
            if row.announced_at is not None:
                told.update(uid for uid, _role in await self.actors(session, item, row))
        hr = await hr_chat(session, self.ctx)
        if hr is not None:
            told.add(hr)
        if item.opened_by is not None:  # the follower who wrote the slip
            told.add(item.opened_by)
        if chain.tells_complainant and view.steps:  # they heard of a stage already
            complaint = await session.get(Complaint, item.complaint_id)
            if complaint is not None:
                told.add(complaint.complainant_id)
        for uid in sorted(told - {actor_id}):
            lang = await language_of(session, self.ctx, uid)
            queue_message(session, now, self.ctx.texts.html(lang, "chains.withdrawn", item=view),
                          chat_id=uid)
        queue_action(session, now, "refresh_card", item.complaint_id)
        return view

    # --- looking at chains ----------------------------------------------------------------

    async def view(self, session: AsyncSession, item: ChainItem) -> ChainView:
        [view] = await self.views(session, [item])
        return view

    async def views(self, session: AsyncSession, items: list[ChainItem]) -> list[ChainView]:
        """The items as people see them, read in a few queries whatever their number (a
        day's sheet may hold many rows)."""
        if not items:
            return []
        ids = [item.id for item in items]
        names = {d.key: d.name for d in await session.scalars(select(Department))}
        complaints = {cid: (number, answers) for cid, number, answers in await session.execute(
            select(Complaint.id, Complaint.number, Complaint.answers).where(
                Complaint.id.in_({item.complaint_id for item in items})))}
        days = {sid: day for sid, day in await session.execute(select(Sheet.id, Sheet.day).where(
            Sheet.id.in_({item.sheet_id for item in items if item.sheet_id})))}
        steps: dict[int, list[ChainStepRecord]] = {item_id: [] for item_id in ids}
        for row in await session.scalars(select(ChainStepRecord).where(
                ChainStepRecord.item_id.in_(ids)).order_by(ChainStepRecord.id)):
            steps[row.item_id].append(row)
        views = []
        for item in items:
            number, answers = complaints.get(item.complaint_id, ("", {}))
            view = self._view(item, number or "", names,
                              days.get(item.sheet_id) if item.sheet_id else None, steps[item.id])
            if item.chain == SHEET.key:
                view.case = case_facts(answers or {}, item)
            views.append(view)
        return views

    def _view(self, item: ChainItem, complaint_number: str, names: dict[str, str],
              sheet_day: date | None, rows: list[ChainStepRecord]) -> ChainView:
        chain = chain_of(item.chain)
        data = dict(item.data)
        if "amount_cents" in data:
            data["amount"] = money(int(data["amount_cents"]))
        if "bearer" in data:
            data["bearer_name"] = names.get(str(data["bearer"]), str(data["bearer"]))
        view = ChainView(item.id, item.chain, chain.label, item.number or complaint_number,
                         complaint_number, item.status, data=data, sheet_day=sheet_day)
        if item.status == WITHDRAWN and item.closed_at is not None:
            struck = data.get("withdrawn") or {}
            view.withdrawn = Withdrawal(str(struck.get("name", "")), self.local(item.closed_at),
                                        str(struck.get("reason", "")))
        asked: dict[tuple[str, str], int] = {}  # (step, department) → times asked so far
        for row in rows:
            key = (row.step_key, row.department_key)
            asked[key] = asked.get(key, 0) + 1
            if view.withdrawn and row.done_at is None:
                continue  # nothing waits on a withdrawn item
            step = chain.step(row.step_key)
            department = names.get(row.department_key) if row.department_key else None
            done = None
            if row.done_at is not None:
                done = Signature(row.done_name or str(row.done_by), row.done_role or "",
                                 department, self.local(row.done_at), dict(row.value))
            view.steps.append(ChainStepView(
                step.key, step.label, step.role.value, department, row.round,
                self.local(row.due_at), self.local(row.started_at), done, asked[key]))
        return view

    async def views_of_complaint(self, session: AsyncSession, complaint_id: int) -> list[ChainView]:
        items = list(await session.scalars(select(ChainItem).where(
            ChainItem.complaint_id == complaint_id).order_by(ChainItem.id)))
        return await self.views(session, items)


# --- the deadline engine's side ------------------------------------------------------------


class ChainNotices:
    """Warnings, breaches and next-morning starts of chain steps (called by DeadlineEngine
    inside the transaction that claimed the event)."""

    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx
        self.chains = Chains(ctx)

    async def fire(self, session: AsyncSession, event: DeadlineEvent, now: datetime,
                   late: bool) -> bool:
        """Act on the event; False when there is nothing to say (the step was done)."""
        row = await session.get(ChainStepRecord, event.chain_step_id)
        assert row is not None
        item = await session.get(ChainItem, row.item_id)
        assert item is not None
        if row.done_at is not None or item.status == WITHDRAWN:
            event.cancelled_at = to_db(now)
            return False
        step = chain_of(item.chain).step(row.step_key)
        if event.kind == "start":
            if row.announced_at is None and not step.per_sheet:
                await self.chains.announce(session, item, row, now)
            queue_action(session, now, "refresh_card", item.complaint_id)
            return True
        view = await self.chains.view(session, item)
        others = await self._same_notice_on_sheet(session, event, item, row, step, now) \
            if step.per_sheet else []
        params = {"item": view, "label": step.label, "due": self.chains.local(row.due_at),
                  "department": await department_name(session, row.department_key),
                  "late": late, "others": others}
        record(session, now, item.complaint_id, None,
               "chain_warning" if event.kind == "warning" else "chain_breached",
               chain=item.chain, item=item.id, step=step.key, department=row.department_key or None)
        template = "chains.warning" if event.kind == "warning" else "chains.breach"
        extra = {"left": timedelta(seconds=event.before_seconds)} if event.kind == "warning" else {}
        actors = [uid for uid, _role in await self.chains.actors(session, item, row)]
        for uid in actors:
            lang = await language_of(session, self.ctx, uid)
            queue_message(session, now, self.ctx.texts.html(lang, template, **params, **extra),
                          chat_id=uid)
        if event.kind == "breach":  # HR keeps the chains moving (rule 一.4), so HR hears too
            chat_id = await hr_chat(session, self.ctx)
            if chat_id is not None and chat_id not in actors:  # not twice for HR's own step
                lang = await language_of(session, self.ctx, chat_id)
                queue_message(session, now, self.ctx.texts.html(lang, "chains.hr_breach", **params),
                              chat_id=chat_id)
        queue_action(session, now, "refresh_card", item.complaint_id)
        return True

    async def _same_notice_on_sheet(self, session: AsyncSession, event: DeadlineEvent,
                                    item: ChainItem, row: ChainStepRecord, step: ChainStep,
                                    now: datetime) -> list[str]:
        """A step done per sheet (HR's check, a head's signature) has a deadline row per
        sheet row, all due together: the other rows' same notice is claimed here and named
        in this one message, so a 20-row sheet warns once, not 20 times. Returns their
        complaint numbers."""
        siblings = list(await session.execute(
            select(DeadlineEvent.id, Complaint.number)
            .join(ChainStepRecord, DeadlineEvent.chain_step_id == ChainStepRecord.id)
            .join(ChainItem, ChainStepRecord.item_id == ChainItem.id)
            .join(Complaint, ChainItem.complaint_id == Complaint.id)
            .where(ChainItem.sheet_id == item.sheet_id, ChainItem.status == "open",
                   ChainStepRecord.step_key == step.key,
                   ChainStepRecord.department_key == row.department_key,
                   ChainStepRecord.done_at.is_(None), DeadlineEvent.id != event.id,
                   DeadlineEvent.kind == event.kind,
                   DeadlineEvent.before_seconds == event.before_seconds,
                   DeadlineEvent.fired_at.is_(None), DeadlineEvent.cancelled_at.is_(None))
            .order_by(ChainItem.id)))
        if siblings:  # this transaction already holds the write lock (the event's claim)
            await session.execute(update(DeadlineEvent).where(
                DeadlineEvent.id.in_([event_id for event_id, _ in siblings]))
                .values(fired_at=to_db(now)))
        return [number or "" for _, number in siblings]
