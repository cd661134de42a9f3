from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from swarmgit.backends.base import AgentOutcome
from swarmgit.backends.registry import get_agent
from swarmgit.backends.script import ScriptAgent
from swarmgit.config import Agent as AgentSettings
from swarmgit.config import Config
from swarmgit.domain.plan import Task
from swarmgit.sandbox.fence import task_fence, unavailable
from tests.agents import alive, make_job

FAKE_KEY = "sk-ant-api03-FAKEKEY0123456789abcdef"


def _config(timeout_s: float = 30, grace_s: float = 0.2) -> Config:
    return Config(agent=AgentSettings(timeout_minutes=timeout_s / 60, kill_grace_seconds=grace_s))


def _run(
    tmp_path: Path,
    repo: Path,
    *commands: str,
    config: Config | None = None,
    env: dict[str, str] | None = None,
) -> tuple[AgentOutcome, list[tuple[str, str]], Path]:
    config = config or _config()
    job = make_job(tmp_path, repo, Task(id="T01", title="t", run=commands), config, env=env)
    events: list[tuple[str, str]] = []
    outcome = get_agent(config).run(job, lambda kind, msg: events.append((kind, msg)))
    return outcome, events, job.log_file


def test_commands_run_in_order_in_the_worktree_with_the_job_env(tmp_path: Path, repo: Path) -> None:
    outcome, events, log = _run(
        tmp_path,
        repo,
        "echo one > a.txt",
        "cat a.txt > b.txt && echo copied",
        "printf '%s' \"$SWARM_TASK\" > task.txt",
        'printf "**Status:** done\\n" > "$SWARM_REPORT"',
    )

    assert outcome.ok and outcome.kind is None
    assert (repo / "b.txt").read_text() == "one\n"
    assert (repo / "task.txt").read_text() == "T01"
    assert outcome.report_text == "**Status:** done\n"
    assert [kind for kind, _ in events] == ["command"] * 4
    assert "$ cat a.txt > b.txt && echo copied\ncopied\n" in log.read_text()


def test_failing_command_names_itself_and_its_last_lines_and_stops(tmp_path: Path, repo: Path) -> None:
    outcome, _, _ = _run(
        tmp_path,
        repo,
        "echo ok",
        "for i in $(seq 1 30); do echo line $i; done; echo boom >&2; exit 3",
        "touch never.txt",
    )

    assert not outcome.ok
    assert outcome.kind == "command-failed"
    first, *rest = outcome.diagnosis.splitlines()
    assert first == (
        "command failed (exit code 3): for i in $(seq 1 30); do echo line $i; done; echo boom >&2; exit 3"
    )
    assert rest[-1] == "boom" and "line 30" in rest and "line 1" not in rest
    assert not (repo / "never.txt").exists()


def test_timeout_kills_the_whole_process_group(tmp_path: Path, repo: Path) -> None:
    outcome, _, _ = _run(
        tmp_path,
        repo,
        "sleep 60 & echo $! > bg.pid; echo started; wait",
        config=_config(timeout_s=0.5),
    )

    assert not outcome.ok
    assert outcome.kind == "timeout"
    assert "while running: sleep 60 & echo $! > bg.pid; echo started; wait" in outcome.diagnosis
    assert outcome.diagnosis.endswith("started")
    assert not alive(int((repo / "bg.pid").read_text()))


def test_processes_left_behind_by_a_finished_command_are_stopped(tmp_path: Path, repo: Path) -> None:
    outcome, _, _ = _run(tmp_path, repo, "sleep 60 & echo $! > bg.pid")

    assert outcome.ok
    assert not alive(int((repo / "bg.pid").read_text()))


def test_secrets_never_reach_the_log_or_the_diagnosis(tmp_path: Path, repo: Path) -> None:
    outcome, _, log = _run(
        tmp_path,
        repo,
        'echo "using $ANTHROPIC_API_KEY"',
        'echo "gh=$GITHUB_TOKEN" >&2; exit 1',
        env={"ANTHROPIC_API_KEY": FAKE_KEY, "GITHUB_TOKEN": "ghp_fake_token_value_42"},
    )

    text = log.read_text()
    assert FAKE_KEY not in text and "ghp_fake_token_value_42" not in text
    assert "using ***" in text and "gh=***" in text
    assert "gh=***" in outcome.diagnosis and "ghp_fake" not in outcome.diagnosis


def test_a_task_without_run_commands_is_a_no_op_that_says_so(tmp_path: Path, repo: Path) -> None:
    outcome, events, _ = _run(tmp_path, repo)
    assert outcome == AgentOutcome(
        ok=True, notes=("the task has no Run: lines, so the script agent ran nothing",)
    )
    assert events == []


def test_registry_builds_the_script_agent() -> None:
    assert isinstance(get_agent(Config()), ScriptAgent)


@pytest.mark.skipif(bool(unavailable()), reason=unavailable() or "")
@pytest.mark.parametrize("foreground", [False, True])
def test_a_fenced_job_writes_only_inside_its_fence(tmp_path: Path, repo: Path, foreground: bool) -> None:
    (repo / "docs").mkdir()
    task = Task(
        id="T01",
        title="t",
        touches=("docs/",),
        run=("echo ok > docs/a.md", "echo x >> README.md || echo refused > docs/refused.md"),
    )
    job = make_job(tmp_path, repo, task, _config())
    fenced = replace(
        job, foreground=foreground, fence=task_fence(repo, task.touches, tmp_path / "run", required=True)
    )
    before = (repo / "README.md").read_bytes()
    outcome = get_agent(_config()).run(fenced, lambda kind, msg: None)
    assert outcome.ok, outcome.diagnosis
    assert (repo / "docs/a.md").read_text() == "ok\n"
    assert (repo / "docs/refused.md").read_text() == "refused\n"
    assert (repo / "README.md").read_bytes() == before
