"""/whoami, /join and the head's decision on a join request."""

from __future__ import annotations

from telegram import Update

from bot.buttons import JOIN_DECISION, JOIN_DEPARTMENT
from bot.commands import set_personal_menu
from bot.outbox import Button, Keyboard
from bot.services.context import Refused
from bot.services.joining import Joining
from bot.services.people import People, Person
from bot.store.models import PendingInput
from handlers.common import Context, app_ctx, id_at, is_private, pressed, refuse, reply, sender_of, settle


async def whoami(update: Update, context: Context) -> None:
    ctx = app_ctx(context)
    person = await sender_of(update, context)
    await reply(
        update,
        context,
        ctx.texts.html(person.language, "membership.whoami", user_id=person.id, person=person),
    )


async def join(update: Update, context: Context) -> None:
    ctx = app_ctx(context)
    person = await sender_of(update, context)
    if not is_private(update):
        await refuse(update, context, person.language, Refused("errors.private_only"))
        return
    if person.is_member:
        await reply(
            update,
            context,
            ctx.texts.html(
                person.language, "membership.already_member", department=person.department_name
            ),
        )
        return
    depts = await People(ctx).departments()
    buttons = [Button(d.name, JOIN_DEPARTMENT.data(d.key)) for d in depts]
    keyboard = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    await reply(update, context, ctx.texts.html(person.language, "membership.choose_department"), keyboard)


async def department_button(update: Update, context: Context) -> None:
    """jd:<department key>"""
    ctx, person, parts = await pressed(update, context, JOIN_DEPARTMENT)
    if person.is_member:
        raise Refused("errors.already_decided")
    dept = await Joining(ctx).ask_name(person.id, parts[0] if parts else "")
    await settle(update, context, ctx.texts.html(person.language, "membership.ask_name",
                                               department=dept.name))


async def join_name_question(context: Context, person: Person,
                             pending: PendingInput) -> tuple[str, Keyboard | None]:
    """What take_join_name waits for, to ask it again."""
    ctx = app_ctx(context)
    name = ctx.settings.department_name(str(pending.data.get("department", "")))
    return ctx.texts.html(person.language, "membership.ask_name", department=name), None


async def take_join_name(
    update: Update,
    context: Context,
    person: Person,
    pending: PendingInput,
    text: str,
) -> None:
    ctx = app_ctx(context)
    department_key = str(pending.data.get("department", ""))
    await Joining(ctx).submit(person.id, department_key, text)
    name = ctx.settings.department_name(department_key)
    await reply(update, context, ctx.texts.html(person.language, "membership.join_sent", department=name))


async def decision_button(update: Update, context: Context) -> None:
    """jr:<request>:y|n — the department's head (or an admin) decides."""
    ctx, person, parts = await pressed(update, context, JOIN_DECISION)
    decision = await Joining(ctx).decide(person.id, id_at(parts, 0, count=2),
                                 approve=parts[1] == "y")
    await settle(update, context, ctx.texts.html(person.language, "membership.decided",
                                               approved=decision.approved, name=decision.name,
                                               department=decision.department_name))
    if decision.approved:  # a member's commands, in the menu too
        await set_personal_menu(context.bot, ctx, decision.requester)
