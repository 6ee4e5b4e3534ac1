"""Thread delivery: a complaint's thread in the workgroup, its topic and its card.

A complaint's thread is its forum topic, or (in a group without topics) the replies to its
card. Posting the card creates the topic first and remembers it at once, so that a retry
posts into it instead of making another. A topic deleted in the app is made again, with the
card, and the complaint (and every later row about it) follows the new topic; a deleted card
is posted again. Card redraws render the complaint as it is when they are sent, and skip an
edit that would change nothing (the card's digest is kept).
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Bot, InputMediaPhoto, Message, ReplyParameters
from telegram.error import BadRequest

from bot import views
from bot.domain.workflow import Status
from bot.outbox import NOT_POSTED, MessagePayload
from bot.sender.calls import (
    HTML,
    Held,
    card_digest,
    markup,
    quoting,
    says,
    to_markup,
    topic_lost,
    unless_unchanged,
)
from bot.services.audit import record
from bot.services.complaints import CardView, Complaints
from bot.services.context import AppContext
from bot.services.threads import remember
from bot.services.workgroup import workgroup_chat_id
from bot.store.models import Complaint, OutboxMessage

log = logging.getLogger(__name__)

T = TypeVar("T")
MarkSent = Callable[[AsyncSession, Sequence[int]], Awaitable[int]]


@dataclass(frozen=True)
class Target:
    """Where a complaint's thread is: its topic, or (in a group without topics) its card."""

    chat_id: int
    thread_id: int | None
    reply_to: int | None

    @property
    def reply(self) -> ReplyParameters | None:
        if self.reply_to is None:
            return None
        return ReplyParameters(self.reply_to, allow_sending_without_reply=True)


class ThreadDelivery:
    """What the sender sends into complaints' threads, and the cards and topics themselves.
    Each method returns True when it marked its row sent itself (`mark_sent`)."""

    def __init__(self, ctx: AppContext, bot: Bot, mark_sent: MarkSent) -> None:
        self.ctx = ctx
        self.bot = bot
        self.complaints = Complaints(ctx)
        self._mark_sent = mark_sent
        self._forum: dict[int, bool] = {}

    @contextlib.asynccontextmanager
    async def _tx(self) -> AsyncIterator[AsyncSession]:
        """A transaction of the sender's own bookkeeping (queues nothing, wakes nobody)."""
        async with self.ctx.unit(wake=False) as unit:
            yield unit.session

    async def send_message(self, row: OutboxMessage, message: MessagePayload) -> Message:
        """A notice into the complaint's thread (quoting what it answers, if anything)."""
        assert row.complaint_id is not None

        async def send(target: Target) -> Message:
            return await self.bot.send_message(
                target.chat_id, message.text, parse_mode=HTML,
                message_thread_id=target.thread_id,
                reply_parameters=quoting(message.reply_to) or target.reply,
                reply_markup=markup(message.keyboard))

        target, sent = await self.in_thread(row.complaint_id, send)
        await self.remember(target.chat_id, [sent], row.complaint_id)
        return sent

    async def send_digest(self, complaint_id: int, text: str) -> None:
        """A digest of notices that all concern one complaint: into its thread."""
        async def send(target: Target) -> Message:
            return await self.bot.send_message(target.chat_id, text, parse_mode=HTML,
                                               message_thread_id=target.thread_id,
                                               reply_parameters=target.reply)

        target, message = await self.in_thread(complaint_id, send)
        await self.remember(target.chat_id, [message], complaint_id)

    async def is_forum(self, chat_id: int) -> bool:
        if chat_id not in self._forum:
            chat = await self.bot.get_chat(chat_id)
            self._forum[chat_id] = bool(chat.is_forum)
        return self._forum[chat_id]

    async def complaint(self, complaint_id: int) -> tuple[Complaint, CardView]:
        async with self.ctx.sessions() as session:
            complaint = await session.get(Complaint, complaint_id)
            if complaint is None:
                raise Held(f"no complaint {complaint_id}")
            return complaint, await self.complaints.card(session, complaint)

    async def remember(self, chat_id: int, messages: Sequence[Message], complaint_id: int) -> None:
        async with self._tx() as session:
            for message in messages:
                await remember(session, chat_id, message.message_id, complaint_id)

    async def in_thread(self, complaint_id: int,
                         send: Callable[[Target], Awaitable[T]]) -> tuple[Target, T]:
        """Send into the complaint's thread; if its topic was deleted, make a new one (with
        the card) and send there."""
        for attempt in range(2):
            target = await self.ensure_card(complaint_id)
            try:
                return target, await send(target)
            except BadRequest as exc:
                if attempt or target.thread_id is None or not topic_lost(exc):
                    raise
                await self._recreate_topic(complaint_id, target.thread_id)
        raise AssertionError("unreachable")

    async def ensure_card(self, complaint_id: int) -> Target:
        """The complaint's thread, with its card in it: posted again if it was lost."""
        for attempt in range(2):
            complaint, view = await self.complaint(complaint_id)
            if complaint.chat_id is None or (complaint.card_message_id is None
                                             and complaint.posted_at is None):
                raise Held(NOT_POSTED)
            card_id = complaint.card_message_id
            if card_id is None:
                try:
                    card_id = await self._post_card_message(complaint, view)
                except BadRequest as exc:
                    if attempt or complaint.thread_id is None or not topic_lost(exc):
                        raise
                    await self._recreate_topic(complaint_id, complaint.thread_id)
                    continue
            if complaint.thread_id is not None:
                return Target(complaint.chat_id, complaint.thread_id, None)
            return Target(complaint.chat_id, None, card_id)
        raise AssertionError("unreachable")

    async def _post_card_message(self, complaint: Complaint, view: CardView) -> int:
        """Post the card again (its message or its topic was deleted) and remember it."""
        assert complaint.chat_id is not None
        lang = self.ctx.settings.general.default_language
        text = views.card(self.ctx.texts, lang, view)
        buttons = views.card_keyboard(self.ctx.texts, lang, view, complaint.id)
        message = await self.bot.send_message(
            complaint.chat_id, text, parse_mode=HTML, message_thread_id=complaint.thread_id,
            reply_markup=to_markup(buttons))
        async with self._tx() as session:
            fresh = await session.get(Complaint, complaint.id)
            assert fresh is not None
            fresh.card_message_id = message.message_id
            fresh.card_hash = card_digest(text, buttons)
            await remember(session, complaint.chat_id, message.message_id, complaint.id)
        log.info("complaint %s: card posted again as message %s", complaint.id, message.message_id)
        return message.message_id

    async def _new_topic(self, chat_id: int, view: CardView) -> int:
        lang = self.ctx.settings.general.default_language
        topic = await self.bot.create_forum_topic(
            chat_id, views.topic_name(self.ctx.texts, lang, view))
        return topic.message_thread_id

    async def _recreate_topic(self, complaint_id: int, lost_thread_id: int) -> None:
        """The complaint's topic is gone: create it again (same name scheme) and link the
        complaint to it; its card is posted there next (its card_message_id is cleared)."""
        complaint, view = await self.complaint(complaint_id)
        chat_id = complaint.chat_id
        if chat_id is None or complaint.thread_id != lost_thread_id:
            return  # already moved on
        self._forum.pop(chat_id, None)  # topics may have been switched off
        thread_id = await self._new_topic(chat_id, view) if await self.is_forum(chat_id) else None
        async with self._tx() as session:
            fresh = await session.get(Complaint, complaint_id)
            assert fresh is not None
            if fresh.thread_id != lost_thread_id:
                return
            fresh.thread_id, fresh.card_message_id = thread_id, None
            record(session, self.ctx.now(), complaint_id, None, "topic_recreated",
                   chat_id=chat_id, lost_thread_id=lost_thread_id, thread_id=thread_id)
        log.warning("complaint %s: topic %s of chat %s is gone; new topic %s", complaint_id,
                    lost_thread_id, chat_id, thread_id)

    async def post_card(self, row: OutboxMessage) -> bool:
        assert row.complaint_id is not None
        lang = self.ctx.settings.general.default_language
        async with self.ctx.sessions() as session:
            complaint = await session.get(Complaint, row.complaint_id)
            assert complaint is not None
            group = await workgroup_chat_id(session, self.ctx)
            view = await self.complaints.card(session, complaint)
        if complaint.posted_at is not None:
            return False  # posted already
        chat_id, thread_id = complaint.chat_id, complaint.thread_id
        if chat_id is None:
            if group is None:
                raise Held("no workgroup bound: an admin sends /bind in the group")
            chat_id = group
            if await self.is_forum(group):
                thread_id = await self._new_topic(group, view)
            # Remember the topic at once, so a retry posts into it instead of making another.
            await self._place(row.complaint_id, chat_id, thread_id)
        # The card is rendered as it will look once posted.
        view = dataclasses.replace(view, status=Status.OPEN)
        text = views.card(self.ctx.texts, lang, view)
        buttons = views.card_keyboard(self.ctx.texts, lang, view, row.complaint_id)
        keyboard = to_markup(buttons)
        try:
            message = await self.bot.send_message(chat_id, text, parse_mode=HTML,
                                                  message_thread_id=thread_id, reply_markup=keyboard)
        except BadRequest as exc:
            if thread_id is None or not topic_lost(exc):
                raise
            thread_id = await self._new_topic(chat_id, view)  # deleted before the card came
            await self._place(row.complaint_id, chat_id, thread_id)
            message = await self.bot.send_message(chat_id, text, parse_mode=HTML,
                                                  message_thread_id=thread_id, reply_markup=keyboard)
        async with self.ctx.transaction() as session:
            fresh = await session.get(Complaint, row.complaint_id)
            assert fresh is not None
            if fresh.posted_at is None:
                await self.complaints.mark_posted(session, fresh, chat_id, thread_id,
                                                  message.message_id)
                fresh.card_hash = card_digest(text, buttons)
            # else a button pressed on this card recorded it meanwhile (Complaints.adopt_card)
            await remember(session, chat_id, message.message_id, fresh.id)
            await self._mark_sent(session, [row.id])
        return True

    async def _place(self, complaint_id: int, chat_id: int, thread_id: int | None) -> None:
        async with self._tx() as session:
            fresh = await session.get(Complaint, complaint_id)
            assert fresh is not None
            fresh.chat_id, fresh.thread_id = chat_id, thread_id

    async def refresh_card(self, row: OutboxMessage) -> bool:
        assert row.complaint_id is not None
        lang = self.ctx.settings.general.default_language
        complaint, view = await self.complaint(row.complaint_id)
        if complaint.chat_id is None or complaint.posted_at is None:
            raise Held(NOT_POSTED)
        if complaint.card_message_id is not None:
            text = views.card(self.ctx.texts, lang, view)
            keyboard = views.card_keyboard(self.ctx.texts, lang, view, row.complaint_id)
            drawn = card_digest(text, keyboard)
            if drawn == complaint.card_hash:
                return False  # the card already shows exactly this: an edit would be refused
            try:
                await unless_unchanged(self.bot.edit_message_text(
                    text, parse_mode=HTML, chat_id=complaint.chat_id,
                    message_id=complaint.card_message_id, reply_markup=to_markup(keyboard)))
                await self._card_drawn(row.complaint_id, complaint.card_message_id, drawn)
                return False
            except BadRequest as exc:
                if not says(exc, "message to edit not found"):
                    raise
            log.warning("complaint %s: its card was deleted; posting it again", row.complaint_id)
            async with self._tx() as session:
                fresh = await session.get(Complaint, row.complaint_id)
                assert fresh is not None
                if fresh.card_message_id == complaint.card_message_id:
                    fresh.card_message_id = None
        await self.ensure_card(row.complaint_id)  # a new card is rendered as it is now
        return False

    async def _card_drawn(self, complaint_id: int, card_message_id: int, drawn: str) -> None:
        async with self._tx() as session:
            fresh = await session.get(Complaint, complaint_id)
            if fresh is not None and fresh.card_message_id == card_message_id:
                fresh.card_hash = drawn

    async def refresh_topic(self, row: OutboxMessage) -> bool:
        """The topic's title carries the status; a closed complaint's topic is closed, and
        opened again when a follow-up visit reopens the complaint."""
        assert row.complaint_id is not None
        lang = self.ctx.settings.general.default_language
        for attempt in range(2):
            complaint, view = await self.complaint(row.complaint_id)
            if complaint.chat_id is None or complaint.thread_id is None:
                return False  # a plain group has no topic
            try:
                await unless_unchanged(self.bot.edit_forum_topic(
                    complaint.chat_id, complaint.thread_id,
                    name=views.topic_name(self.ctx.texts, lang, view)))
                if view.status is Status.CLOSED:
                    await unless_unchanged(self.bot.close_forum_topic(
                        complaint.chat_id, complaint.thread_id))
                elif view.status is Status.REOPENED:  # its departments must answer in it
                    await unless_unchanged(self.bot.reopen_forum_topic(
                        complaint.chat_id, complaint.thread_id))
                return False
            except BadRequest as exc:
                if attempt or not topic_lost(exc):
                    raise
                await self._recreate_topic(row.complaint_id, complaint.thread_id)
                await self.ensure_card(row.complaint_id)
        raise AssertionError("unreachable")

    async def post_photos(self, row: OutboxMessage) -> bool:
        assert row.complaint_id is not None
        complaint, _view = await self.complaint(row.complaint_id)
        photos = list(complaint.photos)[:10]
        if not photos:
            return False

        async def send(target: Target) -> list[Message]:
            if len(photos) == 1:
                return [await self.bot.send_photo(
                    target.chat_id, photos[0], message_thread_id=target.thread_id,
                    reply_parameters=target.reply)]
            return list(await self.bot.send_media_group(
                target.chat_id, [InputMediaPhoto(p) for p in photos],
                message_thread_id=target.thread_id, reply_parameters=target.reply))

        target, sent = await self.in_thread(row.complaint_id, send)
        await self.remember(target.chat_id, sent, row.complaint_id)
        return False

