"""Branch updates that never force-move a branch and survive a briefly held ref lock.

libgit2 fails at once when another process holds `refs/heads/<b>.lock` (git does not wait
either), so the update is retried for about a second before giving up.
"""
from __future__ import annotations

import time

import pygit2

from swarmgit.errors import UsageError, WorkFailed
from swarmgit.gitops.repo import contains, signature

LOCK_ATTEMPTS = 50
LOCK_PAUSE_SECONDS = 0.02


def set_branch(
    repo: pygit2.Repository, branch: str, commit: str, *, expect: str | None, message: str
) -> None:
    """Point `refs/heads/<branch>` at `commit`, atomically, writing `message` to the reflog.

    Allowed only when the branch's current value equals `expect` (None: the branch must not
    exist yet) or `commit` contains it (a fast-forward). Otherwise WorkFailed, and the branch
    is left as it was. The check and the write happen under the ref's lock.
    """
    name = f"refs/heads/{branch}"
    if not pygit2.reference_is_valid_name(name):
        raise UsageError(f"invalid branch name: {branch!r}")
    for attempt in range(LOCK_ATTEMPTS):
        try:
            _compare_and_set(repo, name, commit, expect, message)
            return
        except pygit2.GitError as exc:
            # libgit2 reports a held lock only through its message ("failed to lock file").
            if "lock" not in str(exc) or attempt == LOCK_ATTEMPTS - 1:
                raise WorkFailed(f"could not update branch {branch}: {exc}") from exc
        time.sleep(LOCK_PAUSE_SECONDS)


def branch_tip(repo: pygit2.Repository, branch: str) -> str | None:
    """Hex id the local branch points at; None when it does not exist."""
    ref = repo.references.get(f"refs/heads/{branch}")
    return None if ref is None else str(ref.target)


def _compare_and_set(
    repo: pygit2.Repository, name: str, commit: str, expect: str | None, message: str
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
        # The reflog's identity; pygit2 1.21 cannot hand a Signature to a transaction.
        who = signature(repo)
        repo.set_ident(who.name, who.email)
        txn.set_target(name, commit, message=message)


def _short(commit: str | None) -> str:
    return "nothing (new branch)" if commit is None else commit[:12]
