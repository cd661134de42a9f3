"""Benchmark: task start on a 50,000-file repository, pooled and fresh, against the git CLI.

A generated repository of FILES small Python files (one commit, packed) is kept under
`benchmarks/.work/` (gitignored) and reused by later runs; the worktrees go to a RAM disk
(/dev/shm) when there is one. Each task gets its own branch at the
base and commits one new file. Contenders, taking turns for ROUNDS tasks each:

1. the git CLI: `git worktree add -b <branch> <path> <base>`, write the file, `git add -A`,
   `git commit` (the whole per-task cost the target divides by);
2. swarmgit, fresh: `create_task_worktree` (what `prepare` does for a task without a worktree to
   take over: `git worktree add` through `safe_git`);
3. swarmgit, pooled: `recycle_worktree` takes the previous task's worktree after its commit (what
   `prepare` does when a done task's worktree is clean): status check, move, checkout of the
   new branch, so only the differing files are written;
4. swarmgit, fresh and sparse (`worktrees.checkout = "sparse"`): `create_task_worktree` with the
   task's SPARSE_TOUCHES (a folder of 100 files, one file, the task's new file): `git worktree
   add --no-checkout`, the worktree's sparse patterns, a sparse checkout.

Each task's commit is made the same way (git CLI) after the timed start; the git CLI and the
fresh start take turns going first. Wall time and CPU time
(user + system of this process and its children) are reported; CPU stays comparable when other
work loads the machine, wall time (here bound by a shared disk) does not. Targets: pooled start
≤ 0.25x the git CLI's worktree add + commit (CPU, median of the rounds); fresh start ≤ 1.0x the
git CLI's `worktree add` alone, full or sparse.

`run()` returns a markdown section; `python -m benchmarks.bench_worktrees` prints it.
"""

from __future__ import annotations

import os
import resource
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pygit2

from benchmarks.bench_integrate import write_repo
from benchmarks.gitbench import git, ms
from swarmgit.gitops.worktrees import create_task_worktree, recycle_worktree

FILES = 50_000
ROUNDS = 9
POOLED_TARGET = 0.25
FRESH_TARGET = 1.0
WORK = Path(__file__).resolve().parent / ".work" / "worktrees"
SPARSE_TOUCHES = ("pkg007/", "pkg123/mod_05.py", "task_*.py")


@dataclass(frozen=True)
class Cost:
    """Seconds: wall clock and CPU (user + system, this process and its children)."""

    wall: float
    cpu: float


def run() -> str:
    repo, base = _repository(WORK / f"repo-{FILES}")
    _reset(repo)
    trees = Path(tempfile.mkdtemp(prefix="swarmgit-bench-worktrees-", dir=_ram_disk()))
    r = pygit2.Repository(str(repo))
    cli_start: list[Cost] = []
    cli_total: list[Cost] = []
    fresh: list[Cost] = []
    pooled: list[Cost] = []
    sparse: list[Cost] = []
    donor = create_task_worktree(r, path=trees / "pool" / "T000", branch="pool/T000", start=base)
    _commit(donor, 0)
    try:
        for i in range(1, ROUNDS + 1):
            fresh_first = i % 2 == 0  # the git CLI and the fresh start take turns going first
            if fresh_first:
                fresh.append(_fresh(r, trees / "fresh" / f"T{i:03d}", base, i))
            start, total = _git_cli(repo, trees / "cli" / f"T{i:03d}", f"cli/T{i:03d}", base, i)
            cli_start.append(start)
            cli_total.append(total)
            if not fresh_first:
                fresh.append(_fresh(r, trees / "fresh" / f"T{i:03d}", base, i))
            target = trees / "pool" / f"T{i:03d}"
            pooled.append(_timed(lambda: _recycle(r, donor, target, f"pool/T{i:03d}", base)))
            _commit(target, i)
            donor = target
            lean = trees / "sparse" / f"T{i:03d}"
            sparse.append(
                _timed(
                    lambda: create_task_worktree(
                        r, path=lean, branch=f"sparse/T{i:03d}", start=base, sparse=SPARSE_TOUCHES
                    )
                )
            )
            _commit(lean, i)
    finally:
        shutil.rmtree(trees, ignore_errors=True)
        _reset(repo)
    return _table(cli_start, cli_total, fresh, pooled, sparse)


def _ram_disk() -> str | None:
    """Worktrees go to a RAM disk when there is one, so a shared disk's noise does not hide
    the work being measured (deleting 50,000 files on it takes minutes)."""
    shm = Path("/dev/shm")
    return str(shm) if shm.is_dir() and os.access(shm, os.W_OK) else str(WORK)


def _reset(repo: Path) -> None:
    """Forget the worktrees and branches an earlier (perhaps interrupted) run left."""
    git(repo, "worktree", "prune")
    for ref in git(repo, "for-each-ref", "--format=%(refname)", "refs/heads/").split():
        if ref != "refs/heads/main":
            git(repo, "update-ref", "-d", ref)


def _recycle(repo: pygit2.Repository, donor: Path, target: Path, branch: str, base: str) -> None:
    if not recycle_worktree(repo, donor, path=target, branch=branch, start=base):
        raise RuntimeError(f"{donor} was not recycled")


def _git_cli(repo: Path, path: Path, branch: str, base: str, i: int) -> tuple[Cost, Cost]:
    """(worktree add, worktree add + file + add + commit) by the git CLI."""
    began = _now()
    git(repo, "worktree", "add", "-q", "-b", branch, str(path), base)
    added = _now()
    _commit(path, i)
    done = _now()
    return _minus(added, began), _minus(done, began)


def _fresh(repo: pygit2.Repository, path: Path, base: str, i: int) -> Cost:
    """swarmgit's fresh start of task `i` at `path` (timed), then its commit (not timed)."""
    cost = _timed(lambda: create_task_worktree(repo, path=path, branch=f"fresh/T{i:03d}", start=base))
    _commit(path, i)
    return cost


def _commit(worktree: Path, i: int) -> None:
    (worktree / f"task_{i:03d}.py").write_text(f"VALUE = {i}\n", encoding="utf-8")
    git(worktree, "add", "-A")
    git(worktree, "commit", "-q", "-m", f"task {i}")


def _timed(step: Callable[[], object]) -> Cost:
    began = _now()
    step()
    return _minus(_now(), began)


def _now() -> Cost:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime
    return Cost(time.perf_counter(), cpu)


def _minus(later: Cost, earlier: Cost) -> Cost:
    return Cost(later.wall - earlier.wall, later.cpu - earlier.cpu)


def _repository(path: Path) -> tuple[Path, str]:
    """The generated repository (made once, then reused) and its base commit."""
    if not (path / ".git" / "bench-complete").exists():
        shutil.rmtree(path, ignore_errors=True)
        write_repo(path, FILES)
        (path / ".git" / "bench-complete").write_text("", encoding="utf-8")
    return path, git(path, "rev-parse", "main")


def _median(costs: list[Cost]) -> Cost:
    return Cost(statistics.median(c.wall for c in costs), statistics.median(c.cpu for c in costs))


def _table(
    cli_start: list[Cost], cli_total: list[Cost], fresh: list[Cost], pooled: list[Cost], sparse: list[Cost]
) -> str:
    total = _median(cli_total)
    pooled_ratios = [p.cpu / c.cpu for p, c in zip(pooled, cli_total)]
    fresh_ratios = [f.cpu / c.cpu for f, c in zip(fresh, cli_start)]
    sparse_ratios = [f.cpu / c.cpu for f, c in zip(sparse, cli_start)]
    pooled_ratio = statistics.median(pooled_ratios)
    fresh_ratio = statistics.median(fresh_ratios)
    sparse_ratio = statistics.median(sparse_ratios)
    rows = [
        ("git CLI: `worktree add` + file + `add -A` + `commit`", _median(cli_total)),
        ("git CLI: `worktree add` alone", _median(cli_start)),
        ("swarmgit, fresh worktree (`git worktree add` through safe_git)", _median(fresh)),
        ("swarmgit, pooled (a done task's clean worktree recycled)", _median(pooled)),
        (
            f"swarmgit, fresh sparse worktree ({len(SPARSE_TOUCHES)} touches: "
            + ", ".join(f"`{t}`" for t in SPARSE_TOUCHES)
            + ")",
            _median(sparse),
        ),
    ]
    lines = [
        f"## worktrees: task start on a {FILES:,}-file repository",
        "",
        f"A generated repository of {FILES:,} files (one packed commit, kept in "
        "`benchmarks/.work/`; worktrees on a RAM disk); each task gets a branch at the base and "
        "commits one new file. "
        f"{ROUNDS} tasks per contender, taking turns. Pooled: the previous task's worktree, after "
        "its commit, checked for uncommitted changes, moved and switched to the new branch "
        '(only the differing files written). Sparse: `worktrees.checkout = "sparse"`, only the '
        "task's touches (and every .gitignore/.gitattributes) checked out. "
        "CPU: user + system of this process and its children.",
        "",
        "| per task | wall (median) | CPU (median) | CPU / git CLI add + commit |",
        "| --- | ---: | ---: | ---: |",
    ]
    lines += [f"| {label} | {ms(c.wall)} | {ms(c.cpu)} | {c.cpu / total.cpu:.2f}x |" for label, c in rows]
    lines += [
        "",
        "Per round, pooled start / git CLI add + commit (CPU): "
        + ", ".join(f"{r:.3f}x" for r in pooled_ratios)
        + "; fresh start / git `worktree add` "
        "(CPU): " + ", ".join(f"{r:.2f}x" for r in fresh_ratios) + "; fresh sparse start / git "
        "`worktree add` (CPU): " + ", ".join(f"{r:.3f}x" for r in sparse_ratios) + ".",
        f"Target pooled ≤ {POOLED_TARGET:.2f}x: {_verdict(pooled_ratio, POOLED_TARGET)} "
        f"({pooled_ratio:.3f}x). Target fresh ≤ {FRESH_TARGET:.1f}x `git worktree add`: "
        f"{_verdict(fresh_ratio, FRESH_TARGET)} ({fresh_ratio:.2f}x); fresh sparse: "
        f"{_verdict(sparse_ratio, FRESH_TARGET)} ({sparse_ratio:.3f}x).",
    ]
    return "\n".join(lines)


def _verdict(ratio: float, target: float) -> str:
    return "met" if ratio <= target else "NOT met"


if __name__ == "__main__":
    print(run())
