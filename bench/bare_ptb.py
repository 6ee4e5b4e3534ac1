"""A bare python-telegram-bot bot, the yardstick for bench/deadlines.py.

ApplicationBuilder's defaults (no rate limiter, no database), one CommandHandler: /ping
answers "pong". It polls whatever Bot API server it is given (the benchmark gives it the
fake server of tests/fakebot) and says on stderr when polling has started.

    python -m bench.bare_ptb --base-url http://127.0.0.1:PORT/bot --token 123456:TEST-TOKEN
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys

from telegram import Update
from telegram.ext import ApplicationBuilder, CommandHandler, ContextTypes

READY = "bare PTB bot is polling"


async def ping(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
    if update.effective_message is not None:
        await update.effective_message.reply_text("pong")


async def serve(base_url: str, token: str, poll_timeout: int) -> None:
    app = ApplicationBuilder().token(token).base_url(base_url).build()
    app.add_handler(CommandHandler("ping", ping))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await app.initialize()
    await app.start()
    assert app.updater is not None
    await app.updater.start_polling(poll_interval=0.0, timeout=poll_timeout,
                                    allowed_updates=Update.ALL_TYPES)
    print(READY, file=sys.stderr, flush=True)
    try:
        await stop.wait()
    finally:
        await app.updater.stop()
        await app.stop()
        await app.shutdown()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bare_ptb", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base-url", required=True, help="Bot API base url, ending in /bot")
    parser.add_argument("--token", required=True)
    parser.add_argument("--poll-timeout", type=int, default=10,
                        help="getUpdates long-poll seconds (the bot's default is 10)")
    args = parser.parse_args(argv)
    asyncio.run(serve(args.base_url, args.token, args.poll_timeout))
    return 0


if __name__ == "__main__":
    sys.exit(main())
