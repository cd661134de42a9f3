"""Process groups and process liveness (POSIX; start times from /proc on Linux).

A child started with `start_new_session=True` leads its own group, whose id is its pid, so
`signal_group(pid, ...)` reaches everything it started. A pid alone can be reused, so a claim
recorded with a time is alive only while a process with that id started no later than it.
"""

from __future__ import annotations

import os
import signal
import time

CLOCK_SLACK_SECONDS = 2.0  # /proc start times are in clock ticks; allow for rounding
_POLL_S = 0.05


def signal_group(pgid: int, sig: signal.Signals) -> None:
    """Send `sig` to the group; a group that is gone (or not ours) is left alone."""
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def group_alive(pgid: int) -> bool:
    """Whether any process of the group still runs (and may be signalled by us)."""
    try:
        os.killpg(pgid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def stop_group(pgid: int, grace_s: float) -> bool:
    """SIGTERM the group, SIGKILL it after `grace_s`; True when it was still running."""
    if not group_alive(pgid):
        return False
    signal_group(pgid, signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    while group_alive(pgid) and time.monotonic() < deadline:
        time.sleep(_POLL_S)
    signal_group(pgid, signal.SIGKILL)
    return True


def pid_alive(pid: int) -> bool:
    """Whether a process with this id exists on this host (a reused id looks alive)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # it exists, owned by another user
    return True


def process_started_at(pid: int) -> float | None:
    """When process `pid` started (epoch seconds), from /proc on Linux; None where unknown."""
    try:
        with open("/proc/stat", encoding="ascii") as stat:
            boot = next(float(line.split()[1]) for line in stat if line.startswith("btime "))
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as proc:
            fields = proc.read().rsplit(")", 1)[1].split()
        return boot + int(fields[19]) / os.sysconf("SC_CLK_TCK")
    except (OSError, StopIteration, IndexError, ValueError):
        return None


def alive_since(pid: int, recorded_at: float) -> bool:
    """Whether the process that recorded `pid` at `recorded_at` still runs. A process with the
    same id that started later (after a reboot, or the id was reused) is not that process."""
    if not pid_alive(pid):
        return False
    started = process_started_at(pid)
    return started is None or started <= recorded_at + CLOCK_SLACK_SECONDS
