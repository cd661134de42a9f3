"""Scheduling quality and speed.

Quality on small plans (8–30 tasks, lock-heavy): makespan / the exact optimum, found by
OR-Tools' CP-SAT (`pip install -e '.[bench]'`), with 2, 4 and 8 workers; and whether a plan ever
takes longer with more workers (1 to 8). Quality on large plans (20–500 tasks): makespan / a lower
bound (the largest of the critical path, total work / workers, and the work of the tasks that all
write one same path; valid but loose on lock-heavy plans, so it overstates the distance to the
best schedule), for ours, for critical path first without the forward-backward improvement,
and for wave barriers. Speed: CPU time and peak memory of `simulate` on 10k- and 100k-task plans,
each in a fresh process.

`run()` returns a markdown section; run alone with `python -m benchmarks.bench_scheduler`.
"""

from __future__ import annotations

import json
import math
import random
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from swarmgit.domain import priority as priority_module
from swarmgit.domain.plan import Plan, Severity, Task
from swarmgit.domain.scheduler import Limits, Scheduler
from swarmgit.domain.simulate import simulate
from swarmgit.domain.touches import conflicts

SEED = 20250101
PLANS = 60
WORKERS = (2, 4, 8)
TARGET_MEDIAN, TARGET_P95 = 1.05, 1.20
EFFORTS = (30, 60, 90, 120, 150, 240, 480)
SPEED_TASKS = (10_000, 100_000)
SMALL_PLANS = 60  # x 3 worker counts: instances solved exactly
OPTIMUM_MEDIAN, OPTIMUM_P95, OPTIMUM_MAX = 1.0, 1.05, 1.15
CP_SAT_SECONDS = 10.0  # per instance; an instance not proven optimal in time is left out


def tree(packages: int, deep_glob: bool = False) -> list[str]:
    """Touch targets of a small Python project: package folders, their files, two globs.

    `deep_glob` adds `src/**/__init__.py`. A `**` glob overlaps every touch below its prefix
    (a touch `src/a.py` may name a folder, and `src/a.py/__init__.py` would match both), so it
    serialises against all of `src/`.
    """
    nodes = ["docs/", "README.md", "pyproject.toml", "tests/conftest.py", "docs/*.md"]
    nodes += ["src/pkg0/*.py"] + (["src/**/__init__.py"] if deep_glob else [])
    for p in range(packages):
        nodes += [f"src/pkg{p}/", f"tests/pkg{p}/"]
        nodes += [f"src/pkg{p}/mod{m}.py" for m in range(4)]
    return nodes


def random_plan(rng: random.Random, size: int, nodes: Sequence[str]) -> Plan:
    """A random DAG: each task depends on 0–3 of the tasks created shortly before it and
    writes 0–2 random nodes of the tree."""
    window = max(4, size // 6)
    tasks: list[Task] = []
    for k in range(size):
        earlier = range(max(0, k - window), k)
        deps = rng.sample(earlier, min(len(earlier), rng.choice((0, 1, 1, 2, 3))))
        tasks.append(
            Task(
                id=f"T{k:05d}",
                title=f"task {k}",
                deps=tuple(f"T{d:05d}" for d in deps),
                touches=tuple(rng.sample(nodes, rng.choice((0, 1, 1, 1, 2)))),
                effort_minutes=rng.choice(EFFORTS),
                severity=rng.choice(list(Severity)),
            )
        )
    return Plan(tasks=tuple(tasks))


def overlap(a: Sequence[str], b: Sequence[str]) -> bool:
    """Whether some touch of `a` conflicts with some touch of `b`."""
    return any(conflicts(x, y) for x in a for y in b)


def overlap_share(plan: Plan) -> float:
    """Share of task pairs whose touches overlap."""
    tasks = plan.tasks
    hits = sum(overlap(a.touches, b.touches) for i, a in enumerate(tasks) for b in tasks[i + 1 :])
    return hits / max(1, len(tasks) * (len(tasks) - 1) // 2)


@contextmanager
def critical_path_first_only() -> Iterator[None]:
    saved = priority_module.IMPROVE_MAX_TASKS
    priority_module.IMPROVE_MAX_TASKS = 0
    try:
        yield
    finally:
        priority_module.IMPROVE_MAX_TASKS = saved


def _p95(values: Sequence[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[-1]


def quality(nodes: Sequence[str]) -> tuple[str, bool]:
    """A markdown table of ratios per worker count, and whether the targets were met."""
    rng = random.Random(SEED)
    plans = [random_plan(rng, rng.randint(20, 500), nodes) for _ in range(PLANS)]
    rows, met = [], True
    for workers in WORKERS:
        limits = Limits(max_background=workers, max_foreground=1, max_parallel=workers)
        ours, plain, waves = [], [], []
        for plan in plans:
            sim = simulate(plan, limits)
            ours.append(sim.makespan_hours / sim.lower_bound_hours)
            waves.append(sim.waves_makespan_hours / sim.lower_bound_hours)
            with critical_path_first_only():
                minutes = Scheduler(plan).makespan_minutes(limits) or 0
            plain.append(minutes / 60 / sim.lower_bound_hours)
        ok = statistics.median(ours) <= TARGET_MEDIAN and _p95(ours) <= TARGET_P95
        met &= ok
        figures = [f(v) for v in (ours, plain, waves) for f in (statistics.median, _p95)]
        cells = [str(workers), *(f"{x:.3f}" for x in figures), f"{max(ours):.3f}"]
        rows.append(f"| {' | '.join(cells)} | {'yes' if ok else 'no'} |")
    sizes = sorted(len(p.tasks) for p in plans)
    share = statistics.mean(overlap_share(p) for p in plans[:12])
    text = (
        f"{PLANS} plans of {sizes[0]}–{sizes[-1]} tasks (seed {SEED}), touches from a "
        f"{len(nodes)}-node tree; {share:.0%} of task pairs overlap.\n\n"
        "| workers | ours median | ours p95 | critical-path-first median | critical-path-first p95 "
        "| waves median | waves p95 | ours max | target met |\n"
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |\n" + "\n".join(rows) + "\n"
    )
    return text, met


def optimum_minutes(plan: Plan, limits: Limits) -> int | None:
    """The shortest makespan any schedule reaches (deps, touch locks, slot limits), proven by
    CP-SAT; None if not proven within CP_SAT_SECONDS."""
    from ortools.sat.python import cp_model

    unit = math.gcd(*(t.effort_minutes for t in plan.tasks))
    horizon = sum(t.effort_minutes for t in plan.tasks) // unit
    model = cp_model.CpModel()
    start = {t.id: model.new_int_var(0, horizon, t.id) for t in plan.tasks}
    interval = {
        t.id: model.new_fixed_size_interval_var(start[t.id], t.effort_minutes // unit, f"i{t.id}")
        for t in plan.tasks
    }
    end = model.new_int_var(0, horizon, "makespan")
    for t in plan.tasks:
        model.add(end >= start[t.id] + t.effort_minutes // unit)
        for dep in t.deps:
            model.add(start[t.id] >= start[dep] + plan.tasks[plan.ids.index(dep)].effort_minutes // unit)
    for i, a in enumerate(plan.tasks):
        for b in plan.tasks[i + 1 :]:
            if overlap(a.touches, b.touches):
                model.add_no_overlap([interval[a.id], interval[b.id]])
    for members, cap in (
        (plan.tasks, limits.max_parallel),
        ([t for t in plan.tasks if not t.needs_user_input], limits.max_background),
        ([t for t in plan.tasks if t.needs_user_input], limits.max_foreground),
    ):
        model.add_cumulative([interval[t.id] for t in members], [1] * len(members), cap)
    model.minimize(end)
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = CP_SAT_SECONDS
    solver.parameters.num_workers = 1
    status = solver.solve(model)
    return int(solver.objective_value) * unit if status == cp_model.OPTIMAL else None


def small_plans() -> list[Plan]:
    """Lock-heavy plans of 8–30 tasks: half drawn from the small tree, half from the tree with
    `src/**/__init__.py`, which overlaps every touch under `src/`."""
    rng = random.Random(SEED)
    trees = (tree(1), tree(1, deep_glob=True))
    return [random_plan(rng, rng.randint(8, 30), trees[k % 2]) for k in range(SMALL_PLANS)]


def against_optimum() -> tuple[str, bool]:
    """A markdown table of makespan / optimum per worker count, the monotonicity check, and
    whether the targets were met."""
    plans = small_plans()
    rows, met, unproven = [], True, 0
    for workers in WORKERS:
        limits = Limits(max_background=workers, max_foreground=1, max_parallel=workers)
        ratios = []
        for plan in plans:
            best = optimum_minutes(plan, limits)
            if best is None:
                unproven += 1
                continue
            ratios.append((Scheduler(plan).makespan_minutes(limits) or 0) / best)
        ok = (
            statistics.median(ratios) <= OPTIMUM_MEDIAN
            and _p95(ratios) <= OPTIMUM_P95
            and max(ratios) <= OPTIMUM_MAX
        )
        met &= ok
        optimal = sum(r == 1.0 for r in ratios) / len(ratios)
        rows.append(
            f"| {workers} | {len(ratios)} | {statistics.median(ratios):.3f} | {_p95(ratios):.3f} "
            f"| {max(ratios):.3f} | {optimal:.0%} | {'yes' if ok else 'no'} |"
        )
    slower = 0
    for plan in plans:
        scheduler = Scheduler(plan)
        spans = [scheduler.makespan_minutes(Limits(w, 1, w)) or 0 for w in range(1, 9)]
        slower += any(later > earlier for earlier, later in zip(spans, spans[1:]))
    met &= slower == 0
    sizes = sorted(len(p.tasks) for p in plans)
    share = statistics.mean(overlap_share(p) for p in plans)
    text = (
        f"{SMALL_PLANS} plans of {sizes[0]}–{sizes[-1]} tasks (seed {SEED}); {share:.0%} of task "
        f"pairs overlap. Optimum proven by CP-SAT ({unproven} instances not proven within "
        f"{CP_SAT_SECONDS:.0f} s left out).\n\n"
        "| workers | instances | median | p95 | max | optimal | target met |\n"
        "| --- | --- | --- | --- | --- | --- | --- |\n" + "\n".join(rows) + "\n\n"
        f"Plans slower with more workers (1 to 8, each plan): **{slower}** of {SMALL_PLANS}.\n"
    )
    return text, met


def speed_one(tasks: int, packages: int) -> dict[str, float]:
    """simulate() of one random plan in this process: CPU seconds, peak RSS MB, figures."""
    plan = random_plan(random.Random(SEED), tasks, tree(packages))
    began = time.process_time()
    sim = simulate(plan, Limits(max_background=8, max_foreground=1, max_parallel=8))
    return {
        "cpu": time.process_time() - began,
        "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "touches": len({t for task in plan.tasks for t in task.touches}),
        "edges": sum(map(len, sim.lock_after.values())),
        "ratio": sim.makespan_hours / sim.lower_bound_hours,
    }


def speed() -> str:
    rows = []
    for label, packages in (("the small tree above", 6), ("a tree scaled to the plan", 400)):
        for tasks in SPEED_TASKS:
            out = subprocess.run(
                [sys.executable, "-m", "benchmarks.bench_scheduler", "--speed", str(tasks), str(packages)],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            r = json.loads(out)
            rows.append(
                f"| {label} | {tasks:,} | {r['touches']:.0f} | {r['edges']:,.0f} | {r['cpu']:.2f} s "
                f"| {r['rss_mb']:.0f} MB | {r['ratio']:.3f} |"
            )
    return (
        "`simulate` with 8 workers, each in a fresh process (CPU time includes the width search, "
        "the wave-barrier comparison and the lower bound; above "
        f"{priority_module.IMPROVE_MAX_TASKS:,} tasks the order is critical-path-first only). "
        "Targets at 100k tasks: ≤ 10 s CPU, ≤ 500 MB.\n\n"
        "| touches drawn from | tasks | distinct touches | lock-order edges | CPU | peak RSS "
        "| makespan / bound |\n| --- | --- | --- | --- | --- | --- | --- |\n" + "\n".join(rows) + "\n"
    )


def run() -> str:
    exact, exact_met = against_optimum()
    table, met = quality(tree(6))
    deep, _ = quality(tree(6, deep_glob=True))
    return (
        "## Scheduler\n\n"
        f"Small plans, makespan / optimum. Targets: median ≤ {OPTIMUM_MEDIAN:.2f}, "
        f"p95 ≤ {OPTIMUM_P95:.2f}, max ≤ {OPTIMUM_MAX:.2f}, no plan slower with more workers: "
        f"**{'met' if exact_met else 'not met'}**.\n\n{exact}\n"
        f"Large plans, makespan / lower bound. Targets for ours: median ≤ {TARGET_MEDIAN:.2f}, "
        f"p95 ≤ {TARGET_P95:.2f}: **{'met' if met else 'not met'}**.\n\n{table}\n"
        "The same plans with `src/**/__init__.py` added to the tree (a `**` glob overlaps every "
        "touch under `src/`, so tasks holding it serialise with most others; no target):\n\n"
        f"{deep}\n{speed()}"
    )


if __name__ == "__main__":
    if sys.argv[1:2] == ["--speed"]:
        print(json.dumps(speed_one(int(sys.argv[2]), int(sys.argv[3]))))
    else:
        print(run())
