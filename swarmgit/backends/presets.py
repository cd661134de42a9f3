"""Known CLI agents: how to invoke each headless, and how to read usage from its output.

Templates use the placeholders of `agent.command` ({brief_file}, {task}, {worktree}, {model},
{budget}); values are shell-quoted when substituted, stdin is closed.
- `claude-code`: `claude -p` with stream-json output; edits are accepted, other tools (shell
  commands) are not pre-approved (write your own template to allow more); `--max-budget-usd` caps
  the task's spend. Its final `result` event carries `total_cost_usd` and `usage`.
- `codex`: `codex exec --json` in a workspace-write sandbox; each `turn.completed` event carries
  token usage (no cost: it is priced later from `[pricing.codex]` if configured).
- `aider`: `--message-file`, no auto-commits (the orchestrator commits through the scope check),
  chat history kept out of the worktree; its `Cost: … session` lines carry the cost.

`OutputMeter` reads all three formats, so a hand-written template for one of these tools is
metered too.
"""
from __future__ import annotations

import json
import re
from types import MappingProxyType

from swarmgit.backends.base import Usage

PRESETS = MappingProxyType({
    "claude-code": (
        'claude -p "$(cat {brief_file})" --output-format stream-json --verbose'
        " --model {model} --max-budget-usd {budget} --permission-mode acceptEdits"
    ),
    "codex": 'codex exec --json --sandbox workspace-write "$(cat {brief_file})"',
    "aider": (
        "aider --message-file {brief_file} --no-auto-commits --yes-always --model {model}"
        " --no-pretty --no-gitignore --chat-history-file /dev/null --input-history-file /dev/null"
    ),
})

CODEX_MODEL = "codex"
"""The model name Codex usage is recorded under (its JSON events do not name the model)."""

_AIDER_COST_RE = re.compile(r"Cost: \$([\d.,]+) message, \$([\d.,]+) session")
_AIDER_TOKENS_RE = re.compile(r"Tokens: ([\d.,]+)([kKmM]?) sent, ([\d.,]+)([kKmM]?) received")


class OutputMeter:
    """Reads a CLI agent's output line by line: usage, cost, the final result, reported errors."""

    def __init__(self, model: str) -> None:
        self._model = model
        self._usage: list[Usage] = []
        self._aider_tokens = [0, 0]
        self._aider_cost: float | None = None
        self.error = ""  # what the tool itself reported as failure, if anything

    def feed(self, line: str) -> bool:
        """Take one output line; True when it is the final result (Claude Code's result event)."""
        text = line.strip()
        if text.startswith("{"):
            try:
                event = json.loads(text)
            except json.JSONDecodeError:
                return False
            return isinstance(event, dict) and self._event(event)
        self._aider_line(text)
        return False

    def usage(self) -> tuple[Usage, ...]:
        aider: tuple[Usage, ...] = ()
        if self._aider_cost is not None or any(self._aider_tokens):
            aider = (Usage(
                model=self._model,
                input_tokens=self._aider_tokens[0],
                output_tokens=self._aider_tokens[1],
                cost_usd=self._aider_cost,
            ),)
        return (*self._usage, *aider)

    def _event(self, event: dict[str, object]) -> bool:
        kind = event.get("type")
        if kind == "system" and event.get("subtype") == "init":
            self._model = str(event.get("model") or self._model)
        elif kind == "result":
            self._claude_result(event)
            return True
        elif kind == "turn.completed":
            self._codex_turn(_mapping(event.get("usage")))
        elif kind in ("turn.failed", "error"):
            error = _mapping(event.get("error"))
            self.error = str(error.get("message") or event.get("message") or kind)
        return False

    def _claude_result(self, event: dict[str, object]) -> None:
        usage = _mapping(event.get("usage"))
        cost = event.get("total_cost_usd")
        self._usage.append(Usage(
            model=self._model,
            input_tokens=_int(usage.get("input_tokens")),
            output_tokens=_int(usage.get("output_tokens")),
            cache_write_tokens=_int(usage.get("cache_creation_input_tokens")),
            cache_read_tokens=_int(usage.get("cache_read_input_tokens")),
            cost_usd=float(cost) if isinstance(cost, (int, float)) else None,
        ))
        subtype = str(event.get("subtype") or "success")
        if event.get("is_error") or subtype != "success":
            message = str(event.get("result") or "").strip()
            self.error = f"{subtype}: {message}" if message else subtype

    def _codex_turn(self, usage: dict[str, object]) -> None:
        cached = _int(usage.get("cached_input_tokens"))
        self._usage.append(Usage(
            model=CODEX_MODEL,
            input_tokens=max(0, _int(usage.get("input_tokens")) - cached),
            output_tokens=_int(usage.get("output_tokens")),
            cache_read_tokens=cached,
        ))

    def _aider_line(self, text: str) -> None:
        if tokens := _AIDER_TOKENS_RE.search(text):
            self._aider_tokens[0] += _scaled(tokens.group(1), tokens.group(2))
            self._aider_tokens[1] += _scaled(tokens.group(3), tokens.group(4))
        if cost := _AIDER_COST_RE.search(text):
            self._aider_cost = float(cost.group(2).replace(",", ""))


def _mapping(value: object) -> dict[str, object]:
    return value if isinstance(value, dict) else {}


def _int(value: object) -> int:
    return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0


def _scaled(number: str, suffix: str) -> int:
    scale = {"": 1, "k": 1_000, "m": 1_000_000}[suffix.lower()]
    return round(float(number.replace(",", "")) * scale)
