"""Whether the bot is healthy, as an admin (or a monitor) asks: `complaint-bot status` and,
when `[web] listen` is set, `GET /healthz`.

The facts: the database answers; the scheduler's last sweep (it runs every `sweep_seconds`);
the outbox's backlog and its oldest waiting message; the last successful Bot API call; and
the messages held for people who never started the bot. The running bot writes its heartbeat
(the sweep's time and the last Bot API success it saw) at each sweep, so a separate process
(`complaint-bot status`) reads the same facts from the database.

Healthy: the database answers and a sweep ran within three sweep periods (or a minute).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import from_db, to_db
from bot.outbox import NOT_POSTED
from bot.services.context import AppContext
from bot.store.models import OutboxMessage, Setting

SWEEP, BOT_API = "heartbeat:sweep", "heartbeat:bot_api"  # Setting keys


@dataclass(frozen=True)
class HealthFacts:
    database: bool
    last_sweep: datetime | None
    last_bot_api_success: datetime | None
    outbox_waiting: int
    oldest_waiting: datetime | None
    held_messages: int  # for people who never started the bot (or blocked it)
    held_people: int
    healthy: bool

    def as_json(self) -> dict[str, Any]:
        return {key: value.isoformat() if isinstance(value, datetime) else value
                for key, value in asdict(self).items()}


class Health:
    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx

    async def beat(self, now: datetime) -> None:
        """The running bot's heartbeat (each sweep): its time, and its last Bot API success."""
        async with self.ctx.transaction() as session:
            await self._put(session, SWEEP, now)
            if self.ctx.bot_api_ok_at is not None:
                await self._put(session, BOT_API, self.ctx.bot_api_ok_at)

    async def _put(self, session: AsyncSession, key: str, moment: datetime) -> None:
        row = await session.get(Setting, key)
        if row is None:
            session.add(Setting(key=key, value=to_db(moment).isoformat()))
        else:
            row.value = to_db(moment).isoformat()

    async def facts(self) -> HealthFacts:
        now = self.ctx.now()
        try:
            async with self.ctx.sessions() as session:
                await session.execute(text("SELECT 1"))
                beats = {row.key: from_db(datetime.fromisoformat(row.value))
                         for row in await session.scalars(
                             select(Setting).where(Setting.key.in_((SWEEP, BOT_API))))}
                waiting, oldest = (await session.execute(
                    select(func.count(), func.min(OutboxMessage.created_at))
                    .where(OutboxMessage.status.in_(("pending", "sending"))))).one()
                held, people = (await session.execute(
                    select(func.count(), func.count(func.distinct(OutboxMessage.chat_id)))
                    .where(OutboxMessage.status == "held", OutboxMessage.chat_id > 0,
                           OutboxMessage.last_error.is_distinct_from(NOT_POSTED)))).one()
        except Exception:  # the database does not answer: that is the fact
            return HealthFacts(False, None, None, 0, None, 0, 0, False)
        self.ctx.metrics.outbox_waiting.set(waiting)
        sweep = beats.get(SWEEP)
        recent = timedelta(seconds=max(3 * self.ctx.settings.sweep_seconds, 60))
        return HealthFacts(
            database=True, last_sweep=sweep, last_bot_api_success=beats.get(BOT_API),
            outbox_waiting=waiting, oldest_waiting=from_db(oldest) if oldest else None,
            held_messages=held, held_people=people,
            healthy=sweep is not None and now - sweep <= recent)
