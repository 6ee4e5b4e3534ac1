"""HR's board (a Telegram Mini App, bot/web.py): open complaints with each waiting step's
owner and time left, the fine ledger, and the monthly report's charts — read only.

Who sees what is decided here, from the database: HR and the admins everything; a
department's head the complaints filed from it or owed by it, and its fines and report; any
other member of a department their own complaints. Someone in no department sees nothing.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from sqlalchemy import exists, or_, select

from bot.domain.fields import ComplaintKind
from bot.domain.severity import Severity
from bot.domain.workflow import ACTIVE
from bot.formats import Money
from bot.services.analysis import Analysis, read_month
from bot.services.complaints import Complaints, message_link
from bot.services.context import AppContext, Refused
from bot.services.fines import Fines
from bot.services.people import Person, keeps_hr_books, person
from bot.store.models import Complaint, Department, StepRecord, User

Scope = Literal["all", "department", "own"]
MAX_COMPLAINTS = 300  # the most urgent first; the rest counted
# The page's words (templates/board.txt.j2), in the viewer's language.
WORDS = ("title", "open_complaints", "fines", "charts", "all_departments", "all_kinds",
         "all_severities", "owner", "due", "none_open", "none_fines", "month",
         "load_charts", "no_charts", "more", "unassigned", "fine_columns")
PERIODS = ("month", "week", "today")  # the ledger's choices (besides the URL's own)


@dataclass(frozen=True)
class Viewer:
    person: Person
    scope: Scope
    department_key: str | None  # the department a head sees


@dataclass(frozen=True)
class BoardStep:
    label: str
    department: str
    owner: str  # the department's head, who answers for it
    due: str  # local time, "" when the step has no deadline
    left: str  # "剩 12 分鐘" / "已逾時 5 分鐘" in the viewer's language
    overdue: bool


@dataclass(frozen=True)
class BoardComplaint:
    number: str
    kind: str
    kind_label: str
    severity: str
    severity_label: str
    customer: str
    filed_by: str  # the complainant's department
    departments: list[str]  # every department it is with: filed from, or owed by
    link: str | None
    steps: list[BoardStep]


@dataclass(frozen=True)
class BoardFine:
    number: str
    step: str
    department: str
    head: str
    amount: str
    status: str
    levied_at: str


@dataclass
class BoardView:
    viewer: str
    scope_label: str
    words: dict[str, str]
    complaints: list[BoardComplaint]
    more: int  # open complaints beyond MAX_COMPLAINTS
    fines: list[BoardFine] | None  # None: the viewer may not see fines
    fine_total: str = ""  # in words: "未豁免合計：100.00 CNY"
    period_label: str = ""
    charts: bool = False  # the viewer may see the monthly report's charts
    departments: list[str] = field(default_factory=list)
    periods: list[tuple[str, str]] = field(default_factory=list)  # the ledger's: key, words
    kinds: list[tuple[str, str]] = field(default_factory=list)  # the filters': key, words
    severities: list[tuple[str, str]] = field(default_factory=list)
    fine_departments: list[tuple[str, str]] = field(default_factory=list)  # HR's ledger filter


class Board:
    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx
        self.complaints = Complaints(ctx)

    async def viewer(self, user_id: int) -> Viewer:
        """Refused("errors.board_not_allowed") for someone in no department."""
        async with self.ctx.sessions() as session:
            actor = await person(session, self.ctx, user_id)
        if actor is None or not (actor.is_member or actor.is_admin):
            raise Refused("errors.board_not_allowed")
        if keeps_hr_books(self.ctx, actor):
            return Viewer(actor, "all", None)
        if actor.is_head and actor.department_key:
            return Viewer(actor, "department", actor.department_key)
        return Viewer(actor, "own", None)

    def _plain(self, lang: str, word: str, /, **params: object) -> str:
        return self.ctx.texts.plain(lang, f"board.{word}", **params)

    def _amount(self, lang: str, cents: int) -> str:
        return self._plain(lang, "amount", money=Money(cents, self.ctx.settings.fines.currency))

    async def view(self, viewer: Viewer, period: str = "month",
                   department_key: str = "") -> BoardView:
        """The board as `viewer` may see it; the ledger for `period` (and, for HR and the
        admins, one department's, by its key)."""
        lang = viewer.person.language
        complaints, more = await self._open(viewer)
        fines, total, period_label = None, "", ""
        fine_departments: list[tuple[str, str]] = []
        if viewer.scope != "own":
            wanted = [department_key] if department_key and viewer.scope == "all" else []
            try:
                listing = await Fines(self.ctx).listing(viewer.person.id, [period, *wanted])
            except Refused:  # a period or department the ledger does not know: this month's
                listing = await Fines(self.ctx).listing(viewer.person.id, ["month"])
            if viewer.scope == "all":
                async with self.ctx.sessions() as session:
                    fine_departments = [(d.key, d.name) for d in await session.scalars(
                        select(Department).order_by(Department.key))]
            fines = [BoardFine(row.number, self.ctx.texts.gettext(lang, row.step), row.department,
                               row.head, self._amount(lang, int(row.amount * 100)),
                               self.ctx.texts.plain(lang, "reports.status", status=row.status_code),
                               f"{row.levied_at:%Y-%m-%d %H:%M}") for row in listing.rows]
            total = self._plain(lang, "total", money=Money(
                sum(int(row.amount * 100) for row in listing.rows if row.status_code != "waived"),
                self.ctx.settings.fines.currency))
            period_label = self.ctx.texts.plain(lang, "reports.period", key=listing.period.key)
        scope_label = (self._plain(lang, "scope_all") if viewer.scope == "all" else
                       self._plain(lang, "scope_department",
                                   name=viewer.person.department_name or "")
                       if viewer.scope == "department" else self._plain(lang, "scope_own"))
        departments = sorted({d for c in complaints for d in c.departments if d})
        return BoardView(viewer.person.display_name, scope_label,
                         {word: self._plain(lang, word) for word in WORDS}, complaints, more,
                         fines, total, period_label, charts=viewer.scope != "own",
                         departments=departments, periods=[
                             (key, self.ctx.texts.plain(lang, "reports.period", key=key))
                             for key in PERIODS],
                         kinds=[(k.value, self._plain(lang, "kind", kind=k.value))
                                for k in ComplaintKind],
                         severities=[(s.value, self._plain(lang, "severity",
                                                           major=s is Severity.MAJOR))
                                     for s in Severity],
                         fine_departments=fine_departments)

    async def _open(self, viewer: Viewer) -> tuple[list[BoardComplaint], int]:
        lang = viewer.person.language
        query = select(Complaint).where(Complaint.status.in_([s.value for s in ACTIVE]))
        if viewer.scope == "department":
            owed = exists().where(StepRecord.complaint_id == Complaint.id,
                                  StepRecord.department_key == viewer.department_key)
            query = query.where(or_(Complaint.department_key == viewer.department_key, owed))
        elif viewer.scope == "own":
            query = query.where(Complaint.complainant_id == viewer.person.id)
        now = self.ctx.now()
        board: list[tuple[bool, datetime, BoardComplaint]] = []
        async with self.ctx.sessions() as session:
            departments = {d.key: d for d in await session.scalars(select(Department))}
            heads = dict((await session.execute(select(User.id, User.name).where(
                User.id.in_([d.head_user_id for d in departments.values() if d.head_user_id])))).all())
            for complaint in await session.scalars(query.order_by(Complaint.id)):
                card = await self.complaints.card(session, complaint)
                steps = []
                for step in card.waiting:
                    dept = departments.get(step.department_key or "")
                    left = card.left(step)
                    minutes = int(left.total_seconds() // 60) if left is not None else None
                    steps.append(BoardStep(
                        self.ctx.texts.gettext(lang, step.label),
                        step.department or self._plain(lang, "unassigned"),
                        (heads.get(dept.head_user_id) or "") if dept and dept.head_user_id else "",
                        f"{step.due_at:%m-%d %H:%M}" if step.due_at else "",
                        self._plain(lang, "left", minutes=minutes) if minutes is not None else "",
                        minutes is not None and minutes < 0))
                filed_from = card.department_name or ""
                with_ = [filed_from, *(s.department for s in steps)]
                urgent = min((s.due_at for s in card.waiting if s.due_at), default=None)
                board.append((not any(s.overdue for s in steps),
                              urgent or self.complaints.local(now).replace(year=9999),
                              BoardComplaint(
                    complaint.number or "", complaint.kind,
                    self._plain(lang, "kind", kind=complaint.kind), complaint.severity,
                    self._plain(lang, "severity", major=complaint.severity == Severity.MAJOR),
                    complaint.answers.get("customer") or complaint.answers.get("target") or "",
                    filed_from, sorted({d for d in with_ if d}),
                    message_link(complaint.chat_id, complaint.thread_id, complaint.card_message_id)
                    if complaint.chat_id and complaint.card_message_id else None, steps)))
        board.sort(key=lambda entry: (entry[0], entry[1]))  # overdue first, then the soonest due
        return [entry[2] for entry in board[:MAX_COMPLAINTS]], max(0, len(board) - MAX_COMPLAINTS)

    async def charts(self, viewer: Viewer, month_text: str | None) -> tuple[str, list[bytes]]:
        """The monthly report's charts (PNG) for the viewer's part: the month, the images."""
        if viewer.scope == "own":
            raise Refused("errors.report_not_allowed")
        from bot.charts import png
        from bot.monthly_report import chart_series

        month = read_month(month_text or "", self.ctx.now().astimezone(self.ctx.settings.zone).date())
        report = await Analysis(self.ctx).report(month, viewer.department_key)
        series = chart_series(self.ctx.texts, viewer.person.language, report)
        images = await asyncio.to_thread(lambda: [png(s) for s in series])
        return month, images
