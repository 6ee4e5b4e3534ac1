"""Queueing outgoing messages: rows written in the caller's transaction.

Nothing here talks to Telegram; `bot.sender` delivers the rows. A message is either
for a chat (`chat_id`, in a topic `thread_id`, quoting `reply_to`) or for a complaint's
thread (`complaint_id` with `to_thread=True`: the sender finds the topic, or replies to the
card in a plain group, or to `reply_to`). Handlers answer users this way too, so a reply
commits with what it reports and is sent after the commit, retried until Telegram takes it.
"""

from __future__ import annotations

import base64
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import to_db
from bot.services.context import QUEUED
from bot.store.models import OutboxMessage


@dataclass(frozen=True)
class Button:
    text: str
    data: str | None = None  # callback data (ids only, ≤ 64 bytes)
    url: str | None = None

    def __post_init__(self) -> None:
        if self.data is not None and len(self.data.encode()) > 64:
            raise ValueError(f"callback data over 64 bytes: {self.data!r}")


Keyboard = list[list[Button]]

# Why a row about a complaint waits: its card is not in the group yet (bot.sender holds it,
# release_after_posting lets it go).
NOT_POSTED = "complaint not posted yet"


def queued(session: AsyncSession, row: OutboxMessage) -> None:
    """Add the row; once the transaction commits, the sender is told of it (bot.services.
    context.AppContext.unit), so that it goes at once, without the sender reading the queue."""
    session.add(row)
    session.info.setdefault(QUEUED, []).append(row)


# Buttons as a row keeps them: [[{"text": …, "data": …} or {"text": …, "url": …}, …], …].
KeyboardRows = list[list[dict[str, str]]]


class _Payload(BaseModel):
    """What a row carries, kept as JSON in `OutboxMessage.payload`: only what differs from
    the defaults is stored (`store`), so rows written before a field existed still read."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class OnHeld(_Payload):
    chat_id: int  # who waits on the recipient, told if Telegram will not let us write to them
    text: str


class DigestLine(_Payload):
    """The row's line in a digest (several notices due together as one message)."""

    line: str
    buttons: KeyboardRows = []  # a private digest carries each notice's buttons


class MessagePayload(_Payload):
    """An HTML message (kind "message")."""

    text: str
    keyboard: KeyboardRows | None = None
    to_thread: bool = False  # to the complaint's thread (its topic, or a reply to its card)
    reply_to: int | None = None  # the message it quotes (sent anyway if that is gone)
    on_held: OnHeld | None = None
    on_held_sent: bool = False  # whoever waits was told already
    digest: DigestLine | None = None  # digestible: may go as a line of a digest
    alone: bool = False  # refused in company once: never joined with others again
    fell_back: bool = False  # this is the short form of a message Telegram refused
    refused: str | None = None  # …and why it refused the long one
    report: bool = False  # a report to the admins (a refused report is not reported)
    retired: bool = False  # its buttons were taken away (retire_buttons)


class DocumentPayload(_Payload):
    """A file kept in the row (kind "document")."""

    filename: str
    caption: str = ""
    data: str  # base64
    reply_to: int | None = None


class PhotosPayload(_Payload):
    """Pictures kept in the row (kind "photos": the monthly report's charts), an album."""

    captions: list[str]
    data: list[str]  # base64, one per caption


class RecordPayload(_Payload):
    """A complaint's record as a file, built when it is sent (kind "record")."""

    complaint_id: int
    reply_to: int | None = None


class KeyboardEditPayload(_Payload):
    """New buttons on a sent message, or none (kind "edit_keyboard")."""

    message_id: int
    keyboard: KeyboardRows | None = None


def store(row: OutboxMessage, payload: _Payload) -> None:
    row.payload = payload.model_dump(mode="json", exclude_defaults=True)


def message_of(row: OutboxMessage) -> MessagePayload:
    return MessagePayload.model_validate(row.payload)


def document_of(row: OutboxMessage) -> DocumentPayload:
    return DocumentPayload.model_validate(row.payload)


def photos_of(row: OutboxMessage) -> PhotosPayload:
    return PhotosPayload.model_validate(row.payload)


def record_of(row: OutboxMessage) -> RecordPayload:
    return RecordPayload.model_validate(row.payload)


def keyboard_edit_of(row: OutboxMessage) -> KeyboardEditPayload:
    return KeyboardEditPayload.model_validate(row.payload)


def keyboard_payload(keyboard: Keyboard | None) -> KeyboardRows | None:
    if not keyboard:
        return None
    return [[{k: v for k, v in asdict(b).items() if v is not None} for b in row] for row in keyboard]


def queue_message(
    session: AsyncSession,
    now: datetime,
    text: str,
    *,
    chat_id: int | None = None,
    complaint_id: int | None = None,
    to_thread: bool = False,
    keyboard: Keyboard | None = None,
    on_held: tuple[int, str] | None = None,
    thread_id: int | None = None,
    reply_to: int | None = None,
    subject: str | None = None,
) -> OutboxMessage:
    """Queue an HTML message.

    on_held: (chat_id, html) to send instead to someone waiting, if the recipient
    has never opened a chat with the bot (Telegram refuses to write first).
    thread_id: the forum topic of `chat_id`; reply_to: the message to quote (sent anyway
    if it is gone). subject: what the buttons act on (e.g. "fine:17"), for retire_buttons.
    """
    if chat_id is None and not to_thread:
        raise ValueError("a message needs a chat or a complaint thread")
    row = OutboxMessage(kind="message", chat_id=chat_id, complaint_id=complaint_id,
                        thread_id=thread_id, subject=subject, created_at=to_db(now))
    store(row, MessagePayload(
        text=text, keyboard=keyboard_payload(keyboard), to_thread=to_thread, reply_to=reply_to,
        on_held=OnHeld(chat_id=on_held[0], text=on_held[1]) if on_held else None))
    queued(session, row)
    return row


def make_digestible(row: OutboxMessage, line: str, buttons: Keyboard | None = None) -> None:
    """In a burst the sender may send the row as `line` of a digest (with its buttons)."""
    store(row, message_of(row).model_copy(update={
        "digest": DigestLine(line=line, buttons=keyboard_payload(buttons) or [])}))


def queue_action(session: AsyncSession, now: datetime, kind: str, complaint_id: int,
                 **payload: Any) -> OutboxMessage | None:
    """Queue a complaint action: "post_card", "refresh_card", "refresh_topic", "post_photos".

    Redrawing the card or the topic title reads the complaint when it is sent, so one per
    transaction is enough.
    """
    if kind in ("refresh_card", "refresh_topic"):
        redraws = session.info.setdefault("queued_refreshes", set())
        if (kind, complaint_id) in redraws:
            return None
        redraws.add((kind, complaint_id))
    row = OutboxMessage(kind=kind, complaint_id=complaint_id, payload=payload,
                        created_at=to_db(now))
    queued(session, row)
    return row


async def release_after_posting(session: AsyncSession, complaint_id: int) -> None:
    """The complaint's card is in the group now: what was said about it before can go."""
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.complaint_id == complaint_id, OutboxMessage.status == "held",
               OutboxMessage.last_error == NOT_POSTED)
        .values(status="pending", last_error=None)
        .execution_options(synchronize_session=False))


def queue_document(session: AsyncSession, now: datetime, chat_id: int, filename: str,
                   data: bytes, caption: str, *, thread_id: int | None = None,
                   reply_to: int | None = None) -> OutboxMessage:
    """Queue a file (e.g. the monthly XLSX) with an HTML caption; kept in the row itself."""
    row = OutboxMessage(kind="document", chat_id=chat_id, thread_id=thread_id,
                        created_at=to_db(now))
    store(row, DocumentPayload(filename=filename, caption=caption, reply_to=reply_to,
                               data=base64.b64encode(data).decode("ascii")))
    queued(session, row)
    return row


def queue_photos(session: AsyncSession, now: datetime, chat_id: int,
                 photos: list[tuple[str, bytes]], *, thread_id: int | None = None) -> OutboxMessage:
    """Queue up to 10 pictures (PNG bytes, each with a plain-text caption) sent as one album."""
    if not 1 <= len(photos) <= 10:
        raise ValueError("an album has 1 to 10 pictures")
    row = OutboxMessage(kind="photos", chat_id=chat_id, thread_id=thread_id,
                        created_at=to_db(now))
    store(row, PhotosPayload(captions=[caption for caption, _ in photos],
                             data=[base64.b64encode(data).decode("ascii") for _, data in photos]))
    queued(session, row)
    return row


def queue_record(session: AsyncSession, now: datetime, chat_id: int, complaint_id: int, *,
                 thread_id: int | None = None, reply_to: int | None = None) -> OutboxMessage:
    """Queue a complaint's record (bot.services.records) for a chat: the sender builds the
    file when it sends it (the photos are fetched then, not in the caller's transaction)."""
    row = OutboxMessage(kind="record", chat_id=chat_id, thread_id=thread_id,
                        created_at=to_db(now))
    store(row, RecordPayload(complaint_id=complaint_id, reply_to=reply_to))
    queued(session, row)
    return row


def queue_keyboard_edit(session: AsyncSession, now: datetime, chat_id: int, message_id: int,
                        keyboard: Keyboard | None = None) -> OutboxMessage:
    """Replace a sent message's buttons (None: take them away, e.g. once one was pressed).
    Harmless to repeat: an edit that changes nothing, or of a message that is gone, counts
    as done."""
    row = OutboxMessage(kind="edit_keyboard", chat_id=chat_id, created_at=to_db(now))
    store(row, KeyboardEditPayload(message_id=message_id, keyboard=keyboard_payload(keyboard)))
    queued(session, row)
    return row


async def retire_buttons(session: AsyncSession, now: datetime, subject: str) -> None:
    """What `subject` names has been done (a step signed, a fine waived, a request decided):
    nobody else's copy of its buttons stays live. Messages sent lose them (a digest keeps
    the buttons of its other notices); messages still queued go without them."""
    rows = list(await session.scalars(select(OutboxMessage).where(
        OutboxMessage.subject == subject, OutboxMessage.kind == "message")))
    for row in rows:
        payload = message_of(row)
        if payload.retired:
            continue
        if row.status in ("pending", "held"):
            digest = payload.digest.model_copy(update={"buttons": []}) if payload.digest else None
            store(row, payload.model_copy(update={"retired": True, "keyboard": None,
                                                  "digest": digest}))
            continue
        store(row, payload.model_copy(update={"retired": True}))
        if row.status != "sent" or row.sent_message_id is None or row.chat_id is None:
            continue  # being sent right now: a press on it is refused by the service
        siblings = [message_of(sibling) for sibling in await session.scalars(
            select(OutboxMessage).where(
                OutboxMessage.chat_id == row.chat_id,
                OutboxMessage.sent_message_id == row.sent_message_id,
                OutboxMessage.id != row.id))]
        remaining = [button_row for sibling in siblings if not sibling.retired and sibling.digest
                     for button_row in sibling.digest.buttons]
        edit = OutboxMessage(kind="edit_keyboard", chat_id=row.chat_id, created_at=to_db(now))
        store(edit, KeyboardEditPayload(message_id=row.sent_message_id, keyboard=remaining or None))
        queued(session, edit)
