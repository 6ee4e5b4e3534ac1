"""`complaint-bot migrate` upgrades a database made by the previous release (schema 0005, the
release before follow-up visits, cases and records): its complaints, fines, open deadlines
and waiting messages are all there afterwards, and the bot serves them."""

from __future__ import annotations

import asyncio
from pathlib import Path

import sqlalchemy
from alembic import command

from bot.sandbox import FakeTelegram
from bot.store.db import alembic_config, migrate_sync, newest_revision
from tests.databases import sync_url, url_for
from tests.e2e.conftest import HR_HEAD, SALES, Actor, StartBot, text_of
from tests.e2e.test_backups import cli, config_for

PREVIOUS_RELEASE = "0005"


# Rows as the previous release wrote them (ids left to the database: 1, 2, … in order).
OLD_ROWS = f"""
    INSERT INTO users (id, name, is_admin, reachable, created_at, department_key)
        VALUES ({SALES}, '王小明', FALSE, TRUE, '2026-11-01 09:00', NULL);
    INSERT INTO departments (key, name) VALUES ('production', '生產部');
    INSERT INTO complaints (number, kind, status, complainant_id, answers, photos,
        is_crx, filed_at, posted_at, round, severity, severity_ground, major_due_at)
        VALUES ('P-2026-0001', 'product', 'open', {SALES},
                '{{"customer": "永輝超市", "problem": "瓶蓋漏液"}}', '[]', FALSE,
                '2026-11-20 01:00', '2026-11-20 01:02', 0, 'major', 'c',
                '2026-11-20 13:02'),
               ('P-2026-0002', 'product', 'closed', {SALES}, '{{}}', '[]', FALSE,
                '2026-11-21 01:00', '2026-11-21 01:02', 0, 'minor', NULL, NULL);
    INSERT INTO complaint_steps (complaint_id, step_key, department_key, round,
        started_at, due_at) VALUES (1, 'answer', 'production', 0,
        '2026-11-20 01:30', '2999-01-01 00:00');
    INSERT INTO deadline_events (step_id, complaint_id, kind, before_seconds, due_at)
        VALUES (1, 1, 'breach', 0, '2999-01-01 00:00');
    INSERT INTO fines (complaint_id, step_id, department_key, amount_cents, currency,
        status, levied_at) VALUES (1, 1, 'production', 5000, 'CNY', 'levied',
        '2026-11-20 03:30');
    INSERT INTO audit_events (complaint_id, actor_id, action, details, at)
        VALUES (1, {SALES}, 'submitted', '{{}}', '2026-11-20 01:00')
"""


def made_by_the_previous_release(db: Path) -> None:
    """The previous release's schema, with what a running company leaves in it."""
    url = url_for(db)
    migrate_sync(url)
    command.downgrade(alembic_config(url), PREVIOUS_RELEASE)
    engine = sqlalchemy.create_engine(sync_url(url))
    with engine.begin() as old:
        for statement in OLD_ROWS.split(";"):
            old.execute(sqlalchemy.text(statement))
    engine.dispose()


async def test_the_previous_releases_database_is_upgraded_and_served(
        start_bot: StartBot, fake: FakeTelegram, people: dict[str, Actor],
        tmp_path: Path) -> None:
    db = tmp_path / "complaints.db"  # the file start_bot uses
    await asyncio.to_thread(made_by_the_previous_release, db)  # (Alembic runs its own loop)
    code, out, err = await cli(config_for(fake, db), "migrate")
    assert code == 0, err
    assert "up to date" in out
    engine = sqlalchemy.create_engine(sync_url(url_for(db)))
    with engine.connect() as upgraded:
        def rows(sql: str) -> list[tuple[object, ...]]:
            return [tuple(row) for row in upgraded.execute(sqlalchemy.text(sql))]

        assert rows("SELECT version_num FROM alembic_version") == [(newest_revision(),)]
        assert rows("SELECT number, severity FROM complaints ORDER BY id") \
            == [("P-2026-0001", "major"), ("P-2026-0002", "minor")]
        assert rows("SELECT step_id, follow_up_id, amount_cents FROM fines") == [(1, None, 5000)]
        assert rows("SELECT count(*) FROM deadline_events WHERE fired_at IS NULL") == [(1,)]
        assert rows("SELECT count(*) FROM follow_ups") == [(0,)]
    engine.dispose()

    await start_bot()  # the bot of this release, on the upgraded file
    shown = await people["sales"].say("/show P-2026-0001", expect="完整記錄")
    assert "永輝超市" in text_of(shown) and "重大投訴" in text_of(shown)
    listing = await Actor(fake, HR_HEAD).say("/fines 2026-11", expect="罰款記錄")
    assert "P-2026-0001" in text_of(listing)
