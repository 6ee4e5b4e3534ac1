"""Deadlines in action (issue 4): warnings, breaches, exactly one fine, HR told.

Durations come from config in seconds; the calendar runs 24x7 so the tests need not wait
for office hours.
"""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import select

from bot.app import Runtime
from bot.clock import from_db
from bot.sandbox import FakeTelegram
from bot.store.models import DeadlineEvent, Fine, StepRecord
from tests.e2e.conftest import FORUM, QUIET_REPORTS, Actor, StartBot, text_of
from tests.e2e.flows import card_offers, file_and_post, file_and_post_service, press_in_group, say_in_thread
from tests.e2e.test_handling import accept_and_publish, answer_product

# A 2-hour answer shrunk to 6 s, warned 3 s before.
FAST = {"calendar": {"mode": "24x7"}, "sweep_seconds": 1,
        "deadlines": {"product": {"answer": {"minutes": 0.1, "warn_before": [0.05]}}}}


async def fines(runtime: Runtime) -> list[Fine]:
    async with runtime.ctx.sessions() as session:
        return list(await session.scalars(select(Fine).order_by(Fine.id)))


def count(messages: list[dict[str, Any]], needle: str) -> int:
    return sum(needle in text_of(m) for m in messages)


async def test_missed_answer_warns_breaches_and_fines_once(
        start_bot: StartBot, fake: FakeTelegram, people: dict[str, Actor]) -> None:
    runtime = await start_bot(**FAST)
    head, hr_head = people["prod_head"], people["hr_head"]
    card = await file_and_post(fake, people)
    thread = card["message_thread_id"]
    await accept_and_publish(fake, people, card, ticks=[0])
    await fake.wait_bot_message(FORUM, thread, contains="還剩", timeout=10)
    await head.next_message(0, "提醒", timeout=10)
    await fake.wait_bot_message(FORUM, thread, contains="未在期限", timeout=15)
    await fake.wait_bot_message(FORUM, thread, contains="罰款 50.00 CNY")
    await head.next_message(0, "向你記罰款 50.00 CNY")
    hr_notice = await hr_head.next_message(0, "🚨 逾期")
    assert "已記罰款 50.00 CNY" in text_of(hr_notice) and "周生產" in text_of(hr_notice)
    card_now = await fake.wait_edit(card, contains="逾期")
    assert card_now
    await fake.wait_idle(quiet=2.5)  # two more sweeps: nothing more happens
    [fine] = await fines(runtime)
    assert (fine.department_key, fine.head_name, fine.amount_cents, fine.status) == (
        "production", "周生產", 5000, "levied")
    in_thread = fake.bot_messages(FORUM, thread)
    assert count(in_thread, "未在期限") == 1 and count(in_thread, "罰款 50.00") == 1
    assert count(in_thread, "還剩") == 1
    sample = runtime.ctx.metrics.registry.get_sample_value  # (served at GET /metrics)
    assert sample("complaint_bot_fines_levied_total") == 1
    assert (sample("complaint_bot_deadlines_fired_total", {"kind": "breach"}) or 0) >= 1
    assert (sample("complaint_bot_deadlines_fired_total", {"kind": "warning"}) or 0) >= 1
    assert (sample("complaint_bot_deadline_lateness_seconds_count") or 0) >= 2


async def test_two_departments_one_late(start_bot: StartBot, fake: FakeTelegram,
                                        people: dict[str, Actor]) -> None:
    runtime = await start_bot(**FAST)
    card = await file_and_post(fake, people)
    await accept_and_publish(fake, people, card, ticks=[0, 1])
    await answer_product(fake, people["prod"], card, "production", "原料問題", "退貨")
    await fake.wait_bot_message(FORUM, card["message_thread_id"], contains="罰款 50.00", timeout=15)
    await fake.wait_idle(quiet=1.5)
    [fine] = await fines(runtime)
    assert fine.department_key == "purchasing" and fine.head_name == "鄭採購"


async def test_answer_one_second_before_the_deadline_is_not_fined(
        start_bot: StartBot, fake: FakeTelegram, people: dict[str, Actor]) -> None:
    slow = {**FAST, "deadlines": {"product": {"answer": {"minutes": 0.2, "warn_before": [0.05]}}}}
    runtime = await start_bot(**slow)
    card = await file_and_post(fake, people)
    await accept_and_publish(fake, people, card, ticks=[0])
    async with runtime.ctx.sessions() as session:
        breach = await session.scalar(select(DeadlineEvent).where(DeadlineEvent.kind == "breach",
                                                                  DeadlineEvent.step_id.is_not(None))
                                      .order_by(DeadlineEvent.id.desc()))
    assert breach is not None
    await answer_product(fake, people["prod"], card, "production", "原料問題", "退貨")
    await fake.wait_idle(quiet=13, timeout=30)  # well past the 12-second deadline
    assert await fines(runtime) == []
    in_thread = fake.bot_messages(FORUM, card["message_thread_id"])
    assert count(in_thread, "未在期限") == 0
    assert count(in_thread, "還剩") == 0  # met before its warning time: no warning either


async def test_hr_waives_a_fine_and_reads_the_fund_and_the_spreadsheet(
        start_bot: StartBot, fake: FakeTelegram, people: dict[str, Actor]) -> None:
    runtime = await start_bot(**FAST)
    hr_head, prod_head = people["hr_head"], people["prod_head"]
    card = await file_and_post(fake, people)
    await accept_and_publish(fake, people, card, ticks=[0])
    notice = await hr_head.next_message(0, "已記罰款", timeout=15)
    # Someone outside HR cannot waive it.
    refused = await prod_head.say("/waive 1 不算", expect="只有人力資源部")
    assert refused
    await hr_head.press(notice, hr_head.button(notice, ":waive"), expect="原因")
    empty = await hr_head.say("   ", expect="不能空白")  # named as the waiver's reason
    assert "豁免原因不能空白" in text_of(empty) and "退回" not in text_of(empty)
    since = hr_head.mark()
    fake.send_sticker(hr_head.id, hr_head.id)  # not an answer: the question again
    again = text_of(await hr_head.next_message(since))
    assert "需要打字回答" in again and "豁免罰單 1 的原因" in again, again
    since_head = prod_head.mark()
    await hr_head.say("系統測試，不計", expect="已豁免")
    await prod_head.next_message(since_head, "已豁免")
    [fine] = await fines(runtime)
    assert fine.status == "waived" and fine.reason == "系統測試，不計" and fine.changed_by == hr_head.id
    fund = await hr_head.say("/fund", expect="水果基金")
    assert "豁免 50.00 CNY" in text_of(fund) and "未繳 0.00 CNY" in text_of(fund)
    listing = await hr_head.say("/fines month", expect="罰款記錄")
    assert "周生產" in text_of(listing) and "已豁免" in text_of(listing)
    await prod_head.say("/fines", expect="罰款記錄")  # a head sees their own department's
    await prod_head.say("/fines today 採購部", expect="只能查看自己部門")
    await prod_head.say("/fines today 采购部", expect="只能查看自己部門")  # in Simplified: the same
    simplified = await hr_head.say("/fines month 生产部", expect="罰款記錄")  # and for HR, found
    assert "周生產" in text_of(simplified)

    since = hr_head.mark()
    fake.send_text(hr_head.id, hr_head.id, "/fines_xlsx month")
    document = await hr_head.next_message(since, "罰款報表")
    [stored] = [d for d in fake.documents(hr_head.id) if d["message_id"] == document["message_id"]]
    from io import BytesIO

    from openpyxl import load_workbook

    book = load_workbook(BytesIO(stored["data"]))
    fines_sheet = book.worksheets[0]
    values = [cell.value for cell in next(row for row in fines_sheet.iter_rows()
                                          if row[0].value == fine.id)]
    assert "生產部" in values and "周生產" in values and 50 in values and "已豁免" in values
    summary = await hr_head.say("/summary", expect="每日投訴時效摘要")
    assert "生產部：逾期 1 次，罰款 1 筆（50.00 CNY）" in text_of(summary)


async def test_stopping_while_a_deadline_job_is_being_dispatched_is_clean(
        start_bot: StartBot, fake: FakeTelegram, people: dict[str, Actor]) -> None:
    """APScheduler drops a run-once job from its store when it dispatches it, before our
    callback runs; a stop in that gap (CI saw one) must not raise, nor arm anything after."""
    runtime = await start_bot(**FAST)
    card = await file_and_post(fake, people)
    await accept_and_publish(fake, people, card, ticks=[0])
    scheduler = runtime.scheduler
    await scheduler.arm_window()
    assert scheduler.armed
    dispatched = next(iter(scheduler.armed.values()))
    dispatched.job.remove()  # what APScheduler does as the job starts
    await runtime.stop()
    await runtime.stop()  # the fixture stops every runtime again
    assert not scheduler.armed
    await scheduler.arm_window()
    scheduler.wake()
    await asyncio.sleep(0.3)  # what a wake would have armed
    assert not scheduler.armed


HR_GROUP = -1001000000077


async def test_fine_buttons_work_in_hrs_own_group(
        start_bot: StartBot, fake: FakeTelegram, people: dict[str, Actor]) -> None:
    """With `fines.hr_chat_id` set to HR's group, the fine notice goes there and its buttons
    work; a waiver's reason is asked for in private, where typed answers are read. Other
    messages in that group are not the bot's business."""
    fake.add_group(HR_GROUP, "人事群", is_forum=False)
    hr_head = people["hr_head"]
    fake.set_member(HR_GROUP, hr_head.id)
    runtime = await start_bot(**FAST, fines={**QUIET_REPORTS, "hr_chat_id": HR_GROUP})
    await hr_head.say("/whoami")
    card = await file_and_post(fake, people)
    await accept_and_publish(fake, people, card, ticks=[0])
    notice = await fake.wait_bot_message(HR_GROUP, contains="已記罰款", timeout=15)
    waive = next(data for _, data in fake.buttons(notice) if data.endswith(":waive"))
    fake.press(hr_head.id, notice, waive)
    asked = await fake.wait_bot_message(HR_GROUP, contains="私聊", after=notice)
    assert "原因" in text_of(asked)
    await hr_head.say("客戶撤回投訴", expect="已豁免")
    [fine] = await fines(runtime)
    assert fine.status == "waived" and fine.reason == "客戶撤回投訴"

    before = len(fake.bot_messages(HR_GROUP))
    fake.send_text(hr_head.id, HR_GROUP, "/start")
    fake.send_text(hr_head.id, HR_GROUP, "今天的罰款都處理了")
    await fake.wait_idle(quiet=1.0)
    assert len(fake.bot_messages(HR_GROUP)) == before


async def due_of(runtime: Runtime, step_key: str) -> str:
    """The step's due time as messages show it: local, month-day hour:minute."""
    async with runtime.ctx.sessions() as session:
        row = await session.scalar(select(StepRecord).where(StepRecord.step_key == step_key))
    assert row is not None and row.due_at is not None
    return from_db(row.due_at).astimezone(runtime.ctx.settings.zone).strftime("%m-%d %H:%M")


async def test_assignment_notices_say_the_configured_deadline(
        start_bot: StartBot, fake: FakeTelegram, people: dict[str, Actor]) -> None:
    """The departments are told the deadline config sets, and when it falls due — not the
    rule book's default words ("2 小時內", "10 分鐘內")."""
    runtime = await start_bot(calendar={"mode": "24x7"}, deadlines={
        "product": {"answer": {"minutes": 90}},
        "service": {"plan": {"minutes": 45}, "notify": {"minutes": 15}}})
    prod_head, logistics, hr, hr_head = (people["prod_head"], people["logi_head"], people["hr"],
                                         people["hr_head"])
    card = await file_and_post(fake, people)
    since = prod_head.mark()
    await accept_and_publish(fake, people, card, ticks=[0])
    in_thread = await fake.wait_bot_message(FORUM, card["message_thread_id"], contains="已交給")
    to_head = await prod_head.next_message(since, "已交給 生產部")
    due = await due_of(runtime, "answer")
    for text in (text_of(in_thread), text_of(to_head)):
        assert "1 小時 30 分鐘內" in text and due in text and "2 小時" not in text, text

    card = await file_and_post_service(fake, people)
    cid = next(d.split(":")[1] for _, d in fake.buttons(card) if d.startswith("st:"))
    fake.press(hr.id, card, f"st:{cid}:accept:hr")
    picker = await press_in_group(fake, hr, card, f"st:{cid}:route:hr")
    index = next(i for i, (label, _) in enumerate(fake.buttons(picker)) if label == "物流部")
    since = logistics.mark()
    fake.press(hr.id, picker, f"pk:{cid}:{index}")
    in_thread = await fake.wait_bot_message(FORUM, card["message_thread_id"], contains="已交給 物流部")
    to_head = await logistics.next_message(since, "處理方案")
    due = await due_of(runtime, "plan")
    for text in (text_of(in_thread), text_of(to_head)):
        assert "45 分鐘內" in text and due in text and "2 小時" not in text, text
    since = hr_head.mark()
    await card_offers(fake, card, f"st:{cid}:plan:logistics")
    prompt = await press_in_group(fake, logistics, card, f"st:{cid}:plan:logistics")
    await say_in_thread(fake, logistics, card, "向客戶致歉", reply_to=prompt, expect="已記錄")
    told = text_of(await hr_head.next_message(since, "通知投訴人"))
    assert "15 分鐘內通知投訴人" in told and await due_of(runtime, "notify") in told, told
    assert "10 分鐘" not in told
