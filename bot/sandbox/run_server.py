"""Run the fake Bot API server on its own, e.g. to point a manually started bot at it.

    python -m bot.sandbox.run_server --port 8081 --user 1001:Alice --group=-100777:Desk \\
        --state /tmp/fake-state.json

Prints base_url / base_file_url; on Ctrl-C writes violations, errors and all chats'
messages to --state (JSON) if given. Scripted users need the Python API (FakeTelegram).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
from pathlib import Path

from .server import FakeTelegram


async def serve(args: argparse.Namespace) -> None:
    fake = FakeTelegram(token=args.token, bot_username=args.username, port=args.port)
    for spec in args.user:
        user_id, name = spec.split(":", 1)
        fake.add_user(int(user_id), name)
    for spec in args.group:
        chat_id, title = spec.split(":", 1)
        fake.add_group(int(chat_id), title, is_forum=not args.no_forum)
    await fake.start()
    print(f"base_url={fake.base_url} base_file_url={fake.base_file_url}", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await fake.stop()
        if args.state:
            state = {"violations": fake.violations, "errors": fake.errors,
                     "chats": {cid: fake.messages(cid) for cid in fake.chats}}
            Path(args.state).write_text(json.dumps(state, default=repr, ensure_ascii=False,
                                                   indent=1), encoding="utf-8")
        print(f"violations: {fake.violations}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--token", default="123456:TEST-TOKEN")
    parser.add_argument("--username", default="complaint_test_bot")
    parser.add_argument("--user", action="append", default=[], help="ID:FIRST_NAME")
    parser.add_argument("--group", action="append", default=[], help="-ID:TITLE")
    parser.add_argument("--no-forum", action="store_true", help="groups are not forums")
    parser.add_argument("--state", help="write the final state to this JSON file")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(parser.parse_args()))


if __name__ == "__main__":
    main()
