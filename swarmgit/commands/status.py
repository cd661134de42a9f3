"""`git swarm status`: the track's tasks from the run state, as a table or JSON."""
from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from swarmgit.domain.cost import budget_state, price_hint, unpriced_models
from swarmgit.domain.plan import Status
from swarmgit.engine.run_report import report_path
from swarmgit.engine.task_change import change_counts, task_change
from swarmgit.engine.taskspace import worktrees_root
from swarmgit.engine.views import LOCK_HOLDING, UNTIL_INTEGRATED, duration, retired_line
from swarmgit.engine.workspace import Workspace, read_plan, resolve_track
from swarmgit.errors import InvalidInput
from swarmgit.gitops import repo as gitrepo
from swarmgit.sandbox.fence import fence_decision
from swarmgit.store.state import Store

REMOVED = "(removed)"
"""Shown for a branch or worktree the run state records but that no longer exists."""
REASON_MORE_LINES = 3


def status_data(ws: Workspace, track: str) -> dict[str, Any]:
    """Everything `status` shows, as plain data (the --json shape); titles and reasons are
    redacted again with this process's secrets (the store holds them redacted already)."""
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
    counts = {t.id: change_counts(repo, task_change(repo, t)) for t in tasks}
    return {
        "track": track,
        "base_commit": row.base_commit if row else None,
        "target_branch": row.target_branch if row else None,
        "worktrees_root": str(worktrees_root(ws)),
        "tasks": [
            {
                "id": t.id, "title": ws.secrets.redact(t.title), "status": t.status,
                "reason": ws.secrets.redact(t.reason),
                "branch": t.branch, "worktree": t.worktree, "attempts": t.attempts,
                "branch_exists": t.branch is not None and t.branch in repo.branches.local,
                "worktree_exists": bool(t.worktree) and Path(str(t.worktree)).is_dir(),
                "start_commit": t.start_commit, "final_commit": t.final_commit,
                "files_changed": counts[t.id][0], "lines_added": counts[t.id][1],
                "lines_deleted": counts[t.id][2],
                "duration": duration(t), "cost_usd": round(cost.by_task[t.id].usd if t.id in cost.by_task else 0.0, 4),
                "cli_cost_usd": _rounded(cost.by_task[t.id].cli_usd if t.id in cost.by_task else None),
                "locks": held.get(t.id, []),
            }
            for t in tasks
        ],
        "retired": [{"id": t.id, "title": ws.secrets.redact(t.title), "status": t.status, "branch": t.branch,
                     "worktree": t.worktree} for t in retired],
        "run_report": str(report_path(ws, track)) if report_path(ws, track).is_file() else None,
        "repo_holds": repo_holds,
        "cost_usd": round(cost.usd, 4),
        "budget_usd": budget,
        "remaining_usd": round(max(0.0, budget - cost.usd), 4),
        "budget_state": budget_state(cost.usd, budget, ws.config.budget.warn_fraction),
        "sandbox": {"mode": ws.config.agent.sandbox, "fenced": fencing.fenced,
                    "warning": fencing.warning or fencing.refusal},
        "cli_cost_usd": _rounded(cost.total.cli_usd),
        "unpriced_models": _unpriced(ws, track, cost.by_model),
        "by_model": {
            model: {"usd": round(spend.usd, 4), "cli_usd": _rounded(spend.cli_usd),
                    "input_tokens": spend.input_tokens,
                    "output_tokens": spend.output_tokens, "cache_write_tokens": spend.cache_write_tokens,
                    "cache_read_tokens": spend.cache_read_tokens}
            for model, spend in sorted(cost.by_model.items())
        },
    }


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


def render_status_table(data: dict[str, Any], root: Path) -> str:
    rows = [("TASK", "STATUS", "BRANCH", "START", "+/-", "WORKTREE", "TIME", "COST", "LOCKS")]
    for t in data["tasks"]:
        start = (t["start_commit"] or "-")[:10]
        plus_minus = f"+{t['lines_added']}/-{t['lines_deleted']}" if t["start_commit"] else "-"
        branch = (t["branch"] if t["branch_exists"] else REMOVED) if t["branch"] else "-"
        worktree = (_shown_path(t["worktree"], root) if t["worktree_exists"] else REMOVED) if t["worktree"] else "-"
        rows.append((t["id"], t["status"], branch, start, plus_minus, worktree, t["duration"] or "-",
                     f"${t['cost_usd']:.2f}", lock_cell(t)))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip() for r in rows]
    lines.append(f"new worktrees go to {data['worktrees_root']}")
    if not data["tasks"]:
        lines.append("(no run yet: start one with `git swarm implement " + data["track"] + "`)")
    for t in data["tasks"]:
        if t["reason"] and t["status"] in ("failed", "blocked", "needs-input"):
            lines += reason_lines(t["id"], t["reason"])
    if data["retired"]:
        lines.append(retired_line([(t["id"], t["status"], t["branch"]) for t in data["retired"]]))
    for task, message in data["repo_holds"].items():  # what changed, in full: the user inspects it
        lines.append(f"hold on the advance ({task}): {message}")
    if data["run_report"]:
        lines.append(f"run report: {_shown_path(data['run_report'], root)}")
    lines.append(f"cost: ${data['cost_usd']:.2f} of ${data['budget_usd']:.2f} "
                 f"(${data['remaining_usd']:.2f} left)")
    if data["budget_state"] != "ok":
        lines.append(budget_warning(data))
    if data["sandbox"]["warning"]:
        lines.append(f"warning: {data['sandbox']['warning']}")
    for model in data["unpriced_models"]:
        lines.append(f"warning: model {model} has no price, so its spend is not counted from its "
                     f"tokens; {price_hint(model)}")
    for model, spend in data["by_model"].items():
        reported = "" if spend["cli_usd"] is None else f"; its tool reported ${spend['cli_usd']:.2f}"
        lines.append(f"  {model}: ${spend['usd']:.2f} ({spend['input_tokens']} in, "
                     f"{spend['output_tokens']} out, {spend['cache_read_tokens']} cache-read tokens"
                     f"{reported})")
    return "\n".join(lines)


def lock_cell(task: dict[str, Any]) -> str:
    """A task's locks as status and watch show them: a done task holds its own until its work
    is integrated (by design: a later task on those paths starts from a tree holding it)."""
    if not task["locks"]:
        return "-"
    held = ", ".join(task["locks"])
    return held + UNTIL_INTEGRATED if task["status"] == Status.DONE else held


def reason_lines(task: str, reason: str) -> list[str]:
    """A reason's first line, then up to REASON_MORE_LINES more (a scope failure names its paths
    there), then how many were left out."""
    first, *rest = reason.splitlines() or [""]
    more = [f"  {line.strip()}" for line in rest[:REASON_MORE_LINES]]
    if len(rest) > REASON_MORE_LINES:
        more.append(f"  … {len(rest) - REASON_MORE_LINES} more line(s): `git swarm status --json` has them")
    return [f"{task}: {first}", *more]


def budget_warning(data: dict[str, Any]) -> str:
    """The line status and watch show once spending reaches the warning threshold."""
    share = data["cost_usd"] / data["budget_usd"] if data["budget_usd"] else 1.0
    if data["budget_state"] == "exhausted":
        return (f"budget exhausted ({share:.0%}): no new task starts; "
                f"`git swarm resume {data['track']} --budget N` raises it")
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
    return json.dumps(data, indent=2) if as_json else render_status_table(data, ws.root)
