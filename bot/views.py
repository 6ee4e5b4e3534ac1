"""Turning service results into texts and keyboards (all words come from templates/)."""

from __future__ import annotations

from bot.domain.fields import FieldType, fields_of
from bot.outbox import Button, Keyboard
from bot.services.complaints import CardView, HistoryItem
from bot.services.forms import FormScreen, asked_fields
from bot.services.freight import SlipForm
from bot.services.handling import Picker
from bot.texts import Texts

TOPIC_NAME_LIMIT = 128


def form_screen(texts: Texts, lang: str, screen: FormScreen) -> tuple[str, Keyboard]:
    prefix = f"f:{screen.draft_id}"
    if screen.field is None:
        text = texts.html(lang, "form.summary", screen=screen, fields=fields_of(screen.kind))
        rows: Keyboard = []
        edit_buttons = [Button(texts.plain(lang, "buttons.edit_field", label=f.label),
                               f"{prefix}:e:{f.key}") for f in asked_fields(screen.kind)]
        rows.extend(edit_buttons[i:i + 2] for i in range(0, len(edit_buttons), 2))
        rows.append([Button(texts.plain(lang, "buttons.submit"), f"{prefix}:submit"),
                     Button(texts.plain(lang, "buttons.cancel"), f"{prefix}:cancel")])
        return text, rows
    field = screen.field
    text = texts.html(lang, "form.ask", screen=screen, field=field)
    rows = []
    choice_buttons = [Button(choice[:60], f"{prefix}:c:{i}") for i, choice in enumerate(screen.choices)]
    rows.extend(choice_buttons[i:i + 3] for i in range(0, len(choice_buttons), 3))
    current = screen.answers.get(field.key)
    if field.type is FieldType.NAME and current:
        rows.append([Button(texts.plain(lang, "buttons.keep_name", name=current), f"{prefix}:keep")])
    if field.type is FieldType.TEXT_PHOTOS and (screen.photo_count or current):
        rows.append([Button(texts.plain(lang, "buttons.next"), f"{prefix}:keep")])
    nav = []
    if screen.can_go_back:
        nav.append(Button(texts.plain(lang, "buttons.back"), f"{prefix}:back"))
    nav.append(Button(texts.plain(lang, "buttons.cancel"), f"{prefix}:cancel"))
    rows.append(nav)
    return text, rows


def card(texts: Texts, lang: str, view: CardView) -> str:
    return texts.html(lang, "card.card", card=view)


def card_keyboard(texts: Texts, lang: str, view: CardView, complaint_id: int) -> Keyboard:
    """One button per department that owes a step now (st:<complaint>:<step>:<department>)."""
    return [[Button(texts.plain(lang, "buttons.step", step=s.key, department=s.department),
                    f"st:{complaint_id}:{s.key}:{s.department_key}")] for s in view.actions]


def picker_keyboard(texts: Texts, lang: str, picker: Picker) -> Keyboard:
    """Departments to tick (several, then confirm) or to pick (one)."""
    prefix = f"pk:{picker.complaint_id}"
    if not picker.many:
        return [[Button(name, f"{prefix}:{i}")] for i, (_key, name) in enumerate(picker.choices)]
    rows = [[Button(texts.plain(lang, "buttons.tick", name=name, ticked=key in picker.selected),
                    f"{prefix}:t{i}")] for i, (key, name) in enumerate(picker.choices)]
    rows.append([Button(texts.plain(lang, "buttons.confirm_departments"), f"{prefix}:ok")])
    return rows


def topic_name(texts: Texts, lang: str, view: CardView) -> str:
    name = texts.plain(lang, "card.topic_name", card=view)
    return name if len(name) <= TOPIC_NAME_LIMIT else name[: TOPIC_NAME_LIMIT - 1] + "…"


def history(texts: Texts, lang: str, view: CardView, items: list[HistoryItem]) -> str:
    return texts.html(lang, "card.history", card=view, items=items)


def slip_screen(texts: Texts, lang: str, form: SlipForm) -> tuple[str, Keyboard | None]:
    """A freight slip being written: the next question, with the departments to choose
    from when it asks who bears the freight."""
    keyboard = [[Button(name, f"fb:{key}")] for key, name in form.departments] \
        if form.stage == "bearer" else None
    return texts.html(lang, "chains.freight_form", form=form), keyboard
