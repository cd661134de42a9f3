"""The dispatch part of the scheduler: given a priority order, which ready tasks start now.

The whole lock rule is one predicate, `Board.may_start`. The rest of this module only decides
in which order tasks are offered to it (best priority first) and skips work that cannot change
its answer: a task turned away because one of its touches is locked is parked with the other
tasks held up by that touch, and offered again, as one group, when the touch is released; a task
turned away because it is held back (a reservation, below) is offered again when the tasks
reserved ahead of it have started, or when nothing runs.

Reservations (`ahead`) come with the priority order: `ahead[x]` lists tasks that should start
before `x` does, where starting `x` first would delay them (it would take the slot or the lock
they are about to need). The priority part sets them only where its replay of the plan finishes
sooner with them (`priority.py`); they never stall a run, because a held task may start when
nothing runs.

A `Board` is the state of one run. The live dispatcher brings it to a `RunState` with `sync`;
a simulated clock moves it with `start` and `finish`. What `choose` answers depends only on the
state, the limits and the order, never on how the board reached that state (tests check it
against the rule applied naively).
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from swarmgit.domain.plan import Plan
from swarmgit.domain.touches import conflict_pairs


@dataclass(frozen=True)
class Limits:
    max_background: int = 4
    max_foreground: int = 1
    max_parallel: int = 4

    def narrowed(self, width: int) -> Limits:
        """These limits with at most `width` tasks at a time."""
        return Limits(min(self.max_background, width), min(self.max_foreground, width), width)


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


@dataclass(frozen=True, eq=False)
class PlanIndex:
    """A plan as integer arrays: tasks by their position in the plan, touches by id."""

    ids: tuple[str, ...]
    index: dict[str, int]
    deps: tuple[tuple[int, ...], ...]
    dependents: tuple[tuple[int, ...], ...]
    foreground: tuple[bool, ...]  # needs user input: counts against max_foreground
    effort: tuple[int, ...]
    touches: tuple[tuple[int, ...], ...]  # touch ids of each task
    conflicting: tuple[tuple[int, ...], ...]  # per touch id: the touch ids it conflicts with
    holders: tuple[tuple[int, ...], ...]  # per touch id: the tasks holding it

    @classmethod
    def of(cls, plan: Plan) -> PlanIndex:
        """Raises ValueError naming a dep that is not in the plan."""
        index = {task_id: i for i, task_id in enumerate(plan.ids)}
        for task in plan.tasks:
            for dep_id in task.deps:
                if dep_id not in index:
                    raise ValueError(f"task {task.id} depends on unknown task {dep_id}")
        deps = tuple(tuple(index[d] for d in t.deps) for t in plan.tasks)
        dependents: list[list[int]] = [[] for _ in plan.tasks]
        for i, task_deps in enumerate(deps):
            for dep in task_deps:
                dependents[dep].append(i)
        touch_ids: dict[str, int] = {}
        touches = tuple(
            tuple(touch_ids.setdefault(t, len(touch_ids)) for t in dict.fromkeys(task.touches))
            for task in plan.tasks
        )
        conflicting: list[list[int]] = [[t] for t in range(len(touch_ids))]
        for a, b in conflict_pairs(list(touch_ids)):
            conflicting[a].append(b)
            conflicting[b].append(a)
        holders: list[list[int]] = [[] for _ in touch_ids]
        for i, held in enumerate(touches):
            for t in held:
                holders[t].append(i)
        return cls(
            ids=plan.ids,
            index=index,
            deps=deps,
            dependents=tuple(map(tuple, dependents)),
            foreground=tuple(t.needs_user_input for t in plan.tasks),
            effort=tuple(t.effort_minutes for t in plan.tasks),
            touches=touches,
            conflicting=tuple(map(tuple, conflicting)),
            holders=tuple(map(tuple, holders)),
        )

    def reversed(self) -> PlanIndex:
        """The same plan with every dependency pointing the other way (for backward passes)."""
        return replace(self, deps=self.dependents, dependents=self.deps)

    def without_deps(self) -> PlanIndex:
        none = ((),) * len(self.ids)
        return replace(self, deps=none, dependents=none)


_DONE, _RUNNING, _FAILED = 1, 2, 4
# A queue entry: (position, sequence, task, -1, None) offers one task;
# (position of its best task, sequence, -1, touch, group) offers a heap of (position, task)
# parked together because that touch of theirs was locked.
_Group = list[tuple[int, int]]
_Entry = tuple[int, int, int, int, "_Group | None"]


class Board:
    """The state of one run of a plan, and the tasks it offers in `position` order (0 first)."""

    def __init__(
        self,
        plan: PlanIndex,
        position: Sequence[int],
        only: Sequence[int] | None = None,
        ahead: Sequence[Sequence[int]] = (),
    ) -> None:
        """A fresh run of the plan, or of the tasks `only` (the others are never offered), with
        `ahead[x]` reserved ahead of task x (none if `ahead` is empty)."""
        self.plan = plan
        self.position = position
        self.behind: dict[int, list[int]] = {}  # the inverse of `ahead`
        for task, reserved in enumerate(ahead):
            for first in reserved:
                self.behind.setdefault(first, []).append(task)
        self.flags = bytearray(len(plan.ids))  # _DONE | _RUNNING | _FAILED
        self.waiting = [len(deps) for deps in plan.deps]  # deps not done
        self.held = [len(reserved) for reserved in ahead] or [0] * len(plan.ids)  # ahead, unstarted
        self._held_back: list[int] = []  # turned away while held: offered again when nothing runs
        self.running = [0, 0]  # running tasks: background, foreground
        self.locked = [0] * len(plan.conflicting)  # per touch: running holders of conflicting ones
        self._queues: tuple[list[_Entry], list[_Entry]] = ([], [])
        self._parked: dict[tuple[int, bool], list[_Group]] = {}
        self._sequence = itertools.count()
        self._state = RunState(frozenset(), frozenset())
        self._size = len(plan.ids) if only is None else len(only)
        for i in range(len(plan.ids)) if only is None else only:
            if not plan.deps[i]:
                self._offer(i)

    # ---- the rule -----------------------------------------------------------------------------

    def may_start(self, task: int, limits: Limits) -> bool:
        """THE LOCK RULE. `task` may start now if and only if
        - it is ready: every dep is done, and it is not done, running or failed;
        - it is not held back: every task reserved ahead of it has started (is running, done or
          failed), or no task is running;
        - a slot is free: fewer than max_parallel tasks run, and fewer than max_foreground
          (needs-user-input tasks) or max_background (the others) of its kind;
        - none of its touches conflicts with a touch of a running task.
        Only running tasks lock: a done task's touches block nothing (later overlapping tasks
        start from its result, `Start.after`)."""
        foreground = self.plan.foreground[task]
        cap = limits.max_foreground if foreground else limits.max_background
        running = sum(self.running)
        return (
            self.waiting[task] == 0
            and not self.flags[task]
            and not (self.held[task] and running)
            and running < limits.max_parallel
            and self.running[foreground] < cap
            and not any(self.locked[touch] for touch in self.plan.touches[task])
        )

    def refusal(self, task: int, limits: Limits) -> str:
        """Why `may_start(task, limits)` is False: the first part of the rule it fails, naming
        the tasks in the way; "" when it is True."""
        if self.may_start(task, limits):
            return ""
        ids, flags = self.plan.ids, self.flags[task]
        if flags:
            return "it is " + (
                "done" if flags & _DONE else "running" if flags & _RUNNING else "failed or blocked"
            )
        if self.waiting[task]:
            missing = [ids[dep] for dep in self.plan.deps[task] if not self.flags[dep] & _DONE]
            return f"{_plural(missing, 'its dependency', 'its dependencies')} {_are(missing)} not done"
        running = [ids[i] for i, flag in enumerate(self.flags) if flag & _RUNNING]
        if self.held[task] and running:
            return f"it is held back for a task reserved ahead of it while {', '.join(running)} run"
        foreground = self.plan.foreground[task]
        kind, cap = (
            ("max_foreground", limits.max_foreground)
            if foreground
            else ("max_background", limits.max_background)
        )
        if len(running) >= limits.max_parallel or self.running[foreground] >= cap:
            busy = f"{', '.join(running)} {_are(running)} running" if running else "nothing is running"
            return f"no slot is free ({busy}; max_parallel {limits.max_parallel}, {kind} {cap})"
        lockers = [ids[i] for i in sorted(self._overlapping(task, _RUNNING))]
        return f"its touches overlap those of {', '.join(lockers)}, which {_are(lockers)} running"

    def choose(self, limits: Limits) -> list[int]:
        """Start (on this board) and return every task the rule lets start, best first; a task
        chosen counts as running for the next."""
        chosen: list[int] = []
        while (task := self._next_offer(limits)) is not None:
            if self.may_start(task, limits):
                self.start(task)
                chosen.append(task)
            elif self._ready(task) and self.held[task]:
                self._held_back.append(task)
            elif self._ready(task):  # a slot of its kind is free, so a touch is locked
                self._park(task)
        return chosen

    def decide(self, state: RunState, limits: Limits) -> list[int]:
        """`choose` in `state`; the tasks chosen count as running until the next state says
        otherwise (a caller that did not start them just leaves them out)."""
        self.sync(state)
        chosen = self.choose(limits)
        if chosen:
            started = frozenset(self.plan.ids[i] for i in chosen)
            self._state = RunState(state.done, state.running | started, state.failed)
        return chosen

    # ---- moves --------------------------------------------------------------------------------

    def start(self, task: int) -> None:
        self._set_running(task, True)

    def finish(self, task: int) -> None:
        """A running task is done: its locks go, its dependents may become ready."""
        self._set_running(task, False)
        self._set_done(task, True)

    def replay(self, limits: Limits) -> list[tuple[int, int]] | None:
        """Run every task on a clock from this (fresh) board, each taking its effort and
        succeeding: (task, start minute) in start order, or None if some task can never start."""
        effort = self.plan.effort
        schedule: list[tuple[int, int]] = []
        finishing: list[tuple[int, int]] = []
        now = 0
        while True:
            for task in self.choose(limits):
                heapq.heappush(finishing, (now + effort[task], task))
                schedule.append((task, now))
            if not finishing:
                return schedule if len(schedule) == self._size else None
            now = finishing[0][0]
            while finishing and finishing[0][0] == now:
                self.finish(heapq.heappop(finishing)[1])

    def sync(self, state: RunState) -> None:
        """Bring the board from the last synced state to `state`, touching only what changed."""
        last, index = self._state, self._indices
        if state.done is not last.done:
            for i in index(last.done - state.done):  # rare: a task was reset
                self._set_done(i, False)
            for i in index(state.done - last.done):
                self._set_done(i, True)
        if state.running is not last.running:
            for i in index(last.running - state.running):
                self._set_running(i, False)
                self._offer(i)
            for i in index(state.running - last.running):
                self._set_running(i, True)
        if state.failed is not last.failed:
            for i in index(last.failed - state.failed):
                self._set_flag(i, _FAILED, False)
                self._offer(i)
            for i in index(state.failed - last.failed):
                self._set_flag(i, _FAILED, True)
        self._state = state

    def after(self, task: int) -> list[int]:
        """Done tasks, not among `task`'s transitive deps, whose touches conflict with its own;
        in plan order."""
        near = self._overlapping(task, _DONE)
        if near:
            near -= self._ancestors(task)
        return sorted(near)

    # ---- bookkeeping --------------------------------------------------------------------------

    def _overlapping(self, task: int, flag: int) -> set[int]:
        """Tasks with `flag` whose touches conflict with `task`'s own."""
        plan = self.plan
        return {
            holder
            for touch in plan.touches[task]
            for other in plan.conflicting[touch]
            for holder in plan.holders[other]
            if self.flags[holder] & flag
        }

    def _ready(self, task: int) -> bool:
        return self.waiting[task] == 0 and not self.flags[task]

    def _indices(self, ids: Iterable[str]) -> list[int]:
        try:
            return [self.plan.index[task_id] for task_id in ids]
        except KeyError as exc:
            raise ValueError(f"run state names task {exc.args[0]!r}, not in the plan") from None

    def _ancestors(self, task: int) -> set[int]:
        seen: set[int] = set()
        stack = list(self.plan.deps[task])
        while stack:
            i = stack.pop()
            if i not in seen:
                seen.add(i)
                stack.extend(self.plan.deps[i])
        return seen

    def _set_flag(self, task: int, flag: int, on: bool) -> None:
        """Set or clear one flag; a task that starts (or stops having started) releases (or
        holds again) the tasks reserved behind it."""
        before = self.flags[task]
        self.flags[task] = after = before | flag if on else before & ~flag
        if task not in self.behind or bool(before) == bool(after):
            return
        delta = -1 if after else 1
        for behind in self.behind[task]:
            self.held[behind] += delta
            if not self.held[behind] and self._ready(behind):
                self._offer(behind)

    def _set_running(self, task: int, running: bool) -> None:
        delta = 1 if running else -1
        self._set_flag(task, _RUNNING, running)
        self.running[self.plan.foreground[task]] += delta
        if not any(self.running) and self._held_back:  # nothing runs: holds are off
            for held in self._held_back:
                self._offer(held)
            self._held_back.clear()
        locked, conflicting = self.locked, self.plan.conflicting
        for touch in self.plan.touches[task]:
            for other in conflicting[touch]:
                locked[other] += delta
                if not locked[other]:
                    self._unpark(other)

    def _set_done(self, task: int, done: bool) -> None:
        self._set_flag(task, _DONE, done)
        delta = -1 if done else 1
        for j in self.plan.dependents[task]:
            self.waiting[j] += delta
            if done and not self.waiting[j]:
                self._offer(j)
        if not done:
            self._offer(task)

    # ---- offers and parking -------------------------------------------------------------------

    def _offer(self, task: int) -> None:
        """Queue `task` (stale or duplicate entries are harmless: the rule turns them away)."""
        entry = (self.position[task], next(self._sequence), task, -1, None)
        heapq.heappush(self._queues[self.plan.foreground[task]], entry)

    def _next_offer(self, limits: Limits) -> int | None:
        """Pop the best queued task of a kind with a free slot (None when none is left)."""
        caps = (limits.max_background, limits.max_foreground)
        while sum(self.running) < limits.max_parallel:
            queue: list[_Entry] | None = None
            for kind, candidates in enumerate(self._queues):
                if candidates and self.running[kind] < caps[kind]:
                    if queue is None or candidates[0] < queue[0]:
                        queue = candidates
            if queue is None:
                return None
            _, _, task, touch, group = heapq.heappop(queue)
            if group is None:
                return task
            if self.locked[touch]:  # still locked: the whole group waits again, at no cost
                self._parked.setdefault((touch, queue is self._queues[1]), []).append(group)
                continue
            _, task = heapq.heappop(group)
            if group:
                heapq.heappush(queue, (group[0][0], next(self._sequence), -1, touch, group))
            return task
        return None

    def _park(self, task: int) -> None:
        touch = next(t for t in self.plan.touches[task] if self.locked[t])
        groups = self._parked.setdefault((touch, self.plan.foreground[task]), [])
        if not groups:
            groups.append([])
        heapq.heappush(groups[0], (self.position[task], task))

    def _unpark(self, touch: int) -> None:
        for kind, queue in enumerate(self._queues):
            for group in self._parked.pop((touch, bool(kind)), ()):
                if group:
                    heapq.heappush(queue, (group[0][0], next(self._sequence), -1, touch, group))


def _plural(names: Sequence[str], one: str, many: str) -> str:
    return f"{one if len(names) == 1 else many} {', '.join(names)}"


def _are(names: Sequence[str]) -> str:
    return "is" if len(names) == 1 else "are"
