"""`complaint-bot backup` while the bot runs, and `restore`: every complaint, fine and open
deadline comes back; a database in use is not overwritten without --force."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import sqlalchemy
import tomli_w
from sqlalchemy import select

from bot.app import Runtime
from bot.clock import to_db
from bot.sandbox import FakeTelegram
from bot.store.models import Complaint, Fine, StepRecord
from tests.databases import POSTGRESQL, sync_url, url_for
from tests.e2e.conftest import FORUM, QUIET_REPORTS, Actor, StartBot, config_data
from tests.e2e.flows import file_and_post
from tests.e2e.test_durability import ROOT


async def cli(config: Path, *args: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", *args, "--config", str(config), cwd=ROOT,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await process.communicate()
    return process.returncode or 0, out.decode(), err.decode()


def config_for(fake: FakeTelegram, db: Path) -> Path:
    data = config_data(url_for(db), FORUM)
    data["telegram"].update(base_url=fake.base_url, base_file_url=fake.base_file_url)
    path = db.with_suffix(".toml")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(tomli_w.dumps(data).encode())
    return path


def contents(db: Path) -> tuple[list[str], list[tuple[int, int]], int]:
    """The complaints' numbers, the fines, the open deadline moments (of the database a
    test would keep in file `db`: tests/databases.py)."""
    engine = sqlalchemy.create_engine(sync_url(url_for(db)))
    try:
        with engine.connect() as connection:
            numbers = [n for (n,) in connection.execute(sqlalchemy.text(
                "SELECT number FROM complaints ORDER BY id"))]
            fines = [(i, c) for i, c in connection.execute(sqlalchemy.text(
                "SELECT id, amount_cents FROM fines ORDER BY id"))]
            open_deadlines = connection.execute(sqlalchemy.text(
                "SELECT count(*) FROM deadline_events WHERE fired_at IS NULL "
                "AND cancelled_at IS NULL")).scalar_one()
    finally:
        engine.dispose()
    return numbers, fines, open_deadlines


async def test_a_backup_taken_while_the_bot_runs_restores_everything(
        start_bot: StartBot, fake: FakeTelegram, people: dict[str, Actor],
        tmp_path: Path) -> None:
    live = tmp_path / "complaints.db"  # the database start_bot uses
    runtime: Runtime = await start_bot(fines=QUIET_REPORTS)
    await file_and_post(fake, people)
    await file_and_post(fake, people, number=2)
    async with runtime.ctx.transaction() as session:  # a fine on the first one's 受理
        complaint = await session.scalar(select(Complaint).order_by(Complaint.id))
        assert complaint is not None
        step = await session.scalar(select(StepRecord).where(
            StepRecord.complaint_id == complaint.id))
        assert step is not None
        session.add(Fine(complaint_id=complaint.id, step_id=step.id, department_key="order_desk",
                         head_user_id=None, head_name="李主管", amount_cents=5000,
                         currency="CNY", status="levied", levied_at=to_db(runtime.ctx.now())))
    config = config_for(fake, live)
    saved = tmp_path / "saved" / "backup.db"
    code, out, err = await cli(config, "backup", str(saved))  # the bot keeps running
    assert code == 0, err
    assert "2 complaints, 1 fines" in out
    assert (await cli(config, "backup", str(saved)))[0] == 2  # never over an earlier backup
    expected = contents(live)
    assert len(expected[0]) == 2 and expected[1] and expected[2] > 0

    fresh = tmp_path / "elsewhere" / "complaints.db"
    code, out, err = await cli(config_for(fake, fresh), "restore", str(saved))
    assert code == 0, err
    assert contents(fresh) == expected

    code, _out, err = await cli(config, "restore", str(saved))
    assert code == 2 and "--force" in err  # the live database holds complaints
    await runtime.stop()
    engine = sqlalchemy.create_engine(sync_url(url_for(live)))  # a table the backup lacks,
    with engine.begin() as connection:  # as a newer schema would have
        connection.execute(sqlalchemy.text("CREATE TABLE leftover (id INTEGER)"))
    engine.dispose()
    code, out, err = await cli(config, "restore", str(saved), "--force")
    assert code == 0, err
    assert contents(live) == expected
    engine = sqlalchemy.create_engine(sync_url(url_for(live)))
    with engine.connect() as connection:
        assert "leftover" not in sqlalchemy.inspect(connection).get_table_names()
    engine.dispose()
    kept = Path(out.split("is kept in ")[1].strip())  # what was there: restorable in turn
    beside = "backup.db" if POSTGRESQL else "complaints.db"
    assert kept.name.startswith(f"{beside}.before-restore-")
    third = tmp_path / "third" / "complaints.db"
    assert (await cli(config_for(fake, third), "restore", str(kept)))[0] == 0
    assert contents(third) == expected
    assert (await cli(config, "restore", str(saved), "--force"))[0] == 0  # again: a new copy
    assert len(list(kept.parent.glob(f"{beside}.before-restore-*"))) == 2

    not_a_backup = tmp_path / "notes.txt"
    not_a_backup.write_text("hello")
    code, _out, err = await cli(config_for(fake, fresh), "restore", str(not_a_backup), "--force")
    assert code == 2 and "not a complaint-bot database" in err
    assert contents(fresh) == expected  # untouched
