from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pygit2
import pytest

from swarmgit.domain.scope import ScopeEntry
from swarmgit.errors import WorkFailed
from swarmgit.gitops.commit import ScopeViolation, commit_all
from swarmgit.gitops.worktrees import create_task_worktree
from tests.gitutil import git, make_repo, write

BODY = "".join(f"line {i}\n" for i in range(1, 21))


Check = Callable[[Sequence[ScopeEntry]], Sequence[str]]


def _allow(prefix: str) -> tuple[list[Sequence[str]], Check]:
    """A scope check allowing paths under `prefix`, recording what it was asked."""
    seen: list[Sequence[str]] = []

    def check(entries: Sequence[ScopeEntry]) -> Sequence[str]:
        paths = [e.path for e in entries]
        seen.append(paths)
        return [p for p in paths if not p.startswith(prefix)]

    return seen, check


def _head(root: Path, rev: str = "HEAD") -> str:
    return git(root, "rev-parse", rev).stdout.strip()


def test_commits_adds_edits_and_deletions_but_not_ignored_files(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "r", {".gitignore": "*.log\n", "src/a.py": "a\n", "src/gone.py": "g\n"})
    before = _head(root)
    write(root, "src/a.py", "a2\n")
    (root / "src/gone.py").unlink()
    write(root, "src/new/b.py", "b\n")
    write(root, "src/debug.log", "noise\n")
    seen, check = _allow("src/")

    commit = commit_all(root, "T01: add b\n\nbody", check)

    assert commit == _head(root, "main")
    assert seen == [["src/a.py", "src/gone.py", "src/new/b.py"]]
    assert git(root, "rev-parse", f"{commit}^").stdout.strip() == before
    assert git(root, "log", "-1", "--format=%an <%ae>|%s").stdout.strip() == (
        "Swarm Test <test@swarmgit.invalid>|T01: add b"
    )
    assert git(root, "ls-tree", "-r", "--name-only", commit).stdout.split() == [
        ".gitignore",
        "src/a.py",
        "src/new/b.py",
    ]
    assert git(root, "status", "--porcelain").stdout == ""  # index and tree agree with HEAD
    assert "commit: T01: add b" in git(root, "reflog", "-1", "main").stdout


def test_excluded_new_files_stay_out_but_tracked_ones_are_committed(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "r", {"src/a.py": "a\n", ".aider.conf.yml": "x: 1\n"})
    write(root, "src/a.py", "a2\n")
    write(root, ".aider.tags.cache.v4/cache.db", "cache\n")
    write(root, ".aider.chat.history.md", "chat\n")
    write(root, ".aider.conf.yml", "x: 2\n")  # tracked: the user's file, not the CLI's cache
    seen, check = _allow("")

    commit = commit_all(root, "T01: edit", check, exclude=(".aider*",))

    assert seen == [[".aider.conf.yml", "src/a.py"]]
    assert git(root, "ls-tree", "-r", "--name-only", commit).stdout.split() == [
        ".aider.conf.yml",
        "src/a.py",
    ]
    assert git(root, "status", "--porcelain", "--untracked-files=all").stdout.splitlines() == [
        "?? .aider.chat.history.md",
        "?? .aider.tags.cache.v4/cache.db",
    ]
    assert not (root / ".gitignore").exists()


def test_nothing_to_commit_returns_none(repo: Path) -> None:
    before = _head(repo)
    seen, check = _allow("")
    assert commit_all(repo, "empty", check) is None
    assert seen == []
    assert _head(repo) == before


def test_the_check_sees_both_sides_of_a_rename(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "r", {"outside/mod.py": BODY})
    write(root, "inside/mod.py", BODY)
    (root / "outside/mod.py").unlink()
    seen, check = _allow("inside/")
    with pytest.raises(ScopeViolation) as refused:
        commit_all(root, "move", check)
    assert seen == [["inside/mod.py", "outside/mod.py"]]
    assert refused.value.paths == ("outside/mod.py",)
    assert "outside/mod.py" in str(refused.value)


def test_a_scope_violation_commits_nothing_and_keeps_all_work(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "r", {"api/a.py": "a\n", "core/c.py": "c\n"})
    before = _head(root)
    write(root, "api/a.py", "a2\n")
    write(root, "core/c.py", "c2\n")
    write(root, "core/staged.py", "s\n")
    git(root, "add", "core/staged.py")  # the agent's own staging survives too
    status_before = git(root, "status", "--porcelain").stdout
    _, check = _allow("api/")

    with pytest.raises(ScopeViolation) as refused:
        commit_all(root, "sneaky", check)

    assert isinstance(refused.value, WorkFailed)
    assert refused.value.paths == ("core/c.py", "core/staged.py")
    assert _head(root) == before
    assert git(root, "status", "--porcelain").stdout == status_before
    assert (root / "core/c.py").read_text() == "c2\n"


def test_commit_in_a_task_worktree_moves_only_its_branch(repo: Path, tmp_path: Path) -> None:
    main_before = _head(repo, "main")
    path = create_task_worktree(
        pygit2.Repository(str(repo)),
        path=tmp_path / "T01",
        branch="swarm/t/T01",
        start=main_before,
    )
    write(path, "feature.py", "f\n")
    _, check = _allow("")
    commit = commit_all(path, "T01: feature", check)
    assert _head(repo, "swarm/t/T01") == commit
    assert _head(repo, "main") == main_before
    assert git(path, "status", "--porcelain").stdout == ""
    assert git(repo, "status", "--porcelain").stdout == ""


def test_a_detached_worktree_is_refused(repo: Path) -> None:
    git(repo, "checkout", "-q", "--detach")
    write(repo, "x.txt", "x")
    _, check = _allow("")
    with pytest.raises(WorkFailed, match="detached HEAD"):
        commit_all(repo, "m", check)


def test_worktrees_commit_in_parallel_threads(repo: Path, tmp_path: Path) -> None:
    start = _head(repo)
    r = pygit2.Repository(str(repo))
    paths = [
        create_task_worktree(r, path=tmp_path / f"T{i}", branch=f"swarm/t/T{i}", start=start)
        for i in range(4)
    ]

    def work(path: Path) -> list[str | None]:
        commits = []
        for n in range(5):
            write(path, f"{path.name}/f{n}.txt", str(n))
            commits.append(commit_all(path, f"{path.name} step {n}", lambda p: []))
        return commits

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(work, paths))

    for path, commits in zip(paths, results):
        assert None not in commits
        log = git(repo, "rev-list", f"swarm/t/{path.name}", f"^{start}").stdout.split()
        assert log == list(reversed(commits))


# Each change below is made twice, in two identical repositories: commit_all stages only what
# `git status` lists, and must commit the very tree `git add -A` would.
def _rename(root: Path) -> None:
    (root / "src/moved").mkdir()
    (root / "src/a.py").rename(root / "src/moved/a.py")


def _exec_bit(root: Path) -> None:
    (root / "src/run.sh").chmod(0o755)


def _nested_untracked(root: Path) -> None:
    write(root, "src/deep/er/still/new.py", "n\n")
    write(root, "src/deep/other.txt", "o\n")


def _agent_staged(root: Path) -> None:
    write(root, "src/staged.py", "staged\n")
    git(root, "add", "src/staged.py")
    write(root, "src/staged.py", "then edited\n")  # the working tree's version is committed
    write(root, "src/staged_then_gone.py", "x\n")
    git(root, "add", "src/staged_then_gone.py")
    (root / "src/staged_then_gone.py").unlink()


def _ignored(root: Path) -> None:
    write(root, "src/build.log", "noise\n")
    write(root, "src/cache/x.log", "noise\n")
    write(root, "src/kept.py", "k\n")


def _file_to_folder(root: Path) -> None:
    (root / "src/b.py").unlink()
    write(root, "src/b.py/inner.py", "i\n")


def _folder_to_file(root: Path) -> None:
    (root / "src/pkg/m.py").unlink()
    (root / "src/pkg").rmdir()
    write(root, "src/pkg", "now a file\n")


def _crlf(root: Path) -> None:
    (root / "src/win.txt").write_bytes(b"one\r\ntwo\r\n")


SCENARIOS: dict[str, tuple[Callable[[Path], None], list[str]]] = {
    "deletion": (lambda root: (root / "src/b.py").unlink(), ["src/b.py"]),
    "rename": (_rename, ["src/a.py", "src/moved/a.py"]),
    "exec bit": (_exec_bit, ["src/run.sh"]),
    "nested untracked folders": (_nested_untracked, ["src/deep/er/still/new.py", "src/deep/other.txt"]),
    "a file the agent staged": (_agent_staged, ["src/staged.py"]),
    "an ignored file": (_ignored, ["src/kept.py"]),
    "a file turned folder": (_file_to_folder, ["src/b.py", "src/b.py/inner.py"]),
    "a folder turned file": (_folder_to_file, ["src/pkg", "src/pkg/m.py"]),
    "CRLF kept as written": (_crlf, ["src/win.txt"]),
}


@pytest.mark.parametrize("name", SCENARIOS)
def test_commits_the_tree_git_add_all_would(tmp_path: Path, name: str) -> None:
    change, expected = SCENARIOS[name]
    files = {
        ".gitignore": "*.log\n",
        "src/a.py": BODY,
        "src/b.py": "b\n",
        "src/run.sh": "echo\n",
        "src/pkg/m.py": "m\n",
    }
    ours, theirs = make_repo(tmp_path / "ours", files), make_repo(tmp_path / "theirs", files)
    for root in (ours, theirs):
        change(root)
    seen, check = _allow("src/")

    commit = commit_all(ours, f"T01: {name}", check)

    git(theirs, "add", "-A")
    assert commit is not None
    assert git(ours, "rev-parse", f"{commit}^{{tree}}").stdout == git(theirs, "write-tree").stdout
    assert seen == [expected]
    assert git(ours, "status", "--porcelain").stdout == ""


def test_a_symlink_leaving_the_touches_is_refused_and_nothing_staged(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "r", {"src/a.py": "a\n", "secret/key": "k\n"})
    before = _head(root)
    (root / "src/link").symlink_to("../secret/key")
    write(root, "src/a.py", "a2\n")

    def check(entries: Sequence[ScopeEntry]) -> Sequence[str]:
        return [e.path for e in entries if e.link_target is not None]

    with pytest.raises(ScopeViolation) as refused:
        commit_all(root, "T01: link", check)

    assert refused.value.paths == ("src/link",)
    assert _head(root) == before
    assert git(root, "diff", "--cached", "--name-only").stdout == ""


def test_a_submodule_moved_by_the_agent_is_staged_as_its_new_commit(tmp_path: Path) -> None:
    lib = make_repo(tmp_path / "lib", {"x.py": "x\n"})
    root = make_repo(tmp_path / "r", {"src/a.py": "a\n"})
    git(root, "-c", "protocol.file.allow=always", "submodule", "add", "-q", str(lib), "vendor/lib")
    git(root, "commit", "-qm", "vendor lib")
    write(root, "vendor/lib/y.py", "y\n")
    git(root / "vendor/lib", "add", "y.py")
    git(root / "vendor/lib", "commit", "-qm", "moved on")
    moved = _head(root / "vendor/lib")
    seen: list[Sequence[ScopeEntry]] = []

    def check(entries: Sequence[ScopeEntry]) -> Sequence[str]:
        seen.append(entries)
        return []

    commit = commit_all(root, "T01: bump", check)

    assert seen == [[ScopeEntry("vendor/lib", 0o160000)]]
    assert git(root, "rev-parse", f"{commit}:vendor/lib").stdout.strip() == moved


def test_an_excluded_file_where_a_tracked_folder_was_stays_out(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "r", {"src/a.py": "a\n", ".cache/old.txt": "o\n"})
    (root / ".cache/old.txt").unlink()
    (root / ".cache").rmdir()
    write(root, ".cache", "the agent CLI's cache file\n")
    seen, check = _allow("")

    commit = commit_all(root, "T01: drop", check, exclude=(".cache",))

    assert seen == [[".cache/old.txt"]]
    assert git(root, "ls-tree", "-r", "--name-only", commit).stdout.split() == ["src/a.py"]
    assert git(root, "status", "--porcelain").stdout == "?? .cache\n"
