"""Small helpers every handler uses: the app context, the sender's identity, answers.

Handlers never call Telegram themselves. A reply is an outbox row written in the
update's transaction (bot.inbox), so it is sent once the update's effect has committed and
retried until Telegram takes it; a button press is answered by the inbox after the commit,
with the alert a handler left here.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

from telegram import Message, Update
from telegram.constants import ChatType
from telegram.ext import Application, CallbackContext, ContextTypes, ExtBot, JobQueue

from bot.buttons import ButtonKind
from bot.domain.ids import parse_id
from bot.inbox import current_edge
from bot.outbox import Keyboard, queue_document, queue_keyboard_edit, queue_message
from bot.services.context import AppContext, Refused
from bot.services.conversation import Conversation, looks_split
from bot.services.people import People, Person, TelegramUser
from bot.texts import language_from_telegram


@dataclass
class BotData:
    """PTB's bot_data, typed (CONTEXT_TYPES): what every handler reaches through its context."""

    ctx: AppContext | None = None


# The handlers' context: PTB's CallbackContext with BotData as its bot_data.
Context = CallbackContext[ExtBot[Any], dict[Any, Any], dict[Any, Any], BotData]
CONTEXT_TYPES = ContextTypes(bot_data=BotData)
# The Application those make.
BotApplication = Application[ExtBot[Any], Context, dict[Any, Any], dict[Any, Any], BotData,
                             JobQueue[Any]]


def app_ctx(context: Context) -> AppContext:
    ctx = context.bot_data.ctx
    assert ctx is not None, "the Runtime sets bot_data.ctx before handling updates"
    return ctx


def is_private(update: Update) -> bool:
    return update.effective_chat is not None and update.effective_chat.type == ChatType.PRIVATE


async def sender_of(update: Update, context: Context) -> Person:
    """The person behind this update, recorded (and marked reachable in private chats)."""
    user = update.effective_user
    assert user is not None
    found = await People(app_ctx(context)).touch(
                        TelegramUser(user.id, user.full_name, user.language_code),
                        private=is_private(update))
    edge = current_edge()
    if edge is not None:
        edge.language = found.language  # a refusal later in this update speaks it
    return found


def reply_target(update: Update) -> tuple[int, int | None, int | None]:
    """Where an answer to this update goes: its chat, its topic, and in a group the message
    it answers (quoted, so that it is clear whom the bot answers)."""
    chat, message = update.effective_chat, update.effective_message
    assert chat is not None
    if chat.type == ChatType.PRIVATE or message is None:
        return chat.id, None, None
    thread_id = message.message_thread_id if message.is_topic_message else None
    return chat.id, thread_id, message.message_id


async def reply(update: Update, context: Context, text: str,
                keyboard: Keyboard | None = None) -> None:
    """Answer in the chat (and topic) the update came from, through the outbox."""
    ctx = app_ctx(context)
    chat_id, thread_id, reply_to = reply_target(update)
    async with ctx.joined() as session:
        queue_message(session, ctx.now(), text, chat_id=chat_id, keyboard=keyboard,
                      thread_id=thread_id, reply_to=reply_to)


async def reply_document(update: Update, context: Context, filename: str,
                         data: bytes, caption: str) -> None:
    """A file (an XLSX report) in answer to a command, with an HTML caption."""
    ctx = app_ctx(context)
    chat_id, thread_id, reply_to = reply_target(update)
    async with ctx.joined() as session:
        queue_document(session, ctx.now(), chat_id, filename, data, caption,
                       thread_id=thread_id, reply_to=reply_to)


def alert(text: str) -> None:
    """What the pressed button answers (an alert), once the update has committed."""
    edge = current_edge()
    assert edge is not None, "alert() outside an update"
    edge.alert = text


def refusal_text(ctx: AppContext, lang: str, refused: Refused) -> str:
    """A refusal as plain text (for alerts); escape it before sending as HTML."""
    return ctx.texts.plain(lang, refused.template, **refused.params)


async def answer_refusal(update: Update, context: Context,
                         refused: Refused) -> None:
    """A `Refused` that left a handler (handlers.on_error): answered in the sender's
    language. Handlers let refusals go up rather than catching each one."""
    edge = current_edge()
    user = update.effective_user
    lang = (edge.language if edge is not None and edge.language else None) or \
        language_from_telegram(user.language_code if user else None,
                               app_ctx(context).settings.general.default_language)
    await refuse(update, context, lang, refused)


async def refuse(update: Update, context: Context, lang: str,
                 refused: Refused) -> None:
    """A press is refused with an alert, anything else with a message."""
    text = refusal_text(app_ctx(context), lang, refused)
    if update.callback_query is not None:
        alert(text)
    else:
        await reply(update, context, html.escape(text, quote=False))
    if refused.template == "errors.too_long":
        await note_if_split(update, context)


async def note_if_split(update: Update, context: Context) -> None:
    """A text refused as too long that is the first part of a text Telegram split: its tail,
    coming next, must not be taken as an answer (check_split_tail)."""
    message, user = update.effective_message, update.effective_user
    if message is not None and user is not None and message.text and looks_split(message.text):
        await Conversation(app_ctx(context)).note_split_text(user.id, message.chat.id, message.date)


async def check_split_tail(update: Update, context: Context) -> None:
    """Refuse the rest of a split text whose first part was refused."""
    message, user = update.effective_message, update.effective_user
    if message is not None and user is not None and message.text is not None \
            and await Conversation(app_ctx(context)).is_split_tail(user.id, message.chat.id, message.date):
        raise Refused("errors.split_tail")


async def drop_keyboard(update: Update, context: Context,
                        keyboard: Keyboard | None = None) -> None:
    """Take the buttons off the pressed message (or put `keyboard` in their place)."""
    query = update.callback_query
    message = query.message if query is not None else None
    if not isinstance(message, Message) or (message.reply_markup is None and not keyboard):
        return
    ctx = app_ctx(context)
    async with ctx.joined() as session:
        queue_keyboard_edit(session, ctx.now(), message.chat.id, message.message_id, keyboard)


async def pressed(update: Update, context: Context,
                  kind: ButtonKind) -> tuple[AppContext, Person, list[str]]:
    """A button press: the app, who pressed (from the database), and the parts of the
    callback data (bot.buttons)."""
    query = update.callback_query
    assert query is not None
    return app_ctx(context), await sender_of(update, context), kind.parts(query.data)


def id_at(parts: list[str], index: int = 0, count: int | None = None) -> int:
    """The numeric id at `index` of the callback data; a malformed one is a stale button
    (callback data comes from the client, which may send anything)."""
    found = parse_id(parts[index]) if len(parts) > index else None
    if (count is not None and len(parts) != count) or found is None:
        raise Refused("errors.stale_button")
    return found


def choice_at(text: str) -> int:
    """A button's place in a list of choices (0, 1, …); anything else is a stale button."""
    if not (text.isascii() and text.isdigit() and len(text) <= 3):
        raise Refused("errors.stale_button")
    return int(text)


async def settle(update: Update, context: Context, text: str) -> None:
    """Close a handled press: take its buttons away and say what happened."""
    await drop_keyboard(update, context)
    await reply(update, context, text)
