"""The whole handling flow after posting (issue 3): rules 一.2, 一.3 and 一.6 in chat."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from bot.app import Runtime
from bot.sandbox import FakeTelegram
from bot.store.models import Answer, Comment, Complaint, StepRecord
from tests.e2e.conftest import FORUM, PLAIN, Actor, StartBot, text_of
from tests.e2e.flows import (
    YEAR,
    card_offers,
    file_and_post,
    file_and_post_service,
    press_in_group,
    say_in_thread,
)


async def accept_and_publish(fake: FakeTelegram, people: dict[str, Actor], card: dict[str, Any],
                             ticks: list[int], group: int = FORUM) -> None:
    """打單部 accepts, publishes the process information and names the investigators."""
    desk, cid, thread = people["desk"], complaint_id(fake, card), card.get("message_thread_id")
    fake.press(desk.id, card, f"st:{cid}:accept:order_desk")
    await fake.wait_bot_message(group, thread, contains="已於")
    await fake.wait_edit(card, contains="✅ 受理")
    prompt = await press_in_group(fake, desk, card, f"st:{cid}:publish_process:order_desk", group)
    assert "工藝流程信息" in text_of(prompt)
    picker = await say_in_thread(fake, desk, card, "注塑→灌裝→封蓋；批次 B-1120", group,
                                 reply_to=prompt, expect="勾選")
    def ticked(index: int) -> Callable[[], bool]:
        return lambda: "☑️" in str(fake.buttons(picker)[index][0])

    for tick in ticks:
        fake.press(desk.id, picker, f"pk:{cid}:t{tick}")
        await fake.wait_for(ticked(tick))
    fake.press(desk.id, picker, f"pk:{cid}:ok")
    await fake.wait_bot_message(group, thread, contains="已交給")
    # The card is redrawn after the notices (they have the group's message slots first).
    await fake.wait_for(lambda: f"st:{cid}:answer" in str(fake.buttons(card)))  # its state now


def complaint_id(fake: FakeTelegram, card: dict[str, Any]) -> str:
    """The complaint's id, read from the st:<id>:… buttons on its card."""
    return next(data.split(":")[1] for _, data in fake.buttons(card) if data.startswith("st:"))


async def answer_product(fake: FakeTelegram, actor: Actor, card: dict[str, Any], department: str,
                         assessment: str, opinion: str, group: int = FORUM) -> None:
    prompt = await press_in_group(fake, actor, card,
                                  f"st:{complaint_id(fake, card)}:answer:{department}", group)
    assert "質量鑒定結果" in text_of(prompt)
    ask = await say_in_thread(fake, actor, card, assessment, group, reply_to=prompt,
                              expect="處理意見")
    await say_in_thread(fake, actor, card, opinion, group, reply_to=ask, expect="已記錄")


async def test_product_path_with_two_departments_answering(
        bot: Runtime, fake: FakeTelegram, people: dict[str, Actor]) -> None:
    sales = people["sales"]
    card = await file_and_post(fake, people)
    thread = card["message_thread_id"]
    since_prod, since_purch = people["prod_head"].mark(), people["purch_head"].mark()
    await accept_and_publish(fake, people, card, ticks=[0, 1])
    await people["prod_head"].next_message(since_prod, "已交給 生產部")
    await people["purch_head"].next_message(since_purch, "已交給 採購部")
    card_now = fake.message(FORUM, card["message_id"])
    assert card_now is not None
    assert [data for _, data in fake.buttons(card_now)] == [
        "st:1:answer:production", "st:1:answer:purchasing"]

    since_sales = sales.mark()
    await answer_product(fake, people["prod"], card, "production", "原料批次含雜質", "同意退貨")
    await fake.wait_idle()
    assert not [m for m in sales.inbox()[since_sales:] if "有答覆了" in text_of(m)]
    await answer_product(fake, people["purch_head"], card, "purchasing", "供應商來料不良",
                         "向供應商索賠")
    outcome = await sales.next_message(since_sales, "有答覆了")
    for expected in ("生產部", "原料批次含雜質", "同意退貨", "採購部", "供應商來料不良", "向供應商索賠"):
        assert expected in text_of(outcome)
    topic = await fake.wait_for(lambda: fake.topics(FORUM)[thread]["name"].startswith("[已答覆]")
                                and fake.topics(FORUM)[thread])
    assert topic["name"] == f"[已答覆] #P-{YEAR}-0001 產品質量投訴 · 永輝超市"

    await sales.press(outcome, sales.button(outcome, ":ok"), expect="已結案")
    await fake.wait_bot_message(FORUM, thread, contains="接受處理結果")
    await fake.wait_for(lambda: fake.topics(FORUM)[thread]["closed"])
    card_now = await fake.wait_edit(card, contains="已結案")
    for expected in ("✅ 受理 — 打單部 張打單", "✅ 公布工藝流程信息 — 打單部 張打單",
                     "✅ 質量鑒定結果和處理意見 — 生產部 吳生產",
                     "✅ 質量鑒定結果和處理意見 — 採購部 鄭採購"):
        assert expected in text_of(card_now), expected
    assert fake.buttons(card_now) == []
    async with bot.ctx.sessions() as session:
        complaint = await session.scalar(select(Complaint))
        assert complaint is not None and complaint.status == "closed"
        answers = list(await session.scalars(select(Answer).order_by(Answer.id)))
    assert [(a.step_key, a.department_key) for a in answers] == [
        ("publish_process", "order_desk"), ("answer", "production"), ("answer", "purchasing")]
    assert answers[1].parts == {"assessment": "原料批次含雜質", "opinion": "同意退貨"}


async def test_service_path_to_the_complainants_private_notice(
        bot: Runtime, fake: FakeTelegram, people: dict[str, Actor]) -> None:
    sales, hr, logistics = people["sales"], people["hr"], people["logi_head"]
    card = await file_and_post_service(fake, people)
    for expected in ("服務質量投訴", "物流部", "客戶催貨三次", "物流答應次日送達但未送", "客戶取消訂單",
                     "改進服務質量", "⏳ 受理 — 人力資源部"):
        assert expected in text_of(card), expected
    fake.press(hr.id, card, "st:1:accept:hr")
    await fake.wait_edit(card, contains="✅ 受理")
    await fake.wait_bot_message(FORUM, contains="已於")
    picker = await press_in_group(fake, hr, card, "st:1:route:hr")
    assert "分流" in text_of(picker)
    index = next(i for i, (text, _) in enumerate(fake.buttons(picker)) if text == "物流部")
    since_logistics = logistics.mark()
    fake.press(hr.id, picker, f"pk:1:{index}")
    await fake.wait_bot_message(FORUM, contains="已交給 物流部")
    await logistics.next_message(since_logistics, "處理方案")

    since_hr_head = people["hr_head"].mark()
    await card_offers(fake, card, "st:1:plan:logistics")
    prompt = await press_in_group(fake, logistics, card, "st:1:plan:logistics")
    await say_in_thread(fake, logistics, card, "向客戶致歉，補發並免運費", reply_to=prompt,
                        expect="已記錄")
    await people["hr_head"].next_message(since_hr_head, "10 分鐘內通知投訴人")
    since_sales = sales.mark()
    prompt = await press_in_group(fake, hr, await fake.wait_edit(card, contains="⏳ 通知投訴人"),
                                  "st:1:notify:hr")
    await say_in_thread(fake, hr, card, "已與物流部確認，今天補發。", reply_to=prompt,
                        expect="已把處理方案通知投訴人")
    notice = await sales.next_message(since_sales, "有答覆了")
    assert "向客戶致歉，補發並免運費" in text_of(notice) and "今天補發" in text_of(notice)
    assert [d for _, d in fake.buttons(notice)] == ["vd:1:ok", "vd:1:ap"]
    async with bot.ctx.sessions() as session:
        notify = await session.scalar(select(StepRecord).where(StepRecord.step_key == "notify"))
        plan = await session.scalar(select(StepRecord).where(StepRecord.step_key == "plan"))
    assert notify is not None and notify.done_by == hr.id and notify.done_at is not None
    assert plan is not None and notify.started_at == plan.done_at  # the 10-minute clock's start


async def test_escalation_to_inspection_and_its_answer(
        bot: Runtime, fake: FakeTelegram, people: dict[str, Actor]) -> None:
    sales, inspector = people["sales"], people["inspect_head"]
    card = await file_and_post(fake, people)
    await accept_and_publish(fake, people, card, ticks=[0])
    since_sales = sales.mark()
    await answer_product(fake, people["prod"], card, "production", "外包裝破損", "不予賠償")
    outcome = await sales.next_message(since_sales, "有答覆了")
    await sales.press(outcome, sales.button(outcome, ":ap"), expect="原因")
    empty = await sales.say("   ", expect="不能空白")  # named as the appeal's reason
    assert "申訴原因不能空白" in text_of(empty) and "退回" not in text_of(empty)
    since = sales.mark()
    fake.send_sticker(sales.id, sales.id)  # not an answer: the question again
    again = text_of(await sales.next_message(since))
    assert "需要打字回答" in again and "不合理的原因" in again, again
    bodies = await sales.say("破損是運輸造成的，不是客戶的責任", expect="向哪裡申訴")
    assert [text for text, _ in fake.buttons(bodies)] == ["營運副總室", "監察部", "行政部"]
    since = sales.mark()
    fake.send_voice(sales.id, sales.id)  # where to appeal is asked again, with its buttons
    again_bodies = await sales.next_message(since)
    assert "向哪裡申訴" in text_of(again_bodies) and "按鈕" in text_of(again_bodies)
    assert fake.buttons(again_bodies) == fake.buttons(bodies)
    since_inspector = inspector.mark()
    await sales.press(bodies, sales.button(bodies, "eb:1:inspection"), expect="監察部")
    await inspector.next_message(since_inspector, "破損是運輸造成的")
    await fake.wait_bot_message(FORUM, contains="提出申訴（第 1 輪）")
    card_now = await fake.wait_edit(card, contains="申訴處理中")
    assert fake.buttons(card_now) == [("⚖️ 答覆申訴（監察部）", "st:1:escalation:inspection")]

    prompt = await press_in_group(fake, inspector, card_now, "st:1:escalation:inspection")
    since_sales = sales.mark()
    await say_in_thread(fake, inspector, card, "運輸責任屬實，由物流部承擔並賠償客戶", reply_to=prompt,
                        expect="已記錄")
    second = await sales.next_message(since_sales, "第 1 輪")
    assert "運輸責任屬實" in text_of(second)
    await sales.press(second, sales.button(second, ":ok"), expect="已結案")
    async with bot.ctx.sessions() as session:
        complaint = await session.scalar(select(Complaint))
        assert complaint is not None and complaint.status == "closed" and complaint.round == 1


async def test_wrong_department_cannot_answer_and_comments_are_not_answers(
        bot: Runtime, fake: FakeTelegram, people: dict[str, Actor]) -> None:
    card = await file_and_post(fake, people)
    await accept_and_publish(fake, people, card, ticks=[0])
    card_now = fake.message(FORUM, card["message_id"])
    assert card_now is not None
    thread = card["message_thread_id"]
    # 採購部 presses 生產部's button: refused, told who may answer.
    query_id = fake.press(people["purch_head"].id, card_now, "st:1:answer:production")
    answer = await fake.callback_answer(query_id)
    assert answer["show_alert"] and "生產部" in answer["text"]
    # /answer from the wrong department: told who may.
    reply = await say_in_thread(fake, people["purch_head"], card, "/answer", expect="生產部")
    assert "只有" in text_of(reply)
    # Chatter in the thread, even by the right department, is a comment, not an answer.
    fake.send_text(people["prod"].id, FORUM, "我們今天下午查一下", thread_id=thread)
    fake.send_text(people["sales"].id, FORUM, "客戶很急", thread_id=thread)
    await fake.wait_idle()
    async with bot.ctx.sessions() as session:
        comments = list(await session.scalars(select(Comment).order_by(Comment.id)))
        step = await session.scalar(select(StepRecord).where(StepRecord.step_key == "answer"))
        answers = list(await session.scalars(select(Answer).where(Answer.step_key == "answer")))
    assert [c.text for c in comments] == ["我們今天下午查一下", "客戶很急"]
    assert step is not None and step.done_at is None and answers == []
    # /answer by the right department in the thread begins the answer.
    prompt = await say_in_thread(fake, people["prod"], card, "/answer", expect="質量鑒定結果")
    assert prompt


async def test_plain_group_product_path(start_bot: StartBot, fake: FakeTelegram,
                                        people: dict[str, Actor]) -> None:
    runtime = await start_bot(workgroup=PLAIN)
    sales = people["sales"]
    card = await file_and_post(fake, people, group=PLAIN)
    await accept_and_publish(fake, people, card, ticks=[0], group=PLAIN)
    since_sales = sales.mark()
    await answer_product(fake, people["prod"], card, "production", "批次問題", "換貨", group=PLAIN)
    await sales.next_message(since_sales, "有答覆了")
    # A reply to the card by someone else is a comment of this complaint.
    fake.send_text(people["hr"].id, PLAIN, "收到，已登記", reply_to=card["message_id"])
    await fake.wait_idle()
    assert fake.topics(PLAIN) == {}
    async with runtime.ctx.sessions() as session:
        comments = list(await session.scalars(select(Comment)))
    assert [(c.author_id, c.text) for c in comments] == [(people["hr"].id, "收到，已登記")]


async def test_mine_and_open(bot: Runtime, fake: FakeTelegram, people: dict[str, Actor]) -> None:
    card = await file_and_post(fake, people)
    owed = await people["desk"].say("/open", expect="待處理")
    assert f"P-{YEAR}-0001" in text_of(owed) and "受理" in text_of(owed)
    nothing = await people["prod"].say("/open", expect="沒有待處理")
    assert nothing
    mine = await people["sales"].say("/mine", expect="我的投訴")
    assert f"P-{YEAR}-0001" in text_of(mine) and "打單部" in text_of(mine)
    await accept_and_publish(fake, people, card, ticks=[0])
    owed = await people["prod"].say("/open", expect="待處理")
    assert "質量鑒定結果和處理意見" in text_of(owed)
    assert "P-" not in text_of(await people["desk"].say("/open", expect="沒有待處理"))


async def test_pasted_service_template_becomes_a_draft(bot: Runtime, people: dict[str, Actor]) -> None:
    pasted = ("《服務質量投訴》\n投拆人：王小明\n投訴對象：物流部\n"
              "投訴事件(時間、起因、過程、結果)：時間：11月20日 起因：催貨 過程：答應次日送達 結果：未送達\n"
              "投訴目的(希望達到的結果:如索賠、處理、改進服務質量)：改進服務質量\n投訴時間：_年_月_日_時_分")
    summary = await people["sales"].say(pasted, expect="請確認")
    for expected in ("服務質量投訴", "物流部", "11月20日", "催貨", "答應次日送達", "未送達", "改進服務質量"):
        assert expected in text_of(summary), expected


async def test_a_second_answerer_is_told_the_step_is_done_and_then_just_comments(
        bot: Runtime, fake: FakeTelegram, people: dict[str, Actor]) -> None:
    card = await file_and_post(fake, people)
    await accept_and_publish(fake, people, card, ticks=[0])
    # Both members of 生產部 begin the answer; the first to finish answers for the department.
    await press_in_group(fake, people["prod_head"], card, "st:1:answer:production")
    await answer_product(fake, people["prod"], card, "production", "原料問題", "退貨")
    reply = await say_in_thread(fake, people["prod_head"], card, "我的鑒定：包裝問題",
                                expect="已經完成")
    assert reply
    fake.send_text(people["prod_head"].id, FORUM, "那我補充一句", thread_id=card["message_thread_id"])
    await fake.wait_idle()
    async with bot.ctx.sessions() as session:
        answers = list(await session.scalars(select(Answer).where(Answer.step_key == "answer")))
        comments = list(await session.scalars(select(Comment)))
    assert [a.author_id for a in answers] == [people["prod"].id]
    assert [c.text for c in comments] == ["那我補充一句"]  # no longer taken as an answer
