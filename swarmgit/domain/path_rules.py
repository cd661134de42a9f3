"""The per-path part of the scope rules: is a path normalised, and do the touches allow it.

The commit hook imports this module for every task commit, so it imports nothing at module
level (typing, re, functools and collections each cost the hook milliseconds). Plain touches
are matched here; globs through pathspec, imported only then.
"""

from __future__ import annotations

TYPE_CHECKING = False  # mypy reads this name as typing.TYPE_CHECKING; importing typing costs ms
if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    import pathspec

GLOB_CHARS = frozenset("*?[\\")
OUTSIDE = "outside its touches"


def has_glob(touches: Sequence[str]) -> bool:
    return any(not GLOB_CHARS.isdisjoint(touch) for touch in touches)


def literal_allows(touch: str, path: str) -> bool:
    """gitignore semantics of an anchored pattern without glob characters: `a/b` names the
    file or folder a/b (and so everything under it); `a/b/` names only the folder."""
    if touch.endswith("/"):
        return path.startswith(touch)
    return path == touch or path.startswith(touch + "/")


_SPECS: dict[tuple[str, ...], pathspec.GitIgnoreSpec] = {}


def glob_spec(touches: tuple[str, ...]) -> pathspec.GitIgnoreSpec:
    """The compiled gitignore spec of these (anchored) touches, cached; pathspec is imported
    here, lazily: its import alone costs the hook more than the rest of its check."""
    spec = _SPECS.get(touches)
    if spec is None:
        import pathspec

        spec = _SPECS[touches] = pathspec.GitIgnoreSpec.from_lines(["/" + t for t in touches])
    return spec


def allowed(touches: Sequence[str], path: str) -> bool:
    """Whether a task with these normalised touches may write `path` (repo-relative,
    `/`-separated): plain touches matched directly, globs through pathspec. No touches (a
    read-only task) allow nothing."""
    if has_glob(touches):
        return glob_spec(tuple(touches)).match_file(path)
    return any(literal_allows(touch, path) for touch in touches)


def path_problem(touches: Sequence[str], path: str) -> str:
    """Why a task with `touches` may not write `path`, or '' when it may."""
    if path.startswith("/") or "\\" in path:
        return "not a normalised repository path"
    parts = path.split("/")
    if "" in parts or "." in parts or ".." in parts or ".git" in path.lower():
        for part in parts:
            if part in ("", ".", ".."):
                return f"not a normalised repository path ({part or 'empty'!r} component)"
            if part.lower() == ".git":
                return "a .git component"
    if allowed(touches, path):
        return ""
    if allowed([touch.lower() for touch in touches], path.lower()):
        return "outside its touches: differs from them only in case"
    return OUTSIDE


def paths_outside(touches: Sequence[str], paths: Iterable[str]) -> list[str]:
    """The paths `touches` does not allow (`path_problem`: outside them, or not a normalised
    path, e.g. with a `..` or `.git` component), in input order, without repeats. A read-only
    task (no touches) allows nothing."""
    seen: set[str] = set()
    offenders: list[str] = []
    for path in paths:
        if path not in seen and path_problem(touches, path):
            offenders.append(path)
        seen.add(path)
    return offenders
