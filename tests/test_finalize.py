"""finalize on real task worktrees: leftovers committed through the scope check, whose case
check reads only the folders along the change."""

from __future__ import annotations

from pathlib import Path

import pygit2

from swarmgit.backends.base import FailureKind
from swarmgit.domain.plan import Task
from swarmgit.engine.finalize import finalize
from swarmgit.gitops.worktrees import create_task_worktree
from tests.gitutil import git, make_repo, write

TASK = Task(id="T01", title="work in src", touches=("src/",))
FILES = {"src/a.py": "a\n", "docs/guide.md": "g\n"}


def _task_worktree(tmp_path: Path) -> tuple[pygit2.Repository, Path, str]:
    root = make_repo(tmp_path / "r", FILES)
    repo = pygit2.Repository(str(root))
    start = git(root, "rev-parse", "HEAD").stdout.strip()
    worktree = create_task_worktree(repo, path=tmp_path / "wt", branch="swarm/t/T01", start=start)
    return repo, worktree, start


def test_leftovers_inside_the_touches_are_committed(tmp_path: Path) -> None:
    repo, worktree, start = _task_worktree(tmp_path)
    write(worktree, "src/new/b.py", "b\n")
    (worktree / "src/a.py").unlink()

    result = finalize(repo, TASK, worktree, "swarm/t/T01", start)

    assert result.ok and result.changed
    assert result.files == ("src/a.py", "src/new/b.py")


def test_a_case_variant_of_a_tracked_folder_outside_the_touches_is_refused(tmp_path: Path) -> None:
    repo, worktree, start = _task_worktree(tmp_path)
    write(worktree, "src/fine.py", "f\n")
    write(worktree, "Docs/guide.md", "g\n")  # a folder named Docs: on macOS, docs/

    result = finalize(
        repo, Task(id="T01", title="t", touches=("src/", "Docs/")), worktree, "swarm/t/T01", start
    )

    assert not result.ok and result.kind == FailureKind.SCOPE_VIOLATION
    assert "Docs/guide.md (differs only in case from tracked 'docs'" in result.diagnosis
    assert result.final_commit == start


def test_a_nested_repository_fails_the_task_and_commits_nothing(tmp_path: Path) -> None:
    repo, worktree, start = _task_worktree(tmp_path)
    make_repo(worktree / "src" / "vendored", {"x.py": "x\n"})

    result = finalize(repo, TASK, worktree, "swarm/t/T01", start)

    assert not result.ok and result.kind == FailureKind.SCOPE_VIOLATION
    assert "src/vendored/ in" in result.diagnosis and "nested git repository" in result.diagnosis
    assert result.final_commit == start
