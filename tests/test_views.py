"""iosm_state.md: the run state as a person reads it."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from swarmgit.domain.plan import Status
from swarmgit.domain.plan_render import render_status
from swarmgit.engine.views import ViewWriter, duration, render_state
from swarmgit.engine.workspace import open_workspace
from swarmgit.store.rows import CostSummary, LockRow, Spend, TaskRow
from swarmgit.store.state import Store, TaskSpec
from tests.swarmrepo import task_md, track_repo


def _row(tid: str, status: str, deps: tuple[str, ...] = (), reason: str = "") -> TaskRow:
    return TaskRow(
        track="t",
        id=tid,
        title=tid,
        status=Status(status),
        reason=reason,
        touches=("src/",),
        deps=deps,
        branch=f"swarm/t/{tid}" if status != "todo" else None,
        worktree=None,
        start_commit=None,
        final_commit=None,
        after=(),
        attempts=0,
        started_at=None,
        finished_at=None,
        pid=None,
    )


def test_state_shows_progress_ready_tasks_locks_budget_and_reasons() -> None:
    rows = [
        _row("T01", "done"),
        _row("T02", "running", ("T01",)),
        _row("T03", "todo", ("T01",)),
        _row("T04", "todo", ("T02",)),
        _row("T05", "blocked", ("T09",), "T09 failed\nmore"),
    ]
    cost = CostSummary(total=Spend(usd=1.5), by_task={}, by_model={})
    locks = [LockRow("T01", "src/a.py"), LockRow("T02", "src/"), LockRow("T05", "src/b.py")]  # T05's is stale
    text = render_state("t", rows, locks, cost, spawn_left=3, budget_usd=10.0)
    assert "Progress: 1/5 done · spawn budget left: 3 · cost: $1.50 of $10.00" in text
    assert "done: 1 · running: 1 · ready: 1 · todo: 1 · blocked: 1" in text
    assert "| T03 | ready |" in text and "| T04 | todo |" in text
    assert "| T05 | blocked | swarm/t/T05 |  | T09 failed |" in text
    assert "- T02: `src/`" in text and "- T01: `src/a.py` (held until integrated)" in text
    assert "T05: `" not in text


def test_duration_keeps_tenths_under_ten_seconds_and_turns_to_minutes_past_two() -> None:
    def took(seconds: float) -> str:
        row = replace(_row("T01", "done"), started_at=1000.0, finished_at=1000.0 + seconds)
        return duration(row)

    assert [took(s) for s in (0.04, 1.44, 9.2, 42.4, 119.0, 150.0)] == [
        "0.0s",
        "1.4s",
        "9.2s",
        "42s",
        "119s",
        "2.5m",
    ]
    assert duration(_row("T02", "todo")) == ""


def test_the_live_writer_sets_statuses_and_keeps_edits_made_between_writes(tmp_path: Path) -> None:
    plan = task_md("T01", "one", touches="read-only") + task_md("T02", "two", touches="read-only")
    repo = track_repo(tmp_path / "r", plan)
    ws = open_workspace(repo)
    path = ws.plan_path("t")
    with Store.open(ws.common_dir) as store:
        store.sync_tasks("t", [TaskSpec("T01", "one"), TaskSpec("T02", "two")])
        writer = ViewWriter(ws, "t")
        writer.write(store.task_ids_by_status("t"), "state 1\n")
        assert path.read_text().count("**Status:** todo") == 2
        store.set_status("t", "T01", Status.DONE)
        writer.write(store.task_ids_by_status("t"), "state 2\n")
        assert "- [x] **T01**" in path.read_text() and "- [ ] **T02**" in path.read_text()
        path.write_text(
            path.read_text().replace("**T02**: two", "**T02**: two, renamed by hand")
            + "\nA note the user added.\n"
        )
        store.set_status("t", "T02", Status.BLOCKED, "waits")
        writer.write(store.task_ids_by_status("t"), "state 3\n")
        text = path.read_text()
        assert "renamed by hand" in text and text.endswith("A note the user added.\n")
        assert "- [x] **T01**" in text and "**Status:** blocked" in text
        store.set_status("t", "T02", Status.DONE)
        writer.write(store.task_ids_by_status("t"), "state 4\n")
        final = path.read_text()
        assert final == render_status(final, {"T01": Status.DONE, "T02": Status.DONE})
        assert "- [x] **T02**: two, renamed by hand" in final
    assert (ws.track_dir("t") / "iosm_state.md").read_text() == "state 4\n"
