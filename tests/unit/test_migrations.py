"""The Alembic migrations build exactly the schema the models describe."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect

from bot.store.db import alembic_config, migrate_sync, newest_revision, sqlite_revision
from bot.store.models import Base
from tests.databases import POSTGRESQL, sync_url, url_for


def test_migrations_match_the_models(tmp_path: Path) -> None:
    db = tmp_path / "sub" / "complaints.db"
    migrate_sync(url_for(db))
    assert db.exists() or POSTGRESQL
    engine = create_engine(sync_url(url_for(db)))
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
        tables = set(inspect(connection).get_table_names())
    engine.dispose()
    assert diff == []
    assert {"complaints", "drafts", "outbox", "audit_events", "processed_updates"} <= tables


@pytest.mark.sqlite_only
def test_a_restart_finds_the_newest_revision_without_alembic(tmp_path: Path) -> None:
    # migrate_sync skips Alembic when the file is at newest_revision(): it must be the head.
    heads = ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads()
    assert heads == [newest_revision()]
    url = f"sqlite+aiosqlite:///{tmp_path / 'c.db'}"
    assert sqlite_revision(url) is None  # no file yet
    migrate_sync(url)
    assert sqlite_revision(url) == newest_revision()
    command.downgrade(alembic_config(url), "0003")
    assert sqlite_revision(url) == "0003"
    migrate_sync(url)  # an older file is upgraded, as before
    assert sqlite_revision(url) == newest_revision()


def test_migrating_twice_is_harmless(tmp_path: Path) -> None:
    url = url_for(tmp_path / "c.db")
    migrate_sync(url)
    migrate_sync(url)


def test_0002_keeps_the_deadlines_of_a_0001_database_and_goes_back(tmp_path: Path) -> None:
    """A database made by issue 4's schema keeps its deadline rows through 0002 (which
    lets a deadline belong to a chain step instead), and 0002 can be undone."""
    from alembic import command
    from sqlalchemy import text

    from bot.store.db import alembic_config

    url = url_for(tmp_path / "old.db")
    command.upgrade(alembic_config(url), "0001")
    engine = create_engine(sync_url(url_for(tmp_path / "old.db")))
    with engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO users (id, is_admin, reachable, created_at) VALUES (1, FALSE, TRUE, '2026-11-20')"))
        connection.execute(text("INSERT INTO departments (key, name) VALUES ('production', '生產部')"))
        connection.execute(text(
            "INSERT INTO complaints (id, kind, status, complainant_id, answers, photos, is_crx, "
            "filed_at, round) VALUES (1, 'product', 'open', 1, '{}', '[]', TRUE, '2026-11-20', 0)"))
        connection.execute(text(
            "INSERT INTO complaint_steps (id, complaint_id, step_key, department_key, round, "
            "started_at) VALUES (1, 1, 'answer', 'production', 0, '2026-11-20')"))
        connection.execute(text(
            "INSERT INTO deadline_events (step_id, complaint_id, kind, before_seconds, due_at) "
            "VALUES (1, 1, 'breach', 0, '2026-11-20 10:00')"))
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
    engine = create_engine(sync_url(url_for(tmp_path / "old.db")))
    with engine.connect() as connection:
        assert "chain_items" not in set(inspect(connection).get_table_names())
        assert connection.execute(text("SELECT count(*) FROM deadline_events")).scalar() == 1
    engine.dispose()


def test_0003_keeps_waiting_questions_and_outbox_rows_and_goes_back(tmp_path: Path) -> None:
    """A 0002 database: its private question stays the user's (thread 0), a step's question
    moves to its complaint's thread, queued messages keep waiting; and 0003 can be undone,
    keeping each user's newest question."""
    from alembic import command
    from sqlalchemy import text

    from bot.store.db import alembic_config

    url = url_for(tmp_path / "old.db")
    command.upgrade(alembic_config(url), "0002")
    engine = create_engine(sync_url(url_for(tmp_path / "old.db")))
    with engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO pending_inputs (user_id, purpose, ref_id, data, created_at) VALUES "
            "(1, 'reject_reason', 5, '{}', '2026-11-20 09:00'), "
            "(2, 'step', 7, '{\"step\": \"answer\"}', '2026-11-20 09:01')"))
        connection.execute(text(
            "INSERT INTO outbox (id, kind, chat_id, payload, status, attempts, created_at) "
            "VALUES (1, 'message', 1, '{\"text\": \"hi\"}', 'queued', 0, '2026-11-20 09:00')"))
    command.upgrade(alembic_config(url), "head")
    with engine.begin() as connection:
        waiting = connection.execute(text(
            "SELECT user_id, complaint_thread, purpose, ref_id FROM pending_inputs "
            "ORDER BY user_id")).all()
        assert waiting == [(1, 0, "reject_reason", 5), (2, 7, "step", 7)]
        queued = connection.execute(text(
            "SELECT status, owner, subject, sent_message_id FROM outbox")).all()
        assert queued == [("queued", None, None, None)]
        # Now one person may have a question in private and one in each complaint's thread.
        connection.execute(text(
            "INSERT INTO pending_inputs (user_id, complaint_thread, purpose, ref_id, data, "
            "created_at) VALUES (2, 8, 'step', 8, '{}', '2026-11-20 09:05')"))
    engine.dispose()
    command.downgrade(alembic_config(url), "0002")
    engine = create_engine(sync_url(url_for(tmp_path / "old.db")))
    with engine.connect() as connection:
        kept = connection.execute(text(
            "SELECT user_id, ref_id FROM pending_inputs ORDER BY user_id")).all()
        assert kept == [(1, 5), (2, 8)]  # user 2's newest
        columns = {c["name"] for c in inspect(connection).get_columns("outbox")}
        assert "owner" not in columns and "subject" not in columns
    engine.dispose()


def test_0005_gives_open_complaints_their_ten_day_clock_and_goes_back(tmp_path: Path) -> None:
    """A 0004 database: every posted complaint still open gets its ground-(d) moment, 10 days
    after posting, or a day after the upgrade for one already past it; closed and unposted
    ones none; every complaint is 輕微. Undone, the complaint's own clocks go."""
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import text

    url = url_for(tmp_path / "old.db")
    command.upgrade(alembic_config(url), "0004")
    engine = create_engine(sync_url(url_for(tmp_path / "old.db")))
    recent = (datetime.now(UTC) - timedelta(days=1)).replace(tzinfo=None, microsecond=0)
    with engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO users (id, is_admin, reachable, created_at) "
            "VALUES (1, FALSE, TRUE, '2026-11-01 09:00')"))
        connection.execute(text(
            "INSERT INTO complaints (id, kind, status, complainant_id, answers, photos, is_crx, "
            "filed_at, round, posted_at) VALUES "
            "(1, 'product', 'open', 1, '{}', '[]', FALSE, '2026-11-20 09:00', 0, :recent), "
            "(2, 'product', 'closed', 1, '{}', '[]', FALSE, '2026-11-20 09:00', 0, '2026-11-20 09:05'), "
            "(3, 'service', 'pending_approval', 1, '{}', '[]', FALSE, '2026-11-20 09:00', 0, NULL), "
            "(4, 'product', 'escalated', 1, '{}', '[]', FALSE, '2025-01-02 09:00', 1, "
            "'2025-01-02 09:05')"), {"recent": recent.isoformat(sep=" ")})
    command.upgrade(alembic_config(url), "head")
    with engine.begin() as connection:
        clocks: dict[int, str] = dict(connection.execute(text(
            "SELECT complaint_id, due_at FROM deadline_events WHERE kind = 'major'")).all())
        assert set(clocks) == {1, 4}
        assert str(clocks[1]) == str(recent + timedelta(days=10))  # (SQLite: text)
        tomorrow = datetime.now(UTC).replace(tzinfo=None) + timedelta(days=1)
        assert abs(datetime.fromisoformat(str(clocks[4])) - tomorrow) < timedelta(minutes=5)
        severities = connection.execute(text("SELECT DISTINCT severity FROM complaints")).all()
        assert severities == [("minor",)]
        connection.execute(text(
            "INSERT INTO deadline_events (complaint_id, kind, before_seconds, due_at) "
            "VALUES (3, 'feedback', 0, '2026-11-21 09:00')"))
    engine.dispose()
    command.downgrade(alembic_config(url), "0004")
    engine = create_engine(sync_url(url_for(tmp_path / "old.db")))
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM deadline_events")).scalar() == 0
        assert "severity" not in {c["name"] for c in inspect(connection).get_columns("complaints")}
    engine.dispose()


def test_0006_keeps_the_fines_and_goes_back_without_the_visits(tmp_path: Path) -> None:
    """A 0005 database's fines survive the upgrade (a fine may now be for a missed visit, not
    a step); undone, the visits and their fines go and the step fines stay."""
    from sqlalchemy import text

    url = url_for(tmp_path / "old.db")
    command.upgrade(alembic_config(url), "0005")
    engine = create_engine(sync_url(url_for(tmp_path / "old.db")))
    with engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO users (id, is_admin, reachable, created_at) "
            "VALUES (1, FALSE, TRUE, '2026-11-01 09:00')"))
        connection.execute(text("INSERT INTO departments (key, name) VALUES ('hr', 'HR')"))
        connection.execute(text(
            "INSERT INTO complaints (id, kind, status, complainant_id, answers, photos, is_crx, "
            "filed_at, round) VALUES (1, 'service', 'closed', 1, '{}', '[]', FALSE, "
            "'2026-11-20 09:00', 0)"))
        connection.execute(text(
            "INSERT INTO complaint_steps (id, complaint_id, step_key, department_key, round, "
            "started_at) VALUES (1, 1, 'plan', 'hr', 0, '2026-11-20 09:10')"))
        connection.execute(text(
            "INSERT INTO fines (id, complaint_id, step_id, department_key, amount_cents, "
            "currency, status, levied_at) VALUES (1, 1, 1, 'hr', 5000, 'CNY', 'levied', "
            "'2026-11-20 11:10')"))
    command.upgrade(alembic_config(url), "head")
    with engine.begin() as connection:
        assert connection.execute(text("SELECT step_id, amount_cents FROM fines")).all() == \
            [(1, 5000)]
        connection.execute(text(
            "INSERT INTO follow_ups (id, complaint_id, round, severity, opened_at, due_at) "
            "VALUES (1, 1, 0, 'minor', '2026-11-21 09:00', '2026-11-22 09:00')"))
        connection.execute(text(
            "INSERT INTO fines (id, complaint_id, follow_up_id, department_key, amount_cents, "
            "currency, status, levied_at) VALUES (2, 1, 1, 'hr', 2000, 'CNY', 'levied', "
            "'2026-11-22 09:00')"))
    engine.dispose()
    command.downgrade(alembic_config(url), "0005")
    engine = create_engine(sync_url(url_for(tmp_path / "old.db")))
    with engine.connect() as connection:
        assert connection.execute(text("SELECT id FROM fines")).all() == [(1,)]
        assert "follow_ups" not in inspect(connection).get_table_names()
        step = next(c for c in inspect(connection).get_columns("fines") if c["name"] == "step_id")
        assert step["nullable"] is False
    engine.dispose()
