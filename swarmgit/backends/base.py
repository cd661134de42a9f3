"""The agent interface: a backend turns (task, worktree, brief, shared context) into commits
plus a report. Backends never touch the store or the scheduler; the orchestrator records what
they return.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Protocol

from swarmgit.config import Config
from swarmgit.domain.fence import Fence
from swarmgit.domain.plan import Task


@dataclass(frozen=True)
class Usage:
    """Token usage of one model call (or one CLI run); cost_usd is set when the tool reports it."""

    model: str
    input_tokens: int = 0
    output_tokens: int = 0
    cache_write_tokens: int = 0
    cache_read_tokens: int = 0
    cost_usd: float | None = None


@dataclass(frozen=True)
class AgentJob:
    """Everything a backend needs to run one attempt of one task."""

    track: str
    task: Task
    worktree: Path
    brief_file: Path
    report_file: Path
    shared_context: Path
    log_file: Path
    env: Mapping[str, str]
    config: Config
    model: str
    budget_usd: float | None = None
    attempt: int = 1
    pid_file: Path | None = None  # where a process-running backend records its process group
    foreground: bool = False  # attached to the user's terminal (a task that needs user input)
    fence: Fence | None = None  # what its processes may write; None: unfenced


class FailureKind(StrEnum):
    """Why an attempt failed, as its outcome says and the failed event shows."""

    TIMEOUT = "timeout"  # agent.timeout_minutes ran out
    COMMAND_FAILED = "command-failed"  # the agent's process exited non-zero or without a result
    RATE_LIMITED = "rate-limited"  # the API kept refusing for rate (HTTP 429/529)
    API_ERROR = "api-error"  # the Messages API failed otherwise (connection, HTTP 5xx, 4xx)
    SETUP_FAILED = "setup-failed"  # worktrees.setup failed, or the agent could not start
    MAX_TURNS = "max-turns"  # agent.max_turns reached without a finish
    BUDGET = "budget"  # the task's share of the budget was spent
    REPORTED_FAILED = "reported-failed"  # the agent's report says failed
    REPORTED_BLOCKED = "reported-blocked"  # the agent's report says blocked
    AGENT_ERROR = "agent-error"  # the backend raised (a bug): the task fails, the run goes on
    SANDBOX = "sandbox"  # agent.sandbox = "required" and no write fence is available
    SCOPE_VIOLATION = "scope-violation"  # its change writes outside its touches
    SECRET_IN_CHANGE = "secret-in-change"  # its change holds a secret value
    PUSH_REFUSED = "push-refused"  # a Ray worker's push: the remote branch moved meanwhile
    REMOTE_REJECTED = "remote-rejected"  # a Ray worker's branch failed the head's checks
    EXECUTOR_ERROR = "executor-error"  # the Ray task itself was lost

    @classmethod
    def reported(cls, status: str) -> FailureKind:
        """The kind of a report whose status is failed or blocked."""
        return cls(f"reported-{status}")


@dataclass(frozen=True)
class AgentOutcome:
    """What an attempt produced. `diagnosis` says why it failed (fed to the retry brief);
    `kind` is set exactly when it failed."""

    ok: bool
    diagnosis: str = ""
    usage: tuple[Usage, ...] = ()
    report_text: str | None = None
    kind: FailureKind | None = None
    notes: tuple[str, ...] = field(default=())


AgentEvents = Callable[[str, str], None]
"""on_event(kind, message): progress the orchestrator records in the event log."""


class Agent(Protocol):
    name: str

    def run(self, job: AgentJob, on_event: AgentEvents) -> AgentOutcome:
        """Run one attempt in job.worktree. Must not raise for task failures: return ok=False."""
        ...
