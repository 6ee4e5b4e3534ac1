"""The department manager's 批准 / 退回 (rule 一.1)."""

from __future__ import annotations

from telegram import Update

from bot.buttons import APPROVAL
from bot.outbox import Keyboard
from bot.services.complaints import Complaints
from bot.services.people import Person
from bot.store.models import PendingInput
from handlers.common import Context, app_ctx, id_at, pressed, reply, settle


async def decision_button(update: Update, context: Context) -> None:
    """ap:<complaint>:y|n"""
    ctx, person, parts = await pressed(update, context, APPROVAL)
    complaints = Complaints(ctx)
    complaint_id = id_at(parts, 0, count=2)
    if parts[1] == "y":
        number = await complaints.approve(person.id, complaint_id)
        text = ctx.texts.html(person.language, "approval.decided_approved", number=number)
    else:
        await complaints.ask_reject_reason(person.id, complaint_id)
        text = ctx.texts.html(person.language, "approval.ask_reason")
    await settle(update, context, text)


async def take_reject_reason(update: Update, context: Context, person: Person,
                             pending: PendingInput, text: str) -> None:
    ctx = app_ctx(context)
    assert pending.ref_id is not None
    await Complaints(ctx).reject(person.id, pending.ref_id, text)
    await reply(update, context, ctx.texts.html(person.language, "approval.decided_rejected"))


async def reject_reason_question(context: Context, person: Person,
                                 pending: PendingInput) -> tuple[str, Keyboard | None]:
    """What take_reject_reason waits for, to ask it again."""
    return app_ctx(context).texts.html(person.language, "approval.ask_reason"), None
