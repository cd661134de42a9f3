"""The registry of CLI presets, by the name `agent.command` uses."""

from __future__ import annotations

from types import MappingProxyType

from swarmgit.backends.clis import aider, claude_code, codex, gemini, opencode
from swarmgit.backends.clis.base import CombinedParser, OutputParser, Preset

PRESETS: MappingProxyType[str, Preset] = MappingProxyType(
    {
        preset.name: preset
        for preset in (claude_code.PRESET, codex.PRESET, aider.PRESET, gemini.PRESET, opencode.PRESET)
    }
)


def any_parser(model: str) -> OutputParser:
    """For a hand-written template: reads every known CLI's output format."""
    return CombinedParser(tuple(preset.parser(model) for preset in PRESETS.values()))
