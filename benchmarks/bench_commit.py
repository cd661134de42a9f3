"""Benchmark: committing a task's work on a 50,000-file repository, against the git CLI.

When an agent exits leaving changes, swarmgit commits them itself (`finalize`: `commit_all`
through the scope check, then the branch's change checked again). Each round makes one small
change (an edit, a deletion, a rename, a new file in a new nested folder) in fresh full
worktrees of the repository `bench_worktrees` keeps, one per contender, taking turns:

1. the git CLI: `git add -A` + `git commit` (the cost the ratio divides by);
2. the git CLI: `git status --porcelain` alone (what swarmgit's staging asks git);
3. swarmgit: `commit_all` with the engine's scope check (`entry_violations`);
4. swarmgit: `finalize` (the same commit, then the branch re-check, no secrets configured).

Every worktree is made by `git worktree add` just before, so each contender's first git call
pays the same index refresh; the contenders' order rotates from round to round. CPU: user + system
of this process and its children. Target:
`commit_all` ≤ 1.0x the git CLI's add + commit (median of the per-round ratios).

`run()` returns a markdown section; `python -m benchmarks.bench_commit` prints it.
"""

from __future__ import annotations

import os
import shutil
import statistics
import tempfile
from collections.abc import Callable
from pathlib import Path

import pygit2

from benchmarks.bench_worktrees import FILES, WORK, Cost, _median, _ram_disk, _repository, _reset, _timed
from benchmarks.gitbench import git, ms
from swarmgit.domain.plan import Task
from swarmgit.engine.finalize import entry_violations, finalize
from swarmgit.gitops.commit import commit_all

ROUNDS = 7
TARGET = 1.0
TASK = Task(id="T01", title="bench", touches=("pkg00*/", "newdir/"))


def run() -> str:
    repo, base = _repository(WORK / f"repo-{FILES}")
    _reset(repo)
    trees = Path(tempfile.mkdtemp(prefix="swarmgit-bench-commit-", dir=_ram_disk()))
    r = pygit2.Repository(str(repo))
    costs: dict[str, list[Cost]] = {name: [] for name in CONTENDERS}
    try:
        order = list(CONTENDERS.items())
        for i in range(ROUNDS):
            for n, (name, step) in enumerate(order[i % len(order) :] + order[: i % len(order)]):
                branch = f"commit-{n}/T{i:03d}"
                path = trees / branch
                git(repo, "worktree", "add", "-q", "-b", branch, str(path), base)
                _change(path)
                costs[name].append(_timed(lambda: step(r, path, branch, base)))
                shutil.rmtree(path)
                git(repo, "worktree", "prune")
    finally:
        shutil.rmtree(trees, ignore_errors=True)
        _reset(repo)
    return _table(costs)


def _change(worktree: Path) -> None:
    (worktree / "pkg001" / "mod_00.py").write_text("changed = True\n", encoding="utf-8")
    (worktree / "pkg002" / "mod_01.py").unlink()
    os.rename(worktree / "pkg003" / "mod_02.py", worktree / "pkg003" / "renamed.py")
    (worktree / "newdir" / "sub").mkdir(parents=True)
    (worktree / "newdir" / "sub" / "new.py").write_text("NEW = 1\n", encoding="utf-8")


def _git_commit(repo: pygit2.Repository, path: Path, branch: str, base: str) -> None:
    git(path, "add", "-A")
    git(path, "commit", "-q", "-m", "task")


def _git_status(repo: pygit2.Repository, path: Path, branch: str, base: str) -> None:
    git(path, "status", "--porcelain")


def _commit_all(repo: pygit2.Repository, path: Path, branch: str, base: str) -> None:
    if (
        commit_all(path, "T01: bench", lambda entries: entry_violations(repo, TASK.touches, entries, base))
        is None
    ):
        raise RuntimeError("nothing was committed")


def _finalize(repo: pygit2.Repository, path: Path, branch: str, base: str) -> None:
    if not finalize(repo, TASK, path, branch, base).ok:
        raise RuntimeError("finalize refused the benchmark's change")


CONTENDERS: dict[str, Callable[[pygit2.Repository, Path, str, str], None]] = {
    "git CLI: `add -A` + `commit`": _git_commit,
    "git CLI: `status --porcelain` alone": _git_status,
    "swarmgit: `commit_all` (staging what git status lists, scope check)": _commit_all,
    "swarmgit: `finalize` (commit_all, then the branch re-checked)": _finalize,
}


def _table(costs: dict[str, list[Cost]]) -> str:
    cli = costs["git CLI: `add -A` + `commit`"]
    total = _median(cli)
    ours = [
        c.cpu / g.cpu
        for c, g in zip(costs["swarmgit: `commit_all` (staging what git status lists, scope check)"], cli)
    ]
    whole = [
        c.cpu / g.cpu
        for c, g in zip(costs["swarmgit: `finalize` (commit_all, then the branch re-checked)"], cli)
    ]
    ratio = statistics.median(ours)
    lines = [
        f"## commit: a task's work committed on a {FILES:,}-file repository",
        "",
        "An edit, a deletion, a rename and a new file in a new nested folder, in a fresh full "
        f"worktree (RAM disk) of the generated {FILES:,}-file repository; {ROUNDS} rounds, the "
        "contenders taking turns, each in its own new worktree. CPU: user + system of this "
        "process and its children.",
        "",
        "| per task | wall (median) | CPU (median) | CPU / git CLI add + commit |",
        "| --- | ---: | ---: | ---: |",
    ]
    lines += [
        f"| {label} | {ms(_median(c).wall)} | {ms(_median(c).cpu)} | {_median(c).cpu / total.cpu:.2f}x |"
        for label, c in costs.items()
    ]
    lines += [
        "",
        "Per round, `commit_all` / git CLI add + commit (CPU): "
        + ", ".join(f"{r:.2f}x" for r in ours)
        + "; `finalize` / git CLI add + commit (CPU): "
        + ", ".join(f"{r:.2f}x" for r in whole)
        + ".",
        f"Target `commit_all` ≤ {TARGET:.1f}x: {'met' if ratio <= TARGET else 'NOT met'} ({ratio:.2f}x).",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    print(run())
