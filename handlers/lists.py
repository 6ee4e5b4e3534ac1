"""/mine and /open."""

from __future__ import annotations

from telegram import Update

from bot.services.lists import Lists
from handlers.common import Context, app_ctx, reply, sender_of


async def mine(update: Update, context: Context) -> None:
    ctx = app_ctx(context)
    person = await sender_of(update, context)
    lines = await Lists(ctx).mine(person.id)
    await reply(update, context, ctx.texts.html(person.language, "lists.mine", lines=lines))


async def owed(update: Update, context: Context) -> None:
    ctx = app_ctx(context)
    person = await sender_of(update, context)
    department, lines = await Lists(ctx).owed(person.id)
    await reply(update, context, ctx.texts.html(person.language, "lists.owed", department=department,
                                       lines=lines))
