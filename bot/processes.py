"""Which bot process holds a claim, and whether that process is still alive.

An outbox row being sent carries its sender's name ("host/pid/start"). When a bot process
is killed, the next one on the same machine sees at once that the name's process is gone
(or is another process that reused the pid) and sends the row again, instead of waiting
for the row's lease to run out. A process on another machine is only known to be gone
when its lease runs out.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path


def _stat(pid: int) -> list[str] | None:
    """/proc/<pid>/stat after the command's parentheses (Linux); None elsewhere."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None


def _start_ticks(pid: int) -> str | None:
    """When the process started (clock ticks since boot), to tell it from a later process
    with the same pid."""
    stat = _stat(pid)
    return stat[19] if stat else None  # field 22 of proc(5)


def this_process() -> str:
    pid = os.getpid()
    return f"{socket.gethostname()}/{pid}/{_start_ticks(pid) or ''}"[:120]


def is_gone(owner: str, me: str) -> bool:
    """True when `owner` is certainly not running: on this machine, with no live process
    of that pid and start time. Unknown (another machine, another user's process) → False."""
    host, _, rest = owner.partition("/")
    pid_text, _, started = rest.partition("/")
    if owner == me or host != socket.gethostname() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, and someone else's
        return False
    stat = _stat(pid)
    if stat is None:
        return False
    return stat[0] == "Z" or (bool(started) and stat[19] != started)  # a zombie, or a new process
