"""Turning service results into texts and keyboards (all words come from templates/)."""

from __future__ import annotations

import html
import re
from datetime import datetime

from bot.buttons import DEPARTMENT_PICKER, FORM, FREIGHT_BEARER, STEP
from bot.domain.fields import FieldType, fields_of
from bot.outbox import Button, Keyboard
from bot.services.complaints import CardView, HistoryItem
from bot.services.forms import FormScreen, asked_fields
from bot.services.freight import SlipForm
from bot.services.handling import Picker
from bot.texts import TEXT_BUDGET, Texts, visible_length

TOPIC_NAME_LIMIT = 128


def form_screen(texts: Texts, lang: str, screen: FormScreen) -> tuple[str, Keyboard]:
    def data(*parts: object) -> str:
        return FORM.data(screen.draft_id, *parts)

    if screen.field is None:
        text = texts.html(lang, "form.summary", screen=screen, fields=fields_of(screen.kind))
        rows: Keyboard = []
        edit_buttons = [Button(texts.plain(lang, "buttons.edit_field", label=texts.gettext(lang, f.label)),
                               data("e", f.key)) for f in asked_fields(screen.kind)]
        rows.extend(edit_buttons[i:i + 2] for i in range(0, len(edit_buttons), 2))
        rows.append([Button(texts.plain(lang, "buttons.submit"), data("submit")),
                     Button(texts.plain(lang, "buttons.cancel"), data("cancel"))])
        return text, rows
    field = screen.field
    text = texts.html(lang, "form.ask", screen=screen, field=field)
    rows = []
    # The rule book's choices in the reader's script (a brand or a department: as it is).
    choice_buttons = [Button(texts.gettext(lang, choice)[:60], data("c", i))
                      for i, choice in enumerate(screen.choices)]
    rows.extend(choice_buttons[i:i + 3] for i in range(0, len(choice_buttons), 3))
    current = screen.answers.get(field.key)
    if field.type is FieldType.NAME and current:
        rows.append([Button(texts.plain(lang, "buttons.keep_name", name=current), data("keep"))])
    if field.type is FieldType.TEXT_PHOTOS and (screen.photo_count or current):
        rows.append([Button(texts.plain(lang, "buttons.next"), data("keep"))])
    nav = []
    if screen.can_go_back:
        nav.append(Button(texts.plain(lang, "buttons.back"), data("back")))
    nav.append(Button(texts.plain(lang, "buttons.cancel"), data("cancel")))
    rows.append(nav)
    return text, rows


def card(texts: Texts, lang: str, view: CardView) -> str:
    return texts.html(lang, "card.card", card=view)


def card_keyboard(texts: Texts, lang: str, view: CardView, complaint_id: int) -> Keyboard:
    """One button per department that owes a step now (st:<complaint>:<step>:<department>)."""
    return [[Button(texts.plain(lang, "buttons.step", step=s.key, department=s.department),
                    STEP.data(complaint_id, s.key, s.department_key))] for s in view.actions]


def picker_keyboard(texts: Texts, lang: str, picker: Picker) -> Keyboard:
    """Departments to tick (several, then confirm) or to pick (one)."""
    def data(choice: str) -> str:
        return DEPARTMENT_PICKER.data(picker.complaint_id, choice)

    if not picker.many:
        return [[Button(name, data(str(i)))] for i, (_key, name) in enumerate(picker.choices)]
    rows = [[Button(texts.plain(lang, "buttons.tick", name=name, ticked=key in picker.selected),
                    data(f"t{i}"))] for i, (key, name) in enumerate(picker.choices)]
    rows.append([Button(texts.plain(lang, "buttons.confirm_departments"), data("ok"))])
    return rows


def topic_name(texts: Texts, lang: str, view: CardView) -> str:
    name = texts.plain(lang, "card.topic_name", card=view)
    return name if len(name) <= TOPIC_NAME_LIMIT else name[: TOPIC_NAME_LIMIT - 1] + "…"


RECORD_PAGE = TEXT_BUDGET - 200  # room for the page's heading
RECORD_PAGES_SHOWN = 3  # a longer record is sent as a file


def record_pages(texts: Texts, lang: str, view: CardView, items: list[HistoryItem]) -> list[str]:
    """A complaint's whole record (/show), nothing shortened, as pages of at most one
    message each, headed "page k of n" when there are several. Pages break between lines
    (the template keeps each tag within a line); a line longer than a page is cut where no
    tag or entity is."""
    lines: list[str] = []
    for line in texts.unfitted_html(lang, "card.record", card=view, items=items).split("\n"):
        while visible_length(line) > RECORD_PAGE:
            head, line = _cut(line, RECORD_PAGE)
            lines.append(head)
        lines.append(line)
    pages: list[list[str]] = [[]]
    used = 0
    for line in lines:
        size = visible_length(line) + 1
        if pages[-1] and used + size > RECORD_PAGE:
            pages.append([])
            used = 0
        pages[-1].append(line)
        used += size
    bodies = ["\n".join(page).strip() for page in pages if "".join(page).strip()]
    if len(bodies) == 1:
        return bodies
    return [texts.html(lang, "card.page_heading", number=view.number, page=k, pages=len(bodies))
            + "\n" + body for k, body in enumerate(bodies, 1)]


def record_file(pages: list[str]) -> bytes:
    """The record as a plain-text file (tags dropped, entities decoded)."""
    return "\n\n".join(html.unescape(_TAG.sub("", page)) for page in pages).encode("utf-8")


_TAG = re.compile(r"<[^>]*>")


def _cut(line: str, room: int) -> tuple[str, str]:
    """The longest head of `line` with at most `room` visible characters, not inside a tag
    or an entity, and the rest."""
    visible, i, cut = 0, 0, 0
    while i < len(line) and visible < room:
        if line[i] == "<":
            i = line.index(">", i) + 1
        elif line[i] == "&" and ";" in line[i:i + 10]:
            i = line.index(";", i) + 1
            visible += 1
        else:
            visible += 2 if ord(line[i]) > 0xFFFF else 1
            i += 1
        cut = i
    return line[:cut], line[cut:]


def slip_screen(texts: Texts, lang: str, form: SlipForm) -> tuple[str, Keyboard | None]:
    """A freight slip being written: the next question, with the departments to choose
    from when it asks who bears the freight."""
    keyboard = [[Button(name, FREIGHT_BEARER.data(key))] for key, name in form.departments] \
        if form.stage == "bearer" else None
    return texts.html(lang, "chains.freight_form", form=form), keyboard


def record_document(texts: Texts, lang: str, view: CardView, items: list[HistoryItem],
                    photos: list[str | None], made_at: datetime) -> bytes:
    """A complaint's record as one self-contained HTML file (/export, the archive chat): the
    whole record as /show has it, the photos inside (base64; None: one that could not be
    fetched), and when it was made."""
    record = texts.unfitted_html(lang, "card.record", card=view, items=items)
    figures = "\n".join(
        f'<figure><img src="data:{_image_type(data)};base64,{data}" alt="{i}"></figure>'
        if data else f"<p>{texts.html(lang, 'card.record_photo_missing', index=i)}</p>"
        for i, data in enumerate(photos, 1))
    title = texts.html(lang, "card.record_document_title", number=view.number)
    photos_heading = texts.html(lang, "card.record_photos_heading", count=len(photos))
    footer = texts.html(lang, "card.record_document_footer", at=made_at)
    page = (f'<!DOCTYPE html>\n<html lang="{html.escape(lang)}">\n<head>\n<meta charset="utf-8">\n'
            f"<title>{title}</title>\n<style>{_RECORD_STYLE}</style>\n</head>\n<body>\n"
            f'<div class="record">{record}</div>\n'
            + (f"<h2>{photos_heading}</h2>\n{figures}\n" if photos else "")
            + f"<footer>{footer}</footer>\n</body>\n</html>\n")
    return page.encode("utf-8")


_RECORD_STYLE = ("body{font-family:sans-serif;max-width:48em;margin:2em auto;padding:0 1em}"
                 ".record{white-space:pre-wrap;line-height:1.5}"
                 "img{max-width:100%}footer{margin-top:2em;color:#666;font-size:small}")


def _image_type(data: str) -> str:
    """The MIME type of a base64 image, from its first bytes (Telegram's photos are JPEG)."""
    return "image/png" if data.startswith("iVBOR") else "image/jpeg"
