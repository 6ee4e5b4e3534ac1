"""Deadlines of the rule book's steps (rules 一.2, 一.3, 一.5), their warnings, and which
breaches are fined — as data, with the rule book's defaults and config overrides.

A deadline is fixed when its clock starts (the due time is stored with the step); a later
change of config applies to steps started after it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from bot.domain.calendar import WorkingCalendar
from bot.domain.chains import CHAINS
from bot.domain.fields import ComplaintKind
from bot.domain.workflow import ESCALATION_STEP, REVISIT_STEP, ROUND_STEPS, STEPS

# The config section for a later round's answers (an appeal's, a reopening's), whatever
# the kind.
ESCALATION = "escalation"


@dataclass(frozen=True)
class Deadline:
    duration: timedelta
    warn_before: tuple[timedelta, ...]  # warnings this long (in working time) before the due time
    fines: bool  # a breach creates a fine (rule 一.5)


def _m(*minutes: float) -> tuple[timedelta, ...]:
    return tuple(timedelta(minutes=m) for m in minutes)


# The warnings the rule book leaves to us: enough notice to act, not a flood.
DEFAULT_WARNINGS: dict[str, tuple[timedelta, ...]] = {
    "accept": _m(2),  # 5-minute step
    "publish_process": _m(10),  # 30-minute step
    "route": _m(10),  # 30-minute step
    "answer": _m(30, 10),  # 2-hour step
    "plan": _m(30, 10),  # 2-hour step
    "notify": _m(3),  # 10-minute step
    ESCALATION_STEP.key: _m(30, 10),
    REVISIT_STEP.key: _m(30, 10),
}
# Rule 一.5 fines the department that has not replied within 2 hours: the answer and the plan.
DEFAULT_FINED = frozenset({"answer", "plan"})


def _defaults() -> dict[tuple[str, str], Deadline]:
    rules = {}
    for kind, steps in STEPS.items():
        for step in steps:
            rules[(kind.value, step.key)] = Deadline(step.deadline, DEFAULT_WARNINGS[step.key],
                                                     step.key in DEFAULT_FINED)
    for step in ROUND_STEPS:
        rules[(ESCALATION, step.key)] = Deadline(step.deadline, DEFAULT_WARNINGS[step.key], False)
    # Rules 一.4 and 三: the sign-off sheet's and the freight slip's steps (never fined).
    for chain in CHAINS.values():
        for chain_step in chain.steps:
            rules[(chain.key, chain_step.key)] = Deadline(chain_step.deadline,
                                                          chain_step.warn_before, False)
    return rules


DEFAULTS = _defaults()
ROUND_STEP_KEYS = frozenset(step.key for step in ROUND_STEPS)


def check_overrides(sections: Mapping[str, set[str]]) -> None:
    """Raise ValueError naming any [deadlines.<kind>.<step>] that the rule book has no step for."""
    for kind, steps in sections.items():
        known = {s for k, s in DEFAULTS if k == kind}
        if not known:
            raise ValueError(f"deadlines.{kind}: unknown; use product, service, escalation, "
                             f"{', '.join(CHAINS)}")
        for step in steps - known:
            raise ValueError(f"deadlines.{kind}.{step}: no such step; known: {', '.join(sorted(known))}")


@dataclass(frozen=True)
class StepTimes:
    due_at: datetime
    warnings: tuple[tuple[timedelta, datetime], ...]  # (how long before, when)


@dataclass(frozen=True)
class SlaPolicy:
    calendar: WorkingCalendar
    rules: Mapping[tuple[str, str], Deadline]

    @classmethod
    def build(cls, calendar: WorkingCalendar,
              overrides: Mapping[str, Mapping[str, Mapping[str, object]]] | None = None) -> SlaPolicy:
        """Rule-book defaults, with {kind: {step: {minutes, warn_before, fines}}} on top."""
        rules = dict(DEFAULTS)
        for kind, steps in (overrides or {}).items():
            for step, values in steps.items():
                rule = rules[(kind, step)]
                if values.get("minutes") is not None:
                    rule = replace(rule, duration=timedelta(minutes=float(values["minutes"])))  # type: ignore[arg-type]
                if values.get("warn_before") is not None:
                    rule = replace(rule, warn_before=_m(*values["warn_before"]))  # type: ignore[misc]
                if values.get("fines") is not None:
                    rule = replace(rule, fines=bool(values["fines"]))
                rules[(kind, step)] = rule
        return cls(calendar, rules)

    def rule(self, kind: ComplaintKind, step_key: str) -> Deadline:
        section = ESCALATION if step_key in ROUND_STEP_KEYS else kind.value
        return self.rules[(section, step_key)]

    def times(self, kind: ComplaintKind, step_key: str, started_at: datetime) -> StepTimes:
        """When the step falls due, and when to warn: both measured in working time from the
        start, so a warning '10 minutes before' a 09:25 deadline that began at 17:55 the day
        before comes at 09:15."""
        return self._times(self.rule(kind, step_key), started_at)

    def chain_times(self, chain: str, step_key: str, started_at: datetime) -> StepTimes:
        """The same for a step of a chain (the sheet, a freight slip)."""
        return self._times(self.rules[(chain, step_key)], started_at)

    def _times(self, rule: Deadline, started_at: datetime) -> StepTimes:
        due = self.calendar.add(started_at, rule.duration)
        warnings = tuple((before, self.calendar.add(started_at, rule.duration - before))
                         for before in sorted(set(rule.warn_before), reverse=True)
                         if before < rule.duration)
        return StepTimes(due, warnings)
