"""Telegram Mini App sign-in: the `initData` Telegram hands the page, checked on the server.

Telegram signs the launch data with the bot's token (core.telegram.org/bots/webapps,
"Validating data received via the Mini App"): the secret key is HMAC-SHA256 of the token
with the key "WebAppData"; `hash` is HMAC-SHA256 of the data-check string (every other
field as `key=value`, sorted by key, joined by newlines) with that secret key, in hex.
Nothing else from the page is trusted: the person is `user.id` from signed data no older
than the allowed age, and what they may see is decided from the database.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl


class InitDataError(Exception):
    """Why the launch data was not accepted (for the log; the page only hears 401)."""


@dataclass(frozen=True)
class SignedIn:
    user_id: int
    language_code: str | None
    signed_at: datetime


def _digest(fields: dict[str, str], token: str) -> str:
    """Telegram's hash of the launch data: every field but `hash`, as `key=value` lines
    sorted by key, signed with HMAC-SHA256("WebAppData", token)."""
    secret_key = hmac.new(b"WebAppData", token.encode(), hashlib.sha256).digest()
    check = "\n".join(f"{key}={fields[key]}" for key in sorted(fields) if key != "hash")
    return hmac.new(secret_key, check.encode(), hashlib.sha256).hexdigest()


def sign(fields: dict[str, str], token: str) -> str:
    """`fields` as Telegram would hand them to the page: query-string encoded, with the hash
    (for the tests; the real thing comes from Telegram)."""
    from urllib.parse import urlencode

    return urlencode({**fields, "hash": _digest(fields, token)})


def verify(init_data: str, token: str, now: datetime, max_age: timedelta) -> SignedIn:
    """The person signed in by `init_data`, or InitDataError."""
    try:
        fields = dict(parse_qsl(init_data, keep_blank_values=True, strict_parsing=True))
    except ValueError:
        raise InitDataError("not a query string") from None
    if not hmac.compare_digest(fields.get("hash", "").encode(), _digest(fields, token).encode()):
        raise InitDataError("wrong signature")
    try:
        signed_at = datetime.fromtimestamp(int(fields["auth_date"]), UTC)
        user = json.loads(fields["user"])
        user_id = int(user["id"])
    except (KeyError, ValueError, TypeError):
        raise InitDataError("no auth_date or user") from None
    if now - signed_at > max_age or signed_at - now > timedelta(minutes=5):
        raise InitDataError(f"signed at {signed_at:%Y-%m-%d %H:%M:%S}, too long ago")
    language = user.get("language_code")
    return SignedIn(user_id, language if isinstance(language, str) else None, signed_at)
