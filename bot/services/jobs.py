"""Work done once per key, across restarts and processes: a JobRun row is added in the
transaction that does the work, so the two commit together or not at all (HR's daily
summary and monthly XLSX, the day's sign-off sheet)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import to_db
from bot.services.context import AppContext
from bot.store.models import JobRun

T = TypeVar("T")


@dataclass(frozen=True)
class Ran(Generic[T]):
    value: T


class _AlreadyDone(Exception):
    pass


async def run_once(ctx: AppContext, key: str,
                   work: Callable[[AsyncSession], Awaitable[T]]) -> Ran[T] | None:
    """Do `work` unless `key` was done already (earlier, or by another process just now):
    then None. An error inside `work` is not taken for that: it propagates, and nothing of
    it (the key included) is committed, so the next attempt tries again."""
    async with ctx.sessions() as session:
        if await session.get(JobRun, key) is not None:
            return None
    try:
        async with ctx.transaction() as session:
            session.add(JobRun(key=key, at=to_db(ctx.now())))
            try:
                await session.flush()
            except IntegrityError:
                raise _AlreadyDone from None
            return Ran(await work(session))
    except _AlreadyDone:
        return None
