"""The complainant's 接受 / 申訴 buttons and the appeal (rule 一.6)."""

from __future__ import annotations

from telegram import Update

from bot.buttons import ANSWER_BODY, VERDICT
from bot.outbox import Button, Keyboard
from bot.services.outcome import Bodies, Outcome
from bot.services.people import Person
from bot.store.models import PendingInput
from handlers.common import Context, app_ctx, id_at, pressed, reply, settle


async def verdict_button(update: Update, context: Context) -> None:
    """vd:<complaint>:ok | vd:<complaint>:ap"""
    ctx, person, parts = await pressed(update, context, VERDICT)
    outcome = Outcome(ctx)
    complaint_id = id_at(parts, 0, count=2)
    if parts[1] == "ok":
        number = await outcome.accept(person.id, complaint_id)
        text = ctx.texts.html(person.language, "outcome.closed_private", number=number)
    else:
        number = await outcome.ask_reason(person.id, complaint_id)
        text = ctx.texts.html(person.language, "outcome.ask_reason", number=number)
    await settle(update, context, text)


async def take_appeal_reason(update: Update, context: Context, person: Person,
                             pending: PendingInput, text: str) -> None:
    ctx = app_ctx(context)
    bodies = await Outcome(ctx).take_reason(person.id, pending, text)
    await reply(update, context, ctx.texts.html(person.language, "outcome.choose_body",
                                       number=bodies.number), body_keyboard(bodies))


def body_keyboard(bodies: Bodies) -> Keyboard:
    return [[Button(name, ANSWER_BODY.data(bodies.complaint_id, key))] for key, name in bodies.choices]


async def appeal_question(context: Context, person: Person,
                          pending: PendingInput) -> tuple[str, Keyboard | None]:
    """What the appeal waits for, to ask it again: the reason, then where to appeal."""
    ctx = app_ctx(context)
    bodies, reason_given = await Outcome(ctx).question(person.id, pending)
    if not reason_given:
        return ctx.texts.html(person.language, "outcome.ask_reason", number=bodies.number), None
    return (ctx.texts.html(person.language, "outcome.choose_body", number=bodies.number),
            body_keyboard(bodies))


async def body_button(update: Update, context: Context) -> None:
    """eb:<complaint>:<department>"""
    ctx, person, parts = await pressed(update, context, ANSWER_BODY)
    body = await Outcome(ctx).escalate(person.id, id_at(parts, 0, count=2), parts[1])
    await settle(update, context, ctx.texts.html(person.language, "outcome.escalated_private",
                                               body=body))
