from __future__ import annotations

from pathlib import Path

import pytest

from swarmgit.errors import UsageError, WorkFailed
from swarmgit.gitops.advance import AdvanceResult, advance_branch
from tests.gitutil import git, make_repo, write


def _rev(root: Path, rev: str = "HEAD") -> str:
    return git(root, "rev-parse", rev).stdout.strip()


def _branch(root: Path, name: str, files: dict[str, str], start: str) -> str:
    """Commit `files` on a new branch `name` from `start` (via a temporary worktree)."""
    wt = root.parent / f"wt-{name}"
    git(root, "worktree", "add", "-q", "-b", name, str(wt), start)
    for rel, text in files.items():
        write(wt, rel, text)
    git(wt, "add", "-A")
    git(wt, "commit", "-qm", f"work on {name}")
    head = _rev(wt)
    git(root, "worktree", "remove", str(wt))
    return head


@pytest.fixture
def bare_target(tmp_path: Path) -> Path:
    """A repo whose `target` branch is checked out nowhere (main is)."""
    root = make_repo(tmp_path / "r", {"a.txt": "a\n", "b.txt": "b\n"})
    git(root, "branch", "target")
    return root


def test_fast_forward_when_the_branch_is_an_ancestor(bare_target: Path) -> None:
    result_commit = _branch(bare_target, "integration", {"a.txt": "a2\n"}, "target")
    result = advance_branch(bare_target, "target", result_commit, "swarm: integrate t")
    assert result == AdvanceResult("fast-forward", result_commit)
    assert _rev(bare_target, "target") == result_commit
    assert git(bare_target, "reflog", "-1", "--format=%gs", "target").stdout.strip() == (
        "swarm: integrate t"
    )


def test_up_to_date_when_the_branch_already_contains_the_commit(bare_target: Path) -> None:
    old = _rev(bare_target, "target")
    newer = _branch(bare_target, "newer", {"n.txt": "n\n"}, "target")
    git(bare_target, "branch", "-f", "target", newer)
    assert advance_branch(bare_target, "target", old, "m") == AdvanceResult("up-to-date", newer)
    assert _rev(bare_target, "target") == newer


def test_diverged_branch_gets_a_merge_commit(bare_target: Path) -> None:
    user = _branch(bare_target, "user-work", {"b.txt": "b-user\n"}, "target")
    git(bare_target, "branch", "-f", "target", user)
    result_commit = _branch(bare_target, "integration", {"a.txt": "a2\n"}, "main")

    result = advance_branch(bare_target, "target", result_commit, "swarm: integrate t")

    assert result.kind == "merge"
    assert _rev(bare_target, "target") == result.commit
    assert _rev(bare_target, "target^1") == user
    assert _rev(bare_target, "target^2") == result_commit
    assert git(bare_target, "log", "-1", "--format=%s", "target").stdout.strip() == (
        "swarm: integrate t"
    )
    assert git(bare_target, "show", "target:a.txt").stdout == "a2\n"
    assert git(bare_target, "show", "target:b.txt").stdout == "b-user\n"


def test_a_conflict_names_the_paths_and_moves_nothing(bare_target: Path) -> None:
    user = _branch(bare_target, "user-work", {"a.txt": "mine\n"}, "target")
    git(bare_target, "branch", "-f", "target", user)
    result_commit = _branch(bare_target, "integration", {"a.txt": "theirs\n"}, "main")
    with pytest.raises(WorkFailed, match=r"both sides changed a\.txt"):
        advance_branch(bare_target, "target", result_commit, "m")
    assert _rev(bare_target, "target") == user


def test_a_missing_branch_is_a_usage_error(bare_target: Path) -> None:
    with pytest.raises(UsageError, match="no branch nope"):
        advance_branch(bare_target, "nope", _rev(bare_target), "m")


def test_checked_out_clean_target_gets_its_files_and_index_updated(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "r", {"a.txt": "a\n", "b.txt": "b\n"})
    result_commit = _branch(root, "integration", {"a.txt": "a2\n", "c.txt": "c\n"}, "main")
    result = advance_branch(root, "main", result_commit, "m")
    assert result == AdvanceResult("fast-forward", result_commit)
    assert _rev(root) == result_commit
    assert (root / "a.txt").read_text() == "a2\n"
    assert (root / "c.txt").read_text() == "c\n"
    assert git(root, "status", "--porcelain").stdout == ""  # no stale index


def test_checked_out_target_that_diverged_is_merged_in_place(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "r", {"a.txt": "a\n", "b.txt": "b\n"})
    base = _rev(root)
    write(root, "b.txt", "b-user\n")
    git(root, "commit", "-qam", "user work")
    user = _rev(root)
    result_commit = _branch(root, "integration", {"a.txt": "a2\n"}, base)
    write(root, "notes.txt", "my untracked notes\n")  # unrelated local changes: kept
    write(root, "b.txt", "b-user staged\n")
    git(root, "add", "b.txt")

    result = advance_branch(root, "main", result_commit, "swarm: integrate")

    assert result.kind == "merge"
    assert _rev(root, "HEAD^1") == user and _rev(root, "HEAD^2") == result_commit
    assert (root / "a.txt").read_text() == "a2\n"
    assert (root / "notes.txt").read_text() == "my untracked notes\n"
    assert git(root, "status", "--porcelain").stdout == "M  b.txt\n?? notes.txt\n"


def test_target_checked_out_in_a_linked_worktree_is_updated_there(bare_target: Path) -> None:
    wt = bare_target.parent / "target-wt"
    git(bare_target, "worktree", "add", "-q", str(wt), "target")
    result_commit = _branch(bare_target, "integration", {"a.txt": "a2\n"}, "target")
    advance_branch(bare_target, "target", result_commit, "m")
    assert (wt / "a.txt").read_text() == "a2\n"
    assert git(wt, "status", "--porcelain").stdout == ""


def test_local_changes_in_affected_paths_refuse_and_keep_everything(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "r", {"a.txt": "a\n", "b.txt": "b\n"})
    before = _rev(root)
    result_commit = _branch(root, "integration", {"a.txt": "a2\n"}, "main")
    write(root, "a.txt", "my unsaved edit\n")

    with pytest.raises(WorkFailed, match=r"checked out at .* local changes .*: a\.txt"):
        advance_branch(root, "main", result_commit, "m")

    assert _rev(root) == before
    assert (root / "a.txt").read_text() == "my unsaved edit\n"


def test_untracked_file_in_the_way_refuses(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "r", {"a.txt": "a\n"})
    before = _rev(root)
    result_commit = _branch(root, "integration", {"new.txt": "from the track\n"}, "main")
    write(root, "new.txt", "user's own file\n")
    with pytest.raises(WorkFailed, match=r"new\.txt"):
        advance_branch(root, "main", result_commit, "m")
    assert _rev(root) == before
    assert (root / "new.txt").read_text() == "user's own file\n"
