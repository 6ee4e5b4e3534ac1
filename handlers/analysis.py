"""/report [YYYY-MM]: the monthly analysis report (客戶投訴分析報告表) on demand."""

from __future__ import annotations

from telegram import Update

from bot.services.analysis import Analysis, read_month
from handlers.common import Context, app_ctx, reply_target, sender_of


async def report(update: Update, context: Context) -> None:
    """HR and the admins get the whole company, a department head their department's part."""
    ctx = app_ctx(context)
    person = await sender_of(update, context)
    analysis = Analysis(ctx)
    scope = await analysis.scope_of(person.id)
    month = read_month(" ".join(context.args or []),
                       ctx.now().astimezone(ctx.settings.zone).date())
    files = await analysis.files(person.language, month, scope)
    chat_id, thread_id, reply_to = reply_target(update)
    async with ctx.joined() as session:
        analysis.queue(session, ctx.now(), chat_id, files, thread_id=thread_id,
                       reply_to=reply_to)
