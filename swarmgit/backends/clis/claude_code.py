"""Claude Code (npm `@anthropic-ai/claude-code`): `claude -p` with stream-json output.

Edits are accepted; `--max-budget-usd` caps the task's spend. Its final `result` event carries
`usage`, `total_cost_usd` and `permission_denials`.
"""
from __future__ import annotations

from swarmgit.backends.base import Usage
from swarmgit.backends.clis.base import Preset, count, json_event, mapping


class ClaudeCodeParser:
    def __init__(self, model: str) -> None:
        self._model = model
        self._usage: list[Usage] = []
        self.error = ""

    def feed(self, line: str) -> bool:
        event = json_event(line)
        if event is None or event.get("type") != "result":
            return False
        usage = mapping(event.get("usage"))
        cost = event.get("total_cost_usd")
        self._usage.append(Usage(
            model=self._model,
            input_tokens=count(usage.get("input_tokens")),
            output_tokens=count(usage.get("output_tokens")),
            cache_write_tokens=count(usage.get("cache_creation_input_tokens")),
            cache_read_tokens=count(usage.get("cache_read_input_tokens")),
            cost_usd=float(cost) if isinstance(cost, (int, float)) else None,
        ))
        subtype = str(event.get("subtype") or "success")
        if event.get("is_error") or subtype != "success":
            message = str(event.get("result") or "").strip()
            self.error = f"{subtype}: {message}" if message else subtype
        return True

    def usage(self) -> tuple[Usage, ...]:
        return tuple(self._usage)


PRESET = Preset(
    name="claude-code",
    command=(
        'claude -p "$(cat {brief_file})" --output-format stream-json --verbose'
        " --model {model} --max-budget-usd {budget} --permission-mode acceptEdits"
    ),
    parser=ClaudeCodeParser,
)
