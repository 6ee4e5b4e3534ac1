"""Daily-sheet benchmark (rule 一.4): how long the 17:30 compile, HR's 確認 and /sheet take
on a busy database, and what HR receives.

    python -m bench.sheet [--background 100000] [--cases 200]

Seeds a fresh SQLite file (migrated by Alembic) through the ORM: --background closed,
non-compensation complaints (what a year or two of history looks like) and --cases
answered compensation / return / exchange complaints, each with two departments'
answers. Then, in this process with the clock held at 17:30 on a working day:

1. `Sheets.compile_due()` — the query for the day's cases, one ChainItem and its HR step
   with deadline rows per case, the summary message and the XLSX, one transaction;
2. `Sheets.press(HR, confirm)` — HR signs every row and each head is asked once;
3. `Sheets.show()` — /sheet: the sheet and its XLSX as they stand;
4. the sweep's check when the sheet is already done (it runs every sweep_seconds).

It prints the times, the outbox rows queued, the longest message (Telegram takes 4096
characters) and the XLSX size, and re-opens the XLSX to count its rows. Figures are
printed, never asserted. There is no Telegram here, so no bare-PTB ratio: the figures are
the bot's own work per day.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from openpyxl import load_workbook  # noqa: E402
from sqlalchemy import func, insert, select  # noqa: E402

from bot.clock import to_db  # noqa: E402
from bot.texts import visible_length  # noqa: E402
from tests.e2e.conftest import FORUM, HR_HEAD, SALES, TOKEN, config_data  # noqa: E402

# Thursday 2026-11-26, 17:30:05 in Shanghai: a working day, just after compile_at.
AT = datetime(2026, 11, 26, 9, 30, 5, tzinfo=UTC)


class FixedClock:
    def now(self) -> datetime:
        return AT


async def seed(runtime: object, background: int, cases: int) -> None:
    from bot.app import Runtime
    from bot.services.people import People
    from bot.store.db import migrate
    from bot.store.models import Answer, Complaint

    assert isinstance(runtime, Runtime)
    await migrate(runtime.settings.database.url)
    await People(runtime.ctx).seed_from_config()
    filed = to_db(AT)
    answers = {"complainant": "王小明", "customer": "永輝超市", "ship_date": "2026-11-20",
               "brand": "輝煌", "spec_qty": "500ml×20箱", "problem": "瓶蓋漏液，整箱受潮",
               "request": "退貨"}
    async with runtime.ctx.sessions() as session, session.begin():
        chunk = 5000
        for start in range(0, background, chunk):
            await session.execute(insert(Complaint), [
                {"number": f"P-2025-{start + i + 1:06d}", "kind": "product", "status": "closed",
                 "complainant_id": SALES, "department_key": "sales", "answers": answers,
                 "photos": [], "is_crx": False, "filed_at": filed, "round": 0}
                for i in range(min(chunk, background - start))])
        await session.execute(insert(Complaint), [
            {"number": f"P-2026-{i + 1:04d}", "kind": "product", "status": "answered",
             "complainant_id": SALES, "department_key": "sales",
             "answers": {**answers, "customer": f"客戶 {i + 1}"}, "photos": [], "is_crx": True,
             "filed_at": filed, "round": 0} for i in range(cases)])
        ids = list(await session.scalars(select(Complaint.id).where(Complaint.is_crx.is_(True))))
        await session.execute(insert(Answer), [
            {"complaint_id": cid, "step_key": "answer", "department_key": dept, "round": 0,
             "author_id": SALES, "parts": {"assessment": "封蓋機壓力不足", "opinion": "同意退貨"},
             "attachments": [], "created_at": filed}
            for cid in ids for dept in ("production", "purchasing")])


async def timed(label: str, figures: dict[str, float], work: object) -> object:
    start = time.perf_counter()
    result = await work  # type: ignore[misc]
    figures[label] = time.perf_counter() - start
    return result


async def run(args: argparse.Namespace) -> None:
    from bot.app import Runtime
    from bot.config import parse_settings
    from bot.services.sheets import Sheets
    from bot.store.models import OutboxMessage

    with tempfile.TemporaryDirectory() as work:
        data = config_data(f"sqlite+aiosqlite:///{Path(work) / 'bench.db'}", FORUM)
        runtime = Runtime(parse_settings(data, token=TOKEN), clock=FixedClock())
        try:
            t = time.perf_counter()
            await seed(runtime, args.background, args.cases)
            seeded = time.perf_counter() - t
            sheets = Sheets(runtime.ctx)
            figures: dict[str, float] = {}
            sheet = await timed("compile", figures, sheets.compile_due())
            assert sheet is not None, "nothing compiled: is AT past compile_at on a working day?"
            async with runtime.ctx.sessions() as session:
                queued = await session.scalar(select(func.count()).select_from(OutboxMessage))
                texts = [m.payload.get("text") or m.payload.get("caption") or ""
                         for m in await session.scalars(select(OutboxMessage))]
                document = next(m for m in await session.scalars(select(OutboxMessage))
                                if m.kind == "document")
            import base64

            xlsx = base64.b64decode(document.payload["data"])
            rows = load_workbook(BytesIO(xlsx)).worksheets[0].max_row - 2
            await timed("confirm", figures, sheets.press(HR_HEAD, sheet.id, "c"))
            async with runtime.ctx.sessions() as session:
                after_confirm = await session.scalar(select(func.count()).select_from(OutboxMessage))
            await timed("show", figures, sheets.show(HR_HEAD, []))
            checks = []
            for _ in range(20):
                start = time.perf_counter()
                await sheets.compile_due()
                checks.append(time.perf_counter() - start)
        finally:
            await runtime.dispose_engines()
    print(f"daily sheet: {args.cases} cases among {args.background:,} older complaints "
          f"(seeded in {seeded:.1f} s)")
    print(f"  compile at 17:30           {figures['compile'] * 1000:8.1f} ms  "
          f"({queued} outbox rows: summary, XLSX, card redraws)")
    print(f"  XLSX                       {len(xlsx) / 1024:8.1f} KiB, {rows} rows re-read")
    print(f"  longest message            {max(visible_length(t) for t in texts):8d} characters "
          "(Telegram: 4096)")
    print(f"  HR confirms                {figures['confirm'] * 1000:8.1f} ms  "
          f"({after_confirm - queued} more rows: heads asked, complainants told, cards)")
    print(f"  /sheet                     {figures['show'] * 1000:8.1f} ms")
    print(f"  sweep check, sheet done    {statistics.median(checks) * 1000:8.2f} ms (median of 20)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.sheet", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--background", type=int, default=100_000)
    parser.add_argument("--cases", type=int, default=200)
    asyncio.run(run(parser.parse_args(argv)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
