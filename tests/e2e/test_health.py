"""Seeing that it is healthy: GET /healthz and /metrics on [web] listen, and `complaint-bot status`
read from the database by another process — the sweep's heartbeat, the last Bot API
success, the outbox's backlog, messages held for people who never started the bot."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import aiohttp

from bot.sandbox import FakeTelegram
from bot.store.db import migrate
from tests.databases import url_for
from tests.e2e.conftest import QUIET_REPORTS, SALES_HEAD, Actor, StartBot
from tests.e2e.flows import fill_product_form
from tests.e2e.test_backups import config_for
from tests.e2e.test_durability import ROOT


def parse_metrics(text: str) -> dict[str, float]:
    """Prometheus' text format: 'name{labels} value' lines (comments skipped)."""
    return {line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1])
            for line in text.splitlines() if line and not line.startswith("#")}


async def status(config: Path) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "status", "--config", str(config), cwd=ROOT,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, _err = await process.communicate()
    return process.returncode or 0, out.decode()


async def test_healthz_and_status_tell_the_same_facts(
        start_bot: StartBot, fake: FakeTelegram, people: dict[str, Actor],
        tmp_path: Path) -> None:
    fake.set_user(SALES_HEAD, started=False)  # the approver never pressed Start
    runtime = await start_bot(fines=QUIET_REPORTS, sweep_seconds=0.3,
                              web={"listen": "127.0.0.1:0"})
    sales = people["sales"]
    summary = await fill_product_form(sales, photo=False)
    await sales.press(summary, sales.button(summary, ":submit"), expect="審批")
    # (the head cannot be written to: their approval request is held for them)
    url = f"http://127.0.0.1:{runtime.web.port}/healthz"

    async def facts() -> dict:  # type: ignore[type-arg]
        async with aiohttp.ClientSession() as client, client.get(url) as response:
            assert response.status == 200
            return await response.json()  # type: ignore[no-any-return]

    found: dict = {}  # type: ignore[type-arg]
    for _ in range(50):  # until a sweep has written its heartbeat and the request is held
        found = await facts()
        if found["last_sweep"] and found["last_bot_api_success"] and found["held_messages"]:
            break
        await asyncio.sleep(0.2)
    assert found["healthy"] is True and found["database"] is True
    assert found["last_sweep"] and found["last_bot_api_success"]
    assert found["held_messages"] >= 1 and found["held_people"] == 1
    assert isinstance(found["outbox_waiting"], int)

    async with aiohttp.ClientSession() as client, \
            client.get(url.replace("/healthz", "/metrics")) as response:
        assert response.status == 200 and response.content_type == "text/plain"
        metrics = parse_metrics(await response.text())
    assert metrics['complaint_bot_updates_total{outcome="handled"}'] >= 3  # /product … submit
    assert metrics["complaint_bot_update_seconds_count"] >= 3
    assert metrics["complaint_bot_delivery_seconds_count"] >= 3  # the form's replies
    assert "complaint_bot_outbox_waiting" in metrics and "complaint_bot_telegram_429_total" in metrics

    code, out = await status(config_for(fake, tmp_path / "complaints.db"))
    assert code == 0 and "healthy: True" in out and "last_sweep: 20" in out

    fresh = tmp_path / "other" / "complaints.db"  # a database no bot has run on
    await migrate(url_for(fresh))
    code, out = await status(config_for(fake, fresh))
    assert code == 1 and "healthy: False" in out and "last_sweep: —" in out
