"""Each complaint's record is its file (ch. 9: 獨立歸檔保存), kept at least two years.

`/export NUMBER` sends whoever may see the complaint one self-contained document (HTML: every
field, the photos themselves, each step, answer, signature, appeal, follow-up visit and fine,
with times and people). When a complaint closes, the same document goes to the archive chat
if one is configured ([records] archive_chat_id). The document is built by the sender, after
the transaction (fetching the photos from Telegram is slow): the outbox row only says which
complaint, for whom.

`complaint-bot purge --before DATE` removes closed complaints closed before DATE, never
within the retention period ([records] keep_years, at least 2), leaving a row per complaint
in purged_complaints (number, dates, its fines); `--dry-run` lists what would go.
"""

from __future__ import annotations

import base64
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import Select, delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import views
from bot.clock import to_db
from bot.outbox import queue_record
from bot.services.audit import record
from bot.services.complaints import Complaints
from bot.services.context import AppContext, Refused
from bot.services.people import person
from bot.store.models import (
    Answer,
    AuditEvent,
    ChainItem,
    ChainStepRecord,
    Comment,
    Complaint,
    DeadlineEvent,
    Escalation,
    Fine,
    FollowUp,
    OutboxMessage,
    PurgedComplaint,
    StepRecord,
    ThreadMessage,
    TypicalCase,
)

Fetch = Callable[[str], Awaitable[bytes | None]]  # a Telegram file id → its bytes (None: gone)


class PurgeTooRecent(Exception):
    """`--before` falls within the retention period."""

    def __init__(self, limit: date, years: int) -> None:
        super().__init__(f"records are kept {years} years: --before may be {limit} at the latest")
        self.limit = limit


@dataclass(frozen=True)
class PurgeReport:
    before: date
    numbers: list[str]
    fines: int
    dry_run: bool


class Records:
    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx
        self.complaints = Complaints(ctx)

    async def export(self, actor_id: int, number: str, chat_id: int, *,
                     thread_id: int | None = None, reply_to: int | None = None) -> str:
        """/export: the document, for whoever may see the complaint (as /show)."""
        async with self.ctx.joined() as session:
            complaint = await self.complaints.find(session, number.strip())
            actor = await person(session, self.ctx, actor_id)
            if complaint is None or complaint.number is None:
                raise Refused("errors.no_such_complaint", number=number)
            if actor is None or not await self.complaints.may_see(session, actor, complaint):
                raise Refused("errors.not_allowed_to_see", number=complaint.number)
            queue_record(session, self.ctx.now(), chat_id, complaint.id, thread_id=thread_id,
                         reply_to=reply_to)
            return complaint.number

    def archive(self, session: AsyncSession, complaint: Complaint, now: datetime) -> None:
        """On closing: the record to the archive chat, if there is one."""
        chat = self.ctx.settings.records.archive_chat_id
        if chat is not None:
            queue_record(session, now, chat, complaint.id)

    async def document(self, complaint_id: int, lang: str, fetch: Fetch) -> tuple[str, bytes, str]:
        """The record as one HTML file: (file name, bytes, caption). The photos of the
        complaint and of the answers are fetched and put in the file itself."""
        async with self.ctx.sessions() as session:
            complaint = await session.get(Complaint, complaint_id)
            if complaint is None:  # purged meanwhile
                raise LookupError(complaint_id)
            view, items = await self.complaints.record_of(session, complaint)
            answer_files = await session.scalars(select(Answer.attachments).where(
                Answer.complaint_id == complaint_id).order_by(Answer.id))
            file_ids = [*complaint.photos, *(a["file_id"] for files in answer_files for a in files
                                             if a.get("type") == "photo")]
        photos = []
        for file_id in dict.fromkeys(file_ids):
            data = await fetch(file_id)
            photos.append(base64.b64encode(data).decode("ascii") if data else None)
        now = self.complaints.local(self.ctx.now())
        texts = self.ctx.texts
        html = views.record_document(texts, lang, view, items, photos, now)
        caption = texts.html(lang, "card.record_document_caption", number=view.number,
                             photos=len(photos))
        return f"{view.number or complaint_id}.html", html, caption

    # --- retention ---------------------------------------------------------------------------

    def purge_limit(self, today: date) -> date:
        """The latest `--before` allowed: nothing closed within keep_years goes."""
        years = self.ctx.settings.records.keep_years
        try:
            return today.replace(year=today.year - years)
        except ValueError:  # 29 February
            return today.replace(year=today.year - years, day=28)

    async def purge(self, before: date, *, dry_run: bool) -> PurgeReport:
        now = self.ctx.now()
        limit = self.purge_limit(self.complaints.local(now).date())
        if before > limit:
            raise PurgeTooRecent(limit, self.ctx.settings.records.keep_years)
        cutoff = datetime.combine(before, time(0), tzinfo=self.ctx.settings.zone)
        # Set-based throughout (a subquery, not a list of ids): years of complaints at once.
        going = select(Complaint.id).where(Complaint.status == "closed",
                                           Complaint.closed_at < to_db(cutoff))
        async with self.ctx.transaction() as session:
            fines = {cid: (count, cents or 0) for cid, count, cents in (await session.execute(
                select(Fine.complaint_id, func.count(), func.sum(Fine.amount_cents))
                .where(Fine.complaint_id.in_(going)).group_by(Fine.complaint_id))).all()}
            rows = (await session.execute(
                select(Complaint.id, Complaint.number, Complaint.kind, Complaint.filed_at,
                       Complaint.closed_at).where(Complaint.id.in_(going))
                .order_by(Complaint.closed_at))).all()
            report = PurgeReport(before, [number or str(cid) for cid, number, *_ in rows],
                                 sum(count for count, _cents in fines.values()), dry_run)
            if dry_run or not rows:
                return report
            listed = [{"number": number or str(cid), "kind": kind, "filed_at": filed,
                       "closed_at": closed, "purged_at": to_db(now),
                       "fines": fines.get(cid, (0, 0))[0], "fines_cents": fines.get(cid, (0, 0))[1]}
                      for cid, number, kind, filed, closed in rows]
            for start in range(0, len(listed), 500):
                await session.execute(insert(PurgedComplaint), listed[start:start + 500])
            await self._remove(session, going)
            record(session, now, None, None, "purged", before=before.isoformat(),
                   count=len(rows))
            return report

    async def _remove(self, session: AsyncSession, going: Select[Any]) -> None:
        """Everything of these complaints, children before parents (foreign keys)."""
        items = select(ChainItem.id).where(ChainItem.complaint_id.in_(going))
        chain_steps = select(ChainStepRecord.id).where(ChainStepRecord.item_id.in_(items))
        await session.execute(delete(DeadlineEvent).where(
            DeadlineEvent.complaint_id.in_(going) | DeadlineEvent.chain_step_id.in_(chain_steps)))
        for model in (Fine, TypicalCase, Answer, Comment, ThreadMessage, Escalation,
                      OutboxMessage, AuditEvent, FollowUp):
            await session.execute(delete(model).where(model.complaint_id.in_(going)))
        await session.execute(delete(ChainStepRecord).where(ChainStepRecord.item_id.in_(items)))
        await session.execute(delete(ChainItem).where(ChainItem.complaint_id.in_(going)))
        await session.execute(delete(StepRecord).where(StepRecord.complaint_id.in_(going)))
        await session.execute(delete(Complaint).where(Complaint.id.in_(going)))
