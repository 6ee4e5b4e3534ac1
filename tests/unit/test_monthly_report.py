"""The monthly analysis report on a seeded month: its figures, and every figure of the text
and the charts tied out to the workbook's rows (opened again with openpyxl)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from io import BytesIO
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from matplotlib import image
from openpyxl import load_workbook

from bot.app import build_context
from bot.charts import Series
from bot.clock import to_db
from bot.config import parse_settings
from bot.monthly_report import build, chart_series
from bot.services.analysis import Analysis, read_month
from bot.services.context import AppContext, Refused
from bot.services.people import People
from bot.store.db import migrate
from bot.store.models import (
    Complaint,
    DeadlineEvent,
    Escalation,
    Fine,
    FollowUp,
    StepRecord,
    TypicalCase,
)
from tests.databases import url_for
from tests.e2e.conftest import DESK, HR, PROD, SALES, config_data

ZONE = ZoneInfo("Asia/Shanghai")


class FixedClock:
    def now(self) -> datetime:
        return datetime(2026, 12, 3, 10, 0, tzinfo=ZONE).astimezone(UTC)


def at(day: int, hour: int, minute: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=ZONE)


def step(complaint: Complaint, key: str, department: str, start: datetime, limit: int,
         took: int | None, by: int) -> StepRecord:
    return StepRecord(complaint_id=complaint.id, step_key=key, department_key=department,
                      round=0, started_at=to_db(start), due_at=to_db(start + timedelta(minutes=limit)),
                      done_at=to_db(start + timedelta(minutes=took)) if took is not None else None,
                      done_by=by if took is not None else None)


def complaint(number: str, kind: str, filed: datetime, *, severity: str = "minor",
              status: str = "closed", closed: datetime | None = None, **answers: Any) -> Complaint:
    return Complaint(number=number, kind=kind, status=status, complainant_id=SALES,
                     department_key="sales", answers=answers, photos=[], is_crx=False,
                     filed_at=to_db(filed), posted_at=to_db(filed + timedelta(minutes=2)),
                     closed_at=to_db(closed) if closed else None, round=0, severity=severity)


@pytest.fixture
async def ctx(tmp_path: Path) -> AsyncIterator[AppContext]:
    url = url_for(tmp_path / "month.db")
    await migrate(url)
    settings = parse_settings(config_data(url, None), token="1:x")
    context, engine, write_engine = build_context(settings, FixedClock())
    await People(context).seed_from_config()
    await seed(context)
    yield context
    await engine.dispose()
    await write_engine.dispose()


async def seed(ctx: AppContext) -> None:
    """November 2026: two product complaints and a major service one; one in October."""
    async with ctx.transaction() as session:
        p1 = complaint("P-2026-0001", "product", at(2, 10), closed=at(3, 10), customer="永輝超市",
                       brand="輝煌", request="退貨", problem="瓶蓋漏液\n整箱受潮")
        p2 = complaint("P-2026-0002", "product", at(10, 9), status="open", customer="華潤",
                       brand="金牌", request="換貨", problem="瓶蓋漏液")
        s1 = complaint("S-2026-0001", "service", at(20, 14), severity="major", closed=at(21, 9),
                       target="物流部", purpose="改進服務質量", event_cause="送貨延誤")
        old = complaint("P-2026-0099", "product", at(15, 9, month=10), customer="舊", brand="輝煌",
                        request="退貨", problem="舊問題")
        session.add_all([p1, p2, s1, old])
        await session.flush()
        posted = timedelta(minutes=2)
        answer = step(p1, "answer", "production", at(2, 10) + posted + timedelta(minutes=20), 120,
                      150, PROD)
        session.add_all([
            step(p1, "accept", "order_desk", at(2, 10) + posted, 5, 3, DESK),
            step(p1, "publish_process", "order_desk", at(2, 10) + posted, 30, 20, DESK),
            answer,
            step(p2, "accept", "order_desk", at(10, 9) + posted, 5, 4, DESK),
            step(p2, "publish_process", "order_desk", at(10, 9) + posted, 30, None, DESK),
            step(s1, "accept", "hr", at(20, 14) + posted, 5, 2, HR),
            step(s1, "route", "hr", at(20, 14) + posted, 30, 10, HR),
            step(s1, "plan", "logistics", at(20, 14) + posted + timedelta(minutes=10), 120, 60,
                 HR),
            step(s1, "notify", "hr", at(20, 15, 12), 10, 5, HR),
            step(old, "accept", "order_desk", at(15, 9, month=10), 5, 1, DESK),
        ])
        await session.flush()
        late = at(2, 12, 22)
        session.add(DeadlineEvent(step_id=answer.id, complaint_id=p1.id, kind="breach",
                                  before_seconds=0, due_at=to_db(late), fired_at=to_db(late)))
        session.add(Fine(complaint_id=p1.id, step_id=answer.id, department_key="production",
                         head_user_id=None, head_name="周生產", amount_cents=5000, currency="CNY",
                         status="levied", levied_at=to_db(late)))
        session.add(Escalation(complaint_id=p1.id, round=1, reason="太慢",
                               body_department_key="inspection", raised_by=SALES,
                               created_at=to_db(at(2, 20))))
        session.add_all([
            FollowUp(complaint_id=p1.id, round=0, visitor_id=DESK,
                     visitor_department_key="order_desk", severity="minor",
                     opened_at=to_db(at(3, 10)), due_at=to_db(at(4, 10)), method="phone",
                     satisfaction="good", words="滿意", more_needed=False,
                     done_at=to_db(at(3, 15)), done_by=DESK),
            FollowUp(complaint_id=s1.id, round=0, visitor_id=HR, visitor_department_key="hr",
                     severity="major", opened_at=to_db(at(21, 9)), due_at=to_db(at(22, 9)),
                     method="wechat", satisfaction="bad", words="=HYPERLINK(\"x\")",
                     more_needed=True, done_at=to_db(at(22, 11)), done_by=HR,
                     overdue_at=to_db(at(22, 9))),
        ])
        # Closed on 30 November, visited by 4 December: not due yet on 3 December, so not
        # counted (nor missed).
        session.add(FollowUp(complaint_id=p2.id, round=0, visitor_id=DESK,
                             visitor_department_key="order_desk", severity="minor",
                             opened_at=to_db(at(30, 23)), due_at=to_db(at(4, 9, month=12))))
        session.add(TypicalCase(complaint_id=p1.id, lesson="出貨前複檢瓶蓋", tags=["包裝"],
                                marked_by=HR, marked_at=to_db(at(5, 9))))


def only(series: Series) -> list[float]:
    """The values of a chart with one group of bars."""
    [values] = series.groups.values()
    return values


def sheet_rows(book: Any, name: str) -> list[list[Any]]:
    """A sheet's rows below its title and header."""
    return [list(row) for row in book[name].iter_rows(min_row=3, values_only=True)]


async def test_the_months_figures(ctx: AppContext) -> None:
    report = await Analysis(ctx).report("2026-11")
    t, p = report.totals, report.previous
    assert (t.complaints, t.product, t.service, t.major) == (3, 2, 1, 1)
    assert (t.breaches, t.fines, t.fine_cents) == (1, 1, 5000)
    assert (t.visits_due, t.visits_done, t.visit_rate) == (2, 2, 1.0)
    assert (p.complaints, p.product, p.breaches) == (1, 1, 0)
    assert report.by_brand == {"輝煌": 1, "金牌": 1}
    assert report.by_request == {"退貨": 1, "換貨": 1, "改進服務質量": 1}
    assert report.by_department == {"生產部": 1, "物流部": 1}
    timings = {x.key: x for x in report.timings}
    assert (timings["accept"].count, timings["accept"].median_minutes,
            timings["accept"].p90_minutes, timings["accept"].in_time) == (3, 3, 4, 3)
    assert (timings["answer"].count, timings["answer"].in_time) == (1, 0)
    assert (timings["close"].count, timings["close"].in_time,
            timings["close"].deadline_minutes) == (2, 0, None)  # no deadline: none "in time"
    departments = {d.key: d for d in report.departments}
    assert (departments["production"].breaches, departments["production"].fines,
            departments["production"].in_time_rate) == (1, 1, 0.0)
    # The order desk's publishing of P-0002 never came: a step missed, not a breach row.
    assert (departments["order_desk"].steps, departments["order_desk"].in_time) == (4, 3)
    assert (report.appeals.raised, report.appeals.accepted, report.appeals.later_round,
            report.appeals.appealed_again) == (1, 1, 0, 0)
    assert report.followups.satisfaction == {"good": 1, "bad": 1} and report.followups.late == 1
    assert report.problems[0] == ("瓶蓋漏液", 2)
    assert [c.number for c in report.cases] == ["P-2026-0001"]
    assert [(w.isoformat(), n, s) for w, n, s in report.weekly] == [
        ("2026-10-26", 0, 0), ("2026-11-02", 1, 0), ("2026-11-09", 1, 0), ("2026-11-16", 0, 1),
        ("2026-11-23", 0, 0), ("2026-11-30", 0, 0)]


async def test_a_heads_part_is_their_departments(ctx: AppContext) -> None:
    report = await Analysis(ctx).report("2026-11", "logistics")
    assert [r.number for r in report.records] == ["S-2026-0001"]
    assert report.totals.fines == 0 and report.department == "物流部"


@pytest.mark.parametrize("lang", ["zh-Hant", "en"])
async def test_the_text_and_the_charts_tie_out_to_the_workbook(ctx: AppContext,
                                                                lang: str) -> None:
    report = await Analysis(ctx).report("2026-11")
    files = build(ctx.texts, lang, report)
    book = load_workbook(BytesIO(files.workbook))
    assert len(book.sheetnames) == 10
    summary, counts, weekly, timing, departments, appeals, visits, problems, cases, records = \
        (sheet_rows(book, name) for name in book.sheetnames)
    assert [row[1] for row in summary][:3] == [3, 2, 1] and summary[0][2:] == [1, 2]
    assert str(report.totals.complaints) in files.summary
    assert len(records) == 3 and [r[0] for r in records] == ["P-2026-0001", "P-2026-0002",
                                                             "S-2026-0001"]
    assert [v[0] for v in visits] == ["P-2026-0001", "S-2026-0001"]
    assert visits[1][9] == "=HYPERLINK(\"x\")"  # text, not a formula
    assert book[book.sheetnames[6]].cell(4, 10).data_type == "s"
    assert problems[0] == ["瓶蓋漏液", 2] and [c[0] for c in cases] == ["P-2026-0001"]
    assert appeals[0][1] == 1

    series = {s.title: s for s in chart_series(ctx.texts, lang, report)}
    week, compliance, fines, satisfaction = series.values()
    assert [list(g) for g in week.groups.values()] == [[r[1] for r in weekly],
                                                       [r[2] for r in weekly]]
    by_department = {r[0]: r for r in departments}
    assert compliance.labels == [name for name, row in by_department.items() if row[1]]
    assert only(compliance) == [by_department[n][3] for n in compliance.labels]
    assert only(fines) == [float(by_department[n][6]) for n in fines.labels]
    satisfied = [row for row in counts if row[0] == counts[-1][0]]
    assert only(satisfaction) == [row[2] for row in satisfied] == [1, 0, 1]
    # The text's handling times are the timing sheet's (median / p90 of each step done).
    for step_name, _deadline, done, median, p90, _in_time, _rate in timing:
        if done:
            assert f"{step_name}：{median:.1f}／{p90:.1f}" in files.summary or lang != "zh-Hant"

    assert len(files.charts) == 4
    for _title, data in files.charts:
        picture = image.imread(BytesIO(data), format="png")
        assert picture.shape[0] > 100 and picture.shape[1] > 100


@pytest.mark.parametrize(("typed", "month"), [("", "2026-11"), ("2026-10", "2026-10"),
                                              (" 2026-7 ", "2026-07")])
def test_the_month_asked_for(typed: str, month: str) -> None:
    assert read_month(typed, datetime(2026, 12, 3).date()) == month


@pytest.mark.parametrize("typed", ["2026-13", "11月", "2027-01", "2026-11-01"])
def test_a_month_that_is_not_one_is_refused(typed: str) -> None:
    with pytest.raises(Refused):
        read_month(typed, datetime(2026, 12, 3).date())
