"""What every benchmark shares: a git CLI that ignores the user's config, and number format."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

IDENTITY = {
    f"GIT_{role}_{field}": value
    for role in ("AUTHOR", "COMMITTER")
    for field, value in (("NAME", "bench"), ("EMAIL", "bench@swarmgit.invalid"))
}
# The git CLI runs without the user's config (no hooks, no fsmonitor, no signing).
GIT_ENV = {**os.environ, **IDENTITY, "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull}


def git(cwd: Path, *args: str) -> str:
    """Run git in cwd with GIT_ENV; stdout, stripped. Raises CalledProcessError on failure."""
    done = subprocess.run(["git", *args], cwd=cwd, env=GIT_ENV, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def swarm(cwd: Path, *args: str) -> None:
    """`git swarm ARGS` as a process in `cwd`, with the benchmark's git identity; raises with
    its output's tail when it fails."""
    done = subprocess.run(
        [sys.executable, "-m", "swarmgit", *args],
        cwd=cwd,
        env=GIT_ENV,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
    )
    if done.returncode != 0:
        raise RuntimeError(
            f"git swarm {' '.join(args)} exited {done.returncode}:\n"
            f"{done.stdout[-3000:]}{done.stderr[-3000:]}"
        )
