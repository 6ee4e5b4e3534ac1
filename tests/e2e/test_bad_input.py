"""Bad input gets a clear answer; nothing broken is stored or sent."""

from __future__ import annotations

from sqlalchemy import select

from bot.app import Runtime
from bot.sandbox import FakeTelegram
from bot.store.models import Complaint, Draft
from tests.e2e.conftest import FORUM, OUTSIDER, SALES, STRANGERS, Actor, text_of
from tests.e2e.flows import submit_for_approval

HOSTILE = "<b>粗體</b> & <script>x</script> 😀"


async def test_too_long_answer_is_refused_and_the_step_kept(bot: Runtime, people: dict[str, Actor]) -> None:
    sales = people["sales"]
    step = await sales.say("/product", expect="第 1/8 步")
    await sales.press(step, sales.button(step, ":keep"), expect="第 2/8 步")
    reply = await sales.say("客" * 5000, expect="太長了")
    assert "5000" in text_of(reply) and "200" in text_of(reply)
    assert "第 2/8 步" in text_of(reply)
    await sales.say("永輝超市", expect="第 3/8 步")


async def test_future_date_sticker_voice_and_blank_answers(bot: Runtime, fake: FakeTelegram,
                                                           people: dict[str, Actor]) -> None:
    sales = people["sales"]
    step = await sales.say("/product", expect="第 1/8 步")
    await sales.press(step, sales.button(step, ":keep"), expect="第 2/8 步")
    await sales.say("永輝超市", expect="第 3/8 步")
    future = await sales.say("2099-01-01", expect="不能晚於今天")
    assert "第 3/8 步" in text_of(future)
    await sales.say("下個月某天", expect="看不懂這個日期")
    await sales.say("2026-02-30", expect="沒有這一天")
    since = sales.mark()
    fake.send_sticker(SALES, SALES)
    await sales.next_message(since, "需要文字回答")
    since = sales.mark()
    fake.send_voice(SALES, SALES)
    await sales.next_message(since, "需要文字回答")
    await sales.say("   ", expect="不能空白")
    await sales.say("昨天", expect="第 4/8 步")


async def test_html_and_emoji_in_every_field_reach_the_card_intact(
        bot: Runtime, fake: FakeTelegram, people: dict[str, Actor]) -> None:
    sales, head = people["sales"], people["sales_head"]
    step = await sales.say("/product", expect="第 1/8 步")
    step = await sales.say(HOSTILE, expect="第 2/8 步")
    step = await sales.say(HOSTILE, expect="第 3/8 步")
    step = await sales.say("今天", expect="第 4/8 步")
    step = await sales.say(HOSTILE, expect="第 5/8 步")
    step = await sales.say(HOSTILE, expect="第 6/8 步")
    step = await sales.say(HOSTILE, expect="第 7/8 步")
    summary = await sales.say(HOSTILE, expect="請確認")
    assert text_of(summary).count(HOSTILE) == 6
    since_head = head.mark()
    await sales.press(summary, sales.button(summary, ":submit"), expect="審批")
    request = await head.next_message(since_head, "待你審批")
    assert HOSTILE in text_of(request)
    await head.press(request, head.button(request, ":y"), expect="已批准")
    card = await fake.wait_bot_message(FORUM, contains="#P-")
    assert text_of(card).count(HOSTILE) == 6
    async with bot.ctx.sessions() as session:
        complaint = await session.scalar(select(Complaint))
        assert complaint is not None and complaint.answers["customer"] == HOSTILE
    assert step


async def test_outsider_is_told_whom_to_ask(bot: Runtime, people: dict[str, Actor]) -> None:
    outsider = people["outsider"]
    reply = await outsider.say("/product", expect="還不是任何部門的成員")
    assert "/join" in text_of(reply) and "系統管理員" in text_of(reply)
    pasted = "投訴人：路人甲\n客戶名稱：某店\n品牌：輝煌"
    await outsider.say(pasted, expect="/join")
    async with bot.ctx.sessions() as session:
        assert await session.scalar(select(Draft)) is None


async def test_unconfigured_group_is_ignored(bot: Runtime, fake: FakeTelegram) -> None:
    fake.send_text(SALES, STRANGERS, "/help")
    fake.send_text(SALES, STRANGERS, "/complain")
    fake.send_text(OUTSIDER, STRANGERS, "投訴人：x\n客戶名稱：y")
    await fake.wait_idle(quiet=0.5)
    assert fake.bot_messages(STRANGERS) == []


async def test_buttons_of_an_old_form_change_nothing(bot: Runtime, fake: FakeTelegram,
                                                     people: dict[str, Actor]) -> None:
    sales = people["sales"]
    step = await sales.say("/product", expect="第 1/8 步")
    old_step = await sales.press(step, sales.button(step, ":keep"), expect="第 2/8 步")
    await sales.say("永輝超市", expect="第 3/8 步")
    await sales.say("/cancel", expect="已取消")
    step = await sales.say("/product", expect="第 1/8 步")
    await sales.press(step, sales.button(step, ":keep"), expect="第 2/8 步")
    query_id = fake.press(sales.id, old_step, sales.button(old_step, ":back"))
    answer = await fake.callback_answer(query_id)
    assert answer["show_alert"] and "/product" in answer["text"], answer
    async with bot.ctx.sessions() as session:
        draft = await session.scalar(select(Draft))
        assert draft is not None and draft.current_field == "customer"
        assert "customer" not in draft.answers


async def test_unknown_command_in_private_names_the_nearest_ones_you_have(
        bot: Runtime, fake: FakeTelegram, people: dict[str, Actor]) -> None:
    """A mistyped or unknown command in private is answered (plain text already was): it is
    unknown, the nearest commands the person has are named, and /help lists the rest. In
    the workgroup unknown commands stay silent (they may be another bot's)."""
    sales, hr_head, outsider = people["sales"], people["hr_head"], people["outsider"]
    reply = text_of(await hr_head.say("/fine", expect="不認識"))
    assert "/fines" in reply and "/help" in reply, reply
    reply = text_of(await sales.say("/prodcut@complaint_test_bot", expect="不認識"))
    assert "/product" in reply and "@" not in reply, reply
    reply = text_of(await sales.say("/xyzzy", expect="不認識"))
    assert "/xyzzy" in reply and "/help" in reply and "是不是" not in reply, reply
    reply = text_of(await outsider.say("/prodcut", expect="不認識"))
    assert "/product" not in reply, reply  # not a command of theirs (yet)
    await sales.say("/answer", expect="請在工作群中使用")  # a workgroup command
    fake.add_user(75002, "Bob", language_code="en")
    reply = text_of(await Actor(fake, 75002).say("/hlep", expect="Unknown command"))
    assert "/help" in reply, reply

    # Silent: in the workgroup, and a command addressed to another bot.
    since = sales.mark()
    fake.send_text(SALES, SALES, "/help@some_other_bot")
    fake.send_text(SALES, FORUM, "/fine")
    fake.send_text(SALES, FORUM, "/weather@some_other_bot")
    await fake.wait_idle(quiet=0.5)
    assert sales.inbox()[since:] == [] and fake.bot_messages(FORUM) == []


async def test_non_text_while_a_question_waits_asks_the_question_again(
        bot: Runtime, fake: FakeTelegram, people: dict[str, Actor]) -> None:
    """A sticker, voice note, file or photo sent while the bot waits for a typed answer (the
    manager's 退回 reason, the /join name) is not "我沒有看懂": the bot says the question
    needs typed text and asks it again, in the person's language. A photo still goes to a
    form whose step takes photos."""
    sales, head, outsider = people["sales"], people["sales_head"], people["outsider"]
    # The manager is half-way through a complaint of his own, at the step that takes photos.
    step = await head.say("/product", expect="第 1/8 步")
    await head.press(step, head.button(step, ":keep"), expect="第 2/8 步")
    await head.say("大華超市", expect="第 3/8 步")
    step = await head.say("昨天", expect="第 4/8 步")
    await head.press(step, head.button_labelled(step, "輝煌"), expect="第 5/8 步")
    await head.say("1L×5箱", expect="第 6/8 步")
    request = await submit_for_approval(sales, head)
    await head.press(request, head.button(request, ":n"), expect="退回原因")
    for send in (fake.send_sticker, fake.send_voice, fake.send_document):
        since = head.mark()
        send(head.id, head.id)
        again = text_of(await head.next_message(since))
        assert "需要打字回答" in again and "請輸入退回原因" in again, again
        assert "沒有看懂" not in again and "第 6/8 步" not in again, again
    since = head.mark()
    fake.send_photo(head.id, head.id)  # his form's step takes photos: it goes there
    assert "已收到照片" in text_of(await head.next_message(since))
    await head.say("客戶名稱寫錯了", expect="已退回")

    # /join's name: a photo (no form takes it) gets the question again too.
    choose = await outsider.say("/join", expect="哪個部門")
    await outsider.press(choose, outsider.button(choose, "jd:order_desk"), expect="姓名")
    for send in (fake.send_photo, fake.send_sticker):
        since = outsider.mark()
        send(OUTSIDER, OUTSIDER)
        again = text_of(await outsider.next_message(since))
        assert "需要打字回答" in again and "請輸入你的姓名" in again and "打單部" in again, again
    await outsider.say("趙新人", expect="已送出申請")

    fake.add_user(75003, "Carol", language_code="en")
    carol = Actor(fake, 75003)
    # A refusal (raised by the service, answered by the handlers' error handler) in her
    # language too.
    refusal = text_of(await carol.say("/product", expect="not in any department"))
    assert "/join" in refusal and "部門" not in refusal, refusal
    choose = await carol.say("/join", expect="Which department")
    await carol.press(choose, carol.button(choose, "jd:hr"), expect="type your name")
    since = carol.mark()
    fake.send_voice(carol.id, carol.id)
    again = text_of(await carol.next_message(since))
    assert "typed answer" in again and "type your name" in again, again
