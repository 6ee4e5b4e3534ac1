"""Telegram's pace in one private chat: "avoid sending more than one message per second
... we may allow short bursts" (Bot API FAQ). AIORateLimiter keeps the overall and the
per-group limits; this keeps the per-private-chat one, before a message is even built,
so that what waits meanwhile can be merged into it.
"""

from __future__ import annotations

from aiolimiter import AsyncLimiter


class PrivatePace:
    """A leaky bucket per private chat: `burst` messages at once, then `per_second`."""

    def __init__(self, per_second: float, burst: int) -> None:
        self.per_second = per_second
        self.burst = burst
        self._chats: dict[int, AsyncLimiter] = {}

    def _limiter(self, chat_id: int) -> AsyncLimiter:
        limiter = self._chats.get(chat_id)
        if limiter is None:
            limiter = self._chats[chat_id] = AsyncLimiter(self.burst, self.burst / self.per_second)
        return limiter

    def ready(self, chat_id: int) -> bool:
        """Whether the chat may have a message at once."""
        return self._limiter(chat_id).has_capacity()

    async def turn(self, chat_id: int) -> None:
        """Wait until the chat may have its next message."""
        await self._limiter(chat_id).acquire()
