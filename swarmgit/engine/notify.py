"""Notifications: `notify.command` runs when a task needs the user, fails, or the run ends.

The command is the user's own shell template from `.swarm.toml`; it runs with `sh -c` in the
repository root in its own process group (`process.run.run_captured`), stdin closed, output
discarded, bounded by `notify.timeout_seconds`, with the event in its environment:
SWARM_NOTIFY_EVENT (failed | spawn-held | needs-input | ended), SWARM_TRACK, SWARM_TASK (empty
for the run's end) and SWARM_MESSAGE (its first line). A notification that fails or times out
never stops the run.
"""

from __future__ import annotations

import os
from pathlib import Path

from swarmgit.domain.events import EventSink
from swarmgit.domain.secrets import Secrets
from swarmgit.process.run import run_captured

NOTIFY_KINDS = frozenset({"failed", "spawn-held", "needs-input", "ended"})
"""Event kinds that concern the user: `watch` rings the terminal bell on these too."""


def notifier(command: str, track: str, root: Path, timeout_s: float, secrets: Secrets) -> EventSink:
    """An event sink that runs `command` for the kinds in NOTIFY_KINDS (nothing when empty);
    the message it passes on is redacted of `secrets`."""

    def notify(kind: str, message: str, task: str | None) -> None:
        if not command or kind not in NOTIFY_KINDS:
            return
        env = {
            **os.environ,
            "SWARM_NOTIFY_EVENT": kind,
            "SWARM_TRACK": track,
            "SWARM_TASK": task or "",
            "SWARM_MESSAGE": secrets.redact((message.splitlines() or [""])[0]),
        }
        try:
            run_captured(command, root, timeout_s, env)  # its exit and output do not matter
        except OSError:
            pass

    return notify


def tee(*sinks: EventSink) -> EventSink:
    """One sink that passes every event to each of `sinks`, in order."""

    def emit(kind: str, message: str, task: str | None) -> None:
        for sink in sinks:
            sink(kind, message, task)

    return emit
