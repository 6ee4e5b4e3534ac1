"""Engine, sessions and migrations.

Migrations are Alembic's (bot/store/migrations); they run at start-up and by
`complaint-bot migrate`. SQLite gets WAL and a busy timeout so that two processes
on one file wait for each other instead of failing.

SQLite's Python driver starts transactions itself, late and without SAVEPOINT support;
here the driver is told to stay out of it and SQLAlchemy emits the BEGIN: plain for
reading sessions, `BEGIN IMMEDIATE` for writing ones (`writer`), which take the write
lock at once. A transaction that read first and then wants to write could otherwise fail
at once ("database is locked") when another process wrote in between.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

MIGRATIONS = Path(__file__).parent / "migrations"


def ensure_sqlite_folder(url: str) -> None:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)


def create_engine(url: str) -> AsyncEngine:
    ensure_sqlite_folder(url)
    engine = create_async_engine(url)
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None  # SQLAlchemy emits BEGIN (below)
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=10000")
            cursor.close()

        @event.listens_for(engine.sync_engine, "begin")
        def _sqlite_begin(connection: Any) -> None:
            mode = connection.get_execution_options().get(SQLITE_BEGIN, "")
            connection.exec_driver_sql(f"BEGIN {mode}".strip())

    return engine


SQLITE_BEGIN = "sqlite_begin"


def is_sqlite(engine: AsyncEngine) -> bool:
    return engine.dialect.name == "sqlite"


def writer(engine: AsyncEngine) -> AsyncEngine:
    """The same engine (and pool) for transactions that write: on SQLite they begin with
    the write lock taken."""
    return engine.execution_options(**{SQLITE_BEGIN: "IMMEDIATE"}) if is_sqlite(engine) else engine


def session_factory(engine: AsyncEngine) -> async_sessionmaker:
    return async_sessionmaker(engine, expire_on_commit=False)


def alembic_config(url: str) -> AlembicConfig:
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url)
    return config


def migrate_sync(url: str) -> None:
    """Bring the database to the newest schema (creating the SQLite file if needed)."""
    ensure_sqlite_folder(url)
    command.upgrade(alembic_config(url), "head")


async def migrate(url: str) -> None:
    # Alembic's async env runs its own event loop, so it gets a thread of its own.
    await asyncio.to_thread(migrate_sync, url)
