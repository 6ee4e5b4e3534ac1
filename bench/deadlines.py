"""Deadline benchmark: 100,000 open complaints, a burst of 1,000 breaches in one minute.

    python -m bench.deadlines [--complaints 100000] [--burst 1000] [--burst-seconds 60]

What it does (bench/README.md and docs/PERFORMANCE.md say more):

1. Seeds a fresh SQLite file (migrated by Alembic) with sqlite3 bulk inserts: the people and
   departments of tests/e2e/conftest.config_data; N open product complaints posted in a forum
   workgroup, each with its done 受理 and 公布工藝流程信息 steps (their deadline rows
   cancelled, as close_step leaves them) and an open 質量鑒定結果和處理意見 step of 生產部 whose
   due time is spread uniformly over the next 7 days (warnings 30 and 10 minutes before it, a
   breach at it; warnings already in the past are marked fired, as a running bot would have
   done); plus B "burst" complaints whose breaches fall due evenly within --burst-seconds,
   --burst-delay seconds after the bot process is launched (their warnings already fired).
2. Measures one sweep of DeadlineScheduler in this process, on a copy of the file, with the
   clock held at the seeding moment (nothing overdue): the first sweep (it arms the window)
   and the median of the following ones.
3. Starts the fake Bot API server (bot/sandbox) here and the real bot as a child process
   (`python -m bot run --config …`, group_messages_per_minute at its real default of 20),
   and records: spawn → first getUpdates, spawn → "is running" (logged after the scheduler
   re-armed its window), RSS (/proc/<pid>/status), CPU, reply latency of /whoami before and
   during the burst, and every Bot API call the bot makes.
4. After the burst and --drain-seconds more, stops the bot (SIGTERM) and reads the database:
   fired_at − due_at of each burst breach; which breach notices reached the group (full
   notices or digest lines, matched by complaint number) and when; what is still queued.
5. Runs a bare PTB bot (bench/bare_ptb.py) against a fresh fake server the same way and
   prints both side by side, with ratios.

Figures are printed, never asserted. --json FILE writes them as JSON too.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import platform
import random
import re
import shutil
import signal
import sqlite3
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import tomli_w  # noqa: E402  (a dev dependency, like the fake server's aiohttp)

from bench.bare_ptb import READY as BARE_READY  # noqa: E402
from bot.sandbox import FakeTelegram  # noqa: E402
from tests.e2e.conftest import (  # noqa: E402
    DESK_HEAD,
    FORUM,
    NAMES,
    SALES,
    SALES_HEAD,
    TOKEN,
    config_data,
)

BOT_READY = "is running"  # bot.app logs "bot @… is running" after scheduler.start()
DB_TIME = "%Y-%m-%d %H:%M:%S.%f"  # how SQLAlchemy stores DateTime in SQLite (naive UTC)
ANSWER_STEP = timedelta(hours=2)  # rule 一.2: the answer is due 2 hours after assignment
WARNINGS = (timedelta(minutes=30), timedelta(minutes=10))  # bot.domain.sla DEFAULT_WARNINGS
EVENTS_PER_COMPLAINT = 7  # accept: warn+breach, publish: warn+breach, answer: 2 warn+breach
STEPS_PER_COMPLAINT = 3
FAR_THREAD = 10_000_000  # thread / card ids the fake never hands out (complaints not touched)
NUMBER = re.compile(r"#(P-\d{4}-\d{6})")
SEND_METHODS = {"sendMessage", "sendPhoto", "sendMediaGroup", "sendDocument", "copyMessage",
                "forwardMessage"}


# --- small helpers ---------------------------------------------------------------------


def db_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime(DB_TIME)


def from_db(text: str) -> datetime:
    return datetime.strptime(text, DB_TIME).replace(tzinfo=UTC)


def percentile(values: Sequence[float], p: float) -> float | None:
    """Nearest-rank percentile (p in 0..100); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def max_in_window(times: Sequence[float], width: float) -> int:
    """The most events in any window [t, t + width) (sliding)."""
    ordered = sorted(times)
    best, j = 0, 0
    for i, start in enumerate(ordered):
        j = max(j, i)
        while j < len(ordered) and ordered[j] < start + width:
            j += 1
        best = max(best, j - i)
    return best


def proc_status(pid: int) -> dict[str, int]:
    """VmRSS / VmHWM in bytes and Threads, from /proc (psutil is not installed)."""
    out: dict[str, int] = {}
    with contextlib.suppress(OSError), open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                out[key] = int(rest.split()[0]) * 1024
            elif key == "Threads":
                out[key] = int(rest.split()[0])
    return out


def rss_by_mapping(pid: int) -> dict[str, int]:
    """Resident bytes by kind of mapping (/proc/<pid>/smaps): the C heap and anonymous memory
    (Python objects, SQLite caches, thread arenas), shared libraries, the database files."""
    out: Counter[str] = Counter()
    kind = "anonymous"
    try:
        with open(f"/proc/{pid}/smaps") as f:
            for line in f:
                first = line.split(None, 6)
                if len(first) >= 5 and "-" in first[0] and ":" in first[3]:  # a mapping header
                    path = first[5].strip() if len(first) > 5 else ""
                    kind = ("heap" if path == "[heap]" else "anonymous" if not path
                            else "stack" if path.startswith("[stack") else "other"
                            if path.startswith("[") else "database" if ".db" in path
                            else "libraries" if ".so" in path or "python" in path else "files")
                elif line.startswith("Rss:"):
                    out[kind] += int(line.split()[1]) * 1024
    except OSError:
        return {}
    return dict(out)


def proc_cpu(pid: int) -> float | None:
    """User + system CPU seconds of a process so far."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def mb(n: float | None) -> str:
    return "—" if n is None else f"{n / 1e6:.0f} MB"


def secs(x: float | None, digits: int = 2) -> str:
    return "—" if x is None else f"{x:.{digits}f} s"


def ms(x: float | None) -> str:
    return "—" if x is None else f"{x * 1000:.0f} ms" if x >= 0.0095 else f"{x * 1000:.1f} ms"


def ratio(a: float | None, b: float | None) -> str:
    return "—" if a is None or not b else f"{a / b:.1f}×"


def sqlite_version() -> str:
    return sqlite3.sqlite_version


# --- 1. seeding ------------------------------------------------------------------------


@dataclass
class Seeded:
    t0: datetime  # the seeding moment: "now" of the seeded state
    complaints: int
    burst_ids: list[int]  # complaint ids of the burst complaints
    seconds: float = 0.0
    steps: int = 0
    events: int = 0
    db_bytes: int = 0


def event_id(complaint_id: int, index: int) -> int:
    """Deterministic ids: complaint i owns events 7(i-1)+1 … 7i (see EVENTS_PER_COMPLAINT)."""
    return (complaint_id - 1) * EVENTS_PER_COMPLAINT + index + 1


def step_id(complaint_id: int, index: int) -> int:
    return (complaint_id - 1) * STEPS_PER_COMPLAINT + index + 1


def seed(db_path: Path, complaints: int, burst: int, rng_seed: int) -> Seeded:
    from bot.store.db import migrate_sync

    started = time.perf_counter()
    migrate_sync(f"sqlite+aiosqlite:///{db_path}")
    t0 = datetime.now(UTC)
    rng = random.Random(rng_seed)
    data = config_data("sqlite://", FORUM)
    conn = sqlite3.connect(db_path)
    conn.execute("PRAGMA synchronous=OFF")
    created = db_time(t0 - timedelta(days=30))
    with conn:
        conn.executemany("INSERT INTO departments (key, name, head_user_id) VALUES (?, ?, ?)",
                         [(d["key"], d["name"], d.get("head")) for d in data["departments"]])
        department_of = {uid: d["key"] for d in data["departments"]
                         for uid in [*d.get("members", []), d.get("head")] if uid}
        conn.executemany(
            "INSERT INTO users (id, name, department_key, is_admin, reachable, created_at) "
            "VALUES (?, ?, ?, ?, 1, ?)",
            [(m["id"], m["name"], department_of.get(m["id"]), int(m["id"] in data["admins"]),
              created) for m in data["members"]])
        year = t0.year
        conn.execute("INSERT INTO number_counters (prefix, year, last) VALUES ('P', ?, ?)",
                     (year, complaints + burst))
        week = timedelta(days=7).total_seconds()
        placeholder = t0 + timedelta(days=1)  # burst times are set just before the launch
        c_rows: list[tuple[Any, ...]] = []
        s_rows: list[tuple[Any, ...]] = []
        e_rows: list[tuple[Any, ...]] = []
        for cid in range(1, complaints + burst + 1):
            is_burst = cid > complaints
            due = placeholder if is_burst else t0 + timedelta(seconds=rng.uniform(1.0, week))
            posted = min(t0, due - ANSWER_STEP) - timedelta(minutes=40)
            answers = {"complainant": NAMES[SALES], "customer": f"客戶{cid}",
                       "ship_date": (posted - timedelta(days=3)).date().isoformat(),
                       "brand": "輝煌", "spec_qty": "500ml×20箱", "problem": "瓶蓋漏液，整箱受潮",
                       "request": "退貨"}
            c_rows.append((cid, f"P-{year}-{cid:06d}", "product", "open", SALES, "sales",
                           json.dumps(answers), "[]", 1, db_time(posted - timedelta(hours=1)),
                           SALES_HEAD, db_time(posted - timedelta(minutes=1)), FORUM,
                           FAR_THREAD + cid, 2 * FAR_THREAD + cid, db_time(posted), 0))
            accepted = posted + timedelta(minutes=2)
            published = posted + timedelta(minutes=15)
            answer_start = min(t0, due - ANSWER_STEP)
            s_rows += [
                (step_id(cid, 0), cid, "accept", "order_desk", 0, db_time(posted),
                 db_time(posted + timedelta(minutes=5)), db_time(accepted), DESK_HEAD),
                (step_id(cid, 1), cid, "publish_process", "order_desk", 0, db_time(posted),
                 db_time(posted + timedelta(minutes=30)), db_time(published), DESK_HEAD),
                (step_id(cid, 2), cid, "answer", "production", 0, db_time(answer_start),
                 db_time(due), None, None)]
            # (id, step, complaint, kind, before, due_at, fired_at, cancelled_at)
            e_rows += [
                (event_id(cid, 0), step_id(cid, 0), cid, "warning", 120,
                 db_time(posted + timedelta(minutes=3)), None, db_time(accepted)),
                (event_id(cid, 1), step_id(cid, 0), cid, "breach", 0,
                 db_time(posted + timedelta(minutes=5)), None, db_time(accepted)),
                (event_id(cid, 2), step_id(cid, 1), cid, "warning", 600,
                 db_time(posted + timedelta(minutes=20)), None, db_time(published)),
                (event_id(cid, 3), step_id(cid, 1), cid, "breach", 0,
                 db_time(posted + timedelta(minutes=30)), None, db_time(published))]
            for k, before in enumerate(WARNINGS):
                moment = due - before
                fired = db_time(moment) if is_burst or moment <= t0 else None
                e_rows.append((event_id(cid, 4 + k), step_id(cid, 2), cid, "warning",
                               int(before.total_seconds()), db_time(moment), fired, None))
            e_rows.append((event_id(cid, 6), step_id(cid, 2), cid, "breach", 0, db_time(due),
                           None, None))
        conn.executemany(
            "INSERT INTO complaints (id, number, kind, status, complainant_id, department_key, "
            "answers, photos, is_crx, filed_at, approver_id, decided_at, chat_id, thread_id, "
            "card_message_id, posted_at, round) VALUES "
            "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", c_rows)
        conn.executemany(
            "INSERT INTO complaint_steps (id, complaint_id, step_key, department_key, round, "
            "started_at, due_at, done_at, done_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", s_rows)
        conn.executemany(
            "INSERT INTO deadline_events (id, step_id, complaint_id, kind, before_seconds, due_at, "
            "fired_at, cancelled_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", e_rows)
    conn.execute("ANALYZE")
    conn.close()
    return Seeded(t0, complaints, list(range(complaints + 1, complaints + burst + 1)),
                  seconds=time.perf_counter() - started, steps=len(s_rows), events=len(e_rows),
                  db_bytes=db_path.stat().st_size)


def time_burst(db_path: Path, burst_ids: list[int], first_due: datetime,
               spacing: timedelta) -> dict[int, datetime]:
    """Give the burst complaints their breach moments (evenly spaced from first_due); their
    answer step started 2 hours before, its warnings fired on time."""
    due_of: dict[int, datetime] = {}
    conn = sqlite3.connect(db_path)
    with conn:
        for j, cid in enumerate(burst_ids):
            due = first_due + j * spacing
            due_of[cid] = due
            conn.execute("UPDATE complaint_steps SET started_at = ?, due_at = ? WHERE id = ?",
                         (db_time(due - ANSWER_STEP), db_time(due), step_id(cid, 2)))
            for k, before in enumerate(WARNINGS):
                moment = db_time(due - before)
                conn.execute("UPDATE deadline_events SET due_at = ?, fired_at = ? WHERE id = ?",
                             (moment, moment, event_id(cid, 4 + k)))
            conn.execute("UPDATE deadline_events SET due_at = ? WHERE id = ?",
                         (db_time(due), event_id(cid, 6)))
    conn.close()
    return due_of


def live_complaints(db_path: Path, until: datetime) -> list[tuple[int, str]]:
    """Complaints with a deadline event that may fire before `until` (they need a real topic
    and card in the fake server)."""
    conn = sqlite3.connect(db_path)
    rows = conn.execute(
        "SELECT DISTINCT c.id, c.number FROM deadline_events e JOIN complaints c "
        "ON c.id = e.complaint_id WHERE e.fired_at IS NULL AND e.cancelled_at IS NULL "
        "AND e.due_at <= ? ORDER BY c.id", (db_time(until),)).fetchall()
    conn.close()
    return [(int(a), str(b)) for a, b in rows]


def place_in_fake(db_path: Path, fake: FakeTelegram, complaints: list[tuple[int, str]]) -> None:
    """Each live complaint gets its topic and its card in the fake forum, as the sender would
    have posted them. Uses the fake's world model directly (no updates are enqueued)."""
    chat = fake.chat_state(FORUM)
    conn = sqlite3.connect(db_path)
    with conn:
        for cid, number in complaints:
            tid = fake._create_topic(chat, fake.bot_user, f"#{number} 產品質量投訴 · 客戶{cid}",
                                     7322096, None)
            card = fake._store(chat, fake.bot_user, {"text": f"#{number}（卡片）"}, thread_id=tid)
            conn.execute("UPDATE complaints SET thread_id = ?, card_message_id = ? WHERE id = ?",
                         (tid, card["message_id"], cid))
    conn.close()


def write_config(path: Path, db_path: Path, fake: FakeTelegram) -> None:
    data = config_data(f"sqlite+aiosqlite:///{db_path}", FORUM)
    data["telegram"] = {"base_url": fake.base_url, "base_file_url": fake.base_file_url,
                        "messages_per_second": 30, "group_messages_per_minute": 20}
    data["calendar"] = {"mode": "24x7"}
    path.write_text(tomli_w.dumps(data), encoding="utf-8")


# --- 2. one sweep, in process ------------------------------------------------------------


class FixedClock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at


async def measure_sweep(db_path: Path, at: datetime, repeats: int) -> dict[str, Any]:
    """DeadlineScheduler.sweep() against the seeded rows, the clock held at `at`."""
    from bot.app import Runtime
    from bot.config import parse_settings

    data = config_data(f"sqlite+aiosqlite:///{db_path}", FORUM)
    data["calendar"] = {"mode": "24x7"}
    runtime = Runtime(parse_settings(data, token=TOKEN), clock=FixedClock(at))
    scheduler = runtime.scheduler
    scheduler.engine.started_at = at
    try:
        t = time.perf_counter()
        await scheduler.sweep()
        first = time.perf_counter() - t
        armed = len(getattr(scheduler, "armed", {}))
        times = []
        for _ in range(repeats):
            t = time.perf_counter()
            await scheduler.sweep()
            times.append(time.perf_counter() - t)
    finally:
        scheduler.stop()
        await runtime.dispose_engines()
    return {"first_s": first, "armed": armed, "repeats": repeats,
            "median_s": statistics.median(times) if times else None,
            "min_s": min(times, default=None), "max_s": max(times, default=None)}


def query_plans(db_path: Path, at: datetime) -> list[str]:
    conn = sqlite3.connect(db_path)
    plans = []
    for sql in ("SELECT id FROM deadline_events WHERE fired_at IS NULL AND cancelled_at IS NULL "
                "AND due_at <= ? ORDER BY due_at, id",
                "SELECT id, due_at FROM deadline_events WHERE fired_at IS NULL AND "
                "cancelled_at IS NULL AND due_at <= ?"):
        rows = conn.execute("EXPLAIN QUERY PLAN " + sql, (db_time(at),)).fetchall()
        plans.append("; ".join(str(r[-1]) for r in rows))
    conn.close()
    return plans


# --- 3. a bot in a child process -----------------------------------------------------------


@dataclass
class Child:
    """A child process whose stderr is kept (with arrival times) and copied to a log file."""

    proc: asyncio.subprocess.Process
    spawned: float  # monotonic, just before the spawn
    log_path: Path
    lines: list[tuple[float, str]] = field(default_factory=list)
    _reader: asyncio.Task[None] | None = None

    @classmethod
    async def spawn(cls, args: list[str], log_path: Path, env: dict[str, str]) -> Child:
        spawned = time.monotonic()
        proc = await asyncio.create_subprocess_exec(
            *args, cwd=ROOT, env=env, stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
        child = cls(proc, spawned, log_path)
        child._reader = asyncio.create_task(child._read())
        return child

    async def _read(self) -> None:
        assert self.proc.stderr is not None
        with open(self.log_path, "w", encoding="utf-8") as log:
            while True:
                raw = await self.proc.stderr.readline()
                if not raw:
                    return
                text = raw.decode("utf-8", "replace").rstrip("\n")
                self.lines.append((time.monotonic(), text))
                log.write(text + "\n")

    async def wait_line(self, needle: str, timeout: float) -> float | None:
        """Monotonic arrival time of the first stderr line containing needle."""
        end = time.monotonic() + timeout
        seen = 0
        while time.monotonic() < end:
            for at, text in self.lines[seen:]:
                if needle in text:
                    return at
            seen = len(self.lines)
            if self.proc.returncode is not None:
                return None
            await asyncio.sleep(0.002)
        return None

    async def stop(self, grace: float = 90.0) -> int | None:
        """SIGTERM, then SIGKILL after `grace` seconds (systemd's default stop timeout)."""
        if self.proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.proc.wait(), grace)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    self.proc.kill()
                await self.proc.wait()
        if self._reader is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._reader, 5)
        return self.proc.returncode


async def first_poll(fake: FakeTelegram, timeout: float) -> float | None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if fake.poll_count > 0:
            return time.monotonic()
        await asyncio.sleep(0.001)
    return None


async def reply_latency(fake: FakeTelegram, user_id: int, command: str,
                        timeout: float = 30.0) -> float | None:
    """Seconds from the user's command to the bot's sendMessage in that private chat."""
    index = len(fake.calls)
    sent = time.monotonic()
    fake.send_text(user_id, user_id, command)
    end = sent + timeout
    while time.monotonic() < end:
        calls = fake.calls
        while index < len(calls):
            call = calls[index]
            index += 1
            if call.ok and call.method == "sendMessage" and _chat(call) == user_id:
                return call.at - sent
        await asyncio.sleep(0.001)
    return None


def _chat(call: Any) -> int | None:
    try:
        return int(call.params.get("chat_id"))
    except (TypeError, ValueError):
        return None


async def sample_rss(pid: int, samples: list[tuple[float, int]], threads: list[int],
                     stop: asyncio.Event) -> None:
    while not stop.is_set():
        status = proc_status(pid)
        if status.get("VmRSS"):
            samples.append((time.monotonic(), status["VmRSS"]))
            threads.append(status.get("Threads", 0))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 0.25)


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(COMPLAINT_BOT_TOKEN=TOKEN, PYTHONUNBUFFERED="1", LOG_LEVEL="INFO",
               PYTHONPATH=str(ROOT) + os.pathsep + env.get("PYTHONPATH", ""))
    return env


def new_fake(username: str) -> FakeTelegram:
    fake = FakeTelegram(token=TOKEN, bot_username=username)
    for uid, name in NAMES.items():
        fake.add_user(uid, name)
    fake.add_group(FORUM, "輝煌同仁群", is_forum=True)
    return fake


async def import_seconds(code: str) -> float:
    t = time.monotonic()
    proc = await asyncio.create_subprocess_exec(sys.executable, "-c", code, cwd=ROOT,
                                                env=child_env())
    await proc.wait()
    return time.monotonic() - t


async def run_bot(args: argparse.Namespace, work: Path, seeded: Seeded) -> dict[str, Any]:
    db_path = work / "complaints.db"
    fake = new_fake("complaint_test_bot")
    await fake.start()
    config = work / "config.toml"
    write_config(config, db_path, fake)
    spacing = timedelta(seconds=args.burst_seconds / max(1, args.burst))
    # Launch now: the burst begins --burst-delay s after the spawn (≈10 s after start-up).
    launch_wall = datetime.now(UTC)
    first_due = launch_wall + timedelta(seconds=args.burst_delay)
    due_of = time_burst(db_path, seeded.burst_ids, first_due, spacing)
    horizon = first_due + timedelta(seconds=args.burst_seconds + args.drain_seconds + 120)
    live = live_complaints(db_path, horizon)
    place_in_fake(db_path, fake, live)
    offset = time.time() - time.monotonic()  # wall = monotonic + offset (same clock for both)
    command = [sys.executable, "-m", "bot", "run", "--config", str(config)]
    if args.profile:  # diagnosis only: cProfile slows the bot down
        command[1:1] = ["-m", "cProfile", "-o", str(work / "bot.prof")]
    child = await Child.spawn(command, work / "bot.log", child_env())
    pid = child.proc.pid
    rss: list[tuple[float, int]] = []
    threads: list[int] = []
    stop_sampling = asyncio.Event()
    sampler = asyncio.create_task(sample_rss(pid, rss, threads, stop_sampling))
    polled_task = asyncio.create_task(first_poll(fake, 120))
    ready = await child.wait_line(BOT_READY, 120)
    polled = await polled_task
    result: dict[str, Any] = {"live_complaints": len(live), "pid": pid}
    if ready is None:
        await child.stop()
        stop_sampling.set()
        await sampler
        await fake.stop()
        tail = "\n".join(text for _, text in child.lines[-30:])
        raise SystemExit(f"the bot did not start (log: {work / 'bot.log'}):\n{tail}")
    result["startup_poll_s"] = polled - child.spawned if polled else None
    result["startup_ready_s"] = ready - child.spawned
    await asyncio.sleep(0.5)
    result["rss_ready"] = proc_status(pid).get("VmRSS")
    result["rss_mappings_ready"] = rss_by_mapping(pid)
    burst_start = first_due.timestamp() - offset  # monotonic
    burst_end = burst_start + args.burst_seconds
    result["burst_after_ready_s"] = burst_start - ready

    # Reply latency while idle (before the burst), then during it.
    idle: list[float | None] = []
    while len(idle) < args.probes and time.monotonic() < burst_start - 1.5:
        idle.append(await reply_latency(fake, SALES, "/whoami"))
        await asyncio.sleep(0.1)
    await asyncio.sleep(max(0.0, burst_start - time.monotonic()))
    cpu_before = proc_cpu(pid)
    busy: list[float | None] = []
    gap = args.burst_seconds / max(1, args.probes)
    while time.monotonic() < burst_end:
        probe_at = time.monotonic()
        busy.append(await reply_latency(fake, SALES, "/whoami"))
        await asyncio.sleep(max(0.0, probe_at + gap - time.monotonic()))
    cpu_after = proc_cpu(pid)
    result["rss_after_burst"] = proc_status(pid).get("VmRSS")
    await asyncio.sleep(args.drain_seconds)
    drain_end = time.monotonic()
    status = proc_status(pid)
    result["rss_mappings"] = rss_by_mapping(pid)
    result["rss_end"] = status.get("VmRSS")
    result["rss_peak"] = status.get("VmHWM")
    result["cpu_burst_s"] = (cpu_after - cpu_before) if cpu_after is not None and \
        cpu_before is not None else None
    stopped = time.monotonic()
    result["exit_code"] = await child.stop()
    result["stop_s"] = time.monotonic() - stopped
    stop_sampling.set()
    await sampler
    await fake.stop()
    result["rss_max_sampled"] = max((r for _, r in rss), default=None)
    result["threads_max"] = max(threads, default=None)
    result["rss_timeline"] = [(round(at - child.spawned, 1), r) for at, r in rss[::8]]
    result["rss_at"] = {name: rss_at(rss, at) for name, at in (
        ("ready", ready), ("burst start", burst_start), ("burst end", burst_end),
        ("drain end", drain_end))}
    result["latency_idle"] = idle
    result["latency_burst"] = busy
    result.update(analyse(db_path, fake, seeded, due_of, offset, burst_start, burst_end,
                          child.spawned, ready, drain_end))
    levels = Counter(text.split(" ", 3)[2] for _, text in child.lines
                     if len(text.split(" ", 3)) > 3)
    result["log_warnings"] = levels.get("WARNING", 0)
    result["log_errors"] = levels.get("ERROR", 0) + levels.get("CRITICAL", 0)
    result["log_samples"] = [text for _, text in child.lines
                             if " WARNING " in text or " ERROR " in text][:8]
    result["violations"] = list(fake.violations)
    return result


# --- 4. what happened ------------------------------------------------------------------


def rss_at(samples: list[tuple[float, int]], at: float) -> int | None:
    """The last RSS sample taken at or before `at`."""
    before = [r for t, r in samples if t <= at]
    return before[-1] if before else None


def analyse(db_path: Path, fake: FakeTelegram, seeded: Seeded, due_of: dict[int, datetime],
            offset: float, burst_start: float, burst_end: float, spawned: float, ready: float,
            drain_end: float) -> dict[str, Any]:
    conn = sqlite3.connect(db_path)
    first_burst = min(seeded.burst_ids, default=seeded.complaints + 1)
    numbers = dict(conn.execute("SELECT id, number FROM complaints WHERE id >= ?",
                                (first_burst,)).fetchall())
    burst_rows = conn.execute(
        "SELECT complaint_id, due_at, fired_at, cancelled_at FROM deadline_events "
        "WHERE kind = 'breach' AND complaint_id >= ? AND step_id % 3 = 0",
        (first_burst,)).fetchall()
    lateness = [(from_db(f) - from_db(d)).total_seconds() for _, d, f, _c in burst_rows if f]
    unfired = sum(1 for _, _d, f, c in burst_rows if f is None and c is None)
    # The other complaints' deadlines that fell due while the bot ran (not those that fell
    # due between the seeding and the start-up: they were caught up at start-up, marked late).
    ready_wall = datetime.fromtimestamp(ready + offset, UTC)
    others = conn.execute(
        "SELECT kind, due_at, fired_at FROM deadline_events WHERE complaint_id < ? "
        "AND fired_at IS NOT NULL AND due_at >= ?", (first_burst, db_time(ready_wall))).fetchall()
    other_late = [(from_db(f) - from_db(d)).total_seconds() for _, d, f in others]
    caught_up = conn.execute(
        "SELECT count(*) FROM deadline_events WHERE complaint_id < ? AND fired_at >= ? "
        "AND due_at < ?", (first_burst, db_time(datetime.fromtimestamp(spawned + offset, UTC)),
                           db_time(ready_wall))).fetchone()[0]
    outbox = conn.execute("SELECT status, kind, count(*) FROM outbox GROUP BY status, kind "
                          "ORDER BY status, kind").fetchall()
    # The thread notices of the burst breaches still in the outbox, and their status.
    queued: Counter[str] = Counter()
    for status, payload in conn.execute(
            "SELECT status, payload FROM outbox WHERE kind = 'message' AND complaint_id >= ?",
            (first_burst,)):
        body = json.loads(payload or "{}")
        if body.get("to_thread") and "🚨" in str(body.get("text", "")):
            queued[status] += 1
    fines = conn.execute("SELECT count(*) FROM fines WHERE complaint_id >= ?",
                         (first_burst,)).fetchone()[0]
    conn.close()

    burst_numbers = set(numbers.values())
    due_by_number = {numbers[cid]: due for cid, due in due_of.items() if cid in numbers}
    group_sends: list[float] = []
    group_all: list[float] = []
    kinds: Counter[str] = Counter()
    kinds_in_minute: Counter[str] = Counter()
    breach_seen: dict[str, float] = {}
    fine_seen: dict[str, float] = {}
    lines_per_message: list[int] = []
    private_in_minute: Counter[int] = Counter()
    for call in fake.calls:
        if not call.ok:
            continue
        chat = _chat(call)
        in_minute = burst_start <= call.at < burst_end
        if chat is not None and chat > 0 and in_minute and call.method in SEND_METHODS:
            private_in_minute[chat] += 1
        if chat != FORUM:
            continue
        group_all.append(call.at)
        kind = "send" if call.method in SEND_METHODS else call.method
        kinds[kind] += 1
        if in_minute:
            kinds_in_minute[kind] += 1
        if call.method not in SEND_METHODS:
            continue
        group_sends.append(call.at)
        text = str(call.params.get("text") or call.params.get("caption") or "")
        found = 0
        for line in text.splitlines():
            if line.startswith("🚨"):
                for number in NUMBER.findall(line):
                    if number in burst_numbers:
                        breach_seen.setdefault(number, call.at)
                        found += 1
            elif line.startswith("💰"):
                for number in NUMBER.findall(line):
                    if number in burst_numbers:
                        fine_seen.setdefault(number, call.at)
        if found:
            lines_per_message.append(found)
    in_time = {n: t for n, t in breach_seen.items() if t < drain_end}
    delivery = [in_time[n] + offset - due_by_number[n].timestamp()
                for n in in_time if n in due_by_number]
    in_minute_sends = [t for t in group_sends if burst_start <= t < burst_end]
    delivered_in_minute = sum(1 for t in breach_seen.values() if t < burst_end)
    return {
        "burst_breaches": len(burst_rows), "burst_fired": len(lateness),
        "burst_unfired": unfired, "fines_levied": fines,
        "lateness_p50": percentile(lateness, 50), "lateness_p99": percentile(lateness, 99),
        "lateness_max": max(lateness, default=None),
        "background_fired": len(other_late), "caught_up_at_startup": caught_up,
        "background_fired_kinds": dict(Counter(k for k, _d, _f in others)),
        "background_lateness_p99": percentile(other_late, 99),
        "background_lateness_max": max(other_late, default=None),
        "group_sends_in_minute": len(in_minute_sends),
        "group_requests_in_minute": sum(kinds_in_minute.values()),
        "group_kinds_in_minute": dict(kinds_in_minute),
        "group_kinds_total": dict(kinds),
        "group_sends_max_60s": max_in_window(group_sends, 60.0),
        "group_requests_max_60s": max_in_window(group_all, 60.0),
        "private_sends_in_minute": {str(k): v for k, v in private_in_minute.items()},
        "breach_notices_delivered_in_minute": delivered_in_minute,
        "breach_notices_delivered": len(in_time),
        "breach_notices_delivered_in_shutdown": len(breach_seen) - len(in_time),
        "fine_notices_delivered": sum(1 for t in fine_seen.values() if t < drain_end),
        "breach_lines_per_message_max": max(lines_per_message, default=0),
        "delivery_p50": percentile(delivery, 50), "delivery_p99": percentile(delivery, 99),
        "delivery_max": max(delivery, default=None),
        "burst_notices_queued": dict(queued),
        "outbox": [list(row) for row in outbox],
    }


# --- 5. the bare PTB bot ---------------------------------------------------------------


async def run_bare(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    fake = new_fake("bare_test_bot")
    await fake.start()
    child = await Child.spawn(
        [sys.executable, "-m", "bench.bare_ptb", "--base-url", fake.base_url, "--token", TOKEN],
        work / "bare.log", child_env())
    polled = await first_poll(fake, 60)
    ready = await child.wait_line(BARE_READY, 60)
    result: dict[str, Any] = {}
    if polled is None or ready is None:
        await child.stop()
        await fake.stop()
        result["error"] = "the bare PTB bot did not start"
        return result
    result["startup_poll_s"] = polled - child.spawned
    result["startup_ready_s"] = ready - child.spawned
    await asyncio.sleep(0.5)
    result["rss_ready"] = proc_status(child.proc.pid).get("VmRSS")
    latencies = []
    for _ in range(args.probes):
        latencies.append(await reply_latency(fake, SALES, "/ping"))
        await asyncio.sleep(0.1)
    status = proc_status(child.proc.pid)
    result["rss_end"], result["rss_peak"] = status.get("VmRSS"), status.get("VmHWM")
    result["latency"] = latencies
    await child.stop()
    await fake.stop()
    result["violations"] = list(fake.violations)
    return result


# --- the report --------------------------------------------------------------------------


def met(value: float | None, limit: float) -> str:
    if value is None:
        return "not measured"
    return "MET" if value <= limit else "NOT MET"


def report(args: argparse.Namespace, figures: dict[str, Any]) -> str:
    s, b, bare, sw = figures["seed"], figures["bot"], figures["bare"], figures["sweep"]
    idle = [x for x in b["latency_idle"] if x is not None]
    busy = [x for x in b["latency_burst"] if x is not None]
    bare_lat = [x for x in bare.get("latency", []) if x is not None]
    rows: list[tuple[str, str, str, str, str]] = []

    def row(name: str, ours: str, theirs: str = "", r: str = "", target: str = "") -> None:
        rows.append((name, ours, theirs, r, target))

    row("start-up: spawn → first getUpdates", secs(b["startup_poll_s"]),
        secs(bare.get("startup_poll_s")), ratio(b["startup_poll_s"], bare.get("startup_poll_s")))
    row("start-up: spawn → window re-armed", secs(b["startup_ready_s"]),
        secs(bare.get("startup_poll_s")), ratio(b["startup_ready_s"], bare.get("startup_poll_s")),
        f"≤ 3 s: {met(b['startup_ready_s'], 3.0)}")
    row("  of which interpreter + imports", secs(figures["imports"]["bot"]),
        secs(figures["imports"]["bare"]), ratio(figures["imports"]["bot"], figures["imports"]["bare"]))
    row("  deadline jobs armed at start-up (1st sweep)", f"{sw['armed']:,}")
    row("RSS after start-up", mb(b["rss_ready"]), mb(bare.get("rss_ready")),
        ratio(b["rss_ready"], bare.get("rss_ready")))
    row("RSS peak (VmHWM, whole run)", mb(b["rss_peak"]), mb(bare.get("rss_peak")),
        ratio(b["rss_peak"], bare.get("rss_peak")), f"≤ 200 MB: {met(b['rss_peak'], 200e6)}")
    row("reply latency idle, p50 (/whoami vs /ping)", ms(percentile(idle, 50)),
        ms(percentile(bare_lat, 50)), ratio(percentile(idle, 50), percentile(bare_lat, 50)))
    row("reply latency idle, max", ms(max(idle, default=None)), ms(max(bare_lat, default=None)))
    row("reply latency in the burst, p50", ms(percentile(busy, 50)), ms(percentile(bare_lat, 50)),
        ratio(percentile(busy, 50), percentile(bare_lat, 50)))
    row("reply latency in the burst, max", ms(max(busy, default=None)),
        ms(max(bare_lat, default=None)),
        f"{len(b['latency_burst']) - len(busy)} unanswered" if len(busy) < len(b["latency_burst"])
        else "")
    row("one sweep, nothing due (median)", ms(sw["median_s"]), "", "",
        f"{sw['repeats']} runs, {ms(sw['min_s'])}–{ms(sw['max_s'])}")
    row("first sweep (arms the 1-h window)", ms(sw["first_s"]))
    row(f"burst breaches fired (of {b['burst_breaches']:,})", f"{b['burst_fired']:,}",
        "", "", f"{b['burst_unfired']} not fired")
    row("firing lateness p50 (fired_at − due_at)", ms(b["lateness_p50"]))
    row("firing lateness p99", ms(b["lateness_p99"]), "", "",
        f"≤ 1 s: {met(b['lateness_p99'], 1.0)}")
    row("firing lateness max", ms(b["lateness_max"]))
    row("other deadlines due meanwhile: fired, p99 late", f"{b['background_fired']:,}, "
        f"{ms(b['background_lateness_p99'])}", "", "",
        f"+{b['caught_up_at_startup']} overdue at start-up, fired then")
    row("messages to the group in the burst minute", str(b["group_sends_in_minute"]), "", "",
        f"≤ 20: {met(b['group_sends_in_minute'], 20)}")
    row("  all group requests in that minute", str(b["group_requests_in_minute"]), "", "",
        ", ".join(f"{k} {v}" for k, v in sorted(b["group_kinds_in_minute"].items())))
    row("  busiest 60 s of the run: messages", str(b["group_sends_max_60s"]), "", "",
        f"≤ 20: {met(b['group_sends_max_60s'], 20)}")
    row("  busiest 60 s of the run: all requests", str(b["group_requests_max_60s"]), "", "",
        "edits and topic changes included")
    queued = sum(b["burst_notices_queued"].get(k, 0) for k in ("pending", "sending", "held"))
    failed = b["burst_notices_queued"].get("failed", 0)
    delivered = b["breach_notices_delivered"] + b["breach_notices_delivered_in_shutdown"]
    missing = b["burst_fired"] - delivered - queued - failed
    row("breach notices in the group within the minute",
        f"{b['breach_notices_delivered_in_minute']:,} / {b['burst_breaches']:,}")
    row(f"breach notices in the group by +{args.drain_seconds:.0f} s",
        f"{b['breach_notices_delivered']:,} / {b['burst_breaches']:,}", "", "",
        f"+{b['breach_notices_delivered_in_shutdown']} while stopping; still queued {queued}")
    row("breach notices lost", f"{failed + max(0, missing) + b['burst_unfired']}", "", "",
        f"failed {failed}, unaccounted {max(0, missing)}, not fired {b['burst_unfired']}")
    row("  most breach lines in one message", str(b["breach_lines_per_message_max"]))
    row("  due → in the group, p50 / p99 / max", f"{ms(b['delivery_p50'])} / "
        f"{ms(b['delivery_p99'])} / {ms(b['delivery_max'])}")
    row("fine notices in the group (💰 lines)", f"{b['fine_notices_delivered']:,} / "
        f"{b['fines_levied']:,} fines")
    row("bot CPU during the burst minute", secs(b["cpu_burst_s"], 1), "", "",
        f"{(b['cpu_burst_s'] or 0) / args.burst_seconds * 100:.0f} % of one core")
    row("SIGTERM → exit", secs(b["stop_s"], 1), "", "", f"exit code {b['exit_code']}")

    widths = [max(len(r[i]) for r in [*rows, ("", "complaint-bot", "bare PTB", "ratio", "")])
              for i in range(5)]
    head = ("", "complaint-bot", "bare PTB", "ratio", "target / note")
    out = []
    m = figures["machine"]
    out.append(f"complaint-bot deadline benchmark — {m['cpus']} CPUs, {m['platform']}, "
               f"Python {m['python']}, SQLite {m['sqlite']}")
    out.append(f"seeded {s['complaints']:,} open complaints + {args.burst:,} burst "
               f"({s['steps']:,} step rows, {s['events']:,} deadline rows, "
               f"{s['db_bytes'] / 1e6:.0f} MB) in {s['seconds']:.1f} s; "
               f"{b['live_complaints']:,} of them given a real topic in the fake")
    out.append(f"burst: {args.burst:,} breaches over {args.burst_seconds:.0f} s, first due "
               f"{b['burst_after_ready_s']:.1f} s after start-up; drained {args.drain_seconds:.0f} s "
               "more; group_messages_per_minute = 20")
    out.append("")
    out.append("  ".join(h.ljust(w) for h, w in zip(head, widths, strict=True)).rstrip())
    out.append("  ".join("-" * w for w in widths))
    for r in rows:
        out.append("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
    out.append("")
    out.append("bot RSS: " + ", ".join(f"{name} {mb(v)}" for name, v in b["rss_at"].items())
               + f", peak {mb(b['rss_peak'])}; at most {b['threads_max']} threads")
    kinds = sorted(set(b["rss_mappings_ready"]) | set(b["rss_mappings"]))
    out.append("  resident by mapping, ready → drain end: " + ", ".join(
        f"{k} {mb(b['rss_mappings_ready'].get(k))} → {mb(b['rss_mappings'].get(k))}"
        for k in kinds))
    out.append("group requests over the whole run: " + ", ".join(
        f"{k} {v}" for k, v in sorted(b["group_kinds_total"].items())))
    out.append("private messages in the burst minute: " + (", ".join(
        f"{NAMES.get(int(k), k)} {v}" for k, v in b["private_sends_in_minute"].items()) or "none"))
    out.append("outbox at the end (status, kind, rows): " + "; ".join(
        f"{st} {kind} {n}" for st, kind, n in b["outbox"]))
    out.append(f"bot log: {b['log_warnings']} warnings, {b['log_errors']} errors; "
               f"fake server violations: {len(b['violations'])} (bot), "
               f"{len(bare.get('violations', []))} (bare)")
    for text in b["log_samples"]:
        out.append("  " + text[:200])
    out.append("query plans: " + " | ".join(figures["plans"]))
    return "\n".join(out)


def profile_summary(path: Path, top: int = 30) -> str:
    import io
    import pstats

    out = io.StringIO()
    stats = pstats.Stats(str(path), stream=out)
    stats.strip_dirs().sort_stats("cumulative").print_stats(top)
    stats.sort_stats("tottime").print_stats(top)
    return out.getvalue()


# --- main --------------------------------------------------------------------------------


async def run(args: argparse.Namespace) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="complaint-bench-"))
    figures: dict[str, Any] = {"work_dir": str(work), "args": vars(args)}
    figures["machine"] = {"cpus": os.cpu_count(), "python": platform.python_version(),
                          "platform": platform.platform(terse=True), "sqlite": sqlite_version()}
    try:
        print(f"seeding {args.complaints:,} + {args.burst:,} complaints in {work} …", flush=True)
        db_path = work / "complaints.db"
        # Alembic's env runs its own event loop: the seeding gets a thread of its own.
        seeded = await asyncio.to_thread(seed, db_path, args.complaints, args.burst, args.seed)
        figures["seed"] = {"complaints": seeded.complaints, "seconds": seeded.seconds,
                           "steps": seeded.steps, "events": seeded.events,
                           "db_bytes": seeded.db_bytes}
        print(f"  done in {seeded.seconds:.1f} s; measuring sweeps …", flush=True)
        copy = work / "sweep.db"
        shutil.copyfile(db_path, copy)
        figures["sweep"] = await measure_sweep(copy, seeded.t0, args.sweeps)
        figures["plans"] = query_plans(copy, seeded.t0 + timedelta(hours=1))
        copy.unlink()
        for extra in (work / "sweep.db-wal", work / "sweep.db-shm"):
            extra.unlink(missing_ok=True)
        figures["imports"] = {"bot": await import_seconds("import bot.app"),
                              "bare": await import_seconds("import telegram.ext")}
        total = args.burst_delay + args.burst_seconds + args.drain_seconds
        print(f"  running the bot (~{total:.0f} s) …", flush=True)
        figures["bot"] = await run_bot(args, work, seeded)
        if args.profile and (work / "bot.prof").exists():
            figures["profile"] = profile_summary(work / "bot.prof")
        print("  running the bare PTB bot …", flush=True)
        figures["bare"] = await run_bare(args, work)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.deadlines",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--complaints", type=int, default=100_000,
                        help="open complaints, deadlines over the next 7 days (default 100000)")
    parser.add_argument("--burst", type=int, default=1000,
                        help="breaches falling due within --burst-seconds (default 1000)")
    parser.add_argument("--burst-seconds", type=float, default=60.0)
    parser.add_argument("--burst-delay", type=float, default=11.0,
                        help="seconds from the bot's spawn to the first burst breach (default 11: "
                             "about 10 s after the start-up)")
    parser.add_argument("--drain-seconds", type=float, default=60.0,
                        help="how long to keep watching deliveries after the burst (default 60)")
    parser.add_argument("--sweeps", type=int, default=7, help="sweep repetitions (default 7)")
    parser.add_argument("--probes", type=int, default=20,
                        help="reply-latency samples, idle and in the burst (default 20)")
    parser.add_argument("--seed", type=int, default=1, help="random seed of the due times")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--profile", action="store_true",
                        help="run the bot under cProfile and print where its time went "
                             "(slows it down: for diagnosis, not for the figures)")
    parser.add_argument("--keep", action="store_true",
                        help="keep the temporary directory (database, config, logs)")
    args = parser.parse_args(argv)
    started = time.monotonic()
    figures = asyncio.run(run(args))
    figures["total_seconds"] = time.monotonic() - started
    print()
    print(report(args, figures))
    print(f"\ntotal {figures['total_seconds']:.0f} s" +
          (f"; files kept in {figures['work_dir']}" if args.keep else ""))
    if args.profile and "profile" in figures:
        print("\nbot profile (cProfile, cumulative):\n" + figures["profile"])
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2, default=str, ensure_ascii=False),
                             encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
