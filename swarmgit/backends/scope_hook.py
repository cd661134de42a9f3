"""The edit-time scope hook of the CLI presets: the SDK backend's scope check
(`claude_code.scope_refusal`) as a command, for Claude Code (PreToolUse) and Gemini CLI
(BeforeTool, `--gemini`).

Run as `python -m swarmgit.backends.scope_hook [--gemini] '<scope json>'` (the JSON: root,
touches, scratch folders, files; `hook_command` builds the line). The CLI passes the tool call as
JSON on stdin; an out-of-scope write is answered with a `deny` decision and the reason, in the
CLI's own shape, which the model sees as the tool's error. Gemini CLI's tools are judged as
their Claude Code twins (write_file as Write, replace as Edit, run_shell_command as Bash in its
`dir_path`). Anything else is allowed (empty output, exit 0). Input it cannot read is denied:
the hook fails closed.
"""
from __future__ import annotations

import json
import shlex
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

from swarmgit.backends.base import AgentJob
from swarmgit.backends.claude_code import Scope, scope_refusal

GEMINI_TOOLS = {"write_file": "Write", "replace": "Edit", "run_shell_command": "Bash"}


def hook_command(job: AgentJob, *options: str) -> str:
    """The shell command running this hook over `job`'s scope (options: `--gemini`)."""
    scope = json.dumps({
        "root": str(job.worktree.resolve()),
        "touches": list(job.task.touches),
        "scratch": [job.env[name] for name in ("HOME", "TMPDIR") if job.env.get(name)],
        "files": [str(job.report_file)],
    })
    return shlex.join([sys.executable, "-m", "swarmgit.backends.scope_hook", *options, scope])


def scope_from_json(text: str) -> Scope:
    data = json.loads(text)
    root = Path(data["root"]).resolve()
    return Scope(
        root=root,
        touches=tuple(data["touches"]),
        cwd=root,
        scratch=tuple(Path(p).resolve() for p in data.get("scratch", ())),
        files=tuple(Path(p).resolve() for p in data.get("files", ())),
    )


def decide(scope: Scope, call: dict[str, Any]) -> str | None:
    """Why the tool call must be refused, or None to let it run."""
    here = replace(scope, cwd=Path(call.get("cwd") or scope.root))
    return scope_refusal(str(call.get("tool_name")), call.get("tool_input") or {}, here)


def as_claude_call(call: dict[str, Any], root: Path) -> dict[str, Any]:
    """A Gemini CLI tool call as the Claude Code call it amounts to."""
    tool_input = call.get("tool_input") or {}
    cwd = Path(call.get("cwd") or root)
    if isinstance(tool_input, dict) and tool_input.get("dir_path"):
        cwd = cwd / str(tool_input["dir_path"])
    name = str(call.get("tool_name"))
    return {"tool_name": GEMINI_TOOLS.get(name, name), "tool_input": tool_input, "cwd": str(cwd)}


def _deny(reason: str, gemini: bool) -> None:
    if gemini:
        print(json.dumps({"decision": "deny", "reason": reason}))
        return
    print(json.dumps({"hookSpecificOutput": {
        "hookEventName": "PreToolUse",
        "permissionDecision": "deny",
        "permissionDecisionReason": reason,
    }}))


def main(argv: list[str]) -> int:
    gemini = argv[1:2] == ["--gemini"]
    try:
        scope = scope_from_json(argv[2 if gemini else 1])
        call = json.loads(sys.stdin.read())
        if gemini and isinstance(call, dict):
            call = as_claude_call(call, scope.root)
        reason = decide(scope, call) if isinstance(call, dict) else "unreadable tool call"
    except (IndexError, KeyError, TypeError, ValueError) as exc:
        reason = f"swarmgit's scope hook could not check this call: {exc}"
    if reason is not None:
        _deny(reason, gemini)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
