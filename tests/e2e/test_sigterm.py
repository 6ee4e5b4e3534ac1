"""A SIGTERM (systemd's stop, `docker stop`) while HR's digests are being sent: the bot stops
within 10 s and, started again, sends the rest — no notice twice, none lost."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from bot.app import build_context
from bot.config import load_settings
from bot.formats import Money
from bot.sandbox import FakeTelegram
from bot.services.deadlines import DeadlineEngine
from tests.e2e.conftest import Actor, text_of
from tests.e2e.flows import YEAR
from tests.e2e.test_durability import start_process, write_config
from tests.e2e.test_edge import REAL_PACE, seed_fines

STOP_WITHIN = 10.0  # seconds: the service unit's TimeoutStopSec


@pytest.mark.slow
async def test_a_sigterm_in_the_middle_of_a_digest_sends_nothing_twice(
        fake: FakeTelegram, tmp_path: Path, people: dict[str, Actor]) -> None:
    fake.private_rate, fake.private_burst = 1.0, 5  # Telegram's pace in one private chat
    config = write_config(fake, tmp_path, telegram=dict(REAL_PACE))
    hr_head = people["hr_head"]
    process = await start_process(fake, config)
    os.environ["COMPLAINT_BOT_TOKEN"] = fake.token
    ctx, engine, write_engine = build_context(load_settings(config, require_token=False))
    try:
        ids = await seed_fines(SimpleNamespace(ctx=ctx), 120)  # type: ignore[arg-type]
        deadlines = DeadlineEngine(ctx)
        async with ctx.transaction() as session:  # 120 breach notices for HR at once
            for fine_id in ids:
                await deadlines._to_hr(session, "deadlines.hr_breach", fine_id=fine_id,
                                       number=f"P-{YEAR}-0900", step="answer",
                                       step_label="質量鑒定結果和處理意見", department="生產部",
                                       due=None, late=False, fine=Money(5000, "CNY"),
                                       head="周生產")
    finally:
        await engine.dispose()
        await write_engine.dispose()

    def listed() -> str:
        return "\n".join(text_of(m) for m in fake.bot_messages(hr_head.id))

    # The first digests are out; more wait their turn (one message a second): stop now.
    await fake.wait_for(lambda: listed().count("罰單 ") >= 10, timeout=60,
                        message="the first digests reach HR")
    stopping = time.monotonic()
    process.send_signal(signal.SIGTERM)
    await asyncio.wait_for(process.wait(), timeout=STOP_WITHIN + 5)
    took = time.monotonic() - stopping
    assert took <= STOP_WITHIN, f"stopped in {took:.1f} s"
    assert process.returncode == 0
    sent_before = listed().count("罰單 ")
    assert sent_before < len(ids)  # it stopped in the middle

    process = await start_process(fake, config)
    try:
        await fake.wait_for(lambda: all(f"罰單 {i}，" in listed() for i in ids), timeout=90,
                            message="every fine reaches HR after the restart")
        await fake.wait_idle(quiet=2.0)
    finally:
        process.send_signal(signal.SIGTERM)
        await process.wait()
    text = listed()
    assert [i for i in ids if text.count(f"罰單 {i}，") != 1] == []  # each exactly once
    assert fake.rate_limited == []
