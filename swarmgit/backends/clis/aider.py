"""Aider (PyPI `aider-chat`): `--message-file`, no auto-commits (swarmgit commits through the
scope check), chat history kept out of the worktree, provider-prefixed model ids (`anthropic/`).

`gates.test_command` becomes its `--test-cmd` with `--auto-test`: aider runs no other shell
commands headless. Its repository map cache (`.aider.tags.cache.v4/`) and other `.aider*` files
stay out of the task's commit. Without streaming, its `Tokens: … sent, … received.` lines carry
the usage the API reported (aider rounds 1,000 and more to `1.2k`); `Cost: … session` is its own
estimate. Aider exits 0 when it cannot reach the model: its `litellm.…Error` lines (not
followed by an answer) make the attempt fail with that line. Its `Unable to write file …`
lines (a write the fence refused) go into the task's notes.
"""

from __future__ import annotations

import re
from types import MappingProxyType

from swarmgit.backends.base import Usage
from swarmgit.backends.clis.base import Preset

_NUMBER = r"([\d.,]+)([kKmM]?)"
_TOKENS_RE = re.compile(
    rf"Tokens: {_NUMBER} sent(?:, {_NUMBER} cache write)?(?:, {_NUMBER} cache hit)?,"
    rf" {_NUMBER} received"
)
_COST_RE = re.compile(r"Cost: \$([\d.,]+) message, \$([\d.,]+) session")
_ERROR_RE = re.compile(r"^(litellm\.\w+|\w*APIConnectionError\b).*")
_REFUSED_RE = re.compile(r"^Unable to write file .*")  # e.g. outside the write fence


class AiderParser:
    def __init__(self, model: str) -> None:
        self._model = model
        self._tokens = [0, 0, 0, 0]  # sent, cache write, cache hit, received
        self._cost: float | None = None
        self._refused: list[str] = []
        self.error = ""

    def feed(self, line: str) -> bool:
        if tokens := _TOKENS_RE.search(line):
            for index in range(4):
                number, suffix = tokens.group(2 * index + 1), tokens.group(2 * index + 2)
                self._tokens[index] += _scaled(number, suffix) if number else 0
            self.error = ""  # an answer came after the errors it retried
        elif error := _ERROR_RE.match(line.strip()):
            self.error = error.group(0)
        elif refused := _REFUSED_RE.match(line.strip()):
            self._refused.append(refused.group(0))
        if cost := _COST_RE.search(line):
            self._cost = float(cost.group(2).replace(",", ""))
        return False

    def usage(self) -> tuple[Usage, ...]:
        if self._cost is None and not any(self._tokens):
            return ()
        sent, write, hit, received = self._tokens
        return (
            Usage(
                model=self._model,
                input_tokens=sent,
                output_tokens=received,
                cache_write_tokens=write,
                cache_read_tokens=hit,
                cost_usd=self._cost,
            ),
        )

    def remarks(self) -> tuple[str, ...]:
        return tuple(self._refused)


def _scaled(number: str, suffix: str) -> int:
    scale = {"": 1, "k": 1_000, "m": 1_000_000}[suffix.lower()]
    return round(float(number.replace(",", "")) * scale)


PRESET = Preset(
    name="aider",
    command=(
        "aider --message-file {brief_file} --no-auto-commits --yes-always --model {model}"
        " --no-pretty --no-stream --no-gitignore --chat-history-file /dev/null"
        " --input-history-file /dev/null --no-check-update --no-show-release-notes"
        " --no-analytics --no-show-model-warnings"
    ),
    parser=AiderParser,
    model_prefix="anthropic/",
    env=MappingProxyType(
        {
            "LITELLM_LOCAL_MODEL_COST_MAP": "True",  # no download of litellm's price list
            "COLUMNS": "1000",  # error lines unwrapped, so they reach the diagnosis whole
        }
    ),
    ignore=(".aider*",),
    test_args=" --test-cmd {test_command} --auto-test",
)
