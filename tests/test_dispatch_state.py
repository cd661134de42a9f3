"""The live loop reads the run state incrementally (the store's per-status id sets) and writes
plan.md incrementally: a change another process commits mid-run must still be seen, and the
views must end as a full re-render from the store gives them."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
import time
from contextlib import closing
from pathlib import Path

import pygit2

from swarmgit.engine import spawning
from swarmgit.engine.dispatch import Dispatcher
from swarmgit.engine.track_run import claimed
from swarmgit.engine.views import refresh
from swarmgit.engine.workspace import open_workspace
from swarmgit.gitops.worktrees import registered_at
from swarmgit.store.state import Store
from tests.gitutil import git
from tests.swarmrepo import task_md, track_repo

BLOCK_T02 = """
import sys
from swarmgit.domain.plan import Status
from swarmgit.store.state import Store
with Store.open(__import__("pathlib").Path(sys.argv[1])) as store:
    store.set_status("t", "T02", Status.BLOCKED, "held by another process")
"""


def _status(db: Path, task: str) -> str | None:
    """The task's stored status; None before the run state holds it (read only: never creates it)."""
    try:
        with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
            row = conn.execute("SELECT status FROM tasks WHERE track = 't' AND id = ?", (task,)).fetchone()
    except sqlite3.OperationalError:  # no database or no table yet
        return None
    return None if row is None else str(row[0])


def _block_t02_once_t01_runs(repo: Path, go: Path) -> None:
    """Another process blocks T02 while T01 runs; then T01 may finish."""
    db = repo / ".git" / "swarm" / "state.db"
    deadline = time.monotonic() + 120
    while _status(db, "T01") != "running" and time.monotonic() < deadline:
        time.sleep(0.05)
    subprocess.run([sys.executable, "-c", BLOCK_T02, str(repo / ".git")], check=True, timeout=120)
    go.touch()


def test_the_loop_sees_a_status_another_process_set_mid_run_and_views_match_a_full_render(
    tmp_path: Path,
) -> None:
    go = tmp_path / "go"
    wait = f"for i in $(seq 1200); do test -e {go} && exit 0; sleep 0.05; done; exit 1"
    plan = (
        task_md("T01", "waits", touches="read-only", runs=(wait,))
        + task_md(
            "T02", "would run next", deps="T01", touches="`src/b.py`", runs=("echo 'B = 1' > src/b.py",)
        )
        + task_md("T03", "after it", deps="T02", touches="`src/c.py`", runs=("echo 'C = 1' > src/c.py",))
    )
    repo = track_repo(tmp_path / "r", plan)
    ws = open_workspace(repo)
    helper = threading.Thread(target=_block_t02_once_t01_runs, args=(repo, go))
    helper.start()
    try:
        with claimed(ws, "t") as store:
            summary = Dispatcher(ws, store, "t", lambda kind, message, task: None).run()
    finally:
        go.touch()
        helper.join()

    assert summary.done == ["T01"]
    assert summary.blocked == {"T02": "held by another process", "T03": "depends on T02, which failed"}
    assert git(repo, "branch", "--list", "swarm/t/T02").stdout == ""  # never started
    plan_md, state_md = ws.plan_path("t"), ws.track_dir("t") / "iosm_state.md"
    live = plan_md.read_text(), state_md.read_text()
    assert live[0].count("**Status:** blocked") == 2 and "- [x] **T01**" in live[0]
    with Store.open(ws.common_dir) as store:  # the views as written from scratch
        refresh(ws, store, "t", spawning.budget_left(ws, store, "t"))
    assert (plan_md.read_text(), state_md.read_text()) == live


def test_a_later_run_recycles_the_worktree_a_task_of_an_earlier_run_left(tmp_path: Path) -> None:
    """The pool a run keeps starts from every task in the run state: a worktree left by a
    task done in an earlier run serves the first task this run starts."""
    repo = track_repo(
        tmp_path / "r", task_md("T01", "first", touches="`src/a.py`", runs=("echo 'A = 1' > src/a.py",))
    )
    ws = open_workspace(repo)
    with claimed(ws, "t") as store:
        assert Dispatcher(ws, store, "t", lambda kind, message, task: None).run().done == ["T01"]
    root = tmp_path / "r.swarm-worktrees" / "t"
    assert (root / "T01").is_dir()
    plan = ws.plan_path("t")
    plan.write_text(
        plan.read_text()
        + "\n"
        + task_md("T02", "second", touches="`src/b.py`", runs=("echo 'B = 1' > src/b.py",))
    )
    with claimed(ws, "t") as store:
        assert Dispatcher(ws, store, "t", lambda kind, message, task: None).run().done == ["T01", "T02"]
        first, second = store.task("t", "T01"), store.task("t", "T02")
    assert first is not None and second is not None
    assert (first.worktree, second.worktree) == (None, str(root / "T02"))
    assert not (root / "T01").exists()
    assert registered_at(pygit2.Repository(str(repo)), root / "T02") == "T01"
