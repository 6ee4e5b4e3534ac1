"""Records and world state of the fake Telegram server."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from .spec import Upload

Message = dict[str, Any]


@dataclass
class Call:
    """One Bot API request: decoded params (raw ones if they did not validate)."""

    method: str
    params: dict[str, Any]
    ok: bool
    error: str | None = None
    result: Any = None
    at: float = field(default_factory=time.monotonic)


@dataclass(frozen=True)
class Mark:
    """A point in the message sequence (``fake.mark()``), for ``after=`` arguments."""

    seq: int


@dataclass
class Failure:
    error_code: int | str
    description: str | None
    retry_after: int | None
    delay: float
    perform: bool
    chat_id: int | None = None  # only calls to this chat fail (None: any)


@dataclass
class FileRec:
    file_id: str
    file_unique_id: str
    kind: str
    data: bytes = field(repr=False)
    filename: str | None = None
    mime_type: str | None = None

    @property
    def file_path(self) -> str:
        suffix = self.filename.rsplit(".", 1)[-1] if self.filename and "." in self.filename else (
            "jpg" if self.kind == "photo" else "bin")
        return f"{self.kind}s/file_{self.file_unique_id}.{suffix}"


@dataclass
class MsgMeta:
    created: int  # position in the global message sequence (see Mark)
    edits: int = 0
    history: list[Message] = field(default_factory=list)
    markup: dict[str, Any] | None = None  # reply_markup as sent, of any kind


@dataclass
class ChatState:
    chat: dict[str, Any]  # the Chat object
    is_forum: bool = False
    bot_is_admin: bool = False
    can_manage_topics: bool = False
    can_delete_messages: bool = False
    can_pin_messages: bool = False
    members: dict[int, str] = field(default_factory=dict)  # user id -> status
    messages: dict[int, Message] = field(default_factory=dict)
    meta: dict[int, MsgMeta] = field(default_factory=dict)
    topics: dict[int, dict[str, Any]] = field(default_factory=dict)
    deleted: list[Message] = field(default_factory=list)
    next_id: int = 1

    @property
    def id(self) -> int:
        return int(self.chat["id"])

    @property
    def private(self) -> bool:
        return bool(self.chat["type"] == "private")


class Params(dict[str, Any]):
    """Decoded call parameters plus the file parts of the request."""

    uploads: dict[str, Upload]
