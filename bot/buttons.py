"""Every kind of button the bot puts under its messages, declared once: how its callback
data is built (services and views) and read (handlers), and the pattern its handler is
registered with (handlers/__init__.py).

On the wire a kind is a short prefix and its parts, joined with ':' (`ap:12:y`): Telegram
allows 64 bytes of callback data. The prefixes stay as they are, so that buttons already
sent keep working; the names here say what each kind is. The callback data only says which
button was pressed: who may press it is always read from the database.
"""

from __future__ import annotations

from dataclasses import dataclass

SEPARATOR = ":"


@dataclass(frozen=True)
class ButtonKind:
    prefix: str
    layout: str  # the parts after the prefix, for the reader

    def data(self, *parts: object) -> str:
        return SEPARATOR.join((self.prefix, *map(str, parts)))

    def parts(self, data: str | None) -> list[str]:
        """'ap:12:y' → ['12', 'y']; [] for data of another kind."""
        prefix, *parts = (data or "").split(SEPARATOR)
        return parts if prefix == self.prefix else []

    @property
    def pattern(self) -> str:
        """For CallbackQueryHandler: data of this kind."""
        return f"^{self.prefix}{SEPARATOR}"


FORM_CHOICE = ButtonKind("k", "<kind>: /start's choice of a form (product or service)")
FORM = ButtonKind("f", "<draft>:<action>[:arg]: a form's choices, keep, back, edit, submit, "
                       "cancel")
RESUBMIT = ButtonKind("rs", "<complaint>: a rejected complaint back into a draft")
APPROVAL = ButtonKind("ap", "<complaint>:y|n: the head approves or rejects a complaint")
STEP = ButtonKind("st", "<complaint>:<step>:<department>: a department takes its step")
DEPARTMENT_PICKER = ButtonKind("pk", "<complaint>:<index> | t<index> | ok: departments picked "
                                     "or ticked, then confirmed")
VERDICT = ButtonKind("vd", "<complaint>:ok|ap: the complainant accepts the answer or appeals")
ANSWER_BODY = ButtonKind("eb", "<complaint>:<department>: which department's whole answer "
                               "to show")
FINE = ButtonKind("fn", "<fine>:waive|paid: HR waives a fine or marks it paid")
CHAIN_STEP = ButtonKind("cs", "<step>:s|t|a|m|r: sign, write, approve, amend or reject a "
                              "step of a sign-off chain")
DAILY_SHEET = ButtonKind("sh", "<sheet>:c|s: HR confirms the daily sheet; a head signs their rows")
FREIGHT_BEARER = ButtonKind("fb", "<department>: the department that bears the freight")
JOIN_DEPARTMENT = ButtonKind("jd", "<department>: the department someone asks to join")
JOIN_DECISION = ButtonKind("jr", "<request>:y|n: the head decides on a request to join")
LANGUAGE = ButtonKind("lg", "<language>: the language chosen with /language (zh-Hant, zh-Hans, en; "
                            "app: the Telegram app's)")
FOLLOW_UP = ButtonKind("fu", "<visit>:m|s|n|r|go:<value>: a follow-up visit's answers (how, "
                             "satisfaction, more needed), reopening, or /followups' start")

ALL_KINDS = (FORM_CHOICE, FORM, RESUBMIT, APPROVAL, STEP, DEPARTMENT_PICKER, VERDICT,
             ANSWER_BODY, FINE, CHAIN_STEP, DAILY_SHEET, FREIGHT_BEARER, JOIN_DEPARTMENT,
             JOIN_DECISION, LANGUAGE, FOLLOW_UP)
