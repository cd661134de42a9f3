"""Branch updates that never force-move a branch and survive a briefly held ref lock.

libgit2 fails at once when another process holds `refs/heads/<b>.lock` (git does not wait
either), so the update is retried for about a second before giving up.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

import pygit2

from swarmgit.errors import UsageError, WorkFailed
from swarmgit.gitops.repo import contains, signature

_T = TypeVar("_T")
LOCK_ATTEMPTS = 50
LOCK_PAUSE_SECONDS = 0.02


def set_branch(
    repo: pygit2.Repository,
    branch: str,
    commit: str,
    *,
    expect: str | None,
    message: str,
    while_locked: Callable[[], None] | None = None,
) -> None:
    """Point `refs/heads/<branch>` at `commit`, atomically, writing `message` to the reflog.

    Allowed only when the branch's current value equals `expect` (None: the branch must not
    exist yet) or `commit` contains it (a fast-forward). Otherwise WorkFailed, and the branch
    is left as it was. The check and the write happen under the ref's lock; `while_locked`
    runs between them (after the check), and if it raises, the branch is not moved.
    """
    name = f"refs/heads/{branch}"
    if not pygit2.reference_is_valid_name(name):
        raise UsageError(f"invalid branch name: {branch!r}")
    _locked(f"branch {branch}", lambda: _compare_and_set(repo, name, commit, expect, message, while_locked))


def read_ref(repo: pygit2.Repository, name: str) -> str | None:
    """Hex id the full ref `name` points at; None when it does not exist."""
    ref = repo.references.get(name)
    return None if ref is None else str(ref.target)


def pin_ref(repo: pygit2.Repository, name: str, commit: str, message: str) -> str:
    """Create the full ref `name` at `commit` unless it exists (never moved once set);
    returns the value it holds, decided under its lock."""

    def create() -> str:
        with repo.transaction() as txn:
            txn.lock_ref(name)
            current = read_ref(repo, name)
            if current is None:
                _set_ident(repo)
                txn.set_target(name, commit, message=message)
            return current or commit

    return _locked(name, create)


def _locked(what: str, update: Callable[[], _T]) -> _T:
    """`update()`, retried while a lock is held, up to LOCK_ATTEMPTS times."""
    attempts = 0
    while True:
        try:
            return update()
        except pygit2.GitError as exc:
            attempts += 1
            # libgit2 reports a held lock only through its message ("failed to lock file").
            if "lock" not in str(exc) or attempts == LOCK_ATTEMPTS:
                raise WorkFailed(f"could not update {what}: {exc}") from exc
        time.sleep(LOCK_PAUSE_SECONDS)


def clear_stale_locks(common: Path, namespaces: Sequence[str]) -> list[str]:
    """Remove the ref lock files (`<ref>.lock`) under each namespace (e.g. `refs/heads/swarm/t`)
    of the repository whose git dir is `common`; returns the refs they locked.

    A process killed while it wrote a ref leaves its lock file behind, and every later update
    of that ref fails. Only for a caller that knows no live process may hold those locks (the
    track's claim held, its agents stopped).
    """
    freed = []
    root = common.resolve()
    for namespace in namespaces:
        folder = (root / namespace).resolve()
        for lock in sorted(folder.rglob("*.lock")):
            # The refs folder is writable by an unfenced agent: never follow a link out of it.
            if lock.is_symlink() or not lock.resolve().is_relative_to(folder):
                continue
            lock.unlink(missing_ok=True)
            freed.append(str(lock.relative_to(root).with_suffix("")))
    return freed


def branch_tip(repo: pygit2.Repository, branch: str) -> str | None:
    """Hex id the local branch points at; None when it does not exist."""
    ref = repo.references.get(f"refs/heads/{branch}")
    return None if ref is None else str(ref.target)


def _compare_and_set(
    repo: pygit2.Repository,
    name: str,
    commit: str,
    expect: str | None,
    message: str,
    while_locked: Callable[[], None] | None,
) -> None:
    with repo.transaction() as txn:
        txn.lock_ref(name)
        ref = repo.references.get(name)
        current = None if ref is None else str(ref.target)
        if current == commit:
            return
        fast_forward = current is not None and contains(repo, commit, current)
        if current != expect and not fast_forward:
            raise WorkFailed(
                f"refusing to move {name} from {_short(current)} to {_short(commit)}: "
                f"expected {_short(expect)} and the move is not a fast-forward"
            )
        if while_locked is not None:
            while_locked()
        _set_ident(repo)
        txn.set_target(name, commit, message=message)


def _set_ident(repo: pygit2.Repository) -> None:
    """The reflog's identity; pygit2 1.21 cannot hand a Signature to a transaction."""
    who = signature(repo)
    repo.set_ident(who.name, who.email)


def _short(commit: str | None) -> str:
    return "nothing (new branch)" if commit is None else commit[:12]


def move_branch_aside(repo: pygit2.Repository, branch: str, keep_as: str) -> str | None:
    """Keep `branch`'s commits under the full ref `keep_as` (pinned, never moved), then delete
    the branch; returns the tip kept, None when there was no branch. Nothing is lost: the
    commits stay reachable from `keep_as`."""
    tip = branch_tip(repo, branch)
    if tip is None:
        return None
    pin_ref(repo, keep_as, tip, f"swarm: {branch} moved aside")
    repo.branches.local.delete(branch)
    return tip
