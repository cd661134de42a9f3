"""The priority part of the scheduler: the order in which ready tasks are offered to the lock
rule (`dispatch_rule.Board.may_start`), and how many of the workers to use.

1. Critical path first: the longest remaining chain of effort (the task included), then
   severity, then id.
2. Improvement, for plans of up to IMPROVE_MAX_TASKS tasks: forward-backward passes on a
   simulated clock (replay backwards, latest finishers first, then forwards again in the order
   of the backward start times), from critical path first and from seeded jittered variants
   of it. An order replaces the best one only if its replay finishes strictly sooner.
3. Reservations, for plans of up to RESERVE_MAX_TASKS tasks: serial schedules
   (`serial_schedule.py`) from the same starting orders, justified, may wait on purpose where the
   dispatcher would not. The best one becomes an order (by its start times) plus reservations
   (`Board` `ahead`): wherever the dispatcher's replay starts a task late, the tasks that took
   its slot or lock first are held back until it has started. Kept only if the replay with them
   finishes strictly sooner, and then with every reservation it can do without dropped.
4. Width: the same search at every width from max_parallel down to 1 (`Limits.narrowed`); the
   shortest replay wins, the wider on a tie. So the dispatcher may leave a slot idle on
   purpose, and a plan never takes longer with more workers: the widths tried for w + 1
   include every width tried for w. A width whose lower bound cannot beat the best replay so
   far is skipped, unreplayed.

Everything is deterministic: the same plan and limits give the same choice.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

from swarmgit.domain.dispatch_rule import Board, Limits, PlanIndex
from swarmgit.domain.plan import Plan
from swarmgit.domain.serial_schedule import Placer, justified, listed, makespan
from swarmgit.domain.touches import is_glob, path_allowed

IMPROVE_MAX_TASKS = 2000  # larger plans keep critical-path-first order (improving costs replays)
IMPROVE_PASSES = 1  # forward-backward passes per start (measured: many restarts beat many passes)
RESERVE_MAX_TASKS = 300  # larger plans get no serial schedules (each costs O(tasks²) and replays)
JUSTIFY_PASSES = 3  # justifications per serial schedule, while each one shortens it
REPAIR_REPLAYS = 200  # replays to turn a serial schedule into reservations, and to prune them
RESTARTS = 4  # jittered restarts at least (each costs 2 * IMPROVE_PASSES + 1 replays)
RESTART_BUDGET = 7500  # small plans get more restarts: RESTART_BUDGET / tasks, up to MAX_RESTARTS
MAX_RESTARTS = 250
# Each restart scales every chain length by a factor drawn from [1 - JITTER, 1 + JITTER]; wide
# enough (negative factors included) that most restarts are near-random orders: measured against
# CP-SAT's optimum, they find the schedules lock-heavy plans need more often than close variants.
JITTER = 3.0
_PROBE = "\0"  # a file name no real path has: stands for "some file inside this folder"

Schedule = list[tuple[int, int]]  # (task, start minute) in start order


@dataclass(frozen=True)
class Choice:
    """How to dispatch a plan under some limits: offer tasks in `position` order (0 first),
    under `limits` (perhaps narrower than asked), with `ahead[x]` reserved ahead of task x (none
    if empty). `schedule` is the replay of that choice on a clock where every task takes its
    effort; None if some task can never start."""

    position: Sequence[int]
    limits: Limits
    schedule: Schedule | None
    makespan: int
    ahead: Sequence[Sequence[int]] = ()


def topological_order(plan: Plan) -> list[int]:
    """Task indices with every task after its deps (plan order among equals).

    Raises ValueError naming the tasks on a dependency cycle or an unknown dep.
    """
    positions = {task_id: i for i, task_id in enumerate(plan.ids)}
    missing = [(t.id, d) for t in plan.tasks for d in t.deps if d not in positions]
    if missing:
        raise ValueError(f"task {missing[0][0]} depends on unknown task {missing[0][1]}")
    dependents: list[list[int]] = [[] for _ in plan.tasks]
    waiting = [len(t.deps) for t in plan.tasks]
    for i, task in enumerate(plan.tasks):
        for dep in task.deps:
            dependents[positions[dep]].append(i)
    order = [i for i, count in enumerate(waiting) if count == 0]
    for i in order:  # grows while iterating: Kahn's algorithm
        for j in dependents[i]:
            waiting[j] -= 1
            if waiting[j] == 0:
                order.append(j)
    if len(order) < len(plan.tasks):
        stuck = [plan.ids[i] for i, count in enumerate(waiting) if count]
        raise ValueError(f"dependency cycle among tasks {', '.join(stuck)}")
    return order


def positions(ranked: Sequence[int]) -> list[int]:
    """The inverse of a ranking: position[task] for tasks listed best first."""
    position = [0] * len(ranked)
    for rank, i in enumerate(ranked):
        position[i] = rank
    return position


class Priorities:
    """The priority part for one plan: critical path, lower bounds, and the `choice` per limits."""

    def __init__(self, plan: Plan, index: PlanIndex) -> None:
        self.index = index
        self.topo = topological_order(plan)
        self.tail = [0] * len(plan.tasks)  # minutes from a task's start to the end of its chain
        for i in reversed(self.topo):
            after = max((self.tail[j] for j in index.dependents[i]), default=0)
            self.tail[i] = index.effort[i] + after
        ids, tasks = index.ids, plan.tasks
        self.critical_first = positions(
            sorted(
                range(len(tasks)),
                key=lambda i: (-self.tail[i], -tasks[i].severity.rank, ids[i]),
            )
        )
        self._plan = plan
        self._serial_work: int | None = None  # computed when first needed
        self._choices: dict[Limits, Choice] = {}
        self._searches: dict[Limits, Choice] = {}

    def critical_path(self) -> list[int]:
        """The longest chain of deps by effort, first task first ([] for an empty plan)."""
        if not self.tail:
            return []
        rank = self.critical_first.__getitem__
        task = min(range(len(self.tail)), key=rank)
        path = [task]
        while self.index.dependents[task]:
            task = min(self.index.dependents[task], key=rank)
            path.append(task)
        return path

    def lower_bound(self, limits: Limits) -> float:
        """Minutes no schedule can beat under these limits: the largest of the critical path,
        the work per worker (in all and per kind), and the work of the tasks that all write
        one same path."""
        effort, foreground = self.index.effort, self.index.foreground
        front = sum(e for e, f in zip(effort, foreground) if f)
        back = sum(effort) - front
        workers = min(limits.max_parallel, limits.max_background + limits.max_foreground)
        return max(
            float(max(self.tail, default=0)),
            (back + front) / max(1, workers),
            back / max(1, min(limits.max_parallel, limits.max_background)),
            front / max(1, min(limits.max_parallel, limits.max_foreground)),
            float(self._largest_serial_work()),
        )

    def _largest_serial_work(self) -> int:
        if self._serial_work is None:
            self._serial_work = largest_serial_work(self._plan)
        return self._serial_work

    def choice(self, limits: Limits) -> Choice:
        """The best replay over widths max_parallel down to 1 (see the module docstring)."""
        if limits not in self._choices:
            best: Choice | None = None
            for width in range(limits.max_parallel, 0, -1):
                narrowed = limits.narrowed(width)
                if best is not None and self.lower_bound(narrowed) >= best.makespan:
                    continue
                candidate = self._search(narrowed)
                if candidate.schedule is None:  # some task can never start, at any width
                    break
                if best is None or candidate.makespan < best.makespan:
                    best = candidate
            self._choices[limits] = best or Choice(self.critical_first, limits, None, 0)
        return self._choices[limits]

    # ---- search at one width ------------------------------------------------------------------

    def _search(self, limits: Limits) -> Choice:
        if limits not in self._searches:
            self._searches[limits] = self._searched(limits)
        return self._searches[limits]

    def _searched(self, limits: Limits) -> Choice:
        order = self.critical_first
        schedule = self._replay(order, limits)
        best = Choice(order, limits, schedule, self._makespan(schedule))
        if schedule is None or not 1 < len(order) <= IMPROVE_MAX_TASKS:
            return best
        restarts = max(RESTARTS, min(MAX_RESTARTS, RESTART_BUDGET // len(order)))
        starts = [order, *self._jittered(restarts)]
        best = self._improved(starts, limits, best)
        if len(order) <= RESERVE_MAX_TASKS and self.lower_bound(limits) < best.makespan:
            best = self._reserved(starts, limits, best)
        return best

    def _improved(self, starts: list[list[int]], limits: Limits, best: Choice) -> Choice:
        """The best forward-backward improved order from each start (no reservations)."""
        for start in starts:
            order = start
            for step in range(IMPROVE_PASSES + 1):
                forward = self._replay(order, limits)
                assert forward is not None  # only the order changed, and one order ran them all
                if self._makespan(forward) < best.makespan:
                    best = Choice(order, limits, forward, self._makespan(forward))
                if step == IMPROVE_PASSES:
                    break
                backward = self._replay(self._ranked_by(self._ends(forward)), limits, backwards=True)
                assert backward is not None
                order = self._ranked_by(self._ends(backward))  # late backwards = early forwards
        return best

    # ---- reservations -------------------------------------------------------------------------

    def _reserved(self, starts: list[list[int]], limits: Limits, best: Choice) -> Choice:
        """`best`, or the dispatch of the best justified serial schedule from `starts` if its
        replay finishes strictly sooner."""
        index = self.index
        forward, backward = Placer(index), Placer(index.reversed())
        target: list[int] | None = None
        for start in starts:
            placed = forward.place(listed(index, start), limits)
            for _ in range(JUSTIFY_PASSES):
                again = justified(forward, backward, placed, limits)
                if makespan(index, again) >= makespan(index, placed):
                    break
                placed = again
            if target is None or makespan(index, placed) < makespan(index, target):
                target = placed
        if target is None or makespan(index, target) >= best.makespan:
            return best
        reserved = self._dispatching(target, limits, forward)
        return reserved if reserved and reserved.makespan < best.makespan else best

    def _dispatching(self, target: list[int], limits: Limits, placer: Placer) -> Choice | None:
        """An order and reservations whose replay ends no later than the `target` start
        minutes, or None if none was found.

        Order: by target start. Then, while the replay ends later: the task earliest in that
        order that starts later than its target is held up, at its target minute, only by tasks
        later in the order (the earlier ones start no later than their targets, by induction).
        Reserve it ahead of those among them that conflict with it, or else of all of them (they
        took its slot); each round adds a reservation, so this ends. Last, drop each reservation
        the replay can do without. At most REPAIR_REPLAYS replays in all.
        """
        index, effort, n = self.index, self.index.effort, len(target)
        topo = positions(self.topo)
        position = positions(sorted(range(n), key=lambda i: (target[i], topo[i])))
        goal = makespan(index, target)
        ahead: list[list[int]] = [[] for _ in range(n)]
        for spent in range(REPAIR_REPLAYS):
            schedule = self._replay(position, limits, ahead=ahead)
            assert schedule is not None  # every task started without reservations; they never stall
            if self._makespan(schedule) <= goal:
                return self._pruned(position, limits, ahead, schedule, REPAIR_REPLAYS - spent)
            begun = [0] * n
            for task, minute in schedule:
                begun[task] = minute
            late = min((i for i in range(n) if begun[i] > target[i]), key=position.__getitem__)
            at = target[late]
            blockers = [
                w
                for w in range(n)
                if position[w] > position[late]
                and begun[w] <= at < begun[w] + effort[w]
                and late not in ahead[w]
            ]
            locking = [w for w in blockers if placer.own[w] & placer.hit[late]]
            if not blockers:
                return None
            for w in locking or blockers:
                ahead[w].append(late)
        return None

    def _pruned(
        self,
        position: list[int],
        limits: Limits,
        ahead: list[list[int]],
        schedule: Schedule,
        replays: int,
    ) -> Choice:
        """The choice (whose replay is `schedule`) with each reservation dropped that the replay
        can do without, while `replays` last (fewer reservations: a live run whose tasks take
        longer or shorter than estimated waits less)."""
        goal = self._makespan(schedule)
        tries = [(task, first) for task in range(len(ahead)) for first in ahead[task]]
        for task, first in tries[:replays]:
            ahead[task].remove(first)
            shorter = self._replay(position, limits, ahead=ahead)
            assert shorter is not None  # fewer reservations still start every task
            if self._makespan(shorter) > goal:
                ahead[task].append(first)
            else:
                schedule = shorter
        kept = tuple(tuple(first) for first in ahead) if any(ahead) else ()
        return Choice(position, limits, schedule, self._makespan(schedule), kept)

    def _replay(
        self,
        order: Sequence[int],
        limits: Limits,
        backwards: bool = False,
        ahead: Sequence[Sequence[int]] = (),
    ) -> Schedule | None:
        index = self.index.reversed() if backwards else self.index
        return Board(index, order, ahead=ahead).replay(limits)

    def waves_makespan(self, limits: Limits) -> int | None:
        """Minutes with wave barriers (wave k: the tasks whose deps are all in earlier waves;
        a wave starts when the previous one has finished). Inside a wave: the same limits and
        locks, critical path first. None if some task can never start."""
        level = [0] * len(self.tail)
        for i in self.topo:
            level[i] = 1 + max((level[d] for d in self.index.deps[i]), default=-1)
        waves: list[list[int]] = [[] for _ in range(max(level, default=-1) + 1)]
        for i, k in enumerate(level):
            waves[k].append(i)
        flat, total = self.index.without_deps(), 0
        for wave in waves:
            schedule = Board(flat, self.critical_first, only=wave).replay(limits)
            if schedule is None:
                return None
            total += self._makespan(schedule)
        return total

    def _makespan(self, schedule: Schedule | None) -> int:
        effort = self.index.effort
        return max((start + effort[task] for task, start in schedule or ()), default=0)

    def _ends(self, schedule: Schedule) -> list[int]:
        ends = [0] * len(self.index.effort)
        for task, start in schedule:
            ends[task] = start + self.index.effort[task]
        return ends

    def _jittered(self, count: int) -> list[list[int]]:
        """Critical-path-first orders with each chain length scaled by up to ±JITTER, from a
        fixed seed: restarts that let forward-backward improvement escape a local optimum."""
        rng = random.Random(len(self.tail))
        orders = []
        for _ in range(count):
            noisy = [t * (1 + rng.uniform(-JITTER, JITTER)) for t in self.tail]
            orders.append(positions(sorted(range(len(noisy)), key=lambda i: (-noisy[i], i))))
        return orders

    def _ranked_by(self, values: Sequence[int]) -> list[int]:
        """Positions by value, highest first; ties keep critical-path-first order."""
        first = self.critical_first
        return positions(sorted(range(len(values)), key=lambda i: (-values[i], first[i])))


def largest_serial_work(plan: Plan) -> int:
    """The most work of tasks that all write one same path, so that pairwise they conflict.

    Tried paths: each literal touch (a file inside it, for a folder). The tasks writing it are
    those holding the touch, a literal touch above it, or a glob that matches it.
    """
    touches = list(dict.fromkeys(t for task in plan.tasks for t in task.touches))
    work: dict[str, dict[int, int]] = {touch: {} for touch in touches}
    for i, task in enumerate(plan.tasks):
        for touch in task.touches:
            work[touch][i] = task.effort_minutes
    globs = [t for t in touches if is_glob(t)]
    best = 0
    for touch in touches:
        if is_glob(touch):
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
