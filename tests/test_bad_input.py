"""Bad input and broken surroundings get a clear message and exit 2 (or 1), never a crash."""

from __future__ import annotations

import sqlite3
import subprocess
from pathlib import Path

import pytest

import swarmgit.store.state as state
from swarmgit.cli import run_guarded
from tests.gitutil import write
from tests.swarmrepo import swarm, task_md, track_repo

PLAN = task_md("T01", "one", touches="`src/a/`", runs=("mkdir -p src/a && echo 1 > src/a/x.py",))


def test_sha256_repository_is_refused_clearly(tmp_path: Path) -> None:
    repo = tmp_path / "sha"
    subprocess.run(["git", "init", "-q", "--object-format=sha256", str(repo)], check=True)
    result = swarm(repo, "init")
    assert result.exit_code == 2, result.output
    assert "object format" in result.output and "sha1" in result.output


@pytest.mark.parametrize(
    "setting, key",
    [
        ("[concurrency]\nmax_parallel = true\n", "concurrency.max_parallel"),
        ('[agent]\ntimeout_minutes = "30"\n', "agent.timeout_minutes"),
        ('[worktrees]\ncheckout = "partial"\n', "worktrees.checkout"),
    ],
)
def test_config_values_of_the_wrong_type_are_errors(tmp_path: Path, setting: str, key: str) -> None:
    repo = track_repo(tmp_path / "r", PLAN)
    write(repo, ".swarm.toml", setting)
    result = swarm(repo, "simulate", "t")
    assert result.exit_code == 2, result.output
    assert key in result.output and ".swarm.toml" in result.output
    if key == "worktrees.checkout":
        assert "'full'" in result.output and "'sparse'" in result.output  # what to write instead


def test_config_that_is_a_folder_is_an_error(tmp_path: Path) -> None:
    repo = track_repo(tmp_path / "r", PLAN)
    (repo / ".swarm.toml").unlink()
    (repo / ".swarm.toml").mkdir()
    result = swarm(repo, "status", "t")
    assert result.exit_code == 2, result.output
    assert ".swarm.toml: error: is not a file" in result.output


def test_corrupt_run_state_names_the_file_and_what_to_do(tmp_path: Path) -> None:
    repo = track_repo(tmp_path / "r", PLAN)
    db = repo / ".git" / "swarm" / "state.db"
    db.parent.mkdir(parents=True, exist_ok=True)
    db.write_bytes(b"this is not a database" * 100)
    result = swarm(repo, "status", "t")
    assert result.exit_code == 2, result.output
    assert str(db) in result.output and "move it aside" in result.output


def test_a_run_state_locked_too_long_is_a_clear_failure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = track_repo(tmp_path / "r", PLAN)
    assert swarm(repo, "status", "t").exit_code == 0  # creates the database
    monkeypatch.setattr(state, "BUSY_TIMEOUT_SECONDS", 0.2)
    holder = sqlite3.connect(repo / ".git" / "swarm" / "state.db", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        result = swarm(repo, "task", "update", "T01", "--status", "done")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert result.exit_code == 1, result.output
    assert "stayed locked by another process" in result.output


@pytest.mark.parametrize("command", ["simulate", "graph"])
def test_limits_under_which_a_task_never_starts_are_bad_input(tmp_path: Path, command: str) -> None:
    plan = PLAN + task_md("T02", "ask", touches="`src/b/`", extra="  - **Needs user input:** true")
    repo = track_repo(tmp_path / "r", plan, config="[concurrency]\nmax_foreground = 0\n")
    result = swarm(repo, command, "t")
    assert result.exit_code == 2, result.output
    assert "T02" in result.output and "can never start" in result.output


def test_an_unexpected_error_leaves_a_redacted_crash_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = track_repo(tmp_path / "r", PLAN)
    monkeypatch.chdir(repo)
    monkeypatch.setenv("SOME_API_KEY", "sk-crash-secret-123456")

    def bug() -> int:
        raise RuntimeError("boom with sk-crash-secret-123456 inside")

    assert run_guarded(False, bug) == 3
    err = capsys.readouterr().err
    assert "This is a bug in swarmgit" in err
    assert "sk-crash-secret-123456" not in err
    (log,) = (repo / ".git" / "swarm" / "crash").iterdir()
    assert str(log) in err
    text = log.read_text()
    assert "RuntimeError" in text and "Traceback" in text
    assert "sk-crash-secret-123456" not in text


def test_watch_before_the_run_says_it_waits(tmp_path: Path) -> None:
    repo = track_repo(tmp_path / "r", PLAN)
    result = swarm(repo, "watch", "t", "--once")
    assert result.exit_code == 0, result.output
    assert "no run yet: waiting for `git swarm implement t`" in result.output
