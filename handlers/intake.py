"""Buttons on the complaint card in the workgroup: 受理 (rules 一.2, 一.3)."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from bot.services.complaints import Complaints
from bot.services.context import Refused
from handlers.common import app_ctx, parse_callback, refuse, sender_of


async def accept_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """acc:<complaint> — only a member of the intake department, checked in the database."""
    query = update.callback_query
    assert query is not None
    person = await sender_of(update, context)
    parts = parse_callback(query.data, "acc")
    try:
        if len(parts) != 1 or not parts[0].isdigit():
            raise Refused("errors.stale_button")
        await Complaints(app_ctx(context)).accept(person.id, int(parts[0]))
    except Refused as refused:
        await refuse(update, context, person.language, refused)
        return
    await query.answer()
