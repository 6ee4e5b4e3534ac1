"""Filing a complaint in the private chat: the guided form, pasted templates, /cancel."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from telegram import Update

from bot import views
from bot.buttons import FORM, RESUBMIT
from bot.domain.fields import ComplaintKind, FieldType
from bot.domain.paste import looks_like_template
from bot.outbox import Keyboard
from bot.services.chains import CHAIN_INPUT
from bot.services.complaints import Complaints
from bot.services.context import Refused
from bot.services.conversation import Conversation
from bot.services.fines import WAIVE_REASON
from bot.services.followups import FOLLOW_UP_WORDS
from bot.services.forms import Forms, FormScreen
from bot.services.freight import FREIGHT_FORM
from bot.services.outcome import APPEAL_REASON
from bot.services.people import Person
from bot.store.models import PendingInput
from handlers import approval, chains, fines, followups, membership, outcome
from handlers.common import (
    Context,
    app_ctx,
    check_split_tail,
    choice_at,
    drop_keyboard,
    id_at,
    note_if_split,
    reply,
    sender_of,
)


async def show_screen(update: Update, context: Context, person: Person,
                      screen: FormScreen) -> None:
    ctx = app_ctx(context)
    text, keyboard = views.form_screen(ctx.texts, person.language, screen)
    if screen.resumed:
        text = ctx.texts.html(person.language, "form.resumed") + "\n\n" + text
    await reply(update, context, text, keyboard)
    if screen.error is not None and screen.error.reason == "too_long":
        await note_if_split(update, context)


async def start_form(update: Update, context: Context, person: Person,
                     kind: ComplaintKind) -> None:
    screen = await Forms(app_ctx(context)).start(person.id, kind)
    await show_screen(update, context, person, screen)


async def product(update: Update, context: Context) -> None:
    person = await sender_of(update, context)
    await start_form(update, context, person, ComplaintKind.PRODUCT)


async def service(update: Update, context: Context) -> None:
    person = await sender_of(update, context)
    await start_form(update, context, person, ComplaintKind.SERVICE)


async def cancel(update: Update, context: Context) -> None:
    ctx = app_ctx(context)
    person = await sender_of(update, context)
    had_question = await Conversation(ctx).clear_pending(person.id)
    had_form = await Forms(ctx).cancel(person.id)
    template = "form.cancelled" if had_form or had_question else "form.nothing_to_cancel"
    await reply(update, context, ctx.texts.html(person.language, template))


TakeAnswer = Callable[[Update, Context, Person, PendingInput, str],
                      Awaitable[None]]
# Who takes the typed answer to a question the bot asked (PendingInput.purpose).
ANSWERS_TO: dict[str, TakeAnswer] = {
    "reject_reason": approval.take_reject_reason,
    "join_name": membership.take_join_name,
    APPEAL_REASON: outcome.take_appeal_reason,
    WAIVE_REASON: fines.take_waive_reason,
    CHAIN_INPUT: chains.take_chain_input,
    FREIGHT_FORM: chains.take_freight_input,
    FOLLOW_UP_WORDS: followups.take_words,
}
AskAgain = Callable[[Context, Person, PendingInput],
                    Awaitable[tuple[str, Keyboard | None]]]
# The same questions as they were asked (text, and buttons if they take one), to ask again
# when what came is not typed text (a sticker, a voice note, a file, a photo).
ASKED_AGAIN: dict[str, AskAgain] = {
    "reject_reason": approval.reject_reason_question,
    "join_name": membership.join_name_question,
    APPEAL_REASON: outcome.appeal_question,
    WAIVE_REASON: fines.waive_question,
    CHAIN_INPUT: chains.chain_input_question,
    FREIGHT_FORM: chains.freight_question,
    FOLLOW_UP_WORDS: followups.words_question,
}


async def ask_again(update: Update, context: Context, person: Person,
                    pending: PendingInput) -> None:
    """Not text, while a typed answer is awaited: say that it needs one (or a button), and
    ask the question again."""
    ctx = app_ctx(context)
    question, keyboard = await ASKED_AGAIN[pending.purpose](context, person, pending)
    lead = ctx.texts.html(person.language, "general.typed_answer_needed",
                          buttons=keyboard is not None)
    await reply(update, context, f"{lead}\n\n{question}", keyboard)


async def private_text(update: Update, context: Context) -> None:
    """Any typed text in private: the answer to a pending question, a pasted template,
    or the answer to the form's current step."""
    ctx = app_ctx(context)
    person = await sender_of(update, context)
    message = update.effective_message
    assert message is not None and message.text is not None
    text = message.text
    pending = await Conversation(ctx).pending(person.id)
    await check_split_tail(update, context)
    if pending is not None and pending.purpose in ANSWERS_TO:
        await ANSWERS_TO[pending.purpose](update, context, person, pending, text)
        return
    forms = Forms(ctx)
    if looks_like_template(text):
        await show_screen(update, context, person, await forms.paste(person.id, text))
        return
    screen = await forms.answer_text(person.id, text)
    if screen is None:
        await reply(update, context, ctx.texts.html(person.language, "general.idle_hint"))
        return
    await show_screen(update, context, person, screen)


async def private_photo(update: Update, context: Context) -> None:
    """A photo goes to the form whose current step takes photos; else, while a question
    waits for a typed answer, that question is asked again."""
    ctx = app_ctx(context)
    person = await sender_of(update, context)
    message = update.effective_message
    assert message is not None and message.photo
    forms = Forms(ctx)
    current = await forms.current(person.id)
    takes_photos = current is not None and current.field is not None \
        and current.field.type is FieldType.TEXT_PHOTOS
    pending = await Conversation(ctx).pending(person.id)
    if not takes_photos and pending is not None and pending.purpose in ASKED_AGAIN:
        await ask_again(update, context, person, pending)
        return
    if current is None:
        await reply(update, context, ctx.texts.html(person.language, "general.idle_hint"))
        return
    screen = await forms.answer_photo(person.id, message.photo[-1].file_id, message.caption)
    await show_screen(update, context, person, screen)


async def private_other(update: Update, context: Context) -> None:
    """Stickers, voice notes, files…: say what is expected instead (the question waiting
    for a typed answer first, as typed text goes to it first)."""
    ctx = app_ctx(context)
    person = await sender_of(update, context)
    pending = await Conversation(ctx).pending(person.id)
    if pending is not None and pending.purpose in ASKED_AGAIN:
        await ask_again(update, context, person, pending)
        return
    screen = await Forms(ctx).not_text(person.id)
    if screen is None:
        await reply(update, context, ctx.texts.html(person.language, "general.idle_hint"))
        return
    await show_screen(update, context, person, screen)


async def form_button(update: Update, context: Context) -> None:
    """f:<draft>:<action>[:arg] — choices, keep, back, edit, submit, cancel."""
    query = update.callback_query
    assert query is not None
    ctx = app_ctx(context)
    person = await sender_of(update, context)
    parts = FORM.parts(query.data)
    forms = Forms(ctx)
    draft_id = id_at(parts)
    action, arg = [*parts, "", ""][1:3]
    if action == "submit":
        await submit(update, context, person, draft_id)
        return
    if action == "cancel":
        await forms.cancel(person.id)
        await drop_keyboard(update, context)
        await reply(update, context, ctx.texts.html(person.language, "form.cancelled"))
        return
    if action == "c":
        screen = await forms.choose(person.id, draft_id, choice_at(arg))
    elif action == "keep":
        screen = await forms.keep(person.id, draft_id)
    elif action == "back":
        screen = await forms.back(person.id, draft_id)
    elif action == "e":
        screen = await forms.edit(person.id, draft_id, arg)
    else:
        raise Refused("errors.stale_button")
    await drop_keyboard(update, context)
    await show_screen(update, context, person, screen)


async def submit(update: Update, context: Context, person: Person,
                 draft_id: int) -> None:
    ctx = app_ctx(context)
    submitted = await Complaints(ctx).submit(person.id, draft_id)
    await drop_keyboard(update, context)
    if submitted.approver is None:
        await reply(update, context, ctx.texts.html(person.language, "form.submitted_self"))
    else:
        await reply(update, context, ctx.texts.html(person.language, "form.submitted",
                                           approver=submitted.approver.display_name))


async def resubmit_button(update: Update, context: Context) -> None:
    """rs:<complaint> — a rejected complaint back into a draft, at its summary."""
    query = update.callback_query
    assert query is not None
    person = await sender_of(update, context)
    parts = RESUBMIT.parts(query.data)
    screen = await Forms(app_ctx(context)).reopen(person.id, id_at(parts, count=1))
    await drop_keyboard(update, context)
    await show_screen(update, context, person, screen)
