"""Small pieces of the Bot API calls the sender makes, and how to read Telegram's refusals."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable
from datetime import timedelta
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, ReplyParameters
from telegram.constants import ParseMode
from telegram.error import BadRequest, RetryAfter

from bot.outbox import Keyboard, KeyboardRows, keyboard_payload

HTML = ParseMode.HTML  # sent explicitly, and only to methods that take it


class Held(Exception):
    """The row cannot go out until something changes (e.g. no workgroup is bound yet)."""


class Blocked(Exception):
    """The recipient blocked the bot and has not written to it since: not even tried."""


def markup(rows: KeyboardRows | None) -> InlineKeyboardMarkup | None:
    if not rows:
        return None
    return InlineKeyboardMarkup([[InlineKeyboardButton(b["text"], callback_data=b.get("data"),
                                                       url=b.get("url")) for b in row]
                                 for row in rows])


def to_markup(keyboard: Keyboard | None) -> InlineKeyboardMarkup | None:
    return markup(keyboard_payload(keyboard))


def card_digest(text: str, keyboard: Keyboard | None) -> str:
    """What a card shows, in 64 characters: a redraw with the same digest changes nothing."""
    drawn = json.dumps([text, keyboard_payload(keyboard)], ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(drawn.encode()).hexdigest()


def quoting(message_id: int | None) -> ReplyParameters | None:
    """Quote a message, and send anyway if it has been deleted meanwhile."""
    if message_id is None:
        return None
    return ReplyParameters(int(message_id), allow_sending_without_reply=True)


def retry_seconds(exc: RetryAfter) -> float:
    # PTB >= 22.2 keeps a timedelta in _retry_after (its AIORateLimiter reads it there); the
    # public attribute warns until it becomes a timedelta too.
    private = getattr(exc, "_retry_after", None)
    if isinstance(private, timedelta):
        return private.total_seconds()
    delay = exc.retry_after
    return float(delay) if isinstance(delay, int | float) else delay.total_seconds()


def says(exc: BaseException, *needles: str) -> bool:
    text = str(exc).lower()
    return any(needle.lower() in text for needle in needles)


def topic_lost(exc: BaseException) -> bool:
    """The complaint's topic was deleted (or never existed)."""
    return says(exc, "message thread not found", "TOPIC_ID_INVALID", "TOPIC_DELETED")


def not_modified(exc: BaseException) -> bool:
    return says(exc, "message is not modified", "TOPIC_NOT_MODIFIED")


async def unless_unchanged(call: Awaitable[Any]) -> None:
    """An edit that would change nothing is done already."""
    try:
        await call
    except BadRequest as exc:
        if not not_modified(exc):
            raise
