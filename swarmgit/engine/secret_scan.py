"""Refuse a task's change that carries a secret value: in an added line, a file name, or a
commit message. The diagnosis names where (`path:line`), never the value.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pygit2

from swarmgit.domain.secrets import Secrets
from swarmgit.gitops.diff import (
    AddedLine,
    added_lines_between,
    changes_between,
    describe_paths,
    touched_paths,
    uncommitted_added_lines,
)
from swarmgit.gitops.status import dirty_paths


def uncommitted_leaks(worktree: Path, secrets: Secrets) -> str:
    """The diagnosis when the worktree's uncommitted changes hold a secret value, else ''."""
    if not secrets:
        return ""
    dirty = dirty_paths(worktree, refresh=True)
    where = _named(dirty, secrets) + _where(uncommitted_added_lines(worktree, dirty), secrets)
    return _diagnosis(where, "uncommitted changes")


def branch_leaks(repo: pygit2.Repository, start: str, head: str, secrets: Secrets) -> str:
    """The diagnosis when the branch's change since `start` (its added lines, or a message of
    one of its commits) holds a secret value, else ''."""
    if not secrets or start == head:
        return ""
    where = _named(touched_paths(changes_between(repo, start, head)), secrets)
    where += _where(added_lines_between(repo, start, head), secrets)
    walker = repo.walk(pygit2.Oid(hex=head))
    walker.hide(pygit2.Oid(hex=start))
    where += [f"the message of commit {c.short_id}" for c in walker if secrets.found_in(c.message)]
    return _diagnosis(where, "committed on the branch")


def _named(paths: Iterable[str], secrets: Secrets) -> list[str]:
    """The paths whose names hold a secret value, redacted."""
    return [f"the name of {secrets.redact(path)}" for path in paths if secrets.found_in(path)]


def _where(lines: Iterable[AddedLine], secrets: Secrets) -> list[str]:
    """`path:line` (the path redacted) of each added line holding a secret value."""
    return [f"{secrets.redact(a.path)}:{a.line}" for a in lines if secrets.found_in(a.text)]


def _diagnosis(where: list[str], how: str) -> str:
    if not where:
        return ""
    return (
        f"secret value in the change ({how}) at {describe_paths(where)}: the value of a "
        "secret environment variable (a KEY, TOKEN, SECRET or PASSWORD, or a URL's password) "
        "must never be committed; remove it there"
    )
