"""Killing the bot process (SIGKILL) mid-form loses nothing and does nothing twice."""

from __future__ import annotations

import asyncio
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import tomli_w

from bot.sandbox import FakeTelegram
from tests.databases import sync_url, url_for
from tests.e2e.conftest import FORUM, Actor, config_data, text_of
from tests.e2e.flows import YEAR, card_offers, fill_service_form, press_in_group, say_in_thread

ROOT = Path(__file__).resolve().parents[2]


async def start_process(fake: FakeTelegram, config: Path) -> asyncio.subprocess.Process:
    polls_before = fake.poll_count
    env = {**os.environ, "COMPLAINT_BOT_TOKEN": fake.token, "LOG_LEVEL": "WARNING"}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", "--config", str(config), cwd=ROOT, env=env)
    await fake.wait_for(lambda: fake.poll_count > polls_before, timeout=30,
                        message="the bot process starts polling")
    return process


async def kill(process: asyncio.subprocess.Process) -> None:
    process.kill()  # SIGKILL: no shutdown code runs
    await process.wait()


def write_config(fake: FakeTelegram, tmp_path: Path, **extra: Any) -> Path:
    data = {**config_data(url_for(tmp_path / "complaints.db"), FORUM), **extra}
    data["telegram"].update(base_url=fake.base_url, base_file_url=fake.base_file_url)
    path = tmp_path / "config.toml"
    path.write_bytes(tomli_w.dumps(data).encode())
    return path


async def test_form_resumes_after_sigkill(fake: FakeTelegram, tmp_path: Path,
                                          people: dict[str, Actor]) -> None:
    config = write_config(fake, tmp_path)
    sales = people["sales"]
    process = await start_process(fake, config)
    try:
        step = await sales.say("/product", expect="第 1/8 步")
        await sales.press(step, sales.button(step, ":keep"), expect="第 2/8 步")
        await sales.say("永輝超市", expect="第 3/8 步")
        await kill(process)

        process = await start_process(fake, config)
        # The same step, with the answers kept; the last update is not applied twice.
        await sales.say("昨天", expect="第 4/8 步")
        await sales.say("金牌", expect="第 5/8 步")
        await kill(process)
        # Killed with an answer on its way: it is handled once, after the restart.
        since = sales.mark()
        fake.send_text(sales.id, sales.id, "500ml×20箱")
        process = await start_process(fake, config)
        await sales.next_message(since, "第 6/8 步")
        await sales.say("瓶蓋漏液", expect="第 7/8 步")
        summary = await sales.say("退貨", expect="請確認")
        for expected in ("王小明", "永輝超市", "金牌", "500ml×20箱", "瓶蓋漏液", "退貨"):
            assert expected in text_of(summary)
        steps = [m for m in sales.inbox() if "第 6/8 步" in text_of(m)]
        assert len(steps) == 1
    finally:
        await kill(process)


@pytest.mark.slow
async def test_service_path_survives_a_restart_between_every_two_steps(
        fake: FakeTelegram, tmp_path: Path, people: dict[str, Actor]) -> None:
    config = write_config(fake, tmp_path)
    sales, head, hr, logistics = (people["sales"], people["sales_head"], people["hr"],
                                  people["logi_head"])
    process = await start_process(fake, config)

    async def restart() -> None:
        """Between two steps: once the bot has finished the last one (the moment between
        Telegram accepting a message and the database recording it is the sender's own
        concern, tested separately)."""
        nonlocal process
        await fake.wait_idle(quiet=0.3)
        await kill(process)
        process = await start_process(fake, config)

    try:
        summary = await fill_service_form(sales)
        await restart()
        since_head = head.mark()
        await sales.press(summary, sales.button(summary, ":submit"), expect="審批")
        request = await head.next_message(since_head, "待你審批")
        await restart()
        await head.press(request, head.button(request, ":y"), expect="已批准")
        card = await fake.wait_bot_message(FORUM, contains=f"#S-{YEAR}-0001")
        await restart()
        fake.press(hr.id, card, "st:1:accept:hr")
        await fake.wait_bot_message(FORUM, contains="已於")
        await restart()
        picker = await press_in_group(fake, hr, card, "st:1:route:hr")
        await restart()
        index = next(i for i, (text, _) in enumerate(fake.buttons(picker)) if text == "物流部")
        fake.press(hr.id, picker, f"pk:1:{index}")
        await fake.wait_bot_message(FORUM, contains="已交給 物流部")
        await restart()
        await card_offers(fake, card, "st:1:plan:logistics")
        prompt = await press_in_group(fake, logistics, card, "st:1:plan:logistics")
        await restart()
        await say_in_thread(fake, logistics, card, "補發並免運費", reply_to=prompt, expect="已記錄")
        await restart()
        edited = await fake.wait_edit(card, contains="⏳ 通知投訴人")
        prompt = await press_in_group(fake, hr, edited, "st:1:notify:hr")
        await restart()
        since_sales = sales.mark()
        await say_in_thread(fake, hr, card, "今天補發。", reply_to=prompt, expect="已把處理方案通知投訴人")
        notice = await sales.next_message(since_sales, "有答覆了")
        await restart()
        await sales.press(notice, sales.button(notice, ":ok"), expect="已結案")
        await fake.wait_bot_message(FORUM, contains="接受處理結果")
        await fake.wait_idle(quiet=1.0)
    finally:
        await kill(process)

    # Nothing lost, nothing twice: each notice reached the thread and the complainant once.
    thread = [text_of(m) for m in fake.bot_messages(FORUM, card["message_thread_id"])]
    for once in ("已於", "已交給 物流部", "已記錄 物流部", "已把處理方案通知投訴人", "接受處理結果"):
        assert sum(once in text for text in thread) == 1, (once, thread)
    private = [text_of(m) for m in sales.inbox()]
    for once in ("已批准你的投訴", "已發佈到工作群", "已由 人力資源部 受理", "有答覆了", "已結案"):
        assert sum(once in text for text in private) == 1, (once, private)
    assert len(fake.topics(FORUM)) == 1


# A 2-hour answer shrunk to 9 s, warned 6 s before (so 3 s after assignment).
DEADLINES = {"calendar": {"mode": "24x7"}, "sweep_seconds": 1,
             "deadlines": {"product": {"answer": {"minutes": 0.15, "warn_before": [0.1]}}}}


def deadline_notices(fake: FakeTelegram, thread: int) -> dict[str, list[str]]:
    """The complaint's deadline notices, each alone or a line of a digest (merged when
    several fall due together)."""
    lines = [line for m in fake.bot_messages(FORUM, thread) for line in text_of(m).split("\n")]
    return {"warning": [t for t in lines if t.startswith("⏰")],
            "breach": [t for t in lines if t.startswith("🚨 #")],  # not the card's 🚨 line
            "fine": [t for t in lines if t.startswith("💰")]}


async def assign_production(fake: FakeTelegram, people: dict[str, Actor]) -> dict[str, Any]:
    from tests.e2e.flows import file_and_post
    from tests.e2e.test_handling import accept_and_publish

    card = await file_and_post(fake, people)
    await accept_and_publish(fake, people, card, ticks=[0])
    await fake.wait_idle(quiet=0.3)
    return card


@pytest.mark.slow
async def test_deadlines_that_pass_while_the_bot_is_down_fire_once_late(
        fake: FakeTelegram, tmp_path: Path, people: dict[str, Actor]) -> None:
    config = write_config(fake, tmp_path, **DEADLINES)
    process = await start_process(fake, config)
    try:
        card = await assign_production(fake, people)
        await kill(process)  # deadlines pending: warning in ~3 s, breach in ~9 s
        await asyncio.sleep(10)
        process = await start_process(fake, config)
        thread = card["message_thread_id"]
        await fake.wait_for(lambda: len(deadline_notices(fake, thread)["fine"]) == 1, timeout=15)
        await fake.wait_idle(quiet=1.5)
        await kill(process)
        process = await start_process(fake, config)  # and once more: nothing repeats
        await fake.wait_idle(quiet=2.5)
    finally:
        await kill(process)
    notices = deadline_notices(fake, thread)
    assert [len(v) for v in notices.values()] == [1, 1, 1], notices
    assert "遲發" in notices["warning"][0] and "遲發" in notices["breach"][0]
    head_inbox = [text_of(m) for m in people["prod_head"].inbox()]
    assert sum("向你記罰款" in t for t in head_inbox) == 1
    assert sum("已記罰款" in text_of(m) for m in people["hr_head"].inbox()) == 1


@pytest.mark.slow
async def test_sigkill_while_deadlines_fire_and_the_sender_works(
        fake: FakeTelegram, tmp_path: Path, people: dict[str, Actor]) -> None:
    """Kill the process again and again around the moments the deadlines fire."""
    config = write_config(fake, tmp_path, **DEADLINES)
    process = await start_process(fake, config)
    try:
        card = await assign_production(fake, people)
        thread = card["message_thread_id"]
        for pause in (2.5, 0.7, 1.3, 2.9, 0.4, 2.2, 1.1):  # across the 3 s and 9 s marks
            await asyncio.sleep(pause)
            await kill(process)
            process = await start_process(fake, config)
        await fake.wait_for(lambda: len(deadline_notices(fake, thread)["fine"]) >= 1, timeout=20)
        await fake.wait_idle(quiet=2.0)
    finally:
        await kill(process)
    notices = deadline_notices(fake, thread)
    assert [len(v) for v in notices.values()] == [1, 1, 1], notices


async def test_two_processes_on_one_database_fire_each_deadline_once(
        fake: FakeTelegram, tmp_path: Path, people: dict[str, Actor]) -> None:
    config = write_config(fake, tmp_path, **DEADLINES)
    first = await start_process(fake, config)
    second = None
    try:
        card = await assign_production(fake, people)
        env = {**os.environ, "COMPLAINT_BOT_TOKEN": fake.token, "LOG_LEVEL": "WARNING"}
        second = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", "--config", str(config), cwd=ROOT, env=env)
        thread = card["message_thread_id"]
        await fake.wait_for(lambda: len(deadline_notices(fake, thread)["fine"]) >= 1, timeout=20)
        await fake.wait_idle(quiet=2.5)
    finally:
        await kill(first)
        if second is not None:
            await kill(second)
    notices = deadline_notices(fake, thread)
    assert [len(v) for v in notices.values()] == [1, 1, 1], notices
    assert sum("向你記罰款" in text_of(m) for m in people["prod_head"].inbox()) == 1


def zone_at_noon() -> str:
    """A fixed-offset zone where it is about noon now, so a test's local day cannot end under it."""
    offset = 12 - datetime.now(UTC).hour  # -11 … +12 hours; Etc/ names invert the sign
    return f"Etc/GMT{-offset:+d}" if offset else "Etc/GMT"


# About 25 restarts of a real process (each a few seconds of start-up): about two minutes
# on two cores, over the suite's 120-s guard against hangs.
@pytest.mark.slow
@pytest.mark.timeout(360)
async def test_chains_survive_a_sigkill_between_every_two_steps(
        fake: FakeTelegram, tmp_path: Path, people: dict[str, Actor]) -> None:
    """Rules 一.4 and 三 with a real process killed between every two steps: the sheet is
    compiled once, each prompt comes once, and both chains reach their end.

    The real clock drives these processes, so the sheet is yesterday's, compiled late at
    start-up (compile_at is still ahead today): its "next morning" (00:00) has passed, and
    the vice-president's step opens as soon as the head has signed."""
    import sqlalchemy

    from bot.store.models import ChainItem, ChainStepRecord
    from tests.e2e.test_chains import NUMBER, add_people, answered_return_case, chain_config

    more = add_people(fake)
    general = {"timezone": zone_at_noon()}
    quiet = write_config(fake, tmp_path, general=general, **chain_config(sheet={"enabled": False}))
    process = await start_process(fake, quiet)
    follower, logi, desk_head, finance = (more["follower"], people["logi_head"],
                                          people["desk_head"], more["finance"])
    hr, hr_head, prod_head, vp, desk = (people["hr"], people["hr_head"], people["prod_head"],
                                        people["vp"], people["desk"])
    gm_assistant = more["gm_assistant"]
    actors = (follower, logi, desk_head, finance, hr, hr_head, prod_head, vp, desk, gm_assistant)
    for actor in actors:
        await actor.say("/whoami")
    await answered_return_case(fake, people)
    config = write_config(fake, tmp_path, general=general, **chain_config(
        sheet={"compile_at": "23:59", "morning_at": "00:00"}))

    async def restart() -> None:
        nonlocal process
        await fake.wait_idle(quiet=0.3)
        await kill(process)
        process = await start_process(fake, config)

    async def prompt_for(actor: Actor, since: int, label: str) -> dict[str, Any]:
        await restart()
        return await actor.next_message(since, label)

    async def write(actor: Actor, prompt: dict[str, Any], text: str) -> None:
        """Press 填寫, a kill, then type the answer: the question survives."""
        await actor.press(prompt, actor.button(prompt, ":t"), expect="請輸入")
        await restart()
        await actor.say(text, expect="已記錄")

    try:
        # The sheet: compiled at start-up, confirmed, signed, then the next-morning steps.
        since_hr = hr_head.mark()
        await restart()
        sheet = await hr_head.next_message(since_hr, "請核對")
        await restart()
        since_prod = prod_head.mark()
        await hr_head.press(sheet, hr_head.button(sheet, "sh:"), expect="已確認")
        to_sign = await prompt_for(prod_head, since_prod, "請生產部負責人簽名")
        since = vp.mark()
        await prod_head.press(to_sign, prod_head.button(to_sign, "sh:"), expect="已簽名")
        prompt = await prompt_for(vp, since, "分管副總綜合處理意見")
        since = gm_assistant.mark()
        await write(vp, prompt, "退貨，客戶同意")
        prompt = await prompt_for(gm_assistant, since, "總經理意見")
        since = desk.mark()
        await gm_assistant.press(prompt, gm_assistant.button(prompt, ":a"), expect="已記錄")
        prompt = await prompt_for(desk, since, "打單部執行")
        await write(desk, prompt, "已安排上門收回")

        # The freight slip, a kill between every two answers and every two steps.
        await restart()
        await follower.say(f"/freight {NUMBER}", expect="運費金額")
        await restart()
        await follower.say("66.6", expect="承運商")
        await restart()
        await follower.say("順豐", expect="運單號")
        await restart()
        choose = await follower.say("SF0001112223", expect="由哪個部門承擔運費")
        await restart()
        since = logi.mark()
        await follower.press(choose, follower.button_labelled(choose, "物流部"), expect="已開 運費單")
        prompt = await prompt_for(logi, since, "承擔部門負責人簽字")
        since = desk_head.mark()
        await logi.press(prompt, logi.button(prompt, ":s"), expect="已記錄")
        prompt = await prompt_for(desk_head, since, "打單部經理或助理簽字")
        since = follower.mark()
        await desk_head.press(prompt, desk_head.button(prompt, ":s"), expect="已記錄")
        prompt = await prompt_for(follower, since, "跟單員向財務領款")
        await follower.press(prompt, follower.button(prompt, ":t"), expect="請輸入金額")
        await restart()
        since = finance.mark()
        await follower.say("66.60", expect="已記錄")
        prompt = await prompt_for(finance, since, "財務付款並入賬")
        await finance.press(prompt, finance.button(prompt, ":t"), expect="請輸入")
        await restart()
        since = hr.mark()
        await finance.say("憑證 記-046", expect="已記錄")
        prompt = await prompt_for(hr, since, "人力資源部跟進責任部門承擔運費")
        await hr.press(prompt, hr.button(prompt, ":t"), expect="請輸入")
        await restart()
        since = finance.mark()
        await hr.say("已扣回", expect="已記錄")
        prompt = await prompt_for(finance, since, "財務銷賬")
        # Killed the moment the press is on its way: Telegram sends it again after the
        # restart, and the slip is closed once.
        since = finance.mark()
        fake.press(finance.id, prompt, finance.button(prompt, ":s"))
        await kill(process)
        process = await start_process(fake, config)
        await finance.next_message(since, "已記錄")
        await restart()
        await fake.wait_idle(quiet=1.0)
    finally:
        await kill(process)

    # Nothing twice: one sheet, one request to sign, one prompt per step and person.
    assert sum("請核對" in text_of(m) for m in hr_head.inbox()) == 1
    assert sum("請生產部負責人簽名" in text_of(m) for m in prod_head.inbox()) == 1
    for actor, label in ((vp, "分管副總綜合處理意見"), (gm_assistant, "總經理意見"), (desk, "打單部執行")):
        assert sum(label in text_of(m) and "輪到你" in text_of(m) for m in actor.inbox()) == 1, label
    assert sum("已記錄" in text_of(m) and "財務銷賬" in text_of(m) for m in finance.inbox()) == 1
    for actor, label in ((logi, "承擔部門負責人簽字"), (desk_head, "打單部經理或助理簽字"),
                         (follower, "跟單員向財務領款"), (finance, "財務付款並入賬"),
                         (hr, "人力資源部跟進"), (finance, "財務銷賬")):
        assert sum(f"輪到你：<b>{label}" in text_of(m) or f"輪到你：{label}" in text_of(m)
                   for m in actor.inbox()) == 1, label
    engine = sqlalchemy.create_engine(sync_url(url_for(tmp_path / "complaints.db")))
    with sqlalchemy.orm.Session(engine) as session:
        slip = session.scalar(sqlalchemy.select(ChainItem).where(ChainItem.chain == "freight"))
        assert slip is not None and slip.status == "done"
        steps = session.scalars(sqlalchemy.select(ChainStepRecord).where(
            ChainStepRecord.item_id == slip.id)).all()
        assert [s.step_key for s in steps] == ["bearer_sign", "desk_sign", "cash_collected",
                                               "paid_booked", "honoured", "closed"]
        assert all(s.done_at is not None for s in steps)
        row = session.scalar(sqlalchemy.select(ChainItem).where(ChainItem.chain == "sheet"))
        assert row is not None and row.status == "done"
        signed = session.execute(sqlalchemy.select(ChainStepRecord.step_key, ChainStepRecord.value)
                                 .where(ChainStepRecord.item_id == row.id)
                                 .order_by(ChainStepRecord.id)).all()
        assert [key for key, _ in signed] == ["hr_confirm", "head_sign", "vp_opinion",
                                              "gm_decision", "execution"]
        assert signed[2].value == {"text": "退貨，客戶同意"}
        assert signed[3].value == {"decision": "approve"}
    engine.dispose()
