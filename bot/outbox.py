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

from sqlalchemy import select
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


def queued(session: AsyncSession, row: OutboxMessage) -> None:
    """Add the row; once the transaction commits, the sender is told of it (bot.services.
    context.AppContext.unit), so that it goes at once, without the sender reading the queue."""
    session.add(row)
    session.info.setdefault(QUEUED, []).append(row)


def keyboard_payload(keyboard: Keyboard | None) -> list[list[dict[str, Any]]] | None:
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
    payload: dict[str, Any] = {"text": text}
    if keyboard:
        payload["keyboard"] = keyboard_payload(keyboard)
    if to_thread:
        payload["to_thread"] = True
    if on_held:
        payload["on_held"] = {"chat_id": on_held[0], "text": on_held[1]}
    if reply_to is not None:
        payload["reply_to"] = reply_to
    row = OutboxMessage(kind="message", chat_id=chat_id, complaint_id=complaint_id,
                        thread_id=thread_id, payload=payload, subject=subject,
                        created_at=to_db(now))
    queued(session, row)
    return row


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


def queue_document(session: AsyncSession, now: datetime, chat_id: int, filename: str,
                   data: bytes, caption: str, *, thread_id: int | None = None,
                   reply_to: int | None = None) -> OutboxMessage:
    """Queue a file (e.g. the monthly XLSX) with an HTML caption; kept in the row itself."""
    payload: dict[str, Any] = {"filename": filename, "caption": caption,
                               "data": base64.b64encode(data).decode("ascii")}
    if reply_to is not None:
        payload["reply_to"] = reply_to
    row = OutboxMessage(kind="document", chat_id=chat_id, thread_id=thread_id,
                        created_at=to_db(now), payload=payload)
    queued(session, row)
    return row


def queue_keyboard_edit(session: AsyncSession, now: datetime, chat_id: int, message_id: int,
                        keyboard: Keyboard | None = None) -> OutboxMessage:
    """Replace a sent message's buttons (None: take them away, e.g. once one was pressed).
    Harmless to repeat: an edit that changes nothing, or of a message that is gone, counts
    as done."""
    row = OutboxMessage(kind="edit_keyboard", chat_id=chat_id, created_at=to_db(now),
                        payload={"message_id": message_id,
                                 "keyboard": keyboard_payload(keyboard)})
    queued(session, row)
    return row


async def retire_buttons(session: AsyncSession, now: datetime, subject: str) -> None:
    """What `subject` names has been done (a step signed, a fine waived, a request decided):
    nobody else's copy of its buttons stays live. Messages sent lose them (a digest keeps
    the buttons of its other notices); messages still queued go without them."""
    rows = list(await session.scalars(select(OutboxMessage).where(
        OutboxMessage.subject == subject, OutboxMessage.kind == "message")))
    for row in rows:
        if row.payload.get("retired"):
            continue
        payload = {**row.payload, "retired": True}
        if row.status in ("pending", "held"):
            payload.pop("keyboard", None)
            if isinstance(payload.get("digest"), dict):
                payload["digest"] = {**payload["digest"], "buttons": []}
            row.payload = payload
            continue
        row.payload = payload
        if row.status != "sent" or row.sent_message_id is None or row.chat_id is None:
            continue  # being sent right now: a press on it is refused by the service
        siblings = list(await session.scalars(select(OutboxMessage).where(
            OutboxMessage.chat_id == row.chat_id,
            OutboxMessage.sent_message_id == row.sent_message_id, OutboxMessage.id != row.id)))
        remaining = [button_row for sibling in siblings if not sibling.payload.get("retired")
                     for button_row in (sibling.payload.get("digest") or {}).get("buttons") or []]
        queued(session, OutboxMessage(kind="edit_keyboard", chat_id=row.chat_id,
                                      created_at=to_db(now),
                                      payload={"message_id": row.sent_message_id,
                                               "keyboard": remaining or None}))
