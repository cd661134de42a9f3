"""Moving the user's target branch forward to include a result: never a force-move.

Moving a ref that some worktree has checked out would leave that worktree's index stale, so a
checked-out target is advanced by git itself in that worktree (`git merge --ff-only` to a
merge commit built in memory), which updates the index and files and refuses to overwrite
local changes. A target checked out nowhere just has its ref moved (compare-and-set).
"""
from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pygit2

from swarmgit.errors import UsageError, WorkFailed
from swarmgit.gitops.diff import changes_between, describe_paths, touched_paths
from swarmgit.gitops.merge import fold_merge
from swarmgit.gitops.refs import branch_tip, set_branch
from swarmgit.gitops.repo import contains, discover
from swarmgit.gitops.worktrees import checked_out_at, dirty_paths

AdvanceKind = Literal["fast-forward", "merge", "up-to-date"]

# Set when running inside a git hook; they would point a child git at another repository.
_REDIRECTING_ENV = ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_COMMON_DIR")


@dataclass(frozen=True)
class AdvanceResult:
    """How the branch moved, and the commit it points at now."""

    kind: AdvanceKind
    commit: str


def advance_branch(repo_path: Path, branch: str, commit: str, message: str) -> AdvanceResult:
    """Make existing `branch` contain `commit`: fast-forward when possible, else a merge
    commit with `message` (conflicts: WorkFailed naming the paths).

    If `branch` is checked out in a worktree, that worktree's files and index follow; local
    changes there in any path the move changes make it refuse (WorkFailed), moving nothing.
    """
    repo = discover(repo_path)
    current = branch_tip(repo, branch)
    if current is None:
        raise UsageError(f"no branch {branch}: create it (git branch {branch} <start>) first")
    if contains(repo, current, commit):
        return AdvanceResult("up-to-date", current)
    kind: AdvanceKind = "fast-forward"
    target = commit
    if not contains(repo, commit, current):
        kind, target = "merge", _merge(repo, branch, current, commit, message)
    checkout = checked_out_at(repo, branch)
    if checkout is None:
        set_branch(repo, branch, target, expect=current, message=message)
    else:
        _advance_checkout(repo, checkout, branch, current, target)
    return AdvanceResult(kind, target)


def _merge(repo: pygit2.Repository, branch: str, current: str, commit: str, message: str) -> str:
    fold = fold_merge(repo, current, [(commit, commit)], lambda _: message)
    if fold.conflict is not None:
        raise WorkFailed(
            f"cannot merge {commit[:12]} into {branch}: both sides changed "
            f"{describe_paths(fold.conflict.paths)}; merge it by hand (git merge {commit[:12]})"
        )
    return fold.commit


def _advance_checkout(
    repo: pygit2.Repository, checkout: Path, branch: str, current: str, target: str
) -> None:
    affected = set(touched_paths(changes_between(repo, current, target)))
    blocked = [p for p in dirty_paths(checkout) if p in affected]
    if blocked:
        raise WorkFailed(
            f"{branch} is checked out at {checkout} with local changes in paths this update "
            f"changes: {describe_paths(blocked)}; commit or stash them there, then run it again"
        )
    env = {k: v for k, v in os.environ.items() if k not in _REDIRECTING_ENV}
    done = subprocess.run(
        ["git", "merge", "--ff-only", "--quiet", target],
        cwd=checkout, env=env, capture_output=True, text=True, check=False,
    )
    if done.returncode != 0:
        raise WorkFailed(
            f"could not update {branch} checked out at {checkout}: {done.stderr.strip()}"
        )

