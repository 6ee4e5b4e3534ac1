"""The sign-off sheet (rule 一.4) and return-freight slips (rule 三): /sheet, /crx,
/freight, /freight_xlsx, and the buttons of their steps."""

from __future__ import annotations

from telegram import Update

from bot import views
from bot.buttons import CHAIN_STEP, DAILY_SHEET, FREIGHT_BEARER
from bot.outbox import Keyboard
from bot.services.chains import Chains
from bot.services.context import Refused
from bot.services.freight import Freight
from bot.services.people import Person
from bot.services.sheets import Sheets
from bot.store.models import PendingInput
from handlers.common import Context, app_ctx, id_at, pressed, reply, reply_document, sender_of, settle


async def chain_button(update: Update, context: Context) -> None:
    """cs:<step>:<s|t|a|m|r> — sign, write, approve, amend or reject a chain step."""
    ctx, person, parts = await pressed(update, context, CHAIN_STEP)
    acted = await Chains(ctx).press(person.id, id_at(parts, 0, count=2), parts[1])
    await settle(update, context, ctx.texts.html(person.language, acted.template, **acted.params))


async def take_chain_input(update: Update, context: Context, person: Person,
                           pending: PendingInput, text: str) -> None:
    ctx = app_ctx(context)
    acted = await Chains(ctx).take_input(person.id, pending, text)
    await reply(update, context, ctx.texts.html(person.language, acted.template, **acted.params))


async def chain_input_question(context: Context, person: Person,
                               pending: PendingInput) -> tuple[str, Keyboard | None]:
    """What take_chain_input waits for, to ask it again."""
    ctx = app_ctx(context)
    acted = await Chains(ctx).question(person.id, pending)
    return ctx.texts.html(person.language, acted.template, **acted.params), None


async def sheet_button(update: Update, context: Context) -> None:
    """sh:<sheet>:c (HR confirms) | sh:<sheet>:s (a head signs their rows)."""
    ctx, person, parts = await pressed(update, context, DAILY_SHEET)
    template, sheet = await Sheets(ctx).press(person.id, id_at(parts, 0, count=2), parts[1])
    await settle(update, context, ctx.texts.html(person.language, template, sheet=sheet))


async def sheet_command(update: Update, context: Context) -> None:
    """/sheet [date] — the day's sheet, its XLSX with the signatures so far, and the buttons
    of what the caller may do on it now."""
    ctx = app_ctx(context)
    person = await sender_of(update, context)
    sheets = Sheets(ctx)
    shown = await sheets.show(person.id, list(context.args or []))
    await reply(update, context, ctx.texts.html(shown.lang, "chains.sheet_status", sheet=shown.sheet),
                sheets.buttons(shown.lang, shown.sheet.id, shown.actions) or None)
    await reply_document(update, context, shown.filename, shown.data,
                         ctx.texts.html(shown.lang, "chains.sheet_caption", sheet=shown.sheet))


async def crx_command(update: Update, context: Context) -> None:
    """/crx <complaint> [off [reason]] — HR marks a compensation / return / exchange case
    (rule 一.4), or takes a wrong mark off (and the case off its sheet, until the GM rules)."""
    ctx = app_ctx(context)
    person = await sender_of(update, context)
    marked = await Sheets(ctx).mark(person.id, list(context.args or []))
    await reply(update, context, ctx.texts.html(person.language, "chains.crx_marked", number=marked.number,
                                       on=marked.on, struck_off=marked.struck_off))


async def freight_command(update: Update, context: Context) -> None:
    """/freight <complaint> opens a slip; /freight alone lists the slips waiting on you;
    /freight cancel <slip> <reason> withdraws one opened by mistake."""
    ctx = app_ctx(context)
    person = await sender_of(update, context)
    args = list(context.args or [])
    freight = Freight(ctx)
    if freight.is_withdrawal(args):
        slip = await freight.withdraw(person.id, args)
        await reply(update, context, ctx.texts.html(person.language, "chains.withdrawn", item=slip))
        return
    if len(args) > 1:
        raise Refused("errors.freight_usage")
    if not args:
        slips = await freight.owed(person.id)
        await reply(update, context, ctx.texts.html(person.language, "chains.freight_owed", slips=slips))
        return
    text, keyboard = views.slip_screen(ctx.texts, person.language,
                                       await freight.start(person.id, args[0]))
    await reply(update, context, text, keyboard)


async def take_freight_input(update: Update, context: Context, person: Person,
                             pending: PendingInput, text: str) -> None:
    ctx = app_ctx(context)
    screen, keyboard = views.slip_screen(ctx.texts, person.language,
                                         await Freight(ctx).take_input(person.id, pending, text))
    await reply(update, context, screen, keyboard)


async def freight_question(context: Context, person: Person,
                           pending: PendingInput) -> tuple[str, Keyboard | None]:
    """The slip's question take_freight_input waits for, to ask it again."""
    ctx = app_ctx(context)
    return views.slip_screen(ctx.texts, person.language, await Freight(ctx).question(pending))


async def bearer_button(update: Update, context: Context) -> None:
    """fb:<department> — the department bearing the freight."""
    ctx, person, parts = await pressed(update, context, FREIGHT_BEARER)
    if len(parts) != 1:
        raise Refused("errors.stale_button")
    form = await Freight(ctx).choose_bearer(person.id, parts[0])
    await settle(update, context, views.slip_screen(ctx.texts, person.language, form)[0])


async def freight_xlsx_command(update: Update, context: Context) -> None:
    """/freight_xlsx [month] — every slip with its steps and times (HR, finance, admins)."""
    ctx = app_ctx(context)
    person = await sender_of(update, context)
    filename, data, count = await Freight(ctx).workbook(person.id, list(context.args or []))
    await reply_document(update, context, filename, data, ctx.texts.html(
        person.language, "chains.freight_xlsx_caption", count=count, filename=filename))
