"""`git swarm clean`: remove task worktrees whose work is safe elsewhere; never lose work.

A worktree goes only when it has no uncommitted changes and its task's change (start point
-> final commit) is in the track's integration, and its task's scratch folder (its HOME and
TMPDIR) goes with it; `--branches` also deletes task branches whose change (or whole history) is
already in the target branch. Everything kept is listed with the reason.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pygit2

from swarmgit.domain.plan import Status
from swarmgit.engine.dispatch import task_scratch
from swarmgit.engine.taskspace import WORKTREES_SUFFIX
from swarmgit.engine.workspace import Workspace, resolve_track
from swarmgit.gitops import repo as gitrepo
from swarmgit.gitops.diff import describe_paths
from swarmgit.gitops.merge import change_contained
from swarmgit.gitops.refs import branch_tip
from swarmgit.gitops.status import dirty_paths
from swarmgit.gitops.worktrees import checked_out_at, prune, remove_worktree
from swarmgit.store.state import Store

Echo = Callable[[str], None]


def clean(ws: Workspace, track: str | None, dry_run: bool, branches: bool, echo: Echo) -> int:
    track_id = resolve_track(ws, track)
    repo = gitrepo.discover(ws.root)
    with Store.open(ws.common_dir, ws.secrets) as store:
        info = store.track(track_id)
        rows = store.tasks(track_id)
        retired = store.retired_tasks(track_id)
    integrated = info.integrated_commit if info else None
    target_tip = branch_tip(repo, info.target_branch) if info and info.target_branch else None
    verb = "would remove" if dry_run else "removed"
    for row in rows:
        path = Path(row.worktree) if row.worktree else None
        removed = None
        if path is not None and path.exists():
            keep = _why_keep(repo, row.status, row.start_commit, row.final_commit, integrated, path)
            if keep:
                echo(f"kept {path}: {keep}")
            else:
                if not dry_run:
                    remove_worktree(repo, path)
                    _drop_empty_folders(path.parent)
                    shutil.rmtree(task_scratch(ws, track_id, row.id), ignore_errors=True)
                removed = path
                echo(f"{verb} worktree {path}")
        if branches and row.branch and row.branch in repo.branches.local:
            tip = branch_tip(repo, row.branch)
            where = checked_out_at(repo, row.branch)
            # The worktree removed above (or, in a dry run, that would be) no longer holds it.
            if where is not None and (removed is None or where.resolve() != removed.resolve()):
                echo(f"kept branch {row.branch}: checked out in {where}")
            elif tip and target_tip and _landed(repo, row.start_commit, tip, target_tip):
                if not dry_run:
                    repo.branches.local.delete(row.branch)
                echo(f"{verb} branch {row.branch} (contained in {info.target_branch if info else ''})")
            else:
                echo(f"kept branch {row.branch}: has commits not in the target branch")
    for row in retired:  # no longer in plan.md: its work is kept until the user drops it
        kept = []
        if row.branch and row.branch in repo.branches.local:
            kept.append(f"branch {row.branch}")
        if row.worktree and Path(row.worktree).is_dir():
            kept.append(f"worktree {row.worktree}")
        if kept:
            echo(
                f"kept {' and '.join(kept)}: {row.id} is retired (no longer in plan.md); "
                "remove them by hand once you no longer need its work"
            )
    if not dry_run:
        for name in prune(repo):
            echo(f"pruned stale worktree record {name}")
    return 0


def _drop_empty_folders(track_folder: Path) -> None:
    """After its last worktree went: remove the track's folder, and the default worktree
    root beside the repository too, when they are empty (nothing else is ever removed)."""
    root = track_folder.parent
    for folder in (track_folder, root) if root.name.endswith(WORKTREES_SUFFIX) else (track_folder,):
        try:
            folder.rmdir()
        except OSError:  # not empty (or gone): keep it
            return


def _why_keep(
    repo: pygit2.Repository,
    status: Status,
    start: str | None,
    final: str | None,
    integrated: str | None,
    path: Path,
) -> str:
    dirty = dirty_paths(path, refresh=False)  # its agent may be running git there right now
    if dirty:
        return f"uncommitted changes ({describe_paths(dirty, 5)})"
    if status == Status.RUNNING:
        return "its task is running"
    if not final or not integrated or not _landed(repo, start, final, integrated):
        return f"task {status}, its work is not integrated yet"
    return ""


def _landed(repo: pygit2.Repository, start: str | None, tip: str, into: str) -> bool:
    """`into` holds the task's work: its whole history, or its change since `start` (the
    integration lands changes, not histories)."""
    if gitrepo.contains(repo, into, tip):
        return True
    return (
        start is not None and gitrepo.contains(repo, tip, start) and change_contained(repo, start, tip, into)
    )
