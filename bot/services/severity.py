"""Marking a complaint 重大 and lowering it again (ch. 9, 投訴分類界定).

Who may mark it: the department that took it in (the order desk for product complaints, HR
for service ones), the complainant's head, HR and the admins, before it closes, naming the
rule book's ground (bot/domain/severity.py). Who may lower it: whoever marked it, HR or an
admin, with a reason. Either is recorded (the complaint's severity fields and an audit
event), the card and the topic's title are redrawn, and on marking the head of the
managing department (config [severity], default the intake department's) is told at once.

Two clocks run on the deadline engine's rows (DeadlineEvent without a step; fired once by
bot.services.deadlines): from posting, "major" — still open after 10 days, it becomes 重大
on ground (d) by itself; from marking, "resolve" — resolved with the customer within 12
clock hours, warnings before, and when it slips the managing head and the vice-president
over the complainant's department (else the GM) are told and the card says it is overdue.
Closing the complaint, or lowering it, stops them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update
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
from bot.services.deadline_events import AUTO_MAJOR, RESOLVE, start_clock, stop_clocks
from bot.services.people import Person, head_of, hr_chat, language_of, person
from bot.store.models import Complaint, DeadlineEvent, Department

MAX_NOTE = 500


def checked_length(text: str) -> str:
    """A note or a reason, refused (not cut) when longer than MAX_NOTE."""
    if len(text) > MAX_NOTE:
        raise Refused("errors.too_long", max=MAX_NOTE, length=len(text))
    return text


@dataclass(frozen=True)
class SeverityChanged:
    number: str
    ground: MajorGround | None  # None: lowered to 輕微
    # Marked major: the managing head told ("" when they marked it themselves, None when the
    # managing department has no head).
    told: str | None

    @property
    def ground_words(self) -> str:
        return GROUND_WORDS[self.ground] if self.ground else ""


class SeverityMarks:
    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx

    async def mark_major(self, actor_id: int, number: str, ground_text: str,
                         note: str) -> SeverityChanged:
        ground = read_ground(ground_text)
        if ground is None:
            raise Refused("errors.major_usage")
        note = checked_length(clean_text(note))
        async with self.ctx.joined() as session:
            complaint, actor = await self._open_complaint(session, actor_id, number)
            if not self._may_mark(actor, complaint):
                raise Refused("errors.not_allowed_to_grade", number=complaint.number)
            now = self.ctx.now()
            if not await self._claim(session, complaint, Severity.MAJOR, ground, note, actor.id,
                                     now):
                raise Refused("errors.already_major", number=complaint.number)
            record(session, now, complaint.id, actor.id, "severity_raised", ground=ground.value,
                   note=note)
            self._became_major(session, complaint, now)
            told = await self._tell_managing_head(session, complaint, actor.display_name,
                                                  actor.id, ground, note)
            return SeverityChanged(str(complaint.number), ground, told)

    async def lower(self, actor_id: int, number: str, reason: str) -> SeverityChanged:
        reason = checked_length(clean_text(reason))
        if not reason:
            raise Refused("errors.minor_usage")
        async with self.ctx.joined() as session:
            complaint, actor = await self._open_complaint(session, actor_id, number)
            if complaint.severity != Severity.MAJOR:
                raise Refused("errors.not_major", number=complaint.number)
            # Whoever marked it (while they still may mark it), HR or an admin.
            marker = actor.id == complaint.severity_by and self._may_mark(actor, complaint)
            if not (actor.is_admin or marker
                    or actor.department_key == self.ctx.settings.routing.service_intake):
                raise Refused("errors.not_allowed_to_lower", number=complaint.number)
            now = self.ctx.now()
            if not await self._claim(session, complaint, Severity.MINOR, None, reason, actor.id,
                                     now):
                raise Refused("errors.not_major", number=complaint.number)
            record(session, now, complaint.id, actor.id, "severity_lowered", reason=reason)
            await stop_clocks(session, complaint.id, now, RESOLVE)
            self._redraw(session, complaint)
            return SeverityChanged(str(complaint.number), None, None)

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

    async def _claim(self, session: AsyncSession, complaint: Complaint, to: Severity,
                     ground: MajorGround | None, note: str, by: int | None,
                     now: datetime) -> bool:
        """Change the severity with a conditional UPDATE, so that two marks at once (two
        people, or a person and the 10-day moment) make one change: False for the second."""
        before = Severity.MINOR if to is Severity.MAJOR else Severity.MAJOR
        claimed = await session.execute(
            update(Complaint)
            .where(Complaint.id == complaint.id, Complaint.severity == before.value)
            .values(severity=to.value, severity_ground=ground.value if ground else None,
                    severity_note=note or None, severity_by=by, severity_at=to_db(now),
                    major_due_at=None)
            .execution_options(synchronize_session="fetch"))
        return claimed.rowcount == 1  # type: ignore[attr-defined]

    def _became_major(self, session: AsyncSession, complaint: Complaint, now: datetime) -> None:
        # (The 10-day moment stays: lowered again, the complaint still becomes 重大 by
        # itself; while it is major that moment does nothing.)
        settings = self.ctx.settings.severity
        due = now + timedelta(hours=settings.resolve_within_hours)
        complaint.major_due_at = to_db(due)
        start_clock(session, complaint.id, RESOLVE, due, now=now,
                    warn_before=[timedelta(minutes=m) for m in settings.resolve_warn_before])
        self._redraw(session, complaint)

    async def fire(self, session: AsyncSession, event: DeadlineEvent, now: datetime,
                   late: bool) -> bool:
        """One of the complaint's own clocks, claimed once by the deadline engine. False when
        there is nothing to do any more (closed, lowered, marked by hand meanwhile)."""
        complaint = await session.get(Complaint, event.complaint_id)
        if complaint is None or complaint.status == Status.CLOSED:
            return False
        if event.kind == AUTO_MAJOR:
            ground = MajorGround.UNRESOLVED_10_DAYS
            if not await self._claim(session, complaint, Severity.MAJOR, ground, "", None, now):
                return False  # marked by hand meanwhile
            record(session, now, complaint.id, None, "severity_raised", ground=ground.value,
                   automatic=True, late=late)
            self._became_major(session, complaint, now)
            await self._tell_managing_head(session, complaint, None, None, ground, "")
            return True
        if complaint.severity != Severity.MAJOR or complaint.major_due_at is None:
            return False
        due = Complaints(self.ctx).local(complaint.major_due_at)
        head = await self._managing_head(session, complaint)
        if event.before_seconds > 0:
            record(session, now, complaint.id, None, "major_warning",
                   before_seconds=event.before_seconds, late=late)
            if head is not None:
                queue_message(session, now, self.ctx.texts.html(
                    head.language, "severity.resolve_warning", number=complaint.number,
                    left=timedelta(seconds=event.before_seconds), due=due, late=late),
                    chat_id=head.id)
            return True
        record(session, now, complaint.id, None, "major_overdue", late=late)
        self._redraw(session, complaint)
        for chat_id in await self._told_when_overdue(session, complaint, head):
            queue_message(session, now, self.ctx.texts.html(
                await language_of(session, self.ctx, chat_id), "severity.resolve_overdue",
                number=complaint.number, due=due, late=late), chat_id=chat_id)
        return True

    async def _managing_head(self, session: AsyncSession, complaint: Complaint) -> Person | None:
        return await head_of(session, self.ctx, self.ctx.settings.severity.managing_department
                             or intake_department(self.ctx, ComplaintKind(complaint.kind)))

    async def _told_when_overdue(self, session: AsyncSession, complaint: Complaint,
                                 head: Person | None) -> list[int]:
        """The chats told: the managing head's and the vice-president's over the
        complainant's department (else the GM's); with neither set up, HR's."""
        dept = await session.get(Department, complaint.department_key) \
            if complaint.department_key else None
        above = dept.vice_president_id if dept is not None and dept.vice_president_id \
            else self.ctx.settings.roles.general_manager
        chats = [chat for chat in (head.id if head else None, above) if chat]
        if not chats:  # nobody set up to hear it: HR keeps the books
            chats = [chat for chat in (await hr_chat(session, self.ctx),) if chat]
        return list(dict.fromkeys(chats))

    def _redraw(self, session: AsyncSession, complaint: Complaint) -> None:
        now = self.ctx.now()
        queue_action(session, now, "refresh_card", complaint.id)
        queue_action(session, now, "refresh_topic", complaint.id)

    async def _tell_managing_head(self, session: AsyncSession, complaint: Complaint,
                                  who: str | None, actor_id: int | None, ground: MajorGround,
                                  note: str) -> str | None:
        """Reported at once to the head of the managing department (ch. 9: within 10
        minutes). `who` None: the bot marked it (ground d)."""
        head = await self._managing_head(session, complaint)
        if head is None:
            return None
        if head.id == actor_id:
            return ""  # the managing head marked it: nobody else to tell
        queue_message(session, self.ctx.now(), self.ctx.texts.html(
            head.language, "severity.reported", number=complaint.number, ground=ground.value,
            words=GROUND_WORDS[ground], note=note, who=who,
            due=Complaints(self.ctx).local(complaint.major_due_at)
            if complaint.major_due_at else None), chat_id=head.id)
        return head.display_name
