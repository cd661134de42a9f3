"""`git swarm show TASK` and `git swarm diff TASK`: one task's own change, and its story.

A task's own change runs from its start point (the track's base folded with the work it was
started on) to its final commit, or to its branch tip while it still runs. Stacked tasks so
show only what they did themselves, and a read-only task shows nothing.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pygit2

from swarmgit.commands.recovery import find_task
from swarmgit.domain.report import parse_report
from swarmgit.engine import spawning
from swarmgit.engine.task_change import TaskChange, task_change
from swarmgit.engine.views import duration
from swarmgit.engine.workspace import Workspace
from swarmgit.errors import UsageError
from swarmgit.fsutil import read_agent_text
from swarmgit.gitops import repo as gitrepo
from swarmgit.gitops.diff import FileStat, file_stats, patch_text
from swarmgit.store.state import Store, TaskRow

Echo = Callable[[str], None]
STAT_WIDTH = 40


def _load(ws: Workspace, task: str, track: str | None) -> tuple[pygit2.Repository, TaskChange]:
    with Store.open(ws.common_dir, ws.secrets) as store:
        row = find_task(ws, store, task, track)
    repo = gitrepo.discover(ws.root)
    return repo, task_change(repo, row)


def diff(ws: Workspace, task: str, track: str | None, echo: Echo) -> int:
    """Print the plain unified diff of the task's own change (nothing for no change)."""
    repo, change = _load(ws, task, track)
    if not change.started:
        raise UsageError(f"{task} has not started yet: it has no change to show")
    assert change.start and change.end
    text = patch_text(repo, change.start, change.end)
    if text:
        echo(ws.secrets.redact(text.rstrip("\n")))
    return 0


def show(ws: Workspace, task: str, track: str | None, out: Echo) -> int:
    """The task's summary (status, start point, attempts, time, cost, report, spawned tasks),
    then its own change as a stat and a diff."""
    repo, change = _load(ws, task, track)
    with Store.open(ws.common_dir, ws.secrets) as store:
        lines = _summary(ws, store, change)
    if change.started:
        assert change.start and change.end
        stats = file_stats(repo, change.start, change.end)
        lines += ["", *render_stat(stats)]
        patch = patch_text(repo, change.start, change.end)
        if patch:
            lines += ["", patch.rstrip("\n")]
    out(ws.secrets.redact("\n".join(lines)))
    return 0


def _summary(ws: Workspace, store: Store, change: TaskChange) -> list[str]:
    row = change.row
    cost = store.cost_summary(row.track).by_task.get(row.id)
    lines = [
        f"task {row.id}: {row.title}  [{row.status}"
        + (", retired: no longer in plan.md]" if row.retired_at is not None else "]"),
        f"track:    {row.track}" + (f"   branch {row.branch}" if row.branch else ""),
    ]
    if row.reason:
        lines.append(f"reason:   {row.reason.splitlines()[0]}")
    if change.start:
        built_on = ", ".join((*row.deps, *row.after)) or "nothing but the base"
        lines.append(f"start:    {change.start[:12]} (the base with {built_on})")
    if change.end and change.start:
        lines.append(
            f"final:    {change.end[:12]}" + ("" if row.final_commit else " (branch tip; still running)")
        )
    lines.append(
        f"attempts: {row.attempts}   time: {duration(row) or '-'}   "
        f"cost: ${cost.usd if cost else 0.0:.4f}"
        + (f" ({cost.input_tokens} in, {cost.output_tokens} out tokens)" if cost else "")
    )
    lines += _report_lines(ws, row)
    spawned = [
        f"{c.task_id} ({spawning.from_payload(c.payload)[1].subtask})"
        for c in store.candidates(row.track)
        if c.task_id and spawning.from_payload(c.payload)[0] == row.id
    ]
    if spawned:
        lines.append("spawned:  " + ", ".join(spawned))
    return lines


def _report_lines(ws: Workspace, row: TaskRow) -> list[str]:
    # The saved report came from the agent: it was parsed and redacted when taken, and is only
    # shown here (first line of its summary), never acted on.
    path = ws.track_dir(row.track) / "reports" / f"{row.id}.md"
    text = read_agent_text(path)[0]
    if not text:
        return []
    report, _ = parse_report(text, str(path.relative_to(ws.root)))
    summary = report.summary.strip().splitlines()
    shown = summary[0] if summary else report.status
    return [f"report:   {shown}  ({path.relative_to(ws.root)})"]


def render_stat(stats: list[FileStat]) -> list[str]:
    """`git diff --stat`-like lines: a bar per file, then the totals."""
    if not stats:
        return ["no change"]
    width = max(len(s.path) for s in stats)
    largest = max((s.added + s.deleted for s in stats), default=0) or 1
    lines = []
    for s in stats:
        if s.binary:
            lines.append(f" {s.path.ljust(width)} | Bin")
            continue
        total = s.added + s.deleted
        scale = min(1.0, STAT_WIDTH / largest)
        plus, minus = round(s.added * scale), round(s.deleted * scale)
        lines.append(f" {s.path.ljust(width)} | {total:>4} {'+' * plus}{'-' * minus}")
    added, deleted = sum(s.added for s in stats), sum(s.deleted for s in stats)
    lines.append(f" {len(stats)} file(s) changed, {added} insertion(s)(+), {deleted} deletion(s)(-)")
    return lines


def page(root: Path) -> Echo:
    """An output function that goes through git's pager (core.pager, GIT_PAGER, PAGER) when
    stdout is a terminal, as `git log` does; else straight to stdout."""

    def out(text: str) -> None:
        pager = _git_pager(root) if sys.stdout.isatty() else ""
        if not pager or pager == "cat":
            print(text)
            return
        env = {**os.environ, "LESS": os.environ.get("LESS", "FRX"), "LV": os.environ.get("LV", "-c")}
        subprocess.run(pager, shell=True, input=text + "\n", text=True, env=env, check=False)

    return out


def _git_pager(root: Path) -> str:
    done = subprocess.run(["git", "var", "GIT_PAGER"], cwd=root, capture_output=True, text=True, check=False)
    return done.stdout.strip() if done.returncode == 0 else ""
