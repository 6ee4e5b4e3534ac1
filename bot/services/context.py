"""What every service needs: settings, the database, the clock, the texts, the outbox."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.config import Settings
from bot.domain.sla import SlaPolicy
from bot.texts import Texts


class Refused(Exception):
    """A request the user may not make or must make differently.

    `template` names the text to show them (e.g. "errors.not_member"), with `params`.
    """

    def __init__(self, template: str, **params: Any) -> None:
        super().__init__(template)
        self.template = template
        self.params = params


@dataclass
class AppContext:
    settings: Settings
    sessions: async_sessionmaker[AsyncSession]
    clock: Clock
    texts: Texts
    # The rule book's deadlines on the working calendar.
    sla: SlaPolicy = field(default=None)  # type: ignore[assignment]
    # Set by the outbox sender: called after a commit that queued messages.
    wake_sender: Any = field(default=lambda: None)
    # Set by the scheduler: called after a commit that opened deadlines.
    wake_scheduler: Any = field(default=lambda: None)
    deadlines_changed: bool = False

    def now(self) -> datetime:
        return self.clock.now()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """One unit of work: commits on success, rolls back on error, then wakes the sender."""
        async with self.sessions() as session, session.begin():
            yield session
        self.wake_sender()
        if self.deadlines_changed:
            self.deadlines_changed = False
            self.wake_scheduler()
