from __future__ import annotations

from pathlib import Path

import pygit2

from swarmgit.gitops.merge import Conflict, fold_merge
from swarmgit.gitops.repo import tracked_files
from tests.gitutil import git, make_repo, write

BODY = "".join(f"line {i}\n" for i in range(1, 31))


def _rev(root: Path, rev: str = "HEAD") -> str:
    return git(root, "rev-parse", rev).stdout.strip()


def _branch(root: Path, name: str, files: dict[str, str], start: str = "main") -> str:
    """A branch `name` from `start` with one commit writing `files`; leaves main checked out."""
    git(root, "checkout", "-q", "-b", name, start)
    for rel, text in files.items():
        write(root, rel, text)
    git(root, "add", "-A")
    git(root, "commit", "-qm", f"work on {name}")
    head = _rev(root)
    git(root, "checkout", "-q", "main")
    return head


def _file(repo: pygit2.Repository, commit: str, path: str) -> str:
    blob = repo[repo[commit].peel(pygit2.Tree)[path].id]
    assert isinstance(blob, pygit2.Blob)
    return blob.data.decode()


def _refs(root: Path) -> str:
    return git(root, "for-each-ref").stdout


def test_disjoint_heads_fold_into_merge_commits_without_moving_refs(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "r", {"a.txt": "a\n", "b.txt": "b\n"})
    base = _rev(root)
    t1 = _branch(root, "t1", {"a.txt": "a1\n"})
    t2 = _branch(root, "t2", {"b.txt": "b2\n"})
    t3 = _branch(root, "t3", {"c.txt": "c3\n"})
    refs_before = _refs(root)
    repo = pygit2.Repository(str(root))

    result = fold_merge(repo, base, [("T1", t1), ("T2", t2), ("T3", t3)], lambda t: f"merge {t}")

    assert result.conflict is None
    assert result.merged == ("T1", "T2", "T3")
    # T1 fast-forwards from base; T2 and T3 need merge commits.
    final = repo[result.commit].peel(pygit2.Commit)
    assert final.message == "merge T3"
    assert [str(p) for p in final.parent_ids][1] == t3
    contents = [_file(repo, result.commit, p) for p in ("a.txt", "b.txt", "c.txt")]
    assert contents == ["a1\n", "b2\n", "c3\n"]
    assert _refs(root) == refs_before
    assert git(root, "status", "--porcelain").stdout == ""
    assert git(root, "merge-base", "--is-ancestor", t2, result.commit, check=False).returncode == 0


def test_a_head_containing_the_result_is_a_fast_forward(repo: Path) -> None:
    base = _rev(repo)
    t1 = _branch(repo, "t1", {"x.txt": "x\n"})
    result = fold_merge(pygit2.Repository(str(repo)), base, [("T1", t1)], lambda t: t)
    assert (result.commit, result.merged, result.conflict) == (t1, ("T1",), None)


def test_heads_already_contained_are_skipped(repo: Path) -> None:
    base = _rev(repo)
    t1 = _branch(repo, "t1", {"x.txt": "x\n"})
    t2 = _branch(repo, "t2", {"y.txt": "y\n"}, start="t1")  # built on top of t1
    heads = [("T2", t2), ("T1", t1), ("B", base)]
    result = fold_merge(pygit2.Repository(str(repo)), base, heads, str)
    assert result.commit == t2
    assert result.merged == ("T2",)


def test_rename_on_one_side_and_edit_on_the_other_merge_cleanly(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "r", {"src/old.py": BODY})
    base = _rev(root)
    git(root, "checkout", "-q", "-b", "mover")
    (root / "lib").mkdir()
    git(root, "mv", "src/old.py", "lib/new.py")
    git(root, "commit", "-qm", "rename")
    mover = _rev(root)
    git(root, "checkout", "-q", "main")
    editor = _branch(root, "editor", {"src/old.py": BODY.replace("line 15\n", "EDITED 15\n")})
    repo = pygit2.Repository(str(root))

    result = fold_merge(repo, base, [("MOVE", mover), ("EDIT", editor)], lambda t: t)

    assert result.conflict is None
    assert "EDITED 15\n" in _file(repo, result.commit, "lib/new.py")
    assert tracked_files(repo, result.commit) == ["lib/new.py"]


def test_conflict_stops_the_fold_and_names_the_head_and_paths(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "r", {"shared.txt": "base\n", "other.txt": "o\n"})
    base = _rev(root)
    t1 = _branch(root, "t1", {"shared.txt": "one\n"})
    t2 = _branch(root, "t2", {"other.txt": "o2\n"})
    t3 = _branch(root, "t3", {"shared.txt": "three\n", "new.txt": "n\n"})
    t4 = _branch(root, "t4", {"late.txt": "l\n"})
    repo = pygit2.Repository(str(root))

    result = fold_merge(repo, base, [("T1", t1), ("T2", t2), ("T3", t3), ("T4", t4)], str)

    assert result.conflict == Conflict("T3", ("shared.txt",))
    assert result.merged == ("T1", "T2")
    # The result stops just before the failing head: T1 and T2 are in, T3 and T4 are not.
    assert _file(repo, result.commit, "shared.txt") == "one\n"
    assert _file(repo, result.commit, "other.txt") == "o2\n"
    assert "late.txt" not in repo[result.commit].peel(pygit2.Tree)


def _git_merge_tree(root: Path, ours: str, theirs: str) -> str | None:
    """git's own merge (ort) of the two commits: the tree hex, None on a conflict."""
    done = git(root, "merge-tree", "--write-tree", ours, theirs, check=False)
    return done.stdout.split()[0] if done.returncode == 0 else None


def _tree(repo: pygit2.Repository, commit: str) -> str:
    return str(repo[commit].peel(pygit2.Tree).id)


def test_disjoint_changes_give_the_same_tree_as_git(tmp_path: Path) -> None:
    files = {f"pkg{d}/m{i}.py": f"{d}{i}\n" * 20 for d in range(3) for i in range(4)}
    root = make_repo(tmp_path / "r", {**files, "link.txt": "x\n", "solo/only.py": "o\n"})
    base = _rev(root)
    git(root, "checkout", "-q", "-b", "ours")
    write(root, "pkg0/m0.py", "ours\n")
    write(root, "brand/new/deep.py", "n\n")
    (root / "pkg1/m1.py").unlink()
    git(root, "add", "-A")
    git(root, "commit", "-qm", "ours")
    ours = _rev(root)
    git(root, "checkout", "-q", "-b", "theirs", base)
    write(root, "pkg0/m1.py", "theirs\n")
    (root / "pkg2").mkdir(exist_ok=True)
    git(root, "mv", "pkg2/m3.py", "pkg2/renamed.py")
    git(root, "rm", "-q", "-r", "solo")  # a whole folder goes
    (root / "pkg1/m2.py").chmod(0o755)
    (root / "link.txt").unlink()
    (root / "link.txt").symlink_to("pkg0/m0.py")  # a file becomes a symlink
    write(root, "brand/other.py", "t\n")  # a folder both sides add to
    git(root, "add", "-A")
    git(root, "commit", "-qm", "theirs")
    theirs = _rev(root)
    repo = pygit2.Repository(str(root))

    result = fold_merge(repo, ours, [("T", theirs)], str)

    assert result.conflict is None
    assert _tree(repo, result.commit) == _git_merge_tree(root, ours, theirs)


def test_edits_to_one_file_on_both_sides_merge_like_git(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "r", {"f.py": BODY})
    base = _rev(root)
    ours = _branch(root, "ours", {"f.py": BODY.replace("line 2\n", "OURS 2\n")}, start=base)
    theirs = _branch(root, "theirs", {"f.py": BODY.replace("line 28\n", "THEIRS 28\n")}, base)
    repo = pygit2.Repository(str(root))
    result = fold_merge(repo, ours, [("T", theirs)], str)
    assert _tree(repo, result.commit) == _git_merge_tree(root, ours, theirs)
    assert "OURS 2\n" in _file(repo, result.commit, "f.py")
    assert "THEIRS 28\n" in _file(repo, result.commit, "f.py")


def test_a_file_where_the_other_side_needs_a_folder_is_a_conflict(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "r", {"a.txt": "a\n"})
    base = _rev(root)
    ours = _branch(root, "ours", {"x": "a file\n"}, start=base)
    theirs = _branch(root, "theirs", {"x/y.txt": "in a folder\n"}, start=base)
    result = fold_merge(pygit2.Repository(str(root)), ours, [("T", theirs)], str)
    assert _git_merge_tree(root, ours, theirs) is None
    assert result.conflict is not None and result.conflict.label == "T"


def test_criss_cross_history_merges_like_git_even_after_a_revert(tmp_path: Path) -> None:
    """Two merge bases, one of which changed p that ours then reverted: git keeps ours' p."""
    root = make_repo(tmp_path / "r", {"p.txt": "0\n", "q.txt": "q\n", "r.txt": "r\n"})
    base = _rev(root)
    b1 = _branch(root, "b1", {"q.txt": "q1\n"}, start=base)
    b2 = _branch(root, "b2", {"p.txt": "2\n"}, start=base)
    git(root, "checkout", "-q", "-b", "ours", b1)
    git(root, "merge", "-q", "--no-edit", b2)
    write(root, "p.txt", "0\n")  # revert b2's change to p
    git(root, "commit", "-qam", "ours reverts p")
    ours = _rev(root)
    git(root, "checkout", "-q", "-b", "theirs", b2)
    git(root, "merge", "-q", "--no-edit", b1)
    write(root, "r.txt", "r-theirs\n")
    git(root, "commit", "-qam", "theirs edits r")
    theirs = _rev(root)
    git(root, "checkout", "-q", "main")
    repo = pygit2.Repository(str(root))

    result = fold_merge(repo, ours, [("T", theirs)], str)

    assert result.conflict is None
    assert _tree(repo, result.commit) == _git_merge_tree(root, ours, theirs)
    assert _file(repo, result.commit, "p.txt") == "0\n"
    assert _file(repo, result.commit, "r.txt") == "r-theirs\n"


def test_the_same_fold_gives_the_same_commit_so_start_points_are_reused(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "r", {"a.txt": "a\n", "b.txt": "b\n", "c.txt": "c\n"})
    base = _rev(root)
    t1 = _branch(root, "t1", {"a.txt": "a1\n"}, start=base)
    t2 = _branch(root, "t2", {"b.txt": "b2\n"}, start=base)
    repo = pygit2.Repository(str(root))
    start_t3 = fold_merge(repo, base, [("T1", t1), ("T2", t2)], lambda t: f"merge {t}").commit
    assert fold_merge(repo, base, [("T1", t1), ("T2", t2)], lambda t: f"merge {t}").commit == (start_t3)
    t3 = _branch(root, "t3", {"c.txt": "c3\n"}, start=start_t3)

    heads = [("T1", t1), ("T2", t2), ("T3", t3)]
    integration = fold_merge(repo, base, heads, lambda t: f"merge {t}")

    assert integration.commit == t3  # T3 already holds the T1 + T2 merge: a fast-forward
    assert integration.merged == ("T1", "T2", "T3")
