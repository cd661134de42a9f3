from __future__ import annotations

import json
import os
import shlex
from pathlib import Path

import pygit2
import pytest

from swarmgit.backends import registry
from swarmgit.backends.base import AgentOutcome, Usage
from swarmgit.backends.clis.all import PRESETS
from swarmgit.backends.command import CommandAgent, render_command, resolve_preset
from swarmgit.backends.registry import get_agent
from swarmgit.config import Agent as AgentSettings
from swarmgit.config import Config
from swarmgit.config import Gates as GateSettings
from swarmgit.domain.plan import Task
from swarmgit.errors import UsageError
from swarmgit.gitops.worktrees import registered_at
from tests.agents import alive, fake_cli, make_job, standin
from tests.gitutil import git
from tests.swarmrepo import swarm_process, task_md, track_repo

CLAUDE_USAGE = Usage(
    model="claude-sonnet-5-5",
    input_tokens=1200,
    output_tokens=340,
    cache_write_tokens=500,
    cache_read_tokens=7000,
    cost_usd=0.0425,
)
CLAUDE_TEMPLATE = standin("claude") + ' -p "$(cat {brief_file})" --model {model} --output-format stream-json'
FAKE_KEY = "sk-ant-api03-FAKEKEY0123456789abcdef"


def _config(command: str, timeout_s: float = 30, grace_s: float = 0.3) -> Config:
    return Config(
        agent=AgentSettings(
            backend="command",
            command=command,
            timeout_minutes=timeout_s / 60,
            kill_grace_seconds=grace_s,
        )
    )


def _run(
    tmp_path: Path,
    repo: Path,
    config: Config,
    env: dict[str, str] | None = None,
    brief: str = "Add the cache.",
    budget_usd: float | None = None,
) -> tuple[AgentOutcome, Path, list[tuple[str, str]]]:
    job = make_job(
        tmp_path, repo, Task(id="T03", title="cache"), config, env=env, brief=brief, budget_usd=budget_usd
    )
    events: list[tuple[str, str]] = []
    outcome = get_agent(config).run(job, lambda kind, msg: events.append((kind, msg)))
    return outcome, job.log_file, events


def _events(log: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]


def test_claude_stream_json_run_is_recorded(tmp_path: Path, repo: Path) -> None:
    outcome, log, events = _run(tmp_path, repo, _config(CLAUDE_TEMPLATE))

    assert outcome.ok and outcome.kind is None and outcome.notes == ()
    assert outcome.usage == (CLAUDE_USAGE,)
    assert (repo / "agent_output.txt").read_text() == "Add the cache."
    assert outcome.report_text == "**Status:** done\n\n## Summary\n\nwrote agent_output.txt\n"
    assert [e["type"] for e in _events(log)] == ["system", "assistant", "result"]
    assert events[0][0] == "command"


def test_claude_code_preset_runs_the_cli_headless(tmp_path: Path, repo: Path) -> None:
    bin_dir = tmp_path / "bin"
    fake_cli(bin_dir, "claude")
    brief = "Fix it: don't touch \"$HOME\" or `ls`; it's fine.\nLine two."
    outcome, log, events = _run(
        tmp_path,
        repo,
        _config("claude-code"),
        env={"PATH": f"{bin_dir}:{os.environ['PATH']}"},
        brief=brief,
        budget_usd=1.5,
    )

    assert outcome.ok
    settings_file = tmp_path / "run" / "T03.claude-settings.json"
    assert f"--settings {settings_file}" in events[0][1]
    [hook] = json.loads(settings_file.read_text())["hooks"]["PreToolUse"]
    assert hook["matcher"] == "Write|Edit|MultiEdit|NotebookEdit|Bash"
    assert "-m swarmgit.backends.scope_hook" in hook["hooks"][0]["command"]
    assert (repo / "agent_output.txt").read_text() == brief.rstrip("\n")
    init = _events(log)[0]
    assert init["model"] == "claude-sonnet-5-5"
    assert init["budget"] == "1.50"
    assert init["output_format"] == "stream-json"
    assert init["cwd"] == str(repo)
    assert outcome.usage == (CLAUDE_USAGE,)


def test_permission_denials_and_error_lines_of_claude_code_are_noted(tmp_path: Path, repo: Path) -> None:
    outcome, _, _ = _run(tmp_path, repo, _config(CLAUDE_TEMPLATE), env={"FAKE_CLAUDE_MODE": "denied"})
    assert outcome.ok
    assert outcome.notes == (
        "API Error: 401 invalid x-api-key",
        "Claude Code denied Write /repo/.git/wt/src/a.py",
    )

    failed, _, _ = _run(tmp_path, repo, _config("echo starting; echo 'Error: no route' >&2; exit 3"))
    assert failed.diagnosis.splitlines()[:2] == ["the agent command exited with code 3", "Error: no route"]


def test_claude_code_scope_never_allows_a_home_holding_the_worktree(tmp_path: Path, repo: Path) -> None:
    job = make_job(
        tmp_path,
        repo,
        Task(id="T03", title="cache", touches=("src/",)),
        _config("claude-code"),
        env={"HOME": str(repo.parent), "TMPDIR": str(tmp_path / "t")},
    )
    settings = json.loads(Path(PRESETS["claude-code"].prepare(job)["settings_file"]).read_text())
    command = settings["hooks"]["PreToolUse"][0]["hooks"][0]["command"]
    scope = json.loads(shlex.split(command)[-1])
    assert scope["scratch"] == [str((tmp_path / "t").resolve())]
    assert scope["touches"] == ["src/"] and scope["root"] == str(repo.resolve())


def test_agent_hanging_after_its_result_is_killed_and_its_work_kept(tmp_path: Path, repo: Path) -> None:
    outcome, log, events = _run(
        tmp_path,
        repo,
        _config(CLAUDE_TEMPLATE, timeout_s=60, grace_s=0.3),
        env={"FAKE_CLAUDE_MODE": "hang-after"},
    )

    assert outcome.ok and outcome.kind is None
    assert outcome.usage == (CLAUDE_USAGE,)
    assert (repo / "agent_output.txt").read_text() == "Add the cache."
    assert outcome.notes and "did not exit" in outcome.notes[0]
    assert ("agent-hung", outcome.notes[0]) in events
    child = next(e for e in _events(log) if e.get("subtype") == "child")
    assert not alive(int(str(child["pid"])))


def test_agent_hanging_before_any_result_times_out(tmp_path: Path, repo: Path) -> None:
    outcome, _, _ = _run(
        tmp_path,
        repo,
        _config(CLAUDE_TEMPLATE, timeout_s=0.5, grace_s=0.2),
        env={"FAKE_CLAUDE_MODE": "hang-before"},
    )

    assert not outcome.ok
    assert outcome.kind == "timeout"
    assert outcome.diagnosis.startswith("timed out after")
    assert '"subtype": "init"' in outcome.diagnosis  # the last lines it printed
    assert outcome.usage == ()
    assert not (repo / "agent_output.txt").exists()


def test_error_result_fails_with_the_agents_message(tmp_path: Path, repo: Path) -> None:
    outcome, _, _ = _run(tmp_path, repo, _config(CLAUDE_TEMPLATE), env={"FAKE_CLAUDE_MODE": "error"})

    assert not outcome.ok
    assert outcome.kind == "command-failed"
    assert outcome.diagnosis.splitlines()[0] == (
        "the agent reported an error: error_during_execution: tool crashed"
    )
    assert outcome.usage == (CLAUDE_USAGE,)  # what it spent is still recorded


def test_api_key_printed_by_the_agent_is_redacted_in_the_log(tmp_path: Path, repo: Path) -> None:
    outcome, log, _ = _run(
        tmp_path,
        repo,
        _config(CLAUDE_TEMPLATE),
        env={"FAKE_CLAUDE_MODE": "leak", "ANTHROPIC_API_KEY": FAKE_KEY},
    )

    assert outcome.ok
    assert FAKE_KEY not in log.read_text()
    assert "debug: key=***" in log.read_text()


def test_failed_command_without_result_and_rate_limit_kind(tmp_path: Path, repo: Path) -> None:
    outcome, _, _ = _run(tmp_path, repo, _config("echo working; echo 'oops' >&2; exit 4"))
    assert (outcome.ok, outcome.kind) == (False, "command-failed")
    assert outcome.diagnosis == ("the agent command exited with code 4\nlast output lines:\nworking\noops")

    limited, _, _ = _run(tmp_path, repo, _config("echo 'Error: 429 rate limit exceeded'; exit 1"))
    assert limited.kind == "rate-limited"


def test_codex_preset_records_turn_usage(tmp_path: Path, repo: Path) -> None:
    bin_dir = tmp_path / "bin"
    fake_cli(bin_dir, "codex")
    outcome, _, _ = _run(tmp_path, repo, _config("codex"), env={"PATH": f"{bin_dir}:{os.environ['PATH']}"})

    assert outcome.ok
    assert (repo / "agent_output.txt").read_text() == "Add the cache."
    assert outcome.usage == (
        Usage(
            model="claude-sonnet-5-5",
            input_tokens=2000,
            output_tokens=800,
            cache_read_tokens=3000,
        ),
    )


def test_aider_preset_records_session_cost(tmp_path: Path, repo: Path) -> None:
    bin_dir = tmp_path / "bin"
    fake_cli(bin_dir, "aider")
    outcome, _, events = _run(
        tmp_path, repo, _config("aider"), env={"PATH": f"{bin_dir}:{os.environ['PATH']}"}
    )

    assert outcome.ok
    assert "--model anthropic/claude-sonnet-5-5 " in events[0][1]
    assert (repo / "agent_output.txt").read_text() == "Add the cache."
    assert outcome.usage == (
        Usage(
            model="claude-sonnet-5-5",
            input_tokens=5500,
            output_tokens=1500,
            cache_write_tokens=1200,
            cache_read_tokens=500,
            cost_usd=0.03,
        ),
    )
    assert outcome.notes == (
        "Unable to write file /repo/docs/x.md after 5 attempts: [Errno 13] Permission denied",
    )


def test_aider_caches_stay_out_of_the_tasks_commit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_cli(tmp_path / "bin", "aider")
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}:{os.environ['PATH']}")
    config = '[agent]\nbackend = "command"\ncommand = "aider"\n[gates]\nthreshold = 0.0\n'
    repo = track_repo(tmp_path / "r", task_md("T01", "Write", touches="`agent_output.txt`"), config=config)

    done = swarm_process(repo, "implement", "t")

    assert done.returncode == 0, done.stdout + done.stderr
    assert git(repo, "ls-tree", "-r", "--name-only", "swarm/t/T01").stdout.split() == [
        ".swarm.toml",
        "README.md",
        "agent_output.txt",
        "src/app.py",
        "swarm/tracks/t/plan.md",
        "swarm/tracks/t/shared_context.md",
    ]
    assert not (repo / ".gitignore").exists() or ".aider" not in (repo / ".gitignore").read_text()


def test_aider_gets_the_test_command_and_fails_when_it_cannot_reach_the_model(
    tmp_path: Path, repo: Path
) -> None:
    bin_dir = tmp_path / "bin"
    fake_cli(bin_dir, "aider")
    config = Config(
        agent=AgentSettings(backend="command", command="aider"),
        gates=GateSettings(test_command="pytest -q tests/"),
    )
    outcome, _, events = _run(
        tmp_path,
        repo,
        config,
        env={"PATH": f"{bin_dir}:{os.environ['PATH']}", "FAKE_AIDER_MODE": "unreachable"},
    )

    assert events[0][1].endswith(" --test-cmd 'pytest -q tests/' --auto-test")
    assert (outcome.ok, outcome.kind) == (False, "command-failed")
    assert outcome.diagnosis.splitlines()[0] == (
        "the agent reported an error: litellm.APIConnectionError: AnthropicException - Connection refused"
    )


def test_templates_quote_values_and_leave_shell_braces_alone() -> None:
    template = "agent --brief {brief_file} --task {task} --home ${HOME} {unknown}"
    rendered = render_command(
        template,
        {
            "brief_file": "/tmp/my briefs/it's.md",
            "task": "T01",
            "worktree": "/w",
            "model": "m",
            "budget": "1.00",
        },
    )
    assert rendered == ("agent --brief '/tmp/my briefs/it'\"'\"'s.md' --task T01 --home ${HOME} {unknown}")
    assert resolve_preset("claude-code") == PRESETS["claude-code"]
    assert resolve_preset("my-agent {brief_file}") is None


def test_presets_spell_the_task_model_for_their_cli() -> None:
    aider = PRESETS["aider"]
    assert aider.spell("claude-sonnet-5-5", {}) == "anthropic/claude-sonnet-5-5"
    assert aider.spell("openai/gpt-x", {}) == "openai/gpt-x"
    assert aider.spell("claude-sonnet-5-5", {"claude-sonnet-5-5": "my/sonnet"}) == "my/sonnet"
    assert PRESETS["claude-code"].spell("claude-opus-5-5", {}) == "claude-opus-5-5"


def test_empty_command_and_unknown_backend_are_usage_errors() -> None:
    with pytest.raises(UsageError, match="agent.command is empty"):
        CommandAgent(_config("  "))
    with pytest.raises(UsageError, match=r"unknown agent.backend 'robot'.*command, script"):
        get_agent(Config(agent=AgentSettings(backend="robot")))


def test_backend_with_a_missing_package_fails_only_when_chosen(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(
        registry.BACKENDS,
        "ghost",
        registry._lazy("ghost", "swarmgit.backends.no_such_module.GhostAgent", "pip install ghost"),
    )
    with pytest.raises(UsageError, match=r"agent.backend = 'ghost' needs .*pip install ghost"):
        get_agent(Config(agent=AgentSettings(backend="ghost")))


def test_a_done_aider_tasks_worktree_is_recycled_despite_its_caches(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_cli(tmp_path / "bin", "aider")
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}:{os.environ['PATH']}")
    # Unfenced: under the fence T02 may write only its (now existing) file, not the stand-in's cache.
    config = (
        '[agent]\nbackend = "command"\ncommand = "aider"\nsandbox = "off"\n[gates]\nthreshold = 0.0\n'
        "[concurrency]\nmax_parallel = 1\nmax_background = 1\n"
    )
    plan = task_md("T01", "Write", touches="`agent_output.txt`") + task_md(
        "T02", "Rewrite", touches="`agent_output.txt`"
    )
    repo = track_repo(tmp_path / "r", plan, config=config)

    done = swarm_process(repo, "implement", "t")

    assert done.returncode == 0, done.stdout + done.stderr
    root = tmp_path / "r.swarm-worktrees" / "t"
    # T02 took over T01's worktree, which held only aider's untracked cache folder.
    assert not (root / "T01").exists()
    assert registered_at(pygit2.Repository(str(repo)), root / "T02") == "T01"
