"""The edit-time scope check: whether an agent's tool call writes outside its task's scope.

`scope_refusal` judges Write / Edit / MultiEdit / NotebookEdit by their path and Bash by the
paths its command line visibly writes (`bash_write_targets`). Allowed besides the touches: the
task's scratch folders (HOME, TMPDIR), named files (the report) and /dev/*. The Bash check is a
heuristic over the command text: redirections (`>`, `>>`, `&>`), `tee`, `cp`/`mv`/`install`/
`ln`/`rsync` destinations, `rm`/`rmdir`/`touch`/`mkdir`/`truncate`/`unlink`/`shred` operands,
`sed -i` files and `dd of=`, following a literal `cd`. It cannot see writes made by programs the
command runs (a script, `python -c`, `make`), through variables, globs or command substitution,
or after a `cd` to a computed folder; those are caught at commit time by the pre-commit hook and
at integration by the diff check. Reads are not confined.

Used by the claude-code backend's PreToolUse hook and by `scope_hook` (the same check as a
command, for CLI agents' hooks).
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from swarmgit.backends.agent_tools import ToolError, check_write, resolve_path
from swarmgit.backends.base import AgentJob

_FILE_TOOLS = {
    "Write": "file_path",
    "Edit": "file_path",
    "MultiEdit": "file_path",
    "NotebookEdit": "notebook_path",
}
_SEPARATORS = {";", "&&", "||", "|", "&", "(", ")", "\n", "|&", ";;"}
_REDIRECTS = {">", ">>", "&>", "&>>", ">|", ">&"}
_INPUTS = {"<", "<<", "<<<", "<&", "<<-"}
_DEST_LAST = {"cp", "mv", "install", "ln", "rsync"}
_ALL_OPERANDS = {"rm", "rmdir", "touch", "mkdir", "truncate", "unlink", "shred", "tee"}
_PREFIXES = {"sudo", "env", "command", "nice", "nohup", "time", "exec"}
_UNKNOWABLE = set("$`*?[{~")


@dataclass(frozen=True)
class Scope:
    """What one task may write: its touches inside `root`, plus scratch folders and files."""

    root: Path
    touches: tuple[str, ...]
    cwd: Path
    scratch: tuple[Path, ...] = ()
    files: tuple[Path, ...] = ()


def named_files(job: AgentJob) -> tuple[Path, ...]:
    """The files a task's agent may write besides its touches and scratch folders (`Scope.files`):
    its report and its own copy of the shared context (SWARM_SHARED_CONTEXT), resolved."""
    return tuple(Path(p).resolve() for p in (job.report_file, job.env.get("SWARM_SHARED_CONTEXT")) if p)


def scope_refusal(tool: str, tool_input: Mapping[str, Any], scope: Scope) -> str | None:
    """Why this tool call would write outside the scope, or None when it may run."""
    if tool in _FILE_TOOLS:
        path = tool_input.get(_FILE_TOOLS[tool])
        return _path_refusal(path, scope) if isinstance(path, str) else None
    if tool == "Bash":
        command = tool_input.get("command")
        if not isinstance(command, str):
            return None
        for target in bash_write_targets(command):
            if reason := _path_refusal(target, scope):
                return f"this command writes {target}: {reason}"
    return None


def _path_refusal(path: str, scope: Scope) -> str | None:
    if path.startswith("/dev/"):
        return None
    target = Path(scope.cwd, path).resolve()
    if target in scope.files or any(target.is_relative_to(d) for d in scope.scratch):
        return None
    try:
        check_write(scope.root, scope.touches, resolve_path(scope.root, path, scope.cwd))
    except ToolError as exc:
        return str(exc)
    return None


def bash_write_targets(command: str) -> list[str]:
    """Paths a shell command line visibly writes, relative to where it starts (a literal `cd`
    is followed). See the module docstring for the limits. Targets with expansions (`$`, globs,
    `~`) are skipped, and so is all that follows a `cd` to a computed folder."""
    lexer = shlex.shlex(command, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    try:
        tokens = list(lexer)
    except ValueError:  # unbalanced quotes: the shell would refuse it too
        return []
    targets: list[str] = []
    folder = ""
    for words, redirected in _simple_commands(tokens):
        if words[:1] == ["cd"]:
            destination = words[1] if len(words) > 1 else "~"
            if destination == "-" or _UNKNOWABLE & set(destination):
                break
            folder = os.path.join(folder, destination)
            continue
        for target in [*redirected, *_command_targets(words)]:
            if target and not _UNKNOWABLE & set(target):
                targets.append(os.path.join(folder, target))
    return targets


def _simple_commands(tokens: Sequence[str]) -> Iterator[tuple[list[str], list[str]]]:
    """(words, output redirection targets) of each simple command, in order."""
    words: list[str] = []
    redirected: list[str] = []
    for index, token in enumerate(tokens):
        if token in _SEPARATORS:
            yield words, redirected
            words, redirected = [], []
        elif token in _REDIRECTS:
            following = tokens[index + 1] if index + 1 < len(tokens) else ""
            if not (token == ">&" and following.isdigit()):
                redirected.append(following)
            if words and words[-1].isdigit():  # the fd of `2>`: shlex splits it off
                words.pop()
        elif token in _INPUTS or (index and tokens[index - 1] in _REDIRECTS | _INPUTS):
            continue
        else:
            words.append(token)
    yield words, redirected


def _command_targets(words: Sequence[str]) -> list[str]:
    """Write targets of one simple command (its words, redirections already removed)."""
    while words and ("=" in words[0] and not words[0].startswith("=") or words[0] in _PREFIXES):
        words = words[1:]
    if not words:
        return []
    name, args = os.path.basename(words[0]), list(words[1:])
    operands = [a for a in args if not a.startswith("-")]
    if name in _DEST_LAST:
        return operands[-1:] if len(operands) >= 2 else []
    if name in _ALL_OPERANDS:
        return operands
    if name == "sed" and any(a.startswith("-i") or a.startswith("--in-place") for a in args):
        return operands[1:]
    if name == "dd":
        return [a[3:] for a in args if a.startswith("of=")]
    return []
