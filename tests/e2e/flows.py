"""Reusable steps of the flows, for the scenario tests."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.sandbox import FakeTelegram
from tests.e2e.conftest import FORUM, SALES, Actor, text_of

YEAR = datetime.now().year


async def fill_product_form(sales: Actor, *, photo: bool = True) -> dict:
    """Walk the guided form to its summary; returns the summary message."""
    step = await sales.say("/product", expect="第 1/8 步")
    assert "王小明" in text_of(step)  # prefilled from the registered name
    step = await sales.press(step, sales.button(step, ":keep"), expect="第 2/8 步")
    step = await sales.say("永輝超市", expect="第 3/8 步")
    step = await sales.say("昨天", expect="第 4/8 步")
    step = await sales.press(step, sales.button_labelled(step, "輝煌"), expect="第 5/8 步")
    step = await sales.say("500ml×20箱", expect="第 6/8 步")
    if photo:
        since = sales.mark()
        sales.fake.send_photo(SALES, SALES, caption="瓶蓋漏液，整箱受潮")
        step = await sales.next_message(since, "已收到照片")
        step = await sales.press(step, sales.button(step, ":keep"), expect="第 7/8 步")
    else:
        step = await sales.say("瓶蓋漏液，整箱受潮", expect="第 7/8 步")
    return await sales.press(step, sales.button_labelled(step, "退貨"), expect="請確認")


async def submit_for_approval(sales: Actor, head: Actor, *, photo: bool = False) -> dict[str, Any]:
    """File a product complaint and return the approval request the head receives."""
    summary = await fill_product_form(sales, photo=photo)
    since_head = head.mark()
    await sales.press(summary, sales.button(summary, ":submit"), expect="審批")
    return await head.next_message(since_head, "待你審批")


async def file_and_post(fake: FakeTelegram, people: dict[str, Actor], *, group: int = FORUM,
                        number: int = 1, photo: bool = False) -> dict[str, Any]:
    """File, approve and post a product complaint; returns its card in the group."""
    head, sales = people["sales_head"], people["sales"]
    request = await submit_for_approval(sales, head, photo=photo)
    since = sales.mark()
    await head.press(request, head.button(request, ":y"), expect="已批准")
    card = await fake.wait_bot_message(group, contains=f"#P-{YEAR}-{number:04d}")
    # Posting is recorded in the same commit as the complainant's notice.
    await sales.next_message(since, "已發佈到工作群")
    return card


async def fill_service_form(sales: Actor, target: str = "物流部") -> dict[str, Any]:
    """Walk the 《服務質量投訴》 form to its summary."""
    step = await sales.say("/service", expect="第 1/8 步")
    step = await sales.press(step, sales.button(step, ":keep"), expect="第 2/8 步")
    step = await sales.press(step, sales.button_labelled(step, target), expect="第 3/8 步")
    await sales.say("11月20日上午", expect="第 4/8 步")
    await sales.say("客戶催貨三次", expect="第 5/8 步")
    await sales.say("物流答應次日送達但未送", expect="第 6/8 步")
    step = await sales.say("客戶取消訂單", expect="第 7/8 步")
    return await sales.press(step, sales.button_labelled(step, "改進服務質量"), expect="請確認")


async def file_and_post_service(fake: FakeTelegram, people: dict[str, Actor], *,
                                group: int = FORUM, number: int = 1) -> dict[str, Any]:
    sales, head = people["sales"], people["sales_head"]
    summary = await fill_service_form(sales)
    since_head = head.mark()
    await sales.press(summary, sales.button(summary, ":submit"), expect="審批")
    request = await head.next_message(since_head, "待你審批")
    since = sales.mark()
    await head.press(request, head.button(request, ":y"), expect="已批准")
    card = await fake.wait_bot_message(group, contains=f"#S-{YEAR}-{number:04d}")
    await sales.next_message(since, "已發佈到工作群")
    return card


def topic_of(fake: FakeTelegram, card: dict[str, Any]) -> int | None:
    return card.get("message_thread_id")


async def press_in_group(fake: FakeTelegram, actor: Actor, message: dict[str, Any], data: str,
                         group: int = FORUM) -> dict[str, Any]:
    """Press a button in the group (once the message offers it: cards are redrawn after the
    notices) and wait for the bot's next message there."""
    await card_offers(fake, message, data, group)
    before = len(fake.bot_messages(group))
    fake.press(actor.id, message, data)
    return await fake.wait_for(lambda: next(iter(fake.bot_messages(group)[before:]), None),
                               message=f"a bot message in the group after pressing {data}")


async def say_in_thread(fake: FakeTelegram, actor: Actor, card: dict[str, Any], text: str,
                        group: int = FORUM, reply_to: dict[str, Any] | None = None,
                        expect: str | None = None) -> dict[str, Any]:
    """Write in the complaint's thread (its topic, or a reply in a plain group)."""
    before = len(fake.bot_messages(group))
    thread = card.get("message_thread_id")
    fake.send_text(actor.id, group, text, thread_id=thread,
                   reply_to=(reply_to or card)["message_id"] if thread is None else None)

    def found() -> dict[str, Any] | None:
        for message in fake.bot_messages(group)[before:]:
            if expect is None or expect in text_of(message):
                return message
        return None

    return await fake.wait_for(found, message=f"the bot answers {text!r} in the thread")


async def card_offers(fake: FakeTelegram, card: dict[str, Any], data: str,
                      group: int = FORUM) -> dict[str, Any]:
    """Wait until the card (redrawn after the notices) offers the button `data`."""
    def offered() -> dict[str, Any] | None:
        current = fake.message(group, card["message_id"])
        return current if current and data in [d for _, d in fake.buttons(current)] else None

    return await fake.wait_for(offered, message=f"the card offers {data}")
