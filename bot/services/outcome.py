"""The complainant's verdict on the answers (rule 一.6): accept, or appeal upwards."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import to_db
from bot.domain.validation import clean_text
from bot.domain.workflow import ESCALATION_STEP, Event, Status, next_status
from bot.outbox import queue_action, queue_message
from bot.services.audit import record
from bot.services.complaints import appeals_of
from bot.services.context import AppContext, Refused
from bot.services.conversation import PRIVATE_CHAT, drop_pending, set_pending
from bot.services.deadline_events import stop_clocks
from bot.services.deadlines import open_step
from bot.services.followups import FollowUps
from bot.services.people import person
from bot.services.records import Records
from bot.store.models import Answer, Complaint, Department, Escalation, PendingInput

APPEAL_REASON = "appeal_reason"
MAX_REASON = 1000


@dataclass(frozen=True)
class Bodies:
    """Where the complainant may take the appeal."""

    complaint_id: int
    number: str
    choices: list[tuple[str, str]]  # (department key, name)


class Outcome:
    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx

    async def _own_answered(self, session: AsyncSession, actor_id: int,
                            complaint_id: int) -> Complaint:
        complaint = await session.get(Complaint, complaint_id)
        if complaint is None or complaint.complainant_id != actor_id:
            raise Refused("errors.stale_button")
        if complaint.status != Status.ANSWERED.value:
            raise Refused("errors.already_decided")
        return complaint

    async def accept(self, actor_id: int, complaint_id: int) -> str:
        """接受: the complaint is closed, its topic too, and its follow-up visit opens."""
        async with self.ctx.transaction() as session:
            now = self.ctx.now()
            complaint = await self._own_answered(session, actor_id, complaint_id)
            complaint.status = next_status(Status(complaint.status), Event.CLOSE).value
            complaint.closed_at = to_db(now)
            record(session, now, complaint.id, actor_id, "closed")
            await stop_clocks(session, complaint.id, now)  # resolved: no 10 days, no 12 hours
            await FollowUps(self.ctx).open(session, complaint, now)  # 回訪 within 24 hours
            Records(self.ctx).archive(session, complaint, now)  # its file, to the archive chat
            lang = self.ctx.settings.general.default_language
            complainant = await person(session, self.ctx, actor_id)
            queue_message(session, now, self.ctx.texts.html(
                lang, "outcome.thread_closed", number=complaint.number,
                who=complainant.display_name if complainant else ""),
                complaint_id=complaint.id, to_thread=True)
            queue_action(session, now, "refresh_card", complaint.id)
            queue_action(session, now, "refresh_topic", complaint.id)
            assert complaint.number is not None
            return complaint.number

    async def ask_reason(self, actor_id: int, complaint_id: int) -> str:
        async with self.ctx.transaction() as session:
            complaint = await self._own_answered(session, actor_id, complaint_id)
            await set_pending(session, self.ctx, actor_id, APPEAL_REASON, ref_id=complaint.id)
            assert complaint.number is not None
            return complaint.number

    async def question(self, actor_id: int, pending: PendingInput) -> tuple[Bodies, bool]:
        """What the complainant is being asked, to ask it again: the complaint, and whether
        the reason was given (then the question is where the appeal goes: the choices)."""
        async with self.ctx.sessions() as session:
            complaint = await self._own_answered(session, actor_id, int(pending.ref_id or 0))
            assert complaint.number is not None
            given = bool(pending.data.get("reason"))
            choices = await self.bodies(session, complaint) if given else []
            return Bodies(complaint.id, complaint.number, choices), given

    async def bodies(self, session: AsyncSession, complaint: Complaint) -> list[tuple[str, str]]:
        """The next management level up over the departments that answered, then 監察部 and
        行政部 (configurable)."""
        answered = await session.scalars(select(Answer.department_key).where(
            Answer.complaint_id == complaint.id, Answer.round == complaint.round))
        superiors = {d.key: d.superior for d in self.ctx.settings.departments}
        keys = [superiors[k] for k in dict.fromkeys(answered) if superiors.get(k)]
        keys += self.ctx.settings.routing.escalation_bodies
        choices = []
        for key in dict.fromkeys(k for k in keys if k):
            dept = await session.get(Department, key)
            if dept is not None:
                choices.append((key, dept.name))
        return choices

    async def take_reason(self, actor_id: int, pending: PendingInput, text: str) -> Bodies:
        reason = clean_text(text)
        if not reason:
            raise Refused("errors.reason_empty", what="appeal")
        if len(reason) > MAX_REASON:
            raise Refused("errors.too_long", max=MAX_REASON, length=len(reason))
        async with self.ctx.transaction() as session:
            complaint = await self._own_answered(session, actor_id, int(pending.ref_id or 0))
            fresh = await session.get(PendingInput, (actor_id, PRIVATE_CHAT))
            assert fresh is not None
            fresh.data = {"reason": reason}
            assert complaint.number is not None
            return Bodies(complaint.id, complaint.number, await self.bodies(session, complaint))

    async def escalate(self, actor_id: int, complaint_id: int, body_key: str) -> str:
        """申訴 to the chosen body: it answers in the thread like a department."""
        async with self.ctx.transaction() as session:
            now = self.ctx.now()
            complaint = await self._own_answered(session, actor_id, complaint_id)
            pending = await session.get(PendingInput, (actor_id, PRIVATE_CHAT))
            if pending is None or pending.purpose != APPEAL_REASON or pending.ref_id != complaint.id \
                    or not pending.data.get("reason"):
                raise Refused("errors.stale_button")
            if body_key not in dict(await self.bodies(session, complaint)):
                raise Refused("errors.stale_button")
            reason = str(pending.data["reason"])
            await drop_pending(session, actor_id, APPEAL_REASON)
            complaint.status = next_status(Status(complaint.status), Event.ESCALATE).value
            complaint.round += 1
            session.add(Escalation(complaint_id=complaint.id, round=complaint.round, reason=reason,
                                   body_department_key=body_key, raised_by=actor_id,
                                   created_at=to_db(now)))
            await open_step(self.ctx, session, complaint, ESCALATION_STEP.key, body_key, now,
                            round=complaint.round)
            body = await session.get(Department, body_key)
            assert body is not None
            record(session, now, complaint.id, actor_id, "escalated", body=body_key, reason=reason,
                   round=complaint.round)
            await session.flush()
            appeal = await appeals_of(session, complaint.id)  # which appeal this is (1, 2, …)
            complainant = await person(session, self.ctx, actor_id)
            lang = self.ctx.settings.general.default_language
            queue_message(session, now, self.ctx.texts.html(
                lang, "outcome.thread_escalated", number=complaint.number, body=body.name,
                reason=reason, who=complainant.display_name if complainant else "",
                round=appeal), complaint_id=complaint.id, to_thread=True)
            if body.head_user_id:
                head = await person(session, self.ctx, body.head_user_id)
                if head is not None:
                    queue_message(session, now, self.ctx.texts.html(
                        head.language, "outcome.escalated_head", number=complaint.number,
                        body=body.name, reason=reason), chat_id=head.id)
            queue_action(session, now, "refresh_card", complaint.id)
            queue_action(session, now, "refresh_topic", complaint.id)
            return body.name
