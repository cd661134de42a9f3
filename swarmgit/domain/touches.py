"""Touches: the paths a task may write, and when two of them lock each other out.

A touch is a gitignore-style pattern anchored at the repository root (docs/ARCHITECTURE.md,
"Touches, locks and dispatch"): `api/` is the folder and everything under it, `api` the file
or folder `api` and all under it, `api/**/*.py` a glob, `**/conftest.py` a name at any depth,
`**` the whole repository. Unlike a `.gitignore` line, a pattern without a slash does not
float to every depth: `config.py` is the root file only. Matching is case-sensitive, as git
sees paths by default.

The commit hook imports this module only when a task's touches hold a glob (plain touches are
matched by `path_rules`); pathspec is imported lazily, when a glob must be matched.

Invariant of `conflicts`: soundness. If some path is allowed by both touches, they conflict;
when the analysis cannot decide, it says conflict. As in gitignore, `src/a.py` may also name a
folder, so a `**` glob (`src/**/__init__.py`) overlaps every touch below its literal prefix.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from typing import NamedTuple

from swarmgit.domain.path_rules import GLOB_CHARS, allowed, glob_spec

WHOLE_REPO = "**"
_DRIVE = re.compile(r"^[A-Za-z]:([\\/]|$)")

_STAR, _ANY, _ANY_DEPTH = "*", "?", "**"


class _Lit(NamedTuple):
    char: str


class _Class(NamedTuple):
    negated: bool
    ranges: tuple[tuple[str, str], ...]


_Token = str | _Lit | _Class  # a str token is _STAR or _ANY
# One path segment of a touch: `**` (any number of segments), its tokens, or None when it is
# beyond our parser (then it may match anything).
_Segment = str | tuple[_Token, ...] | None


def normalize_touch(raw: str) -> str:
    """The canonical form of one touch as written in a plan. Raises ValueError saying why.

    Strips whitespace and surrounding backticks, drops `.` and empty components (`./a` → `a`,
    `a//b` → `a/b`), keeps a trailing `/` (a folder). `.` alone is the whole repository and
    becomes `**`, which is legal but over-broad. Refuses empty touches, absolute paths (`/x`,
    `C:\\`), `~`, any `..` component, paths inside `.git`, and `!` / `#` lines, which gitignore
    reads as negation and comment. A backslash is gitignore's escape, not a separator.
    """
    touch = _normalize_once(raw, raw)
    while (again := _normalize_once(touch, raw)) != touch:  # e.g. "./ ." exposes a new "."
        touch = again
    return touch


def _normalize_once(text: str, raw: str) -> str:
    shown = raw.strip()
    text = text.strip().strip("`").strip()
    if not text:
        raise ValueError("empty touch: name a file, a folder (`api/`) or a glob (`api/**/*.py`)")
    if text.startswith("/") or _DRIVE.match(text):
        raise ValueError(
            f"touch {shown!r} is absolute: write it relative to the repo root (`.` is the whole repository)"
        )
    if text.startswith(("!", "#")):
        raise ValueError(
            f"touch {shown!r} starts with {text[0]!r}, which gitignore reads "
            "as negation or comment: name the paths the task writes"
        )
    parts = [part for part in text.split("/") if part not in ("", ".")]
    if ".." in parts:
        raise ValueError(f"touch {shown!r} contains '..': it may escape the repository")
    if parts and (parts[0] == ".git" or parts[0].startswith("~")):
        raise ValueError(f"touch {shown!r} is outside the work tree")
    if not parts:
        return WHOLE_REPO
    touch = "/".join(parts) + ("/" if text.endswith("/") else "")
    if GLOB_CHARS.isdisjoint(touch):
        return touch  # a plain path is always a valid pattern: skip compiling one (large plans)
    try:
        glob_spec((touch,))
    except Exception as exc:  # pathspec raises several types for a bad pattern
        raise ValueError(f"touch {shown!r} is not a valid gitignore pattern: {exc}") from exc
    return touch


def is_glob(touch: str) -> bool:
    """Whether a touch (or one of its segments) holds a gitignore wildcard or escape."""
    return not GLOB_CHARS.isdisjoint(touch)


def path_allowed(touches: Sequence[str], path: str) -> bool:
    """Whether a task with these normalised touches may write `path` (repo-relative, `/`-separated).

    No touches (a read-only task) allow nothing. Plain paths are matched directly; globs
    through pathspec (`path_rules.allowed`, the one matcher the hook shares).
    """
    return allowed(touches, path)


def contained(inner: str, outer: Sequence[str]) -> bool:
    """Whether every path the normalised touch `inner` can match is allowed by `outer` (sound:
    unsure means False). A glob is judged by its literal leading folders: `docs/**/*.md` is
    inside `docs/`, `**/*.md` inside nothing narrower than `**`."""
    if inner in outer or WHOLE_REPO in outer:
        return True
    if GLOB_CHARS.isdisjoint(inner):
        probe = inner  # `a/b` (file or folder, and all under it) or `a/b/` (the folder)
    else:
        prefix = literal_prefix(inner)
        if not prefix:
            return False
        probe = "/".join(prefix) + "/"
    # gitignore semantics: a pattern that matches a path matches everything under it too.
    return any(path_allowed([touch], probe) for touch in outer)


def conflicts(a: str, b: str) -> bool:
    """Whether some path could match both normalised touches (sound: unsure means True)."""
    if a == b:
        return True
    if GLOB_CHARS.isdisjoint(a) and GLOB_CHARS.isdisjoint(b):
        shorter, longer = sorted((a.rstrip("/").split("/"), b.rstrip("/").split("/")), key=len)
        return longer[: len(shorter)] == shorter
    return _intersect(_segments(a), _segments(b))


def conflict_pairs(touches: Sequence[str]) -> list[tuple[int, int]]:
    """Every pair (i, j), i < j, of distinct-position touches that conflict.

    Indexed by literal leading folders, so it compares only touches on one branch of the tree
    (a touch starting with a glob is compared with all): near-linear for real plans, not n².
    """
    by_prefix: dict[tuple[str, ...], list[int]] = {}
    prefixes = [literal_prefix(touch) for touch in touches]
    for index, prefix in enumerate(prefixes):
        by_prefix.setdefault(prefix, []).append(index)
    pairs: list[tuple[int, int]] = []
    for index, prefix in enumerate(prefixes):
        for depth in range(len(prefix) + 1):
            for other in by_prefix.get(prefix[:depth], ()):
                if depth == len(prefix) and other >= index:
                    break  # same node: each pair once, from its larger index
                if conflicts(touches[other], touches[index]):
                    pairs.append((min(index, other), max(index, other)))
    return pairs


def literal_prefix(touch: str) -> tuple[str, ...]:
    """The leading segments with no glob characters: any path both match starts with them."""
    prefix: list[str] = []
    for segment in touch.rstrip("/").split("/"):
        if GLOB_CHARS.intersection(segment):
            break
        prefix.append(segment)
    return tuple(prefix)


@lru_cache(maxsize=4096)
def _segments(touch: str) -> tuple[_Segment, ...]:
    # A folder touch matches the same files as the bare path (only the folder itself differs,
    # and a file cannot be both): the trailing slash never changes a conflict.
    return tuple(
        _ANY_DEPTH if part == _ANY_DEPTH else _parse_segment(part) for part in touch.rstrip("/").split("/")
    )


def _intersect(a: tuple[_Segment, ...], b: tuple[_Segment, ...]) -> bool:
    """Is there a path whose prefixes match `a` and `b`? (A match covers everything below.)

    Search over (i, j) = segments of a and b consumed; `**` absorbs any number of segments.
    Done as soon as one side is fully matched: the other side can always continue below it.
    """
    seen: set[tuple[int, int]] = set()
    stack = [(0, 0)]
    while stack:
        i, j = stack.pop()
        if i == len(a) or j == len(b):
            return True
        if (i, j) in seen:
            continue
        seen.add((i, j))
        star_a, star_b = a[i] == _ANY_DEPTH, b[j] == _ANY_DEPTH
        if star_a:
            stack += [(i + 1, j), (i, j + 1)]
        if star_b:
            stack += [(i, j + 1), (i + 1, j)]
        if not (star_a or star_b) and _segment_overlap(a[i], b[j]):
            stack.append((i + 1, j + 1))
    return False


@lru_cache(maxsize=65536)
def _segment_overlap(a: _Segment, b: _Segment) -> bool:
    """Can one path segment match both segment globs? Same search over their tokens."""
    if a is None or b is None or isinstance(a, str) or isinstance(b, str):
        return True
    seen: set[tuple[int, int]] = set()
    stack = [(0, 0)]
    while stack:
        i, j = stack.pop()
        if i == len(a) and j == len(b):
            return True
        if (i, j) in seen:
            continue
        seen.add((i, j))
        tok_a = a[i] if i < len(a) else None
        tok_b = b[j] if j < len(b) else None
        if tok_a == _STAR:
            stack.append((i + 1, j))
            if tok_b is not None and tok_b != _STAR:
                stack.append((i, j + 1))
        if tok_b == _STAR:
            stack.append((i, j + 1))
            if tok_a is not None and tok_a != _STAR:
                stack.append((i + 1, j))
        if (
            tok_a is not None
            and tok_a != _STAR
            and tok_b is not None
            and tok_b != _STAR
            and _char_overlap(tok_a, tok_b)
        ):
            stack.append((i + 1, j + 1))
    return False


def _char_overlap(a: _Token, b: _Token) -> bool:
    """Can one character match both single-character tokens (never `*`)?"""
    if isinstance(a, str) or isinstance(b, str):
        return True  # `?` matches any character
    if isinstance(a, _Lit) and isinstance(b, _Lit):
        return a == b
    if isinstance(a, _Lit) or isinstance(b, _Lit):
        char, cls = (a, b) if isinstance(a, _Lit) else (b, a)
        assert isinstance(char, _Lit) and isinstance(cls, _Class)
        return any(lo <= char.char <= hi for lo, hi in cls.ranges) != cls.negated
    if a.negated and b.negated:
        return True  # both exclude a few characters of a huge alphabet
    if a.negated or b.negated:
        positive, excluded = (b, a) if a.negated else (a, b)
        return not all(_covered(lo, hi, excluded.ranges) for lo, hi in positive.ranges)
    return any(lo_a <= hi_b and lo_b <= hi_a for lo_a, hi_a in a.ranges for lo_b, hi_b in b.ranges)


def _covered(lo: str, hi: str, ranges: tuple[tuple[str, str], ...]) -> bool:
    """Is every character from lo to hi inside the union of ranges?"""
    point = ord(lo)
    for r_lo, r_hi in sorted(ranges):
        if ord(r_lo) <= point <= ord(r_hi):
            point = ord(r_hi) + 1
    return point > ord(hi)


def _parse_segment(text: str) -> _Segment:
    """Tokens of one segment glob; None when beyond this parser (then: matches any one segment),
    `**` when it may match across a `/`."""
    tokens: list[_Token] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char == "\\":
            if i + 1 == len(text):
                return None
            tokens.append(_Lit(text[i + 1]))
            i += 2
        elif char == "*":
            if not tokens or tokens[-1] != _STAR:
                tokens.append(_STAR)
            i += 1
        elif char == "?":
            tokens.append(_ANY)
            i += 1
        elif char == "[":
            parsed = _parse_class(text, i)
            if parsed is None:
                return None
            token, i = parsed
            if _char_overlap(token, _Lit("/")):
                # git's classes never match "/", pathspec's can (`a[!x]b` matches `a/b`), and
                # the hook matches with pathspec: such a segment may span several segments.
                return _ANY_DEPTH
            tokens.append(token)
        else:
            tokens.append(_Lit(char))
            i += 1
    return tuple(tokens)


def _parse_class(text: str, start: int) -> tuple[_Class, int] | None:
    """A `[...]` class starting at text[start]: (token, index after it), None if unsure."""
    i = start + 1
    negated = i < len(text) and text[i] in "!^"
    i += negated
    chars: list[str] = []
    first = True
    while i < len(text) and (first or text[i] != "]"):
        if text[i] == "\\" and i + 1 < len(text):
            i += 1
        elif text.startswith("[:", i):
            return None  # POSIX classes: leave to "may match anything"
        chars.append(text[i])
        i += 1
        first = False
    if i >= len(text):
        return None
    ranges: list[tuple[str, str]] = []
    k = 0
    while k < len(chars):
        if k + 2 < len(chars) and chars[k + 1] == "-":
            ranges.append((chars[k], chars[k + 2]))
            k += 3
        else:
            ranges.append((chars[k], chars[k]))
            k += 1
    return _Class(negated, tuple(ranges)), i + 1
