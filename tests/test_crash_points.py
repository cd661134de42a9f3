"""The crash points the resume tests use: each named step is reached somewhere in the live
run, and SWARMGIT_CRASH_AT kills the process there (the Nth time with `step:N`)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

import swarmgit
from swarmgit.crash_points import STEPS, VARIABLE

PROBE = (
    "from swarmgit.crash_points import reached\n"
    "for n in range(1, 4):\n"
    "    reached('agent-exited'); reached('task-done'); print(n, flush=True)\n"
)


def _probe(wanted: str | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != VARIABLE}
    if wanted is not None:
        env[VARIABLE] = wanted
    return subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize(
    ("wanted", "printed"), [("task-done", ""), ("task-done:1", ""), ("agent-exited:3", "1\n2\n")]
)
def test_the_named_step_kills_the_process_there(wanted: str, printed: str) -> None:
    ran = _probe(wanted)
    assert ran.returncode == -signal.SIGKILL
    assert ran.stdout == printed


@pytest.mark.parametrize("wanted", [None, "", "worktree-ready", "task-done:4"])
def test_other_steps_or_none_run_through(wanted: str | None) -> None:
    ran = _probe(wanted)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout == "1\n2\n3\n"


def test_every_step_is_reached_once_in_the_package_and_no_other() -> None:
    package = Path(swarmgit.__file__).parent
    calls = [
        name
        for path in package.rglob("*.py")
        for name in re.findall(r'\breached\("([^"]+)"\)', path.read_text(encoding="utf-8"))
    ]
    assert sorted(calls) == sorted(STEPS)
