"""`git swarm clean`: remove task worktrees whose work is safe elsewhere; never lose work.

A worktree goes only when it has no uncommitted changes and its task's final commit is in
the track's integration, and its task's scratch folder (its HOME and TMPDIR) with it; `--branches` also deletes task branches already contained in the
target branch. Everything kept is listed with the reason.
"""
from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pygit2

from swarmgit.domain.plan import Status
from swarmgit.engine.dispatch import task_scratch
from swarmgit.engine.taskspace import worktree_name
from swarmgit.engine.workspace import Workspace, resolve_track
from swarmgit.gitops import repo as gitrepo
from swarmgit.gitops.diff import describe_paths
from swarmgit.gitops.refs import branch_tip
from swarmgit.gitops.worktrees import checked_out_at, dirty_paths, prune, remove_worktree
from swarmgit.store.state import Store

Echo = Callable[[str], None]


def clean(ws: Workspace, track: str | None, dry_run: bool, branches: bool, echo: Echo) -> int:
    track_id = resolve_track(ws, track)
    repo = gitrepo.discover(ws.root)
    with Store.open(ws.common_dir) as store:
        info = store.track(track_id)
        rows = store.tasks(track_id)
    integrated = info.integrated_commit if info else None
    target_tip = branch_tip(repo, info.target_branch) if info and info.target_branch else None
    verb = "would remove" if dry_run else "removed"
    for row in rows:
        path = Path(row.worktree) if row.worktree else None
        removed = None
        if path is not None and path.exists():
            keep = _why_keep(repo, row.status, row.final_commit, integrated, path)
            if keep:
                echo(f"kept {path}: {keep}")
            else:
                if not dry_run:
                    remove_worktree(repo, worktree_name(track_id, row.id), path)
                    shutil.rmtree(task_scratch(ws, track_id, row.id), ignore_errors=True)
                removed = path
                echo(f"{verb} worktree {path}")
        if branches and row.branch and row.branch in repo.branches.local:
            tip = branch_tip(repo, row.branch)
            where = checked_out_at(repo, row.branch)
            # The worktree removed above (or, in a dry run, that would be) no longer holds it.
            if where is not None and (removed is None or where.resolve() != removed.resolve()):
                echo(f"kept branch {row.branch}: checked out in {where}")
            elif tip and target_tip and gitrepo.contains(repo, target_tip, tip):
                if not dry_run:
                    repo.branches.local.delete(row.branch)
                echo(f"{verb} branch {row.branch} (contained in {info.target_branch if info else ''})")
            else:
                echo(f"kept branch {row.branch}: has commits not in the target branch")
    if not dry_run:
        for name in prune(repo):
            echo(f"pruned stale worktree record {name}")
    return 0


def _why_keep(repo: pygit2.Repository, status: str, final: str | None, integrated: str | None, path: Path) -> str:
    dirty = dirty_paths(path)
    if dirty:
        return f"uncommitted changes ({describe_paths(dirty, 5)})"
    if status == Status.RUNNING.value:
        return "its task is running"
    if not final or not integrated or not gitrepo.contains(repo, integrated, final):
        return f"task {status}, its work is not integrated yet"
    return ""
