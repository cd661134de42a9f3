"""A task with touches whose attempt changed nothing is not done: why did its agent do nothing?

The diagnosis is drawn from what the agent left: the outcome's notes, the tool calls its CLI
says were refused (Claude Code's `result` event lists them under `permission_denials`), the
error lines the CLI printed, and the last lines of this attempt's part of the task log.
Everything here is agent output: it is quoted, cut to length, never acted on.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from pathlib import Path

from swarmgit.backends.base import AgentOutcome
from swarmgit.backends.clis.base import json_event
from swarmgit.domain.plan import Task

TAIL_LINES = 15
MAX_FINDINGS = 10
LINE_WIDTH = 240
_ERROR_RE = re.compile(
    r"\b(error|errors|fatal|failed|failure|denied|refused|not permitted|permission|exception|"
    r"traceback|unauthori[sz]ed|forbidden)\b",
    re.I,
)
_TARGET_KEYS = ("file_path", "path", "notebook_path", "command", "pattern", "url")


def log_size(path: Path) -> int:
    """Where the next attempt's output will start in the task log (0 when there is none)."""
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def attempt_log(path: Path, offset: int) -> list[str]:
    """This attempt's lines of the task log (the log keeps every attempt, appended)."""
    try:
        with path.open("rb") as log:
            log.seek(offset)
            data = log.read()
    except FileNotFoundError:
        return []
    return data.decode("utf-8", errors="replace").splitlines()


def no_change_diagnosis(task: Task, outcome: AgentOutcome, lines: Sequence[str], log_name: str) -> str:
    """Why a task with touches is failed although its agent ended well: nothing changed."""
    parts = [
        f"no change: {task.id} may change {', '.join(task.touches)}, but its attempt ended "
        "with the tree it started from; nothing to integrate"
    ]
    denials = permission_denials(lines)
    if denials:
        parts.append("its agent was refused:\n" + _listing(denials))
    errors = error_lines(lines)
    if errors:
        parts.append("errors the agent printed:\n" + _listing(errors))
    notes = [n for n in (outcome.diagnosis, *outcome.notes) if n.strip()]
    if notes:
        parts.append("notes:\n" + _listing(notes))
    tail = [_cut(line) for line in lines if line.strip()][-TAIL_LINES:]
    parts.append(
        f"last lines of {log_name}:\n" + _listing(tail)
        if tail
        else f"{log_name} holds no output for this attempt"
    )
    return "\n".join(parts)


def permission_denials(lines: Iterable[str]) -> list[str]:
    """Refused tool calls a CLI listed in its JSON events (`permission_denials`), e.g.
    `Write src/a.py`, in order, without repeats."""
    found: list[str] = []
    for event in _json_events(lines):
        denials = event.get("permission_denials")
        for denial in denials if isinstance(denials, list) else []:
            if isinstance(denial, dict):
                found.append(_describe_denial(denial))
    return list(dict.fromkeys(found))[-MAX_FINDINGS:]


def error_lines(lines: Iterable[str]) -> list[str]:
    """The CLI's own error reports: JSON error events and failed results, and plain lines that
    say error, denied, refused, … (not the `$ command` lines the log opens each run with)."""
    found: list[str] = []
    for line in lines:
        text = line.strip()
        if not text or text.startswith("$ "):
            continue
        event = json_event(text)
        if event is None:
            if _ERROR_RE.search(text):
                found.append(_cut(text))
        elif message := _event_error(event):
            found.append(_cut(message))
    return list(dict.fromkeys(found))[-MAX_FINDINGS:]


def _event_error(event: dict[str, object]) -> str:
    kind = str(event.get("type") or "")
    if kind == "result" and (event.get("is_error") or event.get("subtype") not in (None, "success")):
        return f"{event.get('subtype') or 'error'}: {event.get('result') or ''}".strip(": ")
    if kind in ("error", "turn.failed"):
        error = event.get("error")
        message = error.get("message") if isinstance(error, dict) else event.get("message")
        return f"{kind}: {message or ''}".strip(": ")
    return ""


def _describe_denial(denial: dict[str, object]) -> str:
    tool = str(denial.get("tool_name") or "a tool")
    arguments = denial.get("tool_input")
    target = next(
        (str(arguments[k]) for k in _TARGET_KEYS if isinstance(arguments, dict) and arguments.get(k)), ""
    )
    return _cut(f"{tool} {target}".strip())


def _json_events(lines: Iterable[str]) -> Iterable[dict[str, object]]:
    for line in lines:
        event = json_event(line)
        if event is not None:
            yield event


def _cut(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= LINE_WIDTH else text[: LINE_WIDTH - 1] + "…"


def _listing(items: Sequence[str]) -> str:
    return "\n".join(f"  {item}" for item in items)
