"""plan.md in the Swarm-IOSM format, to a validated Plan and back.

A task is a checkbox line `- [ ] **T03**: title`; its fields are the bullet lines
`- **Name:** value` indented under it. A field's value continues over the following lines
indented at least as deep as its bold name (a multi-line Brief or Acceptance). Headings, prose,
tables and fenced code (found by `markdown`) are not tasks; a heading ends the task above it.
A field line under no task is an error before the first task or right after a task
(mis-indented), and prose in a section that follows a heading. Nothing is dropped silently: a
line that looks meant as a task or field but is not one is an error or a warning (`plan_fields`).

Contracts:
- `parse_plan` raises `InvalidInput` carrying every problem found, each with the plan's path,
  the 1-based line and what to do; it never returns a plan with duplicate ids, unknown deps,
  dependency cycles, bad values, or write tasks without touches.
- `parse_plan` refuses a plan over MAX_PLAN_TASKS tasks or MAX_PLAN_BYTES characters; its
  warnings (lines kept but not understood) are `Plan.warnings`.
- `parse_plan(render_task(t))` gives back `t` for any task the parser could have produced.
- `scan_plan` is the line-level outline the status renderer edits (it validates nothing).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from enum import Enum

from swarmgit.domain.digraph import cyclic_groups
from swarmgit.domain.markdown import Kind, heading, kinds
from swarmgit.domain.plan import ConcurrencyClass, Plan, Severity, Task, parse_effort
from swarmgit.domain.plan_fields import (
    FIELD_KEYS,
    ID_PATTERN,
    Note,
    field_key,
    heading_task,
    heading_task_id,
    malformed_task,
    stray_line,
    unknown_field,
)
from swarmgit.domain.touches import normalize_touch
from swarmgit.errors import Diagnostic, InvalidInput

HEADER_RE = re.compile(
    r"^(?P<indent>[ \t]*)[-*+][ \t]+\[(?P<mark>[ xX])\][ \t]+"
    rf"\*\*(?P<id>{ID_PATTERN}):?\*\*"
    r"[ \t]*[:\u2014\u2013-]?[ \t]*(?P<title>.*?)[ \t]*$"
)
FIELD_RE = re.compile(
    r"^(?P<indent>[ \t]*)[-*+][ \t]+\*\*(?P<name>[^*:\s][^*:]*?)[ \t]*(?::\*\*|\*\*[ \t]*:)"
    r"[ \t]*(?P<value>.*?)[ \t]*$"
)
_NONE_WORDS = frozenset({"", "none", "-", "\u2014", "\u2013", "n/a", "read-only", "readonly"})
_BOOLS = {"true": True, "yes": True, "false": False, "no": False}
# Touches items: a code span, a [bracketed note] (not glued to a path: `src/[ab].py` is a glob),
# a comma, or plain text.
_TOUCH_TOKEN_RE = re.compile(r"(`+)(.+?)(?<!`)\1(?!`)|(?<![^\s,])\[[^\]]*\]|,|[^,`\[]+|[`\[]", re.S)
_COMMENT_RE = re.compile(r"\([^)]*\)")  # "S (1 hour)", "T00 (if brownfield)"
_FIELD_INDENT = "  "
MAX_PLAN_TASKS = 5_000  # far beyond any plan a team reviews; keeps every command interactive
MAX_PLAN_BYTES = 4_000_000
BOM = "\ufeff"


@dataclass(frozen=True)
class FieldLine:
    """One `- **Name:** value` line, plus its continuation lines, under a task."""

    name: str  # as written
    key: str  # canonical key ("effort", "deps", ...) or "extra"
    line: int  # 1-based line of the bullet
    last_line: int  # last continuation line (== line when single-line)
    value: str


@dataclass(frozen=True)
class TaskBlock:
    """A task header line and the field lines that belong to it."""

    id: str
    title: str
    checked: bool
    line: int
    indent: int
    fields: tuple[FieldLine, ...] = ()


@dataclass(frozen=True)
class StrayField:
    """A field line under no task; `after` is the task it follows but is not indented under."""

    name: str
    line: int
    after: TaskBlock | None


@dataclass(frozen=True)
class PlanOutline:
    """A plan's task blocks, stray field lines, and notes on lines not understood."""

    blocks: tuple[TaskBlock, ...]
    stray: tuple[StrayField, ...]
    notes: tuple[Note, ...] = ()


def split_lines(text: str) -> list[str]:
    """The lines of text with their endings; splits on `\\n` only, so `"".join` gives text."""
    parts = text.split("\n")
    lines = [part + "\n" for part in parts[:-1]]
    return lines + [parts[-1]] if parts[-1] else lines


def line_content(line: str) -> str:
    """A line without its `\\n` or `\\r\\n` ending."""
    return line.removesuffix("\n").removesuffix("\r")


def _width(whitespace: str) -> int:
    return len(whitespace.expandtabs(4))


def _indent_of(content: str) -> int:
    return _width(content[: len(content) - len(content.lstrip(" \t"))])


def scan_plan(text: str) -> PlanOutline:
    """The task blocks and stray field lines of a plan, by line number (a leading BOM is
    skipped), and notes on the lines it does not understand."""
    return _Scanner([line_content(line) for line in split_lines(text.removeprefix(BOM))]).run()


class _Scanner:
    """One pass over a plan's lines for `scan_plan`; each method handles one kind of line."""

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        self.blocks: list[TaskBlock] = []
        self.stray: list[StrayField] = []
        self.notes: list[Note] = []
        self.current: TaskBlock | None = None
        self.fields: list[FieldLine] = []
        self.headed: list[tuple[int, str]] = []  # headings written like a task: (line, title)
        self.fields_under: set[int] = set()  # those of them with field lines in their section
        self.section: int | None = None  # the task-like heading whose section this is
        self.dropped = False  # after a task line that does not parse: its fields go with it

    def run(self) -> PlanOutline:
        marks = kinds(self.lines)
        i = 0
        while i < len(self.lines):
            content, kind = self.lines[i], marks[i]
            i += 1
            if kind is Kind.HEADING:
                self._heading(content, i)
            elif kind is not Kind.TEXT:
                continue  # fenced code is prose
            elif header := HEADER_RE.match(content):
                self._task(header, i)
            elif field := FIELD_RE.match(content):
                i = self._field(field, content, i)
            elif content.strip():
                self._other(content, i)
        self._close()
        self.notes += self._heading_tasks()
        return PlanOutline(tuple(self.blocks), tuple(self.stray), tuple(self.notes))

    def _heading_tasks(self) -> list[Note]:
        """Notes on headings written like a task: with fields under them always; without,
        when the id is shaped like the plan's own (`T9` beside `T01`, not `P0` beside it)."""
        ids = {block.id for block in self.blocks}
        prefixes = {_id_prefix(task_id) for task_id in ids}
        notes = []
        for line, title in self.headed:
            task_id = heading_task_id(title) or ""
            with_fields = line in self.fields_under
            if task_id not in ids and (with_fields or _id_prefix(task_id) in prefixes):
                notes.append(heading_task(title, line, with_fields))
        return notes

    def _close(self) -> None:
        if self.current is not None:
            self.blocks.append(replace(self.current, fields=tuple(self.fields)))
        self.current = None
        self.fields = []

    def _heading(self, content: str, line: int) -> None:
        self._close()
        self.dropped = False
        found = heading(content)
        self.section = line if found and heading_task_id(found.title) else None
        if found and self.section is not None:
            self.headed.append((line, found.title))

    def _task(self, header: re.Match[str], line: int) -> None:
        self._close()
        self.section, self.dropped = None, False
        checked = header["mark"] != " "
        self.current = TaskBlock(header["id"], header["title"], checked, line, _width(header["indent"]))

    def _field(self, field: re.Match[str], content: str, line: int) -> int:
        """Record a field line; returns the index after its continuation lines."""
        name = field["name"].strip()
        if self.current is None or _width(field["indent"]) <= self.current.indent:
            self._stray_field(name, line)
            return line
        end = _continuation_end(self.lines, line, _width(content[: field.start("name") - 2]))
        key = FIELD_KEYS.get(field_key(name), "extra")
        if key == "extra" and (note := unknown_field(name, line, self.current.id)) is not None:
            self.notes.append(note)
        if end > line:
            self._fields_within(name, line, end)
        value = _join_value(field["value"], self.lines[line:end])
        self.fields.append(FieldLine(name, key, line, end, value))
        return end

    def _fields_within(self, name: str, line: int, end: int) -> None:
        """Warn about known-field lines indented under field `name` (lines line+1..end), which
        read as part of its value; fenced code in the value is left alone."""
        assert self.current is not None
        values = self.lines[line:end]
        for offset, kind in enumerate(kinds([value.lstrip() for value in values])):
            inner = FIELD_RE.match(values[offset]) if kind is Kind.TEXT else None
            if inner and field_key(inner["name"]) in FIELD_KEYS:
                self.notes.append(
                    Note(
                        line + offset + 1,
                        f"{self.current.id}: this **{inner['name'].strip()}:** line is indented under "
                        f"**{name}:** (line {line}), so it is part of that value: if it is a field, "
                        "indent it like the task's other fields",
                        "warning",
                        self.current.id,
                    )
                )

    def _stray_field(self, name: str, line: int) -> None:
        """A field line under no task: an error before the first task or right after a task
        (mis-indented); in a section that follows a heading, prose unless it is a known field
        (a warning) or the heading looks like a task (reported with the heading)."""
        if self.current is None and self.dropped:
            return
        if self.current is None and self.section is not None:
            self.fields_under.add(self.section)
        elif self.current is not None or not self.blocks:
            self.stray.append(StrayField(name, line, self.current))
        elif field_key(name) in FIELD_KEYS:
            self.notes.append(
                Note(
                    line,
                    f"field **{name}:** is under no task (a heading ends "
                    "the task above it), so it is ignored",
                    "warning",
                )
            )

    def _other(self, content: str, line: int) -> None:
        """A line that is no task, field or heading: a task line that does not parse, or text
        after a task (see `plan_fields.stray_line`)."""
        note = malformed_task(content, line)
        if note is not None:
            self._close()
            self.dropped = True
        elif self.current is not None:
            inside = _indent_of(content) > self.current.indent
            note = stray_line(content, line, self.current.id, inside)
        if note is not None:
            self.notes.append(note)


def _id_prefix(task_id: str) -> str:
    return task_id.rstrip("0123456789_-").upper()


def _continuation_end(lines: Sequence[str], start: int, column: int) -> int:
    """Index after the last continuation line of a field whose bold name starts at `column`."""
    end = j = start
    while j < len(lines):
        content = lines[j]
        if content.strip():
            if HEADER_RE.match(content) or _indent_of(content) < column:
                break
            end = j + 1
        j += 1
    return end


def _join_value(first: str, more: Sequence[str]) -> str:
    if not more:
        return first
    expanded = [line.expandtabs(4).rstrip() for line in more]
    cut = min(_indent_of(line) for line in expanded if line)
    body = "\n".join(line[cut:] for line in expanded)
    return f"{first}\n{body}" if first else body


# --- from blocks to tasks -------------------------------------------------------------------

_Report = Callable[[FieldLine, str], None]


def parse_plan(text: str, path: str = "plan.md") -> Plan:
    """Parse and validate plan.md text. Raises InvalidInput listing every problem found (and
    the warnings); lines kept but not understood come back as `Plan.warnings`."""
    if len(text) > MAX_PLAN_BYTES:
        raise InvalidInput([too_large(path, f"{len(text)} characters")])
    outline = scan_plan(text)
    if len(outline.blocks) > MAX_PLAN_TASKS:
        raise InvalidInput([too_large(path, f"{len(outline.blocks)} tasks")])
    notes = [Diagnostic(path, n.line, n.message, n.level, n.task) for n in outline.notes]
    problems = [_stray_problem(path, stray) for stray in outline.stray]
    problems += [note for note in notes if note.level == "error"]
    tasks: list[Task] = []
    for block in outline.blocks:
        task, found = _task_from_block(block, path)
        tasks.append(task)
        problems.extend(found)
    deps_lines = [_deps_line(block) for block in outline.blocks]
    problems.extend(_graph_problems(tasks, deps_lines, path))
    warnings = tuple(note for note in notes if note.level == "warning")
    if problems:  # with the warnings, so one run of `plan check` shows everything
        raise InvalidInput(sorted([*problems, *warnings], key=lambda d: (d.line or 0, d.message)))
    return Plan(tasks=tuple(tasks), path=path, warnings=warnings)


def too_large(path: str, size: str) -> Diagnostic:
    """The error for a plan over MAX_PLAN_TASKS tasks or MAX_PLAN_BYTES (`size` says which)."""
    message = (
        f"the plan is too large ({size}); the limits are {MAX_PLAN_TASKS} tasks and "
        f"{MAX_PLAN_BYTES} bytes: split the work into several tracks"
    )
    return Diagnostic(path, None, message)


def _stray_problem(path: str, stray: StrayField) -> Diagnostic:
    if stray.after is None:
        where = "comes before any task"
        fix = "move it under a `- [ ] **T01**: title` line, or drop the bold label if it is prose"
    else:
        where = f"is not indented under task {stray.after.id} (line {stray.after.line})"
        fix = "indent it deeper than the task's `- [ ]` line"
    return Diagnostic(path, stray.line, f"field {stray.name!r} {where}: {fix}")


def _task_from_block(block: TaskBlock, path: str) -> tuple[Task, list[Diagnostic]]:
    """The task a block describes (defaults where a value is bad) and the problems found."""
    problems: list[Diagnostic] = []

    def report(field: FieldLine, message: str) -> None:
        problems.append(Diagnostic(path, field.line, f"{block.id}: {message}", task=block.id))

    values: dict[str, object] = {}
    extra: dict[str, str] = {}
    run: list[str] = []
    seen: dict[str, int] = {}
    touches_given = concurrency_bad = False
    for field in block.fields:
        slot = field.key if field.key != "extra" else f"extra:{field_key(field.name)}"
        if field.key != "run" and slot in seen:
            report(field, f"{field.name} is given twice (first on line {seen[slot]}): keep one")
            continue
        seen[slot] = field.line
        value = field.value.strip()
        if field.key == "extra":
            extra[field.name] = value
        elif field.key == "run":
            run.append(_run_command(field, value, report))
        elif field.key == "touches":
            touches_given = True
            values["touches"] = tuple(_normal_touches(field, value, report))
        elif field.key == "context":
            values["context"] = tuple(_normal_touches(field, value, report))
        else:
            parsed = _scalar(field, value, report)
            concurrency_bad = concurrency_bad or (parsed is None and field.key == "concurrency")
            if parsed is not None:
                values[_SLOTS.get(field.key, field.key)] = parsed
    if "concurrency" not in values and not concurrency_bad:
        read_only = touches_given and not values.get("touches")
        values["concurrency"] = ConcurrencyClass.READ_ONLY if read_only else ConcurrencyClass.WRITE_LOCAL
    if not concurrency_bad:
        problems.extend(
            Diagnostic(path, block.line, message, task=block.id)
            for message in _write_set_errors(block.id, values)
        )
    values.update(id=block.id, title=block.title, checked=block.checked, line=block.line, run=tuple(run))
    return Task.model_validate({**values, "extra": extra}), problems


_SLOTS = {"effort": "effort_minutes"}


def _scalar(field: FieldLine, value: str, report: _Report) -> object | None:
    """The typed value of a single-valued known field, or None (reported) when bad."""
    if field.key == "role":
        return value or "Implementer"
    if field.key == "deps":
        return tuple(_split_deps(value))
    if field.key == "severity":
        return _choice(field, value, Severity, report)
    if field.key == "concurrency":
        return _choice(field, value, ConcurrencyClass, report)
    if field.key == "needs_user_input":
        flag = _BOOLS.get(_unquote(value).strip().lower())
        if flag is None:
            report(field, f"bad {field.name} {value!r}: use true or false")
        return flag
    if field.key == "effort":
        try:
            return parse_effort(_COMMENT_RE.sub("", _unquote(value)))
        except ValueError as error:
            report(field, str(error))
            return None
    if field.key == "model":
        return _unquote(value).strip() or "auto"
    return value  # acceptance, brief


def _choice(field: FieldLine, value: str, enum: type[Enum], report: _Report) -> Enum | None:
    allowed = [str(member.value) for member in enum]
    chosen = _unquote(value).strip().lower()
    if chosen in allowed:
        return enum(chosen)
    report(field, f"bad {field.name} {value!r}: use one of {', '.join(allowed)}")
    return None


def _run_command(field: FieldLine, value: str, report: _Report) -> str:
    command = _unquote(value).strip()
    if not command:
        report(field, "Run is empty: give one shell command, like `- **Run:** make test`")
    elif _unclosed_code_span(value):
        report(
            field,
            f"Run {value!r} has a backtick that closes no code span, so the shell would "
            "run it as written: write the command as one code span, like `make test`",
        )
    return command


def _normal_touches(field: FieldLine, value: str, report: _Report) -> Iterator[str]:
    """The normalised paths of a Touches or Context field (the same syntax and checks)."""
    name, item = ("Touches", "touch") if field.key == "touches" else ("Context", "context path")
    if _unclosed_code_span(value):
        report(
            field,
            f"{name} {value!r} has a backtick that closes no code span: give each "
            "path its own, like `src/a.py`, `src/b.py`",
        )
        return
    seen: set[str] = set()
    for raw, quoted in _split_touches(value):
        if "," in raw:
            report(
                field,
                f"{item} {raw!r} holds a comma: give each path its own code span, like "
                "`src/a.py`, `src/b.py`",
            )
            continue
        if not quoted and len(raw.split()) > 1:
            report(
                field,
                f"{item} {raw!r} holds a space: separate paths with commas, like "
                "`src/a.py`, `src/b.py` (a path with a space goes in backticks)",
            )
            continue
        try:
            touch = normalize_touch(raw)
        except ValueError as error:
            hint = "" if "repo root" in str(error) else "; write paths from the repo root"
            report(field, f"{error}{hint}")
            continue
        if touch not in seen:
            seen.add(touch)
            yield touch


def _write_set_errors(task_id: str, values: dict[str, object]) -> list[str]:
    concurrency = values["concurrency"]
    has_touches = bool(values.get("touches"))
    if concurrency == ConcurrencyClass.READ_ONLY and has_touches:
        return [
            f"{task_id} is read-only but lists touches: a read-only task changes no files; "
            "remove its touches or set `- **Concurrency class:** write-local`"
        ]
    if concurrency != ConcurrencyClass.READ_ONLY and not has_touches:
        kind = ConcurrencyClass(concurrency).value
        return [
            f"{task_id} is {kind} but has no touches: list the paths it may change, like "
            "`- **Touches:** src/cache/`, or set `- **Concurrency class:** read-only`"
        ]
    return []


def _split_deps(value: str) -> list[str]:
    items = [_unquote(item.strip().strip("*").strip()) for item in re.split(r"[,;\n]", value)]
    cleaned = (_COMMENT_RE.sub("", item).strip() for item in items)
    return list(dict.fromkeys(i for i in cleaned if i.lower() not in _NONE_WORDS))


def _split_touches(value: str) -> list[tuple[str, bool]]:
    """Raw touch items, each with whether it was a code span: code spans win over prose;
    `[notes]` and a bare `read-only` drop out."""
    items: list[tuple[str, bool]] = []
    spans: list[str] = []
    prose = ""
    for token in _TOUCH_TOKEN_RE.finditer(value.replace("\n", ",") + ","):
        text = token.group()
        if text == ",":
            if spans:
                items += ((span, True) for span in spans)
            elif prose.strip().lower() not in _NONE_WORDS:
                items.append((prose.strip(), False))
            spans, prose = [], ""
        elif token.group(1):
            spans.append(_unquote(text))
        elif not (text.startswith("[") and text.endswith("]")):
            prose += text
    return items


def _unclosed_code_span(value: str) -> bool:
    """Whether a backtick run opens a code span that never closes (as in CommonMark, a run
    is closed by the next run of the same length)."""
    runs = [len(run) for run in re.findall(r"`+", value)]
    i = 0
    while i < len(runs):
        closing = next((j for j in range(i + 1, len(runs)) if runs[j] == runs[i]), None)
        if closing is None:
            return True
        i = closing + 1
    return False


def _unquote(value: str) -> str:
    """`value` without one surrounding markdown code span, whatever its backtick fence."""
    fence = len(value) - len(value.lstrip("`"))
    if not fence or len(value) <= 2 * fence or not value.endswith("`" * fence):
        return value
    inner = value[fence:-fence]
    runs = (len(run) for run in re.findall(r"`+", inner))
    if inner.startswith("`") or inner.endswith("`") or fence in runs:
        return value
    if len(inner) > 2 and inner.startswith(" ") and inner.endswith(" ") and inner.strip():
        return inner[1:-1]
    return inner


def _deps_line(block: TaskBlock) -> int:
    """The line to blame for a task's dependencies: its `Depends on:` line, else its header."""
    return next((f.line for f in block.fields if f.key == "deps"), block.line)


def _graph_problems(tasks: Sequence[Task], deps_lines: Sequence[int], path: str) -> list[Diagnostic]:
    """Duplicate ids, unknown deps and dependency cycles (each cycle once)."""
    problems: list[Diagnostic] = []
    first: dict[str, Task] = {}
    deps_line: dict[str, int] = {}
    for task, line in zip(tasks, deps_lines):
        deps_line.setdefault(task.id, line)
        if task.id in first:
            other = first[task.id].line
            message = f"duplicate task id {task.id} (also on line {other}): give each task its own id"
            problems.append(Diagnostic(path, task.line, message, task=task.id))
        else:
            first[task.id] = task
    for task, line in zip(tasks, deps_lines):
        for dep in task.deps:
            if dep not in first:
                message = (
                    f"{task.id} depends on {dep!r}, which is not a task in this plan: "
                    "fix the id or add the task"
                )
                problems.append(Diagnostic(path, line, message, task=task.id))
    graph = {tid: [d for d in task.deps if d in first] for tid, task in first.items()}
    for cycle in _cycles(graph):
        head = first[cycle[0]]
        message = (
            f"dependency cycle {' -> '.join([*cycle, cycle[0]])} (each depends on the next): "
            "remove one of these dependencies"
        )
        problems.append(Diagnostic(path, deps_line[head.id], message, task=head.id))
    return problems


def _cycles(graph: dict[str, list[str]]) -> list[list[str]]:
    """One shortest cycle through the first node of each dependency cycle group (Tarjan SCC).

    `graph` maps id -> deps in plan order; each cycle starts at its group's first task and
    follows "depends on" edges.
    """
    order = {node: n for n, node in enumerate(graph)}
    groups = cyclic_groups(graph)
    cycles = [_shortest_cycle(graph, group, min(group, key=order.__getitem__)) for group in groups]
    return sorted(cycles, key=lambda cycle: order[cycle[0]])


def _shortest_cycle(graph: dict[str, list[str]], group: frozenset[str], start: str) -> list[str]:
    parent: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following: list[str] = []
        for node in frontier:
            for dep in graph[node]:
                if dep == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(parent[path[-1]])
                    return path[::-1]
                if dep in group and dep not in parent:
                    parent[dep] = node
                    following.append(dep)
        frontier = following
    raise AssertionError(f"{start} is in a cycle group but on no cycle")


# --- rendering ------------------------------------------------------------------------------


def code(value: str) -> str:
    """A markdown code span holding exactly `value` (what `_unquote` reads back)."""
    longest = max((len(run) for run in re.findall(r"`+", value)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if value.startswith(("`", " ")) or value.endswith(("`", " ")) else ""
    return f"{fence}{pad}{value}{pad}{fence}"


def render_field(name: str, value: str, indent: str = _FIELD_INDENT) -> str:
    """`- **name:** value` lines (a multi-line value goes in an indented block below)."""
    if "\n" not in value:
        return f"{indent}- **{name}:** {value}".rstrip()
    body = "\n".join(f"{indent}  {line}".rstrip() for line in value.split("\n"))
    return f"{indent}- **{name}:**\n{body}"


def format_effort(minutes: int) -> str:
    """Minutes as effort text parse_effort reads back: `3h`, `90min`."""
    return f"{minutes // 60}h" if minutes % 60 == 0 else f"{minutes}min"


def render_task(task: Task) -> str:
    """The task as plan.md lines (ending in a newline); `parse_plan` reads back the same task."""
    fields = [
        ("Owner role", task.role),
        ("Depends on", ", ".join(task.deps) or "none"),
        ("Touches", ", ".join(code(t) for t in task.touches) or "read-only"),
        *([("Context", ", ".join(code(t) for t in task.context))] if task.context else []),
        ("Concurrency class", task.concurrency.value),
        ("Needs user input", "true" if task.needs_user_input else "false"),
        ("Effort", format_effort(task.effort_minutes)),
        ("Model", task.model),
        ("Severity", task.severity.value),
    ]
    if task.acceptance:
        fields.append(("Acceptance", task.acceptance))
    fields.extend(("Run", code(c) if "\n" not in c else c) for c in task.run)
    if task.brief:
        fields.append(("Brief", task.brief))
    fields.extend(task.extra.items())
    header = f"- [{'x' if task.checked else ' '}] **{task.id}**: {task.title}".rstrip()
    return "\n".join([header, *(render_field(name, value) for name, value in fields)]) + "\n"


def plan_text_for_tasks(tasks: Sequence[Task], heading: str | None = None) -> str:
    """A whole plan.md for tasks: an optional `# heading`, then each task, blank-line separated."""
    parts = [f"# {heading}\n"] if heading else []
    return "\n".join([*parts, *(render_task(task) for task in tasks)])
