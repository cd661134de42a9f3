"""Opening a repository and the facts every other git module asks of it.

pygit2 objects belong to one `Repository`: callers pass commit ids as hex strings between
modules and threads, and open one `Repository` per thread.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import pygit2
from pygit2.enums import FileMode, SortMode

from swarmgit.errors import UsageError

FALLBACK_NAME = "swarmgit"
FALLBACK_EMAIL = "swarmgit@localhost"


def discover(path: Path) -> pygit2.Repository:
    """The repository (main or linked worktree) containing `path`; UsageError when none."""
    found = pygit2.discover_repository(str(path))
    if found is None:
        raise UsageError(f"not a git repository: {path}")
    try:
        return pygit2.Repository(found)
    except pygit2.GitError as exc:  # InvalidError subclasses it
        if "object format" in str(exc):
            raise UsageError(
                f"{found} uses an object format libgit2 does not read yet ({exc}); swarmgit "
                "needs a sha1 repository (the default of `git init`)"
            ) from exc
        raise UsageError(f"cannot open the git repository at {found}: {exc}") from exc


def workdir(repo: pygit2.Repository) -> Path:
    """Top level of this repository's working tree; UsageError for a bare repository."""
    if repo.workdir is None:
        raise UsageError(f"{repo.path} is a bare repository: it has no working tree")
    return Path(repo.workdir)


def main_workdir(common: Path) -> Path | None:
    """The main working tree of the repository whose common dir is `common` (whichever of its
    worktrees asks); None for a bare repository."""
    main = pygit2.Repository(str(common)).workdir
    return None if main is None else Path(main)


def common_dir(repo: pygit2.Repository) -> Path:
    """The git dir shared by all worktrees (`.git` of the main one), also from a linked worktree."""
    git_dir = Path(repo.path)
    pointer = git_dir / "commondir"
    if not pointer.is_file():
        return git_dir
    # git writes a relative path ("../.."), libgit2 an absolute one; `/` handles both.
    return (git_dir / pointer.read_text(encoding="utf-8").strip()).resolve()


def current_branch(repo: pygit2.Repository) -> str | None:
    """Short name of the checked-out branch; None when HEAD is detached or unborn."""
    if repo.head_is_detached or repo.head_is_unborn:
        return None
    return repo.head.shorthand


def head_commit(repo: pygit2.Repository) -> str | None:
    """Hex id of the commit HEAD points at; None on an unborn branch."""
    if repo.head_is_unborn:
        return None
    return str(repo.head.target)


def signature(repo: pygit2.Repository) -> pygit2.Signature:
    """Who commits, per field: GIT_AUTHOR_NAME/EMAIL, else user.name/email, else the fallback
    `swarmgit <swarmgit@localhost>`. (libgit2 ignores the GIT_AUTHOR_* variables.)
    """
    config = repo.config
    name = os.environ.get("GIT_AUTHOR_NAME") or _config_value(config, "user.name")
    email = os.environ.get("GIT_AUTHOR_EMAIL") or _config_value(config, "user.email")
    return pygit2.Signature(name or FALLBACK_NAME, email or FALLBACK_EMAIL)


def tree_blobs(repo: pygit2.Repository, commit: str) -> dict[str, pygit2.Oid]:
    """Every file path in the tree of `commit` with its object id (a submodule's: its commit)."""
    index = pygit2.Index()
    index.read_tree(repo[commit].peel(pygit2.Tree))
    return {entry.path: entry.id for entry in index}


REGULAR_FILE_MODES = frozenset({FileMode.BLOB, FileMode.BLOB_EXECUTABLE})


def tree_regular_files(repo: pygit2.Repository, commit: str) -> dict[str, pygit2.Oid]:
    """`tree_blobs` without symlinks (mode 120000: the blob is the link's target path) and
    submodules: the files whose blob is their content."""
    index = pygit2.Index()
    index.read_tree(repo[commit].peel(pygit2.Tree))
    return {entry.path: entry.id for entry in index if entry.mode in REGULAR_FILE_MODES}


def tracked_files(repo: pygit2.Repository, commit: str) -> list[str]:
    """Every file path (sorted) in the tree of `commit`."""
    return sorted(tree_blobs(repo, commit))


def case_variants(repo: pygit2.Repository, commit: str, paths: Sequence[str]) -> list[str]:
    """The files tracked in `commit` (sorted) under a name that differs only in case from a
    component of one of `paths`, found where the folders above it have exactly the path's
    spelling: all the case check (`domain.scope`) needs of the tracked files to judge `paths`,
    read from the few folders along them instead of the whole tree. (A clash whose spelling
    first differs higher up is found at that higher folder, which comes first.)"""
    root = repo[commit].peel(pygit2.Tree)
    found: set[str] = set()
    for path in paths:
        tree, folder = root, ""
        for name in path.split("/"):
            lower = name.lower()
            for entry in tree:
                if entry.name is not None and entry.name != name and entry.name.lower() == lower:
                    found.update(_files_below(repo, entry, folder + entry.name))
            below = tree[name] if name in tree else None
            if not isinstance(below, pygit2.Tree):
                break
            tree, folder = below, f"{folder}{name}/"
    return sorted(found)


def _files_below(repo: pygit2.Repository, entry: pygit2.Object, path: str) -> list[str]:
    """`path` itself, or, for a folder, every file in it (with its path)."""
    if entry.filemode != FileMode.TREE:
        return [path]
    index = pygit2.Index()
    index.read_tree(repo[entry.id].peel(pygit2.Tree))
    return [f"{path}/{item.path}" for item in index]


def resolve(repo: pygit2.Repository, rev: str) -> str:
    """Hex id of the commit `rev` names (branch, tag, hex, `HEAD~2`...); UsageError if none."""
    try:
        return str(repo.revparse_single(rev).peel(pygit2.Commit).id)
    except (KeyError, ValueError, pygit2.GitError) as exc:
        raise UsageError(f"unknown revision: {rev}") from exc


def is_commit(repo: pygit2.Repository, commit: str) -> bool:
    """True when `commit` is the full or short hex id of a commit in `repo`."""
    try:
        return isinstance(repo.get(commit), pygit2.Commit)
    except (ValueError, TypeError):
        return False


def commits_between(repo: pygit2.Repository, tips: Sequence[str], hidden: Sequence[str]) -> set[str]:
    """Hex ids of the commits reachable from `tips` and not from `hidden`."""
    walker = repo.walk(None)
    for tip in tips:
        walker.push(pygit2.Oid(hex=tip))
    for commit in hidden:
        walker.hide(pygit2.Oid(hex=commit))
    return {str(c.id) for c in walker}


def contains(repo: pygit2.Repository, tip: str, commit: str) -> bool:
    """True when `commit` is `tip` or one of its ancestors (moving `commit` to `tip` is a
    fast-forward)."""
    return tip == commit or repo.descendant_of(tip, commit)


def same_tree(repo: pygit2.Repository, a: str, b: str) -> bool:
    """True when commits `a` and `b` hold the very same tree (no change between them)."""
    return repo[a].peel(pygit2.Tree).id == repo[b].peel(pygit2.Tree).id


def messages_between(repo: pygit2.Repository, old: str, new: str) -> list[str]:
    """The messages of the commits reachable from `new` but not from `old`, oldest first."""
    walker = repo.walk(pygit2.Oid(hex=new), SortMode.TOPOLOGICAL | SortMode.REVERSE)
    walker.hide(pygit2.Oid(hex=old))
    return [commit.message for commit in walker]


def _config_value(config: pygit2.Config, key: str) -> str | None:
    try:
        return str(config[key])
    except KeyError:
        return None
