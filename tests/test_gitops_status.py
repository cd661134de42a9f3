"""Reading the user's checkout: what `checkout_state` lists, and that swarmgit's reads there
never take the index lock (git's optional locks) a git command the user runs would need."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pygit2
import pytest

from swarmgit.errors import WorkFailed
from swarmgit.gitops.advance import advance_branch
from swarmgit.gitops.status import dirty_paths
from swarmgit.gitops.worktrees import changed_since, checkout_state
from tests.gitutil import git, make_repo, write

FILES = {".gitignore": "*.log\n", "a.txt": "a\n", "b.txt": "b\n", "c.txt": "c\n", "d.txt": "d\n"}


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """The user's checkout: a repository with `main` checked out."""
    return make_repo(tmp_path / "user", FILES)


def _modify(root: Path) -> None:
    write(root, "a.txt", "a changed\n")


def _stage(root: Path) -> None:
    write(root, "b.txt", "b staged\n")
    git(root, "add", "b.txt")


def _add_untracked(root: Path) -> None:
    write(root, "new/deep.txt", "new\n")


def _delete(root: Path) -> None:
    (root / "c.txt").unlink()


def _rename(root: Path) -> None:
    git(root, "mv", "d.txt", "moved.txt")


def _ignore(root: Path) -> None:
    write(root, "debug.log", "ignored\n")


CHANGES: dict[str, tuple[Callable[[Path], None], list[str]]] = {
    "modified": (_modify, ["a.txt"]),
    "staged": (_stage, ["b.txt"]),
    "untracked": (_add_untracked, ["new/deep.txt"]),
    "deleted": (_delete, ["c.txt"]),
    "renamed": (_rename, ["d.txt", "moved.txt"]),
    "ignored": (_ignore, []),
}


@pytest.mark.parametrize("kind", CHANGES)
def test_each_kind_of_uncommitted_change_is_listed_and_seen_to_change(checkout: Path, kind: str) -> None:
    change, paths = CHANGES[kind]
    before = checkout_state(pygit2.Repository(str(checkout)), "main")
    assert before.path == checkout and dict(before.dirty) == {}
    change(checkout)
    now = checkout_state(pygit2.Repository(str(checkout)), "main")
    assert sorted(now.dirty) == paths
    assert changed_since(before, now) == paths


def test_the_listing_matches_libgit2s_status_which_it_replaces(checkout: Path) -> None:
    for change, _ in CHANGES.values():
        change(checkout)
    write(checkout, "a.txt", "a changed twice\n")  # staged and changed again
    git(checkout, "add", "a.txt")
    write(checkout, "a.txt", "a changed thrice\n")
    os.rename(checkout / "b.txt", checkout / "b-moved.txt")  # staged, then moved on disk
    state = checkout_state(pygit2.Repository(str(checkout)), "main")
    assert sorted(state.dirty) == sorted(pygit2.Repository(str(checkout)).status())
    assert sorted(state.dirty) == [
        "a.txt",
        "b-moved.txt",
        "b.txt",
        "c.txt",
        "d.txt",
        "moved.txt",
        "new/deep.txt",
    ]


def test_a_further_edit_or_staging_of_a_dirty_file_is_a_change_and_a_second_look_is_not(
    checkout: Path,
) -> None:
    repo = pygit2.Repository(str(checkout))
    _modify(checkout)
    first = checkout_state(repo, "main")
    assert changed_since(first, checkout_state(repo, "main")) == []
    write(checkout, "a.txt", "a changed again\n")
    second = checkout_state(repo, "main")
    assert changed_since(first, second) == ["a.txt"]
    git(checkout, "add", "a.txt")  # same content, now staged
    assert changed_since(second, checkout_state(repo, "main")) == ["a.txt"]


def test_a_branch_checked_out_in_a_linked_worktree_is_read_there(checkout: Path, tmp_path: Path) -> None:
    linked = tmp_path / "linked"
    git(checkout, "worktree", "add", "-q", "-b", "target", str(linked))
    write(linked, "a.txt", "edited in the linked worktree\n")
    _modify(checkout)  # main's checkout is not target's
    state = checkout_state(pygit2.Repository(str(checkout)), "target")
    assert state.path == linked and sorted(state.dirty) == ["a.txt"]
    assert checkout_state(pygit2.Repository(str(checkout)), "nowhere").path is None


def _index(root: Path) -> tuple[int, int, int]:
    stat = (root / ".git" / "index").stat()
    return stat.st_ino, stat.st_mtime_ns, stat.st_size


def _stale_stat_data(root: Path) -> None:
    """Give a committed file other stat data, same content: git wants to refresh its index
    entry (writing the index through index.lock) when it may."""
    index_time = (root / ".git" / "index").stat().st_mtime_ns
    os.utime(root / "a.txt", ns=(index_time - 10**10, index_time - 10**10))


def test_reading_the_users_checkout_never_writes_its_index(checkout: Path, tmp_path: Path) -> None:
    repo = pygit2.Repository(str(checkout))
    start = git(checkout, "rev-parse", "main").stdout.strip()
    other = tmp_path / "other"
    git(checkout, "worktree", "add", "-q", "-b", "integration", str(other))
    write(other, "b.txt", "b integrated\n")
    git(other, "commit", "-qam", "integrated")
    update = git(other, "rev-parse", "HEAD").stdout.strip()
    write(checkout, "b.txt", "the user's own edit\n")
    _stale_stat_data(checkout)
    before = _index(checkout)
    assert sorted(checkout_state(repo, "main").dirty) == ["b.txt"]
    assert dirty_paths(checkout, refresh=False) == ["b.txt"]
    with pytest.raises(WorkFailed, match="local changes in paths this update changes: b.txt"):
        advance_branch(checkout, "main", update, "swarm: integrate", expect=start)
    assert _index(checkout) == before and not (checkout / ".git" / "index.lock").exists()


def test_a_read_while_the_users_git_command_holds_the_index_lock(checkout: Path, tmp_path: Path) -> None:
    editor = tmp_path / "editor.sh"  # the user's `git commit -a`, its editor still open
    release = tmp_path / "release"
    editor.write_text(
        f'#!/bin/sh\nwhile [ ! -e "{release}" ]; do sleep 0.05; done\necho "user commit" > "$1"\n'
    )
    editor.chmod(0o755)
    _modify(checkout)
    lock = checkout / ".git" / "index.lock"
    user = subprocess.Popen(
        ["git", "commit", "-qa"], cwd=checkout, env={**os.environ, "GIT_EDITOR": str(editor)}
    )
    try:
        for _ in range(600):
            if lock.exists() or user.poll() is not None:
                break
            time.sleep(0.05)
        assert lock.exists(), "git commit -a took no index lock"
        state = checkout_state(pygit2.Repository(str(checkout)), "main")
        assert sorted(state.dirty) == ["a.txt"] and lock.exists()
    finally:
        release.write_text("")
        assert user.wait(timeout=60) == 0
    assert git(checkout, "log", "-1", "--format=%s").stdout.strip() == "user commit"
    assert git(checkout, "status", "--porcelain").stdout == ""


def test_the_control_git_status_with_optional_locks_rewrites_that_index(checkout: Path) -> None:
    _stale_stat_data(checkout)
    before = _index(checkout)
    assert dirty_paths(checkout, refresh=False) == [] and _index(checkout) == before
    assert dirty_paths(checkout, refresh=True) == []  # a task worktree's read: git refreshes
    assert _index(checkout) != before
