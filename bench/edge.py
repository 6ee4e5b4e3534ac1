"""The edge, as a user sees it: a form step's round trip, and 50 people filing at once.

    python -m bench.edge [--steps 200] [--users 50] [--duration 60] [--think 1.0]
                         [--saturate 100,200] [--profile] [--py-spy] [--json FILE]

Simulated people walk the product form (tests/e2e/flows.py fill_product_form) in their
private chats against the fake Bot API server of bot/sandbox, which runs in this process:
/product, the 沿用 button (f:<draft>:keep, read from the reply's keyboard), then typed answers
(customer, 昨天, 輝煌, spec, problem, 退貨) up to the summary (第 8/8 步), then the 取消 button
(or 提交 with --finish submit), and again. Each person waits for the bot's reply, then thinks
--think seconds (default 1.0) before the next step, as a person would. So Telegram's pace of
about one message a second in a private chat, which the bot keeps and the fake enforces
(1/s, burst 5, answering 429), never delays a reply: the figures are the bot's own costs.

A step's round trip: from the moment the fake receives the person's message (or button
press) to the moment it stores the bot's next message in that chat (`sendMessage`). The
targets concern typed-text steps; buttons and /product are reported apart.

Both bots run in the same invocation, one after the other, each against a fresh fake server
(and the complaint bot on a fresh SQLite file): the complaint bot (`python -m bot run
--config …`, child process, its code from this checkout) and a bare PTB bot
(bench/bare_ptb.py: ApplicationBuilder defaults, it answers any private text with one message
of a form question's size). For the bare bot every step is typed (it has no form): its
"next question" is its reply, which echoes the text it answers.

Runs:
(a) round trip: one person, --warmup-steps steps not counted, then --steps typed-text steps;
(b) --users people (default 50) at once for --duration seconds (default 60) after --warmup
    seconds: steps answered per second, round trip, replies missing / duplicated / wrong,
    429s from the fake, HTTP requests per step, CPU;
(c) --saturate N[,N…]: (b) with N people, to find each bot's capacity;
--profile: (b) once more for the complaint bot under cProfile (bench/edge_probe.py), which
    also counts SQL statements and transactions per update and per delivery;
--py-spy: (b) once more for the complaint bot sampled by py-spy (if installed), all threads.

The config is the people and departments of tests/e2e/conftest.config_data, the simulated
people (ids 50001…) added to 業務部 (sales), Telegram's real private pace
(private_messages_per_second = 1, private_burst = 3), group_messages_per_minute = 20, calendar
24x7, and only messages_per_second (the bot's overall cap of 30 a second, which the bare bot
does not have) raised, to --overall-rate (default 1000). Nothing is asserted; the figures are
printed (and written with --json).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import re
import shutil
import signal
import sqlite3
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import tomli_w  # noqa: E402  (a dev dependency, like the fake server's aiohttp)

from bench.bare_ptb import ECHO_MAX  # noqa: E402
from bench.bare_ptb import READY as BARE_READY  # noqa: E402
from bench.deadlines import Child, child_env, percentile, proc_cpu, proc_status  # noqa: E402
from bot.sandbox import FakeTelegram  # noqa: E402
from bot.sandbox.model import Call  # noqa: E402
from tests.e2e.conftest import FORUM, NAMES, TOKEN, config_data  # noqa: E402

BOT_READY = "is running"  # bot.app logs "bot @… is running" once it polls
FIRST_USER = 50001
BOT, BARE = "complaint-bot", "bare PTB"
SEND_METHODS = {"sendMessage", "sendPhoto", "sendMediaGroup", "sendDocument", "copyMessage",
                "forwardMessage"}


# --- what a person does -------------------------------------------------------------------


@dataclass(frozen=True)
class Action:
    kind: str  # "command", "button" or "text"
    label: str  # what the step is (a field, a button, a command)
    say: str  # what is typed (to the bare bot, buttons are typed too)
    expect: str  # what the complaint bot's reply must hold
    button: str = ""  # the pressed button's callback data ends with this


def product_form(n: int, finish: str) -> list[Action]:
    """The steps of tests/e2e/flows.py fill_product_form (without a photo, brand typed),
    then cancel or submit."""
    end = (Action("button", "cancel", "取消", "已取消", ":cancel") if finish == "cancel"
           else Action("button", "submit", "提交", "已提交", ":submit"))
    return [
        Action("command", "/product", "/product", "第 1/8 步"),
        Action("button", "keep", "沿用", "第 2/8 步", ":keep"),
        Action("text", "customer", f"永輝超市{n}", "第 3/8 步"),
        Action("text", "ship_date", "昨天", "第 4/8 步"),
        Action("text", "brand", "輝煌", "第 5/8 步"),
        Action("text", "spec_qty", "500ml×20箱", "第 6/8 步"),
        Action("text", "problem", "瓶蓋漏液，整箱受潮", "第 7/8 步"),
        Action("text", "request", "退貨", "第 8/8 步"),
        end,
    ]


RECOVER = Action("command", "/cancel", "/cancel", "")  # after a wrong or missing reply


@dataclass
class Step:
    user: int
    kind: str
    label: str
    sent: float  # monotonic: the fake has the person's message (update enqueued)
    replied: float | None = None  # monotonic: the fake stored the bot's next message
    ok: bool = False  # the reply is the expected one
    chars: int = 0  # the reply's length (text as sent, HTML included)

    @property
    def rtt(self) -> float | None:
        return None if self.replied is None else self.replied - self.sent


class Recorder(list[Call]):
    """fake.calls, watched: each call is handed to `on_call` as the fake records it."""

    def __init__(self, calls: Sequence[Call], on_call: Callable[[Call], None]) -> None:
        super().__init__(calls)
        self.on_call = on_call

    def append(self, call: Call) -> None:
        super().append(call)
        self.on_call(call)


@dataclass
class ChatLog:
    messages: list[Call] = field(default_factory=list)  # the bot's messages, as stored
    event: asyncio.Event = field(default_factory=asyncio.Event)

    async def after(self, index: int, timeout: float) -> Call | None:
        """The bot's message number `index` of this chat, once it is there."""
        end = time.monotonic() + timeout
        while len(self.messages) <= index:
            self.event.clear()
            left = end - time.monotonic()
            if left <= 0:
                return None
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.event.wait(), left)
        return self.messages[index]


def chat_of(params: dict[str, Any]) -> int | None:
    try:
        return int(params.get("chat_id"))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


class Watch:
    """Hands every message the bot sends to a simulated person to that person at once."""

    def __init__(self, fake: FakeTelegram, users: Sequence[int]) -> None:
        self.chats = {uid: ChatLog() for uid in users}
        fake.calls = Recorder(fake.calls, self.on_call)

    def on_call(self, call: Call) -> None:
        if call.ok and call.method in SEND_METHODS:
            log = self.chats.get(chat_of(call.params) or 0)
            if log is not None:
                log.messages.append(call)
                log.event.set()


def button_data(call: Call, suffix: str) -> str | None:
    markup = call.params.get("reply_markup") or {}
    rows = markup.get("inline_keyboard", []) if isinstance(markup, dict) else []
    for row in rows:
        for button in row:
            data = button.get("callback_data") or ""
            if data.endswith(suffix):
                return str(data)
    return None


async def sleep_until(moment: float) -> None:
    await asyncio.sleep(max(0.0, moment - time.monotonic()))


@dataclass
class Person:
    """One simulated person in their private chat: a step, the reply, THINK seconds, the next."""

    fake: FakeTelegram
    uid: int
    log: ChatLog
    bare: bool
    think: float
    timeout: float
    finish: str
    steps: list[Step] = field(default_factory=list)
    forms: int = 0
    recoveries: int = 0

    async def run(self, start: float, go_on: Callable[[], bool]) -> None:
        """Walk forms from `start`, a step at a time while go_on() says so."""
        await sleep_until(start)
        recover = False
        while True:
            actions = [RECOVER] if recover else []
            actions += product_form(self.uid * 1000 + self.forms, self.finish)
            self.forms += 1
            recover = False
            reply: Call | None = None
            for action in actions:
                if not go_on():
                    return
                seen = len(self.log.messages)
                if action.kind == "button" and not self.bare:
                    data = button_data(reply, action.button) if reply is not None else None
                    if data is None or reply is None:
                        recover = True
                        break
                    step = Step(self.uid, action.kind, action.label, time.monotonic())
                    self.fake.press(self.uid, (self.uid, reply.result["message_id"]), data)
                else:
                    step = Step(self.uid, action.kind, action.label, time.monotonic())
                    self.fake.send_text(self.uid, self.uid, action.say)
                self.steps.append(step)
                call = await self.log.after(seen, self.timeout)
                if call is None:  # missing: start again
                    self.recoveries += 1
                    recover = True
                    break
                text = str(call.params.get("text") or "")
                step.replied, step.chars = call.at, len(text)
                step.ok = (f"「{action.say[:ECHO_MAX]}」" in text if self.bare
                           else action.expect in text)
                if not step.ok:
                    self.recoveries += 1
                    recover = True
                    break
                reply = call
                await sleep_until(call.at + self.think)


# --- the bots -------------------------------------------------------------------------------


def user_ids(count: int) -> list[int]:
    return [FIRST_USER + i for i in range(count)]


def write_config(path: Path, db_path: Path, fake: FakeTelegram, users: Sequence[int],
                 overall_rate: float) -> None:
    data = config_data(f"sqlite+aiosqlite:///{db_path}", FORUM)
    data["telegram"] = {
        "base_url": fake.base_url, "base_file_url": fake.base_file_url,
        "messages_per_second": overall_rate,  # raised: the bare bot has no overall cap
        "group_messages_per_minute": 20,  # the defaults from here on
        "private_messages_per_second": 1, "private_burst": 3,
    }
    data["calendar"] = {"mode": "24x7"}
    sales = next(d for d in data["departments"] if d["key"] == "sales")
    sales["members"] = [*sales["members"], *users]
    data["members"] = [*data["members"],
                       *({"id": uid, "name": f"業務員{uid - FIRST_USER + 1:04d}"} for uid in users)]
    path.write_text(tomli_w.dumps(data), encoding="utf-8")


def new_fake(username: str, users: Sequence[int]) -> FakeTelegram:
    """Telegram's flood limits at the fake's defaults: 1 message/s per private chat, 5 at once."""
    fake = FakeTelegram(token=TOKEN, bot_username=username)
    for uid, name in NAMES.items():
        fake.add_user(uid, name)
    for uid in users:
        fake.add_user(uid, f"業務員{uid - FIRST_USER + 1:04d}")
    fake.add_group(FORUM, "輝煌同仁群", is_forum=True)
    return fake


@dataclass
class Tool:
    """How the complaint bot is run: plain, under the probe (cProfile + counts), or py-spy."""

    kind: str = "plain"  # "plain", "probe" (counts only), "cprofile" (counts too), "py-spy"
    py_spy: str | None = None


async def start_bot(which: str, fake: FakeTelegram, work: Path, tag: str, users: Sequence[int],
                    args: argparse.Namespace, tool: Tool) -> Child:
    if which == BOT:
        config = work / f"{tag}.toml"
        write_config(config, work / f"{tag}.db", fake, users, args.overall_rate)
        command = [sys.executable, "-m", "bot", "run", "--config", str(config)]
        if tool.kind in ("cprofile", "probe"):
            out = work / tag
            out.mkdir(exist_ok=True)
            command = [sys.executable, "-m", "bench.edge_probe", "--out", str(out),
                       *(["--cprofile"] if tool.kind == "cprofile" else []),
                       "--", "run", "--config", str(config)]
        needle = BOT_READY
    else:
        command = [sys.executable, "-m", "bench.bare_ptb", "--base-url", fake.base_url,
                   "--token", TOKEN]
        needle = BARE_READY
    child = await Child.spawn(command, work / f"{tag}.log", child_env())
    if await child.wait_line(needle, 120) is None:
        await child.stop()
        tail = "\n".join(text for _, text in child.lines[-30:])
        raise SystemExit(f"{which} did not start (log: {work / f'{tag}.log'}):\n{tail}")
    await asyncio.sleep(1.0)  # start-up chores (commands, the workgroup check) out of the way
    return child


# --- one run ----------------------------------------------------------------------------------


@dataclass
class Window:
    """Steps sent in [start, end) count (steps per second: replies stored in it)."""

    start: float
    end: float


def summary(values: Sequence[float]) -> dict[str, float | int | None]:
    return {"n": len(values), "median": percentile(values, 50), "p90": percentile(values, 90),
            "p99": percentile(values, 99), "max": max(values, default=None),
            "mean": statistics.fmean(values) if values else None}


def reconcile(people: Sequence[Person], watch: Watch) -> dict[str, Any]:
    """Every step must be answered by exactly one message: the bot's messages in each chat are
    given to the latest step sent before them. None: missing; two or more: duplicated."""
    missing = duplicated = unsolicited = wrong = 0
    for person in people:
        steps = sorted(person.steps, key=lambda s: s.sent)
        answers = [0] * len(steps)
        j = -1
        for call in sorted(watch.chats[person.uid].messages, key=lambda c: c.at):
            while j + 1 < len(steps) and steps[j + 1].sent <= call.at:
                j += 1
            if j < 0:
                unsolicited += 1
            else:
                answers[j] += 1
        missing += sum(1 for n in answers if n == 0)
        duplicated += sum(n - 1 for n in answers if n > 1)
        wrong += sum(1 for s in steps if s.replied is not None and not s.ok)
    return {"steps": sum(len(p.steps) for p in people), "missing": missing,
            "duplicated": duplicated, "unsolicited": unsolicited, "wrong": wrong,
            "recoveries": sum(p.recoveries for p in people)}


async def run_once(args: argparse.Namespace, work: Path, which: str, tag: str, *,
                   users: int, text_steps: int | None = None, tool: Tool | None = None
                   ) -> dict[str, Any]:
    """One bot, `users` people. With text_steps (run a): one person, --warmup-steps steps,
    then until text_steps typed-text steps are measured. Else: --warmup s, --duration s."""
    tool = tool or Tool()
    ids = user_ids(users)
    fake = new_fake("complaint_test_bot" if which == BOT else "bare_test_bot", ids)
    await fake.start()
    watch = Watch(fake, ids)
    child = await start_bot(which, fake, work, tag, ids, args, tool)
    pid = child.proc.pid
    people = [Person(fake, uid, watch.chats[uid], which == BARE, args.think, args.timeout,
                     args.finish) for uid in ids]
    t0 = time.monotonic() + 0.2
    result: dict[str, Any] = {"bot": which, "users": users, "pid": pid, "tool": tool.kind}
    py_spy: asyncio.subprocess.Process | None = None
    marks: dict[str, Any] = {}

    def mark(name: str) -> None:
        marks[name] = {"at": time.monotonic(), "cpu": proc_cpu(pid), "polls": fake.poll_count,
                       "calls": len(fake.calls), "bench_cpu": time.process_time(),
                       "rss": proc_status(pid).get("VmRSS")}

    async def open_window(seconds: float) -> None:
        nonlocal py_spy
        mark("start")
        if tool.kind in ("cprofile", "probe"):
            os.kill(pid, signal.SIGUSR1)
        elif tool.kind == "py-spy" and tool.py_spy:
            py_spy = await asyncio.create_subprocess_exec(
                tool.py_spy, "record", "--pid", str(pid), "--duration",
                str(max(1, round(seconds))), "--rate", "100", "--threads", "--format", "raw",
                "--output", str(work / f"{tag}.pyspy"),
                stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)

    def close_window() -> None:
        mark("end")
        if tool.kind in ("cprofile", "probe"):
            os.kill(pid, signal.SIGUSR2)

    if text_steps is not None:
        person = people[0]
        warm = args.warmup_steps
        opened: list[asyncio.Task[None]] = []

        def go_on_a() -> bool:
            if len(person.steps) == warm and not opened:
                opened.append(asyncio.create_task(open_window(text_steps * 1.5 * args.think)))
            counted = person.steps[warm:]
            return sum(1 for s in counted if s.kind == "text") < text_steps

        await person.run(t0, go_on_a)
        if opened:
            await opened[0]
        close_window()
        window = Window(marks["start"]["at"] if "start" in marks else t0, marks["end"]["at"])
    else:
        window = Window(t0 + args.warmup, t0 + args.warmup + args.duration)

        def go_on_b() -> bool:
            return time.monotonic() < window.end

        async def edges() -> None:
            await sleep_until(window.start)
            await open_window(args.duration)
            await sleep_until(window.end)
            close_window()

        stagger = args.think / max(1, users)  # everyone starts within one think time
        await asyncio.gather(edges(), *(p.run(t0 + i * stagger, go_on_b)
                                        for i, p in enumerate(people)))
    # Whoever waited at the end has had the reply or --timeout; duplicates may still come.
    await asyncio.sleep(args.drain)
    result["rss_end"] = proc_status(pid).get("VmRSS")
    if py_spy is not None:
        _out, err = await py_spy.communicate()
        result["py_spy_stderr"] = err.decode("utf-8", "replace")[-2000:]
    if tool.kind in ("cprofile", "probe"):
        result["probe"] = await read_probe(work / tag)
    result["exit_code"] = await child.stop()
    await fake.stop()

    # --- figures ---
    steps = [s for p in people for s in p.steps]
    counted = ([s for s in people[0].steps[args.warmup_steps:]] if text_steps is not None
               else [s for s in steps if window.start <= s.sent < window.end])
    answered = [s for s in counted if s.ok and s.rtt is not None]
    seconds = window.end - window.start
    for kind in ("text", "button", "command"):
        result[f"rtt_{kind}"] = summary([s.rtt for s in answered if s.kind == kind
                                         and s.rtt is not None])
    done_in_window = [s for s in steps if s.ok and s.replied is not None
                      and window.start <= s.replied < window.end]
    result["window_s"] = seconds
    result["steps_per_s"] = len(done_in_window) / seconds if seconds > 0 else None
    result["text_steps_per_s"] = (sum(1 for s in done_in_window if s.kind == "text") / seconds
                                  if seconds > 0 else None)
    per_person = Counter(s.user for s in done_in_window)
    result["steps_per_person"] = sorted(per_person.get(uid, 0) for uid in ids)
    result["reply_chars_median"] = statistics.median(s.chars for s in answered) if answered else None
    result.update(reconcile(people, watch))
    result["forms"] = sum(p.forms for p in people)
    start, end = marks.get("start"), marks.get("end")
    if start and end:
        in_window = fake.calls[start["calls"]:end["calls"]]
        methods = Counter(c.method for c in in_window)
        methods["getUpdates"] = end["polls"] - start["polls"]
        result["requests_in_window"] = dict(methods.most_common())
        result["steps_in_window"] = len(done_in_window)
        result["bot_cpu_s"] = (end["cpu"] - start["cpu"]) if end["cpu"] is not None \
            and start["cpu"] is not None else None
        result["bench_cpu_s"] = end["bench_cpu"] - start["bench_cpu"]
    result["rate_limited"] = len(fake.rate_limited)
    result["rate_limited_chats"] = len({chat_of(e["params"]) for e in fake.rate_limited})
    result["errors"] = Counter(f"{e['method']}: {e['description']}"[:120]
                               for e in fake.errors).most_common(10)
    result["unanswered_callbacks"] = len(fake.unanswered_callbacks())
    result["violations"] = list(fake.violations)[:10]
    levels = Counter(text.split(" ", 3)[2] for _, text in child.lines if len(text.split(" ", 3)) > 3)
    result["log_warnings"] = levels.get("WARNING", 0)
    result["log_errors"] = levels.get("ERROR", 0) + levels.get("CRITICAL", 0)
    result["log_samples"] = [text[:200] for _, text in child.lines
                             if " WARNING " in text or " ERROR " in text][:6]
    result["rtts"] = {kind: [round(s.rtt * 1000, 2) for s in answered if s.kind == kind
                             and s.rtt is not None] for kind in ("text", "button", "command")}
    if result.get("probe"):
        result["breakdown"] = breakdown(counted, result["probe"])
    if tool.kind == "py-spy" and (work / f"{tag}.pyspy").exists():
        result["py_spy"] = py_spy_summary(work / f"{tag}.pyspy", seconds)
    if tool.kind == "cprofile" and (work / tag / "bot.prof").exists():
        result["cprofile"] = cprofile_summary(work / tag / "bot.prof", args.top)
    return result


# --- profiles -----------------------------------------------------------------------------------


async def read_probe(out: Path, timeout: float = 15.0) -> dict[str, Any] | None:
    path = out / "counts.json"
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if path.exists():
            with contextlib.suppress(ValueError):
                data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
                return data
        await asyncio.sleep(0.1)
    return None


def cprofile_summary(path: Path, top: int) -> dict[str, str]:
    import io
    import pstats

    out: dict[str, str] = {}
    for key in ("cumulative", "tottime"):
        buffer = io.StringIO()
        stats = pstats.Stats(str(path), stream=buffer)
        stats.strip_dirs().sort_stats(key).print_stats(top)
        text = buffer.getvalue()
        out[key] = text[text.find("   ncalls"):] if "   ncalls" in text else text
        if key == "cumulative":
            head = text[:text.find("   ncalls")] if "   ncalls" in text else ""
            out["head"] = " ".join(head.split())
    return out


FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^()]*?)(?::\d+)?\)$")
LINE = re.compile(r"^(?P<func>.*?) \((?P<file>[^()]*?):(?P<line>\d+)\)$")


def short_path(path: str) -> str:
    for marker in ("site-packages/", "/lib/python3"):
        if marker in path:
            return path.split(marker, 1)[1]
    root = str(ROOT) + "/"
    return path[len(root):] if path.startswith(root) else path


def py_spy_summary(path: Path, seconds: float, top: int = 25) -> dict[str, Any]:
    """py-spy's raw (collapsed) stacks: samples per thread, functions by own samples (with the
    line) and by cumulative samples. At --rate 100 a thread seen running in every sample gives
    100 samples a second; py-spy leaves out samples it takes for idle (without --idle), but a
    thread blocked in C code it does not know as idle (e.g. a queue's get) may still count."""
    own: Counter[str] = Counter()
    cumulative: Counter[str] = Counter()
    threads: Counter[str] = Counter()
    total = 0
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        frames = stack.split(";")
        if frames and frames[0].startswith(("thread ", "process ")):
            thread = frames.pop(0)
            while frames and frames[0].startswith(("thread ", "process ")):
                thread = frames.pop(0)
        else:
            thread = "?"
        names = []
        for frame in frames:
            m = FRAME.match(frame)
            names.append(f"{m['func']} ({short_path(m['file'])})" if m else frame)
        if not names:
            continue
        total += n
        threads[thread] += n
        # Own samples keep the line: C code (SQLite, epoll, a lock) shows as its caller's line.
        leaf = LINE.match(frames[-1])
        own[f"{leaf['func']} ({short_path(leaf['file'])}:{leaf['line']})" if leaf
            else names[-1]] += n
        for name in set(names):
            cumulative[name] += n
    return {"samples": total, "seconds": seconds, "rate": 100,
            "threads": threads.most_common(8), "own": own.most_common(top),
            "cumulative": cumulative.most_common(top)}


PHASES = ("to the handler", "the handler", "to the sender's claim", "claim → stored")


def breakdown(steps: Sequence[Step], probe: dict[str, Any]) -> dict[str, Any]:
    """Each answered step's round trip split at the probe's marks (both clocks are
    CLOCK_MONOTONIC): the fake has the step → Inbox.handle begins (getUpdates, the poller's
    batch) → it ends (committed; a button's answerCallbackQuery included) → the sender's
    _job for that chat begins (wake, dispatch, snapshots, the chat's pace) → the fake stores
    the message (claim, building it, HTTP)."""
    updates: dict[int, list[dict[str, Any]]] = {}
    for u in probe.get("updates", []):
        updates.setdefault(u.get("chat") or 0, []).append(u)
    jobs: dict[int, list[dict[str, Any]]] = {}
    for j in probe.get("jobs", []):
        jobs.setdefault(j.get("chat") or 0, []).append(j)
    split: dict[str, dict[str, list[float]]] = {}
    for step in steps:
        if not step.ok or step.replied is None:
            continue
        update = next((u for u in sorted(updates.get(step.user, []), key=lambda u: u["start"])
                       if u["start"] >= step.sent - 0.001), None)
        job = next((j for j in jobs.get(step.user, [])
                    if j["start"] <= step.replied <= j["end"] + 0.001), None)
        if update is None or job is None:
            continue
        parts = (update["start"] - step.sent, update["end"] - update["start"],
                 job["start"] - update["end"], step.replied - job["start"])
        into = split.setdefault(step.kind, {name: [] for name in ("total", *PHASES)})
        into["total"].append(step.replied - step.sent)
        for name, value in zip(PHASES, parts, strict=True):
            into[name].append(value)
    return {kind: {name: {"median": percentile(v, 50), "p99": percentile(v, 99), "n": len(v)}
                   for name, v in parts_of.items()} for kind, parts_of in split.items()}


def breakdown_lines(split: dict[str, Any] | None) -> list[str]:
    lines = []
    for kind, parts in (split or {}).items():
        lines.append(f"  round trip split ({kind} steps, n={parts['total']['n']}), median / p99: "
                     + "; ".join(f"{name} {fmt_ms(parts[name]['median'])} / "
                                 f"{fmt_ms(parts[name]['p99'])}" for name in ("total", *PHASES)))
    return lines


def probe_digest(probe: dict[str, Any] | None, steps: int) -> list[str]:
    """The probe's counts as lines: per update kind and per delivery, and in total per step."""
    if not probe:
        return ["(no counts from the probe)"]
    lines: list[str] = []
    updates: list[dict[str, Any]] = probe.get("updates", [])
    for kind in ("text", "button", "command", "other"):
        rows = [u for u in updates if u["kind"] == kind]
        if not rows:
            continue
        lines.append(
            f"  update ({kind}, {len(rows)}): per update median {med(rows, 'statements')} SQL "
            f"statements ({med(rows, 'SELECT')} SELECT, {med(rows, 'INSERT')} INSERT, "
            f"{med(rows, 'UPDATE')} UPDATE, {med(rows, 'DELETE')} DELETE), "
            f"{med(rows, 'BEGIN')} BEGIN, {med(rows, 'SAVEPOINT')} SAVEPOINT, "
            f"{med(rows, 'commit')} commit; handled in {fmt_ms(pct(rows, 'seconds', 50))} median, "
            f"{fmt_ms(pct(rows, 'seconds', 99))} p99")
    jobs: list[dict[str, Any]] = probe.get("jobs", [])
    for side in sorted({j["side"] for j in jobs}):
        rows = [j for j in jobs if j["side"] == side]
        lines.append(
            f"  delivery ({side}, {len(rows)}, {sum(j['rows'] for j in rows)} rows): per delivery "
            f"median {med(rows, 'statements')} SQL statements ({med(rows, 'SELECT')} SELECT, "
            f"{med(rows, 'UPDATE')} UPDATE), {med(rows, 'BEGIN')} BEGIN, {med(rows, 'commit')} "
            f"commit; {fmt_ms(pct(rows, 'seconds', 50))} median (HTTP included)")
    by_task: Counter[str] = Counter()
    begins: Counter[str] = Counter()
    for task, verb, n in probe.get("statements", []):
        by_task[task] += n
        if verb == "BEGIN":
            begins[task] += n
    total = sum(by_task.values())
    if steps:
        lines.append(f"  all SQL in the window: {total:,} statements = {total / steps:.1f} per step "
                     f"answered; BEGIN {sum(begins.values()) / steps:.1f} per step")
        for task, n in by_task.most_common():
            lines.append(f"    {task}: {n / steps:.1f} statements, {begins[task] / steps:.1f} "
                         "BEGIN per step")
    lines.append("  most frequent statements in the window (count, text):")
    for text, n in probe.get("texts", [])[:12]:
        lines.append(f"    {n:6d}  {text[:130]}")
    if probe.get("missing_hooks"):
        lines.append(f"  hooks not found (renamed?): {', '.join(probe['missing_hooks'])}")
    return lines


def med(rows: Sequence[dict[str, Any]], key: str) -> str:
    values = [r.get(key, 0) for r in rows]
    return f"{statistics.median(values):g}" if values else "—"


def pct(rows: Sequence[dict[str, Any]], key: str, p: float) -> float | None:
    return percentile([r.get(key, 0) for r in rows], p)


# --- the report ------------------------------------------------------------------------------------


def fmt_ms(x: float | None) -> str:
    if x is None:
        return "—"
    return f"{x * 1000:.0f} ms" if x >= 0.0095 else f"{x * 1000:.1f} ms"


def rate(x: float | None) -> str:
    return "—" if x is None else f"{x:.1f}/s"


def times(a: float | None, b: float | None) -> str:
    return "—" if a is None or not b else f"{a / b:.2f}×"


def verdict(ok: bool | None) -> str:
    return "not measured" if ok is None else "MET" if ok else "NOT MET"


def ratio_of(a: float | None, b: float | None) -> float | None:
    return None if a is None or not b else a / b


def targets(figures: dict[str, Any]) -> dict[str, Any]:
    a, b = figures.get("a", {}), figures.get("b", {})
    out: dict[str, Any] = {}
    if a:
        bot, bare = a[BOT]["rtt_text"], a[BARE]["rtt_text"]
        median_ratio = ratio_of(bot["median"], bare["median"])
        p99_ratio = ratio_of(bot["p99"], bare["p99"])
        out["median_ratio"] = median_ratio
        out["median_met"] = None if median_ratio is None else median_ratio <= 1.5
        out["p99_ratio"] = p99_ratio
        out["p99_met"] = None if p99_ratio is None else p99_ratio <= 3.0
    if b:
        bot, bare = b[BOT], b[BARE]
        throughput = ratio_of(bot["steps_per_s"], bare["steps_per_s"])
        out["throughput_ratio"] = throughput
        out["nothing_lost"] = bot["missing"] == 0 and bot["duplicated"] == 0
        out["throughput_met"] = None if throughput is None else (
            throughput >= 0.6 and out["nothing_lost"])
    return out


def lost(r: dict[str, Any]) -> str:
    return (f"{r['missing']} missing, {r['duplicated']} dup, {r['wrong']} wrong"
            + (f", {r['unsolicited']} unasked" if r["unsolicited"] else ""))


def per_step(r: dict[str, Any]) -> str:
    steps = r.get("steps_in_window") or 0
    if not steps:
        return "—"
    methods = r.get("requests_in_window", {})
    total = sum(methods.values())
    parts = ", ".join(f"{m} {n / steps:.2f}" for m, n in methods.items())
    return f"{total / steps:.2f} ({parts})"


def report(args: argparse.Namespace, figures: dict[str, Any]) -> str:
    rows: list[tuple[str, str, str, str, str]] = []

    def row(name: str, ours: str = "", theirs: str = "", r: str = "", note: str = "") -> None:
        rows.append((name, ours, theirs, r, note))

    t = targets(figures)
    a = figures.get("a")
    if a:
        bot, bare = a[BOT], a[BARE]
        bt, rt = bot["rtt_text"], bare["rtt_text"]
        row(f"(a) 1 person, {bt['n']} typed-text steps: round trip median", fmt_ms(bt["median"]),
            fmt_ms(rt["median"]), times(bt["median"], rt["median"]),
            f"≤ 1.5×: {verdict(t.get('median_met'))}")
        row("    p90", fmt_ms(bt["p90"]), fmt_ms(rt["p90"]), times(bt["p90"], rt["p90"]))
        row("    p99", fmt_ms(bt["p99"]), fmt_ms(rt["p99"]), times(bt["p99"], rt["p99"]),
            f"≤ 3×: {verdict(t.get('p99_met'))}")
        row("    max", fmt_ms(bt["max"]), fmt_ms(rt["max"]), times(bt["max"], rt["max"]))
        for kind, name in (("button", "button press → next question"),
                           ("command", "/product → first question")):
            ours, theirs = bot[f"rtt_{kind}"], bare[f"rtt_{kind}"]
            row(f"    {name}, median (n={ours['n']})", fmt_ms(ours["median"]),
                fmt_ms(theirs["median"]), times(ours["median"], theirs["median"]),
                "bare: the same step typed")
        row("    replies: lost / duplicated / wrong", lost(bot), lost(bare))
        row("    reply length, median characters", f"{bot['reply_chars_median']:.0f}",
            f"{bare['reply_chars_median']:.0f}")
    b = figures.get("b")
    if b:
        bot, bare = b[BOT], b[BARE]
        row(f"(b) {args.users} people at once, {args.duration:.0f} s: steps answered/s",
            rate(bot["steps_per_s"]), rate(bare["steps_per_s"]),
            times(bot["steps_per_s"], bare["steps_per_s"]),
            f"≥ 0.6× and nothing lost: {verdict(t.get('throughput_met'))}")
        row("    typed-text steps answered/s", rate(bot["text_steps_per_s"]),
            rate(bare["text_steps_per_s"]), times(bot["text_steps_per_s"], bare["text_steps_per_s"]))
        bt, rt = bot["rtt_text"], bare["rtt_text"]
        row(f"    typed-text round trip median (n={bt['n']})", fmt_ms(bt["median"]),
            fmt_ms(rt["median"]), times(bt["median"], rt["median"]))
        row("    typed-text round trip p99", fmt_ms(bt["p99"]), fmt_ms(rt["p99"]),
            times(bt["p99"], rt["p99"]))
        row("    typed-text round trip max", fmt_ms(bt["max"]), fmt_ms(rt["max"]),
            times(bt["max"], rt["max"]))
        row("    button press round trip median", fmt_ms(bot["rtt_button"]["median"]),
            fmt_ms(bare["rtt_button"]["median"]),
            times(bot["rtt_button"]["median"], bare["rtt_button"]["median"]))
        row("    steps per person in the window: min / median / max",
            spread(bot["steps_per_person"]), spread(bare["steps_per_person"]))
        row("    replies: lost / duplicated / wrong (whole run)", lost(bot), lost(bare), "",
            f"of {bot['steps']} / {bare['steps']} steps")
        row("    429s from the fake (flood limit)", str(bot["rate_limited"]),
            str(bare["rate_limited"]))
        row("    unanswered button presses", str(bot["unanswered_callbacks"]), "—")
        row("    bot CPU in the window", cpu(bot), cpu(bare))
        row("    bench process CPU (fake + people)", cpu(bot, "bench_cpu_s"),
            cpu(bare, "bench_cpu_s"))
        row("    RSS at the end", mb(bot.get("rss_end")), mb(bare.get("rss_end")))
    sat = figures.get("c", {})
    for n in sorted(sat, key=int):
        bot, bare = sat[n][BOT], sat[n][BARE]
        row(f"(c) {n} people: steps answered/s", rate(bot["steps_per_s"]),
            rate(bare["steps_per_s"]), times(bot["steps_per_s"], bare["steps_per_s"]),
            f"offered ≤ {int(n) / args.think:.0f}/s")
        row("    typed-text round trip median / p99",
            f"{fmt_ms(bot['rtt_text']['median'])} / {fmt_ms(bot['rtt_text']['p99'])}",
            f"{fmt_ms(bare['rtt_text']['median'])} / {fmt_ms(bare['rtt_text']['p99'])}")
        row("    lost / duplicated / wrong; 429s", f"{lost(bot)}; {bot['rate_limited']}",
            f"{lost(bare)}; {bare['rate_limited']}")
        row("    bot CPU in the window", cpu(bot), cpu(bare))

    head = ("", BOT, BARE, "ratio", "target / note")
    widths = [max(len(r[i]) for r in [*rows, head]) for i in range(5)]
    out: list[str] = []
    m = figures["machine"]
    out.append(f"complaint-bot edge benchmark — {m['cpus']} CPUs, {m['platform']}, "
               f"Python {m['python']}, SQLite {m['sqlite']}")
    out.append(f"each person: reply → thinks {args.think:g} s → next step (Telegram's 1 message/s "
               "per private chat never delays a reply); round trip = the fake has the step → "
               "the fake stores the bot's next message")
    out.append(f"complaint bot: private_messages_per_second 1, private_burst 3 (defaults); "
               f"messages_per_second raised 30 → {args.overall_rate:g} (the bare bot has no "
               "overall cap); fake: 1 msg/s per private chat, burst 5")
    out.append(f"warm-up excluded: (a) the first {args.warmup_steps} steps, (b)/(c) the first "
               f"{args.warmup:g} s; (b) ends {args.duration:g} s later; finish: {args.finish}")
    out.append("")
    out.append("  ".join(h.ljust(w) for h, w in zip(head, widths, strict=True)).rstrip())
    out.append("  ".join("-" * w for w in widths))
    for r in rows:
        out.append("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
    out.append("")
    if b:
        for which in (BOT, BARE):
            out.append(f"(b) {which}: HTTP requests per step answered: {per_step(b[which])}")
        for which in (BOT, BARE):
            r = b[which]
            out.append(f"(b) {which}: log {r['log_warnings']} warnings, {r['log_errors']} errors; "
                       f"fake errors: {r['errors'] or 'none'}; violations: {r['violations'] or 'none'}")
            for text in r["log_samples"]:
                out.append("    " + text)
    for key, title in (("census", "the probe (counts only, no profiler)"),
                       ("profile", "cProfile (bench/edge_probe.py)"), ("py_spy", "py-spy")):
        extra: dict[str, Any] | None = figures.get(key)
        if not extra:
            continue
        out.append("")
        run = "(a)" if key == "census" else "(b)"
        out.append(f"{run} once more, complaint bot under {title}, {extra['users']} people: "
                   "steps answered "
                   f"{rate(extra['steps_per_s'])}, typed-text round trip median "
                   f"{fmt_ms(extra['rtt_text']['median'])}, p99 {fmt_ms(extra['rtt_text']['p99'])}; "
                   f"{lost(extra)}; 429s {extra['rate_limited']}; bot CPU {cpu(extra)}")
        out.append(f"    HTTP requests per step answered: {per_step(extra)}")
        out.extend(breakdown_lines(extra.get("breakdown")))
        if key != "py_spy":
            out.extend(probe_digest(extra.get("probe"), extra.get("steps_in_window") or 0))
    return "\n".join(out)


def profile_text(figures: dict[str, Any]) -> str:
    out: list[str] = []
    prof = (figures.get("profile") or {}).get("cprofile")
    if prof:
        out.append(f"cProfile of the complaint bot's main thread over the (b) window — {prof['head']}")
        out.append("\nby cumulative time:\n" + prof["cumulative"])
        out.append("by own time:\n" + prof["tottime"])
    spy = (figures.get("py_spy") or {}).get("py_spy")
    if spy:
        busy = spy["samples"] / (spy["rate"] * spy["seconds"]) if spy["seconds"] else 0
        out.append(f"py-spy over the (b) window: {spy['samples']:,} samples of running threads "
                   f"at {spy['rate']}/s = {busy:.2f} threads busy on average")
        out.append("  by thread: " + ", ".join(f"{t} {n}" for t, n in spy["threads"]))
        out.append("  by own samples:")
        out.extend(f"    {n:6d}  {name}" for name, n in spy["own"])
        out.append("  by cumulative samples:")
        out.extend(f"    {n:6d}  {name}" for name, n in spy["cumulative"])
    return "\n".join(out)


def spread(values: Sequence[int]) -> str:
    if not values:
        return "—"
    return f"{min(values)} / {statistics.median(values):g} / {max(values)}"


def cpu(r: dict[str, Any], key: str = "bot_cpu_s") -> str:
    value, seconds = r.get(key), r.get("window_s")
    if value is None or not seconds:
        return "—"
    return f"{value:.1f} s ({value / seconds * 100:.0f} %)"


def mb(n: float | None) -> str:
    return "—" if n is None else f"{n / 1e6:.0f} MB"


# --- main -------------------------------------------------------------------------------------------


def find_py_spy(given: str | None) -> str | None:
    if given and given != "auto":
        return given if Path(given).exists() else None
    for candidate in (shutil.which("py-spy"), str(Path(sys.executable).parent / "py-spy")):
        if candidate and Path(candidate).exists():
            return candidate
    return None


async def run(args: argparse.Namespace) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="complaint-edge-"))
    figures: dict[str, Any] = {"work_dir": str(work), "args": vars(args)}
    figures["machine"] = {"cpus": os.cpu_count(), "python": platform.python_version(),
                          "platform": platform.platform(terse=True),
                          "sqlite": sqlite3.sqlite_version}
    runs = set(args.runs.split(",")) - {"none", ""}
    try:
        if "a" in runs:
            figures["a"] = {}
            for which in (BOT, BARE):
                print(f"(a) {which}: one person, {args.steps} typed-text steps …", flush=True)
                figures["a"][which] = await run_once(args, work, which, f"a-{tag_of(which)}",
                                                     users=1, text_steps=args.steps)
        if "b" in runs:
            figures["b"] = {}
            for which in (BOT, BARE):
                print(f"(b) {which}: {args.users} people for {args.duration:g} s …", flush=True)
                figures["b"][which] = await run_once(args, work, which, f"b-{tag_of(which)}",
                                                     users=args.users)
        if args.saturate:
            figures["c"] = {}
            for n in args.saturate:
                figures["c"][str(n)] = {}
                for which in (BOT, BARE):
                    print(f"(c) {which}: {n} people for {args.duration:g} s …", flush=True)
                    figures["c"][str(n)][which] = await run_once(
                        args, work, which, f"c{n}-{tag_of(which)}", users=n)
        if args.profile:
            print(f"(a) under the probe (counts, no profiler): {args.census_steps} typed-text "
                  "steps …", flush=True)
            figures["census"] = await run_once(args, work, BOT, "census", users=1,
                                               text_steps=args.census_steps, tool=Tool("probe"))
            print(f"(b) under cProfile: {args.users} people …", flush=True)
            figures["profile"] = await run_once(args, work, BOT, "profile", users=args.users,
                                                tool=Tool("cprofile"))
        if args.py_spy:
            binary = find_py_spy(args.py_spy)
            if binary is None:
                print("py-spy not found (pip install py-spy, or --py-spy PATH): skipped",
                      flush=True)
            else:
                print(f"(b) sampled by py-spy: {args.users} people …", flush=True)
                figures["py_spy"] = await run_once(args, work, BOT, "pyspy", users=args.users,
                                                   tool=Tool("py-spy", binary))
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    figures["targets"] = targets(figures)
    return figures


def tag_of(which: str) -> str:
    return "bot" if which == BOT else "bare"


def user_counts(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x.strip()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.edge",
                                     description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--runs", default="a,b",
                        help="which of the runs: a (round trip), b (many people), or none (only "
                             "--saturate / --profile / --py-spy); default a,b")
    parser.add_argument("--steps", type=int, default=200,
                        help="(a) typed-text steps measured, after the warm-up (default 200)")
    parser.add_argument("--warmup-steps", type=int, default=9,
                        help="(a) steps not counted at the start (default 9: one whole form)")
    parser.add_argument("--users", type=int, default=50,
                        help="(b) people filing at once (default 50)")
    parser.add_argument("--duration", type=float, default=60.0,
                        help="(b)/(c) measured seconds, after the warm-up (default 60)")
    parser.add_argument("--warmup", type=float, default=10.0,
                        help="(b)/(c) seconds not counted at the start (default 10)")
    parser.add_argument("--saturate", type=user_counts, default=[],
                        help="(c) people at once, comma-separated (e.g. 100,200): the same as (b)")
    parser.add_argument("--think", type=float, default=1.0,
                        help="seconds a person waits after a reply before the next step "
                             "(default 1.0; below 1 the 1 message/s pace per chat shows)")
    parser.add_argument("--timeout", type=float, default=30.0,
                        help="seconds to wait for a reply before it counts as missing (default 30)")
    parser.add_argument("--drain", type=float, default=3.0,
                        help="seconds to keep watching after the last step (late duplicates)")
    parser.add_argument("--finish", choices=("cancel", "submit"), default="cancel",
                        help="what a person does at the summary (default cancel)")
    parser.add_argument("--overall-rate", type=float, default=1000.0,
                        help="the complaint bot's messages_per_second (default 1000: raised from "
                             "Telegram's 30 so as to measure the bot's own costs)")
    parser.add_argument("--profile", action="store_true",
                        help="also run (b) with the complaint bot under cProfile, counting SQL "
                             "statements and transactions (bench/edge_probe.py)")
    parser.add_argument("--py-spy", nargs="?", const="auto", default=None, metavar="PATH",
                        help="also run (b) with the complaint bot sampled by py-spy (found on PATH "
                             "or next to python, or PATH)")
    parser.add_argument("--census-steps", type=int, default=40,
                        help="--profile: typed-text steps of the single-person run under the probe "
                             "(default 40)")
    parser.add_argument("--top", type=int, default=30, help="functions shown by --profile")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--keep", action="store_true",
                        help="keep the temporary directory (databases, configs, logs, profiles)")
    args = parser.parse_args(argv)
    started = time.monotonic()
    figures = asyncio.run(run(args))
    figures["total_seconds"] = time.monotonic() - started
    print()
    print(report(args, figures))
    text = profile_text(figures)
    if text:
        print("\n" + text)
    print(f"\ntotal {figures['total_seconds']:.0f} s" +
          (f"; files kept in {figures['work_dir']}" if args.keep else ""))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1, default=str, ensure_ascii=False),
                             encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
