"""Joining a department (/join): the request, the name asked for, the head's decision."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from bot.buttons import JOIN_DECISION
from bot.clock import to_db
from bot.domain.validation import clean_text
from bot.outbox import Button, queue_message, retire_buttons
from bot.services.audit import record
from bot.services.context import AppContext, Refused
from bot.services.conversation import (
    drop_pending,
    set_pending,
)
from bot.services.people import Person, get_or_add_user, person
from bot.store.models import (
    Department,
    JoinRequest,
    User,
)


@dataclass(frozen=True)


class JoinDecision:
    approved: bool
    name: str
    department_name: str
    requester: Person  # as they are after the decision


class Joining:
    """Joining a department: the newcomer names themselves, the head decides."""

    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx

    async def ask_name(self, user_id: int, department_key: str) -> Department:
        async with self.ctx.transaction() as session:
            dept = await session.get(Department, department_key)
            if dept is None:
                raise Refused("errors.stale_button")
            await set_pending(session, self.ctx, user_id, "join_name", data={"department": department_key})
            return dept

    async def submit(self, tg_user_id: int, department_key: str, name: str) -> None:
        """Ask the department's head (or the admins, if it has none) to let the user in."""
        name = clean_text(name)
        if not name or len(name) > 50:
            raise Refused("errors.bad_name")
        async with self.ctx.transaction() as session:
            now = self.ctx.now()
            dept = await session.get(Department, department_key)
            if dept is None:
                raise Refused("errors.stale_button")
            await drop_pending(session, tg_user_id, "join_name")
            request = JoinRequest(user_id=tg_user_id, department_key=department_key, name=name,
                                  created_at=to_db(now))
            session.add(request)
            await session.flush()
            deciders = [dept.head_user_id] if dept.head_user_id else []
            if not deciders:
                deciders = list(await session.scalars(select(User.id).where(User.is_admin.is_(True))))
            requester = await person(session, self.ctx, tg_user_id)
            assert requester is not None
            for decider_id in deciders:
                decider = await person(session, self.ctx, decider_id)
                lang = decider.language if decider else self.ctx.settings.general.default_language
                text = self.ctx.texts.html(lang, "membership.join_request", name=name, department=dept.name,
                                      user_id=tg_user_id, telegram_name=requester.display_name)
                keyboard = [[Button(self.ctx.texts.plain(lang, "buttons.join_approve"),
                                    JOIN_DECISION.data(request.id, "y")),
                             Button(self.ctx.texts.plain(lang, "buttons.join_refuse"),
                                    JOIN_DECISION.data(request.id, "n"))]]
                queue_message(session, now, text, chat_id=decider_id, keyboard=keyboard,
                              subject=f"join:{request.id}")
            record(session, now, None, tg_user_id, "join_requested", department=department_key,
                   name=name)

    async def decide(self, actor_id: int, request_id: int,
                          approve: bool) -> JoinDecision:
        async with self.ctx.transaction() as session:
            now = self.ctx.now()
            request = await session.get(JoinRequest, request_id)
            if request is None:
                raise Refused("errors.stale_button")
            dept = await session.get(Department, request.department_key)
            assert dept is not None
            actor = await person(session, self.ctx, actor_id)
            if actor is None or not (actor.is_admin or dept.head_user_id == actor_id):
                raise Refused("errors.only_head_or_admin", department=dept.name)
            if request.status != "pending":
                raise Refused("errors.already_decided")
            request.status = "approved" if approve else "refused"
            await retire_buttons(session, now, f"join:{request.id}")  # the other deciders' copies
            request.decided_by = actor_id
            request.decided_at = to_db(now)
            if approve:
                user = await get_or_add_user(session, request.user_id, to_db(now))
                user.department_key = request.department_key
                user.name = request.name
            requester = await person(session, self.ctx, request.user_id)
            assert requester is not None
            template = "membership.join_approved" if approve else "membership.join_refused"
            queue_message(session, now, self.ctx.texts.html(requester.language, template,
                                                       department=dept.name, name=request.name),
                          chat_id=request.user_id)
            record(session, now, None, actor_id, "join_approved" if approve else "join_refused",
                   user_id=request.user_id, department=dept.key)
            return JoinDecision(approve, request.name, dept.name, requester)
