"""The queue: claims, leases, lanes, retries — and the `Sender` that works through it.

Services write `OutboxMessage` rows in their own transaction (`bot.outbox`); the sender
delivers them (see `bot.sender` for the whole picture). This module keeps the promise
"nothing lost, nothing twice": rows are claimed before they are sent (a conditional UPDATE,
pending → sending, with a lease), go out in id order per lane, are retried with back-off
through network trouble, wait out 429s, are held for recipients Telegram will not let us
reach yet, and are failed, logged and reported when Telegram refuses them for good. What
goes out together is `bot.sender.batching`'s choice; what goes into a complaint's thread,
`bot.sender.threads`'s job.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import enum
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar, cast

from sqlalchemy import CursorResult, Result, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Bot, InlineKeyboardMarkup, InputFile, InputMediaPhoto, Message
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
)

from bot.clock import to_db
from bot.outbox import (
    document_of,
    keyboard_edit_of,
    message_of,
    photos_of,
    queue_message,
    record_of,
    store,
)
from bot.pacing import PrivatePace
from bot.processes import is_gone, this_process
from bot.sender import batching
from bot.sender.calls import (
    HTML,
    Blocked,
    Held,
    markup,
    not_modified,
    quoting,
    retry_seconds,
    says,
)
from bot.sender.items import PRIVATE_KINDS, Item, Lane, Side, item_of, wall_now
from bot.sender.threads import ThreadDelivery
from bot.services.context import QUEUED, AppContext
from bot.services.people import language_of, person
from bot.store.models import Complaint, OutboxMessage, User
from bot.texts import visible_length

log = logging.getLogger(__name__)

IDLE_POLL_SECONDS = 1.0  # a safety net: a commit normally wakes the sender at once
LEASE = timedelta(seconds=60)  # renewed every LEASE / 3 while a delivery is under way
MIN_BACKOFF_SECONDS = 0.5
MAX_BACKOFF_SECONDS = 10.0  # Telegram back after an outage: everything is sent within this
PASS_SECONDS = 2.0  # a pass re-reads the queue at least this often, so new rows get in line
MAX_UNEXPECTED_ATTEMPTS = 10  # a row that keeps raising our own errors fails after this
REPORT_QUIET_SECONDS = 600.0  # the same refusal for the same chat is reported once in this
PRIVATE_SENDS = 16  # private chats served at the same time, each at its own pace
RELEASE_EVERY_SECONDS = 5.0  # how often rows of a stopped process are looked for

T = TypeVar("T")


class Attempt(enum.Enum):
    """What came of one attempt to deliver a row."""

    DONE = "done"  # sent
    SETTLED = "settled"  # not sent, but settled: held, failed, or back to pending (its short
    #                      form, or to go alone); what was to follow it waits behind it
    TAKEN = "taken"  # another sender has claimed it
    WAIT = "wait"  # 429: the chat waits retry_after
    BACKOFF = "backoff"  # network trouble: this pass ends after the back-off


def rowcount(result: Result[Any]) -> int:
    return int(cast(CursorResult[Any], result).rowcount)


Deliver = Callable[[list[OutboxMessage]], Awaitable[bool]]  # True: it marked the rows sent


def to_thread(row: OutboxMessage) -> bool:
    """A message for a complaint's thread (rather than for a chat)."""
    return row.kind == "message" and message_of(row).to_thread


class Sender:
    def __init__(self, ctx: AppContext, bot: Bot) -> None:
        self.ctx = ctx
        self.bot = bot
        self.threads = ThreadDelivery(ctx, bot, self._mark_sent_with)
        self._wakes = {side: asyncio.Event() for side in Side}
        self._stopped = asyncio.Event()
        self._backoff = dict.fromkeys(Side, 0.0)
        self._cooling: dict[int, float] = {}  # chat → monotonic time its 429 wait ends
        self._reported: dict[tuple[int, str], float] = {}
        self.owner = this_process()  # written on the rows it claims
        telegram = ctx.settings.telegram
        self.pace = PrivatePace(telegram.private_messages_per_second, telegram.private_burst)
        self._workers: dict[int, asyncio.Task[None]] = {}  # private chat → the task serving it
        self._sending = asyncio.Semaphore(PRIVATE_SENDS)
        self._lane_backoff: dict[int, float] = {}  # private chat → its current back-off
        self._sent_as: dict[int, int] = {}  # row → the message it became, until settled
        self._look_again: set[int] = set()  # chats whose task must read their queue again
        self._background: set[asyncio.Task[None]] = set()
        # Chats the committing transaction found reachable (claim_at_commit): not read again.
        self._reachable_until: dict[int, float] = {}
        self._released_at = 0.0  # monotonic time of the last release_expired
        # Rows sent, waiting to be marked so: marked together in one transaction (group commit).
        self._to_mark: list[tuple[list[int], asyncio.Future[None]]] = []
        self._marking: asyncio.Task[None] | None = None

    def wake(self, rows: Sequence[OutboxMessage] | None = None) -> None:
        """Something was queued: `rows`, just committed (then only their chats are looked
        at), or anything (a full look at the queue)."""
        if rows is None:
            for event in self._wakes.values():
                event.set()
            return
        claimed: dict[int, list[OutboxMessage]] = {}
        for row in rows:
            chat = row.chat_id or 0
            if row.status == "sending" and row.owner == self.owner:
                claimed.setdefault(chat, []).append(row)
            elif chat > 0 and not to_thread(row):
                self._serve(chat)
            else:
                self._wakes[Side.GROUP].set()
        for chat, held in claimed.items():
            self._serve(chat, held)

    def _serve(self, chat: int, claimed: list[OutboxMessage] | None = None) -> None:
        """Make sure a task serves the private chat (or looks again if one is ending);
        `claimed`: rows the committing transaction claimed for it, sent first."""
        if self.stopping:
            return
        if chat in self._workers:
            if claimed:  # not expected (claim_at_commit skips a chat being served): queue them
                task = asyncio.create_task(self._settle([row.id for row in claimed], "pending"))
                self._background.add(task)
                task.add_done_callback(self._background.discard)
            self._look_again.add(chat)
        else:
            self._workers[chat] = asyncio.create_task(self._serve_chat(chat, claimed or []),
                                                      name=f"outbox-chat-{chat}")

    async def claim_at_commit(self, session: AsyncSession) -> None:
        """Called by a unit of work just before it commits (AppContext.claim_at_commit):
        the private messages it queued are claimed for this sender in the same transaction
        when nothing older waits in their chat, so that they go the moment it commits,
        without the sender reading the queue or claiming them again (the usual reply)."""
        rows = [row for row in session.info.get(QUEUED, []) if row in session]
        chats: dict[int, list[OutboxMessage]] = {}
        for row in rows:
            chat = row.chat_id or 0
            if (chat > 0 and not to_thread(row) and row.kind in PRIVATE_KINDS
                    and row.status in (None, "pending") and row.lease_until is None):
                chats.setdefault(chat, []).append(row)
        if not chats or self.stopping:
            return
        until = wall_now() + LEASE
        with session.no_autoflush:  # rows not inserted yet are inserted already claimed
            for chat, queued in chats.items():
                if chat in self._workers or self._cools(chat):
                    continue
                older = await session.scalar(
                    select(OutboxMessage.id)
                    .where(OutboxMessage.chat_id == chat,
                           OutboxMessage.status.in_(("pending", "sending", "held")),
                           OutboxMessage.id.not_in([row.id for row in queued if row.id]))
                    .limit(1))
                user = await session.get(User, chat)
                if older is not None or (user is not None and user.blocked_at is not None):
                    continue
                for row in queued:
                    row.status, row.owner, row.lease_until = "sending", self.owner, until
                self._reachable_until[chat] = time.monotonic() + 5.0

    def stop(self) -> None:
        self._stopped.set()
        self.wake()

    @property
    def stopping(self) -> bool:
        return self._stopped.is_set()

    async def run(self) -> None:
        try:
            self._released_at = time.monotonic()
            await self.release_expired()
        except Exception:
            log.exception("outbox: could not release the rows of a stopped sender")
        await asyncio.gather(*(self._loop(side) for side in Side))
        await self._finish_workers()

    async def _loop(self, side: Side) -> None:
        wake = self._wakes[side]
        while not self.stopping:
            wake.clear()
            try:
                if side is Side.PRIVATE:
                    await self._dispatch_private()
                else:
                    await self._drain(side)
            except Exception:  # never let the sender die; the rows stay in the database
                log.exception("outbox sender (%s) failed; retrying", side.value)
                await self._pause(1.0)
            if self.stopping:
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), self._idle_timeout())

    async def _dispatch_private(self) -> None:
        """A look at the whole queue (on a full wake and every IDLE_POLL_SECONDS): every
        private chat with something due gets a task to serve it. Rows this process queues
        reach their chat's task directly (wake(rows))."""
        await self._release_now_and_then()
        now = wall_now()
        heads: dict[int, Item] = {}
        for item in await self._snapshot(Side.PRIVATE):
            heads.setdefault(item.target, item)
        for chat, head in heads.items():
            if head.due(now) and not self._cools(chat):
                self._serve(chat)

    async def _release_now_and_then(self) -> None:
        if time.monotonic() - self._released_at >= RELEASE_EVERY_SECONDS:
            self._released_at = time.monotonic()
            await self.release_expired()

    async def _serve_chat(self, chat: int, claimed: list[OutboxMessage]) -> None:
        """Send one private chat's rows in order, a message per turn of its pace; whatever
        waited for the turn is merged into that message where it can be. Rows `claimed`
        at commit go first, as they are."""
        try:
            while claimed and not self.stopping:
                # Batched as if due: they are ours to send.
                items = [item_of(row, None, status="pending") for row in claimed]
                if items[0].new_message and not await self._unless_stopping(self.pace.turn(chat)):
                    return  # they stay 'sending' under our name: the next start sends them
                batch, deliver = self._private_batch(items, wall_now())
                rows, claimed = claimed[:len(batch)], claimed[len(batch):]
                async with self._sending:
                    outcome, _ = await self._deliver_claimed(rows, deliver, target=chat,
                                                             side=Side.PRIVATE)
                if outcome is not Attempt.DONE:
                    if claimed:  # the rest waits with its chat's queue, behind that row
                        await self._settle([row.id for row in claimed], "pending")
                        claimed = []
                    if outcome is not Attempt.SETTLED:
                        return
            while not self.stopping:
                self._look_again.discard(chat)
                items = await self._snapshot(Side.PRIVATE, chat)
                if not items or not items[0].due(wall_now()) or self._cools(chat):
                    if chat in self._look_again:
                        continue  # a row came while we looked
                    return
                if items[0].new_message:
                    waited = not self.pace.ready(chat)
                    if not await self._unless_stopping(self.pace.turn(chat)):
                        return
                    if waited:  # what came meanwhile goes in this turn's message
                        items = await self._snapshot(Side.PRIVATE, chat)
                        if not items or not items[0].due(wall_now()):
                            continue
                batch, deliver = self._private_batch(items, wall_now())
                async with self._sending:
                    outcome, _ = await self._job(batch, deliver, target=chat, side=Side.PRIVATE,
                                                 prefix=True)
                if outcome not in (Attempt.DONE, Attempt.SETTLED):
                    return
        except Exception:  # the rows stay in the database; the next look tries again
            log.exception("outbox: serving private chat %s failed", chat)
        finally:
            self._workers.pop(chat, None)

    async def _unless_stopping(self, waiting: Awaitable[Any]) -> bool:
        """Wait for `waiting`; False (and it is given up) if the sender stops first."""
        task = asyncio.ensure_future(waiting)
        stopping = asyncio.ensure_future(self._stopped.wait())
        done, _ = await asyncio.wait({task, stopping}, return_when=asyncio.FIRST_COMPLETED)
        for pending in {task, stopping} - done:
            pending.cancel()
        return task in done

    async def _finish_workers(self, timeout: float = 10.0) -> None:
        """On stop: the chats' tasks end after the message each is sending."""
        workers = list(self._workers.values())
        if workers:
            _done, late = await asyncio.wait(workers, timeout=timeout)
            for worker in late:
                worker.cancel()

    def _private_batch(self, items: Sequence[Item], now: datetime) -> tuple[list[Item], Deliver]:
        """What goes out in the chat's next message: several notices with buttons as one
        digest, else the head with the plain messages queued along with it."""
        digest = batching.private_digest(items, now)
        if digest:
            return digest, self._send_private_digest
        return batching.merge_run(items, items[0], set(), now), self._deliver

    async def _drain(self, side: Side) -> None:
        await self._release_now_and_then()
        while not self.stopping and await self._pass(side):
            pass

    async def _pause(self, seconds: float) -> None:
        """Sleep, but wake at once when the sender stops."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopped.wait(), seconds)

    def _idle_timeout(self) -> float:
        now = time.monotonic()
        self._cooling = {chat: until for chat, until in self._cooling.items() if until > now}
        soonest = min(self._cooling.values(), default=None)
        if soonest is None:
            return IDLE_POLL_SECONDS
        return max(0.05, min(IDLE_POLL_SECONDS, soonest - now))

    def _cools(self, chat: int) -> bool:
        return self._cooling.get(chat, 0.0) > time.monotonic()

    @contextlib.asynccontextmanager
    async def _tx(self) -> AsyncIterator[AsyncSession]:
        """A transaction of the sender's own bookkeeping (queues nothing, wakes nobody)."""
        async with self.ctx.unit(wake=False) as unit:
            yield unit.session

    async def release_expired(self) -> int:
        """Rows another process left 'sending' go back to pending: at once when that process
        is known to be gone (bot.processes), else when their lease ends."""
        async with self.ctx.sessions() as session:
            owners = set(await session.scalars(
                select(OutboxMessage.owner).distinct()
                .where(OutboxMessage.status == "sending", OutboxMessage.owner.is_not(None))))
        gone = [owner for owner in owners if owner and is_gone(owner, self.owner)]
        async with self._tx() as session:
            result = await session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.status == "sending",
                       or_(OutboxMessage.owner.is_(None), OutboxMessage.owner != self.owner),
                       or_(OutboxMessage.lease_until.is_(None),
                           OutboxMessage.lease_until < wall_now(),
                           OutboxMessage.owner.in_(gone)))
                .values(status="pending", lease_until=None, owner=None)
                .execution_options(synchronize_session=False))
        released = rowcount(result)
        if released:
            log.warning("outbox: %d row(s) left 'sending' by a stopped sender are pending again "
                        "(one may reach Telegram twice)", released)
        return released

    async def _snapshot(self, side: Side, chat_id: int | None = None) -> list[Item]:
        """What is waiting (or being sent) on one side, in id order; only one private chat's
        rows with `chat_id`."""
        query = select(OutboxMessage).where(OutboxMessage.status.in_(("pending", "sending")))
        if chat_id is not None:
            query = query.where(OutboxMessage.chat_id == chat_id)
        async with self.ctx.sessions() as session:
            rows = list(await session.scalars(query.order_by(OutboxMessage.id)))
            ids = {row.complaint_id for row in rows if row.complaint_id is not None}
            groups: dict[int, int | None] = {}
            if ids:
                found = await session.execute(
                    select(Complaint.id, Complaint.chat_id).where(Complaint.id.in_(ids)))
                groups = {cid: chat for cid, chat in found.all()}
        items = [item_of(row, groups.get(row.complaint_id) if row.complaint_id is not None else None)
                 for row in rows]
        return [item for item in items if item.side is side]

    async def _pass(self, side: Side) -> bool:
        """Work through what is due, in id order, one lane after another. True if it did
        something (then another pass follows)."""
        # Notices first: a group's 20 messages a minute go to what people must read; card
        # redraws (edits of the latest state) take the slots left over.
        items = sorted(await self._snapshot(side), key=lambda i: (i.redraw, i.id))
        latest = {i.lane: i.id for i in items if i.redraw}
        started, now = time.monotonic(), wall_now()
        blocked: set[Lane] = set()  # lanes that must wait: their first row is not ours now
        done: set[int] = set()
        progressed = False
        for item in items:
            if self.stopping or time.monotonic() - started > PASS_SECONDS:
                break
            if item.id in done or item.lane in blocked:
                continue
            if not item.due(now) or self._cools(item.target):
                blocked.add(item.lane)
                continue
            if item.redraw and latest[item.lane] != item.id:
                # A later redraw of the same complaint is queued: this one is moot.
                if await self._claim([item.id], prefix=False):
                    await self._settle([item.id], "sent", "superseded by a later redraw")
                done.add(item.id)
                progressed = True
                continue
            batch = batching.group_digest(items, item, blocked, done, now)
            if batch:
                assert item.group is not None
                outcome, settled = await self._send_digest(item.group, batch)
            else:
                batch = batching.merge_run(items, item, done, now)
                outcome, settled = await self._job(batch, self._deliver, target=item.target,
                                                   side=side, prefix=True)
            done.update(i.id for i in batch)
            blocked.update(i.lane for i in batch
                           if i.id not in settled or outcome is Attempt.SETTLED)
            progressed = progressed or bool(settled)
            if outcome is Attempt.BACKOFF:
                return True  # after the back-off: read the queue again
        return progressed

    async def _claim(self, ids: Sequence[int], *, prefix: bool) -> list[int]:
        """Claim rows still pending and due (conditional UPDATE: only one sender wins).
        prefix: stop at the first row that is not ours (keeps a chat's order)."""
        now = wall_now()
        claimed: list[int] = []
        async with self._tx() as session:
            for row_id in ids:
                result = await session.execute(
                    update(OutboxMessage)
                    .where(OutboxMessage.id == row_id, OutboxMessage.status == "pending",
                           or_(OutboxMessage.lease_until.is_(None),
                               OutboxMessage.lease_until <= now))
                    .values(status="sending", lease_until=now + LEASE, owner=self.owner)
                    .execution_options(synchronize_session=False))
                if rowcount(result) == 1:
                    claimed.append(row_id)
                elif prefix:
                    break
        return claimed

    @contextlib.asynccontextmanager
    async def _leased(self, ids: Sequence[int]) -> AsyncIterator[None]:
        """Keep the lease while a delivery takes long (e.g. AIORateLimiter waiting)."""
        task = asyncio.create_task(self._renew(ids))
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _renew(self, ids: Sequence[int]) -> None:
        while True:
            await asyncio.sleep(LEASE.total_seconds() / 3)
            try:
                async with self._tx() as session:
                    await session.execute(
                        update(OutboxMessage)
                        .where(OutboxMessage.id.in_(ids), OutboxMessage.status == "sending")
                        .values(lease_until=wall_now() + LEASE)
                        .execution_options(synchronize_session=False))
            except Exception:
                log.exception("outbox: could not renew the lease of rows %s", list(ids))

    async def _mark(self, session: AsyncSession, ids: Sequence[int], status: str,
                    error: str | None = None, not_before: datetime | None = None) -> int:
        """Settle rows this sender holds (status 'sending'); returns how many it still held."""
        values: dict[str, Any] = {"status": status, "lease_until": not_before, "owner": None,
                                  "last_error": error, "attempts": OutboxMessage.attempts + 1}
        if status == "sent":
            values["sent_at"] = to_db(self.ctx.now())
        result = await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(ids), OutboxMessage.status == "sending")
            .values(**values)
            .execution_options(synchronize_session=False))
        count = rowcount(result)
        for row_id in ids:
            message_id = self._sent_as.pop(row_id, None)
            if message_id is not None and status == "sent":
                await session.execute(update(OutboxMessage).where(OutboxMessage.id == row_id)
                                      .values(sent_message_id=message_id)
                                      .execution_options(synchronize_session=False))
        if count != len(ids):
            log.warning("outbox rows %s: the lease ran out before they were marked %s; another "
                        "sender may send them again", list(ids), status)
        return count

    async def _mark_sent_with(self, session: AsyncSession, ids: Sequence[int]) -> int:
        """Mark rows sent in the caller's transaction (a card posted and recorded at once)."""
        return await self._mark(session, ids, "sent")

    async def _settle(self, ids: Sequence[int], status: str, error: str | None = None,
                      not_before: datetime | None = None) -> None:
        async with self._tx() as session:
            await self._mark(session, ids, status, error, not_before)

    async def _settle_sent(self, ids: Sequence[int]) -> None:
        """Mark rows sent. Under load many chats' messages go out at once: the marks that
        came while one transaction was committing share the next (one write, not one each).
        Each caller still waits for its own mark, so a chat's next message never goes out
        before the last one is known to be sent."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._to_mark.append((list(ids), done))
        if self._marking is None or self._marking.done():
            self._marking = asyncio.create_task(self._mark_sent_together())
        await done

    async def _mark_sent_together(self) -> None:
        while self._to_mark:
            batch, self._to_mark = self._to_mark, []
            try:
                async with self._tx() as session:
                    await self._mark(session, [i for ids, _ in batch for i in ids], "sent")
            except Exception as exc:  # each waiting delivery sees the failure as its own
                for _, done in batch:
                    if not done.done():
                        done.set_exception(exc)
            else:
                for _, done in batch:
                    if not done.done():
                        done.set_result(None)

    async def _job(self, items: Sequence[Item], deliver: Deliver, *, target: int, side: Side,
                   prefix: bool) -> tuple[Attempt, set[int]]:
        """Claim the rows, deliver them as one, settle them. Returns the outcome and the ids
        settled (sent, held, failed, or pending again to go alone)."""
        ids = await self._claim([item.id for item in items], prefix=prefix)
        if not ids:
            return Attempt.TAKEN, set()
        async with self.ctx.sessions() as session:
            rows = list(await session.scalars(
                select(OutboxMessage).where(OutboxMessage.id.in_(ids)).order_by(OutboxMessage.id)))
        return await self._deliver_claimed(rows, deliver, target=target, side=side)

    async def _deliver_claimed(self, rows: list[OutboxMessage], deliver: Deliver, *, target: int,
                               side: Side) -> tuple[Attempt, set[int]]:
        """Deliver rows this sender holds ('sending' under its name) as one, and settle them."""
        ids = [row.id for row in rows]
        try:
            async with self._leased(ids):
                marked = await deliver(rows)
        except RetryAfter as exc:
            self.ctx.metrics.flood_waits.inc()
            delay = retry_seconds(exc)
            self._cooling[target] = time.monotonic() + delay
            await self._settle(ids, "pending", f"retry after {delay}s",
                               wall_now() + timedelta(seconds=delay))
            log.warning("outbox rows %s: Telegram asks to wait %ss (chat %s)", ids, delay, target)
            return Attempt.WAIT, set()
        except Blocked as exc:
            await self._recipient_blocked(rows, str(exc))
        except Forbidden as exc:
            await self._forbidden(rows, exc)
        except Held as exc:
            await self._settle(ids, "held", str(exc))
        except ChatMigrated as exc:  # the group became a supergroup: an admin must /bind it
            await self._fail(rows, str(exc))
        except BadRequest as exc:
            if not_modified(exc):
                await self._settle(ids, "sent")
            elif len(rows) > 1:  # one of them is at fault: let each go alone
                await self._go_alone(ids, str(exc))
            elif says(exc, "chat not found") and self._private(rows[0]):
                # Telegram's answer for a user who never wrote to the bot at all.
                await self._hold_for_recipient(rows, str(exc))
            elif rows[0].kind == "message" and not message_of(rows[0]).fell_back:
                await self._fall_back(rows[0], str(exc))
            else:
                await self._fail(rows, str(exc))
        except (NetworkError, TelegramError) as exc:  # network trouble, timeouts, 5xx
            await self._retry_later(side, target, ids, (str(exc) or type(exc).__name__)[:200])
            return Attempt.BACKOFF, set()
        except Exception as exc:
            log.exception("outbox rows %s: unexpected error", ids)
            if rows[0].attempts + 1 >= MAX_UNEXPECTED_ATTEMPTS:
                await self._fail(rows, f"{type(exc).__name__}: {exc}")
                return Attempt.SETTLED, set(ids)
            await self._retry_later(side, target, ids, f"{type(exc).__name__}: {exc}")
            return Attempt.BACKOFF, set()
        else:
            self.ctx.bot_api_ok_at = now = self.ctx.now()
            for row in rows:  # how long each waited in the outbox
                self.ctx.metrics.delivery_seconds.observe(
                    max((to_db(now) - row.created_at).total_seconds(), 0.0))
            if not marked:
                await self._settle_sent(ids)
            if side is Side.PRIVATE:
                self._lane_backoff.pop(target, None)
            else:
                self._backoff[side] = 0.0
            return Attempt.DONE, set(ids)
        return Attempt.SETTLED, set(ids)

    async def _retry_later(self, side: Side, target: int, ids: Sequence[int], error: str) -> None:
        """Keep the rows, try again later: the back-off doubles up to MAX_BACKOFF_SECONDS.
        The rows stay pending with a not-before time, so no other sender hurries them. A
        group's pass pauses; a private chat's rows simply wait (other chats go on)."""
        backoff = self._lane_backoff.get(target, 0.0) if side is Side.PRIVATE \
            else self._backoff[side]
        delay = min(max(backoff * 2, MIN_BACKOFF_SECONDS), MAX_BACKOFF_SECONDS)
        if side is Side.PRIVATE:
            self._lane_backoff[target] = delay
        else:
            self._backoff[side] = delay
        await self._settle(ids, "pending", error, wall_now() + timedelta(seconds=delay))
        log.warning("outbox rows %s: %s; retrying in %.1fs", list(ids), error, delay)
        if side is Side.GROUP:
            await self._pause(delay)

    async def _go_alone(self, ids: Sequence[int], error: str) -> None:
        """A digest or joined message was refused: send its rows one by one instead."""
        async with self._tx() as session:
            for row_id in ids:
                row = await session.get(OutboxMessage, row_id)
                if row is not None and row.status == "sending":
                    store(row, message_of(row).model_copy(update={"alone": True}))
                    row.status, row.lease_until, row.last_error = "pending", None, error
                    row.attempts += 1
        log.warning("outbox rows %s were refused together (%s); sending them one by one",
                    list(ids), error)

    @staticmethod
    def _private(row: OutboxMessage) -> bool:
        return not to_thread(row) and (row.chat_id or 0) > 0

    async def _forbidden(self, rows: list[OutboxMessage], exc: Forbidden) -> None:
        if self._private(rows[0]) and says(exc, "blocked by the user"):
            await self._recipient_blocked(rows, str(exc))
        elif self._private(rows[0]) and says(exc, "initiate conversation"):
            await self._hold_for_recipient(rows, str(exc))
        else:  # e.g. the bot was removed from the group, or the account was deleted
            await self._fail(rows, str(exc))

    async def _hold(self, session: AsyncSession, rows: list[OutboxMessage], error: str) -> None:
        """Keep the rows for when the recipient writes to the bot, and tell whoever waits."""
        told: set[tuple[int, str]] = set()
        for row in rows:
            fresh = await session.get(OutboxMessage, row.id)
            if fresh is None or fresh.status != "sending":
                continue
            fresh.status, fresh.last_error, fresh.lease_until = "held", error, None
            fresh.attempts += 1
            message = message_of(fresh) if fresh.kind == "message" else None
            if message and message.on_held and not message.on_held_sent:
                store(fresh, message.model_copy(update={"on_held_sent": True}))
                key = (message.on_held.chat_id, message.on_held.text)
                if key not in told:
                    told.add(key)
                    queue_message(session, self.ctx.now(), key[1], chat_id=key[0])
        user = await session.get(User, rows[0].chat_id) if rows[0].chat_id else None
        if user is not None:
            user.reachable = False  # People.touch releases the rows when they write

    async def _hold_for_recipient(self, rows: list[OutboxMessage], error: str) -> None:
        """Telegram won't let us write to them yet: keep the messages for when they /start."""
        async with self.ctx.transaction() as session:
            await self._hold(session, rows, error)

    async def _recipient_blocked(self, rows: list[OutboxMessage], error: str) -> None:
        """They blocked the bot: keep their messages, and tell the admins (once)."""
        user_id = rows[0].chat_id
        assert user_id is not None
        async with self.ctx.transaction() as session:
            await self._hold(session, rows, error)
            newly = await session.execute(
                update(User).where(User.id == user_id, User.blocked_at.is_(None))
                .values(blocked_at=to_db(self.ctx.now()))
                .execution_options(synchronize_session=False))
            if rowcount(newly) == 1:
                who = await person(session, self.ctx, user_id)
                await self._tell_admins(session, "sender.blocked", exclude=user_id,
                                        name=who.display_name if who else str(user_id))
                log.warning("user %s blocked the bot; their messages are held", user_id)

    async def _fail(self, rows: list[OutboxMessage], error: str) -> None:
        """Refused for good: marked failed with the error, logged, reported to the admins."""
        first = rows[0]
        ids = [row.id for row in rows]
        log.error("Telegram refused outbox row(s) %s (%s): %s", ids, first.kind, error)
        async with self.ctx.transaction() as session:
            if not await self._mark(session, ids, "failed", error):
                return
            if all(row.kind == "message" and message_of(row).report for row in rows):
                return  # a report about a report would never end
            target = -1 if to_thread(first) else (first.chat_id or 0)
            if not self._first_report(target, error):
                return
            complaint = await session.get(Complaint, first.complaint_id) \
                if first.complaint_id is not None else None
            who = await person(session, self.ctx, first.chat_id) if self._private(first) \
                and first.chat_id is not None else None
            await self._tell_admins(session, "sender.failed", exclude=None,
                                    recipient=who.display_name if who else None,
                                    number=complaint.number if complaint else None,
                                    error=error[:300])

    async def _fall_back(self, row: OutboxMessage, error: str) -> None:
        """Telegram refused the message for good (too long, broken markup…): it goes again
        as a short text that says where to read the rest, with its buttons, so that the case
        it belongs to goes on; the admins hear of it."""
        log.error("Telegram refused outbox row %s (%s): %s; sending its short form",
                  row.id, row.kind, error)
        async with self.ctx.transaction() as session:
            fresh = await session.get(OutboxMessage, row.id)
            if fresh is None or fresh.status != "sending":
                return
            complaint = await session.get(Complaint, fresh.complaint_id) \
                if fresh.complaint_id is not None else None
            number = complaint.number if complaint else None
            lang = await language_of(session, self.ctx, fresh.chat_id) \
                if self._private(fresh) and fresh.chat_id is not None \
                else self.ctx.settings.general.default_language
            store(fresh, message_of(fresh).model_copy(update={
                "digest": None, "alone": True, "fell_back": True, "refused": error[:300],
                "text": self.ctx.texts.html(lang, "sender.fallback", number=number)}))
            fresh.status, fresh.lease_until, fresh.owner = "pending", None, None
            fresh.last_error, fresh.attempts = error[:300], fresh.attempts + 1
            target = -1 if to_thread(fresh) else (fresh.chat_id or 0)
            if self._first_report(target, f"short form: {error}"):
                who = await person(session, self.ctx, fresh.chat_id) \
                    if self._private(fresh) and fresh.chat_id is not None else None
                await self._tell_admins(session, "sender.fell_back", exclude=None,
                                        recipient=who.display_name if who else None,
                                        number=number, error=error[:300])

    def _first_report(self, target: int, error: str) -> bool:
        """The same refusal for the same chat is reported once in REPORT_QUIET_SECONDS."""
        now = time.monotonic()
        key = (target, error)
        if self._reported.get(key, -REPORT_QUIET_SECONDS) > now - REPORT_QUIET_SECONDS:
            return False
        self._reported[key] = now
        return True

    async def _tell_admins(self, session: AsyncSession, template: str, *, exclude: int | None,
                           **params: Any) -> None:
        admins = list(await session.scalars(
            select(User.id).where(User.is_admin.is_(True)).order_by(User.id)))
        for admin_id in admins:
            if admin_id == exclude:
                continue
            admin = await person(session, self.ctx, admin_id)
            lang = admin.language if admin else self.ctx.settings.general.default_language
            row = queue_message(session, self.ctx.now(), self.ctx.texts.html(lang, template, **params),
                                chat_id=admin_id)
            store(row, message_of(row).model_copy(update={"report": True}))

    async def _deliver(self, rows: list[OutboxMessage]) -> bool:
        if len(rows) > 1:  # plain private messages queued together: one message
            sent = await self._send_plain(rows[0].chat_id,
                                          batching.joined([message_of(r).text for r in rows]))
            self._became(rows, sent)
            return False
        row = rows[0]
        handlers: dict[str, Callable[[OutboxMessage], Awaitable[bool]]] = {
            "message": self._send_message, "post_card": self.threads.post_card,
            "refresh_card": self.threads.refresh_card, "refresh_topic": self.threads.refresh_topic,
            "post_photos": self.threads.post_photos, "document": self._send_document,
            "record": self._send_record, "photos": self._send_photos,
            "edit_keyboard": self._edit_keyboard}
        handler = handlers.get(row.kind)
        if handler is None:
            raise BadRequest(f"unknown outbox kind {row.kind}")
        return await handler(row)

    async def _send_private_digest(self, rows: list[OutboxMessage]) -> bool:
        """Notices that waited together for one person: one message, a line each, with each
        notice's buttons (the batch was cut so that they fit)."""
        chat_id = rows[0].chat_id
        assert chat_id is not None
        async with self.ctx.sessions() as session:
            lang = await language_of(session, self.ctx, chat_id)
        digests = [digest for row in rows if (digest := message_of(row).digest)]
        text = batching.digest_text(
            self.ctx.texts.html(lang, "sender.private_digest_heading", count=len(rows),
                                buttons=any(d.buttons for d in digests)),
            [d.line for d in digests])
        keyboard = [button_row for d in digests for button_row in d.buttons]
        self._became(rows, await self._send_plain(chat_id, text, markup(keyboard)))
        return False

    def _became(self, rows: list[OutboxMessage], message: Message) -> None:
        """Remember which message rows with buttons became (bot.outbox.retire_buttons)."""
        for row in rows:
            if row.subject is not None:
                self._sent_as[row.id] = message.message_id

    async def _to_chat(self, chat_id: int | None, send: Callable[[int], Awaitable[T]]) -> T:
        """Send to a chat; someone who blocked the bot is not even tried until they write
        to it again (then blocked_at is cleared once a message gets through)."""
        assert chat_id is not None
        was_blocked = False
        if chat_id > 0 and self._reachable_until.pop(chat_id, 0.0) < time.monotonic():
            async with self.ctx.sessions() as session:
                user = await session.get(User, chat_id)
            if user is not None and user.blocked_at is not None:
                if not user.reachable:
                    raise Blocked("blocked the bot: kept until they write to it again")
                was_blocked = True  # they wrote to the bot since: try again
        sent = await send(chat_id)
        if was_blocked:
            async with self._tx() as session:
                await session.execute(update(User).where(User.id == chat_id)
                                      .values(blocked_at=None)
                                      .execution_options(synchronize_session=False))
        return sent

    async def _send_plain(self, chat_id: int | None, text: str,
                          reply_markup: InlineKeyboardMarkup | None = None,
                          thread_id: int | None = None, reply_to: int | None = None) -> Message:
        return await self._to_chat(chat_id, lambda chat: self.bot.send_message(
            chat, text, parse_mode=HTML, reply_markup=reply_markup, message_thread_id=thread_id,
            reply_parameters=quoting(reply_to)))

    async def _send_document(self, row: OutboxMessage) -> bool:
        """A file kept in the row (bot.outbox.queue_document), with an HTML caption."""
        payload = document_of(row)
        document = InputFile(base64.b64decode(payload.data), filename=payload.filename)
        caption = payload.caption or None
        await self._to_chat(row.chat_id, lambda chat: self.bot.send_document(
            chat, document, caption=caption, parse_mode=HTML if caption else None,
            message_thread_id=row.thread_id, reply_parameters=quoting(payload.reply_to)))
        return False

    async def _send_photos(self, row: OutboxMessage) -> bool:
        """Pictures kept in the row (bot.outbox.queue_photos), as one album."""
        payload = photos_of(row)
        media = [InputMediaPhoto(base64.b64decode(data), caption=caption or None)
                 for caption, data in zip(payload.captions, payload.data, strict=True)]
        if len(media) == 1:
            await self._to_chat(row.chat_id, lambda chat: self.bot.send_photo(
                chat, media[0].media, caption=payload.captions[0] or None,
                message_thread_id=row.thread_id))
        else:
            await self._to_chat(row.chat_id, lambda chat: self.bot.send_media_group(
                chat, media, message_thread_id=row.thread_id))
        return False

    async def _send_record(self, row: OutboxMessage) -> bool:
        """A complaint's record as a file (bot.services.records), built now: the photos are
        fetched from Telegram and put in it."""
        from bot.services.records import Records  # (it builds on the views, which need the sender's services)

        assert row.chat_id is not None
        payload = record_of(row)
        async with self.ctx.sessions() as session:
            lang = await language_of(session, self.ctx, row.chat_id)
        try:
            filename, data, caption = await Records(self.ctx).document(
                payload.complaint_id, lang, self._fetch_file)
        except LookupError:  # purged meanwhile: nothing left to send
            return False
        document = InputFile(data, filename=filename)
        await self._to_chat(row.chat_id, lambda chat: self.bot.send_document(
            chat, document, caption=caption, parse_mode=HTML, message_thread_id=row.thread_id,
            reply_parameters=quoting(payload.reply_to)))
        return False

    async def _fetch_file(self, file_id: str) -> bytes | None:
        """A file's bytes from Telegram; None when Telegram no longer has it (the record
        says so) — a network failure or a flood wait is retried with the row."""
        try:
            file = await self.bot.get_file(file_id)
            return bytes(await file.download_as_bytearray())
        except BadRequest:
            return None

    async def _edit_keyboard(self, row: OutboxMessage) -> bool:
        """New buttons on a sent message, or none. Nothing to change, or the message gone
        (deleted, too old to edit): there is nothing left to do either."""
        assert row.chat_id is not None
        edit = keyboard_edit_of(row)
        try:
            await self.bot.edit_message_reply_markup(
                row.chat_id, edit.message_id, reply_markup=markup(edit.keyboard))
        except BadRequest as exc:
            if not (not_modified(exc) or says(exc, "message to edit not found",
                                               "message can't be edited")):
                raise
        return False

    async def _send_message(self, row: OutboxMessage) -> bool:
        message = message_of(row)
        if message.to_thread:
            await self.threads.send_message(row, message)
            return False
        self._became([row], await self._send_plain(row.chat_id, message.text,
                                                   markup(message.keyboard), row.thread_id,
                                                   message.reply_to))
        return False

    async def _send_digest(self, group: int, items: list[Item]) -> tuple[Attempt, set[int]]:
        """Several notices for one group at once: one message per TEXT_BUDGET characters,
        in the group's main chat — or, when they all concern one complaint, in its thread;
        each message's rows marked sent together."""
        lang = self.ctx.settings.general.default_language

        def heading(count: int) -> str:
            return self.ctx.texts.html(lang, "sender.digest_heading", count=count)

        chunks = batching.digest_chunks(items, visible_length(heading(len(items))))
        complaints = {item.complaint_id for item in items}
        one = next(iter(complaints)) if len(complaints) == 1 else None

        async def deliver(rows: list[OutboxMessage]) -> bool:
            lines = [digest.line for row in rows if (digest := message_of(row).digest)]
            text = batching.digest_text(heading(len(rows)), lines)
            if one is None:
                await self.bot.send_message(group, text, parse_mode=HTML)
            else:
                await self.threads.send_digest(one, text)
            return False

        settled: set[int] = set()
        for chunk in chunks:
            outcome, ids = await self._job(chunk, deliver, target=group, side=Side.GROUP,
                                           prefix=False)
            settled |= ids
            if outcome not in (Attempt.DONE, Attempt.SETTLED):
                return outcome, settled
        log.info("outbox: %d notices for group %s sent as %d digest message(s)",
                 len(settled), group, len(chunks))
        return Attempt.DONE, settled

