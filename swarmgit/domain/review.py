"""Review rules: which tasks stand on a task's work, and whether a track's review is complete.

A task's start point folds in the final commits of its dependencies and of the tasks it was
lock-ordered after, so rejecting (or failing) a task invalidates every task that, directly or
through others, started from its work: those must be re-based and run again.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from enum import StrEnum


class ReviewVerdict(StrEnum):
    """A reviewer's verdict on one task's work (the run state's `reviews.verdict` column)."""

    ACCEPTED = "accepted"
    REJECTED = "rejected"


def built_on(task: str, sources: Mapping[str, Sequence[str]]) -> list[str]:
    """Every task whose start point holds `task`'s work, transitively, sorted. `sources` maps
    each task to the tasks its start point folded in (its deps and lock-order predecessors)."""
    found: set[str] = set()
    frontier = [task]
    while frontier:
        current = frontier.pop()
        for other, folded in sources.items():
            if current in folded and other not in found and other != task:
                found.add(other)
                frontier.append(other)
    return sorted(found)


def unreviewed(tasks: Iterable[str], accepted: Iterable[str]) -> list[str]:
    """The tasks (in the given order) without an acceptance of their current work."""
    ok = set(accepted)
    return [task for task in tasks if task not in ok]
