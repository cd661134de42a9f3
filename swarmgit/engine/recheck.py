"""What the integrator re-checks before it merges: the run state is not trusted.

`.git/swarm/state.db` is a file an agent without a write fence could rewrite. So the track's
base is compared with the ref pinned when the track first ran (`refs/swarm/<track>/base`),
each task's start point is recomputed from the plan's deps, its recorded lock order and the
recorded final commits (the fold is deterministic: same inputs, same commit id), and a final
commit must descend from its start point. Only then is a task's change (start -> final) taken,
and only if its paths lie within its touches as plan.md gives them (`scope_problem`).
"""

from __future__ import annotations

from collections.abc import Mapping

import pygit2

from swarmgit.domain.plan import Task
from swarmgit.engine.finalize import branch_violations
from swarmgit.engine.taskspace import StartBlocked, start_point
from swarmgit.errors import UsageError, WorkFailed
from swarmgit.gitops.refs import pin_ref, read_ref
from swarmgit.gitops.repo import contains, is_commit
from swarmgit.store.state import TaskRow


def base_ref(track: str) -> str:
    return f"refs/swarm/{track}/base"


def pin_base(repo: pygit2.Repository, track: str, base: str) -> str:
    """Pin the track's base (once: an existing pin is never moved); returns the pinned commit."""
    return pin_ref(repo, base_ref(track), base, f"swarm: base of track {track}")


def check_unpinned(repo: pygit2.Repository, track: str, base: str) -> None:
    """Before a new run state records `base` for the track: UsageError when an earlier run
    pinned another base (its run state was removed), saying how to start over."""
    pinned = read_ref(repo, base_ref(track))
    if pinned is not None and pinned != base:
        raise UsageError(
            f"track {track} ran before from base {pinned[:12]} ({base_ref(track)}), but its run "
            f"state is gone and this run would start from {base[:12]}; to start the track over "
            f"from here, remove the old pin (git update-ref -d {base_ref(track)}) and run again"
        )


def pinned_base(repo: pygit2.Repository, track: str, recorded: str) -> str:
    """The track's base, when the run state's `recorded` base matches the pinned ref; else a
    WorkFailed naming both and what to do."""
    ref = base_ref(track)
    pinned = read_ref(repo, ref)
    if pinned is None:
        raise WorkFailed(
            f"track {track}'s base is not pinned ({ref} is missing), so the run state's base "
            f"{recorded[:12]} cannot be checked; if {recorded[:12]} is the commit the track started "
            f"from, pin it (git update-ref {ref} {recorded}) and integrate again"
        )
    if pinned != recorded:
        raise WorkFailed(
            f"track {track}'s base in the run state ({recorded[:12]}) differs from the base pinned "
            f"when it first ran ({ref} = {pinned[:12]}): something rewrote .git/swarm/state.db or "
            f"the ref; nothing was merged. Check both (git log -1 {pinned[:12]}; git log -1 "
            f"{recorded[:12]}); if you moved the base on purpose, re-pin it (git update-ref {ref} "
            f"{recorded}), otherwise start the track again"
        )
    return pinned


def recheck_task(
    repo: pygit2.Repository,
    track: str,
    base: str,
    task: Task,
    row: TaskRow,
    rows: Mapping[str, TaskRow],
) -> str:
    """Why a done task's recorded start and final commits cannot be trusted ('' when they can);
    `task` is the task as plan.md gives it."""
    start, final = row.start_commit or "", row.final_commit or ""
    for what, commit in (("start point", start), ("final commit", final)):
        if not is_commit(repo, commit):
            return f"its recorded {what} {commit[:12] or '(none)'} is not a commit of this repository"
    sources = [(dep, rows[dep].final_commit or "") for dep in (*task.deps, *row.after) if dep in rows]
    expected = start_point(repo, track, base, task, [s for s in sources if s[1]])
    if isinstance(expected, StartBlocked):
        return f"its start point cannot be recomputed: {expected.reason}"
    if expected != start:
        built_on = ", ".join(task.deps + row.after) or "the base alone"
        return (
            f"its recorded start point {start[:12]} is not the one its inputs give now "
            f"({expected[:12]}, from the base and {built_on}): the run state was changed, or "
            f"a task it builds on ran again after it started; run it again "
            f"(`git swarm task update {row.id} --status failed; git swarm retry {row.id} --reset`)"
        )
    if not contains(repo, final, start):
        return f"its final commit {final[:12]} does not descend from its start point {start[:12]}"
    return ""


def scope_problem(repo: pygit2.Repository, task: Task, row: TaskRow) -> str:
    """Why a done task's branch may not be merged, or ''. Its touches are plan.md's (`task`): a
    task whose touches in the run state differ (an agent with sqlite3 could have widened them)
    is rejected, naming the difference."""
    touches = task.touches
    if tuple(touches) != tuple(row.touches):
        return (
            f"its touches in the run state ({', '.join(row.touches) or 'none'}) differ from plan.md's "
            f"({', '.join(touches) or 'none'}); the run state may have been rewritten: "
            f"if you changed plan.md yourself, run `git swarm implement` so the run state follows"
        )
    assert row.start_commit and row.final_commit
    outside = branch_violations(repo, touches, row.start_commit, row.final_commit)
    return "changes outside its touches: " + ", ".join(outside) if outside else ""
