"""/fund, /fines, /fines_xlsx, /summary, and HR's 豁免 / 已繳 on a fine."""

from __future__ import annotations

from telegram import Update

from bot.buttons import FINE
from bot.domain.ids import parse_id
from bot.outbox import Keyboard
from bot.services.context import AppContext, Refused
from bot.services.fines import Fines
from bot.services.people import Person
from bot.services.scheduled_reports import ScheduledReports
from bot.store.models import Fine, PendingInput
from handlers.common import (
    Context,
    app_ctx,
    id_at,
    is_private,
    pressed,
    reply,
    reply_document,
    sender_of,
    settle,
)


def changed(ctx: AppContext, person: Person, fines: Fines, fine: Fine) -> str:
    """What a waived or paid fine now is, for the one who changed it."""
    return ctx.texts.html(person.language, "fines.changed", fine_id=fine.id, status=fine.status,
                          money=fines.money(fine.amount_cents))


async def fund(update: Update, context: Context) -> None:
    ctx = app_ctx(context)
    person = await sender_of(update, context)
    totals = await Fines(ctx).fund(person.id)
    await reply(update, context, ctx.texts.html(person.language, "fines.fund", totals=totals))


async def listing(update: Update, context: Context) -> None:
    ctx = app_ctx(context)
    person = await sender_of(update, context)
    found = await Fines(ctx).listing(person.id, list(context.args or []))
    await reply(update, context, ctx.texts.html(person.language, "fines.listing", listing=found))


async def workbook(update: Update, context: Context) -> None:
    ctx = app_ctx(context)
    person = await sender_of(update, context)
    filename, data, found = await Fines(ctx).workbook(person.id, list(context.args or []))
    await reply_document(update, context, filename, data,
                         ctx.texts.html(person.language, "fines.workbook_caption", listing=found))


async def summary(update: Update, context: Context) -> None:
    """Today's summary now, on demand (HR and admins)."""
    ctx = app_ctx(context)
    person = await sender_of(update, context)
    text = await ScheduledReports(ctx).summary_text(person.id)
    await reply(update, context, text)


async def fine_button(update: Update, context: Context) -> None:
    """fn:<fine>:waive | fn:<fine>:paid"""
    ctx, person, parts = await pressed(update, context, FINE)
    fines = Fines(ctx)
    fine_id = id_at(parts, 0, count=2)
    if parts[1] == "paid":
        fine = await fines.mark_paid(person.id, fine_id)
        text = changed(ctx, person, fines, fine)
    else:
        await fines.ask_waive_reason(person.id, fine_id)
        text = ctx.texts.html(person.language, "fines.ask_waive_reason", fine_id=fine_id,
                              private=is_private(update))  # typed answers are read in private
    await settle(update, context, text)


async def waive_question(context: Context, person: Person,
                         pending: PendingInput) -> tuple[str, Keyboard | None]:
    """What take_waive_reason waits for, to ask it again (in the private chat)."""
    return app_ctx(context).texts.html(person.language, "fines.ask_waive_reason",
                                       fine_id=int(pending.ref_id or 0), private=True), None


async def take_waive_reason(update: Update, context: Context, person: Person,
                            pending: PendingInput, text: str) -> None:
    ctx = app_ctx(context)
    fines = Fines(ctx)
    fine = await fines.waive(person.id, int(pending.ref_id or 0), text)
    await reply(update, context, changed(ctx, person, fines, fine))


async def waive_command(update: Update, context: Context) -> None:
    """/waive <fine> <reason…>"""
    ctx = app_ctx(context)
    person = await sender_of(update, context)
    args = list(context.args or [])
    fines = Fines(ctx)
    fine_id = parse_id(args[0]) if len(args) >= 2 else None
    if fine_id is None:
        raise Refused("errors.waive_usage")
    fine = await fines.waive(person.id, fine_id, " ".join(args[1:]))
    await reply(update, context, changed(ctx, person, fines, fine))


async def paid_command(update: Update, context: Context) -> None:
    """/paid <fine>"""
    ctx = app_ctx(context)
    person = await sender_of(update, context)
    args = list(context.args or [])
    fines = Fines(ctx)
    fine_id = parse_id(args[0]) if len(args) == 1 else None
    if fine_id is None:
        raise Refused("errors.paid_usage")
    fine = await fines.mark_paid(person.id, fine_id)
    await reply(update, context, changed(ctx, person, fines, fine))

