"""One linked worktree per task: created on its branch, reused on resume, never deleted live.

A worktree holding uncommitted changes (untracked files included, ignored ones not) or a
detached HEAD that no branch contains is never removed.
"""
from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pygit2
from pygit2.enums import CheckoutStrategy

from swarmgit.errors import UsageError, WorkFailed
from swarmgit.gitops.diff import describe_paths
from swarmgit.gitops.refs import branch_tip, set_branch
from swarmgit.gitops.repo import common_dir, contains, current_branch


@dataclass(frozen=True)
class WorktreeInfo:
    """A linked worktree: its name (in `.git/worktrees/`), folder and branch (None: detached)."""

    name: str
    path: Path
    branch: str | None


def create_task_worktree(
    repo: pygit2.Repository, *, name: str, path: Path, branch: str, start: str
) -> Path:
    """A linked worktree `name` at `path`, checked out on `branch`, which starts at `start`.

    Resumable: an existing `branch` is reused when it contains `start` (else WorkFailed, the
    branch is never moved), and an existing worktree `name` at `path` on `branch` is reused
    (its checkout completed if a crash cut it short).
    An existing non-empty folder at `path` that is not that worktree is a WorkFailed.
    """
    if not name or "/" in name:
        raise UsageError(f"invalid worktree name {name!r}: it must be non-empty and have no '/'")
    _ensure_branch(repo, branch, start)
    if name in repo.list_worktrees():
        worktree = repo.lookup_worktree(name)
        if not worktree.is_prunable:
            return _resume(repo, name, Path(worktree.path), path, branch)
        worktree.prune(False)
    _clear_empty(common_dir(repo) / "worktrees" / name)
    if path.exists() and not _clear_empty(path):
        if not _interrupted_creation(repo, name, path):
            raise WorkFailed(f"{path} already exists and is not worktree {name}: move it away")
        # A crash cut `add_worktree` short before git registered it: keep the files, aside.
        path.rename(path.with_name(f"{path.name}.interrupted-{uuid.uuid4().hex[:8]}"))
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        repo.add_worktree(name, str(path), repo.lookup_reference(f"refs/heads/{branch}"))
    except pygit2.GitError as exc:
        # A failed add leaves an empty `.git/worktrees/<name>` that would block the next try.
        _clear_empty(common_dir(repo) / "worktrees" / name)
        raise WorkFailed(f"cannot create worktree {name} at {path}: {exc}") from exc
    return path


def _interrupted_creation(repo: pygit2.Repository, name: str, path: Path) -> bool:
    """`path` holds a `.git` file naming this repository's worktree `name`, which git does not
    know (it is in no worktree list): the leftover of a creation a crash interrupted."""
    try:
        pointer = (path / ".git").read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return False
    expected = common_dir(repo) / "worktrees" / name
    return pointer.startswith("gitdir:") and Path(pointer[len("gitdir:"):].strip()) == expected


def dirty_paths(worktree: Path) -> list[str]:
    """Paths with uncommitted changes in `worktree`: staged, unstaged, untracked (not ignored)."""
    return sorted(pygit2.Repository(str(worktree)).status())


@dataclass(frozen=True)
class CheckoutState:
    """The uncommitted changes of the worktree (`path`; None: checked out nowhere) that has a
    branch checked out: each dirty path -> its git status and the hash of its content."""

    path: Path | None
    dirty: Mapping[str, str]


def checkout_state(repo: pygit2.Repository, branch: str) -> CheckoutState:
    """What is uncommitted, right now, where `branch` is checked out."""
    where = checked_out_at(repo, branch)
    if where is None:
        return CheckoutState(None, {})
    status = pygit2.Repository(str(where)).status()
    return CheckoutState(where, {path: f"{flags}:{_content_id(where / path)}" for path, flags in status.items()})


def changed_since(before: CheckoutState, now: CheckoutState) -> list[str]:
    """Paths whose uncommitted state differs between two looks at a checkout (another
    checkout counts as all new)."""
    earlier = before.dirty if before.path == now.path else {}
    return sorted(p for p in {*earlier, *now.dirty} if earlier.get(p) != now.dirty.get(p))


def _content_id(path: Path) -> str:
    if path.is_symlink():
        return str(pygit2.hash(os.readlink(path)))
    if path.is_file():
        return str(pygit2.hashfile(str(path)))
    return "absent"


def remove_worktree(repo: pygit2.Repository, name: str, path: Path) -> None:
    """Delete worktree `name`'s folder `path` and its registration; the branch is kept.

    WorkFailed, and nothing removed, when the folder holds uncommitted changes, has a
    detached HEAD no branch contains, or is not the registered folder of worktree `name`.
    """
    registered = name in repo.list_worktrees()
    if registered and not _same_path(Path(repo.lookup_worktree(name).path), path):
        raise WorkFailed(f"worktree {name} is not at {path}; not removing it")
    if path.exists():
        if not registered:
            raise WorkFailed(f"{path} is not the worktree {name}; not removing it")
        _refuse_if_live(repo, path)
        shutil.rmtree(path)
    if registered:
        repo.lookup_worktree(name).prune(True)


def prune(repo: pygit2.Repository) -> list[str]:
    """Forget worktrees whose folder is gone (and that are not locked); returns their names."""
    pruned = []
    for name in repo.list_worktrees():
        worktree = repo.lookup_worktree(name)
        if worktree.is_prunable:
            worktree.prune(False)
            pruned.append(name)
    return pruned


def list_worktrees(repo: pygit2.Repository) -> list[WorktreeInfo]:
    """The linked worktrees (not the main one), by name."""
    return [
        WorktreeInfo(name, Path(repo.lookup_worktree(name).path), _branch_of(repo, name))
        for name in sorted(repo.list_worktrees())
    ]


def checked_out_at(repo: pygit2.Repository, branch: str) -> Path | None:
    """The folder of the worktree (main or linked) that has `branch` checked out, if any."""
    main = pygit2.Repository(str(common_dir(repo)))
    if main.workdir is not None and current_branch(main) == branch:
        return Path(main.workdir)
    for info in list_worktrees(repo):
        if info.branch == branch and info.path.exists():
            return info.path
    return None


def _ensure_branch(repo: pygit2.Repository, branch: str, start: str) -> None:
    tip = branch_tip(repo, branch)
    if tip is None:
        set_branch(repo, branch, start, expect=None, message=f"swarm: branch at {start[:12]}")
    elif not contains(repo, tip, start):
        raise WorkFailed(
            f"branch {branch} already exists at {tip[:12]}, which does not contain the task's "
            f"start point {start[:12]}; rename or delete that branch, then resume"
        )


def _resume(
    repo: pygit2.Repository, name: str, registered: Path, path: Path, branch: str
) -> Path:
    if not _same_path(registered, path):
        raise WorkFailed(f"worktree {name} already exists at {registered}, not at {path}")
    checked_out = _branch_of(repo, name)
    if checked_out != branch:
        raise WorkFailed(
            f"worktree {name} at {path} is on {checked_out or 'a detached HEAD'}, not {branch}"
        )
    if not (common_dir(repo) / "worktrees" / name / "index").exists():
        # The index is written when checkout ends: without it, a crash interrupted the
        # checkout (no agent has run there yet), so finish it rather than commit the gaps.
        # pygit2 ships checkout_head without annotations.
        pygit2.Repository(str(path)).checkout_head(strategy=CheckoutStrategy.FORCE)  # type: ignore[no-untyped-call]
    return path


def _branch_of(repo: pygit2.Repository, name: str) -> str | None:
    # The worktree's git dir opens even when its folder is gone.
    return current_branch(pygit2.Repository(str(common_dir(repo) / "worktrees" / name)))


def _refuse_if_live(repo: pygit2.Repository, path: Path) -> None:
    dirty = dirty_paths(path)
    if dirty:
        raise WorkFailed(
            f"worktree {path} has uncommitted changes ({describe_paths(dirty)}); "
            "commit or discard them, then remove it"
        )
    worktree = pygit2.Repository(str(path))
    if worktree.head_is_detached:
        head = str(worktree.head.target)
        if not any(contains(repo, tip, head) for tip in _branch_tips(repo)):
            raise WorkFailed(
                f"worktree {path} has a detached HEAD {head[:12]} that no branch contains; "
                "create a branch there first"
            )


def _branch_tips(repo: pygit2.Repository) -> list[str]:
    refs = (repo.references[name] for name in repo.references if name.startswith("refs/heads/"))
    return [str(ref.target) for ref in refs]


def _same_path(a: Path, b: Path) -> bool:
    return a.resolve() == b.resolve()


def _clear_empty(folder: Path) -> bool:
    """Remove `folder` if it is an empty directory; True when it no longer exists."""
    if folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()
    return not folder.exists()
