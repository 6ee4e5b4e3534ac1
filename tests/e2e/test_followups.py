"""Ch. 9: the follow-up visit (回訪) after a complaint closes — recorded with buttons and the
customer's words, missed (reminder, breach, fine when configured), and a dissatisfied
customer's complaint reopened into a new round."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from bot.sandbox import FakeTelegram
from bot.store.models import Fine, FollowUp
from tests.e2e.conftest import FORUM, QUIET_REPORTS, Actor, StartBot, text_of
from tests.e2e.flows import YEAR, file_and_post_service, press_in_group, say_in_thread, topic_of
from tests.e2e.test_chains import MovableClock
from tests.e2e.test_handling import complaint_id

NUMBER = f"S-{YEAR}-0001"


async def close_service_complaint(fake: FakeTelegram, people: dict[str, Actor],
                                  card: dict[str, Any] | None = None) -> dict[str, Any]:
    """A service complaint (`card`, else a new one) through every step of rule 一.3 to the
    complainant's 接受: HR's member accepts (受理) it, so they are the visitor of a minor
    complaint. Returns the card."""
    hr, logistics, sales = people["hr"], people["logi_head"], people["sales"]
    card = card or await file_and_post_service(fake, people)
    cid = complaint_id(fake, card)
    fake.press(hr.id, card, f"st:{cid}:accept:hr")
    await fake.wait_edit(card, contains="✅ 受理")
    picker = await press_in_group(fake, hr, card, f"st:{cid}:route:hr")
    index = next(i for i, (text, _) in enumerate(fake.buttons(picker)) if text == "物流部")
    fake.press(hr.id, picker, f"pk:{cid}:{index}")
    await fake.wait_bot_message(FORUM, contains="已交給 物流部")
    prompt = await press_in_group(fake, logistics, await fake.wait_edit(card, contains="⏳ 處理方案"),
                                  f"st:{cid}:plan:logistics")
    await say_in_thread(fake, logistics, card, "向客戶致歉，補發並免運費", reply_to=prompt,
                        expect="已記錄")
    since_sales = sales.mark()
    prompt = await press_in_group(fake, hr, await fake.wait_edit(card, contains="⏳ 通知投訴人"),
                                  f"st:{cid}:notify:hr")
    await say_in_thread(fake, hr, card, "已與物流部確認，今天補發。", reply_to=prompt,
                        expect="已把處理方案通知投訴人")
    notice = await sales.next_message(since_sales, "有答覆了")
    await sales.press(notice, sales.button(notice, ":ok"), expect="結案")
    return card


async def visit_task(actor: Actor, since: int) -> dict[str, Any]:
    return await actor.next_message(since, "1/4")


async def test_a_visit_recorded_with_buttons_and_words_shows_on_the_card_and_in_show(
        start_bot: StartBot, fake: FakeTelegram, people: dict[str, Actor]) -> None:
    clock = MovableClock()
    await start_bot(clock=clock, sweep_seconds=0.3, fines=QUIET_REPORTS)
    hr, sales, hr_head = people["hr"], people["sales"], people["hr_head"]
    since = hr.mark()
    card = await close_service_complaint(fake, people)
    closed_at = clock.now()
    task = await visit_task(hr, since)  # the minor complaint's accepter visits
    assert NUMBER in text_of(task) and "1/4" in text_of(task)
    assert [label for label, _ in fake.buttons(task)] == ["電話", "微信", "面談", "書信"]
    await fake.wait_edit(card, contains="待回訪")

    # Only the visitor, HR or an admin: the complainant's forged press is refused.
    phone = hr.button(task, ":m:phone")
    query = fake.press_forged(sales.id, phone)
    answer = await fake.callback_answer(query)
    assert answer["show_alert"] and "回訪人" in str(answer["text"])

    satisfaction = await hr.press(task, phone, expect="2/4")
    assert [label for label, _ in fake.buttons(satisfaction)] == ["滿意", "基本滿意", "不滿意"]
    await hr.press(satisfaction, hr.button(satisfaction, ":s:good"), expect="3/4")
    await hr.say("   ", expect="不能空白")  # bad input: said what to do, asked again later
    await hr.say("客" * 1001, expect="太長")
    more = await hr.say("客戶說補發很快，<謝謝>", expect="4/4")
    assert [d.split(":")[-1] for _, d in fake.buttons(more)] == ["y", "n"]
    recorded = await hr.press(more, hr.button(more, ":n:n"), expect="已記錄")
    assert "客戶意見：客戶說補發很快，<謝謝>" in text_of(recorded)
    assert not fake.buttons(recorded)  # satisfied: nothing to reopen

    await fake.wait_bot_message(FORUM, contains="已回訪")
    await fake.wait_edit(card, contains="回訪：電話，滿意")
    shown = await hr_head.say(f"/show {NUMBER}", expect="完整記錄")
    assert "回訪：電話，滿意" in text_of(shown) and "客戶說補發很快" in text_of(shown)
    assert "沒有等你回訪" in text_of(await hr.say("/followups", expect="等你回訪"))

    # Its clock stopped: 24 hours later nobody hears of a missed visit.
    since_head = hr_head.mark()
    clock.jump_to(closed_at + timedelta(hours=24, seconds=10))
    await fake.wait_idle(quiet=1.5)
    assert not any("仍未記錄" in text_of(m) for m in hr_head.inbox()[since_head:])
    # A button of the recorded visit is stale now.
    query = fake.press_forged(hr.id, phone.replace(":phone", ":visit"))
    assert "已經記錄" in str((await fake.callback_answer(query))["text"])


async def test_a_missed_visit_is_reminded_then_reported_and_fined_when_configured(
        start_bot: StartBot, fake: FakeTelegram, people: dict[str, Actor]) -> None:
    clock = MovableClock()
    runtime = await start_bot(clock=clock, sweep_seconds=0.3, fines=QUIET_REPORTS,
                              followup={"warn_before": [60], "fine": 20})
    hr, hr_head = people["hr"], people["hr_head"]
    since = hr.mark()
    await close_service_complaint(fake, people)
    closed_at = clock.now()
    await visit_task(hr, since)

    listed = await hr.say("/followups", expect="等你回訪")
    assert NUMBER in text_of(listed) and fake.buttons(listed)

    since = hr.mark()
    clock.jump_to(closed_at + timedelta(hours=23, seconds=10))
    reminder = await hr.next_message(since, "還剩")
    assert "60 分鐘" in text_of(reminder) and fake.buttons(reminder)  # the question again

    since, since_head = hr.mark(), hr_head.mark()
    clock.jump_to(closed_at + timedelta(hours=24, seconds=10))
    reported = await hr_head.next_message(since_head, "仍未記錄")
    assert "罰款" in text_of(reported) and "20" in text_of(reported)
    await hr.next_message(since, "已過期限")
    await fake.wait_idle(quiet=1.0)
    assert sum("仍未記錄" in text_of(m) for m in hr_head.inbox()) == 1

    async with runtime.ctx.sessions() as session:
        visit = await session.scalar(select(FollowUp))
        fines = list(await session.scalars(select(Fine)))
    assert visit is not None and visit.overdue_at is not None and visit.done_at is None
    assert [(f.follow_up_id, f.department_key, f.amount_cents) for f in fines] == \
        [(visit.id, "hr", 2000)]
    listing = await hr_head.say("/fines", expect="罰款記錄")
    assert NUMBER in text_of(listing) and "人力資源部" in text_of(listing)

    # Still recordable, late: the card says so.
    listed = await hr.say("/followups", expect="🚨")
    task = await hr.press(listed, hr.button(listed, ":go:0"), expect="1/4")
    assert "1/4" in text_of(task)


async def test_a_dissatisfied_customer_reopens_the_complaint_into_a_new_round(
        start_bot: StartBot, fake: FakeTelegram, people: dict[str, Actor]) -> None:
    await start_bot(fines=QUIET_REPORTS)
    hr, logistics, sales = people["hr"], people["logi_head"], people["sales"]
    since = hr.mark()
    card = await close_service_complaint(fake, people)
    task = await visit_task(hr, since)
    step = await hr.press(task, hr.button(task, ":m:letter"), expect="2/4")
    step = await hr.press(step, hr.button(step, ":s:bad"), expect="3/4")
    step = await hr.say("補發的貨也有破損", expect="4/4")
    since_desk = people["hr_head"].mark()
    recorded = await hr.press(step, hr.button(step, ":n:y"), expect="重新處理")
    await people["hr_head"].next_message(since_desk, "客戶不滿意")  # the intake head told

    thread = topic_of(fake, card)
    if thread is not None:
        await fake.wait_for(lambda: fake.topics(FORUM)[thread]["closed"],
                            message="the closed complaint's topic is closed")
    since_logistics, since_sales = logistics.mark(), sales.mark()
    reopen = hr.button(recorded, ":r:y")
    reopened = await hr.press(recorded, reopen, expect="已重新處理")
    assert not fake.buttons(reopened)
    thread_note = await fake.wait_bot_message(FORUM, contains="回訪後把")
    assert "補發的貨也有破損" in text_of(thread_note) and "請 物流部" in text_of(thread_note)
    await logistics.next_message(since_logistics, "再處理意見")
    await sales.next_message(since_sales, "重新處理")

    if thread is not None:  # closed with the complaint, open again for the new round
        await fake.wait_for(lambda: not fake.topics(FORUM)[thread]["closed"],
                            message="the topic is reopened")
    # The department that answered answers again, from the card's button, like an appeal.
    reopened_card = await fake.wait_edit(card, contains="回訪後再處理意見")
    prompt = await press_in_group(fake, logistics, reopened_card, "st:1:revisit:logistics")
    since_sales = sales.mark()
    await say_in_thread(fake, logistics, card, "重新發貨並上門道歉", reply_to=prompt,
                        expect="已記錄")
    answers = await sales.next_message(since_sales, "重新發貨並上門道歉")
    since = hr.mark()
    await sales.press(answers, "vd:1:ok", expect="結案")
    second = await visit_task(hr, since)  # a new round closed: a new visit
    assert "1/4" in text_of(second)
    # The reopening button of the first visit is spent.
    query = fake.press_forged(hr.id, reopen)
    assert (await fake.callback_answer(query))["show_alert"]


async def test_a_major_complaint_is_visited_by_the_managing_head_who_is_reminded_of_in_person(
        start_bot: StartBot, fake: FakeTelegram, people: dict[str, Actor]) -> None:
    await start_bot(fines=QUIET_REPORTS)
    hr, hr_head = people["hr"], people["hr_head"]
    card = await file_and_post_service(fake, people)
    await hr.say(f"/major {NUMBER} c 客戶受傷", expect="標為重大投訴")
    await fake.wait_edit(card, contains="重大投訴")
    since = hr_head.mark()
    await close_service_complaint(fake, people, card)

    task = await visit_task(hr_head, since)  # the managing (intake) head, not the accepter
    assert "面談" in text_of(task) and "重大投訴" in text_of(task)
    step = await hr_head.press(task, hr_head.button(task, ":m:phone"), expect="2/4")
    assert "已按你選的方式記錄" in text_of(step)  # the rule wants 面談: said, and recorded


async def test_hr_records_a_visit_begun_by_its_visitor_whose_next_text_is_theirs_again(
        start_bot: StartBot, fake: FakeTelegram, people: dict[str, Actor]) -> None:
    await start_bot(fines=QUIET_REPORTS)
    hr, hr_head = people["hr"], people["hr_head"]
    since = hr.mark()
    await close_service_complaint(fake, people)
    task = await visit_task(hr, since)
    step = await hr.press(task, hr.button(task, ":m:phone"), expect="2/4")
    await hr.press(step, hr.button(step, ":s:fair"), expect="3/4")  # the words are awaited

    listed = await hr_head.say("/followups", expect="其他人未完成的回訪")  # HR sees everyone's
    step = await hr_head.press(listed, hr_head.button(listed, ":go:0"), expect="3/4")
    step = await hr_head.say("客戶說還可以", expect="4/4")
    await hr_head.press(step, hr_head.button(step, ":n:n"), expect="已記錄")

    await hr.say("客戶很好", expect="已經記錄了")  # the question the visitor had is gone…
    reply = await hr.say("你好")
    assert "已經記錄了" not in text_of(reply)  # … so their next text is not taken for it


async def test_keeping_a_dissatisfied_customers_complaint_closed_is_decided_once(
        start_bot: StartBot, fake: FakeTelegram, people: dict[str, Actor]) -> None:
    await start_bot(fines=QUIET_REPORTS)
    hr = people["hr"]
    since = hr.mark()
    await close_service_complaint(fake, people)
    task = await visit_task(hr, since)
    step = await hr.press(task, hr.button(task, ":m:visit"), expect="2/4")
    step = await hr.press(step, hr.button(step, ":s:bad"), expect="3/4")
    step = await hr.say("價格問題，已解釋", expect="4/4")
    recorded = await hr.press(step, hr.button(step, ":n:n"), expect="重新處理")
    reopen = hr.button(recorded, ":r:y")
    await hr.press(recorded, hr.button(recorded, ":r:n"), expect="維持結案")
    answer = await fake.callback_answer(fake.press_forged(hr.id, reopen))
    assert answer["show_alert"] and "失效" in str(answer["text"])  # decided: not reopened now
    shown = await hr.say(f"/show {NUMBER}", expect="完整記錄")
    assert "回訪後維持結案" in text_of(shown) and "回訪後重新處理" not in text_of(shown)
