"""The monthly analysis report (客戶投訴分析報告表, ch. 9 and 10): a month's complaints in
figures, for HR and the admins (the whole company) and each department head (their part).

The month's complaints are those filed in it (投訴時間). Its figures: counts by kind,
severity, brand, customer request and responsible department; how long each step took
(median and 90th percentile) against its deadline; breaches and fines per department
(those of the month, whatever complaint); appeals raised in the month and where they stand;
the follow-up visits of the complaints closed in the month (回訪率 must be 100 %; those not due
yet left out), late ones and satisfaction; the
most frequent problems; the change against the previous month. With them, the month's
客戶投訴記錄表 (every complaint, every field, each step's time) and 回訪客戶月統計表.

Everything is read with a few set-based queries (no ORM objects per row), so a month of
50,000 complaints stays within seconds (bench/report.py). The workbook, the charts and the
text summary are all drawn from one `MonthReport`, so their figures cannot disagree.
"""

from __future__ import annotations

import asyncio
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import from_db, to_db
from bot.domain.fields import ComplaintKind
from bot.domain.figures import Timing, rate, timing
from bot.domain.workflow import ROUND_STEPS, Owner, Status, steps_of
from bot.outbox import queue_document, queue_message, queue_photos
from bot.services.cases import Case, Cases
from bot.services.context import AppContext, Refused
from bot.services.people import keeps_hr_books, person
from bot.store.models import (
    Complaint,
    DeadlineEvent,
    Department,
    Escalation,
    Fine,
    FollowUp,
    StepRecord,
    User,
)

if TYPE_CHECKING:
    from bot.monthly_report import ReportFiles

MONTH = re.compile(r"^\s*(\d{4})-(\d{1,2})\s*$")
TOP_PROBLEMS = 10
PROBLEM_CHARS = 40  # problems are grouped by their first words


@dataclass(frozen=True)
class DepartmentFigures:
    key: str
    name: str
    breaches: int  # steps it let slip in the month
    fines: int
    fine_cents: int
    steps: int  # its steps of the month's complaints that had a deadline
    in_time: int  # … done by their due time

    @property
    def in_time_rate(self) -> float | None:
        return rate(self.in_time, self.steps)

    @property
    def noted(self) -> bool:
        """Missed a deadline or was fined (also for a missed visit) in the month."""
        return bool(self.breaches or self.fines)


@dataclass(frozen=True)
class AppealFigures:
    raised: int
    # Where each appeal's own round stands (these four add up to `raised`):
    accepted: int  # the complainant accepted the appeal's answer: closed
    waiting_verdict: int  # answered, the complainant has not said yet
    being_answered: int  # still with the body appealed to
    later_round: int  # answered, and another round followed (an appeal, a reopening)
    appealed_again: int  # a complaint's second appeal or later


@dataclass(slots=True)  # (tens of thousands a month: no frozen-dataclass setattr per field)
class VisitRow:
    """A line of the 回訪客戶月統計表."""

    number: str
    customer: str
    visitor: str
    severity: str
    opened_at: datetime
    due_at: datetime
    done_at: datetime | None
    method: str | None
    satisfaction: str | None
    words: str
    more_needed: bool | None
    late: bool
    reopened: bool


@dataclass(frozen=True)
class FollowUpFigures:
    due: int  # visits opened in the month
    done: int
    late: int  # missed their deadline (done late, or not yet)
    satisfaction: dict[str, int]  # Satisfaction value → visits
    reopened: int

    @property
    def done_rate(self) -> float | None:
        return rate(self.done, self.due)


@dataclass(slots=True)
class RecordRow:
    """A line of the 客戶投訴記錄表: the complaint, every field, each step's time."""

    number: str
    kind: str
    severity: str
    status: str
    complainant: str
    department: str
    answers: dict[str, object]
    filed_at: datetime
    posted_at: datetime | None
    closed_at: datetime | None
    steps: dict[str, datetime | None]  # step key → when it was done (the last department's)
    responsible: list[str]  # the departments that answered


@dataclass(frozen=True)
class MonthTotals:
    """The figures compared with the previous month."""

    complaints: int
    product: int
    service: int
    major: int
    breaches: int
    fines: int
    fine_cents: int
    visits_due: int
    visits_done: int

    @property
    def visit_rate(self) -> float | None:
        return rate(self.visits_done, self.visits_due)


@dataclass
class MonthReport:
    month: str  # YYYY-MM
    start: datetime  # local, inclusive
    end: datetime  # local, exclusive
    department: str | None  # a head's part: their department's name; None: the company
    currency: str
    totals: MonthTotals
    previous: MonthTotals
    by_kind: Counter[str] = field(default_factory=Counter)
    by_severity: Counter[str] = field(default_factory=Counter)
    by_brand: Counter[str] = field(default_factory=Counter)
    by_request: Counter[str] = field(default_factory=Counter)
    by_department: Counter[str] = field(default_factory=Counter)  # responsible, by name
    timings: list[Timing] = field(default_factory=list)
    departments: list[DepartmentFigures] = field(default_factory=list)
    appeals: AppealFigures = AppealFigures(0, 0, 0, 0, 0, 0)
    followups: FollowUpFigures = FollowUpFigures(0, 0, 0, {}, 0)
    visits: list[VisitRow] = field(default_factory=list)
    problems: list[tuple[str, int]] = field(default_factory=list)
    weekly: list[tuple[date, int, int]] = field(default_factory=list)  # (Monday, product, service)
    records: list[RecordRow] = field(default_factory=list)
    cases: list[Case] = field(default_factory=list)


def read_month(text: str, today: date) -> str:
    """'2026-11' (or '2026-1'); empty: the month before today's. Refused otherwise."""
    if not text.strip():
        return (today.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    found = MONTH.match(text)
    if found is None or not 1 <= int(found.group(2)) <= 12:
        raise Refused("errors.report_usage")
    month = f"{int(found.group(1)):04d}-{int(found.group(2)):02d}"
    if month > today.strftime("%Y-%m"):
        raise Refused("errors.report_future", month=month)
    return month


def month_bounds(month: str, zone: object) -> tuple[datetime, datetime]:
    year, number = map(int, month.split("-"))
    start = datetime(year, number, 1, tzinfo=zone)  # type: ignore[arg-type]
    end = datetime(year + (number == 12), number % 12 + 1, 1, tzinfo=zone)  # type: ignore[arg-type]
    return start, end


def _problem(answers: dict[str, object], kind: str) -> str:
    text = str(answers.get("problem") if kind == ComplaintKind.PRODUCT else
               answers.get("event_cause") or "")
    first = text.strip().split("\n", 1)[0].strip()
    return first[:PROBLEM_CHARS]


MONTH_MARGIN = timedelta(days=62)  # around a month: its steps and visits end within it


class Analysis:
    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx
        self._offset: timedelta | None = None

    def _local(self, moment: datetime | None) -> datetime | None:
        """A stored (naive UTC) moment in local time. Tens of thousands of rows: where the
        zone keeps one offset around the month (no daylight saving, as in China), adding it
        is all a conversion takes."""
        if moment is None:
            return None
        if self._offset is not None:
            return (moment + self._offset).replace(tzinfo=self.ctx.settings.zone)
        return from_db(moment).astimezone(self.ctx.settings.zone)

    def _fix_offset(self, start: datetime, end: datetime) -> None:
        zone = self.ctx.settings.zone
        offsets = {(moment + shift).astimezone(zone).utcoffset()
                   for moment in (start, end) for shift in (-MONTH_MARGIN, MONTH_MARGIN)}
        self._offset = offsets.pop() if len(offsets) == 1 else None

    async def scope_of(self, actor_id: int) -> str | None:
        """Whose report the actor gets: None for the whole company (HR, admins), else the
        key of the department they head. Anyone else is refused."""
        async with self.ctx.sessions() as session:
            actor = await person(session, self.ctx, actor_id)
        if keeps_hr_books(self.ctx, actor):
            return None
        if actor is not None and actor.is_head and actor.department_key:
            return actor.department_key
        raise Refused("errors.report_not_allowed")

    async def files(self, lang: str, month: str,
                    department_key: str | None = None) -> ReportFiles:
        """The report as the workbook, the charts and the text (bot/monthly_report.py); the
        files are drawn in a worker thread, not in the bot's event loop."""
        from bot.monthly_report import build  # (matplotlib: imported when a report is drawn)

        report = await self.report(month, department_key)
        return await asyncio.to_thread(build, self.ctx.texts, lang, report)

    def queue(self, session: AsyncSession, now: datetime, chat_id: int, files: ReportFiles, *,
              thread_id: int | None = None, reply_to: int | None = None) -> None:
        """The text, then the workbook, then the charts as one album: in the caller's
        transaction (sent once, with whatever else it commits)."""
        queue_message(session, now, files.summary, chat_id=chat_id, thread_id=thread_id,
                      reply_to=reply_to)
        queue_document(session, now, chat_id, files.filename, files.workbook, files.caption,
                       thread_id=thread_id)
        queue_photos(session, now, chat_id, files.charts, thread_id=thread_id)

    async def report(self, month: str, department_key: str | None = None) -> MonthReport:
        zone = self.ctx.settings.zone
        start, end = month_bounds(month, zone)
        previous_start = month_bounds((start - timedelta(days=1)).strftime("%Y-%m"), zone)[0]
        self._fix_offset(start, end)
        async with self.ctx.sessions() as session:
            names = {d.key: d.name for d in await session.scalars(select(Department))}
            report = MonthReport(
                month=month, start=start, end=end,
                department=names.get(department_key, department_key) if department_key else None,
                currency=self.ctx.settings.fines.currency,
                totals=await self._totals(session, start, end, department_key),
                previous=await self._totals(session, previous_start, start, department_key))
            await self._complaints(session, report, department_key, names)
            await self._departments(session, report, department_key, names)
            await self._appeals(session, report, department_key)
            await self._visits(session, report, department_key)
            numbers = {r.number for r in report.records}
            report.cases = [c for c in await Cases(self.ctx).marked_between(session, start, end)
                            if department_key is None or c.number in numbers]
        return report

    # --- which complaints --------------------------------------------------------------

    def _in_scope(self, department_key: str | None):  # type: ignore[no-untyped-def]
        """A complaint in a head's part: filed from their department or with a step of it."""
        if department_key is None:
            return True
        involved = select(StepRecord.complaint_id).where(
            StepRecord.department_key == department_key)
        return or_(Complaint.department_key == department_key, Complaint.id.in_(involved))

    def _filed(self, start: datetime, end: datetime, department_key: str | None):  # type: ignore[no-untyped-def]
        return and_(Complaint.number.is_not(None), Complaint.filed_at >= to_db(start),
                    Complaint.filed_at < to_db(end), self._in_scope(department_key))

    async def _totals(self, session: AsyncSession, start: datetime, end: datetime,
                      department_key: str | None) -> MonthTotals:
        kinds = dict((await session.execute(
            select(Complaint.kind, func.count()).where(self._filed(start, end, department_key))
            .group_by(Complaint.kind))).all())
        major = await session.scalar(select(func.count()).where(
            self._filed(start, end, department_key), Complaint.severity == "major")) or 0
        breaches = await session.scalar(self._breaches(start, end, department_key)
                                        .with_only_columns(func.count())) or 0
        fines = (await session.execute(
            select(func.count(), func.coalesce(func.sum(Fine.amount_cents), 0))
            .where(Fine.levied_at >= to_db(start), Fine.levied_at < to_db(end),
                   *([Fine.department_key == department_key] if department_key else [])))).one()
        visits = (await session.execute(
            select(func.count(), func.count(FollowUp.done_at))
            .join(Complaint, Complaint.id == FollowUp.complaint_id)
            .where(self._visits_due(start, end), self._in_scope(department_key)))).one()
        return MonthTotals(
            complaints=sum(kinds.values()), product=kinds.get(ComplaintKind.PRODUCT.value, 0),
            service=kinds.get(ComplaintKind.SERVICE.value, 0), major=major, breaches=breaches,
            fines=fines[0], fine_cents=fines[1], visits_due=visits[0], visits_done=visits[1])

    def _visits_due(self, start: datetime, end: datetime):  # type: ignore[no-untyped-def]
        """The visits of complaints closed in the period, leaving out those not yet due and
        not yet made (a complaint closed on the 31st is visited on the 1st)."""
        return and_(FollowUp.opened_at >= to_db(start), FollowUp.opened_at < to_db(end),
                    or_(FollowUp.done_at.is_not(None),
                        FollowUp.due_at <= to_db(self.ctx.now())))

    def _breaches(self, start: datetime, end: datetime, department_key: str | None):  # type: ignore[no-untyped-def]
        return (select(StepRecord.department_key)
                .join(DeadlineEvent, DeadlineEvent.step_id == StepRecord.id)
                .where(DeadlineEvent.kind == "breach", DeadlineEvent.fired_at >= to_db(start),
                       DeadlineEvent.fired_at < to_db(end),
                       *([StepRecord.department_key == department_key]
                         if department_key else [])))

    # --- the complaints themselves --------------------------------------------------------

    async def _complaints(self, session: AsyncSession, report: MonthReport,
                          department_key: str | None, names: dict[str, str]) -> None:
        filed = self._filed(report.start, report.end, department_key)
        rows = (await (await session.connection()).execute(
            select(Complaint.id, Complaint.number, Complaint.kind, Complaint.severity,
                   Complaint.status, Complaint.complainant_id, Complaint.department_key,
                   Complaint.answers, Complaint.filed_at, Complaint.posted_at,
                   Complaint.closed_at).where(filed).order_by(Complaint.filed_at, Complaint.id))).all()
        steps = (await (await session.connection()).execute(
            select(StepRecord.complaint_id, StepRecord.step_key, StepRecord.department_key,
                   StepRecord.started_at, StepRecord.due_at, StepRecord.done_at)
            .join(Complaint, Complaint.id == StepRecord.complaint_id).where(filed)
            .where(StepRecord.round == 0))).all()
        people = dict((await session.execute(select(User.id, func.coalesce(
            User.name, User.telegram_name)).where(User.id.in_({r.complainant_id for r in rows}))
        )).all()) if rows else {}
        # Plain tuples from here on: tens of thousands of rows, read field by field.
        by_complaint: dict[int, list[tuple[str, str, datetime, datetime | None,
                                           datetime | None]]] = defaultdict(list)
        for complaint_id, *step in steps:
            by_complaint[complaint_id].append(tuple(step))  # type: ignore[arg-type]
        durations: dict[str, list[float]] = defaultdict(list)
        in_time: Counter[str] = Counter()
        problems: Counter[str] = Counter()
        weekly: dict[date, list[int]] = {}
        first_monday = report.start.date() - timedelta(days=report.start.weekday())
        monday = first_monday
        while monday < report.end.date():
            weekly[monday] = [0, 0]
            monday += timedelta(days=7)
        owners = {(kind, step.key): step.owner for kind in ComplaintKind
                  for step in (*steps_of(kind), *ROUND_STEPS)}
        product = ComplaintKind.PRODUCT
        for (complaint_id, number, kind_value, severity, status, complainant_id, department_key,
             answers, filed_at, posted_at, closed_at) in rows:
            kind = ComplaintKind(kind_value)
            answers = answers or {}
            report.by_kind[kind_value] += 1
            report.by_severity[severity] += 1
            if answers.get("brand"):
                report.by_brand[str(answers["brand"])] += 1
            wish = answers.get("request") or answers.get("purpose")
            if wish:
                report.by_request[str(wish)] += 1
            problem = _problem(answers, kind_value)
            if problem:
                problems[problem] += 1
            filed = self._local(filed_at)
            assert filed is not None
            weekly[filed.date() - timedelta(days=filed.weekday())][0 if kind is product else 1] += 1
            done_at: dict[str, datetime] = {}
            responsible: list[str] = []
            for step_key, step_department, started_at, due_at, step_done_at in \
                    by_complaint.get(complaint_id, ()):
                if owners[kind, step_key] is Owner.INVESTIGATORS \
                        and step_department not in responsible:
                    responsible.append(step_department)
                if step_done_at is not None:
                    last = done_at.get(step_key)  # (stored, UTC) the last department's
                    done_at[step_key] = step_done_at if last is None or step_done_at > last \
                        else last
                    durations[step_key].append((step_done_at - started_at).total_seconds() / 60)
                    if due_at is None or step_done_at <= due_at:
                        in_time[step_key] += 1
            for key in responsible:
                report.by_department[names.get(key, key)] += 1
            if posted_at is not None and closed_at is not None:  # (no deadline: none in time)
                durations["close"].append((closed_at - posted_at).total_seconds() / 60)
            report.records.append(RecordRow(
                number=number, kind=kind_value, severity=severity, status=status,
                complainant=people.get(complainant_id) or str(complainant_id),
                department=names.get(department_key, department_key or ""),
                answers=answers, filed_at=filed, posted_at=self._local(posted_at),
                closed_at=self._local(closed_at),
                steps={key: self._local(moment) for key, moment in done_at.items()},
                responsible=[names.get(k, k) for k in responsible]))
        report.problems = problems.most_common(TOP_PROBLEMS)
        report.weekly = [(monday, p, s) for monday, (p, s) in weekly.items()]
        keys = list(dict.fromkeys(s.key for kind in ComplaintKind for s in steps_of(kind)))
        for key in [*keys, "close"]:
            # The step's deadline, when every kind that has it has the same one.
            deadlines = {self.ctx.sla.rule(kind, key).duration.total_seconds() / 60
                         for kind in ComplaintKind if key in {s.key for s in steps_of(kind)}}
            deadline = deadlines.pop() if len(deadlines) == 1 else None
            report.timings.append(timing(key, durations.get(key, []), in_time[key], deadline))

    async def _departments(self, session: AsyncSession, report: MonthReport,
                           department_key: str | None, names: dict[str, str]) -> None:
        breaches = Counter(await session.scalars(
            self._breaches(report.start, report.end, department_key)))
        fines = {key: (count, cents) for key, count, cents in (await session.execute(
            select(Fine.department_key, func.count(), func.sum(Fine.amount_cents))
            .where(Fine.levied_at >= to_db(report.start), Fine.levied_at < to_db(report.end),
                   *([Fine.department_key == department_key] if department_key else []))
            .group_by(Fine.department_key))).all()}
        steps: Counter[str] = Counter()
        in_time: Counter[str] = Counter()
        now = to_db(self.ctx.now())
        filed = self._filed(report.start, report.end, department_key)
        for key, due_at, done_at in (await (await session.connection()).execute(
                select(StepRecord.department_key, StepRecord.due_at, StepRecord.done_at)
                .join(Complaint, Complaint.id == StepRecord.complaint_id)
                .where(filed, StepRecord.due_at.is_not(None),
                       *([StepRecord.department_key == department_key]
                         if department_key else [])))).all():
            assert due_at is not None
            if done_at is None and due_at > now:
                continue  # not due yet: neither kept nor missed
            steps[key] += 1
            if done_at is not None and done_at <= due_at:
                in_time[key] += 1
        for key in sorted(set(breaches) | set(fines) | set(steps),
                          key=lambda k: list(names).index(k) if k in names else len(names)):
            count, cents = fines.get(key, (0, 0))
            report.departments.append(DepartmentFigures(
                key=key, name=names.get(key, key), breaches=breaches[key], fines=count,
                fine_cents=cents or 0, steps=steps[key], in_time=in_time[key]))

    async def _appeals(self, session: AsyncSession, report: MonthReport,
                       department_key: str | None) -> None:
        """The appeals raised in the month, each by where its own round stands."""
        rows = (await session.execute(
            select(Escalation.complaint_id, Escalation.round, Complaint.status, Complaint.round)
            .join(Complaint, Complaint.id == Escalation.complaint_id)
            .where(Escalation.created_at >= to_db(report.start),
                   Escalation.created_at < to_db(report.end),
                   self._in_scope(department_key)))).all()
        first = dict((await session.execute(
            select(Escalation.complaint_id, func.min(Escalation.round))
            .where(Escalation.complaint_id.in_({r[0] for r in rows}))
            .group_by(Escalation.complaint_id))).all()) if rows else {}
        now: Counter[str] = Counter()
        for _complaint, round_, status, current in rows:
            now["later" if current > round_ else status] += 1
        report.appeals = AppealFigures(
            raised=len(rows), accepted=now[Status.CLOSED.value],
            waiting_verdict=now[Status.ANSWERED.value],
            being_answered=now[Status.ESCALATED.value], later_round=now["later"],
            appealed_again=sum(1 for complaint, round_, _s, _c in rows
                               if round_ > first.get(complaint, round_)))

    async def _visits(self, session: AsyncSession, report: MonthReport,
                      department_key: str | None) -> None:
        rows = (await (await session.connection()).execute(
            select(FollowUp.visitor_id, FollowUp.severity, FollowUp.opened_at, FollowUp.due_at,
                   FollowUp.done_at, FollowUp.method, FollowUp.satisfaction, FollowUp.words,
                   FollowUp.more_needed, FollowUp.overdue_at, FollowUp.reopened_at,
                   Complaint.number, Complaint.answers)
            .join(Complaint, Complaint.id == FollowUp.complaint_id)
            .where(self._visits_due(report.start, report.end), self._in_scope(department_key))
            .order_by(FollowUp.opened_at, FollowUp.id))).all()
        visitors = dict((await session.execute(select(User.id, func.coalesce(
            User.name, User.telegram_name)).where(User.id.in_(
                {v.visitor_id for v in rows if v.visitor_id})))).all()) if rows else {}
        local = self._local
        for (visitor_id, severity, opened_at, due_at, done_at, method, satisfaction, words,
             more_needed, overdue_at, reopened_at, number, answers) in rows:
            answers = answers or {}
            opened, due = local(opened_at), local(due_at)
            assert opened is not None and due is not None
            report.visits.append(VisitRow(
                number=number or "",
                customer=str(answers.get("customer") or answers.get("target") or ""),
                visitor=visitors.get(visitor_id, "") if visitor_id else "", severity=severity,
                opened_at=opened, due_at=due, done_at=local(done_at), method=method,
                satisfaction=satisfaction, words=words or "", more_needed=more_needed,
                late=overdue_at is not None, reopened=reopened_at is not None))
        report.followups = FollowUpFigures(
            due=len(report.visits), done=sum(v.done_at is not None for v in report.visits),
            late=sum(v.late for v in report.visits),
            satisfaction=dict(Counter(v.satisfaction for v in report.visits if v.satisfaction)),
            reopened=sum(v.reopened for v in report.visits))
