"""Benchmark: does the dispatch loop's cost per task grow with the size of the plan?

One small repository (swarmgit initialised) with tracks of 20, 100 and 400 independent read-only
script tasks (`Run: true`, no touches: a task with touches must change something or it fails),
each dispatched in this process by the real `Dispatcher` (its threads, the store, the views,
task worktrees and branches; default concurrency), one track after another. Reported per task:
CPU time of this process (the orchestrator: the loop, the store, plan.md and iosm_state.md) and
of its children (git, the agents), and the ratio to the 20-task plan. A loop that rescans the
whole plan on every transition makes the per-task cost grow with the plan. Task worktree
creation (`taskspace.prepare`, timed on the dispatcher's thread) is shown apart: libgit2's
`add_worktree` checks every existing worktree, so it grows with the number of tasks run.
Target: the orchestrator's CPU per task at 400 tasks <= 1.2x that at 20. Wall time is shown,
not judged.

`run()` returns a markdown section; `python -m benchmarks.bench_dispatch` prints it.
"""

from __future__ import annotations

import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import swarmgit.engine.dispatch as dispatch_module
from benchmarks.gitbench import GIT_ENV, git
from swarmgit.engine.dispatch import Dispatcher  # imported here: start-up is not per-task cost
from swarmgit.engine.track_run import claimed
from swarmgit.engine.workspace import open_workspace

SIZES = (20, 100, 400)
TARGET_RATIO = 1.2


@dataclass(frozen=True)
class Sample:
    tasks: int
    wall: float
    own_cpu: float
    children_cpu: float
    done: int
    worktree_cpu: float


def run() -> str:
    with tempfile.TemporaryDirectory(prefix="swarmgit-bench-dispatch-") as tmp:
        repo = _repo(Path(tmp) / "repo")
        samples = [_dispatch(repo, size) for size in SIZES]
    base = samples[0]
    rows = [_row(sample, base) for sample in samples]
    ratio = (samples[-1].own_cpu / samples[-1].tasks) / (base.own_cpu / base.tasks)
    verdict = "met" if ratio <= TARGET_RATIO else "NOT met"
    rest = ((samples[-1].own_cpu - samples[-1].worktree_cpu) / samples[-1].tasks) / (
        (base.own_cpu - base.worktree_cpu) / base.tasks
    )
    return "\n".join(
        [
            "## Dispatch: per-task cost against plan size",
            "",
            "Independent read-only script tasks (`Run: true`) dispatched by the real `Dispatcher` in "
            "the benchmark's process (default concurrency, hook installed, a task worktree and "
            "branch each); the three plans run one after another in one repository, so the "
            f"{SIZES[-1]}-task plan starts beside the {sum(SIZES[:-1])} worktrees of the others. "
            "Orchestrator CPU: this process (the loop, the store, the views); "
            "children: git and the agents. Ratios divide by the 20-task plan's per-task figure.",
            "",
            "| tasks | done | wall / task | orchestrator CPU / task | ratio | of which worktree "
            "creation | the rest | ratio | children CPU / task | ratio |",
            "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
            *rows,
            "",
            f"Target: orchestrator CPU per task at {SIZES[-1]} tasks <= {TARGET_RATIO}x that at "
            f"{SIZES[0]}: **{verdict}** ({ratio:.2f}x); without worktree creation: {rest:.2f}x.",
        ]
    )


def _row(sample: Sample, base: Sample) -> str:
    def per(value: float, n: int) -> float:
        return value / n * 1000

    own, own_base = per(sample.own_cpu, sample.tasks), per(base.own_cpu, base.tasks)
    tree = per(sample.worktree_cpu, sample.tasks)
    rest = own - tree
    rest_base = own_base - per(base.worktree_cpu, base.tasks)
    kids, kids_base = per(sample.children_cpu, sample.tasks), per(base.children_cpu, base.tasks)
    return (
        f"| {sample.tasks} | {sample.done} | {per(sample.wall, sample.tasks):.1f} ms | "
        f"{own:.1f} ms | {own / own_base:.2f}x | {tree:.1f} ms | {rest:.1f} ms | "
        f"{rest / rest_base:.2f}x | {kids:.1f} ms | {kids / kids_base:.2f}x |"
    )


def _dispatch(repo: Path, size: int) -> Sample:
    track = f"plan{size}"
    ws = open_workspace(repo)
    spent = [0.0]
    prepare = dispatch_module.prepare
    dispatch_module.prepare = _timed(prepare, spent)
    try:
        own, kids, started = time.process_time(), _children_cpu(), time.perf_counter()
        with claimed(ws, track) as store:
            summary = Dispatcher(ws, store, track, lambda kind, message, task: None).run()
        wall = time.perf_counter() - started
        own_cpu = time.process_time() - own
    finally:
        dispatch_module.prepare = prepare
    return Sample(
        tasks=size,
        wall=wall,
        own_cpu=own_cpu,
        children_cpu=_children_cpu() - kids,
        done=len(summary.done),
        worktree_cpu=spent[0],
    )


def _timed(function: Callable[..., Any], spent: list[float]) -> Callable[..., Any]:
    """`function`, adding the CPU time of the calling thread it takes to spent[0]."""

    def timed(*args: Any, **kwargs: Any) -> Any:
        began = time.thread_time()
        try:
            return function(*args, **kwargs)
        finally:
            spent[0] += time.thread_time() - began

    return timed


def _repo(path: Path) -> Path:
    path.mkdir(parents=True)
    git(path, "init", "-q", "-b", "main")
    git(path, "config", "user.name", "bench")  # the dispatcher runs here, not under GIT_ENV
    git(path, "config", "user.email", "bench@example.invalid")
    for n in range(20):
        _write(path / f"src/mod_{n}.py", f"VALUE = {n}\n")
    git(path, "add", "-A")
    git(path, "commit", "-q", "-m", "initial")
    subprocess.run(
        [sys.executable, "-m", "swarmgit", "init"],
        cwd=path,
        env=GIT_ENV,
        check=True,
        capture_output=True,
        stdin=subprocess.DEVNULL,
    )
    for size in SIZES:
        _write(path / "swarm" / "tracks" / f"plan{size}" / "plan.md", _plan(size))
    git(path, "add", "-A")
    git(path, "commit", "-q", "-m", "tracks")
    return path


def _plan(size: int) -> str:
    tasks = [
        "\n".join(
            [
                f"- [ ] **T{i:03d}**: read-only task {i}",
                "  - **Owner role:** Implementer",
                "  - **Depends on:** none",
                "  - **Touches:** read-only",
                "  - **Concurrency class:** read-only",
                "  - **Effort:** 30min",
                "  - **Run:** `true`",
            ]
        )
        for i in range(size)
    ]
    return "# Plan\n\n" + "\n".join(tasks) + "\n"


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


if __name__ == "__main__":
    print(run())
