"""Filling a complaint form in the private chat, one field at a time, or by pasting.

The draft row *is* the conversation's state: the field being asked, the answers so
far and the plan of fields still to ask. A restart therefore resumes the same step.
(PTB's ConversationHandler keeps its state in memory and its timeouts do not survive
restarts, which is why the form is not one.)
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import to_db
from bot.domain.fields import ComplaintKind, Field, FieldType, field_by_key, fields_of
from bot.domain.paste import parse_template
from bot.domain.validation import (
    PURPOSE_LABELS,
    REQUEST_LABELS,
    Invalid,
    clean_text,
    validate_answer,
)
from bot.services.context import AppContext, Refused
from bot.services.people import Person, require_member
from bot.store.models import Complaint, Department, Draft

# Modes of a draft: which fields the current pass asks.
GUIDED = "guided"  # every field, in the template's order
EDIT = "edit"  # one field, chosen from the summary
PASTE = "paste"  # the fields a pasted template lacked or got wrong

ENABLED_KINDS = (ComplaintKind.PRODUCT, ComplaintKind.SERVICE)


@dataclass
class FormScreen:
    """What the user should see next; rendered by bot.views.forms."""

    draft_id: int
    kind: ComplaintKind
    answers: dict[str, str]
    photo_count: int
    field: Field | None = None  # the field asked now; None = the summary
    position: int = 0  # the field's place in the form, from 1
    total: int = 0
    choices: list[str] = dataclasses.field(default_factory=list)  # buttons offered for this field
    can_go_back: bool = False
    error: Invalid | None = None  # why the last answer was not taken
    photo_added: bool = False
    resumed: bool = False
    # After a paste: what the template lacked and what was wrong in it.
    missing: list[Field] = dataclasses.field(default_factory=list)
    invalid: list[tuple[Field, Invalid]] = dataclasses.field(default_factory=list)
    pasted: bool = False


def asked_fields(kind: ComplaintKind) -> list[Field]:
    return [f for f in fields_of(kind) if f.asked]


def missing_fields(kind: ComplaintKind, answers: dict[str, str], photo_count: int) -> list[Field]:
    missing = []
    for f in asked_fields(kind):
        if answers.get(f.key):
            continue
        if f.type is FieldType.TEXT_PHOTOS and photo_count:
            continue
        missing.append(f)
    return missing


class Forms:
    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx

    def _today(self) -> date:
        return self.ctx.now().astimezone(self.ctx.settings.zone).date()

    async def _choices(self, session: AsyncSession, f: Field) -> list[str]:
        if f.key == "brand":
            return list(self.ctx.settings.brands)
        if f.key == "request":
            return list(REQUEST_LABELS.values())
        if f.key == "purpose":
            return list(PURPOSE_LABELS.values())
        if f.key == "target":
            rows = await session.scalars(select(Department.name).order_by(Department.key))
            return list(rows)
        return []

    async def _screen(self, session: AsyncSession, draft: Draft, **extra: object) -> FormScreen:
        kind = ComplaintKind(draft.kind)
        form = fields_of(kind)
        screen = FormScreen(draft_id=draft.id, kind=kind, answers=dict(draft.answers),
                            photo_count=len(draft.photos), total=len(form), **extra)  # type: ignore[arg-type]
        if draft.current_field is not None:
            f = field_by_key(kind, draft.current_field)
            screen.field = f
            screen.position = form.index(f) + 1
            screen.choices = await self._choices(session, f)
            plan = list(draft.queue)
            screen.can_go_back = draft.mode != GUIDED or plan.index(f.key) > 0
        return screen

    async def _draft(self, session: AsyncSession, user_id: int, draft_id: int | None = None) -> Draft:
        draft = await session.scalar(select(Draft).where(Draft.user_id == user_id))
        if draft is None or (draft_id is not None and draft.id != draft_id):
            raise Refused("errors.no_form")
        return draft

    def _touch(self, draft: Draft) -> None:
        draft.updated_at = to_db(self.ctx.now())

    def _advance(self, draft: Draft) -> None:
        """Move to the next field of this pass, or to the summary."""
        plan = list(draft.queue)
        assert draft.current_field is not None
        i = plan.index(draft.current_field)
        draft.current_field = plan[i + 1] if i + 1 < len(plan) else None
        if draft.current_field is None:
            draft.mode = GUIDED
            draft.queue = []

    # --- starting -----------------------------------------------------------------

    async def start(self, user_id: int, kind: ComplaintKind) -> FormScreen:
        """A fresh form; a draft in progress is replaced."""
        if kind not in ENABLED_KINDS:
            raise Refused("errors.kind_not_available")
        async with self.ctx.transaction() as session:
            member = await require_member(session, self.ctx, user_id)
            await self._discard(session, user_id)
            draft = self._new_draft(member, kind)
            session.add(draft)
            await session.flush()
            return await self._screen(session, draft)

    def _new_draft(self, member: Person, kind: ComplaintKind) -> Draft:
        now = to_db(self.ctx.now())
        plan = [f.key for f in asked_fields(kind)]
        return Draft(user_id=member.id, kind=kind.value,
                     answers={"complainant": member.name or member.display_name},
                     photos=[], current_field=plan[0], queue=plan, mode=GUIDED,
                     created_at=now, updated_at=now)

    async def _discard(self, session: AsyncSession, user_id: int) -> bool:
        draft = await session.scalar(select(Draft).where(Draft.user_id == user_id))
        if draft is None:
            return False
        await session.delete(draft)
        await session.flush()
        return True

    async def current(self, user_id: int) -> FormScreen | None:
        async with self.ctx.sessions() as session:
            draft = await session.scalar(select(Draft).where(Draft.user_id == user_id))
            return None if draft is None else await self._screen(session, draft, resumed=True)

    async def cancel(self, user_id: int) -> bool:
        async with self.ctx.transaction() as session:
            return await self._discard(session, user_id)

    # --- answering ----------------------------------------------------------------

    async def answer_text(self, user_id: int, text: str) -> FormScreen | None:
        """The typed answer to the step asked now; None when no form is being filled."""
        async with self.ctx.joined() as session:  # refuses nothing: one row changes, or none
            draft = await session.scalar(select(Draft).where(Draft.user_id == user_id))
            if draft is None:
                return None
            if draft.current_field is None:
                # On the summary, typed text is not an answer to anything.
                return await self._screen(session, draft, error=Invalid("use_buttons"))
            f = field_by_key(ComplaintKind(draft.kind), draft.current_field)
            result = validate_answer(f, text, self._today())
            if isinstance(result, Invalid):
                return await self._screen(session, draft, error=result)
            draft.answers = {**draft.answers, f.key: result}
            self._advance(draft)
            self._touch(draft)
            return await self._screen(session, draft)

    async def answer_photo(self, user_id: int, file_id: str, caption: str | None) -> FormScreen:
        async with self.ctx.transaction() as session:
            draft = await self._draft(session, user_id)
            f = (field_by_key(ComplaintKind(draft.kind), draft.current_field)
                 if draft.current_field else None)
            if f is None or f.type is not FieldType.TEXT_PHOTOS:
                return await self._screen(session, draft, error=Invalid("photo_not_here"))
            if len(draft.photos) >= 10:
                return await self._screen(session, draft, error=Invalid("too_many_photos",
                                                                        {"max": 10}))
            draft.photos = [*draft.photos, file_id]
            error = self._add_caption(draft, f, caption)
            self._touch(draft)
            return await self._screen(session, draft, photo_added=True, error=error)

    def _add_caption(self, draft: Draft, f: Field, caption: str | None) -> Invalid | None:
        """Every caption is kept: added to the field's text on a line of its own. One that
        would take the field past its max_length is left out (the photo is kept): the
        reason "caption_too_long" (params max, length: the field's length with it)."""
        result = validate_answer(f, caption or "", self._today())
        if isinstance(result, Invalid) and result.reason == "empty":
            return None  # no caption, or an invisible one
        text = result if isinstance(result, str) else clean_text(caption or "")  # too long alone
        current = draft.answers.get(f.key) or ""
        combined = f"{current}\n{text}" if current else text
        if len(combined) > f.max_length:
            return Invalid("caption_too_long", {"max": f.max_length, "length": len(combined)})
        draft.answers = {**draft.answers, f.key: combined}
        return None

    async def not_text(self, user_id: int) -> FormScreen | None:
        """A sticker, voice note or the like where a typed answer is expected."""
        async with self.ctx.sessions() as session:
            draft = await session.scalar(select(Draft).where(Draft.user_id == user_id))
            if draft is None:
                return None
            return await self._screen(session, draft, error=Invalid("not_text"))

    async def choose(self, user_id: int, draft_id: int, index: int) -> FormScreen:
        async with self.ctx.transaction() as session:
            draft = await self._draft(session, user_id, draft_id)
            if draft.current_field is None:
                raise Refused("errors.stale_button")
            f = field_by_key(ComplaintKind(draft.kind), draft.current_field)
            choices = await self._choices(session, f)
            if not 0 <= index < len(choices):
                raise Refused("errors.stale_button")
            draft.answers = {**draft.answers, f.key: choices[index]}
            self._advance(draft)
            self._touch(draft)
            return await self._screen(session, draft)

    async def keep(self, user_id: int, draft_id: int) -> FormScreen:
        """Keep the value already there (the prefilled name, or photos without more text)."""
        async with self.ctx.transaction() as session:
            draft = await self._draft(session, user_id, draft_id)
            if draft.current_field is None:
                raise Refused("errors.stale_button")
            f = field_by_key(ComplaintKind(draft.kind), draft.current_field)
            has_value = bool(draft.answers.get(f.key)) or (
                f.type is FieldType.TEXT_PHOTOS and bool(draft.photos))
            if not has_value:
                return await self._screen(session, draft, error=Invalid("empty"))
            self._advance(draft)
            self._touch(draft)
            return await self._screen(session, draft)

    async def back(self, user_id: int, draft_id: int) -> FormScreen:
        async with self.ctx.transaction() as session:
            draft = await self._draft(session, user_id, draft_id)
            plan = list(draft.queue)
            if draft.current_field is None:
                raise Refused("errors.stale_button")
            i = plan.index(draft.current_field)
            if i > 0:
                draft.current_field = plan[i - 1]
            elif draft.mode != GUIDED:
                draft.current_field = None  # back to the summary
                draft.mode, draft.queue = GUIDED, []
            self._touch(draft)
            return await self._screen(session, draft)

    async def edit(self, user_id: int, draft_id: int, field_key: str) -> FormScreen:
        async with self.ctx.transaction() as session:
            draft = await self._draft(session, user_id, draft_id)
            kind = ComplaintKind(draft.kind)
            if field_key not in {f.key for f in asked_fields(kind)}:
                raise Refused("errors.stale_button")
            draft.current_field, draft.queue, draft.mode = field_key, [field_key], EDIT
            self._touch(draft)
            return await self._screen(session, draft)

    # --- pasting the paper template ----------------------------------------------

    async def paste(self, user_id: int, text: str) -> FormScreen:
        """Turn a pasted template into a draft and ask only for what it lacks."""
        pasted = parse_template(text)
        kind = pasted.kind or ComplaintKind.PRODUCT
        if kind not in ENABLED_KINDS:
            raise Refused("errors.kind_not_available")
        async with self.ctx.transaction() as session:
            member = await require_member(session, self.ctx, user_id)
            await self._discard(session, user_id)
            draft = self._new_draft(member, kind)
            answers: dict[str, str] = dict(draft.answers)
            invalid: list[tuple[Field, Invalid]] = []
            for f in asked_fields(kind):
                raw = pasted.values.get(f.key)
                if raw is None:
                    continue
                result = validate_answer(f, raw, self._today())
                if isinstance(result, Invalid):
                    invalid.append((f, result))
                    answers.pop(f.key, None)
                else:
                    answers[f.key] = result
            missing = [f for f in missing_fields(kind, answers, 0)
                       if f.key not in {bad.key for bad, _ in invalid}]
            plan = [f.key for f in asked_fields(kind)
                    if f in missing or f.key in {bad.key for bad, _ in invalid}]
            draft.answers = answers
            draft.queue = plan
            draft.current_field = plan[0] if plan else None
            draft.mode = PASTE if plan else GUIDED
            session.add(draft)
            await session.flush()
            return await self._screen(session, draft, missing=missing, invalid=invalid,
                                      pasted=True)

    async def reopen(self, user_id: int, complaint_id: int) -> FormScreen:
        """A complaint sent back by the manager becomes a draft again, at its summary."""
        async with self.ctx.transaction() as session:
            complaint = await session.get(Complaint, complaint_id)
            if complaint is None or complaint.complainant_id != user_id \
                    or complaint.status != "rejected":
                raise Refused("errors.stale_button")
            member = await require_member(session, self.ctx, user_id)
            await self._discard(session, user_id)
            draft = self._new_draft(member, ComplaintKind(complaint.kind))
            draft.answers = dict(complaint.answers)
            draft.photos = list(complaint.photos)
            draft.current_field, draft.queue = None, []
            session.add(draft)
            await session.flush()
            return await self._screen(session, draft)
