"""Monthly analysis report benchmark: a month of 50,000 complaints (target: at most 5 s).

    python -m bench.report [--complaints 50000] [--runs 3] [--month 2026-11] [--keep DIR]

What it does:

1. Seeds a fresh SQLite file (migrated by Alembic, `bot.store.db.migrate_sync`) with sqlite3
   bulk inserts in one transaction: the departments and people of
   tests/e2e/conftest.config_data and 200 complainants; N complaints filed in --month
   (local time, Asia/Shanghai) and N/2 in the month before it, so that the change against the
   previous month has data. About 70 % product and 30 % service complaints, 5 % major; mostly
   closed, some open, answered or under appeal (2 % appealed). Each has its round-0 steps as
   the real flow writes them — product: 受理 and 公布工藝流程信息 by 打單部, then 質量鑒定結果和處理意見
   by one or two of 生產部 / 採購部 / 物流部; service: 受理 and 分流 by 人力資源部, 處理方案 by
   one department, 通知投訴人 by 人力資源部 — with their due times (5 / 30 / 120 / 10 minutes)
   and about 10 % done late. Every late (or still open and overdue) answer or plan has its
   fired breach row and a levied 50-yuan fine; every closed complaint its follow-up visit
   (most done, some late or missed); and 20 closed complaints of each month are typical cases.
2. With the clock held on the 5th of the following month, times over --runs runs:
   `Analysis(ctx).report(month)` for the whole company, the same for 生產部
   (`department_key="production"`), and `bot.monthly_report.build(texts, "zh-Hant", report)`
   (the workbook, the charts and the summary) when that module exists.
3. Prints the seeding time, the best and median seconds of each part with the complaints it
   covers, the workbook's size, and whether the whole-company report plus its files stayed
   within the 5 s target. Figures are printed, never asserted.

--keep DIR writes the database to DIR/report.db (not removed afterwards) instead of a
temporary directory.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import inspect
import json
import random
import sqlite3
import statistics
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from bot.config import Settings

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.e2e.conftest import (  # noqa: E402
    FORUM,
    HR_HEAD,
    NAMES,
    TOKEN,
    config_data,
)

TARGET_SECONDS = 5.0
LANGUAGE = "zh-Hant"
SCOPED_DEPARTMENT = "production"
COMPLAINANTS = 200
FIRST_COMPLAINANT = 700_001
TYPICAL_CASES = 20
FINE_CENTS = 5000  # rule 一.5: 50 yuan
BRANDS = ["輝煌", "金牌", "銀星", "長青"]
REQUESTS = ["退貨", "換貨", "賠款", "其他"]  # bot.domain.validation.REQUEST_LABELS, as stored
PURPOSES = ["索賠", "處理", "改進服務質量"]  # … PURPOSE_LABELS
INVESTIGATORS = ["production", "purchasing", "logistics"]  # answer product complaints
PLANNERS = ["production", "purchasing", "logistics", "administration", "sales", "order_desk"]
APPEAL_BODIES = ["operations", "inspection"]
PARTS = ["瓶蓋", "標籤", "紙箱", "瓶身", "封膜", "噴碼"]
DEFECTS = ["漏液", "破損", "歪斜", "褪色", "污漬"]
PROBLEMS = [f"{part}{defect}，客戶拒收" for part in PARTS for defect in DEFECTS]  # 30 texts
SERVICE_CAUSES = [f"{who}{what}" for who in ("司機", "業務員", "客服", "倉管")
                  for what in ("態度差", "未按時回覆", "送貨延誤", "單據錯誤", "未通知改期")]
CUSTOMERS = [f"{city}{trade}{n}號" for city in ("廣州", "深圳", "佛山", "東莞", "中山")
             for trade in ("食品行", "超市", "批發部") for n in range(1, 21)]  # 300 customers
METHODS = ["phone", "wechat", "visit", "letter"]  # bot.domain.followup.Method
SATISFACTION = (["good", "fair", "bad"], [75, 20, 5])  # … Satisfaction, and how often


class FixedClock:
    """The report runs after its month: "now" is held at a fixed moment."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at


def db(moment: datetime | None) -> str | None:
    """A naive UTC datetime as SQLAlchemy stores DateTime in SQLite."""
    return None if moment is None else moment.isoformat(" ", "microseconds")


def month_start(month: str, zone: ZoneInfo) -> datetime:
    """The month's first moment, local, as naive UTC."""
    year, number = map(int, month.split("-"))
    return datetime(year, number, 1, tzinfo=zone).astimezone(UTC).replace(tzinfo=None)


def next_month(month: str) -> str:
    year, number = map(int, month.split("-"))
    return f"{year + (number == 12):04d}-{number % 12 + 1:02d}"


def previous_month(month: str) -> str:
    year, number = map(int, month.split("-"))
    return f"{year - (number == 1):04d}-{(number - 2) % 12 + 1:02d}"


# --- 1. seeding ------------------------------------------------------------------------


@dataclass
class Step:
    key: str
    department: str
    started: datetime
    minutes: int
    done: datetime | None = None

    @property
    def due(self) -> datetime:
        return self.started + timedelta(minutes=self.minutes)


@dataclass
class Seeder:
    """Rows for the tables, built in memory and written in one transaction."""

    rng: random.Random
    now: datetime  # naive UTC
    heads: dict[str, int]  # department key → its head
    departments: dict[str, str]  # key → name
    names: dict[int, str]
    complainants: list[tuple[int, str]]
    tables: dict[str, list[tuple[Any, ...]]] = field(default_factory=lambda: {
        name: [] for name in ("complaints", "complaint_steps", "deadline_events", "fines",
                              "follow_ups", "escalations", "typical_cases")})
    serial: dict[str, int] = field(default_factory=dict)
    closed_in: dict[str, list[tuple[int, datetime]]] = field(default_factory=dict)

    def next_id(self, table: str) -> int:
        self.serial[table] = self.serial.get(table, 0) + 1
        return self.serial[table]

    def took(self, step: Step) -> datetime:
        """When a step is done: mostly well within its deadline, about 10 % after it."""
        if self.rng.random() < 0.10:
            return step.due + timedelta(minutes=self.rng.uniform(1, 90))
        return step.started + timedelta(minutes=step.minutes * self.rng.uniform(0.1, 0.95))

    def complaint(self, month: str, start: datetime, span: float) -> None:
        rng = self.rng
        cid = self.next_id("complaints")
        product = rng.random() < 0.70
        kind = "product" if product else "service"
        number = f"{'P' if product else 'S'}-{month[:4]}-{self.next_id(kind):06d}"
        major = rng.random() < 0.05
        complainant, department = rng.choice(self.complainants)
        filed = start + timedelta(seconds=rng.uniform(0, span))
        decided = filed + timedelta(minutes=rng.uniform(2, 30))
        posted = decided + timedelta(minutes=rng.uniform(0.5, 3))
        fate = rng.random()
        appealed = fate < 0.02
        status = ("escalated" if fate < 0.01 else "closed" if appealed else "open" if fate < 0.07
                  else "answered" if fate < 0.14 else "closed")
        intake = "order_desk" if product else "hr"
        accept = Step("accept", intake, posted, 5)
        accept.done = self.took(accept)
        second = Step("publish_process" if product else "route", intake, posted, 30)
        second.done = max(self.took(second), accept.done + timedelta(seconds=30))
        steps = [accept, second]
        if product:
            answerers = rng.sample(INVESTIGATORS, 2 if rng.random() < 0.3 else 1)
            answers: dict[str, Any] = {
                "complainant": self.names[complainant], "customer": rng.choice(CUSTOMERS),
                "ship_date": (filed - timedelta(days=rng.randint(2, 20))).date().isoformat(),
                "brand": rng.choice(BRANDS), "spec_qty": f"500ml×{rng.randint(1, 60)}箱",
                "problem": rng.choice(PROBLEMS), "request": rng.choice(REQUESTS)}
            crx = answers["request"] != "其他"
        else:
            answerers = [rng.choice(PLANNERS)]
            answers = {  # the service form's fields (bot.domain.fields.SERVICE_FIELDS)
                "complainant": self.names[complainant],
                "target": self.departments[answerers[0]], "event_time": filed.date().isoformat(),
                "event_cause": rng.choice(SERVICE_CAUSES),
                "event_course": "客戶來電反映，經核實屬實。", "event_result": "客戶不滿",
                "purpose": rng.choice(PURPOSES)}
            crx = False
        for department in answerers:
            answer = Step("answer" if product else "plan", department, second.done, 120)
            answer.done = None if status == "open" else self.took(answer)
            steps.append(answer)
        if not product and status != "open":
            plan_done = steps[-1].done
            assert plan_done is not None
            notify = Step("notify", "hr", plan_done, 10)
            notify.done = self.took(notify)
            steps.append(notify)
        answered = max(s.done for s in steps if s.done is not None)
        raised = answered + timedelta(hours=rng.uniform(1, 24)) if appealed else None
        closed = None
        if status == "closed":
            closed = (raised or answered) + timedelta(hours=rng.uniform(1, 48))
        self.tables["complaints"].append((
            cid, number, kind, status, complainant, department,
            json.dumps(answers, ensure_ascii=False), "[]", int(crx), db(filed),
            self.heads.get(department), db(decided), FORUM, 1_000_000 + cid, 2_000_000 + cid,
            db(posted), db(closed), int(appealed), "major" if major else "minor",
            "a" if major else None, db(filed + timedelta(hours=12)) if major else None))
        for step in steps:
            sid = self.next_id("complaint_steps")
            self.tables["complaint_steps"].append((
                sid, cid, step.key, step.department, 0, db(step.started), db(step.due),
                db(step.done), self.heads.get(step.department) if step.done else None))
            missed = step.done is None and step.due < self.now
            if step.key in ("answer", "plan") and (missed or (step.done and step.done > step.due)):
                self.breach(cid, sid, step)
        if raised is not None:
            self.tables["escalations"].append((
                self.next_id("escalations"), cid, 1, "處理意見不合理，要求重新處理",
                rng.choice(APPEAL_BODIES), complainant, db(raised)))
        if closed is not None:
            self.follow_up(cid, 1 if appealed else 0, major, intake, closed)
            self.closed_in.setdefault(month, []).append((cid, closed))

    def breach(self, cid: int, sid: int, step: Step) -> None:
        """The breach the scheduler fired at the due time, and the fine it levied."""
        self.tables["deadline_events"].append((
            self.next_id("deadline_events"), sid, cid, "breach", 0, db(step.due), db(step.due),
            None))
        head = self.heads.get(step.department)
        self.tables["fines"].append((
            self.next_id("fines"), cid, sid, step.department, head,
            self.names.get(head) if head else None, FINE_CENTS, "CNY", "levied",
            db(step.due + timedelta(seconds=self.rng.uniform(1, 30)))))

    def follow_up(self, cid: int, round_: int, major: bool, intake: str, closed: datetime) -> None:
        rng = self.rng
        due = closed + timedelta(hours=24)
        visitor_department = SCOPED_DEPARTMENT if major else intake
        outcome = rng.random()
        done = overdue = None
        if outcome < 0.93:
            done = (closed + timedelta(hours=rng.uniform(0.5, 23)) if outcome < 0.85
                    else due + timedelta(hours=rng.uniform(0.5, 12)))
        if done is None or done > due:
            overdue = due
        if done is None and due > self.now:
            overdue = None  # not due yet
        satisfaction = rng.choices(*SATISFACTION)[0] if done else None
        self.tables["follow_ups"].append((
            self.next_id("follow_ups"), cid, round_, self.heads[visitor_department],
            visitor_department, "major" if major else "minor", db(closed), db(due),
            rng.choice(METHODS) if done else None, satisfaction,
            "客戶表示已收到處理結果" if done else None,
            (satisfaction == "bad") if done else None, db(done),
            self.heads[visitor_department] if done else None, db(overdue), None))

    def typical_cases(self, month: str, end: datetime) -> None:
        closed = [(cid, at) for cid, at in self.closed_in.get(month, [])
                  if at + timedelta(days=1) < end]
        for cid, at in self.rng.sample(closed, min(TYPICAL_CASES, len(closed))):
            self.tables["typical_cases"].append((
                cid, "出貨前加檢封口，問題即止", json.dumps(["包裝", "品質"], ensure_ascii=False),
                HR_HEAD, db(at + timedelta(hours=20))))


COLUMNS = {
    "complaints": ("id", "number", "kind", "status", "complainant_id", "department_key",
                   "answers", "photos", "is_crx", "filed_at", "approver_id", "decided_at",
                   "chat_id", "thread_id", "card_message_id", "posted_at", "closed_at", "round",
                   "severity", "severity_ground", "major_due_at"),
    "complaint_steps": ("id", "complaint_id", "step_key", "department_key", "round",
                        "started_at", "due_at", "done_at", "done_by"),
    "deadline_events": ("id", "step_id", "complaint_id", "kind", "before_seconds", "due_at",
                        "fired_at", "cancelled_at"),
    "fines": ("id", "complaint_id", "step_id", "department_key", "head_user_id", "head_name",
              "amount_cents", "currency", "status", "levied_at"),
    "follow_ups": ("id", "complaint_id", "round", "visitor_id", "visitor_department_key",
                   "severity", "opened_at", "due_at", "method", "satisfaction", "words",
                   "more_needed", "done_at", "done_by", "overdue_at", "reopened_at"),
    "escalations": ("id", "complaint_id", "round", "reason", "body_department_key", "raised_by",
                    "created_at"),
    "typical_cases": ("complaint_id", "lesson", "tags", "marked_by", "marked_at"),
}


@dataclass
class Seeded:
    seconds: float
    rows: dict[str, int]
    db_bytes: int


def seed(db_path: Path, data: dict[str, Any], month: str, complaints: int, now: datetime,
         zone: ZoneInfo, rng_seed: int) -> Seeded:
    from bot.store.db import migrate_sync

    started = time.perf_counter()
    migrate_sync(f"sqlite+aiosqlite:///{db_path}")
    rng = random.Random(rng_seed)
    departments = {d["key"]: d["name"] for d in data["departments"]}
    heads = {d["key"]: d["head"] for d in data["departments"] if d.get("head")}
    member_of = {uid: d["key"] for d in data["departments"]
                 for uid in [*d.get("members", []), d.get("head")] if uid}
    names = dict(NAMES)
    complainants: list[tuple[int, str]] = []
    others = [k for k in departments if k != "sales"]
    for n in range(COMPLAINANTS):
        uid = FIRST_COMPLAINANT + n
        names[uid] = f"投訴人{n + 1:03d}"
        complainants.append((uid, "sales" if rng.random() < 0.7 else rng.choice(others)))
    seeder = Seeder(rng=rng, now=now.astimezone(UTC).replace(tzinfo=None), heads=heads,
                    departments=departments, names=names, complainants=complainants)
    before = previous_month(month)
    for which, count in ((before, complaints // 2), (month, complaints)):
        start, end = month_start(which, zone), month_start(next_month(which), zone)
        span = (end - start).total_seconds()
        for _ in range(count):
            seeder.complaint(which, start, span)
        seeder.typical_cases(which, end)
    created = db(month_start(before, zone) - timedelta(days=90))
    users = [(uid, name, member_of.get(uid), int(uid in data["admins"]), 1, created)
             for uid, name in NAMES.items()]
    users += [(uid, names[uid], department, 0, 1, created) for uid, department in complainants]
    conn = sqlite3.connect(db_path)
    try:
        conn.execute("PRAGMA synchronous=OFF")
        with conn:  # one transaction
            conn.executemany(
                "INSERT INTO departments (key, name, head_user_id) VALUES (?, ?, ?)",
                [(d["key"], d["name"], d.get("head")) for d in data["departments"]])
            conn.executemany(
                "INSERT INTO users (id, name, department_key, is_admin, reachable, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?)", users)
            for table, columns in COLUMNS.items():
                conn.executemany(
                    f"INSERT INTO {table} ({', '.join(columns)}) "
                    f"VALUES ({', '.join('?' * len(columns))})", seeder.tables[table])
        conn.execute("ANALYZE")
    finally:
        conn.close()
    rows = {"users": len(users), **{t: len(r) for t, r in seeder.tables.items()}}
    return Seeded(time.perf_counter() - started, rows, db_path.stat().st_size)


# --- 2. measuring ----------------------------------------------------------------------


def load_build() -> tuple[Callable[..., Any] | None, str]:
    """bot.monthly_report.build, or None and why not."""
    try:
        module = importlib.import_module("bot.monthly_report")
    except ModuleNotFoundError as exc:
        if exc.name != "bot.monthly_report":
            raise
        return None, "bot.monthly_report does not exist (yet): files not built"
    build = getattr(module, "build", None)
    if build is None:
        return None, "bot.monthly_report has no build(): files not built"
    return build, ""


@dataclass
class Part:
    label: str
    seconds: list[float] = field(default_factory=list)
    complaints: int = 0
    failure: str = ""  # the traceback of its first failure (it is not tried again)


async def timed(part: Part, work: Callable[[], Any]) -> Any:
    """Run and time one call (awaited if it returns an awaitable); None if it failed."""
    if part.failure:
        return None
    start = time.perf_counter()
    try:
        result = work()
        if inspect.isawaitable(result):
            result = await result
    except Exception:
        part.failure = traceback.format_exc()
        return None
    part.seconds.append(time.perf_counter() - start)
    return result


def run(args: argparse.Namespace, db_path: Path) -> bool:
    """Seed (outside any event loop: Alembic runs one of its own), then measure."""
    from bot.config import parse_settings

    data = config_data(f"sqlite+aiosqlite:///{db_path}", FORUM)
    data["brands"] = BRANDS
    settings = parse_settings(data, token=TOKEN)
    year, number = map(int, next_month(args.month).split("-"))
    now = datetime(year, number, 5, 9, 0, tzinfo=settings.zone).astimezone(UTC)
    seeded = seed(db_path, data, args.month, args.complaints, now, settings.zone, args.seed)
    print(f"monthly report, {args.month}: {args.complaints:,} complaints "
          f"({args.complaints // 2:,} in {previous_month(args.month)}); "
          f"Python {sys.version.split()[0]}, SQLite {sqlite3.sqlite_version}")
    print(f"  seeded in {seeded.seconds:.1f} s, {seeded.db_bytes / 1e6:.0f} MB: "
          + ", ".join(f"{table} {count:,}" for table, count in seeded.rows.items()))
    return asyncio.run(measure(args, settings, now))


async def measure(args: argparse.Namespace, settings: Settings, now: datetime) -> bool:
    """Time each part; False if one of them failed (its traceback is printed)."""
    from bot.app import build_context
    from bot.services.analysis import Analysis

    build, missing = load_build()
    ctx, engine, write_engine = build_context(settings, FixedClock(now))
    company = Part("report, whole company")
    scoped = Part(f"report, one department ({SCOPED_DEPARTMENT})")
    files = Part("build(): workbook, charts, summary")
    report = built = None
    try:
        for _ in range(args.runs):
            latest = await timed(company, lambda: Analysis(ctx).report(args.month))
            if latest is not None:
                report = latest
                company.complaints = len(report.records)
            part = await timed(scoped, lambda: Analysis(ctx).report(
                args.month, department_key=SCOPED_DEPARTMENT))
            if part is not None:
                scoped.complaints = len(part.records)
            if build is not None and latest is not None:
                built = await timed(files, partial(build, ctx.texts, LANGUAGE, latest)) or built
                files.complaints = len(latest.records)
    finally:
        await engine.dispose()
        if write_engine is not engine:
            await write_engine.dispose()

    print(f"  {'part':<44} {'best':>8} {'median':>8} {'complaints':>11}   ({args.runs} runs)")
    for each in (company, scoped, files):
        if each.seconds:
            print(f"  {each.label:<44} {min(each.seconds):7.2f}s "
                  f"{statistics.median(each.seconds):7.2f}s {each.complaints:>11,}")
        elif each.failure:
            print(f"  {each.label:<44} {'failed':>8}")
    if report is not None:
        totals, previous = report.totals, report.previous
        print(f"  report figures: {totals.complaints:,} complaints ({totals.product:,} product, "
              f"{totals.service:,} service, {totals.major:,} major), {totals.breaches:,} "
              f"breaches, {totals.fines:,} fines, visits {totals.visits_done:,}/"
              f"{totals.visits_due:,}, {report.appeals.raised:,} appeals, "
              f"{len(report.cases)} cases; previous month {previous.complaints:,}")
    if built is not None:
        print(f"  workbook {len(built.workbook):,} bytes, {len(built.charts)} charts, "
              f"summary {len(built.summary):,} characters")
    if missing:
        print(f"  {missing}")
    elif build is not None and report is None:
        print("  build() not timed: no report to build from")
    for each in (company, scoped, files):
        if each.failure:
            print(f"\n{each.label} failed:\n{each.failure.rstrip()}\n")
    if not company.seconds:
        print(f"whole-company report failed: no figure against the {TARGET_SECONDS:.0f} s target")
        return False
    whole = statistics.median(company.seconds)
    what = "whole-company report"
    if files.seconds:
        whole += statistics.median(files.seconds)
        what += " + its files"
    else:
        what += " (files not built)"
    verdict = "within" if whole <= TARGET_SECONDS else "OVER"
    print(f"{what}: {whole:.2f} s (medians) for {company.complaints:,} complaints — "
          f"{verdict} the {TARGET_SECONDS:.0f} s target")
    return not (scoped.failure or files.failure)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.report", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--complaints", type=int, default=50_000,
                        help="complaints filed in the month (the month before gets half)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--month", default="2026-11", help="YYYY-MM (default 2026-11)")
    parser.add_argument("--seed", type=int, default=1, help="random seed of the data")
    parser.add_argument("--keep", metavar="DIR", type=Path,
                        help="write the database to DIR/report.db and keep it")
    args = parser.parse_args(argv)
    if args.runs < 1 or args.complaints < 1:
        parser.error("--runs and --complaints must be at least 1")
    if args.keep is not None:
        db_path = args.keep / "report.db"
        if db_path.exists():
            parser.error(f"{db_path} exists already")
        args.keep.mkdir(parents=True, exist_ok=True)
        ok = run(args, db_path)
        print(f"database kept: {db_path}")
    else:
        with tempfile.TemporaryDirectory() as folder:
            ok = run(args, Path(folder) / "report.db")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
