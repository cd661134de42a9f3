"""Claude Code (npm `@anthropic-ai/claude-code`): `claude -p` with stream-json output.

Permissions are skipped (`bypassPermissions`) so the agent can run shell commands, e.g. the
tests; the write fence around the agent confines what they write. Edit-time scope comes from a
PreToolUse hook in a per-task `--settings` file: `swarmgit.backends.scope_hook`, the SDK
backend's check, denies Write/Edit/MultiEdit/NotebookEdit outside the task's touches and Bash
commands that visibly write outside them, with the reason shown to the model. As root Claude
Code skips permissions only with IS_SANDBOX=1. `--max-budget-usd` caps the task's spend.
Its final `result` event carries `usage`, `total_cost_usd` and `permission_denials`; non-JSON
lines naming an error are the CLI's own error messages.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from types import MappingProxyType

from swarmgit.backends.base import AgentJob, Usage
from swarmgit.backends.clis.base import JsonEventParser, Preset, count, json_event, mapping
from swarmgit.backends.scope_hook import hook_command
from swarmgit.fsutil import write_atomic

HOOKED_TOOLS = "Write|Edit|MultiEdit|NotebookEdit|Bash"
_ERROR_LINE_RE = re.compile(r"\berror\b", re.I)


class ClaudeCodeParser(JsonEventParser):
    def feed(self, line: str) -> bool:
        event = json_event(line)
        if event is None:
            if _ERROR_LINE_RE.search(line):
                self._remark(line.strip())
            return False
        if event.get("type") != "result":
            return False
        usage = mapping(event.get("usage"))
        cost = event.get("total_cost_usd")
        self._usage.append(
            Usage(
                model=self._model,
                input_tokens=count(usage.get("input_tokens")),
                output_tokens=count(usage.get("output_tokens")),
                cache_write_tokens=count(usage.get("cache_creation_input_tokens")),
                cache_read_tokens=count(usage.get("cache_read_input_tokens")),
                cost_usd=float(cost) if isinstance(cost, (int, float)) else None,
            )
        )
        denials = event.get("permission_denials")
        for denial in denials if isinstance(denials, list) else ():
            self._remark(_denial(mapping(denial)))
        subtype = str(event.get("subtype") or "success")
        if event.get("is_error") or subtype != "success":
            self.error = _error(subtype, event)
        return True


def _error(subtype: str, event: Mapping[str, object]) -> str:
    """The failure a result event reports: its subtype (or the API's HTTP status), its text."""
    status = event.get("api_error_status")
    head = f"API error {status}" if subtype == "success" and status else subtype
    message = str(event.get("result") or "").strip()
    return f"{head}: {message}" if message else head


def _denial(denial: Mapping[str, object]) -> str:
    tool_input = mapping(denial.get("tool_input"))
    target = tool_input.get("file_path") or tool_input.get("command") or ""
    return f"Claude Code denied {denial.get('tool_name') or 'a tool'} {target}".rstrip()


def prepare(job: AgentJob) -> dict[str, str]:
    """Write the task's settings file (the scope hook); its path is {settings_file}."""
    hook = hook_command(job)
    settings = {
        "hooks": {
            "PreToolUse": [
                {"matcher": HOOKED_TOOLS, "hooks": [{"type": "command", "command": hook}]},
            ]
        }
    }
    path = job.brief_file.with_name(f"{job.task.id}.claude-settings.json")
    write_atomic(path, json.dumps(settings, indent=2) + "\n")
    return {"settings_file": str(path)}


PRESET = Preset(
    name="claude-code",
    command=(
        'claude -p "$(cat {brief_file})" --output-format stream-json --verbose'
        " --model {model} --max-budget-usd {budget} --permission-mode bypassPermissions"
        " --settings {settings_file}"
    ),
    parser=ClaudeCodeParser,
    env=MappingProxyType(
        {
            "IS_SANDBOX": "1",  # read only as root, where skipping permissions needs it ("1", not "yes")
            "DISABLE_AUTOUPDATER": "1",
            "DISABLE_TELEMETRY": "1",
            "DISABLE_ERROR_REPORTING": "1",
            "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
            # each Bash command starts in the worktree, so the hook resolves relative targets right
            "CLAUDE_BASH_MAINTAIN_PROJECT_WORKING_DIR": "1",
        }
    ),
    prepare=prepare,
)
