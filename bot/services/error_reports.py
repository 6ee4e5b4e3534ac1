"""Unexpected errors reach the admins in Telegram (issue 12): what failed, where, and which
complaint — at most one report per kind of error in QUIET (10 minutes), across processes.

A kind is the exception's type and where it happened (a command, a button's kind, a deadline
job). The quiet period is claimed in the database (a JobRun row per kind, its time moved
forward by a conditional UPDATE), so several processes report a burst once. The report goes
through the outbox like any message. The bot's token never appears in it.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import to_db
from bot.outbox import queue_message
from bot.services.context import AppContext
from bot.services.people import person
from bot.store.models import JobRun, User

log = logging.getLogger(__name__)

QUIET = timedelta(minutes=10)
MAX_DETAIL = 300  # characters of the error's own words


# Where an error can happen (the template names each: sender.html.j2 failed_where).
PLACES = ("command", "button", "private", "group", "deadline", "reports", "sheet")


def kind_of(error: BaseException, place: str, detail: str) -> str:
    """A short key for 'this exception, there' (JobRun keys are at most 40 characters)."""
    digest = hashlib.sha1(f"{type(error).__qualname__}|{place}|{detail}".encode()).hexdigest()[:16]
    return f"error:{digest}"


class ErrorReports:
    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx

    def _detail(self, error: BaseException) -> str:
        text = f"{type(error).__name__}: {error}"
        token = self.ctx.settings.token
        if token:
            text = text.replace(token, "<token>")
        return text[:MAX_DETAIL]

    async def report(self, error: BaseException, place: str, detail: str = "",
                     number: str | None = None) -> bool:
        """Tell the admins, unless this kind was reported within QUIET; True if told. Never
        raises: a failure here must not hide the error it is about."""
        try:
            return await self._report(error, place, detail, number)
        except Exception:
            log.exception("reporting an error to the admins failed")
            return False

    async def _report(self, error: BaseException, place: str, detail: str,
                      number: str | None) -> bool:
        assert place in PLACES, place
        key, now = kind_of(error, place, detail), self.ctx.now()
        try:
            async with self.ctx.transaction() as session:
                if not await self._claim(session, key, now):
                    return False
                admins = list(await session.scalars(
                    select(User.id).where(User.is_admin.is_(True)).order_by(User.id)))
                for admin_id in admins:
                    admin = await person(session, self.ctx, admin_id)
                    lang = admin.language if admin else self.ctx.settings.general.default_language
                    queue_message(session, now, self.ctx.texts.html(
                        lang, "sender.unexpected_error", what=self._detail(error), place=place,
                        detail=detail,
                        number=number), chat_id=admin_id)
                return True
        except IntegrityError:  # another process claimed this kind just now
            return False

    async def _claim(self, session: AsyncSession, key: str, now: datetime) -> bool:
        """This kind's quiet period, taken: the row's time moved forward if it has passed,
        or the row added (another process adding it first: IntegrityError)."""
        moved = await session.execute(
            update(JobRun).where(JobRun.key == key, JobRun.at <= to_db(now - QUIET))
            .values(at=to_db(now)))
        if moved.rowcount == 1:  # type: ignore[attr-defined]
            return True
        if await session.get(JobRun, key) is not None:
            return False  # reported within QUIET
        session.add(JobRun(key=key, at=to_db(now)))
        await session.flush()
        return True
