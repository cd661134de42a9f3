"""Sparse task worktrees (`worktrees.checkout = "sparse"`): only the task's touches, its
Context paths and the .gitignore/.gitattributes files are on disk; every other file is absent
yet unchanged in the task's commits (never recorded as deleted), whether the agent commits
through the real hook or swarmgit commits for it; a Context path is read, never written; a
recycled worktree is switched to the next task's set, sparse or full."""

from __future__ import annotations

import json
from pathlib import Path

import pygit2
import pytest

from swarmgit.errors import WorkFailed
from swarmgit.gitops.commit import commit_all
from swarmgit.gitops.diff import uncommitted_added_lines
from swarmgit.gitops.status import dirty_paths, is_sparse
from swarmgit.gitops.worktrees import create_task_worktree, recycle_worktree, registered_at
from tests.gitutil import git, make_repo, write
from tests.swarmrepo import swarm_process, task_md, track_repo

FILES = {
    ".gitignore": "*.log\n",
    "README.md": "# r\n",
    "docs/guide.md": "# guide\n",
    "src/one/mod.py": "one = 1\n",
    "src/two/mod.py": "two = 1\n",
    "src/two/.gitignore": "*.tmp\n",
    **{f"lib/big/m{i}.py": f"m = {i}\n" for i in range(30)},
}
SPARSE = (
    '[worktrees]\ncheckout = "sparse"\n[concurrency]\nmax_parallel = 1\nmax_background = 1\n'
    "[gates]\nthreshold = 0.0\n"
)
UNFENCED = SPARSE + '[agent]\nsandbox = "off"\n'


def _head(cwd: Path, rev: str = "HEAD") -> str:
    return git(cwd, "rev-parse", rev).stdout.strip()


def _on_disk(worktree: Path) -> set[str]:
    return {
        p.relative_to(worktree).as_posix()
        for p in worktree.rglob("*")
        if p.is_file() and ".git" not in p.relative_to(worktree).parts[:1]
    }


def _sparse(repo: Path, tmp_path: Path, patterns: tuple[str, ...], name: str = "T01") -> Path:
    return create_task_worktree(
        pygit2.Repository(str(repo)),
        path=tmp_path / "wt" / name,
        branch=f"swarm/t/{name}",
        start=_head(repo),
        sparse=patterns,
    )


def test_a_sparse_worktree_holds_only_its_set_and_git_sees_no_deletion(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", FILES)
    path = _sparse(repo, tmp_path, ("src/one/", "docs/guide.md"))

    assert is_sparse(path) and not is_sparse(repo)
    assert _on_disk(path) == {".gitignore", "docs/guide.md", "src/one/mod.py", "src/two/.gitignore"}
    assert dirty_paths(path, refresh=True) == [] and list(uncommitted_added_lines(path)) == []
    assert git(path, "status", "--porcelain").stdout == ""  # the agent's own git agrees
    assert len(git(path, "ls-files").stdout.splitlines()) == len(FILES)  # git still knows them all
    assert git(path, "show", "HEAD:README.md").stdout == "# r\n"
    # The main worktree and the shared config are untouched: no sparse checkout there.
    assert len(_on_disk(repo)) == len(FILES)
    assert git(repo, "config", "--get", "core.sparseCheckout", check=False).stdout == ""
    assert git(repo, "config", "--get", "extensions.worktreeConfig", check=False).stdout == ""


def test_swarmgits_commit_in_a_sparse_worktree_records_only_what_changed(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", FILES)
    path = _sparse(repo, tmp_path, ("src/one/",))
    write(path, "src/one/mod.py", "one = 2\n")
    write(path, "src/one/new.py", "new = 1\n")
    write(path, "src/one/out.log", "ignored\n")
    start = _head(path)

    commit = commit_all(path, "T01: edit", lambda entries: [])

    assert commit is not None
    changed = git(path, "diff", "--name-status", start, commit).stdout.splitlines()
    assert changed == ["M\tsrc/one/mod.py", "A\tsrc/one/new.py"]  # no absent file deleted
    assert git(path, "status", "--porcelain").stdout == "" and dirty_paths(path, refresh=True) == []
    assert git(path, "ls-files", "-t", "README.md").stdout == "S README.md\n"  # still skipped


def test_a_file_written_outside_the_sparse_set_is_a_change_never_hidden(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", FILES)
    path = _sparse(repo, tmp_path, ("src/one/",))
    write(path, "README.md", "# replaced\n")  # a path git skips: git status alone would not see it

    assert dirty_paths(path, refresh=True) == ["README.md"]
    assert [a.text for a in uncommitted_added_lines(path)] == ["# replaced\n"]
    assert not recycle_worktree(
        pygit2.Repository(str(repo)),
        path,
        path=tmp_path / "wt" / "T02",
        branch="swarm/t/T02",
        start=_head(repo),
    )


def test_recycling_switches_the_sparse_set_and_back_to_a_full_checkout(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", FILES)
    r = pygit2.Repository(str(repo))
    donor = _sparse(repo, tmp_path, ("src/one/",))
    write(donor, "src/one/out.log", "left by T01\n")
    second = tmp_path / "wt" / "T02"

    assert recycle_worktree(
        r, donor, path=second, branch="swarm/t/T02", start=_head(repo), sparse=("src/two/",)
    )
    assert _on_disk(second) == {".gitignore", "src/two/.gitignore", "src/two/mod.py"}
    assert (
        dirty_paths(second, refresh=True) == []
        and git(second, "status", "--porcelain", "--ignored").stdout == ""
    )

    third = tmp_path / "wt" / "T03"
    assert recycle_worktree(r, second, path=third, branch="swarm/t/T03", start=_head(repo))
    assert not is_sparse(third) and _on_disk(third) == set(FILES)
    assert git(third, "ls-files", "-t").stdout.count("S ") == 0

    fourth = tmp_path / "wt" / "T04"
    assert recycle_worktree(r, third, path=fourth, branch="swarm/t/T04", start=_head(repo), sparse=("docs/",))
    assert _on_disk(fourth) == {".gitignore", "docs/guide.md", "src/two/.gitignore"}
    assert registered_at(r, fourth) == "T01"


def test_a_sparse_creation_a_crash_cut_short_is_finished_sparse(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", FILES)
    path = tmp_path / "wt" / "T01"
    # kill -9 between `git worktree add --no-checkout` and the sparse checkout.
    git(repo, "branch", "swarm/t/T01")
    git(repo, "worktree", "add", "-q", "--no-checkout", str(path), "swarm/t/T01")

    assert _sparse(repo, tmp_path, ("src/one/",)) == path
    assert _on_disk(path) == {".gitignore", "src/one/mod.py", "src/two/.gitignore"}
    assert dirty_paths(path, refresh=True) == []


def _tasks(repo: Path) -> dict[str, dict[str, object]]:
    data = json.loads(swarm_process(repo, "status", "t", "--json").stdout)
    return {task["id"]: task for task in data["tasks"]}


def test_implement_runs_sparse_tasks_through_the_real_hook_and_lands_only_their_change(
    tmp_path: Path,
) -> None:
    # T01 reads its Context, sees nothing else, commits by hand through the pre-commit hook
    # (the write fence is off: under it the worktree's git dir is not the agent's to write).
    # T02 takes over T01's worktree (recycled: T01's set leaves the disk, T02's arrives) and
    # leaves its edit for swarmgit to commit.
    plan = task_md(
        "T01",
        "one",
        touches="`src/one/`",
        extra="  - **Context:** `docs/`",
        runs=(
            "test -f docs/guide.md",
            "test ! -e README.md",
            "test ! -e lib",
            "echo 'one = 2' > src/one/mod.py",
            "git commit -qam 'T01 by hand'",
        ),
    ) + task_md(
        "T02",
        "two",
        deps="T01",
        touches="`src/two/`",
        runs=(
            "test ! -e src/one",
            "test ! -e docs",
            "test -f src/two/mod.py",
            "echo 'two = 2' > src/two/mod.py",
            "echo x > src/two/run.log",
        ),
    )
    repo = track_repo(tmp_path / "proj", plan, files=FILES, config=UNFENCED)
    base = _head(repo)

    done = swarm_process(repo, "implement", "t")

    assert done.returncode == 0, done.stdout + done.stderr
    assert git(repo, "diff", "--name-status", base, "main").stdout.splitlines() == [
        "M\tsrc/one/mod.py",
        "M\tsrc/two/mod.py",
    ]
    assert git(repo, "log", "--format=%s", "swarm/t/T01").stdout.splitlines()[0] == "T01 by hand"
    root = tmp_path / "proj.swarm-worktrees" / "t"
    assert registered_at(pygit2.Repository(str(repo)), root / "T02") == "T01"
    assert _on_disk(root / "T02") == {".gitignore", "src/two/.gitignore", "src/two/mod.py", "src/two/run.log"}
    assert _tasks(repo)["T02"]["status"] == "done"


def test_a_commit_to_a_context_path_is_refused_by_the_hook(tmp_path: Path) -> None:
    # Without the write fence the write lands, and the commit itself is what refuses.
    plan = task_md(
        "T01",
        "one",
        touches="`src/one/`",
        extra="  - **Context:** `docs/`",
        runs=("echo more >> docs/guide.md", "git commit -qam 'edit the context'"),
    )
    repo = track_repo(tmp_path / "proj", plan, files=FILES, config=UNFENCED)

    done = swarm_process(repo, "implement", "t")

    assert done.returncode == 1, done.stdout + done.stderr
    task = _tasks(repo)["T01"]
    assert task["status"] == "failed"
    log = (repo / "swarm" / "tracks" / "t" / "logs" / "T01.log").read_text()
    assert "docs/guide.md" in log and "outside" in log  # the hook named the path
    assert _head(repo, "swarm/t/T01") == _head(repo, "main")  # nothing committed


def test_a_fenced_sparse_task_is_committed_by_swarmgit_without_deletions(tmp_path: Path) -> None:
    plan = task_md(
        "T01",
        "one",
        touches="`src/one/`, `lib/big/m1.py`",
        runs=(
            "grep -q 'Your worktree is sparse' \"$SWARM_BRIEF\"",
            "test ! -e lib/big/m2.py",
            "echo 'm = 100' > lib/big/m1.py",
            "echo 'one = 3' > src/one/mod.py",
        ),
    )
    repo = track_repo(tmp_path / "proj", plan, files=FILES, config=SPARSE)
    base = _head(repo)

    done = swarm_process(repo, "implement", "t")

    assert done.returncode == 0, done.stdout + done.stderr
    assert git(repo, "diff", "--name-status", base, "main").stdout.splitlines() == [
        "M\tlib/big/m1.py",
        "M\tsrc/one/mod.py",
    ]


def test_retry_reset_and_clean_take_absent_files_for_no_live_work(tmp_path: Path) -> None:
    go = tmp_path / "go"
    plan = task_md(
        "T01", "one", touches="`src/one/`", runs=("echo 'one = 2' > src/one/mod.py", f"test -e {go}")
    )
    repo = track_repo(tmp_path / "proj", plan, files=FILES, config=SPARSE)
    assert swarm_process(repo, "implement", "t").returncode == 1  # no go file yet
    worktree = tmp_path / "proj.swarm-worktrees" / "t" / "T01"
    write(worktree, "src/one/mod.py", "one = 'by hand'\n")

    refused = swarm_process(repo, "retry", "T01", "--reset")
    assert refused.returncode == 2 and "(src/one/mod.py)" in refused.stdout + refused.stderr

    git(worktree, "checkout", "-q", "--", ".")
    go.touch()
    again = swarm_process(repo, "retry", "T01", "--reset")
    assert again.returncode == 0, again.stdout + again.stderr
    assert git(repo, "show", "main:src/one/mod.py").stdout == "one = 2\n"
    assert is_sparse(worktree)
    cleaned = swarm_process(repo, "clean", "t")
    assert cleaned.returncode == 0 and not worktree.exists(), cleaned.stdout + cleaned.stderr


def test_a_nested_repository_in_a_sparse_worktree_is_refused_clearly(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", FILES)
    path = _sparse(repo, tmp_path, ("src/one/",))
    make_repo(path / "src" / "one" / "vendored", {"x.py": "x = 1\n"})
    start = _head(path)

    with pytest.raises(WorkFailed, match="src/one/vendored/ in .* is a nested git repository"):
        commit_all(path, "T01: vendor", lambda entries: [])
    assert _head(path) == start and git(path, "diff", "--cached", "--name-only").stdout == ""
