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
from swarmgit.domain.plan import Status
from swarmgit.domain.report import Report, SpawnCandidate
from swarmgit.engine import spawning
from swarmgit.engine.taskspace import merge_message
from swarmgit.engine.views import refresh
from swarmgit.engine.workspace import Workspace, read_plan
from swarmgit.errors import UsageError
from swarmgit.fsutil import write_atomic
from swarmgit.gitops import repo as gitrepo
from swarmgit.gitops.advance import advance_branch
from swarmgit.gitops.diff import changes_between, touched_paths
from swarmgit.gitops.merge import fold_merge
from swarmgit.gitops.refs import branch_tip, set_branch
from swarmgit.hookcheck import check_paths
from swarmgit.gates.runner import GateReport, render_markdown, run_gates
from swarmgit.store.state import Store, TaskRow

Emit = Callable[[str, str, "str | None"], None]


@dataclass
class Integration:
    """What one integration did; `verdict` is APPROVED, REJECTED or CONFLICT."""

    commit: str
    merged: list[str] = field(default_factory=list)
    rejected: dict[str, str] = field(default_factory=dict)
    left_out: dict[str, str] = field(default_factory=dict)
    conflict: str = ""
    gates: GateReport | None = None
    advanced: str = ""
    spawned: bool = False

    @property
    def verdict(self) -> str:
        if self.conflict:
            return "CONFLICT"
        return "APPROVED" if self.gates is not None and self.gates.passed else "REJECTED"


def integration_branch(track: str) -> str:
    return f"swarm/{track}/integration"


def branch_paths(repo: pygit2.Repository, row: TaskRow) -> list[str]:
    """Every path a finished task's branch changed since its start point (renames: both sides)."""
    assert row.start_commit and row.final_commit
    return touched_paths(changes_between(repo, row.start_commit, row.final_commit))


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
    rows = {row.id: row for row in store.tasks(track)}
    done = {tid: row for tid, row in rows.items() if row.status == Status.DONE.value and row.final_commit}
    result = Integration(commit=info.base_commit)
    result.left_out = {tid: f"{row.status}: {row.reason}".strip(": ") for tid, row in rows.items() if tid not in done}
    for tid, row in sorted(done.items()):
        outside = check_paths(row.touches, branch_paths(repo, row))
        if outside:
            result.rejected[tid] = "changes outside its touches: " + ", ".join(outside)
            emit("rejected", f"{tid} not merged: {result.rejected[tid]}", tid)
    mergeable = {tid: row for tid, row in done.items() if tid not in result.rejected}
    order = integration_order({tid: (*row.deps, *row.after) for tid, row in mergeable.items()})
    folded = fold_merge(repo, info.base_commit, [(tid, mergeable[tid].final_commit or "") for tid in order],
                        merge_message(track))
    included = set(folded.merged) | set(folded.skipped)
    result.commit, result.merged = folded.commit, [tid for tid in order if tid in included]
    if folded.conflict is not None:
        result.conflict = (f"merging {folded.conflict.label} conflicts in {', '.join(folded.conflict.paths)}; "
                           "every branch is kept: resolve it in a task whose touches cover those paths")
        emit("conflict", result.conflict, folded.conflict.label)
    branch = integration_branch(track)
    set_branch(repo, branch, result.commit, expect=branch_tip(repo, branch), message="swarm: integrate")
    if not result.conflict:
        result.gates = run_gates(ws.root, info.base_commit, result.commit, ws.config.gates)
        emit("gates", f"IOSM index {result.gates.index:.2f} (threshold {result.gates.threshold:.2f}): "
             f"{result.verdict}", None)
    owner = _file_owner(repo, mergeable)
    write_atomic(ws.track_dir(track) / "iosm_report.md", render_report(track, result, owner))
    store.set_track_fields(track, integrated_commit=result.commit)
    if result.verdict == "APPROVED":
        _advance(ws, store, track, result, target or info.target_branch, advance, partial, emit)
    elif result.gates is not None:
        result.spawned = _spawn_fixes(ws, store, track, result.gates, owner, emit)
    refresh(ws, store, track, ws.plan_path(track).read_text(encoding="utf-8"),
            spawning.budget_left(ws, store, track))
    return result


def _advance(ws: Workspace, store: Store, track: str, result: Integration, target: str,
             advance: bool, partial: bool, emit: Emit) -> None:
    if not advance:
        return
    if result.left_out and not partial:
        emit("integrate", f"{target} not advanced: {len(result.left_out)} task(s) not done "
             "(finish them, or pass --partial)", None)
        return
    if result.rejected:
        return
    if not target:
        raise UsageError("no target branch: set integrate.target in .swarm.toml or pass --target")
    moved = advance_branch(ws.root, target, result.commit, f"swarm: integrate track {track}")
    result.advanced = f"{target}: {moved.kind} to {moved.commit[:10]}"
    store.release_locks(track, result.merged)
    emit("advanced", result.advanced, None)


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
    if result.gates is not None:
        lines += ["", render_markdown(result.gates, owner.get)]
    return "\n".join(lines) + "\n"
