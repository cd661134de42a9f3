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
    start = _rev(bare_target, "target")
    result = advance_branch(bare_target, "target", result_commit, "swarm: integrate t", expect=start)
    assert result == AdvanceResult("fast-forward", result_commit)
    assert _rev(bare_target, "target") == result_commit
    assert git(bare_target, "reflog", "-1", "--format=%gs", "target").stdout.strip() == ("swarm: integrate t")


def test_up_to_date_when_the_branch_already_contains_the_commit(bare_target: Path) -> None:
    old = _rev(bare_target, "target")
    newer = _branch(bare_target, "newer", {"n.txt": "n\n"}, "target")
    git(bare_target, "branch", "-f", "target", newer)
    assert advance_branch(bare_target, "target", old, "m", expect=old) == AdvanceResult("up-to-date", newer)
    assert _rev(bare_target, "target") == newer


def test_a_diverged_or_moved_branch_is_never_merged_here_and_stays(bare_target: Path) -> None:
    base = _rev(bare_target, "target")
    user = _branch(bare_target, "user-work", {"b.txt": "b-user\n"}, "target")
    result_commit = _branch(bare_target, "integration", {"a.txt": "a2\n"}, "main")
    git(bare_target, "branch", "-f", "target", user)
    # The caller checked a move from `base`; the branch is elsewhere now: nothing moves.
    with pytest.raises(WorkFailed, match=r"target moved to .* integrate again"):
        advance_branch(bare_target, "target", result_commit, "m", expect=base)
    with pytest.raises(WorkFailed, match=r"target moved to"):
        advance_branch(bare_target, "target", result_commit, "m", expect=user)  # not a fast-forward
    assert _rev(bare_target, "target") == user


def test_a_missing_branch_is_a_usage_error(bare_target: Path) -> None:
    with pytest.raises(UsageError, match="no branch nope"):
        advance_branch(bare_target, "nope", _rev(bare_target), "m", expect=_rev(bare_target))


def test_checked_out_clean_target_gets_its_files_and_index_updated(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "r", {"a.txt": "a\n", "b.txt": "b\n"})
    result_commit = _branch(root, "integration", {"a.txt": "a2\n", "c.txt": "c\n"}, "main")
    result = advance_branch(root, "main", result_commit, "m", expect=_rev(root))
    assert result == AdvanceResult("fast-forward", result_commit)
    assert _rev(root) == result_commit
    assert (root / "a.txt").read_text() == "a2\n"
    assert (root / "c.txt").read_text() == "c\n"
    assert git(root, "status", "--porcelain").stdout == ""  # no stale index


def test_checked_out_target_keeps_unrelated_staged_and_untracked_changes(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "r", {"a.txt": "a\n", "b.txt": "b\n"})
    base = _rev(root)
    result_commit = _branch(root, "integration", {"a.txt": "a2\n", "new/c.txt": "c\n"}, base)
    write(root, "notes.txt", "my untracked notes\n")  # unrelated local changes: kept
    write(root, "b.txt", "b-user staged\n")
    git(root, "add", "b.txt")

    result = advance_branch(root, "main", result_commit, "swarm: integrate", expect=base)

    assert result.kind == "fast-forward" and _rev(root) == result_commit
    assert (root / "a.txt").read_text() == "a2\n" and (root / "new/c.txt").read_text() == "c\n"
    assert (root / "notes.txt").read_text() == "my untracked notes\n"
    assert git(root, "status", "--porcelain").stdout == "M  b.txt\n?? notes.txt\n"
    assert git(root, "reflog", "-1", "--format=%gs", "main").stdout.strip() == "swarm: integrate"


def test_target_checked_out_in_a_linked_worktree_is_updated_there(bare_target: Path) -> None:
    wt = bare_target.parent / "target-wt"
    git(bare_target, "worktree", "add", "-q", str(wt), "target")
    result_commit = _branch(bare_target, "integration", {"a.txt": "a2\n"}, "target")
    advance_branch(bare_target, "target", result_commit, "m", expect=_rev(bare_target, "target"))
    assert (wt / "a.txt").read_text() == "a2\n"
    assert git(wt, "status", "--porcelain").stdout == ""


def test_local_changes_in_affected_paths_refuse_and_keep_everything(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "r", {"a.txt": "a\n", "b.txt": "b\n"})
    before = _rev(root)
    result_commit = _branch(root, "integration", {"a.txt": "a2\n"}, "main")
    write(root, "a.txt", "my unsaved edit\n")

    with pytest.raises(WorkFailed, match=r"checked out at .* local changes .*: a\.txt"):
        advance_branch(root, "main", result_commit, "m", expect=before)

    assert _rev(root) == before
    assert (root / "a.txt").read_text() == "my unsaved edit\n"


def test_untracked_file_in_the_way_refuses(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "r", {"a.txt": "a\n"})
    before = _rev(root)
    result_commit = _branch(root, "integration", {"new.txt": "from the track\n"}, "main")
    write(root, "new.txt", "user's own file\n")
    with pytest.raises(WorkFailed, match=r"new\.txt"):
        advance_branch(root, "main", result_commit, "m", expect=before)
    assert _rev(root) == before
    assert (root / "new.txt").read_text() == "user's own file\n"


def _planted(root: Path) -> str:
    """A repo whose main is checked out, with a post-merge hook, an fsmonitor and a smudge
    filter that each write a marker file when run; returns a commit (main + a filtered file)."""
    make_repo(root, {"a.txt": "a\n"})
    marker = root.parent / f"{root.name}-ran"
    hook = root / ".git/hooks/post-merge"
    hook.parent.mkdir(exist_ok=True)
    hook.write_text(f"#!/bin/sh\necho post-merge >> {marker}\n")
    hook.chmod(0o755)
    monitor = write(root.parent, f"{root.name}-fsmonitor.sh", f"#!/bin/sh\necho fsmonitor >> {marker}\n")
    monitor.chmod(0o755)
    git(root, "config", "core.fsmonitor", str(monitor))
    git(root, "config", "filter.evil.smudge", f"sh -c 'echo smudge >> {marker}; cat'")
    git(root, "config", "filter.evil.clean", "cat")
    return _branch(
        root,
        "integration",
        {".gitattributes": "*.py filter=evil\n", "b.py": "b = 1\n", "a.txt": "a2\n"},
        "main",
    )


def test_advancing_a_checkout_runs_no_hook_fsmonitor_or_filter_driver(tmp_path: Path) -> None:
    # The control: git itself runs all three when it fast-forwards the same checkout.
    control = tmp_path / "control"
    commit = _planted(control)
    git(control, "merge", "--ff-only", "-q", commit)
    ran = set((tmp_path / "control-ran").read_text().split())
    assert {"post-merge", "fsmonitor", "smudge"} <= ran

    root = tmp_path / "r"
    commit = _planted(root)
    (tmp_path / "r-ran").unlink(missing_ok=True)  # building the branch ran git's hooks there
    advance_branch(root, "main", commit, "swarm: integrate", expect=_rev(root, "main"))

    assert not (tmp_path / "r-ran").exists()
    assert _rev(root) == commit
    assert (root / "b.py").read_text() == "b = 1\n" and (root / "a.txt").read_text() == "a2\n"
    assert git(root, "-c", "core.fsmonitor=false", "status", "--porcelain").stdout == ""
