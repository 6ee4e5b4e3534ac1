"""HR's board, a Telegram Mini App: the menu button, what each person may see, launch data
that Telegram did not sign (or signed too long ago) refused — over HTTP, and in Chromium
(Debian's, driven by Playwright) on a phone-sized screen."""

from __future__ import annotations

import json
import shutil
import struct
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp
import pytest
from sqlalchemy import select

from bot.app import Runtime
from bot.clock import to_db
from bot.sandbox import FakeTelegram
from bot.store.models import Complaint, Fine, StepRecord
from bot.webapp import sign
from tests.e2e.conftest import (
    ADMIN,
    FORUM,
    HR_HEAD,
    OUTSIDER,
    PROD_HEAD,
    PURCH_HEAD,
    SALES,
    TOKEN,
    Actor,
    StartBot,
)
from tests.e2e.flows import file_and_post
from tests.e2e.test_handling import accept_and_publish
from tests.e2e.test_webhook import free_port

BOARD = "https://complaints.example.test/board"
# The answer's deadline over a second after it is assigned: the board shows it overdue.
SECTIONS: dict[str, Any] = {"calendar": {"mode": "24x7"},
                            "deadlines": {"product": {"answer": {"minutes": 0.02,
                                                                  "warn_before": []}}}}


def launch_data(user_id: int, *, at: datetime | None = None, token: str = TOKEN) -> str:
    at = at or datetime.now(UTC)
    return sign({"auth_date": str(int(at.timestamp())), "query_id": "AAHboard",
                 "user": json.dumps({"id": user_id, "first_name": "x", "language_code": "zh-hans"})},
                token)


async def board_with_a_late_answer_and_a_fine(
        start_bot: StartBot, fake: FakeTelegram, people: dict[str, Actor]) -> tuple[Runtime, str]:
    """The bot with the board on; one complaint whose production answer is overdue (and
    fined), and a fine of the order desk's."""
    port = free_port()
    runtime = await start_bot(**SECTIONS, web={"listen": f"127.0.0.1:{port}"},
                              board={"url": BOARD})
    card = await file_and_post(fake, people)
    await accept_and_publish(fake, people, card, ticks=[0])
    # Breached at once: production is fined.
    await fake.wait_bot_message(FORUM, card["message_thread_id"], contains="🚨 #")
    async with runtime.ctx.transaction() as session:
        complaint = await session.scalar(select(Complaint))
        step = await session.scalar(select(StepRecord).where(StepRecord.step_key == "accept"))
        assert complaint is not None and step is not None
        session.add(Fine(complaint_id=complaint.id, step_id=step.id, department_key="order_desk",
                         head_user_id=None, head_name="李主管", amount_cents=5000,
                         currency="CNY", status="levied", levied_at=to_db(runtime.ctx.now())))
    return runtime, f"http://127.0.0.1:{port}/board"


async def get(url: str, init_data: str | None) -> tuple[int, dict[str, Any]]:
    headers = {"Authorization": f"tma {init_data}"} if init_data is not None else {}
    async with aiohttp.ClientSession() as client, client.get(url, headers=headers) as response:
        return response.status, await response.json()


async def test_each_person_sees_their_part_and_nothing_unsigned(
        start_bot: StartBot, fake: FakeTelegram, people: dict[str, Actor]) -> None:
    runtime, page = await board_with_a_late_answer_and_a_fine(start_bot, fake, people)
    for who in ("hr_head", "prod_head", "purch_head", "admin", "sales"):
        await people[who].say("/whoami")  # they open a chat with the bot
    await runtime.stop()  # menu buttons are set at start-up, for whoever can be written to
    await start_bot(**SECTIONS, web={"listen": page.split("/")[2]}, board={"url": BOARD})
    for someone in (HR_HEAD, PROD_HEAD, PURCH_HEAD, ADMIN):
        assert fake.menu_buttons[someone]["type"] == "web_app"
        assert fake.menu_buttons[someone]["web_app"]["url"] == BOARD
    assert SALES not in fake.menu_buttons  # no head, not HR

    status, hr = await get(f"{page}/api/view", launch_data(HR_HEAD))
    assert status == 200 and hr["words"]["title"] == "投訴看板"  # their language, from the database
    [complaint] = hr["complaints"]
    [step] = complaint["steps"]
    assert step["department"] == "生產部" and step["owner"] == "周生產" and step["overdue"]
    assert "已逾時" in step["left"]
    assert sorted((f["number"], f["department"], f["status"]) for f in hr["fines"]) == \
        [(complaint["number"], "打單部", "已記錄"), (complaint["number"], "生產部", "已記錄")]
    assert hr["fine_total"] == "未豁免合計：100.00 CNY"
    status, one = await get(f"{page}/api/view?period=month&department=production",
                            launch_data(HR_HEAD))  # HR's ledger, one department's
    assert status == 200 and [f["department"] for f in one["fines"]] == ["生產部"]
    assert ("order_desk", "打單部") in [tuple(d) for d in hr["fine_departments"]]
    assert hr["charts"] and hr["departments"] == ["業務部", "生產部"]

    status, head = await get(f"{page}/api/view", launch_data(PROD_HEAD))  # the answer is theirs
    assert status == 200 and [c["number"] for c in head["complaints"]] == [complaint["number"]]
    assert [f["department"] for f in head["fines"]] == ["生產部"]  # not the order desk's
    status, head = await get(f"{page}/api/view?department=order_desk", launch_data(PROD_HEAD))
    assert [f["department"] for f in head["fines"]] == ["生產部"]  # and no other's on asking
    status, other_head = await get(f"{page}/api/view", launch_data(PURCH_HEAD))
    assert status == 200 and other_head["complaints"] == []
    status, sales = await get(f"{page}/api/view", launch_data(SALES))  # their own complaint
    assert status == 200 and len(sales["complaints"]) == 1
    assert sales["fines"] is None and not sales["charts"]

    status, refused = await get(f"{page}/api/view", launch_data(OUTSIDER))
    assert status == 403 and "/join" in refused["error"] and "complaints" not in refused
    for init_data in (None, launch_data(HR_HEAD, token="654321:FORGED"),
                      launch_data(HR_HEAD, at=datetime.now(UTC) - timedelta(hours=25)),
                      launch_data(HR_HEAD).replace(str(HR_HEAD), str(OUTSIDER))):
        status, refused = await get(f"{page}/api/view", init_data)
        assert status == 401 and list(refused) == ["error"]
    status, charts = await get(f"{page}/api/charts", launch_data(OUTSIDER))
    assert status == 403
    month = datetime.now(UTC).strftime("%Y-%m")
    status, charts = await get(f"{page}/api/charts?month={month}", launch_data(HR_HEAD))
    assert status == 200 and charts["month"] == month and len(charts["images"]) == 4
    status, charts = await get(f"{page}/api/charts?month=2999-01", launch_data(HR_HEAD))
    assert status == 400 and "2999-01" in charts["error"]


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(chromium() is None, reason="Debian's chromium is not installed "
                    "(.ci/install-chromium installs it; CI runs this)")
async def test_the_board_in_a_phone_sized_browser(
        start_bot: StartBot, fake: FakeTelegram, people: dict[str, Actor], tmp_path: Path) -> None:
    from playwright.async_api import async_playwright, expect

    _runtime, page_url = await board_with_a_late_answer_and_a_fine(start_bot, fake, people)

    def opened(user_id: int, init_data: str | None = None) -> str:
        """The page as Telegram opens it: the signed launch data in the fragment."""
        return f"{page_url}#tgWebAppData={quote(init_data or launch_data(user_id))}" \
               "&tgWebAppVersion=8.0&tgWebAppPlatform=android"

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=chromium())
        try:
            phone = await browser.new_context(viewport={"width": 390, "height": 844},
                                              device_scale_factor=1, is_mobile=True)
            page = await phone.new_page()
            await page.goto(opened(HR_HEAD))
            late = page.locator(".complaint.late")
            await late.wait_for()
            assert "生產部" in await late.inner_text() and "周生產" in await late.inner_text()
            assert await page.locator("#fines tr").count() == 2
            await page.select_option("#f-fine-department", "order_desk")
            await expect(page.locator("#fines tr")).to_have_count(1)  # (the page's CSP
            assert "受理" in await page.locator("#fines tr").inner_text()  # forbids eval)
            color = await page.locator(".step.late").evaluate("e => getComputedStyle(e).color")
            assert color == "rgb(198, 40, 40)"  # overdue in red
            await page.select_option("#f-kind", "service")  # filters
            assert await page.locator(".complaint").count() == 0
            await page.select_option("#f-kind", "")
            await page.select_option("#f-department", "生產部")
            assert await page.locator(".complaint").count() == 1
            await page.click("#show-charts")
            await page.locator("#charts img").nth(3).wait_for()
            shot = tmp_path / "board-phone.png"
            await page.screenshot(path=str(shot), full_page=False)
            width, height = struct.unpack(">II", shot.read_bytes()[16:24])
            assert (width, height) == (390, 844)
            # Nothing wider than the phone: no sideways scrolling but the ledger's own.
            assert await page.evaluate("document.documentElement.scrollWidth") <= 390

            await page.goto("about:blank")  # (a new fragment alone would not load it again)
            await page.goto(opened(PURCH_HEAD))  # a head with nothing open
            await page.locator("#complaints .hint").wait_for()
            assert await page.locator(".complaint").count() == 0

            for refused in (opened(OUTSIDER), opened(HR_HEAD, launch_data(
                    HR_HEAD, token="654321:FORGED"))):
                await page.goto("about:blank")
                await page.goto(refused)
                await page.locator("#error").wait_for()
                assert await page.locator(".complaint").count() == 0
                assert await page.locator("#board").is_hidden()
        finally:
            await browser.close()
