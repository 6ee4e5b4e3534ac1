"""bot.sender.batching picks what goes out together; bot.outbox's payload models keep the
stored JSON as it was (rows queued by an older release still read)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from pydantic import ValidationError

from bot.outbox import (
    Button,
    DigestLine,
    MessagePayload,
    OnHeld,
    make_digestible,
    message_of,
    store,
)
from bot.sender import batching
from bot.sender.items import Item
from bot.store.models import OutboxMessage
from bot.texts import TEXT_BUDGET

NOW = datetime(2026, 12, 3, 9, 0)
GROUP = -1001


def item(row_id: int, *, chat: int | None = 7, complaint: int | None = None,
         at: timedelta = timedelta(), status: str = "pending", **message: object) -> Item:
    payload = MessagePayload.model_validate({"text": f"第{row_id}則", **message})
    return Item(row_id, "message", chat, complaint, payload, status, None, NOW + at,
                GROUP if complaint is not None else None)


def notice(row_id: int, complaint: int, line: str | None = None) -> Item:
    return item(row_id, chat=None, complaint=complaint, to_thread=True,
                digest={"line": line or f"#{complaint} 提醒"})


def test_private_messages_queued_together_are_merged_within_the_window() -> None:
    items = [item(1), item(2, at=timedelta(seconds=1)), item(3, at=timedelta(seconds=2.5)),
             item(4, at=timedelta(seconds=10))]
    assert [i.id for i in batching.merge_run(items, items[0], set(), NOW)] == [1, 2, 3]


@pytest.mark.parametrize("blocker", [{"keyboard": [[{"text": "好", "data": "x:1"}]]},
                                     {"reply_to": 5}, {"alone": True}])
def test_a_message_with_buttons_a_quote_or_refused_in_company_goes_alone(blocker: dict) -> None:
    items = [item(1), item(2, **blocker), item(3)]
    assert [i.id for i in batching.merge_run(items, items[0], set(), NOW)] == [1]
    assert [i.id for i in batching.merge_run(items, items[1], set(), NOW)] == [2]


def test_a_merge_stops_before_telegrams_limit() -> None:
    long = "字" * (TEXT_BUDGET // 2)
    items = [item(1, text=long), item(2, text=long), item(3)]
    assert [i.id for i in batching.merge_run(items, items[0], set(), NOW)] == [1]


def test_a_group_digest_needs_three_notices_and_keeps_each_lanes_order() -> None:
    items = [notice(1, 10), notice(2, 11)]
    assert batching.group_digest(items, items[0], set(), set(), NOW) is None
    # Complaint 12's first row is not digestible: its later notice waits behind it.
    plain = item(4, chat=None, complaint=12, to_thread=True)
    items = [notice(1, 10), notice(2, 11), notice(3, 13), plain, notice(5, 12)]
    batch = batching.group_digest(items, items[0], set(), set(), NOW)
    assert batch is not None and [i.id for i in batch] == [1, 2, 3]


def test_a_private_digest_needs_two_notices_and_fits_its_buttons() -> None:
    buttons = [[{"text": f"按鈕{n}", "data": f"f:{n}"} for n in range(8)]]
    items = [item(n, digest={"line": f"罰款 {n}", "buttons": buttons}) for n in range(1, 16)]
    digest = batching.private_digest(items, NOW)
    assert digest is not None and len(digest) == 12  # 12 × 8 buttons ≤ 100
    assert batching.private_digest(items[:1], NOW) is None


def test_digest_chunks_each_fit_one_message() -> None:
    line = "提" * 1000
    items = [notice(n, n, line) for n in range(1, 10)]
    chunks = batching.digest_chunks(items, heading_length=50)
    assert [len(c) for c in chunks] == [3, 3, 3]
    assert [i.id for c in chunks for i in c] == list(range(1, 10))


def test_payloads_are_stored_as_before_and_read_back() -> None:
    row = OutboxMessage(kind="message", chat_id=7)
    store(row, MessagePayload(text="你好", on_held=OnHeld(chat_id=8, text="他還沒開始")))
    assert row.payload == {"text": "你好", "on_held": {"chat_id": 8, "text": "他還沒開始"}}
    make_digestible(row, "一行", [[Button("好", "x:1")]])
    assert row.payload["digest"] == {"line": "一行", "buttons": [[{"text": "好", "data": "x:1"}]]}
    assert message_of(row).digest == DigestLine(line="一行",
                                                 buttons=[[{"text": "好", "data": "x:1"}]])
    # A row written by the previous release (plain dict, fewer keys) reads.
    old = OutboxMessage(kind="message", chat_id=7,
                        payload={"text": "舊", "to_thread": True, "digest": {"line": "舊行"}})
    assert message_of(old).to_thread and message_of(old).digest == DigestLine(line="舊行")


def test_a_payload_key_nobody_knows_is_refused() -> None:
    with pytest.raises(ValidationError):
        message_of(OutboxMessage(kind="message", payload={"text": "x", "too_thread": True}))
