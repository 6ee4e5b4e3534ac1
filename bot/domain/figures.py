"""Small statistics for the monthly analysis report (客戶投訴分析報告表): the median and the
90th percentile of durations, shares, and change against the previous month. Pure
functions over numbers, so the report's figures are the same wherever they are shown."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass


def percentile(values: Sequence[float], share: float) -> float | None:
    """The nearest-rank percentile (`share` 0.5: the median of an odd count is its middle
    value; no interpolation, so every figure is one that happened). None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(share * len(ordered)))
    return ordered[rank - 1]


def rate(part: int, whole: int) -> float | None:
    """part / whole as a fraction (None when there is nothing to divide)."""
    return part / whole if whole else None


@dataclass(frozen=True)
class Timing:
    """How long one step took across a month's complaints, against its deadline."""

    key: str  # the step's key, or "close" (posted → closed)
    count: int  # steps done
    median_minutes: float | None
    p90_minutes: float | None
    in_time: int  # done by their due time
    deadline_minutes: float | None  # the rule book's (or config's) deadline, for the reader

    @property
    def in_time_rate(self) -> float | None:
        return rate(self.in_time, self.count)


def timing(key: str, minutes: Sequence[float], in_time: int,
           deadline_minutes: float | None) -> Timing:
    return Timing(key, len(minutes), percentile(minutes, 0.5), percentile(minutes, 0.9),
                  in_time, deadline_minutes)


def change(now: float | None, before: float | None) -> float | None:
    """now − before, None when either is unknown."""
    return None if now is None or before is None else now - before
