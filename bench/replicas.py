"""Several processes behind one webhook: updates per second and deadline lateness with 1, 2
and 3 bot processes on one database, against a bare PTB bot.

    python -m bench.replicas [--processes 1,2,3] [--users 40] [--seconds 20]
                             [--deadlines 300] [--database sqlite|postgresql]

For each count of processes: a fresh fake Bot API server (bot/sandbox, in this process)
posting the webhook's updates to the processes in turn (the load balancer), a fresh database
(PostgreSQL: a throwaway cluster, as `make test-pg` makes), and:

- --users people, each sending /whoami in private and waiting for its answer, again and
  again, for --seconds (closed loop, no pause): updates answered per second, round trip;
- --deadlines complaints whose 2-hour answer is breached during that time (spread evenly
  over it, from 5 s in): each breach is a notice in the complaint's topic, a fine, and HR's
  and the head's notices. Lateness = the breach's `fired_at` - its `due_at`, from the
  database.

The bare bot (bench/bare_ptb.py: ApplicationBuilder's defaults, polling, answering /ping)
gets the same people sending /ping, once. Private chats are not paced here (neither by the
fake nor by the bot) so the figures are the bots' own costs. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy
import tomli_w
from sqlalchemy.orm import Session

from bench.bare_ptb import READY
from bot.sandbox import FakeTelegram
from bot.store.models import Complaint, DeadlineEvent, StepRecord
from tests import databases
from tests.e2e.conftest import FORUM, SALES, config_data
from tests.e2e.test_webhook import free_port, webhook_sections

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "123456:BENCH-TOKEN"
FIRST_USER = 50001


@dataclass
class Run:
    label: str
    processes: int
    answered: int = 0
    seconds: float = 0.0
    round_trips: list[float] = field(default_factory=list)
    lateness: list[float] = field(default_factory=list)
    fired: int = 0
    bot_cpu: float = 0.0

    def rate(self) -> float:
        return self.answered / self.seconds if self.seconds else 0.0


def percentile(values: list[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


def new_fake(users: int) -> FakeTelegram:
    fake = FakeTelegram(token=TOKEN, bot_username="complaint_bench_bot", private_rate=None)
    for uid in range(FIRST_USER, FIRST_USER + users):
        fake.add_user(uid, f"測試{uid}")
    return fake


def company(db_url: str, users: int) -> dict[str, Any]:
    data = config_data(db_url, FORUM)
    sales = next(d for d in data["departments"] if d["key"] == "sales")
    sales["members"] = [*sales["members"], *range(FIRST_USER, FIRST_USER + users)]
    data["members"] += [{"id": uid, "name": f"測試{uid}"}
                        for uid in range(FIRST_USER, FIRST_USER + users)]
    data["calendar"] = {"mode": "24x7"}
    data["sweep_seconds"] = 5
    return data


def seed_deadlines(db_url: str, fake: FakeTelegram, count: int, first: datetime,
                   spacing: timedelta) -> None:
    """`count` posted complaints whose production answer is breached at first, first +
    spacing, …: each with its topic and card in the fake forum."""
    chat = fake.chat_state(FORUM)
    engine = sqlalchemy.create_engine(databases.sync_url(db_url))
    naive = first.astimezone(UTC).replace(tzinfo=None)
    with Session(engine) as session, session.begin():
        for i in range(count):
            due = naive + i * spacing
            number = f"P-{due.year}-{90000 + i}"
            topic = fake._create_topic(chat, fake.bot_user, f"#{number}", 7322096, None)
            card = fake._store(chat, fake.bot_user, {"text": f"#{number}"}, thread_id=topic)
            complaint = Complaint(
                number=number, kind="product", status="open", complainant_id=SALES,
                department_key="sales", answers={"customer": f"客戶{i}", "problem": "瓶蓋漏液"},
                photos=[], filed_at=due - timedelta(hours=3), posted_at=due - timedelta(hours=2, minutes=30),
                chat_id=FORUM, thread_id=topic, card_message_id=card["message_id"], round=0)
            session.add(complaint)
            session.flush()
            step = StepRecord(complaint_id=complaint.id, step_key="answer",
                              department_key="production", round=0,
                              started_at=due - timedelta(hours=2), due_at=due)
            session.add(step)
            session.flush()
            session.add(DeadlineEvent(step_id=step.id, complaint_id=complaint.id, kind="breach",
                                      before_seconds=0, due_at=due))
    engine.dispose()


def lateness(db_url: str) -> list[float]:
    engine = sqlalchemy.create_engine(databases.sync_url(db_url))
    with engine.connect() as connection:
        rows = connection.execute(sqlalchemy.select(DeadlineEvent.due_at, DeadlineEvent.fired_at)
                                  .where(DeadlineEvent.kind == "breach",
                                         DeadlineEvent.fired_at.is_not(None))).all()
    engine.dispose()
    return [(fired - due).total_seconds() for due, fired in rows]


def cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def people_at_work(fake: FakeTelegram, users: int, seconds: float, command: str,
                         answer: str, run: Run) -> None:
    """Each person: `command`, wait for a reply containing `answer`, again, until time."""
    end = time.monotonic() + seconds

    async def person(uid: int) -> None:
        while time.monotonic() < end:
            since = len(fake.bot_messages(uid))
            sent = time.monotonic()
            fake.send_text(uid, uid, command)
            await fake.wait_for(lambda u=uid, s=since: any(  # type: ignore[misc]
                answer in (m.get("text") or "") for m in fake.bot_messages(u)[s:]) or None,
                timeout=60, message=f"{uid} waits for {answer!r}")
            run.round_trips.append(time.monotonic() - sent)
            run.answered += 1

    started = time.monotonic()
    await asyncio.gather(*(person(uid) for uid in range(FIRST_USER, FIRST_USER + users)))
    run.seconds = time.monotonic() - started


async def run_replicas(args: argparse.Namespace, work: Path, processes: int) -> Run:
    run = Run(f"complaint bot × {processes}", processes)
    fake = new_fake(args.users)
    await fake.start()
    fake.add_group(FORUM, "輝煌同仁群", is_forum=True)
    db_url = databases.url_for(work / f"replicas-{processes}.db")
    ports = [free_port() for _ in range(processes)]
    fake.balance([f"http://127.0.0.1:{port}" for port in ports])
    children: list[asyncio.subprocess.Process] = []
    env = {**os.environ, "COMPLAINT_BOT_TOKEN": TOKEN, "LOG_LEVEL": "WARNING"}
    try:
        for index, port in enumerate(ports):
            data = {**company(db_url, args.users), **webhook_sections(port)}
            data["telegram"].update(base_url=fake.base_url, base_file_url=fake.base_file_url,
                                    messages_per_second=1000, private_messages_per_second=50,
                                    private_burst=10, group_messages_per_minute=6000)
            config = work / f"replicas-{processes}-{index}.toml"
            config.write_bytes(tomli_w.dumps(data).encode())
            registered = len(fake.api_calls("setWebhook"))
            children.append(await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "run", "--config", str(config), cwd=ROOT, env=env,
                stderr=(work / f"replicas-{processes}-{index}.log").open("wb")))
            await fake.wait_for(lambda r=registered: len(fake.api_calls("setWebhook")) > r,  # type: ignore[misc]
                                timeout=60, message="a process registers the webhook")
        first = datetime.now(UTC) + timedelta(seconds=5)
        spacing = timedelta(seconds=max(args.seconds - 8, 1) / max(args.deadlines, 1))
        seed_deadlines(db_url, fake, args.deadlines, first, spacing)
        cpu_before = sum(cpu_seconds(c.pid) for c in children)
        await people_at_work(fake, args.users, args.seconds, "/whoami", "Telegram ID", run)
        await fake.wait_idle(quiet=2.0, timeout=120)
        run.bot_cpu = sum(cpu_seconds(c.pid) for c in children) - cpu_before
        run.lateness = lateness(db_url)
        run.fired = len(run.lateness)
    finally:
        for child in children:
            if child.returncode is None:
                child.kill()
                await child.wait()
        await fake.stop()
    return run


async def run_bare(args: argparse.Namespace) -> Run:
    run = Run("bare PTB bot", 1)
    fake = new_fake(args.users)
    await fake.start()
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.bare_ptb", "--base-url", fake.base_url, "--token", TOKEN,
        cwd=ROOT, stderr=asyncio.subprocess.PIPE)
    try:
        assert child.stderr is not None
        while READY not in (await child.stderr.readline()).decode():
            pass
        cpu_before = cpu_seconds(child.pid)
        await people_at_work(fake, args.users, args.seconds, "/ping", "pong", run)
        run.bot_cpu = cpu_seconds(child.pid) - cpu_before
    finally:
        child.kill()
        await child.wait()
        await fake.stop()
    return run


def ms(value: float | None) -> str:
    return "—" if value is None else f"{value * 1000:.0f} ms"


def report(args: argparse.Namespace, runs: list[Run]) -> str:
    bare = next((r for r in runs if r.label.startswith("bare")), None)
    lines = [f"{args.users} people for {args.seconds:.0f} s each run; {args.deadlines} breaches "
             f"due during it; database: {args.database}; {os.cpu_count()} cores", "",
             "| bot | updates/s | × bare | round trip p50 / p95 | breaches fired | "
             "lateness p50 / p95 / max | bot CPU s |", "|---|---|---|---|---|---|---|"]
    for run in runs:
        against = f"{run.rate() / bare.rate():.2f}" if bare and bare.rate() else "—"
        late = (f"{ms(percentile(run.lateness, 50))} / {ms(percentile(run.lateness, 95))} / "
                f"{ms(max(run.lateness) if run.lateness else None)}") if run.processes and \
            not run.label.startswith("bare") else "—"
        fired = f"{run.fired}/{args.deadlines}" if not run.label.startswith("bare") else "—"
        lines.append(f"| {run.label} | {run.rate():.1f} | {against} | "
                     f"{ms(statistics.median(run.round_trips) if run.round_trips else None)} / "
                     f"{ms(percentile(run.round_trips, 95))} | {fired} | {late} | "
                     f"{run.bot_cpu:.1f} |")
    return "\n".join(lines)


async def main_async(args: argparse.Namespace) -> int:
    if args.database == "postgresql":
        os.environ["COMPLAINT_BOT_TEST_DATABASE"] = "postgresql"
        databases.POSTGRESQL = True
    runs = [await run_bare(args)]
    with tempfile.TemporaryDirectory(prefix="bench-replicas-") as folder:
        try:
            for count in args.processes:
                runs.append(await run_replicas(args, Path(folder), count))
                print(f"{runs[-1].label}: {runs[-1].rate():.1f} updates/s", file=sys.stderr)
        finally:
            databases.SERVER.stop()
    print(report(args, runs))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.replicas", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--processes", type=lambda s: [int(n) for n in s.split(",")],
                        default=[1, 2, 3])
    parser.add_argument("--users", type=int, default=40)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--deadlines", type=int, default=300)
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="postgresql")
    return asyncio.run(main_async(parser.parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
