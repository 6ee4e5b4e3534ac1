"""People, departments and roles: who someone is, and what they may do.

Rights are always read from here (the database), never from what a button claims. The
workgroup's binding is in workgroup.py, requests to join a department in joining.py, and
where someone is in a conversation with the bot (a question waiting for their answer) in
conversation.py.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import to_db
from bot.config import LANGUAGES
from bot.services.context import AppContext, Refused
from bot.store.models import (
    Department,
    OutboxMessage,
    User,
    UserRole,
)
from bot.texts import language_from_telegram


@dataclass(frozen=True)


class TelegramUser:
    """What a handler knows of the sender from Telegram."""

    id: int
    full_name: str
    language_code: str | None = None


@dataclass(frozen=True)


class Person:
    id: int
    name: str | None
    display_name: str  # registered name, else Telegram's
    department_key: str | None
    department_name: str | None
    is_head: bool
    is_admin: bool
    language: str
    reachable: bool = False  # has opened a private chat with the bot

    @property
    def is_member(self) -> bool:
        return self.department_key is not None


async def get_or_add_user(session: AsyncSession, user_id: int, now: object) -> User:
    user = await session.get(User, user_id)
    if user is None:
        user = User(id=user_id, created_at=now, is_admin=False, reachable=False)
        session.add(user)
        await session.flush()
    return user


async def person(session: AsyncSession, ctx: AppContext, user_id: int) -> Person | None:
    user = await session.get(User, user_id)
    if user is None:
        return None
    dept = await session.get(Department, user.department_key) if user.department_key else None
    # The session's identity map holds rows only while something refers to them: kept here,
    # the people of this transaction are read once, not at every later question about them.
    session.info.setdefault("people", []).extend((user, dept))
    language = user.language or user.chosen_language or language_from_telegram(
        user.telegram_language, ctx.settings.general.default_language)
    return Person(
        id=user.id,
        name=user.name,
        display_name=user.name or user.telegram_name or str(user.id),
        department_key=user.department_key,
        department_name=dept.name if dept else None,
        is_head=dept is not None and dept.head_user_id == user.id,
        is_admin=user.is_admin,
        language=language,
        reachable=user.reachable and user.blocked_at is None,
    )


def keeps_hr_books(ctx: AppContext, actor: Person | None) -> bool:
    """HR (the service-intake department) or an admin: who keeps the fines, marks
    compensation cases and may act for HR on a chain."""
    return actor is not None and (actor.is_admin
                                  or actor.department_key == ctx.settings.routing.service_intake)


async def department_name(session: AsyncSession, key: str | None) -> str:
    """A department's name as people read it ("" for none, the key if it is unknown)."""
    if not key:
        return ""
    dept = await session.get(Department, key)
    return dept.name if dept else key


async def holds_role(session: AsyncSession, user_id: int, *roles: str) -> bool:
    """Whether the user holds one of these roles of rules 一.4 and 三 (user_roles)."""
    return await session.scalar(select(UserRole.role).where(
        UserRole.user_id == user_id, UserRole.role.in_(roles))) is not None


async def head_of(session: AsyncSession, ctx: AppContext, department_key: str | None) -> Person | None:
    """The department's head as the bot knows them; None without one."""
    dept = await session.get(Department, department_key) if department_key else None
    return await person(session, ctx, dept.head_user_id) \
        if dept is not None and dept.head_user_id else None


async def language_of(session: AsyncSession, ctx: AppContext, chat_id: int) -> str:
    """The language to write to this chat in: the person's, else the default (a group)."""
    found = await person(session, ctx, chat_id)
    return found.language if found else ctx.settings.general.default_language


async def admin_names(session: AsyncSession) -> list[str]:
    rows = await session.scalars(select(User).where(User.is_admin.is_(True)).order_by(User.id))
    return [u.name or u.telegram_name or str(u.id) for u in rows]


async def require_member(session: AsyncSession, ctx: AppContext, user_id: int) -> Person:
    found = await person(session, ctx, user_id)
    if found is None or not found.is_member:
        raise Refused("errors.not_member", admins=await admin_names(session))
    return found


async def hr_chat(session: AsyncSession, ctx: AppContext) -> int | None:
    """Where HR's notices go: the configured chat, else the HR department's head."""
    if ctx.settings.fines.hr_chat_id is not None:
        return ctx.settings.fines.hr_chat_id
    dept = await session.get(Department, ctx.settings.routing.service_intake)
    return dept.head_user_id if dept else None


FOLLOW_APP = "app"  # /language's last button: the Telegram app's language again


class People:
    """The company's people as the database knows them: seeded from the config, touched by every update."""

    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx

    async def seed_from_config(self) -> None:
        """Departments, heads, members and admins from config.toml.

        The file is authoritative for whom it lists; people approved in chat are kept.
        """
        settings = self.ctx.settings
        now = to_db(self.ctx.now())
        async with self.ctx.transaction() as session:
            for dept in settings.departments:
                row = await session.get(Department, dept.key)
                if row is None:
                    session.add(Department(key=dept.key, name=dept.name, head_user_id=dept.head,
                                           vice_president_id=dept.vice_president))
                else:
                    row.name = dept.name
                    row.vice_president_id = dept.vice_president
                    if dept.head is not None:
                        row.head_user_id = dept.head
            await session.flush()
            department_of = {uid: d.key for d in settings.departments for uid in [*d.members, d.head]
                             if uid is not None}
            for member in settings.members:
                user = await get_or_add_user(session, member.id, now)
                user.name = member.name
                user.language = member.language  # the file decides for whom it lists
                if member.id in department_of:
                    user.department_key = department_of[member.id]
            for admin_id in settings.admins:
                user = await get_or_add_user(session, admin_id, now)
                user.is_admin = True
            # Roles of rules 一.4 and 三 come from the file alone: it is their only source.
            await session.execute(delete(UserRole))
            for _setting, role, uid in settings.roles.holders():
                session.add(UserRole(user_id=uid, role=role))

    async def choose_language(self, user_id: int, language: str) -> str:
        """/language: write to this person in `language` from now on (FOLLOW_APP: in their
        Telegram app's again), unless config.toml fixes their language (the admin's word wins:
        Refused). The language they are written to in now."""
        if language not in (*LANGUAGES, FOLLOW_APP):
            raise Refused("errors.stale_button")
        async with self.ctx.joined() as session:
            user = await get_or_add_user(session, user_id, to_db(self.ctx.now()))
            if user.language:
                raise Refused("errors.language_fixed")
            user.chosen_language = None if language == FOLLOW_APP else language
            return user.chosen_language or language_from_telegram(
                user.telegram_language, self.ctx.settings.general.default_language)

    async def language_fixed(self, user_id: int) -> bool:
        """Whether config.toml sets this person's language (then /language only says so)."""
        async with self.ctx.joined() as session:
            user = await session.get(User, user_id)
            return user is not None and bool(user.language)

    async def touch(self, tg: TelegramUser, *, private: bool) -> Person:
        """Record who wrote to the bot. A private message means the bot may now write to them,
        so messages held for them are released."""
        async with self.ctx.joined() as session:
            # The user and their department in one statement; `person` below finds both in the
            # session (one statement fewer on every update).
            row = (await session.execute(
                select(User, Department)
                .outerjoin(Department, Department.key == User.department_key)
                .where(User.id == tg.id))).first()
            user = row[0] if row is not None else await get_or_add_user(session, tg.id, to_db(self.ctx.now()))
            user.telegram_name = tg.full_name[:200]
            user.telegram_language = tg.language_code
            if private and (not user.reachable or user.blocked_at is not None):
                user.reachable, user.blocked_at = True, None
                await session.execute(
                    update(OutboxMessage)
                    .where(OutboxMessage.chat_id == tg.id, OutboxMessage.status == "held")
                    .values(status="pending", last_error=None)
                )
            found = await person(session, self.ctx, tg.id)
        assert found is not None
        return found

    async def departments(self) -> list[Department]:
        async with self.ctx.sessions() as session:
            return list(await session.scalars(select(Department).order_by(Department.key)))
