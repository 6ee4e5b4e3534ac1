"""Membership, the workgroup binding, /help, command menus and /show."""

from __future__ import annotations

from bot.app import Runtime
from bot.sandbox import FakeTelegram
from bot.services.workgroup import workgroup_chat_id
from tests.e2e.conftest import ADMIN, FORUM, NAMES, OUTSIDER, SALES, Actor, StartBot, text_of
from tests.e2e.flows import YEAR, file_and_post, submit_for_approval


async def test_whoami_shows_the_id(bot: Runtime, people: dict[str, Actor]) -> None:
    reply = await people["outsider"].say("/whoami", expect=str(OUTSIDER))
    assert "/join" in text_of(reply)
    reply = await people["desk"].say("/whoami", expect="打單部")
    assert "張打單" in text_of(reply)


async def test_join_request_approved_by_the_head(bot: Runtime, people: dict[str, Actor]) -> None:
    outsider, head = people["outsider"], people["desk_head"]
    choose = await outsider.say("/join", expect="哪個部門")
    ask = await outsider.press(choose, outsider.button(choose, "jd:order_desk"), expect="姓名")
    assert "打單部" in text_of(ask)
    since_head = head.mark()
    await outsider.say("趙新人", expect="已送出申請")
    request = await head.next_message(since_head, "申請加入")
    assert "趙新人" in text_of(request)
    since = outsider.mark()
    await head.press(request, head.button(request, ":y"), expect="已同意")
    await outsider.next_message(since, "你已加入")
    reply = await outsider.say("/whoami", expect="打單部")
    assert "趙新人" in text_of(reply)
    assert head.fake.buttons(request) == []  # decided once: the buttons are gone
    # A member's commands in their menu at once, not at the next start.
    assert "product" in [c["command"] for c in head.fake.commands("chat", chat_id=OUTSIDER)]


async def test_admin_binds_the_workgroup_by_command(start_bot: StartBot, fake: FakeTelegram,
                                                     people: dict[str, Actor]) -> None:
    bot = await start_bot(workgroup=None)
    sales, head = people["sales"], people["sales_head"]
    # Not an admin: refused.
    fake.send_text(sales.id, FORUM, "/bind")
    await fake.wait_bot_message(FORUM, contains="只有管理員")
    request = await submit_for_approval(sales, head)
    await head.press(request, head.button(request, ":y"), expect="已批准")
    await fake.wait_idle(quiet=0.5)
    assert fake.topics(FORUM) == {}  # waiting for a workgroup
    fake.send_text(ADMIN, FORUM, "/bind")
    await fake.wait_bot_message(FORUM, contains="設為投訴工作群")
    await fake.wait_bot_message(FORUM, contains=f"#P-{YEAR}-0001")
    async with bot.ctx.sessions() as session:  # the binding outlives a restart
        assert await workgroup_chat_id(session, bot.ctx) == FORUM


async def test_help_and_command_menus_per_scope(bot: Runtime, fake: FakeTelegram,
                                                people: dict[str, Actor]) -> None:
    member_help = await people["sales"].say("/help", expect="/product")
    outsider_help = await people["outsider"].say("/help", expect="/join")
    assert "/product" not in text_of(outsider_help)
    assert "/join" not in text_of(member_help)
    private = [c["command"] for c in fake.commands("all_private_chats")]
    group = [c["command"] for c in fake.commands("all_group_chats")]
    admins = [c["command"] for c in fake.commands("all_chat_administrators")]
    assert "product" in private and "complain" not in private
    assert "complain" in group and "bind" not in group
    assert "bind" in admins
    english = fake.commands("all_private_chats", language_code="en")
    assert [c["command"] for c in english] == private
    assert any("complaint" in c["description"] for c in english)


async def test_complain_in_the_group_links_to_the_private_form(
        bot: Runtime, fake: FakeTelegram, people: dict[str, Actor]) -> None:
    fake.send_text(people["sales"].id, FORUM, "/complain")
    reply = await fake.wait_bot_message(FORUM, contains="私聊")
    (_, url), = fake.buttons(reply)
    assert url == "https://t.me/complaint_test_bot?start=product"
    await people["sales"].say("/start product", expect="第 1/8 步")


async def test_show_card_and_history_to_allowed_people_only(
        bot: Runtime, fake: FakeTelegram, people: dict[str, Actor]) -> None:
    sales = people["sales"]
    await file_and_post(fake, people)
    number = f"P-{YEAR}-0001"
    since = sales.mark()
    fake.send_text(sales.id, sales.id, f"/show {number.lower()}")
    await sales.next_message(since, "永輝超市")
    history = await sales.next_message(since, "歷程")
    for action in ("提交", "批准", "發佈到工作群"):
        assert action in text_of(history)
    await people["desk"].say(f"/show {number}", expect="永輝超市")
    await people["prod_head"].say(f"/show {number}", expect="沒有權限")
    await people["outsider"].say(f"/show {number}", expect="沒有權限")
    await people["admin"].say(f"/show {number}", expect="永輝超市")
    await sales.say("/show P-1999-0042", expect="找不到")


async def test_language_follows_the_telegram_app(bot: Runtime, fake: FakeTelegram) -> None:
    fake.add_user(75001, "Alice", language_code="en-GB")
    alice = Actor(fake, 75001)
    reply = await alice.say("/whoami", expect="Your Telegram ID")
    assert "75001" in text_of(reply)
    await alice.say("/product", expect="/join")


async def test_simplified_chinese_from_the_app_then_english_chosen_with_language(
        bot: Runtime, fake: FakeTelegram) -> None:
    fake.add_user(75002, "Wang", language_code="zh-hans")
    wang = Actor(fake, 75002)
    # Telegram's zh-hans: Simplified, converted from the Traditional source.
    reply = await wang.say("/whoami", expect="你还没有加入任何部门")
    assert "部門" not in text_of(reply)
    choose = await wang.say("/language", expect="🌐")
    assert "语言" in text_of(choose)
    labels = [label for label, _ in fake.buttons(choose)]
    assert labels == ["繁體中文", "简体中文", "English", "📱 跟随我的 Telegram 语言"]
    await wang.press(choose, wang.button(choose, "lg:en"), expect="in English from now on")
    await wang.say("/whoami", expect="Your Telegram ID")
    # Their own menu, in their language (Telegram's menus per language know only "zh").
    menu = fake.commands("chat", chat_id=75002)
    english = bot.ctx.texts.plain("en", "commands.language")
    assert {"command": "language", "description": english} in menu
    assert not any("語言" in c["description"] or "语言" in c["description"] for c in menu)
    # A new start keeps the choice, and the menu.
    await bot.set_commands()
    assert fake.commands("chat", chat_id=75002) == menu
    # And back to what the app says: Simplified again, menu included.
    choose = await wang.say("/language", expect="Tap a button")
    await wang.press(choose, wang.button(choose, "lg:app"), expect="简体中文")
    await wang.say("/whoami", expect="你还没有加入任何部门")
    simplified = bot.ctx.texts.plain("zh-Hans", "commands.language")
    assert {"command": "language", "description": simplified} in fake.commands("chat", chat_id=75002)


async def test_a_language_set_in_config_is_not_changed_in_chat(
        start_bot: StartBot, fake: FakeTelegram, people: dict[str, Actor]) -> None:
    members = [{"id": uid, "name": name, **({"language": "en"} if uid == SALES else {})}
               for uid, name in NAMES.items()]
    await start_bot(members=members)
    sales = people["sales"]
    await sales.say("/whoami", expect="Your Telegram ID")
    await sales.say("/language", expect="set by the admin")
    assert not [m for m in fake.bot_messages(SALES) if fake.buttons(m)
                and any("lg:" in (data or "") for _, data in fake.buttons(m))]
