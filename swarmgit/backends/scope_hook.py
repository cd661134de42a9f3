"""The edit-time scope hook of the CLI presets: the SDK backend's scope check
(`shell_writes.scope_refusal`) as a command, for Claude Code and Codex (PreToolUse, `--codex`)
and Gemini CLI (BeforeTool, `--gemini`).

Run as `python -m swarmgit.backends.scope_hook [--gemini|--codex] '<scope json>'` (the JSON:
root, touches, scratch folders, files; `hook_command` builds the line). The CLI passes the tool
call as JSON on stdin; an out-of-scope write is answered with a `deny` decision and the reason,
in the CLI's own shape, which the model sees as the tool's error. Gemini CLI's tools are judged
as their Claude Code twins (write_file as Write, replace as Edit, run_shell_command as Bash in
its `dir_path`); a Codex `apply_patch` as a Write of each file its patch names, its shell
commands (`Bash`) as Claude Code's. Anything else is allowed (empty output, exit 0). Input it
cannot read is denied: the hook fails closed.
"""

from __future__ import annotations

import json
import re
import shlex
import sys
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from swarmgit.backends.base import AgentJob
from swarmgit.backends.shell_writes import Scope, named_files, scope_refusal

GEMINI_TOOLS = {"write_file": "Write", "replace": "Edit", "run_shell_command": "Bash"}
_PATCH_PATH_RE = re.compile(r"^\*\*\* (?:Add File|Update File|Delete File|Move to): (.+)$", re.M)


def hook_command(job: AgentJob, *options: str) -> str:
    """The shell command running this hook over `job`'s scope (options: `--gemini`, `--codex`)."""
    root = job.worktree.resolve()
    scope = json.dumps(
        {
            "root": str(root),
            "touches": list(job.task.touches),
            "scratch": _scratch(job.env, root),
            "files": [str(path) for path in named_files(job)],
        }
    )
    return shlex.join([sys.executable, "-m", "swarmgit.backends.scope_hook", *options, scope])


def _scratch(env: Mapping[str, str], root: Path) -> list[str]:
    """HOME and TMPDIR, writable besides the touches, unless the worktree lies inside one
    (the user's own HOME holding the repository): that would allow the whole worktree."""
    folders = (Path(env[name]).resolve() for name in ("HOME", "TMPDIR") if env.get(name))
    return [str(folder) for folder in folders if not root.is_relative_to(folder)]


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


def as_claude_calls(call: dict[str, Any], dialect: str, root: Path) -> list[dict[str, Any]]:
    """The Claude Code calls a Gemini CLI or Codex tool call amounts to (a Codex patch: one
    Write per file it adds, updates, deletes or moves to)."""
    tool_input = call.get("tool_input") or {}
    if not isinstance(tool_input, dict):
        raise TypeError("tool_input is not an object")
    cwd = Path(call.get("cwd") or root)
    name = str(call.get("tool_name"))
    if dialect == "--gemini":
        if tool_input.get("dir_path"):
            cwd = cwd / str(tool_input["dir_path"])
        return [{"tool_name": GEMINI_TOOLS.get(name, name), "tool_input": tool_input, "cwd": str(cwd)}]
    if dialect == "--codex" and name == "apply_patch":
        paths = _PATCH_PATH_RE.findall(str(tool_input.get("command") or ""))
        return [
            {"tool_name": "Write", "tool_input": {"file_path": path.strip()}, "cwd": str(cwd)}
            for path in paths
        ]
    return [call]


def _deny(reason: str, dialect: str) -> None:
    if dialect == "--gemini":
        print(json.dumps({"decision": "deny", "reason": reason}))
        return
    print(
        json.dumps(
            {
                "hookSpecificOutput": {
                    "hookEventName": "PreToolUse",
                    "permissionDecision": "deny",
                    "permissionDecisionReason": reason,
                }
            }
        )
    )


def main(argv: list[str]) -> int:
    dialect = argv[1] if argv[1:2] in (["--gemini"], ["--codex"]) else ""
    try:
        scope = scope_from_json(argv[2 if dialect else 1])
        call = json.loads(sys.stdin.read())
        if not isinstance(call, dict):
            raise TypeError("the tool call is not an object")
        reasons = (decide(scope, c) for c in as_claude_calls(call, dialect, scope.root))
        reason = next((r for r in reasons if r is not None), None)
    except (IndexError, KeyError, TypeError, ValueError) as exc:
        reason = f"swarmgit's scope hook could not check this call: {exc}"
    if reason is not None:
        _deny(reason, dialect)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
