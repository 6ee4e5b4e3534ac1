"""The 24-hour feedback (ch. 9): whoever filed a complaint hears back within 24 hours.

A moment 24 hours after filing ([feedback] within_hours) is written with the complaint, a
deadline row like the steps' (fired once by bot.services.deadlines). When it comes, if no
answer has reached the complainant yet (the complaint still waits for approval, to be posted
or on a department: not answered, appealed, rejected or closed), they get a progress note —
where it stands, who it waits on and since when — and the head of the intake department is
told that the complainant has had no answer yet.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.fields import ComplaintKind
from bot.domain.words import N_
from bot.domain.workflow import Status
from bot.outbox import queue_message
from bot.services.audit import record
from bot.services.complaints import Complaints, intake_department
from bot.services.context import AppContext
from bot.services.people import head_of, person
from bot.store.models import Complaint, DeadlineEvent

APPROVAL_WORDS = N_("部門經理審批")  # rule 一.1: what a complaint waits on before posting
# Statuses in which nothing has come back to the complainant yet.
UNANSWERED = (Status.PENDING_APPROVAL, Status.APPROVED, Status.OPEN)


class Feedback:
    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx

    async def fire(self, session: AsyncSession, event: DeadlineEvent, now: datetime,
                   late: bool) -> bool:
        complaint = await session.get(Complaint, event.complaint_id)
        if complaint is None or Status(complaint.status) not in UNANSWERED:
            return False  # answered (or sent back, or closed) in time: nothing to say
        complaints = Complaints(self.ctx)
        view = await complaints.card(session, complaint)
        waiting = [(s.department or "", s.label) for s in view.waiting]
        if complaint.status == Status.PENDING_APPROVAL:  # on the complainant's own head
            approver = await head_of(session, self.ctx, complaint.department_key)
            waiting = [(approver.display_name if approver else "", APPROVAL_WORDS)]
        filed = complaints.local(complaint.filed_at)
        record(session, now, complaint.id, None, "feedback_due", late=late)
        complainant = await person(session, self.ctx, complaint.complainant_id)
        if complainant is not None:
            queue_message(session, now, self.ctx.texts.html(
                complainant.language, "feedback.progress", number=complaint.number,
                status=view.status, waiting=waiting, filed=filed, late=late),
                chat_id=complainant.id)
        head = await head_of(session, self.ctx,
                             intake_department(self.ctx, ComplaintKind(complaint.kind)))
        if head is not None:
            queue_message(session, now, self.ctx.texts.html(
                head.language, "feedback.intake_told", number=complaint.number,
                complainant=complainant.display_name if complainant else "",
                status=view.status, waiting=waiting, filed=filed, late=late), chat_id=head.id)
        return True
