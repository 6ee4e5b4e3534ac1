"""The audit log: every state change says who did what, when."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import to_db
from bot.store.models import AuditEvent


def record(session: AsyncSession, now: datetime, complaint_id: int | None, actor_id: int | None,
           action: str, **details: Any) -> None:
    session.add(AuditEvent(complaint_id=complaint_id, actor_id=actor_id, action=action,
                           details=details, at=to_db(now)))


async def history(session: AsyncSession, complaint_id: int) -> list[AuditEvent]:
    rows = await session.scalars(
        select(AuditEvent).where(AuditEvent.complaint_id == complaint_id).order_by(AuditEvent.id))
    return list(rows)
