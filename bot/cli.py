"""complaint-bot run | migrate | check-config | status | purge | backup | restore"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from bot.config import LANGUAGES, ConfigError, Settings, load_settings
from bot.logs import configure as configure_logs
from bot.store.db import migrate_sync
from bot.texts import missing_texts

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from bot.services.context import AppContext

DEFAULT_CONFIG = os.environ.get("COMPLAINT_BOT_CONFIG", "config.toml")


def main(argv: list[str] | None = None) -> int:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", default=DEFAULT_CONFIG,
                        help="path to config.toml (default: %(default)s)")
    parser = argparse.ArgumentParser(prog="complaint-bot", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run", parents=[common], help="migrate the database and start polling")
    sub.add_parser("migrate", parents=[common], help="bring the database to the newest schema")
    sub.add_parser("check-config", parents=[common], help="validate the config file and exit")
    sub.add_parser("status", parents=[common],
                   help="whether the running bot is healthy (exit 1 if not), read from its database")
    purge = sub.add_parser("purge", parents=[common],
                           help="remove closed complaints closed before a day (ch. 9 keeps "
                                "records [records] keep_years, at least 2)")
    purge.add_argument("--before", required=True, type=date.fromisoformat, metavar="YYYY-MM-DD",
                       help="remove complaints closed before this day")
    purge.add_argument("--dry-run", action="store_true",
                       help="list what would be removed, remove nothing")
    saving = sub.add_parser("backup", parents=[common],
                            help="copy the database into FILE (SQLite; the bot may be running)")
    saving.add_argument("file", type=Path, metavar="FILE")
    restoring = sub.add_parser("restore", parents=[common],
                               help="make FILE (a backup) the database; stop the bot first")
    restoring.add_argument("file", type=Path, metavar="FILE")
    restoring.add_argument("--force", action="store_true",
                           help="replace a database that holds complaints or people")
    args = parser.parse_args(argv)
    try:
        settings = load_settings(args.config, require_token=args.command == "run")
    except ConfigError as exc:
        print(f"complaint-bot: {exc}", file=sys.stderr)
        return 2
    configure_logs(settings.token)  # the token redacted from every line
    if args.command == "check-config":
        missing = missing_texts()
        if missing:
            print(f"complaint-bot: the bot's texts are not installed ({missing}): "
                  "reinstall complaint-bot", file=sys.stderr)
            return 2
        print(f"{args.config}: OK ({len(settings.departments)} departments, "
              f"{len(settings.members)} members, {len(settings.admins)} admins; "
              f"texts in {', '.join(LANGUAGES)})")
        for gap in settings.chain_gaps():
            print(f"note: {gap}")
        return 0
    if args.command == "migrate":
        migrate_sync(settings.database.url)
        print("database is up to date")
        return 0
    if args.command == "status":
        return asyncio.run(print_status(settings))
    if args.command in ("backup", "restore"):
        return copy_database(settings, args.command, args.file, force=getattr(args, "force", False))
    if args.command == "purge":
        migrate_sync(settings.database.url)
        return asyncio.run(purge_records(settings, args.before, dry_run=args.dry_run))
    from bot.app import Runtime

    asyncio.run(Runtime(settings).serve_forever())
    return 0


@contextlib.asynccontextmanager
async def offline(settings: Settings) -> AsyncIterator[AppContext]:
    """The bot's services over its database, without Telegram (for the admin's commands)."""
    from bot.app import build_context

    ctx, engine, write_engine = build_context(settings)
    try:
        yield ctx
    finally:
        await engine.dispose()
        if write_engine is not engine:
            await write_engine.dispose()


async def print_status(settings: Settings) -> int:
    """`complaint-bot status`: the health facts, a line each; exit 1 when not healthy."""
    from bot.services.health import Health

    async with offline(settings) as ctx:
        facts = await Health(ctx).facts()
    for key, value in facts.as_json().items():
        print(f"{key}: {'—' if value is None else value}")
    return 0 if facts.healthy else 1


def copy_database(settings: Settings, command: str, file: Path, *, force: bool) -> int:
    from bot.store.backups import BackupError, backup, restore

    try:
        copied = backup(settings.database.url, file) if command == "backup" else \
            restore(settings.database.url, file, force=force)
    except BackupError as exc:
        print(f"complaint-bot: {exc}", file=sys.stderr)
        return 2
    print(f"{copied.path}: {copied.complaints} complaints, {copied.fines} fines, "
          f"{copied.open_deadlines} open deadlines (schema {copied.revision})")
    if copied.kept is not None:
        print(f"the database that was there is kept in {copied.kept}")
    return 0


async def purge_records(settings: Settings, before: date, *, dry_run: bool) -> int:
    """`complaint-bot purge`: what went (or would go), one complaint number a line."""
    from bot.services.records import PurgeTooRecent, Records

    try:
        async with offline(settings) as ctx:
            report = await Records(ctx).purge(before, dry_run=dry_run)
    except PurgeTooRecent as exc:
        print(f"complaint-bot: {exc}", file=sys.stderr)
        return 2
    for number in report.numbers:
        print(number)
    verb = "would be removed" if dry_run else "removed"
    print(f"{len(report.numbers)} complaint(s) closed before {before} {verb}, with "
          f"{report.fines} fine(s)" + ("" if dry_run else "; listed in purged_complaints"),
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
