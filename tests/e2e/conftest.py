"""End-to-end harness: the real bot (PTB Application, polling over HTTP) against the
fake Bot API server, on a real SQLite file migrated by Alembic (or a PostgreSQL database:
tests/databases.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bot.app import Runtime
from bot.clock import Clock
from bot.config import Settings, parse_settings
from bot.sandbox import FakeTelegram
from tests.databases import url_for

TOKEN = "123456:TEST-TOKEN"
ADMIN, SALES_HEAD, SALES, DESK_HEAD, DESK, HR_HEAD, PROD_HEAD, OUTSIDER = (
    10001, 20001, 20002, 30001, 30002, 40001, 60001, 90001)
HR, PROD, PURCH_HEAD, LOGI_HEAD, INSPECT_HEAD, ADMIN_DEPT_HEAD, VP = (
    40002, 60002, 61001, 62001, 70001, 71001, 80001)
FORUM = -1001000000001
PLAIN = -1001000000002
STRANGERS = -1001000000099

NAMES = {ADMIN: "系統管理員", SALES_HEAD: "陳經理", SALES: "王小明", DESK_HEAD: "李主管",
         DESK: "張打單", HR_HEAD: "劉人事", HR: "何人事", PROD_HEAD: "周生產", PROD: "吳生產",
         PURCH_HEAD: "鄭採購", LOGI_HEAD: "孫物流", INSPECT_HEAD: "馮監察", ADMIN_DEPT_HEAD: "衛行政",
         VP: "楊副總"}


QUIET_REPORTS = {"daily_summary_at": "23:59:59", "monthly_report": False}


def config_data(db_url: str, workgroup: int | None) -> dict[str, Any]:
    return {
        "admins": [ADMIN],
        "brands": ["輝煌", "金牌"],
        # Telegram's real flood limits would slow every scenario: the bot keeps faster ones
        # here, and the fake server checks those (FAKE_PRIVATE_RATE); tests of pacing itself
        # set the real ones.
        "telegram": {"poll_timeout": 1, "group_messages_per_minute": 6000,
                     "private_messages_per_second": 20, "private_burst": 10},
        "database": {"url": db_url},
        # HR's scheduled reports would otherwise arrive at whatever time of day the tests run
        # (tests/e2e/test_reports.py turns them on).
        "fines": QUIET_REPORTS,
        "workgroup": {} if workgroup is None else {"chat_id": workgroup},
        "departments": [
            {"key": "sales", "name": "業務部", "head": SALES_HEAD, "members": [SALES]},
            {"key": "order_desk", "name": "打單部", "head": DESK_HEAD, "members": [DESK]},
            {"key": "hr", "name": "人力資源部", "head": HR_HEAD, "members": [HR]},
            {"key": "production", "name": "生產部", "head": PROD_HEAD, "members": [PROD],
             "superior": "operations"},
            {"key": "purchasing", "name": "採購部", "head": PURCH_HEAD, "superior": "operations"},
            {"key": "logistics", "name": "物流部", "head": LOGI_HEAD, "superior": "operations"},
            {"key": "operations", "name": "營運副總室", "head": VP},
            {"key": "inspection", "name": "監察部", "head": INSPECT_HEAD},
            {"key": "administration", "name": "行政部", "head": ADMIN_DEPT_HEAD},
        ],
        "members": [{"id": uid, "name": name} for uid, name in NAMES.items()],
    }


def settings_for(fake: FakeTelegram, db_path: Path, workgroup: int | None = FORUM,
                 **extra: Any) -> Settings:
    data = {**config_data(url_for(db_path), workgroup), **extra}
    data["telegram"].update(base_url=fake.base_url, base_file_url=fake.base_file_url)
    return parse_settings(data, token=fake.token)


def text_of(message: dict[str, Any] | None) -> str:
    if not message:
        return ""
    return str(message.get("text") or message.get("caption") or "")


@dataclass
class Actor:
    """A person in the test, talking to the bot in their private chat."""

    fake: FakeTelegram
    id: int

    def inbox(self) -> list[dict[str, Any]]:
        return self.fake.bot_messages(self.id)

    def mark(self) -> int:
        return len(self.inbox())

    async def next_message(self, since: int, contains: str | None = None,
                           timeout: float = 10.0) -> dict[str, Any]:
        def found() -> dict[str, Any] | None:
            for message in self.inbox()[since:]:
                if contains is None or contains in text_of(message):
                    return message
            return None

        return await self.fake.wait_for(found, timeout=timeout,
                                        message=f"user {self.id} waits for {contains!r}")

    async def say(self, text: str, expect: str | None = None) -> dict[str, Any]:
        since = self.mark()
        self.fake.send_text(self.id, self.id, text)
        return await self.next_message(since, expect)

    async def press(self, message: dict[str, Any], data: str,
                    expect: str | None = None) -> dict[str, Any]:
        since = self.mark()
        self.fake.press(self.id, message, data)
        return await self.next_message(since, expect)

    def button(self, message: dict[str, Any], startswith: str) -> str:
        """The callback data of the message's button whose data starts with `startswith`
        (e.g. 'ap:' or ':keep' suffix handled by the caller)."""
        for _text, data in self.fake.buttons(message):
            if data and (data.startswith(startswith) or data.endswith(startswith)):
                return data
        raise AssertionError(f"no button {startswith!r} on {text_of(message)[:80]!r}: "
                             f"{self.fake.buttons(message)}")

    def button_labelled(self, message: dict[str, Any], label: str) -> str:
        for text, data in self.fake.buttons(message):
            if label in text:
                return data
        raise AssertionError(f"no button labelled {label!r}: {self.fake.buttons(message)}")


# What the fake lets through in one private chat while the bot paces itself at 20/s after
# 10 at once (config_data): a bot that does not pace itself is still caught.
FAKE_PRIVATE_RATE, FAKE_PRIVATE_BURST = 25.0, 12


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    server = FakeTelegram(token=TOKEN, bot_username="complaint_test_bot",
                          private_rate=FAKE_PRIVATE_RATE, private_burst=FAKE_PRIVATE_BURST)
    await server.start()
    for uid, name in NAMES.items():
        server.add_user(uid, name)
    server.add_user(OUTSIDER, "路人甲")
    server.add_group(FORUM, "輝煌同仁群", is_forum=True)
    server.add_group(PLAIN, "輝煌同仁群（無話題）", is_forum=False)
    server.add_group(STRANGERS, "別的群", is_forum=False)
    yield server
    await server.stop()
    assert server.violations == [], "calls real Telegram would refuse:\n" + "\n".join(server.violations)


StartBot = Callable[..., Awaitable[Runtime]]


@pytest.fixture
async def start_bot(fake: FakeTelegram, tmp_path: Path) -> AsyncIterator[StartBot]:
    runtimes: list[Runtime] = []

    async def start(workgroup: int | None = FORUM, clock: Clock | None = None,
                    **extra: Any) -> Runtime:
        """Start the bot; `extra` replaces top-level config sections (e.g. deadlines)."""
        runtime = Runtime(settings_for(fake, tmp_path / "complaints.db", workgroup, **extra),
                          clock=clock)
        await runtime.start()
        runtimes.append(runtime)
        return runtime

    yield start
    for runtime in runtimes:
        await runtime.stop()


@pytest.fixture
async def bot(start_bot: StartBot) -> Runtime:
    return await start_bot()


@pytest.fixture
def people(fake: FakeTelegram) -> dict[str, Actor]:
    return {name: Actor(fake, uid) for name, uid in {
        "admin": ADMIN, "sales_head": SALES_HEAD, "sales": SALES, "desk_head": DESK_HEAD,
        "desk": DESK, "hr_head": HR_HEAD, "hr": HR, "prod_head": PROD_HEAD, "prod": PROD,
        "purch_head": PURCH_HEAD, "logi_head": LOGI_HEAD, "inspect_head": INSPECT_HEAD,
        "vp": VP, "outsider": OUTSIDER}.items()}
