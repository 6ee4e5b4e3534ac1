"""Ch. 9: the typical-case library (/case, /cases), each complaint's record as one file
(/export, the archive chat), and `complaint-bot purge` after the two years."""

from __future__ import annotations

import asyncio
import base64
import sys
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from io import BytesIO
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from matplotlib import image
from openpyxl import load_workbook
from sqlalchemy import select, update

from bot.app import Runtime
from bot.sandbox import FakeTelegram
from bot.store.models import AuditEvent, Complaint, Fine, PurgedComplaint
from tests.e2e.conftest import QUIET_REPORTS, Actor, StartBot, text_of
from tests.e2e.flows import YEAR, file_and_post
from tests.e2e.test_durability import ROOT, write_config
from tests.e2e.test_followups import NUMBER, close_service_complaint
from tests.e2e.test_handling import accept_and_publish, answer_product

ARCHIVE = -100777
ZONE = ZoneInfo("Asia/Shanghai")


class Page(HTMLParser):
    """What a browser would show of the record: its text and its images."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.text: list[str] = []
        self.images: list[str] = []
        self.feed(html)

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "img":
            self.images.append(dict(attrs).get("src") or "")

    @property
    def words(self) -> str:
        return "".join(self.text)


async def test_the_case_library_is_kept_by_hr_and_heads_and_searched_by_members(
        bot: Runtime, fake: FakeTelegram, people: dict[str, Actor]) -> None:
    hr, sales, hr_head = people["hr"], people["sales"], people["hr_head"]
    await file_and_post(fake, people)  # P-…-0001, still open
    await hr.say(f"/case P-{YEAR}-0001 先查庫存 #物流", expect="還沒結案")
    await close_service_complaint(fake, people)  # S-…-0001

    await sales.say(f"/case {NUMBER} 先查庫存", expect="只有人力資源部、部門負責人")
    await hr.say(f"/case {NUMBER}", expect="用法")
    await hr.say(f"/case {NUMBER} #物流 #承諾", expect="用法")  # tags without a lesson
    await hr.say("/case S-1999-0042 教訓", expect="找不到")
    marked = await hr.say(f"/case {NUMBER} 承諾送貨前先確認庫存和車輛 <務必> #物流 #承諾 #物流",
                          expect="典型案例")
    assert "教訓：承諾送貨前先確認庫存和車輛 <務必>" in text_of(marked)
    assert "#物流 #承諾" in text_of(marked) and text_of(marked).count("#物流") == 1

    # Only whoever marked it, HR or an admin change it; a head must be able to see it.
    await people["sales_head"].say(f"/case {NUMBER} 別的教訓", expect="由整理它的人")
    await people["desk_head"].say(f"/case {NUMBER} 別的教訓", expect="沒有權限")
    found = await sales.say("/cases 物流", expect="典型案例")
    assert NUMBER in text_of(found) and "承諾送貨前" in text_of(found)
    simplified = await sales.say("/cases 库存 车辆", expect="典型案例")  # typed in Simplified
    assert NUMBER in text_of(simplified)
    assert "沒有符合" in text_of(await sales.say("/cases 包裝", expect="典型案例"))
    await people["outsider"].say("/cases", expect="加入部門")

    await hr_head.say(f"/case {NUMBER} off", expect="移出")
    assert "還是空的" in text_of(await sales.say("/cases", expect="典型案例"))
    await hr_head.say(f"/case {NUMBER} off", expect="不在典型案例庫")


async def test_export_sends_the_whole_record_with_its_photo_and_closing_archives_it(
        start_bot: StartBot, fake: FakeTelegram, people: dict[str, Actor]) -> None:
    fake.add_group(ARCHIVE, "投訴檔案", is_forum=False)
    runtime = await start_bot(fines=QUIET_REPORTS, records={"archive_chat_id": ARCHIVE})
    sales, desk = people["sales"], people["desk"]
    number = f"P-{YEAR}-0001"
    card = await file_and_post(fake, people, photo=True)
    await people["outsider"].say(f"/export {number}", expect="沒有權限")
    await desk.say("/export", expect="用法")

    await accept_and_publish(fake, people, card, ticks=[0])
    since_sales = sales.mark()
    await answer_product(fake, people["prod"], card, "production", "原料批次含雜質", "同意退貨 & 補償")
    outcome = await sales.next_message(since_sales, "有答覆了")
    await sales.press(outcome, sales.button(outcome, ":ok"), expect="已結案")

    # The archive chat gets the record of the closed complaint by itself.
    archived = await fake.wait_for(lambda: next(iter(fake.documents(ARCHIVE)), None),
                                   message="the record reaches the archive chat")
    assert archived["filename"] == f"{number}.html"

    since = sales.mark()
    await sales.say(f"/export {number}", expect="正在整理")
    await sales.next_message(since, "完整記錄")
    document = next(d for d in fake.documents(sales.id) if d["filename"] == f"{number}.html")
    page = Page(document["data"].decode("utf-8"))
    for expected in ("永輝超市", "500ml×20箱", "瓶蓋漏液，整箱受潮", "原料批次含雜質",
                     "同意退貨 & 補償", "注塑→灌裝→封蓋", "投訴人接受，結案", "吳生產",
                     "待回訪"):
        assert expected in page.words, expected
    async with runtime.ctx.sessions() as session:
        complaint = await session.scalar(select(Complaint).where(Complaint.number == number))
        assert complaint is not None
    [photo_id] = complaint.photos
    photo = base64.b64encode(fake.files[photo_id].data).decode("ascii")
    assert page.images == [f"data:image/jpeg;base64,{photo}"]  # the photo itself, not a link


async def run_purge(config: Path, *args: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "purge", "--config", str(config), *args, cwd=ROOT,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await process.communicate()
    return process.returncode or 0, out.decode(), err.decode()


async def test_purge_removes_only_what_is_older_than_two_years_and_keeps_a_list(
        start_bot: StartBot, fake: FakeTelegram, people: dict[str, Actor],
        tmp_path: Path) -> None:
    config = write_config(fake, tmp_path, fines=QUIET_REPORTS)
    runtime = await start_bot(fines=QUIET_REPORTS)  # the same database file
    await close_service_complaint(fake, people)
    await file_and_post(fake, people)  # P-…-0001: open, never purged
    long_ago = datetime.now(UTC).replace(tzinfo=None) - timedelta(days=3 * 365)
    async with runtime.ctx.transaction() as session:  # as if it had closed three years ago
        await session.execute(update(Complaint).where(Complaint.number == NUMBER)
                              .values(closed_at=long_ago))
    two_years_ago = (datetime.now(UTC) - timedelta(days=2 * 366)).date().isoformat()

    code, _out, err = await run_purge(config, "--before", datetime.now(UTC).date().isoformat())
    assert code == 2 and "kept 2 years" in err  # nothing within the retention period

    code, out, err = await run_purge(config, "--before", two_years_ago, "--dry-run")
    assert code == 0 and out.split() == [NUMBER] and "would be removed" in err, err
    async with runtime.ctx.sessions() as session:
        assert await session.scalar(select(Complaint).where(Complaint.number == NUMBER))

    code, out, err = await run_purge(config, "--before", two_years_ago)
    assert code == 0 and out.split() == [NUMBER]
    async with runtime.ctx.sessions() as session:
        numbers = list(await session.scalars(select(Complaint.number)))
        purged = list(await session.scalars(select(PurgedComplaint)))
        audit: list[Any] = list(await session.scalars(
            select(AuditEvent).where(AuditEvent.action == "purged")))
        fines = list(await session.scalars(select(Fine)))
    assert numbers == [f"P-{YEAR}-0001"] and not fines
    assert [(p.number, p.kind) for p in purged] == [(NUMBER, "service")]
    assert audit and audit[0].details["count"] == 1
    await people["hr_head"].say(f"/show {NUMBER}", expect="找不到")


async def test_report_sends_the_text_the_workbook_and_the_charts_to_hr_and_a_heads_part(
        bot: Runtime, fake: FakeTelegram, people: dict[str, Actor]) -> None:
    hr_head, logistics, sales = people["hr_head"], people["logi_head"], people["sales"]
    await close_service_complaint(fake, people)
    month = datetime.now(ZONE).strftime("%Y-%m")  # the complaint's: this month so far

    await sales.say(f"/report {month}", expect="部門負責人")  # not HR, not a head
    await hr_head.say("/report 2026-13", expect="用法")
    await hr_head.say("/report 2999-01", expect="還沒到")

    summary = await hr_head.say(f"/report {month}", expect="客戶投訴分析報告表")
    assert "投訴 1 件" in text_of(summary) and "（全公司）" in text_of(summary)
    book_message = await fake.wait_for(lambda: next(
        (d for d in fake.documents(hr_head.id) if d["filename"].endswith(".xlsx")
         and d["filename"].startswith("complaints-")), None), message="the workbook")
    book = load_workbook(BytesIO(book_message["data"]))
    records = list(book[book.sheetnames[-1]].iter_rows(min_row=3, values_only=True))
    assert [r[0] for r in records] == [NUMBER]
    summary_sheet = list(book[book.sheetnames[0]].iter_rows(min_row=3, values_only=True))
    assert summary_sheet[0][1] == 1  # the text's "1 件" is the workbook's
    photos = await fake.wait_for(lambda: [m for m in hr_head.inbox() if "photo" in m] or None,
                                 message="the charts")
    assert len(photos) == 4 and len({m["media_group_id"] for m in photos}) == 1
    for message in photos:
        data = fake.files[message["photo"][-1]["file_id"]].data
        assert image.imread(BytesIO(data), format="png").shape[0] > 100

    part = await logistics.say(f"/report {month}", expect="客戶投訴分析報告表")
    assert "（物流部）" in text_of(part) and "投訴 1 件" in text_of(part)
