from __future__ import annotations

from pathlib import Path

import pygit2
import pytest

from swarmgit.domain.scope import ScopeEntry, scope_violations
from swarmgit.errors import UsageError
from swarmgit.gitops.repo import (
    case_variants,
    common_dir,
    contains,
    current_branch,
    discover,
    head_commit,
    resolve,
    signature,
    tracked_files,
    workdir,
)
from tests.gitutil import git, make_repo, write


def test_discover_finds_the_repository_from_a_subfolder(repo: Path) -> None:
    (repo / "pkg" / "sub").mkdir(parents=True)
    found = discover(repo / "pkg" / "sub")
    assert workdir(found) == repo.resolve()


def test_discover_outside_a_repository_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="not a git repository"):
        discover(tmp_path / "nowhere")


def test_common_dir_is_the_main_git_dir_also_from_a_linked_worktree(repo: Path, tmp_path: Path) -> None:
    git(repo, "worktree", "add", "-q", "-b", "side", str(tmp_path / "wt"))
    linked = discover(tmp_path / "wt")
    assert workdir(linked) == (tmp_path / "wt").resolve()
    assert common_dir(linked) == (repo / ".git").resolve()
    assert common_dir(discover(repo)) == (repo / ".git").resolve()


def test_current_branch_and_head_commit(repo: Path) -> None:
    r = discover(repo)
    assert current_branch(r) == "main"
    assert head_commit(r) == git(repo, "rev-parse", "HEAD").stdout.strip()
    git(repo, "checkout", "-q", "--detach")
    assert current_branch(discover(repo)) is None


def test_unborn_branch_has_no_branch_and_no_head(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q", "-b", "main")
    r = discover(tmp_path)
    assert current_branch(r) is None
    assert head_commit(r) is None


def test_signature_prefers_environment_then_config_then_fallback(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    r = discover(repo)
    assert (signature(r).name, signature(r).email) == ("Swarm Test", "test@swarmgit.invalid")
    monkeypatch.delenv("GIT_AUTHOR_NAME")
    monkeypatch.delenv("GIT_AUTHOR_EMAIL")
    assert (signature(r).name, signature(r).email) == ("swarmgit", "swarmgit@localhost")
    git(repo, "config", "user.name", "Repo User")
    git(repo, "config", "user.email", "repo@example.com")
    r = discover(repo)
    assert (signature(r).name, signature(r).email) == ("Repo User", "repo@example.com")


def test_tracked_files_lists_every_file_of_a_commit(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "r", {"b.txt": "b", "a/x.py": "x", "a/deep/y.py": "y"})
    r = discover(root)
    assert tracked_files(r, resolve(r, "HEAD")) == ["a/deep/y.py", "a/x.py", "b.txt"]


CASE_TREE = {
    "Docs/guide.md": "g",
    "docs/api.md": "a",
    "src/App.py": "A",
    "src/app/x.py": "x",
    "SRC/other.py": "o",
    "lib/Deep/Name/f.py": "f",
    "lib/deep/name/g.py": "g",
    "lib/deep/NAME": "file",
    "README": "r",
}
CASE_PATHS = [
    *CASE_TREE,
    "docs/guide.md",
    "DOCS/new.md",
    "src/APP.py",
    "src/App/y.py",
    "src/new.py",
    "Src/x.py",
    "lib/deep/Name/f.py",
    "lib/DEEP/name/h.py",
    "lib/deep/name",
    "readme",
    "new/dir/file.py",
    "",
    "a//b",
    "../x",
]
CASE_TOUCHES = [[], ["src/"], ["docs/", "lib/deep/"], ["Docs/guide.md", "lib/"], ["**/*.py"]]


@pytest.mark.parametrize("touches", CASE_TOUCHES)
def test_case_variants_judge_as_every_tracked_file_does(tmp_path: Path, touches: list[str]) -> None:
    root = make_repo(tmp_path / "r", CASE_TREE)
    r = discover(root)
    head = resolve(r, "HEAD")
    everything = tracked_files(r, head)
    for paths in [[p] for p in CASE_PATHS] + [CASE_PATHS]:
        entries = [ScopeEntry(p, 0o100644) for p in paths]
        few = case_variants(r, head, paths)
        assert set(few) <= set(everything)
        assert scope_violations(touches, entries, few) == scope_violations(touches, entries, everything)
    assert case_variants(r, head, ["docs/guide.md"]) == ["Docs/guide.md"]
    assert case_variants(r, head, ["src/APP/z.py"]) == ["SRC/other.py", "src/app/x.py"]
    assert case_variants(r, head, ["README", "new/x.py"]) == []


def test_resolve_names_commits_and_rejects_unknown_revisions(repo: Path) -> None:
    head = git(repo, "rev-parse", "HEAD").stdout.strip()
    git(repo, "tag", "-a", "v1", "-m", "release")
    r = discover(repo)
    assert resolve(r, "main") == head
    assert resolve(r, "v1") == head  # an annotated tag peels to its commit
    assert resolve(r, head[:8]) == head
    for bad in ("no-such-branch", "HEAD~5", "main:README.md"):
        with pytest.raises(UsageError, match="unknown revision"):
            resolve(r, bad)


def test_contains_is_true_for_ancestors_and_the_commit_itself(repo: Path) -> None:
    first = git(repo, "rev-parse", "HEAD").stdout.strip()
    write(repo, "f.txt", "1")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "second")
    second = git(repo, "rev-parse", "HEAD").stdout.strip()
    r = pygit2.Repository(str(repo))
    assert contains(r, second, first)
    assert contains(r, first, first)
    assert not contains(r, first, second)
