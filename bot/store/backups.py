"""`complaint-bot backup FILE` and `complaint-bot restore FILE [--force]`.

SQLite: a backup is taken with SQLite's online backup API, so the bot may keep running: the
copy is one consistent moment of the database (a transaction in flight is in it entirely or
not at all), with every complaint, fine, open deadline and waiting message. A restore copies
a backup over the configured database — refused when that database already holds complaints
or people, unless `force` is given (then the old file is kept next to it, `.before-restore`),
and refused when the file is not a backup of this bot (no schema revision in it).

PostgreSQL: `pg_dump` in its custom format, of the moment a snapshot is taken (the figures
printed are read in that same snapshot). A restore empties the database's schema and loads
the backup in one transaction (pg_restore's script through psql), so that a backup older
than the schema there leaves nothing of the newer one behind; with `force` the database that
was there is first dumped next to the backup. PostgreSQL's client programs must be installed
(Debian: postgresql-client); the password goes to them in the environment, not on their
command line.

What a forced restore replaces is kept as `….before-restore-<time>`: a second restore never
overwrites the first one's copy.

The bot must be stopped for a restore; a restored database older than the code is migrated at
its next start, as any database is.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

# What makes a database "in use": rows here mean complaints or people would be lost.
LIVE_TABLES = ("complaints", "users", "fines")


class BackupError(Exception):
    """Why a backup or a restore was refused (said to the admin as is)."""


@dataclass(frozen=True)
class Copied:
    path: Path
    revision: str
    complaints: int
    fines: int
    open_deadlines: int
    kept: Path | None = None  # the database replaced by a forced restore, kept here


FACTS = ("SELECT (SELECT version_num FROM alembic_version LIMIT 1), "
         "(SELECT count(*) FROM complaints), (SELECT count(*) FROM fines), "
         "(SELECT count(*) FROM deadline_events WHERE fired_at IS NULL AND cancelled_at IS NULL)")


def backup(url: str, target: Path) -> Copied:
    """The configured database, as it is at this moment, into `target` (a new file)."""
    if target.exists():
        raise BackupError(f"{target} exists already: give a new file name")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    if make_url(url).get_backend_name() == "postgresql":
        facts = asyncio.run(_pg_dump(url, partial))
    else:
        source = sqlite_file(url)
        if not source.is_file():
            raise BackupError(f"there is no database at {source} yet")
        _copy(source, partial)
        facts = _facts(partial)
    partial.replace(target)  # a file named `target` is always a whole backup
    return Copied(target, facts.revision, facts.complaints, facts.fines, facts.open_deadlines)


def restore(url: str, backup_file: Path, *, force: bool = False) -> Copied:
    """`backup_file` becomes the configured database (the bot stopped)."""
    if make_url(url).get_backend_name() == "postgresql":
        return asyncio.run(_pg_restore(url, backup_file, force=force))
    target = sqlite_file(url)
    facts = _facts(backup_file)
    kept = None
    if _in_use(target):
        if not force:
            raise BackupError(f"{target} holds complaints or people: stop the bot and give "
                              "--force to replace it (it is kept as .before-restore-<time>)")
        kept = kept_name(target)
        _copy(target, kept)  # (through SQLite: with what its journal still holds)
    target.parent.mkdir(parents=True, exist_ok=True)
    _copy(backup_file, target)
    return Copied(target, facts.revision, facts.complaints, facts.fines, facts.open_deadlines, kept)


def kept_name(beside: Path) -> Path:
    """Where a forced restore keeps what it replaces: a new name each time."""
    return beside.with_name(f"{beside.name}.before-restore-{datetime.now():%Y%m%d-%H%M%S-%f}")


# --- SQLite ---------------------------------------------------------------------------------


def sqlite_file(url: str) -> Path:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database \
            or parsed.database == ":memory:":
        raise BackupError(f"backup and restore work on a SQLite file or PostgreSQL, "
                          f"not {parsed.drivername}")
    return Path(parsed.database)


def _facts(path: Path) -> Copied:
    """What a database file holds; refused if it is not one of this bot's."""
    if not path.is_file():
        raise BackupError(f"{path}: no such file")
    try:
        with contextlib.closing(sqlite3.connect(path)) as db:
            revision, complaints, fines, open_deadlines = db.execute(FACTS).fetchone()
    except sqlite3.Error as exc:
        raise BackupError(f"{path} is not a complaint-bot database ({exc})") from None
    if revision is None:
        raise BackupError(f"{path} has no schema revision: not a complaint-bot database")
    return Copied(path, str(revision), complaints, fines, open_deadlines)


def _in_use(path: Path) -> bool:
    if not path.is_file():
        return False
    with contextlib.closing(sqlite3.connect(path)) as db:
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        return any(db.execute(f"SELECT 1 FROM {table} LIMIT 1").fetchone()
                   for table in LIVE_TABLES if table in tables)


def _copy(source: Path, target: Path) -> None:
    """SQLite's online backup: one consistent moment of `source` (the bot may be writing)
    becomes `target`, whatever was there."""
    with contextlib.closing(sqlite3.connect(source)) as db, \
            contextlib.closing(sqlite3.connect(target)) as copy:
        db.backup(copy)


# --- PostgreSQL -----------------------------------------------------------------------------


def postgresql_program(name: str) -> str:
    """pg_dump, pg_restore, …: on the PATH, else Debian's newest /usr/lib/postgresql/N/bin."""
    found = shutil.which(name)
    if found:
        return found
    folders = sorted(Path("/usr/lib/postgresql").glob("*/bin"),
                     key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0)
    for folder in reversed(folders):
        if (folder / name).exists():
            return str(folder / name)
    raise BackupError(f"PostgreSQL's {name} is not installed (Debian: apt install postgresql-client)")


def libpq_url(url: str) -> str:
    """SQLAlchemy's URL as PostgreSQL's own programs and asyncpg take it."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _client(url: str) -> tuple[str, dict[str, str]]:
    """--dbname for pg_dump, pg_restore and psql, and their environment: the password there
    (a command line is visible to every user of the machine)."""
    parsed = make_url(url).set(drivername="postgresql")
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    return f"--dbname={parsed.set(password=None).render_as_string(hide_password=False)}", env


def _run(*command: str, env: dict[str, str]) -> None:
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise BackupError(f"{Path(command[0]).name} failed: {done.stderr.strip()[-500:]}")


async def _connect(url: str) -> Any:
    import asyncpg

    try:
        return await asyncpg.connect(libpq_url(url))
    except (OSError, asyncpg.PostgresError) as exc:
        raise BackupError(f"cannot reach the database: {exc}") from None


async def _pg_facts(connection: Any, where: Path) -> Copied:
    import asyncpg

    try:
        revision, complaints, fines, open_deadlines = await connection.fetchrow(FACTS)
    except asyncpg.PostgresError as exc:
        raise BackupError(f"not a complaint-bot database ({exc})") from None
    if revision is None:
        raise BackupError("no schema revision: not a complaint-bot database")
    return Copied(where, str(revision), complaints, fines, open_deadlines)


async def _pg_dump(url: str, target: Path) -> Copied:
    """pg_dump of one snapshot; the figures are read in the same snapshot."""
    connection = await _connect(url)
    try:
        async with connection.transaction(isolation="repeatable_read", readonly=True):
            snapshot = await connection.fetchval("SELECT pg_export_snapshot()")
            facts = await _pg_facts(connection, target)
            # The snapshot lives as long as this transaction: pg_dump runs meanwhile.
            dbname, env = _client(url)
            await asyncio.to_thread(_run, postgresql_program("pg_dump"), "--format=custom",
                                    f"--snapshot={snapshot}", f"--file={target}", dbname,
                                    env=env)
    finally:
        await connection.close()
    return facts


async def _pg_in_use(connection: Any) -> bool:
    for table in LIVE_TABLES:
        if await connection.fetchval("SELECT to_regclass($1) IS NOT NULL", table) and \
                await connection.fetchval(f"SELECT EXISTS (SELECT 1 FROM {table})"):
            return True
    return False


# A backup of this bot holds at least these tables (pg_restore --list names them).
BACKUP_TABLES = ("alembic_version", "complaints", "fines", "deadline_events")


def _load(url: str, backup_file: Path) -> None:
    """The schema emptied, then the backup loaded: one transaction (psql's), all or nothing."""
    dbname, env = _client(url)
    script = subprocess.Popen([postgresql_program("pg_restore"), "--no-owner", "--no-privileges",
                               "--file=-", str(backup_file)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, env=env)
    loaded = subprocess.run([postgresql_program("psql"), "--no-psqlrc", "--quiet",
                             "--single-transaction", "--set=ON_ERROR_STOP=1",
                             "--command=DROP SCHEMA public CASCADE",
                             "--command=CREATE SCHEMA public", "--file=-", dbname],
                            stdin=script.stdout, capture_output=True, text=True, env=env)
    assert script.stdout is not None and script.stderr is not None
    script.stdout.close()
    failed = script.wait() != 0
    problem = script.stderr.read().decode(errors="replace") if failed else loaded.stderr
    if failed or loaded.returncode != 0:
        raise BackupError(f"the restore failed and changed nothing: {problem.strip()[-500:]}")


async def _pg_restore(url: str, backup_file: Path, *, force: bool) -> Copied:
    if not backup_file.is_file():
        raise BackupError(f"{backup_file}: no such file")
    listed = subprocess.run([postgresql_program("pg_restore"), "--list", str(backup_file)],
                            capture_output=True, text=True)
    missing = [t for t in BACKUP_TABLES if f" TABLE public {t} " not in listed.stdout]
    if listed.returncode != 0 or missing:
        raise BackupError(f"{backup_file} is not a complaint-bot database "
                          f"({listed.stderr.strip()[-200:] or 'no table ' + ', '.join(missing)})")
    connection = await _connect(url)
    try:
        kept = None
        if await _pg_in_use(connection):
            if not force:
                raise BackupError("the database holds complaints or people: stop the bot and "
                                  "give --force to replace it (it is dumped first, beside "
                                  f"{backup_file.name})")
            kept = kept_name(backup_file)
            await _pg_dump(url, kept)
        await asyncio.to_thread(_load, url, backup_file)
        facts = await _pg_facts(connection, backup_file)
    finally:
        await connection.close()
    return Copied(Path(make_url(url).database or ""), facts.revision, facts.complaints,
                  facts.fines, facts.open_deadlines, kept)
