from __future__ import annotations

import shutil
from pathlib import Path

import pygit2
import pytest

from swarmgit.errors import WorkFailed
from swarmgit.gitops.repo import common_dir, discover
from swarmgit.gitops.status import dirty_paths
from swarmgit.gitops.worktrees import (
    WorktreeInfo,
    checked_out_at,
    create_task_worktree,
    list_worktrees,
    prune,
    remove_worktree,
)
from tests.gitutil import git, make_repo, write


def _head(root: Path, rev: str = "HEAD") -> str:
    return git(root, "rev-parse", rev).stdout.strip()


def _task(repo: Path, tmp_path: Path, name: str = "T01") -> Path:
    r = pygit2.Repository(str(repo))
    return create_task_worktree(r, path=tmp_path / "wt" / name, branch=f"swarm/t/{name}", start=_head(repo))


def test_creates_a_checked_out_worktree_on_a_new_branch_at_the_start(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", {"a.txt": "a\n", "pkg/b.py": "b\n"})
    path = _task(repo, tmp_path)
    assert path == tmp_path / "wt" / "T01"
    assert (path / "pkg" / "b.py").read_text() == "b\n"
    assert git(path, "symbolic-ref", "HEAD").stdout.strip() == "refs/heads/swarm/t/T01"
    assert _head(repo, "swarm/t/T01") == _head(repo, "main")
    assert git(path, "status", "--porcelain").stdout == ""
    assert str(path) in git(repo, "worktree", "list").stdout  # git itself sees it
    assert list_worktrees(pygit2.Repository(str(repo))) == [WorktreeInfo("T01", path, "swarm/t/T01")]


def test_resume_reuses_the_worktree_and_keeps_its_work(repo: Path, tmp_path: Path) -> None:
    path = _task(repo, tmp_path)
    write(path, "a.txt", "committed\n")
    git(path, "add", "-A")
    git(path, "commit", "-qm", "progress")
    write(path, "wip.txt", "uncommitted\n")
    tip = _head(path)

    again = _task(repo, tmp_path)  # same start: the branch now contains it

    assert again == path
    assert (path / "wip.txt").read_text() == "uncommitted\n"
    assert _head(repo, "swarm/t/T01") == tip


def test_a_worktree_whose_folder_vanished_is_recreated(repo: Path, tmp_path: Path) -> None:
    path = _task(repo, tmp_path)
    git(repo, "worktree", "remove", "--force", str(path))  # registration gone too
    path = _task(repo, tmp_path)
    shutil.rmtree(path)  # folder gone, registration stale
    assert _task(repo, tmp_path) == path
    assert (path / "README.md").exists()


def test_resume_completes_a_checkout_a_crash_cut_short(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", {"a.txt": "a\n", "pkg/b.py": "b\n"})
    path = _task(repo, tmp_path)
    # What a crash mid-checkout leaves: files missing and no index written yet.
    (repo / ".git" / "worktrees" / "T01" / "index").unlink()
    (path / "pkg" / "b.py").unlink()
    assert _task(repo, tmp_path) == path
    assert (path / "pkg" / "b.py").read_text() == "b\n"
    assert dirty_paths(path, refresh=True) == []


def test_an_existing_branch_not_containing_the_start_is_never_moved(repo: Path, tmp_path: Path) -> None:
    git(repo, "checkout", "-q", "-b", "swarm/t/T01")
    write(repo, "other.txt", "x")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "elsewhere")
    foreign = _head(repo)
    git(repo, "checkout", "-q", "main")
    write(repo, "main.txt", "y")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "main moves on")

    with pytest.raises(WorkFailed, match="does not contain the task's start point"):
        _task(repo, tmp_path)
    assert _head(repo, "swarm/t/T01") == foreign
    assert not (tmp_path / "wt" / "T01").exists()


def test_occupied_paths_are_refused(repo: Path, tmp_path: Path) -> None:
    write(tmp_path / "wt" / "T01", "precious.txt", "keep me")
    with pytest.raises(WorkFailed, match="already exists"):
        _task(repo, tmp_path)
    assert (tmp_path / "wt" / "T01" / "precious.txt").read_text() == "keep me"
    (tmp_path / "wt" / "T02").mkdir()  # an empty folder is fine
    assert (_task(repo, tmp_path, "T02") / "README.md").exists()


def test_two_worktrees_cannot_share_a_branch(repo: Path, tmp_path: Path) -> None:
    _task(repo, tmp_path)
    r = pygit2.Repository(str(repo))
    with pytest.raises(WorkFailed, match="cannot create worktree at .*T09"):
        create_task_worktree(r, path=tmp_path / "T09", branch="swarm/t/T01", start=_head(repo))
    # The failed attempt leaves nothing that would block the folder later.
    create_task_worktree(r, path=tmp_path / "T09", branch="b9", start=_head(repo))


@pytest.mark.parametrize("refresh", [True, False])
def test_dirty_paths_lists_staged_unstaged_untracked_but_not_ignored(tmp_path: Path, refresh: bool) -> None:
    repo = make_repo(tmp_path / "r", {".gitignore": "*.log\nbuild/\n", "a.txt": "a", "b.txt": "b"})
    assert dirty_paths(repo, refresh=refresh) == []
    write(repo, "a.txt", "changed")
    (repo / "b.txt").unlink()
    write(repo, "new/deep.txt", "n")
    write(repo, "staged.txt", "s")
    git(repo, "add", "staged.txt")
    write(repo, "debug.log", "ignored")
    write(repo, "build/out.bin", "ignored")
    assert dirty_paths(repo, refresh=refresh) == ["a.txt", "b.txt", "new/deep.txt", "staged.txt"]


def test_clean_worktree_is_removed_and_its_branch_kept(repo: Path, tmp_path: Path) -> None:
    path = _task(repo, tmp_path)
    write(path, "ignored.pyc", "x")
    write(path, ".gitignore", "*.pyc\n")
    git(path, "add", ".gitignore")
    git(path, "commit", "-qm", "ignore")
    remove_worktree(pygit2.Repository(str(repo)), path)
    assert not path.exists()
    assert list_worktrees(pygit2.Repository(str(repo))) == []
    assert git(repo, "worktree", "list", "--porcelain").stdout.count("worktree ") == 1
    assert _head(repo, "swarm/t/T01")  # the task's commits stay reviewable


def test_a_dirty_worktree_is_never_removed(repo: Path, tmp_path: Path) -> None:
    path = _task(repo, tmp_path)
    write(path, "untracked.txt", "live work")
    with pytest.raises(WorkFailed, match=r"uncommitted changes \(untracked.txt\)"):
        remove_worktree(pygit2.Repository(str(repo)), path)
    assert (path / "untracked.txt").read_text() == "live work"
    assert [w.name for w in list_worktrees(pygit2.Repository(str(repo)))] == ["T01"]


def test_a_detached_head_no_branch_contains_is_never_removed(repo: Path, tmp_path: Path) -> None:
    path = _task(repo, tmp_path)
    git(path, "checkout", "-q", "--detach")
    write(path, "orphan.txt", "o")
    git(path, "add", "-A")
    git(path, "commit", "-qm", "only here")
    with pytest.raises(WorkFailed, match="detached HEAD"):
        remove_worktree(pygit2.Repository(str(repo)), path)
    assert (path / "orphan.txt").exists()


def test_remove_refuses_a_folder_that_is_not_that_worktree(repo: Path, tmp_path: Path) -> None:
    path = _task(repo, tmp_path)
    other = make_repo(tmp_path / "other")
    r = pygit2.Repository(str(repo))
    with pytest.raises(WorkFailed, match="is not a worktree of this repository"):
        remove_worktree(r, other)
    assert path.exists() and (other / "README.md").exists()


def test_prune_forgets_worktrees_whose_folder_is_gone(repo: Path, tmp_path: Path) -> None:
    gone = _task(repo, tmp_path, "T01")
    kept = _task(repo, tmp_path, "T02")
    shutil.rmtree(gone)
    r = pygit2.Repository(str(repo))
    assert prune(r) == ["T01"]
    assert [w.path for w in list_worktrees(r)] == [kept]


def test_checked_out_at_finds_main_and_linked_worktrees(repo: Path, tmp_path: Path) -> None:
    path = _task(repo, tmp_path)
    git(repo, "branch", "idle")
    r = pygit2.Repository(str(path))  # asked from inside a linked worktree
    assert checked_out_at(r, "main") == repo.resolve()
    assert checked_out_at(r, "swarm/t/T01") == path
    assert checked_out_at(r, "idle") is None


def test_a_creation_cut_short_before_registration_is_moved_aside_not_lost(repo: Path) -> None:
    r = discover(repo)
    start = str(r.head.target)
    path = repo.parent / "wts" / "T02"
    path.mkdir(parents=True)
    (path / ".git").write_text(f"gitdir: {common_dir(r) / 'worktrees' / 'T02'}\n")
    (path / "README.md").write_text("half a checkout\n")
    created = create_task_worktree(r, path=path, branch="swarm/t/T02", start=start)
    assert created == path and "T02" in r.list_worktrees()
    (aside,) = [p for p in path.parent.iterdir() if p.name.startswith("T02.interrupted-")]
    assert (aside / "README.md").read_text() == "half a checkout\n"


def test_a_foreign_folder_in_the_way_is_refused(repo: Path) -> None:
    r = discover(repo)
    path = repo.parent / "wts" / "T03"
    path.mkdir(parents=True)
    (path / "notes.txt").write_text("mine\n")
    with pytest.raises(WorkFailed, match="move it away"):
        create_task_worktree(r, path=path, branch="swarm/t/T03", start=str(r.head.target))
    assert (path / "notes.txt").read_text() == "mine\n"
