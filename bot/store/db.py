"""Engine, sessions and migrations.

Migrations are Alembic's (bot/store/migrations); they run at start-up and by
`complaint-bot migrate`. SQLite gets WAL and a busy timeout so that two processes
on one file wait for each other instead of failing.

SQLite's Python driver starts transactions itself, late and without SAVEPOINT support;
here the driver is told to stay out of it and SQLAlchemy emits the BEGIN: plain for
reading sessions, `BEGIN IMMEDIATE` for writing ones (`writer`), which take the write
lock at once. A transaction that read first and then wants to write could otherwise fail
at once ("database is locked") when another process wrote in between.

On SQLite the writing sessions have an engine of their own whose connections run their
calls in the event loop's thread (`InlineConnection`) instead of aiosqlite's thread: an
update's unit of work is a handful of short statements, and handing each call to a
thread and back cost more than the statement (measured in docs/PERFORMANCE.md). Writers of
one process take turns anyway (bot.services.context); the price is that the loop waits
while another process holds SQLite's write lock, which lasts one short transaction.
Reading sessions keep aiosqlite's thread, so a long report query does not stall the loop.

PostgreSQL (`postgresql+asyncpg://…`) keeps the same model: writing transactions take one
transaction-scoped advisory lock first (`WRITE_LOCK`), so the writers of every process take
turns as on SQLite, and every claim, counter and "read, then decide" stays as safe as it is
there; readers never wait. The lock is held for one short transaction, so several processes
still share the work around it (Telegram's HTTP, parsing, rendering, sending).
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import aiosqlite
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

if TYPE_CHECKING:
    from alembic.config import Config as AlembicConfig

MIGRATIONS = Path(__file__).parent / "migrations"


def ensure_sqlite_folder(url: str) -> None:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)


class InlineConnection(aiosqlite.Connection):
    """aiosqlite's connection with every call run at once in the caller's (the event
    loop's) thread. Its worker thread is still started, for aiosqlite's own connect and
    stop, and sits idle in between."""

    async def _execute(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        if not self._running or not self._connection:
            raise ValueError("Connection closed")
        return fn(*args, **kwargs)


async def _connect_inline(database: str) -> aiosqlite.Connection:
    # As SQLAlchemy's aiosqlite dialect connects (check_same_thread off, daemon thread).
    connection = InlineConnection(partial(sqlite3.connect, database, check_same_thread=False),
                                  iter_chunk_size=64)
    connection._thread.daemon = True
    return await connection


def create_engine(url: str, *, inline: bool = False, foreign_keys: bool = True) -> AsyncEngine:
    """The engine for `url`; `inline` (SQLite only): its connections run their calls in the
    event loop's thread (see the module's docstring); `foreign_keys=False` (SQLite only) for
    the migrations, whose table rebuilds would otherwise cascade."""
    ensure_sqlite_folder(url)
    parsed = make_url(url)
    if inline and parsed.get_backend_name() == "sqlite":
        engine = create_async_engine(url, async_creator=partial(
            _connect_inline, parsed.database or ":memory:"))
    else:
        engine = create_async_engine(url)
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None  # SQLAlchemy emits BEGIN (below)
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA foreign_keys={'ON' if foreign_keys else 'OFF'}")
            cursor.execute("PRAGMA busy_timeout=10000")
            cursor.close()

        @event.listens_for(engine.sync_engine, "begin")
        def _sqlite_begin(connection: Any) -> None:
            mode = connection.get_execution_options().get(WRITE_BEGIN, "")
            connection.exec_driver_sql(f"BEGIN {mode}".strip())

    elif engine.dialect.name == "postgresql":

        @event.listens_for(engine.sync_engine, "begin")
        def _postgresql_begin(connection: Any) -> None:
            if connection.get_execution_options().get(WRITE_BEGIN):
                connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({WRITE_LOCK})")

    return engine


WRITE_BEGIN = "write_begin"  # execution option: begin as a writing transaction
# PostgreSQL: the advisory lock every writing transaction holds (see the module's docstring).
WRITE_LOCK = 7_231_001


def is_sqlite(engine: AsyncEngine) -> bool:
    return engine.dialect.name == "sqlite"


def writer(engine: AsyncEngine) -> AsyncEngine:
    """For transactions that write: on SQLite a second engine for `engine`'s database whose
    connections run in the loop's thread and whose transactions begin with the write lock
    taken; on PostgreSQL `engine` with the advisory write lock taken at each begin."""
    if not is_sqlite(engine):
        return engine.execution_options(**{WRITE_BEGIN: "IMMEDIATE"})
    inline = create_engine(engine.url.render_as_string(hide_password=False), inline=True)
    return inline.execution_options(**{WRITE_BEGIN: "IMMEDIATE"})


def session_factory(engine: AsyncEngine) -> async_sessionmaker:
    return async_sessionmaker(engine, expire_on_commit=False)


def alembic_config(url: str) -> AlembicConfig:
    from alembic.config import Config as AlembicConfig

    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url)
    return config


def newest_revision() -> str:
    """The head of migrations/versions: revisions are numbered, the file names start with
    theirs (tests/unit/test_migrations.py checks this against Alembic's own idea of the head)."""
    return max(p.name.split("_")[0] for p in (MIGRATIONS / "versions").glob("[0-9]*_*.py"))


def sqlite_revision(url: str) -> str | None:
    """The revision a SQLite file is at, read without Alembic; None if unknown or not SQLite."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database \
            or parsed.database == ":memory:" or not Path(parsed.database).is_file():
        return None
    try:
        with contextlib.closing(sqlite3.connect(parsed.database)) as db:
            row = db.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.Error:
        return None
    return str(row[0]) if row else None


def migrate_sync(url: str) -> None:
    """Bring the database to the newest schema (creating the SQLite file if needed). A file
    already there, the usual restart, costs one query: Alembic is not even imported."""
    if sqlite_revision(url) == newest_revision():
        return
    from alembic import command

    ensure_sqlite_folder(url)
    command.upgrade(alembic_config(url), "head")


async def migrate(url: str) -> None:
    # Alembic's async env runs its own event loop, so it gets a thread of its own.
    await asyncio.to_thread(migrate_sync, url)
