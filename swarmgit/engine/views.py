"""The markdown views of the run state: plan.md's checkboxes and iosm_state.md.

Both are written atomically from the store's rows; the store stays the source of truth.
iosm_state.md is derived only, so it is written without fsync (`resume` rewrites both).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Mapping, Sequence

from swarmgit.domain.plan import Status
from swarmgit.domain.plan_render import StatusLines, render_status
from swarmgit.engine.workspace import Workspace
from swarmgit.fsutil import read_user_text, write_atomic
from swarmgit.store.state import CostSummary, LockRow, Store, TaskRow

LOCK_HOLDING = frozenset({Status.RUNNING, Status.DONE})
"""The statuses whose tasks hold their touches' locks (a done task's until it is integrated)."""
UNTIL_INTEGRATED = " (held until integrated)"


def duration(row: TaskRow, now: float | None = None) -> str:
    """How long the task ran (or has run so far): "1.4s", "42s", "3.5m"; "" before it starts."""
    if row.started_at is None:
        return ""
    end = row.finished_at if row.finished_at and row.status != Status.RUNNING else (now or time.time())
    seconds = max(0.0, end - row.started_at)
    if seconds < 10:  # short tasks (the demo's, quick script agents) keep their tenths: "1.4s"
        return f"{seconds:.1f}s"
    return f"{seconds:.0f}s" if seconds < 120 else f"{seconds / 60:.1f}m"


def shown_status(row: TaskRow, finished: set[str]) -> Status:
    """A todo task whose dependencies are all done is shown as ready (it waits for a slot or
    a lock); every other status as stored."""
    if row.status == Status.TODO and all(dep in finished for dep in row.deps):
        return Status.READY
    return row.status


def render_state(
    track: str,
    rows: Sequence[TaskRow],
    locks: Sequence[LockRow],
    cost: CostSummary,
    *,
    spawn_left: int,
    budget_usd: float,
    retired: Sequence[TaskRow] = (),
) -> str:
    """iosm_state.md: progress, running, ready/waiting, blocked, locks held, spawn budget, cost;
    the tasks retired (no longer in plan.md) are listed apart, not counted."""
    finished = {row.id for row in rows if row.status == Status.DONE}
    labels = {row.id: shown_status(row, finished) for row in rows}
    counts = Counter(labels.values())  # in order of first appearance, as dict.fromkeys
    done = len(finished)
    lines = [
        f"# IOSM state: {track}",
        "",
        f"Progress: {done}/{len(rows)} done · spawn budget left: {spawn_left} · "
        f"cost: ${cost.usd:.2f} of ${budget_usd:.2f}",
        "",
        " · ".join(f"{label}: {n}" for label, n in counts.items()),
        "",
        "| task | status | branch | duration | note |",
        "| --- | --- | --- | --- | --- |",
    ]
    for row in rows:
        note = row.reason.splitlines()[0] if row.reason else ""
        lines.append(f"| {row.id} | {labels[row.id]} | {row.branch or ''} | {duration(row)} | {note} |")
    if retired:
        lines += ["", retired_line([(row.id, row.status, row.branch) for row in retired])]
    lines += ["", "## Locks held", ""]
    status = {row.id: row.status for row in rows}
    held = [
        f"- {lock.task}: `{lock.pattern}`" + (UNTIL_INTEGRATED if status[lock.task] == Status.DONE else "")
        for lock in locks
        if status.get(lock.task) in LOCK_HOLDING
    ]
    lines += held or ["- none"]
    return "\n".join(lines) + "\n"


def retired_line(retired: Sequence[tuple[str, Status, str | None]]) -> str:
    """One line naming the retired tasks (id, status, branch): the state each left in and its
    kept branch."""
    shown = [
        f"{task} (was {status}" + (f", branch {branch} kept)" if branch else ")")
        for task, status, branch in retired
    ]
    return "retired (no longer in plan.md): " + ", ".join(shown)


def write_views(ws: Workspace, track: str, rows: Sequence[TaskRow], state_md: str) -> None:
    """Write plan.md's statuses and iosm_state.md. plan.md is read afresh each time, so edits the
    user makes to it during a run (new tasks, notes) are kept."""
    path = ws.plan_path(track)
    text = read_user_text(path)
    new_plan = render_status(text, {row.id: row.status for row in rows})
    if new_plan != text:
        write_atomic(path, new_plan)
    write_atomic(ws.track_dir(track) / "iosm_state.md", state_md, durable=False)


class ViewWriter:
    """The views of one live run, written at most once per loop turn at a cost that does not
    grow with the plan: plan.md is re-rendered in full only when it is not the text this
    writer last wrote (the user or a spawn edited it: their edits are kept), otherwise only the
    tasks whose status changed since are set (`StatusLines`), found from the store's per-status
    id sets (`Store.task_ids_by_status`: an unchanged set is the same object, so it is skipped)."""

    def __init__(self, ws: Workspace, track: str) -> None:
        self.ws = ws
        self.track = track
        self._written = ""
        self._shown: Mapping[Status, frozenset[str]] = {}
        self._lines: StatusLines | None = None

    def write(self, by_status: Mapping[Status, frozenset[str]], state_md: str) -> None:
        self.write_plan(by_status)
        write_atomic(self.ws.track_dir(self.track) / "iosm_state.md", state_md, durable=False)

    def write_plan(self, by_status: Mapping[Status, frozenset[str]]) -> None:
        """Set plan.md's statuses to `by_status` (task ids per status, as the store gives them)."""
        path = self.ws.plan_path(self.track)
        text = read_user_text(path)
        new = (
            self._lines.update(self._changed(by_status))
            if self._lines is not None and text == self._written
            else None
        )
        if new is None:
            new = render_status(text, {task: status for status, ids in by_status.items() for task in ids})
            self._lines = StatusLines(new)
        if new != text:
            write_atomic(path, new)
        self._written, self._shown = new, by_status

    def _changed(self, by_status: Mapping[Status, frozenset[str]]) -> dict[str, Status]:
        """The tasks whose status is not the one last written."""
        changed: dict[str, Status] = {}
        for status, ids in by_status.items():
            before = self._shown.get(status, frozenset())
            if ids is not before:
                changed.update(dict.fromkeys(ids - before, status))
        return changed


def track_budget(ws: Workspace, store: Store, track: str) -> float:
    """The track's budget: raised by `resume --budget`, else budget.track_usd."""
    row = store.track(track)
    return row.budget_usd if row is not None and row.budget_usd is not None else ws.config.budget.track_usd


def refresh(
    ws: Workspace, store: Store, track: str, spawn_left: int, writer: ViewWriter | None = None
) -> None:
    """Re-render both views from the store (through `writer` in a live run)."""
    rows = store.tasks(track)
    state_md = render_state(
        track,
        rows,
        store.locks(track),
        store.cost_summary(track),
        spawn_left=spawn_left,
        budget_usd=track_budget(ws, store, track),
        retired=store.retired_tasks(track),
    )
    if writer is None:
        write_views(ws, track, rows, state_md)
    else:
        writer.write(store.task_ids_by_status(track), state_md)
