"""The plan format's vocabulary, and what to say about a line that almost follows it.

The parser reads `- **Name:** value` fields under `- [ ] **T01**: title` lines; everything else it
would skip. So that nothing is skipped silently, `plan_parser.scan_plan` asks this module about
each line it does not understand and records a `Note`:
- an error when running on would do something the user did not write: a near miss of a known
  field (`**Depend on:**`, `**Blocked by:**`, `- Touches: a.py`, `**Depends on** T01`: the
  dependency or touch would be lost), a task line that does not parse (`- [ ] **T0`, `- [ ] T02: title`), a
  heading written as a task (`### T02: title`) with fields under it;
- a warning for text that is kept or harmless but not understood: an unknown field (kept in
  `Task.extra`), a line inside a task's block that is not a field, a heading that looks like a
  task with no fields under it.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

FIELD_KEYS = {
    "owner role": "role", "owner": "role", "role": "role",
    "depends on": "deps", "dependencies": "deps", "deps": "deps",
    "touches": "touches",
    "context": "context",
    "concurrency class": "concurrency", "concurrency": "concurrency",
    "needs user input": "needs_user_input", "user input": "needs_user_input",
    "effort": "effort",
    "model": "model",
    "severity": "severity",
    "acceptance": "acceptance", "acceptance criteria": "acceptance",
    "run": "run",
    "brief": "brief",
}  # fmt: skip
FIELD_NAMES = {
    "role": "Owner role", "deps": "Depends on", "touches": "Touches", "context": "Context",
    "concurrency": "Concurrency class", "needs_user_input": "Needs user input",
    "effort": "Effort", "model": "Model", "severity": "Severity", "acceptance": "Acceptance",
    "run": "Run", "brief": "Brief",
}  # fmt: skip
# Fields swarmgit itself writes into plan.md beside the known ones: kept without a warning.
WRITTEN_EXTRAS = frozenset({"status", "dedup key"})
# Other words for the two fields whose loss changes what runs (order and locks): an error.
_SYNONYMS = {
    "blocked by": "deps", "requires": "deps", "prerequisites": "deps", "after": "deps",
    "files": "touches", "paths": "touches", "writes": "touches", "write set": "touches",
}  # fmt: skip
_DISTINCT = frozenset({"dependents", "content"})  # close in spelling, not in meaning

ID_PATTERN = r"[A-Za-z][A-Za-z_]*-?\d[A-Za-z0-9_-]*"
_SIMILAR = 0.75  # difflib ratio from which an unknown field name is taken for a known one
_CHECKBOX_RE = re.compile(r"^[ \t]*(?:[-*+]|\d+[.)])[ \t]*\[[ \t]*[xX]?[ \t]*\][ \t]*(?P<rest>.*)$")
_ID_TITLE_RE = re.compile(
    rf"^(?:\*\*|__)?(?P<id>{ID_PATTERN})(?:\*\*|__)?[ \t]*(?:[:\u2014\u2013]|-[ \t]|$)[ \t]*"
    r"(?P<title>.*)$"
)
_BULLET_RE = re.compile(r"^[ \t]*[-*+]?[ \t]*")
_LABEL_COLON_RE = re.compile(r"^[*_]{0,3}[ \t]*(?P<name>[A-Za-z][A-Za-z _-]{0,39}?)[ \t]*[*_]{0,3}[ \t]*:")
_LABEL_BOLD_RE = re.compile(r"^[*_]{1,3}[ \t]*(?P<name>[A-Za-z][A-Za-z _-]{0,39}?)[ \t]*[*_]{1,3}")
_FORMAT = "fields are written `- **Name:** value`, indented under their task"


@dataclass(frozen=True)
class Note:
    """Something said about one plan line: an error or a warning, with what to do."""

    line: int
    message: str
    level: str = "error"
    task: str | None = None


def field_key(name: str) -> str:
    """A field name as compared: lower case, `_` as a space, single spaces."""
    return " ".join(name.replace("_", " ").lower().split())


def near_miss(name: str) -> str | None:
    """The known field an unknown name most likely means (`Depend on` -> `Depends on`)."""
    key = field_key(name)
    if key in _SYNONYMS:
        return FIELD_NAMES[_SYNONYMS[key]]
    if key in _DISTINCT:
        return None
    squashed = re.sub(r"[^a-z]", "", key)
    for known, slot in FIELD_KEYS.items():
        if squashed == known.replace(" ", ""):
            return FIELD_NAMES[slot]
    close = difflib.get_close_matches(key, FIELD_KEYS, n=1, cutoff=_SIMILAR)
    return FIELD_NAMES[FIELD_KEYS[close[0]]] if close else None


def unknown_field(name: str, line: int, task: str) -> Note | None:
    """The note for a well-formed field line whose name is not a known field (None: known)."""
    key = field_key(name)
    if key in FIELD_KEYS or key in WRITTEN_EXTRAS:
        return None
    guess = near_miss(name)
    if guess is not None:
        message = f"{task}: unknown field **{name}:** would be ignored: did you mean **{guess}:**?"
        return Note(line, message, task=task)
    message = (
        f"{task}: unknown field **{name}:** is kept but swarmgit does not use it (known: "
        f"{', '.join(FIELD_NAMES.values())})"
    )
    return Note(line, message, "warning", task)


def malformed_task(content: str, line: int) -> Note | None:
    """An error for a checkbox line meant as a task that does not parse (`- [ ] **T0`)."""
    box = _CHECKBOX_RE.match(content)
    if box is None:
        return None
    rest = box["rest"].strip()
    written = _ID_TITLE_RE.match(rest)
    if rest.startswith(("**", "__")) and rest.count(rest[:2]) < 2:
        fix = "the line is cut off (no closing `**`): finish it like `- [ ] **T01**: title`"
    elif written is not None:
        fix = f"did you mean {_task_line(written)}?"
    elif rest.startswith(("**", "__")):
        fix = "write `- [ ] **T01**: title` (the id in bold, then a colon and the title)"
    else:
        return None
    return Note(line, f"task line does not parse, so the task would be dropped: {fix}")


def stray_line(content: str, line: int, task: str, inside: bool) -> Note | None:
    """The note for a non-blank line after task `task` that is neither a task nor a field.

    `inside`: the line is indented under the task (part of its block). A line that looks like
    a field (a known name or a near miss, with a colon or in bold) is an error wherever it is;
    other text inside the block is a warning; other text outside it is prose (None).
    """
    text = _BULLET_RE.sub("", content, count=1)
    label = _LABEL_COLON_RE.match(text) or _LABEL_BOLD_RE.match(text)
    if label is not None:
        name = label["name"]
        known = FIELD_KEYS.get(field_key(name))
        guess = FIELD_NAMES[known] if known else near_miss(name)
        if guess is not None:
            message = (
                f"{task}: this line looks like the **{guess}:** field but is not written "
                f"as one, so it would be ignored: write `- **{guess}:** value`"
            )
            return Note(line, message, task=task)
    if _CHECKBOX_RE.match(content) and not inside:
        return Note(
            line,
            "checkbox line is not a task and is ignored: tasks are written `- [ ] **T01**: title`",
            "warning",
            task,
        )
    if inside:
        return Note(line, f"{task}: this line is not a field and is ignored: {_FORMAT}", "warning", task)
    return None


def heading_task_id(title: str) -> str | None:
    """The task id a heading is written like (`T02: title`, `**T02** - title`), or None."""
    written = _ID_TITLE_RE.match(title)
    return written["id"] if written else None


def heading_task(title: str, line: int, with_fields: bool) -> Note:
    """The note for a heading written like a task (`### T02: title`): an error when fields
    follow it (they belong to no task), else a warning."""
    written = _ID_TITLE_RE.match(title)
    assert written is not None, "heading_task_id found an id"
    fix = _task_line(written)
    if with_fields:
        return Note(
            line,
            f"heading looks like task {written['id']} but tasks are checkbox lines, "
            f"so it and its fields would be dropped: write {fix}",
        )
    return Note(
        line,
        f"heading looks like task {written['id']}, which is not a task: if it is one, write {fix}",
        "warning",
    )


def _task_line(written: re.Match[str]) -> str:
    return "`" + f"- [ ] **{written['id']}**: {written['title']}".rstrip() + "`"
