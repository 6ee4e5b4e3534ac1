"""Ch. 9: a complaint marked 重大 on one of the rule book's grounds, and lowered again."""

from __future__ import annotations

from datetime import timedelta

from bot.app import Runtime
from bot.sandbox import FakeTelegram
from tests.e2e.conftest import (
    ADMIN_DEPT_HEAD,
    FORUM,
    QUIET_REPORTS,
    VP,
    Actor,
    StartBot,
    config_data,
    text_of,
)
from tests.e2e.flows import YEAR, file_and_post, topic_of
from tests.e2e.test_chains import MovableClock
from tests.e2e.test_deadlines import HR_GROUP

NUMBER = f"P-{YEAR}-0001"


async def test_the_order_desk_marks_a_product_complaint_major_and_hr_lowers_it(
        bot: Runtime, fake: FakeTelegram, people: dict[str, Actor]) -> None:
    card = await file_and_post(fake, people)
    desk, desk_head, hr_head, sales = (people["desk"], people["desk_head"], people["hr_head"],
                                       people["sales"])
    thread = topic_of(fake, card)

    usage = await desk.say("/major", expect="用法")
    for ground in ("a.", "b.", "c.", "d."):
        assert ground in text_of(usage)
    # Only the intake department, the complainant's head, HR or an admin may mark it.
    await sales.say(f"/major {NUMBER} a", expect="只有受理部門")
    await people["outsider"].say(f"/major {NUMBER} a", expect="只有受理部門")
    await desk.say(f"/major {NUMBER} x", expect="用法：/major")  # no such ground
    await desk.say("/major P-1999-0042 a", expect="找不到")

    since_head = desk_head.mark()
    marked = await desk.say(f"/major {NUMBER} a 客戶第三次來電 <仍未補發>", expect="標為重大投訴")
    assert "李主管" in text_of(marked)  # the order desk's head, told at once
    told = await desk_head.next_message(since_head, "重大投訴")
    assert "客戶第三次來電 <仍未補發>" in text_of(told) and "前與客戶溝通解決" in text_of(told)
    await desk.say(f"/major {NUMBER} b", expect="已經是重大投訴")

    # The card and the topic's title say so.
    await fake.wait_for(lambda: "重大投訴" in text_of(fake.message(FORUM, card["message_id"])),
                        message="the card shows 重大")
    if thread is not None:
        await fake.wait_for(lambda: fake.topics(FORUM)[thread]["name"].startswith("‼️"),
                            message="the topic's title is marked")
    owed = await desk.say("/open", expect="待處理")
    assert f"‼️ {NUMBER}" in text_of(owed)  # majors first, marked

    # Lowering: whoever marked it, HR or an admin, with a reason.
    await people["prod_head"].say(f"/minor {NUMBER} 誤判", expect="只有標記的人")
    await hr_head.say(f"/minor {NUMBER}", expect="用法：/minor")
    await hr_head.say(f"/minor {NUMBER} 已補發，客戶同意", expect="改回輕微投訴")
    await hr_head.say(f"/minor {NUMBER} 再一次", expect="不是重大投訴")
    await fake.wait_for(lambda: "重大投訴" not in text_of(fake.message(FORUM, card["message_id"])),
                        message="the card no longer shows 重大")
    if thread is not None:
        await fake.wait_for(lambda: not fake.topics(FORUM)[thread]["name"].startswith("‼️"),
                            message="the topic's title is plain again")
    history = await hr_head.say(f"/show {NUMBER}", expect=NUMBER)
    record = "\n".join(text_of(m) for m in fake.bot_messages(hr_head.id)
                       if m["message_id"] >= history["message_id"])
    assert "標為重大投訴" in record and "改回輕微投訴" in record


async def test_the_complainants_head_marks_it_and_the_configured_head_is_told(
        start_bot: StartBot, fake: FakeTelegram, people: dict[str, Actor]) -> None:
    await start_bot(severity={"managing_department": "administration"})
    await file_and_post(fake, people)
    administration = Actor(fake, ADMIN_DEPT_HEAD)
    since = administration.mark()
    marked = await people["sales_head"].say(f"/major {NUMBER} d", expect="標為重大投訴")
    assert "衛行政" in text_of(marked)
    told = await administration.next_message(since, "重大投訴")
    assert "10 天內得不到合理解決" in text_of(told) and "陳經理" in text_of(told)


async def test_ten_days_open_make_it_major_by_itself_and_twelve_hours_to_resolve_it(
        start_bot: StartBot, fake: FakeTelegram, people: dict[str, Actor]) -> None:
    """The clock jumps ahead: ground (d) after 10 days, then the 12-hour resolution with its
    warning and, missed, the notice; each once."""
    clock = MovableClock()
    departments = [{**d, "vice_president": VP} if d["key"] == "sales" else d
                   for d in config_data("sqlite://", FORUM)["departments"]]
    await start_bot(clock=clock, sweep_seconds=0.3, severity={"resolve_warn_before": [60]},
                    departments=departments)
    card = await file_and_post(fake, people)
    desk_head, vp = people["desk_head"], people["vp"]
    posted = clock.now()

    since = desk_head.mark()
    clock.jump_to(posted + timedelta(days=10, minutes=1))
    told = await desk_head.next_message(since, "已自動標為重大投訴")
    assert "10 天內得不到合理解決" in text_of(told)
    await fake.wait_for(lambda: "重大投訴" in text_of(fake.message(FORUM, card["message_id"])),
                        message="the card shows 重大")

    since = desk_head.mark()
    clock.jump_to(posted + timedelta(days=10, hours=11, minutes=2))  # an hour before
    await desk_head.next_message(since, "還剩 60 分鐘")
    since, since_vp = desk_head.mark(), vp.mark()
    clock.jump_to(posted + timedelta(days=10, hours=12, minutes=2))
    await desk_head.next_message(since, "未在期限")
    await vp.next_message(since_vp, "未在期限")  # the vice-president over the complainant's
    await fake.wait_for(lambda: "已逾期" in text_of(fake.message(FORUM, card["message_id"])),
                        message="the card says it is overdue")
    await fake.wait_idle(quiet=1.0)
    said = [text_of(m) for m in desk_head.inbox()]
    assert sum("已自動標為重大投訴" in t for t in said) == 1
    assert sum("還剩 60 分鐘" in t and "重大投訴" in t for t in said) == 1
    assert sum("未在期限" in t and "重大投訴" in t for t in said) == 1
    assert sum("未在期限" in text_of(m) for m in vp.inbox()) == 1


async def test_a_major_complaint_lowered_in_time_is_not_overdue(
        start_bot: StartBot, fake: FakeTelegram, people: dict[str, Actor]) -> None:
    clock = MovableClock()
    await start_bot(clock=clock, sweep_seconds=0.3)
    await file_and_post(fake, people)
    desk, desk_head = people["desk"], people["desk_head"]
    await desk.say(f"/major {NUMBER} c 客戶受傷", expect="標為重大投訴")
    await desk.say(f"/minor {NUMBER} 查明不是公司責任", expect="改回輕微投訴")
    since = desk_head.mark()
    posted = clock.now()
    clock.jump_to(posted + timedelta(hours=13))
    await fake.wait_idle(quiet=1.5)
    assert not [m for m in desk_head.inbox()[since:] if "重大投訴" in text_of(m)]
    # Lowered by hand, it still becomes 重大 by itself at day 10 if it is open then.
    clock.jump_to(posted + timedelta(days=10, seconds=10))
    await desk_head.next_message(since, "已自動標為重大投訴")


async def test_closing_a_major_complaint_stops_its_clocks(
        start_bot: StartBot, fake: FakeTelegram, people: dict[str, Actor]) -> None:
    from tests.e2e.test_handling import accept_and_publish, answer_product

    clock = MovableClock()
    await start_bot(clock=clock, sweep_seconds=0.3)
    sales, desk, desk_head = people["sales"], people["desk"], people["desk_head"]
    card = await file_and_post(fake, people)
    await desk.say(f"/major {NUMBER} a 客戶多次來電", expect="標為重大投訴")
    await accept_and_publish(fake, people, card, ticks=[0])
    since_sales = sales.mark()
    await answer_product(fake, people["prod"], card, "production", "原料批次含雜質", "同意退貨")
    outcome = await sales.next_message(since_sales, "有答覆了")
    await sales.press(outcome, sales.button(outcome, ":ok"), expect="已結案")
    since, since_sales = desk_head.mark(), sales.mark()
    clock.jump_to(clock.now() + timedelta(days=11))  # past 12 hours, 24 hours and 10 days
    await fake.wait_idle(quiet=1.5)
    # (The managing head is the major complaint's visitor now: its 回訪 clock runs on.)
    assert not [m for m in desk_head.inbox()[since:]
                if "重大投訴" in text_of(m) and "回訪" not in text_of(m)]
    assert any("回訪" in text_of(m) for m in desk_head.inbox()[since:])
    assert not [m for m in sales.inbox()[since_sales:] if "還沒有答覆" in text_of(m)]


async def test_an_overdue_major_complaint_nobody_is_set_up_for_reaches_hrs_group(
        start_bot: StartBot, fake: FakeTelegram, people: dict[str, Actor]) -> None:
    # The managing department has no head, the complainant's no vice-president, no GM: HR's
    # own group (fines.hr_chat_id) hears of it, written in the default language.
    clock = MovableClock()
    fake.add_group(HR_GROUP, "人事群", is_forum=False)
    departments = [*config_data("sqlite://", FORUM)["departments"],
                   {"key": "quality", "name": "品管部"}]
    await start_bot(clock=clock, sweep_seconds=0.3, departments=departments,
                    severity={"managing_department": "quality"},
                    fines={**QUIET_REPORTS, "hr_chat_id": HR_GROUP})
    await file_and_post(fake, people)
    marked = await people["desk"].say(f"/major {NUMBER} a", expect="標為重大投訴")
    assert "沒有設負責人" in text_of(marked)
    clock.jump_to(clock.now() + timedelta(hours=12, seconds=10))
    await fake.wait_bot_message(HR_GROUP, contains="未在期限", timeout=15)
