"""In-memory merging of many heads into one commit: no checkout, no ref moved.

Task start points (base + finished deps + lock-ordered tasks) are a fold: merge each head, in
order, into the running result. The integration instead applies each task's change (start ->
final, as trees) with `apply_change`, so no task's history can alter what lands.

Tasks touch disjoint paths by construction, so most merges take a cheap way that gives the
same tree as git's 3-way merge: when the merge base is unique and no path the head changed
since it was changed on our side, the result is our tree with the head's changes applied,
rewriting only the folders on those paths (time follows the change, not the repository).
Anything else (criss-cross histories, paths changed on both sides) goes through libgit2's
full merge, which finds renames and merges file contents.

Commits are dated by their newest input (`write_commit`), so the same fold of the same heads
with the same messages gives the same commit ids: a resumed start point or integration
repeats itself exactly.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pygit2
from pygit2.enums import DeltaStatus, FileMode

from swarmgit.gitops.repo import signature

_Entry = tuple[pygit2.Oid, int]  # (object id, file mode) of a tree entry


@dataclass(frozen=True)
class Conflict:
    """The head (by label) whose merge conflicted, and the conflicting paths (sorted)."""

    label: str
    paths: tuple[str, ...]


@dataclass(frozen=True)
class FoldResult:
    """`commit` holds `start` and every head in `merged` (in order; heads it already contained
    are not listed). On a conflict, `commit` is the result just before the failing head."""

    commit: str
    merged: tuple[str, ...]
    conflict: Conflict | None


def fold_merge(
    repo: pygit2.Repository,
    start: str,
    heads: Sequence[tuple[str, str]],
    message: Callable[[str], str],
) -> FoldResult:
    """Fold `heads` (label, full commit hex) one by one into `start`; stop at the first conflict.

    A head already contained is skipped; one that contains the current result is
    fast-forwarded to; any other is merged (renames found) into a new merge commit with
    parents (current result, head) and message `message(label)`. Objects are written, refs not.
    """
    current = start
    merged: list[str] = []
    for label, head in heads:
        base = repo.merge_base(current, head)
        if str(base) == head:
            continue
        if str(base) == current:
            current = head
        else:
            tree = _merged_tree(repo, current, head, base)
            if isinstance(tree, tuple):
                return FoldResult(current, tuple(merged), Conflict(label, tree))
            current = write_commit(repo, [current, head], tree, message(label), [current, head])
        merged.append(label)
    return FoldResult(current, tuple(merged), None)


def apply_change(
    repo: pygit2.Repository, start: str, ours: str | pygit2.Oid, final: str
) -> pygit2.Oid | tuple[str, ...]:
    """The tree of `ours` (a commit or tree) with the change `start` -> `final` applied, or the
    conflicting paths: a 3-way merge of trees whose ancestor is `start`, whatever the history
    between them (commits `final` reverted or merged count only by their effect on its tree)."""
    tree = _disjoint_merge(repo, start, ours, final)
    if tree is not None:
        return tree
    ancestor, our_tree, their_tree = (repo[rev].peel(pygit2.Tree) for rev in (start, ours, final))
    return _result_tree(repo, repo.merge_trees(ancestor, our_tree, their_tree))


def change_contained(repo: pygit2.Repository, start: str, final: str, commit: str) -> bool:
    """True when applying the change `start` -> `final` to `commit` changes nothing."""
    applied = apply_change(repo, start, commit, final)
    return applied == repo[commit].peel(pygit2.Tree).id


def write_commit(
    repo: pygit2.Repository,
    parents: Sequence[str],
    tree: pygit2.Oid,
    message: str,
    inputs: Sequence[str],
) -> str:
    """A commit (no ref moved) dated by the newest of the `inputs` commits, so the same
    parents, tree, message and inputs always give the same id."""
    newest = max((repo[c].peel(pygit2.Commit) for c in inputs), key=lambda c: c.commit_time)
    who = signature(repo)
    when = pygit2.Signature(who.name, who.email, newest.commit_time, newest.commit_time_offset)
    return str(repo.create_commit(None, when, when, message, tree, [pygit2.Oid(hex=p) for p in parents]))


def _merged_tree(
    repo: pygit2.Repository, ours: str, theirs: str, base: pygit2.Oid | None
) -> pygit2.Oid | tuple[str, ...]:
    """The tree of the 3-way merge of `theirs` into `ours`, or the conflicting paths."""
    if base is not None and _sole_base(repo, base, ours, theirs):
        tree = _disjoint_merge(repo, base, ours, theirs)
        if tree is not None:
            return tree
    return _result_tree(repo, repo.merge_commits(ours, theirs))


def _result_tree(repo: pygit2.Repository, index: pygit2.Index) -> pygit2.Oid | tuple[str, ...]:
    conflicts = index.conflicts
    if conflicts is not None:
        return tuple(sorted({e.path for sides in conflicts for e in sides if e is not None}))
    return index.write_tree(repo)


def _sole_base(repo: pygit2.Repository, base: pygit2.Oid, ours: str, theirs: str) -> bool:
    """True when every common ancestor of `ours` and `theirs` is in `base`'s history.

    Commits of `theirs` outside `base`'s history that `ours` also reaches are common
    ancestors `base` does not account for (a criss-cross): then there are several bases.
    """
    beyond_base = _count(repo, theirs, [base])
    return beyond_base == _count(repo, theirs, [base, pygit2.Oid(hex=ours)])


def _count(repo: pygit2.Repository, tip: str, hidden: Sequence[pygit2.Oid]) -> int:
    walker = repo.walk(pygit2.Oid(hex=tip))
    for oid in hidden:
        walker.hide(oid)
    return sum(1 for _ in walker)


def _disjoint_merge(
    repo: pygit2.Repository, base_id: str | pygit2.Oid, ours: str | pygit2.Oid, theirs: str
) -> pygit2.Oid | None:
    """Our tree with their changes since `base_id` applied, when none of those paths changed
    on our side (nor needs a folder where we have a file); else None."""
    base, our_tree = repo[base_id].peel(pygit2.Tree), repo[ours].peel(pygit2.Tree)
    changes: dict[str, _Entry | None] = {}
    for delta in base.diff_to_tree(repo[theirs].peel(pygit2.Tree)).deltas:
        path = delta.new_file.path
        if _entry(our_tree, path) != _entry(base, path) or _file_in_the_way(our_tree, path):
            return None
        deleted = delta.status == DeltaStatus.DELETED
        changes[path] = None if deleted else (delta.new_file.id, delta.new_file.mode)
    return _rebuild(repo, our_tree, changes) or repo.TreeBuilder().write()


def _rebuild(
    repo: pygit2.Repository, tree: pygit2.Tree | None, changes: dict[str, _Entry | None]
) -> pygit2.Oid | None:
    """`tree` with `changes` (relative path -> entry; None deletes) written, rewriting only
    the folders on changed paths. None when the result is empty (git stores no empty folder)."""
    builder = repo.TreeBuilder() if tree is None else repo.TreeBuilder(tree)
    nested: dict[str, dict[str, _Entry | None]] = {}
    for path, entry in changes.items():
        name, sep, rest = path.partition("/")
        if sep:
            nested.setdefault(name, {})[rest] = entry
        elif entry is None:
            builder.remove(name)
        else:
            builder.insert(name, entry[0], FileMode(entry[1]))
    for name, inner in nested.items():
        old = None if tree is None or name not in tree else repo[tree[name].id].peel(pygit2.Tree)
        written = _rebuild(repo, old, inner)
        if written is not None:
            builder.insert(name, written, FileMode.TREE)
        elif old is not None:
            builder.remove(name)
    result = builder.write()
    return result if len(repo[result].peel(pygit2.Tree)) else None


def _entry(tree: pygit2.Tree, path: str) -> _Entry | None:
    try:
        found = tree[path]
    except KeyError:
        return None
    return found.id, found.filemode


def _file_in_the_way(tree: pygit2.Tree, path: str) -> bool:
    """True when `tree` has a file at a parent folder of `path`, or a folder at `path`."""
    parts = path.split("/")
    for depth in range(1, len(parts)):
        entry = _entry(tree, "/".join(parts[:depth]))
        if entry is not None and entry[1] != FileMode.TREE:
            return True
    found = _entry(tree, path)
    return found is not None and found[1] == FileMode.TREE
