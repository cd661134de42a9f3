"""What one integration did (`Integration`), and its two records in the track folder.

`iosm_report.md` is for people: the verdict, the tasks merged, rejected and left out, the
conflict, the target's advance or why it was held, then the gate section. `iosm_report.json`
(written only when the gates ran) is for the HTML run report (engine/run_report.py): the gate
results, the verdict, and which task last changed each file, so a finding links to the task
that introduced it. Both are redacted of the secret values.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import pygit2

from swarmgit.domain.integration import Verdict
from swarmgit.engine.task_change import branch_paths
from swarmgit.engine.workspace import Workspace
from swarmgit.fsutil import write_atomic
from swarmgit.gates.runner import GateReport, render_markdown, to_json
from swarmgit.store.state import TaskRow

REPORT_FILE = "iosm_report.md"
GATES_FILE = "iosm_report.json"


@dataclass
class Integration:
    """What one integration did. `owner`: which merged task last changed each path. `held`
    says why an APPROVED result did not move the target (empty when it moved or was not asked to)."""

    commit: str
    history: str = "tasks"
    merged: list[str] = field(default_factory=list)
    rejected: dict[str, str] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)
    left_out: dict[str, str] = field(default_factory=dict)
    owner: dict[str, str] = field(default_factory=dict)
    conflict: str = ""
    gates: GateReport | None = None
    target_gates: GateReport | None = None
    advanced: str = ""
    held: str = ""
    spawned: bool = False

    @property
    def verdict(self) -> Verdict:
        if self.conflict:
            return Verdict.CONFLICT
        return Verdict.APPROVED if self.gates is not None and self.gates.passed else Verdict.REJECTED

    @property
    def ok(self) -> bool:
        """Approved, no branch rejected, and the target moved unless told not to."""
        return self.verdict is Verdict.APPROVED and not self.rejected and not self.held


def integration_branch(track: str) -> str:
    return f"swarm/{track}/integration"


def file_owner(repo: pygit2.Repository, merged: list[TaskRow]) -> dict[str, str]:
    """Which task (of `merged`, in integration order) last changed each path (for findings'
    "introduced by" and fix-task deps)."""
    return {path: row.id for row in merged for path in branch_paths(repo, row)}


def write_reports(ws: Workspace, track: str, result: Integration) -> None:
    """Write iosm_report.md, and iosm_report.json when the gates ran."""
    write_atomic(ws.track_dir(track) / REPORT_FILE, ws.secrets.redact(render_report(track, result)))
    if result.gates is not None:  # the gate table of the HTML run report, findings linked to tasks
        record = {**to_json(result.gates), "verdict": result.verdict, "owner": result.owner}
        write_atomic(ws.track_dir(track) / GATES_FILE, ws.secrets.redact(json.dumps(record, indent=1)))


def render_report(track: str, result: Integration) -> str:
    """iosm_report.md: verdict, tasks merged / rejected / left out, then the gate section."""
    lines = [
        f"# IOSM report: {track}",
        "",
        f"Verdict: **{result.verdict}**",
        f"Integration commit: `{result.commit}` on `{integration_branch(track)}` "
        f"({result.history} history: each task's change, with Swarm-* trailers)",
        "",
    ]
    lines.append("Merged: " + (", ".join(result.merged) or "none"))
    for title, items in (
        ("Rejected (not merged)", result.rejected),
        ("Notes", result.notes),
        ("Left out", result.left_out),
    ):
        if items:
            lines += ["", f"## {title}", *[f"- {tid}: {why}" for tid, why in items.items()]]
    if result.conflict:
        lines += ["", "## Conflict", result.conflict]
    if result.advanced:
        lines += ["", f"Advanced {result.advanced}"]
    if result.held:
        lines += ["", f"Target: {result.held}"]
    if result.gates is not None:
        lines += ["", render_markdown(result.gates, result.owner.get)]
    if result.target_gates is not None:
        lines += [
            "",
            "## Gates on the merge with the moved target",
            "",
            render_markdown(result.target_gates, result.owner.get),
        ]
    return "\n".join(lines) + "\n"
