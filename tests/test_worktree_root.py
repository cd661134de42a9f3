"""Where task worktrees live: beside the repository by default, `worktrees.root` when set, and
wherever the run state recorded them for runs that already have them."""

from __future__ import annotations

import json
from pathlib import Path

from tests.gitutil import git, write
from tests.swarmrepo import swarm, swarm_crashed, swarm_process, task_md, track_repo

CONFIG = "[gates]\nthreshold = 0.0\n"
OLD_ROOT = ".git/swarm/worktrees"  # the default before worktrees moved beside the repository


def test_default_root_is_beside_the_repository_and_shown_by_status(tmp_path: Path) -> None:
    plan = task_md("T01", "one", touches="`src/app.py`", runs=("echo 'x = 2' > src/app.py",))
    repo = track_repo(tmp_path / "proj", plan, config=CONFIG)
    result = swarm(repo, "implement", "t")
    assert result.exit_code == 0, result.output
    root = tmp_path / "proj.swarm-worktrees"
    worktree = root / "t" / "T01"
    assert (worktree / "src" / "app.py").read_text() == "x = 2\n"
    assert not (repo / ".git" / "swarm" / "worktrees").exists()
    # git knows it as a linked worktree of this repository.
    listed = git(repo, "worktree", "list", "--porcelain").stdout
    assert f"worktree {worktree}" in listed
    # The user's tools walking the repository never meet a task copy.
    assert list(repo.rglob("app.py")) == [repo / "src" / "app.py"]
    data = json.loads(swarm(repo, "status", "t", "--json").output)
    assert data["worktrees_root"] == str(root)
    assert data["tasks"][0]["worktree"] == str(worktree)
    table = swarm(repo, "status", "t").output
    assert f"new worktrees go to {root}" in table
    assert "../proj.swarm-worktrees/t/T01" in table


def test_the_default_is_the_same_from_a_linked_worktree_of_the_user(tmp_path: Path) -> None:
    plan = task_md("T01", "one", touches="`src/app.py`", runs=("true",))
    repo = track_repo(tmp_path / "proj", plan, config=CONFIG)
    git(repo, "worktree", "add", "-q", "-b", "side", str(tmp_path / "side"))
    shown = json.loads(swarm(tmp_path / "side", "status", "t", "--json").output)
    assert shown["worktrees_root"] == str(tmp_path / "proj.swarm-worktrees")


def test_worktrees_root_setting_relative_to_the_repository(tmp_path: Path) -> None:
    plan = task_md("T01", "one", touches="`src/app.py`", runs=("echo 'x = 2' > src/app.py",))
    repo = track_repo(tmp_path / "proj", plan, config=CONFIG + '[worktrees]\nroot = "../elsewhere"\n')
    result = swarm(repo, "implement", "t")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "elsewhere" / "t" / "T01" / "src" / "app.py").read_text() == "x = 2\n"
    assert not (tmp_path / "proj.swarm-worktrees").exists()
    # clean removes the emptied track folder, never a root the user chose.
    assert swarm(repo, "clean", "t").exit_code == 0
    assert (tmp_path / "elsewhere").is_dir() and not (tmp_path / "elsewhere" / "t").exists()


def test_a_run_started_under_the_old_root_keeps_its_worktree_on_resume(tmp_path: Path) -> None:
    # The orchestrator dies once T01 has edited its file, before that edit is committed.
    plan = task_md("T01", "one", touches="`src/app.py`", runs=("echo 'x = 2' > src/app.py",)) + task_md(
        "T02", "two", touches="`docs/`", runs=("mkdir -p docs && echo hi > docs/a.md",)
    )
    serial = CONFIG + "[concurrency]\nmax_background = 1\nmax_parallel = 1\n"
    # T02 gets a new worktree (not T01's, recycled), so both roots are in use.
    serial += "[worktrees]\nrecycle = false\n"
    repo = track_repo(
        tmp_path / "proj",
        plan,
        config=serial.replace("recycle = false\n", f'recycle = false\nroot = "{OLD_ROOT}"\n'),
    )
    old = repo / OLD_ROOT / "t" / "T01"
    swarm_crashed(repo, "agent-exited", "implement", "t")
    assert (old / "src/app.py").read_text() == "x = 2\n"
    # Upgrade: the setting goes away, so new worktrees go to the new default.
    write(repo, ".swarm.toml", serial)
    git(repo, "commit", "-qam", "default worktree root")
    done = swarm_process(repo, "resume", "t")
    assert done.returncode == 0, done.stdout + done.stderr
    data = json.loads(swarm_process(repo, "status", "t", "--json").stdout)
    where = {t["id"]: t["worktree"] for t in data["tasks"]}
    assert where == {"T01": str(old), "T02": str(tmp_path / "proj.swarm-worktrees" / "t" / "T02")}
    assert git(repo, "show", "main:src/app.py").stdout == "x = 2\n"
    assert not (tmp_path / "proj.swarm-worktrees" / "t" / "T01").exists()
    # clean finds and removes the old one too (its work is integrated), and the new root's
    # folders once they are empty.
    assert swarm(repo, "clean", "t").exit_code == 0
    assert not old.exists() and not (tmp_path / "proj.swarm-worktrees").exists()
