"""Build real repositories with a swarm track, and run `git swarm` on them in-process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner, Result

from swarmgit.cli import main
from swarmgit.crash_points import VARIABLE
from tests.gitutil import git, make_repo, write


def swarm(repo: Path, *args: str) -> Result:
    """Run `git swarm ARGS` in repo through click's runner (same process)."""
    old = Path.cwd()
    os.chdir(repo)
    try:
        return CliRunner().invoke(main, list(args), catch_exceptions=False)
    finally:
        os.chdir(old)


def swarm_process(repo: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run `git swarm ARGS` as a real process (python -m swarmgit)."""
    return subprocess.run(
        [sys.executable, "-m", "swarmgit", *args],
        cwd=repo,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


def swarm_crashed(repo: Path, step: str, *args: str) -> None:
    """Run `git swarm ARGS` as a real process that kills itself with SIGKILL at the crash point
    `step` (swarmgit/crash_points.py: `STEP` or `STEP:N`); fails if it never got there."""
    env = {**os.environ, VARIABLE: step}
    proc = subprocess.run(
        [sys.executable, "-m", "swarmgit", *args],
        cwd=repo,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == -signal.SIGKILL, f"{step} never reached:\n{proc.stdout}{proc.stderr}"


def task_md(
    tid: str, title: str, *, deps: str = "none", touches: str, runs: tuple[str, ...] = (), extra: str = ""
) -> str:
    lines = [
        f"- [ ] **{tid}**: {title}",
        "  - **Owner role:** Implementer",
        f"  - **Depends on:** {deps}",
        f"  - **Touches:** {touches}",
        f"  - **Concurrency class:** {'read-only' if touches == 'read-only' else 'write-local'}",
        "  - **Effort:** 30min",
        "  - **Severity:** medium",
        f"  - **Acceptance:** {title} works",
    ]
    lines += [f"  - **Run:** `{run}`" for run in runs]
    if extra:
        lines.append(extra)
    return "\n".join(lines) + "\n"


BARRIER_TRIES = 600  # a tenth of a second each: a task waits at most about a minute


def barrier(*peers: str) -> str:
    """A Run command: mark this task arrived (a file in its own scratch folder, the folder of
    SWARM_REPORT, which its write fence allows; reading is never fenced), then wait until every
    task in `peers` has arrived, and fail after about a minute. Tasks that each wait for the
    others can only all pass if they run at the same time."""
    arrive = 'own=$(dirname "$SWARM_REPORT") && touch "$own/arrived"'
    if not peers:
        return arrive
    here = " && ".join(f'[ -e "$own/../{peer}/arrived" ]' for peer in peers)
    return (
        f"{arrive} && for i in $(seq {BARRIER_TRIES}); do if {here}; then exit 0; fi; sleep 0.1; done; "
        f'echo "$SWARM_TASK waited in vain for {", ".join(peers)}" >&2; exit 1'
    )


def track_repo(
    root: Path, plan: str, *, files: dict[str, str] | None = None, track: str = "t", config: str = ""
) -> Path:
    """A repo with `files`, swarmgit initialised (hook installed), and track `track` committed."""
    repo = make_repo(root, files or {"README.md": "# r\n", "src/app.py": "x = 1\n"})
    result = swarm(repo, "init")
    assert result.exit_code == 0, result.output
    if config:
        write(repo, ".swarm.toml", config)
    write(repo, f"swarm/tracks/{track}/plan.md", "# Plan\n\n" + plan)
    write(repo, f"swarm/tracks/{track}/shared_context.md", "# Shared context\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "track")
    return repo
