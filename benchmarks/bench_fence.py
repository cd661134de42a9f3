"""Benchmark: what the write fence adds to each agent process start.

The same command (`true`) started plainly and through the fence launcher (`python -I -S
launch.py --write ... -- true`: interpreter start, the Landlock ruleset of a task with three
touches plus its scratch folder and the devices, restrict, exec), interleaved, medians over
REPEATS starts. Wall time is what a task start waits; CPU time (user + system of the process
and its children) is the cost, and stays comparable when the machine is busy. The breakdown
shows where the launcher's time goes. Target: a few milliseconds (TARGET_MS) added.

`run()` returns a markdown section; `python -m benchmarks.bench_fence` prints it.
"""
from __future__ import annotations

import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from swarmgit.sandbox.fence import LAUNCHER, fenced_argv, task_fence, unavailable

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
        fence = task_fence(root / "wt", ("src/api/", "docs/", "README.md"), root / "scratch",
                           required=True)
        plain, fenced = _interleaved(["true"], fenced_argv(fence, ["true"]))
    added = _median(fenced, 0) - _median(plain, 0)
    verdict = "yes" if added <= TARGET_MS else "no"
    return "\n".join([
        "## Write fence start-up cost",
        "",
        f"Medians of {REPEATS} starts of `true`, plain and through the fence launcher "
        f"({len(fence.writable)} writable paths), interleaved. Target: at most {TARGET_MS:.0f} ms "
        "added per agent process start.",
        "",
        "| case | wall | CPU |",
        "| --- | --- | --- |",
        f"| plain `true` | {_median(plain, 0):.1f} ms | {_median(plain, 1):.1f} ms |",
        f"| fenced `true` | {_median(fenced, 0):.1f} ms | {_median(fenced, 1):.1f} ms |",
        f"| **added** | **{added:+.1f} ms** | {_median(fenced, 1) - _median(plain, 1):+.1f} ms |",
        "",
        f"Within target: {verdict}. Where the launcher's time goes:",
        "",
        "| step | wall | CPU |",
        "| --- | --- | --- |",
        *_startup_rows(),
    ])


def _interleaved(a: list[str], b: list[str]) -> tuple[list[tuple[float, float]], ...]:
    first: list[tuple[float, float]] = []
    second: list[tuple[float, float]] = []
    for i in range(REPEATS):
        pairs = [(first, a), (second, b)]
        for samples, argv in pairs if i % 2 else reversed(pairs):
            samples.append(_timed(argv))
    return first, second


def _startup_rows() -> list[str]:
    folder = str(LAUNCHER.parent)
    steps = [
        ("interpreter start (`python -I -S -c pass`)", "pass"),
        ("start + import the binding (ctypes)", f"import sys; sys.path.insert(0, {folder!r}); import landlock"),
        ("start + an empty ruleset applied", f"import sys; sys.path.insert(0, {folder!r}); "
                                             "import landlock; landlock.restrict_writes([])"),
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
