"""A command nobody handles, in the private chat: say so, name the nearest commands the
person has, point to /help. (In the workgroup unknown commands stay silent: they may be
meant for another bot there.)"""

from __future__ import annotations

import difflib

from telegram import Update

from bot.commands import GROUP_ADMIN, commands_of
from bot.services.context import Refused
from handlers.common import Context, app_ctx, refuse, reply, sender_of

SUGGESTED = 3  # at most this many near commands are named
CLOSE_ENOUGH = 0.6  # difflib's similarity ratio, 0..1


def command_of(text: str) -> tuple[str, str]:
    """'/Prodcut@my_bot args' → ('prodcut', 'my_bot'); no suffix → (name, '')."""
    word = text.split(maxsplit=1)[0] if text.strip() else ""
    name, _, addressee = word.removeprefix("/").partition("@")
    return name.lower(), addressee


def nearest(name: str, commands: tuple[str, ...]) -> list[str]:
    """The commands closest to a mistyped one, closest first."""
    return difflib.get_close_matches(name, commands, n=SUGGESTED, cutoff=CLOSE_ENOUGH)


async def unknown_command(update: Update, context: Context) -> None:
    """Registered after every CommandHandler, for private chats only."""
    message = update.effective_message
    assert message is not None
    name, addressee = command_of(message.text or "")
    if addressee and addressee.lower() != (context.bot.username or "").lower():
        return  # /cmd@another_bot is not ours to answer
    ctx = app_ctx(context)
    person = await sender_of(update, context)
    mine = await commands_of(ctx, person, private=True)
    if name in GROUP_ADMIN and name not in mine:  # /answer, /complain: workgroup commands
        await refuse(update, context, person.language, Refused("errors.group_only"))
        return
    await reply(update, context, ctx.texts.html(
        person.language, "general.unknown_command", command=name,
        suggestions=nearest(name, mine)))
