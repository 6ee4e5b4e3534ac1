"""The audit log: every state change says who did what, when — a row in audit_events, and a
line in the bot's log once it has committed (with the complaint's number)."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import inspect, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.util import identity_key

from bot.clock import to_db
from bot.services.context import current_unit
from bot.store.models import AuditEvent, Complaint

log = logging.getLogger("bot.events")


def record(session: AsyncSession, now: datetime, complaint_id: int | None, actor_id: int | None,
           action: str, **details: Any) -> None:
    event = AuditEvent(complaint_id=complaint_id, actor_id=actor_id, action=action,
                       details=details, at=to_db(now))
    session.add(event)
    complaint = session.sync_session.identity_map.get(identity_key(Complaint, complaint_id)) \
        if complaint_id is not None else None
    number = getattr(complaint, "number", None) or (f"#{complaint_id}" if complaint_id else None)
    unit = current_unit()
    if unit is not None and unit.session is session:
        unit.after_commit.append(lambda: _logged(event, number))


def _logged(event: AuditEvent, number: str | None) -> None:
    """One line per event that committed (not one undone with its savepoint)."""
    if inspect(event).has_identity:
        log.info("%s", event.action, extra={"complaint": number, "event": event.action,
                                            "actor": event.actor_id})


async def history(session: AsyncSession, complaint_id: int) -> list[AuditEvent]:
    rows = await session.scalars(
        select(AuditEvent).where(AuditEvent.complaint_id == complaint_id).order_by(AuditEvent.id))
    return list(rows)
