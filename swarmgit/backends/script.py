"""The `script` backend: the task's own `Run:` commands, deterministic and offline.

Each command runs with `sh -c` in the worktree, in order, with the job's environment; the first
non-zero exit stops the task (kind `command-failed`, naming the command and its last output
lines). `agent.timeout_minutes` bounds all commands together (kind `timeout`). A report the
commands wrote to `SWARM_REPORT` (job.report_file) is returned as the report text; a task
without `Run:` lines ends at once, with a note saying so. A foreground job (a task that needs user
input, run with a terminal) is attached to the terminal.
"""

from __future__ import annotations

import os
import time

from swarmgit.backends.base import AgentEvents, AgentJob, AgentOutcome, FailureKind
from swarmgit.config import Agent as AgentSettings
from swarmgit.process.run import ProcessResult, run_agent_command, with_tail


class ScriptAgent:
    name = "script"

    def __init__(self, settings: AgentSettings) -> None:
        self._timeout_s = settings.timeout_minutes * 60
        self._grace_s = settings.kill_grace_seconds

    def run(self, job: AgentJob, on_event: AgentEvents) -> AgentOutcome:
        env = {**os.environ, **job.env}
        deadline = time.monotonic() + self._timeout_s
        for command in job.task.run:
            on_event("command", command)
            left = max(0.0, deadline - time.monotonic())
            result = run_agent_command(
                command,
                foreground=job.foreground,
                cwd=job.worktree,
                env=env,
                log_file=job.log_file,
                timeout_s=left,
                kill_grace_s=self._grace_s,
                pid_file=job.pid_file,
                fence=job.fence,
            )
            if result.timed_out or result.returncode != 0:
                return _failed(command, result, self._timeout_s, job)
        notes = () if job.task.run else ("the task has no Run: lines, so the script agent ran nothing",)
        return AgentOutcome(ok=True, report_text=read_report(job), notes=notes)


def _failed(command: str, result: ProcessResult, timeout_s: float, job: AgentJob) -> AgentOutcome:
    if result.timed_out:
        kind = FailureKind.TIMEOUT
        head = f"timed out after {timeout_s / 60:g} min while running: {command}"
    else:
        kind = FailureKind.COMMAND_FAILED
        head = f"command failed (exit code {result.returncode}): {command}"
    return AgentOutcome(ok=False, kind=kind, diagnosis=with_tail(head, result), report_text=read_report(job))


def read_report(job: AgentJob) -> str | None:
    """The report the agent wrote to SWARM_REPORT, if any (a regular file: a fifo there would
    block the read)."""
    if not job.report_file.is_file():
        return None
    return job.report_file.read_text(encoding="utf-8", errors="replace")
