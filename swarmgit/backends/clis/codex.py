"""Codex (npm `@openai/codex`): `codex exec --json` in its workspace-write sandbox.

Each `turn.completed` event carries token usage (no cost: it is priced from `[pricing]`).
"""
from __future__ import annotations

from swarmgit.backends.base import Usage
from swarmgit.backends.clis.base import Preset, count, json_event, mapping


class CodexParser:
    def __init__(self, model: str) -> None:
        self._model = model
        self._usage: list[Usage] = []
        self.error = ""

    def feed(self, line: str) -> bool:
        event = json_event(line)
        kind = event.get("type") if event else None
        if event is None:
            return False
        if kind == "turn.completed":
            usage = mapping(event.get("usage"))
            cached = count(usage.get("cached_input_tokens"))
            self._usage.append(Usage(
                model=self._model,
                input_tokens=max(0, count(usage.get("input_tokens")) - cached),
                output_tokens=count(usage.get("output_tokens")),
                cache_read_tokens=cached,
            ))
        elif kind in ("turn.failed", "error"):
            error = mapping(event.get("error"))
            self.error = str(error.get("message") or event.get("message") or kind)
        return False

    def remarks(self) -> tuple[str, ...]:
        return ()

    def usage(self) -> tuple[Usage, ...]:
        return tuple(self._usage)


PRESET = Preset(
    name="codex",
    command='codex exec --json --sandbox workspace-write "$(cat {brief_file})"',
    parser=CodexParser,
)
