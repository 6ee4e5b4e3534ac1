"""The bot, instrumented, for `python -m bench.edge --profile` (diagnosis only).

    python -m bench.edge_probe --out DIR [--cprofile] -- run --config FILE

Runs `python -m bot run --config FILE` in this process, exactly as `python -m bot` would,
after hooking in:

- SQLAlchemy engine events (on every Engine): each statement sent to SQLite (by its first
  word: SELECT, INSERT, UPDATE, DELETE, BEGIN, SAVEPOINT, RELEASE …, and by its text), each
  commit and rollback, counted by the asyncio task that ran it: the inbox poller (updates
  in), the outbox sender's loop and its per-chat tasks, others;
- per update (bot.inbox.Inbox.handle): its kind (typed text, command, button press), its
  chat, the statements and transactions it ran, when it began and ended (time.monotonic,
  the system-wide CLOCK_MONOTONIC the bench reads too, so the bench can split a round trip);
- per delivery (bot.sender.Sender._job: claim, send, settle): the same for one claimed
  batch of outbox rows.

Nothing is counted until SIGUSR1, which (re)starts the window and, with --cprofile, starts
cProfile in the main thread (the event loop's). SIGUSR2 ends the window: the profile goes
to DIR/bot.prof, the counts to DIR/counts.json. The bench sends both around its measured
window, so start-up and warm-up are not in the figures. The hooks wrap bot internals by
name; if one is renamed, its figures are left out (and said so in counts.json), the bot
runs anyway.
"""

from __future__ import annotations

import argparse
import asyncio
import contextvars
import cProfile
import functools
import json
import re
import runpy
import signal
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

TX_EVENTS = ("begin", "commit", "rollback", "savepoint", "release_savepoint", "rollback_savepoint")
_scope: contextvars.ContextVar[Counter[str] | None] = contextvars.ContextVar("edge_probe_scope",
                                                                               default=None)


class Probe:
    def __init__(self, out: Path, profile: bool) -> None:
        self.out = out
        self.profile = profile
        self.profiler: cProfile.Profile | None = None
        self.active = False
        self.started = 0.0
        self.missing: list[str] = []
        self.reset()

    def reset(self) -> None:
        self.statements: Counter[tuple[str, str]] = Counter()  # (task, verb)
        self.texts: Counter[str] = Counter()
        self.tx: Counter[tuple[str, str]] = Counter()  # (task, event)
        self.updates: list[dict[str, Any]] = []
        self.jobs: list[dict[str, Any]] = []

    # --- counting ---------------------------------------------------------------------

    @staticmethod
    def task() -> str:
        try:
            task = asyncio.current_task()
        except RuntimeError:
            return "no loop"
        if task is None:
            return "no task"
        name = task.get_name()
        if name == "inbox-poller":
            return "inbox (updates)"
        if name.startswith("outbox-chat-"):
            return "sender, a private chat's task"
        if re.fullmatch(r"Task-\d+", name):  # unnamed: say which coroutine it runs
            coro = task.get_coro()
            name = getattr(coro, "__qualname__", name)
            side = getattr(getattr(coro, "cr_frame", None), "f_locals", {}).get("side")
            if side is not None:
                name += f" ({getattr(side, 'value', side)})"
        return re.sub(r"\d+", "N", name)

    def statement(self, sql: str) -> None:
        if not self.active:
            return
        verb = sql.lstrip().split(None, 1)[0].upper() if sql.strip() else "?"
        self.statements[self.task(), verb] += 1
        text = re.sub(r"\s+", " ", sql).strip()
        text = re.sub(r"\((?:\?, )+\?\)", "(?, …)", text)
        self.texts[text[:160]] += 1
        scope = _scope.get()
        if scope is not None:
            scope["statements"] += 1
            scope[verb] += 1

    def event(self, name: str) -> None:
        if not self.active:
            return
        self.tx[self.task(), name] += 1
        scope = _scope.get()
        if scope is not None:
            scope[name] += 1

    # --- the window -------------------------------------------------------------------

    def start(self, *_: Any) -> None:
        self.reset()
        self.active = True
        self.started = time.monotonic()
        if self.profile:
            self.profiler = cProfile.Profile()
            self.profiler.enable()

    def stop(self, *_: Any) -> None:
        if self.profiler is not None:
            self.profiler.disable()
            self.profiler.dump_stats(str(self.out / "bot.prof"))
            self.profiler = None
        self.active = False
        self.dump()

    def dump(self) -> None:
        counts = {
            "seconds": time.monotonic() - self.started,
            "statements": [[task, verb, n] for (task, verb), n in self.statements.most_common()],
            "transactions": [[task, name, n] for (task, name), n in self.tx.most_common()],
            "texts": self.texts.most_common(40),
            "updates": self.updates,
            "jobs": self.jobs,
            "missing_hooks": self.missing,
        }
        tmp = self.out / "counts.json.tmp"
        tmp.write_text(json.dumps(counts, ensure_ascii=False), encoding="utf-8")
        tmp.replace(self.out / "counts.json")

    # --- hooks ----------------------------------------------------------------------------

    def install(self) -> None:
        from sqlalchemy import event
        from sqlalchemy.engine import Engine

        def before_cursor_execute(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
            self.statement(statement)

        event.listen(Engine, "before_cursor_execute", before_cursor_execute)
        for name in TX_EVENTS:
            event.listen(Engine, name, functools.partial(self._on_event, name))
        self._wrap_inbox()
        self._wrap_sender()

    def _on_event(self, name: str, *_: Any) -> None:
        self.event(name)

    def _wrap_inbox(self) -> None:
        try:
            from bot.inbox import Inbox
            original = Inbox.handle
        except (ImportError, AttributeError):
            self.missing.append("bot.inbox.Inbox.handle")
            return
        probe = self

        @functools.wraps(original)
        async def handle(inbox: Any, update: Any) -> None:
            scope: Counter[str] = Counter()
            token = _scope.set(scope)
            started = time.monotonic()  # CLOCK_MONOTONIC: the bench's clock too
            try:
                await original(inbox, update)
            finally:
                _scope.reset(token)
                if probe.active:
                    ended = time.monotonic()
                    chat = getattr(getattr(update, "effective_chat", None), "id", None)
                    probe.updates.append({"kind": update_kind(update), "chat": chat,
                                          "start": started, "end": ended,
                                          "seconds": ended - started, **scope})

        Inbox.handle = handle  # type: ignore[method-assign,assignment]

    def _wrap_sender(self) -> None:
        try:
            from bot.sender import Sender
            original = Sender._job
        except (ImportError, AttributeError):
            self.missing.append("bot.sender.Sender._job")
            return
        probe = self

        @functools.wraps(original)
        async def job(sender: Any, items: Any, deliver: Any, **kwargs: Any) -> Any:
            scope: Counter[str] = Counter()
            token = _scope.set(scope)
            started = time.monotonic()
            try:
                return await original(sender, items, deliver, **kwargs)
            finally:
                _scope.reset(token)
                if probe.active:
                    ended = time.monotonic()
                    side = getattr(kwargs.get("side"), "value", str(kwargs.get("side")))
                    probe.jobs.append({"side": side, "rows": len(items),
                                       "chat": kwargs.get("target"), "start": started,
                                       "end": ended, "seconds": ended - started, **scope})

        Sender._job = job  # type: ignore[method-assign,assignment]


def update_kind(update: Any) -> str:
    if getattr(update, "callback_query", None) is not None:
        return "button"
    message = getattr(update, "effective_message", None)
    text = getattr(message, "text", None)
    if text is None:
        return "other"
    return "command" if text.startswith("/") else "text"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.edge_probe", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True, help="where bot.prof, counts.json go")
    parser.add_argument("--cprofile", action="store_true", help="cProfile the window")
    parser.add_argument("bot_args", nargs=argparse.REMAINDER,
                        help="-- then the arguments of python -m bot")
    args = parser.parse_args(argv)
    bot_args = args.bot_args[1:] if args.bot_args[:1] == ["--"] else args.bot_args
    probe = Probe(args.out, args.cprofile)
    probe.install()
    signal.signal(signal.SIGUSR1, probe.start)
    signal.signal(signal.SIGUSR2, probe.stop)
    sys.argv = ["bot", *bot_args]
    try:
        runpy.run_module("bot", run_name="__main__", alter_sys=True)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
