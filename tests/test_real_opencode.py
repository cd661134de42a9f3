"""The real OpenCode CLI (npm `opencode-ai`, installed by `make agents`) run by `git swarm
implement` through the `opencode` preset, against the scripted OpenAI Chat Completions server
(declared to OpenCode as an OpenAI-compatible provider in the user's config file)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.realcli.openai_server import ChatProtocol
from tests.realcli.scenario import (
    Cli,
    api_error_is_diagnosed,
    cli_server,
    parallel_tasks,
    scope_shell_and_usage,
)
from tests.realcli.scripted import ScriptedServer, Turn

pytestmark = pytest.mark.real_cli

KEY = "sk-real-opencode-key-never-logged-0123456789abcdef"


def _env(config_file: Path) -> Iterator[Cli]:
    def env(url: str) -> dict[str, str]:
        config_file.write_text(
            json.dumps(
                {
                    "provider": {
                        "swarmtest": {
                            "npm": "@ai-sdk/openai-compatible",
                            "name": "swarm test",
                            "options": {"baseURL": f"{url}/v1", "apiKey": "{env:SWARMTEST_API_KEY}"},
                            "models": {"local-coder": {"name": "local coder"}},
                        }
                    }
                }
            )
        )
        return {
            "SWARMTEST_API_KEY": KEY,
            "OPENCODE_CONFIG": str(config_file),
            "OPENCODE_DISABLE_MODELS_FETCH": "1",
        }

    yield Cli(
        preset="opencode",
        executable="opencode",
        model="local-coder",
        spelled="swarmtest/local-coder",
        key=KEY,
        env=env,
        read=lambda wt, path: Turn.call("read", {"filePath": str(wt / path)}),
        write=lambda wt, path, content: Turn.call("write", {"filePath": str(wt / path), "content": content}),
        shell=lambda command: Turn.call("bash", {"command": command, "description": "marker"}),
        refusal="prevents you from using this specific tool call",
    )


@pytest.fixture
def opencode(tmp_path: Path) -> Iterator[Cli]:
    yield from _env(tmp_path / "opencode-user.json")


@pytest.fixture
def server(opencode: Cli, monkeypatch: pytest.MonkeyPatch) -> Iterator[ScriptedServer]:
    yield from cli_server(opencode, ChatProtocol(), monkeypatch)


def test_opencode_refuses_out_of_scope_at_edit_time_runs_shell_and_records_priced_usage(
    tmp_path: Path, opencode: Cli, server: ScriptedServer
) -> None:
    scope_shell_and_usage(tmp_path, opencode, server)
    first = server.turn_requests()[0]
    assert first.body["model"] == "local-coder"  # the task's model, as OpenCode's provider names it
    assert first.headers["authorization"] == f"Bearer {KEY}"


def test_opencode_three_tasks_in_parallel_each_land_their_file(
    tmp_path: Path, opencode: Cli, server: ScriptedServer
) -> None:
    parallel_tasks(tmp_path, opencode, server)


def test_opencode_api_error_fails_the_task_with_its_message(
    tmp_path: Path, opencode: Cli, server: ScriptedServer
) -> None:
    api_error_is_diagnosed(tmp_path, opencode, server)
