"""After an agent exits: commit what it left, re-check the branch's scope, collect its report.

libgit2 runs no hooks, so the leftover commit goes through the scope check (`domain.scope`:
paths, symlink targets, gitlinks, case variants); the whole branch diff since the start point
is then checked again, which catches commits made with `git commit --no-verify`. The touches
are the task's in plan.md (the caller's `Task`), never the run state's, which an agent could
rewrite.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pygit2

from swarmgit.backends.base import FailureKind
from swarmgit.domain.plan import Task
from swarmgit.domain.scope import ScopeEntry, scope_violations
from swarmgit.domain.secrets import NO_SECRETS, Secrets
from swarmgit.engine import secret_scan
from swarmgit.errors import WorkFailed
from swarmgit.gitops.commit import ScopeViolation, commit_all
from swarmgit.gitops.diff import changes_between, scope_entries, touched_paths
from swarmgit.gitops.repo import case_variants, messages_between, same_tree


@dataclass(frozen=True)
class Finalized:
    ok: bool
    final_commit: str
    diagnosis: str = ""
    kind: FailureKind | None = None  # set exactly when not ok
    files: tuple[str, ...] = ()
    changed: bool = False  # the final tree differs from the start point's
    messages: tuple[str, ...] = ()  # of the commits the attempts made, oldest first


def scope_diagnosis(task: Task, paths: Sequence[str], how: str) -> str:
    allowed = ", ".join(task.touches) or "nothing (read-only task)"
    listing = "\n".join(f"  {p}" for p in paths)
    return f"scope violation ({how}): {task.id} may only touch {allowed}; paths it may not write:\n{listing}"


def entry_violations(
    repo: pygit2.Repository, touches: Sequence[str], entries: Sequence[ScopeEntry], start: str
) -> list[str]:
    """The rendered scope violations of `entries`, a change from commit `start` (see
    `domain.scope`; the case check reads only the folders along the entries' paths)."""
    tracked = case_variants(repo, start, [entry.path for entry in entries])
    return [v.render() for v in scope_violations(touches, entries, tracked)]


def branch_violations(repo: pygit2.Repository, touches: Sequence[str], start: str, final: str) -> list[str]:
    """The scope violations of a branch's change from `start` to `final` (renames: both sides).
    A tree libgit2 refuses to read (e.g. a `..` entry, made with plumbing) is one too."""
    try:
        entries = scope_entries(changes_between(repo, start, final))
        return entry_violations(repo, touches, entries, start) if entries else []
    except pygit2.GitError as exc:
        return [f"a tree git refuses: {exc}"]


def finalize(
    repo: pygit2.Repository,
    task: Task,
    worktree: Path,
    branch: str,
    start_commit: str,
    *,
    secrets: Secrets = NO_SECRETS,
    exclude: tuple[str, ...] = (),
    trailer: str = "",
) -> Finalized:
    """Commit leftovers through the scope check (new files matching `exclude`, the agent's own
    caches, left out; `trailer` ends the commit message), then verify the branch diff against
    touches. A secret value in the leftovers (nothing is committed) or in the branch's change
    fails."""
    tip = str(repo.branches.local[branch].target)
    leak = secret_scan.uncommitted_leaks(worktree, secrets)
    if leak:
        return Finalized(False, tip, leak, FailureKind.SECRET_IN_CHANGE)
    try:
        commit_all(
            worktree,
            f"{task.id}: {task.title}" + (f"\n\n{trailer}\n" if trailer else ""),
            lambda entries: entry_violations(repo, task.touches, entries, tip),
            exclude=exclude,
        )
    except ScopeViolation as exc:
        head = str(repo.branches.local[branch].target)
        return Finalized(
            False, head, scope_diagnosis(task, exc.paths, "uncommitted changes"), FailureKind.SCOPE_VIOLATION
        )
    except pygit2.GitError as exc:  # e.g. a `..` tree entry committed with plumbing
        head = str(repo.branches.local[branch].target)
        return Finalized(
            False,
            head,
            scope_diagnosis(task, [f"a tree git refuses: {exc}"], "committed on the branch"),
            FailureKind.SCOPE_VIOLATION,
        )
    except WorkFailed as exc:  # e.g. a nested repository, which is never committed
        head = str(repo.branches.local[branch].target)
        return Finalized(
            False, head, scope_diagnosis(task, [str(exc)], "uncommitted changes"), FailureKind.SCOPE_VIOLATION
        )
    head = str(repo.branches.local[branch].target)
    files = tuple(touched_paths(changes_between(repo, start_commit, head)))
    outside = branch_violations(repo, task.touches, start_commit, head)
    if outside:
        return Finalized(
            False,
            head,
            scope_diagnosis(task, outside, "committed on the branch"),
            FailureKind.SCOPE_VIOLATION,
            files,
        )
    leak = secret_scan.branch_leaks(repo, start_commit, head, secrets)
    if leak:
        return Finalized(False, head, leak, FailureKind.SECRET_IN_CHANGE, files)
    return Finalized(
        True,
        head,
        files=files,
        changed=not same_tree(repo, start_commit, head),
        messages=tuple(messages_between(repo, start_commit, head)),
    )
