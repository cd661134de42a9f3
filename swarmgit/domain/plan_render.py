"""Writing run state back into plan.md without disturbing anything else in the file.

plan.md is a view of the run state the user also edits by hand, so every write is surgical:
`render_status` changes only the checkbox character and the `Status:` value of the tasks it is
given (or inserts one `Status:` line), and `append_tasks` only adds text at the end. Every other
byte (line endings, trailing whitespace, prose, other tasks) stays identical.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from swarmgit.domain.plan import Status, Task
from swarmgit.domain.plan_parser import (
    BOM,
    FIELD_RE,
    HEADER_RE,
    TaskBlock,
    line_content,
    render_field,
    render_task,
    scan_plan,
    split_lines,
)

SPAWNED_HEADING = "## Spawned tasks"


def render_status(text: str, statuses: Mapping[str, Status]) -> str:
    """Text with each named task's checkbox (`[x]` iff done) and `Status:` field set.

    A task without a `Status:` field gets one after its last field line. Ids not in the text
    are ignored (append spawned tasks first). Idempotent. A leading BOM is kept.
    """
    if text.startswith(BOM):
        return BOM + render_status(text.removeprefix(BOM), statuses)
    lines = split_lines(text)
    replaced: dict[int, str] = {}
    inserted: dict[int, str] = {}
    dropped: set[int] = set()
    for block in scan_plan(text).blocks:
        status = statuses.get(block.id)
        if status is None:
            continue
        head = block.line - 1
        replaced[head] = _with_checkbox(lines[head], status is Status.DONE)
        field = next((f for f in block.fields if f.name.lower() == "status"), None)
        if field is not None:
            replaced[field.line - 1] = _with_value(lines[field.line - 1], status)
            dropped.update(range(field.line, field.last_line))
        else:
            after = block.fields[-1].last_line - 1 if block.fields else head
            inserted[after] = _status_line(lines, block, status)
    out: list[str] = []
    for index, line in enumerate(lines):
        if index in dropped:
            continue
        line = replaced.get(index, line)
        if index in inserted:
            if line.endswith("\n"):
                line += inserted[index] + _ending(line)
            else:  # the file's last line had no ending: neither will the new last line
                line += _last_ending(lines) + inserted[index]
        out.append(line)
    return "".join(out)


class StatusLines:
    """plan.md as index-stable lines, remembering where each task's checkbox and one-line
    `Status:` field are (after `render_status`, every task it was given has one). `update`
    then sets statuses in O(changed tasks) instead of rescanning the plan; the result is what
    `render_status` gives on the same text."""

    def __init__(self, text: str) -> None:
        self._bom = BOM if text.startswith(BOM) else ""
        body = text.removeprefix(BOM)
        self._lines = split_lines(body)
        self._where: dict[str, tuple[int, int]] = {}
        for block in scan_plan(body).blocks:
            field = next((f for f in block.fields if f.name.lower() == "status"), None)
            if field is not None and field.last_line == field.line:
                self._where[block.id] = (block.line - 1, field.line - 1)

    def update(self, statuses: Mapping[str, Status]) -> str | None:
        """The text with these statuses set; None (nothing changed) when one of the tasks has
        no one-line `Status:` field here: use `render_status` then."""
        if any(task not in self._where for task in statuses):
            return None
        for task, status in statuses.items():
            head, field = self._where[task]
            self._lines[head] = _with_checkbox(self._lines[head], status is Status.DONE)
            self._lines[field] = _with_value(self._lines[field], status)
        return self._bom + "".join(self._lines)


def append_tasks(text: str, tasks: Sequence[Task]) -> str:
    """Text with the tasks rendered at its end, under a `## Spawned tasks` heading made once."""
    if not tasks:
        return text
    lines = split_lines(text)
    ending = _last_ending(lines)
    out = text if not text or text.endswith("\n") else text + ending
    if not any(line_content(line).strip() == SPAWNED_HEADING for line in lines):
        gap = ending if out and not out.endswith(ending * 2) else ""
        out += f"{gap}{SPAWNED_HEADING}{ending}"
    for task in tasks:
        out += ending + render_task(task).replace("\n", ending)
    return out


def _ending(line: str) -> str:
    return "\r\n" if line.endswith("\r\n") else "\n"


def _last_ending(lines: Sequence[str]) -> str:
    """The ending of the last line that has one (`\n` for a one-line or empty file)."""
    terminated = [line for line in lines[-2:] if line.endswith("\n")]
    return _ending(terminated[-1]) if terminated else "\n"


def _with_checkbox(line: str, done: bool) -> str:
    header = HEADER_RE.match(line_content(line))
    assert header is not None, "scan_plan found a header here"
    mark = header.start("mark")
    if (line[mark] != " ") == done:
        return line  # keep `X` versus `x` as the user wrote it
    return line[:mark] + ("x" if done else " ") + line[mark + 1 :]


def _with_value(line: str, status: Status) -> str:
    field = FIELD_RE.match(line_content(line))
    assert field is not None, "scan_plan found a field here"
    old = field["value"]
    if old.lower() == status.value:
        return line
    new = status.value.upper() if old.isupper() else status.value
    start = field.start("value")
    gap = "" if line[start - 1] in " \t" else " "  # `**Status:**` with no value yet
    return line[:start] + gap + new + line[field.end("value") :]


def _status_line(lines: Sequence[str], block: TaskBlock, status: Status) -> str:
    """A `- **Status:**` line (no ending) shaped like the task's last field line."""
    head = line_content(lines[block.line - 1])
    if block.fields:
        last = line_content(lines[block.fields[-1].line - 1])  # after it: never its continuation
        field = FIELD_RE.match(last)
        assert field is not None, "scan_plan found a field here"
        prefix = last[: field.start("name") - 2]
    else:
        prefix = head[: len(head) - len(head.lstrip(" \t"))] + "  - "
    line = render_field("Status", status.value, indent="")
    return prefix + line.removeprefix("- ")
