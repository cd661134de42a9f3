"""The `claude-code` preset's PreToolUse hook, run as Claude Code runs it: a process reading the
tool call on stdin."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

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
