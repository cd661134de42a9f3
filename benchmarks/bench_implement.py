"""Benchmark: per-task overhead of `git swarm implement` against the same steps with the git CLI.

A 1,000-file repository (packed) with swarmgit initialised and one track of 100 independent
script tasks, each touching its own new file. Contenders, each on its own fresh copy:

1. `git swarm implement` as a real process (the default `script` backend, gates' test command
   unset), one task at a time (`max_parallel = 1`), with tasks that write their file
   (`Run: echo ... > file`; the orchestrator commits it) and with no-op tasks (`Run: true`);
2. the same, with the default parallelism (`max_parallel = 4`), writing tasks;
3. the git CLI, one task after another: `git worktree add -b <branch> <path> <base>`, write the
   file, `git add`, `git commit`.

`implement` also integrates at the end (merge of every branch, scope re-check, gates, advancing
main); the event log's timestamps split its wall time into dispatch (process start to the last
task done, so interpreter start-up is included, spread over the tasks) and integration (the
rest). CPU time (user + system of every process) is reported too: it stays comparable when other
work loads the machine, wall time does not. The writing tasks and the git CLI take turns for
ROUNDS rounds. Target: swarmgit's dispatch per task ≤ the git CLI's per task (median ratio of
the rounds ≤ 1.0x).

`run()` returns a markdown section; `python -m benchmarks.bench_implement` prints it.
"""

from __future__ import annotations

import itertools
import resource
import shutil
import sqlite3
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from benchmarks.bench_integrate import write_repo
from benchmarks.gitbench import git, ms, swarm

FILES = 1_000
TASKS = 100
TARGET_RATIO = 1.0
ROUNDS = 3
TRACK = "bench"
_SERIAL = "[concurrency]\nmax_parallel = 1\n"
_PARALLEL = "[concurrency]\nmax_parallel = 4\nmax_background = 4\n"
# Gates run (their test command is unset); any verdict lets main advance, so integration does
# all its steps.
_GATES = "[gates]\nthreshold = 0.0\n"


@dataclass(frozen=True)
class Timing:
    """One run, in seconds: wall time; for `implement` also dispatch and integration (from
    the event log); CPU time (user + system) of every process it ran, integration included."""

    wall: float
    cpu: float
    dispatch: float
    integration: float = 0.0


def run() -> str:
    """Prepare the repository once, time each contender on its own copy; the markdown section.

    The writing tasks and the git CLI take turns for ROUNDS rounds (medians reported), so a
    machine whose load changes slows both alike."""
    with tempfile.TemporaryDirectory(prefix="swarmgit-bench-") as tmp:
        root = Path(tmp)
        original = _swarm_repo(root / "original")
        serial: list[Timing] = []
        cli: list[Timing] = []
        for round_ in range(ROUNDS):
            for ours in (True, False) if round_ % 2 == 0 else (False, True):
                if ours:
                    serial.append(_implement(root, original, _SERIAL, noop=False))
                else:
                    cli.append(_git_cli(root, original))
        noop = _implement(root, original, _SERIAL, noop=True)
        parallel = _implement(root, original, _PARALLEL, noop=False)
    return _table(serial, cli, noop, parallel)


def _table(serial: list[Timing], cli: list[Timing], noop: Timing, parallel: Timing) -> str:
    git = _median(cli)
    ours = _median(serial)
    ratios = [s.dispatch / c.dispatch for s, c in zip(serial, cli)]
    ratio = statistics.median(ratios)
    verdict = "met" if ratio <= TARGET_RATIO else "NOT met"
    rows = [
        (f"swarmgit `implement`, 1 at a time, tasks write a file (median of {ROUNDS})", ours),
        ("swarmgit `implement`, 1 at a time, read-only no-op tasks (`Run: true`)", noop),
        ("swarmgit `implement`, `max_parallel = 4`, tasks write a file", parallel),
    ]
    lines = [
        "## implement: per-task overhead",
        "",
        f"{TASKS} independent script tasks on a {FILES:,}-file packed repository, each touching "
        "its own new file; `git swarm implement` run as a process (script backend, hook "
        "installed, gates' test command unset), each run on a fresh copy. Dispatch: process "
        "start to the last task done (event log), interpreter start-up included; integration: "
        "the rest (merge of every branch, scope re-check, gates, advancing main). CPU: user + "
        "system time of every process of the run, integration included. The git CLI does "
        "`worktree add -b`, writes the file, `add -A`, `commit`, task after task.",
        "",
        "| contender | wall | dispatch / task | integration | CPU / task | dispatch / git CLI |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    lines += [
        f"| {label} | {_s(t.wall)} | {ms(t.dispatch / TASKS)} | {_s(t.integration)} "
        f"| {ms(t.cpu / TASKS)} | {t.dispatch / git.dispatch:.2f}x |"
        for label, t in rows
    ]
    lines += [
        f"| git CLI, 1 at a time (median of {ROUNDS}) | {_s(git.wall)} "
        f"| {ms(git.dispatch / TASKS)} | - | {ms(git.cpu / TASKS)} | 1.00x |",
        "",
        "Per round, swarmgit dispatch / git CLI (writing tasks, 1 at a time): "
        + ", ".join(f"{r:.2f}x" for r in ratios)
        + ".",
        f"Target ≤ {TARGET_RATIO:.1f}x (median of the rounds): {verdict} ({ratio:.2f}x).",
    ]
    return "\n".join(lines)


def _median(timings: list[Timing]) -> Timing:
    """The run with the median dispatch time."""
    return sorted(timings, key=lambda t: t.dispatch)[len(timings) // 2]


def _swarm_repo(path: Path) -> Path:
    """The 1,000-file repository, checked out, with swarmgit initialised and both plans
    (writing and no-op tasks) committed as two tracks."""
    write_repo(path, FILES)
    git(path, "reset", "-q", "--hard")
    swarm(path, "init")
    for track, noop in ((TRACK, False), (f"{TRACK}-noop", True)):
        folder = path / "swarm" / "tracks" / track
        folder.mkdir(parents=True)
        (folder / "plan.md").write_text(_plan(noop), encoding="utf-8")
        (folder / "shared_context.md").write_text("# Shared context\n", encoding="utf-8")
    git(path, "add", "-A")
    git(path, "commit", "-q", "-m", "tracks")
    git(path, "repack", "-a", "-d", "-q")
    return path


def _plan(noop: bool) -> str:
    tasks = []
    for i in range(TASKS):
        touch = _task_file(i)
        run = "true" if noop else f"echo 'VALUE = {i}' > {touch}"
        # A task with touches that changes nothing fails: the no-op tasks are read-only.
        tasks.append(
            "\n".join(
                [
                    f"- [ ] **T{i:03d}**: task {i}",
                    "  - **Owner role:** Implementer",
                    "  - **Depends on:** none",
                    "  - **Touches:** read-only" if noop else f"  - **Touches:** `{touch}`",
                    f"  - **Concurrency class:** {'read-only' if noop else 'write-local'}",
                    "  - **Effort:** 30min",
                    f"  - **Run:** `{run}`",
                ]
            )
        )
    return "# Plan\n\n" + "\n".join(tasks) + "\n"


def _task_file(i: int) -> str:
    return f"pkg{i % 10:03d}/task_{i:03d}.py"


def _implement(root: Path, original: Path, config: str, *, noop: bool) -> Timing:
    repo = _fresh_copy(root, original)
    (repo / ".swarm.toml").write_text(config + _GATES, encoding="utf-8")
    track = f"{TRACK}-noop" if noop else TRACK
    began = time.time()
    cpu = _children_cpu()
    started = time.perf_counter()
    swarm(repo, "implement", track)
    wall = time.perf_counter() - started
    cpu = _children_cpu() - cpu
    last_done = _last_done(repo, track)
    shutil.rmtree(repo)
    shutil.rmtree(repo.parent / f"{repo.name}.swarm-worktrees")  # the default worktree root
    return Timing(wall=wall, cpu=cpu, dispatch=last_done - began, integration=began + wall - last_done)


def _last_done(repo: Path, track: str) -> float:
    """The event-log time of the last task to finish; every task must be done."""
    with sqlite3.connect(repo / ".git" / "swarm" / "state.db") as conn:
        done = conn.execute(
            "SELECT count(DISTINCT task), max(ts) FROM events WHERE track = ? AND kind = 'done'", (track,)
        ).fetchone()
    if done[0] != TASKS:
        raise RuntimeError(f"{done[0]} of {TASKS} tasks done in {repo}")
    return float(done[1])


def _git_cli(root: Path, original: Path) -> Timing:
    """The git CLI doing each task's worktree, file and commit, in turn."""
    repo = _fresh_copy(root, original)
    (repo / ".git" / "hooks" / "pre-commit").unlink()  # plain git: no scope check
    base = git(repo, "rev-parse", "HEAD")
    cpu = _children_cpu()
    started = time.perf_counter()
    for i in range(TASKS):
        worktree = repo.parent / f"{repo.name}-worktrees" / f"T{i:03d}"
        git(repo, "worktree", "add", "-q", "-b", f"swarm/{TRACK}/T{i:03d}", str(worktree), base)
        (worktree / _task_file(i)).write_text(f"VALUE = {i}\n", encoding="utf-8")
        git(worktree, "add", "-A")
        git(worktree, "commit", "-q", "-m", f"T{i:03d}: task {i}")
    wall = time.perf_counter() - started
    cpu = _children_cpu() - cpu
    shutil.rmtree(repo)
    shutil.rmtree(repo.parent / f"{repo.name}-worktrees")
    return Timing(wall=wall, cpu=cpu, dispatch=wall)


_copies = itertools.count(1)


def _fresh_copy(root: Path, original: Path) -> Path:
    copy = root / f"run{next(_copies)}"
    shutil.copytree(original, copy, symlinks=True)
    return copy


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _s(seconds: float) -> str:
    return f"{seconds:.2f} s"


if __name__ == "__main__":
    print(run())
