"""The integrator: finished tasks' changes -> one scope-checked, gated result.

`integrate` runs five steps, each a function below:
- scope check: nothing an agent could write is trusted (engine/recheck.py): the track's base
  must match its pinned ref, each task's start point is recomputed and its final commit must
  descend from it; its change's paths are re-checked against plan.md's touches (commits made
  with --no-verify are caught here); a task built on one that does not land does not land.
- fold: each task's change (start -> final, never its history) is applied in dependency + lock
  order onto `swarm/<track>/integration`, in memory (the user's working tree is untouched);
  every landed commit carries the task's provenance in trailers; a change that does not apply
  is a CONFLICT.
- gate: the gates judge the result against the track's base (gates/runner.py).
- advance: on APPROVED, the target moves, with every planned task in (or --partial), each
  landing task accepted when review is required, never by force, and only to a gated commit
  (engine/landing.py).
- spawn: on REJECTED, fix tasks for the findings.
The result is recorded in iosm_report.md and .json (engine/integration_report.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import pygit2

from swarmgit.crash_points import reached
from swarmgit.domain.events import EventSink
from swarmgit.domain.integration import Verdict, fix_candidates, integration_order, unlanded_deps
from swarmgit.domain.plan import Status, Task
from swarmgit.domain.provenance import Provenance, squash_message, task_message
from swarmgit.domain.report import Report, SpawnCandidate
from swarmgit.domain.review import unreviewed
from swarmgit.engine import spawning
from swarmgit.engine.integration_report import Integration, file_owner, integration_branch, write_reports
from swarmgit.engine.landing import Guard, land
from swarmgit.engine.plan_sync import retire_removed
from swarmgit.engine.recheck import pinned_base, recheck_task, scope_problem
from swarmgit.engine.repo_guard import tamper_hold
from swarmgit.engine.review import accepted_work
from swarmgit.engine.views import refresh
from swarmgit.engine.workspace import Workspace, read_plan
from swarmgit.errors import UsageError
from swarmgit.gates.runner import run_gates
from swarmgit.gitops import repo as gitrepo
from swarmgit.gitops.refs import branch_tip, set_branch
from swarmgit.gitops.replay import Change, replay
from swarmgit.gitops.repo import commits_between
from swarmgit.gitops.worktrees import CheckoutState, checkout_state
from swarmgit.store.rows import Spend
from swarmgit.store.state import Store, TaskRow, TrackRow
from swarmgit.store.task_scope import task_branch


@dataclass(frozen=True)
class _Round:
    """What one integration reads once: the track's pinned base, plan.md's tasks by id and
    the run state's rows by id; `finished` are marked done, `done` those with a branch."""

    track: str
    base: str
    tasks: dict[str, Task]
    rows: dict[str, TaskRow]
    finished: frozenset[str]
    done: dict[str, TaskRow]


def integrate(
    ws: Workspace,
    store: Store,
    track: str,
    emit: EventSink,
    *,
    target: str | None = None,
    advance: bool = True,
    partial: bool = False,
    since: CheckoutState | None = None,
) -> Integration:
    """Integrate the track's done tasks: scope check, fold, gate, then advance (APPROVED) or
    spawn fix tasks (REJECTED). `since`: the target's checkout as the run found it (default:
    as it is now, read only when `advance`); files changed there since then hold the advance."""
    repo = gitrepo.discover(ws.root)
    info = _track_row(store, track)
    target = _target(ws, repo, info, target, advance)
    # The target's checkout as the run found it: read only when the run may advance it.
    since = (since or checkout_state(repo, target)) if advance else None
    run = _read_round(ws, store, repo, info, emit)
    result = Integration(commit=run.base, history=ws.config.integrate.history, left_out=_left_out(run))
    result.rejected = _check_scope(repo, run, emit)
    _fold(ws, store, repo, run, result, emit)
    _gate(ws, run.base, result, emit)
    store.set_track_fields(track, integrated_commit=result.commit)
    if since is not None and result.verdict is Verdict.APPROVED:  # `since` is read iff advancing
        _advance(ws, repo, store, run, result, target, partial, emit, since=since)
    elif result.verdict is Verdict.REJECTED:
        result.spawned = _spawn(ws, store, track, result, emit)
    write_reports(ws, track, result)
    refresh(ws, store, track, spawning.budget_left(ws, store, track))
    return result


def _track_row(store: Store, track: str) -> TrackRow:
    """The track's row in the run state; a UsageError when it has not run yet."""
    info = store.track(track)
    if info is None:
        raise UsageError(f"track {track!r} has not run yet: start it with `git swarm implement {track}`")
    return info


def _target(ws: Workspace, repo: pygit2.Repository, info: TrackRow, target: str | None, advance: bool) -> str:
    """The branch to advance (given, configured, or the track's); a UsageError when missing."""
    target = target or ws.config.integrate.target or info.target_branch
    if advance and not target:
        raise UsageError("no target branch: set integrate.target in .swarm.toml or pass --target")
    if advance and branch_tip(repo, target) is None:
        raise UsageError(f"no branch {target}: create it (git branch {target} <start>) or pass --target")
    return target


def _read_round(
    ws: Workspace, store: Store, repo: pygit2.Repository, info: TrackRow, emit: EventSink
) -> _Round:
    """The checked base, plan.md and the run state, after retiring the tasks plan.md dropped."""
    base = pinned_base(repo, info.id, info.base_commit)
    plan = read_plan(ws, info.id)[0]
    retire_removed(store, info.id, plan, emit)  # a task gone from plan.md is not waited for
    rows = {row.id: row for row in store.tasks(info.id)}
    finished = frozenset(tid for tid, row in rows.items() if row.status == Status.DONE)
    # A task marked done by hand without ever running has no branch: nothing to merge, but in.
    done = {tid: rows[tid] for tid in sorted(finished) if rows[tid].final_commit}
    return _Round(info.id, base, {task.id: task for task in plan.tasks}, rows, finished, done)


def _left_out(run: _Round) -> dict[str, str]:
    """The tasks not finished, each with its status and reason."""
    return {
        tid: f"{row.status}: {row.reason}".strip(": ")
        for tid, row in run.rows.items()
        if tid not in run.finished
    }


def _check_scope(repo: pygit2.Repository, run: _Round, emit: EventSink) -> dict[str, str]:
    """Scope check: why each done task may not land (recheck, scope, a dep that does not land)."""
    rejected = {}
    for tid, row in run.done.items():
        task = run.tasks.get(tid)
        # `_read_round` retired the tasks plan.md dropped: a row it did not know came in since.
        why = (
            "it is not in plan.md (the run state lists it; it may have been added there behind swarmgit)"
            if task is None
            else recheck_task(repo, run.track, run.base, task, row, run.rows)
            or scope_problem(repo, task, row)
        )
        if why:
            rejected[tid] = why
    deps = {tid: run.tasks[tid].deps for tid in run.done if tid in run.tasks}
    for tid, missing in unlanded_deps(deps, run.finished, set(rejected)).items():
        rejected[tid] = f"it depends on {', '.join(missing)}, which is not merged"
    for tid, why in rejected.items():
        emit("rejected", f"{tid} not merged: {why}", tid)
    return rejected


def _fold(
    ws: Workspace, store: Store, repo: pygit2.Repository, run: _Round, result: Integration, emit: EventSink
) -> None:
    """Fold: the unrejected changes replayed in order onto the integration branch, told in `result`."""
    mergeable = {tid: row for tid, row in run.done.items() if tid not in result.rejected}
    # Every mergeable task is in the plan (`_check_scope`): its deps are read from there.
    order = integration_order({tid: (*run.tasks[tid].deps, *row.after) for tid, row in mergeable.items()})
    provenance = _provenance(ws, store, run.track, [mergeable[tid] for tid in order], run.tasks)
    replayed = replay(
        repo,
        run.base,
        [
            Change(
                tid,
                mergeable[tid].start_commit or "",
                mergeable[tid].final_commit or "",
                task_message(provenance[tid]),
            )
            for tid in order
        ],
        ws.config.integrate.history,
        lambda applied: squash_message(run.track, [provenance[t] for t in applied]),
    )
    result.commit, result.merged = replayed.commit, list(replayed.applied)
    for tid, others in _borrowed(repo, run.done, result.merged).items():
        result.notes[tid] = (
            f"its branch holds commits of {', '.join(others)} (merged or reset onto); "
            "only its own change (start point -> final commit) landed, not that history"
        )
        emit("note", f"{tid}: {result.notes[tid]}", tid)
    result.owner = file_owner(repo, [mergeable[tid] for tid in result.merged])
    if replayed.conflict is not None:
        result.conflict = _conflict_message(replayed.conflict.label, replayed.conflict.paths, result.owner)
        emit("conflict", result.conflict, replayed.conflict.label)
    branch = integration_branch(run.track)
    set_branch(repo, branch, result.commit, expect=branch_tip(repo, branch), message="swarm: integrate")
    reached("integration-recorded")


def _borrowed(repo: pygit2.Repository, done: dict[str, TaskRow], merged: list[str]) -> dict[str, list[str]]:
    """For each merged task, the other tasks whose own commits its branch holds (it merged
    their branch, or reset onto it, maybe then reverted them): its history is not theirs."""
    own = {
        tid: commits_between(repo, [row.final_commit], [row.start_commit])
        for tid, row in done.items()
        if row.start_commit
        and row.final_commit
        and gitrepo.is_commit(repo, row.start_commit)
        and gitrepo.is_commit(repo, row.final_commit)
    }
    found = {}
    for tid in merged:
        final = done[tid].final_commit
        others = [o for o in sorted(own) if o != tid and own[tid] & own[o] and final not in own[o]]
        if others:
            found[tid] = others
    return found


def _provenance(
    ws: Workspace, store: Store, track: str, rows: list[TaskRow], plan_tasks: dict[str, Task]
) -> dict[str, Provenance]:
    """Each task's trailers: its plan title and touches, the agent, models, tokens, cost, attempts."""
    spend = store.cost_summary(track).by_task
    models = store.task_models(track)
    reviewers = accepted_work(store, track)
    found = {}
    for row in rows:
        used = spend.get(row.id, Spend())
        task = plan_tasks.get(row.id)
        found[row.id] = Provenance(
            track=track,
            task=row.id,
            title=task.title if task else row.title,
            touches=row.touches,
            agent=ws.config.agent.backend,
            models=models.get(row.id, ()),
            tokens=used.input_tokens + used.output_tokens + used.cache_write_tokens + used.cache_read_tokens,
            cost_usd=used.usd,
            attempts=row.attempts,
            reviewed_by=reviewers.get(row.id, ""),
        )
    return found


def _conflict_message(label: str, paths: tuple[str, ...], owner: dict[str, str]) -> str:
    """What conflicted with what, and that every branch is kept."""
    earlier = sorted({owner[p] for p in paths if p in owner})
    against = ", ".join(earlier) if earlier else "the tasks merged before it"
    return (
        f"{label} conflicts with {against} in {', '.join(paths)}; every branch is kept: "
        "resolve it in a task whose touches cover those paths, then integrate again"
    )


def _gate(ws: Workspace, base: str, result: Integration, emit: EventSink) -> None:
    """Gate: unless it conflicted, what the result changed from the base judged into `result.gates`."""
    if result.conflict:
        return
    result.gates = run_gates(ws.root, base, result.commit, ws.config.gates, ws.config.agent.sandbox)
    emit(
        "gates",
        f"IOSM index {result.gates.index_text} (threshold {result.gates.threshold:.2f}): {result.verdict}",
        None,
    )


def _advance(
    ws: Workspace,
    repo: pygit2.Repository,
    store: Store,
    run: _Round,
    result: Integration,
    target: str,
    partial: bool,
    emit: EventSink,
    *,
    since: CheckoutState,
) -> None:
    """Advance: the target moved to (a gated merge with) the result, or `result.held` says why not."""
    held = (
        tamper_hold(store, run.track)
        or _hold_reason(result, partial)
        or _review_hold(ws, store, run.track, result)
    )
    if not held:
        views = str(ws.track_dir(run.track).relative_to(ws.root))
        landed = land(
            ws.root,
            repo,
            target,
            result.commit,
            base=run.base,
            guard=_guard(repo, store, run, result),
            since=since,
            views=views,
            gates=ws.config.gates,
            sandbox=ws.config.agent.sandbox,
            message=f"swarm: integrate track {run.track}",
            emit=emit,
        )
        result.target_gates = landed.gates
        if landed.advanced:
            reached("after-advance")
            result.advanced = landed.advanced
            store.release_locks(run.track, result.merged)
            emit("advanced", result.advanced, None)
            return
        held = landed.held
    result.held = f"{target} not advanced: {held}"
    emit("held", f"{target} not advanced:\n{held}", None)  # the printer shortens first lines only


def _guard(repo: pygit2.Repository, store: Store, run: _Round, result: Integration) -> Guard:
    """What must not reach the target: every unmerged task's branch tip and final commit,
    those of the tasks retired from plan.md included."""
    merged = set(result.merged)
    unmerged = [row for row in (*run.rows.values(), *store.retired_tasks(run.track)) if row.id not in merged]
    # The branch by its name, not the run state's (which an agent could point elsewhere).
    kept_out = {
        row.id: [
            tip
            for tip in (branch_tip(repo, task_branch(run.track, row.id)), row.final_commit)
            if tip and gitrepo.is_commit(repo, tip)
        ]
        for row in unmerged
    }
    return Guard(kept_out, [run.rows[tid].final_commit or run.base for tid in result.merged])


def _review_hold(ws: Workspace, store: Store, track: str, result: Integration) -> str:
    """With review.required, why the target waits: the landing tasks not accepted yet."""
    if not ws.config.review.required:
        return ""
    waiting = unreviewed(result.merged, accepted_work(store, track))
    if not waiting:
        return ""
    return (
        f"review.required: {', '.join(waiting)} not accepted yet: `git swarm review {track}` "
        f"(or `git swarm accept <task>...`), then `git swarm integrate {track}`"
    )


def _hold_reason(result: Integration, partial: bool) -> str:
    """Why the target waits for tasks: some were rejected, or (without --partial) not finished."""
    if result.rejected:
        names = ", ".join(result.rejected)
        return (
            f"{names} could not be merged (see above); fix it, or leave the task out "
            "(`git swarm task update <task> --status failed`) and integrate with --partial"
        )
    if result.left_out and not partial:
        return (
            f"not every planned task is done ({', '.join(result.left_out)}): finish them, or pass --partial"
        )
    return ""


def _spawn(ws: Workspace, store: Store, track: str, result: Integration, emit: EventSink) -> bool:
    """Spawn: fix tasks for the findings in merged tasks' files; False (and `stuck`) when none is new."""
    assert result.gates is not None
    # Each fix task depends on the task that last changed its file, so it starts from a tree
    # holding that change. Findings in files no task changed are skipped.
    owner = result.owner
    findings = [f for r in result.gates.results if r.applies for f in r.findings if f.file in owner]
    by_owner: dict[str, list[SpawnCandidate]] = {}
    for candidate in fix_candidates(findings):
        by_owner.setdefault(owner[candidate.touches[0]], []).append(candidate)
    spawned = False
    for reporter, candidates in sorted(by_owner.items()):
        plan, _ = read_plan(ws, track)
        report = Report(status="done", summary="gate findings", files_touched=[], candidates=candidates)
        spawned |= spawning.take_candidates(
            ws,
            store,
            track,
            plan,
            plan.task(reporter),
            report,
            emit,
            source=f"the gate findings in {reporter}'s files",
        )
    if not spawned:
        emit(
            "stuck",
            "gates rejected, and no new fix task can be spawned:\neach finding is outside "
            "the tasks' files, or its fix task already ran, waits for you or is over the spawn "
            "budget (`git swarm spawn list`); fix them by hand or raise spawn.budget",
            None,
        )
    return spawned
