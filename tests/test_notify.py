"""notify.command runs when a task fails or needs the user, and when the run ends."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tests.swarmrepo import swarm, task_md, track_repo

PLAN = (
    task_md("T01", "fine", touches="`src/a/`", runs=("mkdir -p src/a && echo 1 > src/a/x.py",))
    + task_md("T02", "breaks", touches="`src/b/`", runs=("exit 7",))
    + task_md("T03", "ask", touches="`src/c/`", runs=("true",), extra="  - **Needs user input:** true")
)


def test_notify_command_hears_failures_waiting_tasks_and_the_end(tmp_path: Path) -> None:
    heard = tmp_path / "heard.txt"
    config = (
        "[gates]\nthreshold = 0.0\n[notify]\n"
        f"command = 'echo \"$SWARM_NOTIFY_EVENT|$SWARM_TASK|$SWARM_TRACK\" >> {heard}'\n"
    )
    repo = track_repo(tmp_path / "r", PLAN, config=config)
    result = swarm(repo, "implement", "t")
    assert result.exit_code == 1, result.output
    lines = heard.read_text().splitlines()
    assert "failed|T02|t" in lines
    assert "needs-input|T03|t" in lines
    assert lines[-1] == "ended||t"
    assert not any(line.startswith(("done", "started")) for line in lines)
    with sqlite3.connect(repo / ".git" / "swarm" / "state.db") as conn:
        kinds = [k for (k,) in conn.execute("SELECT kind FROM events WHERE track = 't'")]
    assert "ended" in kinds and "needs-input" in kinds  # what watch rings the bell on


def test_a_broken_notify_command_never_stops_the_run(tmp_path: Path) -> None:
    config = "[gates]\nthreshold = 0.0\n[notify]\ncommand = 'exit 3'\ntimeout_seconds = 5\n"
    repo = track_repo(
        tmp_path / "r",
        task_md("T01", "fine", touches="`src/a/`", runs=("mkdir -p src/a && echo 1 > src/a/x.py",)),
        config=config,
    )
    result = swarm(repo, "implement", "t")
    assert result.exit_code == 0, result.output
