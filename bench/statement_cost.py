"""What one SQL statement costs through each layer the bot could use, on this machine.

    python -m bench.statement_cost [--n 2000]

The same statement, reading one person by primary key from the bot's `users` table (in
a database made by the bot's migrations, WAL as the bot sets it), through: the plain
`sqlite3` module; SQLAlchemy Core and ORM without asyncio; SQLAlchemy's ORM on aiosqlite
(each call handed to aiosqlite's thread and back, as the bot's reading sessions do); and
the ORM on the bot's writer connections (`bot.store.db.InlineConnection`: the calls run in
the event loop's thread). Also a write transaction as an update makes one (BEGIN
IMMEDIATE, one INSERT, COMMIT) through the plain module, through the bot's writer with the
ORM (as the units of work do) and with SQLAlchemy Core on the same connections.

These are the floor under a form step's round trip (docs/PERFORMANCE.md, "The edge"):
an update needs a handful of statements and one commit, whatever else it does.
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path

from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
from sqlalchemy.orm import Session

from bot.store.db import create_engine, migrate_sync, writer
from bot.store.models import ProcessedUpdate, User

USER_ID = 20002


def per_call(n: int, call: Callable[[], object]) -> float:
    """Microseconds per call, the median of five runs of n // 5 calls."""
    runs = []
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(n // 5):
            call()
        runs.append((time.perf_counter() - start) / (n // 5) * 1e6)
    return statistics.median(runs)


async def per_call_async(n: int, call: Callable[[], Awaitable[object]]) -> float:
    runs = []
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(n // 5):
            await call()
        runs.append((time.perf_counter() - start) / (n // 5) * 1e6)
    return statistics.median(runs)


def sync_figures(db: Path, n: int) -> dict[str, float]:
    figures = {}
    plain = sqlite3.connect(db, isolation_level=None)
    plain.execute("PRAGMA journal_mode=WAL")
    figures["plain sqlite3: SELECT a user"] = per_call(n, lambda: plain.execute(
        "SELECT * FROM users WHERE id = ?", (USER_ID,)).fetchall())
    ids = iter(range(10**9, 2 * 10**9))

    def write_plain() -> None:
        plain.execute("BEGIN IMMEDIATE")
        plain.execute("INSERT INTO processed_updates (update_id, at) VALUES (?, ?)",
                      (next(ids), "2026-01-01 00:00:00"))
        plain.execute("COMMIT")

    figures["plain sqlite3: BEGIN IMMEDIATE, INSERT, COMMIT"] = per_call(n // 4, write_plain)
    plain.close()

    engine = create_sync_engine(f"sqlite:///{db}")
    with Session(engine) as session:
        figures["SQLAlchemy Core, no asyncio"] = per_call(n, lambda: session.execute(
            select(User.__table__).where(User.__table__.c.id == USER_ID)).all())

        def orm_get() -> None:
            session.expunge_all()
            session.get(User, USER_ID)

        figures["SQLAlchemy ORM, no asyncio: session.get"] = per_call(n, orm_get)
    engine.dispose()
    return figures


async def async_figures(db: Path, n: int) -> dict[str, float]:
    figures = {}
    url = f"sqlite+aiosqlite:///{db}"
    threaded = create_async_engine(url)
    inline = create_engine(url, inline=True)
    for label, engine in (("aiosqlite's thread (the bot's readers)", threaded),
                          ("in the loop's thread (the bot's writers)", inline)):
        async with AsyncSession(engine) as session:

            async def orm_get(session: AsyncSession = session) -> None:
                session.expunge_all()
                await session.get(User, USER_ID)

            figures[f"SQLAlchemy ORM on aiosqlite, {label}: session.get"] = \
                await per_call_async(n, orm_get)
    await threaded.dispose()
    await inline.dispose()

    write_engine = writer(create_engine(url))
    ids = iter(range(3 * 10**9, 4 * 10**9))

    async def write_unit() -> None:
        async with AsyncSession(write_engine) as session, session.begin():
            session.add(ProcessedUpdate(update_id=next(ids), at=datetime(2026, 1, 1)))

    async def write_core() -> None:
        async with write_engine.begin() as connection:
            await connection.execute(insert(ProcessedUpdate.__table__).values(
                update_id=next(ids), at=datetime(2026, 1, 1)))

    figures["the bot's writer (ORM, in the loop's thread): BEGIN IMMEDIATE, INSERT, COMMIT"] = \
        await per_call_async(n // 4, write_unit)
    figures["the same connections through SQLAlchemy Core: BEGIN IMMEDIATE, INSERT, COMMIT"] = \
        await per_call_async(n // 4, write_core)
    await write_engine.dispose()
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=2000, help="calls per figure (default 2000)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "cost.db"
        migrate_sync(f"sqlite+aiosqlite:///{db}")
        with sqlite3.connect(db) as connection:
            connection.execute("INSERT INTO users (id, name, is_admin, reachable, created_at) "
                               "VALUES (?, 'x', 0, 1, '2026-01-01 00:00:00')", (USER_ID,))
        figures = sync_figures(db, args.n)
        figures.update(asyncio.run(async_figures(db, args.n)))
    print(f"one statement's cost — {platform.platform()}, Python {platform.python_version()}, "
          f"SQLite {sqlite3.sqlite_version}; median of 5 runs, {args.n} calls each figure")
    width = max(map(len, figures))
    for label, micros in figures.items():
        print(f"  {label:<{width}}  {micros:8.0f} µs")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
