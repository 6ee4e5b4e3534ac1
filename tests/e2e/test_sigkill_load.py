"""SIGKILL under load (issue 9): 22 people at work at once while the bot process is killed
with SIGKILL at random moments, at least 20 times, and started again each time.

Twelve salespeople in three sales departments file product complaints, one after another
for as long as the killing goes on: step by step (some with a photo) or by pasting the
paper template. Their three heads approve them, three order-desk clerks accept them (受理),
publish the process information and tick the investigating departments, production,
purchasing and logistics answer, and each complainant accepts the answers. About a quarter
of the presses of 提交, 批准, 受理 and 接受 are double taps. Everyone waits for the bot's answer
to each action: after a kill, Telegram sends the updates it has not seen confirmed again,
and the bot carries them out once.

At the end:
- every flow was completed (each wait for an answer succeeded); every update the fake
  delivered is recorded as handled, and no other; every button press was answered, except
  where the process died within KILL_WINDOW of the press's commit or Telegram's 15 s were
  over when it was handled (pressed while the bot was down or catching up);
- every complaint exists once, numbered without gaps, closed; one topic and one card each;
- each state change happened once: one audit event per step and complaint, each step
  record done once, one answer per department; no message in a thread became a comment;
  no draft or open question is left;
- each action answered once: every chat and thread was sent exactly as many messages as
  its people's actions call for (an update carried out twice would answer twice);
- the outbox is empty and each queued message reached Telegram once. A second copy (of a
  message, a card, a topic, a photo) is allowed only where the README allows it: the
  process that sent the first copy was killed within KILL_WINDOW of Telegram taking it
  (before its 'sent' mark could commit), and the next copy came from a later process;
- no call Telegram would refuse, no 429, no error logged by any of the processes.

SIGKILL_SEED (environment) picks another seed; the seed is in every failure message.
"""

from __future__ import annotations

import asyncio
import bisect
import itertools
import math
import os
import random
import re
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import pytest
import sqlalchemy
from sqlalchemy.orm import Session

from bot.sandbox import FakeTelegram
from bot.store.models import (
    Answer,
    AuditEvent,
    Comment,
    Complaint,
    Draft,
    FollowUp,
    OutboxMessage,
    PendingInput,
    ProcessedUpdate,
    StepRecord,
)
from tests.databases import sync_url, url_for
from tests.e2e.conftest import (
    DESK,
    FORUM,
    LOGI_HEAD,
    NAMES,
    PROD,
    PROD_HEAD,
    PURCH_HEAD,
    SALES,
    SALES_HEAD,
    config_data,
    text_of,
)
from tests.e2e.flows import YEAR
from tests.e2e.test_durability import ROOT, kill, write_config

T = TypeVar("T")

SEED = int(os.environ.get("SIGKILL_SEED", "9"))
KILLS = 20  # at least this many, while the load runs
UPTIME = (2.0, 6.0)  # seconds between a restart (polling again) and the next kill
SHORT_UPTIME = (0.3, 1.5)  # now and then: killed while catching up after a restart
DOUBLE = 0.25  # the share of presses that are double taps
WAIT = 60.0  # the answer to one's own action, across a kill and a restart
LONG_WAIT = 240.0  # someone else's part of the flow, behind everyone else's work
KILL_WINDOW = 2.0  # a duplicate is allowed only this soon after the first copy went out
CALLBACK_TIMEOUT = 15.0  # the fake's (Telegram's) time to answer a button press

# The company: three sales departments of a head and four salespeople each, three order-desk
# clerks, and the investigating departments' people.
SALES_DEPARTMENTS = [
    ("sales", "業務部", SALES_HEAD, [SALES, 20011, 20012, 20013]),
    ("sales_east", "業務二部", 21001, [21011, 21012, 21013, 21014]),
    ("sales_south", "業務三部", 22001, [22011, 22012, 22013, 22014]),
]
CLERKS = [DESK, 30011, 30012]
ANSWERERS = {"production": [PROD_HEAD, PROD], "purchasing": [PURCH_HEAD],
             "logistics": [LOGI_HEAD]}
DEPARTMENT_NAMES = {"production": "生產部", "purchasing": "採購部", "logistics": "物流部"}
DEPARTMENT_HEADS = {"production": PROD_HEAD, "purchasing": PURCH_HEAD, "logistics": LOGI_HEAD}
# What a complaint's thread hears: 受理, the question for the process information and its
# record, the departments to tick, whom it was handed to, closed; per department the two
# questions and the answer's record.
THREAD_MESSAGES, THREAD_MESSAGES_PER_DEPARTMENT = 6, 3
# The complainant, besides the form: submitted, approved, posted, 受理, the answers, closed.
AFTER_FILING = 6
INVESTIGATIONS = [["production"], ["purchasing"], ["logistics"], ["production", "purchasing"],
                  ["production", "logistics"], ["production", "purchasing", "logistics"]]
MORE_NAMES = {20011: "業務一號", 20012: "業務二號", 20013: "業務三號",
              21001: "東區經理", 21011: "東區甲", 21012: "東區乙", 21013: "東區丙", 21014: "東區丁",
              22001: "南區經理", 22011: "南區甲", 22012: "南區乙", 22013: "南區丙", 22014: "南區丁",
              30011: "打單二號", 30012: "打單三號"}
ALL_NAMES = {**NAMES, **MORE_NAMES}
NUMBER = re.compile(r"P-\d{4}-\d{4}")
Work = tuple[int, str, int]  # for an investigating department: a complaint's id, number, topic


def company() -> dict[str, Any]:
    """The e2e company with the people above (config sections for write_config)."""
    base = config_data("sqlite://", FORUM)
    departments = []
    for dept in base["departments"]:
        dept = dict(dept)
        if dept["key"] == "order_desk":
            dept["members"] = list(CLERKS)
        departments.append(dept)
    departments[1:1] = [{"key": key, "name": name, "head": head, "members": members}
                        for key, name, head, members in SALES_DEPARTMENTS[1:]]
    departments[0]["members"] = SALES_DEPARTMENTS[0][3]
    # The daily sheet of rule 一.4 is compiled at a time of day: not in this test.
    return {"departments": departments, "sheet": {"enabled": False},
            "members": [{"id": uid, "name": name} for uid, name in ALL_NAMES.items()]}


# --- the world as the people see it ---------------------------------------------------------


def caption(message: dict[str, Any]) -> str:
    return text_of(message).replace("\n", " ")[:100]


def data_of(message: dict[str, Any]) -> list[str]:
    rows = message.get("reply_markup", {}).get("inline_keyboard", [])
    return [b.get("callback_data") or "" for row in rows for b in row]


async def until(predicate: Callable[[], T | None], timeout: float, what: str) -> T:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"seed {SEED}: no answer after {timeout:.0f}s: {what}")
        await asyncio.sleep(0.05)


@dataclass
class Press:
    query_id: str
    update_id: int
    at: float  # time.monotonic()
    who: int
    data: str


@dataclass
class Load:
    """Every action goes through here: it is counted (one update each: the fake numbers them
    1, 2, … in this order) and presses are remembered, for the final checks."""

    fake: FakeTelegram
    actions: int = 0
    presses: list[Press] = field(default_factory=list)
    photos: set[str] = field(default_factory=set)  # numbers of complaints filed with a photo
    numbers: list[str] = field(default_factory=list)  # every complaint filed, by its number
    doubles: Counter[str] = field(default_factory=Counter)
    sent_at: list[datetime] = field(default_factory=list)  # update id - 1 → when (UTC)
    # The messages each private chat is owed by what its person did (the bot's answers).
    owed: Counter[int] = field(default_factory=Counter)

    def _count(self) -> None:
        self.actions += 1
        self.sent_at.append(datetime.now(UTC).replace(tzinfo=None))

    def say(self, who: int, chat: int, text: str, thread: int | None = None,
            reply_to: int | None = None) -> None:
        self._count()
        self.fake.send_text(who, chat, text, thread_id=thread, reply_to=reply_to)

    def photo(self, who: int, text: str) -> None:
        self._count()
        self.fake.send_photo(who, who, caption=text)

    def press(self, who: int, message: dict[str, Any], data: str, double: bool = False) -> None:
        for _ in range(2 if double else 1):
            self._count()
            query_id = self.fake.press(who, (message["chat"]["id"], message["message_id"]), data)
            self.presses.append(Press(query_id, self.actions, time.monotonic(), who, data))
        if double:
            self.doubles[re.sub(r"\d+", "#", data)] += 1

    def answers_to(self, data: str) -> list[str | None]:
        """The texts the bot answered the presses of `data` with (None: not answered)."""
        answers = {a["callback_query_id"]: a.get("text") or "" for a in self.fake.callback_answers}
        return [answers.get(p.query_id) for p in self.presses if p.data == data]


class Chat:
    """A chat as it stands in the fake, read without copying everything at every look."""

    def __init__(self, fake: FakeTelegram, chat_id: int) -> None:
        self.fake = fake
        self.state = fake.chat_state(chat_id)

    def mark(self) -> int:
        return self.state.next_id

    def find(self, since: int, *needles: str, thread: int | None = None) -> dict[str, Any] | None:
        """The first bot message from message id `since` on with all of `needles`."""
        for mid in range(since, self.state.next_id):
            message = self.state.messages.get(mid)
            if message is None or message["from"]["id"] != self.fake.bot_id:
                continue
            if thread is not None and message.get("message_thread_id") != thread:
                continue
            if all(needle in text_of(message) for needle in needles):
                return dict(message)
        return None

    def find_new(self, since: int, needle: str, known: set[str]) -> tuple[dict[str, Any], str] | None:
        """The first bot message from `since` on with `needle` and a complaint number not in
        `known`, and that number."""
        for mid in range(since, self.state.next_id):
            message = self.state.messages.get(mid)
            if message is None or message["from"]["id"] != self.fake.bot_id:
                continue
            found = NUMBER.search(text_of(message))
            if needle in text_of(message) and found and found.group(0) not in known:
                return dict(message), found.group(0)
        return None

    def current(self, message_id: int) -> dict[str, Any] | None:
        return self.state.messages.get(message_id)

    def ticked(self, message_id: int, index: int) -> bool:
        message = self.state.messages[message_id]
        return "☑️" in message["reply_markup"]["inline_keyboard"][index][0]["text"]


class Forum(Chat):
    """The workgroup: complaint cards are found by their st:<id>:… buttons."""

    def __init__(self, fake: FakeTelegram) -> None:
        super().__init__(fake, FORUM)
        self.scanned = 1
        self.cards: dict[int, list[int]] = {}  # complaint id → its card (two only after a kill)
        self.taken: set[int] = set()  # complaints a clerk has taken on

    def scan(self) -> None:
        while self.scanned < self.state.next_id:
            message = self.state.messages.get(self.scanned)
            self.scanned += 1
            if message is None or message["from"]["id"] != self.fake.bot_id:
                continue
            steps = [d for d in data_of(message) if d.startswith("st:")]
            if steps and NUMBER.search(text_of(message)):
                self.cards.setdefault(int(steps[0].split(":")[1]), []).append(message["message_id"])

    def offering(self, complaint: int, data: str) -> dict[str, Any] | None:
        """The complaint's card once it offers the button `data` (it is redrawn after each step)."""
        self.scan()
        for message_id in self.cards.get(complaint, []):
            message = self.current(message_id)
            if message is not None and data in data_of(message):
                return dict(message)
        return None

    def new_complaint(self) -> tuple[int, dict[str, Any]] | None:
        self.scan()
        for complaint in sorted(set(self.cards) - self.taken):
            card = self.offering(complaint, f"st:{complaint}:accept:order_desk")
            if card is not None:
                self.taken.add(complaint)
                return complaint, card
        return None


@dataclass
class Person:
    load: Load
    id: int
    rng: random.Random

    @property
    def name(self) -> str:
        return ALL_NAMES[self.id]

    @property
    def chat(self) -> Chat:
        return Chat(self.load.fake, self.id)

    def double(self) -> bool:
        return self.rng.random() < DOUBLE

    async def answer(self, since: int, *needles: str, timeout: float = WAIT) -> dict[str, Any]:
        chat = self.chat
        return await until(lambda: chat.find(since, *needles), timeout,
                           f"{self.name} ({self.id}) waits for {needles!r}")

    async def say(self, text: str, *expect: str) -> dict[str, Any]:
        since = self.chat.mark()
        self.load.say(self.id, self.id, text)
        return await self.answer(since, *expect)

    async def press(self, message: dict[str, Any], data: str, *expect: str,
                    double: bool = False) -> dict[str, Any]:
        since = self.chat.mark()
        self.load.press(self.id, message, data, double)
        return await self.answer(since, *expect)

    def button(self, message: dict[str, Any], ending: str = "", label: str = "") -> str:
        rows = message.get("reply_markup", {}).get("inline_keyboard", [])
        for button in (b for row in rows for b in row):
            data = button.get("callback_data") or ""
            if (ending and data.endswith(ending)) or (label and label in button["text"]):
                return data
        raise AssertionError(f"seed {SEED}: no button {ending or label!r} on {caption(message)!r}")


# --- what each of them does ---------------------------------------------------------------


async def guided(person: Person, customer: str, problem: str, photo: bool) -> dict[str, Any]:
    step = await person.say("/product", "第 1/8 步")
    step = await person.press(step, person.button(step, ":keep"), "第 2/8 步")
    step = await person.say(customer, "第 3/8 步")
    step = await person.say("昨天", "第 4/8 步")
    step = await person.press(step, person.button(step, label="金牌"), "第 5/8 步")
    step = await person.say("500ml×20箱", "第 6/8 步")
    if photo:
        since = person.chat.mark()
        person.load.photo(person.id, problem)
        step = await person.answer(since, "已收到照片")
        step = await person.press(step, person.button(step, ":keep"), "第 7/8 步")
    else:
        step = await person.say(problem, "第 7/8 步")
    return await person.press(step, person.button(step, label="退貨"), "請確認", customer)


async def pasted(person: Person, customer: str, problem: str) -> dict[str, Any]:
    shipped = date.today() - timedelta(days=3)
    return await person.say(
        f"《產品質量投訴》\n投訴人：{person.name}\n客戶名稱：{customer}\n"
        f"發貨日期：{shipped.year}年{shipped.month}月{shipped.day}日\n品牌：輝煌\n"
        f"規格及數量：1L×5箱\n產品存在的質量問題：{problem}\n客戶要求：換貨\n"
        "投訴時間：_年_月_日_時_分", "請確認", customer)


async def complainant(person: Person, head: str, enough: asyncio.Event) -> None:
    """Files one complaint after another while the killing goes on, each to its end."""
    load, rounds, mine = person.load, 0, set[str]()
    while not enough.is_set():
        rounds += 1
        customer, problem = f"{person.name}的第{rounds}位客戶", f"{person.name}第{rounds}次：瓶蓋漏液"
        photo = False
        if person.rng.random() < 0.35:
            summary = await pasted(person, customer, problem)
            load.owed[person.id] += 1 + AFTER_FILING  # the summary at once
        else:
            photo = person.rng.random() < 0.4
            summary = await guided(person, customer, problem, photo)
            load.owed[person.id] += 8 + photo + AFTER_FILING  # 7 questions and the summary
        since = person.chat.mark()
        await person.press(summary, person.button(summary, ":submit"), f"正等待 {head} 審批",
                           double=person.double())
        # A copy of an earlier notice (sent twice around a kill) is not this one.
        approved = await until(partial(person.chat.find_new, since, "已批准你的投訴", mine),
                               LONG_WAIT, f"{person.name}: {customer} approved")
        number = approved[1]
        mine.add(number)
        load.numbers.append(number)
        if photo:
            load.photos.add(number)
        await person.answer(since, f"投訴 {number} 已發佈到工作群", timeout=LONG_WAIT)
        await person.answer(since, f"你的投訴 {number} 已由 打單部 受理", timeout=LONG_WAIT)
        answers = await person.answer(since, f"你的投訴 {number}有答覆了", timeout=LONG_WAIT)
        await person.press(answers, person.button(answers, ":ok"), f"投訴 {number} 已結案",
                           double=person.double())


async def approver(person: Person) -> None:
    """A head: approves each request as it comes (a copy Telegram got twice only once)."""
    seen, requests, numbers = person.chat.mark(), set[str](), set[str]()
    while True:
        request = person.chat.find(seen, "待你審批")
        if request is None:
            await asyncio.sleep(0.05)
            continue
        seen = request["message_id"] + 1
        current = person.chat.current(request["message_id"])
        if text_of(request) in requests or current is None or not data_of(current):
            continue
        requests.add(text_of(request))
        since = person.chat.mark()
        person.load.press(person.id, current, person.button(current, ":y"), person.double())
        _, number = await until(partial(person.chat.find_new, since, "已批准，編號", numbers), WAIT,
                                f"{person.name} approves {caption(request)!r}")
        numbers.add(number)
        person.load.owed[person.id] += 2  # the request and the answer to 批准


async def clerk(person: Person, forum: Forum, queues: dict[str, asyncio.Queue[Work]]) -> None:
    """The order desk: 受理, the process information, the departments to investigate."""
    load, me = person.load, person.name
    while True:
        found = forum.new_complaint()
        if found is None:
            await asyncio.sleep(0.05)
            continue
        complaint, card = found
        number_found = NUMBER.search(text_of(card))
        assert number_found
        number, thread = number_found.group(0), card["message_thread_id"]
        load.press(person.id, card, f"st:{complaint}:accept:order_desk", person.double())
        publish = f"st:{complaint}:publish_process:order_desk"
        try:
            card = await until(partial(forum.offering, complaint, publish), WAIT,
                               f"{me}: 受理 of {number} recorded on its card")
        except AssertionError as exc:  # what the bot answered to the press says why
            raise AssertionError(f"{exc}; the bot answered the press with "
                                 f"{load.answers_to(f'st:{complaint}:accept:order_desk')!r}") from exc
        since = forum.mark()
        load.press(person.id, card, publish)
        prompt = await until(partial(forum.find, since, f"{me}：請在這裡發送 #{number}", thread=thread),
                             WAIT, f"{me}: the question for {number}'s process information")
        since = forum.mark()
        load.say(person.id, FORUM, f"{number} 工藝：注塑→灌裝→封蓋（{me}）", thread,
                 prompt["message_id"])
        picker = await until(partial(forum.find, since, f"請勾選負責調查 #{number}", thread=thread),
                             WAIT, f"{me}: the departments to tick for {number}")
        departments = person.rng.choice(INVESTIGATIONS)
        labels = [b["text"] for row in picker["reply_markup"]["inline_keyboard"] for b in row]
        for key in departments:
            index = next(i for i, label in enumerate(labels) if DEPARTMENT_NAMES[key] in label)
            load.press(person.id, picker, f"pk:{complaint}:t{index}")
            await until(partial(forum.ticked, picker["message_id"], index), WAIT,
                        f"{me}: {key} ticked for {number}")
        load.press(person.id, picker, f"pk:{complaint}:ok")
        for key in departments:
            await until(partial(forum.offering, complaint, f"st:{complaint}:answer:{key}"), WAIT,
                        f"{me}: {number} handed to {key}")
            queues[key].put_nowait((complaint, number, thread))
            load.owed[DEPARTMENT_HEADS[key]] += 1  # the head is told


async def answerer(person: Person, department: str, forum: Forum, queue: asyncio.Queue[Work]) -> None:
    """Production, purchasing or logistics: the assessment, then the handling opinion."""
    load, name, me = person.load, DEPARTMENT_NAMES[department], person.name
    while True:
        complaint, number, thread = await queue.get()
        data = f"st:{complaint}:answer:{department}"
        card = await until(partial(forum.offering, complaint, data), WAIT,
                           f"{me}: {number}'s card offers {data}")
        since = forum.mark()
        load.press(person.id, card, data)
        prompt = await until(partial(forum.find, since,
                                     f"{me}：請在這裡發送 {name} 對 #{number} 的質量鑒定結果",
                                     thread=thread),
                             WAIT, f"{me}: the question for {number}'s assessment")
        since = forum.mark()
        load.say(person.id, FORUM, f"{number} {name}鑒定：封蓋壓力不足", thread, prompt["message_id"])
        ask = await until(partial(forum.find, since, f"{me}：已收到質量鑒定結果", thread=thread),
                          WAIT, f"{me}: the question for {number}'s opinion")
        since = forum.mark()
        load.say(person.id, FORUM, f"{number} {name}意見：同意換貨", thread, ask["message_id"])
        await until(partial(forum.find, since, f"已記錄 {name} 的質量鑒定結果和處理意見（{me}，#{number}）",
                            thread=thread), WAIT, f"{me}: {number}'s answer recorded")


# --- the bot process -----------------------------------------------------------------------


@dataclass(kw_only=True)
class Killable:
    """The bot under load as the checks see it: when processes were started and killed.
    One process at a time (`Bot`) or several (tests/e2e/test_replicas.py), which start,
    kill and read their logs in their own way."""

    spawned: list[float] = field(default_factory=list)  # when each process was started
    kills: list[tuple[float, datetime]] = field(default_factory=list)  # each one's end: monotonic, UTC
    tolerated: Counter[str] = field(default_factory=Counter)  # what a kill excused, for the report
    # The same moment on both clocks, to compare the fake's records with the database's.
    epoch: tuple[float, datetime] = field(
        default_factory=lambda: (time.monotonic(), datetime.now(UTC).replace(tzinfo=None)))

    async def start(self) -> None:
        raise NotImplementedError

    async def kill(self) -> None:
        raise NotImplementedError

    def errors(self) -> list[str]:
        raise NotImplementedError

    def note_kill(self) -> None:
        self.kills.append((time.monotonic(), datetime.now(UTC).replace(tzinfo=None)))

    def wall(self, at: float) -> datetime:
        """A time.monotonic() reading as naive UTC, as the database keeps times."""
        return self.epoch[1] + timedelta(seconds=at - self.epoch[0])

    def process_of(self, at: float) -> int:
        """Which process made the call the fake recorded at `at`: the last one started
        before it (a request on its way when its process was killed is answered after the
        kill, but before the next process starts)."""
        return bisect.bisect_right(self.spawned, at) - 1

    def died_after(self, at: float, window: float = KILL_WINDOW) -> bool:
        """Whether the process that made the call at `at` was killed within `window` of it."""
        process = self.process_of(at)
        return process < len(self.kills) and self.kills[process][0] - at <= window

    def killed_after(self, start: datetime, window: float = KILL_WINDOW) -> bool:
        return any(start <= at <= start + timedelta(seconds=window) for _, at in self.kills)

    def next_kills(self, times: list[float]) -> str:
        """Which process sent each copy and how soon after it was killed, for the messages."""
        def told(at: float) -> str:
            process = self.process_of(at)
            killed = (f"killed {self.kills[process][0] - at:+.2f}s after"
                      if process < len(self.kills) else "not killed")
            return f"copy at {at - self.spawned[0]:.2f}s by process {process + 1}, {killed}"

        return "; ".join(told(at) for at in sorted(times))


@dataclass
class Bot(Killable):
    """One bot process at a time, started again after each kill."""

    fake: FakeTelegram
    config: Path
    logs: Path
    process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        polls = self.fake.poll_count
        env = {**os.environ, "COMPLAINT_BOT_TOKEN": self.fake.token, "LOG_LEVEL": "WARNING"}
        self.spawned.append(time.monotonic())
        with (self.logs / f"bot-{len(self.spawned):02d}.log").open("wb") as log:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "run", "--config", str(self.config), cwd=ROOT,
                env=env, stdout=log, stderr=log)
        await self.fake.wait_for(lambda: self.fake.poll_count > polls, timeout=30,
                                 message=f"seed {SEED}: the bot process starts polling")

    async def kill(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.note_kill()
            await kill(self.process)

    def errors(self) -> list[str]:
        lines = []
        for log in sorted(self.logs.glob("bot-*.log")):
            text = log.read_text(errors="replace")
            lines += [f"{log.name}: {line}" for line in text.splitlines()
                      if " ERROR " in line or " CRITICAL " in line or line.startswith("Traceback")]
        return lines


async def killer(bot: Bot, rng: random.Random, enough: asyncio.Event) -> None:
    while len(bot.kills) < KILLS:
        await asyncio.sleep(rng.uniform(*(SHORT_UPTIME if rng.random() < 0.2 else UPTIME)))
        await bot.kill()
        await bot.start()
    enough.set()


# --- the checks ----------------------------------------------------------------------------


def segments(text: str, known: set[str]) -> list[str] | None:
    """The queued texts a sent message is made of (private messages queued together go out
    joined by a blank line), or None when it is none of them."""
    pieces = text.split("\n\n")
    best: list[list[str] | None] = [[]] + [None] * len(pieces)
    for i in range(len(pieces)):
        start = best[i]
        if start is None:
            continue
        for j in range(i + 1, len(pieces) + 1):
            joined = "\n\n".join(pieces[i:j])
            if joined in known and best[j] is None:
                best[j] = [*start, joined]
    return best[-1]


def excess_allowed(bot: Killable, times: list[float], extra: int, what: str) -> bool:
    """`extra` copies beyond those queued are allowed when as many copies went out just
    before their process was killed (their 'sent' mark could not commit; a request on its
    way when the process died counts as just before) and the next copy came from a later
    process."""
    if extra <= 0:
        return True
    times = sorted(times)
    excused = sum(bot.died_after(at) and bot.process_of(later) > bot.process_of(at)
                  for at, later in itertools.pairwise(times))
    if extra <= excused:
        bot.tolerated[what] += extra
        return True
    return False


def check_messages(fake: FakeTelegram, bot: Killable, session: Session) -> list[str]:
    """Each queued message sent once; more only right before a kill (README). The same text
    may be queued more than once in a chat (a form's questions, each time one is filed): a
    copy belongs to the last of them queued before it went out."""
    problems: list[str] = []
    threads = dict(session.execute(sqlalchemy.select(Complaint.id, Complaint.thread_id)).all())
    queued: dict[tuple[int, int | None], dict[str, list[datetime]]] = defaultdict(
        lambda: defaultdict(list))
    in_order: dict[tuple[int, int | None], list[tuple[str, int]]] = defaultdict(list)
    for entry in session.scalars(sqlalchemy.select(OutboxMessage).where(
            OutboxMessage.kind == "message").order_by(OutboxMessage.id)):
        if entry.payload.get("to_thread"):
            assert entry.complaint_id is not None
            place = (FORUM, threads[entry.complaint_id])
        else:
            assert entry.chat_id is not None
            place = (entry.chat_id, entry.thread_id)
        in_order[place].append((entry.payload["text"], len(queued[place][entry.payload["text"]])))
        queued[place][entry.payload["text"]].append(entry.created_at)
    copies: dict[tuple[int, int | None, str, int], list[float]] = defaultdict(list)
    cards: dict[str, list[float]] = defaultdict(list)
    for call in fake.calls:
        if call.method != "sendMessage" or not call.ok:
            continue
        place = (call.params["chat_id"], call.params.get("message_thread_id"))
        text = call.params["text"]
        card = re.match(r"<b>#(P-\d{4}-\d{4}) 產品質量投訴</b>", text)
        if card and place[0] == FORUM:
            cards[card.group(1)].append(call.at)
            continue
        parts = segments(text, set(queued[place]))
        if parts is None:
            problems.append(f"a message no queued row explains, in {place}: {text[:200]!r}")
            continue
        for part in parts:
            queued_at = queued[place][part]
            index = max(bisect.bisect_right(queued_at, bot.wall(call.at)) - 1, 0)
            copies[(*place, part, index)].append(call.at)
    for place, texts in queued.items():
        for text, queued_at in texts.items():
            for index, at in enumerate(queued_at):
                times = copies.get((*place, text, index), [])
                if not times:
                    problems.append(f"lost: {text[:120]!r} in {place}, queued at {at}")
                elif not excess_allowed(bot, times, len(times) - 1, "message twice"):
                    problems.append(f"sent {len(times)} times, with no kill within {KILL_WINDOW}s "
                                    f"of the earlier copies ({bot.next_kills(times)}): "
                                    f"{text[:120]!r} in {place}")
    # One chat's (one thread's) messages reach it in the order they were queued.
    for place, entries in in_order.items():
        firsts = [min(copies.get((*place, text, index), [math.inf])) for text, index in entries]
        for (text, _), earlier, later in zip(entries[1:], firsts, firsts[1:], strict=False):
            if later < earlier:
                problems.append(f"out of order in {place}: {text[:80]!r} went out before a "
                                "message queued earlier")
    for number in numbers_in(session):
        times = cards.get(number, [])
        if not times:
            problems.append(f"{number}: no card")
        elif not excess_allowed(bot, times, len(times) - 1, "card twice"):
            problems.append(f"{number}: {len(times)} cards ({bot.next_kills(times)})")
    return problems


def numbers_in(session: Session) -> list[str]:
    return [n for n in session.scalars(sqlalchemy.select(Complaint.number)) if n]


def check_topics_and_photos(fake: FakeTelegram, bot: Killable, numbers: list[str],
                            photos: set[str], threads: dict[str, int | None]) -> list[str]:
    problems = []
    created: dict[str, list[float]] = defaultdict(list)
    for call in fake.calls:
        if call.method == "createForumTopic" and call.ok:
            found = NUMBER.search(call.params["name"])
            created[found.group(0) if found else call.params["name"]].append(call.at)
    for name in set(created) - set(numbers):
        problems.append(f"a topic of no complaint: {name!r}")
    for number in numbers:
        times = created.get(number, [])
        if not times or not excess_allowed(bot, times, len(times) - 1, "topic twice"):
            problems.append(f"{number}: {len(times)} topics created")
    live = {number: [t for t, topic in fake.topics(FORUM).items() if number in topic["name"]]
            for number in numbers}
    for number, topics in live.items():
        if threads.get(number) not in topics:
            problems.append(f"{number}: its thread {threads.get(number)} is not among {topics}")
    posted: dict[int, list[float]] = defaultdict(list)
    for call in fake.calls:
        if call.method in ("sendPhoto", "sendMediaGroup") and call.ok:
            posted[call.params.get("message_thread_id") or 0].append(call.at)
    for number in numbers:
        times = posted.get(threads.get(number) or -1, [])
        if number in photos and not times:
            problems.append(f"{number}: its photo was not posted")
        if number not in photos and times:
            problems.append(f"{number}: photos posted, none was sent")
        if times and not excess_allowed(bot, times, len(times) - 1, "photo twice"):
            problems.append(f"{number}: its photo posted {len(times)} times")
    return problems


def check_presses(fake: FakeTelegram, bot: Killable, load: Load, handled: dict[int, datetime]
                  ) -> list[str]:
    """Every press answered, unless the process died between its commit and its answer, or
    it was handled after Telegram's 15 s (pressed while the bot was down or catching up)."""
    answered = {a["callback_query_id"] for a in fake.callback_answers}
    refused = {c.params.get("callback_query_id"): c.at for c in fake.calls
               if c.method == "answerCallbackQuery" and not c.ok}
    problems = []
    for press in load.presses:
        if press.query_id in answered:
            continue
        late = refused.get(press.query_id)
        if late is not None:  # too old: handled late, after a restart
            if late - press.at >= CALLBACK_TIMEOUT and any(press.at <= at <= late
                                                           for at, _ in bot.kills):
                bot.tolerated["press answered too late"] += 1
                continue
            problems.append(f"press {press.data} by {press.who}: answer refused "
                            f"{late - press.at:.1f}s later")
            continue
        at = handled.get(press.update_id)
        if at is not None and bot.killed_after(at):
            bot.tolerated["press unanswered"] += 1
            continue  # committed, then killed before the answer went
        problems.append(f"press {press.data} by {press.who} (update {press.update_id}, handled "
                        f"at {at}) never answered")
    return problems


def check_counts(session: Session, load: Load) -> list[str]:
    """Each action answered once: every chat and thread was sent as many messages as its
    people's actions call for (an update carried out twice would queue its answer twice)."""
    private: Counter[int] = Counter()
    threads: Counter[int] = Counter()
    for row in session.scalars(sqlalchemy.select(OutboxMessage).where(
            OutboxMessage.kind == "message")):
        if row.payload.get("to_thread"):
            threads[row.complaint_id or 0] += 1
        else:
            private[row.chat_id or 0] += 1
    # Closing a complaint asks whoever accepted it (受理) for the follow-up visit, once.
    owed = Counter(load.owed)
    owed.update(session.scalars(sqlalchemy.select(StepRecord.done_by).where(
        StepRecord.step_key == "accept", StepRecord.done_by.is_not(None))))
    problems = [f"chat {chat}: {private[chat]} messages queued, {owed[chat]} expected"
                for chat in sorted(set(owed) | set(private)) if private[chat] != owed[chat]]
    departments = Counter(s.complaint_id for s in session.scalars(
        sqlalchemy.select(StepRecord).where(StepRecord.step_key == "answer")))
    for complaint, number in session.execute(sqlalchemy.select(Complaint.id, Complaint.number)):
        want = THREAD_MESSAGES + THREAD_MESSAGES_PER_DEPARTMENT * departments[complaint]
        if threads[complaint] != want:
            problems.append(f"{number}: {threads[complaint]} messages queued in its thread, {want} "
                            "expected")
    return problems


def check_database(session: Session, load: Load) -> list[str]:
    problems: list[str] = []
    complaints = list(session.scalars(sqlalchemy.select(Complaint).order_by(Complaint.id)))
    numbers = [c.number for c in complaints]
    expected = [f"P-{YEAR}-{i:04d}" for i in range(1, len(load.numbers) + 1)]
    if sorted(n or "" for n in numbers) != expected or sorted(load.numbers) != expected:
        problems.append(f"complaints {numbers}, filed {sorted(load.numbers)}")
    for complaint in complaints:
        if complaint.status != "closed":
            problems.append(f"{complaint.number}: {complaint.status}")
    events: Counter[tuple[Any, ...]] = Counter()
    for event in session.scalars(sqlalchemy.select(AuditEvent)):
        details = event.details or {}
        events[(event.complaint_id, event.action, details.get("step"),
                details.get("department"))] += 1
    steps = list(session.scalars(sqlalchemy.select(StepRecord)))
    answers = Counter((a.complaint_id, a.step_key, a.department_key)
                      for a in session.scalars(sqlalchemy.select(Answer)))
    for complaint in complaints:
        mine = [s for s in steps if s.complaint_id == complaint.id]
        owed = Counter((s.step_key, s.department_key) for s in mine)
        if sorted(owed.values()) != [1] * len(owed) or any(s.done_at is None for s in mine):
            problems.append(f"{complaint.number}: steps {sorted(owed.items())}, "
                            f"undone {[s.step_key for s in mine if s.done_at is None]}")
        # (closing opens the follow-up visit, once: it is recorded outside this test)
        want: Counter[tuple[Any, ...]] = Counter({(complaint.id, action, None, None): 1
                        for action in ("submitted", "approved", "posted", "answered", "closed",
                                       "followup_opened")})
        for step in mine:
            want[(complaint.id, "step_done", step.step_key, step.department_key)] = 1
        got = Counter({k: v for k, v in events.items() if k[0] == complaint.id})
        if got != want:
            problems.append(f"{complaint.number}: audit events {sorted((got - want).items())} "
                            f"too many, {sorted((want - got).items())} missing")
        investigated = {s.department_key for s in mine if s.step_key == "answer"}
        if not investigated or any(answers[(complaint.id, "answer", d)] != 1 for d in investigated) \
                or answers[(complaint.id, "publish_process", "order_desk")] != 1:
            problems.append(f"{complaint.number}: answers "
                            f"{sorted(k for k in answers.elements() if k[0] == complaint.id)}")
    visits = Counter(session.scalars(sqlalchemy.select(FollowUp.complaint_id)))
    if visits != Counter(c.id for c in complaints):
        problems.append(f"follow-up visits per complaint: {sorted(visits.items())}")
    left = {"outbox rows not sent": session.scalars(sqlalchemy.select(OutboxMessage.id).where(
                OutboxMessage.status != "sent")).all(),
            "comments": session.scalars(sqlalchemy.select(Comment.text)).all(),
            "drafts": session.scalars(sqlalchemy.select(Draft.id)).all(),
            "open questions": session.scalars(sqlalchemy.select(PendingInput.purpose)).all()}
    problems += [f"{what}: {rows}" for what, rows in left.items() if rows]
    handled = set(session.scalars(sqlalchemy.select(ProcessedUpdate.update_id)))
    if handled != set(range(1, load.actions + 1)):
        missing = sorted(set(range(1, load.actions + 1)) - handled)
        problems.append(f"updates delivered: {load.actions}; not handled: {missing[:20]}, "
                        f"unknown: {sorted(handled - set(range(1, load.actions + 1)))[:20]}")
    return problems


# --- the test ------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.timeout(600)
async def test_sigkill_under_load(fake: FakeTelegram, tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    bot = Bot(fake, write_config(fake, tmp_path, **company()), logs)
    result = await under_load(fake, tmp_path, bot, killer)
    assert len(bot.kills) > KILLS, result.summary  # and the last one, once all was done
    result.check()


@dataclass
class LoadResult:
    summary: str
    problems: list[str]
    complaints: int
    filers: int

    def check(self) -> None:
        assert self.complaints >= self.filers, self.summary
        assert not self.problems, self.summary + "\n" + "\n".join(self.problems[:60])


async def under_load(fake: FakeTelegram, tmp_path: Path, bot: Killable,
                     kill_loop: Callable[[Any, random.Random, asyncio.Event], Coroutine[Any, Any, None]]
                     ) -> LoadResult:
    """The company at work while `kill_loop` kills (and restarts) the bot, until it sets
    `enough`; then every check."""
    rng = random.Random(SEED)
    for uid, name in MORE_NAMES.items():
        fake.add_user(uid, name)
    load, forum, enough = Load(fake), Forum(fake), asyncio.Event()

    def person(uid: int) -> Person:
        return Person(load, uid, random.Random(rng.random()))

    filers = [(person(uid), ALL_NAMES[head]) for _, _, head, members in SALES_DEPARTMENTS
              for uid in members]
    heads = [person(head) for _, _, head, _ in SALES_DEPARTMENTS]
    clerks = [person(uid) for uid in CLERKS]
    answerers = [(person(uid), key) for key, uids in ANSWERERS.items() for uid in uids]
    everyone = [p for p, _ in filers] + heads + clerks + [p for p, _ in answerers]
    assert len(everyone) >= 20
    queues: dict[str, asyncio.Queue[Work]] = {key: asyncio.Queue() for key in ANSWERERS}

    started = time.monotonic()
    await bot.start()
    try:
        for someone in everyone:  # each opens a private chat with the bot
            await someone.say("/whoami", "Telegram ID")
            load.owed[someone.id] += 1

        async def filing() -> None:
            async with asyncio.TaskGroup() as group:
                group.create_task(kill_loop(bot, rng, enough))
                for filer, head in filers:
                    group.create_task(complainant(filer, head, enough))

        # Heads, clerks and answerers work until every complaint is closed.
        helpers = [asyncio.create_task(approver(h)) for h in heads]
        helpers += [asyncio.create_task(clerk(c, forum, queues)) for c in clerks]
        helpers += [asyncio.create_task(answerer(a, key, forum, queues[key]))
                    for a, key in answerers]
        main = asyncio.create_task(filing())
        try:
            await asyncio.wait([main, *helpers], return_when=asyncio.FIRST_COMPLETED)
            failed = next((t for t in [main, *helpers] if t.done() and t.exception()), None)
            if failed is not None:
                error = failed.exception()
                while isinstance(error, BaseExceptionGroup):
                    error = error.exceptions[0]
                raise AssertionError(f"seed {SEED}, after {len(bot.kills)} kills: {error}") from error
            assert main.done(), f"seed {SEED}: a helper stopped"
        finally:
            for task in [main, *helpers]:
                task.cancel()
            await asyncio.gather(main, *helpers, return_exceptions=True)
        await fake.wait_idle(quiet=2.0, timeout=60)
    finally:
        await bot.kill()
    elapsed = time.monotonic() - started

    engine = sqlalchemy.create_engine(sync_url(url_for(tmp_path / "complaints.db")))
    try:
        with Session(engine) as session:
            threads = {number: thread for number, thread in session.execute(
                sqlalchemy.select(Complaint.number, Complaint.thread_id)).all() if number}
            handled = dict(session.execute(
                sqlalchemy.select(ProcessedUpdate.update_id, ProcessedUpdate.at)).all())
            problems = check_database(session, load)
            problems += check_counts(session, load)
            problems += check_messages(fake, bot, session)
    finally:
        engine.dispose()
    problems += check_topics_and_photos(fake, bot, sorted(load.numbers), load.photos, threads)
    problems += check_presses(fake, bot, load, handled)
    problems += [f"refused by Telegram: {v}" for v in fake.violations]
    problems += [f"429: {e}" for e in fake.rate_limited]
    problems += bot.errors()
    # Updates sent before a kill and handled after it: Telegram had to send them again.
    carried = sum(any(load.sent_at[update - 1] < at < handled[update] for _, at in bot.kills)
                  for update in handled if update <= load.actions)
    summary = (f"seed {SEED}: {len(bot.kills) - 1} kills under load in {elapsed:.0f}s, "
               f"{len(load.numbers)} complaints, {load.actions} updates ({carried} across a kill), "
               f"{len(load.presses)} presses ({sum(load.doubles.values())} double taps: "
               f"{dict(load.doubles)}); excused by a kill: {dict(bot.tolerated)}")
    print(summary)
    return LoadResult(summary, problems, len(load.numbers), len(filers))
