from __future__ import annotations

from pathlib import Path

import pygit2

from swarmgit.domain.scope import ScopeEntry
from swarmgit.gitops.diff import (
    AddedLine,
    PathChange,
    added_lines_between,
    changed_lines,
    changes_between,
    describe_paths,
    scope_entries,
    touched_paths,
    uncommitted_added_lines,
)
from tests.gitutil import git, make_repo, write

BODY = "".join(f"line {i}\n" for i in range(1, 21))


def _commit(root: Path, message: str) -> str:
    git(root, "add", "-A")
    git(root, "commit", "-qm", message)
    return git(root, "rev-parse", "HEAD").stdout.strip()


def test_changes_between_reports_adds_edits_deletions_renames_modes(tmp_path: Path) -> None:
    root = make_repo(
        tmp_path / "r",
        {"keep.py": "a\n", "gone.py": "b\n", "old/name.py": BODY, "run.sh": "echo\n"},
    )
    base = git(root, "rev-parse", "HEAD").stdout.strip()
    write(root, "keep.py", "a\nb\n")
    write(root, "new.py", "n\n")
    (root / "gone.py").unlink()
    (root / "fresh").mkdir()
    git(root, "mv", "old/name.py", "fresh/name.py")
    (root / "run.sh").chmod(0o755)
    (root / "link").symlink_to("../outside")
    head = _commit(root, "change")
    changes = changes_between(pygit2.Repository(str(root)), base, head)
    assert sorted(changes, key=repr) == sorted(
        [
            PathChange("M", "keep.py", "keep.py", 0o100644),
            PathChange("A", None, "new.py", 0o100644),
            PathChange("D", "gone.py", None),
            PathChange("R", "old/name.py", "fresh/name.py", 0o100644),
            PathChange("M", "run.sh", "run.sh", 0o100755),
            PathChange("A", None, "link", 0o120000, "../outside"),
        ],
        key=repr,
    )
    assert touched_paths(changes) == [
        "fresh/name.py",
        "gone.py",
        "keep.py",
        "link",
        "new.py",
        "old/name.py",
        "run.sh",
    ]
    entries = {e.path: e for e in scope_entries(changes)}
    assert entries["old/name.py"] == ScopeEntry("old/name.py")
    assert entries["link"] == ScopeEntry("link", 0o120000, "../outside")


def test_identical_commits_have_no_changes(repo: Path) -> None:
    head = git(repo, "rev-parse", "HEAD").stdout.strip()
    assert changes_between(pygit2.Repository(str(repo)), head, head) == []


def test_changed_lines_gives_new_side_line_numbers_per_file(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "r", {"a.py": BODY, "b.py": BODY, "moved.py": BODY})
    base = git(root, "rev-parse", "HEAD").stdout.strip()
    edited = BODY.replace("line 3\n", "LINE 3\n").replace("line 10\n", "line 10\nextra\n")
    write(root, "a.py", edited)
    write(root, "b.py", BODY.replace("line 5\n", ""))  # a pure deletion
    git(root, "mv", "moved.py", "renamed.py")
    write(root, "renamed.py", BODY + "tail\n")
    write(root, "c.py", "one\ntwo\n")
    head = _commit(root, "edit")
    lines = changed_lines(pygit2.Repository(str(root)), base, head)
    assert lines == {"a.py": {3, 11}, "renamed.py": {21}, "c.py": {1, 2}}


def test_describe_paths_shortens_long_lists() -> None:
    assert describe_paths(["a", "b"]) == "a, b"
    assert describe_paths([f"p{i}" for i in range(12)], limit=3) == "p0, p1, p2 and 9 more"


def test_uncommitted_added_lines_cover_edits_untracked_and_binary_files_but_not_ignored(
    tmp_path: Path,
) -> None:
    root = make_repo(tmp_path / "r", {"a.txt": "one\n", ".gitignore": "build/\n"})
    write(root, "a.txt", "one\ntwo\n")
    write(root, "new/n.txt", "fresh\n")
    (root / "blob.bin").write_bytes(b"x\0y\nsecret\n")
    write(root, "build/out.txt", "ignored\n")
    (root / "link").symlink_to("/dev/zero")
    objects = sorted(p.name for p in (root / ".git" / "objects").rglob("*"))

    added = sorted(uncommitted_added_lines(root), key=lambda a: (a.path, a.line))

    assert [(a.path, a.line, a.text.rstrip("\n")) for a in added] == [
        ("a.txt", 2, "two"),
        ("blob.bin", 1, "x\0y"),
        ("blob.bin", 2, "secret"),
        ("link", 1, "/dev/zero"),
        ("new/n.txt", 1, "fresh"),
    ]
    assert sorted(p.name for p in (root / ".git" / "objects").rglob("*")) == objects  # nothing written
    assert git(root, "status", "--porcelain").stdout == " M a.txt\n?? blob.bin\n?? link\n?? new/\n"


def test_added_lines_between_commits_only_the_new_lines(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "r", {"a.txt": "one\nthree\n"})
    base = git(root, "rev-parse", "HEAD").stdout.strip()
    write(root, "a.txt", "one\ntwo\nthree\n")
    head = _commit(root, "edit")
    assert list(added_lines_between(pygit2.Repository(str(root)), base, head)) == [
        AddedLine("a.txt", 2, "two\n")
    ]
