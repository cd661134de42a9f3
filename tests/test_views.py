"""iosm_state.md: the run state as a person reads it."""
from __future__ import annotations

from dataclasses import replace

from swarmgit.engine.views import duration, render_state
from swarmgit.store.rows import CostSummary, LockRow, Spend, TaskRow


def _row(tid: str, status: str, deps: tuple[str, ...] = (), reason: str = "") -> TaskRow:
    return TaskRow(track="t", id=tid, title=tid, status=status, reason=reason, touches=("src/",), deps=deps,
                   branch=f"swarm/t/{tid}" if status != "todo" else None, worktree=None, start_commit=None,
                   final_commit=None, after=(), attempts=0, started_at=None, finished_at=None, pid=None)


def test_state_shows_progress_ready_tasks_locks_budget_and_reasons() -> None:
    rows = [_row("T01", "done"), _row("T02", "running", ("T01",)), _row("T03", "todo", ("T01",)),
            _row("T04", "todo", ("T02",)), _row("T05", "blocked", ("T09",), "T09 failed\nmore")]
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

    assert [took(s) for s in (0.04, 1.44, 9.2, 42.4, 119.0, 150.0)] == ["0.0s", "1.4s", "9.2s", "42s", "119s", "2.5m"]
    assert duration(_row("T02", "todo")) == ""
