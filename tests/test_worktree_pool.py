"""The worktree pool: a starting task takes over a done task's clean worktree (moved to its
folder, on its own branch, with nothing of the task before); dirty or detached worktrees are
never taken; resume, `retry --reset` and `clean` find recycled worktrees by folder."""

from __future__ import annotations

import json
from pathlib import Path

import pygit2

from swarmgit.backends.clis.all import PRESETS
from swarmgit.gitops.worktrees import create_task_worktree, recycle_worktree, registered_at
from tests.gitutil import git, make_repo, write
from tests.swarmrepo import swarm, swarm_process, task_md, track_repo

FILES = {".gitignore": "*.log\n", "README.md": "# r\n", "src/app.py": "x = 1\n"}


def _head(cwd: Path, rev: str = "HEAD") -> str:
    return git(cwd, "rev-parse", rev).stdout.strip()


def _done_worktree(repo: Path, tmp_path: Path) -> Path:
    """T01's worktree after its work: a commit on its branch and an ignored file left over."""
    path = create_task_worktree(
        pygit2.Repository(str(repo)), path=tmp_path / "wt" / "T01", branch="swarm/t/T01", start=_head(repo)
    )
    write(path, "src/t01.py", "t01 = 1\n")
    git(path, "add", "-A")
    git(path, "commit", "-qm", "T01 work")
    write(path, "build/cache.log", "left by T01\n")
    return path


def test_a_recycled_worktree_is_clean_on_its_own_branch_with_its_own_index(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", FILES)
    donor = _done_worktree(repo, tmp_path)
    t01_tip = _head(donor)
    git(repo, "commit", "-q", "--allow-empty", "-m", "main moves on")
    start = _head(repo)
    target = tmp_path / "wt" / "T02"

    assert recycle_worktree(
        pygit2.Repository(str(repo)), donor, path=target, branch="swarm/t/T02", start=start
    )

    assert not donor.exists()
    assert git(target, "symbolic-ref", "HEAD").stdout.strip() == "refs/heads/swarm/t/T02"
    assert _head(target) == start == _head(repo, "swarm/t/T02")
    # Nothing of T01: neither its committed file nor its ignored one; nothing uncommitted.
    assert not (target / "src" / "t01.py").exists() and not (target / "build").exists()
    assert git(target, "status", "--porcelain", "--ignored").stdout == ""
    # Its own index, matching its own HEAD; git lists it at its new folder.
    index = Path(git(target, "rev-parse", "--path-format=absolute", "--git-path", "index").stdout.strip())
    assert index.parent != repo / ".git" and index.is_file()
    assert git(target, "diff", "--cached", "--quiet", check=False).returncode == 0
    assert f"worktree {target}" in git(repo, "worktree", "list", "--porcelain").stdout
    assert registered_at(pygit2.Repository(str(repo)), target) is not None
    assert _head(repo, "swarm/t/T01") == t01_tip  # T01's work stays on its branch


def test_a_worktree_with_any_uncommitted_change_is_never_recycled(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", FILES)
    r = pygit2.Repository(str(repo))
    donor = _done_worktree(repo, tmp_path)
    write(donor, "notes.txt", "live work\n")  # untracked, not ignored
    assert not recycle_worktree(
        r, donor, path=tmp_path / "wt" / "T02", branch="swarm/t/T02", start=_head(repo)
    )
    assert (donor / "notes.txt").read_text() == "live work\n"
    assert (donor / "build" / "cache.log").exists()
    assert git(donor, "symbolic-ref", "HEAD").stdout.strip() == "refs/heads/swarm/t/T01"
    assert not (tmp_path / "wt" / "T02").exists()

    (donor / "notes.txt").unlink()
    write(donor, "README.md", "edited\n")  # a tracked file changed
    assert not recycle_worktree(
        r, donor, path=tmp_path / "wt" / "T02", branch="swarm/t/T02", start=_head(repo)
    )
    git(donor, "checkout", "-q", "--", "README.md")
    git(donor, "checkout", "-q", "--detach")
    assert not recycle_worktree(
        r, donor, path=tmp_path / "wt" / "T02", branch="swarm/t/T02", start=_head(repo)
    )
    assert donor.is_dir() and not (tmp_path / "wt" / "T02").exists()


def test_the_agent_clis_own_caches_are_removed_on_recycle_and_nothing_else_is(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", FILES)
    r = pygit2.Repository(str(repo))
    donor = _done_worktree(repo, tmp_path)
    write(donor, ".aider.tags.cache.v4/cache.db", "tags\n")  # left untracked by finalize
    write(donor, ".aider.chat.history.md", "chat\n")
    caches = PRESETS["aider"].ignore
    target = tmp_path / "wt" / "T02"
    assert not recycle_worktree(r, donor, path=target, branch="swarm/t/T02", start=_head(repo))

    write(donor, "notes.txt", "live work\n")  # anyone's other untracked file still blocks
    write(donor, "docs/.aider.notes", "in an untracked folder\n")
    assert not recycle_worktree(r, donor, path=target, branch="swarm/t/T02", start=_head(repo), caches=caches)
    (donor / "notes.txt").unlink()
    assert not recycle_worktree(r, donor, path=target, branch="swarm/t/T02", start=_head(repo), caches=caches)
    assert (donor / ".aider.tags.cache.v4" / "cache.db").exists() and not target.exists()

    (donor / "docs/.aider.notes").unlink()
    (donor / "docs").rmdir()
    assert recycle_worktree(r, donor, path=target, branch="swarm/t/T02", start=_head(repo), caches=caches)
    assert not (target / ".aider.tags.cache.v4").exists() and not (target / ".aider.chat.history.md").exists()
    assert git(target, "status", "--porcelain", "--ignored").stdout == ""


def test_resume_after_a_crash_between_move_and_checkout_switches_the_worktree(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", FILES)
    donor = _done_worktree(repo, tmp_path)
    target = tmp_path / "wt" / "T02"
    git(repo, "worktree", "move", str(donor), str(target))  # the move happened, then kill -9
    path = create_task_worktree(
        pygit2.Repository(str(repo)), path=target, branch="swarm/t/T02", start=_head(repo)
    )
    assert path == target
    assert git(target, "symbolic-ref", "HEAD").stdout.strip() == "refs/heads/swarm/t/T02"
    assert not (target / "src" / "t01.py").exists()
    assert git(target, "status", "--porcelain", "--ignored").stdout == ""


def test_a_creation_a_crash_cut_short_is_made_again(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", FILES)
    path = create_task_worktree(
        pygit2.Repository(str(repo)), path=tmp_path / "wt" / "T01", branch="swarm/t/T01", start=_head(repo)
    )
    # What kill -9 during `git worktree add` leaves: still locked as initializing, half checked out.
    (repo / ".git" / "worktrees" / "T01" / "locked").write_text("initializing")
    (path / "src" / "app.py").unlink()
    again = create_task_worktree(
        pygit2.Repository(str(repo)), path=path, branch="swarm/t/T01", start=_head(repo)
    )
    assert again == path and (path / "src" / "app.py").read_text() == "x = 1\n"
    assert git(path, "status", "--porcelain").stdout == ""
    assert "locked" not in git(repo, "worktree", "list", "--porcelain").stdout


SERIAL = "[concurrency]\nmax_parallel = 1\nmax_background = 1\n[gates]\nthreshold = 0.0\n"


def _status(repo: Path) -> dict[str, dict[str, object]]:
    data = json.loads(swarm_process(repo, "status", "t", "--json").stdout)
    return {task["id"]: task for task in data["tasks"]}


def test_implement_recycles_a_done_tasks_worktree_for_the_next_task(tmp_path: Path) -> None:
    # T02 runs after T01 (one at a time) but not on its work: the recycled worktree must hold
    # neither T01's file nor the ignored file T01 left, and T02 writes where it now is (with
    # the write fence on, as it is where Landlock is, the fence must name that folder).
    plan = task_md(
        "T01",
        "one",
        touches="`src/one/`",
        runs=("mkdir -p src/one", "echo 'one = 1' > src/one/mod.py", "echo left > src/one/cache.log"),
    ) + task_md(
        "T02",
        "two",
        touches="`src/two.py`",
        runs=("test ! -e src/one", "echo \"where = '$SWARM_WORKTREE'\" > src/two.py"),
    )
    repo = track_repo(tmp_path / "proj", plan, files=FILES, config=SERIAL)
    done = swarm_process(repo, "implement", "t")
    assert done.returncode == 0, done.stdout + done.stderr
    root = tmp_path / "proj.swarm-worktrees" / "t"
    tasks = _status(repo)
    assert tasks["T01"]["worktree"] is None and tasks["T02"]["worktree"] == str(root / "T02")
    assert not (root / "T01").exists()
    # One worktree served both: git registered it once, under the name it got for T01.
    assert registered_at(pygit2.Repository(str(repo)), root / "T02") == "T01"
    assert git(repo, "show", "main:src/two.py").stdout == f"where = '{root / 'T02'}'\n"
    assert git(repo, "show", "main:src/one/mod.py").stdout == "one = 1\n"
    # clean finds it by its folder: kept while it holds live work, removed once it does not.
    write(root / "T02", "scratch.txt", "live\n")
    kept = swarm(repo, "clean", "t")
    assert "kept" in kept.output and (root / "T02" / "scratch.txt").exists()
    (root / "T02" / "scratch.txt").unlink()
    assert swarm(repo, "clean", "t").exit_code == 0
    assert not root.exists()
    assert git(repo, "worktree", "list", "--porcelain").stdout.count("worktree ") == 1


def test_retry_reset_of_a_task_in_a_recycled_worktree_keeps_live_work(tmp_path: Path) -> None:
    go = tmp_path / "go"
    plan = task_md("T01", "one", touches="`src/one.py`", runs=("echo 'one = 1' > src/one.py",)) + task_md(
        "T02", "two", touches="`src/two.py`", runs=("echo 'two = 2' > src/two.py", f"test -e {go}")
    )
    repo = track_repo(tmp_path / "proj", plan, files=FILES, config=SERIAL)
    assert swarm_process(repo, "implement", "t").returncode == 1  # T02 fails: no go file
    worktree = tmp_path / "proj.swarm-worktrees" / "t" / "T02"
    assert _status(repo)["T02"]["worktree"] == str(worktree)
    assert registered_at(pygit2.Repository(str(repo)), worktree) == "T01"
    write(worktree, "src/two.py", "two = 'edited by hand'\n")

    refused = swarm_process(repo, "retry", "T02", "--reset")
    assert refused.returncode == 2 and "uncommitted changes" in refused.stdout + refused.stderr
    assert (worktree / "src" / "two.py").read_text() == "two = 'edited by hand'\n"

    git(worktree, "checkout", "-q", "--", ".")
    git(worktree, "clean", "-qfd")
    go.touch()
    again = swarm_process(repo, "retry", "T02", "--reset")
    assert again.returncode == 0, again.stdout + again.stderr
    assert git(repo, "show", "main:src/two.py").stdout == "two = 2\n"
