"""Claude Code's PreToolUse hook for the `claude-code` CLI preset: the SDK backend's scope check
(`claude_code.scope_refusal`) as a command.

Run as `python -m swarmgit.backends.scope_hook '<scope json>'` (the JSON: root, touches,
scratch folders, files; written by `clis.claude_code.prepare`). Claude Code passes the tool call
as JSON on stdin; an out-of-scope write is answered with a `deny` decision and the reason, which
the model sees as the tool's error. Anything else is allowed (empty output, exit 0). Input it
cannot read is denied: the hook fails closed.
"""
from __future__ import annotations

import json
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

from swarmgit.backends.claude_code import Scope, scope_refusal


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


def _deny(reason: str) -> None:
    print(json.dumps({"hookSpecificOutput": {
        "hookEventName": "PreToolUse",
        "permissionDecision": "deny",
        "permissionDecisionReason": reason,
    }}))


def main(argv: list[str]) -> int:
    try:
        scope = scope_from_json(argv[1])
        call = json.loads(sys.stdin.read())
        reason = decide(scope, call) if isinstance(call, dict) else "unreadable tool call"
    except (IndexError, KeyError, TypeError, ValueError) as exc:
        reason = f"swarmgit's scope hook could not check this call: {exc}"
    if reason is not None:
        _deny(reason)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
