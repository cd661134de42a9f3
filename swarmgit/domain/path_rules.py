"""The per-path part of the scope rules: is a path normalised, and do the touches allow it.

The commit hook imports this module for every task commit, so it imports nothing at module
level (typing, re, functools and collections each cost the hook milliseconds). Plain touches
are matched here; a glob goes to `touches.path_allowed` (pathspec), imported only then.
"""
from __future__ import annotations

TYPE_CHECKING = False  # mypy reads this name as typing.TYPE_CHECKING; importing typing costs ms
if TYPE_CHECKING:
    from collections.abc import Sequence

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


def allowed(touches: Sequence[str], path: str) -> bool:
    """`touches.path_allowed`, without importing that module unless a touch is a glob."""
    if has_glob(touches):
        from swarmgit.domain.touches import path_allowed

        return path_allowed(touches, path)
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
