"""Killing the bot process (SIGKILL) mid-form loses nothing and does nothing twice."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import tomli_w

from tests.e2e.conftest import FORUM, Actor, config_data, text_of
from tests.fakebot import FakeTelegram

ROOT = Path(__file__).resolve().parents[2]


async def start_process(fake: FakeTelegram, config: Path) -> asyncio.subprocess.Process:
    polls_before = fake.poll_count
    env = {**os.environ, "COMPLAINT_BOT_TOKEN": fake.token, "LOG_LEVEL": "WARNING"}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", "--config", str(config), cwd=ROOT, env=env)
    await fake.wait_for(lambda: fake.poll_count > polls_before, timeout=30,
                        message="the bot process starts polling")
    return process


async def kill(process: asyncio.subprocess.Process) -> None:
    process.kill()  # SIGKILL: no shutdown code runs
    await process.wait()


def write_config(fake: FakeTelegram, tmp_path: Path) -> Path:
    data = config_data(f"sqlite+aiosqlite:///{tmp_path / 'complaints.db'}", FORUM)
    data["telegram"].update(base_url=fake.base_url, base_file_url=fake.base_file_url)
    path = tmp_path / "config.toml"
    path.write_bytes(tomli_w.dumps(data).encode())
    return path


async def test_form_resumes_after_sigkill(fake: FakeTelegram, tmp_path: Path,
                                          people: dict[str, Actor]) -> None:
    config = write_config(fake, tmp_path)
    sales = people["sales"]
    process = await start_process(fake, config)
    try:
        step = await sales.say("/product", expect="第 1/8 步")
        await sales.press(step, sales.button(step, ":keep"), expect="第 2/8 步")
        await sales.say("永輝超市", expect="第 3/8 步")
        await kill(process)

        process = await start_process(fake, config)
        # The same step, with the answers kept; the last update is not applied twice.
        await sales.say("昨天", expect="第 4/8 步")
        await sales.say("金牌", expect="第 5/8 步")
        await kill(process)
        # Killed with an answer on its way: it is handled once, after the restart.
        since = sales.mark()
        fake.send_text(sales.id, sales.id, "500ml×20箱")
        process = await start_process(fake, config)
        await sales.next_message(since, "第 6/8 步")
        await sales.say("瓶蓋漏液", expect="第 7/8 步")
        summary = await sales.say("退貨", expect="請確認")
        for expected in ("王小明", "永輝超市", "金牌", "500ml×20箱", "瓶蓋漏液", "退貨"):
            assert expected in text_of(summary)
        steps = [m for m in sales.inbox() if "第 6/8 步" in text_of(m)]
        assert len(steps) == 1
    finally:
        await kill(process)
