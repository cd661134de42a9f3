"""Gemini CLI (npm `@google/gemini-cli`): `gemini --prompt` with stream-json output, yolo mode.

Tools (shell commands too) run without asking; the write fence around the agent confines them.
Per task swarmgit gives it its own `GEMINI_CLI_HOME` (the task's HOME when it has one), whose
`.gemini/settings.json` holds a BeforeTool hook (`swarmgit.backends.scope_hook`) that refuses
`write_file`/`replace` outside the task's touches and shell commands that visibly write outside
them, with the reason shown to the model; auto-update and usage statistics are off; with
`GEMINI_API_KEY` set the auth type is the API key (Gemini CLI 0.61 refuses a
`GOOGLE_GEMINI_BASE_URL` gateway without it). Its state lives there too (`.gemini/`); the user's
own `~/.gemini` settings are not read. The final `result` event's `stats` carry token usage
(`input` uncached, `cached`; output is `total_tokens` less `input_tokens`, since `output_tokens`
leaves out thinking tokens; no cost: it is priced from `[pricing]`); `error` events and a failed
`result` are the CLI's own errors. `gates.test_command` goes into its prompt.
"""

from __future__ import annotations

import json
import os

from swarmgit.backends.base import AgentJob, Usage
from swarmgit.backends.clis.base import (
    JsonEventParser,
    Preset,
    count,
    json_event,
    mapping,
    prompt_file,
    task_home,
)
from swarmgit.backends.scope_hook import hook_command
from swarmgit.fsutil import write_atomic

HOOKED_TOOLS = "write_file|replace|run_shell_command"


class GeminiParser(JsonEventParser):
    label = "Gemini CLI: "

    def feed(self, line: str) -> bool:
        event = json_event(line)
        kind = event.get("type") if event else None
        if event is None:
            return False
        if kind == "error" and "severity" in event:
            self._remark(f"{event['severity']}: {event.get('message')}")
        elif kind == "tool_result" and event.get("status") == "error":
            error = mapping(event.get("error"))
            self._remark(f"tool {event.get('tool_id')}: {error.get('message') or 'failed'}")
        elif kind == "result" and "stats" in event:  # Claude Code's result has none
            self._result(event)
            return True
        return False

    def _result(self, event: dict[str, object]) -> None:
        stats = mapping(event.get("stats"))
        usage = Usage(
            model=self._model,
            input_tokens=count(stats.get("input")),
            # its stats leave out thinking tokens, billed as output: the API's total has them
            output_tokens=max(
                count(stats.get("output_tokens")),
                count(stats.get("total_tokens")) - count(stats.get("input_tokens")),
            ),
            cache_read_tokens=count(stats.get("cached")),
        )
        if usage != Usage(model=self._model):  # a run that never reached the model used none
            self._usage.append(usage)
        if event.get("status") != "success":
            error = mapping(event.get("error"))
            self.error = str(error.get("message") or event.get("status") or "failed")


def prepare(job: AgentJob) -> dict[str, str]:
    """Write the task's Gemini CLI home ({gemini_home}: the task's own HOME when it has one)
    with its settings: the scope hook, no auto-update, no usage statistics."""
    settings: dict[str, object] = {
        "general": {"enableAutoUpdate": False, "enableAutoUpdateNotification": False},
        "privacy": {"usageStatisticsEnabled": False},
        "telemetry": {"enabled": False},
        "hooks": {
            "BeforeTool": [
                {
                    "matcher": HOOKED_TOOLS,
                    "hooks": [
                        {"type": "command", "command": hook_command(job, "--gemini")},
                    ],
                }
            ]
        },
    }
    if job.env.get("GEMINI_API_KEY") or os.environ.get("GEMINI_API_KEY"):
        settings["security"] = {"auth": {"selectedType": "gemini-api-key"}}
    home = task_home(job, "gemini")
    (home / ".gemini").mkdir(parents=True, exist_ok=True)
    write_atomic(home / ".gemini" / "settings.json", json.dumps(settings, indent=2) + "\n")
    return {"gemini_home": str(home), "prompt_file": prompt_file(job, "gemini")}


PRESET = Preset(
    name="gemini",
    command=(
        'GEMINI_CLI_HOME={gemini_home} gemini --prompt "$(cat {prompt_file})"'
        " --output-format stream-json --approval-mode yolo --skip-trust --model {model}"
    ),
    parser=GeminiParser,
    prepare=prepare,
)
