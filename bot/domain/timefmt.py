"""How the rule book writes times: 投訴時間 is `_年_月_日_時_分`."""

from __future__ import annotations

from datetime import datetime


def complaint_time(moment: datetime) -> str:
    """2026年11月27日09時05分 — the template's year/month/day/hour/minute, zero-padded."""
    return f"{moment.year}年{moment.month:02d}月{moment.day:02d}日{moment.hour:02d}時{moment.minute:02d}分"


def complaint_number(prefix: str, year: int, sequence: int) -> str:
    """P-2026-0001: kind, year, and the running number within that year."""
    return f"{prefix}-{year}-{sequence:04d}"
