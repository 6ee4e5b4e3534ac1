"""Everyday views: /mine (my complaints) and /open (what my department owes now)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from bot.clock import from_db
from bot.domain.fields import ComplaintKind
from bot.domain.severity import Severity
from bot.domain.workflow import ACTIVE, Status, step_of
from bot.services.complaints import Complaints, message_link
from bot.services.context import AppContext
from bot.services.people import require_member
from bot.store.models import Complaint, StepRecord

LIMIT = 30


@dataclass(frozen=True)
class Line:
    number: str | None
    status: Status
    customer: str
    waiting_on: list[str]  # department names the complaint waits on
    step_label: str | None
    since: datetime  # local time
    link: str | None
    major: bool = False  # 重大 (ch. 9): listed first in /open, marked in both lists


class Lists:
    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx
        self.complaints = Complaints(ctx)

    async def mine(self, actor_id: int) -> list[Line]:
        async with self.ctx.sessions() as session:
            rows = await session.scalars(select(Complaint).where(
                Complaint.complainant_id == actor_id).order_by(Complaint.id.desc()).limit(LIMIT))
            lines = []
            for complaint in rows:
                view = await self.complaints.card(session, complaint)
                waiting = view.waiting
                lines.append(Line(
                    complaint.number, view.status, _who(complaint),
                    [s.department or "?" for s in waiting],
                    waiting[0].label if waiting else None,
                    self.complaints.local(complaint.filed_at), _link(complaint),
                    view.is_major))
            return lines

    async def owed(self, actor_id: int) -> tuple[str, list[Line]]:
        """What the actor's department owes now: major complaints first, then oldest first."""
        async with self.ctx.sessions() as session:
            member = await require_member(session, self.ctx, actor_id)
            rows = await session.execute(
                select(StepRecord, Complaint).join(Complaint, Complaint.id == StepRecord.complaint_id)
                .where(StepRecord.department_key == member.department_key,
                       StepRecord.done_at.is_(None),
                       Complaint.status.in_([s.value for s in ACTIVE]))
                .order_by((Complaint.severity == Severity.MAJOR).desc(), StepRecord.started_at,
                          StepRecord.id).limit(LIMIT))
            lines = []
            for step_row, complaint in rows:
                view = await self.complaints.card(session, complaint)
                if not any(s.department_key == member.department_key and s.key == step_row.step_key
                           for s in view.waiting):
                    continue  # a later step, not owed yet
                step = step_of(ComplaintKind(complaint.kind), step_row.step_key)
                lines.append(Line(complaint.number, view.status, _who(complaint),
                                  [member.department_name or ""], step.label,
                                  self.complaints.local(from_db(step_row.started_at)),
                                  _link(complaint), view.is_major))
            return member.department_name or "", lines


def _who(complaint: Complaint) -> str:
    answers = complaint.answers
    return str(answers.get("customer") or answers.get("target") or "")


def _link(complaint: Complaint) -> str | None:
    if complaint.chat_id is None or complaint.card_message_id is None:
        return None
    return message_link(complaint.chat_id, complaint.thread_id, complaint.card_message_id)
