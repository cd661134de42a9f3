"""Gathering the visual run report from the run state, git and the plan, and writing it.

The page itself is rendered by the pure `swarmgit.domain.run_report`; this module only
collects the values: task rows, their own changes and the review verdict on their current
work (a task that ran again since its verdict shows none), `simulate`'s prediction for the same
plan and limits, the last integration's gates (`iosm_report.json`, written by the integrator
beside `iosm_report.md`) and the spend over time.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from swarmgit.domain.integration import Verdict
from swarmgit.domain.run_report import GateLine, PredictedSlot, RunReport, TaskLine, render_html
from swarmgit.domain.scheduler import Limits
from swarmgit.domain.simulate import simulate
from swarmgit.engine.integration_report import GATES_FILE
from swarmgit.engine.task_change import change_counts, task_change
from swarmgit.engine.workspace import Workspace, read_plan
from swarmgit.fsutil import read_agent_text, write_atomic
from swarmgit.gitops import repo as gitrepo
from swarmgit.store.state import Store

REPORT_FILE = "run_report.html"


def report_path(ws: Workspace, track: str) -> Path:
    """Where `implement` and `integrate` write the track's HTML report."""
    return ws.track_dir(track) / REPORT_FILE


def gather(ws: Workspace, store: Store, track: str) -> RunReport:
    """Every value the page shows, read now."""
    info = store.track(track)
    rows = store.tasks(track)
    reviews = store.reviews(track)
    cost = store.cost_summary(track)
    repo = gitrepo.discover(ws.root)
    origin = min((r.started_at for r in rows if r.started_at is not None), default=0.0)
    tasks = []
    for row in rows:
        files, added, deleted = change_counts(repo, task_change(repo, row))
        spent = cost.by_task.get(row.id)
        review = reviews.get(row.id)
        tasks.append(
            TaskLine(
                id=row.id,
                title=row.title,
                status=row.status,
                start_commit=row.start_commit or "",
                start_s=None if row.started_at is None else row.started_at - origin,
                end_s=None if row.finished_at is None else row.finished_at - origin,
                cost_usd=spent.usd if spent else 0.0,
                files=files,
                added=added,
                deleted=deleted,
                verdict=review.verdict if review and review.final_commit == row.final_commit else None,
                deps=row.deps,
                after=row.after,
            )
        )
    plan, _ = read_plan(ws, track)
    limits = Limits(
        ws.config.concurrency.max_background,
        ws.config.concurrency.max_foreground,
        ws.config.concurrency.max_parallel,
    )
    try:
        sim = simulate(plan, limits)
        predicted = tuple(PredictedSlot(s.task, s.start_hours, s.end_hours) for s in sim.schedule)
        makespan = sim.makespan_hours
    except ValueError:  # limits under which some task can never start: no prediction
        predicted, makespan = (), 0.0
    gates, index, verdict = _gates(ws.track_dir(track) / GATES_FILE)
    return RunReport(
        track=track,
        base=info.base_commit if info else "",
        target=info.target_branch if info else "",
        verdict=verdict,
        tasks=tuple(tasks),
        predicted=predicted,
        predicted_makespan_hours=makespan,
        gates=gates,
        index=index,
        spend=tuple((ts - origin, usd) for ts, usd in store.spend_over_time(track)),
    )


def write_report(ws: Workspace, store: Store, track: str, path: Path | None = None) -> Path:
    """Render the report, redacted of the secret values, and write it atomically (default:
    beside iosm_report.md)."""
    target = path or report_path(ws, track)
    write_atomic(target, ws.secrets.redact(render_html(gather(ws, store, track))))
    return target


def _gates(path: Path) -> tuple[tuple[GateLine, ...], float | None, Verdict | None]:
    """The last integration's gates from its JSON record; nothing when it has not run.

    The record lies in the track folder, which an agent without a write fence could rewrite:
    it is read as plain data only (a fifo or bytes that are not UTF-8 do not block or crash),
    a record of any other shape (a verdict that is none of `Verdict`'s) counts as absent, and
    every value is escaped on the page."""
    try:
        data = json.loads(read_agent_text(path)[0] or "null")
        owner: dict[str, str] = data.get("owner", {})
        lines = tuple(
            GateLine(
                name=f"{gate['key']} {gate['name']}",
                score=_number(gate.get("score")),
                passed=gate.get("passed") if isinstance(gate.get("passed"), bool) else None,
                findings=tuple(
                    (_where(f), str(f["message"]).partition("\n")[0], str(owner.get(f["file"], "")))
                    for f in gate.get("findings", ())
                ),
            )
            for gate in data.get("gates", ())
        )
        verdict = Verdict(data["verdict"]) if "verdict" in data else None
        return lines, _number(data.get("index")), verdict
    except (ValueError, KeyError, TypeError, AttributeError):
        return (), None, None


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _where(finding: dict[str, Any]) -> str:
    if not finding.get("file"):
        return "(repository)"
    return f"{finding['file']}:{finding['line']}" if finding.get("line") else str(finding["file"])
