"""People, departments and roles: who someone is, and what they may do.

Rights are always read from here (the database), never from what a button claims.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.buttons import JOIN_DECISION
from bot.clock import to_db
from bot.domain.validation import clean_text
from bot.outbox import Button, queue_message, retire_buttons
from bot.services.audit import record
from bot.services.context import AppContext, Refused
from bot.store.models import (
    Department,
    JoinRequest,
    OutboxMessage,
    PendingInput,
    Setting,
    User,
    UserRole,
)
from bot.texts import language_from_telegram

WORKGROUP_SETTING = "workgroup_chat_id"


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


async def seed_from_config(ctx: AppContext) -> None:
    """Departments, heads, members and admins from config.toml.

    The file is authoritative for whom it lists; people approved in chat are kept.
    """
    settings = ctx.settings
    now = to_db(ctx.now())
    async with ctx.transaction() as session:
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
            user = await _get_or_add(session, member.id, now)
            user.name = member.name
            if member.language:
                user.language = member.language
            if member.id in department_of:
                user.department_key = department_of[member.id]
        for admin_id in settings.admins:
            user = await _get_or_add(session, admin_id, now)
            user.is_admin = True
        # Roles of rules 一.4 and 三 come from the file alone: it is their only source.
        await session.execute(delete(UserRole))
        for _setting, role, uid in settings.roles.holders():
            session.add(UserRole(user_id=uid, role=role))


async def _get_or_add(session: AsyncSession, user_id: int, now: object) -> User:
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
    language = user.language or language_from_telegram(
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


async def language_of(session: AsyncSession, ctx: AppContext, chat_id: int) -> str:
    """The language to write to this chat in: the person's, else the default (a group)."""
    found = await person(session, ctx, chat_id)
    return found.language if found else ctx.settings.general.default_language


async def touch(ctx: AppContext, tg: TelegramUser, *, private: bool) -> Person:
    """Record who wrote to the bot. A private message means the bot may now write to them,
    so messages held for them are released."""
    async with ctx.joined() as session:
        # The user and their department in one statement; `person` below finds both in the
        # session (one statement fewer on every update).
        row = (await session.execute(
            select(User, Department)
            .outerjoin(Department, Department.key == User.department_key)
            .where(User.id == tg.id))).first()
        user = row[0] if row is not None else await _get_or_add(session, tg.id, to_db(ctx.now()))
        user.telegram_name = tg.full_name[:200]
        user.telegram_language = tg.language_code
        if private and (not user.reachable or user.blocked_at is not None):
            user.reachable, user.blocked_at = True, None
            await session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.chat_id == tg.id, OutboxMessage.status == "held")
                .values(status="pending", last_error=None)
            )
        found = await person(session, ctx, tg.id)
    assert found is not None
    return found


async def admin_names(session: AsyncSession) -> list[str]:
    rows = await session.scalars(select(User).where(User.is_admin.is_(True)).order_by(User.id))
    return [u.name or u.telegram_name or str(u.id) for u in rows]


async def require_member(session: AsyncSession, ctx: AppContext, user_id: int) -> Person:
    found = await person(session, ctx, user_id)
    if found is None or not found.is_member:
        raise Refused("errors.not_member", admins=await admin_names(session))
    return found


async def departments(ctx: AppContext) -> list[Department]:
    async with ctx.sessions() as session:
        return list(await session.scalars(select(Department).order_by(Department.key)))


async def hr_chat(session: AsyncSession, ctx: AppContext) -> int | None:
    """Where HR's notices go: the configured chat, else the HR department's head."""
    if ctx.settings.fines.hr_chat_id is not None:
        return ctx.settings.fines.hr_chat_id
    dept = await session.get(Department, ctx.settings.routing.service_intake)
    return dept.head_user_id if dept else None


# --- the workgroup -----------------------------------------------------------------


async def workgroup_chat_id(session: AsyncSession, ctx: AppContext) -> int | None:
    bound = await session.get(Setting, WORKGROUP_SETTING)
    if bound is not None:
        return int(bound.value)
    return ctx.settings.workgroup.chat_id


async def is_workgroup(ctx: AppContext, chat_id: int) -> bool:
    async with ctx.sessions() as session:
        return await workgroup_chat_id(session, ctx) == chat_id


async def bind_workgroup(ctx: AppContext, actor_id: int, chat_id: int) -> None:
    """An admin makes this group the workgroup; complaints waiting for a group are posted."""
    async with ctx.transaction() as session:
        actor = await person(session, ctx, actor_id)
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
        record(session, ctx.now(), None, actor_id, "workgroup_bound", chat_id=chat_id)


# --- joining a department -----------------------------------------------------------


async def ask_join_name(ctx: AppContext, user_id: int, department_key: str) -> Department:
    async with ctx.transaction() as session:
        dept = await session.get(Department, department_key)
        if dept is None:
            raise Refused("errors.stale_button")
        await set_pending(session, ctx, user_id, "join_name", data={"department": department_key})
        return dept


async def submit_join(ctx: AppContext, tg_user_id: int, department_key: str, name: str) -> None:
    """Ask the department's head (or the admins, if it has none) to let the user in."""
    name = clean_text(name)
    if not name or len(name) > 50:
        raise Refused("errors.bad_name")
    async with ctx.transaction() as session:
        now = ctx.now()
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
        requester = await person(session, ctx, tg_user_id)
        assert requester is not None
        for decider_id in deciders:
            decider = await person(session, ctx, decider_id)
            lang = decider.language if decider else ctx.settings.general.default_language
            text = ctx.texts.html(lang, "membership.join_request", name=name, department=dept.name,
                                  user_id=tg_user_id, telegram_name=requester.display_name)
            keyboard = [[Button(ctx.texts.plain(lang, "buttons.join_approve"),
                                JOIN_DECISION.data(request.id, "y")),
                         Button(ctx.texts.plain(lang, "buttons.join_refuse"),
                                JOIN_DECISION.data(request.id, "n"))]]
            queue_message(session, now, text, chat_id=decider_id, keyboard=keyboard,
                          subject=f"join:{request.id}")
        record(session, now, None, tg_user_id, "join_requested", department=department_key,
               name=name)


@dataclass(frozen=True)
class JoinDecision:
    approved: bool
    name: str
    department_name: str


async def decide_join(ctx: AppContext, actor_id: int, request_id: int,
                      approve: bool) -> JoinDecision:
    async with ctx.transaction() as session:
        now = ctx.now()
        request = await session.get(JoinRequest, request_id)
        if request is None:
            raise Refused("errors.stale_button")
        dept = await session.get(Department, request.department_key)
        assert dept is not None
        actor = await person(session, ctx, actor_id)
        if actor is None or not (actor.is_admin or dept.head_user_id == actor_id):
            raise Refused("errors.only_head_or_admin", department=dept.name)
        if request.status != "pending":
            raise Refused("errors.already_decided")
        request.status = "approved" if approve else "refused"
        await retire_buttons(session, now, f"join:{request.id}")  # the other deciders' copies
        request.decided_by = actor_id
        request.decided_at = to_db(now)
        if approve:
            user = await _get_or_add(session, request.user_id, to_db(now))
            user.department_key = request.department_key
            user.name = request.name
        requester = await person(session, ctx, request.user_id)
        assert requester is not None
        template = "membership.join_approved" if approve else "membership.join_refused"
        queue_message(session, now, ctx.texts.html(requester.language, template,
                                                   department=dept.name, name=request.name),
                      chat_id=request.user_id)
        record(session, now, None, actor_id, "join_approved" if approve else "join_refused",
               user_id=request.user_id, department=dept.key)
        return JoinDecision(approve, request.name, dept.name)


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


async def note_split_text(ctx: AppContext, user_id: int, chat_id: int, sent_at: datetime) -> None:
    """A message so long that it is the first part of a split text was refused."""
    async with ctx.joined() as session:
        user = await session.get(User, user_id)
        if user is not None:
            user.split_text_at, user.split_text_chat = to_db(sent_at), chat_id


async def is_split_tail(ctx: AppContext, user_id: int, chat_id: int, sent_at: datetime) -> bool:
    """Whether this message is the rest of a split text whose first part was refused."""
    async with ctx.joined() as session:  # usually no SQL at all: the user is loaded already
        user = await session.get(User, user_id)
        if user is None or user.split_text_at is None or user.split_text_chat != chat_id:
            return False
        tail = timedelta(0) <= to_db(sent_at) - user.split_text_at <= SPLIT_TAIL
        if not tail:
            user.split_text_at = user.split_text_chat = None
        return tail


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


async def get_pending(ctx: AppContext, user_id: int,
                      thread: int = PRIVATE_CHAT) -> PendingInput | None:
    """The question the user is answering now in the private chat (or in a complaint's
    thread), if any; the service that takes the answer deletes it, and a refused answer
    leaves the question open."""
    async with ctx.sessions() as session:
        return await session.get(PendingInput, (user_id, thread))


async def pending_row(session: AsyncSession, pending: PendingInput) -> PendingInput | None:
    """The question as it is now in the database (a handler read it earlier)."""
    return await session.get(PendingInput, (pending.user_id, pending.complaint_thread))


async def drop_pending(session: AsyncSession, user_id: int, purpose: str,
                       thread: int = PRIVATE_CHAT) -> None:
    pending = await session.get(PendingInput, (user_id, thread))
    if pending is not None and pending.purpose == purpose:
        await session.delete(pending)


async def clear_pending(ctx: AppContext, user_id: int) -> bool:
    """/cancel: the question waiting in the private chat goes."""
    async with ctx.transaction() as session:
        pending = await session.get(PendingInput, (user_id, PRIVATE_CHAT))
        if pending is None:
            return False
        await session.delete(pending)
        return True
