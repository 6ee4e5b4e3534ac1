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


def test_0002_keeps_the_deadlines_of_a_0001_database_and_goes_back(tmp_path: Path) -> None:
    """A database made by issue 4's schema keeps its deadline rows through 0002 (which
    lets a deadline belong to a chain step instead), and 0002 can be undone."""
    from alembic import command
    from sqlalchemy import text

    from bot.store.db import alembic_config

    url = f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
    command.upgrade(alembic_config(url), "0001")
    engine = create_engine(f"sqlite:///{tmp_path / 'old.db'}")
    with engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO users (id, is_admin, reachable, created_at) VALUES (1, 0, 1, '2026-11-20')"))
        connection.execute(text("INSERT INTO departments (key, name) VALUES ('production', '生產部')"))
        connection.execute(text(
            "INSERT INTO complaints (id, kind, status, complainant_id, answers, photos, is_crx, "
            "filed_at, round) VALUES (1, 'product', 'open', 1, '{}', '[]', 1, '2026-11-20', 0)"))
        connection.execute(text(
            "INSERT INTO complaint_steps (id, complaint_id, step_key, department_key, round, "
            "started_at) VALUES (1, 1, 'answer', 'production', 0, '2026-11-20')"))
        connection.execute(text(
            "INSERT INTO deadline_events (id, step_id, complaint_id, kind, before_seconds, due_at) "
            "VALUES (1, 1, 1, 'breach', 0, '2026-11-20 10:00')"))
    command.upgrade(alembic_config(url), "head")
    with engine.begin() as connection:
        kept = connection.execute(text(
            "SELECT step_id, chain_step_id, kind FROM deadline_events")).all()
        assert kept == [(1, None, "breach")]
        # A deadline of a chain step has no complaint step.
        connection.execute(text(
            "INSERT INTO chain_items (id, chain, complaint_id, status, data, created_at) "
            "VALUES (1, 'sheet', 1, 'open', '{}', '2026-11-20')"))
        connection.execute(text(
            "INSERT INTO chain_steps (id, item_id, step_key, department_key, round, started_at, "
            "due_at, value) VALUES (1, 1, 'hr_confirm', '', 0, '2026-11-20', '2026-11-20', '{}')"))
        connection.execute(text(
            "INSERT INTO deadline_events (step_id, chain_step_id, complaint_id, kind, "
            "before_seconds, due_at) VALUES (NULL, 1, 1, 'start', 0, '2026-11-21 09:00')"))
        connection.execute(text("DELETE FROM deadline_events WHERE chain_step_id IS NOT NULL"))
        connection.execute(text("DELETE FROM chain_steps"))
        connection.execute(text("DELETE FROM chain_items"))
    engine.dispose()
    command.downgrade(alembic_config(url), "0001")
    engine = create_engine(f"sqlite:///{tmp_path / 'old.db'}")
    with engine.connect() as connection:
        assert "chain_items" not in set(inspect(connection).get_table_names())
        assert connection.execute(text("SELECT count(*) FROM deadline_events")).scalar() == 1
    engine.dispose()
