"""The complaint's thread in the workgroup: step buttons on the card, /answer, the
department pickers, answers handed in as messages, and comments."""

from __future__ import annotations

from telegram import Message, Update

from bot import views
from bot.buttons import DEPARTMENT_PICKER, STEP
from bot.outbox import queue_message
from bot.services.complaints import PressedCard
from bot.services.context import Refused
from bot.services.handling import DONE, Handling, StepResult
from bot.services.people import Person
from bot.services.threads import Threads
from bot.store.models import PendingInput
from handlers.common import (
    Context,
    app_ctx,
    check_split_tail,
    choice_at,
    drop_keyboard,
    id_at,
    sender_of,
)


def attachments_of(message: Message) -> list[dict[str, str]]:
    if message.photo:
        return [{"type": "photo", "file_id": message.photo[-1].file_id}]
    if message.document:
        return [{"type": "document", "file_id": message.document.file_id}]
    return []


async def show_result(update: Update, context: Context, result: StepResult,
                      complaint_id: int) -> None:
    """Say what happened, in the complaint's thread; the sender keeps the message in the
    thread's records, so that a reply to it lands in this complaint."""
    if result.template == DONE:
        return
    ctx = app_ctx(context)
    lang = ctx.settings.general.default_language
    text = ctx.texts.html(lang, f"steps.{result.template}", **result.params)
    keyboard = views.picker_keyboard(ctx.texts, lang, result.picker) if result.picker else None
    message = update.effective_message
    async with ctx.joined() as session:
        queue_message(session, ctx.now(), text, complaint_id=complaint_id, to_thread=True,
                      keyboard=keyboard, reply_to=message.message_id if message else None)


async def step_button(update: Update, context: Context) -> None:
    """st:<complaint>:<step>:<department> — rights are read from the database."""
    query = update.callback_query
    assert query is not None and update.effective_chat is not None
    person = await sender_of(update, context)
    parts = STEP.parts(query.data)
    complaint_id = id_at(parts, count=3)
    card = query.message
    pressed = PressedCard(card.chat.id, card.message_thread_id, card.message_id) \
        if isinstance(card, Message) else None
    result = await Handling(app_ctx(context)).begin(
        person.id, complaint_id, parts[1], parts[2], update.effective_chat.id, pressed)
    await show_result(update, context, result, complaint_id)


async def answer_command(update: Update, context: Context) -> None:
    """/answer in a complaint's thread: begin whatever step the sender's department owes."""
    ctx = app_ctx(context)
    person = await sender_of(update, context)
    message, chat = update.effective_message, update.effective_chat
    assert message is not None and chat is not None
    reply_to = message.reply_to_message.message_id if message.reply_to_message else None
    complaint_id = await Threads(ctx).complaint_of(chat.id, message.message_thread_id, reply_to)
    if complaint_id is None:
        raise Refused("errors.answer_where")
    result = await Handling(ctx).begin(person.id, complaint_id, None, None, chat.id)
    await show_result(update, context, result, complaint_id)


async def picker_button(update: Update, context: Context) -> None:
    """pk:<complaint>:<index> ticks (or, for 分流, picks) a department; pk:<complaint>:ok confirms."""
    query = update.callback_query
    assert query is not None
    ctx = app_ctx(context)
    person = await sender_of(update, context)
    parts = DEPARTMENT_PICKER.parts(query.data)
    handling = Handling(ctx)
    complaint_id = id_at(parts, count=2)
    if parts[1] == "ok":
        result = await handling.choose(person.id, complaint_id, None)
    elif parts[1].startswith("t"):
        picker = await handling.toggle(person.id, complaint_id, choice_at(parts[1][1:]))
        # The ticks, redrawn on the picker.
        lang = ctx.settings.general.default_language
        await drop_keyboard(update, context, views.picker_keyboard(ctx.texts, lang, picker))
        return
    else:
        result = await handling.choose(person.id, complaint_id, choice_at(parts[1]))
    await drop_keyboard(update, context)
    await show_result(update, context, result, complaint_id)


async def group_message(update: Update, context: Context) -> None:
    """A message in the workgroup: a part of a step the sender began, else a comment."""
    ctx = app_ctx(context)
    message, chat = update.effective_message, update.effective_chat
    if message is None or chat is None or message.from_user is None:
        return
    person = await sender_of(update, context)
    reply_to = message.reply_to_message.message_id if message.reply_to_message else None
    complaint_id = await Threads(ctx).complaint_of(chat.id, message.message_thread_id, reply_to)
    pending = await Handling(ctx).question_in(person.id, chat.id, complaint_id)
    text = message.text or message.caption or ""
    files = attachments_of(message)
    if pending is not None:
        await Threads(ctx).remember_message(chat.id, message.message_id, int(pending.ref_id or 0))
        await take_step_input(update, context, person, pending, text, files)
        return
    if complaint_id is not None:
        await Threads(ctx).add_comment(complaint_id, person.id, chat.id, message.message_id, text, files)


async def take_step_input(update: Update, context: Context, person: Person,
                          pending: PendingInput, text: str, files: list[dict[str, str]]) -> None:
    await check_split_tail(update, context)
    result = await Handling(app_ctx(context)).take_input(person.id, pending, text, files)
    await show_result(update, context, result, int(pending.ref_id or 0))
