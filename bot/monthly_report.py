"""The monthly analysis report as people get it: a workbook (one sheet per table, the
month's 客戶投訴記錄表 and 回訪客戶月統計表), four charts and a short text — all drawn from
one `MonthReport` (bot/services/analysis.py), so every figure ties out. Every word comes
from templates/analysis.txt.j2 and analysis.html.j2."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from bot.charts import Series, png
from bot.domain.fields import PRODUCT_FIELDS, SERVICE_FIELDS, ComplaintKind
from bot.domain.followup import METHOD_WORDS, SATISFACTION_WORDS, Method, Satisfaction
from bot.domain.workflow import step_of, steps_of
from bot.formats import Money
from bot.spreadsheets import SheetData, sheets_workbook
from bot.texts import Texts

if TYPE_CHECKING:
    from bot.services.analysis import MonthReport

SATISFACTIONS = tuple(Satisfaction)
# The record sheet's fields: both forms', in form order, without the two every row has.
RECORD_FIELDS = tuple(f for f in dict.fromkeys((*PRODUCT_FIELDS, *SERVICE_FIELDS))
                      if f.key not in ("complainant", "filed_at"))
# The record sheet's step columns: a product and a service step share one when they are the
# same moment of the rule book (受理; publishing / routing; the answer / the plan; notifying).
STEP_COLUMNS = (("accept",), ("publish_process", "route"), ("answer", "plan"), ("notify",))


@dataclass(frozen=True)
class ReportFiles:
    filename: str
    workbook: bytes
    charts: list[tuple[str, bytes]]  # (caption, PNG)
    summary: str  # HTML, one message
    caption: str  # the workbook's (HTML)


def words(texts: Texts, lang: str, macro: str, **params: object) -> list[str]:
    """A `|`-separated list of words from templates/analysis.txt.j2."""
    return [w.strip() for w in texts.plain(lang, f"analysis.{macro}", **params).split("|")]


def step_name(texts: Texts, lang: str, key: str) -> str:
    if key == "close":
        return texts.plain(lang, "analysis.close_step")
    kind = next(k for k in ComplaintKind if key in {s.key for s in steps_of(k)})
    return texts.gettext(lang, step_of(kind, key).label)


def percent(value: float | None) -> float | None:
    return None if value is None else round(value * 100, 1)


def minutes(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


# --- the charts' data -------------------------------------------------------------------

def chart_series(texts: Texts, lang: str, report: MonthReport) -> list[Series]:
    """Weekly volume by kind, deadline compliance and fines per department, satisfaction:
    the same numbers as the workbook's sheets (tests/unit/test_monthly_report.py)."""
    kinds = words(texts, lang, "kinds")
    titles = words(texts, lang, "chart_titles")
    units = words(texts, lang, "chart_units")
    weekly = Series(titles[0], [monday.strftime("%m-%d") for monday, _p, _s in report.weekly],
                    {kinds[0]: [p for _m, p, _s in report.weekly],
                     kinds[1]: [s for _m, _p, s in report.weekly]}, unit=units[0], stacked=True)
    measured = [d for d in report.departments if d.steps]
    compliance = Series(titles[1], [d.name for d in measured],
                        {titles[1]: [percent(d.in_time_rate) or 0.0 for d in measured]},
                        unit=units[1], horizontal=True)
    fined = [d for d in report.departments if d.fines]
    fines = Series(titles[2], [d.name for d in fined],
                   {titles[2]: [d.fine_cents / 100 for d in fined]}, unit=report.currency)
    satisfaction = Series(titles[3], [texts.gettext(lang, SATISFACTION_WORDS[s])
                                      for s in SATISFACTIONS],
                          {titles[3]: [float(report.followups.satisfaction.get(s.value, 0))
                                       for s in SATISFACTIONS]}, unit=units[2])
    return [weekly, compliance, fines, satisfaction]


# --- the workbook's sheets ----------------------------------------------------------------

def sheets(texts: Texts, lang: str, report: MonthReport) -> list[SheetData]:
    names = words(texts, lang, "sheet_names")
    scope = texts.plain(lang, "analysis.scope", month=report.month, department=report.department)
    kinds = words(texts, lang, "kinds")
    severities = words(texts, lang, "severities")
    yes_no = words(texts, lang, "yes_no")
    t, p = report.totals, report.previous

    def change(now: float | int | None, before: float | int | None) -> float | int | None:
        return None if now is None or before is None else round(now - before, 1)

    metrics = words(texts, lang, "metrics")
    figures = [(t.complaints, p.complaints), (t.product, p.product), (t.service, p.service),
               (t.major, p.major), (t.breaches, p.breaches), (t.fines, p.fines),
               (Decimal(t.fine_cents) / 100, Decimal(p.fine_cents) / 100),
               (t.visits_due, p.visits_due), (t.visits_done, p.visits_done),
               (percent(t.visit_rate), percent(p.visit_rate))]
    summary = [[name, now, before, change(now, before)]  # type: ignore[arg-type]
               for name, (now, before) in zip(metrics, figures, strict=True)]

    dimensions = words(texts, lang, "dimensions")
    counted = [
        *[[dimensions[0], kinds[0 if k == ComplaintKind.PRODUCT else 1], n]
          for k, n in report.by_kind.most_common()],
        *[[dimensions[1], severities[0 if s == "minor" else 1], n]
          for s, n in report.by_severity.most_common()],
        *[[dimensions[2], b, n] for b, n in report.by_brand.most_common()],
        *[[dimensions[3], texts.gettext(lang, r), n] for r, n in report.by_request.most_common()],
        *[[dimensions[4], d, n] for d, n in report.by_department.most_common()],
        *[[dimensions[5], texts.gettext(lang, SATISFACTION_WORDS[s]),
           report.followups.satisfaction.get(s.value, 0)] for s in SATISFACTIONS],
    ]
    timing_rows = [[step_name(texts, lang, x.key), minutes(x.deadline_minutes), x.count,
                    minutes(x.median_minutes), minutes(x.p90_minutes),
                    x.in_time if x.deadline_minutes else None,
                    percent(x.in_time_rate) if x.deadline_minutes else None]
                   for x in report.timings]
    department_rows = [[d.name, d.steps, d.in_time, percent(d.in_time_rate), d.breaches, d.fines,
                        Decimal(d.fine_cents) / 100] for d in report.departments]
    a = report.appeals
    appeal_rows = [[name, n] for name, n in zip(
        words(texts, lang, "appeal_rows"),
        (a.raised, a.accepted, a.waiting_verdict, a.being_answered, a.later_round,
         a.appealed_again), strict=True)]
    visit_rows = [[v.number, v.customer, v.visitor, severities[0 if v.severity == "minor" else 1],
                   v.opened_at, v.due_at, v.done_at,
                   texts.gettext(lang, METHOD_WORDS[Method(v.method)]) if v.method else "",
                   texts.gettext(lang, SATISFACTION_WORDS[Satisfaction(v.satisfaction)])
                   if v.satisfaction else "", v.words,
                   "" if v.more_needed is None else yes_no[0 if v.more_needed else 1],
                   yes_no[0 if v.late else 1], yes_no[0 if v.reopened else 1]]
                  for v in report.visits]
    problem_rows = [[problem, n] for problem, n in report.problems]
    statuses = dict(zip(("pending_approval", "rejected", "approved", "open", "answered",
                         "escalated", "reopened", "closed"), words(texts, lang, "statuses"),
                        strict=True))
    record_rows = [[r.number, kinds[0 if r.kind == ComplaintKind.PRODUCT else 1],
                    severities[0 if r.severity == "minor" else 1],
                    statuses.get(r.status, r.status), r.complainant, r.department,
                    *[r.answers.get(f.key) or "" for f in RECORD_FIELDS],
                    r.filed_at, r.posted_at,
                    *[next((r.steps[k] for k in keys if r.steps.get(k)), None)
                      for keys in STEP_COLUMNS],
                    r.closed_at, "、".join(r.responsible)] for r in report.records]
    record_columns = [*words(texts, lang, "record_columns"),
                      *[texts.gettext(lang, f.label) for f in RECORD_FIELDS],
                      *words(texts, lang, "record_times")]
    case_rows = [[c.number, c.customer, c.brand, c.problem, c.lesson, " ".join(
        f"#{tag}" for tag in c.tags), c.marked_by, c.marked_at] for c in report.cases]
    weekly_rows = [[monday.strftime("%Y-%m-%d"), p_, s_, p_ + s_] for monday, p_, s_ in report.weekly]
    return [
        SheetData(names[0], scope, words(texts, lang, "summary_columns"), summary),
        SheetData(names[1], scope, words(texts, lang, "count_columns"), counted),
        SheetData(names[2], scope, words(texts, lang, "weekly_columns"), weekly_rows),
        SheetData(names[3], scope, words(texts, lang, "timing_columns"), timing_rows),
        SheetData(names[4], scope, words(texts, lang, "department_columns"), department_rows),
        SheetData(names[5], scope, words(texts, lang, "appeal_columns"), appeal_rows),
        SheetData(names[6], scope, words(texts, lang, "visit_columns"), visit_rows),
        SheetData(names[7], scope, words(texts, lang, "problem_columns"), problem_rows),
        SheetData(names[8], scope, words(texts, lang, "case_columns"), case_rows),
        SheetData(names[9], scope, record_columns, record_rows),
    ]


def build(texts: Texts, lang: str, report: MonthReport) -> ReportFiles:
    series = chart_series(texts, lang, report)
    charts = [(s.title, png(s)) for s in series]
    book = sheets_workbook(sheets(texts, lang, report))
    summary = texts.html(lang, "analysis.summary", report=report,
                         steps={x.key: step_name(texts, lang, x.key) for x in report.timings},
                         money_of=lambda cents: Money(cents, report.currency))
    suffix = f"-{report.department}" if report.department else ""
    caption = texts.html(lang, "analysis.workbook_caption", month=report.month)
    return ReportFiles(f"complaints-{report.month}{suffix}.xlsx", book, charts, summary, caption)
