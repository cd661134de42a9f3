"""The one dispatch decision: which ready tasks start now. The live run and `simulate` share it.

Two parts, each in its own module:
- `dispatch_rule`: the lock rule, one predicate (`Board.may_start`): a task may start when it
  is ready, not held back by a reservation while something runs, a slot of its kind is free,
  and its touches conflict with no running task. Ready tasks are offered to it best priority
  first (continuous dispatch: no waves).
- `priority`: the order tasks are offered in (critical path first, improved by
  forward-backward passes), the reservations (tasks held back so as not to delay a more
  critical one) and the width to use (perhaps fewer workers than allowed, when the plan's
  estimates say more would finish later).

`Scheduler.decide` is a pure function of (plan, state, limits); `Scheduler.start_alone` asks the
same rule about one task on its own (`git swarm run`). It keeps a `Board` from the
previous call and brings it to the new state from the difference: one call costs the set
differences of the state (at C speed) plus work near the size of what changed.
"""

from __future__ import annotations

from swarmgit.domain.dispatch_rule import Board, Limits, PlanIndex, RunState, Start
from swarmgit.domain.plan import Plan
from swarmgit.domain.priority import Priorities, topological_order

__all__ = ["Limits", "RunState", "Scheduler", "Start", "topological_order"]


class Scheduler:
    """Precomputes deps, priorities and touch conflicts of one plan; then answers `decide`."""

    def __init__(self, plan: Plan) -> None:
        self._index = PlanIndex.of(plan)
        self.priorities = Priorities(plan, self._index)
        self._board: Board | None = None

    def decide(self, state: RunState, limits: Limits) -> list[Start]:
        """The tasks to start now, best first. Pure in (plan, state, limits)."""
        choice = self.priorities.choice(limits)
        if self._board is None or self._board.position is not choice.position:
            self._board = Board(self._index, choice.position, ahead=choice.ahead)
        chosen = self._board.decide(state, choice.limits)
        ids = self._index.ids
        return [Start(ids[i], tuple(ids[j] for j in self._board.after(i))) for i in chosen]

    def start_alone(self, task_id: str, state: RunState, limits: Limits) -> Start | str:
        """`task_id` alone, as `git swarm run` asks for it: its `Start` if the lock rule lets it
        start now, with the reservations and width of the whole plan's dispatch left out (they
        serve tasks this caller will not start); else why not, naming the tasks in the way.
        Pure in (plan, task_id, state, limits). Raises ValueError for a task not in the plan."""
        task = self._index.index.get(task_id)
        if task is None:
            raise ValueError(f"task {task_id!r} is not in the plan")
        board = Board(self._index, self.priorities.critical_first, only=(task,))
        board.sync(state)
        if not board.may_start(task, limits):
            return board.refusal(task, limits)
        return Start(task_id, tuple(self._index.ids[j] for j in board.after(task)))

    def schedule(self, limits: Limits) -> list[tuple[str, int, int]] | None:
        """(task, start, end) minutes in start order when the whole plan runs from scratch on a
        clock (each task takes its effort and succeeds) with this very dispatch; None if some
        task can never start with these limits."""
        choice = self.priorities.choice(limits)
        if choice.schedule is None:
            return None
        ids, effort = self._index.ids, self._index.effort
        return [(ids[i], start, start + effort[i]) for i, start in choice.schedule]

    def makespan_minutes(self, limits: Limits) -> int | None:
        """The end of `schedule(limits)` (None if some task can never start)."""
        choice = self.priorities.choice(limits)
        return None if choice.schedule is None else choice.makespan

    def lower_bound_minutes(self, limits: Limits) -> float:
        return self.priorities.lower_bound(limits)

    def blocked(self, state: RunState) -> dict[str, str]:
        """Tasks that can never run because a (transitive) dep is in `state.failed`:
        id → reason naming the failed task."""
        ids, deps = self._index.ids, self._index.deps
        reasons: dict[str, str] = {}
        roots: dict[int, str] = {}
        skip = state.failed | state.done | state.running
        for i in self.priorities.topo:
            if ids[i] in skip:
                continue
            for dep in deps[i]:
                dep_id = ids[dep]
                if dep_id in state.failed:
                    roots[i] = dep_id
                    reasons[ids[i]] = f"depends on {dep_id}, which failed"
                    break
                if dep in roots:
                    roots[i] = roots[dep]
                    reasons[ids[i]] = f"depends on {dep_id}, which cannot run because {roots[dep]} failed"
                    break
        return reasons

    def critical_path(self) -> list[str]:
        """The longest chain of deps by effort, first task first ([] for an empty plan)."""
        return [self._index.ids[i] for i in self.priorities.critical_path()]

    def critical_path_minutes(self) -> int:
        return max(self.priorities.tail, default=0)
