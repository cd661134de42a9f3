"""Refuse a task's change that carries a secret value: in an added line, a path, or a
commit message. The diagnosis names where (`path:line`), never the value.
"""
from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pygit2

from swarmgit.domain.secrets import Secrets
from swarmgit.gitops.diff import AddedLine, added_lines_between, describe_paths, uncommitted_added_lines

KIND = "secret-in-change"


def uncommitted_leaks(worktree: Path, secrets: Secrets) -> str:
    """The diagnosis when the worktree's uncommitted changes hold a secret value, else ''."""
    if not secrets:
        return ""
    return _diagnosis(_where(uncommitted_added_lines(worktree), secrets), "uncommitted changes")


def branch_leaks(repo: pygit2.Repository, start: str, head: str, secrets: Secrets) -> str:
    """The diagnosis when the branch's change since `start` (its added lines, or a message of
    one of its commits) holds a secret value, else ''."""
    if not secrets or start == head:
        return ""
    where = _where(added_lines_between(repo, start, head), secrets)
    walker = repo.walk(pygit2.Oid(hex=head))
    walker.hide(pygit2.Oid(hex=start))
    where += [f"the message of commit {c.short_id}" for c in walker if secrets.found_in(c.message)]
    return _diagnosis(where, "committed on the branch")


def _where(lines: Iterable[AddedLine], secrets: Secrets) -> list[str]:
    """`path:line` of each line holding a secret value; a path that holds one is redacted."""
    found: list[str] = []
    for added in lines:
        if secrets.found_in(added.text) or secrets.found_in(added.path):
            found.append(f"{secrets.redact(added.path)}:{added.line}")
    return found


def _diagnosis(where: list[str], how: str) -> str:
    if not where:
        return ""
    return (f"secret value in the change ({how}) at {describe_paths(where)}: the value of a "
            "secret environment variable (a KEY, TOKEN, SECRET or PASSWORD, or a URL's password) "
            "must never be committed; remove it there")
