"""Moving the user's target branch forward to exactly the commit that was gated: never a
force-move, never a merge made here (the caller merges and gates before it lands).

A target checked out nowhere just has its ref moved (compare-and-set). A checked-out target
has its files and index updated in-process by libgit2 while the ref's lock is held, then the
ref moves: libgit2 runs no hook, no fsmonitor and no external filter driver, so nothing an
agent planted in the repository's config or hooks runs. Local changes in any path the move
changes make it refuse, moving nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pygit2
from pygit2.enums import CheckoutStrategy

from swarmgit.errors import UsageError, WorkFailed
from swarmgit.gitops.diff import changes_between, describe_paths, touched_paths
from swarmgit.gitops.refs import branch_tip, set_branch
from swarmgit.gitops.repo import contains, discover
from swarmgit.gitops.status import dirty_paths
from swarmgit.gitops.worktrees import checked_out_at

AdvanceKind = Literal["fast-forward", "up-to-date"]


@dataclass(frozen=True)
class AdvanceResult:
    """How the branch moved, and the commit it points at now."""

    kind: AdvanceKind
    commit: str


def advance_branch(repo_path: Path, branch: str, commit: str, message: str, *, expect: str) -> AdvanceResult:
    """Fast-forward existing `branch` from `expect` to `commit` (which must contain it).

    A branch already containing `commit` is up to date. A branch that is not at `expect`, or
    a `commit` that does not contain it, is a WorkFailed and nothing moves. If `branch` is
    checked out in a worktree, that worktree's files and index follow; local changes there in
    any path the move changes make it refuse (WorkFailed), moving nothing.
    """
    repo = discover(repo_path)
    current = branch_tip(repo, branch)
    if current is None:
        raise UsageError(f"no branch {branch}: create it (git branch {branch} <start>) first")
    if contains(repo, current, commit):
        return AdvanceResult("up-to-date", current)
    if current != expect or not contains(repo, commit, current):
        raise WorkFailed(
            f"{branch} moved to {current[:12]} while its update to {commit[:12]} was being "
            "checked; nothing was moved: integrate again to judge the new tip"
        )
    checkout = checked_out_at(repo, branch)
    update = None if checkout is None else _checkout_update(repo, checkout, branch, current, commit)
    set_branch(repo, branch, commit, expect=current, message=message, while_locked=update)
    return AdvanceResult("fast-forward", commit)


def _checkout_update(
    repo: pygit2.Repository, checkout: Path, branch: str, current: str, target: str
) -> Callable[[], None]:
    """What moves the files and index of `checkout` from `current` to `target` (checked now
    for local changes in the affected paths; run under the branch's lock)."""
    affected = set(touched_paths(changes_between(repo, current, target)))
    # The user's own checkout, most often: read it without taking its index.lock.
    blocked = [p for p in dirty_paths(checkout, refresh=False) if p in affected]
    if blocked:
        raise WorkFailed(
            f"{branch} is checked out at {checkout} with local changes in paths this update "
            f"changes: {describe_paths(blocked)}; commit or stash them there, then run it again"
        )

    def update() -> None:
        worktree = pygit2.Repository(str(checkout))
        try:
            # SAFE: a file that differs from HEAD is never overwritten; the index is written.
            # pygit2 ships checkout_tree without annotations.
            worktree.checkout_tree(  # type: ignore[no-untyped-call]
                worktree[target].peel(pygit2.Tree), strategy=CheckoutStrategy.SAFE
            )
        except pygit2.GitError as exc:
            raise WorkFailed(
                f"could not update {branch} checked out at {checkout}: {exc}; nothing was moved"
            ) from exc

    return update
