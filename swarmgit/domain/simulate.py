"""`simulate`: the real scheduler on a simulated clock, where each task takes its effort.

Every task is assumed to succeed. Beside our continuous dispatch it reports what wave barriers
would give (Swarm-IOSM's planner: wave k holds the tasks whose deps are all in earlier waves, and
a wave starts only when the whole previous wave has finished) and a lower bound no schedule can
beat: the largest of the critical path, the work per worker, and the work of the tasks that all
write one same path (they must run one after another).
"""
from __future__ import annotations

import heapq
from dataclasses import dataclass

from swarmgit.domain.plan import Plan, Task
from swarmgit.domain.scheduler import Limits, RunState, Scheduler, topological_order
from swarmgit.domain.touches import path_allowed

_PROBE = "\0"  # a file name no real path has: stands for "some file inside this folder"


@dataclass(frozen=True)
class Slot:
    task: str
    start_hours: float
    end_hours: float


@dataclass(frozen=True)
class Simulation:
    """A simulated run. `schedule` is in start order. `lock_after` maps each task to its
    `Start.after`: the finished tasks with overlapping touches, not ordered by deps, that it ran
    after (the lock order the scheduler chose)."""

    schedule: tuple[Slot, ...]
    makespan_hours: float
    serial_hours: float
    speedup: float
    critical_path: tuple[str, ...]
    waves_makespan_hours: float
    lower_bound_hours: float
    lock_after: dict[str, tuple[str, ...]]


def simulate(plan: Plan, limits: Limits) -> Simulation:
    """Run the scheduler over the plan on a clock; raises ValueError if the limits leave some
    task unable to ever start (e.g. a needs-user-input task with max_foreground 0)."""
    scheduler = Scheduler(plan)
    slots, lock_after = _run(plan, limits, scheduler)
    makespan = max((end for _, _, end in slots), default=0)
    serial = sum(t.effort_minutes for t in plan.tasks)
    return Simulation(
        schedule=tuple(Slot(task, start / 60, end / 60) for task, start, end in slots),
        makespan_hours=makespan / 60,
        serial_hours=serial / 60,
        speedup=serial / makespan if makespan else 1.0,
        critical_path=tuple(scheduler.critical_path()),
        waves_makespan_hours=_waves_makespan(plan, limits) / 60,
        lower_bound_hours=_lower_bound(plan, limits, scheduler.critical_path_minutes()) / 60,
        lock_after=lock_after,
    )


def to_json(sim: Simulation) -> dict[str, object]:
    """The `simulate --json` document (hours rounded to 3 decimals)."""
    return {
        "makespan_hours": round(sim.makespan_hours, 3),
        "serial_hours": round(sim.serial_hours, 3),
        "speedup": round(sim.speedup, 3),
        "critical_path": list(sim.critical_path),
        "waves_makespan_hours": round(sim.waves_makespan_hours, 3),
        "schedule": [
            {
                "task": s.task,
                "start_hours": round(s.start_hours, 3),
                "end_hours": round(s.end_hours, 3),
            }
            for s in sim.schedule
        ],
    }


def render_timeline(sim: Simulation, width: int) -> str:
    """An ASCII Gantt chart scaled to `width` columns, then the summary figures."""
    lines: list[str] = []
    if sim.schedule:
        label = max(len(s.task) for s in sim.schedule)
        suffix = len(f" {sim.makespan_hours:.1f}-{sim.makespan_hours:.1f}h")
        bar = max(10, width - label - 3 - suffix)  # "T01 |" + bar + "|" + suffix
        scale = bar / sim.makespan_hours if sim.makespan_hours else 0.0
        lines += [" " * (label + 2) + row for row in _axis(sim.makespan_hours, bar)]
        for s in sim.schedule:
            begin = min(bar - 1, round(s.start_hours * scale))
            end = max(begin + 1, round(s.end_hours * scale))
            row = " " * begin + "#" * (end - begin)
            lines.append(f"{s.task:<{label}} |{row:<{bar}}| {s.start_hours:.1f}-{s.end_hours:.1f}h")
        lines.append("")
    path = " -> ".join(sim.critical_path) or "(none)"
    lines += [
        f"serial:          {sim.serial_hours:.1f} h (every task one after another)",
        f"parallel:        {sim.makespan_hours:.1f} h makespan, speedup {sim.speedup:.2f}x",
        f"critical path:   {path}",
        f"wave barriers:   {sim.waves_makespan_hours:.1f} h makespan",
    ]
    return "\n".join(lines) + "\n"


def _axis(hours: float, bar: int) -> list[str]:
    """Hour labels and tick marks over a bar area of `bar` columns (5 ticks)."""
    labels = [" "] * (bar + 8)
    ticks = ["-"] * (bar + 1)
    for quarter in range(5):
        column = round(bar * quarter / 4)
        text = f"{hours * quarter / 4:.3g}h"
        start = min(column, bar + 8 - len(text)) if quarter < 4 else column - len(text) + 1
        if all(c == " " for c in labels[max(0, start - 1): start + len(text) + 1]):
            labels[start: start + len(text)] = text
        ticks[column] = "+"
    return ["".join(labels).rstrip(), "".join(ticks)]


def _run(
    plan: Plan, limits: Limits, scheduler: Scheduler
) -> tuple[list[tuple[str, int, int]], dict[str, tuple[str, ...]]]:
    """(task, start, end) minutes in start order, and each task's `Start.after`."""
    effort = {t.id: t.effort_minutes for t in plan.tasks}
    done: set[str] = set()
    running: set[str] = set()
    finishing: list[tuple[int, str]] = []
    slots: list[tuple[str, int, int]] = []
    lock_after: dict[str, tuple[str, ...]] = {}
    now = 0
    while True:
        for start in scheduler.decide(RunState(frozenset(done), frozenset(running)), limits):
            running.add(start.task)
            heapq.heappush(finishing, (now + effort[start.task], start.task))
            slots.append((start.task, now, now + effort[start.task]))
            lock_after[start.task] = start.after
        if not finishing:
            break
        now = finishing[0][0]
        while finishing and finishing[0][0] == now:
            _, task = heapq.heappop(finishing)
            running.discard(task)
            done.add(task)
    if len(done) < len(plan.tasks):
        never = [t for t in plan.ids if t not in done]
        raise ValueError(
            f"tasks {', '.join(never)} can never start with these limits "
            f"(max_background {limits.max_background}, max_foreground {limits.max_foreground}, "
            f"max_parallel {limits.max_parallel})"
        )
    return slots, lock_after


def _waves_makespan(plan: Plan, limits: Limits) -> int:
    """Minutes with wave barriers; inside a wave, the same workers, locks and ordering."""
    level: dict[str, int] = {}
    waves: list[list[Task]] = []
    for i in topological_order(plan):
        task = plan.tasks[i]
        level[task.id] = 1 + max((level[d] for d in task.deps), default=-1)
        if level[task.id] == len(waves):
            waves.append([])
        waves[level[task.id]].append(task.model_copy(update={"deps": ()}))
    total = 0
    for wave in waves:
        minutes = Scheduler(Plan(tasks=tuple(wave))).makespan_minutes(limits)
        assert minutes is not None  # the whole plan ran with these limits
        total += minutes
    return total


def _lower_bound(plan: Plan, limits: Limits, critical_minutes: int) -> float:
    """Minutes no schedule can beat under these limits."""
    background = sum(t.effort_minutes for t in plan.tasks if not t.needs_user_input)
    foreground = sum(t.effort_minutes for t in plan.tasks if t.needs_user_input)
    workers = min(limits.max_parallel, limits.max_background + limits.max_foreground)
    bounds = [float(critical_minutes), (background + foreground) / max(1, workers)]
    bounds.append(background / max(1, min(limits.max_parallel, limits.max_background)))
    bounds.append(foreground / max(1, min(limits.max_parallel, limits.max_foreground)))
    bounds.append(float(_largest_serial_work(plan)))
    return max(bounds)


def _largest_serial_work(plan: Plan) -> int:
    """The most work of tasks that all write one same path, so that pairwise they conflict.

    Tried paths: each literal touch (a file inside it, for a folder). The tasks writing it are
    those holding the touch, a literal touch above it, or a glob that matches it.
    """
    touches = list(dict.fromkeys(t for task in plan.tasks for t in task.touches))
    work: dict[str, dict[int, int]] = {touch: {} for touch in touches}
    for i, task in enumerate(plan.tasks):
        for touch in task.touches:
            work[touch][i] = task.effort_minutes
    globs = [t for t in touches if _is_glob(t)]
    best = 0
    for touch in touches:
        if _is_glob(touch):
            continue
        parts = touch.rstrip("/").split("/")
        path = touch + _PROBE if touch.endswith("/") else touch
        writers: dict[int, int] = {}
        for depth in range(1, len(parts) + 1):
            above = "/".join(parts[:depth])
            writers.update(work.get(above, {}))
            writers.update(work.get(above + "/", {}) if depth < len(parts) else {})
        writers.update(work.get(touch, {}))
        for glob in globs:
            if path_allowed([glob], path):
                writers.update(work[glob])
        best = max(best, sum(writers.values()))
    return best


def _is_glob(touch: str) -> bool:
    return any(c in touch for c in "*?[\\")
