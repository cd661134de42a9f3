"""Benchmark: what the installed pre-commit hook adds to each `git commit`.

Two cases, each against the very same commit with no hook (`-c core.hooksPath=<empty dir>`),
interleaved in one run, medians over repeated commits (`git reset --soft HEAD~1` between the
runs of a pair, so both commit the same index):
(a) the fast path: the main worktree, one changed file; the hook decides in sh, no Python;
(b) a task worktree on `swarm/bench/T01` with 1, 100 and 1,000 staged files, all within its
    touches; the hook starts Python, reads the task's touches file (which the store wrote with
    its touches) and checks every path. Target: at most 25 ms of CPU added, whatever the number
    of staged files.

`run()` returns a markdown section; `python -m benchmarks.bench_hook` prints it.
"""

from __future__ import annotations

import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from benchmarks.gitbench import GIT_ENV, git
from swarmgit.gitops.hook_install import hook_import_path, install
from swarmgit.store.state import Store, TaskSpec

REPEATS = 21
STAGED_COUNTS = (1, 100, 1000)
TARGET_CPU_MS = 25.0


def run() -> str:
    with tempfile.TemporaryDirectory(prefix="swarmgit-bench-hook-") as tmp:
        root = Path(tmp)
        repo = _repo(root / "repo")
        no_hooks = root / "no-hooks"
        no_hooks.mkdir()
        install(repo)
        git(repo, "worktree", "add", "-q", "-b", "swarm/bench/T01", str(root / "wt"))
        rows = [
            _row(
                "(a) main worktree, 1 file (fast path, no Python)",
                repo,
                no_hooks,
                lambda i: _write(repo, "README.md", f"edit {i}\n"),
            ),
            *(
                _row(
                    f"(b) task worktree, {count:,} staged file(s) (scope check)",
                    root / "wt",
                    no_hooks,
                    lambda i, count=count: _stage_many(root / "wt", i, count),
                )
                for count in STAGED_COUNTS
            ),
        ]
    return "\n".join(
        [
            "## Pre-commit hook latency",
            "",
            f"Medians of {REPEATS} commits per case: the same commit with and without the hook, "
            f"interleaved. Target: at most {TARGET_CPU_MS:.0f} ms of CPU added. Wall time is what the user "
            "waits; CPU time (user + system of git, the hook and its children) is the cost, and "
            "stays comparable when the machine is busy.",
            "",
            "| case | no hook | with hook | wall added | ratio | CPU added | within target (CPU) |",
            "| --- | --- | --- | --- | --- | --- | --- |",
            *rows,
            "",
            "Where (b)'s Python time goes (the hook runs `python -I -S`):",
            "",
            "| step | wall | CPU |",
            "| --- | --- | --- |",
            *_startup_rows(),
        ]
    )


def _row(label: str, cwd: Path, no_hooks: Path, change: Callable[[int], object]) -> str:
    plain: list[tuple[float, float]] = []
    hooked: list[tuple[float, float]] = []
    for i in range(REPEATS):
        change(i)
        git(cwd, "add", "-A")
        runs = [(hooked, ()), (plain, ("-c", f"core.hooksPath={no_hooks}"))]
        for samples, config in runs if i % 2 else reversed(runs):
            samples.append(_timed(["git", *config, "commit", "-q", "-m", f"bench {i}"], cwd))
            git(cwd, "reset", "-q", "--soft", "HEAD~1")
        git(cwd, "commit", "-q", "--no-verify", "-m", f"bench {i}")
    base, with_hook = _median(plain, 0), _median(hooked, 0)
    cpu_added = _median(hooked, 1) - _median(plain, 1)
    verdict = "yes" if cpu_added <= TARGET_CPU_MS else "no"
    return (
        f"| {label} | {base:.1f} ms | {with_hook:.1f} ms | {with_hook - base:+.1f} ms | "
        f"{with_hook / base:.2f}x | {cpu_added:+.1f} ms | {verdict} |"
    )


def _startup_rows() -> list[str]:
    """Interpreter start, then the check's imports, then pathspec's share of them."""
    prefix = f"import sys; sys.path += {hook_import_path()!r}; "
    steps = [
        ("interpreter start", "pass"),
        ("start + import swarmgit.hookcheck (all it needs)", prefix + "import swarmgit.hookcheck"),
        ("start + import sqlite3 alone (only without a touches file)", "import sqlite3"),
        ("start + import pathspec (only for a glob touch)", prefix + "import pathspec"),
    ]
    rows = []
    for label, code in steps:
        samples = [_timed([sys.executable, "-I", "-S", "-c", code], Path.cwd()) for _ in range(REPEATS)]
        rows.append(f"| {label} | {_median(samples, 0):.1f} ms | {_median(samples, 1):.1f} ms |")
    return rows


def _timed(command: list[str], cwd: Path) -> tuple[float, float]:
    """(wall ms, CPU ms of the process and every descendant it waited for)."""
    before, started = resource.getrusage(resource.RUSAGE_CHILDREN), time.perf_counter()
    subprocess.run(command, cwd=cwd, env=GIT_ENV, check=True, capture_output=True)
    wall, after = time.perf_counter() - started, resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return wall * 1000, cpu * 1000


def _median(samples: list[tuple[float, float]], column: int) -> float:
    return statistics.median(sample[column] for sample in samples)


def _stage_many(worktree: Path, round_: int, count: int) -> None:
    for n in range(count):
        _write(worktree, f"src/pkg{n % 10}/mod_{n}.py", f"VALUE = {round_ + 1}\n")


def _repo(path: Path) -> Path:
    path.mkdir(parents=True)
    git(path, "init", "-q", "-b", "main")
    _write(path, "README.md", "# bench\n")
    for n in range(max(STAGED_COUNTS)):
        _write(path, f"src/pkg{n % 10}/mod_{n}.py", "VALUE = 0\n")
    git(path, "add", "-A")
    git(path, "commit", "-q", "-m", "initial")
    with Store.open(path / ".git") as store:
        store.sync_tasks("bench", [TaskSpec("T01", "bench", ("src/",), ())])
    return path


def _write(root: Path, rel: str, text: str) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    print(run())
