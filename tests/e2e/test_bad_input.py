"""Bad input gets a clear answer; nothing broken is stored or sent."""

from __future__ import annotations

from sqlalchemy import select

from bot.app import Runtime
from bot.store.models import Complaint, Draft
from tests.e2e.conftest import FORUM, OUTSIDER, SALES, STRANGERS, Actor, text_of
from tests.fakebot import FakeTelegram

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
