"""The Swarm-IOSM agent report: a model, its markdown parser, and its renderer.

A report is markdown: a `Status:` line, a `## Summary` section, a `## Files Touched` section (list
items, or paths in a fenced block), and a `## SpawnCandidates` section holding a table with the
columns ID | Subtask | Touches | Effort | User Input | Severity | Dedup Key | Accept Criteria.

Reading never raises: anything malformed (an unknown status, a table without an ID column, a row
with a bad cell) becomes a warning Diagnostic naming the line, and the rest is kept, because the
task's work must never be lost over its report. In a table cell `\\|` is a literal `|`, as are pipes
inside a backtick span; a row with extra cells (an unescaped `a.py|intent` dedup key, the way
Swarm-IOSM writes them) gives the extra cells to the Dedup Key column. `render_report` writes what
`parse_report` reads back identically.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict, model_validator

from swarmgit.domain.markdown import Kind, heading, is_row, is_separator, kinds, split_row
from swarmgit.domain.plan import Severity
from swarmgit.errors import Diagnostic

ReportStatus = Literal["done", "failed", "blocked", "partial"]

_STATUS_WORDS: dict[str, ReportStatus] = {
    "done": "done",
    "complete": "done",
    "completed": "done",
    "success": "done",
    "failed": "failed",
    "failure": "failed",
    "error": "failed",
    "blocked": "blocked",
    "partial": "partial",
}
_TRUE = {"true", "yes", "y", "1"}
_FALSE = {"false", "no", "n", "0", ""}
_NO_TOUCHES = {"", "-", "—", "–", "none", "n/a", "read-only"}

# Header cell (lowercased, spaces/underscores/dashes removed) -> SpawnCandidate field.
_COLUMNS = {
    "id": "id",
    "subtask": "subtask",
    "touches": "touches",
    "effort": "effort",
    "userinput": "user_input",
    "needsuserinput": "user_input",
    "severity": "severity",
    "dedupkey": "dedup_key",
    "acceptcriteria": "accept",
    "accept": "accept",
    "acceptance": "accept",
}
TABLE_COLUMNS = (
    "ID",
    "Subtask",
    "Touches",
    "Effort",
    "User Input",
    "Severity",
    "Dedup Key",
    "Accept Criteria",
)

_STATUS_RE = re.compile(r"^\s*(?:[-*]\s+)?\**\s*status\s*(?::\s*\**|\**\s*:)\s*(.*)$", re.I)
_LIST_ITEM_RE = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+(?:\[[ xX]\]\s+)?(.*)$")
_BACKTICK_RE = re.compile(r"`([^`]+)`")


class SpawnCandidate(BaseModel):
    """A piece of work an agent found outside its task, proposed for the plan."""

    model_config = ConfigDict(frozen=True)

    id: str
    subtask: str
    touches: tuple[str, ...] = ()
    effort: str = "M"
    user_input: bool = False
    severity: Severity = Severity.MEDIUM
    dedup_key: str = ""  # empty: Swarm-IOSM's `<primary touch>|<intent>` made from the row
    accept: str = ""

    @model_validator(mode="before")
    @classmethod
    def _default_dedup_key(cls, data: object) -> object:
        if isinstance(data, dict) and not str(data.get("dedup_key") or "").strip():
            touches = list(data.get("touches") or ())
            intent = " ".join(str(data.get("subtask", "")).lower().split())
            data = {**data, "dedup_key": f"{touches[0] if touches else ''}|{intent}"}
        return data


class Report(BaseModel):
    """What an agent says it did. `files_touched` is what it claims, not what git shows."""

    model_config = ConfigDict(frozen=True)

    status: ReportStatus
    summary: str = ""
    files_touched: tuple[str, ...] = ()
    candidates: tuple[SpawnCandidate, ...] = ()


# ---------------------------------------------------------------- reading


def parse_report(text: str, path: str) -> tuple[Report, list[Diagnostic]]:
    """Read a report; never raises. Problems are warnings naming `path` and the line."""
    lines = text.splitlines()
    warnings: list[Diagnostic] = []
    status = _parse_status(lines, path, warnings)
    marks = kinds(lines)
    sections = _sections(lines, marks)
    summary = "\n".join(lines[slice(*sections.get("summary", (0, 0)))]).strip()
    files = _files_touched(lines, marks, *sections.get("files", (0, 0)))
    candidates = _candidates(lines, *sections.get("spawn", (0, 0)), path, warnings)
    report = Report(status=status, summary=summary, files_touched=files, candidates=candidates)
    return report, warnings


def _warn(path: str, index: int, message: str) -> Diagnostic:
    return Diagnostic(path, index + 1, message, level="warning")


def _parse_status(lines: Sequence[str], path: str, warnings: list[Diagnostic]) -> ReportStatus:
    for index, line in enumerate(lines):
        match = _STATUS_RE.match(line)
        if not match:
            continue
        words = re.findall(r"[a-z]+", match.group(1).lower())
        for word in words:
            if word in _STATUS_WORDS:
                return _STATUS_WORDS[word]
        warnings.append(
            _warn(
                path,
                index,
                f"unknown status {match.group(1).strip()!r}: use done, failed, blocked or partial;"
                " read as partial",
            )
        )
        return "partial"
    warnings.append(
        Diagnostic(
            path,
            None,
            "no 'Status:' line (done, failed, blocked or partial); read as partial",
            level="warning",
        )
    )
    return "partial"


def _sections(lines: Sequence[str], marks: Sequence[Kind]) -> dict[str, tuple[int, int]]:
    """Body line spans [start, end) of the summary, files and spawn sections (first of each).

    A section runs to the next heading of its own level or higher; headings inside fenced code
    blocks do not count.
    """
    found: dict[str, tuple[int, int]] = {}
    open_name: str | None = None
    open_level = 0
    start = 0
    for index, (line, kind) in enumerate(zip(lines, marks)):
        title = heading(line, index) if kind is Kind.HEADING else None
        if title is None:
            continue
        if open_name is not None and title.level <= open_level:
            found.setdefault(open_name, (start, index))
            open_name = None
        name = _section_name(title.title)
        if open_name is None and name is not None and name not in found:
            open_name, open_level, start = name, title.level, index + 1
    if open_name is not None:
        found.setdefault(open_name, (start, len(lines)))
    return found


def _section_name(title: str) -> str | None:
    key = re.sub(r"[^a-z]", "", title.lower())
    if key.startswith("summary"):
        return "summary"
    if key.startswith("filestouched") or key.startswith("fileschanged"):
        return "files"
    if key.startswith("spawncandidates"):
        return "spawn"
    return None


def _files_touched(lines: Sequence[str], marks: Sequence[Kind], start: int, end: int) -> tuple[str, ...]:
    """Paths from list items (the first backtick span, else a bare path before ` - `) and from
    fenced blocks (one path per line), in order, without repeats. A subsection about the
    *planned* touches (Swarm-IOSM copies the brief there) is not what was touched."""
    paths: list[str] = []
    planned = False
    for line, kind in zip(lines[start:end], marks[start:end]):
        if kind is Kind.FENCE:
            continue
        if kind is Kind.HEADING:
            planned = "planned" in line.lower()
            continue
        if planned:
            continue
        if kind is Kind.CODE:
            candidate = line.strip()
        elif match := _LIST_ITEM_RE.match(line):
            item = match.group(1).strip()
            ticked = _BACKTICK_RE.search(item)
            candidate = ticked.group(1).strip() if ticked else item.split(" - ")[0].strip()
        else:
            continue
        if _path_like(candidate) and candidate not in paths:
            paths.append(candidate)
    return tuple(paths)


def _path_like(text: str) -> bool:
    return bool(text) and not text.startswith("[") and not any(c.isspace() for c in text)


def _candidates(
    lines: Sequence[str], start: int, end: int, path: str, warnings: list[Diagnostic]
) -> tuple[SpawnCandidate, ...]:
    """The first table of the section; rows that do not read are skipped with a warning."""
    index = start
    while index < end and not is_row(lines[index]):
        index += 1
    if index == end:
        return ()
    header_index = index
    columns = [_COLUMNS.get(re.sub(r"[\s_\-]", "", c.lower())) for c in split_row(lines[index])]
    required = (("id", "ID"), ("subtask", "Subtask"))
    missing = [title for name, title in required if name not in columns]
    if missing:
        warnings.append(
            _warn(
                path,
                header_index,
                f"SpawnCandidates table has no {' or '.join(missing)} column;"
                f" expected columns: {' | '.join(TABLE_COLUMNS)}; table ignored",
            )
        )
        return ()
    index += 1
    if index < end and is_separator(lines[index]):
        index += 1
    found: list[SpawnCandidate] = []
    while index < end and is_row(lines[index]):
        cells = split_row(lines[index])
        try:
            found.append(_candidate(columns, cells))
        except ValueError as exc:
            warnings.append(_warn(path, index, f"SpawnCandidates row skipped: {exc}"))
        index += 1
    return tuple(found)


def _candidate(columns: Sequence[str | None], cells: list[str]) -> SpawnCandidate:
    extra = len(cells) - len(columns)
    if extra > 0 and "dedup_key" in columns:
        at = columns.index("dedup_key")
        cells = [*cells[:at], "|".join(cells[at : at + extra + 1]), *cells[at + extra + 1 :]]
    elif extra != 0:
        raise ValueError(f"it has {len(cells)} cells, the header has {len(columns)}")
    values = {name: cell for name, cell in zip(columns, cells) if name is not None}
    if not values["id"] or not values["subtask"]:
        raise ValueError("ID and Subtask must not be empty")
    user_input = values.get("user_input", "").strip().lower()
    if user_input not in _TRUE | _FALSE:
        raise ValueError(f"User Input {values['user_input']!r} is not true or false")
    severity = values.get("severity", "").strip().lower() or Severity.MEDIUM.value
    if severity not in {s.value for s in Severity}:
        raise ValueError(f"Severity {values['severity']!r} is not one of low, medium, high, critical")
    touches = _touches_cell(values.get("touches", ""))
    return SpawnCandidate(
        id=values["id"],
        subtask=values["subtask"],
        touches=touches,
        effort=values.get("effort", "") or "M",
        user_input=user_input in _TRUE,
        severity=Severity(severity),
        dedup_key=_unticked(values.get("dedup_key", "")),
        accept=values.get("accept", ""),
    )


def _touches_cell(cell: str) -> tuple[str, ...]:
    if cell.strip().lower() in _NO_TOUCHES:
        return ()
    ticked = _BACKTICK_RE.findall(cell)
    items = ticked if ticked else cell.split(",")
    return tuple(item.strip() for item in items if item.strip())


def _unticked(cell: str) -> str:
    text = cell.strip()
    if len(text) > 1 and text.startswith("`") and text.endswith("`"):
        return text[1:-1].strip()
    return text


# ---------------------------------------------------------------- writing


def render_report(report: Report) -> str:
    """Markdown that `parse_report` reads back to an equal Report.

    Cells are written on one line (newlines become spaces) with `|` escaped as `\\|`.
    """
    out = [f"**Status:** {report.status}", "", "## Summary", ""]
    if report.summary:
        out += [report.summary, ""]
    out += ["## Files Touched", ""]
    out += [f"- `{path}`" for path in report.files_touched] or ["None."]
    out += ["", "## SpawnCandidates", ""]
    if report.candidates:
        out.append(_row(TABLE_COLUMNS))
        out.append("|" + "|".join("---" for _ in TABLE_COLUMNS) + "|")
        out += [_row(_cells(c)) for c in report.candidates]
    else:
        out.append("None identified.")
    return "\n".join(out) + "\n"


def _cells(candidate: SpawnCandidate) -> tuple[str, ...]:
    return (
        candidate.id,
        candidate.subtask,
        ", ".join(f"`{t}`" for t in candidate.touches) or "read-only",
        candidate.effort,
        "true" if candidate.user_input else "false",
        candidate.severity.value,
        candidate.dedup_key,
        candidate.accept,
    )


def _row(cells: Sequence[str]) -> str:
    escaped = (" ".join(c.splitlines()).strip().replace("|", "\\|") for c in cells)
    return "| " + " | ".join(escaped) + " |"


def report_from_commits(task_id: str, files: Sequence[str], messages: Sequence[str]) -> Report:
    """The report of an agent that wrote none: what its commits (`messages`, one per real
    commit of the task) show, no candidates; it never claims a commit that was not made."""
    subjects = [m.strip().splitlines()[0] if m.strip() else "(no message)" for m in messages]
    made = f"made from its {len(subjects)} commit(s)." if subjects else "it made no commits."
    summary = f"{task_id} wrote no report; {made}"
    if subjects:
        summary += "\n\n" + "\n".join(f"- {s}" for s in subjects)
    return Report(status="done", summary=summary, files_touched=tuple(dict.fromkeys(files)))
