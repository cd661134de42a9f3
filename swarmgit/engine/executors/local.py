"""The local executor: each attempt runs in a thread of the orchestrator's process."""

from __future__ import annotations

import threading
from collections.abc import Callable

from swarmgit.backends.base import Agent, AgentJob, AgentOutcome, FailureKind
from swarmgit.engine.taskspace import run_setup
from swarmgit.process.run import stop_orphan


def run_attempt(agent: Agent, job: AgentJob, on_event: Callable[[str, str], None]) -> AgentOutcome:
    """One attempt wherever it runs (a thread here, a Ray worker): worktree setup, then the
    agent; never raises."""
    try:
        setup = run_setup(
            job.config.worktrees.setup,
            job.worktree,
            job.env,
            job.config.agent.timeout_minutes * 60,
            job.fence,
        )
        return (
            AgentOutcome(ok=False, diagnosis=setup, kind=FailureKind.SETUP_FAILED)
            if setup
            else agent.run(job, on_event)
        )
    except Exception as exc:  # a backend bug must fail the task, not the run
        return AgentOutcome(ok=False, diagnosis=f"agent crashed: {exc!r}", kind=FailureKind.AGENT_ERROR)


class LocalExecutor:
    """Runs `work(job)` in a daemon thread and delivers its outcome."""

    name = "local"

    def __init__(
        self, work: Callable[[AgentJob], AgentOutcome], deliver: Callable[[str, AgentOutcome], None]
    ) -> None:
        self.work = work
        self.deliver = deliver
        self.jobs: dict[str, AgentJob] = {}

    def submit(self, job: AgentJob, start_commit: str) -> None:
        self.jobs[job.task.id] = job

        def run() -> None:
            outcome = self.work(job)
            self.jobs.pop(job.task.id, None)
            self.deliver(job.task.id, outcome)

        threading.Thread(target=run, name=f"agent-{job.task.id}", daemon=True).start()

    def cancel(self, task_id: str) -> None:
        """Stop the attempt's process group (its pid file); the thread then delivers."""
        job = self.jobs.pop(task_id, None)
        if job is not None and job.pid_file is not None:
            stop_orphan(job.pid_file)
