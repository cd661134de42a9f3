"""A task's own change: from its start point to its final commit (its branch tip while it runs).

Start points fold the track's base with the work a task was started on, so this change is
exactly what the task did itself, whatever it was stacked on.
"""

from __future__ import annotations

from dataclasses import dataclass

import pygit2

from swarmgit.gitops.diff import changes_between, file_stats, touched_paths
from swarmgit.gitops.refs import branch_tip
from swarmgit.store.state import TaskRow


@dataclass(frozen=True)
class TaskChange:
    """A task's row and the two ends of its own change (both None before it started)."""

    row: TaskRow
    start: str | None
    end: str | None

    @property
    def started(self) -> bool:
        return self.start is not None and self.end is not None


def task_change(repo: pygit2.Repository, row: TaskRow) -> TaskChange:
    """The ends of `row`'s own change: start point to final commit (or branch tip)."""
    end = row.final_commit or (branch_tip(repo, row.branch) if row.branch else None)
    return TaskChange(row, row.start_commit, end if row.start_commit else None)


def branch_paths(repo: pygit2.Repository, row: TaskRow) -> list[str]:
    """Every path a finished task's branch changed since its start point (renames: both sides)."""
    assert row.start_commit and row.final_commit
    return touched_paths(changes_between(repo, row.start_commit, row.final_commit))


_COUNTS: dict[tuple[str, str], tuple[int, int, int]] = {}
"""Counts by (start, end) commit: commits never change, so `watch` redraws without re-diffing."""


def change_counts(repo: pygit2.Repository, change: TaskChange) -> tuple[int, int, int]:
    """(files, lines added, lines deleted) of a task's own change; zeros before it started."""
    if not change.started:
        return 0, 0, 0
    assert change.start and change.end
    key = (change.start, change.end)
    if key not in _COUNTS:
        stats = file_stats(repo, change.start, change.end)
        _COUNTS[key] = (len(stats), sum(s.added for s in stats), sum(s.deleted for s in stats))
    return _COUNTS[key]
