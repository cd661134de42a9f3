"""The scope check of a change: paths, symlink targets, gitlinks and case variants."""

from __future__ import annotations

import pytest

from swarmgit.domain.path_rules import paths_outside
from swarmgit.domain.scope import (
    GITLINK_MODE,
    SYMLINK_MODE,
    ScopeEntry,
    path_problem,
    scope_violations,
)

TOUCHES = ("docs/",)


@pytest.mark.parametrize(
    "path",
    [
        "docs/../frontend/b.py",
        "docs/./a.md",
        "docs//a.md",
        "/docs/a.md",
        "docs/.git/config",
        "docs/.GIT/hooks/x",
        "docs/.Git",
        "docs\\..\\frontend\\b.py",
    ],
)
def test_paths_that_are_not_normalised_are_refused_even_under_a_touch(path: str) -> None:
    assert path_problem(TOUCHES, path)


def test_plain_paths_inside_and_outside() -> None:
    assert path_problem(TOUCHES, "docs/a/b.md") == ""
    assert path_problem(TOUCHES, "src/a.py") == "outside its touches"
    assert "only in case" in path_problem(TOUCHES, "Docs/x")
    assert "only in case" in path_problem(TOUCHES, "DOCS/x")
    assert path_problem((), "docs/a.md") == "outside its touches"


@pytest.mark.parametrize(
    ("path", "target", "inside"),
    [
        ("docs/l", "a.md", True),
        ("docs/sub/l", "../a.md", True),
        ("docs/l", "../frontend", False),
        ("docs/l", "../../etc", False),
        ("docs/l", "/etc/passwd", False),
        ("docs/l", "sub/../../src/app.py", False),
        ("docs/l", "../.git/config", False),
        ("docs/l", "", False),
    ],
)
def test_symlink_targets_resolve_from_the_links_folder(path: str, target: str, inside: bool) -> None:
    found = scope_violations(TOUCHES, [ScopeEntry(path, SYMLINK_MODE, target)])
    assert (found == []) is inside
    if not inside:
        assert "symlink" in found[0].why


def test_gitlinks_need_a_touch_naming_them() -> None:
    entry = ScopeEntry("docs/vendor", GITLINK_MODE)
    assert scope_violations(TOUCHES, [entry])[0].why.startswith("a gitlink")
    assert scope_violations(("docs/vendor",), [entry]) == []
    assert scope_violations(TOUCHES, [ScopeEntry("docs/vendor")]) == []  # removing one is a plain change


def test_case_variants_of_tracked_paths_outside_the_touches() -> None:
    tracked = ["DOCS/readme.md", "docs/a.md", "src/App.py"]
    touches = ("docs/", "src/app.py")
    found = scope_violations(
        touches, [ScopeEntry("docs/b.md", 0o100644), ScopeEntry("src/app.py", 0o100644)], tracked
    )
    assert [(v.path, "DOCS" in v.why or "App" in v.why) for v in found] == [
        ("docs/b.md", True),
        ("src/app.py", True),
    ]
    assert scope_violations(("docs/",), [ScopeEntry("docs/b.md", 0o100644)], ["docs/a.md", "src/x"]) == []


def test_one_violation_per_path_in_input_order_rendered_plainly_when_just_outside() -> None:
    found = scope_violations(TOUCHES, [ScopeEntry("b"), ScopeEntry("a"), ScopeEntry("b")])
    assert [v.render() for v in found] == ["b", "a"]
    assert ScopeEntry("docs/../x").path in scope_violations(TOUCHES, [ScopeEntry("docs/../x")])[0].render()


def test_the_hook_check_refuses_odd_paths_too() -> None:
    assert paths_outside(["docs/"], ["docs/../frontend/b.py", "docs/a.md", "docs/.GIT/x"]) == [
        "docs/../frontend/b.py",
        "docs/.GIT/x",
    ]
