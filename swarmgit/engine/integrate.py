"""The integrator: finished task branches → one merged, scope-checked, gated result.

Merges the done branches into `swarm/<track>/integration` in dependency + lock order, in
memory (the user's working tree is untouched), after re-checking each branch's diff against
its touches (commits made with --no-verify are caught here). Gates run on the merged tree
against the track's base; the target branch advances only on APPROVED, with every planned
task in (or --partial), and never by force. On REJECTED, fix tasks are spawned.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pygit2

from swarmgit.domain.integration import fix_candidates, integration_order
from swarmgit.domain.plan import Plan, Status
from swarmgit.domain.report import Report, SpawnCandidate
from swarmgit.engine import spawning
from swarmgit.engine.finalize import branch_violations
from swarmgit.engine.repo_guard import tamper_hold
from swarmgit.engine.taskspace import merge_message
from swarmgit.engine.views import refresh
from swarmgit.engine.workspace import Workspace, read_plan
from swarmgit.errors import UsageError, WorkFailed
from swarmgit.fsutil import write_atomic
from swarmgit.gitops import repo as gitrepo
from swarmgit.gitops.advance import advance_branch
from swarmgit.gitops.diff import changes_between, touched_paths
from swarmgit.gitops.merge import fold_merge
from swarmgit.gitops.refs import branch_tip, set_branch
from swarmgit.gates.runner import GateReport, render_markdown, run_gates
from swarmgit.store.state import Store, TaskRow

Emit = Callable[[str, str, "str | None"], None]


@dataclass
class Integration:
    """What one integration did; `verdict` is APPROVED, REJECTED or CONFLICT. `held` says why
    an APPROVED result did not move the target (empty when it moved or was not asked to)."""

    commit: str
    merged: list[str] = field(default_factory=list)
    rejected: dict[str, str] = field(default_factory=dict)
    left_out: dict[str, str] = field(default_factory=dict)
    conflict: str = ""
    gates: GateReport | None = None
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
    emit: Emit,
    *,
    target: str | None = None,
    advance: bool = True,
    partial: bool = False,
) -> Integration:
    repo = gitrepo.discover(ws.root)
    info = store.track(track)
    if info is None:
        raise UsageError(f"track {track!r} has not run yet: start it with `git swarm implement {track}`")
    target = target or ws.config.integrate.target or info.target_branch
    if advance and not target:
        raise UsageError("no target branch: set integrate.target in .swarm.toml or pass --target")
    if advance and branch_tip(repo, target) is None:
        raise UsageError(f"no branch {target}: create it (git branch {target} <start>) or pass --target")
    rows = {row.id: row for row in store.tasks(track)}
    plan = read_plan(ws, track)[0]
    finished = {tid for tid, row in rows.items() if row.status == Status.DONE.value}
    # A task marked done by hand without ever running has no branch: nothing to merge, but in.
    done = {tid: rows[tid] for tid in finished if rows[tid].final_commit}
    result = Integration(commit=info.base_commit)
    result.left_out = {tid: f"{row.status}: {row.reason}".strip(": ") for tid, row in rows.items()
                       if tid not in finished}
    for tid, row in sorted(done.items()):
        if problem := scope_problem(repo, plan, row):
            result.rejected[tid] = problem
            emit("rejected", f"{tid} not merged: {result.rejected[tid]}", tid)
    mergeable = {tid: row for tid, row in done.items() if tid not in result.rejected}
    order = integration_order({tid: (*row.deps, *row.after) for tid, row in mergeable.items()})
    folded = fold_merge(repo, info.base_commit, [(tid, mergeable[tid].final_commit or "") for tid in order],
                        merge_message(track))
    included = set(folded.merged) | set(folded.skipped)
    result.commit, result.merged = folded.commit, [tid for tid in order if tid in included]
    owner = _file_owner(repo, {tid: mergeable[tid] for tid in result.merged})
    if folded.conflict is not None:
        result.conflict = _conflict_message(folded.conflict.label, folded.conflict.paths, owner)
        emit("conflict", result.conflict, folded.conflict.label)
    branch = integration_branch(track)
    set_branch(repo, branch, result.commit, expect=branch_tip(repo, branch), message="swarm: integrate")
    if not result.conflict:
        result.gates = run_gates(ws.root, info.base_commit, result.commit, ws.config.gates)
        emit("gates", f"IOSM index {result.gates.index:.2f} (threshold {result.gates.threshold:.2f}): "
             f"{result.verdict}", None)
    store.set_track_fields(track, integrated_commit=result.commit)
    if result.verdict == "APPROVED" and advance:
        _advance(ws, store, track, result, target, partial, emit)
    elif result.gates is not None and not result.gates.passed:
        result.spawned = _spawn_fixes(ws, store, track, result.gates, owner, emit)
        if not result.spawned:
            emit("stuck", "gates rejected, and no new fix task can be spawned:\neach finding is outside "
                 "the tasks' files, or its fix task already ran, waits for you or is over the spawn "
                 "budget (`git swarm spawn list`); fix them by hand or raise spawn.budget", None)
    write_atomic(ws.track_dir(track) / "iosm_report.md", ws.secrets.redact(render_report(track, result, owner)))
    refresh(ws, store, track, spawning.budget_left(ws, store, track))
    return result


def _conflict_message(label: str, paths: tuple[str, ...], owner: dict[str, str]) -> str:
    earlier = sorted({owner[p] for p in paths if p in owner})
    against = ", ".join(earlier) if earlier else "the tasks merged before it"
    return (f"{label} conflicts with {against} in {', '.join(paths)}; every branch is kept: "
            "resolve it in a task whose touches cover those paths, then integrate again")


def _advance(ws: Workspace, store: Store, track: str, result: Integration, target: str,
             partial: bool, emit: Emit) -> None:
    """Move the target to the result, or record in `result.held` why it stays."""
    held = tamper_hold(store, track) or _hold_reason(result, partial)
    if not held:
        try:
            moved = advance_branch(ws.root, target, result.commit, f"swarm: integrate track {track}")
        except WorkFailed as exc:
            held = str(exc)
        else:
            result.advanced = f"{target}: {moved.kind} to {moved.commit[:10]}"
            store.release_locks(track, result.merged)
            emit("advanced", result.advanced, None)
            return
    result.held = f"{target} not advanced: {held}"
    emit("held", f"{target} not advanced:\n{held}", None)  # the printer shortens first lines only


def _hold_reason(result: Integration, partial: bool) -> str:
    if result.rejected:
        names = ", ".join(result.rejected)
        return (f"{names} changed paths outside its touches; fix the branch, or leave the task out "
                "(`git swarm task update <task> --status failed`) and integrate with --partial")
    if result.left_out and not partial:
        return f"not every planned task is done ({', '.join(result.left_out)}): finish them, or pass --partial"
    return ""


def _spawn_fixes(ws: Workspace, store: Store, track: str, gates: GateReport,
                 owner: dict[str, str], emit: Emit) -> bool:
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
        spawned |= spawning.take_candidates(ws, store, track, plan, plan.task(reporter), report, emit)
    return spawned


def _file_owner(repo: pygit2.Repository, rows: dict[str, TaskRow]) -> dict[str, str]:
    """Which task last changed each path (for findings' "introduced by" and fix-task deps)."""
    owner: dict[str, str] = {}
    for tid in integration_order({t: (*r.deps, *r.after) for t, r in rows.items()}):
        for path in branch_paths(repo, rows[tid]):
            owner[path] = tid
    return owner


def render_report(track: str, result: Integration, owner: dict[str, str]) -> str:
    """iosm_report.md: verdict, tasks merged / rejected / left out, then the gate section."""
    lines = [f"# IOSM report: {track}", "", f"Verdict: **{result.verdict}**",
             f"Integration commit: `{result.commit}` on `{integration_branch(track)}`", ""]
    lines.append("Merged: " + (", ".join(result.merged) or "none"))
    for title, items in (("Rejected (scope)", result.rejected), ("Left out", result.left_out)):
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
    return "\n".join(lines) + "\n"
