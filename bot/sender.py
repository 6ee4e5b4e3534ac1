"""The outbox sender: the one place that delivers queued rows to Telegram.

Rows go out in id order. Rate limits are PTB's AIORateLimiter's (set on the bot);
here: a network error or 5xx leaves the row pending and retries with backoff, a
recipient who never opened a chat with the bot is *held* until they do, and a
request Telegram refuses outright is marked failed and logged, never retried forever.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from typing import Any

from sqlalchemy import select
from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaPhoto,
    ReplyParameters,
)
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError

from bot import views
from bot.clock import to_db
from bot.domain.workflow import Status
from bot.outbox import Keyboard, keyboard_payload, queue_message
from bot.services.complaints import Complaints
from bot.services.context import AppContext
from bot.services.people import workgroup_chat_id
from bot.services.threads import remember, remember_message
from bot.store.models import Complaint, OutboxMessage, User

log = logging.getLogger(__name__)

IDLE_POLL_SECONDS = 1.0  # a safety net: a commit normally wakes the sender at once
MAX_BACKOFF_SECONDS = 30.0


class Held(Exception):
    """The row cannot go out until something changes (e.g. no workgroup is bound yet)."""


def markup(rows: list[list[dict[str, Any]]] | None) -> InlineKeyboardMarkup | None:
    if not rows:
        return None
    return InlineKeyboardMarkup([[InlineKeyboardButton(b["text"], callback_data=b.get("data"),
                                                       url=b.get("url")) for b in row]
                                 for row in rows])


def to_markup(keyboard: Keyboard | None) -> InlineKeyboardMarkup | None:
    return markup(keyboard_payload(keyboard))


class Sender:
    def __init__(self, ctx: AppContext, bot: Bot) -> None:
        self.ctx = ctx
        self.bot = bot
        self.complaints = Complaints(ctx)
        self._wake = asyncio.Event()
        self._stopping = False
        self._forum: dict[int, bool] = {}
        self._backoff = 0.0

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()

    async def run(self) -> None:
        while not self._stopping:
            self._wake.clear()
            try:
                await self.drain()
            except Exception:  # never let the sender die; the rows stay pending
                log.exception("outbox sender failed; retrying")
                await asyncio.sleep(1)
            if self._stopping:
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), IDLE_POLL_SECONDS)

    async def drain(self) -> None:
        while not self._stopping:
            async with self.ctx.sessions() as session:
                row = await session.scalar(select(OutboxMessage).where(
                    OutboxMessage.status == "pending").order_by(OutboxMessage.id).limit(1))
            if row is None:
                return
            if not await self._attempt(row):
                return  # a transient failure: back off, keep the order

    async def _attempt(self, row: OutboxMessage) -> bool:
        try:
            await self._deliver(row)
        except RetryAfter as exc:
            delay = exc.retry_after if isinstance(exc.retry_after, int | float) \
                else exc.retry_after.total_seconds()
            await self._note(row, "pending", f"retry after {delay}s")
            await asyncio.sleep(float(delay))
            return True
        except Forbidden as exc:
            await self._hold_for_recipient(row, str(exc))
            return True
        except Held as exc:
            await self._note(row, "held", str(exc))
            return True
        except BadRequest as exc:
            if "message is not modified" in str(exc):
                await self._note(row, "sent", None)
                return True
            log.error("Telegram refused outbox row %s (%s): %s", row.id, row.kind, exc)
            await self._note(row, "failed", str(exc))
            return True
        except (NetworkError, TelegramError) as exc:
            # Network trouble or a 5xx: keep the row, wait, try again.
            self._backoff = min(max(self._backoff * 2, 0.5), MAX_BACKOFF_SECONDS)
            await self._note(row, "pending", str(exc))
            log.warning("outbox row %s: %s; retrying in %.1fs", row.id, exc, self._backoff)
            await asyncio.sleep(self._backoff)
            return False
        self._backoff = 0.0
        return True

    async def _note(self, row: OutboxMessage, status: str, error: str | None) -> None:
        async with self.ctx.transaction() as session:
            fresh = await session.get(OutboxMessage, row.id)
            assert fresh is not None
            fresh.status = status
            fresh.attempts += 1
            fresh.last_error = error
            if status == "sent":
                fresh.sent_at = to_db(self.ctx.now())

    async def _hold_for_recipient(self, row: OutboxMessage, error: str) -> None:
        """Telegram won't let us write to them yet: keep the message for when they /start,
        and tell whoever is waiting on them."""
        async with self.ctx.transaction() as session:
            fresh = await session.get(OutboxMessage, row.id)
            assert fresh is not None
            fresh.status, fresh.last_error = "held", error
            fresh.attempts += 1
            user = await session.get(User, fresh.chat_id) if fresh.chat_id else None
            if user is not None:
                user.reachable = False
            on_held = fresh.payload.get("on_held")
            if on_held and not fresh.payload.get("on_held_sent"):
                fresh.payload = {**fresh.payload, "on_held_sent": True}
                queue_message(session, self.ctx.now(), on_held["text"], chat_id=on_held["chat_id"])

    # --- what each kind of row does ---------------------------------------------------

    async def _deliver(self, row: OutboxMessage) -> None:
        if row.kind == "message":
            await self._send_message(row)
        elif row.kind == "post_card":
            await self._post_card(row)
            return  # marked sent inside, with the complaint
        elif row.kind == "refresh_card":
            await self._refresh_card(row)
        elif row.kind == "post_photos":
            await self._post_photos(row)
        elif row.kind == "refresh_topic":
            await self._refresh_topic(row)
        else:
            raise BadRequest(f"unknown outbox kind {row.kind}")
        await self._note(row, "sent", None)

    async def _thread_target(self, complaint_id: int) -> tuple[int, int | None, int | None]:
        """(chat, topic, message to reply to) for a complaint's thread."""
        async with self.ctx.sessions() as session:
            complaint = await session.get(Complaint, complaint_id)
        if complaint is None or complaint.chat_id is None or complaint.card_message_id is None:
            raise Held("complaint not posted yet")
        if complaint.thread_id is not None:
            return complaint.chat_id, complaint.thread_id, None
        return complaint.chat_id, None, complaint.card_message_id

    async def _send_message(self, row: OutboxMessage) -> None:
        payload = row.payload
        chat_id, thread_id, reply_to = row.chat_id, None, None
        if payload.get("to_thread"):
            assert row.complaint_id is not None
            chat_id, thread_id, reply_to = await self._thread_target(row.complaint_id)
        assert chat_id is not None
        sent = await self.bot.send_message(
            chat_id, payload["text"], message_thread_id=thread_id,
            reply_parameters=ReplyParameters(reply_to, allow_sending_without_reply=True)
            if reply_to else None,
            reply_markup=markup(payload.get("keyboard")))
        if payload.get("to_thread") and row.complaint_id is not None:
            await remember_message(self.ctx, chat_id, sent.message_id, row.complaint_id)

    async def is_forum(self, chat_id: int) -> bool:
        if chat_id not in self._forum:
            chat = await self.bot.get_chat(chat_id)
            self._forum[chat_id] = bool(chat.is_forum)
        return self._forum[chat_id]

    async def _post_card(self, row: OutboxMessage) -> None:
        assert row.complaint_id is not None
        lang = self.ctx.settings.general.default_language
        async with self.ctx.sessions() as session:
            complaint = await session.get(Complaint, row.complaint_id)
            assert complaint is not None
            group = await workgroup_chat_id(session, self.ctx)
            view = await self.complaints.card(session, complaint)
        if group is None:
            raise Held("no workgroup bound: an admin sends /bind in the group")
        chat_id, thread_id = complaint.chat_id, complaint.thread_id
        if chat_id is None:
            chat_id = group
            if await self.is_forum(group):
                topic = await self.bot.create_forum_topic(group, views.topic_name(
                    self.ctx.texts, lang, view))
                thread_id = topic.message_thread_id
            # Remember the topic at once, so a retry posts into it instead of making another.
            async with self.ctx.transaction() as session:
                fresh = await session.get(Complaint, row.complaint_id)
                assert fresh is not None
                fresh.chat_id, fresh.thread_id = chat_id, thread_id
        # The card is rendered as it will look once posted.
        view = dataclasses.replace(view, status=Status.OPEN)
        message = await self.bot.send_message(
            chat_id, views.card(self.ctx.texts, lang, view), message_thread_id=thread_id,
            reply_markup=to_markup(views.card_keyboard(self.ctx.texts, lang, view,
                                                       row.complaint_id)))
        async with self.ctx.transaction() as session:
            fresh = await session.get(Complaint, row.complaint_id)
            assert fresh is not None
            await self.complaints.mark_posted(session, fresh, chat_id, thread_id,
                                              message.message_id)
            await remember(session, chat_id, message.message_id, fresh.id)
            out = await session.get(OutboxMessage, row.id)
            assert out is not None
            out.status, out.sent_at = "sent", to_db(self.ctx.now())
            out.attempts += 1

    async def _refresh_card(self, row: OutboxMessage) -> None:
        assert row.complaint_id is not None
        lang = self.ctx.settings.general.default_language
        async with self.ctx.sessions() as session:
            complaint = await session.get(Complaint, row.complaint_id)
            assert complaint is not None
            view = await self.complaints.card(session, complaint)
        if complaint.chat_id is None or complaint.card_message_id is None:
            raise Held("complaint not posted yet")
        await self.bot.edit_message_text(
            views.card(self.ctx.texts, lang, view), chat_id=complaint.chat_id,
            message_id=complaint.card_message_id,
            reply_markup=to_markup(views.card_keyboard(self.ctx.texts, lang, view,
                                                       row.complaint_id)))

    async def _refresh_topic(self, row: OutboxMessage) -> None:
        """The topic's title carries the status; a closed complaint's topic is closed."""
        assert row.complaint_id is not None
        lang = self.ctx.settings.general.default_language
        async with self.ctx.sessions() as session:
            complaint = await session.get(Complaint, row.complaint_id)
            assert complaint is not None
            view = await self.complaints.card(session, complaint)
        if complaint.chat_id is None or complaint.thread_id is None:
            return  # a plain group has no topic
        await self.bot.edit_forum_topic(complaint.chat_id, complaint.thread_id,
                                        name=views.topic_name(self.ctx.texts, lang, view))
        if view.status is Status.CLOSED:
            await self.bot.close_forum_topic(complaint.chat_id, complaint.thread_id)

    async def _post_photos(self, row: OutboxMessage) -> None:
        assert row.complaint_id is not None
        async with self.ctx.sessions() as session:
            complaint = await session.get(Complaint, row.complaint_id)
            assert complaint is not None
        chat_id, thread_id, reply_to = await self._thread_target(row.complaint_id)
        reply = ReplyParameters(reply_to, allow_sending_without_reply=True) if reply_to else None
        photos = list(complaint.photos)[:10]
        if len(photos) == 1:
            sent = [await self.bot.send_photo(chat_id, photos[0], message_thread_id=thread_id,
                                              reply_parameters=reply)]
        else:
            sent = list(await self.bot.send_media_group(
                chat_id, [InputMediaPhoto(p) for p in photos], message_thread_id=thread_id,
                reply_parameters=reply))
        for message in sent:
            await remember_message(self.ctx, chat_id, message.message_id, row.complaint_id)
