"""An unexpected error reaches the admins in Telegram: what, where, which complaint — once per
kind in 10 minutes, without the bot's token; the user gets the apology."""

from __future__ import annotations

import pytest

from bot.app import Runtime
from bot.sandbox import FakeTelegram
from bot.services.lists import Lists
from tests.e2e.conftest import Actor, text_of


async def test_an_unexpected_error_is_reported_to_the_admins_once_per_kind(
        bot: Runtime, fake: FakeTelegram, people: dict[str, Actor],
        monkeypatch: pytest.MonkeyPatch) -> None:
    async def broken_mine(self: Lists, actor_id: int) -> None:
        raise RuntimeError(f"the list broke (token {fake.token}) on P-2026-0042")

    async def broken_owed(self: Lists, actor_id: int) -> None:
        raise ValueError("another fault")

    monkeypatch.setattr(Lists, "mine", broken_mine)
    monkeypatch.setattr(Lists, "owed", broken_owed)
    admin, sales = people["admin"], people["sales"]

    since = admin.mark()
    await sales.say("/mine P-2026-0042", expect="出錯")  # the user's apology
    report = await admin.next_message(since, "機器人出錯了")
    assert "RuntimeError" in text_of(report) and "/mine" in text_of(report)
    assert "P-2026-0042" in text_of(report)
    assert fake.token not in text_of(report) and "<token>" in text_of(report)

    await sales.say("/mine", expect="出錯")  # the same kind again: not reported again
    since = admin.mark()
    await sales.say("/open", expect="出錯")  # another kind: reported
    other = await admin.next_message(since, "機器人出錯了")
    assert "ValueError" in text_of(other) and "/open" in text_of(other)
    await fake.wait_idle(quiet=1.0)
    assert sum("機器人出錯了" in text_of(m) for m in admin.inbox()) == 2
