"""The integrator: finished tasks' changes -> one scope-checked, gated result.

Nothing an agent could write is trusted (engine/recheck.py): the track's base must match its
pinned ref, each task's start point is recomputed and its final commit must descend from it.
Each task's change (start -> final, never its history) is then applied in dependency + lock
order onto `swarm/<track>/integration`, in memory (the user's working tree is untouched),
after its paths are re-checked against its touches (commits made with --no-verify are caught
here). Every landed commit carries the task's provenance in trailers. Gates run on the result
against the track's base; the target advances only on APPROVED, with every planned task in
(or --partial), never by force, and only to a gated commit (engine/landing.py). On REJECTED,
fix tasks are spawned.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field

import pygit2

from swarmgit.domain.events import EventSink
from swarmgit.domain.integration import fix_candidates, integration_order
from swarmgit.domain.plan import Plan, Status, Task
from swarmgit.domain.provenance import Provenance, squash_message, task_message
from swarmgit.domain.report import Report, SpawnCandidate
from swarmgit.domain.review import unreviewed
from swarmgit.engine import spawning
from swarmgit.engine.finalize import branch_violations
from swarmgit.engine.landing import Guard, land
from swarmgit.engine.plan_sync import retire_removed
from swarmgit.engine.recheck import pinned_base, recheck_task
from swarmgit.engine.repo_guard import tamper_hold
from swarmgit.engine.review import accepted_work
from swarmgit.engine.views import refresh
from swarmgit.engine.workspace import Workspace, read_plan
from swarmgit.errors import UsageError
from swarmgit.fsutil import write_atomic
from swarmgit.gates.runner import GateReport, render_markdown, run_gates, to_json
from swarmgit.gitops import repo as gitrepo
from swarmgit.gitops.diff import changes_between, touched_paths
from swarmgit.gitops.refs import branch_tip, set_branch
from swarmgit.gitops.replay import Change, replay
from swarmgit.gitops.repo import commits_between
from swarmgit.gitops.worktrees import CheckoutState, checkout_state
from swarmgit.store.rows import Spend
from swarmgit.store.state import Store, TaskRow
from swarmgit.store.task_scope import task_branch


@dataclass
class Integration:
    """What one integration did; `verdict` is APPROVED, REJECTED or CONFLICT. `held` says why
    an APPROVED result did not move the target (empty when it moved or was not asked to)."""

    commit: str
    history: str = "tasks"
    merged: list[str] = field(default_factory=list)
    rejected: dict[str, str] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)
    left_out: dict[str, str] = field(default_factory=dict)
    conflict: str = ""
    gates: GateReport | None = None
    target_gates: GateReport | None = None
    advanced: str = ""
    held: str = ""
    spawned: bool = False

    @property
    def verdict(self) -> str:
        if self.conflict:
            return "CONFLICT"
        return "APPROVED" if self.gates is not None and self.gates.passed else "REJECTED"

    @property
    def ok(self) -> bool:
        """Approved, no branch rejected, and the target moved unless told not to."""
        return self.verdict == "APPROVED" and not self.rejected and not self.held


def integration_branch(track: str) -> str:
    return f"swarm/{track}/integration"


def branch_paths(repo: pygit2.Repository, row: TaskRow) -> list[str]:
    """Every path a finished task's branch changed since its start point (renames: both sides)."""
    assert row.start_commit and row.final_commit
    return touched_paths(changes_between(repo, row.start_commit, row.final_commit))


def scope_problem(repo: pygit2.Repository, plan: Plan, row: TaskRow) -> str:
    """Why a done task's branch may not be merged, or ''. Its touches are plan.md's: a task
    whose touches in the run state differ (an agent with sqlite3 could have widened them) or
    that plan.md does not list is rejected, naming the difference."""
    if row.id not in plan.ids:
        return "it is not in plan.md (the run state lists it; it may have been added there behind swarmgit)"
    touches = plan.task(row.id).touches
    if tuple(touches) != tuple(row.touches):
        return (f"its touches in the run state ({', '.join(row.touches) or 'none'}) differ from plan.md's "
                f"({', '.join(touches) or 'none'}); the run state may have been rewritten: "
                f"if you changed plan.md yourself, run `git swarm implement` so the run state follows")
    assert row.start_commit and row.final_commit
    outside = branch_violations(repo, touches, row.start_commit, row.final_commit)
    return "changes outside its touches: " + ", ".join(outside) if outside else ""


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
    """Integrate the track's done tasks. `since`: the target's checkout as the run found it
    (default: as it is now); files changed there since then hold the advance."""
    repo = gitrepo.discover(ws.root)
    info = store.track(track)
    if info is None:
        raise UsageError(f"track {track!r} has not run yet: start it with `git swarm implement {track}`")
    target = target or ws.config.integrate.target or info.target_branch
    if advance and not target:
        raise UsageError("no target branch: set integrate.target in .swarm.toml or pass --target")
    if advance and branch_tip(repo, target) is None:
        raise UsageError(f"no branch {target}: create it (git branch {target} <start>) or pass --target")
    since = since or checkout_state(repo, target)
    base = pinned_base(repo, track, info.base_commit)
    plan = read_plan(ws, track)[0]
    retire_removed(store, track, plan, emit)  # a task gone from plan.md is not waited for
    plan_tasks = {task.id: task for task in plan.tasks}
    rows = {row.id: row for row in store.tasks(track)}
    finished = {tid for tid, row in rows.items() if row.status == Status.DONE}
    # A task marked done by hand without ever running has no branch: nothing to merge, but in.
    done = {tid: rows[tid] for tid in finished if rows[tid].final_commit}
    result = Integration(commit=base, history=ws.config.integrate.history)
    result.left_out = {tid: f"{row.status}: {row.reason}".strip(": ") for tid, row in rows.items()
                       if tid not in finished}
    for tid, row in sorted(done.items()):
        why = recheck_task(repo, track, base, plan_tasks.get(tid), row, rows) or scope_problem(repo, plan, row)
        if why:
            result.rejected[tid] = why
    _reject_dependents(result, plan_tasks, finished, done)
    for tid, why in result.rejected.items():
        emit("rejected", f"{tid} not merged: {why}", tid)
    mergeable = {tid: row for tid, row in done.items() if tid not in result.rejected}
    # Every mergeable task is in the plan (recheck_task): its deps are read from there.
    order = integration_order({tid: (*plan_tasks[tid].deps, *row.after) for tid, row in mergeable.items()})
    provenance = _provenance(ws, store, track, [mergeable[tid] for tid in order], plan_tasks)
    replayed = replay(
        repo, base,
        [Change(tid, mergeable[tid].start_commit or "", mergeable[tid].final_commit or "",
                task_message(provenance[tid])) for tid in order],
        ws.config.integrate.history, lambda applied: squash_message(track, [provenance[t] for t in applied]),
    )
    result.commit, result.merged = replayed.commit, list(replayed.applied)
    for tid, others in _borrowed(repo, done, result.merged).items():
        result.notes[tid] = (f"its branch holds commits of {', '.join(others)} (merged or reset onto); "
                             "only its own change (start point -> final commit) landed, not that history")
        emit("note", f"{tid}: {result.notes[tid]}", tid)
    owner = _file_owner(repo, [mergeable[tid] for tid in result.merged])
    if replayed.conflict is not None:
        result.conflict = _conflict_message(replayed.conflict.label, replayed.conflict.paths, owner)
        emit("conflict", result.conflict, replayed.conflict.label)
    branch = integration_branch(track)
    set_branch(repo, branch, result.commit, expect=branch_tip(repo, branch), message="swarm: integrate")
    if not result.conflict:
        result.gates = run_gates(ws.root, base, result.commit, ws.config.gates)
        emit("gates", f"IOSM index {result.gates.index_text} (threshold {result.gates.threshold:.2f}): "
             f"{result.verdict}", None)
    store.set_track_fields(track, integrated_commit=result.commit)
    if result.verdict == "APPROVED" and advance:
        _advance(ws, repo, store, track, result, target, partial, emit,
                 base=base, rows=rows, since=since)
    elif result.gates is not None and not result.gates.passed:
        result.spawned = _spawn_fixes(ws, store, track, result.gates, owner, emit)
        if not result.spawned:
            emit("stuck", "gates rejected, and no new fix task can be spawned:\neach finding is outside "
                 "the tasks' files, or its fix task already ran, waits for you or is over the spawn "
                 "budget (`git swarm spawn list`); fix them by hand or raise spawn.budget", None)
    write_atomic(ws.track_dir(track) / "iosm_report.md", ws.secrets.redact(render_report(track, result, owner)))
    if result.gates is not None:  # the gate table of the HTML run report, findings linked to tasks
        record = {**to_json(result.gates), "verdict": result.verdict, "owner": owner}
        write_atomic(ws.track_dir(track) / "iosm_report.json", ws.secrets.redact(json.dumps(record, indent=1)))
    refresh(ws, store, track, spawning.budget_left(ws, store, track))
    return result


def _reject_dependents(result: Integration, plan_tasks: dict[str, Task], finished: set[str],
                       done: dict[str, TaskRow]) -> None:
    """Reject every task that depends (in the plan) on a task that is not finished or was
    rejected: nothing built on work that does not land may land."""
    while True:
        found = {tid: [d for d in plan_tasks[tid].deps if d not in finished or d in result.rejected]
                 for tid in sorted(done) if tid not in result.rejected and tid in plan_tasks}
        found = {tid: missing for tid, missing in found.items() if missing}
        if not found:
            return
        for tid, missing in found.items():
            result.rejected[tid] = f"it depends on {', '.join(missing)}, which is not merged"


def _borrowed(repo: pygit2.Repository, done: dict[str, TaskRow], merged: list[str]) -> dict[str, list[str]]:
    """For each merged task, the other tasks whose own commits its branch holds (it merged
    their branch, or reset onto it, maybe then reverted them): its history is not theirs."""
    own = {tid: commits_between(repo, [row.final_commit], [row.start_commit])
           for tid, row in done.items()
           if row.start_commit and row.final_commit and gitrepo.is_commit(repo, row.start_commit)
           and gitrepo.is_commit(repo, row.final_commit)}
    found = {}
    for tid in merged:
        final = done[tid].final_commit
        others = [o for o in sorted(own) if o != tid and own[tid] & own[o] and final not in own[o]]
        if others:
            found[tid] = others
    return found


def _provenance(ws: Workspace, store: Store, track: str, rows: list[TaskRow],
                plan_tasks: dict[str, Task]) -> dict[str, Provenance]:
    """Each task's trailers: its plan title and touches, the agent, models, tokens, cost, attempts."""
    spend = store.cost_summary(track).by_task
    models = store.task_models(track)
    reviewers = accepted_work(store, track)
    found = {}
    for row in rows:
        used = spend.get(row.id, Spend())
        task = plan_tasks.get(row.id)
        found[row.id] = Provenance(
            track=track, task=row.id, title=task.title if task else row.title, touches=row.touches,
            agent=ws.config.agent.backend, models=models.get(row.id, ()),
            tokens=used.input_tokens + used.output_tokens + used.cache_write_tokens + used.cache_read_tokens,
            cost_usd=used.usd, attempts=row.attempts, reviewed_by=reviewers.get(row.id, ""),
        )
    return found


def _conflict_message(label: str, paths: tuple[str, ...], owner: dict[str, str]) -> str:
    earlier = sorted({owner[p] for p in paths if p in owner})
    against = ", ".join(earlier) if earlier else "the tasks merged before it"
    return (f"{label} conflicts with {against} in {', '.join(paths)}; every branch is kept: "
            "resolve it in a task whose touches cover those paths, then integrate again")


def _advance(ws: Workspace, repo: pygit2.Repository, store: Store, track: str, result: Integration,
             target: str, partial: bool, emit: EventSink, *, base: str, rows: dict[str, TaskRow],
             since: CheckoutState) -> None:
    """Move the target to (a gated merge with) the result, or record in `result.held` why it stays."""
    held = tamper_hold(store, track) or _hold_reason(result, partial) or _review_hold(ws, store, track, result)
    if not held:
        merged = set(result.merged)
        # The branch by its name, not the run state's (which an agent could point elsewhere).
        kept_out = {tid: [tip for tip in (branch_tip(repo, task_branch(track, tid)), row.final_commit)
                          if tip and gitrepo.is_commit(repo, tip)]
                    for tid, row in rows.items() if tid not in merged}
        guard = Guard(kept_out, [rows[tid].final_commit or base for tid in result.merged])
        views = str(ws.track_dir(track).relative_to(ws.root))
        landed = land(ws.root, repo, target, result.commit, base=base, guard=guard, since=since,
                      views=views, gates=ws.config.gates, message=f"swarm: integrate track {track}",
                      emit=emit)
        result.target_gates = landed.gates
        if landed.advanced:
            result.advanced = landed.advanced
            store.release_locks(track, result.merged)
            emit("advanced", result.advanced, None)
            return
        held = landed.held
    result.held = f"{target} not advanced: {held}"
    emit("held", f"{target} not advanced:\n{held}", None)  # the printer shortens first lines only


def _review_hold(ws: Workspace, store: Store, track: str, result: Integration) -> str:
    """With review.required, why the target waits: the landing tasks not accepted yet."""
    if not ws.config.review.required:
        return ""
    waiting = unreviewed(result.merged, accepted_work(store, track))
    if not waiting:
        return ""
    return (f"review.required: {', '.join(waiting)} not accepted yet: `git swarm review {track}` "
            f"(or `git swarm accept <task>...`), then `git swarm integrate {track}`")


def _hold_reason(result: Integration, partial: bool) -> str:
    if result.rejected:
        names = ", ".join(result.rejected)
        return (f"{names} could not be merged (see above); fix it, or leave the task out "
                "(`git swarm task update <task> --status failed`) and integrate with --partial")
    if result.left_out and not partial:
        return f"not every planned task is done ({', '.join(result.left_out)}): finish them, or pass --partial"
    return ""


def _spawn_fixes(ws: Workspace, store: Store, track: str, gates: GateReport,
                 owner: dict[str, str], emit: EventSink) -> bool:
    """Fix tasks from the findings; each depends on the task that last changed its file, so
    it starts from a tree holding that change. Findings in files no task changed are skipped."""
    findings = [f for r in gates.results if r.applies for f in r.findings if f.file in owner]
    by_owner: dict[str, list[SpawnCandidate]] = {}
    for candidate in fix_candidates(findings):
        by_owner.setdefault(owner[candidate.touches[0]], []).append(candidate)
    spawned = False
    for reporter, candidates in sorted(by_owner.items()):
        plan, _ = read_plan(ws, track)
        report = Report(status="done", summary="gate findings", files_touched=[], candidates=candidates)
        spawned |= spawning.take_candidates(ws, store, track, plan, plan.task(reporter), report, emit,
                                            source=f"the gate findings in {reporter}'s files")
    return spawned


def _file_owner(repo: pygit2.Repository, merged: list[TaskRow]) -> dict[str, str]:
    """Which task (of `merged`, in integration order) last changed each path (for findings'
    "introduced by" and fix-task deps)."""
    return {path: row.id for row in merged for path in branch_paths(repo, row)}


def render_report(track: str, result: Integration, owner: dict[str, str]) -> str:
    """iosm_report.md: verdict, tasks merged / rejected / left out, then the gate section."""
    lines = [f"# IOSM report: {track}", "", f"Verdict: **{result.verdict}**",
             f"Integration commit: `{result.commit}` on `{integration_branch(track)}` "
             f"({result.history} history: each task's change, with Swarm-* trailers)", ""]
    lines.append("Merged: " + (", ".join(result.merged) or "none"))
    for title, items in (("Rejected (not merged)", result.rejected), ("Notes", result.notes),
                         ("Left out", result.left_out)):
        if items:
            lines += ["", f"## {title}", *[f"- {tid}: {why}" for tid, why in items.items()]]
    if result.conflict:
        lines += ["", "## Conflict", result.conflict]
    if result.advanced:
        lines += ["", f"Advanced {result.advanced}"]
    if result.held:
        lines += ["", f"Target: {result.held}"]
    if result.gates is not None:
        lines += ["", render_markdown(result.gates, owner.get)]
    if result.target_gates is not None:
        lines += ["", "## Gates on the merge with the moved target", "",
                  render_markdown(result.target_gates, owner.get)]
    return "\n".join(lines) + "\n"
