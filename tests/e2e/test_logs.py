"""The log of a whole run: one JSON object per line (LOG_FORMAT=json), each event with its
update and complaint number; and the token never in it — even with every HTTP request logged
(httpx at INFO writes each Bot API URL, which carries the token)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path

from bot.sandbox import FakeTelegram
from tests.e2e.conftest import Actor
from tests.e2e.flows import YEAR, file_and_post
from tests.e2e.test_durability import ROOT, write_config


async def test_the_token_is_never_in_the_log(fake: FakeTelegram, tmp_path: Path,
                                             people: dict[str, Actor]) -> None:
    config = write_config(fake, tmp_path)
    log = tmp_path / "bot.log"
    env = {**os.environ, "COMPLAINT_BOT_TOKEN": fake.token, "LOG_LEVEL": "DEBUG",
           "LOG_LEVELS": "httpx=INFO", "LOG_FORMAT": "json"}
    polls = fake.poll_count
    with log.open("wb") as out:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", "--config", str(config), cwd=ROOT, env=env,
            stdout=out, stderr=out)
        try:
            await fake.wait_for(lambda: fake.poll_count > polls, timeout=30,
                                message="the bot process starts polling")
            await file_and_post(fake, people)  # forms, approval, posting: many calls
            await people["sales"].say("/mine", expect="P-")
        finally:
            process.send_signal(signal.SIGTERM)
            await process.wait()
    text = log.read_text(encoding="utf-8")
    assert "HTTP Request" in text and "/bot<token>/" in text  # the URLs were logged…
    assert fake.token not in text  # … never with the token
    lines = [json.loads(line) for line in text.splitlines()]  # every line one JSON object
    events = {line["event"]: line for line in lines if line.get("event")}
    assert events["approved"]["complaint"] == f"P-{YEAR}-0001"
    assert isinstance(events["approved"]["update_id"], int)  # the head's press
    assert events["posted"]["complaint"] == f"P-{YEAR}-0001"
