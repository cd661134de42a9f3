"""The file and shell tools an API agent works with, all confined to its task's worktree.

Contracts:
- Every path is resolved for real (`Path.resolve()`, following symlinks) before use; a path that
  lands outside the worktree (`..`, an absolute path, a symlink pointing out) or inside its
  `.git` is refused with a tool error (`is_error`), never followed.
- `write_file` / `edit_file` only change files inside the task's touches (checked on the
  resolved path); anything else is refused with a tool error saying what is allowed.
- `run_command` runs `sh -c` in the worktree through `swarmgit.process.run.run_process` (own process group,
  killed on timeout, leftovers stopped, inside the task's write fence when it has one), with
  the env minus secrets and an output cap.
- Tool output never carries secret values: everything returned is redacted (`domain.secrets`).
"""

from __future__ import annotations

import fcntl
import os
import re
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from fnmatch import fnmatch
from functools import cached_property
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from swarmgit.domain.fence import Fence
from swarmgit.domain.report import Report
from swarmgit.domain.secrets import Secrets, is_secret_name, secrets_from_env
from swarmgit.domain.touches import path_allowed
from swarmgit.process.run import run_process

ToolInput = Mapping[str, Any]

MAX_SEARCH_MATCHES = 200
MAX_SEARCH_FILE_BYTES = 2_000_000
MAX_MATCH_LINE_CHARS = 300


class ToolError(Exception):
    """A refused or failed tool call; its message goes back to the model as is_error."""


@dataclass(frozen=True)
class ToolResult:
    """What a tool call returns to the model; `report` is set by an accepted `finish`."""

    content: str
    is_error: bool = False
    report: Report | None = None


@dataclass(frozen=True)
class Workspace:
    """Where and how one task's tools act. `root` must already be resolved; `env` is the task's
    full environment: commands get it without secrets, and its secrets are redacted from output;
    commands' output is also appended to `log_file`."""

    root: Path
    touches: tuple[str, ...]
    task_id: str
    shared_context: Path
    env: Mapping[str, str]
    log_file: Path
    command_timeout: float
    kill_grace: float
    output_cap: int
    pid_file: Path | None = None  # holds a running command's process group (process.py)
    fence: Fence | None = None  # what run_command's processes may write

    @cached_property
    def secrets(self) -> Secrets:
        return secrets_from_env(self.env)


def without_secrets(env: Mapping[str, str]) -> dict[str, str]:
    """env minus every secret-named variable (API keys, tokens, passwords)."""
    return {name: value for name, value in env.items() if not is_secret_name(name)}


# ---------------------------------------------------------------- paths


def resolve_path(root: Path, path: str, cwd: Path | None = None) -> Path:
    """The real path `path` names, relative to cwd (default root); refused (ToolError) when it
    is empty, lands outside root, or inside root's `.git`."""
    if not path or "\0" in path:
        raise ToolError("give a path relative to the worktree root")
    try:
        target = Path(cwd or root, path).resolve()
    except (OSError, RuntimeError) as exc:  # RuntimeError: a symlink loop
        raise ToolError(f"cannot resolve {path!r}: {exc}") from exc
    if not target.is_relative_to(root):
        raise ToolError(f"{path!r} resolves outside this task's worktree; only paths inside it are allowed")
    if target.relative_to(root).parts[:1] == (".git",):
        raise ToolError(f"{path!r} is inside .git; use run_command with git instead")
    return target


def check_write(root: Path, touches: Sequence[str], target: Path) -> None:
    """Refuse (ToolError) a write to resolved `target` unless the task's touches allow it."""
    rel = target.relative_to(root).as_posix()
    if path_allowed(touches, rel):
        return
    if not touches:
        raise ToolError(f"{rel} not written: this task is read-only (it declares no touches)")
    raise ToolError(
        f"{rel} is outside this task's touches ({', '.join(touches)}); write only there, or "
        "propose the change as a spawn candidate in your report"
    )


def _writable(ws: Workspace, path: str) -> Path:
    target = resolve_path(ws.root, path)
    check_write(ws.root, ws.touches, target)
    if target.is_dir():
        raise ToolError(f"{path!r} is a directory")
    return target


def _rel(ws: Workspace, path: Path) -> str:
    return path.relative_to(ws.root).as_posix() or "."


# ---------------------------------------------------------------- output caps


def _cap_head(text: str, cap: int, hint: str) -> str:
    """text cut to about `cap` bytes from the start, saying so and how to see more."""
    data = text.encode()
    if len(data) <= cap:
        return text
    kept = data[:cap].decode(errors="ignore")
    return f"{kept}\n[… truncated: {len(data) - cap} more bytes; {hint}]"


# ---------------------------------------------------------------- the tools


def _read_file(ws: Workspace, args: ToolInput, _: float | None) -> ToolResult:
    target = resolve_path(ws.root, _str(args, "path"))
    if not target.is_file():
        raise ToolError(f"{args['path']!r} is not a file")
    lines = target.read_text(encoding="utf-8", errors="replace").splitlines(keepends=True)
    offset = max(1, _int(args, "offset", 1))
    limit = _int(args, "limit", len(lines))
    chosen = "".join(lines[offset - 1 : offset - 1 + max(0, limit)])
    hint = "read further with offset/limit (line numbers)"
    return ToolResult(_cap_head(chosen, ws.output_cap, hint) or "(empty)")


def _list_dir(ws: Workspace, args: ToolInput, _: float | None) -> ToolResult:
    target = resolve_path(ws.root, _str(args, "path", "."))
    if not target.is_dir():
        raise ToolError(f"{args.get('path')!r} is not a directory")
    entries = []
    for entry in sorted(target.iterdir(), key=lambda p: p.name):
        if entry.name == ".git" and target == ws.root:
            continue
        suffix = "@" if entry.is_symlink() else "/" if entry.is_dir() else ""
        entries.append(entry.name + suffix)
    text = "\n".join(entries) or "(empty directory)"
    return ToolResult(_cap_head(text, ws.output_cap, "list a subfolder instead"))


def _search(ws: Workspace, args: ToolInput, _: float | None) -> ToolResult:
    try:
        pattern = re.compile(_str(args, "pattern"))
    except re.error as exc:
        raise ToolError(f"bad regular expression: {exc}") from exc
    start = resolve_path(ws.root, _str(args, "path", "."))
    glob = _str(args, "glob", "")
    matches: list[str] = []
    for file in _files_under(ws.root, start):
        rel = _rel(ws, file)
        if glob and not (fnmatch(rel, glob) or fnmatch(file.name, glob)):
            continue
        for number, line in _text_lines(file):
            if pattern.search(line):
                matches.append(f"{rel}:{number}: {line[:MAX_MATCH_LINE_CHARS]}")
                if len(matches) >= MAX_SEARCH_MATCHES:
                    matches.append(f"[stopped at {MAX_SEARCH_MATCHES} matches; narrow the search]")
                    return ToolResult(_cap_head("\n".join(matches), ws.output_cap, "narrow it"))
    text = "\n".join(matches) or "no matches"
    return ToolResult(_cap_head(text, ws.output_cap, "narrow the search"))


def _files_under(root: Path, start: Path) -> Iterator[Path]:
    """Regular files under start, sorted, skipping `.git` and symlinks that lead out of root."""
    if start.is_file():
        yield start
        return
    for folder, dirs, files in os.walk(start):
        dirs[:] = sorted(d for d in dirs if d != ".git")
        for name in sorted(files):
            path = Path(folder, name)
            if path.is_symlink() and not path.resolve().is_relative_to(root):
                continue
            if path.is_file():
                yield path


def _text_lines(file: Path) -> Iterator[tuple[int, str]]:
    """Numbered lines of a text file; nothing for binary or very large files."""
    if file.stat().st_size > MAX_SEARCH_FILE_BYTES:
        return
    data = file.read_bytes()
    if b"\0" in data[:8192]:
        return
    yield from enumerate(data.decode("utf-8", errors="replace").splitlines(), start=1)


def _write_file(ws: Workspace, args: ToolInput, _: float | None) -> ToolResult:
    target = _writable(ws, _str(args, "path"))
    content = _str(args, "content", allow_empty=True)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(content, encoding="utf-8")
    return ToolResult(f"wrote {_rel(ws, target)} ({len(content.encode())} bytes)")


def _edit_file(ws: Workspace, args: ToolInput, _: float | None) -> ToolResult:
    target = _writable(ws, _str(args, "path"))
    if not target.is_file():
        raise ToolError(f"{args['path']!r} does not exist; create it with write_file")
    old = _str(args, "old_string")
    new = _str(args, "new_string", allow_empty=True)
    text = target.read_text(encoding="utf-8")
    count = text.count(old)
    if count != 1:
        where = "does not occur" if count == 0 else f"occurs {count} times"
        raise ToolError(
            f"old_string {where} in {_rel(ws, target)}; it must match exactly once "
            "(copy it exactly, with enough surrounding lines to be unique)"
        )
    target.write_text(text.replace(old, new, 1), encoding="utf-8")
    return ToolResult(f"edited {_rel(ws, target)}")


def _run_command(ws: Workspace, args: ToolInput, time_left: float | None) -> ToolResult:
    command = _str(args, "command")
    limit = min(float(args.get("timeout_seconds") or ws.command_timeout), ws.command_timeout)
    if time_left is not None:
        limit = min(limit, max(1.0, time_left))
    output = _Output(ws.output_cap)
    result = run_process(
        command,
        cwd=ws.root,
        env=without_secrets(ws.env),
        log_file=ws.log_file,
        timeout_s=limit,
        kill_grace_s=ws.kill_grace,
        on_line=output.add,
        pid_file=ws.pid_file,
        fence=ws.fence,
    )
    if result.timed_out:
        return ToolResult(f"timed out after {limit:g}s (killed)\n{output}", is_error=True)
    return ToolResult(f"exit code {result.returncode}\n{output}")


class _Output:
    """A command's output lines, keeping about `cap` bytes: the head and the tail."""

    def __init__(self, cap: int) -> None:
        self._half = cap // 2
        self._head: list[str] = []
        self._head_bytes = 0
        self._tail: deque[str] = deque()
        self._tail_bytes = 0
        self._dropped = 0

    def add(self, line: str) -> None:
        size = len(line.encode()) + 1
        if self._head_bytes + size <= self._half and not self._tail:
            self._head.append(line)
            self._head_bytes += size
            return
        self._tail.append(line)
        self._tail_bytes += size
        while self._tail_bytes > self._half and len(self._tail) > 1:
            self._tail_bytes -= len(self._tail.popleft().encode()) + 1
            self._dropped += 1

    def __str__(self) -> str:
        cut = [f"[… {self._dropped} lines cut …]"] if self._dropped else []
        return "\n".join([*self._head, *cut, *self._tail])


def _share_note(ws: Workspace, args: ToolInput, _: float | None) -> ToolResult:
    note = ws.secrets.redact(_str(args, "note").strip())
    ws.shared_context.parent.mkdir(parents=True, exist_ok=True)
    with ws.shared_context.open("a", encoding="utf-8") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)  # agents of one track append concurrently
        handle.write(f"\n### Note from {ws.task_id}\n\n{note}\n")
    return ToolResult("note added to the track's shared context")


def _finish(ws: Workspace, args: ToolInput, _: float | None) -> ToolResult:
    try:
        report = Report.model_validate(dict(args))
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'input'}: {err['msg']}" for err in exc.errors()
        )
        raise ToolError(f"report not accepted: {problems}") from exc
    return ToolResult("report accepted; the task is finished", report=report)


def _str(args: ToolInput, key: str, default: str | None = None, allow_empty: bool = False) -> str:
    value = args.get(key, default)
    if not isinstance(value, str) or (not value and not allow_empty and default is None):
        raise ToolError(f"`{key}` must be a non-empty string")
    return value


def _int(args: ToolInput, key: str, default: int) -> int:
    value = args.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ToolError(f"`{key}` must be an integer")
    return value


_Tool = Callable[[Workspace, ToolInput, float | None], ToolResult]
_TOOLS: dict[str, _Tool] = {
    "read_file": _read_file,
    "list_dir": _list_dir,
    "search": _search,
    "write_file": _write_file,
    "edit_file": _edit_file,
    "run_command": _run_command,
    "share_note": _share_note,
    "finish": _finish,
}


def run_tool(ws: Workspace, name: str, args: ToolInput, time_left: float | None = None) -> ToolResult:
    """Run one tool call; refusals and failures come back as is_error results, never raised.
    `time_left` (seconds of the task's wall time) bounds run_command."""
    tool = _TOOLS.get(name)
    if tool is None:
        result = ToolResult(f"unknown tool {name!r}; use one of {', '.join(_TOOLS)}", True)
    else:
        try:
            result = tool(ws, args, time_left)
        except ToolError as exc:
            result = ToolResult(str(exc), is_error=True)
        except (OSError, UnicodeDecodeError) as exc:
            result = ToolResult(f"{name} failed: {exc}", is_error=True)
    return ToolResult(ws.secrets.redact(result.content), result.is_error, result.report)


# ---------------------------------------------------------------- schemas


def _inline_refs(schema: Any, defs: Mapping[str, Any]) -> Any:
    """The schema with `#/$defs/X` references replaced by the definitions themselves."""
    if isinstance(schema, dict):
        ref = schema.get("$ref", "")
        if ref.startswith("#/$defs/"):
            rest = {k: v for k, v in schema.items() if k != "$ref"}
            return {**_inline_refs(defs[ref.removeprefix("#/$defs/")], defs), **rest}
        return {k: _inline_refs(v, defs) for k, v in schema.items() if k != "$defs"}
    if isinstance(schema, list):
        return [_inline_refs(item, defs) for item in schema]
    return schema


def _object(properties: dict[str, Any], required: Sequence[str]) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": list(required)}


_PATH = {"type": "string", "description": "path relative to the worktree root"}
_REPORT_SCHEMA = Report.model_json_schema()

TOOL_SCHEMAS: tuple[dict[str, Any], ...] = (
    {
        "name": "read_file",
        "description": "Read a text file of the worktree, optionally a range of lines.",
        "input_schema": _object(
            {
                "path": _PATH,
                "offset": {"type": "integer", "description": "first line (1-based)"},
                "limit": {"type": "integer", "description": "how many lines"},
            },
            ["path"],
        ),
    },
    {
        "name": "list_dir",
        "description": "List a folder of the worktree (folders end in /, symlinks in @).",
        "input_schema": _object({"path": {**_PATH, "default": "."}}, []),
    },
    {
        "name": "search",
        "description": (
            f"Search text files for a Python regular expression; up to {MAX_SEARCH_MATCHES}"
            " matches as path:line: text."
        ),
        "input_schema": _object(
            {
                "pattern": {"type": "string"},
                "path": {**_PATH, "description": "folder or file to search (default: all)"},
                "glob": {"type": "string", "description": "only files matching, e.g. *.py"},
            },
            ["pattern"],
        ),
    },
    {
        "name": "write_file",
        "description": "Create or overwrite a file. Only paths inside the task's touches.",
        "input_schema": _object({"path": _PATH, "content": {"type": "string"}}, ["path", "content"]),
    },
    {
        "name": "edit_file",
        "description": (
            "Replace old_string with new_string in a file; old_string must occur exactly once."
            " Only paths inside the task's touches."
        ),
        "input_schema": _object(
            {"path": _PATH, "old_string": {"type": "string"}, "new_string": {"type": "string"}},
            ["path", "old_string", "new_string"],
        ),
    },
    {
        "name": "run_command",
        "description": (
            "Run a shell command (sh -c) in the worktree root; returns the exit code and the"
            " combined output (long output is cut in the middle). Commit with git here."
        ),
        "input_schema": _object(
            {"command": {"type": "string"}, "timeout_seconds": {"type": "number"}},
            ["command"],
        ),
    },
    {
        "name": "share_note",
        "description": "Add a note to the track's shared context, read by the other tasks.",
        "input_schema": _object({"note": {"type": "string"}}, ["note"]),
    },
    {
        "name": "finish",
        "description": (
            "End the task with your report: status, summary, files touched, and spawn"
            " candidates for work you found outside your touches."
        ),
        "input_schema": _inline_refs(_REPORT_SCHEMA, _REPORT_SCHEMA.get("$defs", {})),
    },
)
