"""What every service needs: settings, the database, the clock, the texts, the outbox.

Units of work. An update from Telegram (bot.inbox) runs in one transaction: its state
changes, its record as handled and every message it queues commit together or not at all.
Services do not know whether they run inside such a unit: `ctx.transaction()` opens a new
one at the top level, and inside a unit it is a SAVEPOINT of it (so a refusal undoes only
its own part); `ctx.sessions()` inside a unit reads through the unit's session, so it sees
what the unit has written so far.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.config import Settings
from bot.domain.sla import SlaPolicy
from bot.metrics import Metrics
from bot.texts import Texts


class Refused(Exception):
    """A request the user may not make or must make differently.

    `template` names the text to show them (e.g. "errors.not_member"), with `params`.
    """

    def __init__(self, template: str, **params: Any) -> None:
        super().__init__(template)
        self.template = template
        self.params = params


DEADLINES_CHANGED = "deadlines_changed"  # session.info flag: wake the scheduler at commit
QUEUED = "queued"  # session.info: outbox rows queued (bot.outbox.queued), for the sender


def deadlines_changed(session: AsyncSession) -> None:
    """The transaction opened deadlines: the scheduler arms them once it has committed."""
    session.info[DEADLINES_CHANGED] = True


@dataclass
class Unit:
    """One top-level transaction and what waits for its commit."""

    session: AsyncSession
    # Called once the unit has committed (e.g. answering the button press that caused it).
    after_commit: list[Callable[[], Any]] = field(default_factory=list)


_current: ContextVar[Unit | None] = ContextVar("complaint_bot_unit", default=None)


def current_unit() -> Unit | None:
    return _current.get()


@dataclass
class AppContext:
    settings: Settings
    read_sessions: async_sessionmaker[AsyncSession]
    clock: Clock
    texts: Texts
    # Sessions for transactions that write (on SQLite they begin with the write lock).
    write_sessions: async_sessionmaker[AsyncSession] = field(default=None)  # type: ignore[arg-type]
    # The database has one writer at a time (bot.store.db): writers of this process queue
    # here, in order, rather than polling SQLite's busy lock (which sleeps in growing steps)
    # or holding a PostgreSQL connection each while they wait for the advisory lock.
    serialize_writes: bool = True
    # The rule book's deadlines on the working calendar.
    sla: SlaPolicy = field(default=None)  # type: ignore[assignment]
    # Set by the outbox sender: called after a commit with the outbox rows it queued.
    wake_sender: Any = field(default=lambda *_: None)
    # Set by the scheduler: called after a commit that opened deadlines.
    wake_scheduler: Any = field(default=lambda *_: None)
    # Set by the outbox sender: awaited with the session just before a unit commits, to
    # claim the private messages it queued (they are sent the moment it commits).
    claim_at_commit: Any = field(default=None)
    # The last moment a Bot API call succeeded (getUpdates, a message sent): for health.
    bot_api_ok_at: datetime | None = None
    # Prometheus metrics (bot.metrics), one set per running bot.
    metrics: Metrics = field(default_factory=Metrics)
    _write_lock: asyncio.Lock | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.write_sessions is None:
            self.write_sessions = self.read_sessions

    def now(self) -> datetime:
        return self.clock.now()

    def _writing(self) -> contextlib.AbstractAsyncContextManager[Any]:
        if not self.serialize_writes:
            return contextlib.nullcontext()
        if self._write_lock is None:
            self._write_lock = asyncio.Lock()
        return self._write_lock

    @asynccontextmanager
    async def unit(self, *, wake: bool = True) -> AsyncIterator[Unit]:
        """A top-level transaction: commits on success, rolls back on error; then runs what
        waits for the commit and wakes the sender (and the scheduler, if deadlines changed).
        `wake=False` for the sender's own bookkeeping, which queues nothing."""
        if _current.get() is not None:
            raise RuntimeError("a unit of work inside another: use ctx.transaction()")
        async with self._writing(), self.write_sessions() as session, session.begin():
            unit = Unit(session)
            token = _current.set(unit)
            try:
                yield unit
                if wake and self.claim_at_commit is not None and session.info.get(QUEUED):
                    await self.claim_at_commit(session)
            finally:
                _current.reset(token)
        # Committed. Tasks started from here on do not inherit the finished unit.
        for callback in unit.after_commit:
            callback()
        if wake:
            self.wake_sender(session.info.get(QUEUED, []))
            if session.info.get(DEADLINES_CHANGED):
                self.wake_scheduler()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """One unit of work, or (inside one) a savepoint of it: a `Refused` raised here
        undoes this part only, and the caller decides what the user hears."""
        unit = _current.get()
        if unit is not None:
            async with unit.session.begin_nested():
                yield unit.session
            return
        async with self.unit() as unit:
            yield unit.session

    @asynccontextmanager
    async def joined(self) -> AsyncIterator[AsyncSession]:
        """The unit's session as it is, without a savepoint (else a transaction of its
        own): for work that is never refused half-way, such as queuing a reply or recording
        who wrote. Savepoints cost two statements each."""
        unit = _current.get()
        if unit is not None:
            yield unit.session
            return
        async with self.unit() as unit:
            yield unit.session

    @asynccontextmanager
    async def sessions(self) -> AsyncIterator[AsyncSession]:
        """A session for reading: the unit's own inside a unit of work, else a new one."""
        unit = _current.get()
        if unit is not None:
            yield unit.session
            return
        async with self.read_sessions() as session:
            yield session
