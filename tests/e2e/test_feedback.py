"""Ch. 9: whoever filed a complaint hears back within 24 hours — a progress note if no answer
has reached them by then, and the intake department's head told; once."""

from __future__ import annotations

from datetime import timedelta

from bot.app import Runtime
from bot.sandbox import FakeTelegram
from tests.e2e.conftest import Actor, StartBot, text_of
from tests.e2e.flows import YEAR, file_and_post, submit_for_approval
from tests.e2e.test_chains import MovableClock


async def start(start_bot: StartBot) -> tuple[Runtime, MovableClock]:
    clock = MovableClock()
    return await start_bot(clock=clock, sweep_seconds=0.3), clock


async def test_no_answer_in_24_hours_brings_a_progress_note_once(
        start_bot: StartBot, fake: FakeTelegram, people: dict[str, Actor]) -> None:
    _, clock = await start(start_bot)
    sales, desk_head = people["sales"], people["desk_head"]
    await file_and_post(fake, people)  # posted, not yet accepted by the order desk
    filed = clock.now()
    since, since_head = sales.mark(), desk_head.mark()
    clock.jump_to(filed + timedelta(hours=24, seconds=10))
    note = await sales.next_message(since, "還沒有答覆")
    assert f"P-{YEAR}-0001" in text_of(note) and "正在等：打單部" in text_of(note)
    told = await desk_head.next_message(since_head, "到了答覆期限")
    assert "王小明" in text_of(told)
    await fake.wait_idle(quiet=1.0)
    assert sum("還沒有答覆" in text_of(m) for m in sales.inbox()) == 1


async def test_waiting_for_approval_is_progress_too_and_a_sent_back_one_hears_nothing_more(
        start_bot: StartBot, fake: FakeTelegram, people: dict[str, Actor]) -> None:
    _, clock = await start(start_bot)
    sales, head = people["sales"], people["sales_head"]
    await submit_for_approval(sales, head)  # waits for the head
    filed = clock.now()
    second = await submit_for_approval(sales, head)
    await head.press(second, head.button(second, ":n"), expect="退回原因")
    await head.say("資料不全", expect="已退回")
    since = sales.mark()
    clock.jump_to(filed + timedelta(hours=24, seconds=10))
    note = await sales.next_message(since, "還沒有答覆")
    assert "正在等：陳經理（部門經理審批）" in text_of(note) and "遲發" not in text_of(note)
    await fake.wait_idle(quiet=1.0)
    # One note: the complaint that was sent back had its answer.
    assert sum("還沒有答覆" in text_of(m) for m in sales.inbox()) == 1
