"""The outbox sender against a misbehaving Telegram: nothing lost, nothing twice.

Rows are queued the way services queue them (bot.outbox.queue_message in a transaction);
the fake server injects flood waits, gateway errors and timeouts, blocks a user, deletes a
topic, and a second sender on the same SQLite file competes for the rows.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.app import Runtime
from bot.outbox import Button, make_digestible, queue_action, queue_message
from bot.sandbox import FakeTelegram
from bot.sender import Sender, wall_now
from bot.services.threads import Threads
from bot.store.models import AuditEvent, Complaint, OutboxMessage, ThreadMessage, User
from tests.e2e.conftest import (
    DESK_HEAD,
    FORUM,
    HR_HEAD,
    PLAIN,
    PROD_HEAD,
    SALES,
    Actor,
    StartBot,
    settings_for,
    text_of,
)
from tests.e2e.flows import YEAR, card_offers, file_and_post, submit_for_approval

KEYBOARD = [[Button("好", "noop:1")]]  # a row with a keyboard is never joined with others


async def queue(runtime: Runtime, *messages: dict[str, Any]) -> list[int]:
    """Queue messages in one transaction, as a service would; `digest` sets the digest line,
    `status`/`lease` fake a row another process is sending."""
    async with runtime.ctx.transaction() as session:
        rows = []
        for spec in messages:
            spec = dict(spec)
            digest, status, lease = spec.pop("digest", None), spec.pop("status", None), \
                spec.pop("lease", None)
            row = queue_message(session, runtime.ctx.now(), **spec)
            if digest is not None:
                make_digestible(row, digest)
            if status is not None:
                row.status, row.lease_until = status, lease
            rows.append(row)
        await session.flush()
        ids = [row.id for row in rows]
    runtime.sender.wake()
    return ids


async def outbox(runtime: Runtime, ids: list[int]) -> list[OutboxMessage]:
    async with runtime.ctx.sessions() as session:
        return list(await session.scalars(
            select(OutboxMessage).where(OutboxMessage.id.in_(ids)).order_by(OutboxMessage.id)))


async def wait_settled(fake: FakeTelegram, runtime: Runtime, ids: list[int],
                       timeout: float = 30.0) -> list[OutboxMessage]:
    deadline = time.monotonic() + timeout
    while True:
        rows = await outbox(runtime, ids)
        if all(r.status not in ("pending", "sending") for r in rows):
            return rows
        if time.monotonic() > deadline:
            states = [(r.id, r.status, r.last_error) for r in rows]
            raise AssertionError(f"rows not settled: {states}\n{fake.dump()}")
        await asyncio.sleep(0.05)


def texts_in(fake: FakeTelegram, chat_id: int, thread_id: int | None = None) -> list[str]:
    return [text_of(m) for m in fake.bot_messages(chat_id, thread_id)]


def sends_to(fake: FakeTelegram, chat_id: int) -> int:
    return sum(1 for call in fake.api_calls("sendMessage") if call.params.get("chat_id") == chat_id)


# (a) -------------------------------------------------------------------------------------

async def test_flood_waits_gateway_errors_and_timeouts_lose_nothing_and_repeat_nothing(
        bot: Runtime, fake: FakeTelegram, caplog: pytest.LogCaptureFixture) -> None:
    await fake.wait_idle()
    started = time.monotonic()
    # Four 429s in a row outlast AIORateLimiter's three retries: the sender waits retry_after.
    fake.fail_next("sendMessage", 4, error_code=429, retry_after=1)
    first = [f"私訊 {i:02d}" for i in range(6)]
    ids = await queue(bot, *[{"text": t, "chat_id": SALES, "keyboard": KEYBOARD} for t in first])
    await wait_settled(fake, bot, ids)
    assert "Telegram asks to wait 1.0s" in caplog.text

    # Then gateway errors, a timeout and more flood waits, for a private chat and a group.
    fake.fail_next("sendMessage", 2, error_code=502)
    fake.fail_next("sendMessage", 1, error_code="timeout", delay=8)  # past PTB's 5-s read timeout
    fake.fail_next("sendMessage", 1, error_code=502)
    fake.fail_next("sendMessage", 2, error_code=429, retry_after=1)
    private = [f"私訊 {i:02d}" for i in range(6, 16)]
    group = [f"群組 {i:02d}" for i in range(6)]
    specs = [{"text": t, "chat_id": SALES, "keyboard": KEYBOARD} for t in private]
    specs[3:3] = [{"text": t, "chat_id": PLAIN} for t in group]
    ids += await queue(bot, *specs)
    rows = await wait_settled(fake, bot, ids, timeout=60)
    elapsed = time.monotonic() - started

    assert [r.status for r in rows] == ["sent"] * len(ids)
    assert texts_in(fake, SALES) == first + private  # each once, in order
    assert texts_in(fake, PLAIN) == group

    def injected() -> Counter[Any]:
        return Counter(e["error_code"] for e in fake.errors if e.get("injected"))

    # The timed-out call is recorded when the fake gives up on it (8 s after it began).
    await fake.wait_for(lambda: injected()["timeout"] == 1, timeout=10)
    assert injected() == {429: 6, 502: 3, "timeout": 1}, injected()
    assert "Timed out; retrying" in caplog.text
    print(f"\n22 rows through 10 injected failures in {elapsed:.1f}s")


# (b) -------------------------------------------------------------------------------------

async def test_blocked_user_is_held_admins_told_once_and_released_on_start(
        bot: Runtime, fake: FakeTelegram, people: dict[str, Actor]) -> None:
    admin, sales = people["admin"], people["sales"]
    await fake.wait_idle()
    fake.set_user(SALES, blocked=True)
    since_admin = admin.mark()
    ids = await queue(bot, {"text": "第一則", "chat_id": SALES},
                      {"text": "第二則", "chat_id": SALES, "keyboard": KEYBOARD})
    report = await admin.next_message(since_admin, "封鎖")
    assert "王小明" in text_of(report) and "/start" in text_of(report)
    rows = await wait_settled(fake, bot, ids)
    assert [r.status for r in rows] == ["held", "held"]
    async with bot.ctx.sessions() as session:
        user = await session.get(User, SALES)
        assert user is not None and user.blocked_at is not None and not user.reachable

    # Later notices are kept without asking Telegram again, and nobody is told twice.
    tried = sends_to(fake, SALES)
    assert tried == 1  # the first refusal told us; the second row was not even tried
    more = await queue(bot, {"text": "第三則", "chat_id": SALES})
    [row] = await wait_settled(fake, bot, more)
    assert row.status == "held"
    await fake.wait_idle(quiet=2.5)  # two idle polls: nothing is retried
    assert sends_to(fake, SALES) == tried
    assert sum("封鎖" in t for t in texts_in(fake, admin.id)) == 1

    # They open the bot again: everything kept reaches them, in order, once.
    fake.send_text(SALES, SALES, "/start")
    await sales.next_message(0, "第三則")
    got = [t for t in texts_in(fake, SALES) if t.startswith("第")]
    assert got == ["第一則", "第二則", "第三則"]
    rows = await wait_settled(fake, bot, ids + more)
    assert [r.status for r in rows] == ["sent"] * 3
    async with bot.ctx.sessions() as session:
        user = await session.get(User, SALES)
        assert user is not None and user.blocked_at is None
    assert sum("封鎖" in t for t in texts_in(fake, admin.id)) == 1


async def test_a_refused_message_goes_as_its_short_form_with_its_buttons(
        bot: Runtime, fake: FakeTelegram, people: dict[str, Actor]) -> None:
    """Telegram refuses a message for good (400): the case must not strand on it. A short
    form goes instead, with the message's buttons, and the admins hear of it once."""
    admin = people["admin"]
    await fake.wait_idle()
    fake.fail_next("sendMessage", 1, error_code=400, description="Bad Request: message is too long",
                   chat_id=HR_HEAD)
    since = admin.mark()
    ids = await queue(bot, {"text": "接受還是申訴？", "chat_id": HR_HEAD, "keyboard": KEYBOARD},
                      {"text": "下一則", "chat_id": HR_HEAD})
    rows = await wait_settled(fake, bot, ids)
    assert [r.status for r in rows] == ["sent", "sent"]
    assert "too long" in rows[0].payload["refused"] and rows[0].payload.get("fell_back")
    short = await fake.wait_bot_message(HR_HEAD, contains="無法顯示")
    assert fake.buttons(short) == [("好", "noop:1")]  # the workflow goes on from here
    report = await admin.next_message(since, "被 Telegram 拒絕")
    assert "劉人事" in text_of(report) and "too long" in text_of(report)
    assert texts_in(fake, HR_HEAD)[-1] == "下一則"  # in order, after the short form

    # If even the short form is refused, the row fails for good, and the admins hear of it.
    fake.fail_next("sendMessage", 2, error_code=400, description="Bad Request: can't parse entities",
                   chat_id=HR_HEAD)
    [failed] = await wait_settled(fake, bot, await queue(bot, {"text": "壞掉的訊息",
                                                               "chat_id": HR_HEAD}))
    assert failed.status == "failed" and "can't parse entities" in (failed.last_error or "").lower()
    await admin.next_message(since, "無法送出")
    await fake.wait_idle(quiet=1.5)
    assert sum("被 Telegram 拒絕" in t for t in texts_in(fake, admin.id)) == 2
    assert sum("無法送出" in t for t in texts_in(fake, admin.id)) == 1


# (c) -------------------------------------------------------------------------------------

async def test_forgotten_topic_is_recreated_with_its_card(
        bot: Runtime, fake: FakeTelegram, people: dict[str, Actor]) -> None:
    card = await file_and_post(fake, people)
    old = card["message_thread_id"]
    await fake.wait_idle()
    del fake.chat_state(FORUM).topics[old]  # deleted in the app, as far as sending goes

    ids = await queue(bot, {"text": "補充：客戶再來電", "complaint_id": 1, "to_thread": True})
    notice = await fake.wait_bot_message(FORUM, contains="補充：客戶再來電")
    assert [r.status for r in await wait_settled(fake, bot, ids)] == ["sent"]
    new = notice["message_thread_id"]
    assert new != old and new in fake.topics(FORUM)
    assert fake.topics(FORUM)[new]["name"].startswith(f"#P-{YEAR}-0001")
    cards = [m for m in fake.bot_messages(FORUM, new) if f"#P-{YEAR}-0001" in text_of(m)
             and fake.buttons(m)]
    assert len(cards) == 1  # the card, with its buttons, before the notice
    assert cards[0]["message_id"] < notice["message_id"]
    async with bot.ctx.sessions() as session:
        complaint = await session.get(Complaint, 1)
        assert complaint is not None
        assert (complaint.thread_id, complaint.card_message_id) == (new, cards[0]["message_id"])
        assert await session.get(ThreadMessage, (FORUM, cards[0]["message_id"])) is not None
    assert await Threads(bot.ctx).complaint_of(FORUM, new, None) == 1

    # The next notice goes straight to the new topic; no third topic.
    topics = len(fake.topics(FORUM))
    await queue(bot, {"text": "再補充", "complaint_id": 1, "to_thread": True})
    again = await fake.wait_bot_message(FORUM, contains="再補充")
    assert again["message_thread_id"] == new and len(fake.topics(FORUM)) == topics


async def test_deleted_topic_and_card_are_recreated_on_the_next_card_refresh(
        bot: Runtime, fake: FakeTelegram, people: dict[str, Actor]) -> None:
    card = await file_and_post(fake, people)
    old = card["message_thread_id"]
    await fake.wait_idle()
    state = fake.chat_state(FORUM)  # what deleteForumTopic does: the topic and its messages
    del state.topics[old]
    for mid in [m for m, msg in state.messages.items() if msg.get("message_thread_id") == old]:
        state.deleted.append(state.messages.pop(mid))

    mark = fake.mark()
    async with bot.ctx.transaction() as session:
        row = queue_action(session, bot.ctx.now(), "refresh_card", 1)
        assert row is not None
        await session.flush()
        ids = [row.id]
    new_card = await fake.wait_bot_message(FORUM, contains=f"#P-{YEAR}-0001", after=mark)
    assert new_card["message_thread_id"] != old and fake.buttons(new_card)
    [row] = await wait_settled(fake, bot, ids)
    assert row.status == "sent"
    async with bot.ctx.sessions() as session:
        complaint = await session.get(Complaint, 1)
        assert complaint is not None
        assert complaint.thread_id == new_card["message_thread_id"]
        assert complaint.card_message_id == new_card["message_id"]


async def test_thread_not_found_from_telegram_moves_the_complaint(
        bot: Runtime, fake: FakeTelegram, people: dict[str, Actor]) -> None:
    card = await file_and_post(fake, people)
    await fake.wait_idle()
    fake.fail_next("sendMessage", 1, error_code=400, description="Bad Request: message thread not found")
    ids = await queue(bot, {"text": "期限提醒", "complaint_id": 1, "to_thread": True})
    notice = await fake.wait_bot_message(FORUM, contains="期限提醒")
    assert notice["message_thread_id"] != card["message_thread_id"]
    [row] = await wait_settled(fake, bot, ids)
    assert row.status == "sent"


# (d) -------------------------------------------------------------------------------------

async def test_a_burst_reaches_the_group_as_a_few_digests(
        start_bot: StartBot, fake: FakeTelegram, people: dict[str, Actor]) -> None:
    # Telegram's own flood limit for a group (20 a minute: one per 3 s), kept by
    # AIORateLimiter: one by one, 300 notices would take 15 minutes. The complaint is filed
    # first with the test limit, then the bot restarts with the real one.
    first = await start_bot()
    card = await file_and_post(fake, people)
    thread = card["message_thread_id"]
    await fake.wait_idle()
    await first.stop()
    bot = await start_bot(telegram={"poll_timeout": 1, "group_messages_per_minute": 20})
    await fake.wait_idle()
    in_thread = len(fake.bot_messages(FORUM, thread))
    mark = fake.mark()
    lines = [f"⏰ #P-{YEAR}-0001 <b>生產部</b>「質量鑒定」剩 {i % 60} 分鐘 · 第 {i:03d} 條"
             for i in range(300)]
    started = time.monotonic()
    ids = await queue(bot, *[{"text": f"⏰ 完整提醒 {i:03d}", "complaint_id": 1, "to_thread": True,
                              "digest": line} for i, line in enumerate(lines)])
    rows = await wait_settled(fake, bot, ids)
    elapsed = time.monotonic() - started
    assert {r.status for r in rows} == {"sent"}

    digests = [m for m in fake.bot_messages(FORUM) if fake.chat_state(FORUM).meta[
        m["message_id"]].created > mark.seq]
    assert 1 <= len(digests) <= 20
    # All about one complaint: the digests go to its own thread (many complaints: the
    # group's main chat, as in the benchmark).
    assert all(m.get("message_thread_id") == thread for m in digests)
    text = "\n".join(text_of(m) for m in digests)
    for i in range(300):
        assert text.count(f"第 {i:03d} 條") == 1, i
    assert all(len(text_of(m)) <= 4096 for m in digests)
    assert len(fake.bot_messages(FORUM, thread)) == in_thread + len(digests)  # none one by one
    print(f"\n300 notices → {len(digests)} digest messages in {elapsed:.2f}s")


async def test_few_digestible_rows_go_to_their_thread(
        bot: Runtime, fake: FakeTelegram, people: dict[str, Actor]) -> None:
    card = await file_and_post(fake, people)
    thread = card["message_thread_id"]
    await fake.wait_idle()
    ids = await queue(bot, *[{"text": f"單獨提醒 {i}", "complaint_id": 1, "to_thread": True,
                              "digest": f"摘要 {i}"} for i in range(2)])
    await wait_settled(fake, bot, ids)
    assert [t for t in texts_in(fake, FORUM, thread) if "提醒" in t] == ["單獨提醒 0", "單獨提醒 1"]


async def test_notices_queued_together_for_one_person_arrive_as_one_message(
        bot: Runtime, fake: FakeTelegram) -> None:
    await fake.wait_idle()
    before = len(fake.bot_messages(PROD_HEAD))
    notices = [f"⏰ 提醒 {i:02d}：投訴 <b>P-{YEAR}-00{i:02d}</b> 的答覆還剩 30 分鐘。" for i in range(20)]
    ids = await queue(bot, *[{"text": n, "chat_id": PROD_HEAD} for n in notices])
    rows = await wait_settled(fake, bot, ids)
    assert {r.status for r in rows} == {"sent"}
    got = fake.bot_messages(PROD_HEAD)[before:]
    assert 1 <= len(got) <= 2
    text = "\n\n".join(text_of(m) for m in got)
    for i in range(20):
        assert text.count(f"提醒 {i:02d}") == 1
    assert text.index("提醒 00") < text.index("提醒 19")


async def test_a_group_at_its_flood_limit_does_not_hold_up_private_messages(
        start_bot: StartBot, fake: FakeTelegram) -> None:
    bot = await start_bot(telegram={"poll_timeout": 1, "group_messages_per_minute": 20})
    await fake.wait_idle()
    await queue(bot, *[{"text": f"群組訊息 {i:02d}", "chat_id": PLAIN} for i in range(24)])
    await fake.wait_for(lambda: len(texts_in(fake, PLAIN)) >= 2)  # the group's limit now bites
    await queue(bot, {"text": "私訊不用排隊", "chat_id": DESK_HEAD})
    await fake.wait_bot_message(DESK_HEAD, contains="私訊不用排隊")
    # It overtook the group's queue (24 rows at 20 a minute): speed itself is bench/'s to measure.
    assert len(texts_in(fake, PLAIN)) < 24


# (e) -------------------------------------------------------------------------------------

def record_claims(sender: Sender) -> list[int]:
    claimed: list[int] = []
    original = sender._claim

    async def claim(ids: Any, *, prefix: bool) -> list[int]:
        got = await original(ids, prefix=prefix)
        claimed.extend(got)
        return got

    sender._claim = claim  # type: ignore[method-assign]
    return claimed


async def test_two_processes_on_one_database_send_each_row_once(
        bot: Runtime, fake: FakeTelegram, tmp_path: Path) -> None:
    second = Runtime(settings_for(fake, tmp_path / "complaints.db"))  # own engine, same file
    await second.app.initialize()
    first_claims, second_claims = record_claims(bot.sender), record_claims(second.sender)
    task = asyncio.create_task(second.sender.run())
    try:
        await fake.wait_idle()
        chats = [SALES, DESK_HEAD, HR_HEAD, PROD_HEAD, PLAIN]
        specs = [{"text": f"訊息 {i:03d}", "chat_id": chats[i % len(chats)], "keyboard": KEYBOARD}
                 for i in range(100)]
        # Rows queued by a third party (the queueing process would claim them at commit
        # itself): both senders compete for them.
        claim_at_commit, bot.ctx.claim_at_commit = bot.ctx.claim_at_commit, None
        ids = await queue(bot, *specs)
        bot.ctx.claim_at_commit = claim_at_commit
        second.sender.wake()
        rows = await wait_settled(fake, bot, ids)
        assert {r.status for r in rows} == {"sent"}
        for index, chat in enumerate(chats):
            expected = [f"訊息 {i:03d}" for i in range(index, 100, len(chats))]
            assert [t for t in texts_in(fake, chat) if t.startswith("訊息")] == expected
        mine, theirs = set(first_claims) & set(ids), set(second_claims) & set(ids)
        assert not mine & theirs, "a row was claimed by both senders"
        assert mine | theirs == set(ids)
        assert mine and theirs, "both senders should have taken part"
        print(f"\nfirst sender sent {len(mine)} rows, second {len(theirs)}")
    finally:
        second.sender.stop()
        await task
        await second.app.shutdown()
        await second.dispose_engines()


async def test_rows_of_a_crashed_sender_go_out_when_their_lease_ends(
        bot: Runtime, fake: FakeTelegram) -> None:
    await fake.wait_idle()
    now = wall_now()
    ids = await queue(
        bot,
        {"text": "崩潰前領取的", "chat_id": DESK_HEAD, "status": "sending",
         "lease": now - timedelta(seconds=1)},
        {"text": "另一個程序正在發的", "chat_id": SALES, "status": "sending",
         "lease": now + timedelta(seconds=12)})  # longer than RELEASE_EVERY_SECONDS
    await fake.wait_bot_message(DESK_HEAD, contains="崩潰前領取的")
    await asyncio.sleep(0.5)
    assert "另一個程序正在發的" not in texts_in(fake, SALES)  # its lease still runs
    await fake.wait_bot_message(SALES, contains="另一個程序正在發的", timeout=25)
    rows = await wait_settled(fake, bot, ids)
    assert [r.status for r in rows] == ["sent", "sent"]
    assert texts_in(fake, SALES).count("另一個程序正在發的") == 1


async def test_a_press_on_a_card_whose_posting_was_not_recorded_counts_and_no_second_card(
        bot: Runtime, fake: FakeTelegram, people: dict[str, Actor]) -> None:
    """The card reached the group but its sender never learnt it (Telegram's answer was lost;
    likewise a process killed before the commit): the order desk presses 受理 on it at once.
    The press counts (the card it was pressed on becomes the complaint's card), and the
    sender, trying again, posts no second card."""
    head, sales, desk = people["sales_head"], people["sales"], people["desk"]
    request = await submit_for_approval(sales, head)
    fake.fail_next("sendMessage", error_code="timeout", delay=3.0, perform=True, chat_id=FORUM)
    since = sales.mark()
    await head.press(request, head.button(request, ":y"), expect="已批准")
    card = await fake.wait_bot_message(FORUM, contains=f"#P-{YEAR}-0001")
    async with bot.ctx.sessions() as session:
        complaint = await session.get(Complaint, 1)
        assert complaint is not None and complaint.posted_at is None  # not known to be posted

    query = fake.press(desk.id, card, "st:1:accept:order_desk")
    answer = await fake.callback_answer(query)
    assert "沒有需要" not in (answer.get("text") or "")  # not refused as "no step open"
    await card_offers(fake, card, "st:1:publish_process:order_desk")
    await sales.next_message(since, "已發佈到工作群")
    await sales.next_message(since, "已由 打單部 受理")

    await fake.wait_idle()
    async with bot.ctx.sessions() as session:
        complaint = await session.get(Complaint, 1)
        assert complaint is not None
        assert (complaint.chat_id, complaint.thread_id, complaint.card_message_id) == (
            FORUM, card["message_thread_id"], card["message_id"])
        posted = list(await session.scalars(select(AuditEvent).where(
            AuditEvent.complaint_id == 1, AuditEvent.action == "posted")))
        assert len(posted) == 1
        card_rows = list(await session.scalars(select(OutboxMessage).where(
            OutboxMessage.kind == "post_card")))
        assert [row.status for row in card_rows] == ["sent"]
    cards = [m for m in fake.bot_messages(FORUM) if f"#P-{YEAR}-0001" in text_of(m)
             and fake.buttons(m)]
    assert [m["message_id"] for m in cards] == [card["message_id"]]
    assert texts_in(fake, sales.id).count(next(
        t for t in texts_in(fake, sales.id) if "已發佈到工作群" in t)) == 1
