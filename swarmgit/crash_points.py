"""Named crash points, so the resume tests can stop a live run at an exact step, not after a
guessed delay.

`reached(step)` kills this process with SIGKILL (as `kill -9` would, nothing cleaned up) when
the environment variable SWARMGIT_CRASH_AT names `step`, or `step:N` to die the Nth time this
process reaches it (counted from 1). Unset, a call is one environment lookup. The steps are
the names in `STEPS`; docs/ARCHITECTURE.md ("Tests") says where each one is.
"""

from __future__ import annotations

import os
import signal
import threading
from collections import Counter

VARIABLE = "SWARMGIT_CRASH_AT"
STEPS = (
    "worktree-ready",  # a task's worktree and branch exist; the run state still says todo
    "agent-started",  # the agent's process runs (its pid file written)
    "agent-exited",  # the agent ended; its leftovers are not committed yet
    "work-committed",  # the leftovers are committed on the branch; the task is not done yet
    "task-done",  # the task is done in the run state; its report and spawns not taken yet
    "integration-fold",  # one task's change applied in the integration (in memory)
    "integration-recorded",  # the integration branch points at the result; gates not run
    "before-advance",  # the integration is gated; the target not moved yet
    "after-advance",  # the target moved; the track's locks not released yet
    "ray-pushed",  # a Ray worker pushed its branch and run record; its result not returned yet
)

_seen: Counter[str] = Counter()
_lock = threading.Lock()


def reached(step: str) -> None:
    """The live run is at `step` (one of `STEPS`): die here if SWARMGIT_CRASH_AT says so."""
    wanted = os.environ.get(VARIABLE)
    if not wanted:
        return
    name, _, nth = wanted.partition(":")
    if name != step:
        return
    with _lock:
        _seen[step] += 1
        if _seen[step] == int(nth or 1):
            os.kill(os.getpid(), signal.SIGKILL)
