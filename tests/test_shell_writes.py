"""The edit-time scope check: which paths a tool call or a shell command line writes, and
whether the task's scope allows it."""

from __future__ import annotations

from pathlib import Path

import pytest

from swarmgit.backends.shell_writes import Scope, bash_write_targets, scope_refusal


@pytest.fixture
def scope(tmp_path: Path) -> Scope:
    root = (tmp_path / "wt").resolve()
    (root / "src").mkdir(parents=True)
    (root / "docs").mkdir()
    scratch = (tmp_path / "home").resolve()
    return Scope(
        root=root,
        touches=("src/",),
        cwd=root,
        scratch=(scratch,),
        files=((tmp_path / "report.md").resolve(),),
    )


def test_file_tools_may_write_only_inside_the_touches(scope: Scope) -> None:
    root = scope.root
    assert scope_refusal("Write", {"file_path": str(root / "src/a.py")}, scope) is None
    assert scope_refusal("Edit", {"file_path": "src/a.py"}, scope) is None
    refusal = scope_refusal("Edit", {"file_path": str(root / "docs/x.md")}, scope)
    assert refusal is not None and "outside this task's touches (src/)" in refusal
    assert scope_refusal("MultiEdit", {"file_path": "../elsewhere.py"}, scope) is not None
    assert scope_refusal("NotebookEdit", {"notebook_path": "docs/n.ipynb"}, scope) is not None
    assert scope_refusal("Write", {"file_path": "/etc/passwd"}, scope) is not None


def test_scratch_home_report_file_and_dev_are_writable(scope: Scope) -> None:
    assert scope_refusal("Write", {"file_path": str(scope.scratch[0] / "tmp/x")}, scope) is None
    assert scope_refusal("Write", {"file_path": str(scope.files[0])}, scope) is None
    assert scope_refusal("Bash", {"command": "make 2>/dev/null"}, scope) is None


def test_a_symlink_out_of_the_touches_is_judged_by_its_target(scope: Scope) -> None:
    (scope.root / "src" / "docs").symlink_to(scope.root / "docs")
    assert scope_refusal("Write", {"file_path": "src/docs/x.md"}, scope) is not None


def test_reads_and_other_tools_are_not_confined(scope: Scope) -> None:
    assert scope_refusal("Read", {"file_path": "/etc/hostname"}, scope) is None
    assert scope_refusal("Grep", {"pattern": "x", "path": "/"}, scope) is None


def test_bash_commands_that_visibly_write_outside_are_refused(scope: Scope) -> None:
    assert scope_refusal("Bash", {"command": "echo x > docs/out.md"}, scope) is not None
    assert scope_refusal("Bash", {"command": "cp src/a.py ../../other/"}, scope) is not None
    assert scope_refusal("Bash", {"command": "cd docs && echo x >> notes.txt"}, scope) is not None
    # inside the touches, or not writing at all
    assert scope_refusal("Bash", {"command": "echo x > src/out.txt"}, scope) is None
    assert scope_refusal("Bash", {"command": "cd src && echo x >> notes.txt"}, scope) is None
    assert scope_refusal("Bash", {"command": "pytest -q docs/ src/ | tee src/log"}, scope) is None
    assert scope_refusal("Bash", {"command": 'git commit -m "docs > code"'}, scope) is None


@pytest.mark.parametrize(
    ("command", "targets"),
    [
        ("echo hi > out.txt; cat a.py", ["out.txt"]),
        ("rm -f x 2> /dev/null", ["/dev/null", "x"]),
        ("cmd 2>&1 | tee -a log.txt", ["log.txt"]),
        ("cp a b && mv c d/e", ["b", "d/e"]),
        ("sed -i 's/a/b/' f1 f2", ["f1", "f2"]),
        ("sort < in.txt > out.txt", ["out.txt"]),
        ("dd if=a of=/tmp/b", ["/tmp/b"]),
        ("FOO=1 sudo touch new.txt", ["new.txt"]),
        ("touch $OUT ~/x *.py", []),  # expansions cannot be known
        ('echo "a > b"', []),
        ('python -c \'open("x", "w")\'', []),  # a known limit: programs' own writes
        ("echo 'unbalanced", []),
        ("cd src && touch a && cd ../docs; cp x y", ["src/a", "src/../docs/y"]),
        ("cd $DIR && touch a", []),
    ],
)
def test_bash_write_targets(command: str, targets: list[str]) -> None:
    assert bash_write_targets(command) == targets
