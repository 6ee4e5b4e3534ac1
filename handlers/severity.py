"""/major and /minor: a complaint marked 重大 on one of the rule book's grounds, or lowered again."""

from __future__ import annotations

from telegram import Update

from bot.domain.severity import GROUND_WORDS
from bot.services.context import Refused
from bot.services.severity import SeverityMarks
from handlers.common import Context, app_ctx, reply, sender_of


async def major(update: Update, context: Context) -> None:
    """/major P-2026-0001 a [note]: without enough words, how to use it and the grounds."""
    ctx = app_ctx(context)
    person = await sender_of(update, context)
    args = context.args or []
    if len(args) < 2:
        await reply(update, context, ctx.texts.html(person.language, "severity.major_usage",
                                                    grounds=GROUND_WORDS))
        return
    changed = await SeverityMarks(ctx).mark_major(person.id, args[0], args[1], rest(update, 3))
    await reply(update, context, ctx.texts.html(person.language, "severity.marked",
                                                number=changed.number, ground=changed.ground,
                                                words=changed.ground_words, told=changed.told))


async def minor(update: Update, context: Context) -> None:
    """/minor P-2026-0001 reason: back to 輕微, with the reason."""
    ctx = app_ctx(context)
    person = await sender_of(update, context)
    args = context.args or []
    if len(args) < 2:
        raise Refused("errors.minor_usage")
    changed = await SeverityMarks(ctx).lower(person.id, args[0], rest(update, 2))
    await reply(update, context, ctx.texts.html(person.language, "severity.lowered",
                                                number=changed.number))


def rest(update: Update, words: int) -> str:
    """The command's text after its first `words` words, line breaks kept (a note may have
    several lines; context.args would join them with spaces)."""
    message = update.effective_message
    parts = (message.text or "").split(maxsplit=words) if message else []
    return parts[words] if len(parts) > words else ""
