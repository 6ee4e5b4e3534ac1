"""Wiring: the PTB Application, the database, the outbox sender — started and stopped together."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

from sqlalchemy.ext.asyncio import AsyncEngine
from telegram import (
    BotCommandScopeAllChatAdministrators,
    BotCommandScopeAllGroupChats,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
    MenuButtonWebApp,
    WebAppInfo,
)
from telegram.constants import ChatMemberStatus
from telegram.error import TelegramError
from telegram.ext import AIORateLimiter, ApplicationBuilder

import handlers
from bot.clock import Clock, SystemClock
from bot.commands import (
    GROUP_ADMIN,
    GROUP_MEMBER,
    PRIVATE_MEMBER,
    menu,
    menu_languages,
    personal_menus,
)
from bot.config import Settings
from bot.domain.calendar import CalendarMode, WorkingCalendar
from bot.domain.sla import SlaPolicy
from bot.inbox import Inbox, Poller, Webhook
from bot.scheduler import DeadlineScheduler
from bot.sender import Sender
from bot.services.context import AppContext
from bot.services.people import People, keeps_hr_books
from bot.services.updates import Updates
from bot.services.workgroup import workgroup_chat_id
from bot.store.db import create_engine, migrate, session_factory, writer
from bot.texts import Texts
from bot.web import WebServer
from handlers.common import CONTEXT_TYPES, BotApplication

log = logging.getLogger(__name__)


def build_policy(settings: Settings) -> SlaPolicy:
    """The rule book's deadlines on the configured working calendar, with overrides."""
    cal = settings.calendar
    calendar = WorkingCalendar(
        zone=settings.zone, mode=CalendarMode(cal.mode), day_start=cal.day_start,
        day_end=cal.day_end, lunch=cal.lunch, weekdays=frozenset(d - 1 for d in cal.weekdays),
        official_holidays=cal.official_holidays)
    overrides = {kind: {step: rule.model_dump() for step, rule in steps.items()}
                 for kind, steps in settings.deadlines.items()}
    return SlaPolicy.build(calendar, overrides)


def build_context(settings: Settings,
                  clock: Clock | None = None) -> tuple[AppContext, AsyncEngine, AsyncEngine]:
    """The application's services over the database (no Telegram): the context, and its read
    and write engines (the caller disposes of them)."""
    engine = create_engine(settings.database.url)
    write_engine = writer(engine)
    ctx = AppContext(settings=settings, read_sessions=session_factory(engine),
                     write_sessions=session_factory(write_engine),
                     clock=clock or SystemClock(),
                     texts=Texts(settings.general.default_language), sla=build_policy(settings))
    return ctx, engine, write_engine


def build_application(settings: Settings) -> BotApplication:
    # No Defaults: PTB would add parse_mode to methods that do not take it (e.g.
    # editMessageReplyMarkup); the sender passes it where it belongs. No Updater: it
    # confirms updates before they are handled (bot.inbox.Poller polls instead).
    return (
        ApplicationBuilder()
        .token(settings.token)
        .base_url(settings.telegram.base_url)
        .base_file_url(settings.telegram.base_file_url)
        .updater(None)
        .context_types(CONTEXT_TYPES)  # bot_data is handlers.common.BotData
        # Telegram's flood limits; without max_retries nothing would be retried. A group gets
        # one message per 60/N seconds rather than N at once then one per 60/N seconds: the
        # latter lets ~2N through in some minute, over Telegram's per-group limit.
        .rate_limiter(AIORateLimiter(
            overall_max_rate=settings.telegram.messages_per_second, overall_time_period=1,
            group_max_rate=1, group_time_period=60 / settings.telegram.group_messages_per_minute,
            max_retries=3))
        .build()
    )


class Runtime:
    """One running bot: `await start()`, `await stop()`, or `await serve_forever()`."""

    def __init__(self, settings: Settings, clock: Clock | None = None) -> None:
        self.settings = settings
        self.ctx, self.engine, self.write_engine = build_context(settings, clock)
        self.app = build_application(settings)
        self.app.bot_data.ctx = self.ctx
        handlers.register(self.app)
        self.inbox = Inbox(self.ctx, self.app)
        self.poller = Poller(self.inbox, timeout=int(settings.telegram.poll_timeout))
        self.sender = Sender(self.ctx, self.app.bot)
        self.ctx.wake_sender = self.sender.wake
        self.ctx.claim_at_commit = self.sender.claim_at_commit
        assert self.app.job_queue is not None
        self.scheduler = DeadlineScheduler(self.ctx, self.app.job_queue)
        self.ctx.wake_scheduler = self.scheduler.wake
        self._sender_task: asyncio.Task[None] | None = None
        self._poll_task: asyncio.Task[None] | None = None
        self._check_task: asyncio.Task[None] | None = None
        self.webhook = Webhook(self.inbox, settings) if settings.telegram.mode == "webhook" else None
        self.web = WebServer(self.ctx, self.webhook)

    async def start(self) -> None:
        for gap in self.settings.chain_gaps():
            log.warning("%s", gap)
        await migrate(self.settings.database.url)
        await People(self.ctx).seed_from_config()
        await Updates(self.ctx).forget_old()
        await self.app.initialize()
        await self.set_commands()
        await self.app.start()
        self._sender_task = asyncio.create_task(self.sender.run(), name="outbox-sender")
        await self.scheduler.start()
        listen = self.settings.web.listen
        if listen:
            await self.web.start(listen)
            log.info("listening on http://%s (/healthz, /metrics%s)", listen,
                     f", {self.webhook.path}" if self.webhook else "")
        if self.webhook is not None:
            await self.webhook.register()  # Telegram posts from now on
        else:
            await self.app.bot.delete_webhook()  # getUpdates is refused while a webhook is set
            self._poll_task = asyncio.create_task(self.poller.run(), name="inbox-poller")
        # Queued behind the group's rate limit like any group request: off the start-up path.
        self._check_task = asyncio.create_task(self.check_workgroup(), name="workgroup-check")
        log.info("bot @%s is running", self.app.bot.username)

    async def stop(self) -> None:
        if self._check_task is not None and not self._check_task.done():
            self._check_task.cancel()
        self.poller.stop()  # the batch being handled is finished first
        if self._poll_task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._poll_task
        # No new updates; those being handled finish (the webhook stays set: other
        # processes may serve it, and Telegram keeps the rest until one answers).
        await self.web.stop()
        self.scheduler.stop()
        self.sender.stop()
        if self._sender_task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._sender_task
        if self.app.running:
            await self.app.stop()
        await self.app.shutdown()
        await self.dispose_engines()

    async def dispose_engines(self) -> None:
        await self.engine.dispose()
        if self.write_engine is not self.engine:
            await self.write_engine.dispose()

    async def serve_forever(self) -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await self.start()
        try:
            await stop.wait()
        finally:
            await self.stop()

    async def set_commands(self) -> None:
        """Command menus per scope and language (the same lists /help uses)."""
        scopes = [(BotCommandScopeAllPrivateChats(), PRIVATE_MEMBER),
                  (BotCommandScopeAllGroupChats(), GROUP_MEMBER),
                  (BotCommandScopeAllChatAdministrators(), GROUP_ADMIN)]
        for scope, names in scopes:
            for lang, code in menu_languages(self.settings.general.default_language):
                await self.app.bot.set_my_commands(menu(self.ctx.texts, lang, names), scope=scope,
                                                   language_code=code)
        board = self.settings.board.url
        for someone, names in await personal_menus(self.ctx):
            await self.app.bot.set_my_commands(menu(self.ctx.texts, someone.language, names),
                                               scope=BotCommandScopeChat(someone.id))
            if board and (someone.is_head or keeps_hr_books(self.ctx, someone)):
                # HR's board opens from the menu button of their chat with the bot.
                await self.app.bot.set_chat_menu_button(someone.id, MenuButtonWebApp(
                    self.ctx.texts.plain(someone.language, "board.menu_button"), WebAppInfo(board)))

    async def check_workgroup(self) -> None:
        """Say plainly, at start-up, what the bot may lack in the workgroup."""
        async with self.ctx.sessions() as session:
            chat_id = await workgroup_chat_id(session, self.ctx)
        if chat_id is None:
            log.warning("no workgroup yet: add the bot to the group, make it an admin, "
                        "and send /bind there as an admin listed in config")
            return
        try:
            chat = await self.app.bot.get_chat(chat_id)
            member = await self.app.bot.get_chat_member(chat_id, self.app.bot.id)
        except TelegramError as exc:
            log.warning("cannot reach the workgroup %s: %s (is the bot a member?)", chat_id, exc)
            return
        is_admin = member.status == ChatMemberStatus.ADMINISTRATOR
        if not is_admin and not self.app.bot.bot.can_read_all_group_messages:
            log.warning("the bot is not an admin of the workgroup and privacy mode is on: it "
                        "cannot see the answers typed in complaint threads. Make it an admin, or "
                        "turn privacy mode off with @BotFather /setprivacy")
        if chat.is_forum and not (is_admin and getattr(member, "can_manage_topics", False)):
            log.warning("the workgroup has topics but the bot may not manage them: "
                        "give it the 'Manage topics' right")
