"""The workgroup: the company's group chat where complaints are posted, as config names it
or as an admin binds it with /bind.
"""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.audit import record
from bot.services.context import AppContext, Refused
from bot.services.people import person
from bot.store.models import (
    OutboxMessage,
    Setting,
)

WORKGROUP_SETTING = "workgroup_chat_id"


async def workgroup_chat_id(session: AsyncSession, ctx: AppContext) -> int | None:
    bound = await session.get(Setting, WORKGROUP_SETTING)
    if bound is not None:
        return int(bound.value)
    return ctx.settings.workgroup.chat_id


class Workgroup:
    """The company workgroup chat: which chat it is, and binding it."""

    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx

    async def is_workgroup(self, chat_id: int) -> bool:
        async with self.ctx.sessions() as session:
            return await workgroup_chat_id(session, self.ctx) == chat_id

    async def bind(self, actor_id: int, chat_id: int) -> None:
        """An admin makes this group the workgroup; complaints waiting for a group are posted."""
        async with self.ctx.transaction() as session:
            actor = await person(session, self.ctx, actor_id)
            if actor is None or not actor.is_admin:
                raise Refused("errors.admins_only")
            row = await session.get(Setting, WORKGROUP_SETTING)
            if row is None:
                session.add(Setting(key=WORKGROUP_SETTING, value=str(chat_id)))
            else:
                row.value = str(chat_id)
            await session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.status == "held", OutboxMessage.kind == "post_card")
                .values(status="pending", last_error=None)
            )
            record(session, self.ctx.now(), None, actor_id, "workgroup_bound", chat_id=chat_id)
