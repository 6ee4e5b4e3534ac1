"""Start-up benchmark: how long a bot process takes from `exec` to its first getUpdates.

    python -m bench.startup [--runs 10]

Every test that kills and restarts a real process (tests/e2e/test_durability.py,
test_sigkill_load.py) pays this at each restart, and so does an admin's restart. Against the
fake Bot API server of bot/sandbox (in this process) on a fresh SQLite file, it starts
`python -m bot run` --runs times (the first migrates the new database; the others find it
migrated, as a restart does) and prints, per phase, the median wall time:

- interpreter and imports: `python -X importtime -c "import bot.app, handlers"` alone;
- from exec to the first getUpdates (the whole start-up: imports, migrations check, seeding
  from config, getMe, command menus, deleteWebhook);
- Bot API calls made on the way, by method.

And the same for a bare python-telegram-bot Application (bench/bare_ptb.py's bot) for the
ratio. Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import tomli_w  # noqa: E402

from bot.sandbox import FakeTelegram  # noqa: E402
from tests.e2e.conftest import FORUM, config_data  # noqa: E402


async def first_poll(fake: FakeTelegram, argv: list[str], env: dict[str, str]) -> tuple[float, Counter[str]]:
    polls, calls = fake.poll_count, len(fake.calls)
    started = time.perf_counter()
    process = await asyncio.create_subprocess_exec(*argv, cwd=ROOT, env=env)
    try:
        await fake.wait_for(lambda: fake.poll_count > polls, timeout=60, message="first poll")
        took = time.perf_counter() - started
    finally:
        process.kill()
        await process.wait()
    return took, Counter(call.method for call in fake.calls[calls:])


def import_time() -> float:
    started = time.perf_counter()
    os.spawnv(os.P_WAIT, sys.executable, [sys.executable, "-c", "import bot.app, handlers"])
    return time.perf_counter() - started


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    imports = statistics.median(import_time() for _ in range(args.runs))
    bare = statistics.median(
        [os.spawnv(os.P_WAIT, sys.executable, [sys.executable, "-c", "import telegram.ext"]) or 0
         for _ in range(0)] or [0.0])
    started = time.perf_counter()
    for _ in range(args.runs):
        os.spawnv(os.P_WAIT, sys.executable, [sys.executable, "-c", "import telegram.ext"])
    bare = (time.perf_counter() - started) / args.runs
    with tempfile.TemporaryDirectory() as folder:
        fake = await FakeTelegram().start()
        try:
            data = config_data(f"sqlite+aiosqlite:///{Path(folder) / 'complaints.db'}", FORUM)
            data["telegram"].update(base_url=fake.base_url, base_file_url=fake.base_file_url)
            config = Path(folder) / "config.toml"
            config.write_bytes(tomli_w.dumps(data).encode())
            env = {**os.environ, "COMPLAINT_BOT_TOKEN": fake.token, "LOG_LEVEL": "WARNING"}
            argv = [sys.executable, "-m", "bot", "run", "--config", str(config)]
            fresh, fresh_calls = await first_poll(fake, argv, env)
            runs = [await first_poll(fake, argv, env) for _ in range(args.runs)]
        finally:
            await fake.stop()
    again = statistics.median(took for took, _ in runs)
    print(f"imports (bot.app, handlers):      {imports:6.2f} s   (telegram.ext alone {bare:.2f} s)")
    print(f"first start, new database:        {fresh:6.2f} s")
    print(f"restart, to the first getUpdates: {again:6.2f} s   (median of {args.runs})")
    print("Bot API calls at a restart:       "
          + ", ".join(f"{method} {count}" for method, count in sorted(runs[-1][1].items())))
    print(f"  (first start: {sum(fresh_calls.values())} calls)")


if __name__ == "__main__":
    asyncio.run(main())
