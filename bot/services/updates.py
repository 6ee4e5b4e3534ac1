"""Each Telegram update acts at most once, even when it is delivered again after a crash."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError

from bot.clock import to_db
from bot.services.context import AppContext
from bot.store.models import ProcessedUpdate

KEEP_FOR = timedelta(days=2)  # Telegram keeps unconfirmed updates for 24 hours


async def claim_update(ctx: AppContext, update_id: int) -> bool:
    """True the first time this update is seen; False for a redelivery."""
    try:
        async with ctx.sessions() as session, session.begin():
            session.add(ProcessedUpdate(update_id=update_id, at=to_db(ctx.now())))
    except IntegrityError:
        return False
    return True


async def forget_old_updates(ctx: AppContext) -> None:
    async with ctx.sessions() as session, session.begin():
        await session.execute(delete(ProcessedUpdate).where(
            ProcessedUpdate.at < to_db(ctx.now() - KEEP_FOR)))
