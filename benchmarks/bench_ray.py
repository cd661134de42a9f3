"""Benchmark: the Ray executor against the local one, and simulating a cluster run.

1. The same 50-task track (independent script tasks, each writing its own new file) run by
   `git swarm implement` as a process, once with `executor = "local"` and once with
   `executor = "ray"` on a real two-node cluster on loopback (a head without agent slots and a
   worker node with 2, started as in tests/raycluster.py), both with 2 tasks at a time and a
   bare repository on a local path as the shared remote. Dispatch: process start to the last
   task done (event log), spread over the tasks; the per-task overhead ratio is ray / local.
   The cluster's start-up is not counted.
2. `simulate` of a 10,000-task random plan (the scheduler benchmark's generator) for a 20-node
   cluster with 4 agent slots per node (80 parallel slots), as
   `git swarm simulate --executor ray --nodes 20 --slots 4` runs it.

`run()` returns a markdown section; `python -m benchmarks.bench_ray` prints it.
"""

from __future__ import annotations

import random
import shutil
import sqlite3
import tempfile
import time
from pathlib import Path

from benchmarks.bench_scheduler import SEED, random_plan, tree
from benchmarks.gitbench import git, ms, swarm
from swarmgit.domain.scheduler import Limits
from swarmgit.domain.simulate import simulate

TASKS = 50
TRACK = "bench"
SLOTS = 2
NODES, NODE_SLOTS, PLAN_TASKS = 20, 4, 10_000
_CONFIG = f"[concurrency]\nmax_parallel = {SLOTS}\nmax_background = {SLOTS}\n[gates]\nthreshold = 0.0\n"


def run() -> str:
    from tests.raycluster import ray_cluster  # the same cluster as the slow tests

    with tempfile.TemporaryDirectory(prefix="swarmgit-bench-ray-") as tmp:
        root = Path(tmp)
        local = _dispatch(_repo(root / "local", _CONFIG))
        with ray_cluster(root) as address:
            config = f'executor = "ray"\n{_CONFIG}[ray]\naddress = "{address}"\n'
            repo = _repo(root / "ray", config)
            git(root, "clone", "-q", "--bare", str(repo), str(root / "remote.git"))
            git(repo, "remote", "add", "origin", str(root / "remote.git"))
            ray = _dispatch(repo)
    return _section(local, ray, _simulated())


def _repo(path: Path, config: str) -> Path:
    path.mkdir(parents=True)
    git(path, "init", "-q", "-b", "main")
    (path / "README.md").write_text("# bench\n", encoding="utf-8")
    git(path, "add", "-A")
    git(path, "commit", "-q", "-m", "init")
    swarm(path, "init")
    (path / ".swarm.toml").write_text(config, encoding="utf-8")
    folder = path / "swarm" / "tracks" / TRACK
    folder.mkdir(parents=True)
    (folder / "plan.md").write_text(_plan(), encoding="utf-8")
    (folder / "shared_context.md").write_text("# Shared context\n", encoding="utf-8")
    git(path, "add", "-A")
    git(path, "commit", "-q", "-m", "track")
    return path


def _plan() -> str:
    return (
        "# Plan\n\n"
        + "\n".join(
            "\n".join(
                [
                    f"- [ ] **T{i:02d}**: task {i}",
                    "  - **Owner role:** Implementer",
                    "  - **Depends on:** none",
                    f"  - **Touches:** `src/task_{i:02d}.py`",
                    "  - **Concurrency class:** write-local",
                    "  - **Effort:** 30min",
                    f"  - **Run:** `mkdir -p src && echo 'VALUE = {i}' > src/task_{i:02d}.py`",
                ]
            )
            for i in range(TASKS)
        )
        + "\n"
    )


def _dispatch(repo: Path) -> float:
    """Seconds from `implement`'s start to its last task done; every task must be done."""
    began = time.time()
    swarm(repo, "implement", TRACK)
    with sqlite3.connect(repo / ".git" / "swarm" / "state.db") as conn:
        count, last = conn.execute(
            "SELECT count(DISTINCT task), max(ts) FROM events WHERE track = ? AND kind = 'done'", (TRACK,)
        ).fetchone()
    if count != TASKS:
        raise RuntimeError(f"{count} of {TASKS} tasks done in {repo}")
    shutil.rmtree(repo.parent / f"{repo.name}.swarm-worktrees", ignore_errors=True)
    return float(last) - began


def _simulated() -> tuple[float, float, float]:
    """(wall seconds, makespan hours, speedup) of simulating the 10,000-task plan."""
    plan = random_plan(random.Random(SEED), PLAN_TASKS, tree(400))
    slots = NODES * NODE_SLOTS
    began = time.perf_counter()
    sim = simulate(plan, Limits(max_background=slots, max_foreground=slots, max_parallel=slots))
    return time.perf_counter() - began, sim.makespan_hours, sim.speedup


def _section(local: float, ray: float, sim: tuple[float, float, float]) -> str:
    wall, makespan, speedup = sim
    return "\n".join(
        [
            "## Ray executor",
            "",
            f"{TASKS} independent script tasks (each writes its own new file), `git swarm implement` "
            f"as a process, {SLOTS} at a time. Local: threads on this machine. Ray: a two-node cluster "
            f"on loopback (head without agent slots, a worker node with {SLOTS}), a bare repository "
            "on a local path as the remote; each task fetches its start ref into a fresh folder, "
            "runs, commits, pushes, and the head fetches and re-checks it. Cluster start-up not "
            "counted. Dispatch: process start to the last task done.",
            "",
            "| executor | dispatch | per task |",
            "| --- | ---: | ---: |",
            f"| local | {local:.1f} s | {ms(local / TASKS)} |",
            f"| ray (2-node loopback cluster) | {ray:.1f} s | {ms(ray / TASKS)} |",
            "",
            f"Per-task overhead ratio, ray / local: **{ray / local:.2f}x** "
            f"(+{ms((ray - local) / TASKS)} per task).",
            "",
            f"`simulate` of a {PLAN_TASKS:,}-task random plan for a {NODES}-node cluster with "
            f"{NODE_SLOTS} agent slots per node ({NODES * NODE_SLOTS} parallel slots, "
            f"`--executor ray --nodes {NODES} --slots {NODE_SLOTS}`): {wall:.2f} s wall; predicted "
            f"makespan {makespan:.1f} h, speedup {speedup:.1f}x over serial.",
        ]
    )


if __name__ == "__main__":
    print(run())
