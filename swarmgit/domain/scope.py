"""The scope check of a task's change: which changed entries its touches do not allow, and why.

A changed entry violates the scope when
- its path is not a normalised repository path: an empty, `.` or `..` component, a `.git`
  component in any case, a backslash, or a leading `/` (tree entries such as
  `docs/../frontend/b.py` would otherwise match `docs/`);
- its path is outside the touches (`path_allowed`), case-sensitively: `Docs/x` is not `docs/`;
- it is a symlink whose target, resolved from the link's own folder, leaves the repository
  (absolute, or above its root) or the touches;
- it is a gitlink (a submodule commit, mode 160000) that no touch names exactly;
- its path, or one of its folders, differs only in case from a tracked path outside the
  touches (on a case-insensitive file system it would write there).
The hook runs only `path_problem` (it lives in `path_rules`, which imports nothing, and is
re-exported here); swarmgit's own commits and the integrator run `scope_violations` on the
entries git supplies (mode, link target).
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable, Sequence
from typing import NamedTuple

from swarmgit.domain.path_rules import OUTSIDE, path_problem
from swarmgit.domain.touches import path_allowed

SYMLINK_MODE = 0o120000
GITLINK_MODE = 0o160000


class ScopeEntry(NamedTuple):
    """One path a change writes or removes. `mode`: the new side's git mode (0 when removed);
    `link_target`: a symlink's target as stored in its blob."""

    path: str
    mode: int = 0
    link_target: str | None = None


class Violation(NamedTuple):
    path: str
    why: str

    def render(self) -> str:
        """The path, and why unless it is simply outside the touches."""
        return self.path if self.why == OUTSIDE else f"{self.path} ({self.why})"


def scope_violations(
    touches: Sequence[str], entries: Iterable[ScopeEntry], tracked: Iterable[str] = ()
) -> list[Violation]:
    """Every violation among `entries` (see the module doc), one per path, in input order.
    `tracked`: the paths tracked where the change starts (for the case check); those whose
    spelling differs from the entries' only in case are enough (`gitops.repo.case_variants`)."""
    case_index = _case_index(touches, tracked)
    found: list[Violation] = []
    seen: set[str] = set()
    for entry in entries:
        if entry.path in seen:
            continue
        seen.add(entry.path)
        why = (
            path_problem(touches, entry.path)
            or _mode_problem(touches, entry)
            or _case_problem(case_index, entry.path)
        )
        if why:
            found.append(Violation(entry.path, why))
    return found


def _mode_problem(touches: Sequence[str], entry: ScopeEntry) -> str:
    if entry.mode == GITLINK_MODE and entry.path not in {t.rstrip("/") for t in touches}:
        return "a gitlink (submodule) the task was not given"
    if entry.mode != SYMLINK_MODE:
        return ""
    target = entry.link_target or ""
    if not target or target.startswith("/"):
        return f"a symlink to {target!r}, outside the repository"
    resolved = posixpath.normpath(posixpath.join(posixpath.dirname(entry.path), target))
    if resolved == ".." or resolved.startswith("../"):
        return f"a symlink to {target!r}, outside the repository"
    if path_problem(touches, resolved):
        return f"a symlink to {target!r}, outside its touches"
    return ""


def _case_index(touches: Sequence[str], tracked: Iterable[str]) -> dict[str, set[str]]:
    """Lower-cased path or folder → its spellings among tracked paths outside the touches."""
    index: dict[str, set[str]] = {}
    for path in tracked:
        if path_allowed(touches, path):
            continue
        parts = path.split("/")
        for depth in range(1, len(parts) + 1):
            prefix = "/".join(parts[:depth])
            index.setdefault(prefix.lower(), set()).add(prefix)
    return index


def _case_problem(index: dict[str, set[str]], path: str) -> str:
    parts = path.split("/")
    for depth in range(1, len(parts) + 1):
        prefix = "/".join(parts[:depth])
        clash = sorted(index.get(prefix.lower(), set()) - {prefix})
        if clash:
            return f"differs only in case from tracked {clash[0]!r}, outside its touches"
    return ""
