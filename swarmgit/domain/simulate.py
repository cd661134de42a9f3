"""`simulate`: the real scheduler on a simulated clock, where each task takes its effort.

Every task is assumed to succeed. Beside our continuous dispatch it reports what wave barriers
would give (Swarm-IOSM's planner: wave k holds the tasks whose deps are all in earlier waves, and
a wave starts only when the whole previous wave has finished) and a lower bound no schedule can
beat (`Priorities.lower_bound`: the largest of the critical path, the work per worker, and the
work of the tasks that all write one same path, which must run one after another).
"""

from __future__ import annotations

from dataclasses import dataclass

from swarmgit.domain.dispatch_rule import PlanIndex
from swarmgit.domain.plan import Plan
from swarmgit.domain.scheduler import Limits, Scheduler, topological_order


@dataclass(frozen=True)
class Slot:
    task: str
    start_hours: float
    end_hours: float


@dataclass(frozen=True)
class Simulation:
    """A simulated run. `schedule` is in start order. `lock_after` maps each task to the
    finished tasks it directly follows in lock order: for each touch overlapping its own, the
    last task holding it that had finished when it started, unless a dep path orders the two.
    Every other finished task overlapping it is behind one of those (the lock order the
    scheduler chose, without the edges it implies; `Start.after` lists them all)."""

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
    slots = scheduler.schedule(limits)
    if slots is None:
        raise ValueError(
            f"tasks {', '.join(_never_started(plan, limits))} can never start with these limits "
            f"(max_background {limits.max_background}, max_foreground {limits.max_foreground}, "
            f"max_parallel {limits.max_parallel})"
        )
    makespan = max((end for _, _, end in slots), default=0)
    serial = sum(t.effort_minutes for t in plan.tasks)
    return Simulation(
        schedule=tuple(Slot(task, start / 60, end / 60) for task, start, end in slots),
        makespan_hours=makespan / 60,
        serial_hours=serial / 60,
        speedup=serial / makespan if makespan else 1.0,
        critical_path=tuple(scheduler.critical_path()),
        waves_makespan_hours=(scheduler.priorities.waves_makespan(limits) or 0) / 60,
        lower_bound_hours=scheduler.lower_bound_minutes(limits) / 60,
        lock_after=_lock_after(scheduler.priorities.index, slots),
    )


def to_json(sim: Simulation) -> dict[str, object]:
    """The `simulate --json` document (hours rounded to 3 decimals)."""
    return {
        "makespan_hours": round(sim.makespan_hours, 3),
        "serial_hours": round(sim.serial_hours, 3),
        "speedup": round(sim.speedup, 3),
        "critical_path": list(sim.critical_path),
        "waves_makespan_hours": round(sim.waves_makespan_hours, 3),
        "lower_bound_hours": round(sim.lower_bound_hours, 3),
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
    ratio = sim.makespan_hours / sim.lower_bound_hours if sim.lower_bound_hours else 1.0
    lines += [
        f"serial:          {sim.serial_hours:.1f} h (every task one after another)",
        f"parallel:        {sim.makespan_hours:.1f} h makespan, speedup {sim.speedup:.2f}x",
        f"critical path:   {path}",
        f"wave barriers:   {sim.waves_makespan_hours:.1f} h makespan",
        f"lower bound:     {sim.lower_bound_hours:.1f} h (no schedule can be shorter; ours is {ratio:.2f}x)",
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
        if all(c == " " for c in labels[max(0, start - 1) : start + len(text) + 1]):
            labels[start : start + len(text)] = text
        ticks[column] = "+"
    return ["".join(labels).rstrip(), "".join(ticks)]


def _never_started(plan: Plan, limits: Limits) -> list[str]:
    """Tasks of a kind the limits allow none of, and tasks depending on them."""
    stuck: set[str] = set()
    for i in topological_order(plan):
        task = plan.tasks[i]
        cap = limits.max_foreground if task.needs_user_input else limits.max_background
        if min(cap, limits.max_parallel) <= 0 or stuck.intersection(task.deps):
            stuck.add(task.id)
    return [t for t in plan.ids if t in stuck]


def _lock_after(index: PlanIndex, slots: list[tuple[str, int, int]]) -> dict[str, tuple[str, ...]]:
    """Each task's direct lock-order predecessors (see `Simulation.lock_after`)."""
    end = [0] * len(index.ids)
    for task_id, _, finish in slots:
        end[index.index[task_id]] = finish
    finished = sorted((finish, index.index[task_id]) for task_id, _, finish in slots)
    last = [-1] * len(index.conflicting)  # per touch: the last finished task holding it
    lock_after: dict[str, tuple[str, ...]] = {}
    k = 0
    for task_id, start, _ in slots:  # in start order
        while k < len(finished) and finished[k][0] <= start:
            for touch in index.touches[finished[k][1]]:
                last[touch] = finished[k][1]
            k += 1
        task = index.index[task_id]
        near = {
            last[other]
            for touch in index.touches[task]
            for other in index.conflicting[touch]
            if last[other] >= 0
        }
        if near:
            near -= _ancestors_ending_from(index, task, end, min(end[i] for i in near))
        lock_after[task_id] = tuple(index.ids[i] for i in sorted(near))
    return lock_after


def _ancestors_ending_from(index: PlanIndex, task: int, end: list[int], since: int) -> set[int]:
    """The transitive deps of `task` that ended at `since` or later. Walking deps stops at any
    that ended before: its own deps ended earlier still (a task starts after its deps end)."""
    seen: set[int] = set()
    stack = [d for d in index.deps[task] if end[d] >= since]
    while stack:
        i = stack.pop()
        if i not in seen:
            seen.add(i)
            stack.extend(d for d in index.deps[i] if end[d] >= since)
    return seen
