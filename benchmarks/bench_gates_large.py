"""Gates on a one-file change to a tree of millions of lines, cold and warm, against pylint.

The sdist of the `ansible` community package from PyPI (every collection it ships: about 5.3M
lines of Python in 17.8k files; downloaded once into benchmarks/.work/cache) is committed into a
temporary repository (on the RAM disk when there is one). Collections are namespace packages,
which Gate-M does not treat as packages, so an empty `__init__.py` is added to every folder of
`ansible_collections/` that holds Python code (or a folder that does): the tree becomes one
package of about 17.8k modules, and Gate-M builds its import graphs over all of it. Gate-I seeks
copies in every file of that top-level folder. Then:
- cold: an empty gate cache; the four static gates judge base..head, where head adds a function
  to one module (EDITED);
- warm: WARM_RUNS fix rounds, each a new edit of the same file (a new blob) judged against base
  with the per-file cache the earlier runs left: only the edited file is computed again;
- the last head once more without the cache: its results must equal the cached ones.
Each run builds its own GateContext (diff, gates, cache written), as `run_gates` does when its
whole-result cache misses. pylint `--disable=all --enable=similarities` on the same folder is
stopped after PYLINT_LIMIT seconds (the ratio is then a lower bound).

`run()` returns a markdown section; run alone with `python -m benchmarks gates_large`.
"""

from __future__ import annotations

import importlib.util
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from benchmarks.bench_gates import WORK, BenchError, bench_git, sdist
from swarmgit.config import Gates
from swarmgit.gates.base import GateContext, GateResult, scratch_root
from swarmgit.gates.runner import GATES, combine

PROJECT = "ansible"
TOP = "ansible_collections"
EDITED = "ansible_collections/community/general/plugins/modules/ini_file.py"
WARM_RUNS = 4
PYLINT_LIMIT = 420  # seconds
TARGET_SECONDS = 3.0
SPEEDUP = 10  # pylint must take at least this many times the warm gates
ADDITION = '''

def section_names{round}(lines):
    """Names of the sections in the lines of an INI file."""
    return [line.strip()[1:-1] for line in lines if line.strip().startswith("[")]
'''


@dataclass(frozen=True)
class Run:
    """One judgement of base..head: wall and CPU seconds, per gate and in total."""

    wall: float
    cpu: float
    gates: dict[str, float]  # wall seconds per gate key
    results: tuple[GateResult, ...]


@dataclass(frozen=True)
class Large:
    """Everything the section reports."""

    version: str
    files: int
    python_files: int
    python_lines: int
    cold: Run
    warm: list[Run]
    uncached: Run
    pylint: float | None  # seconds; None when stopped at PYLINT_LIMIT
    notes: list[str]


def run() -> str:
    """The large-tree gates benchmark as a markdown section."""
    try:
        return _markdown(_measure())
    except BenchError as exc:
        return f"## Gates on a large tree ({PROJECT})\n\nNot run: {exc}\n"


def _measure() -> Large:
    archive = sdist(PROJECT, f"{PROJECT}-*.tar.gz")
    with tempfile.TemporaryDirectory(prefix="gates-large-", dir=scratch_root() or WORK) as tmp:
        repo = Path(tmp) / "repo"
        _base(archive, repo)
        python = [p for p in bench_git(repo, "ls-files", "*.py").splitlines()]
        lines = sum(_line_count(repo / p) for p in python)
        notes = [f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores at the start."]
        cold = _judge(repo, _edit(repo, 0))
        warm = [_judge(repo, _edit(repo, n)) for n in range(1, WARM_RUNS + 1)]
        uncached = _judge(repo, "HEAD", cached=False)
        return Large(
            version=archive.name.removesuffix(".tar.gz").split("-", 1)[1],
            files=len(bench_git(repo, "ls-files").splitlines()),
            python_files=len(python),
            python_lines=lines,
            cold=cold,
            warm=warm,
            uncached=uncached,
            pylint=_pylint(repo, Path(tmp), notes),
            notes=notes,
        )


def _base(archive: Path, repo: Path) -> None:
    with tarfile.open(archive) as opened:
        opened.extractall(repo.parent, filter="data")
    (top,) = [p for p in repo.parent.iterdir() if p.name.startswith(f"{PROJECT}-")]
    top.rename(repo)
    _make_packages(repo / TOP)
    bench_git(repo, "init", "--quiet", "-b", "main")
    bench_git(repo, "add", "-A")
    bench_git(repo, "commit", "--quiet", "-m", "ansible as released, ansible_collections a package")
    bench_git(repo, "tag", "base")
    bench_git(repo, "repack", "-adq")


def _make_packages(top: Path) -> None:
    """An empty `__init__.py` in every folder below `top` that holds Python code, and in the
    folders between."""
    folders = {top}
    for module in top.rglob("*.py"):
        folders.update(p for p in module.parents if p.is_relative_to(top))
    for folder in folders:
        if all(part.isidentifier() for part in folder.relative_to(top.parent).parts):
            (folder / "__init__.py").touch()


def _edit(repo: Path, round_: int) -> str:
    """Commit round `round_` of the change to EDITED (on top of base); its commit id."""
    bench_git(repo, "checkout", "--quiet", "base", "--", EDITED)
    with (repo / EDITED).open("a", encoding="utf-8") as handle:
        handle.write(ADDITION.format(round=f"_{round_}" if round_ else ""))
    bench_git(repo, "commit", "--quiet", "-am", f"ini_file: section names, round {round_}")
    return bench_git(repo, "rev-parse", "HEAD")


def _line_count(path: Path) -> int:
    with path.open("rb") as handle:
        return sum(1 for _ in handle)


def _judge(repo: Path, head: str, *, cached: bool = True) -> Run:
    gates: dict[str, float] = {}
    wall, cpu = time.perf_counter(), time.process_time()
    with GateContext.between(repo, "base", head, Gates(), cached=cached) as ctx:
        results = []
        for gate in GATES:
            began = time.perf_counter()
            results.append(gate.evaluate(ctx))
            gates[gate.key] = time.perf_counter() - began
    return Run(time.perf_counter() - wall, time.process_time() - cpu, gates, tuple(results))


def _pylint(repo: Path, scratch: Path, notes: list[str]) -> float | None:
    """Seconds pylint's similarity checker takes on TOP; None when stopped at PYLINT_LIMIT."""
    if importlib.util.find_spec("pylint") is None:
        raise BenchError("pylint is not installed: `pip install -e '.[bench]'`")
    command = [sys.executable, "-m", "pylint", "--disable=all", "--enable=similarities", "--score=n", TOP]
    env = {**os.environ, "PYLINTHOME": str(scratch / "pylint-home")}
    start = time.perf_counter()
    try:
        subprocess.run(command, cwd=repo, env=env, capture_output=True, timeout=PYLINT_LIMIT)
    except subprocess.TimeoutExpired:
        notes.append(f"pylint was stopped after {PYLINT_LIMIT} s, unfinished.")
        return None
    return time.perf_counter() - start


def _markdown(m: Large) -> str:
    warm_wall = statistics.median(r.wall for r in m.warm)
    warm_cpu = statistics.median(r.cpu for r in m.warm)
    same = all(r.results == m.uncached.results for r in m.warm[-1:])
    met = "met" if warm_cpu <= TARGET_SECONDS else "NOT met"
    if m.pylint is None:
        pylint, ratio = f"> {PYLINT_LIMIT} (stopped)", f"> {PYLINT_LIMIT / warm_wall:.0f}x"
    else:
        pylint, ratio = f"{m.pylint:.1f}", f"{m.pylint / warm_wall:.0f}x"
    report = combine(m.uncached.results, Gates().threshold)
    out = [
        f"## Gates on a one-file change to a large tree ({PROJECT} {m.version})",
        "",
        f"The `{PROJECT}` sdist from PyPI: {m.files} files, {m.python_files} Python files, "
        f"{m.python_lines:,} lines of Python, all in `{TOP}/` (made regular packages by "
        f"empty `__init__.py` files). The change appends a function to `{EDITED}`. Cold: an "
        f"empty gate cache. Warm: the median of {WARM_RUNS} fix rounds, each a new edit of "
        "that file judged against base with the per-file cache (clone fingerprints, public "
        "API surface, imports, by blob id) the earlier runs left; the edit keeps the module's "
        "imports, so Gate-M scans that module at both sides and builds no graph. CPU includes "
        "grimp's scanner threads; wall time (and each gate's column, wall seconds) depends on the "
        f"machine's load. Target: warm <= {TARGET_SECONDS:g} s CPU: **{met}**; pylint's "
        f"similarity checker on the same folder (wall) at least {SPEEDUP}x the warm gates' "
        f"wall time: {ratio}.",
        "",
        "| run | wall (s) | CPU (s) | Gate-I | Gate-O | Gate-M | Gate-S |",
        "| --- | --- | --- | --- | --- | --- | --- |",
        _row("cold (empty cache)", m.cold),
        *(_row(f"warm, round {n}", r) for n, r in enumerate(m.warm, start=1)),
        f"| **warm (median)** | **{warm_wall:.2f}** | **{warm_cpu:.2f}** | | | | |",
        _row("last round without the cache", m.uncached),
        f"| pylint --disable=all --enable=similarities, `{TOP}/` | {pylint} | | | | | |",
        "",
        f"Cached and uncached results of the last round identical: **{'yes' if same else 'NO'}**"
        f" (IOSM-Index {report.index_text}, {report.verdict}; "
        f"{sum(len(r.findings) for r in report.results)} findings).",
        "",
    ]
    out += [f"Note: {n}" for n in m.notes]
    return "\n".join(out).rstrip() + "\n"


def _row(label: str, run: Run) -> str:
    gates = " | ".join(f"{run.gates[g.key]:.2f}" for g in GATES)
    return f"| {label} | {run.wall:.2f} | {run.cpu:.2f} | {gates} |"


if __name__ == "__main__":
    print(run())
