"""The installed pre-commit hook, end to end: install(), then real `git commit` in real linked
worktrees on swarm/<track>/<task> branches whose tasks are in the store."""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from swarmgit.domain.path_rules import paths_outside
from swarmgit.domain.plan import Status
from swarmgit.errors import UsageError
from swarmgit.gitops.hook_install import (
    ALREADY_INSTALLED,
    INSTALLED,
    NOT_INSTALLED,
    REMOVED,
    RESTORED,
    UPDATED,
    hooks_dir,
    install,
    is_swarmgit_hook,
    uninstall,
)
from swarmgit.hookcheck import main, parse_name_list
from swarmgit.store.state import Store, TaskSpec
from tests.gitutil import git, make_repo, write

FILES = {
    "README.md": "# demo\n",
    "src/app.py": "print('app')\n",
    "src/util.py": "X = 1\n",
    "docs/guide.md": "guide\n",
}
TASKS = [
    TaskSpec("T01", "App", ("src/",), ()),
    TaskSpec("T02", "Survey", (), ()),
]


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = make_repo(tmp_path / "repo", FILES)
    with Store.open(root / ".git") as store:
        store.sync_tasks("demo", TASKS)
    return root


def worktree(repo: Path, task: str, track: str = "demo") -> Path:
    path = repo.parent / f"wt-{track}-{task}"
    git(repo, "worktree", "add", "-q", "-b", f"swarm/{track}/{task}", str(path))
    return path


def commit(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return git(cwd, "commit", "-q", "-m", "change", *args, check=False)


def head(cwd: Path) -> str:
    return git(cwd, "rev-parse", "HEAD").stdout.strip()


def sentinel_python(tmp_path: Path) -> tuple[str, Path]:
    """An 'interpreter' that records each run and fails: proof of whether the hook started it."""
    log = tmp_path / "python-ran"
    script = write(tmp_path, "bin/fake-python", f"#!/bin/sh\necho ran >> '{log}'\nexit 3\n")
    script.chmod(0o755)
    return str(script), log


def legacy_hook(repo: Path, body: str) -> Path:
    hook = write(repo / ".git" / "hooks", "pre-commit", f"#!/bin/sh\n{body}\n")
    hook.chmod(0o750)
    return hook


def assert_refused(result: subprocess.CompletedProcess[str], *paths: str) -> None:
    assert result.returncode != 0
    assert "swarm: commit refused: task T01 (track demo) may only touch:\n  src/\n" in result.stderr
    listed = result.stderr.split("staged paths outside those touches:\n")[1].split("To fix:")[0]
    assert sorted(line.strip() for line in listed.splitlines()) == sorted(paths)
    assert "unstage" in result.stderr


# ---- the scope check in a task worktree ---------------------------------------------------


def test_in_scope_commit_passes(repo: Path) -> None:
    install(repo)
    wt = worktree(repo, "T01")
    write(wt, "src/app.py", "print('v2')\n")
    write(wt, "src/new/mod.py", "")
    git(wt, "add", "-A")
    assert commit(wt).returncode == 0
    assert git(wt, "log", "-1", "--format=%s").stdout.strip() == "change"


@pytest.mark.parametrize("change", ["add", "modify", "delete", "chmod"])
def test_out_of_scope_change_is_refused_naming_the_path(repo: Path, change: str) -> None:
    install(repo)
    wt = worktree(repo, "T01")
    before = head(wt)
    write(wt, "src/app.py", "print('in scope too')\n")
    if change == "add":
        write(wt, "notes/todo.txt", "x\n")
    elif change == "modify":
        write(wt, "README.md", "# changed\n")
    elif change == "delete":
        (wt / "README.md").unlink()
    else:
        (wt / "README.md").chmod(0o755)
    git(wt, "add", "-A")
    result = commit(wt)
    assert_refused(result, "notes/todo.txt" if change == "add" else "README.md")
    assert head(wt) == before


def test_rename_out_of_scope_is_refused_both_ways(repo: Path) -> None:
    install(repo)
    wt = worktree(repo, "T01")
    git(wt, "mv", "src/util.py", "util.py")
    assert_refused(commit(wt), "util.py")
    git(wt, "reset", "-q", "--hard")
    git(wt, "mv", "docs/guide.md", "src/guide.md")
    assert_refused(commit(wt), "docs/guide.md")


def test_commit_all_is_checked(repo: Path) -> None:
    install(repo)
    wt = worktree(repo, "T01")
    write(wt, "docs/guide.md", "edited but never staged by hand\n")
    assert_refused(commit(wt, "-a"), "docs/guide.md")
    git(wt, "checkout", "-q", "--", "docs/guide.md")
    write(wt, "src/util.py", "X = 2\n")
    assert commit(wt, "-a").returncode == 0


def test_paths_with_spaces_and_newlines(repo: Path) -> None:
    install(repo)
    wt = worktree(repo, "T01")
    write(wt, "src/a file\nwith newline.py", "")
    git(wt, "add", "-A")
    assert commit(wt).returncode == 0
    write(wt, "odd dir/b c.txt", "")
    git(wt, "add", "-A")
    assert_refused(commit(wt), "odd dir/b c.txt")


def test_read_only_task_may_commit_nothing(repo: Path) -> None:
    install(repo)
    wt = worktree(repo, "T02")
    write(wt, "src/app.py", "print('no')\n")
    git(wt, "add", "-A")
    result = commit(wt)
    assert result.returncode != 0
    assert "task T02 (track demo) may only touch:\n  (nothing: it is a read-only task)" in result.stderr
    assert "  src/app.py" in result.stderr


def test_unknown_task_and_integration_branch_are_not_checked(repo: Path) -> None:
    install(repo)
    for task in ("T99", "integration"):
        wt = worktree(repo, task)
        write(wt, "anything.txt", task)
        git(wt, "add", "-A")
        result = commit(wt)
        assert (result.returncode, result.stderr) == (0, "")


def test_hook_check_by_hand(
    repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    wt = worktree(repo, "T01")
    monkeypatch.chdir(wt)
    write(wt, "src/app.py", "print('v3')\n")
    git(wt, "add", "-A")
    assert main([]) == 0
    assert "1 staged path(s), all within the touches of task T01" in capsys.readouterr().out
    write(wt, "README.md", "out of scope\n")
    git(wt, "add", "-A")
    assert main([]) == 1
    assert "  README.md\n" in capsys.readouterr().err
    monkeypatch.chdir(repo)
    assert main([]) == 0
    assert "not a task branch" in capsys.readouterr().out
    assert main(["--bogus"]) == 2


def test_paths_outside_and_the_name_list() -> None:
    assert paths_outside(["src/", "docs/*.md"], ["src/a.py", "README.md", "docs/x.md", "README.md"]) == [
        "README.md"
    ]
    assert paths_outside([], ["a"]) == ["a"]
    assert parse_name_list(b"a b\0c\nd\0") == ["a b", "c\nd"]
    assert parse_name_list(b"") == []
    with pytest.raises(ValueError, match="git diff failed"):
        parse_name_list(b"a\0partial-pathgit diff failed")


def test_the_check_imports_only_what_plain_touches_need(repo: Path, tmp_path: Path) -> None:
    """Each import costs every task commit CPU time: with plain touches the hook's Python loads
    no typing, json, re or pathspec, nor SQLite (the touches file is read); a glob touch brings
    in pathspec (the control)."""
    log = tmp_path / "imports.log"
    python = write(
        tmp_path, "bin/python", f"#!/bin/sh\nexec {sys.executable} -X importtime \"$@\" 2>>'{log}'\n"
    )
    python.chmod(0o755)
    install(repo, python=str(python))
    with Store.open(repo / ".git") as store:
        store.sync_tasks("demo", [TaskSpec("T03", "Docs", ("docs/*.md",), ())])
    wt = worktree(repo, "T01")
    write(wt, "src/app.py", "print('v2')\n")
    assert commit(wt, "-a").returncode == 0

    def imported() -> set[str]:
        names = {
            line.rsplit("|", 1)[1].strip()
            for line in log.read_text().splitlines()
            if line.startswith("import time:") and "|" in line
        }
        log.unlink()
        return names

    heavy = {"typing", "json", "re", "pathspec", "subprocess", "sqlite3", "_sqlite3"}
    plain = imported()
    assert "swarmgit.hookcheck" in plain
    assert not heavy & plain
    glob_wt = worktree(repo, "T03")
    write(glob_wt, "docs/guide.md", "v2\n")
    assert commit(glob_wt, "-a").returncode == 0
    assert "pathspec" in imported()


def test_the_hook_reads_the_touches_file_the_store_writes(repo: Path) -> None:
    """The store writes a task's touches file whenever it takes new touches; the hook reads
    it, not the database, so touches widened in the database alone (what an unfenced agent
    could do) widen nothing. Without the file (a run state from before it), the database."""
    install(repo)
    scope_file = repo / ".git/swarm/touches/demo/T01"
    assert scope_file.read_bytes() == b"src/\0"
    wt = worktree(repo, "T01")
    write(wt, "docs/guide.md", "v2\n")
    git(wt, "add", "-A")
    with sqlite3.connect(repo / ".git/swarm/state.db") as db:
        db.execute("UPDATE tasks SET touches = '[\"src/\", \"docs/\"]' WHERE id = 'T01'")
    assert_refused(commit(wt), "docs/guide.md")
    scope_file.unlink()
    assert commit(wt).returncode == 0  # the database's (widened) touches
    with Store.open(repo / ".git") as store:
        store.sync_tasks("demo", [TaskSpec("T01", "App", ("src/", "docs/"), ())])
    assert scope_file.read_bytes() == b"src/\0docs/\0"
    with Store.open(repo / ".git") as store:
        store.sync_tasks("demo", [TaskSpec("T01", "App", ("src/",), ())])
    assert scope_file.read_bytes() == b"src/\0"
    write(wt, "docs/guide.md", "v3\n")
    git(wt, "add", "-A")
    assert_refused(commit(wt), "docs/guide.md")
    scope_file.write_bytes(b"src/\0docs")  # not whole: the database decides
    assert_refused(commit(wt), "docs/guide.md")


# ---- the fast path: no Python outside task worktrees ---------------------------------------


def test_no_python_outside_task_worktrees(repo: Path, tmp_path: Path) -> None:
    python, ran = sentinel_python(tmp_path)
    install(repo, python=python)
    write(repo, "README.md", "main worktree, main branch\n")
    assert commit(repo, "-a").returncode == 0
    git(repo, "switch", "-q", "-c", "swarm/demo/T01")  # a task branch, but the main worktree
    write(repo, "README.md", "main worktree, task branch\n")
    assert commit(repo, "-a").returncode == 0
    git(repo, "switch", "-q", "main")
    other = repo.parent / "wt-feature"
    git(repo, "worktree", "add", "-q", "-b", "feature/x", str(other))
    write(other, "README.md", "linked worktree, feature branch\n")
    assert commit(other, "-a").returncode == 0
    git(other, "switch", "-q", "--detach")
    write(other, "README.md", "detached\n")
    assert commit(other, "-a").returncode == 0
    assert not ran.exists()
    # Control: in a task worktree the same hook does start the interpreter (which fails).
    wt = worktree(repo, "T02")
    write(wt, "src/app.py", "x\n")
    assert commit(wt, "-a").returncode != 0
    assert ran.read_text() == "ran\n"


def test_first_commit_of_a_new_repository_runs_the_chained_hook(tmp_path: Path) -> None:
    fresh = tmp_path / "fresh"
    git(tmp_path, "init", "-q", "-b", "main", str(fresh))
    ran = tmp_path / "legacy-ran"
    legacy_hook(fresh, f"echo legacy >> '{ran}'")
    python, python_ran = sentinel_python(tmp_path)
    install(fresh, python=python)
    write(fresh, "README.md", "first\n")
    git(fresh, "add", "-A")
    assert commit(fresh).returncode == 0
    assert ran.read_text() == "legacy\n" and not python_ran.exists()


# ---- install, chain, uninstall --------------------------------------------------------------


def test_install_is_idempotent_and_updates_an_older_hook(repo: Path, tmp_path: Path) -> None:
    first = install(repo)
    assert (first.outcome, first.legacy) == (INSTALLED, None)
    assert first.hook == repo / ".git" / "hooks" / "pre-commit"
    assert is_swarmgit_hook(first.hook) and os.access(first.hook, os.X_OK)
    assert f"SWARM_PYTHON={sys.executable}\n" in first.hook.read_text()
    assert install(repo).outcome == ALREADY_INSTALLED
    assert install(repo, python=sentinel_python(tmp_path)[0]).outcome == UPDATED
    assert install(repo).outcome == UPDATED
    assert uninstall(repo) == REMOVED
    assert not first.hook.exists()
    assert uninstall(repo) == NOT_INSTALLED


def test_existing_hook_is_chained_and_restored_byte_for_byte(repo: Path, tmp_path: Path) -> None:
    ran = tmp_path / "legacy-ran"
    original = legacy_hook(repo, f"echo legacy >> '{ran}'")
    original_bytes, original_mode = original.read_bytes(), stat.S_IMODE(original.stat().st_mode)
    result = install(repo)
    assert result.legacy == original.with_name("pre-commit.legacy")
    assert result.legacy.read_bytes() == original_bytes
    assert stat.S_IMODE(result.legacy.stat().st_mode) == original_mode
    assert install(repo).outcome == ALREADY_INSTALLED

    write(repo, "README.md", "main\n")
    assert commit(repo, "-a").returncode == 0
    wt = worktree(repo, "T01")
    write(wt, "src/app.py", "in scope\n")
    assert commit(wt, "-a").returncode == 0
    assert ran.read_text() == "legacy\nlegacy\n", "the old hook ran in both worktrees"
    write(wt, "README.md", "out of scope\n")
    assert_refused(commit(wt, "-a"), "README.md")

    assert uninstall(repo) == RESTORED
    assert original.read_bytes() == original_bytes
    assert stat.S_IMODE(original.stat().st_mode) == original_mode
    assert not result.legacy.exists()
    assert uninstall(repo) == NOT_INSTALLED
    assert original.read_bytes() == original_bytes


def test_a_failing_legacy_hook_still_fails_the_commit(repo: Path) -> None:
    legacy_hook(repo, "echo 'legacy says no' >&2\nexit 1")
    install(repo)
    write(repo, "README.md", "main\n")
    result = commit(repo, "-a")
    assert result.returncode != 0 and "legacy says no" in result.stderr
    wt = worktree(repo, "T01")
    write(wt, "src/app.py", "in scope\n")
    result = commit(wt, "-a")
    assert result.returncode != 0 and "legacy says no" in result.stderr


def test_install_refuses_to_overwrite_a_legacy_hook(repo: Path) -> None:
    hook = legacy_hook(repo, "exit 0")
    legacy = write(hook.parent, "pre-commit.legacy", "#!/bin/sh\nexit 0\n")
    with pytest.raises(UsageError, match="both .* exist"):
        install(repo)
    assert hook.read_text() == "#!/bin/sh\nexit 0\n" and legacy.exists()


def test_core_hooks_path_is_respected(repo: Path, tmp_path: Path) -> None:
    git(repo, "config", "core.hooksPath", ".githooks")
    assert hooks_dir(repo) == repo / ".githooks"
    ran = tmp_path / "ran"
    write(repo, ".githooks/pre-commit", f"#!/bin/sh\necho x >> '{ran}'\n").chmod(0o755)
    result = install(repo)
    assert result.hook == repo / ".githooks" / "pre-commit"
    assert result.legacy == repo / ".githooks" / "pre-commit.legacy"
    assert not (repo / ".git" / "hooks" / "pre-commit").exists()
    write(repo, "README.md", "main\n")
    assert commit(repo, "-a").returncode == 0 and ran.read_text() == "x\n"

    shared = tmp_path / "shared-hooks"
    git(repo, "config", "core.hooksPath", str(shared))
    assert install(repo).hook == shared / "pre-commit"
    wt = worktree(repo, "T01")
    write(wt, "README.md", "out of scope\n")
    assert_refused(commit(wt, "-a"), "README.md")


# ---- concurrency -----------------------------------------------------------------------------


def test_concurrent_commits_while_the_store_is_written(repo: Path) -> None:
    """Hooks in four worktrees read the store while the orchestrator writes it in a loop."""
    tasks = [TaskSpec(f"P{n}", f"part {n}", (f"part{n}/",), ()) for n in range(4)]
    with Store.open(repo / ".git") as store:
        store.sync_tasks("demo", tasks)
    install(repo)
    trees = {spec.id: worktree(repo, spec.id) for spec in tasks}
    stop = threading.Event()
    failures: list[str] = []
    writes = 0

    def orchestrator() -> None:
        nonlocal writes
        with Store.open(repo / ".git") as store:
            while not stop.is_set():
                store.add_event("demo", "tick", f"write {writes}")
                store.sync_tasks("demo", tasks)
                store.set_status("demo", "T02", Status.TODO, f"write {writes}")
                writes += 1

    def agent(task: str, wt: Path) -> None:
        for i in range(5):
            write(wt, f"part{task[1:]}/f{i}.txt", str(i))
            git(wt, "add", "-A")
            result = commit(wt)
            if result.returncode != 0:
                failures.append(f"{task}: {result.stderr}")
        write(wt, "README.md", "out of scope\n")
        refused = commit(wt, "-a")
        if refused.returncode == 0 or "may only touch" not in refused.stderr:
            failures.append(f"{task}: out-of-scope commit not refused: {refused.stderr}")

    writer = threading.Thread(target=orchestrator)
    writer.start()
    agents = [threading.Thread(target=agent, args=item) for item in trees.items()]
    for thread in agents:
        thread.start()
    for thread in agents:
        thread.join()
    stop.set()
    writer.join()
    assert failures == []
    assert writes > 0
    for task, wt in trees.items():
        assert git(wt, "rev-list", "--count", f"main..swarm/demo/{task}").stdout.strip() == "5"
