"""Tests of the fake Telegram Bot API server (bot/sandbox)."""

from __future__ import annotations

import asyncio
import html
import io
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from hypothesis import given
from hypothesis import strategies as st
from telegram import (
    BotCommand,
    BotCommandScopeChat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaPhoto,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, RetryAfter
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
)

from bot.sandbox import FakeTelegram
from bot.sandbox.formatting import parse_html, utf16_len

USER = 1001
GROUP = -100777


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    server = FakeTelegram(token="123456:TEST-TOKEN", bot_username="complaint_test_bot")
    await server.start()
    server.add_user(USER, "Alice", username="alice")
    server.add_user(1002, "Bob", started=False)
    server.add_user(1003, "Carol", blocked=True)
    server.add_group(GROUP, "Complaints desk", is_forum=True)
    yield server
    await server.stop()


async def call(fake: FakeTelegram, method: str, *, as_json: bool = False,
               **params: Any) -> tuple[int, dict[str, Any]]:
    """POST like PTB does: form-encoded strings, nested values JSON-encoded."""
    url = f"{fake.base_url}{fake.token}/{method}"
    async with aiohttp.ClientSession() as session:
        if as_json:
            resp = await session.post(url, json=params)
        else:
            form = {k: v if isinstance(v, str) else json.dumps(v) for k, v in params.items()}
            resp = await session.post(url, data=form)
        async with resp:
            return resp.status, await resp.json()


def keyboard(*buttons: dict[str, Any]) -> dict[str, Any]:
    return {"inline_keyboard": [list(buttons)]}


# ------------------------------------------------------------------------- validation


async def test_valid_calls_pass(fake: FakeTelegram) -> None:
    status, body = await call(
        fake, "sendMessage", chat_id=USER, text="<b>Hi</b> &lt;3 &#39;x&#39; 😀 <i>y</i>",
        parse_mode="HTML", reply_markup=keyboard({"text": "OK", "callback_data": "x" * 64}),
        link_preview_options={"is_disabled": True})
    assert status == 200 and body["ok"], body
    msg = body["result"]
    assert msg["text"] == "Hi <3 'x' 😀 y"
    assert msg["entities"] == [{"type": "bold", "offset": 0, "length": 2},
                               {"type": "italic", "offset": 13, "length": 1}]  # UTF-16 offsets
    assert fake.buttons(msg) == [("OK", "x" * 64)]
    status, body = await call(fake, "sendMessage", as_json=True, chat_id=USER, text="x" * 4096,
                              reply_parameters={"message_id": msg["message_id"]})
    assert body["ok"] and body["result"]["reply_to_message"]["message_id"] == msg["message_id"]
    status, body = await call(fake, "setMyCommands", commands=[
        {"command": "start", "description": "Start"}], scope={"type": "all_private_chats"},
        language_code="en")
    assert body == {"ok": True, "result": True}
    assert fake.commands("all_private_chats", language_code="en") == [
        {"command": "start", "description": "Start"}]
    assert fake.violations == [] and fake.errors == []


@pytest.mark.parametrize(
    ("method", "params", "description"),
    [
        ("sendMessage", {"chat_id": USER, "text": "hi", "reply_markupp": "{}"},
         'unknown parameter "reply_markupp"'),
        ("sendMessage", {"chat_id": USER}, "Bad Request: message text is empty"),
        ("sendMessage", {"chat_id": USER, "text": "  "}, "Bad Request: message text is empty"),
        ("sendMessage", {"text": "hi"}, "Bad Request: chat_id is empty"),
        ("sendMessage", {"chat_id": USER, "text": "x" * 4097}, "Bad Request: message is too long"),
        ("sendMessage", {"chat_id": USER, "text": "😀" * 2049},  # 4098 UTF-16 code units
         "Bad Request: message is too long"),
        ("sendMessage", {"chat_id": USER, "text": "<b>x", "parse_mode": "HTML"},
         "Bad Request: can't parse entities: Can't find end tag corresponding to start tag"),
        ("sendMessage", {"chat_id": USER, "text": "a & b", "parse_mode": "HTML"},
         "Bad Request: can't parse entities: Unsupported HTML entity at byte offset 2"),
        ("sendMessage", {"chat_id": USER, "text": "<blink>x</blink>", "parse_mode": "HTML"},
         'Bad Request: can\'t parse entities: Unsupported start tag "blink"'),
        ("sendMessage", {"chat_id": USER, "text": "<b>x</i>", "parse_mode": "HTML"},
         "Bad Request: can't parse entities: Unmatched end tag"),
        ("sendMessage", {"chat_id": USER, "text": "1.5", "parse_mode": "MarkdownV2"},
         "Bad Request: can't parse entities: Character '.' is reserved"),
        ("sendMessage", {"chat_id": USER, "text": "x", "parse_mode": "html5"},
         "unsupported parse_mode"),
        ("sendMessage", {"chat_id": USER, "text": "hi", "message_thread_id": "abc"},
         'parameter "message_thread_id" must be of type Integer'),
        ("sendMessage", {"chat_id": USER, "text": "hi", "disable_notification": "yes"},
         'parameter "disable_notification" must be of type Boolean'),
        ("sendMessage", {"chat_id": USER, "text": "hi",
                         "reply_markup": keyboard({"text": "A", "callback_data": "é" * 33})},
         "Bad Request: BUTTON_DATA_INVALID"),
        ("sendMessage", {"chat_id": USER, "text": "hi",
                         "reply_markup": keyboard({"text": "A", "callback_data": ""})},
         "Bad Request: BUTTON_DATA_INVALID"),
        ("sendMessage", {"chat_id": USER, "text": "hi",
                         "reply_markup": keyboard({"text": 5, "callback_data": "a"})},
         'field "reply_markup.inline_keyboard[0][0].text" must be of type String'),
        ("sendMessage", {"chat_id": USER, "text": "hi",
                         "reply_markup": keyboard({"text": "A", "callback": "a"})},
         'unknown field "reply_markup.inline_keyboard[0][0].callback"'),
        ("sendMessage", {"chat_id": USER, "text": "hi", "reply_markup": keyboard({"text": "A"})},
         "Text buttons are unallowed in the inline keyboard"),
        ("sendMessage", {"chat_id": USER, "text": "hi", "reply_markup": {"inline_keyboard": [
            [{"text": str(i), "callback_data": str(i)} for i in range(101)]]}},
         "Bad Request: reply markup is too long"),
        ("sendMessage", {"chat_id": USER, "text": "hi", "reply_parameters": {"chat_id": USER}},
         'Can\'t find field "message_id"'),
        ("sendMessage", {"chat_id": USER, "text": "hi", "reply_markup": "{not json"},
         "can't parse JSON object"),
        ("setMyCommands", {"commands": [{"command": "Start", "description": "x"}]},
         "Bad Request: BOT_COMMAND_INVALID"),
        ("setMyCommands", {"commands": [{"command": "start", "description": "x" * 257}]},
         "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID"),
        ("setMyCommands", {"commands": [{"command": "start", "description": ""}]},
         "Bad Request: command description must be non-empty"),
        ("setMyCommands", {"commands": [{"command": "start"}]},
         'can\'t parse BotCommand: Can\'t find field "description"'),
        ("setMyCommands", {"commands": [{"command": "start", "description": "x"}],
                           "scope": {"type": "everyone"}}, "not a valid BotCommandScope"),
        ("createForumTopic", {"chat_id": GROUP, "name": "x" * 129}, "must be 1-128 characters"),
        ("answerCallbackQuery", {"callback_query_id": "1", "text": "x" * 201},
         "Bad Request: MESSAGE_TOO_LONG"),
        ("sendPhoto", {"chat_id": USER, "photo": "fake-photo", "caption": "x" * 1025},
         "Bad Request: message caption is too long"),
        ("sendMediaGroup", {"chat_id": USER, "media": [{"type": "photo", "media": "x"}]},
         'parameter "media" must be 2-10 items'),
        # PTB's Defaults(parse_mode=...) adds parse_mode to methods that do not take it;
        # Telegram ignores it, the fake refuses it like any unknown parameter
        ("editMessageReplyMarkup", {"chat_id": USER, "message_id": 1, "parse_mode": "HTML"},
         'unknown parameter "parse_mode"'),
        ("forwardMessage", {"chat_id": USER, "from_chat_id": USER, "message_id": 1,
                            "parse_mode": "HTML"}, 'unknown parameter "parse_mode"'),
        ("copyMessage", {"chat_id": USER, "from_chat_id": USER, "message_id": 1,
                         "link_preview_options": {"is_disabled": True}},
         'unknown parameter "link_preview_options"'),
    ],
)
async def test_violations(fake: FakeTelegram, method: str, params: dict[str, Any],
                          description: str) -> None:
    status, body = await call(fake, method, **params)
    assert status == 400 and body["ok"] is False and body["error_code"] == 400
    assert description in body["description"], body
    assert len(fake.violations) == 1 and description in fake.violations[0]
    assert fake.errors[0]["violation"] is True


@pytest.mark.parametrize(
    ("method", "params", "status", "description"),
    [
        ("sendMessage", {"chat_id": 999, "text": "hi"}, 400, "Bad Request: chat not found"),
        ("sendMessage", {"chat_id": GROUP, "text": "hi", "message_thread_id": 42}, 400,
         "Bad Request: message thread not found"),
        ("sendMessage", {"chat_id": 1002, "text": "hi"}, 403,
         "Forbidden: bot can't initiate conversation with a user"),
        ("sendMessage", {"chat_id": 1003, "text": "hi"}, 403,
         "Forbidden: bot was blocked by the user"),
        ("editMessageText", {"chat_id": USER, "message_id": 77, "text": "x"}, 400,
         "Bad Request: message to edit not found"),
        ("answerCallbackQuery", {"callback_query_id": "nope"}, 400,
         "Bad Request: query is too old and response timeout expired or query ID is invalid"),
    ],
)
async def test_refusals_are_errors_not_violations(fake: FakeTelegram, method: str,
                                                  params: dict[str, Any], status: int,
                                                  description: str) -> None:
    got_status, body = await call(fake, method, **params)
    assert (got_status, body) == (status, {"ok": False, "error_code": status,
                                           "description": description})
    assert fake.violations == [] and [e["description"] for e in fake.errors] == [description]


async def test_unknown_method_and_token(fake: FakeTelegram) -> None:
    status, body = await call(fake, "sendMesage", chat_id=USER, text="x")
    assert (status, body) == (404, {"ok": False, "error_code": 404, "description": "Not Found"})
    assert fake.violations == ["sendMesage: unknown method 'sendMesage'"]
    async with aiohttp.ClientSession() as s, s.post(f"{fake.base_url}1:bad/getMe") as resp:
        assert resp.status == 401


async def test_unimplemented_method_is_validated_and_recorded(fake: FakeTelegram) -> None:
    status, body = await call(fake, "setMessageReaction", chat_id=USER, message_id=1,
                              reaction=[{"type": "emoji", "emoji": "👍"}])
    assert body == {"ok": True, "result": True}
    assert [c.method for c in fake.unimplemented_calls] == ["setMessageReaction"]
    status, body = await call(fake, "setMessageReaction", chat_id=USER, message_id=1,
                              reaction=[{"type": "emoji"}])
    assert status == 400 and 'Can\'t find field "emoji"' in body["description"]


async def test_parse_mode_on_edit_reply_markup_is_refused(fake: FakeTelegram) -> None:
    """What ExtBot with Defaults(parse_mode=...) sends: the edit is not made."""
    _, body = await call(fake, "sendMessage", chat_id=USER, text="card",
                         reply_markup=keyboard({"text": "A", "callback_data": "a"}))
    mid = body["result"]["message_id"]
    status, body = await call(fake, "editMessageReplyMarkup", chat_id=USER, message_id=mid,
                              parse_mode="HTML",
                              reply_markup=keyboard({"text": "B", "callback_data": "b"}))
    assert status == 400 and 'unknown parameter "parse_mode"' in body["description"]
    assert fake.violations == ['editMessageReplyMarkup: Bad Request: unknown parameter '
                               '"parse_mode" (Telegram silently ignores it, so the value would '
                               'be lost)']
    assert fake.buttons((USER, mid)) == [("A", "a")] and fake.edit_count((USER, mid)) == 0
    assert not hasattr(fake, "ignored_params")


async def test_edit_not_modified_and_keyboard_removal(fake: FakeTelegram) -> None:
    _, body = await call(fake, "sendMessage", chat_id=USER, text="v1",
                         reply_markup=keyboard({"text": "A", "callback_data": "a"}))
    mid = body["result"]["message_id"]
    same = {"chat_id": USER, "message_id": mid, "text": "v1",
            "reply_markup": keyboard({"text": "A", "callback_data": "a"})}
    status, body = await call(fake, "editMessageText", **same)
    assert status == 400 and body["description"].startswith("Bad Request: message is not modified")
    status, body = await call(fake, "editMessageText", chat_id=USER, message_id=mid, text="v1")
    assert status == 200 and "reply_markup" not in body["result"]  # no markup → keyboard gone
    assert fake.edit_count((USER, mid)) == 1 and fake.history((USER, mid))[0]["text"] == "v1"
    assert fake.violations == [] and len(fake.errors) == 1


async def test_uploads_files_and_json_bodies(fake: FakeTelegram) -> None:
    xlsx = b"PK\x03\x04 fake xlsx bytes"
    url = f"{fake.base_url}{fake.token}/sendDocument"
    form = aiohttp.FormData()
    form.add_field("chat_id", str(USER))
    form.add_field("caption", "<b>Report</b>")
    form.add_field("parse_mode", "HTML")
    form.add_field("document", xlsx, filename="report.xlsx", content_type="application/"
                   "vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    async with aiohttp.ClientSession() as session:
        async with session.post(url, data=form) as resp:
            body = await resp.json()
        assert body["ok"], body
        doc = fake.documents(USER)[0]
        assert (doc["filename"], doc["data"], doc["caption"]) == ("report.xlsx", xlsx, "Report")
        _, file = await call(fake, "getFile", as_json=True, file_id=doc["file_id"])
        async with session.get(f"{fake.base_file_url}{fake.token}/"
                               f"{file['result']['file_path']}") as resp:
            assert await resp.read() == xlsx
    photo = fake.send_photo(USER, USER, caption="evidence")
    _, body = await call(fake, "sendMediaGroup", as_json=True, chat_id=USER, media=[
        {"type": "photo", "media": photo["photo"][-1]["file_id"], "caption": "1"},
        {"type": "photo", "media": photo["photo"][-1]["file_id"]}])
    assert [m["media_group_id"] for m in body["result"]] == [body["result"][0]["media_group_id"]] * 2
    assert fake.violations == []


async def test_long_polling_offsets_and_allowed_updates(fake: FakeTelegram) -> None:
    async def poll(**params: Any) -> list[dict[str, Any]]:
        return (await call(fake, "getUpdates", **params))[1]["result"]

    assert await poll(timeout=0) == []
    started = time.monotonic()
    waiter = asyncio.create_task(poll(timeout=5))
    await asyncio.sleep(0.1)
    fake.send_text(USER, USER, "/start")
    updates = await waiter
    assert time.monotonic() - started < 2
    assert updates[0]["message"]["entities"] == [{"type": "bot_command", "offset": 0,
                                                  "length": 6}]
    assert await poll(offset=updates[0]["update_id"]) == updates  # not confirmed yet
    assert await poll(offset=updates[0]["update_id"] + 1) == []
    fake.send_text(USER, USER, "plain")
    assert await poll(allowed_updates=["callback_query"]) == []  # message dropped
    started = time.monotonic()
    waiter = asyncio.create_task(poll(timeout=30))
    await asyncio.sleep(0.1)
    await fake.stop()  # a pending long poll returns at once
    assert await waiter == []
    assert time.monotonic() - started < 3


@given(st.text(), st.text())
def test_escaped_html_round_trips(before: str, inside: str) -> None:
    text, entities = parse_html(f"{html.escape(before)}<b>{html.escape(inside)}</b>")
    assert text == before + inside
    expected = [{"type": "bold", "offset": utf16_len(before), "length": utf16_len(inside)}]
    assert entities == (expected if inside else [])


async def test_topics_threads_and_replies(fake: FakeTelegram) -> None:
    thread = fake.add_topic(GROUP, "Billing", user_id=USER)
    question = fake.send_text(USER, GROUP, "where is my refund?", thread_id=thread)
    assert question["is_topic_message"] and question["message_thread_id"] == thread
    assert question["reply_to_message"]["forum_topic_created"]["name"] == "Billing"
    _, body = await call(fake, "sendMessage", chat_id=GROUP, text="on its way",
                         reply_parameters={"message_id": question["message_id"]})
    assert body["result"]["message_thread_id"] == thread  # a reply lands in the topic
    assert body["result"]["reply_to_message"]["message_id"] == question["message_id"]
    _, body = await call(fake, "closeForumTopic", chat_id=GROUP, message_thread_id=thread)
    assert body["result"] is True and fake.topics(GROUP)[thread]["closed"]
    status, body = await call(fake, "closeForumTopic", chat_id=GROUP, message_thread_id=thread)
    assert (status, body["description"]) == (400, "Bad Request: TOPIC_NOT_MODIFIED")
    fake.chat_state(GROUP).can_manage_topics = False
    status, body = await call(fake, "sendMessage", chat_id=GROUP, text="x",
                              message_thread_id=thread)
    assert (status, body["description"]) == (400, "Bad Request: TOPIC_CLOSED")
    fake.add_group(-200, "Plain group", is_forum=False)
    card = fake.send_text(USER, -200, "card")
    _, body = await call(fake, "sendMessage", chat_id=-200, text="in thread",
                         message_thread_id=card["message_id"])
    assert body["ok"] and "is_topic_message" not in body["result"]
    status, body = await call(fake, "createForumTopic", chat_id=-200, name="x")
    assert (status, body["description"]) == (400, "Bad Request: the chat is not a forum")
    assert fake.violations == []


async def test_waiting_helpers_and_timeouts(fake: FakeTelegram) -> None:
    mark = fake.mark()
    await call(fake, "sendMessage", chat_id=USER, text="first")
    assert (await fake.wait_bot_message(USER, after=mark))["text"] == "first"
    with pytest.raises(AssertionError, match=r"(?s)containing 'second'.*sendMessage ok"):
        await fake.wait_bot_message(USER, contains="second", after=mark, timeout=0.1)
    await fake.wait_idle(quiet=0.05)
    fake.fail_next("getMe", error_code="timeout", delay=10)
    started = time.monotonic()
    with pytest.raises(asyncio.TimeoutError):
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=0.3)) as session:
            await session.post(f"{fake.base_url}{fake.token}/getMe")
    await fake.stop()  # the sleeping handler is woken; stopping stays fast
    assert time.monotonic() - started < 2
    assert fake.errors[-1]["error_code"] == "timeout"


# ---------------------------------------------------------------------- flood limit


class Clock:
    """A clock the test moves by hand: ``fake.clock = clock; clock.now += 1``."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def send(fake: FakeTelegram, chat_id: int, text: str = "x") -> tuple[int, dict[str, Any]]:
    return await call(fake, "sendMessage", chat_id=chat_id, text=text)


def too_many(retry_after: int) -> tuple[int, dict[str, Any]]:
    return 429, {"ok": False, "error_code": 429,
                 "description": f"Too Many Requests: retry after {retry_after}",
                 "parameters": {"retry_after": retry_after}}


async def test_private_flood_limit(fake: FakeTelegram) -> None:
    clock = fake.clock = Clock()
    for i in range(5):  # the default burst
        assert (await send(fake, USER, f"m{i}"))[0] == 200
    assert await send(fake, USER, "m5") == too_many(1)
    assert [m["text"] for m in fake.bot_messages(USER)] == [f"m{i}" for i in range(5)]
    [error] = fake.errors
    assert error["error_code"] == 429 and not error["violation"] and not error["injected"]
    assert fake.rate_limited == [error] and error["params"]["chat_id"] == USER
    assert fake.violations == []
    clock.now += 0.6  # 0.6 of a token: still refused, and a refusal takes nothing
    assert await send(fake, USER) == too_many(1)
    clock.now += 0.4
    assert (await send(fake, USER, "m6"))[0] == 200  # one token back after 1 s
    assert await send(fake, USER) == too_many(1)
    clock.now += 60  # refills up to the burst, not more
    for _ in range(5):
        assert (await send(fake, USER))[0] == 200
    assert await send(fake, USER) == too_many(1)
    assert len(fake.rate_limited) == 4 and len(fake.bot_messages(USER)) == 11


async def test_flood_limit_retry_after_and_settings(fake: FakeTelegram) -> None:
    clock = fake.clock = Clock()
    fake.private_rate, fake.private_burst = 0.1, 1  # changeable at run time
    assert (await send(fake, USER))[0] == 200
    assert await send(fake, USER) == too_many(10)
    clock.now += 2.5
    assert await send(fake, USER) == too_many(8)  # 7.5 s to go, rounded up
    fake.private_rate = None  # no limit
    for _ in range(20):
        assert (await send(fake, USER))[0] == 200
    server = FakeTelegram(private_rate=None)
    assert server.private_rate is None and server.group_rate is None
    assert FakeTelegram().clock is time.monotonic
    assert len(fake.rate_limited) == 2 and fake.violations == []


async def test_flood_limit_is_per_chat_and_for_new_messages_only(fake: FakeTelegram) -> None:
    fake.clock = Clock()
    fake.add_user(1004, "Dave")
    hello = fake.send_text(USER, USER, "hello")
    _, body = await call(fake, "sendMessage", chat_id=USER, text="card",
                         reply_markup=keyboard({"text": "A", "callback_data": "a"}))
    card = body["result"]
    query = fake.press(USER, card, "a")
    for _ in range(4):
        assert (await send(fake, USER))[0] == 200
    assert await send(fake, USER) == too_many(1)
    mid = card["message_id"]
    for method, params in [  # none of these sends a new message
            ("editMessageText", {"chat_id": USER, "message_id": mid, "text": "edited"}),
            ("editMessageReplyMarkup", {"chat_id": USER, "message_id": mid, "reply_markup":
                                        keyboard({"text": "B", "callback_data": "b"})}),
            ("answerCallbackQuery", {"callback_query_id": query, "text": "ok"}),
            ("sendChatAction", {"chat_id": USER, "action": "typing"}),
            ("getChat", {"chat_id": USER}),
            ("deleteMessage", {"chat_id": USER, "message_id": mid})]:
        status, answer = await call(fake, method, **params)
        assert status == 200, (method, answer)
    for method in ("forwardMessage", "copyMessage"):  # these do
        status, _ = await call(fake, method, chat_id=USER, from_chat_id=USER,
                               message_id=hello["message_id"])
        assert status == 429, method
    for _ in range(5):  # another private chat has its own bucket
        assert (await send(fake, 1004))[0] == 200
    assert await send(fake, 1004) == too_many(1)
    for _ in range(30):  # groups are not limited by default
        assert (await send(fake, GROUP))[0] == 200
    assert [e["params"]["chat_id"] for e in fake.rate_limited] == [USER, USER, USER, 1004]
    assert fake.violations == []


async def test_flood_limit_comes_after_validation_and_injected_failures(
        fake: FakeTelegram) -> None:
    clock = fake.clock = Clock()
    fake.private_burst = 1
    assert (await send(fake, USER))[0] == 200
    status, body = await call(fake, "sendMessage", chat_id=USER, text="<b>x", parse_mode="HTML")
    assert status == 400 and "can't parse entities" in body["description"]
    status, body = await call(fake, "sendMessage", chat_id=USER, text="x", colour="red")
    assert status == 400 and 'unknown parameter "colour"' in body["description"]
    assert len(fake.violations) == 2 and fake.rate_limited == []  # malformed: violations
    clock.now += 1
    fake.fail_next("sendMessage", error_code=500)
    assert (await send(fake, USER))[0] == 500  # injected: takes no token
    assert (await send(fake, USER))[0] == 200
    assert await send(fake, USER) == too_many(1)
    fake.fail_next("sendMessage", error_code=429, retry_after=7)
    assert await send(fake, USER) == too_many(7)  # the injected failure wins
    assert len(fake.rate_limited) == 1 and fake.errors[-1]["injected"]


async def test_flood_limit_album_takes_one_token(fake: FakeTelegram) -> None:
    clock = fake.clock = Clock()
    fake.private_burst = 2
    photo = fake.send_photo(USER, USER)["photo"][-1]["file_id"]
    album = [{"type": "photo", "media": photo, "caption": str(i)} for i in range(10)]
    assert (await call(fake, "sendMediaGroup", chat_id=USER, media=album))[0] == 200
    assert (await send(fake, USER))[0] == 200
    assert await call(fake, "sendMediaGroup", chat_id=USER, media=album[:2]) == too_many(1)
    assert len(fake.bot_messages(USER)) == 11
    clock.now += 1
    # every item is checked before the first is stored: no half album
    bad = [album[0], {"type": "photo", "media": photo, "caption": "<b>x", "parse_mode": "HTML"}]
    assert (await call(fake, "sendMediaGroup", chat_id=USER, media=bad))[0] == 400
    assert (await call(fake, "sendMediaGroup", chat_id=USER, media=album[:2]))[0] == 200
    assert len(fake.bot_messages(USER)) == 13 and len(fake.violations) == 1


async def test_flood_limit_for_groups_when_set(fake: FakeTelegram) -> None:
    clock = fake.clock = Clock()
    fake.group_rate, fake.group_burst = 20 / 60, 20  # Telegram: 20 messages a minute
    for _ in range(20):
        assert (await send(fake, GROUP))[0] == 200
    assert await send(fake, GROUP) == too_many(3)
    clock.now += 3
    assert (await send(fake, GROUP))[0] == 200
    assert (await send(fake, USER))[0] == 200  # private chats keep their own limit


async def test_flood_limit_on_the_real_clock(fake: FakeTelegram) -> None:
    fake.private_rate, fake.private_burst = 2.0, 1
    statuses = [(await send(fake, USER))[0] for _ in range(10)]
    assert statuses[0] == 200 and 429 in statuses  # unless 10 local calls take 5 s
    await asyncio.sleep(0.6)  # a slow machine only refills more
    assert (await send(fake, USER))[0] == 200


# ------------------------------------------------------------------- real PTB polling


async def start_cmd(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_message is not None
    await update.effective_message.reply_text(
        "Welcome, <b>friend</b>!", parse_mode=ParseMode.HTML,
        reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("Go", callback_data="go:1")]]))


async def pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None
    await query.answer("Done")
    await query.edit_message_text(f"You pressed {query.data}")


async def topic_cmd(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    topic = await context.bot.create_forum_topic(GROUP, "Complaint #1")
    await context.bot.send_message(GROUP, "Card for complaint #1",
                                   message_thread_id=topic.message_thread_id)


@pytest.fixture
async def app(fake: FakeTelegram) -> AsyncIterator[Application]:  # type: ignore[type-arg]
    application = (ApplicationBuilder().token(fake.token).base_url(fake.base_url)
                   .base_file_url(fake.base_file_url).build())
    application.add_handler(CommandHandler("start", start_cmd))
    application.add_handler(CommandHandler("topic", topic_cmd))
    application.add_handler(CallbackQueryHandler(pressed))
    await application.initialize()
    await application.start()
    assert application.updater is not None
    await application.updater.start_polling(poll_interval=0.0, timeout=1)
    yield application
    started = time.monotonic()
    await application.updater.stop()
    await application.stop()
    await application.shutdown()
    assert time.monotonic() - started < 3, "polling teardown must be fast"
    assert fake.violations == []


async def test_ptb_start_press_edit(fake: FakeTelegram, app: Application) -> None:  # type: ignore[type-arg]
    fake.send_text(USER, USER, "/start")
    welcome = await fake.wait_bot_message(USER, contains="Welcome")
    assert welcome["text"] == "Welcome, friend!"
    assert welcome["entities"] == [{"type": "bold", "offset": 9, "length": 6}]
    assert fake.buttons(welcome) == [("Go", "go:1")]
    query_id = fake.press(USER, welcome, "go:1")
    edited = await fake.wait_edit(welcome, contains="pressed")
    assert edited["text"] == "You pressed go:1" and "reply_markup" not in edited
    assert fake.callback_answers == [{"callback_query_id": query_id, "text": "Done",
                                      "show_alert": False, "url": None, "user_id": USER}]
    with pytest.raises(AssertionError, match="no button"):
        fake.press(USER, edited, "go:1")
    await fake.wait_idle()
    assert [m["text"] for m in fake.messages(USER)] == ["/start", "You pressed go:1"]
    assert fake.unanswered_callbacks() == []


async def test_ptb_forum_topic(fake: FakeTelegram, app: Application) -> None:  # type: ignore[type-arg]
    fake.set_member(GROUP, USER, "administrator")
    fake.send_text(USER, GROUP, "/topic@complaint_test_bot")
    card = await fake.wait_bot_message(GROUP, contains="Card")
    (thread_id, topic), = fake.topics(GROUP).items()
    assert topic["name"] == "Complaint #1" and not topic["closed"]
    assert card["message_thread_id"] == thread_id and card["is_topic_message"] is True
    assert card["reply_to_message"]["forum_topic_created"]["name"] == "Complaint #1"
    assert [m["message_id"] for m in fake.bot_messages(GROUP, thread_id)] == [
        thread_id, card["message_id"]]
    bot = app.bot
    member = await bot.get_chat_member(GROUP, bot.id)
    assert member.status == "administrator" and member.can_manage_topics  # type: ignore[attr-defined]
    assert (await bot.get_chat(GROUP)).is_forum
    await bot.close_forum_topic(GROUP, thread_id)
    assert fake.topics(GROUP)[thread_id]["closed"]


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_ptb_bot_calls(fake: FakeTelegram, app: Application) -> None:  # type: ignore[type-arg]
    bot = app.bot
    with pytest.raises(Forbidden, match="can't initiate conversation"):
        await bot.send_message(1002, "hi")
    with pytest.raises(BadRequest, match="Message thread not found"):
        await bot.send_message(GROUP, "hi", message_thread_id=999)
    fake.fail_next("sendMessage", error_code=429, retry_after=3)
    with pytest.raises(RetryAfter, match="Retry in 3 seconds"):
        await bot.send_message(USER, "hi")
    fake.fail_next("sendMessage", error_code=502)
    with pytest.raises(Exception, match="Bad Gateway"):
        await bot.send_message(USER, "hi")
    doc = await bot.send_document(USER, io.BytesIO(b"sheet"), filename="r.xlsx", caption="r")
    assert fake.documents(USER)[0]["data"] == b"sheet"
    assert doc.document is not None
    data = await (await bot.get_file(doc.document.file_id)).download_as_bytearray()
    assert data == bytearray(b"sheet")
    album = await bot.send_media_group(GROUP, [InputMediaPhoto(b"p1", caption="<i>one</i>",
                                                               parse_mode=ParseMode.HTML),
                                               InputMediaPhoto(b"p2")])
    assert [m.caption for m in album] == ["one", None]
    photo_id = album[0].photo[-1].file_id
    assert fake.file_bytes(photo_id) == b"p1"
    await bot.send_photo(USER, photo_id, caption="again")
    with pytest.raises(BadRequest, match=r"(?i)can.t use file of type photo as document"):
        await bot.send_document(USER, photo_id)
    frozen = time.monotonic()
    fake.clock = lambda: frozen  # the burst is all there is
    for _ in range(fake.private_burst - 2):  # send_document and send_photo took 2 already
        await bot.send_message(USER, "burst")
    with pytest.raises(RetryAfter, match="Retry in 1 seconds"):
        await bot.send_message(USER, "one too many")
    assert fake.bot_messages(USER)[-1]["text"] == "burst" and len(fake.rate_limited) == 1
    await bot.set_my_commands([BotCommand("new", "File a complaint")],
                              scope=BotCommandScopeChat(GROUP), language_code="zh")
    assert fake.commands("chat", chat_id=GROUP, language_code="zh") == [
        {"command": "new", "description": "File a complaint"}]
    assert fake.violations == []


async def test_an_outage_fails_every_call_for_a_while(fake: FakeTelegram,
                                                      app: Application) -> None:  # type: ignore[type-arg]
    """502s and dropped connections, in turn, for the methods named, then back to normal."""
    from telegram.error import NetworkError

    bot = app.bot
    fake.outage(["sendMessage"], 0.6)
    with pytest.raises(NetworkError, match="Bad Gateway"):
        await bot.send_message(USER, "one")
    with pytest.raises(NetworkError):  # the connection closed without an answer
        await bot.send_message(USER, "two")
    await bot.send_chat_action(USER, "typing")  # other methods work
    assert [m for m in fake.bot_messages(USER) if m.get("text") in ("one", "two")] == []
    await asyncio.sleep(0.7)
    await bot.send_message(USER, "three")
    assert [e["error_code"] for e in fake.errors if e.get("injected")] == [502, "drop"]
