"""The record of Telegram updates already handled (the inbox's memory).

An update is recorded in the same transaction as what it does (bot.inbox): if that
transaction committed, a redelivery after a crash is skipped; if it never committed, the
redelivery runs it again.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import to_db
from bot.services.context import AppContext
from bot.store.models import ProcessedUpdate

KEEP_FOR = timedelta(days=2)  # Telegram keeps unconfirmed updates for 24 hours


async def handled_before(session: AsyncSession, update_id: int) -> bool:
    return await session.get(ProcessedUpdate, update_id) is not None


def record_handled(session: AsyncSession, ctx: AppContext, update_id: int) -> None:
    session.add(ProcessedUpdate(update_id=update_id, at=to_db(ctx.now())))


class Updates:
    """The record of updates handled (each acts once)."""

    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx

    async def forget_old(self) -> None:
        async with self.ctx.transaction() as session:
            await session.execute(delete(ProcessedUpdate).where(
                ProcessedUpdate.at < to_db(self.ctx.now() - KEEP_FOR)))
