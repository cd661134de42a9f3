"""The `claude-code` preset's PreToolUse hook, run as Claude Code runs it: a process reading the
tool call on stdin."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from pathlib import Path

from swarmgit.backends.scope_hook import hook_command
from swarmgit.config import Config
from swarmgit.domain.plan import Task
from tests.agents import make_job

SCOPE_HOOK = [sys.executable, "-m", "swarmgit.backends.scope_hook"]


def _hook(scope: dict[str, object], call: str) -> str:
    done = subprocess.run(
        [*SCOPE_HOOK, json.dumps(scope)], input=call, capture_output=True, text=True, timeout=60, check=True
    )
    return done.stdout


def test_the_hook_denies_writes_outside_the_touches_and_allows_the_rest(tmp_path: Path) -> None:
    root = tmp_path / "wt"
    (root / "src").mkdir(parents=True)
    scope = {"root": str(root), "touches": ["src/"], "scratch": [str(tmp_path / "home")], "files": []}

    def call(tool: str, **tool_input: str) -> str:
        return json.dumps({"tool_name": tool, "tool_input": tool_input, "cwd": str(root)})

    denied = json.loads(_hook(scope, call("Write", file_path=str(root / "docs/x.md"))))
    assert denied["hookSpecificOutput"]["permissionDecision"] == "deny"
    assert (
        "docs/x.md is outside this task's touches (src/)"
        in (denied["hookSpecificOutput"]["permissionDecisionReason"])
    )
    assert "writes ../out.txt" in _hook(scope, call("Bash", command="echo x > ../out.txt"))
    assert _hook(scope, call("Write", file_path=str(root / "src/a.py"))) == ""
    assert _hook(scope, call("Write", file_path=str(tmp_path / "home/.cache/x"))) == ""
    assert _hook(scope, call("Bash", command="pytest -q")) == ""
    assert _hook(scope, call("Read", file_path="/etc/hostname")) == ""


def test_a_call_it_cannot_read_is_denied(tmp_path: Path) -> None:
    scope = {"root": str(tmp_path), "touches": ["src/"]}
    assert '"deny"' in _hook(scope, "not json")
    assert '"deny"' in _hook({"touches": []}, "{}")


def test_the_installed_hook_lets_the_agent_write_its_notes_copy(tmp_path: Path) -> None:
    """The presets' hook allows what the SDK backend allows besides the touches: the report
    and the task's own copy of the shared context (SWARM_SHARED_CONTEXT, outside HOME)."""
    root, scratch = tmp_path / "wt", tmp_path / "scratch"
    root.mkdir()
    notes = scratch / "shared_context.md"
    env = {"HOME": str(scratch / "home"), "TMPDIR": str(scratch / "tmp"), "SWARM_SHARED_CONTEXT": str(notes)}
    job = make_job(tmp_path, root, Task(id="T01", title="t", touches=("src/",)), Config(), env=env)
    call = json.dumps({"tool_name": "Write", "tool_input": {"file_path": str(notes)}, "cwd": str(root)})
    done = subprocess.run(
        shlex.split(hook_command(job)), input=call, capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout == ""
    elsewhere = call.replace(str(notes), str(scratch / "other.md"))
    denied = subprocess.run(
        shlex.split(hook_command(job)),
        input=elsewhere,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert '"deny"' in denied.stdout
