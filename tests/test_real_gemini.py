"""The real Gemini CLI (npm `@google/gemini-cli`, installed by `make agents`) run by `git swarm
implement` through the `gemini` preset, against the scripted Gemini API server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.realcli.gemini_server import GeminiProtocol
from tests.realcli.scenario import (
    Cli,
    api_error_is_diagnosed,
    cli_server,
    parallel_tasks,
    scope_shell_and_usage,
)
from tests.realcli.scripted import ScriptedServer, Turn

pytestmark = pytest.mark.real_cli

KEY = "AIzaSy-real-gemini-key-never-logged-0123456789"

GEMINI = Cli(
    preset="gemini",
    executable="gemini",
    model="gemini-test-pro",
    spelled="gemini-3-pro",
    key=KEY,
    env=lambda url: {"GEMINI_API_KEY": KEY, "GOOGLE_GEMINI_BASE_URL": url},
    read=lambda wt, path: Turn.call("read_file", {"file_path": path}),
    write=lambda wt, path, content: Turn.call("write_file", {"file_path": path, "content": content}),
    shell=lambda command: Turn.call("run_shell_command", {"command": command}),
    refusal="docs/guide.md is outside this task's touches (src/)",
)


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[ScriptedServer]:
    yield from cli_server(GEMINI, GeminiProtocol(), monkeypatch)


def test_gemini_refuses_out_of_scope_at_edit_time_runs_shell_and_records_priced_usage(
    tmp_path: Path, server: ScriptedServer
) -> None:
    scope_shell_and_usage(tmp_path, GEMINI, server)
    first = server.turn_requests()[0]
    assert "/models/gemini-3-pro:streamGenerateContent" in first.path  # the model, as spelled
    assert first.headers["x-goog-api-key"] == KEY


def test_gemini_three_tasks_in_parallel_each_land_their_file(tmp_path: Path, server: ScriptedServer) -> None:
    parallel_tasks(tmp_path, GEMINI, server)


def test_gemini_api_error_fails_the_task_with_its_message(tmp_path: Path, server: ScriptedServer) -> None:
    api_error_is_diagnosed(tmp_path, GEMINI, server)
