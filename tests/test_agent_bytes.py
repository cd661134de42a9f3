"""Agent-written files that are not UTF-8 (a report cut mid-character) never stop the run."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from tests.swarmrepo import swarm, swarm_crashed, swarm_process, task_md, track_repo

CUT_REPORT = "printf '**Status:** done\\ncaf\\303' > \"$SWARM_REPORT\""  # é cut after its first byte
WORK = "echo 'x = 2' > src/app.py"  # swarmgit commits it (an agent under the write fence cannot)
CONFIG = "[gates]\nthreshold = 0.0\n"


def _statuses(repo: Path) -> dict[str, str]:
    status = json.loads(swarm_process(repo, "status", "t", "--json").stdout)
    return {t["id"]: t["status"] for t in status["tasks"]}


def report_file(repo: Path) -> Path:
    return repo / ".git/swarm/scratch/t/T01/report.md"


def _warnings(repo: Path) -> list[str]:
    with sqlite3.connect(repo / ".git/swarm/state.db") as conn:
        return [m for (m,) in conn.execute("SELECT message FROM events WHERE kind = 'warning'")]


def test_implement_reads_a_report_cut_mid_character_and_warns(tmp_path: Path) -> None:
    plan = task_md("T01", "app", touches="`src/app.py`", runs=(WORK, CUT_REPORT))
    repo = track_repo(tmp_path / "r", plan, config=CONFIG)

    result = swarm(repo, "implement", "t")

    assert result.exit_code == 0, result.output
    assert _statuses(repo) == {"T01": "done"}
    assert "not valid UTF-8 at byte 20 of " in result.output
    warning = f"not valid UTF-8 at byte 20 of {report_file(repo)} (bad bytes read as U+FFFD)"
    assert _warnings(repo) == [warning]
    saved = (repo / "swarm/tracks/t/reports/T01.md").read_text(encoding="utf-8")
    assert "**Status:** done" in saved


def test_resume_after_a_kill_reads_the_cut_report_too(tmp_path: Path) -> None:
    plan = task_md("T01", "app", touches="`src/app.py`", runs=(CUT_REPORT, WORK))
    repo = track_repo(tmp_path / "r", plan, config=CONFIG)
    report = report_file(repo)
    swarm_crashed(repo, "agent-exited", "implement", "t")  # before its work is taken: T01 stays `running`
    assert report.exists() and _statuses(repo) == {"T01": "running"}

    done = swarm_process(repo, "resume", "t")

    assert done.returncode == 0, done.stdout + done.stderr
    assert _statuses(repo) == {"T01": "done"}
    assert _warnings(repo) == [f"not valid UTF-8 at byte 20 of {report} (bad bytes read as U+FFFD)"]


def test_shared_context_with_latin1_bytes_still_briefs_the_next_task(tmp_path: Path) -> None:
    note = "printf -- '- T01: caf\\351 is ready\\n' >> \"$SWARM_SHARED_CONTEXT\""
    brief = "grep -q 'caf\ufffd is ready' \"$SWARM_BRIEF\" && " + WORK.replace("T01", "T02")
    plan = task_md("T01", "note", touches="read-only", runs=(note,)) + task_md(
        "T02", "app", deps="T01", touches="`src/app.py`", runs=(brief,)
    )
    repo = track_repo(tmp_path / "r", plan, config=CONFIG)

    result = swarm(repo, "implement", "t")

    assert result.exit_code == 0, result.output
    assert _statuses(repo) == {"T01": "done", "T02": "done"}
