"""`complaint-bot migrate` upgrades a database made by the previous release (schema 0005, the
release before follow-up visits, cases and records): its complaints, fines, open deadlines
and waiting messages are all there afterwards, and the bot serves them."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from alembic import command

from bot.store.db import alembic_config, migrate_sync, newest_revision
from tests.e2e.conftest import HR_HEAD, SALES, Actor, StartBot, text_of
from tests.e2e.test_backups import cli, config_for
from tests.fakebot import FakeTelegram

PREVIOUS_RELEASE = "0005"


def made_by_the_previous_release(db: Path) -> None:
    """The previous release's schema, with what a running company leaves in it."""
    url = f"sqlite+aiosqlite:///{db}"
    migrate_sync(url)
    command.downgrade(alembic_config(url), PREVIOUS_RELEASE)
    with sqlite3.connect(db) as old:
        old.executescript(f"""
            INSERT INTO users (id, name, is_admin, reachable, created_at, department_key)
                VALUES ({SALES}, '王小明', 0, 1, '2026-11-01 09:00', NULL);
            INSERT INTO departments (key, name) VALUES ('production', '生產部');
            INSERT INTO complaints (id, number, kind, status, complainant_id, answers, photos,
                is_crx, filed_at, posted_at, round, severity, severity_ground, major_due_at)
                VALUES (1, 'P-2026-0001', 'product', 'open', {SALES},
                        '{{"customer": "永輝超市", "problem": "瓶蓋漏液"}}', '[]', 0,
                        '2026-11-20 01:00', '2026-11-20 01:02', 0, 'major', 'c',
                        '2026-11-20 13:02'),
                       (2, 'P-2026-0002', 'product', 'closed', {SALES}, '{{}}', '[]', 0,
                        '2026-11-21 01:00', '2026-11-21 01:02', 0, 'minor', NULL, NULL);
            INSERT INTO complaint_steps (id, complaint_id, step_key, department_key, round,
                started_at, due_at) VALUES (1, 1, 'answer', 'production', 0,
                '2026-11-20 01:30', '2999-01-01 00:00');
            INSERT INTO deadline_events (step_id, complaint_id, kind, before_seconds, due_at)
                VALUES (1, 1, 'breach', 0, '2999-01-01 00:00');
            INSERT INTO fines (id, complaint_id, step_id, department_key, amount_cents, currency,
                status, levied_at) VALUES (1, 1, 1, 'production', 5000, 'CNY', 'levied',
                '2026-11-20 03:30');
            INSERT INTO audit_events (complaint_id, actor_id, action, details, at)
                VALUES (1, {SALES}, 'submitted', '{{}}', '2026-11-20 01:00');
        """)


async def test_the_previous_releases_database_is_upgraded_and_served(
        start_bot: StartBot, fake: FakeTelegram, people: dict[str, Actor],
        tmp_path: Path) -> None:
    db = tmp_path / "complaints.db"  # the file start_bot uses
    await asyncio.to_thread(made_by_the_previous_release, db)  # (Alembic runs its own loop)
    code, out, err = await cli(config_for(fake, db), "migrate")
    assert code == 0, err
    assert "up to date" in out
    with sqlite3.connect(db) as upgraded:
        assert upgraded.execute("SELECT version_num FROM alembic_version").fetchone() == \
            (newest_revision(),)
        assert upgraded.execute("SELECT number, severity FROM complaints ORDER BY id").fetchall() \
            == [("P-2026-0001", "major"), ("P-2026-0002", "minor")]
        assert upgraded.execute("SELECT step_id, follow_up_id, amount_cents FROM fines") \
            .fetchall() == [(1, None, 5000)]
        assert upgraded.execute("SELECT count(*) FROM deadline_events WHERE fired_at IS NULL") \
            .fetchone() == (1,)
        assert upgraded.execute("SELECT count(*) FROM follow_ups").fetchone() == (0,)

    await start_bot()  # the bot of this release, on the upgraded file
    shown = await people["sales"].say("/show P-2026-0001", expect="完整記錄")
    assert "永輝超市" in text_of(shown) and "重大投訴" in text_of(shown)
    listing = await Actor(fake, HR_HEAD).say("/fines 2026-11", expect="罰款記錄")
    assert "P-2026-0001" in text_of(listing)
