"""The token never reaches the log: not in a message, its arguments or a traceback."""

from __future__ import annotations

import io
import logging

from bot.logs import FORMAT, REDACTED, RedactToken

TOKEN = "123456:AAE-secret_token"


def logged(emit: object) -> str:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(logging.Formatter(FORMAT))
    handler.addFilter(RedactToken(TOKEN))
    log = logging.getLogger("test.redaction")
    log.addHandler(handler)
    log.propagate = False
    log.setLevel(logging.DEBUG)
    try:
        emit(log)  # type: ignore[operator]
    finally:
        log.removeHandler(handler)
    return out.getvalue()


def test_a_url_in_the_message_or_its_arguments_is_redacted() -> None:
    text = logged(lambda log: (
        log.info("GET https://api.telegram.org/bot%s/getUpdates", TOKEN),
        log.warning(f"calling https://api.telegram.org/bot{TOKEN}/sendMessage failed")))
    assert TOKEN not in text and text.count(REDACTED) == 2
    assert "getUpdates" in text and "sendMessage failed" in text


def test_a_traceback_with_the_token_is_redacted() -> None:
    def fail(log: logging.Logger) -> None:
        try:
            raise RuntimeError(f"bad URL /bot{TOKEN}/getMe")
        except RuntimeError:
            log.exception("the call failed")

    text = logged(fail)
    assert TOKEN not in text and "RuntimeError: bad URL /bot<token>/getMe" in text
    assert "Traceback" in text


def test_records_without_the_token_are_left_as_they_are() -> None:
    text = logged(lambda log: log.info("update %s handled in %d ms", 42, 7))
    assert "update 42 handled in 7 ms" in text


def test_a_line_says_which_update_and_complaint_plain_or_json() -> None:
    import json

    from bot.logs import AddContext, JsonFormatter, PlainFormatter, current_update

    def emit(formatter: logging.Formatter) -> str:
        out = io.StringIO()
        handler = logging.StreamHandler(out)
        handler.setFormatter(formatter)
        handler.addFilter(AddContext())
        log = logging.getLogger("test.context")
        log.addHandler(handler)
        log.propagate = False
        log.setLevel(logging.INFO)
        token = current_update.set(4711)
        try:
            log.info("approved", extra={"complaint": "P-2026-0001", "event": "approved"})
        finally:
            current_update.reset(token)
            log.info("between updates")
            log.removeHandler(handler)
        return out.getvalue()

    plain = emit(PlainFormatter(FORMAT)).splitlines()
    assert plain[0].endswith("approved [update 4711, P-2026-0001]")
    assert plain[1].endswith("between updates")
    first, second = (json.loads(line) for line in emit(JsonFormatter()).splitlines())
    assert (first["message"], first["update_id"], first["complaint"], first["event"]) == \
        ("approved", 4711, "P-2026-0001", "approved")
    assert second["update_id"] is None and second["complaint"] is None
