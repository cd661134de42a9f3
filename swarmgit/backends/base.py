"""The agent interface: a backend turns (task, worktree, brief, shared context) into commits
plus a report. Backends never touch the store or the scheduler; the orchestrator records what
they return.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
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


@dataclass(frozen=True)
class AgentOutcome:
    """What an attempt produced. `diagnosis` says why it failed (fed to the retry brief)."""

    ok: bool
    diagnosis: str = ""
    usage: tuple[Usage, ...] = ()
    report_text: str | None = None
    kind: str = ""  # failure kind: timeout | command-failed | rate-limited | setup-failed | …
    notes: tuple[str, ...] = field(default=())


AgentEvents = Callable[[str, str], None]
"""on_event(kind, message): progress the orchestrator records in the event log."""


class Agent(Protocol):
    name: str

    def run(self, job: AgentJob, on_event: AgentEvents) -> AgentOutcome:
        """Run one attempt in job.worktree. Must not raise for task failures: return ok=False."""
        ...
