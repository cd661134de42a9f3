"""Landing tasks as their changes, never their histories.

Each task's contribution is the change from its start point to its final commit, applied (a
3-way merge of trees with the start tree as ancestor) onto the running result, in order. A
task that merged a sibling's branch and then reverted it contributes only what its own tree
changed, so it cannot remove the sibling's work. How the result is recorded is `History`:

- `tasks`: one commit per task, whose only parent is the running result;
- `squash`: one commit for all of them on the base;
- `merge`: one merge commit per task (parents: running result, the task's final commit), so
  its history stays browsable, with the tree still taken from the change.

Commits are dated by their inputs (`write_commit`): the same changes give the same ids.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import pygit2

from swarmgit.crash_points import reached
from swarmgit.gitops.merge import Conflict, apply_change, write_commit

History = Literal["tasks", "squash", "merge"]


@dataclass(frozen=True)
class Change:
    """A task's change to land: `label` (task id), its start point and final commit, and the
    message of the commit that records it (history `tasks` or `merge`)."""

    label: str
    start: str
    final: str
    message: str


@dataclass(frozen=True)
class ReplayResult:
    """`commit` holds the base and every change in `applied` (in order; a change already in
    the result adds no commit). On a conflict, `commit` is the result before that change."""

    commit: str
    applied: tuple[str, ...]
    conflict: Conflict | None


def replay(
    repo: pygit2.Repository,
    base: str,
    changes: Sequence[Change],
    history: History,
    squash_message: Callable[[Sequence[str]], str],
) -> ReplayResult:
    """Apply `changes` in order onto `base`; stop at the first conflict. Writes objects, no ref."""
    head, tree = base, repo[base].peel(pygit2.Tree).id
    applied: list[str] = []
    conflict = None
    for change in changes:
        merged = apply_change(repo, change.start, tree, change.final)
        if isinstance(merged, tuple):
            conflict = Conflict(change.label, merged)
            break
        applied.append(change.label)
        reached("integration-fold")
        if merged == tree:
            continue
        tree = merged
        if history == "tasks":
            head = write_commit(repo, [head], tree, change.message, [head, change.final])
        elif history == "merge":
            head = write_commit(repo, [head, change.final], tree, change.message, [head, change.final])
    if history == "squash" and tree != repo[base].peel(pygit2.Tree).id:
        finals = [c.final for c in changes if c.label in applied]
        head = write_commit(repo, [base], tree, squash_message(applied), [base, *finals])
    return ReplayResult(head, tuple(applied), conflict)
