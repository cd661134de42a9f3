"""What a CLI preset is: how to run one agent CLI headless and how to read its output.

A template uses the placeholders of `agent.command` ({brief_file}, {task}, {worktree}, {model},
{budget}); `{model}` is the task's model id in the CLI's own spelling (`Preset.spell`, or the
`[agent.cli_models.<preset>]` map). `test_args` is appended when `gates.test_command` is set, with
{test_command} substituted; a CLI without such an option gets it in its prompt (`prompt_file`).
`prepare` writes per-task files (settings, a prompt) and adds their placeholders. The preset's
`env` overrides the user's. Usage is always recorded under the task's model id (the name
`[pricing]` knows it by), whatever the CLI calls it; a cost the CLI prints is kept in
`Usage.cost_usd` for comparison.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Protocol

from swarmgit.backends.base import AgentJob, Usage
from swarmgit.fsutil import write_atomic


class OutputParser(Protocol):
    """Reads one run's output line by line."""

    error: str
    """What the CLI itself reported as failure (empty when nothing was)."""

    def feed(self, line: str) -> bool:
        """Take one output line; True when it carries the CLI's final result."""
        ...

    def usage(self) -> tuple[Usage, ...]:
        """The usage read so far, under the task's model id."""
        ...

    def remarks(self) -> tuple[str, ...]:
        """Lines worth a diagnosis: the CLI's own error lines, the permissions it denied."""
        ...


MAX_REMARKS = 10


class JsonEventParser:
    """What the JSON-event parsers share: the task's model id, the usage read so far, the CLI's
    remarks (at most MAX_REMARKS: the first ones, or the newest with `keep_latest`), each shown
    behind `label`, and the error the CLI reported. Subclasses define `feed`."""

    label = ""
    keep_latest = False

    def __init__(self, model: str) -> None:
        self._model = model
        self._usage: list[Usage] = []
        self._remarks: list[str] = []
        self.error = ""

    def usage(self) -> tuple[Usage, ...]:
        return tuple(self._usage)

    def remarks(self) -> tuple[str, ...]:
        return tuple(f"{self.label}{text}" for text in self._remarks)

    def _remark(self, text: str) -> None:
        if len(self._remarks) >= MAX_REMARKS:
            if not self.keep_latest:
                return
            del self._remarks[0]
        self._remarks.append(text)


ParserFactory = Callable[[str], OutputParser]
"""Makes a fresh parser for one run, given the task's model id."""

Prepare = Callable[[AgentJob], Mapping[str, str]]
"""Writes what one run needs (a settings file, …); returns extra placeholder values."""


@dataclass(frozen=True)
class Preset:
    """One CLI agent: see the module docstring."""

    name: str
    command: str
    parser: ParserFactory
    model_prefix: str = ""
    """Prepended to the task's model id when the CLI wants provider-prefixed ids."""
    env: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    ignore: tuple[str, ...] = ()
    """Gitignore patterns of the CLI's own caches, kept out of the task's commit."""
    test_args: str = ""
    """Arguments handing `gates.test_command` ({test_command}) to the CLI; empty if it takes none."""
    prepare: Prepare | None = None

    def spell(self, model: str, models: Mapping[str, str]) -> str:
        """The task's model id as this CLI names it: `models` (the configured map) first."""
        if model in models:
            return models[model]
        if self.model_prefix and "/" not in model:
            return self.model_prefix + model
        return model


class CombinedParser:
    """Several parsers over the same output (a hand-written template for a known CLI)."""

    def __init__(self, parsers: tuple[OutputParser, ...]) -> None:
        self._parsers = parsers
        self.error = ""

    def feed(self, line: str) -> bool:
        final = False
        for parser in self._parsers:
            final = parser.feed(line) or final
            self.error = self.error or parser.error
        return final

    def usage(self) -> tuple[Usage, ...]:
        return tuple(u for parser in self._parsers for u in parser.usage())

    def remarks(self) -> tuple[str, ...]:
        return tuple(r for parser in self._parsers for r in parser.remarks())


def task_home(job: AgentJob, cli: str) -> Path:
    """A folder for the CLI's own state and settings, never shared between tasks: the task's
    HOME when the engine gave it one of its own, else `<task>.<cli>-home` beside its brief
    (never the user's HOME, which every task would share)."""
    home = job.env.get("HOME")
    if home and home != os.environ.get("HOME"):
        return Path(home)
    return job.brief_file.with_name(f"{job.task.id}.{cli}-home")


def prompt_file(job: AgentJob, cli: str) -> str:
    """The prompt of a CLI that takes no test command of its own: the brief, plus how to run
    the project's tests when `gates.test_command` is set (then written beside the brief)."""
    test = job.config.gates.test_command
    if not test:
        return str(job.brief_file)
    path = job.brief_file.with_name(f"{job.task.id}.{cli}-prompt.md")
    write_atomic(
        path,
        job.brief_file.read_text(encoding="utf-8")
        + f"\n## Tests\nRun the project's tests with `{test}` before you finish, and"
        " fix what fails in your paths.\n",
    )
    return str(path)


def json_event(line: str) -> dict[str, object] | None:
    """The JSON object on `line`, or None when the line is not one."""
    text = line.strip()
    if not text.startswith("{"):
        return None
    try:
        event = json.loads(text)
    except json.JSONDecodeError:
        return None
    return event if isinstance(event, dict) else None


def mapping(value: object) -> dict[str, object]:
    return value if isinstance(value, dict) else {}


def count(value: object) -> int:
    """A token count from JSON: ints and floats taken, anything else 0."""
    return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0
