"""The store's engines: where their statements run, and that the writer takes the lock."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.store.db import WRITE_LOCK, create_engine, migrate, session_factory, writer
from tests.databases import POSTGRESQL, url_for


async def thread_of_statements(engine: AsyncEngine) -> int:
    """The thread in which SQLite runs this engine's statements."""
    async with engine.connect() as connection:
        raw = await connection.get_raw_connection()
        assert raw.driver_connection is not None
        raw.driver_connection._conn.create_function("thread_id", 0, threading.get_ident)
        return int(await connection.scalar(text("SELECT thread_id()")))


@pytest.mark.sqlite_only
async def test_writers_run_in_the_loops_thread_and_readers_in_aiosqlites(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'store.db'}"
    await migrate(url)
    engine = create_engine(url)
    write_engine = writer(engine)
    try:
        assert await thread_of_statements(write_engine) == threading.get_ident()
        assert await thread_of_statements(engine) != threading.get_ident()
    finally:
        await write_engine.dispose()
        await engine.dispose()


async def test_a_writing_session_begins_with_the_write_lock(tmp_path: Path) -> None:
    url = url_for(tmp_path / "store.db")
    await migrate(url)
    engine = create_engine(url)
    write_engine = writer(engine)
    seen: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        seen.append(statement)

    event.listen(write_engine.sync_engine, "before_cursor_execute", record)
    try:
        async with session_factory(write_engine)() as session, session.begin():
            await session.execute(text("INSERT INTO processed_updates (update_id, at) "
                                       "VALUES (1, '2026-01-01 00:00:00')"))
        async with session_factory(engine)() as session:
            assert await session.scalar(text("SELECT count(*) FROM processed_updates")) == 1
        if POSTGRESQL:  # every process's writers take turns on one advisory lock
            assert seen[0] == f"SELECT pg_advisory_xact_lock({WRITE_LOCK})"
        else:
            assert seen[0] == "BEGIN IMMEDIATE"
    finally:
        await write_engine.dispose()
        await engine.dispose()
