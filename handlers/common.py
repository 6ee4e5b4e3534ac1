"""Small helpers every handler uses: the app context, the sender's identity, replies."""

from __future__ import annotations

import html
import io

from telegram import CallbackQuery, Message, Update
from telegram.constants import ChatType
from telegram.ext import ContextTypes

from bot.outbox import Keyboard
from bot.sender import to_markup
from bot.services.context import AppContext, Refused
from bot.services.people import Person, TelegramUser, touch


def app_ctx(context: ContextTypes.DEFAULT_TYPE) -> AppContext:
    return context.bot_data["ctx"]  # type: ignore[no-any-return]


def is_private(update: Update) -> bool:
    return update.effective_chat is not None and update.effective_chat.type == ChatType.PRIVATE


async def sender_of(update: Update, context: ContextTypes.DEFAULT_TYPE) -> Person:
    """The person behind this update, recorded (and marked reachable in private chats)."""
    user = update.effective_user
    assert user is not None
    return await touch(app_ctx(context),
                       TelegramUser(user.id, user.full_name, user.language_code),
                       private=is_private(update))


async def reply(update: Update, text: str, keyboard: Keyboard | None = None) -> Message | None:
    message = update.effective_message
    if message is None:
        return None
    return await message.reply_text(text, reply_markup=to_markup(keyboard),
                                    do_quote=not is_private(update))


async def reply_document(update: Update, filename: str, data: bytes, caption: str) -> None:
    """A file (an XLSX report) in answer to a command, with an HTML caption."""
    message = update.effective_message
    assert message is not None
    await message.reply_document(io.BytesIO(data), filename=filename, caption=caption)


def refusal_text(ctx: AppContext, lang: str, refused: Refused) -> str:
    """A refusal as plain text (for alerts); escape it before sending as HTML."""
    return ctx.texts.plain(lang, refused.template, **refused.params)


async def refuse(update: Update, context: ContextTypes.DEFAULT_TYPE, lang: str,
                 refused: Refused) -> None:
    text = refusal_text(app_ctx(context), lang, refused)
    query = update.callback_query
    if query is not None:
        await query.answer(text[:200], show_alert=True)
    else:
        await reply(update, html.escape(text, quote=False))


async def drop_keyboard(query: CallbackQuery) -> None:
    """Take the buttons off a message once one of them has been used."""
    message = query.message
    if isinstance(message, Message) and message.reply_markup is not None:
        await message.edit_reply_markup(reply_markup=None)


def parse_callback(data: str | None, prefix: str) -> list[str]:
    """'ap:12:y' → ['12', 'y'] for prefix 'ap'."""
    parts = (data or "").split(":")
    if not parts or parts[0] != prefix:
        return []
    return parts[1:]


async def pressed(update: Update, context: ContextTypes.DEFAULT_TYPE,
                  prefix: str) -> tuple[CallbackQuery, AppContext, Person, list[str]]:
    """A button press: the query, the app, who pressed (from the database), and the ids in
    the callback data after `prefix`."""
    query = update.callback_query
    assert query is not None
    return query, app_ctx(context), await sender_of(update, context), parse_callback(query.data, prefix)


def id_at(parts: list[str], index: int = 0, count: int | None = None) -> int:
    """The numeric id at `index` of the callback data; a malformed one is a stale button."""
    if (count is not None and len(parts) != count) or len(parts) <= index \
            or not parts[index].isdigit():
        raise Refused("errors.stale_button")
    return int(parts[index])


async def settle(update: Update, query: CallbackQuery, text: str) -> None:
    """Close a handled press: answer it, take its buttons away, say what happened."""
    await query.answer()
    await drop_keyboard(query)
    await reply(update, text)
