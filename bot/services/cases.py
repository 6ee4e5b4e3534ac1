"""The case library (典型案例, ch. 9): closed complaints HR or a head marks as typical, with
the lesson learned and tags, for everyone to search and learn from.

`/case NUMBER lesson #tag …` marks (or rewrites) one; `/case NUMBER off` takes it out;
`/cases [word]` searches number, customer, brand, problem, lesson and tags, in either
Chinese script. The monthly report lists the month's new cases.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import to_db
from bot.domain.script import folded
from bot.domain.validation import clean_text
from bot.domain.workflow import Status
from bot.services.audit import record
from bot.services.complaints import Complaints
from bot.services.context import AppContext, Refused
from bot.services.people import Person, keeps_hr_books, person
from bot.store.models import Complaint, TypicalCase

MAX_LESSON = 1000
MAX_TAGS, MAX_TAG = 10, 20
LISTED = 5  # /cases: the newest matches (five long lessons fill a message)
_TAG = re.compile(rf"#(\S{{1,{MAX_TAG}}})")
# What a case's search covers, besides its lesson and tags.
SEARCHED_FIELDS = ("customer", "target", "brand", "problem", "event_cause", "event_course")


@dataclass(frozen=True)
class Case:
    number: str
    customer: str
    brand: str
    problem: str
    lesson: str
    tags: tuple[str, ...]
    marked_by: str
    marked_at: datetime


def read_lesson(text: str) -> tuple[str, list[str]]:
    """'lesson words #tag #tag' → (the lesson without the tags, the tags in order, once)."""
    tags = list(dict.fromkeys(_TAG.findall(text)))
    lesson = clean_text(_TAG.sub("", text))
    return lesson, tags


class Cases:
    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx
        self.complaints = Complaints(ctx)

    def _may_mark(self, actor: Person | None) -> bool:
        """HR, any department's head, an admin (ch. 9 leaves it to the managers)."""
        return actor is not None and (actor.is_head or keeps_hr_books(self.ctx, actor))

    async def _closed(self, session: AsyncSession, actor_id: int,
                      number: str) -> tuple[Complaint, Person, TypicalCase | None]:
        """The closed complaint, if the actor may keep its case: HR, a head or an admin who
        may see the complaint; a case marked already, only whoever marked it, HR or an
        admin rewrite or remove. With the case as it is, if any."""
        complaint = await self.complaints.find(session, number.strip())
        actor = await person(session, self.ctx, actor_id)
        if not self._may_mark(actor):
            raise Refused("errors.not_allowed_to_mark_case")
        assert actor is not None
        if complaint is None or complaint.number is None:
            raise Refused("errors.no_such_complaint", number=number)
        if not await self.complaints.may_see(session, actor, complaint):
            raise Refused("errors.not_allowed_to_see", number=complaint.number)
        if complaint.status != Status.CLOSED:
            raise Refused("errors.case_not_closed", number=complaint.number)
        row = await session.get(TypicalCase, complaint.id)
        if row is not None and row.marked_by != actor.id and not keeps_hr_books(self.ctx, actor):
            raise Refused("errors.case_not_yours", number=complaint.number)
        return complaint, actor, row

    async def mark(self, actor_id: int, number: str, text: str) -> Case:
        lesson, tags = read_lesson(text)
        if not lesson:
            raise Refused("errors.case_usage")
        if len(lesson) > MAX_LESSON:
            raise Refused("errors.too_long", max=MAX_LESSON, length=len(lesson))
        if len(tags) > MAX_TAGS:
            raise Refused("errors.too_many_tags", max=MAX_TAGS)
        async with self.ctx.transaction() as session:
            now = self.ctx.now()
            complaint, actor, row = await self._closed(session, actor_id, number)
            if row is None:
                row = TypicalCase(complaint_id=complaint.id)
                session.add(row)
            row.lesson, row.tags = lesson, tags
            row.marked_by, row.marked_at = actor.id, to_db(now)
            record(session, now, complaint.id, actor.id, "case_marked", lesson=lesson, tags=tags)
            await session.flush()
            return await self._case(session, row, complaint)

    async def unmark(self, actor_id: int, number: str) -> str:
        async with self.ctx.transaction() as session:
            complaint, actor, row = await self._closed(session, actor_id, number)
            if row is None:
                raise Refused("errors.not_a_case", number=complaint.number)
            await session.delete(row)
            record(session, self.ctx.now(), complaint.id, actor.id, "case_unmarked")
            return str(complaint.number)

    async def search(self, actor_id: int, words: str) -> tuple[list[Case], int]:
        """The newest cases matching every word (all of them without words), and how many
        matched. Members only: the library is the company's."""
        needles = [folded(w) for w in words.split()]
        async with self.ctx.sessions() as session:
            actor = await person(session, self.ctx, actor_id)
            if actor is None or not actor.is_member:
                raise Refused("errors.not_member_cases")
            rows = list(await session.execute(
                select(TypicalCase, Complaint).join(Complaint, Complaint.id == TypicalCase.complaint_id)
                .order_by(TypicalCase.marked_at.desc(), TypicalCase.complaint_id.desc())))
            found = []
            for row, complaint in rows:
                answers = complaint.answers or {}
                haystack = folded(" ".join([complaint.number or "", row.lesson, *row.tags,
                                            *(str(answers.get(k) or "") for k in SEARCHED_FIELDS)]))
                if all(n in haystack for n in needles):
                    found.append((row, complaint))
            return [await self._case(session, r, c) for r, c in found[:LISTED]], len(found)

    async def marked_between(self, session: AsyncSession, start: datetime,
                             end: datetime) -> list[Case]:
        """The cases marked in a period (the monthly report's new cases)."""
        rows = await session.execute(
            select(TypicalCase, Complaint).join(Complaint, Complaint.id == TypicalCase.complaint_id)
            .where(TypicalCase.marked_at >= to_db(start), TypicalCase.marked_at < to_db(end))
            .order_by(TypicalCase.marked_at))
        return [await self._case(session, r, c) for r, c in rows]

    async def _case(self, session: AsyncSession, row: TypicalCase, complaint: Complaint) -> Case:
        answers = complaint.answers or {}
        marker = await person(session, self.ctx, row.marked_by)
        return Case(number=complaint.number or "",
                    customer=str(answers.get("customer") or answers.get("target") or ""),
                    brand=str(answers.get("brand") or ""),
                    problem=str(answers.get("problem") or answers.get("event_cause") or ""),
                    lesson=row.lesson, tags=tuple(row.tags),
                    marked_by=marker.display_name if marker else str(row.marked_by),
                    marked_at=self.complaints.local(row.marked_at))
