"""The local Bot API server: a stand-in for Telegram that checks every call against the
official spec and Telegram's limits. The end-to-end tests run the bot against it, and so
does `make demo` (bot.demo); see README.md."""

from .server import Call, ChatState, FakeTelegram, Mark
from .spec import ApiError, Spec, Upload

__all__ = ["ApiError", "Call", "ChatState", "FakeTelegram", "Mark", "Spec", "Upload"]
