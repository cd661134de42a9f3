"""The run state follows plan.md: the plan is the one task list.

The commands that run tasks (implement, resume, run, retry, task update) first bring the
store in line with it (`Store.sync_tasks`): new tasks are added, a task no longer in the plan is
retired (left out of every view and of integration, its branch and worktree kept), and a
retired task back in the plan is restored. `integrate` only retires (`retire_removed`): it
leaves the other tasks' stored touches as they are, to compare them with the plan's.
"""

from __future__ import annotations

from swarmgit.domain.events import EventSink
from swarmgit.domain.plan import Plan
from swarmgit.store.state import Store, TaskSpec


def task_specs(plan: Plan) -> list[TaskSpec]:
    return [TaskSpec(id=t.id, title=t.title, touches=t.touches, deps=t.deps) for t in plan.tasks]


def follow_plan(store: Store, track: str, plan: Plan, emit: EventSink) -> None:
    """Sync the store's task list to `plan`; each task retired or restored is shown through
    `emit` (the store has logged it already)."""
    for kind, message, task in store.sync_tasks(track, task_specs(plan)):
        emit(kind, message, task)


def retire_removed(store: Store, track: str, plan: Plan, emit: EventSink) -> None:
    """Retire the tasks no longer in `plan`, and change nothing else; each is shown via `emit`."""
    for kind, message, task in store.retire_missing(track, plan.ids):
        emit(kind, message, task)
