"""/start, /help, /show, and the workgroup commands /complain and /bind."""

from __future__ import annotations

from dataclasses import replace

from telegram import Update
from telegram.constants import ChatType
from telegram.ext import ApplicationHandlerStop

from bot import views
from bot.buttons import FORM_CHOICE, LANGUAGE
from bot.commands import commands_of, set_personal_menu
from bot.config import LANGUAGES
from bot.domain.fields import ComplaintKind
from bot.outbox import Button
from bot.services.complaints import Complaints
from bot.services.context import Refused
from bot.services.forms import ENABLED_KINDS
from bot.services.people import FOLLOW_APP, People
from bot.services.workgroup import Workgroup
from handlers.common import (
    Context,
    app_ctx,
    is_private,
    pressed,
    refuse,
    reply,
    reply_document,
    sender_of,
    settle,
)
from handlers.forms import start_form

DEEP_LINK_KINDS = {kind.value: kind for kind in ComplaintKind}


async def gate(update: Update, context: Context) -> None:
    """Runs before every handler: the bot answers people in private chats and in the
    workgroup only (plus /bind, which is how an admin names the workgroup, and the buttons
    in HR's group)."""
    chat, user = update.effective_chat, update.effective_user
    if chat is None or user is None or user.is_bot:
        raise ApplicationHandlerStop
    if chat.type == ChatType.PRIVATE:
        return
    if await Workgroup(app_ctx(context)).is_workgroup(chat.id):
        return
    if chat.id == app_ctx(context).settings.fines.hr_chat_id and update.callback_query:
        return  # HR's own group (fines.hr_chat_id): the buttons on HR's notices work there
    message = update.effective_message
    text = message.text if message is not None and message.text else ""
    if text.split("@")[0].split(" ")[0] == "/bind":
        return
    raise ApplicationHandlerStop


async def start(update: Update, context: Context) -> None:
    ctx = app_ctx(context)
    person = await sender_of(update, context)
    if not is_private(update):
        await complain(update, context)
        return
    argument = context.args[0] if context.args else ""
    if argument in DEEP_LINK_KINDS and person.is_member:
        await start_form(update, context, person, DEEP_LINK_KINDS[argument])
        return
    keyboard = []
    if person.is_member:
        keyboard = [[Button(ctx.texts.plain(person.language, f"buttons.kind_{kind.value}"),
                            FORM_CHOICE.data(kind.value)) for kind in ENABLED_KINDS]]
    await reply(update, context, ctx.texts.html(person.language, "general.welcome", person=person), keyboard)


async def kind_button(update: Update, context: Context) -> None:
    """k:<kind> from the /start chooser."""
    query = update.callback_query
    assert query is not None
    person = await sender_of(update, context)
    parts = FORM_CHOICE.parts(query.data)
    if parts and parts[0] in DEEP_LINK_KINDS:
        await start_form(update, context, person, DEEP_LINK_KINDS[parts[0]])


async def help_command(update: Update, context: Context) -> None:
    ctx = app_ctx(context)
    person = await sender_of(update, context)
    names = await commands_of(ctx, person, private=is_private(update))
    commands = [(name, ctx.texts.plain(person.language, f"commands.{name}")) for name in names]
    await reply(update, context, ctx.texts.html(person.language, "general.help", person=person,
                                       commands=commands))


async def complain(update: Update, context: Context) -> None:
    """In the group: a button that opens the private chat with the product form."""
    ctx = app_ctx(context)
    lang = ctx.settings.general.default_language
    await sender_of(update, context)
    link = f"https://t.me/{context.bot.username}?start={ComplaintKind.PRODUCT.value}"
    await reply(update, context, ctx.texts.html(lang, "general.complain_here"),
                [[Button(ctx.texts.plain(lang, "buttons.open_private"), url=link)]])


async def bind(update: Update, context: Context) -> None:
    ctx = app_ctx(context)
    person = await sender_of(update, context)
    chat = update.effective_chat
    assert chat is not None
    if is_private(update):
        await refuse(update, context, person.language, Refused("errors.group_only"))
        return
    await Workgroup(ctx).bind(person.id, chat.id)
    await reply(update, context, ctx.texts.html(person.language, "general.bound", title=chat.title or ""))


async def show(update: Update, context: Context) -> None:
    ctx = app_ctx(context)
    person = await sender_of(update, context)
    if not context.args:
        await refuse(update, context, person.language, Refused("errors.show_usage"))
        return
    view, items = await Complaints(ctx).show(person.id, context.args[0])
    lang = person.language
    await reply(update, context, views.card(ctx.texts, lang, view))
    # The whole record: a few pages in a private chat, one in a group; longer, as a file.
    pages = views.record_pages(ctx.texts, lang, view, items)
    if len(pages) <= (views.RECORD_PAGES_SHOWN if is_private(update) else 1):
        for page in pages:
            await reply(update, context, page)
    else:
        await reply_document(update, context, f"{view.number or 'complaint'}.txt",
                             views.record_file(pages),
                             ctx.texts.html(lang, "card.record_file_caption", number=view.number,
                                            pages=len(pages)))


async def language_command(update: Update, context: Context) -> None:
    """/language: a button per language, unless config.toml sets the person's."""
    ctx = app_ctx(context)
    person = await sender_of(update, context)
    if not is_private(update):
        raise Refused("errors.private_only")
    if await People(ctx).language_fixed(person.id):
        await reply(update, context, ctx.texts.html(person.language, "general.language_fixed"))
        return
    keyboard = [[Button(ctx.texts.plain(lang, "buttons.language_name", language=lang),
                        LANGUAGE.data(lang))] for lang in LANGUAGES]
    keyboard.append([Button(ctx.texts.plain(person.language, "buttons.language_follow_app"),
                            LANGUAGE.data(FOLLOW_APP))])
    await reply(update, context, ctx.texts.html(person.language, "general.choose_language"), keyboard)


async def language_button(update: Update, context: Context) -> None:
    """lg:<language>: from now on the bot writes to them in it, their menu included."""
    ctx, person, parts = await pressed(update, context, LANGUAGE)
    chosen = await People(ctx).choose_language(person.id, parts[0] if parts else "")
    name = ctx.texts.plain(chosen, "buttons.language_name", language=chosen)
    await settle(update, context, ctx.texts.html(chosen, "general.language_chosen", language=name))
    await set_personal_menu(context.bot, ctx, replace(person, language=chosen))
