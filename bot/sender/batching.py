"""Batching: which queued rows go out together as one message.

- **Digests.** Three or more *digestible* notices (`bot.outbox.make_digestible`) due together
  for one group go out as one digest in the group's main chat (or in the complaint's thread
  when they all concern one), as many lines per message as fit; two or more due together for
  one person go as one message listing them, each with its buttons.
- **Merges.** Plain private messages queued together (within `MERGE_WINDOW` of each other)
  are joined into one message, a blank line between them.

Each batch keeps every lane's order: a row joins a batch only when it is the next of its lane.
Nothing here talks to Telegram or the database; `bot.sender.queue` sends what it picks.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from bot.sender.items import Item, Lane
from bot.texts import TEXT_BUDGET, visible_length

DIGEST_MIN = 3  # notices of fewer complaints than this go to their threads one by one
MERGE_WINDOW = timedelta(seconds=2)
BUTTONS_MAX = 100  # inline buttons in one message
DIGEST_HEADING_ROOM = 300  # a digest's heading and its hint about the commands


def private_digest(items: Sequence[Item], now: datetime) -> list[Item] | None:
    """Two or more notices at the head of one person's queue, as many as fit one message
    (its text and its buttons), or None."""
    digest: list[Item] = []
    used, buttons = 0, 0
    for item in items:
        line = item.digest_line
        if line is None or not item.due(now):
            break
        size, count = visible_length(line) + 1, item.digest_button_count
        if digest and (used + size > TEXT_BUDGET - DIGEST_HEADING_ROOM
                       or buttons + count > BUTTONS_MAX):
            break
        digest.append(item)
        used, buttons = used + size, buttons + count
    return digest if len(digest) >= 2 else None


def group_digest(items: Sequence[Item], head: Item, blocked: set[Lane], done: set[int],
                 now: datetime) -> list[Item] | None:
    """The digestible rows for head's group that may go now (each the next of its lane),
    if they are at least DIGEST_MIN."""
    if head.digest_line is None:
        return None
    broken = set(blocked)
    batch: list[Item] = []
    for item in items:
        if item.id in done or item.lane in broken:
            continue
        line = item.digest_line
        if (item.group == head.group and line is not None and item.due(now)
                and visible_length(line) < TEXT_BUDGET // 2):
            batch.append(item)
        else:
            broken.add(item.lane)  # later rows of that lane wait for this one
    return batch if len(batch) >= DIGEST_MIN else None


def merge_run(items: Sequence[Item], head: Item, done: set[int], now: datetime) -> list[Item]:
    """head, and the plain private rows after it in its chat queued along with it."""
    run = [head]
    if not head.mergeable:
        return run
    total = visible_length(head.text)
    for item in items:
        if item.id <= head.id or item.lane != head.lane or item.id in done:
            continue
        if (not item.mergeable or not item.due(now)
                or abs(item.created_at - run[-1].created_at) > MERGE_WINDOW):
            break
        size = visible_length(item.text) + 2  # the blank line between
        if total + size > TEXT_BUDGET:
            break
        run.append(item)
        total += size
    return run


def joined(texts: Sequence[str]) -> str:
    """Merged private messages as one."""
    return "\n\n".join(texts)


def digest_chunks(items: Sequence[Item], heading_length: int) -> list[list[Item]]:
    """A group digest cut into messages that fit under a heading of `heading_length`."""
    room = TEXT_BUDGET - heading_length - 1
    chunks: list[list[Item]] = [[]]
    used = 0
    for item in items:
        size = visible_length(item.digest_line or "") + 1
        if chunks[-1] and used + size > room:
            chunks.append([])
            used = 0
        chunks[-1].append(item)
        used += size
    return chunks


def digest_text(heading: str, lines: Sequence[str]) -> str:
    return "\n".join([heading, *lines])
