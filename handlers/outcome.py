"""The complainant's 接受 / 申訴 buttons and the appeal (rule 一.6)."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from bot.outbox import Button
from bot.services.context import Refused
from bot.services.outcome import Outcome
from bot.services.people import Person
from bot.store.models import PendingInput
from handlers.common import app_ctx, drop_keyboard, parse_callback, refuse, reply, sender_of


async def verdict_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """vd:<complaint>:ok | vd:<complaint>:ap"""
    query = update.callback_query
    assert query is not None
    ctx = app_ctx(context)
    person = await sender_of(update, context)
    parts = parse_callback(query.data, "vd")
    outcome = Outcome(ctx)
    try:
        if len(parts) != 2 or not parts[0].isdigit():
            raise Refused("errors.stale_button")
        if parts[1] == "ok":
            number = await outcome.accept(person.id, int(parts[0]))
            text = ctx.texts.html(person.language, "outcome.closed_private", number=number)
        else:
            number = await outcome.ask_reason(person.id, int(parts[0]))
            text = ctx.texts.html(person.language, "outcome.ask_reason", number=number)
    except Refused as refused:
        await refuse(update, context, person.language, refused)
        return
    await query.answer()
    await drop_keyboard(query)
    await reply(update, text)


async def take_appeal_reason(update: Update, context: ContextTypes.DEFAULT_TYPE, person: Person,
                             pending: PendingInput, text: str) -> None:
    ctx = app_ctx(context)
    bodies = await Outcome(ctx).take_reason(person.id, pending, text)
    keyboard = [[Button(name, f"eb:{bodies.complaint_id}:{key}")] for key, name in bodies.choices]
    await reply(update, ctx.texts.html(person.language, "outcome.choose_body",
                                       number=bodies.number), keyboard)


async def body_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """eb:<complaint>:<department>"""
    query = update.callback_query
    assert query is not None
    ctx = app_ctx(context)
    person = await sender_of(update, context)
    parts = parse_callback(query.data, "eb")
    try:
        if len(parts) != 2 or not parts[0].isdigit():
            raise Refused("errors.stale_button")
        body = await Outcome(ctx).escalate(person.id, int(parts[0]), parts[1])
    except Refused as refused:
        await refuse(update, context, person.language, refused)
        return
    await query.answer()
    await drop_keyboard(query)
    await reply(update, ctx.texts.html(person.language, "outcome.escalated_private", body=body))
