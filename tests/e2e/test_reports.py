"""HR's scheduled reports: the daily summary, the monthly XLSX and the monthly analysis
report, each sent once."""

from __future__ import annotations

from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy.exc import IntegrityError

from bot.app import Runtime
from bot.clock import to_db
from bot.sandbox import FakeTelegram
from bot.services.jobs import Ran, run_once
from bot.store.db import migrate
from bot.store.models import Complaint, Department, Fine, StepRecord
from tests.databases import sync_url, url_for
from tests.e2e.conftest import HR_HEAD, PROD_HEAD, SALES, Actor, StartBot, text_of


class FixedClock:
    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def now(self) -> datetime:
        return self.moment


async def test_daily_summary_goes_to_hr_once(start_bot: StartBot, fake: FakeTelegram,
                                             people: dict[str, Actor]) -> None:
    reports = {"calendar": {"mode": "24x7"}, "sweep_seconds": 0.5,
               "fines": {"daily_summary_at": "00:00", "monthly_report": False}}
    runtime = await start_bot(**reports)
    hr = people["hr_head"]
    await hr.next_message(0, "每日投訴時效摘要")
    await runtime.stop()
    await start_bot(**reports)  # a restart on the same day: not again
    await fake.wait_idle(quiet=1.5)
    assert sum("每日投訴時效摘要" in text_of(m) for m in hr.inbox()) == 1


async def test_monthly_xlsx_on_the_first_working_day(start_bot: StartBot, fake: FakeTelegram,
                                                     tmp_path: Path, people: dict[str, Actor]) -> None:
    # A fine levied in November, seeded before the bot starts on Tuesday 1 December, 10:00.
    await migrate(url_for(tmp_path / "complaints.db"))
    import sqlalchemy

    engine = sqlalchemy.create_engine(sync_url(url_for(tmp_path / "complaints.db")))
    levied = datetime(2026, 11, 20, 6, 0, tzinfo=UTC)
    with sqlalchemy.orm.Session(engine) as session, session.begin():
        session.add(Department(key="production", name="生產部", head_user_id=PROD_HEAD))
        session.flush()
        from bot.store.models import User

        session.add(User(id=SALES, name="王小明", created_at=to_db(levied), is_admin=False,
                         reachable=True))
        session.flush()
        complaint = Complaint(number="P-2026-0007", kind="product", status="open",
                              complainant_id=SALES, answers={}, photos=[], filed_at=to_db(levied))
        session.add(complaint)
        session.flush()
        step = StepRecord(complaint_id=complaint.id, step_key="answer", department_key="production",
                          started_at=to_db(levied), due_at=to_db(levied))
        session.add(step)
        session.flush()
        session.add(Fine(complaint_id=complaint.id, step_id=step.id, department_key="production",
                         head_user_id=PROD_HEAD, head_name="周生產", amount_cents=5000,
                         currency="CNY", status="levied", levied_at=to_db(levied)))
    engine.dispose()
    clock = FixedClock(datetime(2026, 12, 1, 2, 0, tzinfo=UTC))  # 10:00 in Shanghai
    await start_bot(clock=clock, sweep_seconds=0.5, fines={"monthly_report": True})
    hr = Actor(fake, HR_HEAD)
    report = await hr.next_message(0, "罰款報表")
    [document] = [d for d in fake.documents(HR_HEAD) if d["message_id"] == report["message_id"]]
    assert document["filename"] == "fines-2026-11.xlsx"
    book = load_workbook(BytesIO(document["data"]))
    rows = [[cell.value for cell in row] for row in book.worksheets[0].iter_rows()]
    [fine_row] = [row for row in rows if "P-2026-0007" in row]
    assert "生產部" in fine_row and "周生產" in fine_row and 50 in fine_row
    totals = [[cell.value for cell in row] for row in book.worksheets[1].iter_rows()]
    assert any("生產部" in row and 50 in row for row in totals)
    # The month's analysis report (ch. 9): the company's to HR, production's part to its head.
    analysis = await hr.next_message(0, "客戶投訴分析報告表 2026-11")
    assert "（全公司）" in text_of(analysis) and "投訴 1 件" in text_of(analysis)
    part = await Actor(fake, PROD_HEAD).next_message(0, "客戶投訴分析報告表 2026-11")
    assert "（生產部）" in text_of(part) and "罰款 1 筆" in text_of(part)
    await fake.wait_idle(quiet=1.5)
    assert len([d for d in fake.documents(HR_HEAD) if d["filename"] == "fines-2026-11.xlsx"]) == 1
    assert sum("（全公司）" in text_of(m) for m in hr.inbox()) == 1
    assert [d["filename"] for d in fake.documents(PROD_HEAD)] == ["complaints-2026-11-生產部.xlsx"]


async def test_run_once_does_the_work_once_and_retries_a_failure(bot: Runtime) -> None:
    """The claim behind the reports and the daily sheet: a key done is not done again, and
    an error inside the work (even an IntegrityError) is not taken for "done elsewhere"."""
    calls: list[str] = []

    async def work(_session: object) -> str:
        calls.append("work")
        return "queued"

    async def broken(_session: object) -> str:
        raise IntegrityError("INSERT …", {}, Exception("a row the work adds clashes"))

    assert await run_once(bot.ctx, "test:a", work) == Ran("queued")
    assert await run_once(bot.ctx, "test:a", work) is None
    with pytest.raises(IntegrityError):
        await run_once(bot.ctx, "test:b", broken)
    assert await run_once(bot.ctx, "test:b", work) == Ran("queued")  # the key was not kept
    assert calls == ["work", "work"]
