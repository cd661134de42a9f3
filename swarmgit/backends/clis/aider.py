"""Aider (PyPI `aider-chat`): `--message-file`, no auto-commits (swarmgit commits through the
scope check), chat history kept out of the worktree, provider-prefixed model ids.

Its `Tokens: … sent, … received. Cost: $… message, $… session.` lines carry usage and cost.
"""
from __future__ import annotations

import re

from swarmgit.backends.base import Usage
from swarmgit.backends.clis.base import Preset

_COST_RE = re.compile(r"Cost: \$([\d.,]+) message, \$([\d.,]+) session")
_TOKENS_RE = re.compile(r"Tokens: ([\d.,]+)([kKmM]?) sent, ([\d.,]+)([kKmM]?) received")


class AiderParser:
    def __init__(self, model: str) -> None:
        self._model = model
        self._tokens = [0, 0]
        self._cost: float | None = None
        self.error = ""

    def feed(self, line: str) -> bool:
        if tokens := _TOKENS_RE.search(line):
            self._tokens[0] += _scaled(tokens.group(1), tokens.group(2))
            self._tokens[1] += _scaled(tokens.group(3), tokens.group(4))
        if cost := _COST_RE.search(line):
            self._cost = float(cost.group(2).replace(",", ""))
        return False

    def remarks(self) -> tuple[str, ...]:
        return ()

    def usage(self) -> tuple[Usage, ...]:
        if self._cost is None and not any(self._tokens):
            return ()
        return (Usage(model=self._model, input_tokens=self._tokens[0],
                      output_tokens=self._tokens[1], cost_usd=self._cost),)


def _scaled(number: str, suffix: str) -> int:
    scale = {"": 1, "k": 1_000, "m": 1_000_000}[suffix.lower()]
    return round(float(number.replace(",", "")) * scale)


PRESET = Preset(
    name="aider",
    command=(
        "aider --message-file {brief_file} --no-auto-commits --yes-always --model {model}"
        " --no-pretty --no-gitignore --chat-history-file /dev/null --input-history-file /dev/null"
    ),
    parser=AiderParser,
    model_prefix="anthropic/",
    ignore=(".aider*",),
)
