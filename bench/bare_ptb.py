"""A bare python-telegram-bot bot, the yardstick for bench/deadlines.py and bench/edge.py.

ApplicationBuilder's defaults (no rate limiter, no database, updates handled one at a time),
two handlers:

- /ping answers "pong" (bench/deadlines.py);
- any other text in a private chat (commands included) is answered with one message of the
  size of a form question of the complaint bot: the text echoed in 「」, a question line and
  two inline buttons, HTML (bench/edge.py). Its buttons do nothing.

It polls whatever Bot API server it is given (the benchmarks give it the fake server of
bot/sandbox) and says on stderr when polling has started.

    python -m bench.bare_ptb --base-url http://127.0.0.1:PORT/bot --token 123456:TEST-TOKEN
"""

from __future__ import annotations

import argparse
import asyncio
import html
import signal
import sys

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.ext import ApplicationBuilder, CommandHandler, ContextTypes, MessageHandler, filters

READY = "bare PTB bot is polling"
ECHO_MAX = 40  # characters of the user's text echoed back (bench/edge.py checks them)
# About a form question of the complaint bot: 40-75 characters of text, two buttons.
QUESTION = "下一步 · 請輸入下一項內容，例如 2026-11-20、2026年11月20日、昨天。"
KEYBOARD = InlineKeyboardMarkup([[InlineKeyboardButton("◀️ 上一步", callback_data="e:back"),
                                  InlineKeyboardButton("✖️ 取消", callback_data="e:cancel")]])


def echo_text(said: str) -> str:
    """The reply to `said` (HTML): bench/edge.py finds 「said[:ECHO_MAX]」 in it."""
    return f"收到「{html.escape(said[:ECHO_MAX], quote=False)}」。\n{QUESTION}"


async def ping(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
    if update.effective_message is not None:
        await update.effective_message.reply_text("pong")


async def echo(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    if message is not None and message.text is not None:
        await message.reply_text(echo_text(message.text), parse_mode=ParseMode.HTML,
                                 reply_markup=KEYBOARD)


async def serve(base_url: str, token: str, poll_timeout: int) -> None:
    app = ApplicationBuilder().token(token).base_url(base_url).build()
    app.add_handler(CommandHandler("ping", ping))  # first: /ping is not echoed
    app.add_handler(MessageHandler(filters.ChatType.PRIVATE & filters.TEXT, echo))
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
