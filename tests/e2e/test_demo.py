"""`make demo` in a real browser (Debian's Chromium, driven by Playwright): the page loads, a
complaint typed into the salesperson's pane reaches the manager's pane for approval and,
once approved, the workgroup's; and the tour plays to the end, fine included."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.demo import Demo
from tests.e2e.test_board import chromium

pytestmark = pytest.mark.skipif(chromium() is None, reason="Debian's chromium is not installed "
                                "(.ci/install-chromium installs it; CI runs this)")

SALESPERSON, MANAGER = 20002, 20001  # config.example.toml's 王小明 and 陳經理
PASTED = ("投訴人：王小明\n客戶名稱：永輝超市\n發貨日期：2026/01/05\n品牌：輝煌\n"
          "規格及數量：500ml×20箱\n產品存在的質量問題：瓶蓋漏液\n客戶要求：退貨")


@pytest.fixture
async def browser_page(tmp_path: Path) -> AsyncIterator[tuple[Demo, Any, str]]:
    from playwright.async_api import async_playwright

    demo = Demo(tmp_path, port=0, speed=600)
    url = await demo.start()
    try:
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=chromium())
            try:
                page = await browser.new_page(viewport={"width": 1400, "height": 900})
                await page.goto(url)
                yield demo, page, url
            finally:
                await browser.close()
    finally:
        await demo.stop()


async def test_a_complaint_typed_in_a_pane_reaches_the_manager_and_the_workgroup(
        browser_page: tuple[Demo, Any, str]) -> None:
    demo, page, _url = browser_page
    sales, manager, group = (page.locator(f"#pane-{SALESPERSON}"),
                             page.locator(f"#pane-{MANAGER}"), page.locator("#pane-group"))
    await sales.locator("textarea").fill(PASTED)  # the paper form, pasted
    await sales.locator("textarea").press("Enter")
    summary = sales.locator(".msg", has_text="請確認")
    await summary.wait_for()
    await summary.locator("button[data-data$=':submit']").click()

    request = manager.locator(".msg", has_text="待你審批")
    await request.wait_for()
    assert "永輝超市" in await request.inner_text()
    await request.locator("button[data-data$=':y']").click()

    card = group.locator(".msg", has_text="產品質量投訴")
    await card.wait_for(timeout=30000)
    assert "永輝超市" in await card.inner_text()
    assert await group.locator(".topics button.on").inner_text() == \
        next(iter(demo.sandbox.topics(-1001000000001).values()))["name"]
    assert demo.sandbox.violations == []


@pytest.mark.slow
@pytest.mark.timeout(300)
async def test_the_tour_plays_every_step_to_the_fine_and_the_close(
        browser_page: tuple[Demo, Any, str]) -> None:
    demo, page, _url = browser_page
    await page.click("#tour")
    done = demo.texts.plain("zh-Hant", "demo.tour_done")
    await page.locator("#tour-state", has_text=done).wait_for(timeout=240000)
    group = page.locator("#pane-group")
    for seen in ("受理", "已交給", "💰", "接受處理結果"):  # 受理, assigned, the fine, closed
        # (the group's messages go out at Telegram's pace for a group, 20 a minute)
        await group.locator(".msg", has_text=seen).first.wait_for(timeout=60000)
    purchasing = page.locator("#pane-61001")
    assert await purchasing.locator(".msg", has_text="向你記罰款").count() == 1
    assert demo.sandbox.violations == []
