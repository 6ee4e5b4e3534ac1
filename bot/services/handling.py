"""The steps after posting (rules 一.2, 一.3, 一.6): who may act, what they hand in, and
what follows when they do.

A step is begun by a button on the card (or /answer in the thread). What the owner must
hand in comes from the workflow definition: nothing (受理), a message (process
information, a handling plan, HR's words to the complainant, an appeal's answer), an
assessment and a handling opinion, or a choice of departments (分流). Typed parts are
collected through a PendingInput row, so a restart between two messages loses nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.buttons import VERDICT
from bot.clock import to_db
from bot.domain.fields import ComplaintKind
from bot.domain.validation import clean_text
from bot.domain.workflow import (
    ESCALATION_STEP,
    REVISIT_STEP,
    ROUND_STEPS,
    Assigns,
    ClockStart,
    Event,
    Owner,
    Provides,
    Status,
    Step,
    next_status,
    step_of,
    steps_of,
    waiting_step,
)
from bot.outbox import Button, Keyboard, queue_action, queue_message
from bot.services.audit import record
from bot.services.complaints import Complaints, PressedCard, appeals_of, intake_department
from bot.services.context import AppContext, Refused
from bot.services.conversation import drop_pending, pending_row, set_pending
from bot.services.deadlines import close_step, open_step
from bot.services.people import Person, department_name, person
from bot.store.models import Answer, Complaint, Department, PendingInput, StepRecord, User

STEP_INPUT = "step"  # PendingInput purpose: parts of a step being handed in
DONE = ""  # the step is complete; the thread hears of it from the outbox
MAX_ANSWER = 3000


@dataclass
class Picker:
    """Departments to choose from (分流 picks one; 打單部 picks one or several)."""

    complaint_id: int
    number: str
    choices: list[tuple[str, str]]  # (department key, name)
    selected: list[str] = field(default_factory=list)
    many: bool = False


@dataclass
class StepResult:
    """What the handler shows the actor next."""

    template: str  # a text in templates/<lang>/steps.html.j2; DONE: the thread is told anyway
    params: dict[str, Any] = field(default_factory=dict)
    picker: Picker | None = None


class Handling:
    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx
        self.complaints = Complaints(ctx)

    # --- who owes what ----------------------------------------------------------------

    async def _waiting(self, session: AsyncSession, complaint: Complaint) -> list[StepRecord]:
        """The step records the complaint waits on now (one per department)."""
        rows = list(await session.scalars(select(StepRecord).where(
            StepRecord.complaint_id == complaint.id).order_by(StepRecord.id)))
        undone = [r for r in rows if r.done_at is None]
        done = {r.step_key for r in rows} - {r.step_key for r in undone}
        step = waiting_step(ComplaintKind(complaint.kind), Status(complaint.status), done)
        if step is None:
            return []
        return [r for r in undone if r.step_key == step.key
                and (step not in ROUND_STEPS or r.round == complaint.round)]

    async def _load(self, session: AsyncSession, complaint_id: int) -> Complaint:
        complaint = await session.get(Complaint, complaint_id)
        if complaint is None or complaint.number is None:
            raise Refused("errors.stale_button")
        return complaint

    async def _owed_by(self, session: AsyncSession, complaint: Complaint, actor: Person | None,
                       step_key: str | None, department_key: str | None) -> StepRecord:
        """The waiting step record the actor may act on, or a refusal naming who may."""
        waiting = await self._waiting(session, complaint)
        matching = [r for r in waiting if (step_key is None or r.step_key == step_key)
                    and (department_key is None or r.department_key == department_key)]
        if not matching:
            if step_key is not None and await self._done(session, complaint, step_key,
                                                         department_key):
                raise Refused("errors.step_done")
            raise Refused("errors.step_not_open", number=complaint.number)
        for row in matching:
            if actor is not None and actor.department_key == row.department_key:
                return row
        owners = [await department_name(session, r.department_key) for r in matching]
        raise Refused("errors.only_departments", departments=owners)

    async def _done(self, session: AsyncSession, complaint: Complaint, step_key: str,
                    department_key: str | None) -> bool:
        query = select(StepRecord).where(StepRecord.complaint_id == complaint.id,
                                         StepRecord.step_key == step_key,
                                         StepRecord.round == complaint.round,
                                         StepRecord.done_at.is_not(None))
        if department_key:
            query = query.where(StepRecord.department_key == department_key)
        return await session.scalar(query) is not None

    def _step(self, complaint: Complaint, key: str) -> Step:
        return step_of(ComplaintKind(complaint.kind), key)

    # --- beginning a step ---------------------------------------------------------------

    async def begin(self, actor_id: int, complaint_id: int, step_key: str | None,
                    department_key: str | None, chat_id: int,
                    pressed: PressedCard | None = None) -> StepResult:
        """A card button (`pressed`: the card it was on) or /answer: do the step now, or
        ask for what it needs."""
        async with self.ctx.transaction() as session:
            complaint = await self._load(session, complaint_id)
            if pressed is not None:
                await self.complaints.adopt_card(session, complaint, pressed)
            actor = await person(session, self.ctx, actor_id)
            row = await self._owed_by(session, complaint, actor, step_key, department_key)
            assert actor is not None
            step = self._step(complaint, row.step_key)
            department = await department_name(session, row.department_key)
            base = {"number": complaint.number, "step": step.key, "department": department,
                    "who": actor.display_name, "mention_id": actor.id}
            if step.provides is Provides.NOTHING:
                await self._complete(session, complaint, row, actor, {}, [], [])
                return StepResult(DONE, base)
            if step.provides is Provides.CHOICE:
                return StepResult("choose", base, await self._picker(session, complaint, step))
            part = "assessment" if step.provides is Provides.ASSESSMENT else "text"
            await set_pending(session, self.ctx, actor_id, STEP_INPUT, ref_id=complaint.id,
                              thread=complaint.id, data={
                "step": step.key, "department": row.department_key, "round": row.round,
                "part": part, "chat_id": chat_id, "parts": {}, "attachments": [],
                # With topics, only messages in the complaint's topic are taken as the answer.
                "forum": complaint.thread_id is not None})
            return StepResult(f"ask_{part}", base)

    async def _picker(self, session: AsyncSession, complaint: Complaint, step: Step,
                      selected: list[str] | None = None) -> Picker:
        routing = self.ctx.settings.routing
        if step.assigns is Assigns.MANY:
            keys = list(routing.product_investigators)
        else:  # any department but the one routing it
            intake = intake_department(self.ctx, ComplaintKind(complaint.kind))
            keys = [d.key for d in self.ctx.settings.departments if d.key != intake]
        choices = [(key, await department_name(session, key)) for key in keys]
        assert complaint.number is not None
        return Picker(complaint.id, complaint.number, choices, selected or [],
                      many=step.assigns is Assigns.MANY)

    # --- typed parts ----------------------------------------------------------------------

    async def take_input(self, actor_id: int, pending: PendingInput, text: str,
                         attachments: list[dict[str, str]]) -> StepResult:
        """A message handed in for the step the actor began."""
        text = clean_text(text)
        if not text and not attachments:
            raise Refused("errors.answer_empty")  # the question stays open: try again
        if len(text) > MAX_ANSWER:
            raise Refused("errors.too_long", max=MAX_ANSWER, length=len(text))
        try:
            return await self._take_input(actor_id, pending, text, attachments)
        except Refused:
            # The step moved on: stop waiting for it.
            await self.drop_input(actor_id, pending.complaint_thread)
            raise

    async def _take_input(self, actor_id: int, pending: PendingInput, text: str,
                          attachments: list[dict[str, str]]) -> StepResult:
        async with self.ctx.transaction() as session:
            fresh = await pending_row(session, pending)
            if fresh is None or fresh.purpose != STEP_INPUT or fresh.ref_id != pending.ref_id:
                raise Refused("errors.stale_button")
            data = dict(fresh.data)
            complaint = await self._load(session, int(fresh.ref_id or 0))
            actor = await person(session, self.ctx, actor_id)
            row = await self._owed_by(session, complaint, actor, data["step"], data["department"])
            assert actor is not None
            step = self._step(complaint, row.step_key)
            department = await department_name(session, row.department_key)
            base = {"number": complaint.number, "step": step.key, "department": department,
                    "who": actor.display_name, "mention_id": actor.id}
            parts = {**data["parts"], data["part"]: text}
            files = [*data["attachments"], *attachments]
            if data["part"] == "assessment":
                fresh.data = {**data, "parts": parts, "attachments": files, "part": "opinion"}
                return StepResult("ask_opinion", base)
            if step.assigns is Assigns.MANY:
                fresh.data = {**data, "parts": parts, "attachments": files, "part": "assign",
                              "selected": []}
                return StepResult("choose", base, await self._picker(session, complaint, step))
            await session.delete(fresh)
            await self._complete(session, complaint, row, actor, parts, files, [])
            return StepResult(DONE, base)

    # --- choosing departments -----------------------------------------------------------

    async def toggle(self, actor_id: int, complaint_id: int, index: int) -> Picker:
        """打單部 ticks or unticks an investigating department."""
        async with self.ctx.transaction() as session:
            complaint = await self._load(session, complaint_id)
            pending = await session.get(PendingInput, (actor_id, complaint_id))
            if pending is None or pending.ref_id != complaint_id or pending.data.get("part") != "assign":
                raise Refused("errors.stale_button")
            step = self._step(complaint, pending.data["step"])
            picker = await self._picker(session, complaint, step, list(pending.data["selected"]))
            if not 0 <= index < len(picker.choices):
                raise Refused("errors.stale_button")
            key = picker.choices[index][0]
            picker.selected = [k for k in picker.selected if k != key] \
                if key in picker.selected else [*picker.selected, key]
            pending.data = {**pending.data, "selected": picker.selected}
            return picker

    async def choose(self, actor_id: int, complaint_id: int, index: int | None) -> StepResult:
        """Confirm the ticked departments (index None), or pick one (分流)."""
        async with self.ctx.transaction() as session:
            complaint = await self._load(session, complaint_id)
            actor = await person(session, self.ctx, actor_id)
            pending = await session.get(PendingInput, (actor_id, complaint_id))
            if index is None:  # confirming a multiple choice begun with a message
                if pending is None or pending.ref_id != complaint_id \
                        or pending.data.get("part") != "assign":
                    raise Refused("errors.stale_button")
                data = dict(pending.data)
                row = await self._owed_by(session, complaint, actor, data["step"], data["department"])
                chosen, parts, files = list(data["selected"]), data["parts"], data["attachments"]
                if not chosen:
                    raise Refused("errors.choose_one")
                await session.delete(pending)
            else:
                row = await self._owed_by(session, complaint, actor, None, None)
                step = self._step(complaint, row.step_key)
                if step.provides is not Provides.CHOICE:
                    raise Refused("errors.stale_button")
                picker = await self._picker(session, complaint, step)
                if not 0 <= index < len(picker.choices):
                    raise Refused("errors.stale_button")
                chosen, parts, files = [picker.choices[index][0]], {}, []
            assert actor is not None
            await self._complete(session, complaint, row, actor, parts, files, chosen)
            return StepResult(DONE, {"number": complaint.number})

    # --- completing a step ----------------------------------------------------------------

    async def _complete(self, session: AsyncSession, complaint: Complaint, row: StepRecord,
                        actor: Person, parts: dict[str, str], files: list[dict[str, str]],
                        assigned: list[str]) -> None:
        now = self.ctx.now()
        # Claimed with a conditional update: a double tap or a second process does it once.
        claimed = await session.execute(
            update(StepRecord).where(StepRecord.id == row.id, StepRecord.done_at.is_(None))
            .values(done_at=to_db(now), done_by=actor.id))
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            raise Refused("errors.step_done")
        await session.refresh(row)
        await close_step(session, row, now)
        step = self._step(complaint, row.step_key)
        if parts or files:
            session.add(Answer(complaint_id=complaint.id, step_key=step.key,
                               department_key=row.department_key, round=row.round,
                               author_id=actor.id, parts=parts, attachments=files,
                               created_at=to_db(now)))
        record(session, now, complaint.id, actor.id, "step_done", step=step.key,
               department=row.department_key, round=row.round, parts=parts,
               assigned=assigned or None)
        # The card first, so that it is current by the time the announcements arrive.
        queue_action(session, now, "refresh_card", complaint.id)
        lang = self.ctx.settings.general.default_language
        department = await department_name(session, row.department_key)
        texts = self.ctx.texts
        if step.provides in (Provides.TEXT, Provides.ASSESSMENT):
            queue_message(session, now, texts.html(
                lang, "steps.thread_recorded", number=complaint.number, step=step.key,
                department=department, who=actor.display_name, parts=parts, files=len(files)),
                complaint_id=complaint.id, to_thread=True)
        elif step.provides is Provides.NOTHING:
            queue_message(session, now, texts.html(
                lang, "card.accepted_notice", number=complaint.number, who=actor.display_name,
                department=department, at=self.complaints.local(now)),
                complaint_id=complaint.id, to_thread=True)
            await self._tell_complainant(session, complaint, "card.accepted_private",
                                         number=complaint.number, department=department)
        if assigned:
            await self._assign(session, complaint, step, assigned, now)
        await self._after(session, complaint, step, now)

    async def _assign(self, session: AsyncSession, complaint: Complaint, step: Step,
                      departments: list[str], now: datetime) -> None:
        """The departments named must now answer, each on its own clock (ClockStart.ASSIGNED)."""
        kind = ComplaintKind(complaint.kind)
        steps = steps_of(kind)
        answering = steps[steps.index(step) + 1]
        assert answering.clock_starts is ClockStart.ASSIGNED
        # They are told the configured deadline (ctx.sla) and when it falls due, as open_step
        # stores it (all open now, so the same for each).
        within = self.ctx.sla.rule(kind, answering.key).duration
        due = self.complaints.local(self.ctx.sla.times(kind, answering.key, now).due_at)
        names = []
        for key in departments:
            await open_step(self.ctx, session, complaint, answering.key, key, now)
            names.append(await department_name(session, key))
            await self._tell_head(session, key, "steps.assigned_head", number=complaint.number,
                                  step=answering.key, department=names[-1], within=within,
                                  due=due)
        lang = self.ctx.settings.general.default_language
        queue_message(session, now, self.ctx.texts.html(
            lang, "steps.thread_assigned", number=complaint.number, departments=names,
            step=answering.key, within=within, due=due), complaint_id=complaint.id, to_thread=True)

    async def _after(self, session: AsyncSession, complaint: Complaint, step: Step,
                     now: datetime) -> None:
        """What follows once every department has done `step`."""
        await session.flush()
        if await self._still_waiting(session, complaint, step):
            return
        kind = ComplaintKind(complaint.kind)
        steps = steps_of(kind)
        if step in ROUND_STEPS:
            complaint.status = next_status(Status(complaint.status), Event.ANSWER_ESCALATION).value
            await self._send_outcome(session, complaint, now, step)
            return
        following = steps[steps.index(step) + 1] if step != steps[-1] else None
        if following is not None and following.clock_starts is ClockStart.PREVIOUS_STEP:
            # 人力資源部在接到處理方案後10分鐘內通知投訴人: HR's clock starts now.
            assert following.owner is Owner.INTAKE
            intake = intake_department(self.ctx, kind)
            await open_step(self.ctx, session, complaint, following.key, intake, now)
            await self._tell_head(session, intake, "steps.plan_arrived_head",
                                  number=complaint.number,
                                  within=self.ctx.sla.rule(kind, following.key).duration,
                                  due=self.complaints.local(
                                      self.ctx.sla.times(kind, following.key, now).due_at))
            return
        if following is None:
            complaint.status = next_status(Status(complaint.status), Event.FINISH_STEPS).value
            record(session, now, complaint.id, None, "answered")
            await self._send_outcome(session, complaint, now)

    async def _still_waiting(self, session: AsyncSession, complaint: Complaint, step: Step) -> bool:
        rows = await session.scalars(select(StepRecord).where(
            StepRecord.complaint_id == complaint.id, StepRecord.step_key == step.key,
            StepRecord.round == complaint.round, StepRecord.done_at.is_(None)))
        return rows.first() is not None

    async def _send_outcome(self, session: AsyncSession, complaint: Complaint, now: datetime,
                            step: Step | None = None) -> None:
        """The complainant gets the answers in private, with 接受 / 申訴 buttons (rule 一.6);
        `step`: the round's step, for an appeal's answers (which appeal) or a reopened one's."""
        answers = list(await session.scalars(select(Answer).where(
            Answer.complaint_id == complaint.id, Answer.round == complaint.round).order_by(Answer.id)))
        complainant = await person(session, self.ctx, complaint.complainant_id)
        assert complainant is not None
        lang = complainant.language
        items = []
        for answer in answers:
            if not self._step(complaint, answer.step_key).tells_complainant \
                    and answer.step_key != "plan":
                continue
            author = await person(session, self.ctx, answer.author_id)
            items.append({"step": answer.step_key, "parts": answer.parts,
                          "department": await department_name(session, answer.department_key),
                          "who": author.display_name if author else ""})
        keyboard: Keyboard = [[
            Button(self.ctx.texts.plain(lang, "buttons.verdict_accept"), VERDICT.data(complaint.id, "ok")),
            Button(self.ctx.texts.plain(lang, "buttons.verdict_appeal"), VERDICT.data(complaint.id, "ap"))]]
        queue_message(session, now, self.ctx.texts.html(
            lang, "outcome.answers", number=complaint.number, items=items,
            appeal=await appeals_of(session, complaint.id) if step is ESCALATION_STEP else 0,
            revisit=step is REVISIT_STEP),
            chat_id=complainant.id, complaint_id=complaint.id, keyboard=keyboard)
        queue_action(session, now, "refresh_topic", complaint.id)

    async def _tell_complainant(self, session: AsyncSession, complaint: Complaint, template: str,
                                **params: Any) -> None:
        complainant = await person(session, self.ctx, complaint.complainant_id)
        assert complainant is not None
        queue_message(session, self.ctx.now(), self.ctx.texts.html(
            complainant.language, template, **params), chat_id=complainant.id)

    async def _tell_head(self, session: AsyncSession, department_key: str, template: str,
                         **params: Any) -> None:
        dept = await session.get(Department, department_key)
        if dept is None or dept.head_user_id is None:
            return
        head = await session.get(User, dept.head_user_id)
        head_person = await person(session, self.ctx, dept.head_user_id)
        if head is None or head_person is None:
            return
        queue_message(session, self.ctx.now(), self.ctx.texts.html(
            head_person.language, template, **params), chat_id=head.id)

    async def question_in(self, actor_id: int, chat_id: int,
                          complaint_id: int | None) -> PendingInput | None:
        """The step the actor began and is handing in, for a message in the workgroup: the
        one in this complaint's thread; in a group without topics a message that replies to
        nothing answers the step they began last there."""
        async with self.ctx.sessions() as session:
            query = select(PendingInput).where(PendingInput.user_id == actor_id,
                                               PendingInput.purpose == STEP_INPUT)
            if complaint_id is not None:
                query = query.where(PendingInput.complaint_thread == complaint_id)
            questions = [q for q in await session.scalars(
                query.order_by(PendingInput.created_at.desc()))
                if q.data.get("chat_id") == chat_id
                and (complaint_id is not None or not q.data.get("forum"))]
        return questions[0] if questions else None

    async def drop_input(self, actor_id: int, complaint_id: int) -> None:
        async with self.ctx.transaction() as session:
            await drop_pending(session, actor_id, STEP_INPUT, thread=complaint_id)
