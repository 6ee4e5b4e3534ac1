"""The bot's log: one line per record on stderr (plain, or JSON with LOG_FORMAT=json), with
the update and the complaint it is about where there is one, and the token never in them.

The Bot API's URLs carry the token (`https://api.telegram.org/bot<token>/getUpdates`), and
an HTTP library's message or an exception's text may repeat one. A filter on the log's
handlers replaces it in every record — its message, its arguments and its traceback — before
anything is written, whatever logger the record came from and at whatever level.
"""

from __future__ import annotations

import json
import logging
import os
from contextvars import ContextVar
from typing import Any

REDACTED = "<token>"
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

# The update being handled (bot.inbox sets it): every line logged meanwhile carries its id.
current_update: ContextVar[int | None] = ContextVar("log_update", default=None)


class AddContext(logging.Filter):
    """Every record gets `update_id` (the update being handled, if any) and `complaint` (the
    number a line is about, given as extra=, if any)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "update_id", None) is None:
            record.update_id = current_update.get()  # type: ignore[attr-defined]
        if not hasattr(record, "complaint"):
            record.complaint = None  # type: ignore[attr-defined]
        return True


class PlainFormatter(logging.Formatter):
    """FORMAT, then ' [update N, P-2026-0001]' when the line is about them."""

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        update, complaint = getattr(record, "update_id", None), getattr(record, "complaint", None)
        about = [part for part in (f"update {update}" if update else "", complaint or "")
                 if part]
        if not about:
            return line
        head, newline, rest = line.partition("\n")  # (after the message, before a traceback)
        return f"{head} [{', '.join(about)}]{newline}{rest}"


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, update_id, complaint, and the
    traceback as text when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"), "level": record.levelname,
            "logger": record.name, "message": record.getMessage(),
            "update_id": getattr(record, "update_id", None),
            "complaint": getattr(record, "complaint", None)}
        for key in ("event", "actor"):
            if getattr(record, key, None) is not None:
                entry[key] = getattr(record, key)
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["traceback"] = record.exc_text
        return json.dumps(entry, ensure_ascii=False)


class RedactToken(logging.Filter):
    def __init__(self, token: str) -> None:
        super().__init__()
        self.token = token

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.token:
            return True
        message = record.getMessage()
        if self.token in message:
            record.msg, record.args = message.replace(self.token, REDACTED), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text and self.token in record.exc_text:
            record.exc_text = record.exc_text.replace(self.token, REDACTED)
        if record.stack_info and self.token in record.stack_info:
            record.stack_info = record.stack_info.replace(self.token, REDACTED)
        return True


# The chatty libraries' levels unless LOG_LEVELS says otherwise: httpx logs every request
# (the Bot API's URL, token and all) at INFO; APScheduler three lines per deadline job.
QUIET_LIBRARIES = {"httpx": "WARNING", "apscheduler": "WARNING"}


def levels(spec: str) -> dict[str, str]:
    """LOG_LEVELS: 'httpx=INFO,telegram.ext=DEBUG' → {logger: level}; bad parts ignored."""
    found = {}
    for part in spec.split(","):
        name, _, level = part.partition("=")
        if name.strip() and level.strip().upper() in logging.getLevelNamesMapping():
            found[name.strip()] = level.strip().upper()
    return found


def configure(token: str) -> None:
    """The log as `complaint-bot` writes it: LOG_LEVEL (default INFO) and per-logger
    LOG_LEVELS, one line per record (LOG_FORMAT=json: a JSON object), the token redacted in
    every line."""
    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "INFO"), format=FORMAT)
    json_lines = os.environ.get("LOG_FORMAT", "").lower() == "json"
    for handler in logging.getLogger().handlers:
        handler.addFilter(AddContext())
        handler.addFilter(RedactToken(token))
        handler.setFormatter(JsonFormatter() if json_lines else PlainFormatter(FORMAT))
    for name, level in {**QUIET_LIBRARIES, **levels(os.environ.get("LOG_LEVELS", ""))}.items():
        logging.getLogger(name).setLevel(level)
