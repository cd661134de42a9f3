"""Duplicated blocks in Python source, after SonarQube's definition of a duplication.

Algorithm ("window-hash CPD", named in Gate-I's metrics as ALGORITHM):
1. Normalise each file: comments dropped; string and number literals become `$`; identifiers
   become `i` (keywords stay); whitespace is ignored. A file's non-empty normalised lines are its
   code lines (a multi-line string is one code line).
2. Every run of MIN_LINES consecutive code lines is a window, hashed.
3. A clone is a maximal run of consecutive windows of a target file that equal consecutive
   windows elsewhere (same file at a non-overlapping place, or another file) along one
   diagonal; it is kept when its code lines hold at least MIN_TOKENS tokens.
A window that occurs more than MAX_PARTNERS times is matched against its first MAX_PARTNERS
occurrences only (generic boilerplate; keeps the cost linear).

Only target files are scanned for clones, but their copies are looked for in the whole corpus,
so a block pasted from an unchanged module is found.
"""

from __future__ import annotations

import keyword
import re
import zlib
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

MIN_LINES = 10
MIN_TOKENS = 100
MAX_PARTNERS = 200
ALGORITHM = (
    f"window-hash CPD: >= {MIN_TOKENS} tokens over >= {MIN_LINES} code lines, "
    "identifiers and literals normalised, comments ignored"
)

# A string's prefix (r, b, f, u) is left to the identifier pass, which makes it `i$`; that pair
# is folded back to `$` (an identifier cannot otherwise touch a literal).
_LITERAL_OR_COMMENT = re.compile(
    r"""'''[\s\S]*?'''|\"\"\"[\s\S]*?\"\"\"|'(?:\\.|[^'\\\n])*'|"(?:\\.|[^"\\\n])*"|\#[^\n]*"""
)
_NUMBER = re.compile(r"\b\d[\w.]*")
_IDENTIFIER = re.compile(r"\b(?!(?:%s)\b)[^\W\d]\w*" % "|".join(keyword.kwlist))
_TOKEN = re.compile(r"\w+|\$|[^\w\s]")


@dataclass(frozen=True)
class Normalised:
    """A file's code lines: their physical line numbers, the hash of each window (MIN_LINES
    code lines from there on; stable across processes, so they can be cached), and its
    physical line count. The sequences are tuples, or arrays when read back from the cache."""

    lines: Sequence[int]
    windows: Sequence[int]
    physical: int


@dataclass(frozen=True)
class Clone:
    """Lines start..end of `file` equal lines other_start..other_end of `other` (inclusive)."""

    file: str
    start: int
    end: int
    other: str
    other_start: int
    other_end: int
    tokens: int


def normalise(text: str) -> Normalised:
    """The file's code lines after normalisation (see the module docstring)."""
    lines, texts, physical = _code_lines(text)
    return Normalised(lines, _windows(tuple(map(line_hash, texts))), physical)


def token_counts(text: str) -> tuple[int, ...]:
    """The number of tokens on each code line `normalise` finds, in order."""
    return tuple(len(_TOKEN.findall(t)) for t in _code_lines(text)[1])


def line_hash(text: str) -> int:
    """A 64-bit hash of a normalised line, the same in every process (str's is salted):
    CRC-32 and Adler-32 side by side, both computed in C."""
    data = text.encode("utf-8")
    return zlib.crc32(data) << 32 | zlib.adler32(data)


def _code_lines(text: str) -> tuple[tuple[int, ...], tuple[str, ...], int]:
    """(line numbers, normalised texts) of the non-empty normalised lines, physical lines."""
    text = _LITERAL_OR_COMMENT.sub(_blank_literal, text)
    text = _IDENTIFIER.sub("i", _NUMBER.sub("$", text)).replace("i$", "$")
    lines: list[int] = []
    texts: list[str] = []
    for number, raw in enumerate(text.split("\n"), start=1):
        compact = " ".join(raw.split())
        if compact:
            lines.append(number)
            texts.append(compact)
    physical = text.count("\n") + (0 if text.endswith("\n") or not text else 1)
    return tuple(lines), tuple(texts), physical


def find_clones(corpus: Mapping[str, Normalised], tokens: Mapping[str, Sequence[int]]) -> list[Clone]:
    """Every clone whose first copy lies in a target file, its second anywhere in the corpus.
    The targets are the keys of `tokens`, which holds their `token_counts`."""
    chosen = sorted(t for t in tokens if t in corpus)
    wanted = {w for t in chosen for w in corpus[t].windows}
    index: dict[int, list[tuple[str, int]]] = defaultdict(list)
    for path in sorted(corpus):
        windows = corpus[path].windows
        if wanted.isdisjoint(windows):
            continue  # most files: one set operation, no loop in Python
        for p, window in enumerate(windows):
            if window in wanted and len(index[window]) < MAX_PARTNERS:
                index[window].append((path, p))
    clones: list[Clone] = []
    for target in chosen:
        clones.extend(_clones_of(target, corpus[target].windows, index, corpus, tokens[target]))
    return clones


def _clones_of(
    target: str,
    windows: Sequence[int],
    index: Mapping[int, list[tuple[str, int]]],
    corpus: Mapping[str, Normalised],
    tokens: Sequence[int],
) -> list[Clone]:
    diagonals: dict[tuple[str, int], list[int]] = defaultdict(list)
    for p, window in enumerate(windows):
        for other, q in index.get(window, ()):
            if other != target or abs(q - p) >= MIN_LINES:
                diagonals[(other, q - p)].append(p)
    norm = corpus[target]
    found: list[Clone] = []
    for (other, offset), positions in diagonals.items():
        for first, last in _runs(positions):
            end = last + MIN_LINES - 1
            count = sum(tokens[first : end + 1])
            if count >= MIN_TOKENS:
                lines = corpus[other].lines
                found.append(
                    Clone(
                        target,
                        norm.lines[first],
                        norm.lines[end],
                        other,
                        lines[first + offset],
                        lines[end + offset],
                        count,
                    )
                )
    return sorted(found, key=lambda c: (c.start, c.other, c.other_start))


def _windows(hashes: tuple[int, ...]) -> tuple[int, ...]:
    """The hash of every run of MIN_LINES line hashes (a tuple of ints hashes the same in
    every process)."""
    return tuple(hash(hashes[p : p + MIN_LINES]) for p in range(len(hashes) - MIN_LINES + 1))


def _runs(positions: list[int]) -> Iterable[tuple[int, int]]:
    """Maximal runs of consecutive integers in an ascending list, as (first, last)."""
    first = previous = positions[0]
    for p in positions[1:]:
        if p != previous + 1:
            yield first, previous
            first = p
        previous = p
    yield first, previous


def _blank_literal(match: re.Match[str]) -> str:
    token = match.group()
    if token.startswith("#"):
        return ""
    return "$" + "\n" * token.count("\n")
