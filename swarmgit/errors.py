"""The one error hierarchy: every user-facing failure is a SwarmError with a fixed exit code.

Exit codes: 0 success; 1 the work failed (a task, a gate, a conflict); 2 bad input or usage.
The CLI's single handler turns these into one line and the code. Anything else is a bug in
swarmgit: exit 3, with a crash log (`crash_log.py`) the user can attach to a report.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

EXIT_OK = 0
EXIT_WORK_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_BUG = 3


@dataclass(frozen=True)
class Diagnostic:
    """One problem found in a user file: where it is, how bad, what to do."""

    path: str
    line: int | None
    message: str
    level: str = "error"  # "error" | "warning"
    task: str | None = None

    def render(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.level}: {self.message}"


class SwarmError(Exception):
    """Base of every error the user should see as one clear message."""

    exit_code = EXIT_BAD_INPUT


class UsageError(SwarmError):
    """Bad input, unknown track, not a git repo: exit 2."""


class WorkFailed(SwarmError):
    """The work itself failed (task, gate, conflict): exit 1."""

    exit_code = EXIT_WORK_FAILED


class InvalidInput(SwarmError):
    """A user file (plan, config, report) is malformed; carries every diagnostic found."""

    def __init__(self, diagnostics: Sequence[Diagnostic]) -> None:
        self.diagnostics = tuple(diagnostics)
        super().__init__("\n".join(d.render() for d in self.diagnostics))
