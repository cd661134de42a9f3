"""The one dispatch decision: which ready tasks start now. The live run and `simulate` share it.

Rules (DESIGN "Continuous dispatch"): a task is ready when all its deps are done and it is not
done, running or failed. It may start when its touches conflict with no running task and the
limits allow it (needs-user-input tasks count against max_foreground, others against
max_background, all against max_parallel). Ready tasks are taken greedily in priority order; a
task chosen earlier in the same decision counts as running. Only running tasks block: a finished
task's touches block nothing, because later overlapping tasks start from its result
(`Start.after`).

Priority: longest remaining critical path first (effort minutes, the task included), then
severity, then id. For plans of up to IMPROVE_MAX_TASKS tasks that order is then improved by
forward-backward passes on a simulated clock, from it and from RESTARTS seeded jittered
variants of it, kept only if they shorten the simulated run under the given limits (see
`Scheduler._order`); so the order depends on the limits as well, and stays deterministic.

`Scheduler.decide` is a pure function of (plan, state, limits). Internally it keeps caches from
the previous call (ready queues, lock counts per touch) and updates them from the difference
between states: one call costs the set differences of the state (at C speed) plus work near the
size of what changed, never a Python-level rescan of the plan.
"""
from __future__ import annotations

import copy
import heapq
import itertools
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from swarmgit.domain.plan import Plan
from swarmgit.domain.touches import conflict_pairs


@dataclass(frozen=True)
class Limits:
    max_background: int = 4
    max_foreground: int = 1
    max_parallel: int = 4


@dataclass(frozen=True)
class RunState:
    """Task ids by state. `failed` holds failed or blocked tasks."""

    done: frozenset[str]
    running: frozenset[str]
    failed: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Start:
    """Start `task` now. `after`: done tasks whose touches overlap it, in plan order (lock order:
    its start point must include their results). Its (transitive) deps are never listed."""

    task: str
    after: tuple[str, ...]


IMPROVE_MAX_TASKS = 2000  # larger plans keep critical-path-first order (improving costs replays)
IMPROVE_PASSES = 5
RESTARTS = 4  # jittered restarts of the improvement (each costs IMPROVE_PASSES replays)
JITTER = 0.25
_BACKGROUND, _FOREGROUND = 0, 1
_DONE, _RUNNING, _FAILED = 1, 2, 4
# A queued task (position in priority order, task index, token); a stale token marks an entry
# superseded by a later enqueue of the same task.
_Queued = tuple[int, int, int]
# Main-queue entry: (position, sequence, task index, token, None) for one task, or
# (position of its best task, sequence, -1, touch id, heap) for a group of tasks that all hold
# that touch, parked together while the touch was locked.
_Entry = tuple[int, int, int, int, "list[_Queued] | None"]


def _positions(ranked: Sequence[int]) -> list[int]:
    """The inverse of a ranking: position[task] for tasks listed best first."""
    position = [0] * len(ranked)
    for rank, i in enumerate(ranked):
        position[i] = rank
    return position


def topological_order(plan: Plan) -> list[int]:
    """Task indices with every task after its deps (plan order among equals).

    Raises ValueError naming the tasks on a dependency cycle or an unknown dep.
    """
    index = {task_id: i for i, task_id in enumerate(plan.ids)}
    missing = [(t.id, d) for t in plan.tasks for d in t.deps if d not in index]
    if missing:
        raise ValueError(f"task {missing[0][0]} depends on unknown task {missing[0][1]}")
    dependents: list[list[int]] = [[] for _ in plan.tasks]
    waiting = [len(t.deps) for t in plan.tasks]
    for i, task in enumerate(plan.tasks):
        for dep in task.deps:
            dependents[index[dep]].append(i)
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


class Scheduler:
    """Precomputes deps, priorities and touch conflicts of one plan; then answers `decide`."""

    _done: frozenset[str]  # the state the caches reflect (running: plus the last starts)
    _running: frozenset[str]
    _failed: frozenset[str]

    def __init__(self, plan: Plan) -> None:
        tasks = plan.tasks
        self._ids = plan.ids
        self._index = {task_id: i for i, task_id in enumerate(self._ids)}
        self._topo = topological_order(plan)
        self._deps = [tuple(self._index[d] for d in t.deps) for t in tasks]
        dependents: list[list[int]] = [[] for _ in tasks]
        for i, deps in enumerate(self._deps):
            for dep in deps:
                dependents[dep].append(i)
        self._dependents = [tuple(d) for d in dependents]
        self._class = [_FOREGROUND if t.needs_user_input else _BACKGROUND for t in tasks]
        self._effort = [t.effort_minutes for t in tasks]
        self._tail = [0] * len(tasks)  # minutes from this task's start to the end of its chain
        self._ancestors = [0] * len(tasks)  # bitmask of transitive deps
        for i in reversed(self._topo):
            after = max((self._tail[j] for j in self._dependents[i]), default=0)
            self._tail[i] = tasks[i].effort_minutes + after
        for i in self._topo:
            for dep in self._deps[i]:
                self._ancestors[i] |= self._ancestors[dep] | (1 << dep)
        self._critical_first = _positions(sorted(
            range(len(tasks)),
            key=lambda i: (-self._tail[i], -tasks[i].severity.rank, self._ids[i]),
        ))
        self._orders: dict[Limits, list[int]] = {}
        self._position = self._critical_first
        touch_ids: dict[str, int] = {}
        self._touches = [
            tuple(touch_ids.setdefault(t, len(touch_ids)) for t in dict.fromkeys(task.touches))
            for task in tasks
        ]
        adjacency: list[list[int]] = [[p] for p in range(len(touch_ids))]
        for a, b in conflict_pairs(list(touch_ids)):
            adjacency[a].append(b)
            adjacency[b].append(a)
        self._conflicting = [tuple(a) for a in adjacency]
        self._reset()

    # ---- public ------------------------------------------------------------------------------

    def decide(self, state: RunState, limits: Limits) -> list[Start]:
        """The tasks to start now, best first. Pure in (plan, state, limits)."""
        order = self._order(limits)
        if order is not self._position:
            self._position = order
            self._reset()
        self._sync(state)
        chosen = self._dispatch(limits)
        self._running = self._running | {self._ids[i] for i in chosen}
        return [Start(self._ids[i], self._after(i)) for i in chosen]

    def priority(self, limits: Limits) -> list[str]:
        """Every task id in the order ready tasks are taken with these limits, best first."""
        order = self._order(limits)
        return sorted(self._ids, key=lambda task_id: order[self._index[task_id]])

    def makespan_minutes(self, limits: Limits) -> int | None:
        """Minutes to run the whole plan from scratch on a clock (each task takes its effort and
        succeeds) with this very dispatch; None if some task can never start with these limits.
        Leaves this scheduler's state alone."""
        end = self._replica(self._order(limits), backwards=False)._replay(limits)
        return None if end is None else max(end, default=0)

    def _dispatch(self, limits: Limits) -> list[int]:
        """Start (in the caches) and return the ready tasks that fit, in priority order."""
        total = limits.max_parallel - sum(self._running_count)
        free = [
            limits.max_background - self._running_count[_BACKGROUND],
            limits.max_foreground - self._running_count[_FOREGROUND],
        ]
        chosen: list[int] = []
        while total > 0:
            cls = self._next_class(free)
            if cls is None:
                break
            task = self._pop_unlocked(cls)
            if task is None:
                continue
            chosen.append(task)
            self._set_running(task, True)
            free[cls] -= 1
            total -= 1
        return chosen

    def blocked(self, state: RunState) -> dict[str, str]:
        """Tasks that can never run because a (transitive) dep is in `state.failed`:
        id → reason naming the failed task."""
        reasons: dict[str, str] = {}
        roots: dict[int, str] = {}
        skip = state.failed | state.done | state.running
        for i in self._topo:
            if self._ids[i] in skip:
                continue
            for dep in self._deps[i]:
                dep_id = self._ids[dep]
                if dep_id in state.failed:
                    roots[i] = dep_id
                    reasons[self._ids[i]] = f"depends on {dep_id}, which failed"
                    break
                if dep in roots:
                    roots[i] = roots[dep]
                    reasons[self._ids[i]] = (
                        f"depends on {dep_id}, which cannot run because {roots[dep]} failed"
                    )
                    break
        return reasons

    def critical_path(self) -> list[str]:
        """The longest chain of deps by effort, first task first ([] for an empty plan)."""
        if not self._ids:
            return []
        rank = self._critical_first.__getitem__
        task = min(range(len(self._ids)), key=rank)
        path = [task]
        while self._dependents[task]:
            task = min(self._dependents[task], key=rank)
            path.append(task)
        return [self._ids[i] for i in path]

    def critical_path_minutes(self) -> int:
        return max(self._tail, default=0)

    # ---- priority order ------------------------------------------------------------------

    def _order(self, limits: Limits) -> list[int]:
        """Position of each task in the order ready tasks are taken (0 = first).

        Starts from critical path first (then severity, then id). For plans of up to
        IMPROVE_MAX_TASKS tasks it then tries forward-backward improvement, the classic fix for
        list schedules under resource limits: replay the plan on a clock backwards (latest
        finishers first), then forwards again in the order of those backward start times. An
        order replaces critical-path-first only if its replay finishes strictly sooner.
        """
        if limits not in self._orders:
            self._orders[limits] = self._improved(limits)
        return self._orders[limits]

    def _improved(self, limits: Limits) -> list[int]:
        best_order = self._critical_first
        if not 1 < len(self._ids) <= IMPROVE_MAX_TASKS:
            return best_order
        end = self._replica(best_order, backwards=False)._replay(limits)
        if end is None:
            return best_order  # some task can never start with these limits
        best = max(end)
        for start in [best_order, *self._jittered(RESTARTS)]:
            end = self._replica(start, backwards=False)._replay(limits) or end
            order = start
            for _ in range(IMPROVE_PASSES):
                if max(end) < best:
                    best, best_order = max(end), order
                backward = self._replica(self._ranked_by(end), backwards=True)._replay(limits)
                order = self._ranked_by(backward or end)  # late backwards = early forwards
                end = self._replica(order, backwards=False)._replay(limits) or end
            if max(end) < best:
                best, best_order = max(end), order
        return best_order

    def _jittered(self, count: int) -> list[list[int]]:
        """Critical-path-first orders with each chain length scaled by up to ±JITTER, from a
        fixed seed: restarts that let forward-backward improvement escape a local optimum."""
        rng = random.Random(len(self._ids))
        orders = []
        for _ in range(count):
            noisy = [t * (1 + rng.uniform(-JITTER, JITTER)) for t in self._tail]
            orders.append(_positions(sorted(range(len(noisy)), key=lambda i: (-noisy[i], i))))
        return orders

    def _ranked_by(self, values: Sequence[int]) -> list[int]:
        """Positions by value, highest first; ties keep critical-path-first order."""
        first = self._critical_first
        return _positions(sorted(range(len(values)), key=lambda i: (-values[i], first[i])))

    def _replica(self, order: list[int], backwards: bool) -> Scheduler:
        """A fresh scheduler of the same plan with another order (and deps reversed)."""
        replica = copy.copy(self)
        replica._position = order
        replica._orders = {}
        if backwards:
            replica._deps, replica._dependents = self._dependents, self._deps
        replica._reset()
        return replica

    def _replay(self, limits: Limits) -> list[int] | None:
        """Run every task on a clock (each takes its effort, all succeed) from a fresh state:
        the end minute of each task, or None if some task can never start."""
        end = [0] * len(self._ids)
        finishing: list[tuple[int, int]] = []
        now = finished = 0
        while True:
            for i in self._dispatch(limits):
                heapq.heappush(finishing, (now + self._effort[i], i))
            if not finishing:
                return end if finished == len(end) else None
            now = finishing[0][0]
            while finishing and finishing[0][0] == now:
                _, i = heapq.heappop(finishing)
                end[i] = now
                finished += 1
                self._set_running(i, False)
                self._flags[i] |= _DONE
                for j in self._dependents[i]:
                    self._waiting[j] -= 1
                    if self._ready(j):
                        self._enqueue(j)

    # ---- state sync ---------------------------------------------------------------------------

    def _reset(self) -> None:
        size = len(self._ids)
        self._done = self._running = self._failed = frozenset()
        self._flags = bytearray(size)
        self._waiting = [len(deps) for deps in self._deps]  # deps not done
        self._running_count = [0, 0]
        self._locked = [0] * len(self._conflicting)  # running holders of conflicting touches
        self._done_near = [0] * len(self._conflicting)  # bitmask: done tasks conflicting with it
        self._queues: tuple[list[_Entry], list[_Entry]] = ([], [])
        self._parked: dict[tuple[int, int], list[list[_Queued]]] = {}
        self._token = [0] * size
        self._sequence = itertools.count()
        for i in range(size):
            if not self._deps[i]:
                self._enqueue(i)

    def _sync(self, state: RunState) -> None:
        """Bring the caches from the last state to `state`, touching only what changed."""
        woken: list[int] = []
        if state.done is not self._done:
            added = self._indices(state.done - self._done)
            # Sizes tell whether anything left `done` (rare: a reset): then find what.
            gone = len(state.done) != len(self._done) + len(added)
            for i in self._indices(self._done - state.done) if gone else ():
                self._flags[i] &= ~_DONE
                for j in self._dependents[i]:
                    self._waiting[j] += 1
                self._mark_done(i, False)
                woken.append(i)
            for i in added:
                self._flags[i] |= _DONE
                for j in self._dependents[i]:
                    self._waiting[j] -= 1
                    if self._waiting[j] == 0:
                        woken.append(j)
                self._mark_done(i, True)
            self._done = state.done
        if state.running is not self._running:
            for i in self._indices(self._running - state.running):
                self._set_running(i, False)
                woken.append(i)
            for i in self._indices(state.running - self._running):
                self._set_running(i, True)
            self._running = state.running
        if state.failed is not self._failed:
            for i in self._indices(self._failed - state.failed):
                self._flags[i] &= ~_FAILED
                woken.append(i)
            for i in self._indices(state.failed - self._failed):
                self._flags[i] |= _FAILED
            self._failed = state.failed
        for i in woken:
            if self._ready(i):
                self._enqueue(i)

    def _indices(self, ids: Iterable[str]) -> list[int]:
        try:
            return [self._index[task_id] for task_id in ids]
        except KeyError as exc:
            unknown = exc.args[0]
            raise ValueError(f"run state names task {unknown!r}, not in the plan") from None

    def _ready(self, i: int) -> bool:
        return self._waiting[i] == 0 and not self._flags[i]

    def _mark_done(self, i: int, done: bool) -> None:
        bit = 1 << i
        near = self._done_near
        for touch in self._touches[i]:
            for other in self._conflicting[touch]:
                near[other] = near[other] | bit if done else near[other] & ~bit

    def _set_running(self, i: int, running: bool) -> None:
        delta = 1 if running else -1
        self._flags[i] = self._flags[i] | _RUNNING if running else self._flags[i] & ~_RUNNING
        self._running_count[self._class[i]] += delta
        locked = self._locked
        for touch in self._touches[i]:
            for other in self._conflicting[touch]:
                locked[other] += delta
                if not locked[other]:
                    self._unpark(other)

    # ---- ready queues -------------------------------------------------------------------------

    def _enqueue(self, i: int) -> None:
        self._token[i] += 1
        entry = (self._position[i], next(self._sequence), i, self._token[i], None)
        heapq.heappush(self._queues[self._class[i]], entry)

    def _next_class(self, free: Sequence[int]) -> int | None:
        """The class whose best queued entry comes first, among classes with a free slot."""
        best: int | None = None
        for cls, queue in enumerate(self._queues):
            if free[cls] > 0 and queue and (best is None or queue[0] < self._queues[best][0]):
                best = cls
        return best

    def _pop_unlocked(self, cls: int) -> int | None:
        """Pop the best entry of a class: the task if it may start, else None (it was stale, or
        is now parked on a locked touch until that touch is released)."""
        queue = self._queues[cls]
        _, _, task, tag, group = heapq.heappop(queue)
        if group is not None:
            touch = tag
            if self._locked[touch]:
                self._parked.setdefault((touch, cls), []).append(group)  # all hold that touch
                return None
            _, task, tag = heapq.heappop(group)
            if group:
                heapq.heappush(queue, (group[0][0], next(self._sequence), -1, touch, group))
        if tag != self._token[task] or not self._ready(task):
            return None
        locked = next((t for t in self._touches[task] if self._locked[t]), None)
        if locked is None:
            return task
        heaps = self._parked.setdefault((locked, cls), [])
        if not heaps:
            heaps.append([])
        heapq.heappush(heaps[0], (self._position[task], task, tag))
        return None

    def _unpark(self, touch: int) -> None:
        for cls, queue in enumerate(self._queues):
            for group in self._parked.pop((touch, cls), ()):
                if group:
                    heapq.heappush(queue, (group[0][0], next(self._sequence), -1, touch, group))

    def _after(self, i: int) -> tuple[str, ...]:
        mask = 0
        for touch in self._touches[i]:
            mask |= self._done_near[touch]
        mask &= ~self._ancestors[i]
        if not mask:
            return ()
        # The ids whose bit is set, in plan order, at C speed: bits as bytes 0/1, lowest first.
        selectors = bin(mask)[:1:-1].encode("ascii").translate(_BIT_BYTES)
        return tuple(itertools.compress(self._ids, selectors))


_BIT_BYTES = bytes.maketrans(b"01", b"\x00\x01")
