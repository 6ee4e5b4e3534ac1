"""Webhook mode: Telegram posts each update to the bot's web server with the secret token;
a request without it is refused, and an update posted twice acts once."""

from __future__ import annotations

import asyncio
import json
import socket
from typing import Any

import aiohttp
from sqlalchemy.exc import OperationalError
from telegram import Update

from bot.inbox import SECRET_HEADER, webhook_secret
from bot.sandbox import FakeTelegram
from tests.e2e.conftest import SALES, Actor, StartBot, config_data, text_of
from tests.e2e.flows import file_and_post

WEBHOOK = "https://complaints.example.test/telegram/updates"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def webhook_sections(port: int) -> dict[str, Any]:
    """The config sections of a bot in webhook mode, listening on 127.0.0.1:`port`."""
    telegram = {**config_data("sqlite://", None)["telegram"], "mode": "webhook",
                "webhook_url": WEBHOOK, "webhook_connections": 10}
    return {"telegram": telegram, "web": {"listen": f"127.0.0.1:{port}"}}


def whoami(update_id: int) -> dict[str, Any]:
    """An update as Telegram posts it: /whoami from the salesperson, in private."""
    return {"update_id": update_id, "message": {
        "message_id": 900000 + update_id, "date": 1764979200, "text": "/whoami",
        "chat": {"id": SALES, "type": "private", "first_name": "王小明"},
        "from": {"id": SALES, "is_bot": False, "first_name": "王小明"},
        "entities": [{"type": "bot_command", "offset": 0, "length": 7}]}}


async def test_updates_come_by_webhook_and_the_whole_flow_works(
        start_bot: StartBot, fake: FakeTelegram, people: dict[str, Actor]) -> None:
    port = free_port()
    fake.balance([f"http://127.0.0.1:{port}"])
    runtime = await start_bot(**webhook_sections(port))
    [registered] = fake.api_calls("setWebhook")
    assert registered.params["url"] == WEBHOOK
    assert registered.params["secret_token"] == webhook_secret(runtime.settings)
    assert registered.params["max_connections"] == 10

    await file_and_post(fake, people)  # the form, the approval, the card: all by webhook
    assert fake.poll_count == 0  # never getUpdates
    assert runtime.webhook is not None and runtime.webhook.received >= 8
    assert all(ok for *_, ok, _at in fake.webhook_posts)

    await runtime.stop()  # the webhook stays: another process may serve it
    assert fake.api_calls("deleteWebhook") == [] and fake.webhook_url == WEBHOOK


async def test_a_post_without_the_secret_is_refused_and_a_repeated_update_acts_once(
        start_bot: StartBot, fake: FakeTelegram, people: dict[str, Actor]) -> None:
    port = free_port()
    fake.balance([f"http://127.0.0.1:{port}"])
    runtime = await start_bot(**webhook_sections(port))
    url, sales = f"http://127.0.0.1:{port}/telegram/updates", people["sales"]
    secret = webhook_secret(runtime.settings)
    async with aiohttp.ClientSession() as client:
        async def post(body: str, headers: dict[str, str]) -> int:
            async with client.post(url, data=body, headers={
                    "Content-Type": "application/json", **headers}) as response:
                return response.status

        since = sales.mark()
        assert await post(json.dumps(whoami(5001)), {}) == 401
        assert await post(json.dumps(whoami(5001)), {SECRET_HEADER: secret[:-1] + "x"}) == 401
        assert await post("not json", {SECRET_HEADER: secret}) == 400
        assert await post("[1, 2]", {SECRET_HEADER: secret}) == 400
        await fake.wait_idle(quiet=0.5)
        assert sales.inbox()[since:] == []  # none of them was handled

        # As Telegram does when our 200 was lost: the same update again — here twice at once,
        # then once more later.
        again = json.dumps(whoami(5002))
        assert await asyncio.gather(post(again, {SECRET_HEADER: secret}),
                                    post(again, {SECRET_HEADER: secret})) == [200, 200]
        assert await post(again, {SECRET_HEADER: secret}) == 200
        await sales.next_message(since, "Telegram ID")
        await fake.wait_idle(quiet=0.5)
        assert sum("Telegram ID" in text_of(m) for m in sales.inbox()[since:]) == 1


async def test_an_update_the_database_failed_on_is_answered_500_and_acts_once_sent_again(
        start_bot: StartBot, fake: FakeTelegram, people: dict[str, Actor]) -> None:
    port = free_port()
    fake.balance([f"http://127.0.0.1:{port}"])
    runtime = await start_bot(**webhook_sections(port))
    handle, failed = runtime.inbox.handle, list[int]()

    async def fails_once(update: Update) -> None:  # as when the database is gone a moment
        if not failed:
            failed.append(update.update_id)
            raise OperationalError("SELECT 1", None, Exception("the database went away"))
        await handle(update)

    runtime.inbox.handle = fails_once  # type: ignore[method-assign]
    sales = people["sales"]
    await sales.say("/whoami", expect="Telegram ID")
    await fake.wait_idle(quiet=0.5)
    posts = [(update, ok) for update, _target, ok, _at in fake.webhook_posts]
    assert posts == [(failed[0], False), (failed[0], True)]  # refused, then taken when sent again
    assert fake.webhook_errors[-1][1] == "Wrong response from the webhook: 500"
    assert sum("Telegram ID" in text_of(m) for m in sales.inbox()) == 1
