"""Secret values from an environment, and redaction of them from any text swarmgit writes.

A value is secret when its variable's name contains KEY, TOKEN, SECRET or PASSWORD (any case),
and so is the password of any URL in any variable's value (`postgres://user:pw@host/db`, as
written and percent-decoded). Values shorter than `MIN_SECRET_LENGTH` are ignored (flags,
ports, `true`), and a multi-line value also counts line by line, so a PEM key is caught in a
line-wise scan. Redaction masks every occurrence of every value, overlaps included, with
`MARKER`. The set is computed at the edge from the orchestrator's environment and passed in.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from urllib.parse import unquote

SECRET_NAME_RE = re.compile(r"KEY|TOKEN|SECRET|PASSWORD", re.I)
MIN_SECRET_LENGTH = 8
MARKER = "***"
_URL_PASSWORD_RE = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s/?#:@]*:([^\s/?#]*)@")


def is_secret_name(name: str) -> bool:
    """Whether a variable of this name holds a secret (API keys, tokens, passwords)."""
    return SECRET_NAME_RE.search(name) is not None


def url_passwords(value: str) -> Iterator[str]:
    """The password of every `scheme://user:password@host` URL in `value`, as written and,
    when it differs, percent-decoded."""
    for match in _URL_PASSWORD_RE.finditer(value):
        written = match.group(1)
        yield written
        decoded = unquote(written)
        if decoded != written:
            yield decoded


@dataclass(frozen=True)
class Secrets:
    """A set of secret values, longest first. Its repr never shows them."""

    values: tuple[str, ...] = ()

    def __repr__(self) -> str:
        return f"Secrets({len(self.values)} values)"

    def __bool__(self) -> bool:
        return bool(self.values)

    def redact(self, text: str) -> str:
        """`text` with every character of every occurrence of a secret value replaced: each
        masked run becomes one `MARKER`."""
        runs: list[list[int]] = []
        for start, end in sorted(self._spans(text)):
            if runs and start <= runs[-1][1]:
                runs[-1][1] = max(runs[-1][1], end)
            else:
                runs.append([start, end])
        if not runs:
            return text
        out: list[str] = []
        done = 0
        for start, end in runs:
            out += [text[done:start], MARKER]
            done = end
        out.append(text[done:])
        return "".join(out)

    def found_in(self, text: str) -> bool:
        """Whether `text` contains any secret value."""
        return any(value in text for value in self.values)

    def _spans(self, text: str) -> Iterator[tuple[int, int]]:
        for value in self.values:
            start = text.find(value)
            while start >= 0:
                yield start, start + len(value)
                start = text.find(value, start + 1)


NO_SECRETS = Secrets()


def secrets_from_env(env: Mapping[str, str]) -> Secrets:
    """The secret values of an environment (see the module docstring)."""
    found: set[str] = set()
    for name, value in env.items():
        if is_secret_name(name):
            found.update(_candidates(value))
        for password in url_passwords(value):
            found.update(_candidates(password))
    return Secrets(tuple(sorted(found, key=lambda v: (-len(v), v))))


def _candidates(value: str) -> Iterable[str]:
    """The value itself and each of its lines, trimmed, if long enough."""
    parts = {value.strip(), *(line.strip() for line in value.splitlines())}
    return (part for part in parts if len(part) >= MIN_SECRET_LENGTH)
