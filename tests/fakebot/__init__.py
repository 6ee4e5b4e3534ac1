"""Fake Telegram Bot API server for end-to-end tests; see README.md."""

from .server import Call, ChatState, FakeTelegram, Mark
from .spec import ApiError, Spec, Upload

__all__ = ["ApiError", "Call", "ChatState", "FakeTelegram", "Mark", "Spec", "Upload"]
