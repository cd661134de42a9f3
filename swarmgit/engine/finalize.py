"""After an agent exits: commit what it left, re-check the branch's scope, collect its report.

libgit2 runs no hooks, so the leftover commit goes through the same scope check the hook
runs; the whole branch diff since the start point is then checked again, which catches
commits made with `git commit --no-verify`.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pygit2

from swarmgit.domain.plan import Task
from swarmgit.gitops.commit import ScopeViolation, commit_all
from swarmgit.gitops.diff import changes_between, touched_paths
from swarmgit.hookcheck import check_paths


@dataclass(frozen=True)
class Finalized:
    ok: bool
    final_commit: str
    diagnosis: str = ""
    kind: str = ""
    files: tuple[str, ...] = ()


def scope_diagnosis(task: Task, paths: list[str] | tuple[str, ...], how: str) -> str:
    allowed = ", ".join(task.touches) or "nothing (read-only task)"
    listing = "\n".join(f"  {p}" for p in paths)
    return f"scope violation ({how}): {task.id} may only touch {allowed}; outside paths:\n{listing}"


def finalize(repo: pygit2.Repository, task: Task, worktree: Path, branch: str, start_commit: str,
             *, exclude: tuple[str, ...] = ()) -> Finalized:
    """Commit leftovers through the scope check (new files matching `exclude`, the agent's own
    caches, left out), then verify the branch diff against touches."""
    try:
        commit_all(worktree, f"{task.id}: {task.title}", lambda paths: check_paths(task.touches, paths),
                   exclude=exclude)
    except ScopeViolation as exc:
        head = str(repo.branches.local[branch].target)
        return Finalized(False, head, scope_diagnosis(task, exc.paths, "uncommitted changes"), "scope-violation")
    head = str(repo.branches.local[branch].target)
    files = tuple(touched_paths(changes_between(repo, start_commit, head)))
    outside = check_paths(task.touches, files)
    if outside:
        return Finalized(False, head, scope_diagnosis(task, outside, "committed on the branch"), "scope-violation", files)
    return Finalized(True, head, files=files)
