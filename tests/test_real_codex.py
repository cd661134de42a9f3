"""The real Codex CLI (npm `@openai/codex`, installed by `make agents`) run by `git swarm
implement` through the `codex` preset, against the scripted OpenAI Responses server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.realcli.openai_server import ResponsesProtocol
from tests.realcli.scenario import (
    Cli,
    api_error_is_diagnosed,
    cli_server,
    parallel_tasks,
    scope_shell_and_usage,
)
from tests.realcli.scripted import ScriptedServer, Turn

pytestmark = pytest.mark.real_cli

KEY = "sk-proj-real-codex-key-never-logged-0123456789abcdef"


def _patch(worktree: Path, path: str, content: str) -> Turn:
    """Codex's free-form apply_patch tool adding (or replacing) a file."""
    exists = (worktree / path).exists()
    body = "".join(f"+{line}\n" for line in content.splitlines())
    hunk = f"*** Delete File: {path}\n*** Add File: {path}\n" if exists else f"*** Add File: {path}\n"
    return Turn.call("apply_patch", f"*** Begin Patch\n{hunk}{body}*** End Patch\n")


CODEX = Cli(
    preset="codex",
    executable="codex",
    model="gpt-test-5",
    spelled="gpt-5.5",
    key=KEY,
    env=lambda url: {"OPENAI_API_KEY": KEY, "OPENAI_BASE_URL": f"{url}/v1"},
    read=lambda wt, path: Turn.call("exec_command", {"cmd": f"cat {path}"}),
    write=_patch,
    shell=lambda command: Turn.call("exec_command", {"cmd": command}),
    refusal="docs/guide.md is outside this task's touches (src/)",
)


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[ScriptedServer]:
    yield from cli_server(CODEX, ResponsesProtocol(), monkeypatch)


def test_codex_refuses_out_of_scope_at_edit_time_runs_shell_and_records_priced_usage(
    tmp_path: Path, server: ScriptedServer
) -> None:
    scope_shell_and_usage(tmp_path, CODEX, server)
    first = server.turn_requests()[0]
    assert first.body["model"] == "gpt-5.5"  # the task's model, in Codex's spelling
    assert first.headers["authorization"] == f"Bearer {KEY}"


def test_codex_three_tasks_in_parallel_each_land_their_file(tmp_path: Path, server: ScriptedServer) -> None:
    parallel_tasks(tmp_path, CODEX, server)


def test_codex_api_error_fails_the_task_with_its_message(tmp_path: Path, server: ScriptedServer) -> None:
    api_error_is_diagnosed(tmp_path, CODEX, server)
