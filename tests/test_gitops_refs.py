from __future__ import annotations

import threading
from pathlib import Path

import pygit2
import pytest

from swarmgit.errors import UsageError, WorkFailed
from swarmgit.gitops.refs import branch_tip, pin_ref, read_ref, set_branch
from tests.gitutil import git, write


def _commit_on(root: Path, branch: str, rel: str) -> str:
    git(root, "checkout", "-q", "-B", branch)
    write(root, rel, rel)
    git(root, "add", "-A")
    git(root, "commit", "-qm", rel)
    return git(root, "rev-parse", "HEAD").stdout.strip()


def test_creates_a_branch_that_must_not_exist_yet(repo: Path) -> None:
    head = git(repo, "rev-parse", "HEAD").stdout.strip()
    r = pygit2.Repository(str(repo))
    set_branch(r, "swarm/t/T01", head, expect=None, message="swarm: create T01")
    assert branch_tip(r, "swarm/t/T01") == head
    reflog = git(repo, "reflog", "show", "--format=%gn <%ge> %gs", "swarm/t/T01").stdout
    assert reflog == "Swarm Test <test@swarmgit.invalid> swarm: create T01\n"
    assert branch_tip(r, "absent") is None


def test_fast_forward_is_allowed_whatever_was_expected(repo: Path) -> None:
    first = git(repo, "rev-parse", "HEAD").stdout.strip()
    git(repo, "branch", "topic")
    second = _commit_on(repo, "work", "a.txt")
    r = pygit2.Repository(str(repo))
    set_branch(r, "topic", second, expect=None, message="ff")
    assert branch_tip(r, "topic") == second
    set_branch(r, "topic", second, expect=first, message="no-op")
    assert branch_tip(r, "topic") == second
    assert not (repo / ".git" / "refs" / "heads" / "topic.lock").exists()


def test_non_fast_forward_needs_the_expected_value(repo: Path) -> None:
    base = git(repo, "rev-parse", "HEAD").stdout.strip()
    one = _commit_on(repo, "one", "1.txt")
    git(repo, "checkout", "-q", "main")
    two = _commit_on(repo, "two", "2.txt")
    git(repo, "checkout", "-q", "main")
    r = pygit2.Repository(str(repo))

    with pytest.raises(WorkFailed, match="refusing to move refs/heads/one"):
        set_branch(r, "one", two, expect=base, message="sideways")
    with pytest.raises(WorkFailed, match="refusing"):
        set_branch(r, "one", two, expect=None, message="sideways")
    assert branch_tip(r, "one") == one

    set_branch(r, "one", two, expect=one, message="sideways, as agreed")
    assert branch_tip(r, "one") == two


def test_a_briefly_held_ref_lock_is_waited_for(repo: Path) -> None:
    head = git(repo, "rev-parse", "HEAD").stdout.strip()
    git(repo, "branch", "x")
    nxt = _commit_on(repo, "y", "next.txt")
    lock = repo / ".git" / "refs" / "heads" / "x.lock"
    lock.write_text(head + "\n")
    release = threading.Timer(0.15, lock.unlink)
    release.start()
    try:
        set_branch(pygit2.Repository(str(repo)), "x", nxt, expect=head, message="after lock")
    finally:
        release.join()
    assert git(repo, "rev-parse", "x").stdout.strip() == nxt


def test_a_lock_that_is_never_released_fails_without_moving_the_branch(repo: Path) -> None:
    head = git(repo, "rev-parse", "HEAD").stdout.strip()
    git(repo, "branch", "x")
    nxt = _commit_on(repo, "y", "next.txt")
    (repo / ".git" / "refs" / "heads" / "x.lock").write_text("")
    with pytest.raises(WorkFailed, match="could not update branch x"):
        set_branch(pygit2.Repository(str(repo)), "x", nxt, expect=head, message="blocked")
    assert git(repo, "rev-parse", "x").stdout.strip() == head


def test_invalid_branch_names_are_usage_errors(repo: Path) -> None:
    head = git(repo, "rev-parse", "HEAD").stdout.strip()
    with pytest.raises(UsageError, match="invalid branch name"):
        set_branch(pygit2.Repository(str(repo)), "bad..name", head, expect=None, message="m")


def test_a_pinned_ref_is_created_once_and_never_moved(repo: Path) -> None:
    first = git(repo, "rev-parse", "HEAD").stdout.strip()
    second = _commit_on(repo, "work", "b.txt")  # a fast-forward of the pin: still refused
    r = pygit2.Repository(str(repo))
    assert read_ref(r, "refs/swarm/t/base") is None
    assert pin_ref(r, "refs/swarm/t/base", first, "swarm: base of track t") == first
    assert pin_ref(r, "refs/swarm/t/base", second, "swarm: base of track t") == first
    assert (
        git(repo, "rev-parse", "refs/swarm/t/base").stdout.strip()
        == first
        == read_ref(r, "refs/swarm/t/base")
    )


def test_work_done_under_the_lock_that_fails_leaves_the_branch_unmoved(repo: Path) -> None:
    first = git(repo, "rev-parse", "HEAD").stdout.strip()
    git(repo, "branch", "topic")
    second = _commit_on(repo, "work", "c.txt")
    r = pygit2.Repository(str(repo))
    seen: list[bool] = []

    def refuse() -> None:
        seen.append((Path(r.path) / "refs/heads/topic.lock").exists())
        raise WorkFailed("refused while locked")

    with pytest.raises(WorkFailed, match="refused while locked"):
        set_branch(r, "topic", second, expect=first, message="m", while_locked=refuse)
    assert seen == [True] and branch_tip(r, "topic") == first
    set_branch(r, "topic", second, expect=first, message="m", while_locked=lambda: seen.append(False))
    assert branch_tip(r, "topic") == second and seen == [True, False]
