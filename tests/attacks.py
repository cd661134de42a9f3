"""The harness of the attack catalogue: every attack test runs in both fence modes.

`auto` fences each agent with Landlock (on this kind of machine): an out-of-bounds write fails at
the write itself, so the attacker's log says "Permission denied" and the target is unchanged.
`off` runs agents unfenced: the write succeeds, and the git-level checks alone must contain it
(the task fails or is rejected, the advance is held, each naming why). A test whose attack needs
the attacker to commit by itself (git's files are fenced) says so: fenced, that commit fails.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from swarmgit.domain.touches import path_allowed
from swarmgit.sandbox import fence as sandbox
from tests.gitutil import git

FENCED, UNFENCED = "auto", "off"
MODES = (
    pytest.param(
        FENCED, marks=pytest.mark.skipif(bool(sandbox.unavailable()), reason=sandbox.unavailable() or "")
    ),
    UNFENCED,
)
DENIED = "Permission denied"


def config(mode: str, extra: str = "", *, parallel: int = 2) -> str:
    """A .swarm.toml running `parallel` agents at once under `mode`, with any gate verdict."""
    return (
        f'[agent]\nsandbox = "{mode}"\n[concurrency]\nmax_background = {parallel}\n'
        f"max_parallel = {parallel}\n[gates]\nthreshold = 0.0\n{extra}"
    )


def tasks(repo: Path, track: str = "t") -> dict[str, dict[str, str]]:
    """`status --json`'s tasks by id."""
    from tests.swarmrepo import swarm  # noqa: PLC0415 (swarmrepo imports the CLI)

    return {t["id"]: t for t in json.loads(swarm(repo, "status", track, "--json").output)["tasks"]}


def agent_log(repo: Path, task: str, track: str = "t") -> str:
    return (repo / f"swarm/tracks/{track}/logs/{task}.log").read_text(encoding="utf-8", errors="replace")


def assert_refused_at_write(repo: Path, task: str, says: str = DENIED) -> None:
    """Fenced: the attacker's write failed at the write (its log shows the refusal)."""
    log = agent_log(repo, task)
    assert says in log, log


def outside(repo: Path, ref: str, touches: list[str], base: str = "refs/swarm/t/base") -> list[str]:
    """The paths `ref` changed since the track's base that no touch in `touches` allows."""
    changed = git(repo, "diff", "--name-only", "--no-renames", base, ref).stdout.split()
    return [path for path in changed if not path_allowed(touches, path)]


def assert_contained(repo: Path, touches: list[str], target: str = "main") -> None:
    """Nothing outside `touches` (the honest tasks' and the attackers' planned ones) reached the
    integration branch or the target."""
    for ref in ("swarm/t/integration", target):
        if git(repo, "rev-parse", "-q", "--verify", ref, check=False).returncode == 0:
            assert outside(repo, ref, touches) == [], ref
