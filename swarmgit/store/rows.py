"""The store's typed, immutable rows."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from swarmgit.domain.cost import TokenUsage
from swarmgit.domain.plan import Status
from swarmgit.domain.review import ReviewVerdict
from swarmgit.domain.spawn import CandidateState


@dataclass(frozen=True)
class TaskSpec:
    """What the plan says about a task; `Store.sync_tasks` upserts these."""

    id: str
    title: str
    touches: tuple[str, ...] = ()
    deps: tuple[str, ...] = ()


@dataclass(frozen=True)
class TrackRow:
    id: str
    base_commit: str
    target_branch: str
    plan_path: str
    created_at: float
    budget_usd: float | None
    integrated_commit: str | None


@dataclass(frozen=True)
class TaskRow:
    """A task's run state. `after`: the finished tasks whose commits its start point holds;
    `retired_at`: when the task left plan.md (None while it is in the plan)."""

    track: str
    id: str
    title: str
    status: Status
    reason: str
    touches: tuple[str, ...]
    deps: tuple[str, ...]
    branch: str | None
    worktree: str | None
    start_commit: str | None
    final_commit: str | None
    after: tuple[str, ...]
    attempts: int
    started_at: float | None
    finished_at: float | None
    pid: int | None
    retired_at: float | None = None  # set when the task left plan.md (`Store.sync_tasks`)


@dataclass(frozen=True)
class LockRow:
    task: str
    pattern: str


@dataclass(frozen=True)
class EventRow:
    id: int
    ts: float
    track: str
    task: str | None
    kind: str
    message: str


@dataclass(frozen=True)
class Spend(TokenUsage):
    """Tokens and dollars summed over some usage rows: `usd` counted by swarmgit, `cli_usd`
    reported by the agents' tools (None when none reported a figure)."""

    usd: float = 0.0
    cli_usd: float | None = None


@dataclass(frozen=True)
class CostSummary:
    total: Spend
    by_task: Mapping[str, Spend]
    by_model: Mapping[str, Spend]

    @property
    def usd(self) -> float:
        return self.total.usd


@dataclass(frozen=True)
class CandidateRow:
    track: str
    dedup_key: str
    payload: str
    state: CandidateState
    task_id: str | None
    created_at: float


@dataclass(frozen=True)
class ReviewRow:
    """A reviewer's verdict on one task's work: `final_commit` is the work it judged (a task
    that ran again since has no verdict on its new work)."""

    track: str
    task: str
    verdict: ReviewVerdict
    reviewer: str
    message: str
    final_commit: str
    at: float
