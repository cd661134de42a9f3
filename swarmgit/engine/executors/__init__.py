"""Where a task's agent runs: the executor seam of the dispatch loop.

The dispatcher decides what starts (the scheduler), prepares the task's branch and worktree
on the head, and records the outcome; an executor only runs the attempt somewhere, passes the
agent's events on through `event` as they happen, and hands its `AgentOutcome` back through
`deliver`, from any thread. `local` runs it in a thread of
this process (the default); `ray` runs it as a Ray task on a cluster (`executors.ray_cluster`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from swarmgit.backends.base import AgentJob, AgentOutcome
from swarmgit.engine.executors.local import LocalExecutor
from swarmgit.engine.workspace import Workspace
from swarmgit.errors import UsageError

Deliver = Callable[[str, AgentOutcome], None]
"""deliver(task id, outcome): the attempt ended (called once per submitted job)."""
Event = Callable[[str, str, str], None]
"""event(task id, kind, message): an agent's progress, from any thread, while it runs."""
Work = Callable[[AgentJob], AgentOutcome]
"""Runs one attempt in this process: worktree setup, then the agent."""


class Executor(Protocol):
    name: str

    def submit(self, job: AgentJob, start_commit: str) -> None:
        """Start the attempt `job` (its branch, checked out in job.worktree, begins at
        `start_commit`, the task's start point); returns at once."""
        ...

    def cancel(self, task_id: str) -> None:
        """Stop a submitted attempt; its outcome may still be delivered."""
        ...


def make_executor(ws: Workspace, work: Work, deliver: Deliver, event: Event) -> Executor:
    """The executor `.swarm.toml` names (`executor`)."""
    if ws.config.executor == "ray":
        try:
            from swarmgit.engine.executors.ray_cluster import RayExecutor  # an optional extra
        except ImportError as exc:
            raise UsageError(
                f"executor = \"ray\" needs Ray ({exc}): pip install 'swarmgit[ray]', "
                "the same version as the cluster's"
            ) from exc
        return RayExecutor(ws, deliver, event)
    return LocalExecutor(work, deliver)
