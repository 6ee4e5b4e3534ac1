"""Where a person is in a conversation with the bot: the question waiting for their typed
answer, and the tail of a text Telegram split that must not be taken as one.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import to_db
from bot.services.context import AppContext
from bot.store.models import (
    PendingInput,
    User,
)

# --- a text too long for one message --------------------------------------------------

# Telegram's apps send a pasted text over 4,096 characters as several messages, a moment
# apart, the first ones full. When such a full part is refused as too long, a part that
# follows within SPLIT_TAIL is its tail, not an answer to the question (it would be taken
# silently otherwise).


SPLIT_PART = range(4000, 4097)  # a full part's length, in UTF-16 code units
SPLIT_TAIL = timedelta(seconds=2)


def looks_split(text: str) -> bool:
    """Whether a message is as long as the full part of a text Telegram split."""
    return len(text.encode("utf-16-le")) // 2 in SPLIT_PART


# --- questions waiting for a typed answer ---------------------------------------------


PRIVATE_CHAT = 0  # PendingInput.complaint_thread of a question asked in the private chat


async def set_pending(session: AsyncSession, ctx: AppContext, user_id: int, purpose: str,
                      ref_id: int | None = None, data: dict | None = None,
                      thread: int = PRIVATE_CHAT) -> str | None:
    """Ask the user a question; one at a time in the private chat, and one at a time in each
    complaint's thread (`thread` = the complaint), so an earlier unanswered one *there* is
    dropped. Returns that earlier question's purpose (None if there was none), to say so."""
    existing = await session.get(PendingInput, (user_id, thread))
    replaced = existing.purpose if existing is not None else None
    if existing is not None:
        await session.delete(existing)
        await session.flush()
    session.add(PendingInput(user_id=user_id, complaint_thread=thread, purpose=purpose,
                             ref_id=ref_id, data=data or {}, created_at=to_db(ctx.now())))
    return replaced


async def pending_row(session: AsyncSession, pending: PendingInput) -> PendingInput | None:
    """The question as it is now in the database (a handler read it earlier)."""
    return await session.get(PendingInput, (pending.user_id, pending.complaint_thread))


async def drop_pending(session: AsyncSession, user_id: int, purpose: str,
                       thread: int = PRIVATE_CHAT) -> None:
    pending = await session.get(PendingInput, (user_id, thread))
    if pending is not None and pending.purpose == purpose:
        await session.delete(pending)


class Conversation:
    """Where a person's conversation with the bot stands: the question waiting for their
    answer, and long texts Telegram split in two."""

    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx

    async def note_split_text(self, user_id: int, chat_id: int, sent_at: datetime) -> None:
        """A message so long that it is the first part of a split text was refused."""
        async with self.ctx.joined() as session:
            user = await session.get(User, user_id)
            if user is not None:
                user.split_text_at, user.split_text_chat = to_db(sent_at), chat_id

    async def is_split_tail(self, user_id: int, chat_id: int, sent_at: datetime) -> bool:
        """Whether this message is the rest of a split text whose first part was refused."""
        async with self.ctx.joined() as session:  # usually no SQL at all: the user is loaded already
            user = await session.get(User, user_id)
            if user is None or user.split_text_at is None or user.split_text_chat != chat_id:
                return False
            tail = timedelta(0) <= to_db(sent_at) - user.split_text_at <= SPLIT_TAIL
            if not tail:
                user.split_text_at = user.split_text_chat = None
            return tail

    async def pending(self, user_id: int,
                          thread: int = PRIVATE_CHAT) -> PendingInput | None:
        """The question the user is answering now in the private chat (or in a complaint's
        thread), if any; the service that takes the answer deletes it, and a refused answer
        leaves the question open."""
        async with self.ctx.sessions() as session:
            return await session.get(PendingInput, (user_id, thread))

    async def clear_pending(self, user_id: int) -> bool:
        """/cancel: the question waiting in the private chat goes."""
        async with self.ctx.transaction() as session:
            pending = await session.get(PendingInput, (user_id, PRIVATE_CHAT))
            if pending is None:
                return False
            await session.delete(pending)
            return True
