"""The complaint's thread in the workgroup: step buttons on the card, /answer, the
department pickers, answers handed in as messages, and comments."""

from __future__ import annotations

from telegram import Message, Update
from telegram.ext import ContextTypes

from bot import views
from bot.sender import to_markup
from bot.services.context import AppContext, Refused
from bot.services.handling import DONE, STEP_INPUT, Handling, Picker, StepResult
from bot.services.people import Person, get_pending
from bot.services.threads import add_comment, complaint_of, remember_message
from bot.store.models import PendingInput
from handlers.common import app_ctx, parse_callback, refuse, reply, sender_of


def attachments_of(message: Message) -> list[dict[str, str]]:
    if message.photo:
        return [{"type": "photo", "file_id": message.photo[-1].file_id}]
    if message.document:
        return [{"type": "document", "file_id": message.document.file_id}]
    return []


async def show_result(update: Update, context: ContextTypes.DEFAULT_TYPE, result: StepResult,
                      complaint_id: int) -> None:
    """Say what happened, in the thread, and keep the message in the thread's records."""
    if result.template == DONE:
        return
    ctx = app_ctx(context)
    lang = ctx.settings.general.default_language
    text = ctx.texts.html(lang, f"steps.{result.template}", **result.params)
    keyboard = views.picker_keyboard(ctx.texts, lang, result.picker) if result.picker else None
    sent = await reply(update, text, keyboard)
    chat = update.effective_chat
    if sent is not None and chat is not None:
        await remember_message(ctx, chat.id, sent.message_id, complaint_id)


async def step_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """st:<complaint>:<step>:<department> — rights are read from the database."""
    query = update.callback_query
    assert query is not None and update.effective_chat is not None
    person = await sender_of(update, context)
    parts = parse_callback(query.data, "st")
    try:
        if len(parts) != 3 or not parts[0].isdigit():
            raise Refused("errors.stale_button")
        complaint_id = int(parts[0])
        result = await Handling(app_ctx(context)).begin(
            person.id, complaint_id, parts[1], parts[2], update.effective_chat.id)
    except Refused as refused:
        await refuse(update, context, person.language, refused)
        return
    await query.answer()
    await show_result(update, context, result, complaint_id)


async def answer_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/answer in a complaint's thread: begin whatever step the sender's department owes."""
    ctx = app_ctx(context)
    person = await sender_of(update, context)
    message, chat = update.effective_message, update.effective_chat
    assert message is not None and chat is not None
    reply_to = message.reply_to_message.message_id if message.reply_to_message else None
    complaint_id = await complaint_of(ctx, chat.id, message.message_thread_id, reply_to)
    try:
        if complaint_id is None:
            raise Refused("errors.answer_where")
        result = await Handling(ctx).begin(person.id, complaint_id, None, None, chat.id)
    except Refused as refused:
        await refuse(update, context, person.language, refused)
        return
    await show_result(update, context, result, complaint_id)


async def picker_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """pk:<complaint>:<index> ticks (or, for 分流, picks) a department; pk:<complaint>:ok confirms."""
    query = update.callback_query
    assert query is not None
    ctx = app_ctx(context)
    person = await sender_of(update, context)
    parts = parse_callback(query.data, "pk")
    handling = Handling(ctx)
    try:
        if len(parts) != 2 or not parts[0].isdigit():
            raise Refused("errors.stale_button")
        complaint_id = int(parts[0])
        if parts[1] == "ok":
            result = await handling.choose(person.id, complaint_id, None)
        elif parts[1].startswith("t") and parts[1][1:].isdigit():
            picker = await handling.toggle(person.id, complaint_id, int(parts[1][1:]))
            await query.answer()
            await _redraw(query.message, ctx, picker)
            return
        elif parts[1].isdigit():
            result = await handling.choose(person.id, complaint_id, int(parts[1]))
        else:
            raise Refused("errors.stale_button")
    except Refused as refused:
        await refuse(update, context, person.language, refused)
        return
    await query.answer()
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=None)
    await show_result(update, context, result, complaint_id)


async def _redraw(message: object, ctx: AppContext, picker: Picker) -> None:
    """Show the ticks after a department is ticked or unticked."""
    if isinstance(message, Message):
        lang = ctx.settings.general.default_language
        await message.edit_reply_markup(
            reply_markup=to_markup(views.picker_keyboard(ctx.texts, lang, picker)))


async def group_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A message in the workgroup: a part of a step the sender began, else a comment."""
    ctx = app_ctx(context)
    message, chat = update.effective_message, update.effective_chat
    if message is None or chat is None or message.from_user is None:
        return
    person = await sender_of(update, context)
    reply_to = message.reply_to_message.message_id if message.reply_to_message else None
    complaint_id = await complaint_of(ctx, chat.id, message.message_thread_id, reply_to)
    pending = await get_pending(ctx, person.id)
    text = message.text or message.caption or ""
    files = attachments_of(message)
    is_answer = (pending is not None and pending.purpose == STEP_INPUT
                 and pending.data.get("chat_id") == chat.id
                 and (complaint_id == pending.ref_id
                      or (complaint_id is None and not pending.data.get("forum"))))
    if pending is not None and is_answer:
        await remember_message(ctx, chat.id, message.message_id, int(pending.ref_id or 0))
        await take_step_input(update, context, person, pending, text, files)
        return
    if complaint_id is not None:
        await add_comment(ctx, complaint_id, person.id, chat.id, message.message_id, text, files)


async def take_step_input(update: Update, context: ContextTypes.DEFAULT_TYPE, person: Person,
                          pending: PendingInput, text: str, files: list[dict[str, str]]) -> None:
    try:
        result = await Handling(app_ctx(context)).take_input(person.id, pending, text, files)
    except Refused as refused:
        await refuse(update, context, person.language, refused)
        return
    await show_result(update, context, result, int(pending.ref_id or 0))
