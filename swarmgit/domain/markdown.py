"""The one markdown scanner: ATX headings, fenced code blocks and pipe tables, line by line.

Shared by the plan parser, the report parser and the brief, so all three agree on what is a
heading and what is code. Headings and fences follow CommonMark: at most three spaces of indent;
a heading is 1-6 `#` then a space or the line's end (a closing `#` run is dropped); a fence is
three or more backticks or tildes, closed by a line of the same character at least as long (an
unclosed fence runs to the end of the document); a backtick fence's info string holds no
backtick. Lines are given without their endings, or with them (`\\n`, `\\r\\n` are ignored).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum

_HEADING_RE = re.compile(r"^ {0,3}(#{1,6})(?:[ \t](.*))?$")
_FENCE_RE = re.compile(r"^ {0,3}(`{3,}(?=[^`]*$)|~{3,})")
_SEPARATOR_RE = re.compile(r"^\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$")


class Kind(Enum):
    """What a line is: prose, a heading, a fence delimiter, or a line inside a fenced block."""

    TEXT = "text"
    HEADING = "heading"
    FENCE = "fence"
    CODE = "code"


@dataclass(frozen=True)
class Heading:
    index: int  # 0-based line index
    level: int
    title: str


def _bare(line: str) -> str:
    return line.rstrip("\r\n")


def heading(line: str, index: int = 0) -> Heading | None:
    """The ATX heading this line is, if any (not knowing whether it sits in a fence)."""
    match = _HEADING_RE.match(_bare(line))
    if match is None:
        return None
    title = (match.group(2) or "").strip()
    unclosed = title.rstrip("#")
    if not unclosed or unclosed[-1] in " \t":  # a closing `#` run needs a space before it
        title = unclosed.rstrip()
    return Heading(index, len(match.group(1)), title)


def kinds(lines: Sequence[str]) -> list[Kind]:
    """The kind of every line, fences taken into account."""
    result: list[Kind] = []
    fence = ""
    for line in lines:
        bare = _bare(line)
        if fence:
            if _closes(bare, fence):
                fence = ""
                result.append(Kind.FENCE)
            else:
                result.append(Kind.CODE)
        elif opening := _FENCE_RE.match(bare):
            fence = opening.group(1)
            result.append(Kind.FENCE)
        else:
            result.append(Kind.HEADING if _HEADING_RE.match(bare) else Kind.TEXT)
    return result


def _closes(line: str, fence: str) -> bool:
    closing = _FENCE_RE.match(line)
    if closing is None:
        return False
    marker = closing.group(1)
    return marker[0] == fence[0] and len(marker) >= len(fence) and not line[closing.end() :].strip()


def headings(lines: Sequence[str]) -> list[Heading]:
    """The headings outside fenced code blocks, in order."""
    found = (
        heading(line, i) for i, (line, kind) in enumerate(zip(lines, kinds(lines))) if kind is Kind.HEADING
    )
    return [h for h in found if h is not None]


# ---------------------------------------------------------------- tables


def is_row(line: str) -> bool:
    """A pipe-table line, as swarmgit reads tables: it starts with `|`."""
    return line.lstrip().startswith("|")


def is_separator(line: str) -> bool:
    """The `| --- | :---: |` line under a table's header."""
    return bool(_SEPARATOR_RE.match(line.strip()))


def split_row(line: str) -> list[str]:
    """Cells of a markdown table row: `\\|` and pipes inside backtick spans are literal."""
    text = line.strip()
    if text.startswith("|"):
        text = text[1:]
    cells: list[str] = []
    current: list[str] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char == "\\" and text[i + 1 : i + 2] == "|":
            current.append("|")
            i += 2
            continue
        if char == "`" and (close := text.find("`", i + 1)) != -1:
            current.append(text[i : close + 1].replace("\\|", "|"))
            i = close + 1
            continue
        if char == "|":
            cells.append("".join(current).strip())
            current = []
        else:
            current.append(char)
        i += 1
    tail = "".join(current).strip()
    if tail or not line.rstrip().endswith("|"):
        cells.append(tail)
    return cells
