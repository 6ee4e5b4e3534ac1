"""A product complaint from the private form to its thread in the workgroup (issue 2)."""

from __future__ import annotations

from sqlalchemy import select

from bot.app import Runtime
from bot.sandbox import FakeTelegram
from bot.store.models import AuditEvent, Complaint, Draft, StepRecord
from tests.e2e.conftest import DESK, FORUM, PLAIN, SALES, Actor, StartBot, text_of
from tests.e2e.flows import YEAR, file_and_post, fill_product_form, submit_for_approval


async def test_guided_filing_approval_topic_card_and_acceptance(
        bot: Runtime, fake: FakeTelegram, people: dict[str, Actor]) -> None:
    sales, head, desk = people["sales"], people["sales_head"], people["desk"]
    summary = await fill_product_form(sales)
    for expected in ("王小明", "永輝超市", "輝煌", "500ml×20箱", "瓶蓋漏液，整箱受潮", "退貨", "📷 1"):
        assert expected in text_of(summary)

    since_head = head.mark()
    await sales.press(summary, sales.button(summary, ":submit"), expect="等待 陳經理 審批")

    request = await head.next_message(since_head, "待你審批")
    assert "永輝超市" in text_of(request)
    since_sales = sales.mark()
    await head.press(request, head.button(request, "ap:"), expect=f"P-{YEAR}-0001")
    await sales.next_message(since_sales, f"P-{YEAR}-0001")

    # A topic of its own, named with the number, kind and customer, with the card in it.
    topics = await fake.wait_for(lambda: fake.topics(FORUM) or None)
    (thread_id, topic), = topics.items()
    assert topic["name"] == f"#P-{YEAR}-0001 產品質量投訴 · 永輝超市"
    card = await fake.wait_bot_message(FORUM, thread_id, contains=f"#P-{YEAR}-0001")
    for expected in ("永輝超市", "輝煌", "500ml×20箱", "瓶蓋漏液", "退貨", "賠款/退換貨案件",
                     "⏳ 受理 — 打單部", "現在由 打單部 處理"):
        assert expected in text_of(card), expected
    assert ("📥 受理", "st:1:accept:order_desk") in fake.buttons(card)
    photo = await fake.wait_for(lambda: [m for m in fake.bot_messages(FORUM, thread_id)
                                         if m.get("photo")] or None)
    assert photo
    await sales.next_message(since_sales, "已發佈到工作群")

    # The order desk accepts: recorded, card edited, announced in the thread, complainant told.
    since_sales = sales.mark()
    fake.press(DESK, card, fake.buttons(card)[0][1])
    edited = await fake.wait_edit(card, contains="✅ 受理 — 打單部 張打單")
    assert fake.buttons(edited) == [("📋 公布工藝流程信息", "st:1:publish_process:order_desk")]
    await fake.wait_bot_message(FORUM, thread_id, contains="張打單 已於")
    await sales.next_message(since_sales, "已由 打單部 受理")
    assert desk.inbox() == []  # nothing private for the desk

    async with bot.ctx.sessions() as session:
        complaint = await session.scalar(select(Complaint))
        assert complaint is not None and complaint.number == f"P-{YEAR}-0001"
        assert complaint.is_crx and complaint.thread_id == thread_id
        accept = await session.scalar(select(StepRecord).where(StepRecord.step_key == "accept"))
        assert accept is not None and accept.done_by == DESK and accept.done_at is not None
        actions = list(await session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))
    assert actions == ["submitted", "approved", "posted", "step_done"]


async def test_pasted_template_with_two_fields_missing(bot: Runtime, people: dict[str, Actor]) -> None:
    sales = people["sales"]
    pasted = ("《產品質量投訴》\n投拆人：王小明\n客戶名稱: 永輝超市\n\n發貨日期：2026年1月5日\n"
              "品牌：\n產品存在的質量問題：瓶蓋漏液\n投訴時間：_年_月_日_時_分")
    first = await sales.say(pasted, expect="缺少")
    assert "品牌" in text_of(first) and "客戶要求" in text_of(first)
    assert "規格及數量" in text_of(first)  # the third missing one is named too
    step = await sales.say("金牌", expect="第 5/8 步")
    step = await sales.say("1L × 5 箱", expect="第 7/8 步")
    summary = await sales.say("換貨", expect="請確認")
    for expected in ("永輝超市", "2026-01-05", "金牌", "1L × 5 箱", "瓶蓋漏液", "換貨"):
        assert expected in text_of(summary), expected
    assert step


async def test_paste_with_exactly_two_missing_fields_asks_only_those(
        bot: Runtime, people: dict[str, Actor]) -> None:
    sales = people["sales"]
    pasted = ("投訴人：王小明\n客戶名稱：永輝超市\n發貨日期：2026/01/05\n"
              "規格及數量：500ml×20箱\n產品存在的質量問題：漏液")
    first = await sales.say(pasted, expect="缺少")
    assert "品牌、客戶要求" in text_of(first)
    assert "第 4/8 步" in text_of(first)
    await sales.say("輝煌", expect="第 7/8 步")
    await sales.say("賠款", expect="請確認")


async def test_manager_rejects_with_reason_and_complainant_resubmits(
        bot: Runtime, fake: FakeTelegram, people: dict[str, Actor]) -> None:
    sales, head = people["sales"], people["sales_head"]
    request = await submit_for_approval(sales, head)
    await head.press(request, head.button(request, ":n"), expect="退回原因")
    await head.say("   ", expect="退回原因不能空白")
    since_sales = sales.mark()
    await head.say("客戶名稱寫錯了 <請確認> & 重填", expect="已退回")
    rejected = await sales.next_message(since_sales, "退回了你的投訴")
    assert "客戶名稱寫錯了 <請確認> & 重填" in text_of(rejected)
    assert fake.topics(FORUM) == {}  # nothing posted

    summary = await sales.press(rejected, sales.button(rejected, "rs:"), expect="請確認")
    assert "永輝超市" in text_of(summary)
    since_head = head.mark()
    await sales.press(summary, sales.button(summary, ":submit"), expect="審批")
    await head.next_message(since_head, "待你審批")


async def test_accept_pressed_by_someone_outside_the_order_desk(
        bot: Runtime, fake: FakeTelegram, people: dict[str, Actor]) -> None:
    card = await file_and_post(fake, people)
    for intruder in (SALES, people["sales_head"].id, people["prod_head"].id):
        query_id = fake.press(intruder, card, "st:1:accept:order_desk")
        answer = await fake.callback_answer(query_id)
        assert answer["show_alert"] and "打單部" in answer["text"]
    await fake.wait_idle()
    assert fake.edit_count(card) == 0
    assert not [m for m in fake.bot_messages(FORUM) if "已於" in text_of(m)]
    async with bot.ctx.sessions() as session:
        accept = await session.scalar(select(StepRecord).where(StepRecord.step_key == "accept"))
        assert accept is not None and accept.done_at is None


async def test_plain_group_card_and_replies_as_thread(
        start_bot: StartBot, fake: FakeTelegram, people: dict[str, Actor]) -> None:
    await start_bot(workgroup=PLAIN)
    card = await file_and_post(fake, people, group=PLAIN, photo=True)
    assert fake.topics(PLAIN) == {}
    photo = await fake.wait_for(lambda: next(
        (m for m in fake.bot_messages(PLAIN) if m.get("photo")), None))
    assert photo["reply_to_message"]["message_id"] == card["message_id"]
    fake.press(DESK, card, "st:1:accept:order_desk")
    notice = await fake.wait_bot_message(PLAIN, contains="張打單 已於")
    assert notice["reply_to_message"]["message_id"] == card["message_id"]


async def test_every_photo_caption_is_kept_within_the_field_limit(
        bot: Runtime, fake: FakeTelegram, people: dict[str, Actor]) -> None:
    """The 產品存在的質量問題 step promises that captions are kept: each caption is added to
    the field's text on its own line. One that would take the field past its limit is not
    added (the photo is), and the user is told so, with the limit."""
    sales = people["sales"]
    step = await sales.say("/product", expect="第 1/8 步")
    await sales.press(step, sales.button(step, ":keep"), expect="第 2/8 步")
    await sales.say("永輝超市", expect="第 3/8 步")
    step = await sales.say("昨天", expect="第 4/8 步")
    await sales.press(step, sales.button_labelled(step, "輝煌"), expect="第 5/8 步")
    await sales.say("500ml×20箱", expect="第 6/8 步")

    async def photo(caption: str | None, expect: str) -> dict:
        since = sales.mark()
        fake.send_photo(SALES, SALES, caption=caption)
        return await sales.next_message(since, expect)

    await photo("瓶蓋漏液", "共 1 張")
    await photo("整箱受潮", "共 2 張")
    await photo(None, "共 3 張")
    await photo("長" * 1000, "共 4 張")
    refused = await photo("短" * 1000, "共 5 張")  # 2,011 characters with it: over 2,000
    assert "說明沒有加入" in text_of(refused) and "2000" in text_of(refused), text_of(refused)
    async with bot.ctx.sessions() as session:
        draft = await session.scalar(select(Draft))
    assert draft is not None and len(draft.photos) == 5
    assert draft.answers["problem"] == "瓶蓋漏液\n整箱受潮\n" + "長" * 1000

    step = await sales.press(refused, sales.button(refused, ":keep"), expect="第 7/8 步")
    summary = await sales.press(step, sales.button_labelled(step, "退貨"), expect="請確認")
    assert "瓶蓋漏液\n整箱受潮" in text_of(summary) and "📷 5" in text_of(summary)
