"""Prometheus metrics (prometheus-client), served at GET /metrics beside /healthz when
`[web] listen` is set (off otherwise).

One registry per running bot (tests run several in one process). What is counted: updates
handled and how long each took; the outbox's waiting rows and how long a message waited
before Telegram took it; Telegram's 429s; deadline moments fired and how late; fines levied.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

# Seconds: from a handler's milliseconds to a delivery held up by a flood wait.
BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300)


def _registry() -> CollectorRegistry:
    return CollectorRegistry(auto_describe=True)


@dataclass
class Metrics:
    registry: CollectorRegistry = field(default_factory=_registry)

    def __post_init__(self) -> None:
        r = self.registry
        self.updates = Counter("complaint_bot_updates", "Updates handled (each once)",
                               ["outcome"], registry=r)
        self.update_seconds = Histogram("complaint_bot_update_seconds",
                                        "Time to handle an update, commit included",
                                        buckets=BUCKETS, registry=r)
        self.outbox_waiting = Gauge("complaint_bot_outbox_waiting",
                                    "Outbox rows waiting to be sent (when last asked)",
                                    registry=r)
        self.delivery_seconds = Histogram("complaint_bot_delivery_seconds",
                                          "From a message queued to Telegram taking it",
                                          buckets=BUCKETS, registry=r)
        self.flood_waits = Counter("complaint_bot_telegram_429",
                                   "Telegram's 'too many requests' answers", registry=r)
        self.deadlines = Counter("complaint_bot_deadlines_fired",
                                 "Deadline moments acted on (warnings, breaches, clocks)",
                                 ["kind"], registry=r)
        self.lateness_seconds = Histogram("complaint_bot_deadline_lateness_seconds",
                                          "How long after its moment a deadline was acted on",
                                          buckets=BUCKETS, registry=r)
        self.fines = Counter("complaint_bot_fines_levied", "Fines levied", registry=r)

    def exposition(self) -> bytes:
        """The text format Prometheus scrapes."""
        return generate_latest(self.registry)
