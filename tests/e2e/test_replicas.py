"""Several bot processes behind one webhook, on one database (PostgreSQL with make test-pg):
every update acts once, every deadline, warning, fine, notice and scheduled report happens
once, and one chat's messages stay in order — with one of the processes SIGKILLed.

The fake posts the webhook's updates to the processes in turn, as a load balancer would;
a post to a killed process fails and goes to the next one (bot/sandbox/README.md).
"""

from __future__ import annotations

import asyncio
import os
import random
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from bot.sandbox import FakeTelegram
from tests.e2e.conftest import HR_HEAD, Actor, text_of
from tests.e2e.test_durability import (
    DEADLINES,
    ROOT,
    assign_production,
    deadline_notices,
    kill,
    write_config,
)
from tests.e2e.test_sigkill_load import Killable, company, under_load
from tests.e2e.test_webhook import free_port, webhook_sections

REPLICAS = 3


@dataclass
class Replicas:
    """REPLICAS bot processes, each on its own port, one config otherwise."""

    fake: FakeTelegram
    tmp_path: Path
    sections: dict[str, Any]
    logs: Path
    ports: list[int] = field(default_factory=lambda: [free_port() for _ in range(REPLICAS)])
    processes: list[asyncio.subprocess.Process | None] = field(
        default_factory=lambda: [None] * REPLICAS)
    started: int = 0

    def __post_init__(self) -> None:
        self.fake.balance([f"http://127.0.0.1:{port}" for port in self.ports])
        self.logs.mkdir(exist_ok=True)

    async def start(self, index: int) -> None:
        """Start replica `index` and wait until it has registered the webhook."""
        port = self.ports[index]
        config = write_config(self.fake, self.tmp_path, **{
            **self.sections, **webhook_sections(port)})
        config = config.rename(config.with_name(f"config-{index}.toml"))
        registered = len(self.fake.api_calls("setWebhook"))
        env = {**os.environ, "COMPLAINT_BOT_TOKEN": self.fake.token, "LOG_LEVEL": "WARNING"}
        self.started += 1
        with (self.logs / f"replica-{index}-{self.started:02d}.log").open("wb") as log:
            self.processes[index] = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "run", "--config", str(config), cwd=ROOT, env=env,
                stdout=log, stderr=log)
        await self.fake.wait_for(lambda: len(self.fake.api_calls("setWebhook")) > registered,
                                 timeout=30, message=f"replica {index} registers the webhook")

    async def start_all(self) -> None:
        await asyncio.gather(*(self.start(i) for i in range(REPLICAS)))

    async def kill(self, index: int) -> None:
        process = self.processes[index]
        if process is not None and process.returncode is None:
            await kill(process)

    async def kill_all(self) -> None:
        for index in range(REPLICAS):
            await self.kill(index)

    def errors(self) -> list[str]:
        return [f"{log.name}: {line}" for log in sorted(self.logs.glob("*.log"))
                for line in log.read_text(errors="replace").splitlines()
                if " ERROR " in line or " CRITICAL " in line or line.startswith("Traceback")]


@pytest.mark.slow
@pytest.mark.timeout(180)
async def test_three_replicas_fire_each_deadline_and_send_each_report_once(
        fake: FakeTelegram, tmp_path: Path, people: dict[str, Actor]) -> None:
    # Deadlines of seconds, and HR's daily summary due the moment the processes start.
    sections = {**DEADLINES, "fines": {"daily_summary_at": "00:00", "monthly_report": False}}
    replicas = Replicas(fake, tmp_path, sections, tmp_path / "logs")
    await replicas.start_all()
    try:
        card = await assign_production(fake, people)  # its updates spread over the three
        thread = card["message_thread_id"]
        await fake.wait_for(lambda: deadline_notices(fake, thread)["warning"], timeout=15)
        # A moment for the warning's sender to record it as sent: killed before that, its
        # process would leave it to another to send again (at least once: README).
        await asyncio.sleep(1.0)
        await replicas.kill(0)  # between the warning and the breach
        await fake.wait_for(lambda: deadline_notices(fake, thread)["fine"], timeout=20)
        await replicas.start(0)
        await fake.wait_idle(quiet=2.5, timeout=30)
    finally:
        await replicas.kill_all()
    served = {target for _, target, ok, _ in fake.webhook_posts if ok}
    assert len(served) == REPLICAS  # every process took updates
    notices = deadline_notices(fake, thread)
    assert [len(v) for v in notices.values()] == [1, 1, 1], notices
    assert sum("向你記罰款" in text_of(m) for m in people["prod_head"].inbox()) == 1
    summaries = [m for m in Actor(fake, HR_HEAD).inbox() if "每日投訴時效摘要" in text_of(m)]
    assert len(summaries) == 1
    assert fake.violations == [] and replicas.errors() == []


@dataclass
class ReplicasUnderLoad(Killable):
    """The replicas as tests/e2e/test_sigkill_load.py's checks see a bot. Which process sent
    a copy is not known here, so "a process" is the stretch of time between two kills: a
    second copy is excused only when the first went out within KILL_WINDOW before a kill
    and the second after it."""

    replicas: Replicas

    async def start(self) -> None:
        self.spawned.append(time.monotonic())
        await self.replicas.start_all()

    async def kill(self) -> None:  # the end of the test: all of them
        self.note_kill()
        await self.replicas.kill_all()

    async def kill_one(self, index: int) -> None:
        self.note_kill()
        self.spawned.append(time.monotonic())  # a new stretch begins
        await self.replicas.kill(index)

    def errors(self) -> list[str]:
        return self.replicas.errors()


async def kill_one_in_the_burst(bot: ReplicasUnderLoad, rng: random.Random,
                                enough: asyncio.Event) -> None:
    """Twice in the middle of the work: SIGKILL one replica, start it again a little later."""
    for _ in range(2):
        await asyncio.sleep(rng.uniform(4.0, 8.0))
        index = rng.randrange(REPLICAS)
        await bot.kill_one(index)
        await asyncio.sleep(rng.uniform(1.0, 3.0))
        await bot.replicas.start(index)
    await asyncio.sleep(4.0)
    enough.set()


@pytest.mark.slow
@pytest.mark.timeout(600)
async def test_three_replicas_under_load_with_one_killed_act_once_and_keep_order(
        fake: FakeTelegram, tmp_path: Path) -> None:
    """The load of tests/e2e/test_sigkill_load.py (22 people filing, approving, accepting,
    answering, double taps) over three webhook processes, one of them SIGKILLed and started
    again twice: the same checks — every update handled once, every complaint once and
    closed, every chat sent exactly what its people's actions call for, in order."""
    bot = ReplicasUnderLoad(Replicas(fake, tmp_path, company(), tmp_path / "logs"))
    result = await under_load(fake, tmp_path, bot, kill_one_in_the_burst)
    served = {target for _, target, ok, _ in fake.webhook_posts if ok}
    assert len(served) == REPLICAS, result.summary
    assert len(bot.kills) == 3, result.summary  # two in the burst, and all at the end
    result.check()
