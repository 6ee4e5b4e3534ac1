"""The Telegram edge: every handler, registered in one place and in order."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.ext import (
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.buttons import (
    ANSWER_BODY,
    APPROVAL,
    CHAIN_STEP,
    DAILY_SHEET,
    DEPARTMENT_PICKER,
    FINE,
    FOLLOW_UP,
    FORM,
    FORM_CHOICE,
    FREIGHT_BEARER,
    JOIN_DECISION,
    JOIN_DEPARTMENT,
    LANGUAGE,
    RESUBMIT,
    STEP,
    VERDICT,
)
from bot.inbox import current_edge
from bot.services.context import Refused
from handlers import (
    analysis,
    approval,
    chains,
    fines,
    followups,
    forms,
    general,
    lists,
    membership,
    outcome,
    records,
    severity,
    thread,
    unknown,
)
from handlers.common import BotApplication, Context, answer_refusal

log = logging.getLogger(__name__)

PRIVATE = filters.ChatType.PRIVATE


def register(app: BotApplication) -> None:
    # Group -1: who may talk to the bot at all (private chats and the workgroup).
    app.add_handler(TypeHandler(Update, general.gate), group=-1)

    app.add_handler(CommandHandler("start", general.start))
    app.add_handler(CommandHandler("help", general.help_command))
    app.add_handler(CommandHandler("whoami", membership.whoami))
    app.add_handler(CommandHandler("language", general.language_command))
    app.add_handler(CommandHandler("join", membership.join))
    app.add_handler(CommandHandler("show", general.show))
    app.add_handler(CommandHandler("major", severity.major))
    app.add_handler(CommandHandler("minor", severity.minor))
    app.add_handler(CommandHandler("followups", followups.followups))
    app.add_handler(CommandHandler("case", records.case))
    app.add_handler(CommandHandler("cases", records.cases))
    app.add_handler(CommandHandler("export", records.export))
    app.add_handler(CommandHandler("product", forms.product, filters=PRIVATE))
    app.add_handler(CommandHandler("service", forms.service, filters=PRIVATE))
    app.add_handler(CommandHandler("mine", lists.mine))
    app.add_handler(CommandHandler("open", lists.owed))
    app.add_handler(CommandHandler("answer", thread.answer_command, filters=~PRIVATE))
    app.add_handler(CommandHandler("fund", fines.fund))
    app.add_handler(CommandHandler("fines", fines.listing))
    app.add_handler(CommandHandler("fines_xlsx", fines.workbook))
    app.add_handler(CommandHandler("summary", fines.summary))
    app.add_handler(CommandHandler("report", analysis.report))
    app.add_handler(CommandHandler("waive", fines.waive_command))
    app.add_handler(CommandHandler("paid", fines.paid_command))
    app.add_handler(CommandHandler("sheet", chains.sheet_command))
    app.add_handler(CommandHandler("crx", chains.crx_command))
    app.add_handler(CommandHandler("freight", chains.freight_command, filters=PRIVATE))
    app.add_handler(CommandHandler("freight_xlsx", chains.freight_xlsx_command))
    app.add_handler(CommandHandler("cancel", forms.cancel, filters=PRIVATE))
    app.add_handler(CommandHandler("complain", general.complain, filters=~PRIVATE))
    app.add_handler(CommandHandler("bind", general.bind))
    # After every CommandHandler: a command none of them took, in private only (in the
    # workgroup an unknown command may be another bot's, so it stays silent).
    app.add_handler(MessageHandler(PRIVATE & filters.COMMAND & filters.UpdateType.MESSAGE,
                                   unknown.unknown_command))

    app.add_handler(CallbackQueryHandler(general.kind_button, pattern=FORM_CHOICE.pattern))
    app.add_handler(CallbackQueryHandler(forms.form_button, pattern=FORM.pattern))
    app.add_handler(CallbackQueryHandler(forms.resubmit_button, pattern=RESUBMIT.pattern))
    app.add_handler(CallbackQueryHandler(approval.decision_button, pattern=APPROVAL.pattern))
    app.add_handler(CallbackQueryHandler(thread.step_button, pattern=STEP.pattern))
    app.add_handler(CallbackQueryHandler(thread.picker_button, pattern=DEPARTMENT_PICKER.pattern))
    app.add_handler(CallbackQueryHandler(outcome.verdict_button, pattern=VERDICT.pattern))
    app.add_handler(CallbackQueryHandler(outcome.body_button, pattern=ANSWER_BODY.pattern))
    app.add_handler(CallbackQueryHandler(fines.fine_button, pattern=FINE.pattern))
    app.add_handler(CallbackQueryHandler(chains.chain_button, pattern=CHAIN_STEP.pattern))
    app.add_handler(CallbackQueryHandler(chains.sheet_button, pattern=DAILY_SHEET.pattern))
    app.add_handler(CallbackQueryHandler(chains.bearer_button, pattern=FREIGHT_BEARER.pattern))
    app.add_handler(CallbackQueryHandler(membership.department_button, pattern=JOIN_DEPARTMENT.pattern))
    app.add_handler(CallbackQueryHandler(membership.decision_button, pattern=JOIN_DECISION.pattern))
    app.add_handler(CallbackQueryHandler(general.language_button, pattern=LANGUAGE.pattern))
    app.add_handler(CallbackQueryHandler(followups.followup_button, pattern=FOLLOW_UP.pattern))

    app.add_handler(MessageHandler(PRIVATE & filters.TEXT & ~filters.COMMAND, forms.private_text))
    app.add_handler(MessageHandler(PRIVATE & filters.PHOTO, forms.private_photo))
    app.add_handler(MessageHandler(PRIVATE & ~filters.COMMAND & ~filters.TEXT & ~filters.PHOTO
                                   & ~filters.StatusUpdate.ALL, forms.private_other))
    # The workgroup (the gate lets no other group through): answers and comments.
    app.add_handler(MessageHandler(~PRIVATE & ~filters.COMMAND & ~filters.StatusUpdate.ALL,
                                   thread.group_message))

    app.add_error_handler(on_error)


async def on_error(update: object, context: Context) -> None:
    """A handler raised. A refusal (`Refused`: the user may not do this, or must do it
    differently) is answered here, once for every handler; its savepoint, if any, has
    undone its part and the rest of the update commits. Anything else: the inbox rolls the
    update back and apologises (bot.inbox)."""
    edge = current_edge()
    if edge is None or edge.update is not update:  # not from an update (e.g. a job)
        log.error("unexpected error", exc_info=context.error)
        return
    if isinstance(context.error, Refused) and isinstance(update, Update):
        await answer_refusal(update, context, context.error)
        raise ApplicationHandlerStop
    edge.failed = context.error
    raise ApplicationHandlerStop  # nothing more runs in the failed update
