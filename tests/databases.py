"""Which database the tests run on: SQLite files (the default) or a real PostgreSQL server.

`COMPLAINT_BOT_TEST_DATABASE=postgresql` (what `make test-pg` sets) runs the suite on
PostgreSQL: a throwaway cluster made with PostgreSQL's own `initdb` and `pg_ctl` in a
temporary folder, on a free port of 127.0.0.1, started at the first test that needs it and
removed at the end; or the server at `COMPLAINT_BOT_TEST_PG_URL` (a superuser's
`postgresql://user@host:port/postgres`) if one is given. Each test's database is named after
the SQLite file it would have used (`url_for(tmp_path / "complaints.db")`), so a test that
restarts the bot on "the same file" finds the same database; it is dropped after the test.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

from bot.store.backups import BackupError, postgresql_program

POSTGRESQL = os.environ.get("COMPLAINT_BOT_TEST_DATABASE", "sqlite") == "postgresql"


def pg_bin(name: str) -> str:
    try:
        return postgresql_program(name)
    except BackupError:
        raise RuntimeError(f"PostgreSQL's {name} is not installed: run .ci/install-postgresql "
                           "(Debian's postgresql package) or set COMPLAINT_BOT_TEST_PG_URL") from None


def _free_port() -> int:
    with contextlib.closing(socket.socket()) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Cluster:
    """A PostgreSQL cluster of our own in a temporary folder. initdb refuses to run as
    root: as root the programs run as the `postgres` user (Debian's package makes it)."""

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="complaint-bot-pg-"))
        self.data = self.folder / "data"
        self.port = _free_port()
        self.as_root = os.geteuid() == 0

    def _run(self, *args: str) -> None:
        command = ["runuser", "-u", "postgres", "--", *args] if self.as_root else list(args)
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def start(self) -> str:
        if self.as_root:
            shutil.chown(self.folder, "postgres")
        self._run(pg_bin("initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust",
                  "-E", "UTF8", "--no-locale", "--no-sync")
        # Durability of the throwaway server itself is not under test: no fsync.
        options = (f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 "
                   "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
                   "-c max_connections=400")
        self._run(pg_bin("pg_ctl"), "start", "-w", "-t", "60", "-D", str(self.data),
                  "-l", str(self.folder / "server.log"), "-o", options)
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def stop(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self._run(pg_bin("pg_ctl"), "stop", "-m", "immediate", "-D", str(self.data))
        shutil.rmtree(self.folder, ignore_errors=True)


class Server:
    """The PostgreSQL server of this test run and the databases made on it."""

    def __init__(self) -> None:
        self.cluster: Cluster | None = None
        self.admin_url = os.environ.get("COMPLAINT_BOT_TEST_PG_URL", "")
        self.made: set[str] = set()

    def _admin(self) -> str:
        if not self.admin_url:
            self.cluster = Cluster()
            self.admin_url = self.cluster.start()
        return self.admin_url

    def _execute(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(self._admin(), autocommit=True) as connection:
            connection.execute(sql)

    def database(self, name: str) -> str:
        """The SQLAlchemy URL (asyncpg) of database `name`, made empty if it is new."""
        if name not in self.made:
            self._execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            self._execute(f'CREATE DATABASE "{name}"')
            self.made.add(name)
        base = self._admin().rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
        return f"{base}/{name}"

    def drop_all(self) -> None:
        for name in sorted(self.made):
            with contextlib.suppress(Exception):
                self._execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.made.clear()

    def stop(self) -> None:
        self.drop_all()
        if self.cluster is not None:
            self.cluster.stop()
            self.cluster = None
            self.admin_url = ""


SERVER = Server()


def url_for(db_file: Path) -> str:
    """The database URL a test uses where it would use the SQLite file `db_file`."""
    if not POSTGRESQL:
        return f"sqlite+aiosqlite:///{db_file}"
    digest = hashlib.sha1(str(db_file.resolve()).encode()).hexdigest()[:20]
    return SERVER.database(f"t_{digest}")


def sync_url(url: str) -> str:
    """The same database for SQLAlchemy's synchronous engine (a test reading it afterwards)."""
    return url.replace("+aiosqlite", "").replace("+asyncpg", "+psycopg")


@contextlib.contextmanager
def fresh_databases() -> Iterator[None]:
    """Drop the test's databases after it (each test starts on empty ones)."""
    try:
        yield
    finally:
        if POSTGRESQL:
            SERVER.drop_all()
