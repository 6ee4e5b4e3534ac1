"""`make demo`: the bot without a Telegram account, in the browser.

The real bot (bot.app.Runtime: PTB over HTTP, the outbox, the scheduler, a SQLite file in a
temporary folder) runs against the local Bot API server (bot.sandbox) instead of Telegram,
with the example company of config.example.toml — plus a head for each investigating
department, so that someone can answer — and the rule book's deadlines `speed` times faster
(2 hours → 2 minutes, 5 minutes → 5 seconds), on a 24-hour clock, so that warnings and a
fine happen while you watch.

A page (bot/static/demo.html) shows every person's private chat with the bot and the
workgroup with its topics, refreshed as they change; you type and press buttons as any of
them. "Play the tour" drives one product complaint through the rule book (`tour`): filing,
approval, 受理, the process information, two departments' answers — one of them late, so a
warning, a breach and its fine — and the complainant's acceptance.

    python -m bot.demo [--port 8080] [--speed 60]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import tempfile
import tomllib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from bot.config import Settings, parse_settings
from bot.domain.sla import DEFAULTS
from bot.sandbox import FakeTelegram
from bot.texts import Texts

log = logging.getLogger(__name__)

EXAMPLE = Path(__file__).resolve().parent.parent / "config.example.toml"
PAGE = Path(__file__).parent / "static" / "demo.html"
TOKEN = "1000001:DEMO-NO-TELEGRAM"
WORKGROUP = -1001000000001
# Heads for the investigating departments, which the example company leaves empty.
ANSWERERS = {"production": (60001, "周生產"), "purchasing": (61001, "鄭採購"),
             "logistics": (62001, "孫物流")}
PAUSE = 1.2  # seconds between the tour's actions: slow enough to follow
WORDS = ("title", "tour", "workgroup", "general", "acting_as", "send", "placeholder", "private",
         "bot")


def faster(speed: float) -> dict[str, dict[str, dict[str, Any]]]:
    """[deadlines] overrides: every complaint step's deadline and warnings `speed` times shorter."""
    overrides: dict[str, dict[str, dict[str, Any]]] = {}
    for (kind, step), rule in DEFAULTS.items():
        if kind in ("product", "service", "escalation"):
            overrides.setdefault(kind, {})[step] = {
                "minutes": rule.duration / timedelta(minutes=1) / speed,
                "warn_before": [w / timedelta(minutes=1) / speed for w in rule.warn_before]}
    return overrides


def demo_settings(base_url: str, base_file_url: str, database: Path, speed: float) -> Settings:
    data = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    data["telegram"].update(base_url=base_url, base_file_url=base_file_url,
                            private_messages_per_second=5, private_burst=5)
    data["database"] = {"url": f"sqlite+aiosqlite:///{database}"}
    data["workgroup"] = {"chat_id": WORKGROUP}
    data["calendar"] = {"mode": "24x7"}
    data["deadlines"] = faster(speed)
    data["sheet"] = {"enabled": False}  # rule 一.4's daily sheet is a day's work, not a demo's
    data["fines"] = {**data.get("fines", {}), "daily_summary_at": "23:59:59",
                     "monthly_report": False}
    for department in data["departments"]:
        if department["key"] in ANSWERERS:
            department["head"] = ANSWERERS[department["key"]][0]
    data["members"] += [{"id": uid, "name": name} for uid, name in ANSWERERS.values()]
    return parse_settings(data, token=TOKEN)


@dataclass
class Actor:
    """Someone of the demo company, acting through the local Bot API server."""

    sandbox: FakeTelegram
    id: int

    def _new(self, chat: int, since: int, contains: str, thread: int | None = None
             ) -> dict[str, Any] | None:
        for message in self.sandbox.bot_messages(chat, thread)[since:]:
            if contains in (message.get("text") or message.get("caption") or ""):
                return message
        return None

    async def said(self, contains: str, since: int, chat: int | None = None,
                   thread: int | None = None, timeout: float = 60) -> dict[str, Any]:
        chat = chat or self.id
        return await self.sandbox.wait_for(lambda: self._new(chat, since, contains, thread),
                                           timeout, f"{self.id} waits for {contains!r}")

    def mark(self, chat: int | None = None, thread: int | None = None) -> int:
        return len(self.sandbox.bot_messages(chat or self.id, thread))

    async def say(self, text: str, expect: str, *, chat: int | None = None,
                  thread: int | None = None, reply_to: int | None = None) -> dict[str, Any]:
        await asyncio.sleep(PAUSE)
        since = self.mark(chat, thread)
        self.sandbox.send_text(self.id, chat or self.id, text, thread_id=thread,
                               reply_to=reply_to)
        return await self.said(expect, since, chat, thread)

    async def press(self, message: dict[str, Any], ending: str, expect: str, *,
                    chat: int | None = None, thread: int | None = None) -> dict[str, Any]:
        await asyncio.sleep(PAUSE)
        since = self.mark(chat, thread)
        self.sandbox.press(self.id, message, self.button(message, ending))
        return await self.said(expect, since, chat, thread)

    def button(self, message: dict[str, Any], ending: str) -> str:
        current = self.sandbox.message(message["chat"]["id"], message["message_id"]) or message
        for label, data in self.sandbox.buttons(current):
            if data.endswith(ending) or label == ending:
                return data
        raise LookupError(f"no button {ending!r}")


async def tour(sandbox: FakeTelegram, say: Callable[[str], Awaitable[None]]) -> None:
    """One product complaint through the rule book, as the people would do it."""
    sales, manager, desk = Actor(sandbox, 20002), Actor(sandbox, 20001), Actor(sandbox, 30002)
    production, purchasing = (Actor(sandbox, ANSWERERS["production"][0]),
                              Actor(sandbox, ANSWERERS["purchasing"][0]))
    await say("filing")
    step = await sales.say("/product", "第 1/8 步")
    step = await sales.press(step, ":keep", "第 2/8 步")
    await sales.say("永輝超市", "第 3/8 步")
    step = await sales.say("昨天", "第 4/8 步")
    step = await sales.press(step, "輝煌", "第 5/8 步")
    await sales.say("500ml×20箱", "第 6/8 步")
    step = await sales.say("瓶蓋漏液，整箱受潮", "第 7/8 步")
    summary = await sales.press(step, "退貨", "請確認")
    since = manager.mark()
    await sales.press(summary, ":submit", "審批")
    await say("approval")
    request = await manager.said("待你審批", since)
    since_group = desk.mark(WORKGROUP)
    await manager.press(request, ":y", "已批准")
    card = await desk.said("產品質量投訴", since_group, WORKGROUP)
    thread = card.get("message_thread_id")
    complaint = desk.button(card, ":accept:order_desk").split(":")[1]

    await say("accept")
    await desk.press(card, ":accept:order_desk", "已於", chat=WORKGROUP, thread=thread)
    await sandbox.wait_for(lambda: _offers(sandbox, card, ":publish_process:order_desk"), 30)
    prompt = await desk.press(card, ":publish_process:order_desk", "工藝流程信息",
                              chat=WORKGROUP, thread=thread)
    picker = await desk.say("注塑→灌裝→封蓋；批次 B-1120", "勾選", chat=WORKGROUP,
                            thread=thread, reply_to=prompt["message_id"])
    for tick in ("t0", "t1"):  # 生產部 and 採購部
        await asyncio.sleep(PAUSE)
        sandbox.press(desk.id, picker, f"pk:{complaint}:{tick}")
    await desk.press(picker, f"pk:{complaint}:ok", "已交給", chat=WORKGROUP, thread=thread)

    await say("answers")
    await answer(sandbox, production, card, thread, "production", "原料批次含雜質", "同意退貨")
    await say("late")  # 採購部 lets its deadline pass: the warning, the breach, the fine
    await purchasing.said("向你記罰款", 0, timeout=600)
    await answer(sandbox, purchasing, card, thread, "purchasing", "供應商來料不良", "向供應商索賠")
    await say("verdict")
    outcome = await sales.said("有答覆了", 0, timeout=60)
    await sales.press(outcome, ":ok", "已結案")
    await say("done")


def _offers(sandbox: FakeTelegram, card: dict[str, Any], ending: str) -> bool:
    current = sandbox.message(card["chat"]["id"], card["message_id"])
    return current is not None and any(d.endswith(ending) for _, d in sandbox.buttons(current))


async def answer(sandbox: FakeTelegram, person: Actor, card: dict[str, Any], thread: int | None,
                 department: str, assessment: str, opinion: str) -> None:
    await sandbox.wait_for(lambda: _offers(sandbox, card, f":answer:{department}"), 60)
    prompt = await person.press(card, f":answer:{department}", "質量鑒定結果", chat=WORKGROUP,
                                thread=thread)
    ask = await person.say(assessment, "處理意見", chat=WORKGROUP, thread=thread,
                           reply_to=prompt["message_id"])
    await person.say(opinion, "已記錄", chat=WORKGROUP, thread=thread, reply_to=ask["message_id"])


class Demo:
    """The sandbox, the bot and the page, in one event loop."""

    def __init__(self, folder: Path, *, port: int = 8080, speed: float = 60,
                 language: str = "zh-Hant") -> None:
        self.folder, self.port, self.speed, self.language = folder, port, speed, language
        self.sandbox = FakeTelegram(token=TOKEN, bot_username="complaint_demo_bot",
                                    private_rate=None)
        self.runtime: Any = None
        self.settings: Settings | None = None
        self.texts = Texts(language)
        self.tour_task: asyncio.Task[None] | None = None
        self.tour_state = ""  # the tour's current part ("" before, "done" after)
        self._runner: Any = None

    async def start(self) -> str:
        from aiohttp import web

        from bot.app import Runtime

        await self.sandbox.start()
        settings = demo_settings(self.sandbox.base_url, self.sandbox.base_file_url,
                                 self.folder / "demo.db", self.speed)
        self.settings = settings
        for member in settings.members:
            self.sandbox.add_user(member.id, member.name, language_code="zh-hant")
        self.sandbox.add_group(WORKGROUP, "輝煌同仁群", is_forum=True)
        self.runtime = Runtime(settings)
        await self.runtime.start()
        app = web.Application()
        app.router.add_get("/", self._page)
        app.router.add_get("/api/world", self._world)
        app.router.add_post("/api/send", self._send)
        app.router.add_post("/api/press", self._press)
        app.router.add_post("/api/tour", self._tour)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()
        self.port = self._runner.addresses[0][1]
        return f"http://127.0.0.1:{self.port}/"

    async def stop(self) -> None:
        if self.tour_task is not None:
            self.tour_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self.tour_task
        if self._runner is not None:
            await self._runner.cleanup()
        if self.runtime is not None:
            await self.runtime.stop()
        await self.sandbox.stop()

    def _word(self, name: str, **params: object) -> str:
        return self.texts.plain(self.language, f"demo.{name}", **params)

    # --- the page's API -------------------------------------------------------------------

    async def _page(self, _request: Any) -> Any:
        from aiohttp import web

        return web.Response(text=PAGE.read_text(encoding="utf-8"), content_type="text/html")

    def _messages(self, chat: int) -> list[dict[str, Any]]:
        shown = []
        for message in self.sandbox.messages(chat):
            sender = message.get("from", {})
            shown.append({
                "id": message["message_id"], "thread": message.get("message_thread_id"),
                "from": sender.get("first_name", ""), "bot": sender.get("id") == self.sandbox.bot_id,
                "text": message.get("text") or message.get("caption") or self._word(
                    "media", kind=next((k for k in ("photo", "document", "sticker")
                                        if k in message), "")),
                "buttons": [[{"text": b.get("text", ""), "data": b.get("callback_data"),
                              "url": b.get("url")} for b in row]
                            for row in message.get("reply_markup", {}).get("inline_keyboard", [])]})
        return shown

    async def _world(self, _request: Any) -> Any:
        from aiohttp import web

        assert self.settings is not None
        departments = {uid: d.name for d in self.settings.departments
                       for uid in [d.head, *d.members] if uid}
        people = [{"id": m.id, "name": m.name, "department": departments.get(m.id, ""),
                   "messages": self._messages(m.id)} for m in self.settings.members]
        topics = [{"id": tid, "name": topic.get("name", "")}
                  for tid, topic in self.sandbox.topics(WORKGROUP).items()]
        late = {"speed": self.speed} if self.tour_state == "late" else {}
        state = self.tour_state and self._word(f"tour_{self.tour_state}", **late)
        words = {w: self._word(w) for w in WORDS}
        words["intro"] = self._word("intro", speed=self.speed)
        return web.json_response({
            "words": words, "people": people,
            "workgroup": {"id": WORKGROUP, "messages": self._messages(WORKGROUP), "topics": topics},
            "tour": {"running": self.tour_task is not None and not self.tour_task.done(),
                     "state": state}})

    async def _send(self, request: Any) -> Any:
        from aiohttp import web

        if request.content_type != "application/json":  # not a form another page posted
            return web.json_response({"ok": False}, status=415)
        body = await request.json()
        text = str(body.get("text", "")).strip()[:4096]
        if text:
            self.sandbox.send_text(int(body["user"]), int(body["chat"]), text,
                                   thread_id=body.get("thread") or None)
        return web.json_response({"ok": True})

    async def _press(self, request: Any) -> Any:
        from aiohttp import web

        if request.content_type != "application/json":
            return web.json_response({"ok": False}, status=415)
        body = await request.json()
        try:
            self.sandbox.press(int(body["user"]), (int(body["chat"]), int(body["message"])),
                               str(body["data"]))
        except AssertionError:  # the button is gone (the message was redrawn)
            return web.json_response({"ok": False}, status=409)
        return web.json_response({"ok": True})

    async def _tour(self, request: Any) -> Any:
        from aiohttp import web

        if request.content_type != "application/json":
            return web.json_response({"ok": False}, status=415)
        if self.tour_task is None or self.tour_task.done():
            self.tour_task = asyncio.create_task(self._play())
        return web.json_response({"ok": True})

    async def _play(self) -> None:
        async def say(state: str) -> None:
            self.tour_state = state

        try:
            await tour(self.sandbox, say)
        except Exception:
            log.exception("the tour stopped (someone pressed or typed in its way?)")
            self.tour_state = "stopped"


async def serve(port: int, speed: float) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    with tempfile.TemporaryDirectory(prefix="complaint-bot-demo-") as folder:
        demo = Demo(Path(folder), port=port, speed=speed)
        url = await demo.start()
        print(f"\nThe demo is running: open {url} in your browser (Ctrl-C stops it).\n",
              flush=True)
        try:
            await stop.wait()
        finally:
            await demo.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.demo", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--speed", type=float, default=60,
                        help="how much faster the deadlines run (60: 2 hours take 2 minutes)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    asyncio.run(serve(args.port, args.speed))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
