"""Crash safety: kill -9 the orchestrator at named steps of a live run (swarmgit/crash_points.py);
`resume` finishes the run with the right tree on main and nothing lost."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from swarmgit.crash_points import STEPS
from swarmgit.store.state import Store
from tests.gitutil import git
from tests.swarmrepo import swarm_crashed, swarm_process, task_md, track_repo


def _idempotent(tid: str, path: str) -> tuple[str, ...]:
    # Re-runnable on a worktree where an earlier attempt already did some of it; swarmgit
    # commits the work when the agent exits.
    return (f"mkdir -p $(dirname {path}) && echo '{tid} = 1' > {path}",)


WORK = {
    "T01": "src/a/one.py",
    "T02": "src/b/one.py",
    "T03": "src/a/two.py",
    "T04": "src/c.py",
    "T05": "docs/d.md",
}
PLAN = (
    task_md("T01", "a", touches="`src/a/`", runs=_idempotent("T01", WORK["T01"]))
    + task_md("T02", "b", touches="`src/b/`", runs=_idempotent("T02", WORK["T02"]))
    + task_md("T03", "a2", deps="T01", touches="`src/a/`", runs=_idempotent("T03", WORK["T03"]))
    + task_md("T04", "c", deps="T02", touches="`src/c.py`", runs=_idempotent("T04", WORK["T04"]))
    + task_md("T05", "d", deps="T03, T04", touches="`docs/`", runs=_idempotent("T05", WORK["T05"]))
)
CONFIG = "[concurrency]\nmax_background = 2\nmax_parallel = 2\n[gates]\nthreshold = 0.0\n"
# Every step once; in the slow run also later passes of the steps each task reaches
# (`step:N`: the Nth time).
LATER = ("worktree-ready:4", "agent-started:3", "work-committed:4", "task-done:5", "integration-fold:3")
ON_RAY_WORKERS = ("ray-pushed",)  # reached only there: tests/test_ray_executor.py crashes at it
CRASHES = (
    *(step for step in STEPS if step not in ON_RAY_WORKERS),
    *(pytest.param(step, marks=pytest.mark.slow) for step in LATER),
)


def _files(repo: Path, rev: str) -> dict[str, str]:
    """Every file of `rev` outside the track's folder, with its content."""
    names = git(repo, "ls-tree", "-r", "--name-only", rev).stdout.split()
    return {
        name: git(repo, "show", f"{rev}:{name}").stdout for name in names if not name.startswith("swarm/")
    }


@pytest.mark.parametrize("step", CRASHES)
def test_kill_9_at_a_step_then_resume_finishes_and_keeps_every_commit(tmp_path: Path, step: str) -> None:
    repo = track_repo(tmp_path / "r", PLAN, config=CONFIG)
    base = git(repo, "rev-parse", "main").stdout.strip()
    swarm_crashed(repo, step, "implement", "t")
    moved = git(repo, "rev-parse", "main").stdout.strip() != base
    assert moved == (step == "after-advance")  # the target moves between those two steps only
    kept = {
        b: git(repo, "rev-parse", b).stdout.strip()
        for b in git(repo, "for-each-ref", "--format=%(refname:short)", "refs/heads/swarm/t/").stdout.split()
    }

    done = swarm_process(repo, "resume", "t")

    assert done.returncode == 0, done.stdout + done.stderr
    status = json.loads(swarm_process(repo, "status", "t", "--json").stdout)
    assert {t["id"]: t["status"] for t in status["tasks"]} == {tid: "done" for tid in WORK}
    for branch, commit in kept.items():  # every commit made before the crash is still there
        if branch != "swarm/t/integration":
            assert git(repo, "merge-base", "--is-ancestor", commit, branch, check=False).returncode == 0
    expected = {**_files(repo, base), **{path: f"{tid} = 1\n" for tid, path in WORK.items()}}
    assert _files(repo, "main") == expected
    with Store.open(repo / ".git") as store:
        assert store.locks("t") == []
        assert store.claimant("t") is None
    # Later tasks took over the worktrees of finished ones (the pool): those forgot theirs.
    recorded = [task["worktree"] for task in status["tasks"] if task["worktree"]]
    assert 1 <= len(recorded) < 5 and len(set(recorded)) == len(recorded)
    assert all(Path(path).is_dir() for path in recorded)


def test_resume_frees_the_track_refs_from_lock_files_a_killed_process_left(tmp_path: Path) -> None:
    # A process killed while it wrote a ref leaves `<ref>.lock`; libgit2 and git then refuse every
    # update of that ref. Here the crash leaves one on each of the track's branches.
    repo = track_repo(tmp_path / "r", PLAN, config=CONFIG)
    swarm_crashed(repo, "agent-exited", "implement", "t")
    branches = git(repo, "for-each-ref", "--format=%(refname)", "refs/heads/swarm/t/").stdout.split()
    assert branches
    locks = [repo / ".git" / f"{ref}.lock" for ref in branches]
    for lock in locks:
        lock.write_text("0" * 40 + "\n")

    done = swarm_process(repo, "resume", "t")

    assert done.returncode == 0, done.stdout + done.stderr
    assert not any(lock.exists() for lock in locks)
    status = json.loads(swarm_process(repo, "status", "t", "--json").stdout)
    assert {t["id"]: t["status"] for t in status["tasks"]} == {tid: "done" for tid in WORK}
