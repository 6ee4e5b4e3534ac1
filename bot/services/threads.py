"""A complaint's thread in the workgroup: which messages belong to it, and the comments.

With topics, the topic is the thread. Without, a message belongs to a complaint when it
replies to one of the complaint's messages (its card, a notice, an answer).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import to_db
from bot.services.audit import record
from bot.services.context import AppContext
from bot.store.models import Comment, Complaint, ThreadMessage


async def remember(session: AsyncSession, chat_id: int, message_id: int, complaint_id: int) -> None:
    if await session.get(ThreadMessage, (chat_id, message_id)) is None:
        session.add(ThreadMessage(chat_id=chat_id, message_id=message_id, complaint_id=complaint_id))


class Threads:
    """A complaint's thread in the workgroup: its messages and comments."""

    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx

    async def remember_message(self, chat_id: int, message_id: int, complaint_id: int) -> None:
        async with self.ctx.transaction() as session:
            await remember(session, chat_id, message_id, complaint_id)

    async def complaint_of(self, chat_id: int, thread_id: int | None,
                           reply_to: int | None) -> int | None:
        """The complaint a workgroup message is about, if any."""
        async with self.ctx.sessions() as session:
            if thread_id is not None:
                found = await session.scalar(select(Complaint.id).where(
                    Complaint.chat_id == chat_id, Complaint.thread_id == thread_id))
                if found is not None:
                    return int(found)
            if reply_to is not None:
                row = await session.get(ThreadMessage, (chat_id, reply_to))
                if row is not None:
                    return row.complaint_id
            return None

    async def add_comment(self, complaint_id: int, author_id: int, chat_id: int,
                          message_id: int, text: str, attachments: list[dict[str, str]]) -> None:
        """Chatter in the thread: kept with its author, never taken as a department's answer."""
        async with self.ctx.transaction() as session:
            now = self.ctx.now()
            session.add(Comment(complaint_id=complaint_id, author_id=author_id, text=text,
                                attachments=attachments, message_id=message_id, created_at=to_db(now)))
            await remember(session, chat_id, message_id, complaint_id)
            record(session, now, complaint_id, author_id, "comment", text=text[:200])
