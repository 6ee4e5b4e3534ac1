"""Follow-up visits (回訪): the visitor's buttons and typed words, and /followups."""

from __future__ import annotations

from telegram import Update

from bot.buttons import FOLLOW_UP
from bot.outbox import Button, Keyboard
from bot.services.followups import FollowUps
from bot.services.people import Person
from bot.store.models import PendingInput
from handlers.common import Context, app_ctx, drop_keyboard, id_at, pressed, reply, sender_of

MAX_LISTED_BUTTONS = 20  # /followups: a button per visit, the soonest due first


async def followups(update: Update, context: Context) -> None:
    """/followups: the visits waiting on you (HR and the admins: everyone's)."""
    ctx = app_ctx(context)
    person = await sender_of(update, context)
    waiting = await FollowUps(ctx).waiting(person.id)
    keyboard: Keyboard = [
        [Button(ctx.texts.plain(person.language, "buttons.followup_record", number=v.number),
                FOLLOW_UP.data(v.id, "go", "0"))]
        for v in [*waiting.mine, *waiting.others][:MAX_LISTED_BUTTONS]]
    await reply(update, context, ctx.texts.html(person.language, "followup.listing",
                                                waiting=waiting), keyboard or None)


async def followup_button(update: Update, context: Context) -> None:
    """fu:<visit>:m|s|n:<value> an answer; fu:<visit>:r:y|n reopen or not; fu:<visit>:go:0 start."""
    ctx, person, parts = await pressed(update, context, FOLLOW_UP)
    visit_id = id_at(parts, 0, count=3)
    field, value = parts[1], parts[2]
    visits = FollowUps(ctx)
    if field == "go":
        text, keyboard = await visits.start(person.id, visit_id)
    elif field == "r":
        visit = await visits.reopen(person.id, visit_id, value == "y")
        text, keyboard = (visits.question(person.language, visit) if visit.reopened else
                          (ctx.texts.html(person.language, "followup.kept_closed", visit=visit),
                           None))
    else:
        text, keyboard = visits.question(person.language,
                                         await visits.choose(person.id, visit_id, field, value))
    await drop_keyboard(update, context)
    await reply(update, context, text, keyboard)


async def take_words(update: Update, context: Context, person: Person, pending: PendingInput,
                     text: str) -> None:
    visits = FollowUps(app_ctx(context))
    question, keyboard = visits.question(person.language,
                                         await visits.take_words(person.id, pending, text))
    await reply(update, context, question, keyboard)


async def words_question(context: Context, person: Person,
                         pending: PendingInput) -> tuple[str, Keyboard | None]:
    return await FollowUps(app_ctx(context)).asked(person.id, pending)
