"""Commit everything in a worktree, through the same scope check the pre-commit hook runs.

libgit2 runs no hooks, so the check is called here before anything is written: a refused
commit leaves the index file, the working tree and the branch exactly as they were.
New files matching the caller's `exclude` patterns (an agent CLI's own caches) stay out of the
commit without touching the user's .gitignore; they are left untracked in the worktree.
Only what `git status` lists is staged (`dirty_paths`), in full and sparse worktrees alike:
libgit2's add-all would walk the whole tree (several times slower than git on a large one) and
take every file a sparse checkout leaves off disk for a deletion. The scope check then sees the
diff from HEAD's tree to the tree the whole index writes, so an entry staged any other way is
judged too; identical folders are skipped by id, so the cost follows the change.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import pathspec
import pygit2

from swarmgit.domain.scope import GITLINK_MODE, ScopeEntry
from swarmgit.errors import WorkFailed
from swarmgit.gitops.diff import changes_in, describe_paths, scope_entries
from swarmgit.gitops.refs import set_branch
from swarmgit.gitops.repo import head_commit, signature
from swarmgit.gitops.status import dirty_paths


class ScopeViolation(WorkFailed):
    """A commit would touch paths outside the task's touches; nothing was committed."""

    def __init__(self, paths: Sequence[str]) -> None:
        self.paths = tuple(paths)
        listing = describe_paths(self.paths)
        super().__init__(f"commit refused: paths outside the task's touches: {listing}")


def commit_all(
    worktree: Path,
    message: str,
    check: Callable[[Sequence[ScopeEntry]], Sequence[str]],
    exclude: Sequence[str] = (),
) -> str | None:
    """Stage every change in `worktree` (adds, edits, deletions; .gitignore respected) and
    commit it on the checked-out branch; returns the new commit's hex, None if nothing changed.

    `check(entries)` gets every path the commit touches (both sides of renames; written ones
    with mode and symlink target) and returns the offending ones, described; if any, raises
    ScopeViolation and writes nothing. New (untracked) files matching the gitignore-style
    `exclude` patterns are not staged.
    """
    repo = pygit2.Repository(str(worktree))
    if repo.head_is_detached:
        raise WorkFailed(f"worktree {worktree} has a detached HEAD: check out the task branch")
    branch = str(repo.references["HEAD"].target).removeprefix("refs/heads/")
    parent = head_commit(repo)
    head_tree = repo[parent if parent else repo.TreeBuilder().write()].peel(pygit2.Tree)
    dirty = dirty_paths(worktree, refresh=True)
    index = repo.index  # read after git status, which may have refreshed its stat data
    _stage(index, worktree, dirty)
    if exclude:
        _unstage_new_matching(index, head_tree, dirty, exclude)
    tree = index.write_tree()
    entries = scope_entries(changes_in(repo, head_tree.diff_to_tree(repo[tree].peel(pygit2.Tree))))
    if not entries:
        return None
    offending = list(check(entries))
    if offending:
        raise ScopeViolation(offending)
    index.write()
    author = signature(repo)
    parents = [] if parent is None else [pygit2.Oid(hex=parent)]
    commit = str(repo.create_commit(None, author, author, message, tree, parents))
    subject = message.partition("\n")[0]
    set_branch(repo, branch, commit, expect=parent, message=f"commit: {subject}")
    return commit


def _stage(index: pygit2.Index, worktree: Path, paths: Sequence[str]) -> None:
    """Stage each of `paths` as it is in `worktree`: files and symlinks added, a submodule's
    folder as its checked-out commit, gone ones (or a file now a folder) removed. A folder
    (`git status` lists an untracked nested repository so) is a WorkFailed."""
    for path in paths:
        if path.endswith("/"):
            raise WorkFailed(
                f"{path} in {worktree} is a nested git repository, which swarmgit "
                "does not commit: move it out of the worktree"
            )
        where = worktree / path
        if where.is_symlink() or where.is_file() or (where.is_dir() and _is_gitlink(index, path)):
            index.add(path)
        elif path in index:  # not yet when the deletion is already staged
            index.remove(path)


def _is_gitlink(index: pygit2.Index, path: str) -> bool:
    return path in index and index[path].mode == GITLINK_MODE


def _unstage_new_matching(
    index: pygit2.Index, head_tree: pygit2.Tree, dirty: Sequence[str], patterns: Sequence[str]
) -> None:
    """Drop from `index` the files it adds (no file at that path in `head_tree`; `git status`
    lists every such one among `dirty`) that match `patterns`."""
    spec = pathspec.GitIgnoreSpec.from_lines(patterns)
    for path in dirty:
        was_file = path in head_tree and not isinstance(head_tree[path], pygit2.Tree)
        if path in index and not was_file and spec.match_file(path):
            index.remove(path)
