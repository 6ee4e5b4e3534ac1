"""The Alembic migrations build exactly the schema the models describe."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from bot.store.db import migrate_sync
from bot.store.models import Base


def test_migrations_match_the_models(tmp_path: Path) -> None:
    db = tmp_path / "sub" / "complaints.db"
    migrate_sync(f"sqlite+aiosqlite:///{db}")
    assert db.exists()
    engine = create_engine(f"sqlite:///{db}")
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
        tables = set(inspect(connection).get_table_names())
    engine.dispose()
    assert diff == []
    assert {"complaints", "drafts", "outbox", "audit_events", "processed_updates"} <= tables


def test_migrating_twice_is_harmless(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'c.db'}"
    migrate_sync(url)
    migrate_sync(url)
