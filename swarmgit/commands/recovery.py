"""`resume`, `retry` and `task update`: carrying on after a crash, a failure, or by hand."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from swarmgit.commands.implement import implement
from swarmgit.domain.plan import Status
from swarmgit.engine import spawning
from swarmgit.engine.plan_sync import task_specs
from swarmgit.engine.review import rebase_built_on
from swarmgit.engine.track_run import claimed
from swarmgit.engine.views import refresh
from swarmgit.engine.workspace import Workspace, list_tracks, read_plan, resolve_track
from swarmgit.errors import UsageError
from swarmgit.gitops import repo as gitrepo
from swarmgit.gitops.diff import describe_paths
from swarmgit.gitops.status import dirty_paths
from swarmgit.gitops.worktrees import remove_worktree
from swarmgit.store.state import Store, TaskRow

Echo = Callable[[str], None]
RETRYABLE = frozenset({Status.FAILED, Status.BLOCKED, Status.NEEDS_INPUT})


def resume(ws: Workspace, track: str | None, budget: float | None, echo: Echo) -> int:
    """Carry on a track after a crash: orphaned tasks are re-run with their work kept."""
    track_id = resolve_track(ws, track)
    if budget is not None:
        with claimed(ws, track_id) as store:
            store.set_track_fields(track_id, budget_usd=budget)
        echo(f"budget of {track_id} raised to ${budget:.2f}")
    return implement(ws, track_id, echo)


def find_task(ws: Workspace, store: Store, task: str, track: str | None) -> TaskRow:
    """The task's row, in the named track or the only track that has it."""
    tracks = [resolve_track(ws, track)] if track else list_tracks(ws)
    rows = [row for t in tracks if (row := store.task(t, task)) is not None]
    if not rows:
        raise UsageError(f"no task {task!r} has run in {'track ' + track if track else 'any track'}")
    if len(rows) > 1:
        raise UsageError(
            f"task {task!r} is in several tracks ({', '.join(r.track for r in rows)}): pass --track"
        )
    return rows[0]


def in_plan(row: TaskRow) -> TaskRow:
    """The row of a task the plan still lists; a retired one is refused (exit 2)."""
    if row.retired_at is not None:
        where = f" (its branch {row.branch} is kept)" if row.branch else ""
        raise UsageError(
            f"{row.id} is retired: it is no longer in swarm/tracks/{row.track}/plan.md"
            f"{where}; add its task block back to plan.md to run it again"
        )
    return row


def _track_planning(ws: Workspace, task: str) -> str | None:
    """The only track whose plan lists `task`, if exactly one does."""
    tracks = [t for t in list_tracks(ws) if task in read_plan(ws, t)[0].ids]
    return tracks[0] if len(tracks) == 1 else None


def _reset_branch(ws: Workspace, row: TaskRow) -> None:
    """Drop the task's worktree and branch so the retry starts afresh; refuses (exit 2,
    nothing changed) when the worktree holds uncommitted changes."""
    repo = gitrepo.discover(ws.root)
    worktree = Path(row.worktree) if row.worktree else None
    if worktree is not None and worktree.exists():
        dirty = dirty_paths(worktree, refresh=False)  # removed next: no index worth refreshing
        if dirty:
            raise UsageError(
                f"{row.id}'s worktree {worktree} has uncommitted changes "
                f"({describe_paths(dirty)}): commit or discard them, or retry without --reset"
            )
    if worktree is not None:
        remove_worktree(repo, worktree)
    if row.branch and row.branch in repo.branches.local:
        repo.branches.local.delete(row.branch)


def retry(ws: Workspace, task: str, track: str | None, reset: bool, echo: Echo) -> int:
    """Run a failed or blocked task again, its diagnosis added to the brief."""
    with Store.open(ws.common_dir, ws.secrets) as store:
        row = in_plan(find_task(ws, store, task, track))
        if row.status not in RETRYABLE:
            raise UsageError(f"{task} is {row.status}: only failed, blocked or needs-input tasks are retried")
        limit = ws.config.agent.max_retries
        if row.attempts > limit:
            raise UsageError(
                f"{task} has run {row.attempts} times (agent.max_retries = {limit}); "
                "raise agent.max_retries in .swarm.toml to try again"
            )
    with claimed(ws, row.track) as store:
        if reset:
            _reset_branch(ws, row)
        diagnosis = f"previous attempt {row.attempts}: {row.status}: {row.reason}"
        store.set_status(row.track, row.id, Status.TODO, diagnosis)
        for other in store.tasks(row.track):
            if other.status == Status.BLOCKED and other.id != row.id:
                store.set_status(row.track, other.id, Status.TODO, "")
    if not reset and "committed on the branch" in row.reason:
        echo(
            f"note: {task}'s branch holds commits outside its touches; they stay unless you "
            f"retry with --reset"
        )
    echo(f"retrying {task}{' from a fresh branch' if reset else ''} with the diagnosis in its brief")
    return implement(ws, row.track, echo)


def update_task(ws: Workspace, task: str, track: str | None, status: str, echo: Echo) -> int:
    """Set a task's status (one of `Status`'s values) by hand, also one that never ran;
    plan.md's checkbox follows."""
    state = Status(status)
    track_id = track or _track_planning(ws, task)
    if track_id is not None:
        with claimed(ws, resolve_track(ws, track_id)) as store:
            store.sync_tasks(track_id, task_specs(read_plan(ws, track_id)[0]))
    with Store.open(ws.common_dir, ws.secrets) as store:
        row = in_plan(find_task(ws, store, task, track))
    with claimed(ws, row.track) as store:
        rebased = (
            rebase_built_on(
                ws, store, row.track, row.id, f"{row.id}, whose work it started from, was marked failed"
            )
            if state is Status.FAILED
            else []
        )
        store.set_status(row.track, row.id, state, "set by hand")
        refresh(ws, store, row.track, spawning.budget_left(ws, store, row.track))
    echo(f"{task}: {row.status} -> {status}")
    if rebased:
        echo(f"built on it, so re-based to run again without its work: {', '.join(rebased)}")
    return 0
