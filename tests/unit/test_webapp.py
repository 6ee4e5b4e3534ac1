"""Telegram's Mini App launch data, checked as Telegram documents it (bot.webapp)."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, urlencode

import pytest

from bot.webapp import InitDataError, sign, verify

TOKEN = "123456:TEST-TOKEN"
NOW = datetime(2026, 12, 6, 8, 0, tzinfo=UTC)
DAY = timedelta(hours=24)


def launch(user_id: int = 40001, at: datetime = NOW, **extra: str) -> str:
    return sign({"auth_date": str(int(at.timestamp())), "query_id": "AAH1",
                 "user": json.dumps({"id": user_id, "first_name": "劉人事", "language_code": "en"},
                                    ensure_ascii=False), **extra}, TOKEN)


def test_signed_launch_data_names_the_person() -> None:
    signed = verify(launch(), TOKEN, NOW + timedelta(minutes=3), DAY)
    assert signed.user_id == 40001 and signed.language_code == "en"


def test_the_signature_is_telegrams() -> None:
    """Computed here by the documented recipe, independently of bot.webapp.sign."""
    fields = dict(parse_qsl(launch()))
    check = "\n".join(f"{k}={v}" for k, v in sorted(fields.items()) if k != "hash")
    secret = hmac.new(b"WebAppData", TOKEN.encode(), hashlib.sha256).digest()
    assert fields["hash"] == hmac.new(secret, check.encode(), hashlib.sha256).hexdigest()


@pytest.mark.parametrize("tamper", ["another user", "another token", "no hash", "garbage",
                                    "hash of nothing"])
def test_anything_not_signed_by_telegram_is_refused(tamper: str) -> None:
    data = launch()
    if tamper == "another user":  # signed for 40001, claimed for 10001
        fields = dict(parse_qsl(data))
        fields["user"] = fields["user"].replace("40001", "10001")
        data = urlencode(fields)
    elif tamper == "another token":
        data = sign(dict(parse_qsl(data)), "654321:OTHER")
    elif tamper == "no hash":
        data = urlencode({k: v for k, v in parse_qsl(data) if k != "hash"})
    elif tamper == "garbage":
        data = "%%%not=a&query"
    else:
        data = "hash=" + "0" * 64
    with pytest.raises(InitDataError):
        verify(data, TOKEN, NOW, DAY)


def test_old_or_future_launch_data_is_refused() -> None:
    with pytest.raises(InitDataError, match="too long ago"):
        verify(launch(at=NOW - DAY - timedelta(seconds=1)), TOKEN, NOW, DAY)
    with pytest.raises(InitDataError):
        verify(launch(at=NOW + timedelta(hours=1)), TOKEN, NOW, DAY)
    with pytest.raises(InitDataError, match="no auth_date or user"):
        verify(sign({"auth_date": str(int(NOW.timestamp()))}, TOKEN), TOKEN, NOW, DAY)
