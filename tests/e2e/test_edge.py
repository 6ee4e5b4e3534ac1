"""At the edge: every action answered once, whatever Telegram does and however long the text.

- an outage of 30 s (502s and dropped connections on sendMessage and the edits) while people
  act: every reply arrives after it, once, in order per chat;
- Telegram's pace in a private chat (the fake refuses more with 429): a burst of 300 fines
  reaches HR as a few digests, every fine named and payable from its own button, no 429;
  a fast typist is answered at that pace;
- the longest answers the questions allow never strand a complaint;
- an open question in one complaint's thread survives its owner beginning a step in another;
- the rest of a text Telegram split is not taken as an answer.
"""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest
from sqlalchemy import select

from bot.app import Runtime
from bot.clock import to_db
from bot.domain.fields import ComplaintKind, fields_of
from bot.formats import Money
from bot.sandbox import FakeTelegram
from bot.services.deadlines import DeadlineEngine
from bot.services.handling import MAX_ANSWER
from bot.store.models import Complaint, Fine, OutboxMessage, StepRecord
from tests.e2e.conftest import FORUM, SALES, Actor, StartBot, text_of
from tests.e2e.flows import YEAR, file_and_post, press_in_group, say_in_thread, submit_for_approval
from tests.e2e.test_handling import accept_and_publish, complaint_id

REAL_PACE = {"poll_timeout": 1, "group_messages_per_minute": 6000,
             "private_messages_per_second": 1, "private_burst": 3}


def bot_texts(fake: FakeTelegram, chat: int) -> list[str]:
    return [text_of(m) for m in fake.bot_messages(chat)]


@pytest.mark.slow
async def test_an_api_outage_loses_no_reply_and_repeats_none(
        bot: Runtime, fake: FakeTelegram, people: dict[str, Actor]) -> None:
    sales, head, hr_head, desk = (people["sales"], people["sales_head"], people["hr_head"],
                                  people["desk"])
    request = await submit_for_approval(sales, head)  # waiting for the head's decision
    await fake.wait_idle()
    before = {who.id: len(who.inbox()) for who in (sales, head, hr_head, desk)}
    fake.outage(["sendMessage", "editMessageText", "editMessageReplyMarkup"], 30)

    # People act meanwhile, each without waiting for answers that do not come.
    for text in ("/product", "王小明", "永輝超市", "昨天"):
        fake.send_text(sales.id, sales.id, text)
    fake.press(head.id, request, head.button(request, ":y"))
    fake.send_text(hr_head.id, hr_head.id, "/fund")
    fake.send_text(desk.id, desk.id, "/open")
    await asyncio.sleep(30)
    assert all(len(who.inbox()) == before[who.id] for who in (sales, head, hr_head, desk))
    injected = Counter(e["error_code"] for e in fake.errors if e.get("injected"))
    assert injected[502] and injected["drop"], injected

    # Telegram is back: everything arrives, once, in order per chat.
    await sales.next_message(before[sales.id], "第 4/8 步", timeout=30)
    await fake.wait_bot_message(FORUM, contains=f"#P-{YEAR}-0001", timeout=30)
    await head.next_message(before[head.id], "已批准", timeout=30)
    await hr_head.next_message(before[hr_head.id], "水果基金", timeout=30)
    await desk.next_message(before[desk.id], "待處理", timeout=30)
    await fake.wait_for(lambda: not fake.buttons(request), timeout=30,
                        message="the head's approve/reject buttons go")
    await fake.wait_idle(quiet=2, timeout=30)
    steps = [t for t in bot_texts(fake, sales.id)[before[sales.id]:] if "《產品質量投訴》第" in t]
    assert [t.split(" 步")[0].split("第 ")[1] for t in steps] == ["1/8", "2/8", "3/8", "4/8"]
    approved = [t for t in bot_texts(fake, sales.id) if "已批准你的投訴" in t]
    assert len(approved) == 1
    assert sum(f"#P-{YEAR}-0001" in t for t in bot_texts(fake, FORUM)) == 1  # one card
    assert len(fake.topics(FORUM)) == 1
    assert [t for t in bot_texts(fake, head.id) if "已批准" in t] == \
        [t for t in bot_texts(fake, head.id) if "已批准" in t][:1]
    async with bot.ctx.sessions() as session:
        stuck = await session.scalars(select(OutboxMessage.id).where(
            OutboxMessage.status.not_in(("sent",))))
        assert list(stuck) == []


async def seed_fines(runtime: Runtime, count: int) -> list[int]:
    """`count` fines on one complaint, each of its own step: what `count` missed answers
    leave in the ledger."""
    now = runtime.ctx.now()
    async with runtime.ctx.transaction() as session:
        complaint = Complaint(number=f"P-{YEAR}-0900", kind="product", status="open",
                              complainant_id=SALES, answers={}, photos=[], filed_at=to_db(now))
        session.add(complaint)
        await session.flush()
        ids = []
        for i in range(count):
            step = StepRecord(complaint_id=complaint.id, step_key="answer",
                              department_key="production", round=i, started_at=to_db(now),
                              due_at=to_db(now))
            session.add(step)
            await session.flush()
            fine = Fine(complaint_id=complaint.id, step_id=step.id, department_key="production",
                        head_user_id=None, head_name="周生產", amount_cents=5000, currency="CNY",
                        status="levied", levied_at=to_db(now))
            session.add(fine)
            await session.flush()
            ids.append(fine.id)
    return ids


@pytest.mark.slow
async def test_a_burst_of_300_fines_reaches_hr_paced_as_a_few_digests(
        start_bot: StartBot, fake: FakeTelegram, people: dict[str, Actor]) -> None:
    fake.private_rate, fake.private_burst = 1.0, 5  # Telegram's pace in one private chat
    runtime = await start_bot(telegram=REAL_PACE)
    hr_head = people["hr_head"]
    await fake.wait_idle()
    ids = await seed_fines(runtime, 300)
    engine = DeadlineEngine(runtime.ctx)
    async with runtime.ctx.transaction() as session:  # as the breaches queue them (_to_hr)
        for fine_id in ids:
            await engine._to_hr(session, "deadlines.hr_breach", fine_id=fine_id,
                                number=f"P-{YEAR}-0900", step="answer",
                                step_label="質量鑒定結果和處理意見", department="生產部", due=None,
                                late=False, fine=Money(5000, "CNY"), head="周生產")

    def listed() -> str:
        return "\n".join(t for t in bot_texts(fake, hr_head.id) if "則通知" in t)

    await fake.wait_for(lambda: all(f"罰單 {i}，" in listed() for i in ids), timeout=60,
                        message="every fine listed in HR's digests")
    digests = [m for m in fake.bot_messages(hr_head.id) if "則通知" in text_of(m)]
    assert len(digests) <= 10, len(digests)
    assert fake.rate_limited == [], fake.rate_limited
    for i in ids:  # each named once, each with its own buttons
        assert listed().count(f"罰單 {i}，") == 1
    digest = next(m for m in digests if f"罰單 {ids[0]}，" in text_of(m))
    data = [d for _, d in fake.buttons(digest)]
    assert f"fn:{ids[0]}:paid" in data and f"fn:{ids[0]}:waive" in data

    # One paid from its button, another by command: both lose their buttons, the rest keep theirs.
    await hr_head.press(digest, f"fn:{ids[0]}:paid", expect="已改為")
    await hr_head.say(f"/paid {ids[1]}", expect="已改為")
    await fake.wait_for(lambda: f"fn:{ids[1]}:paid" not in str(fake.buttons(digest)),
                        message="the digest loses the buttons of the fine paid by command")
    remaining = [d for _, d in fake.buttons(digest)]
    assert f"fn:{ids[0]}:paid" not in remaining and f"fn:{ids[2]}:paid" in remaining
    async with runtime.ctx.sessions() as session:
        paid = await session.scalars(select(Fine.id).where(Fine.status == "paid"))
        assert sorted(paid) == sorted(ids[:2])
    assert fake.rate_limited == []


async def test_a_fast_typist_is_answered_at_telegrams_pace(
        start_bot: StartBot, fake: FakeTelegram, people: dict[str, Actor]) -> None:
    fake.private_rate, fake.private_burst = 1.0, 5
    await start_bot(telegram=REAL_PACE)
    sales = people["sales"]
    await fake.wait_idle()
    since = sales.mark()
    for _ in range(8):
        fake.send_text(sales.id, sales.id, "/whoami")
    # Answers waiting for the chat's turn may be joined into one message; each comes once.
    await fake.wait_for(lambda: sum(t.count("Telegram ID") for t in
                                    bot_texts(fake, sales.id)[since:]) >= 8,
                        timeout=30, message="eight answers")
    await fake.wait_idle(quiet=2)
    assert sum(t.count("Telegram ID") for t in bot_texts(fake, sales.id)[since:]) == 8
    assert fake.rate_limited == []


def longest(length: int) -> str:
    unit = "漏液<b>&批次</b> "
    return (unit * (length // len(unit) + 1))[:length]


async def test_the_longest_answers_never_strand_a_complaint(
        bot: Runtime, fake: FakeTelegram, people: dict[str, Actor]) -> None:
    """Three departments answer with the longest assessment and opinion allowed: the thread
    confirms each, the complainant gets all three (shortened, pointing to /show) with the
    buttons to accept, and /show gives every word over several messages."""
    sales = people["sales"]
    card = await file_and_post(fake, people)
    await accept_and_publish(fake, people, card, ticks=[0, 1, 2])
    cid = complaint_id(fake, card)
    since = sales.mark()
    for actor, department in ((people["prod_head"], "production"),
                              (people["purch_head"], "purchasing"),
                              (people["logi_head"], "logistics")):
        prompt = await press_in_group(fake, actor, card, f"st:{cid}:answer:{department}")
        ask = await say_in_thread(fake, actor, card, longest(MAX_ANSWER), reply_to=prompt,
                                  expect="處理意見")
        recorded = await say_in_thread(fake, actor, card, longest(MAX_ANSWER), reply_to=ask,
                                       expect="已記錄")
        assert f"/show P-{YEAR}-0001" in text_of(recorded)
    answers = await sales.next_message(since, "有答覆了")
    assert f"/show P-{YEAR}-0001" in text_of(answers)
    assert sales.button(answers, ":ok")
    since = sales.mark()
    fake.send_text(sales.id, sales.id, f"/show P-{YEAR}-0001")
    await fake.wait_for(lambda: sum("完整記錄" in t for t in bot_texts(fake, sales.id)[since:]) >= 2
                        or fake.documents(sales.id), timeout=20, message="the whole record")
    await fake.wait_idle()
    shown = "".join(bot_texts(fake, sales.id)[since:]).replace("\n", "")
    documents = [d["data"].decode() for d in fake.documents(sales.id)]
    whole = shown + "".join(documents).replace("\n", "")
    assert whole.count(longest(MAX_ANSWER).replace("\n", "")) >= 6  # every part, whole
    await sales.press(answers, sales.button(answers, ":ok"), expect="已結案")
    assert fake.violations == []


async def test_the_longest_service_form_is_summarised_and_posted(
        bot: Runtime, fake: FakeTelegram, people: dict[str, Actor]) -> None:
    sales, head = people["sales"], people["sales_head"]
    # Each field at its longest, answered one question at a time (together they are longer
    # than one Telegram message, so no one can paste them all at once).
    step = await sales.say("/service", expect="步")
    await sales.press(step, sales.button(step, ":keep"), expect="步")
    asked = [f for f in fields_of(ComplaintKind.SERVICE) if f.key not in ("complainant",
                                                                           "filed_at")]
    for field in asked:
        summary = await sales.say(longest(field.max_length), expect="步")
    assert "請確認" in text_of(summary)
    assert "/show" in text_of(summary) or "全文" in text_of(summary)
    since = head.mark()
    await sales.press(summary, sales.button(summary, ":submit"), expect="審批")
    request = await head.next_message(since, "待你審批")
    await head.press(request, head.button(request, ":y"), expect="已批准")
    card = await fake.wait_bot_message(FORUM, contains=f"#S-{YEAR}-0001")
    assert f"/show S-{YEAR}-0001" in text_of(card)
    assert fake.violations == []


async def test_an_open_picker_survives_its_owner_beginning_a_step_in_another_complaint(
        bot: Runtime, fake: FakeTelegram, people: dict[str, Actor]) -> None:
    desk = people["desk"]
    first = await file_and_post(fake, people, number=1)
    second = await file_and_post(fake, people, number=2)
    for card in (first, second):
        cid = complaint_id(fake, card)
        fake.press(desk.id, card, f"st:{cid}:accept:order_desk")
        await fake.wait_edit(card, contains="✅ 受理")
    one, two = complaint_id(fake, first), complaint_id(fake, second)
    prompt = await press_in_group(fake, desk, first, f"st:{one}:publish_process:order_desk")
    picker = await say_in_thread(fake, desk, first, "注塑→灌裝", reply_to=prompt, expect="勾選")
    # The same person begins the step in the second complaint, then goes back to the first.
    await press_in_group(fake, desk, second, f"st:{two}:publish_process:order_desk")
    fake.press(desk.id, picker, f"pk:{one}:t0")
    await fake.wait_for(lambda: "☑️" in str(fake.buttons(picker)[0][0]),
                        message="the first complaint's picker still ticks")
    fake.press(desk.id, picker, f"pk:{one}:ok")
    await fake.wait_bot_message(FORUM, first["message_thread_id"], contains="已交給")


async def test_the_rest_of_a_split_text_is_not_taken_as_an_answer(
        bot: Runtime, fake: FakeTelegram, people: dict[str, Actor]) -> None:
    sales = people["sales"]
    step = await sales.say("/product", expect="第 1/8 步")
    await sales.press(step, sales.button(step, ":keep"), expect="第 2/8 步")
    since = sales.mark()
    fake.send_text(sales.id, sales.id, "永" * 4096)  # Telegram's first part of a long paste
    fake.send_text(sales.id, sales.id, "輝超市")  # its tail, a moment later
    await sales.next_message(since, "太長了")
    tail = await sales.next_message(since, "後半段")
    assert "沒有記錄" in text_of(tail)
    # The user reads, shortens it and sends it again (Telegram dates messages in whole
    # seconds, so "within 2 s" of the refused part can be up to 3 s by the clock).
    await asyncio.sleep(3.1)
    await sales.say("永輝超市", expect="第 3/8 步")
