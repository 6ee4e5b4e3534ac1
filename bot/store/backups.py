"""`complaint-bot backup FILE` and `complaint-bot restore FILE [--force]` for SQLite.

A backup is taken with SQLite's online backup API, so the bot may keep running: the copy is
one consistent moment of the database (a transaction in flight is in it entirely or not at
all), with every complaint, fine, open deadline and waiting message. A restore copies a
backup over the configured database — refused when that database already holds complaints
or people, unless `force` is given (then the old file is kept next to it, `.before-restore`),
and refused when the file is not a backup of this bot (no schema revision in it). The bot must
be stopped for a restore; a restored database older than the code is migrated at its next
start, as any database is.

PostgreSQL (pg_dump / pg_restore) comes with PostgreSQL support itself (issue 12).
"""

from __future__ import annotations

import contextlib
import sqlite3
from dataclasses import dataclass
from pathlib import Path

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


def sqlite_file(url: str) -> Path:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database \
            or parsed.database == ":memory:":
        raise BackupError(f"backup and restore need a SQLite file here, not {parsed.drivername} "
                          "(PostgreSQL: pg_dump and pg_restore, coming with its support)")
    return Path(parsed.database)


def _facts(path: Path) -> Copied:
    """What a database file holds; refused if it is not one of this bot's."""
    if not path.is_file():
        raise BackupError(f"{path}: no such file")
    try:
        with contextlib.closing(sqlite3.connect(path)) as db:
            revision = db.execute("SELECT version_num FROM alembic_version").fetchone()
            complaints = db.execute("SELECT count(*) FROM complaints").fetchone()[0]
            fines = db.execute("SELECT count(*) FROM fines").fetchone()[0]
            open_deadlines = db.execute(
                "SELECT count(*) FROM deadline_events "
                "WHERE fired_at IS NULL AND cancelled_at IS NULL").fetchone()[0]
    except sqlite3.Error as exc:
        raise BackupError(f"{path} is not a complaint-bot database ({exc})") from None
    if revision is None:
        raise BackupError(f"{path} has no schema revision: not a complaint-bot database")
    return Copied(path, str(revision[0]), complaints, fines, open_deadlines)


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


def backup(url: str, target: Path) -> Copied:
    """The configured database, as it is at this moment, into `target` (a new file)."""
    source = sqlite_file(url)
    if not source.is_file():
        raise BackupError(f"there is no database at {source} yet")
    if target.exists():
        raise BackupError(f"{target} exists already: give a new file name")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    _copy(source, partial)
    partial.replace(target)  # a file named `target` is always a whole backup
    return _facts(target)


def restore(url: str, backup_file: Path, *, force: bool = False) -> Copied:
    """`backup_file` becomes the configured database (the bot stopped)."""
    target = sqlite_file(url)
    facts = _facts(backup_file)
    if _in_use(target):
        if not force:
            raise BackupError(f"{target} holds complaints or people: stop the bot and give "
                              "--force to replace it (it is kept as .before-restore)")
        kept = target.with_name(target.name + ".before-restore")
        kept.unlink(missing_ok=True)
        _copy(target, kept)  # (through SQLite: with what its journal still holds)
    target.parent.mkdir(parents=True, exist_ok=True)
    _copy(backup_file, target)
    return Copied(target, facts.revision, facts.complaints, facts.fines, facts.open_deadlines)
