"""What changed between two trees: paths (renames found, both sides kept) and added lines.

Scope checks use `touched_paths`, which names every path a change writes or removes: both
sides of a rename, deleted files, mode changes. Gates use `line_changes`; the secret scan
uses `added_lines_between` and `uncommitted_added_lines` (binary files read as text).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pygit2
from pygit2.enums import DeltaStatus, DiffFind, DiffOption

_AS_TEXT = DiffOption.FORCE_TEXT

from swarmgit.domain.scope import SYMLINK_MODE, ScopeEntry
from swarmgit.gitops.status import dirty_paths


@dataclass(frozen=True)
class PathChange:
    """One changed path. `status` is git's letter: A, M, D, R (renamed) or T (type change).

    `old_path` is None for an added file, `new_path` None for a deleted one. `new_mode` is the
    new side's git mode (0 when deleted); `link_target` a new symlink's target (its blob).
    """

    status: str
    old_path: str | None
    new_path: str | None
    new_mode: int = 0
    link_target: str | None = None


def changes_between(repo: pygit2.Repository, old: str, new: str) -> list[PathChange]:
    """Changed paths from commit (or tree) `old` to `new`, with renames detected."""
    return changes_in(repo, _tree(repo, old).diff_to_tree(_tree(repo, new)))


def changes_in(repo: pygit2.Repository, diff: pygit2.Diff) -> list[PathChange]:
    """The path changes of a diff (tree to tree, or tree to index) in `repo`, after rename
    detection, with each new side's mode and, for a symlink, its target."""
    diff.find_similar(DiffFind.FIND_RENAMES)
    changes = []
    for delta in diff.deltas:
        status = delta.status_char()
        old = None if status == "A" else delta.old_file.path
        new = None if status == "D" else delta.new_file.path
        mode = 0 if new is None else int(delta.new_file.mode)
        target = _link_target(repo, delta.new_file.id) if mode == SYMLINK_MODE else None
        changes.append(PathChange(status, old, new, mode, target))
    return changes


def scope_entries(changes: Iterable[PathChange]) -> list[ScopeEntry]:
    """What the scope check judges: every path written or removed (both sides of renames),
    sorted, once each; the written ones with their mode and symlink target."""
    entries: dict[str, ScopeEntry] = {}
    for change in changes:
        if change.old_path is not None:
            entries.setdefault(change.old_path, ScopeEntry(change.old_path))
        if change.new_path is not None:
            entries[change.new_path] = ScopeEntry(change.new_path, change.new_mode, change.link_target)
    return [entries[path] for path in sorted(entries)]


def _link_target(repo: pygit2.Repository, oid: pygit2.Oid) -> str:
    blob = repo.get(oid)
    data = blob.data if isinstance(blob, pygit2.Blob) else b""
    return data.decode("utf-8", errors="surrogateescape")


def touched_paths(changes: Iterable[PathChange]) -> list[str]:
    """Every path the changes write or remove (both sides of renames), sorted, unique."""
    paths = {p for c in changes for p in (c.old_path, c.new_path) if p is not None}
    return sorted(paths)


def describe_paths(paths: Sequence[str], limit: int = 10) -> str:
    """Paths for an error message: the first `limit`, then how many more."""
    more = f" and {len(paths) - limit} more" if len(paths) > limit else ""
    return ", ".join(paths[:limit]) + more


@dataclass(frozen=True)
class LineChanges:
    """Every path changed between two commits (added, modified, renamed: the new path;
    deleted: the old path) with the new-side line numbers added or modified (empty for
    deletions, binary files and pure renames); `renames` maps a renamed file's new path to
    its old path."""

    lines: dict[str, frozenset[int]]
    renames: dict[str, str]


def line_changes(repo: pygit2.Repository, old: str, new: str) -> LineChanges:
    """The changed paths and lines from commit `old` to `new`, renames found."""
    diff = _tree(repo, old).diff_to_tree(_tree(repo, new), context_lines=0)
    diff.find_similar(DiffFind.FIND_RENAMES)
    lines: dict[str, frozenset[int]] = {}
    renames: dict[str, str] = {}
    for patch in diff:
        if patch is None:
            continue
        delta = patch.delta
        if delta.status == DeltaStatus.DELETED:
            lines[delta.old_file.path] = frozenset()
            continue
        if delta.status == DeltaStatus.RENAMED:
            renames[delta.new_file.path] = delta.old_file.path
        added = (line.new_lineno for hunk in patch.hunks for line in hunk.lines if line.origin == "+")
        lines[delta.new_file.path] = frozenset(() if delta.is_binary else added)
    return LineChanges(lines, renames)


def changed_lines(repo: pygit2.Repository, old: str, new: str) -> dict[str, set[int]]:
    """New-side line numbers added or modified, per file (new path) that has any.

    Pure deletions, binary files and unchanged renames contribute no entry.
    """
    return {path: set(added) for path, added in line_changes(repo, old, new).lines.items() if added}


@dataclass(frozen=True)
class AddedLine:
    """One line a change adds: its new path, its line number there, and its text."""

    path: str
    line: int
    text: str


def added_lines_between(repo: pygit2.Repository, old: str, new: str) -> Iterator[AddedLine]:
    """Every line added from commit `old` to `new`; a symlink's added line is its target."""
    return _added(_tree(repo, old).diff_to_tree(_tree(repo, new), flags=_AS_TEXT, context_lines=0))


def uncommitted_added_lines(worktree: Path, dirty: Sequence[str] | None = None) -> Iterator[AddedLine]:
    """Every line the working tree adds against its HEAD commit (a task worktree always has
    one), untracked files included (ignored ones not), without staging or writing objects.
    Only the paths `git status` lists are read (`dirty`: `dirty_paths(worktree)` when the
    caller has it already), so a sparse worktree's absent files are no deletions and cost
    nothing; a symlink's line is its target."""
    repo = pygit2.Repository(str(worktree))
    head = repo.head.peel(pygit2.Tree)
    found: list[AddedLine] = []
    for path in dirty_paths(worktree, refresh=True) if dirty is None else dirty:
        now = worktree / path
        if now.is_symlink():
            new = os.fsencode(os.readlink(now))
        elif now.is_file():
            new = now.read_bytes()
        else:
            continue  # deleted: it adds nothing
        old = repo[head[path].id] if path in head else None
        old = old if isinstance(old, pygit2.Blob) else None
        patch = pygit2.Patch.create_from(
            old, new, old_as_path=path, new_as_path=path, flag=_AS_TEXT, context_lines=0
        )
        found.extend(_added([patch]))  # at once: the patch's lines point into `new`'s buffer
    return iter(found)


def _added(diff: Iterable[pygit2.Patch | None]) -> Iterator[AddedLine]:
    for patch in diff:
        if patch is None:
            continue
        for hunk in patch.hunks:
            for line in hunk.lines:
                if line.origin == "+":
                    yield AddedLine(patch.delta.new_file.path, line.new_lineno, line.content)


def _tree(repo: pygit2.Repository, rev: str) -> pygit2.Tree:
    return repo.revparse_single(rev).peel(pygit2.Tree)


@dataclass(frozen=True)
class FileStat:
    """Lines added and deleted in one file of a change (binary files count 0/0)."""

    path: str
    added: int
    deleted: int
    binary: bool = False


def file_stats(repo: pygit2.Repository, old: str, new: str) -> list[FileStat]:
    """Per-file line counts from `old` to `new` (renames found; the new path names them)."""
    diff = _tree(repo, old).diff_to_tree(_tree(repo, new))
    diff.find_similar(DiffFind.FIND_RENAMES)
    stats = []
    for patch in diff:
        if patch is None:
            continue
        delta = patch.delta
        path = delta.new_file.path if delta.status_char() != "D" else delta.old_file.path
        if delta.status_char() == "R":
            path = f"{delta.old_file.path} => {delta.new_file.path}"
        _, added, deleted = patch.line_stats
        stats.append(FileStat(path, added, deleted, bool(delta.is_binary)))
    return stats


def patch_text(repo: pygit2.Repository, old: str, new: str) -> str:
    """The unified diff from `old` to `new`, as `git diff` prints it (renames found)."""
    diff = _tree(repo, old).diff_to_tree(_tree(repo, new))
    diff.find_similar(DiffFind.FIND_RENAMES)
    return diff.patch or ""
