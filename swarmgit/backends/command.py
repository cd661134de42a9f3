"""The `command` backend: any CLI agent, from the `agent.command` template or a preset name.

Placeholders {brief_file}, {task}, {worktree}, {model} (in the preset's spelling), {budget}
(the task's budget in USD, else the track's) and {test_command} are substituted shell-quoted; other
braces (`${VAR}`)
are left to the shell. A preset (see clis/) also brings its environment, its output parser, and
the arguments handing it `gates.test_command`.
The command runs with `sh -c` in the worktree, stdin closed, in its own process group, with its
output in job.log_file. Usage and cost are read from the output where the tool prints them (see
clis/). A tool that prints its final result and then hangs is killed after
`agent.kill_grace_seconds`; its work and result are kept. Past `agent.timeout_minutes` the whole
group is killed and the attempt fails with kind `timeout`.
"""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Mapping

from swarmgit.backends.base import AgentEvents, AgentJob, AgentOutcome, FailureKind
from swarmgit.backends.clis.all import PRESETS, any_parser
from swarmgit.backends.clis.base import Preset
from swarmgit.backends.script import read_report
from swarmgit.config import Config
from swarmgit.domain.secrets import secrets_from_env
from swarmgit.errors import UsageError
from swarmgit.process.run import ProcessResult, run_agent_command, with_tail

_RATE_LIMIT_RE = re.compile(r"rate.?limit|\b429\b|overloaded", re.I)


def resolve_preset(command: str) -> Preset | None:
    """The preset `agent.command` names, or None for a hand-written template. Empty → UsageError."""
    name = command.strip()
    if not name:
        raise UsageError(
            "agent.command is empty: set it in .swarm.toml to a preset"
            f" ({', '.join(PRESETS)}) or a template using {{brief_file}}, {{task}},"
            " {worktree}, {model}, {budget}"
        )
    return PRESETS.get(name)


def command_template(config: Config, preset: Preset | None) -> str:
    """What runs: `agent.command` itself, or the preset's template plus its test arguments
    when `gates.test_command` is set."""
    if preset is None:
        return config.agent.command
    test_args = preset.test_args if config.gates.test_command else ""
    return preset.command + test_args


def agent_caches(config: Config) -> tuple[str, ...]:
    """Gitignore patterns of the configured CLI preset's own caches (none for other agents)."""
    preset = resolve_preset(config.agent.command) if config.agent.backend == "command" else None
    return preset.ignore if preset else ()


def render_command(template: str, values: Mapping[str, str]) -> str:
    """`template` with each placeholder named in `values` replaced by its shell-quoted value."""
    pattern = re.compile(r"\{(" + "|".join(map(re.escape, values)) + r")\}")
    return pattern.sub(lambda m: shlex.quote(values[m.group(1)]), template)


class CommandAgent:
    name = "command"

    def __init__(self, config: Config) -> None:
        self._preset = resolve_preset(config.agent.command)
        self._template = command_template(config, self._preset)
        self._test_command = config.gates.test_command
        self._models = config.agent.cli_models.get(self._preset.name, {}) if self._preset else {}
        self._timeout_s = config.agent.timeout_minutes * 60
        self._grace_s = config.agent.kill_grace_seconds
        self._track_budget = config.budget.track_usd

    def run(self, job: AgentJob, on_event: AgentEvents) -> AgentOutcome:
        budget = job.budget_usd if job.budget_usd is not None else self._track_budget
        preset = self._preset
        command = render_command(
            self._template,
            {
                "brief_file": str(job.brief_file),
                "task": job.task.id,
                "worktree": str(job.worktree),
                "model": preset.spell(job.model, self._models) if preset else job.model,
                "budget": f"{budget:.2f}",
                "test_command": self._test_command,
                **(preset.prepare(job) if preset and preset.prepare else {}),
            },
        )
        on_event("command", command)
        meter = preset.parser(job.model) if preset else any_parser(job.model)
        # the preset's own variables win: they are what the CLI needs to run headless here
        env = {**os.environ, **job.env, **(preset.env if preset else {})}
        result = run_agent_command(
            command,
            foreground=job.foreground,
            cwd=job.worktree,
            env=env,
            log_file=job.log_file,
            timeout_s=self._timeout_s,
            kill_grace_s=self._grace_s,
            on_line=meter.feed,
            pid_file=job.pid_file,
            fence=job.fence,
        )
        secrets = secrets_from_env(env)
        notes = tuple(secrets.redact(remark) for remark in meter.remarks())
        if result.killed_after_result:
            hung = f"the agent printed its result but did not exit; killed after {self._grace_s:g}s"
            notes += (hung,)
            on_event("agent-hung", hung)
        kind, diagnosis = self._failure(result, secrets.redact(meter.error), notes)
        return AgentOutcome(
            ok=kind is None,
            kind=kind,
            diagnosis=diagnosis,
            usage=meter.usage(),
            report_text=read_report(job),
            notes=notes,
        )

    def _failure(
        self, result: ProcessResult, error: str, notes: tuple[str, ...]
    ) -> tuple[FailureKind | None, str]:
        """(kind, diagnosis) of a failed attempt, or (None, "") when it succeeded. The diagnosis
        names the failure, then what the CLI reported (`notes`), then its last output lines."""
        if result.timed_out:
            head = f"timed out after {self._timeout_s / 60:g} min (agent.timeout_minutes)"
            return FailureKind.TIMEOUT, with_tail("\n".join((head, *notes)), result)
        if error:
            head = f"the agent reported an error: {error}"
        elif result.result_seen or result.returncode == 0:
            return None, ""
        else:
            head = f"the agent command exited with code {result.returncode}"
        diagnosis = with_tail("\n".join((head, *notes)), result)
        return (
            FailureKind.RATE_LIMITED if _RATE_LIMIT_RE.search(diagnosis) else FailureKind.COMMAND_FAILED
        ), diagnosis
