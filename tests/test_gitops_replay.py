"""`replay`: each task's start->final change applied in order, never its history; real repos."""

from __future__ import annotations

from pathlib import Path

import pygit2

from swarmgit.gitops.merge import apply_change, change_contained
from swarmgit.gitops.replay import Change, replay
from tests.gitutil import git, make_repo, write

BODY = "".join(f"line {i}\n" for i in range(1, 21))


def _commit(root: Path, branch: str, start: str, files: dict[str, str | None], message: str) -> str:
    """A commit on `branch` (created at `start` if new) writing `files` (None deletes)."""
    if git(root, "rev-parse", "-q", "--verify", f"refs/heads/{branch}", check=False).returncode:
        git(root, "branch", branch, start)
    git(root, "checkout", "-q", branch)
    for rel, text in files.items():
        if text is None:
            git(root, "rm", "-q", rel)
        else:
            write(root, rel, text)
    git(root, "add", "-A")
    git(root, "commit", "-qm", message)
    head = git(root, "rev-parse", "HEAD").stdout.strip()
    git(root, "checkout", "-q", "main")
    return head


def _show(root: Path, rev: str, path: str) -> str:
    return git(root, "show", f"{rev}:{path}").stdout


def _tasks(root: Path) -> tuple[str, list[Change]]:
    """Base, and two tasks: A edits the top of f.txt, B (started from the base) its bottom."""
    make_repo(root, {"f.txt": BODY, "g.txt": "g\n"})
    base = git(root, "rev-parse", "HEAD").stdout.strip()
    a = _commit(root, "a", base, {"f.txt": BODY.replace("line 2\n", "line two\n")}, "A")
    b = _commit(root, "b", base, {"f.txt": BODY.replace("line 19\n", "line nineteen\n"), "g.txt": None}, "B")
    return base, [Change("A", base, a, "A: top"), Change("B", base, b, "B: bottom")]


def test_tasks_history_is_one_commit_per_task_with_both_edits_of_one_file_merged(tmp_path: Path) -> None:
    root = tmp_path / "r"
    base, changes = _tasks(root)
    repo = pygit2.Repository(str(root))
    refs = git(root, "for-each-ref").stdout

    result = replay(repo, base, changes, "tasks", lambda applied: "unused")

    assert result.applied == ("A", "B") and result.conflict is None
    first = git(root, "rev-parse", f"{result.commit}~1").stdout.strip()
    assert git(root, "log", "--format=%s %P", f"{base}..{result.commit}").stdout.splitlines() == [
        f"B: bottom {first}",
        f"A: top {base}",
    ]
    text = _show(root, result.commit, "f.txt")
    assert "line two\n" in text and "line nineteen\n" in text
    assert git(root, "ls-tree", "--name-only", result.commit).stdout == "f.txt\n"
    assert git(root, "for-each-ref").stdout == refs  # no ref moved
    # Deterministic: the same changes give the same commit.
    assert replay(repo, base, changes, "tasks", lambda applied: "unused").commit == result.commit


def test_squash_and_merge_histories_hold_the_same_tree(tmp_path: Path) -> None:
    root = tmp_path / "r"
    base, changes = _tasks(root)
    repo = pygit2.Repository(str(root))
    tasks = replay(repo, base, changes, "tasks", lambda applied: "unused").commit

    squash = replay(repo, base, changes, "squash", lambda applied: "track: " + ", ".join(applied))
    merge = replay(repo, base, changes, "merge", lambda applied: "unused")

    tree = git(root, "rev-parse", f"{tasks}^{{tree}}").stdout
    assert git(root, "rev-parse", f"{squash.commit}^{{tree}}").stdout == tree
    assert git(root, "rev-parse", f"{merge.commit}^{{tree}}").stdout == tree
    assert git(root, "log", "-1", "--format=%s|%P", squash.commit).stdout == f"track: A, B|{base}\n"
    assert git(root, "log", "-1", "--format=%P", merge.commit).stdout.split()[1] == changes[1].final


def test_a_reverted_merge_of_a_sibling_contributes_nothing(tmp_path: Path) -> None:
    root = tmp_path / "r"
    base, (a, _) = _tasks(root)
    # C merges A's branch, reverts that merge, then makes its own change.
    git(root, "branch", "c", base)
    git(root, "checkout", "-q", "c")
    git(root, "merge", "-q", "--no-edit", a.final)
    git(root, "revert", "-m", "1", "--no-edit", "HEAD")
    git(root, "checkout", "-q", "main")
    c = _commit(root, "c", base, {"h.txt": "h\n"}, "C")
    repo = pygit2.Repository(str(root))

    result = replay(repo, base, [a, Change("C", base, c, "C: own")], "tasks", lambda applied: "unused")

    assert _show(root, result.commit, "f.txt") == _show(root, a.final, "f.txt")  # A's work kept
    assert _show(root, result.commit, "h.txt") == "h\n"
    assert change_contained(repo, base, a.final, result.commit)
    assert not change_contained(repo, base, a.final, base)


def test_a_conflict_stops_at_the_task_and_keeps_what_came_before(tmp_path: Path) -> None:
    root = tmp_path / "r"
    base, (a, _) = _tasks(root)
    clash = _commit(root, "clash", base, {"f.txt": BODY.replace("line 2\n", "line TWO\n")}, "X")
    repo = pygit2.Repository(str(root))

    result = replay(repo, base, [a, Change("X", base, clash, "X")], "tasks", lambda applied: "unused")

    assert result.applied == ("A",)
    assert (
        result.conflict is not None and result.conflict.label == "X" and result.conflict.paths == ("f.txt",)
    )
    assert _show(root, result.commit, "f.txt") == _show(root, a.final, "f.txt")
    assert apply_change(repo, base, result.commit, clash) == ("f.txt",)
