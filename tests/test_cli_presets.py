"""The Codex, Gemini CLI and OpenCode presets: their output read as the real CLIs print it (lines
captured from the real CLIs against the scripted servers), their edit-time scope rules, and the
per-task folder of their own state."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

from swarmgit.backends.base import Usage
from swarmgit.backends.clis.all import PRESETS, any_parser
from swarmgit.backends.clis.base import prompt_file, task_home
from swarmgit.backends.clis.codex import CodexParser
from swarmgit.backends.clis.codex import prepare as codex_prepare
from swarmgit.backends.clis.gemini import GeminiParser
from swarmgit.backends.clis.gemini import prepare as gemini_prepare
from swarmgit.backends.clis.opencode import OpenCodeParser, config_for, edit_patterns
from swarmgit.config import Config, parse_config
from swarmgit.domain.plan import Task
from tests.agents import make_job

CODEX_RUN = [
    '{"type":"thread.started","thread_id":"01a2"}',
    '{"type":"turn.started"}',
    '{"type":"error","message":"Reconnecting... 2/5 (stream disconnected before completion)"}',
    '{"type":"item.completed","item":{"id":"item_4","type":"agent_message","text":"all done"}}',
    '{"type":"turn.completed","usage":{"input_tokens":600,"cached_input_tokens":190,'
    '"cache_write_input_tokens":0,"output_tokens":100,"reasoning_output_tokens":0}}',
]
CODEX_FAILED = [
    '{"type":"error","message":"Reconnecting... 1/5 (unexpected status 401 Unauthorized: bad key)"}',
    '{"type":"turn.failed","error":{"message":"unexpected status 401 Unauthorized: bad key"}}',
]
GEMINI_RUN = [
    '{"type":"init","timestamp":"2026-11-30T08:33:21.682Z","session_id":"f678","model":"g"}',
    '{"type":"tool_result","timestamp":"t","tool_id":"write_file_1","status":"error",'
    '"output":"Tool execution blocked: docs/a is outside","error":{"type":"policy_violation",'
    '"message":"Tool execution blocked: docs/a is outside"}}',
    '{"type":"result","timestamp":"t","status":"success","stats":{"total_tokens":700,'
    '"input_tokens":600,"output_tokens":100,"cached":190,"input":410,"duration_ms":931,'
    '"tool_calls":4,"models":{"g":{"total_tokens":700,"input_tokens":600,"output_tokens":100,'
    '"cached":190,"input":410}}}}',
]
GEMINI_FAILED = (
    '{"type":"result","timestamp":"t","status":"error","error":{"type":"unknown","message":'
    '"[API Error: 401 Incorrect API key]"},"stats":{"total_tokens":0,"input_tokens":0,'
    '"output_tokens":0,"cached":0,"input":0}}'
)
OPENCODE_RUN = [
    '{"type":"step_start","timestamp":1,"sessionID":"ses_1","part":{"type":"step-start"}}',
    '{"type":"tool_use","timestamp":2,"sessionID":"ses_1","part":{"type":"tool","tool":"write",'
    '"state":{"status":"error","error":"The user has specified a rule which prevents you"}}}',
    '{"type":"step_finish","timestamp":3,"sessionID":"ses_1","part":{"reason":"tool-calls",'
    '"tokens":{"total":110,"input":60,"output":10,"reasoning":0,"cache":{"write":0,"read":40}},'
    '"cost":0}}',
    '{"type":"step_finish","timestamp":4,"sessionID":"ses_1","part":{"reason":"stop",'
    '"tokens":{"total":230,"input":50,"output":30,"reasoning":5,"cache":{"write":7,"read":150}},'
    '"cost":0.0125}}',
]
OPENCODE_FAILED = (
    '{"type":"error","timestamp":5,"sessionID":"ses_1","error":{"name":"APIError","data":'
    '{"message":"Incorrect API key provided","statusCode":401,"isRetryable":false}}}'
)
CLAUDE_RESULT = (
    '{"type":"result","subtype":"success","is_error":false,"total_cost_usd":0.5,'
    '"usage":{"input_tokens":10,"output_tokens":5}}'
)


def _read(parser: CodexParser | GeminiParser | OpenCodeParser, lines: list[str]) -> bool:
    return any([parser.feed(line) for line in lines])


def test_codex_usage_is_its_turn_totals_and_retries_are_only_remarks() -> None:
    parser = CodexParser("gpt-test")
    assert not _read(parser, CODEX_RUN)
    assert parser.usage() == (
        Usage(model="gpt-test", input_tokens=410, output_tokens=100, cache_read_tokens=190),
    )
    assert parser.error == ""
    assert parser.remarks() == ("Codex: Reconnecting... 2/5 (stream disconnected before completion)",)
    failed = CodexParser("gpt-test")
    _read(failed, CODEX_FAILED)
    assert failed.error == "unexpected status 401 Unauthorized: bad key"


def test_gemini_usage_comes_from_the_result_stats_and_a_failed_result_is_an_error() -> None:
    parser = GeminiParser("gemini-test")
    assert _read(parser, GEMINI_RUN)
    assert parser.usage() == (
        Usage(model="gemini-test", input_tokens=410, output_tokens=100, cache_read_tokens=190),
    )
    assert parser.error == ""
    assert parser.remarks() == ("Gemini CLI: tool write_file_1: Tool execution blocked: docs/a is outside",)
    thinking = GeminiParser("gemini-test")  # 20 candidates + 7 thinking tokens, 100 in
    thinking.feed(
        '{"type":"result","status":"success","stats":{"total_tokens":127,'
        '"input_tokens":100,"output_tokens":20,"cached":0,"input":100}}'
    )
    assert thinking.usage() == (Usage(model="gemini-test", input_tokens=100, output_tokens=27),)
    failed = GeminiParser("gemini-test")
    assert failed.feed(GEMINI_FAILED)
    assert failed.error == "[API Error: 401 Incorrect API key]"
    assert failed.usage() == ()


def test_opencode_usage_sums_its_steps_with_its_own_cost_and_reads_its_errors() -> None:
    parser = OpenCodeParser("local")
    assert not _read(parser, OPENCODE_RUN)
    assert parser.usage() == (
        Usage(model="local", input_tokens=60, output_tokens=10, cache_read_tokens=40),
        Usage(
            model="local",
            input_tokens=50,
            output_tokens=35,
            cache_write_tokens=7,
            cache_read_tokens=150,
            cost_usd=0.0125,
        ),
    )
    assert parser.remarks() == ("OpenCode: write: The user has specified a rule which prevents you",)
    parser.feed(OPENCODE_FAILED)
    assert parser.error == "Incorrect API key provided"


def test_a_hand_written_template_counts_each_cli_event_once() -> None:
    parser = any_parser("m")
    for line in (CLAUDE_RESULT, *CODEX_RUN):
        parser.feed(line)
    assert [u.cost_usd for u in parser.usage()] == [0.5, None]  # Claude Code's, then Codex's
    assert parser.error == ""


def test_presets_pass_the_model_in_each_clis_spelling() -> None:
    assert PRESETS["codex"].spell("gpt-5.5", {}) == "gpt-5.5"
    assert PRESETS["gemini"].spell("gemini-3-pro", {}) == "gemini-3-pro"
    assert PRESETS["opencode"].spell("claude-sonnet-5-5", {}) == "anthropic/claude-sonnet-5-5"
    assert PRESETS["opencode"].spell("local", {"local": "mine/local"}) == "mine/local"
    for name in ("codex", "gemini", "opencode"):
        assert "--model {model}" in PRESETS[name].command


def test_opencode_edit_permissions_cover_the_touches_and_the_report(tmp_path: Path) -> None:
    assert edit_patterns(("src/", "setup.py", "api/**/*.py", "x/[ab].py")) == [
        "src/*",
        "setup.py",
        "setup.py/*",
        "api/*.py",
        "x/?.py",
    ]
    worktree = tmp_path / "wt"
    job = make_job(tmp_path, worktree, Task(id="T01", title="t", touches=("src/",)), Config())
    permission = config_for(job)["permission"]
    assert isinstance(permission, dict)
    assert permission["edit"] == {"*": "deny", "src/*": "allow", "../run/reports/T01.md": "allow"}
    assert permission["bash"] == "allow"


def test_each_task_gets_its_own_cli_home_never_the_users(tmp_path: Path) -> None:
    task = Task(id="T01", title="t", touches=("src/",))
    shared = make_job(tmp_path, tmp_path, task, Config(), env={"HOME": os.environ["HOME"]})
    assert task_home(shared, "gemini") == shared.brief_file.with_name("T01.gemini-home")
    own = make_job(tmp_path, tmp_path, task, Config(), env={"HOME": str(tmp_path / "h")})
    assert task_home(own, "gemini") == tmp_path / "h"


def test_gemini_settings_hold_the_scope_hook_which_refuses_out_of_scope_writes(
    tmp_path: Path,
) -> None:
    worktree = tmp_path / "wt"
    (worktree / "src").mkdir(parents=True)
    job = make_job(
        tmp_path,
        worktree,
        Task(id="T01", title="t", touches=("src/",)),
        Config(),
        env={"GEMINI_API_KEY": "k"},
    )
    home = Path(gemini_prepare(job)["gemini_home"])
    settings = json.loads((home / ".gemini/settings.json").read_text())
    assert settings["security"]["auth"]["selectedType"] == "gemini-api-key"
    [hook] = settings["hooks"]["BeforeTool"][0]["hooks"]

    def call(tool: str, **tool_input: str) -> str:
        payload = json.dumps(
            {
                "hook_event_name": "BeforeTool",
                "tool_name": tool,
                "tool_input": tool_input,
                "cwd": str(worktree),
            }
        )
        return subprocess.run(
            hook["command"], shell=True, input=payload, capture_output=True, text=True, timeout=60, check=True
        ).stdout

    denied = json.loads(call("write_file", file_path="docs/x.md", content="x"))
    assert denied["decision"] == "deny"
    assert "docs/x.md is outside this task's touches (src/)" in denied["reason"]
    assert "outside" in call("run_shell_command", command="echo x > out.txt", dir_path="docs")
    assert call("write_file", file_path="src/a.py", content="x") == ""
    assert call("replace", file_path=str(worktree / "src/a.py"), old_string="a", new_string="b") == ""
    assert call("run_shell_command", command="echo x > out.txt", dir_path="src") == ""
    assert call("read_file", file_path="/etc/hostname") == ""
    assert sys.executable in hook["command"]


def test_codex_hook_refuses_a_patch_naming_a_file_outside_the_touches(tmp_path: Path) -> None:
    worktree = tmp_path / "wt"
    (worktree / "src").mkdir(parents=True)
    job = make_job(tmp_path, worktree, Task(id="T01", title="t", touches=("src/",)), Config())
    [entry] = tomllib.loads("hooks = " + codex_prepare(job)["codex_hooks"])["hooks"]
    assert entry["matcher"] == "^(apply_patch|Bash)$"
    command = entry["hooks"][0]["command"]

    def call(tool: str, text: str) -> str:
        payload = json.dumps(
            {
                "hook_event_name": "PreToolUse",
                "tool_name": tool,
                "tool_input": {"command": text},
                "cwd": str(worktree),
            }
        )
        return subprocess.run(
            command, shell=True, input=payload, capture_output=True, text=True, timeout=60, check=True
        ).stdout

    patch = "*** Begin Patch\n*** Update File: src/a.py\n*** Move to: {}\n@@\n-a\n+b\n*** End Patch\n"
    denied = json.loads(call("apply_patch", patch.format("docs/a.py")))
    assert denied["hookSpecificOutput"]["permissionDecision"] == "deny"
    assert (
        "docs/a.py is outside this task's touches (src/)"
        in (denied["hookSpecificOutput"]["permissionDecisionReason"])
    )
    assert call("apply_patch", patch.format("src/b.py")) == ""
    assert "outside" in call("Bash", "echo x > docs/out.txt")
    assert call("Bash", "pytest -q") == ""


def test_a_cli_without_a_test_option_gets_the_test_command_in_its_prompt(tmp_path: Path) -> None:
    task = Task(id="T01", title="t", touches=("src/",))
    plain = make_job(tmp_path, tmp_path, task, Config(), brief="Do it.\n")
    assert prompt_file(plain, "codex") == str(plain.brief_file)
    tested = make_job(
        tmp_path, tmp_path, task, parse_config('[gates]\ntest_command = "make check"\n'), brief="Do it.\n"
    )
    prompt = Path(prompt_file(tested, "codex"))
    assert prompt != tested.brief_file
    assert prompt.read_text() == (
        "Do it.\n\n## Tests\nRun the project's tests with `make check`"
        " before you finish, and fix what fails in your paths.\n"
    )
