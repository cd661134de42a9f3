"""`git swarm status`: the track's tasks from the run state, as a table or JSON."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

import pygit2

from swarmgit.domain.cost import BudgetState, budget_state, price_hint, unpriced_models
from swarmgit.domain.plan import Status
from swarmgit.engine.run_report import report_path
from swarmgit.engine.task_change import change_counts, task_change
from swarmgit.engine.taskspace import worktrees_root
from swarmgit.engine.views import LOCK_HOLDING, UNTIL_INTEGRATED, duration, retired_line
from swarmgit.engine.workspace import Workspace, read_plan, resolve_track
from swarmgit.errors import InvalidInput
from swarmgit.gitops import repo as gitrepo
from swarmgit.sandbox.fence import fence_decision
from swarmgit.store.state import Spend, Store, TaskRow

REMOVED = "(removed)"
"""Shown for a branch or worktree the run state records but that no longer exists."""
REASON_MORE_LINES = 3


@dataclass(frozen=True)
class TaskStatus:
    """One task as `status` shows it: its run state, its change's size, its spend, its locks."""

    id: str
    title: str
    status: Status
    reason: str
    branch: str | None
    worktree: str | None
    attempts: int
    branch_exists: bool
    worktree_exists: bool
    start_commit: str | None
    final_commit: str | None
    files_changed: int
    lines_added: int
    lines_deleted: int
    duration: str
    cost_usd: float
    cli_cost_usd: float | None
    locks: tuple[str, ...]


@dataclass(frozen=True)
class RetiredTask:
    """A task no longer in plan.md: the state it left in and its kept branch and worktree."""

    id: str
    title: str
    status: Status
    branch: str | None
    worktree: str | None


@dataclass(frozen=True)
class SandboxStatus:
    mode: str
    fenced: bool
    warning: str  # why agents run unfenced, or why none may start; "" when fenced


@dataclass(frozen=True)
class ModelSpend:
    usd: float
    cli_usd: float | None
    input_tokens: int
    output_tokens: int
    cache_write_tokens: int
    cache_read_tokens: int


@dataclass(frozen=True)
class TrackStatus:
    """Everything `status` and `watch` show; `to_json` is the --json output (its keys are the
    field names, in this order)."""

    track: str
    base_commit: str | None
    target_branch: str | None
    worktrees_root: str
    tasks: tuple[TaskStatus, ...]
    retired: tuple[RetiredTask, ...]
    run_report: str | None
    repo_holds: Mapping[str, str]  # task -> what changed in the git files while it ran
    cost_usd: float
    budget_usd: float
    remaining_usd: float
    budget_state: BudgetState
    sandbox: SandboxStatus
    cli_cost_usd: float | None
    unpriced_models: tuple[str, ...]
    by_model: Mapping[str, ModelSpend]

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2)


def status_data(ws: Workspace, track: str) -> TrackStatus:
    """Everything `status` shows; titles and reasons are redacted again with this process's
    secrets (the store holds them redacted already)."""
    with Store.open(ws.common_dir, ws.secrets) as store:
        row = store.track(track)
        tasks = store.tasks(track)
        locks = store.locks(track)
        cost = store.cost_summary(track)
        repo_holds = store.tamper_holds(track)
        retired = store.retired_tasks(track)
    budget = row.budget_usd if row and row.budget_usd is not None else ws.config.budget.track_usd
    fencing = fence_decision(ws.config.agent.sandbox)
    held: dict[str, list[str]] = {}
    holding = {t.id for t in tasks if t.status in LOCK_HOLDING}  # the store's locks of others are stale
    for lock in locks:
        if lock.task in holding:
            held.setdefault(lock.task, []).append(lock.pattern)
    repo = gitrepo.discover(ws.root)
    report = report_path(ws, track)
    return TrackStatus(
        track=track,
        base_commit=row.base_commit if row else None,
        target_branch=row.target_branch if row else None,
        worktrees_root=str(worktrees_root(ws)),
        tasks=tuple(_task_status(ws, repo, t, cost.by_task.get(t.id), held.get(t.id, [])) for t in tasks),
        retired=tuple(
            RetiredTask(t.id, ws.secrets.redact(t.title), t.status, t.branch, t.worktree) for t in retired
        ),
        run_report=str(report) if report.is_file() else None,
        repo_holds=repo_holds,
        cost_usd=round(cost.usd, 4),
        budget_usd=budget,
        remaining_usd=round(max(0.0, budget - cost.usd), 4),
        budget_state=budget_state(cost.usd, budget, ws.config.budget.warn_fraction),
        sandbox=SandboxStatus(ws.config.agent.sandbox, fencing.fenced, fencing.warning or fencing.refusal),
        cli_cost_usd=_rounded(cost.total.cli_usd),
        unpriced_models=tuple(_unpriced(ws, track, cost.by_model)),
        by_model={
            model: ModelSpend(
                round(spend.usd, 4),
                _rounded(spend.cli_usd),
                spend.input_tokens,
                spend.output_tokens,
                spend.cache_write_tokens,
                spend.cache_read_tokens,
            )
            for model, spend in sorted(cost.by_model.items())
        },
    )


def _task_status(
    ws: Workspace, repo: pygit2.Repository, t: TaskRow, spend: Spend | None, locks: list[str]
) -> TaskStatus:
    files, added, deleted = change_counts(repo, task_change(repo, t))
    return TaskStatus(
        id=t.id,
        title=ws.secrets.redact(t.title),
        status=t.status,
        reason=ws.secrets.redact(t.reason),
        branch=t.branch,
        worktree=t.worktree,
        attempts=t.attempts,
        branch_exists=t.branch is not None and t.branch in repo.branches.local,
        worktree_exists=bool(t.worktree) and Path(str(t.worktree)).is_dir(),
        start_commit=t.start_commit,
        final_commit=t.final_commit,
        files_changed=files,
        lines_added=added,
        lines_deleted=deleted,
        duration=duration(t),
        cost_usd=round(spend.usd if spend else 0.0, 4),
        cli_cost_usd=_rounded(spend.cli_usd if spend else None),
        locks=tuple(locks),
    )


def _rounded(usd: float | None) -> float | None:
    return None if usd is None else round(usd, 4)


def _unpriced(ws: Workspace, track: str, recorded: Mapping[str, object]) -> list[str]:
    """Models with no price in [pricing]: those usage was recorded under, and those the plan's
    tasks would run on (when the plan reads)."""
    models = set(recorded)
    try:
        models.update(unpriced_models(read_plan(ws, track)[0], ws.config))
    except InvalidInput:
        pass  # `plan check` names the errors; status still shows the run state
    return sorted(m for m in models if m not in ws.config.pricing)


def render_status_table(data: TrackStatus, root: Path) -> str:
    rows = [("TASK", "STATUS", "BRANCH", "START", "+/-", "WORKTREE", "TIME", "COST", "LOCKS")]
    for t in data.tasks:
        start = (t.start_commit or "-")[:10]
        plus_minus = f"+{t.lines_added}/-{t.lines_deleted}" if t.start_commit else "-"
        branch = (t.branch if t.branch_exists else REMOVED) if t.branch else "-"
        worktree = (_shown_path(t.worktree, root) if t.worktree_exists else REMOVED) if t.worktree else "-"
        rows.append(
            (
                t.id,
                t.status,
                branch,
                start,
                plus_minus,
                worktree,
                t.duration or "-",
                f"${t.cost_usd:.2f}",
                lock_cell(t),
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip() for r in rows]
    lines.append(f"new worktrees go to {data.worktrees_root}")
    if not data.tasks:
        lines.append("(no run yet: start one with `git swarm implement " + data.track + "`)")
    for t in data.tasks:
        if t.reason and t.status in (Status.FAILED, Status.BLOCKED, Status.NEEDS_INPUT):
            lines += reason_lines(t.id, t.reason)
    if data.retired:
        lines.append(retired_line([(t.id, t.status, t.branch) for t in data.retired]))
    for task, message in data.repo_holds.items():  # what changed, in full: the user inspects it
        lines.append(f"hold on the advance ({task}): {message}")
    if data.run_report:
        lines.append(f"run report: {_shown_path(data.run_report, root)}")
    lines.append(f"cost: ${data.cost_usd:.2f} of ${data.budget_usd:.2f} (${data.remaining_usd:.2f} left)")
    if data.budget_state != "ok":
        lines.append(budget_warning(data))
    if data.sandbox.warning:
        lines.append(f"warning: {data.sandbox.warning}")
    for model in data.unpriced_models:
        lines.append(
            f"warning: model {model} has no price, so its spend is not counted from its "
            f"tokens; {price_hint(model)}"
        )
    for model, spend in data.by_model.items():
        reported = "" if spend.cli_usd is None else f"; its tool reported ${spend.cli_usd:.2f}"
        lines.append(
            f"  {model}: ${spend.usd:.2f} ({spend.input_tokens} in, "
            f"{spend.output_tokens} out, {spend.cache_read_tokens} cache-read tokens"
            f"{reported})"
        )
    return "\n".join(lines)


def lock_cell(task: TaskStatus) -> str:
    """A task's locks as status and watch show them: a done task holds its own until its work
    is integrated (by design: a later task on those paths starts from a tree holding it)."""
    if not task.locks:
        return "-"
    held = ", ".join(task.locks)
    return held + UNTIL_INTEGRATED if task.status is Status.DONE else held


def reason_lines(task: str, reason: str) -> list[str]:
    """A reason's first line, then up to REASON_MORE_LINES more (a scope failure names its paths
    there), then how many were left out."""
    first, *rest = reason.splitlines() or [""]
    more = [f"  {line.strip()}" for line in rest[:REASON_MORE_LINES]]
    if len(rest) > REASON_MORE_LINES:
        more.append(f"  … {len(rest) - REASON_MORE_LINES} more line(s): `git swarm status --json` has them")
    return [f"{task}: {first}", *more]


def budget_warning(data: TrackStatus) -> str:
    """The line status and watch show once spending reaches the warning threshold."""
    share = data.cost_usd / data.budget_usd if data.budget_usd else 1.0
    if data.budget_state == "exhausted":
        return (
            f"budget exhausted ({share:.0%}): no new task starts; "
            f"`git swarm resume {data.track} --budget N` raises it"
        )
    return f"warning: {share:.0%} of the budget spent"


def _shown_path(path: str | None, root: Path) -> str:
    """A worktree path relative to the repository when it lies inside it or beside it (the
    default root is a sibling folder: `../<repo>.swarm-worktrees/...`), else as recorded."""
    if not path:
        return "-"
    for base, prefix in ((root, ""), (root.parent, "../")):
        try:
            return prefix + str(Path(path).relative_to(base))
        except ValueError:
            continue
    return path


def status(ws: Workspace, track: str | None, as_json: bool) -> str:
    data = status_data(ws, resolve_track(ws, track))
    return data.to_json() if as_json else render_status_table(data, ws.root)
