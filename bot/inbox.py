"""Updates in: every action a user takes is carried out once and answered once.

- **One transaction per update.** The handlers run inside one unit of work
  (bot.services.context): what the update changes, its record as handled and every
  message it queues (replies included: handlers answer through the outbox) commit
  together. A redelivered update whose transaction committed is skipped; one whose
  transaction never committed runs again.
- **Confirmed only once handled.** PTB's Updater confirms a batch of updates to Telegram
  (the next getUpdates' offset) as soon as it has queued them, so a crash loses whatever
  was queued but not yet handled. `Poller` asks for the next batch only once the last one
  has been handled and committed; after a crash Telegram sends the unconfirmed ones again.
- **Button presses** are answered (the client's spinner, or an alert with a refusal)
  right after the commit, outside the transaction: Telegram forgets a query after a few
  seconds, so there is nothing to queue for later.
- **A handler that fails** is rolled back as a whole; the update is then recorded with a
  short apology to the user, so it neither vanishes nor fails again after every restart.
  A failure of the database itself is not the update's fault: the batch is tried again,
  unconfirmed, after a pause.
- **Two ways in.** `Poller` (getUpdates) or, in webhook mode, `Webhook`: Telegram posts each
  update to the bot's web server and sends it again until it is answered 200, which the
  bot does only once the update's transaction has committed. Several processes may serve
  one webhook: an update delivered twice, to two of them, acts once (its record as handled
  is the first thing its transaction writes, and writers take turns: bot.store.db).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import html
import logging
import re
import time
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from sqlalchemy.exc import IntegrityError
from telegram import Update
from telegram.constants import ChatType
from telegram.error import BadRequest, TelegramError
from telegram.ext import Application

from bot.logs import current_update
from bot.outbox import queue_message
from bot.services.context import AppContext
from bot.services.error_reports import ErrorReports
from bot.services.updates import handled_before, record_handled
from bot.texts import language_from_telegram

if TYPE_CHECKING:
    from aiohttp import web

    from bot.config import Settings

log = logging.getLogger(__name__)

ALERT_MAX = 200  # answerCallbackQuery's text
MAX_BACKOFF_SECONDS = 10.0


@dataclass
class Edge:
    """What the handlers of one update leave for after its commit."""

    update: Update
    alert: str | None = None  # the pressed button's answer: a refusal, shown as an alert
    failed: BaseException | None = None  # a handler raised: the unit is rolled back
    language: str | None = None  # the sender's, once known (for a refusal's text)

    def reset(self) -> None:
        self.alert, self.failed = None, None


_edge: ContextVar[Edge | None] = ContextVar("complaint_bot_edge", default=None)


def current_edge() -> Edge | None:
    return _edge.get()


def handled(exc: IntegrityError) -> bool:
    """Whether the refused insert was the update's record (it was handled before)."""
    return "processed_updates" in str(exc.orig)


class HandlerFailed(Exception):
    """Raised inside the unit so that it rolls back."""


NUMBER = re.compile(r"\b[PSF]-\d{4}-\d{4,6}\b")


def where_it_failed(update: Update) -> tuple[str, str, str | None]:
    """For the admins' report (bot.services.error_reports.PLACES): where — a command, a
    button (its kind's prefix), a message in private or in the workgroup — the command or
    prefix, and the complaint number the user typed, if any."""
    if update.callback_query is not None:
        return "button", (update.callback_query.data or "").split(":", 1)[0], None
    message = update.effective_message
    text = (message.text or message.caption or "") if message is not None else ""
    found = NUMBER.search(text)
    number = found.group(0) if found else None
    if text.startswith("/"):
        return "command", text.split(maxsplit=1)[0].split("@", 1)[0], number
    chat = update.effective_chat
    return ("private" if chat is not None and chat.type == ChatType.PRIVATE else "group"), "", \
        number


class Inbox:
    def __init__(self, ctx: AppContext,
                 app: Application[Any, Any, Any, Any, Any, Any]) -> None:
        self.ctx = ctx
        self.app = app
        self.handled = 0  # for the benchmark and logs

    async def handle(self, update: Update) -> None:
        """Carry out one update once (see the module's docstring). Raises only when the
        database fails, and then nothing of the update was committed."""
        edge = Edge(update)
        token = _edge.set(edge)
        started, outcome = time.perf_counter(), "handled"
        logged = current_update.set(update.update_id)  # every log line meanwhile says which
        try:
            try:
                async with self.ctx.unit() as unit:
                    # Recorded first: a redelivery of an update whose transaction committed
                    # (before a restart) breaks the primary key here and does nothing.
                    record_handled(unit.session, self.ctx, update.update_id)
                    await unit.session.flush()
                    await self.app.process_update(update)
                    if edge.failed is not None:
                        raise HandlerFailed
            except HandlerFailed:
                outcome = "failed"
                await self._apologise(edge)
            except IntegrityError as exc:
                if not handled(exc):
                    raise
                log.info("update %s was handled before", update.update_id)
                outcome = "again"
                return
            self.handled += 1
            await self._answer_query(edge)
        finally:
            _edge.reset(token)
            current_update.reset(logged)
            self.ctx.metrics.updates.labels(outcome).inc()
            self.ctx.metrics.update_seconds.observe(time.perf_counter() - started)

    async def _apologise(self, edge: Edge) -> None:
        """Record the failed update with a short apology, in a transaction of its own; the
        admins hear what failed (bot.services.error_reports)."""
        update = edge.update
        log.error("update %s failed; it is recorded as handled with an apology",
                  update.update_id, exc_info=edge.failed)
        if edge.failed is not None:
            place, detail, number = where_it_failed(update)
            await ErrorReports(self.ctx).report(edge.failed, place, detail, number)
        user, chat, message = update.effective_user, update.effective_chat, update.effective_message
        lang = language_from_telegram(user.language_code if user else None,
                                      self.ctx.settings.general.default_language)
        text = self.ctx.texts.plain(lang, "errors.internal")
        edge.alert = text if update.callback_query is not None else None
        async with self.ctx.unit() as unit:
            if await handled_before(unit.session, update.update_id):
                return
            record_handled(unit.session, self.ctx, update.update_id)
            said = message.text or "" if message is not None else ""
            if chat is not None and update.callback_query is None and (
                    chat.type == ChatType.PRIVATE or said.startswith("/")):
                queue_message(unit.session, self.ctx.now(), html.escape(text, quote=False),
                              chat_id=chat.id, thread_id=message.message_thread_id
                              if message is not None and message.is_topic_message else None,
                              reply_to=message.message_id if message is not None
                              and chat.type != ChatType.PRIVATE else None)

    async def _answer_query(self, edge: Edge) -> None:
        query = edge.update.callback_query
        if query is None:
            return
        text = (edge.alert or "")[:ALERT_MAX] or None
        try:
            await self.app.bot.answer_callback_query(query.id, text=text,
                                                     show_alert=bool(text))
        except BadRequest as exc:  # too old (e.g. pressed while the bot was down)
            log.info("could not answer button press %s: %s", query.id, exc)
        except TelegramError as exc:
            log.warning("could not answer button press %s: %s", query.id, exc)


class Poller:
    """getUpdates in a loop, confirming a batch only once every update in it is handled."""

    def __init__(self, inbox: Inbox, *, timeout: int) -> None:
        self.inbox = inbox
        self.bot = inbox.app.bot
        self.timeout = timeout
        self._stopped = asyncio.Event()
        self._polling: asyncio.Task[tuple[Update, ...]] | None = None
        self.polls = 0

    def stop(self) -> None:
        """Stop after the batch being handled; a long poll in progress is dropped (its
        updates are unconfirmed, so Telegram sends them again)."""
        self._stopped.set()
        if self._polling is not None:
            self._polling.cancel()

    async def run(self) -> None:
        offset: int | None = None
        backoff = 0.0
        while not self._stopped.is_set():
            self._polling = asyncio.create_task(self.bot.get_updates(
                offset=offset, timeout=self.timeout, allowed_updates=Update.ALL_TYPES))
            try:
                updates = await self._polling
            except asyncio.CancelledError:
                if self._stopped.is_set():
                    return
                raise
            except TelegramError as exc:  # network trouble, a 5xx, a conflict (409)
                backoff = min(max(backoff * 2, 0.5), MAX_BACKOFF_SECONDS)
                log.warning("getUpdates failed (%s); again in %.1fs", exc, backoff)
                await self._pause(backoff)
                continue
            finally:
                self._polling = None
            self.polls += 1
            self.inbox.ctx.bot_api_ok_at = self.inbox.ctx.now()
            try:
                for update in updates:
                    await self.inbox.handle(update)
            except Exception:  # the database: nothing of the failed update was committed
                backoff = min(max(backoff * 2, 0.5), MAX_BACKOFF_SECONDS)
                log.exception("handling updates failed; the batch is tried again in %.1fs",
                              backoff)
                await self._pause(backoff)
                continue
            backoff = 0.0
            if updates:
                offset = updates[-1].update_id + 1

    async def _pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopped.wait(), seconds)


SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def webhook_secret(settings: Settings) -> str:
    """`[telegram] webhook_secret`, else one derived from the token: the same in every
    process of one bot, unknown to anyone without the token."""
    if settings.telegram.webhook_secret:
        return settings.telegram.webhook_secret
    return hmac.new(settings.token.encode(), b"complaint-bot webhook", hashlib.sha256).hexdigest()


class Webhook:
    """Updates posted by Telegram (webhook mode), at the path of `[telegram] webhook_url`.

    Answered 200 only once the update's transaction has committed; 500 when the database
    failed (Telegram sends it again); 401 without the secret token, 400 for what is not an
    update (neither is handled)."""

    def __init__(self, inbox: Inbox, settings: Settings) -> None:
        self.inbox = inbox
        self.url = settings.telegram.webhook_url
        self.path = urlsplit(self.url).path or "/"
        self.secret = webhook_secret(settings)
        self.connections = settings.telegram.webhook_connections
        self.received = 0

    async def register(self) -> None:
        """Tell Telegram where to post (every process does; the same call is harmless)."""
        await self.inbox.app.bot.set_webhook(
            self.url, secret_token=self.secret, max_connections=self.connections,
            allowed_updates=Update.ALL_TYPES)

    async def receive(self, request: web.Request) -> web.Response:
        from aiohttp import web

        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), self.secret.encode()):
            log.warning("webhook: a request without the secret token from %s was refused",
                        request.remote)
            return web.Response(status=401, text="unauthorized")
        try:
            update = Update.de_json(await request.json(), self.inbox.app.bot)
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            log.warning("webhook: not an update (%s)", exc)
            return web.Response(status=400, text="not an update")
        try:
            await self.inbox.handle(update)
        except Exception:  # the database: nothing of the update was committed
            log.exception("webhook: update %s could not be handled; Telegram sends it again",
                          update.update_id)
            return web.Response(status=500, text="try again")
        self.received += 1
        return web.Response(text="ok")
