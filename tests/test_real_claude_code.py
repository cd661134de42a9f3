"""The real Claude Code CLI (npm `@anthropic-ai/claude-code`, installed by `make agents`) run by
`git swarm implement` through the `command` backend's `claude-code` preset, against the local
Messages API stand-in: scope at edit time (the preset's PreToolUse hook), shell commands,
usage, secrets, and parallel tasks."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.gitutil import git
from tests.messages_server import MessagesServer, Turn, messages_server, text, tool_use
from tests.realcli import (
    FIX,
    PARALLEL,
    PARALLEL_PLAN,
    cli_track,
    files_containing,
    implement_apart,
    output,
    status_json,
    swarm_config,
    table_price,
    use_cli,
)
from tests.swarmrepo import swarm_process

__all__ = ["messages_server"]  # the fixture
pytestmark = pytest.mark.real_cli

KEY = "sk-ant-api03-real-claude-code-key-never-logged-0123456789"


@pytest.fixture
def api(messages_server: MessagesServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[MessagesServer]:
    use_cli(
        monkeypatch,
        "claude",
        {"ANTHROPIC_API_KEY": KEY, "CLAUDE_CODE_MAX_RETRIES": "1", "ANTHROPIC_BASE_URL": messages_server.url},
    )
    yield messages_server
    assert messages_server.remaining == 0, "the script was not fully used"


def _tool_results(server: MessagesServer) -> dict[str, dict[str, Any]]:
    """Every tool_result Claude Code sent back, by tool_use id."""
    last = server.message_requests()[-1].body["messages"]
    return {
        block["tool_use_id"]: block
        for message in last
        if isinstance(message["content"], list)
        for block in message["content"]
        if block.get("type") == "tool_result"
    }


def test_edits_in_scope_refuses_outside_at_edit_time_runs_shell_and_records_usage(
    tmp_path: Path, api: MessagesServer
) -> None:
    repo, worktrees = cli_track(tmp_path, FIX, lambda root: swarm_config("claude-code", root))
    wt = worktrees / "t" / "T01"
    usage = [{"input_tokens": 1000 * n, "output_tokens": 100 * n} for n in range(1, 6)]
    api.script(
        Turn.reply(tool_use("Read", {"file_path": str(wt / "src/app.py")}, id="t_read"), usage=usage[0]),
        Turn.reply(
            tool_use(
                "Write", {"file_path": str(wt / "src/app.py"), "content": "ANSWER = 42\n"}, id="t_write"
            ),
            usage=usage[1],
        ),
        Turn.reply(
            tool_use("Write", {"file_path": str(wt / "docs/guide.md"), "content": "hacked\n"}, id="t_out"),
            usage=usage[2],
        ),
        Turn.reply(
            tool_use("Bash", {"command": "echo ran > src/shell_marker.txt"}, id="t_shell"), usage=usage[3]
        ),
        Turn.reply(text("Done: ANSWER is 42."), usage=usage[4]),
    )

    base = git(repo, "rev-parse", "main").stdout.strip()
    done = swarm_process(repo, "implement", "t")

    assert done.returncode == 0, output(done)
    results = _tool_results(api)
    assert not results["t_read"].get("is_error") and "ANSWER = 41" in str(results["t_read"]["content"])
    assert not results["t_write"].get("is_error")
    assert results["t_out"].get("is_error")
    assert "outside this task's touches (src/)" in str(results["t_out"]["content"])
    assert not results["t_shell"].get("is_error")
    branch = "swarm/t/T01"
    assert git(repo, "show", f"{branch}:src/app.py").stdout == "ANSWER = 42\n"
    assert git(repo, "show", f"{branch}:src/shell_marker.txt").stdout == "ran\n"
    assert git(repo, "show", f"{branch}:docs/guide.md").stdout == "# Guide\n"
    assert git(repo, "diff", "--name-only", base, branch).stdout.split() == [
        "src/app.py",
        "src/shell_marker.txt",
    ]
    # usage as the server sent it, recorded under the task's model id
    model = api.message_requests()[0].body["model"]
    tokens = (sum(u["input_tokens"] for u in usage), sum(u["output_tokens"] for u in usage))
    status = status_json(repo)
    spent = status["by_model"][model]
    assert (spent["input_tokens"], spent["output_tokens"]) == tokens
    assert status["cost_usd"] == pytest.approx(table_price(model, *tokens), abs=1e-4)
    assert files_containing(KEY, repo, worktrees) == []
    assert KEY not in output(done)


def test_three_tasks_in_parallel_each_land_their_own_file(tmp_path: Path, api: MessagesServer) -> None:
    repo, worktrees = cli_track(
        tmp_path, PARALLEL_PLAN, lambda root: swarm_config("claude-code", root, parallel=3)
    )
    for tid, path in PARALLEL.items():
        api.script_for(
            f"# Task {tid}:",
            Turn.reply(
                tool_use(
                    "Write", {"file_path": str(worktrees / "t" / tid / path), "content": f"NAME = {tid!r}\n"}
                )
            ),
            Turn.reply(text(f"{tid} done.")),
        )

    implement_apart(repo, PARALLEL)

    for tid, path in PARALLEL.items():
        assert git(repo, "show", f"swarm/t/{tid}:{path}").stdout == f"NAME = {tid!r}\n"
    assert sorted(git(repo, "ls-tree", "--name-only", "main", "src/").stdout.split()) == [
        "src/app.py",
        "src/t01.py",
        "src/t02.py",
        "src/t03.py",
    ]


def test_an_api_error_fails_the_task_with_the_clis_message(tmp_path: Path, api: MessagesServer) -> None:
    repo, _ = cli_track(tmp_path, FIX, lambda root: swarm_config("claude-code", root))
    refused = Turn(status=401, content=(text("invalid x-api-key (scripted)"),))
    api.script(refused, refused)  # tried again once (CLAUDE_CODE_MAX_RETRIES)

    done = swarm_process(repo, "implement", "t")

    assert done.returncode == 1
    assert (
        "T01 failed (command-failed): the agent reported an error: API error 401: Invalid API key"
    ) in output(done)
    assert KEY not in output(done)
