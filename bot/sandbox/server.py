"""A fake Telegram Bot API server for end-to-end tests (see README.md in this folder).

The real PTB ``Application`` polls it over HTTP on 127.0.0.1. Every call is checked against
the Bot API spec and Telegram's limits; malformed calls are answered with Telegram-style
errors and recorded in ``violations``. A small world model (users, chats, forum topics,
messages, files, callback queries, bot commands) makes the results realistic.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import itertools
import json
import math
import re
import time
from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar
from urllib.parse import parse_qsl

from aiohttp import web

from .formatting import ParseError, parse_text, utf16_len
from .model import Call, ChatState, Failure, FileRec, Mark, Message, MsgMeta, Params
from .spec import ApiError, Spec, Upload, bad_request

WEBHOOK_RETRY_SECONDS = 0.2  # Telegram waits longer before posting a failed update again

T = TypeVar("T")

DEFAULT_ALLOWED = {"message", "edited_message", "channel_post", "edited_channel_post",
                   "business_connection", "business_message", "edited_business_message",
                   "deleted_business_messages", "inline_query", "chosen_inline_result",
                   "callback_query", "shipping_query", "pre_checkout_query",
                   "purchased_paid_media", "poll", "poll_answer", "my_chat_member",
                   "chat_join_request", "chat_boost", "removed_chat_boost"}
TOPIC_COLORS = {7322096, 16766590, 13338331, 9367192, 16749490, 16478047}
MEDIA_METHODS = {"sendPhoto": "photo", "sendDocument": "document", "sendSticker": "sticker",
                 "sendVoice": "voice", "sendAudio": "audio", "sendVideo": "video",
                 "sendAnimation": "animation"}
MIME = {"photo": "image/jpeg", "sticker": "image/webp", "voice": "audio/ogg",
        "audio": "audio/mpeg", "video": "video/mp4", "animation": "video/mp4",
        "document": "application/octet-stream"}
NOT_MODIFIED = ("message is not modified: specified new message content and reply markup are "
                "exactly the same as a current content and reply markup of the message")
QUERY_TOO_OLD = "query is too old and response timeout expired or query ID is invalid"
NGINX_502 = ("<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>"
             "502 Bad Gateway</h1></center>\r\n<hr><center>nginx/1.18.0</center>\r\n</body>\r\n"
             "</html>\r\n")
_COMMAND = re.compile(r"/[A-Za-z0-9_]{1,32}(@[A-Za-z0-9_]+)?")


def _chat_info(state: ChatState) -> dict[str, Any]:
    return copy.deepcopy(state.chat)


class FakeTelegram:
    def __init__(self, token: str = "123456:TEST-TOKEN", bot_username: str = "complaint_test_bot",
                 *, bot_name: str = "Complaint Test Bot", callback_timeout: float = 15.0,
                 port: int = 0, private_rate: float | None = 1.0, private_burst: int = 5,
                 group_rate: float | None = None, group_burst: int = 20,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.token = token
        self.bot_id = int(token.split(":", 1)[0])
        self.bot_user: dict[str, Any] = {"id": self.bot_id, "is_bot": True,
                                         "first_name": bot_name, "username": bot_username}
        self.callback_timeout = callback_timeout
        self.spec = Spec.default()
        self.port = port
        # Telegram's flood limit per chat, a token bucket: `rate` messages per second on
        # average, `burst` at once (None: no limit). Changeable at run time; see _take_token.
        self.private_rate = private_rate
        self.private_burst = private_burst
        self.group_rate = group_rate
        self.group_burst = group_burst
        self.clock = clock  # for the flood limit only
        # records
        self.calls: list[Call] = []
        self.violations: list[str] = []
        self.errors: list[dict[str, Any]] = []
        self.unimplemented_calls: list[Call] = []
        self.rate_limited: list[dict[str, Any]] = []  # the flood limit's 429s (in errors too)
        self.callback_answers: list[dict[str, Any]] = []
        self.poll_count = 0
        # world
        self.users: dict[int, dict[str, Any]] = {}  # id -> User
        self.user_flags: dict[int, dict[str, bool]] = {}  # id -> {started, blocked}
        self.chats: dict[int, ChatState] = {}
        self.files: dict[str, FileRec] = {}
        self.bot_commands: dict[tuple[str, int | None, int | None, str], list[dict[str, str]]] = {}
        self.bot_profile: dict[tuple[str, str], str] = {}  # (field, language) -> value
        self.menu_buttons: dict[int | None, dict[str, Any]] = {}
        self.webhook_url = ""
        self.webhook_secret: str | None = None
        self.webhook_connections = 40
        self.webhook_targets: list[str] = []
        self.webhook_posts: list[tuple[int, str, bool, float]] = []  # update, target, ok, when
        self.webhook_errors: list[tuple[int, str]] = []  # (unix time, Telegram's wording)
        self._delivery: asyncio.Task[None] | None = None
        self._queries: dict[str, dict[str, Any]] = {}
        self._updates: list[dict[str, Any]] = []
        self._allowed: set[str] | None = None
        self._failures: dict[str, list[Failure]] = {}
        self._outages: list[tuple[set[str], float, itertools.cycle[int | str]]] = []
        self._buckets: dict[int, tuple[float, float]] = {}  # chat id -> (tokens, at)
        self._ids = itertools.count(1)
        self._update_ids = itertools.count(1)
        self._seq = 0
        self._wakeup = asyncio.Event()
        self._poll_generation = 0
        self._inflight = 0
        self._last_activity = time.monotonic()
        self._closing = asyncio.Event()
        self._runner: web.AppRunner | None = None

    # ================================================================== server lifecycle

    async def start(self) -> FakeTelegram:
        self._closing = asyncio.Event()
        self._wakeup = asyncio.Event()
        app = web.Application(client_max_size=60 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        self._runner = web.AppRunner(app, shutdown_timeout=1.0, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.port)
        await site.start()
        self.port = self._runner.addresses[0][1]
        return self

    async def stop(self) -> None:
        self._closing.set()
        self._wake()
        if self._delivery is not None:
            self._delivery.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._delivery
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeTelegram:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/file/bot"

    # ======================================================================= HTTP layer

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        path = request.match_info["path"]
        rec = next((f for f in self.files.values() if f.file_path == path), None)
        if request.match_info["token"] != self.token or rec is None:
            return web.Response(status=404, text="Not Found")
        return web.Response(body=rec.data, content_type=rec.mime_type or MIME[rec.kind])

    async def _read_params(self, request: web.Request) -> tuple[dict[str, Any], dict[str, Upload]]:
        raw: dict[str, Any] = dict(parse_qsl(request.query_string, keep_blank_values=True))
        uploads: dict[str, Upload] = {}
        if request.content_type == "application/json":
            try:
                body = await request.json()
            except ValueError:
                raise bad_request("can't parse JSON body", violation=True) from None
            if not isinstance(body, dict):
                raise bad_request("JSON body must be an object", violation=True)
            raw.update(body)
        elif request.can_read_body:
            for name, value in (await request.post()).items():
                if isinstance(value, web.FileField):
                    uploads[name] = Upload(value.filename, value.content_type, value.file.read())
                else:
                    raw[name] = value
        return raw, uploads

    async def _handle_api(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        if request.match_info["token"] != self.token:
            return self._error_response(method, {}, ApiError(401, "Unauthorized"))
        name = self.spec.canonical(method)
        if name is None:
            err = ApiError(404, "Not Found", violation=True)
            return self._error_response(method, {}, err, extra=f"unknown method {method!r}")
        polling = name == "getUpdates"
        if polling:
            self.poll_count += 1
        else:
            self._inflight += 1
            self._last_activity = time.monotonic()
        shown: dict[str, Any] = {}  # params as recorded: decoded once they validate
        try:
            raw, uploads = await self._read_params(request)
            shown = raw
            fields = self.spec.fields(name)
            # file parts named like a parameter are its value; others are attach:// targets
            direct = {k: v for k, v in uploads.items() if k in fields}
            params = Params(self.spec.decode(name, {**raw, **direct}))
            params.uploads = uploads
            shown = params
            failure = self._take_failure(name, params)
            if failure is not None:
                return await self._inject(name, params, failure, request)
            result = await self._dispatch(name, params)
        except ApiError as e:
            response = self._error_response(name, dict(shown), e)
            if e.code == 429:  # injected 429s are answered by _inject, not here
                self.rate_limited.append(self.errors[-1])
            return response
        finally:
            if not polling:
                self._inflight -= 1
                self._last_activity = time.monotonic()
        if not polling:
            self.calls.append(Call(name, dict(params), True, result=result))
        return self._json(200, {"ok": True, "result": result})

    def _json(self, status: int, payload: dict[str, Any]) -> web.Response:
        return web.Response(status=status, content_type="application/json",
                            text=json.dumps(payload, ensure_ascii=False, separators=(",", ":")))

    def _error_response(self, method: str, params: dict[str, Any], err: ApiError, *,
                        extra: str = "", injected: bool = False) -> web.Response:
        self.errors.append({"method": method, "error_code": err.code,
                            "description": err.description, "params": params,
                            "violation": err.violation, "injected": injected})
        if err.violation:
            self.violations.append(f"{method}: {extra or err.description}")
        if method != "getUpdates":
            self.calls.append(Call(method, dict(params), False, error=err.description))
        payload: dict[str, Any] = {"ok": False, "error_code": err.code,
                                   "description": err.description}
        if err.parameters:
            payload["parameters"] = err.parameters
        return self._json(err.code, payload)

    def _take_failure(self, method: str, params: dict[str, Any]) -> Failure | None:
        queue = self._failures.get(method)
        for index, failure in enumerate(queue or []):
            if failure.chat_id is None or str(params.get("chat_id")) == str(failure.chat_id):
                return queue.pop(index)  # type: ignore[union-attr]
        now = time.monotonic()
        for methods, until, errors in self._outages:
            if method in methods and now < until:
                return Failure(next(errors), None, None, 0.0, False)
        return None

    async def _inject(self, method: str, params: Params, f: Failure,
                      request: web.Request | None = None) -> web.StreamResponse:
        if f.error_code == "drop":  # the connection closes with no answer at all
            self.errors.append({"method": method, "error_code": "drop", "injected": True,
                                "description": "connection dropped", "params": dict(params),
                                "violation": False})
            if request is not None and request.transport is not None:
                request.transport.close()
            return web.Response(status=502, text=NGINX_502, content_type="text/html")
        if f.error_code == "timeout":
            if f.perform:
                await self._dispatch(method, params)
            await self._sleep(f.delay)
            self.errors.append({"method": method, "error_code": "timeout", "injected": True,
                                "description": "timeout", "params": dict(params),
                                "violation": False})
            return web.Response(status=504, text="timeout")
        if f.error_code == 502:
            self.errors.append({"method": method, "error_code": 502, "injected": True,
                                "description": "Bad Gateway", "params": dict(params),
                                "violation": False})
            return web.Response(status=502, text=NGINX_502, content_type="text/html")
        code = int(f.error_code)
        desc = f.description or {429: f"Too Many Requests: retry after {f.retry_after}",
                                 400: "Bad Request: injected failure",
                                 403: "Forbidden: bot was blocked by the user",
                                 500: "Internal Server Error"}.get(code, "Injected failure")
        extra = {"retry_after": f.retry_after} if code == 429 and f.retry_after else None
        err = ApiError(code, desc, parameters=extra)
        return self._error_response(method, dict(params), err, injected=True)

    async def _sleep(self, seconds: float) -> None:
        """Sleep, but return at once when the server stops."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._closing.wait(), seconds)

    async def _dispatch(self, method: str, p: Params) -> Any:
        if method in MEDIA_METHODS:
            return self._send_media(MEDIA_METHODS[method], p)
        handler = getattr(self, f"_api_{method}", None)
        if handler is None:
            self.unimplemented_calls.append(Call(method, dict(p), True, result=True))
            return True
        result = handler(p)
        return await result if asyncio.iscoroutine(result) else result

    # ======================================================================= world model

    def add_user(self, user_id: int, first_name: str, *, last_name: str | None = None,
                 username: str | None = None, language_code: str | None = "zh-hant",
                 started: bool = True, blocked: bool = False) -> dict[str, Any]:
        fields: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name,
                                  "last_name": last_name, "username": username,
                                  "language_code": language_code}
        user = {k: v for k, v in fields.items() if v is not None}
        self.users[user_id] = user
        self.user_flags[user_id] = {"started": started, "blocked": blocked}
        chat: dict[str, Any] = {k: user[k] for k in ("first_name", "last_name", "username")
                                if k in user}
        self.chats[user_id] = ChatState({"id": user_id, "type": "private", **chat})
        return copy.deepcopy(user)

    def set_user(self, user_id: int, *, started: bool | None = None,
                 blocked: bool | None = None) -> None:
        """Change a user's flags, e.g. ``fake.set_user(7, blocked=True)``."""
        flags = self.user_flags[user_id]
        if started is not None:
            flags["started"] = started
        if blocked is not None:
            flags["blocked"] = blocked

    def add_group(self, chat_id: int, title: str, *, is_forum: bool = True,
                  bot_is_admin: bool = True, can_manage_topics: bool = True,
                  can_delete_messages: bool = True, can_pin_messages: bool = True,
                  chat_type: str = "supergroup", username: str | None = None) -> dict[str, Any]:
        assert chat_id < 0, "group chat ids are negative"
        chat: dict[str, Any] = {"id": chat_id, "type": chat_type, "title": title}
        if username:
            chat["username"] = username
        if is_forum:
            assert chat_type == "supergroup", "only supergroups can be forums"
            chat["is_forum"] = True
        self.chats[chat_id] = ChatState(
            chat, is_forum=is_forum, bot_is_admin=bot_is_admin,
            can_manage_topics=bot_is_admin and can_manage_topics,
            can_delete_messages=bot_is_admin and can_delete_messages,
            can_pin_messages=bot_is_admin and can_pin_messages)
        return copy.deepcopy(chat)

    def chat_state(self, chat_id: int) -> ChatState:
        """The mutable state of a chat (flags such as ``bot_is_admin`` can be changed)."""
        return self.chats[chat_id]

    def set_member(self, chat_id: int, user_id: int, status: str = "member") -> None:
        """status: creator, administrator, member, left or kicked."""
        assert status in ("creator", "administrator", "member", "left", "kicked"), status
        self.chats[chat_id].members[user_id] = status

    def _next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def _store(self, chat: ChatState, sender: dict[str, Any], content: dict[str, Any], *,
               thread_id: int | None = None, reply_to: Message | None = None,
               markup: dict[str, Any] | None = None, message_id: int | None = None) -> Message:
        mid = message_id or chat.next_id
        chat.next_id = mid + 1
        msg: Message = {"message_id": mid, "from": copy.deepcopy(sender),
                        "date": int(time.time()), "chat": _chat_info(chat)}
        if thread_id is not None:
            msg["message_thread_id"] = thread_id
            if chat.is_forum:
                msg["is_topic_message"] = True
                if reply_to is None and thread_id != mid:
                    reply_to = chat.messages.get(thread_id)
        if reply_to is not None:
            msg["reply_to_message"] = {k: v for k, v in copy.deepcopy(reply_to).items()
                                       if k != "reply_to_message"}
        msg.update(copy.deepcopy(content))
        if markup and "inline_keyboard" in markup and markup["inline_keyboard"]:
            msg["reply_markup"] = copy.deepcopy(markup)
        chat.messages[mid] = msg
        chat.meta[mid] = MsgMeta(self._next_seq(), markup=copy.deepcopy(markup))
        if sender["id"] != self.bot_id and not chat.private:
            chat.members.setdefault(sender["id"], "member")
        self._last_activity = time.monotonic()
        return msg

    def _enqueue(self, kind: str, payload: dict[str, Any]) -> None:
        self._updates.append({"update_id": next(self._update_ids), kind: copy.deepcopy(payload)})
        self._last_activity = time.monotonic()
        self._wake()

    def _wake(self) -> None:
        self._wakeup.set()
        self._wakeup = asyncio.Event()

    def _new_file(self, kind: str, data: bytes, filename: str | None = None,
                  mime_type: str | None = None) -> FileRec:
        n = next(self._ids)
        rec = FileRec(f"fake-{kind}-{n}-{abs(hash((kind, n, time.time()))) % 10**8:08d}",
                      f"U{n:07d}", kind, data, filename, mime_type or MIME[kind])
        self.files[rec.file_id] = rec
        return rec

    def _media(self, kind: str, rec: FileRec) -> Any:
        base: dict[str, Any] = {"file_id": rec.file_id, "file_unique_id": rec.file_unique_id,
                                "file_size": len(rec.data)}
        if kind == "photo":
            small = {**base, "file_id": rec.file_id + "-s", "file_unique_id": rec.file_unique_id
                     + "s", "width": 90, "height": 68}
            self.files.setdefault(small["file_id"], rec)
            return [small, {**base, "width": 1280, "height": 960}]
        if kind == "document":
            return {**base, "file_name": rec.filename or "file.bin", "mime_type": rec.mime_type}
        if kind == "sticker":
            return {**base, "type": "regular", "width": 512, "height": 512, "is_animated": False,
                    "is_video": False, "emoji": "👍"}
        if kind in ("voice", "audio"):
            return {**base, "duration": 3, "mime_type": rec.mime_type}
        return {**base, "width": 640, "height": 480, "duration": 3, "mime_type": rec.mime_type}

    # ------------------------------------------------------------------- user actions

    def _user_chat(self, user_id: int, chat_id: int) -> tuple[dict[str, Any], ChatState]:
        assert user_id in self.users, f"unknown user {user_id}; call fake.add_user first"
        assert chat_id in self.chats, f"unknown chat {chat_id}"
        chat = self.chats[chat_id]
        if chat.private:
            assert chat_id == user_id, "a user can only write in their own private chat"
            self.user_flags[user_id].update(started=True, blocked=False)
        return self.users[user_id], chat

    def _user_post(self, user_id: int, chat_id: int, content: dict[str, Any],
                   thread_id: int | None, reply_to: Message | int | None) -> Message:
        user, chat = self._user_chat(user_id, chat_id)
        if thread_id is not None:
            assert thread_id in (chat.topics if chat.is_forum else chat.messages), (
                f"no thread {thread_id} in chat {chat_id}")
        target = None
        if reply_to is not None:
            rid = reply_to if isinstance(reply_to, int) else reply_to["message_id"]
            target = chat.messages.get(rid)
            assert target is not None, f"no message {rid} in chat {chat_id} to reply to"
            if thread_id is None and "message_thread_id" in target:
                thread_id = target["message_thread_id"]
        msg = self._store(chat, user, content, thread_id=thread_id, reply_to=target)
        self._enqueue("message", msg)
        return copy.deepcopy(msg)

    def send_text(self, user_id: int, chat_id: int, text: str, *, thread_id: int | None = None,
                  reply_to: Message | int | None = None) -> Message:
        """The user posts ``text``; a leading /command gets a bot_command entity."""
        content: dict[str, Any] = {"text": text}
        if m := _COMMAND.match(text):
            content["entities"] = [{"type": "bot_command", "offset": 0,
                                    "length": utf16_len(m.group(0))}]
        return self._user_post(user_id, chat_id, content, thread_id, reply_to)

    def _send_user_media(self, kind: str, user_id: int, chat_id: int, caption: str | None,
                         thread_id: int | None, reply_to: Message | int | None,
                         data: bytes | None = None, filename: str | None = None,
                         mime_type: str | None = None) -> Message:
        rec = self._new_file(kind, data if data is not None else f"{kind}-bytes".encode(),
                             filename, mime_type)
        content: dict[str, Any] = {kind: self._media(kind, rec)}
        if caption:
            content["caption"] = caption
        return self._user_post(user_id, chat_id, content, thread_id, reply_to)

    def send_photo(self, user_id: int, chat_id: int, *, caption: str | None = None,
                   thread_id: int | None = None, reply_to: Message | int | None = None,
                   data: bytes | None = None) -> Message:
        return self._send_user_media("photo", user_id, chat_id, caption, thread_id, reply_to,
                                     data)

    def send_sticker(self, user_id: int, chat_id: int, *, thread_id: int | None = None,
                     reply_to: Message | int | None = None) -> Message:
        return self._send_user_media("sticker", user_id, chat_id, None, thread_id, reply_to)

    def send_voice(self, user_id: int, chat_id: int, *, caption: str | None = None,
                   thread_id: int | None = None, reply_to: Message | int | None = None) -> Message:
        return self._send_user_media("voice", user_id, chat_id, caption, thread_id, reply_to)

    def send_document(self, user_id: int, chat_id: int, *, filename: str = "file.pdf",
                      data: bytes = b"%PDF-1.4 fake", mime_type: str = "application/pdf",
                      caption: str | None = None, thread_id: int | None = None,
                      reply_to: Message | int | None = None) -> Message:
        return self._send_user_media("document", user_id, chat_id, caption, thread_id, reply_to,
                                     data, filename, mime_type)

    def edit_text(self, user_id: int, message: Message | tuple[int, int], text: str) -> Message:
        """The user edits their own text message; enqueues an edited_message update."""
        msg = self._lookup(message)
        assert msg["from"]["id"] == user_id and "text" in msg, "users edit their own texts only"
        self._record_edit(self.chats[msg["chat"]["id"]], msg)
        msg["text"] = text
        msg.pop("entities", None)
        self._enqueue("edited_message", msg)
        return copy.deepcopy(msg)

    def add_topic(self, chat_id: int, name: str, *, user_id: int | None = None,
                  icon_color: int = 7322096) -> int:
        """A human admin creates a forum topic; returns its message_thread_id."""
        chat = self.chats[chat_id]
        assert chat.is_forum, f"chat {chat_id} is not a forum"
        sender = self.users[user_id] if user_id else {"id": 777000, "is_bot": False,
                                                      "first_name": "Telegram"}
        tid = self._create_topic(chat, sender, name, icon_color, None)
        self._enqueue("message", chat.messages[tid])
        return tid

    def press(self, user_id: int, message: Message | tuple[int, int], callback_data: str) -> str:
        """The user presses the inline button with ``callback_data``; returns the query id."""
        msg = self._lookup(message)
        data = [b.get("callback_data") for row in msg.get("reply_markup", {}).get(
            "inline_keyboard", []) for b in row]
        assert callback_data in data, (
            f"message {msg['message_id']} in chat {msg['chat']['id']} has no button with "
            f"callback_data {callback_data!r}; buttons: {self.buttons(msg)}")
        user, _ = self._user_chat(user_id, msg["chat"]["id"])
        qid = f"{next(self._ids)}{abs(hash((user_id, time.time()))) % 10**9}"
        self._queries[qid] = {"user_id": user_id, "at": time.monotonic(), "answered": False}
        self._enqueue("callback_query", {"id": qid, "from": user, "message": msg,
                                         "chat_instance": f"ci{msg['chat']['id']}",
                                         "data": callback_data})
        return qid

    def press_forged(self, user_id: int, callback_data: str) -> str:
        """A callback query with data the user was never shown, on the last message the bot
        sent them. Telegram only sends the data of a button the message has, but a bot must
        not rely on that for rights: this checks that it reads them from its database."""
        own = self.bot_messages(user_id)
        assert own, f"user {user_id} has no message from the bot to press on"
        user, _ = self._user_chat(user_id, user_id)
        qid = f"{next(self._ids)}{abs(hash((user_id, time.time()))) % 10**9}"
        self._queries[qid] = {"user_id": user_id, "at": time.monotonic(), "answered": False}
        self._enqueue("callback_query", {"id": qid, "from": user, "message": own[-1],
                                         "chat_instance": f"ci{user_id}", "data": callback_data})
        return qid

    # --------------------------------------------------------------- test-side queries

    def _lookup(self, message: Message | tuple[int, int]) -> Message:
        chat_id, mid = message if isinstance(message, tuple) else (
            message["chat"]["id"], message["message_id"])
        msg = self.chats[chat_id].messages.get(mid)
        assert msg is not None, f"message {mid} in chat {chat_id} does not exist (deleted?)"
        return msg

    def message(self, chat_id: int, message_id: int) -> Message | None:
        msg = self.chats[chat_id].messages.get(message_id)
        return copy.deepcopy(msg) if msg else None

    def messages(self, chat_id: int, thread_id: int | None = None) -> list[Message]:
        """Current state of all messages, oldest first (thread_id=0: outside any thread)."""
        return [copy.deepcopy(m) for m in self.chats[chat_id].messages.values()
                if thread_id is None or m.get("message_thread_id", 0) == thread_id]

    def bot_messages(self, chat_id: int, thread_id: int | None = None) -> list[Message]:
        return [m for m in self.messages(chat_id, thread_id) if m["from"]["id"] == self.bot_id]

    def last_bot_message(self, chat_id: int, thread_id: int | None = None) -> Message | None:
        msgs = self.bot_messages(chat_id, thread_id)
        return msgs[-1] if msgs else None

    def deleted_messages(self, chat_id: int) -> list[Message]:
        return copy.deepcopy(self.chats[chat_id].deleted)

    def edit_count(self, message: Message | tuple[int, int]) -> int:
        msg = self._lookup(message)
        return self.chats[msg["chat"]["id"]].meta[msg["message_id"]].edits

    def history(self, message: Message | tuple[int, int]) -> list[Message]:
        """Earlier versions of an edited message, oldest first."""
        msg = self._lookup(message)
        return copy.deepcopy(self.chats[msg["chat"]["id"]].meta[msg["message_id"]].history)

    def markup(self, message: Message | tuple[int, int]) -> dict[str, Any] | None:
        """The reply_markup as last sent (also ForceReply / ReplyKeyboardMarkup / Remove)."""
        msg = self._lookup(message)
        return copy.deepcopy(self.chats[msg["chat"]["id"]].meta[msg["message_id"]].markup)

    def buttons(self, message: Message | tuple[int, int]) -> list[tuple[str, str]]:
        """(text, callback_data or url) of the inline keyboard, current state if it exists."""
        try:
            msg = self._lookup(message)
        except AssertionError:
            if isinstance(message, tuple):
                raise
            msg = message
        rows = msg.get("reply_markup", {}).get("inline_keyboard", [])
        return [(b["text"], b.get("callback_data") or b.get("url") or "") for r in rows for b in r]

    def topics(self, chat_id: int) -> dict[int, dict[str, Any]]:
        return copy.deepcopy(self.chats[chat_id].topics)

    def commands(self, scope_type: str = "default", chat_id: int | None = None,
                 user_id: int | None = None, language_code: str = "") -> list[dict[str, str]]:
        return copy.deepcopy(self.bot_commands.get((scope_type, chat_id, user_id, language_code),
                                                   []))

    def documents(self, chat_id: int) -> list[dict[str, Any]]:
        """Documents the bot sent to the chat: {filename, data, caption, message_id, ...}."""
        out = []
        for m in self.bot_messages(chat_id):
            if "document" in m:
                rec = self.files[m["document"]["file_id"]]
                out.append({"filename": rec.filename, "data": rec.data,
                            "mime_type": rec.mime_type, "caption": m.get("caption"),
                            "message_id": m["message_id"], "file_id": rec.file_id})
        return out

    def file_bytes(self, file_id: str) -> bytes:
        return self.files[file_id].data

    def unanswered_callbacks(self) -> list[str]:
        return [qid for qid, q in self._queries.items() if not q["answered"]]

    def api_calls(self, method: str | None = None) -> list[Call]:
        return [c for c in self.calls if method is None or c.method == method]

    def fail_next(self, method: str, times: int = 1, *, error_code: int | str = 429,
                  description: str | None = None, retry_after: int = 1, delay: float = 30.0,
                  perform: bool = False, chat_id: int | None = None) -> None:
        """Make the next ``times`` calls of ``method`` fail.

        error_code: 429 (with retry_after), any other Telegram code (description optional),
        502 (nginx HTML page) or "timeout" (no answer for ``delay`` s; ``perform=True``
        performs the call first, i.e. the answer is lost). chat_id: only calls to that chat
        fail (others pass meanwhile).
        """
        assert self.spec.canonical(method) == method, f"unknown method {method!r}"
        failure = Failure(error_code, description, retry_after, delay, perform, chat_id)
        self._failures.setdefault(method, []).extend([failure] * times)

    def outage(self, methods: list[str], seconds: float, *,
               errors: tuple[int | str, ...] = (502, "drop")) -> None:
        """Every call of ``methods`` fails for ``seconds`` from now, taking ``errors`` in
        turn: 502 (nginx's page) or "drop" (the connection is closed, no answer). The calls
        are validated first and not performed; ``fail_next`` failures come before."""
        for method in methods:
            assert self.spec.canonical(method) == method, f"unknown method {method!r}"
        self._outages.append((set(methods), time.monotonic() + seconds, itertools.cycle(errors)))

    # ------------------------------------------------------------------------ waiting

    def mark(self) -> Mark:
        """Remember "now" in the message sequence: ``wait_bot_message(..., after=mark)``."""
        return Mark(self._seq)

    async def wait_for(self, predicate: Callable[[], T | None], timeout: float = 10.0,
                       message: str = "condition") -> T:
        """Poll ``predicate`` until it returns something truthy; return that."""
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout}s waiting for {message}\n"
                                     + self.dump())
            await asyncio.sleep(0.01)

    async def callback_answer(self, query_id: str, timeout: float = 10.0) -> dict[str, Any]:
        """The bot's answerCallbackQuery for this press, once it has come."""
        return await self.wait_for(lambda: next(
            (a for a in self.callback_answers if a["callback_query_id"] == query_id), None),
            timeout, message=f"the answer to callback query {query_id}")

    async def wait_bot_message(self, chat_id: int, thread_id: int | None = None, *,
                               contains: str | None = None, timeout: float = 10.0,
                               after: int | Message | Mark | None = None) -> Message:
        """The first bot message newer than ``after`` (message id, message or Mark) whose
        text or caption contains ``contains``."""
        def find() -> Message | None:
            chat = self.chats[chat_id]
            for m in chat.messages.values():
                if m["from"]["id"] != self.bot_id or not _newer(chat, m, after):
                    continue
                if thread_id is not None and m.get("message_thread_id", 0) != thread_id:
                    continue
                if contains is None or contains in (m.get("text") or m.get("caption") or ""):
                    return copy.deepcopy(m)
            return None

        what = f"a bot message in chat {chat_id}" + (f" thread {thread_id}" if thread_id else "")
        return await self.wait_for(find, timeout, what + (f" containing {contains!r}"
                                                          if contains else ""))

    async def wait_edit(self, message: Message, *, contains: str | None = None,
                        timeout: float = 10.0) -> Message:
        """Wait until the message's text/caption/keyboard differs from the given snapshot."""
        keys = ("text", "caption", "reply_markup")

        def changed() -> Message | None:
            cur = self._lookup(message)
            if any(cur.get(k) != message.get(k) for k in keys) and (
                    contains is None or contains in (cur.get("text") or cur.get("caption", ""))):
                return copy.deepcopy(cur)
            return None

        return await self.wait_for(changed, timeout, f"an edit of message "
                                   f"{message['message_id']} in chat {message['chat']['id']}")

    async def wait_idle(self, quiet: float = 0.3, timeout: float = 10.0) -> None:
        """Until all updates are confirmed and no call (except getUpdates) arrived or ran
        for ``quiet`` seconds."""
        def idle() -> bool:
            return (not self._updates and self._inflight == 0
                    and time.monotonic() - self._last_activity >= quiet)

        await self.wait_for(idle, timeout, "the bot to become idle")

    def dump(self, last: int = 20) -> str:
        lines = [f"pending updates: {[u['update_id'] for u in self._updates]}",
                 f"last {last} calls:"]
        for c in self.calls[-last:]:
            shown = {k: (v if not isinstance(v, str) or len(v) < 120 else v[:117] + "...")
                     for k, v in c.params.items()}
            lines.append(f"  {c.method} {'ok' if c.ok else 'ERROR ' + str(c.error)} {shown}")
        lines += [f"violations: {self.violations}"]
        return "\n".join(lines)

    # ======================================================================== helpers

    def _chat(self, p: Params, key: str = "chat_id") -> ChatState:
        ref = p.get(key)
        if isinstance(ref, str):
            ref = next((c.id for c in self.chats.values()
                        if ref.startswith("@") and c.chat.get("username") == ref[1:]), None)
        chat = self.chats.get(ref) if isinstance(ref, int) else None
        if chat is None:
            raise bad_request("chat not found")
        return chat

    def _writable(self, p: Params) -> ChatState:
        chat = self._chat(p)
        if chat.private:
            flags = self.user_flags[chat.id]
            if flags["blocked"]:
                raise ApiError(403, "Forbidden: bot was blocked by the user")
            if not flags["started"]:
                raise ApiError(403, "Forbidden: bot can't initiate conversation with a user")
        return chat

    def _thread(self, chat: ChatState, p: Params) -> int | None:
        tid = p.get("message_thread_id")
        if tid is None:
            return None
        if chat.is_forum:
            topic = chat.topics.get(tid)
            if topic is None:
                raise bad_request("message thread not found")
            if topic["closed"] and not chat.can_manage_topics:
                raise bad_request("TOPIC_CLOSED")
            return int(tid)
        if tid not in chat.messages:
            raise bad_request("message thread not found")
        return int(tid)

    def _reply(self, chat: ChatState, p: Params, thread_id: int | None
               ) -> tuple[Message | None, int | None]:
        rp = p.get("reply_parameters")
        if not rp:
            return None, thread_id
        src = self.chats.get(rp["chat_id"]) if "chat_id" in rp else chat
        if src is None:
            raise bad_request("chat not found")
        target = src.messages.get(rp["message_id"])
        if target is None:
            if rp.get("allow_sending_without_reply"):
                return None, thread_id
            raise bad_request("message to be replied not found")
        if src is chat and thread_id is None:
            thread_id = target.get("message_thread_id")
        return target, thread_id

    def _formatted(self, p: Params, key: str, entities_key: str) -> dict[str, Any]:
        if key not in p:
            return {}
        mode = None if p.get(entities_key) else p.get("parse_mode")  # entities win
        try:
            text, entities = parse_text(p[key], mode)
        except ParseError as e:
            raise bad_request(f"can't parse entities: {e}", violation=True) from None
        except ValueError:
            raise bad_request(f"unsupported parse_mode {p['parse_mode']!r}",
                              violation=True) from None
        entities = entities or p.get(entities_key) or []
        out: dict[str, Any] = {key: text}
        if entities:
            out[entities_key] = entities
        return out

    def _input_file(self, value: Any, uploads: dict[str, Upload], kind: str) -> FileRec:
        if isinstance(value, str) and value.startswith("attach://"):
            if value[9:] not in uploads:
                raise bad_request(f"file part {value[9:]!r} referenced by {value} is missing",
                                  violation=True)
            value = uploads[value[9:]]
        if isinstance(value, Upload):
            return self._new_file(kind, value.data, value.filename, value.content_type
                                  if value.content_type != "application/octet-stream" else None)
        if re.match(r"https?://", value):
            return self._new_file(kind, b"", value.rsplit("/", 1)[-1] or None)
        rec = self.files.get(value)
        if rec is None:
            raise bad_request("wrong file identifier/HTTP URL specified")
        if rec.kind != kind:
            raise bad_request(f"can't use file of type {rec.kind.title()} as {kind.title()}")
        return rec

    def _send(self, p: Params, content: dict[str, Any], *, chat: ChatState | None = None,
              flood: bool = True) -> Message:
        """Store a new bot message; every method that sends one ends here."""
        chat = chat or self._writable(p)
        thread_id = self._thread(chat, p)
        reply_to, thread_id = self._reply(chat, p, thread_id)
        if flood:
            self._take_token(chat)
        if "link_preview_options" in p:
            content["link_preview_options"] = p["link_preview_options"]
        return copy.deepcopy(self._store(chat, self.bot_user, content, thread_id=thread_id,
                                         reply_to=reply_to, markup=p.get("reply_markup")))

    def _take_token(self, chat: ChatState) -> None:
        """Telegram's flood limit: "avoid sending more than one message per second [to a
        chat]. We may allow short bursts [...], but eventually you'll begin receiving 429
        errors". A token bucket per chat: it holds up to `burst` tokens and refills at `rate`
        per second; a message takes one, or is refused with 429 and takes none. It runs
        last, after validation and the chat's own errors (403, thread, reply)."""
        rate, burst = ((self.private_rate, self.private_burst) if chat.private
                       else (self.group_rate, self.group_burst))
        if rate is None:
            return
        now = self.clock()
        tokens, at = self._buckets.get(chat.id, (burst, now))
        tokens = min(burst, tokens + (now - at) * rate)
        if tokens < 1:
            wait = max(1, math.ceil((1 - tokens) / rate))
            raise ApiError(429, f"Too Many Requests: retry after {wait}",
                           parameters={"retry_after": wait})
        self._buckets[chat.id] = (tokens - 1, now)

    def _bot_message(self, p: Params, missing: str) -> tuple[ChatState, Message]:
        if "inline_message_id" in p:
            raise bad_request("inline messages are not supported by the fake", violation=True)
        if "chat_id" not in p or "message_id" not in p:
            raise bad_request("message identifier is not specified", violation=True)
        chat = self._chat(p)
        msg = chat.messages.get(p["message_id"])
        if msg is None:
            raise bad_request(missing)
        return chat, msg

    def _record_edit(self, chat: ChatState, msg: Message) -> None:
        meta = chat.meta[msg["message_id"]]
        meta.history.append(copy.deepcopy(msg))
        meta.edits += 1
        msg["edit_date"] = int(time.time())

    def _apply_edit(self, chat: ChatState, msg: Message, new: dict[str, Any],
                    markup: dict[str, Any] | None) -> Message:
        if msg["from"]["id"] != self.bot_id:
            raise bad_request("message can't be edited")
        keyboard = markup if markup and markup.get("inline_keyboard") else None
        if all(msg.get(k) == v for k, v in new.items()) and msg.get("reply_markup") == keyboard:
            raise bad_request(NOT_MODIFIED)
        self._record_edit(chat, msg)
        for key, value in new.items():
            if value is None:
                msg.pop(key, None)
            else:
                msg[key] = copy.deepcopy(value)
        if keyboard is None:
            msg.pop("reply_markup", None)
        else:
            msg["reply_markup"] = copy.deepcopy(keyboard)
        chat.meta[msg["message_id"]].markup = copy.deepcopy(markup)
        return copy.deepcopy(msg)

    def _member(self, chat: ChatState, user_id: int) -> dict[str, Any]:
        if user_id == self.bot_id:
            if not chat.bot_is_admin or chat.private:
                return {"status": "member", "user": copy.deepcopy(self.bot_user)}
            rights = {k: False for k in ("can_be_edited", "is_anonymous", "can_manage_video_chats",
                                         "can_restrict_members", "can_promote_members",
                                         "can_change_info", "can_post_stories",
                                         "can_edit_stories", "can_delete_stories")}
            return {"status": "administrator", "user": copy.deepcopy(self.bot_user), **rights,
                    "can_manage_chat": True, "can_invite_users": True,
                    "can_delete_messages": chat.can_delete_messages,
                    "can_pin_messages": chat.can_pin_messages,
                    "can_manage_topics": chat.can_manage_topics}
        if user_id not in self.users:
            raise bad_request("user not found")
        user = copy.deepcopy(self.users[user_id])
        status = "member" if chat.private and user_id == chat.id else chat.members.get(
            user_id, "left")
        if status == "creator":
            return {"status": status, "user": user, "is_anonymous": False}
        if status == "administrator":
            rights = {k: True for k in ("can_manage_chat", "can_delete_messages",
                                        "can_manage_video_chats", "can_restrict_members",
                                        "can_change_info", "can_invite_users", "can_post_stories",
                                        "can_edit_stories", "can_delete_stories",
                                        "can_pin_messages", "can_manage_topics")}
            return {"status": status, "user": user, "can_be_edited": True, "is_anonymous": False,
                    "can_promote_members": False, **rights}
        if status == "kicked":
            return {"status": status, "user": user, "until_date": 0}
        return {"status": status, "user": user}

    def _require_topic_rights(self, chat: ChatState, action: str) -> None:
        if not chat.is_forum:
            raise bad_request("the chat is not a forum")
        if not chat.can_manage_topics:
            raise bad_request(f"not enough rights to {action} a topic")

    def _create_topic(self, chat: ChatState, sender: dict[str, Any], name: str, icon_color: int,
                      emoji: str | None) -> int:
        tid = chat.next_id
        created: dict[str, Any] = {"name": name, "icon_color": icon_color}
        if emoji:
            created["icon_custom_emoji_id"] = emoji
        self._store(chat, sender, {"forum_topic_created": created}, thread_id=tid,
                    message_id=tid)
        chat.topics[tid] = {"message_thread_id": tid, **created, "closed": False,
                            "created_by_bot": sender["id"] == self.bot_id}
        return tid

    def _topic(self, chat: ChatState, p: Params) -> dict[str, Any]:
        if not chat.is_forum:
            raise bad_request("the chat is not a forum")
        topic = chat.topics.get(p["message_thread_id"])
        if topic is None:
            raise bad_request("TOPIC_ID_INVALID")
        # "must have the can_manage_topics administrator rights, unless it is the creator"
        if not chat.can_manage_topics and not (topic["created_by_bot"] and chat.bot_is_admin):
            raise bad_request("not enough rights to manage the topic")
        return topic

    def _service(self, chat: ChatState, tid: int, content: dict[str, Any]) -> None:
        self._store(chat, self.bot_user, content, thread_id=tid)

    # ==================================================================== API methods

    def _api_getMe(self, p: Params) -> dict[str, Any]:
        return {**self.bot_user, "can_join_groups": True, "can_read_all_group_messages": False,
                "supports_inline_queries": False, "can_connect_to_business": False,
                "has_main_web_app": False}

    def _api_logOut(self, p: Params) -> bool:
        return True

    _api_close = _api_logOut

    def _api_sendChatAction(self, p: Params) -> bool:
        self._thread(self._writable(p), p)
        return True

    async def _api_getUpdates(self, p: Params) -> list[dict[str, Any]]:
        if self.webhook_url:
            raise ApiError(409, "Conflict: can't use getUpdates method while webhook is active; "
                                "use deleteWebhook to delete the webhook first")
        if "allowed_updates" in p:
            self._allowed = set(p["allowed_updates"]) or None
        offset = p.get("offset")
        if offset is not None and offset < 0:
            self._updates = self._updates[offset:]
        elif offset:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        self._poll_generation += 1
        generation = self._poll_generation
        self._wake()  # an older long poll gives way to this one (and returns [])
        deadline = time.monotonic() + p.get("timeout", 0)
        while True:
            allowed = self._allowed or DEFAULT_ALLOWED
            self._updates = [u for u in self._updates if set(u) - {"update_id"} <= allowed]
            if self._updates or self._closing.is_set() or generation != self._poll_generation:
                break
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            event = self._wakeup
            try:
                await asyncio.wait_for(event.wait(), remaining)
            except TimeoutError:
                break
        if generation != self._poll_generation:
            return []
        return copy.deepcopy(self._updates[: p.get("limit", 100)])

    def _api_deleteWebhook(self, p: Params) -> bool:
        self.webhook_url = ""
        if p.get("drop_pending_updates"):
            self._updates.clear()
        return True

    def _api_setWebhook(self, p: Params) -> bool:
        url = p["url"]
        if url and not url.startswith("https://"):
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook",
                              violation=True)
        secret = p.get("secret_token")
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret):
            raise bad_request("secret token contains unallowed characters", violation=True)
        connections = p.get("max_connections", 40)
        if not 1 <= connections <= 100:
            raise bad_request("bad webhook: max_connections must be between 1 and 100",
                              violation=True)
        if "allowed_updates" in p:
            self._allowed = set(p["allowed_updates"]) or None
        if p.get("drop_pending_updates"):
            self._updates.clear()
        self.webhook_url, self.webhook_secret, self.webhook_connections = url, secret, connections
        if url and (self._delivery is None or self._delivery.done()):
            self._delivery = asyncio.create_task(self._deliver_updates())
        self._wake()
        return True

    def _api_getWebhookInfo(self, p: Params) -> dict[str, Any]:
        info: dict[str, Any] = {"url": self.webhook_url, "has_custom_certificate": False,
                                "pending_update_count": len(self._updates)}
        if self.webhook_url:
            info["max_connections"] = self.webhook_connections
        if self.webhook_errors:
            info["last_error_date"], info["last_error_message"] = self.webhook_errors[-1]
        return info

    # --------------------------------------------------------------- webhook delivery

    def balance(self, targets: list[str]) -> None:
        """Where the webhook's https address leads: these http://host:port addresses in turn
        (the proxy and load balancer in front of the bot's processes)."""
        self.webhook_targets = list(targets)

    def _chat_of(self, update: dict[str, Any]) -> Any:
        body = next(v for k, v in update.items() if k != "update_id")
        chat = (body.get("message") or body).get("chat") if isinstance(body, dict) else None
        return chat["id"] if chat else body.get("from", {}).get("id")

    async def _deliver_updates(self) -> None:
        """As Telegram does for a webhook: each update posted until answered 2xx, with the
        secret token; at most max_connections at once; one chat's updates one at a time,
        in order. A failed post is tried again on the next address, after a short pause."""
        import aiohttp

        busy: dict[Any, asyncio.Task[None]] = {}  # chat → the post in flight
        turn = itertools.count()
        async with aiohttp.ClientSession() as client:
            while self.webhook_url and not self._closing.is_set():
                waiting_chats: set[Any] = set()
                for update in list(self._updates):
                    chat = self._chat_of(update)
                    if chat in busy or chat in waiting_chats:
                        waiting_chats.add(chat)  # keeps its later updates behind it
                        continue
                    if len(busy) >= self.webhook_connections:
                        break
                    task = asyncio.create_task(self._post(client, update, next(turn)))
                    task.add_done_callback(partial(lambda c, _t: busy.pop(c, None), chat))
                    busy[chat] = task
                event = self._wakeup
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(event.wait(), 0.05)
            for task in list(busy.values()):
                task.cancel()

    async def _post(self, client: Any, update: dict[str, Any], turn: int) -> None:
        import aiohttp

        path = "/" + self.webhook_url.split("://", 1)[1].partition("/")[2]
        headers = {"X-Telegram-Bot-Api-Secret-Token": self.webhook_secret} \
            if self.webhook_secret else {}
        attempt = 0
        while self.webhook_url and not self._closing.is_set():
            targets = self.webhook_targets or [self.webhook_url.removesuffix(path)]
            target = targets[(turn + attempt) % len(targets)]
            self._inflight += 1
            try:
                async with client.post(target + path, json=update, headers=headers,
                                       timeout=aiohttp.ClientTimeout(total=60)) as response:
                    ok = 200 <= response.status < 300
                    error = f"Wrong response from the webhook: {response.status}"
            except (aiohttp.ClientError, TimeoutError) as exc:
                ok, error = False, f"Connection failed: {type(exc).__name__}"
            finally:
                self._inflight -= 1
                self._last_activity = time.monotonic()
            self.webhook_posts.append((update["update_id"], target, ok, time.monotonic()))
            if ok:
                self._updates = [u for u in self._updates if u["update_id"] != update["update_id"]]
                self._wake()
                return
            self.webhook_errors.append((int(time.time()), error))
            attempt += 1
            await asyncio.sleep(WEBHOOK_RETRY_SECONDS)

    # ----------------------------------------------------------------------- commands

    def _scope_key(self, p: Params) -> tuple[str, int | None, int | None, str]:
        scope = p.get("scope") or {"type": "default"}
        chat_id = None
        if "chat_id" in scope:
            chat_id = self._chat(Params(scope)).id
        if "user_id" in scope and scope["user_id"] not in self.users:
            raise bad_request("user not found")
        return scope["type"], chat_id, scope.get("user_id"), p.get("language_code", "")

    def _api_setMyCommands(self, p: Params) -> bool:
        self.bot_commands[self._scope_key(p)] = [dict(c) for c in p["commands"]]
        return True

    def _api_getMyCommands(self, p: Params) -> list[dict[str, str]]:
        return self.bot_commands.get(self._scope_key(p), [])

    def _api_deleteMyCommands(self, p: Params) -> bool:
        self.bot_commands.pop(self._scope_key(p), None)
        return True

    def _profile(self, p: Params, key: str) -> bool:
        self.bot_profile[(key, p.get("language_code", ""))] = p.get(key, "")
        return True

    def _api_setMyDescription(self, p: Params) -> bool:
        return self._profile(p, "description")

    def _api_setMyShortDescription(self, p: Params) -> bool:
        return self._profile(p, "short_description")

    def _api_setMyName(self, p: Params) -> bool:
        return self._profile(p, "name")

    def _api_getMyDescription(self, p: Params) -> dict[str, str]:
        return {"description": self.bot_profile.get(("description", p.get("language_code", "")),
                                                    "")}

    def _api_getMyShortDescription(self, p: Params) -> dict[str, str]:
        key = ("short_description", p.get("language_code", ""))
        return {"short_description": self.bot_profile.get(key, "")}

    def _api_getMyName(self, p: Params) -> dict[str, str]:
        key = ("name", p.get("language_code", ""))
        return {"name": self.bot_profile.get(key, self.bot_user["first_name"])}

    def _api_setChatMenuButton(self, p: Params) -> bool:
        chat_id = self._chat(p).id if "chat_id" in p else None
        self.menu_buttons[chat_id] = p.get("menu_button") or {"type": "default"}
        return True

    def _api_getChatMenuButton(self, p: Params) -> dict[str, Any]:
        chat_id = self._chat(p).id if "chat_id" in p else None
        return self.menu_buttons.get(chat_id) or self.menu_buttons.get(None) or {
            "type": "default"}

    # ----------------------------------------------------------------------- messages

    def _api_sendMessage(self, p: Params) -> Message:
        return self._send(p, self._formatted(p, "text", "entities"))

    def _send_media(self, kind: str, p: Params) -> Message:
        chat = self._writable(p)
        rec = self._input_file(p[kind], p.uploads, kind)
        content = {kind: self._media(kind, rec), **self._formatted(p, "caption",
                                                                   "caption_entities")}
        if kind == "sticker" and "emoji" in p:
            content["sticker"]["emoji"] = p["emoji"]
        return self._send(p, content, chat=chat)

    def _api_sendMediaGroup(self, p: Params) -> list[Message]:
        kinds = {item["type"] for item in p["media"]}
        if len(kinds) > 1 and not kinds <= {"photo", "video"}:
            raise bad_request("documents and audio can't be mixed with other media types in a "
                              "media group", violation=True)
        chat = self._writable(p)
        group_id = str(10**12 + next(self._ids))
        contents = []  # all items are checked before the first is stored
        for item in p["media"]:
            rec = self._input_file(item["media"], p.uploads, item["type"])
            contents.append({item["type"]: self._media(item["type"], rec),
                             "media_group_id": group_id,
                             **self._formatted(Params(item), "caption", "caption_entities")})
        rest = Params({k: v for k, v in p.items() if k != "media"})
        # the album takes one token of the flood limit, with its first item
        return [self._send(rest, content, chat=chat, flood=i == 0)
                for i, content in enumerate(contents)]

    def _api_editMessageText(self, p: Params) -> Message:
        if "text" not in p:
            raise bad_request("message text is empty", violation=True)
        chat, msg = self._bot_message(p, "message to edit not found")
        if "text" not in msg:
            raise bad_request("there is no text in the message to edit")
        new = {"entities": None, **self._formatted(p, "text", "entities")}
        if "link_preview_options" in p:
            new["link_preview_options"] = p["link_preview_options"]
        return self._apply_edit(chat, msg, new, p.get("reply_markup"))

    def _api_editMessageCaption(self, p: Params) -> Message:
        chat, msg = self._bot_message(p, "message to edit not found")
        if "text" in msg or not any(k in msg for k in MIME):
            raise bad_request("there is no caption in the message to edit")
        new = {"caption": None, "caption_entities": None,
               **self._formatted(p, "caption", "caption_entities")}
        return self._apply_edit(chat, msg, new, p.get("reply_markup"))

    def _api_editMessageReplyMarkup(self, p: Params) -> Message:
        chat, msg = self._bot_message(p, "message to edit not found")
        return self._apply_edit(chat, msg, {}, p.get("reply_markup"))

    def _api_deleteMessage(self, p: Params) -> bool:
        chat, msg = self._bot_message(p, "message to delete not found")
        own = msg["from"]["id"] == self.bot_id
        if not own and not chat.private and not chat.can_delete_messages:
            raise bad_request("message can't be deleted")
        chat.deleted.append(chat.messages.pop(msg["message_id"]))
        return True

    def _api_forwardMessage(self, p: Params) -> Message:
        src = self._chat(p, "from_chat_id")
        orig = src.messages.get(p["message_id"])
        if orig is None:
            raise bad_request("message to forward not found")
        content = _content(orig)
        origin = {"type": "user", "date": orig["date"], "sender_user": orig["from"]}
        return self._send(p, {**content, "forward_origin": origin})

    def _api_copyMessage(self, p: Params) -> dict[str, int]:
        src = self._chat(p, "from_chat_id")
        orig = src.messages.get(p["message_id"])
        if orig is None:
            raise bad_request("message to copy not found")
        content = _content(orig)
        if not content:
            raise bad_request("message can't be copied")
        if "caption" in p:
            content.pop("caption_entities", None)
            content.update(self._formatted(p, "caption", "caption_entities"))
        return {"message_id": self._send(p, content)["message_id"]}

    def _api_answerCallbackQuery(self, p: Params) -> bool:
        query = self._queries.get(p["callback_query_id"])
        too_old = query is None or query["answered"] or (
            time.monotonic() - query["at"] > self.callback_timeout)
        if too_old:
            raise bad_request(QUERY_TOO_OLD)
        assert query is not None
        query["answered"] = True
        self.callback_answers.append({"callback_query_id": p["callback_query_id"],
                                      "text": p.get("text"), "show_alert": p.get("show_alert",
                                                                                 False),
                                      "url": p.get("url"), "user_id": query["user_id"]})
        return True

    def _api_getFile(self, p: Params) -> dict[str, Any]:
        rec = self.files.get(p["file_id"])
        if rec is None:
            raise bad_request("invalid file_id")
        return {"file_id": p["file_id"], "file_unique_id": rec.file_unique_id,
                "file_size": len(rec.data), "file_path": rec.file_path}

    # -------------------------------------------------------------------------- chats

    def _api_getChat(self, p: Params) -> dict[str, Any]:
        chat = self._chat(p)
        gifts = dict.fromkeys(("unlimited_gifts", "limited_gifts", "unique_gifts",
                               "premium_subscription", "gifts_from_channels"), False)
        return {**_chat_info(chat), "accent_color_id": 0, "max_reaction_count": 11,
                "accepted_gift_types": gifts}

    def _api_getChatMember(self, p: Params) -> dict[str, Any]:
        return self._member(self._chat(p), p["user_id"])

    def _api_getChatAdministrators(self, p: Params) -> list[dict[str, Any]]:
        chat = self._chat(p)
        if chat.private:
            raise bad_request("there are no administrators in the private chat")
        admins = [uid for uid, s in chat.members.items() if s in ("creator", "administrator")]
        bot = [self.bot_id] if chat.bot_is_admin else []
        return [self._member(chat, uid) for uid in admins + bot]

    def _api_getChatMemberCount(self, p: Params) -> int:
        chat = self._chat(p)
        return 2 if chat.private else 1 + sum(
            s not in ("left", "kicked") for s in chat.members.values())

    def _api_createForumTopic(self, p: Params) -> dict[str, Any]:
        chat = self._chat(p)
        self._require_topic_rights(chat, "create")
        color = p.get("icon_color", 7322096)
        if color not in TOPIC_COLORS:
            raise bad_request("TOPIC_COLOR_INVALID"
                              " (icon_color must be one of the 6 documented values)",
                              violation=True)
        tid = self._create_topic(chat, self.bot_user, p["name"], color,
                                 p.get("icon_custom_emoji_id"))
        return {k: v for k, v in chat.topics[tid].items() if k not in ("closed",
                                                                        "created_by_bot")}

    def _api_editForumTopic(self, p: Params) -> bool:
        chat = self._chat(p)
        topic = self._topic(chat, p)
        changes = {k: p[k] for k in ("name", "icon_custom_emoji_id")
                   if p.get(k) not in (None, "") and p[k] != topic.get(k)}
        if not changes:
            raise bad_request("TOPIC_NOT_MODIFIED")
        topic.update(changes)
        self._service(chat, topic["message_thread_id"], {"forum_topic_edited": changes})
        return True

    def _set_closed(self, p: Params, closed: bool) -> bool:
        chat = self._chat(p)
        topic = self._topic(chat, p)
        if topic["closed"] == closed:
            raise bad_request("TOPIC_NOT_MODIFIED")
        topic["closed"] = closed
        key = "forum_topic_closed" if closed else "forum_topic_reopened"
        self._service(chat, topic["message_thread_id"], {key: {}})
        return True

    def _api_closeForumTopic(self, p: Params) -> bool:
        return self._set_closed(p, True)

    def _api_reopenForumTopic(self, p: Params) -> bool:
        return self._set_closed(p, False)

    def _api_deleteForumTopic(self, p: Params) -> bool:
        chat = self._chat(p)
        topic = self._topic(chat, p)
        if not chat.can_delete_messages:
            raise bad_request("not enough rights to delete a topic")
        tid = topic["message_thread_id"]
        del chat.topics[tid]
        for mid in [m for m, msg in chat.messages.items() if msg.get("message_thread_id") == tid]:
            chat.deleted.append(chat.messages.pop(mid))
        return True


def _content(msg: Message) -> dict[str, Any]:
    keys = ("text", "entities", "caption", "caption_entities", *MIME)
    return copy.deepcopy({k: msg[k] for k in keys if k in msg})


def _newer(chat: ChatState, msg: Message, after: int | Message | Mark | None) -> bool:
    if after is None:
        return True
    if isinstance(after, Mark):
        return chat.meta[msg["message_id"]].created > after.seq
    mid = after if isinstance(after, int) else after["message_id"]
    return int(msg["message_id"]) > mid
