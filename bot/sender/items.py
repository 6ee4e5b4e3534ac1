"""The queue as a pass of the sender sees it: rows as `Item`s, each in its lane and side."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC, datetime

from bot.outbox import MessagePayload
from bot.store.models import OutboxMessage

Lane = tuple[str, int]
REDRAWS = ("refresh_card", "refresh_topic")
PRIVATE_KINDS = ("message", "document", "record", "photos", "edit_keyboard")  # what a private chat's rows do


class Side(enum.Enum):
    GROUP = "group"
    PRIVATE = "private"


def wall_now() -> datetime:
    """Leases and retry times are about real processes, so they use the real clock (naive
    UTC, as stored), never the service clock that tests may move."""
    return datetime.now(UTC).replace(tzinfo=None)


@dataclass
class Item:
    """A queued row as a pass sees it: a snapshot; claiming re-checks it in the database."""

    id: int
    kind: str
    chat_id: int | None
    complaint_id: int | None
    message: MessagePayload | None  # kind "message": what it says
    status: str
    lease_until: datetime | None  # 'sending': the lease; 'pending': not before (a retry)
    created_at: datetime
    group: int | None  # the complaint's chat, for rows in a complaint's thread

    @property
    def in_thread(self) -> bool:
        return self.complaint_id is not None and (
            self.message is None or self.message.to_thread)

    @property
    def redraw(self) -> bool:
        """Redrawing the card or the topic title: it renders the complaint as it is when
        sent, so it may wait behind notices and a later one makes an earlier one moot."""
        return self.kind in REDRAWS

    @property
    def lane(self) -> Lane:
        if self.redraw:
            assert self.complaint_id is not None
            return (self.kind, self.complaint_id)
        if self.in_thread:
            assert self.complaint_id is not None
            return ("complaint", self.complaint_id)
        return ("chat", self.chat_id or 0)

    @property
    def target(self) -> int:
        """The Telegram chat it goes to (0: not known yet)."""
        return (self.group if self.in_thread else self.chat_id) or 0

    @property
    def side(self) -> Side:
        return Side.GROUP if self.in_thread or (self.chat_id or 0) < 0 else Side.PRIVATE

    def due(self, now: datetime) -> bool:
        return self.status == "pending" and (self.lease_until is None or self.lease_until <= now)

    @property
    def digest_line(self) -> str | None:
        """Its line in a digest: a notice to a group's thread, or to one person (then with
        its buttons)."""
        message = self.message
        if message is None or message.alone or message.digest is None:
            return None
        if self.group is not None if message.to_thread else self.side is Side.PRIVATE:
            return message.digest.line
        return None

    @property
    def digest_button_count(self) -> int:
        digest = self.message.digest if self.message else None
        return sum(len(row) for row in digest.buttons) if digest else 0

    @property
    def new_message(self) -> bool:
        """It sends a new message (an edit does not count against the chat's pace)."""
        return self.kind != "edit_keyboard"

    @property
    def text(self) -> str:
        assert self.message is not None
        return self.message.text

    @property
    def mergeable(self) -> bool:
        """A plain private message, which may be joined with its neighbours."""
        message = self.message
        return (message is not None and (self.chat_id or 0) > 0 and not message.to_thread
                and not message.keyboard and message.reply_to is None and not message.alone)


def item_of(row: OutboxMessage, group: int | None, status: str | None = None) -> Item:
    message = MessagePayload.model_validate(row.payload) if row.kind == "message" else None
    return Item(row.id, row.kind, row.chat_id, row.complaint_id, message,
                status or row.status, None if status else row.lease_until, row.created_at, group)
