"""Marking a complaint 重大 and lowering it again (ch. 9, 投訴分類界定).

Who may mark it: the department that took it in (the order desk for product complaints, HR
for service ones), the complainant's head, HR and the admins, before it closes, naming the
rule book's ground (bot/domain/severity.py). Who may lower it: whoever marked it, HR or an
admin, with a reason. Either is recorded (the complaint's severity fields and an audit
event), the card and the topic's title are redrawn, and on marking the head of the
managing department (config [severity], default the intake department's) is told at once.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import to_db
from bot.domain.fields import ComplaintKind
from bot.domain.severity import GROUND_WORDS, MajorGround, Severity, read_ground
from bot.domain.validation import clean_text
from bot.domain.workflow import Status
from bot.outbox import queue_action, queue_message
from bot.services.audit import record
from bot.services.complaints import Complaints, intake_department
from bot.services.context import AppContext, Refused
from bot.services.people import Person, person
from bot.store.models import Complaint, Department

MAX_NOTE = 500


@dataclass(frozen=True)
class SeverityChanged:
    number: str
    severity: Severity
    ground: MajorGround | None
    told: str | None  # the managing head told of a major complaint (None: no head set)


class SeverityMarks:
    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx

    async def mark_major(self, actor_id: int, number: str, ground_text: str,
                         note: str) -> SeverityChanged:
        ground = read_ground(ground_text)
        if ground is None:
            raise Refused("errors.major_usage")
        async with self.ctx.joined() as session:
            complaint, actor = await self._open_complaint(session, actor_id, number)
            if not self._may_mark(actor, complaint):
                raise Refused("errors.not_allowed_to_grade", number=complaint.number)
            if complaint.severity == Severity.MAJOR:
                raise Refused("errors.already_major", number=complaint.number)
            now = self.ctx.now()
            note = clean_text(note)[:MAX_NOTE]
            complaint.severity, complaint.severity_ground = Severity.MAJOR, ground.value
            complaint.severity_note, complaint.severity_by = note or None, actor.id
            complaint.severity_at = to_db(now)
            record(session, now, complaint.id, actor.id, "severity_raised", ground=ground.value,
                   note=note)
            self._redraw(session, complaint)
            told = await self._tell_managing_head(session, complaint, actor, ground, note)
            return SeverityChanged(str(complaint.number), Severity.MAJOR, ground, told)

    async def lower(self, actor_id: int, number: str, reason: str) -> SeverityChanged:
        reason = clean_text(reason)[:MAX_NOTE]
        if not reason:
            raise Refused("errors.minor_usage")
        async with self.ctx.joined() as session:
            complaint, actor = await self._open_complaint(session, actor_id, number)
            if complaint.severity != Severity.MAJOR:
                raise Refused("errors.not_major", number=complaint.number)
            if not (actor.is_admin or actor.id == complaint.severity_by
                    or actor.department_key == self.ctx.settings.routing.service_intake):
                raise Refused("errors.not_allowed_to_lower", number=complaint.number)
            now = self.ctx.now()
            complaint.severity, complaint.severity_ground = Severity.MINOR, None
            complaint.severity_note, complaint.severity_by = reason, actor.id
            complaint.severity_at = to_db(now)
            record(session, now, complaint.id, actor.id, "severity_lowered", reason=reason)
            self._redraw(session, complaint)
            return SeverityChanged(str(complaint.number), Severity.MINOR, None, None)

    async def _open_complaint(self, session: AsyncSession, actor_id: int,
                              number: str) -> tuple[Complaint, Person]:
        complaint = await Complaints(self.ctx).find(session, number.strip())
        actor = await person(session, self.ctx, actor_id)
        if complaint is None or complaint.number is None:
            raise Refused("errors.no_such_complaint", number=number)
        if actor is None:
            raise Refused("errors.not_allowed_to_grade", number=complaint.number)
        if complaint.status == Status.CLOSED:
            raise Refused("errors.grade_closed", number=complaint.number)
        return complaint, actor

    def _may_mark(self, actor: Person, complaint: Complaint) -> bool:
        """The intake department, the complainant's head, HR, an admin (ch. 9)."""
        intake = intake_department(self.ctx, ComplaintKind(complaint.kind))
        return (actor.is_admin
                or actor.department_key in (intake, self.ctx.settings.routing.service_intake)
                or (actor.is_head and actor.department_key == complaint.department_key))

    def _redraw(self, session: AsyncSession, complaint: Complaint) -> None:
        now = self.ctx.now()
        queue_action(session, now, "refresh_card", complaint.id)
        queue_action(session, now, "refresh_topic", complaint.id)

    async def _tell_managing_head(self, session: AsyncSession, complaint: Complaint,
                                  actor: Person, ground: MajorGround, note: str) -> str | None:
        """Reported at once to the head of the managing department (ch. 9: within 10 minutes)."""
        key = self.ctx.settings.severity.managing_department \
            or intake_department(self.ctx, ComplaintKind(complaint.kind))
        dept = await session.get(Department, key)
        head = await person(session, self.ctx, dept.head_user_id) \
            if dept is not None and dept.head_user_id else None
        if head is None:
            return None
        if head.id != actor.id:
            queue_message(session, self.ctx.now(), self.ctx.texts.html(
                head.language, "severity.reported", number=complaint.number, ground=ground.value,
                words=GROUND_WORDS[ground], note=note, who=actor.display_name), chat_id=head.id)
        return head.display_name
