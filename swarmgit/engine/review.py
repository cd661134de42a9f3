"""Reviewing a swarm: accept a task's work, or reject it with words for its next attempt.

Rejecting a task sends it back to todo with the reviewer's words in its next brief, and
re-bases every task built on its work (its dependents and the tasks lock-ordered after it,
transitively, see `domain.review.built_on`): their branches are moved aside to
`refs/swarm/<track>/replaced/<task>-<commit>` (kept, never deleted), their worktrees removed
(only when clean: otherwise nothing changes and the user is told), and their run state cleared
so they start again from a newly folded start point. Marking a task failed by hand does the
same to what is built on it. Verdicts are recorded against the task's final commit, so work
that ran again needs a new verdict.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pygit2

from swarmgit.domain.plan import Status
from swarmgit.domain.review import ReviewVerdict, built_on
from swarmgit.engine.workspace import Workspace, read_plan
from swarmgit.errors import UsageError
from swarmgit.gitops import repo as gitrepo
from swarmgit.gitops.diff import describe_paths
from swarmgit.gitops.refs import branch_tip, move_branch_aside
from swarmgit.gitops.status import dirty_paths
from swarmgit.gitops.worktrees import remove_worktree
from swarmgit.store.state import Store, TaskRow


def reviewer_name(ws: Workspace) -> str:
    """The reviewer by default: the git identity that would author a commit here."""
    who = gitrepo.signature(gitrepo.discover(ws.root))
    return f"{who.name} <{who.email}>"


def accepted_work(store: Store, track: str) -> dict[str, str]:
    """Task id -> reviewer, for tasks whose current final commit was accepted.

    Verdicts live in the run state: under the write fence no agent can write it; without the
    fence an agent could forge one there, as it could rewrite any run state (README, "Not
    covered"). A verdict never widens what lands: the integrator's own re-checks still judge
    the work, and a forged one can only satisfy review.required or a trailer."""
    rows = {row.id: row for row in store.tasks(track)}
    return {
        task: review.reviewer
        for task, review in store.reviews(track).items()
        if review.verdict is ReviewVerdict.ACCEPTED
        and task in rows
        and review.final_commit == rows[task].final_commit
    }


def accept(store: Store, track: str, tasks: Sequence[str], reviewer: str) -> None:
    """Accept the current work of each task (all must be done); nothing recorded on error."""
    rows = [_done(store, track, task) for task in tasks]
    for row in rows:
        assert row.final_commit
        store.set_review(
            track,
            row.id,
            verdict=ReviewVerdict.ACCEPTED,
            reviewer=reviewer,
            message="",
            final_commit=row.final_commit,
        )


def reject(ws: Workspace, store: Store, track: str, task: str, message: str, reviewer: str) -> list[str]:
    """Send a done task back to todo with `message` for its next brief; re-base what is built
    on it. Returns the re-based tasks."""
    if not message.strip():
        raise UsageError(f'say why {task} is rejected (-m "..."): the words go into its next brief')
    row = _done(store, track, task)
    rebased = rebase_built_on(ws, store, track, task, f"{task}, whose work it started from, was rejected")
    assert row.final_commit
    store.set_review(
        track,
        task,
        verdict=ReviewVerdict.REJECTED,
        reviewer=reviewer,
        message=message,
        final_commit=row.final_commit,
    )
    store.set_status(track, task, Status.TODO, f"rejected by {reviewer}: {message}")
    return rebased


def rebase_built_on(ws: Workspace, store: Store, track: str, task: str, why: str) -> list[str]:
    """Clear every task that started from `task`'s work so it runs again from a new start
    point; refuses (UsageError, nothing changed) when one of their worktrees holds
    uncommitted changes. Returns the tasks cleared."""
    rows = {row.id: row for row in store.tasks(track)}
    plan = read_plan(ws, track)[0]
    sources = {t.id: (*t.deps, *(rows[t.id].after if t.id in rows else ())) for t in plan.tasks}
    affected = [rows[t] for t in built_on(task, sources) if t in rows and rows[t].start_commit]
    for row in affected:  # read only: an agent may be running git in that worktree
        path = Path(row.worktree) if row.worktree else None
        if path is not None and path.exists() and (dirty := dirty_paths(path, refresh=False)):
            raise UsageError(
                f"{row.id} is built on {task} and must run again, but its worktree {path} "
                f"has uncommitted changes ({describe_paths(dirty)}): commit or discard them first"
            )
    repo = gitrepo.discover(ws.root)
    for row in affected:
        _move_aside(repo, track, row)
        store.reset_for_rerun(track, row.id, why)
    return [row.id for row in affected]


def _move_aside(repo: pygit2.Repository, track: str, row: TaskRow) -> None:
    if row.worktree and Path(row.worktree).exists():
        remove_worktree(repo, Path(row.worktree))
    if row.branch and (tip := branch_tip(repo, row.branch)):
        move_branch_aside(repo, row.branch, f"refs/swarm/{track}/replaced/{row.id}-{tip[:12]}")


def _done(store: Store, track: str, task: str) -> TaskRow:
    row = store.task(track, task)
    if row is None:
        raise UsageError(f"no task {task!r} has run in track {track}")
    if row.status != Status.DONE or not row.final_commit:
        raise UsageError(f"{task} is {row.status}: only done tasks are reviewed")
    return row
