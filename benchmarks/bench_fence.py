"""Benchmark: what the write fence adds to each agent process start.

The same command (`true`) started plainly and under the fence, interleaved, medians over
REPEATS starts. Fenced as agents are (`start_fenced`: a new thread builds the Landlock ruleset
of a task with three touches plus its scratch folder and the devices, restricts itself and
starts the process), and through the launcher a tool is given as its program (`fenced_cli`:
`python -I -S launch.py --write ... -- true`, an interpreter start more). Wall time is what a
task start waits; CPU time (user + system of this process, all its threads, and its children)
is the cost, and stays comparable when the machine is busy. The breakdown shows where the
launcher's time goes. Target: a few milliseconds (TARGET_MS) added.

`run()` returns a markdown section; `python -m benchmarks.bench_fence` prints it.
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

from swarmgit.domain.fence import Fence
from swarmgit.sandbox.fence import LAUNCHER, fenced_argv, start_fenced, task_fence, unavailable

REPEATS = 41
TARGET_MS = 5.0


def run() -> str:
    if unavailable():
        return f"## Write fence start-up cost\n\nNot measured: {unavailable()}."
    with tempfile.TemporaryDirectory(prefix="swarmgit-bench-fence-") as tmp:
        root = Path(tmp)
        (root / "wt" / "src" / "api").mkdir(parents=True)
        (root / "wt" / "README.md").write_text("# r\n")
        (root / "scratch").mkdir()
        fence = task_fence(root / "wt", ("src/api/", "docs/", "README.md"), root / "scratch", required=True)
        plain, fenced, launched = _interleaved(
            lambda: _started(["true"]),
            lambda: _started(["true"], fence),
            lambda: _started(fenced_argv(fence, ["true"])),
        )
    cpu_added = _median(fenced, 1) - _median(plain, 1)
    verdict = "yes" if cpu_added <= TARGET_MS else "no"
    return "\n".join(
        [
            "## Write fence start-up cost",
            "",
            f"Medians of {REPEATS} starts of `true` ({len(fence.writable)} writable paths), "
            "interleaved: plain; fenced as agent processes are (a new thread restricts itself with "
            "Landlock and starts the process: no new interpreter); and through the launcher, "
            "which only a tool given a program path runs (the Claude Code SDK's `cli_path`). CPU: "
            f"this process's threads and the child. Target: at most {TARGET_MS:.0f} ms added per "
            "agent process start.",
            "",
            "| case | wall | CPU | added wall | added CPU |",
            "| --- | --- | --- | --- | --- |",
            f"| plain `true` | {_median(plain, 0):.1f} ms | {_median(plain, 1):.1f} ms | | |",
            _row("**fenced `true`** (`start_fenced`)", fenced, plain),
            _row("through the launcher (`fenced_cli`)", launched, plain),
            "",
            f"Within target (CPU, `start_fenced`): {verdict}. Where the launcher's time goes:",
            "",
            "| step | wall | CPU |",
            "| --- | --- | --- |",
            *_startup_rows(),
        ]
    )


def _row(label: str, samples: list[tuple[float, float]], plain: list[tuple[float, float]]) -> str:
    wall, cpu = _median(samples, 0), _median(samples, 1)
    return (
        f"| {label} | {wall:.1f} ms | {cpu:.1f} ms | {wall - _median(plain, 0):+.1f} ms | "
        f"**{cpu - _median(plain, 1):+.1f} ms** |"
    )


def _interleaved(*cases: Callable[[], tuple[float, float]]) -> list[list[tuple[float, float]]]:
    samples: list[list[tuple[float, float]]] = [[] for _ in cases]
    for i in range(REPEATS):
        order = list(range(len(cases)))
        for n in order if i % 2 else reversed(order):
            samples[n].append(cases[n]())
    return samples


def _started(argv: list[str], fence: Fence | None = None) -> tuple[float, float]:
    """(wall ms, CPU ms) of starting `argv` (under `fence`) and waiting for it: this process,
    every thread included, plus the child."""

    def start() -> subprocess.Popen[bytes]:
        return subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    before = [resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
    started = time.perf_counter()
    proc = start() if fence is None else start_fenced(fence, start)
    if proc.wait() != 0:
        raise RuntimeError(f"{argv} failed")
    wall = time.perf_counter() - started
    after = [resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
    cpu = sum(a.ru_utime + a.ru_stime - b.ru_utime - b.ru_stime for a, b in zip(after, before))
    return wall * 1000, cpu * 1000


def _startup_rows() -> list[str]:
    folder = str(LAUNCHER.parent)
    steps = [
        ("interpreter start (`python -I -S -c pass`)", "pass"),
        (
            "start + import the binding (ctypes)",
            f"import sys; sys.path.insert(0, {folder!r}); import landlock",
        ),
        (
            "start + an empty ruleset applied",
            f"import sys; sys.path.insert(0, {folder!r}); import landlock; landlock.restrict_writes([])",
        ),
    ]
    rows = []
    for label, code in steps:
        samples = [_timed([sys.executable, "-I", "-S", "-c", code]) for _ in range(REPEATS)]
        rows.append(f"| {label} | {_median(samples, 0):.1f} ms | {_median(samples, 1):.1f} ms |")
    return rows


def _timed(command: list[str]) -> tuple[float, float]:
    """(wall ms, CPU ms of the process and every descendant it waited for)."""
    before, started = resource.getrusage(resource.RUSAGE_CHILDREN), time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)
    wall, after = time.perf_counter() - started, resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return wall * 1000, cpu * 1000


def _median(samples: list[tuple[float, float]], column: int) -> float:
    return statistics.median(sample[column] for sample in samples)


if __name__ == "__main__":
    print(run())
