"""The chains of rules 一.4 and 三 in chat (issue 5): the daily 質量投訴處理流程表 across two
simulated days, and a return-freight slip through its six steps.

The clock starts at the real time (complaints are filed and answered as usual) and then
jumps: to the end of the working day when the sheet is compiled, to the next morning when
it goes to the vice-president. Deadline timers are derived from the database, so after a
jump the scheduler's sweep fires whatever fell due, as it would after a long pause.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from io import BytesIO
from typing import Any
from zoneinfo import ZoneInfo

from openpyxl import load_workbook
from sqlalchemy import func, select

from bot.sandbox import FakeTelegram
from bot.store.models import ChainItem, ChainStepRecord, DeadlineEvent, OutboxMessage
from tests.e2e.conftest import (
    DESK,
    DESK_HEAD,
    FORUM,
    HR,
    HR_HEAD,
    LOGI_HEAD,
    NAMES,
    PROD_HEAD,
    QUIET_REPORTS,
    VP,
    Actor,
    StartBot,
    config_data,
    text_of,
)
from tests.e2e.flows import (
    YEAR,
    card_offers,
    file_and_post,
    file_and_post_service,
    press_in_group,
    say_in_thread,
)
from tests.e2e.test_handling import accept_and_publish, answer_product

ZONE = ZoneInfo("Asia/Shanghai")
GM, GM_ASSISTANT, FOLLOWER, FINANCE_HEAD, FINANCE = 50001, 50002, 20003, 81001, 81002
MORE_NAMES = {GM: "趙總", GM_ASSISTANT: "錢助理", FOLLOWER: "孔跟單", FINANCE_HEAD: "曹財務",
              FINANCE: "嚴會計"}
NUMBER = f"P-{YEAR}-0001"


class MovableClock:
    """The real time plus an offset that only grows (the tests jump ahead)."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def jump_to(self, moment: datetime) -> None:
        assert moment > self.now(), "the clock only moves forward"
        self.offset = moment - datetime.now(UTC)

    def next_local(self, at: time, after: datetime | None = None) -> datetime:
        """The first `at` (Shanghai wall time) after `after` (default: now)."""
        start = (after or self.now()).astimezone(ZONE)
        moment = datetime.combine(start.date(), at, tzinfo=ZONE)
        return moment if moment > start else moment + timedelta(days=1)


def chain_config(**extra: Any) -> dict[str, Any]:
    """The e2e company plus the people of rules 一.4 and 三."""
    base = config_data("sqlite://", FORUM)
    departments = [dict(d) for d in base["departments"]]
    for dept in departments:
        if dept["key"] == "sales":
            dept["vice_president"] = VP
            dept["members"] = [*dept["members"], FOLLOWER]
    departments.append({"key": "finance", "name": "財務部", "head": FINANCE_HEAD,
                        "members": [FINANCE]})
    return {
        "calendar": {"mode": "24x7"},
        "sweep_seconds": 0.3,
        "fines": QUIET_REPORTS,
        "departments": departments,
        "members": [*base["members"], *({"id": uid, "name": name} for uid, name in MORE_NAMES.items())],
        "roles": {"general_manager": GM, "gm_assistants": [GM_ASSISTANT],
                  "order_followers": [FOLLOWER], "finance": "finance"},
        **extra,
    }


def add_people(fake: FakeTelegram) -> dict[str, Actor]:
    for uid, name in MORE_NAMES.items():
        fake.add_user(uid, name)
    return {"gm": Actor(fake, GM), "gm_assistant": Actor(fake, GM_ASSISTANT),
            "follower": Actor(fake, FOLLOWER), "finance_head": Actor(fake, FINANCE_HEAD),
            "finance": Actor(fake, FINANCE)}


async def start_all(fake: FakeTelegram, actors: list[Actor]) -> None:
    """Everyone opens a private chat with the bot (it may not write to them first)."""
    for actor in actors:
        await actor.say("/whoami")


async def answered_return_case(fake: FakeTelegram, people: dict[str, Actor],
                               number: int = 1) -> dict[str, Any]:
    """A product complaint asking for 退貨, answered by production: a case for the sheet."""
    card = await file_and_post(fake, people, number=number)
    since = people["sales"].mark()
    await accept_and_publish(fake, people, card, ticks=[0])
    await answer_product(fake, people["prod"], card, "production", "封蓋機壓力不足", "同意退貨")
    await people["sales"].next_message(since, "有答覆了")
    return card


async def sheet_at_evening(clock: MovableClock, hr_head: Actor) -> tuple[datetime, dict[str, Any]]:
    """Jump to just after the next 17:30: the day's sheet reaches HR (head of HR here)."""
    evening = clock.next_local(time(17, 30))
    since = hr_head.mark()
    clock.jump_to(evening + timedelta(seconds=1))
    return evening, await hr_head.next_message(since, "請核對")


async def confirm(hr_head: Actor, sheet: dict[str, Any], head: Actor, department: str = "生產部",
                  sign: bool = True) -> dict[str, Any]:
    """HR confirms the sheet; the head is asked to sign (and signs, unless sign=False)."""
    since = head.mark()
    await hr_head.press(sheet, hr_head.button(sheet, "sh:"), expect="已確認")
    to_sign = await head.next_message(since, f"請{department}負責人簽名")
    if sign:
        await head.press(to_sign, head.button(to_sign, "sh:"), expect="已簽名")
    return to_sign


async def refused(fake: FakeTelegram, actor: Actor, message: dict[str, Any], data: str) -> str:
    """Someone who may not sends the button's data (forged, or in a group they share): the
    bot answers with an alert; returns its text."""
    own_chat = message["chat"]["id"] == actor.id or message["chat"]["type"] != "private"
    query_id = fake.press(actor.id, message, data) if own_chat else fake.press_forged(actor.id, data)
    answer = await fake.callback_answer(query_id)
    assert answer["show_alert"], answer
    return str(answer["text"])


async def write(actor: Actor, prompt: dict[str, Any], text: str, expect: str = "已記錄") -> None:
    """Press the prompt's 填寫 button, then type the text."""
    await actor.press(prompt, actor.button(prompt, ":t"), expect="請輸入")
    await actor.say(text, expect=expect)


async def xlsx_rows(fake: FakeTelegram, chat_id: int, filename: str, count: int = 1) -> list[list[Any]]:
    """The rows of the `count`-th file called `filename` sent to the chat, opened again."""
    def nth() -> dict[str, Any] | None:
        found = [d for d in fake.documents(chat_id) if d["filename"] == filename]
        return found[count - 1] if len(found) >= count else None

    document = await fake.wait_for(nth, message=f"{filename} number {count} in chat {chat_id}")
    book = load_workbook(BytesIO(document["data"]))
    return [[cell.value for cell in row] for row in book.worksheets[0].iter_rows()]


async def test_sheet_chain_across_two_days_with_a_gm_rejection(
        start_bot: StartBot, fake: FakeTelegram, people: dict[str, Actor]) -> None:
    more = add_people(fake)
    clock = MovableClock()
    runtime = await start_bot(clock=clock, **chain_config())
    sales, hr_head, prod_head, vp = people["sales"], people["hr_head"], people["prod_head"], people["vp"]
    await start_all(fake, [hr_head, prod_head, people["prod"], vp, people["desk"],
                           people["desk_head"], more["gm"], more["gm_assistant"]])
    card = await answered_return_case(fake, people)

    # Day 1, 17:30: the sheet goes to HR, readable and as XLSX, with a 確認 button.
    evening = clock.next_local(time(17, 30))
    day = evening.date()
    since_hr = hr_head.mark()
    clock.jump_to(evening + timedelta(seconds=1))
    sheet = await hr_head.next_message(since_hr, "質量投訴處理流程表")
    for expected in (NUMBER, "永輝超市", "退貨", "生產部", "封蓋機壓力不足"):
        assert expected in text_of(sheet), expected
    rows = await xlsx_rows(fake, HR_HEAD, f"sheet-{day.isoformat()}.xlsx")
    [row] = [r for r in rows if r[0] == NUMBER]
    assert row[1] == "永輝超市" and row[4] == "退貨" and "封蓋機壓力不足" in row[5]
    assert row[6] is None  # nobody has signed yet

    # Only HR confirms; then the responsible head signs the rows of his department.
    confirm = hr_head.button(sheet, "sh:")
    assert "人力資源部" in await refused(fake, prod_head, sheet, confirm)
    since_prod = prod_head.mark()
    await hr_head.press(sheet, confirm, expect="已確認")
    to_sign = await prod_head.next_message(since_prod, "請生產部負責人簽名")
    assert "負責人" in await refused(fake, people["prod"], to_sign, prod_head.button(to_sign, "sh:"))
    since_sales = sales.mark()
    await prod_head.press(to_sign, prod_head.button(to_sign, "sh:"), expect="已簽名")
    await sales.next_message(since_sales, "責任部門負責人簽名」已完成")

    # Not the VP's turn before the next morning.
    await fake.wait_idle(quiet=1.0)
    assert not [m for m in vp.inbox() if "分管副總綜合處理意見" in text_of(m)]

    # Day 2, 09:00: the vice-president over 業務部 agrees the combined opinion.
    morning = clock.next_local(time(9, 0))
    assert morning.date() == day + timedelta(days=1)
    since_vp = vp.mark()
    clock.jump_to(morning + timedelta(seconds=1))
    prompt = await vp.next_message(since_vp, "分管副總綜合處理意見")
    for expected in ("永輝超市", "退貨", "生產部", "封蓋機壓力不足"):  # the case, beside the signatures
        assert expected in text_of(prompt), expected
    since_gm = more["gm"].mark()
    await write(vp, prompt, "退貨並補償運費 200 元，客戶同意")

    # The GM rejects it: back to the VP (a new round), whose new opinion the assistant approves.
    decide = await more["gm"].next_message(since_gm, "總經理意見")
    assert "封蓋機壓力不足" in text_of(decide) and "永輝超市" in text_of(decide)
    assert "總經理" in await refused(fake, vp, decide, more["gm"].button(decide, ":a"))
    since_vp = vp.mark()
    await more["gm"].press(decide, more["gm"].button(decide, ":r"), expect="否決的原因")
    since = more["gm"].mark()
    fake.send_sticker(GM, GM)  # not an answer: the question again
    asked = text_of(await more["gm"].next_message(since))
    assert "需要打字回答" in asked and "否決的原因" in asked and NUMBER in asked, asked
    since_sales = sales.mark()
    await more["gm"].say("補償太高，只退貨", expect="已記錄")
    again = await vp.next_message(since_vp, "分管副總綜合處理意見")
    # The complainant hears what the GM decided: sent back to the VP, not "done".
    told = text_of(await sales.next_message(since_sales, "總經理意見"))
    assert "否決" in told and "退回分管副總" in told and "「總經理意見」已完成" not in told
    since_assistant, since_gm = more["gm_assistant"].mark(), more["gm"].mark()
    await write(vp, again, "只退貨，客戶同意")
    decide = await more["gm_assistant"].next_message(since_assistant, "總經理意見")
    gm_decide = await more["gm"].next_message(since_gm, "總經理意見")
    # The GM starts writing changes, but the assistant approves first: the GM's words are
    # refused, and the question is dropped (his next message is no longer taken for it).
    await more["gm"].press(gm_decide, more["gm"].button(gm_decide, ":m"), expect="修改後同意的內容")
    since_desk, since_sales = people["desk"].mark(), sales.mark()
    await more["gm_assistant"].press(decide, more["gm_assistant"].button(decide, ":a"), expect="已記錄")
    approved = text_of(await sales.next_message(since_sales, "總經理意見"))
    assert "同意按方案執行" in approved and "交打單部執行" in approved
    await more["gm"].say("改為換貨", expect="已經完成")
    await more["gm"].say("改為換貨", expect="/product")
    # Once the GM has ruled, HR can no longer strike the case off the sheet.
    await people["hr"].say(f"/crx {NUMBER} off 填錯", expect="「總經理意見」已經完成，不能再撤回")

    # The order desk executes exactly what was approved; the complainant heard of every stage.
    execute = await people["desk"].next_message(since_desk, "打單部執行")
    since_sales = sales.mark()
    await write(people["desk"], execute, "已安排 3 月 5 日上門收回退貨")
    done = await sales.next_message(since_sales, "打單部執行」已完成")
    assert "只退貨，客戶同意" in text_of(done) and "否決：補償太高" in text_of(done)
    # Steps done twice (after the rejection) say so; the execution, done once, does not.
    assert "分管副總綜合處理意見（第 2 次）" in text_of(done) and "總經理意見（第 2 次）" in text_of(done)
    assert "打單部執行（第" not in text_of(done)
    stages = [text_of(m) for m in sales.inbox()]
    for label in ("人力資源部確認", "責任部門負責人簽名", "分管副總綜合處理意見", "打單部執行"):
        assert any(f"「{label}」已完成" in t for t in stages), label
    assert not any("「總經理意見」已完成" in t for t in stages)  # a decision, said as one

    # The card shows the chain's progress.
    await fake.wait_edit(card, contains="✅ 打單部執行")

    # /sheet re-sends the XLSX with every signature: who, in which role, when, what.
    await hr_head.say(f"/sheet {day.isoformat()}", expect="質量投訴處理流程表")
    resent = await xlsx_rows(fake, HR_HEAD, f"sheet-{day.isoformat()}.xlsx", count=2)
    [row] = [r for r in resent if r[0] == NUMBER]
    assert NAMES[HR_HEAD] in row[6] and "人力資源部" in row[6]
    assert NAMES[PROD_HEAD] in row[7] and "生產部" in row[7]
    assert "楊副總" in row[8] and "退貨並補償運費" in row[8] and "只退貨，客戶同意" in row[8]
    assert "趙總（總經理）" in row[9] and "否決：補償太高，只退貨" in row[9]
    assert "錢助理（總經理助理）" in row[9] and "同意按方案執行" in row[9]
    assert NAMES[DESK] in row[10] and "上門收回退貨" in row[10]
    assert row[11] == "已完成"

    async with runtime.ctx.sessions() as session:
        steps = list(await session.scalars(select(ChainStepRecord).order_by(ChainStepRecord.id)))
    assert [(s.step_key, s.round) for s in steps] == [
        ("hr_confirm", 0), ("head_sign", 0), ("vp_opinion", 0), ("gm_decision", 0),
        ("vp_opinion", 1), ("gm_decision", 1), ("execution", 1)]
    assert [s.done_role for s in steps] == ["hr", "head", "vice_president", "general_manager",
                                            "vice_president", "gm_assistant", "order_desk"]


async def test_head_who_does_not_sign_is_warned_then_told_it_is_late(
        start_bot: StartBot, fake: FakeTelegram, people: dict[str, Actor]) -> None:
    add_people(fake)
    clock = MovableClock()
    deadlines = {"sheet": {"head_sign": {"minutes": 10, "warn_before": [5]}}}
    await start_bot(clock=clock, **chain_config(deadlines=deadlines))
    hr_head, prod_head = people["hr_head"], people["prod_head"]
    await start_all(fake, [hr_head, prod_head])
    # Two cases on the sheet: each has its own deadline rows, but the head hears once.
    await answered_return_case(fake, people)
    await answered_return_case(fake, people, number=2)
    _, sheet = await sheet_at_evening(clock, hr_head)
    since_prod = prod_head.mark()
    await confirm(hr_head, sheet, prod_head, sign=False)
    confirmed = clock.now()  # the heads' 10 minutes run from HR's 確認

    clock.jump_to(confirmed + timedelta(minutes=5, seconds=5))
    warning = await prod_head.next_message(since_prod, "還剩")
    assert "責任部門負責人簽名" in text_of(warning) and "生產部" in text_of(warning)
    assert f"P-{YEAR}-0001" in text_of(warning) and f"P-{YEAR}-0002" in text_of(warning)
    since_hr = hr_head.mark()
    clock.jump_to(confirmed + timedelta(minutes=10, seconds=5))
    breach = await prod_head.next_message(since_prod, "已逾期")
    assert "責任部門負責人簽名" in text_of(breach) and "同一張表還有 1 宗" in text_of(breach)
    told = await hr_head.next_message(since_hr, "🚨 逾期")
    assert "責任部門負責人簽名" in text_of(told) and "生產部" in text_of(told)
    assert f"P-{YEAR}-0001" in text_of(told) and f"P-{YEAR}-0002" in text_of(told)
    await fake.wait_idle(quiet=1.0)
    assert [sum(needle in text_of(m) for m in prod_head.inbox()[since_prod:])
            for needle in ("還剩", "已逾期")] == [1, 1]
    assert sum("逾期" in text_of(m) for m in hr_head.inbox()[since_hr:]) == 1


async def test_freight_slip_through_six_steps_with_wrong_roles_refused(
        start_bot: StartBot, fake: FakeTelegram, people: dict[str, Actor]) -> None:
    more = add_people(fake)
    runtime = await start_bot(**chain_config())
    follower, logi_head = more["follower"], people["logi_head"]
    desk_head, desk = people["desk_head"], people["desk"]
    finance, hr, hr_head = more["finance"], people["hr"], people["hr_head"]
    await start_all(fake, [follower, logi_head, desk_head, desk, finance, more["finance_head"], hr,
                           hr_head, people["prod_head"]])
    await file_and_post(fake, people)

    # Only an order follower writes a slip; bad amounts are refused with the reason.
    await people["sales"].say(f"/freight {NUMBER}", expect="只有客服跟單員")
    await follower.say(f"/freight {NUMBER}", expect="運費金額")
    since = follower.mark()
    fake.send_sticker(FOLLOWER, FOLLOWER)  # not an answer: the slip's question again
    again = text_of(await follower.next_message(since))
    assert "需要打字回答" in again and "運費金額" in again, again
    await follower.say("-5", expect="金額要大於 0")
    await follower.say("12.345", expect="最多兩位小數")
    await follower.say("一百二十", expect="金額要是數字")
    await follower.say("120.50", expect="承運商")
    await follower.say("順豐", expect="運單號")
    await follower.say("SF 1234 5678 90", expect="由哪個部門承擔運費")
    since = follower.mark()
    fake.send_photo(FOLLOWER, FOLLOWER)  # the last question takes a button, offered again
    offered = await follower.next_message(since)
    assert "按鈕" in text_of(offered) and "由哪個部門承擔運費" in text_of(offered)
    assert "物流部" in [label for label, _ in fake.buttons(offered)]
    choose = follower.inbox()[-1]
    since_logi = logi_head.mark()
    opened = await follower.press(choose, follower.button_labelled(choose, "物流部"), expect="已開 運費單")
    slip = f"F-{datetime.now(ZONE).year}-0001"
    assert slip in text_of(opened) and "120.50" in text_of(opened) and "SF1234567890" in text_of(opened)

    # 1. The bearing department's head signs. /freight lists what waits on each person.
    prompt = await logi_head.next_message(since_logi, "承擔部門負責人簽字")
    owed = await logi_head.say("/freight", expect="等你處理的運費單")
    assert slip in text_of(owed) and "承擔部門負責人簽字" in text_of(owed)
    await desk_head.say("/freight", expect="沒有等你處理的運費單")
    assert "物流部" in await refused(fake, people["prod_head"], prompt, logi_head.button(prompt, ":s"))
    since_desk_head = desk_head.mark()
    await logi_head.press(prompt, logi_head.button(prompt, ":s"), expect="已記錄")
    # 2. The order desk's manager (its head) signs; a desk clerk may not.
    prompt = await desk_head.next_message(since_desk_head, "打單部經理或助理簽字")
    assert "打單部經理或助理" in await refused(fake, desk, prompt, desk_head.button(prompt, ":s"))
    since_follower = follower.mark()
    await desk_head.press(prompt, desk_head.button(prompt, ":s"), expect="已記錄")
    # 3. The follower records the cash collected from finance (an amount, checked).
    prompt = await follower.next_message(since_follower, "跟單員向財務領款")
    assert "客服跟單員" in await refused(fake, finance, prompt, follower.button(prompt, ":t"))
    # A second slip begun and left: pressing 填寫 says it is dropped, never silently.
    await follower.say(f"/freight {NUMBER}", expect="運費金額")
    asked = await follower.press(prompt, follower.button(prompt, ":t"), expect="請輸入金額")
    assert "未寫完的運費單已取消" in text_of(asked)
    since_finance = finance.mark()
    await follower.say("0", expect="金額要大於 0")
    await follower.say("120.5", expect="已記錄")
    # 4. Finance pays and books it; HR is told.
    prompt = await finance.next_message(since_finance, "財務付款並入賬")
    assert "財務部" in await refused(fake, follower, prompt, finance.button(prompt, ":t"))
    since_hr_head, since_hr = hr_head.mark(), hr.mark()
    await write(finance, prompt, "已付現金，憑證 記-045")
    await hr_head.next_message(since_hr_head, "請跟進承擔部門承擔運費")
    # 5. HR follows up that the bearing department honoured it.
    prompt = await hr.next_message(since_hr, "人力資源部跟進責任部門承擔運費")
    assert "人力資源部" in await refused(fake, finance, prompt, hr.button(prompt, ":t"))
    since_finance = finance.mark()
    await write(hr, prompt, "物流部已在 11 月獎金中扣回")
    # 6. Finance closes the item.
    prompt = await finance.next_message(since_finance, "財務銷賬")
    close = finance.button(prompt, ":s")
    assert "財務部" in await refused(fake, hr, prompt, close)
    await finance.press(prompt, close, expect="已記錄")
    # A signature is given once: the same data again (the button is gone) is refused.
    query_id = fake.press_forged(finance.id, close)
    answer = await fake.callback_answer(query_id)
    assert "已經完成" in str(answer["text"])

    async with runtime.ctx.sessions() as session:
        item = await session.scalar(select(ChainItem).where(ChainItem.chain == "freight"))
        assert item is not None and item.status == "done" and item.number == slip
        steps = list(await session.scalars(select(ChainStepRecord).where(
            ChainStepRecord.item_id == item.id).order_by(ChainStepRecord.id)))
    assert [s.step_key for s in steps] == ["bearer_sign", "desk_sign", "cash_collected",
                                           "paid_booked", "honoured", "closed"]
    assert [s.done_by for s in steps] == [LOGI_HEAD, DESK_HEAD, FOLLOWER, FINANCE, HR, FINANCE]
    assert steps[2].value == {"amount_cents": 12050}

    # /freight_xlsx: every slip with its steps and times.
    await hr_head.say("/freight_xlsx", expect="退貨運費單")
    month = datetime.now(ZONE).strftime("%Y-%m")
    [row] = [r for r in await xlsx_rows(fake, HR_HEAD, f"freight-{month}.xlsx") if r[0] == slip]
    assert row[1] == NUMBER and float(row[2]) == 120.5 and row[3] == "順豐"
    assert row[4] == "SF1234567890" and row[5] == "物流部" and row[6] == "孔跟單"
    assert "孫物流" in row[8] and "120.50 元" in row[10] and "記-045" in row[11]
    assert "扣回" in row[12] and "嚴會計" in row[13] and row[14] == "已完成"
    await people["sales"].say("/freight_xlsx", expect="人力資源部、財務部")
    await people["outsider"].say("/freight_xlsx", expect="人力資源部、財務部")
    # Data no button carries is refused, whoever sends it.
    query_id = fake.press_forged(finance.id, f"cs:{steps[-1].id}:am")
    answer = await fake.callback_answer(query_id)
    assert answer["show_alert"] and "失效" in str(answer["text"])


async def test_restarts_in_the_middle_of_each_chain_lose_nothing(
        start_bot: StartBot, fake: FakeTelegram, people: dict[str, Actor]) -> None:
    more = add_people(fake)
    clock = MovableClock()
    runtime = await start_bot(clock=clock, **chain_config())
    hr_head, prod_head, vp, follower = people["hr_head"], people["prod_head"], people["vp"], more["follower"]
    await start_all(fake, [hr_head, prod_head, vp, follower, people["logi_head"]])
    await answered_return_case(fake, people)

    # A slip half written survives a restart: the next answer continues it.
    await follower.say(f"/freight {NUMBER}", expect="運費金額")
    await follower.say("88", expect="承運商")
    await runtime.stop()
    runtime = await start_bot(clock=clock, **chain_config())
    await follower.say("德邦", expect="運單號")

    # A slip opened before a restart keeps its step and its button.
    choose = await follower.say("ZTO-778899", expect="由哪個部門承擔運費")
    since_logi = people["logi_head"].mark()
    await follower.press(choose, follower.button_labelled(choose, "物流部"), expect="已開 運費單")
    prompt = await people["logi_head"].next_message(since_logi, "承擔部門負責人簽字")
    await runtime.stop()
    runtime = await start_bot(clock=clock, **chain_config())
    await people["logi_head"].press(prompt, people["logi_head"].button(prompt, ":s"), expect="已記錄")

    # The sheet is compiled while the bot is down: once, at start-up.
    evening = clock.next_local(time(17, 30))
    await runtime.stop()
    clock.jump_to(evening + timedelta(minutes=1))
    since_hr = hr_head.mark()
    runtime = await start_bot(clock=clock, **chain_config())
    sheet = await hr_head.next_message(since_hr, "質量投訴處理流程表")
    await confirm(hr_head, sheet, prod_head)

    # Down over night: the VP is told once, when the bot is back in the morning.
    await runtime.stop()
    clock.jump_to(clock.next_local(time(9, 0)) + timedelta(minutes=5))
    since_vp = vp.mark()
    runtime = await start_bot(clock=clock, **chain_config())
    await vp.next_message(since_vp, "分管副總綜合處理意見")
    await runtime.stop()
    runtime = await start_bot(clock=clock, **chain_config())
    await fake.wait_idle(quiet=1.5)
    assert sum("分管副總綜合處理意見" in text_of(m) for m in vp.inbox()[since_vp:]) == 1
    assert sum("質量投訴處理流程表" in text_of(m) and "請核對" in text_of(m)
               for m in hr_head.inbox()) == 1
    async with runtime.ctx.sessions() as session:
        unsent = await session.scalar(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.status != "sent"))
        starts = list(await session.scalars(select(DeadlineEvent).where(DeadlineEvent.kind == "start")))
    assert unsent == 0
    assert len(starts) == 1 and starts[0].fired_at is not None


async def test_a_case_still_unanswered_rolls_to_the_next_days_sheet(
        start_bot: StartBot, fake: FakeTelegram, people: dict[str, Actor]) -> None:
    add_people(fake)
    clock = MovableClock()
    await start_bot(clock=clock, **chain_config())
    hr_head = people["hr_head"]
    await start_all(fake, [hr_head])
    card = await file_and_post(fake, people)

    # Day 1, 17:30: nothing answered yet, so no sheet; HR hears that the case rolls over.
    evening = clock.next_local(time(17, 30))
    since_hr = hr_head.mark()
    clock.jump_to(evening + timedelta(seconds=1))
    notice = await hr_head.next_message(since_hr, "順延")
    assert NUMBER in text_of(notice)
    await fake.wait_idle(quiet=1.0)
    assert not [d for d in fake.documents(HR_HEAD) if d["filename"].startswith("sheet-")]

    # Answered the next day, it is on that day's sheet.
    since = people["sales"].mark()
    await accept_and_publish(fake, people, card, ticks=[0])
    await answer_product(fake, people["prod"], card, "production", "封蓋機壓力不足", "同意退貨")
    await people["sales"].next_message(since, "有答覆了")
    next_evening = clock.next_local(time(17, 30), after=evening + timedelta(hours=1))
    since_hr = hr_head.mark()
    clock.jump_to(next_evening + timedelta(seconds=1))
    sheet = await hr_head.next_message(since_hr, "質量投訴處理流程表")
    assert NUMBER in text_of(sheet) and "順延" not in text_of(sheet)
    rows = await xlsx_rows(fake, HR_HEAD, f"sheet-{next_evening.date().isoformat()}.xlsx")
    assert [r[0] for r in rows[2:]] == [NUMBER]


async def test_hr_marks_a_service_complaint_for_the_sheet(
        start_bot: StartBot, fake: FakeTelegram, people: dict[str, Actor]) -> None:
    """A service complaint asking to 改進服務質量 is no compensation case until HR marks it."""
    add_people(fake)
    clock = MovableClock()
    await start_bot(clock=clock, **chain_config())
    sales, hr, hr_head, logistics = people["sales"], people["hr"], people["hr_head"], people["logi_head"]
    await start_all(fake, [hr_head, logistics])
    card = await file_and_post_service(fake, people)
    number = f"S-{YEAR}-0001"
    await sales.say(f"/crx {number}", expect="只有人力資源部")
    await hr.say("/crx", expect="用法")
    await hr.say(f"/crx {number} off", expect="已取消")  # a correction is a new event
    await hr.say(f"/crx {number}", expect="已把")
    await fake.wait_edit(card, contains="賠款/退換貨案件")

    fake.press(hr.id, card, "st:1:accept:hr")
    await fake.wait_bot_message(FORUM, contains="已於")
    picker = await press_in_group(fake, hr, card, "st:1:route:hr")
    index = next(i for i, (text, _) in enumerate(fake.buttons(picker)) if text == "物流部")
    fake.press(hr.id, picker, f"pk:1:{index}")
    await fake.wait_bot_message(FORUM, contains="已交給 物流部")
    await card_offers(fake, card, "st:1:plan:logistics")
    prompt = await press_in_group(fake, logistics, card, "st:1:plan:logistics")
    await say_in_thread(fake, logistics, card, "補發並賠償運費", reply_to=prompt, expect="已記錄")
    since_sales = sales.mark()
    prompt = await press_in_group(fake, hr, await fake.wait_edit(card, contains="⏳ 通知投訴人"),
                                  "st:1:notify:hr")
    await say_in_thread(fake, hr, card, "今天補發。", reply_to=prompt, expect="已把處理方案通知投訴人")
    await sales.next_message(since_sales, "有答覆了")

    _, sheet = await sheet_at_evening(clock, hr_head)
    assert number in text_of(sheet) and "物流部" in text_of(sheet) and "補發並賠償運費" in text_of(sheet)
    await confirm(hr_head, sheet, logistics, "物流部")


async def test_freight_needs_a_finance_department(
        start_bot: StartBot, fake: FakeTelegram, people: dict[str, Actor]) -> None:
    more = add_people(fake)
    await start_bot(**chain_config(roles={"order_followers": [FOLLOWER]}))
    await more["follower"].say(f"/freight {NUMBER}", expect="沒有財務部")


async def test_hr_hears_at_once_when_nobody_holds_a_steps_role(
        start_bot: StartBot, fake: FakeTelegram, people: dict[str, Actor]) -> None:
    """No vice-president over 業務部 and no GM: the opinion would wait on nobody."""
    add_people(fake)
    clock = MovableClock()
    config = chain_config(roles={"order_followers": [FOLLOWER], "finance": "finance"})
    for dept in config["departments"]:
        dept.pop("vice_president", None)
    await start_bot(clock=clock, **config)
    hr_head, prod_head = people["hr_head"], people["prod_head"]
    await start_all(fake, [hr_head, prod_head])
    await answered_return_case(fake, people)
    _, sheet = await sheet_at_evening(clock, hr_head)
    await confirm(hr_head, sheet, prod_head)
    since_hr = hr_head.mark()
    clock.jump_to(clock.next_local(time(9, 0)) + timedelta(seconds=1))
    warning = await hr_head.next_message(since_hr, "設定中沒有這個人")
    assert "分管副總綜合處理意見" in text_of(warning)


async def test_the_vice_president_waits_for_every_responsible_head(
        start_bot: StartBot, fake: FakeTelegram, people: dict[str, Actor]) -> None:
    """Two departments answered: the row goes to the VP only once both heads have signed;
    /sheet offers each person the buttons of what they may do on it."""
    add_people(fake)
    clock = MovableClock()
    await start_bot(clock=clock, **chain_config())
    hr_head, prod_head, purch_head, vp = (people["hr_head"], people["prod_head"],
                                          people["purch_head"], people["vp"])
    await start_all(fake, [hr_head, prod_head, purch_head, vp])
    card = await file_and_post(fake, people)
    since = people["sales"].mark()
    await accept_and_publish(fake, people, card, ticks=[0, 1])
    await answer_product(fake, people["prod"], card, "production", "封蓋機壓力不足", "同意退貨")
    await answer_product(fake, purch_head, card, "purchasing", "瓶蓋供應商批次不良", "向供應商索賠")
    await people["sales"].next_message(since, "有答覆了")

    _, sheet = await sheet_at_evening(clock, hr_head)
    status = await hr_head.say("/sheet", expect="人力資源部尚未確認")
    assert hr_head.button(status, "sh:").endswith(":c")  # HR may confirm from /sheet too
    shown = await vp.say("/sheet", expect="各簽名見 XLSX")
    assert fake.buttons(shown) == []  # the VP has nothing to do on it yet
    await confirm(hr_head, sheet, prod_head)
    since_purch = purch_head.mark()
    status = await purch_head.say("/sheet", expect="責任部門負責人簽名（採購部）")
    sign = purch_head.button(status, "sh:")
    assert sign.endswith(":s")

    since_vp = vp.mark()
    clock.jump_to(clock.next_local(time(9, 0)) + timedelta(seconds=1))
    await fake.wait_idle(quiet=1.0)
    assert not [m for m in vp.inbox()[since_vp:] if "分管副總綜合處理意見" in text_of(m)]
    await purch_head.press(status, sign, expect="已簽名")
    prompt = await vp.next_message(since_vp, "分管副總綜合處理意見")
    assert "生產部" in text_of(prompt) and "採購部" in text_of(prompt)
    assert len([m for m in purch_head.inbox()[since_purch:] if "已簽名" in text_of(m)]) == 1


async def test_on_the_working_calendar_the_sheet_waits_for_the_next_working_morning(
        start_bot: StartBot, fake: FakeTelegram, people: dict[str, Actor]) -> None:
    """With office hours and China's holidays: the sheet comes at 17:30 on a working day, a
    head's 30 minutes run past 18:00 into the next working morning, and the VP gets the row
    at 09:00 on the next working day (after a weekend or a holiday)."""
    from bot.domain.calendar import WorkingCalendar
    from bot.domain.chains import next_morning

    calendar = WorkingCalendar(ZONE)
    add_people(fake)
    clock = MovableClock()
    config = chain_config()
    del config["calendar"]  # the default: working days, 09:00-18:00
    runtime = await start_bot(clock=clock, **config)
    hr_head, prod_head, vp = people["hr_head"], people["prod_head"], people["vp"]
    await start_all(fake, [hr_head, prod_head, vp])
    await answered_return_case(fake, people)

    evening = clock.next_local(time(17, 30))
    while not calendar.is_working_day(evening.date()):
        evening += timedelta(days=1)
    since_hr = hr_head.mark()
    clock.jump_to(evening + timedelta(seconds=1))
    sheet = await hr_head.next_message(since_hr, "請核對")
    since_prod = prod_head.mark()
    await hr_head.press(sheet, hr_head.button(sheet, "sh:"), expect="已確認")
    await prod_head.next_message(since_prod, "請生產部負責人簽名")
    morning = next_morning(calendar, evening.date(), time(9, 0))
    async with runtime.ctx.sessions() as session:
        head_sign = await session.scalar(select(ChainStepRecord).where(
            ChainStepRecord.step_key == "head_sign"))
    assert head_sign is not None
    due = head_sign.due_at.replace(tzinfo=UTC).astimezone(ZONE)
    assert morning < due < morning + timedelta(minutes=30)  # 30 working minutes, past 18:00

    to_sign = prod_head.inbox()[-1]
    await prod_head.press(to_sign, prod_head.button(to_sign, "sh:"), expect="已簽名")
    since_vp = vp.mark()
    clock.jump_to(morning - timedelta(minutes=1))
    await fake.wait_idle(quiet=1.0)
    assert not [m for m in vp.inbox()[since_vp:] if "分管副總綜合處理意見" in text_of(m)]
    clock.jump_to(morning + timedelta(seconds=1))
    await vp.next_message(since_vp, "分管副總綜合處理意見")


async def open_slip(follower: Actor, bearer_head: Actor, amount: str,
                    bearer: str = "物流部") -> dict[str, Any]:
    """The follower writes a slip; returns the prompt the bearing head gets to sign it."""
    await follower.say(f"/freight {NUMBER}", expect="運費金額")
    await follower.say(amount, expect="承運商")
    await follower.say("德邦", expect="運單號")
    choose = await follower.say("DB-12345678", expect="由哪個部門承擔運費")
    since = bearer_head.mark()
    await follower.press(choose, follower.button_labelled(choose, bearer), expect="已開 運費單")
    return await bearer_head.next_message(since, "承擔部門負責人簽字")


async def test_a_slip_opened_by_mistake_is_withdrawn_with_its_reason(
        start_bot: StartBot, fake: FakeTelegram, people: dict[str, Actor]) -> None:
    """A wrong amount cannot be signed away: the follower withdraws the slip with the reason.
    Those it waited on are told, its button and its deadlines die with it, the export keeps
    it, and once the cash is collected a slip can no longer be withdrawn."""
    more = add_people(fake)
    clock = MovableClock()
    runtime = await start_bot(clock=clock, **chain_config())
    follower, logi_head, desk_head, hr_head = (more["follower"], people["logi_head"],
                                               people["desk_head"], people["hr_head"])
    await start_all(fake, [follower, logi_head, desk_head, hr_head])
    card = await file_and_post(fake, people)
    year = datetime.now(ZONE).year
    slip, right_slip = f"F-{year}-0001", f"F-{year}-0002"
    prompt = await open_slip(follower, logi_head, "880")

    await follower.say("/freight cancel", expect="用法：/freight cancel")
    await follower.say(f"/freight cancel {slip}", expect="用法：/freight cancel")  # no reason
    await logi_head.say(f"/freight cancel {slip} 不想簽", expect="只有客服跟單員或人力資源部")
    await follower.say(f"/freight cancel F-{year}-0099 填錯", expect="找不到運費單")
    await follower.say(f"/freight cancel {slip} " + "填" * 201, expect="太長了：201 個字，最多 200 個字")
    since_logi, since_hr = logi_head.mark(), hr_head.mark()
    sign = logi_head.button(prompt, ":s")
    done = await follower.say(f"/freight cancel {slip.lower()} 金額填錯，應為 88 元", expect="已撤回")
    assert slip in text_of(done) and "金額填錯" in text_of(done)
    for told in (await logi_head.next_message(since_logi, "已撤回"),
                 await hr_head.next_message(since_hr, "已撤回")):
        assert slip in text_of(told) and "孔跟單" in text_of(told) and "金額填錯" in text_of(told)
    # The head's prompt loses its button; a press that was on its way is refused.
    await fake.wait_for(lambda: not fake.buttons(prompt), message="the prompt's button goes")
    query_id = fake.press_forged(logi_head.id, sign)
    assert "已經撤回" in str((await fake.callback_answer(query_id))["text"])
    await fake.wait_edit(card, contains="🚫 已撤回")
    # Its warning and deadline pass in silence; nothing waits on the head.
    events_of_slip = select(DeadlineEvent).where(DeadlineEvent.chain_step_id.in_(
        select(ChainStepRecord.id).join(ChainItem, ChainStepRecord.item_id == ChainItem.id)
        .where(ChainItem.number == slip)))
    async with runtime.ctx.sessions() as session:
        events = list(await session.scalars(events_of_slip))
    assert events and all(e.cancelled_at is not None and e.fired_at is None for e in events)
    since_logi = logi_head.mark()
    clock.jump_to(clock.now() + timedelta(hours=3))
    await fake.wait_idle(quiet=1.5)
    assert logi_head.inbox()[since_logi:] == []
    async with runtime.ctx.sessions() as session:
        assert all(e.fired_at is None for e in await session.scalars(events_of_slip))
    await logi_head.say("/freight", expect="沒有等你處理的運費單")
    await follower.say(f"/freight cancel {slip} 再撤一次", expect="已經撤回")

    # The right slip runs as usual; after the cash is collected it cannot be withdrawn.
    prompt = await open_slip(follower, logi_head, "88")
    since = desk_head.mark()
    await logi_head.press(prompt, logi_head.button(prompt, ":s"), expect="已記錄")
    prompt = await desk_head.next_message(since, "打單部經理或助理簽字")
    since = follower.mark()
    await desk_head.press(prompt, desk_head.button(prompt, ":s"), expect="已記錄")
    prompt = await follower.next_message(since, "跟單員向財務領款")
    await write(follower, prompt, "88")
    refusal = await hr_head.say(f"/freight cancel {right_slip} 重複", expect="不能再撤回")
    assert "跟單員向財務領款" in text_of(refusal)
    # HR may withdraw a slip too; the follower who wrote it hears of it.
    await open_slip(follower, logi_head, "66")
    since = follower.mark()
    await hr_head.say(f"/freight cancel F-{year}-0003 重複開單", expect="已撤回")
    told = await follower.next_message(since, "已撤回")
    assert f"F-{year}-0003" in text_of(told) and "重複開單" in text_of(told)

    async with runtime.ctx.sessions() as session:
        items = {i.number: i for i in await session.scalars(select(ChainItem))}
    assert items[slip].status == "withdrawn" and items[right_slip].status == "open"
    # The export keeps the withdrawn slip, with who struck it out and why; /show names it.
    await hr_head.say("/freight_xlsx", expect="退貨運費單")
    month = clock.now().astimezone(ZONE).strftime("%Y-%m")
    rows = {r[0]: r for r in await xlsx_rows(fake, HR_HEAD, f"freight-{month}.xlsx")}
    assert float(rows[slip][2]) == 880 and rows[slip][8] in (None, "")
    assert "已撤回" in rows[slip][14] and "孔跟單" in rows[slip][14] and "金額填錯" in rows[slip][14]
    assert float(rows[right_slip][2]) == 88 and "已撤回" not in rows[right_slip][14]
    history = await hr_head.say(f"/show {NUMBER}", expect="撤回簽核")
    assert "金額填錯" in text_of(history)


async def test_hr_strikes_a_case_off_the_sheet_it_is_on(
        start_bot: StartBot, fake: FakeTelegram, people: dict[str, Actor]) -> None:
    """A case marked by mistake: `/crx N off <reason>` takes it off its sheet too. The head
    asked to sign and the complainant are told, the head's button is refused, his deadline
    passes in silence, and the case comes back only if HR marks it again."""
    add_people(fake)
    clock = MovableClock()
    await start_bot(clock=clock, **chain_config())
    hr, hr_head, prod_head, vp, sales = (people["hr"], people["hr_head"], people["prod_head"],
                                         people["vp"], people["sales"])
    await start_all(fake, [hr_head, prod_head, vp, sales])
    await answered_return_case(fake, people)
    evening, sheet = await sheet_at_evening(clock, hr_head)
    to_sign = await confirm(hr_head, sheet, prod_head, sign=False)

    since_prod, since_sales = prod_head.mark(), sales.mark()
    await hr.say(f"/crx {NUMBER} off 客戶已撤銷要求", expect="撤下")
    await prod_head.next_message(since_prod, "已撤回")
    told = await sales.next_message(since_sales, "已撤回")
    assert NUMBER in text_of(told) and "客戶已撤銷要求" in text_of(told)
    assert "已撤回" in await refused(fake, prod_head, to_sign, prod_head.button(to_sign, "sh:"))
    status = await hr_head.say(f"/sheet {evening.date().isoformat()}", expect="各簽名見 XLSX")
    assert f"🚫 #{NUMBER} 永輝超市：已撤回" in text_of(status)
    rows = await xlsx_rows(fake, HR_HEAD, f"sheet-{evening.date().isoformat()}.xlsx", count=2)
    assert "已撤回" in rows[2][-1] and "客戶已撤銷要求" in rows[2][-1]
    await hr.say(f"/crx {NUMBER} off", expect="不會列入")  # again: already off, nothing to strike

    # The head's deadline passes in silence.
    since_prod = prod_head.mark()
    clock.jump_to(clock.next_local(time(9, 0)) + timedelta(minutes=30))
    await fake.wait_idle(quiet=1.5)
    assert prod_head.inbox()[since_prod:] == []

    # Marked again, it is on that evening's sheet.
    await hr.say(f"/crx {NUMBER}", expect="已把")
    _, sheet = await sheet_at_evening(clock, hr_head)
    assert NUMBER in text_of(sheet)


async def test_a_case_the_gm_sent_back_can_still_be_struck_off(
        start_bot: StartBot, fake: FakeTelegram, people: dict[str, Actor]) -> None:
    """After a GM rejection the case is back with the vice-president, not yet approved: HR may
    still strike it off. The VP, asked again, is told, and his button and half-typed
    answer are refused."""
    more = add_people(fake)
    clock = MovableClock()
    await start_bot(clock=clock, **chain_config())
    hr, hr_head, prod_head, vp, gm = (people["hr"], people["hr_head"], people["prod_head"],
                                      people["vp"], more["gm"])
    await start_all(fake, [hr_head, prod_head, vp, gm, more["gm_assistant"], people["sales"]])
    await answered_return_case(fake, people)
    _, sheet = await sheet_at_evening(clock, hr_head)
    await confirm(hr_head, sheet, prod_head)
    since_vp = vp.mark()
    clock.jump_to(clock.next_local(time(9, 0)) + timedelta(seconds=1))
    prompt = await vp.next_message(since_vp, "分管副總綜合處理意見")
    since_gm = gm.mark()
    await write(vp, prompt, "退貨並補償 500 元")
    decide = await gm.next_message(since_gm, "總經理意見")
    since_vp = vp.mark()
    await gm.press(decide, gm.button(decide, ":r"), expect="否決的原因")
    await gm.say("補償太高", expect="已記錄")
    again = await vp.next_message(since_vp, "分管副總綜合處理意見")

    write_button = vp.button(again, ":t")
    await vp.press(again, write_button, expect="請輸入")  # he starts typing the new opinion
    since_vp = vp.mark()
    await hr.say(f"/crx {NUMBER} off 客戶改為自行處理", expect="撤下")
    told = await vp.next_message(since_vp, "已撤回")
    assert "客戶改為自行處理" in text_of(told)
    await vp.say("只退貨", expect="/product")  # no longer taken as the opinion
    query_id = fake.press_forged(vp.id, write_button)
    assert "已經撤回" in (await fake.callback_answer(query_id))["text"]


async def test_role_holders_find_their_commands_in_help_and_menu(
        start_bot: StartBot, fake: FakeTelegram, people: dict[str, Actor]) -> None:
    """Rights held through a role, not a department, show in /help and the menu as the
    commands check them: the GM (no department) and the order desk have /sheet, finance
    /freight_xlsx."""
    more = add_people(fake)
    runtime = await start_bot(**chain_config())
    gm, desk, finance, sales = more["gm"], people["desk"], more["finance"], people["sales"]
    for actor, has, lacks in ((gm, "/sheet", "/freight_xlsx"), (desk, "/sheet", "/freight_xlsx"),
                              (finance, "/freight_xlsx", "/sheet"), (sales, "/product", "/sheet")):
        assert lacks not in text_of(await actor.say("/help", expect=has)), actor.id
    await runtime.stop()  # menus per chat are set at start-up, for those who opened a chat
    await start_bot(**chain_config())
    await fake.wait_for(lambda: fake.commands("chat", chat_id=FINANCE), message="finance's menu")
    assert "sheet" in [c["command"] for c in fake.commands("chat", chat_id=GM)]
    assert "freight_xlsx" in [c["command"] for c in fake.commands("chat", chat_id=FINANCE)]
