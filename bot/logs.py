"""The bot's log: plain lines on stderr, and the token never in them.

The Bot API's URLs carry the token (`https://api.telegram.org/bot<token>/getUpdates`), and
an HTTP library's message or an exception's text may repeat one. A filter on the log's
handlers replaces it in every record — its message, its arguments and its traceback — before
anything is written, whatever logger the record came from and at whatever level.
"""

from __future__ import annotations

import logging
import os

REDACTED = "<token>"
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


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
    LOG_LEVELS, one line per record, the token redacted in every line."""
    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "INFO"), format=FORMAT)
    for handler in logging.getLogger().handlers:
        handler.addFilter(RedactToken(token))
    for name, level in {**QUIET_LIBRARIES, **levels(os.environ.get("LOG_LEVELS", ""))}.items():
        logging.getLogger(name).setLevel(level)
