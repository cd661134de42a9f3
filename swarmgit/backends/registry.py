"""The agent backends by `agent.backend` name.

Backends with optional dependencies are imported by dotted path only when chosen, so a missing
package fails only the run that asks for it, with a message saying what to install.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

from swarmgit.backends.base import Agent
from swarmgit.backends.command import CommandAgent
from swarmgit.backends.script import ScriptAgent
from swarmgit.config import Config
from swarmgit.errors import UsageError

AgentFactory = Callable[[Config], Agent]


def _lazy(backend: str, dotted: str, install: str) -> AgentFactory:
    module_name, _, class_name = dotted.rpartition(".")

    def build(config: Config) -> Agent:
        try:
            factory: AgentFactory = getattr(importlib.import_module(module_name), class_name)
        except ImportError as exc:
            raise UsageError(
                f"agent.backend = {backend!r} needs a package that is not installed ({exc})."
                f" Install it ({install}) or choose another agent.backend"
            ) from exc
        return factory(config)

    return build


BACKENDS: dict[str, AgentFactory] = {
    "script": lambda config: ScriptAgent(config.agent),
    "command": CommandAgent,
    "anthropic": _lazy(
        "anthropic", "swarmgit.backends.anthropic_agent.AnthropicAgent", "pip install anthropic"
    ),
    "claude-code": _lazy(
        "claude-code",
        "swarmgit.backends.claude_code.ClaudeCodeAgent",
        "pip install 'swarmgit[claude-code]'",
    ),
}


def get_agent(config: Config) -> Agent:
    """The backend `agent.backend` names, built from the config; UsageError if unknown."""
    backend = config.agent.backend
    if backend not in BACKENDS:
        raise UsageError(
            f"unknown agent.backend {backend!r} in .swarm.toml: choose one of {', '.join(sorted(BACKENDS))}"
        )
    return BACKENDS[backend](config)
