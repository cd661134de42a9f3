"""swarmgit's own git calls run no hook, fsmonitor or filter driver planted in the repository."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from swarmgit.gitops.safe_git import clean_env, repo_filter_drivers, run_git
from tests.gitutil import git, make_repo, write


def _plant(repo: Path, markers: Path) -> None:
    """A post-checkout hook, an fsmonitor and two smudge filters (one through an include),
    each leaving a marker file when it runs."""

    def script(name: str, then: str = "cat") -> str:
        path = markers / f"{name}.sh"
        path.write_text(f"#!/bin/sh\ntouch {markers / name}\n{then}\n")
        path.chmod(0o755)
        return str(path)

    hook = repo / ".git" / "hooks" / "post-checkout"
    hook.parent.mkdir(exist_ok=True)
    hook.write_text(f"#!/bin/sh\ntouch {markers / 'hook'}\n")
    hook.chmod(0o755)
    git(repo, "config", "core.fsmonitor", script("fsmonitor", "exit 1"))
    git(repo, "config", "filter.x.smudge", script("smudge-x"))
    git(repo, "config", "filter.x.required", "true")
    included = markers / "included.cfg"
    included.write_text(f'[filter "y"]\n\tsmudge = {script("smudge-y")}\n')
    git(repo, "config", "include.path", str(included))


def test_checkout_through_run_git_runs_nothing_planted(tmp_path: Path) -> None:
    repo = make_repo(
        tmp_path / "r", {".gitattributes": "*.x filter=x\n*.y filter=y\n", "a.x": "ax\n", "b.y": "by\n"}
    )
    markers = tmp_path / "markers"
    markers.mkdir()
    _plant(repo, markers)
    assert repo_filter_drivers(repo) == ["x", "y"]
    done = run_git(repo, "worktree", "add", "--detach", "--quiet", str(tmp_path / "wt"), "HEAD")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "wt" / "a.x").read_text() == "ax\n"
    run_git(tmp_path / "wt", "status", "--porcelain")
    assert sorted(p.name for p in markers.iterdir() if not p.suffix) == []
    # The same checkout by plain git runs them: the test above can fail.
    git(repo, "worktree", "add", "--detach", "--quiet", str(tmp_path / "wt2"), "HEAD")
    git(tmp_path / "wt2", "status", "--porcelain", check=False)
    assert {"hook", "smudge-x", "smudge-y", "fsmonitor"} <= {p.name for p in markers.iterdir()}


def test_inherited_git_variables_that_redirect_git_are_dropped(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("GIT_DIR", "GIT_INDEX_FILE", "GIT_CONFIG_PARAMETERS", "GIT_CONFIG_COUNT", "GIT_WORK_TREE"):
        monkeypatch.setenv(name, "/elsewhere")
    env = clean_env(keep=("GIT_INDEX_FILE",))
    assert "GIT_DIR" not in env and "GIT_CONFIG_PARAMETERS" not in env and "GIT_WORK_TREE" not in env
    assert env["GIT_INDEX_FILE"] == "/elsewhere"
    assert env["GIT_AUTHOR_NAME"] == os.environ["GIT_AUTHOR_NAME"]


def test_run_git_ignores_an_inherited_git_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = make_repo(tmp_path / "r")
    other = make_repo(tmp_path / "o")
    write(other, "x", "x")
    monkeypatch.setenv("GIT_DIR", str(other / ".git"))
    assert run_git(repo, "rev-parse", "--show-toplevel").stdout.strip() == str(repo)


def test_task_worktrees_are_checked_out_without_running_planted_code(tmp_path: Path) -> None:
    import pygit2

    from swarmgit.gitops.worktrees import create_task_worktree

    repo = make_repo(
        tmp_path / "r", {".gitattributes": "*.x filter=x\n*.y filter=y\n", "a.x": "ax\n", "b.y": "by\n"}
    )
    markers = tmp_path / "markers"
    markers.mkdir()
    _plant(repo, markers)
    start = git(repo, "rev-parse", "HEAD").stdout.strip()
    path = create_task_worktree(
        pygit2.Repository(str(repo)), path=tmp_path / "w", branch="swarm/t/T01", start=start
    )
    assert (path / "a.x").read_text() == "ax\n"
    assert [p.name for p in markers.iterdir() if not p.suffix] == []
