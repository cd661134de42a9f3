"""Crash safety: kill -9 the orchestrator at many points; `resume` finishes with nothing lost."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from swarmgit.store.state import Store
from tests.gitutil import git
from tests.swarmrepo import swarm_process, task_md, track_repo


def _idempotent(tid: str, path: str) -> tuple[str, ...]:
    # Re-runnable on a worktree where an earlier attempt already did some of it; swarmgit
    # commits the work when the agent exits.
    return (f"mkdir -p $(dirname {path}) && echo '{tid} = 1' > {path}", "sleep 0.4")


PLAN = (
    task_md("T01", "a", touches="`src/a/`", runs=_idempotent("T01", "src/a/one.py"))
    + task_md("T02", "b", touches="`src/b/`", runs=_idempotent("T02", "src/b/one.py"))
    + task_md("T03", "a2", deps="T01", touches="`src/a/`", runs=_idempotent("T03", "src/a/two.py"))
    + task_md("T04", "c", deps="T02", touches="`src/c.py`", runs=_idempotent("T04", "src/c.py"))
    + task_md("T05", "d", deps="T03, T04", touches="`docs/`", runs=_idempotent("T05", "docs/d.md"))
)
CONFIG = "[concurrency]\nmax_background = 2\nmax_parallel = 2\n[gates]\nthreshold = 0.0\n"


@pytest.mark.parametrize("delay", [0.1, 0.5, 0.9, 1.4, 2.0, 2.6])
def test_kill_9_then_resume_finishes_and_keeps_every_commit(tmp_path: Path, delay: float) -> None:
    repo = track_repo(tmp_path / "r", PLAN, config=CONFIG)
    proc = subprocess.Popen([sys.executable, "-m", "swarmgit", "implement", "t"], cwd=repo,
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(delay)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    kept = {b: git(repo, "rev-parse", b).stdout.strip()
            for b in git(repo, "for-each-ref", "--format=%(refname:short)", "refs/heads/swarm/t/").stdout.split()}
    done = swarm_process(repo, "resume", "t")
    assert done.returncode == 0, done.stdout + done.stderr
    status = json.loads(swarm_process(repo, "status", "t", "--json").stdout)
    assert {t["id"]: t["status"] for t in status["tasks"]} == {f"T0{i}": "done" for i in range(1, 6)}
    for branch, commit in kept.items():  # every commit made before the crash is still there
        if branch != "swarm/t/integration":
            assert git(repo, "merge-base", "--is-ancestor", commit, branch, check=False).returncode == 0
    for tid, path in [("T01", "src/a/one.py"), ("T03", "src/a/two.py"), ("T05", "docs/d.md")]:
        assert git(repo, "show", f"main:{path}").stdout == f"{tid} = 1\n"
    with Store.open(repo / ".git") as store:
        assert store.locks("t") == []
        assert store.claimant("t") is None
    # Later tasks took over the worktrees of finished ones (the pool): those forgot theirs.
    recorded = [task["worktree"] for task in status["tasks"] if task["worktree"]]
    assert 1 <= len(recorded) < 5 and len(set(recorded)) == len(recorded)
    assert all(Path(path).is_dir() for path in recorded)
