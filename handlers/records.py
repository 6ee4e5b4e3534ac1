"""The case library (/case, /cases) and a complaint's record as a file (/export)."""

from __future__ import annotations

from telegram import Update

from bot.services.cases import Cases
from bot.services.context import Refused
from bot.services.records import Records
from handlers.common import Context, app_ctx, reply, reply_target, sender_of
from handlers.severity import rest


async def case(update: Update, context: Context) -> None:
    """/case NUMBER lesson #tag … marks a typical case; /case NUMBER off takes it out."""
    ctx = app_ctx(context)
    person = await sender_of(update, context)
    args = context.args or []
    if len(args) < 2:
        raise Refused("errors.case_usage")
    cases = Cases(ctx)
    if len(args) == 2 and args[1].lower() == "off":
        number = await cases.unmark(person.id, args[0])
        await reply(update, context, ctx.texts.html(person.language, "cases.unmarked",
                                                    number=number))
        return
    marked = await cases.mark(person.id, args[0], rest(update, 2))
    await reply(update, context, ctx.texts.html(person.language, "cases.marked", case=marked))


async def cases(update: Update, context: Context) -> None:
    """/cases [words]: the library, searched."""
    ctx = app_ctx(context)
    person = await sender_of(update, context)
    words = " ".join(context.args or [])
    found, count = await Cases(ctx).search(person.id, words)
    await reply(update, context, ctx.texts.html(person.language, "cases.search", cases=found,
                                                count=count, words=words))


async def export(update: Update, context: Context) -> None:
    """/export NUMBER: the complaint's whole record as one file, here."""
    ctx = app_ctx(context)
    person = await sender_of(update, context)
    args = context.args or []
    if len(args) != 1:
        raise Refused("errors.export_usage")
    chat_id, thread_id, reply_to = reply_target(update)
    number = await Records(ctx).export(person.id, args[0], chat_id, thread_id=thread_id,
                                       reply_to=reply_to)
    await reply(update, context, ctx.texts.html(person.language, "card.record_on_its_way",
                                                number=number))
