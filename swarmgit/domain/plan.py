"""The plan model: tasks with dependencies, declared touches and run metadata.

A Plan is an immutable value parsed from a track's plan.md (see plan_parser). Every command
uses this one model; status lives in the run-state store and is written back as a view.
"""

from __future__ import annotations

import re
from enum import Enum, StrEnum

from pydantic import BaseModel, ConfigDict, Field

from swarmgit.errors import Diagnostic


class Status(StrEnum):
    """A task's run state; stored as its value (the run state's `tasks.status` column)."""

    TODO = "todo"
    READY = "ready"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    BLOCKED = "blocked"
    NEEDS_INPUT = "needs-input"

    @property
    def finished(self) -> bool:
        return self in (Status.DONE, Status.FAILED, Status.BLOCKED)


class ConcurrencyClass(str, Enum):
    READ_ONLY = "read-only"
    WRITE_LOCAL = "write-local"
    WRITE_SHARED = "write-shared"


class Severity(str, Enum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        """Higher is more urgent: critical=3 … low=0."""
        return ("low", "medium", "high", "critical").index(self.value)


EFFORT_SIZES_MINUTES = {"S": 30, "M": 150, "L": 480, "XL": 720}
_EFFORT_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(min|mins|minutes|m|h|hr|hrs|hours)\s*$", re.I)
DEFAULT_EFFORT_MINUTES = EFFORT_SIZES_MINUTES["M"]


def parse_effort(text: str) -> int:
    """Effort text to minutes: S, M, L, XL, `90min`, `1.5h`, `2h`. Raises ValueError."""
    size = text.strip().upper()
    if size in EFFORT_SIZES_MINUTES:
        return EFFORT_SIZES_MINUTES[size]
    match = _EFFORT_RE.match(text)
    if not match:
        raise ValueError(f"bad effort {text!r}: use S, M, L, XL, or a duration like 90min, 1.5h")
    amount = float(match.group(1))
    minutes = amount * 60 if match.group(2).lower().startswith("h") else amount
    if minutes <= 0:
        raise ValueError(f"bad effort {text!r}: must be more than zero")
    return max(1, round(minutes))


class Task(BaseModel):
    """One unit of work. `touches` are normalised gitignore-style patterns (empty = read-only);
    `context`: patterns of the same form the task reads but may not write (what a sparse
    worktree checks out besides the touches)."""

    model_config = ConfigDict(frozen=True)

    id: str
    title: str
    role: str = "Implementer"
    deps: tuple[str, ...] = ()
    touches: tuple[str, ...] = ()
    context: tuple[str, ...] = ()
    concurrency: ConcurrencyClass = ConcurrencyClass.WRITE_LOCAL
    needs_user_input: bool = False
    effort_minutes: int = DEFAULT_EFFORT_MINUTES
    model: str = "auto"
    severity: Severity = Severity.MEDIUM
    acceptance: str = ""
    run: tuple[str, ...] = ()
    brief: str = ""
    checked: bool = False
    extra: dict[str, str] = Field(default_factory=dict)
    line: int = 0

    @property
    def read_only(self) -> bool:
        return not self.touches


class Plan(BaseModel):
    """An ordered, validated set of tasks. Ids are unique and every dep exists."""

    model_config = ConfigDict(frozen=True)

    tasks: tuple[Task, ...]
    path: str = "plan.md"
    warnings: tuple[Diagnostic, ...] = ()  # lines the parser kept but did not understand

    def task(self, task_id: str) -> Task:
        for task in self.tasks:
            if task.id == task_id:
                return task
        raise KeyError(task_id)

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(t.id for t in self.tasks)
