"""A task with touches whose attempt changes nothing fails, with a diagnosis from its agent's
output; a read-only task may change nothing. Generated reports count only real commits."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from tests.gitutil import write
from tests.swarmrepo import swarm, task_md, track_repo

GATES_OFF = "[gates]\nthreshold = 0.0\n"


def _status(repo: Path) -> dict[str, dict[str, Any]]:
    result = swarm(repo, "status", "t", "--json")
    assert result.exit_code == 0, result.output
    return {t["id"]: t for t in json.loads(result.output)["tasks"]}


def test_a_task_with_touches_that_changed_nothing_fails_with_its_log_tail(tmp_path: Path) -> None:
    plan = (
        task_md(
            "T01",
            "idle",
            touches="`src/a.py`",
            runs=("echo looking at src/a.py", "echo 'error: cannot write src/a.py' >&2"),
        )
        + task_md("T02", "explore", touches="read-only", runs=("echo nothing to change",))
        + task_md("T03", "later", deps="T01", touches="`src/c.py`", runs=("echo 1 > src/c.py",))
    )
    repo = track_repo(tmp_path / "r", plan, config=GATES_OFF)
    result = swarm(repo, "implement", "t")
    assert result.exit_code == 1
    status = _status(repo)
    assert status["T02"]["status"] == "done"
    assert status["T03"]["status"] == "blocked"
    assert status["T01"]["status"] == "failed"
    reason = status["T01"]["reason"]
    assert reason.startswith(
        "no change: T01 may change src/a.py, but its attempt ended with the tree it started from"
    )
    assert "errors the agent printed:\n  error: cannot write src/a.py" in reason
    tail = reason.split("last lines of swarm/tracks/t/logs/T01.log:\n", 1)[1].splitlines()
    assert tail == [
        "  $ echo looking at src/a.py",
        "  looking at src/a.py",
        "  $ echo 'error: cannot write src/a.py' >&2",
        "  error: cannot write src/a.py",
    ]
    assert "T01 failed: no change: T01 may change src/a.py" in result.output
    # Nothing of T01 is merged; the read-only task's branch is.
    assert "Merged: T02" in (repo / "swarm/tracks/t/iosm_report.md").read_text()


def test_a_retry_diagnoses_its_own_attempt_only(tmp_path: Path) -> None:
    repo = track_repo(
        tmp_path / "r",
        task_md("T01", "idle", touches="`src/a.py`", runs=("echo first-attempt",)),
        config=GATES_OFF,
    )
    assert swarm(repo, "implement", "t").exit_code == 1
    plan = repo / "swarm/tracks/t/plan.md"
    plan.write_text(plan.read_text().replace("first-attempt", "second-attempt"))
    assert swarm(repo, "retry", "T01").exit_code == 1
    reason = _status(repo)["T01"]["reason"]
    assert "  second-attempt" in reason and "first-attempt" not in reason
    log = (repo / "swarm/tracks/t/logs/T01.log").read_text()
    assert "first-attempt" in log and "second-attempt" in log  # the log keeps both


def test_a_task_without_run_lines_is_not_done_with_the_script_agent(tmp_path: Path) -> None:
    repo = track_repo(tmp_path / "r", task_md("T01", "template task", touches="`src/a.py`"), config=GATES_OFF)
    assert swarm(repo, "implement", "t").exit_code == 1
    reason = _status(repo)["T01"]["reason"]
    assert reason.startswith("no change: T01")
    assert "notes:\n  the task has no Run: lines, so the script agent ran nothing" in reason


FAKE_CLI = """\
import json, sys
print("Claude-ish agent starting", flush=True)
print("Error: the file is in a sensitive location", file=sys.stderr, flush=True)
print(json.dumps({"type": "result", "subtype": "success", "is_error": False, "result": "I could not edit.",
                  "total_cost_usd": 0.01, "usage": {"input_tokens": 10, "output_tokens": 5},
                  "permission_denials": [
                      {"tool_name": "Write", "tool_use_id": "t1", "tool_input": {"file_path": "src/a.py", "content": "x"}},
                      {"tool_name": "Bash", "tool_use_id": "t2", "tool_input": {"command": "pytest -q"}}]}), flush=True)
"""


def test_permission_denials_of_a_cli_agent_are_named(tmp_path: Path) -> None:
    fake = write(tmp_path, "fake_cli.py", FAKE_CLI)
    config = GATES_OFF + f'[agent]\nbackend = "command"\ncommand = "{sys.executable} {fake} {{brief_file}}"\n'
    repo = track_repo(tmp_path / "r", task_md("T01", "edit", touches="`src/a.py`"), config=config)
    result = swarm(repo, "implement", "t")
    assert result.exit_code == 1, result.output
    reason = _status(repo)["T01"]["reason"]
    assert "its agent was refused:\n  Write src/a.py\n  Bash pytest -q\n" in reason
    assert "errors the agent printed:\n  Error: the file is in a sensitive location" in reason
    assert "Claude-ish agent starting" in reason  # in the log tail


def test_the_generated_report_counts_the_real_commits(tmp_path: Path) -> None:
    plan = (
        task_md(
            "T01",
            "two commits",
            touches="`src/a.py`",
            runs=(
                "echo 1 > src/a.py && git add -A && git commit -qm 'T01: one'",
                "echo 2 > src/a.py && git commit -qam 'T01: two'",
            ),
        )
        + task_md("T02", "left for the orchestrator", touches="`src/b.py`", runs=("echo 1 > src/b.py",))
        + task_md("T03", "look", touches="read-only", runs=("true",))
    )
    # Unfenced, so T01 can commit by itself (under the write fence only swarmgit commits).
    repo = track_repo(tmp_path / "r", plan, config=GATES_OFF + '[agent]\nsandbox = "off"\n')
    assert swarm(repo, "implement", "t").exit_code == 0
    reports = repo / "swarm/tracks/t/reports"
    t01 = (reports / "T01.md").read_text()
    assert "T01 wrote no report; made from its 2 commit(s)." in t01
    assert "- T01: one\n- T01: two" in t01
    t02 = (reports / "T02.md").read_text()
    assert "T02 wrote no report; made from its 1 commit(s)." in t02
    assert "- T02: left for the orchestrator" in t02
    assert "T03 wrote no report; it made no commits." in (reports / "T03.md").read_text()
