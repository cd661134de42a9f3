from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from swarmgit.domain.touches import (
    conflict_pairs,
    conflicts,
    contained,
    normalize_touch,
    path_allowed,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("./a", "a"),
        ("  `api/`  ", "api/"),
        ("a//b/", "a/b/"),
        ("a/./b", "a/b"),
        ("api/**/*.py", "api/**/*.py"),
        (".", "**"),
        ("./", "**"),
        ("Backend/Config.py", "Backend/Config.py"),
    ],
)
def test_normalize_touch_canonical_forms(raw: str, expected: str) -> None:
    assert normalize_touch(raw) == expected


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("", "empty"),
        ("``", "empty"),
        ("/etc/passwd", "absolute"),
        ("/", "absolute"),
        ("C:\\Users\\x", "absolute"),
        ("c:/x", "absolute"),
        ("../outside", "'..'"),
        ("api/../../x", "'..'"),
        ("~/notes", "outside the work tree"),
        (".git/hooks/pre-commit", "outside the work tree"),
        ("!api/", "negation"),
        ("a\\", "not a valid gitignore pattern"),
    ],
)
def test_normalize_touch_refuses_with_reason(raw: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        normalize_touch(raw)


def test_path_allowed_folder_file_and_glob() -> None:
    assert path_allowed(["api/"], "api/v1/users.py")
    assert not path_allowed(["api/"], "api")  # `api/` is a folder only
    assert path_allowed(["api"], "api") and path_allowed(["api"], "api/x.py")
    assert not path_allowed(["api"], "apix/x.py")
    assert path_allowed(["api/**/*.py"], "api/a/b/c.py")
    assert not path_allowed(["api/**/*.py"], "api/a/b/c.txt")
    assert path_allowed(["**/conftest.py"], "tests/unit/conftest.py")
    assert path_allowed(["**"], "any/where.txt")


def test_touches_are_anchored_at_the_root_and_case_sensitive() -> None:
    assert path_allowed(["config.py"], "config.py")
    assert not path_allowed(["config.py"], "backend/config.py")
    assert not path_allowed(["*.py"], "pkg/mod.py")
    assert not path_allowed(["api/"], "API/x.py")


def test_read_only_allows_nothing() -> None:
    assert not path_allowed([], "README.md")


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("api/x.py", "api/x.py"),
        ("api/", "api/x.py"),
        ("api", "api/deep/x.py"),
        ("api/**/*.py", "api/v1/"),
        ("**/conftest.py", "tests/"),
        ("src/*.py", "src/a*"),
        ("src/[ab].py", "src/b.py"),
        ("**", "docs/index.md"),
        ("a/**/z", "a/b/c/"),
        ("a/[!x]", "a/[xy]"),
        ("a/b[!x]c", "a/b/c"),  # pathspec lets a negated class match "/"
    ],
)
def test_overlapping_touches_conflict(a: str, b: str) -> None:
    assert conflicts(a, b) and conflicts(b, a)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("api/x.py", "api/y.py"),
        ("api/", "apix/"),
        ("api/*.py", "api/sub/x.py"),
        ("*.py", "src/"),
        ("src/a*", "src/b*"),
        ("src/*.py", "src/*.md"),
        ("src/[ab].py", "src/c.py"),
        ("a\\*", "ab"),
    ],
)
def test_disjoint_touches_do_not_conflict(a: str, b: str) -> None:
    assert not conflicts(a, b) and not conflicts(b, a)


def test_conflict_pairs_equals_all_pairs_check() -> None:
    touches = ["api/", "api/x.py", "lib/", "*.md", "lib/a/b", "docs/x", "**/x", "api/*/y", "api/q/"]
    expected = {
        (i, j) for i, j in itertools.combinations(range(len(touches)), 2) if conflicts(touches[i], touches[j])
    }
    assert set(conflict_pairs(touches)) == expected
    assert len(conflict_pairs(touches)) == len(expected)


# Property tests: generated patterns over a tiny alphabet, so that overlaps are frequent.
_SEGMENT_PATTERNS = [
    "a",
    "b",
    "ab",
    "ba",
    "c",
    "*",
    "?",
    "a*",
    "*b",
    "a?",
    "[ab]",
    "[!a]",
    "*a*",
    "\\*",
    "[a-c]",
    "a[!a]b",
]
_segment = st.sampled_from(_SEGMENT_PATTERNS)
_pattern = st.builds(
    lambda segs, slash: "/".join(segs) + ("/" if slash else ""),
    st.lists(st.one_of(_segment, st.just("**")), min_size=1, max_size=4),
    st.booleans(),
).filter(lambda p: p not in ("**/",))
_name = st.sampled_from(["a", "b", "ab", "ba", "aa", "bb", "c", "aba", "*"])
_path = st.lists(_name, min_size=1, max_size=5).map("/".join)


@given(_pattern, _pattern)
def test_conflicts_is_symmetric(a: str, b: str) -> None:
    assert conflicts(a, b) == conflicts(b, a)


@given(_pattern, _pattern, st.lists(_path, min_size=1, max_size=8))
def test_conflicts_is_sound_for_concrete_paths(a: str, b: str, paths: list[str]) -> None:
    for path in paths:
        if path_allowed([a], path) and path_allowed([b], path):
            assert conflicts(a, b), f"{path!r} matches both {a!r} and {b!r}"


@given(_pattern, _path)
def test_a_touch_conflicts_with_any_path_it_allows(pattern: str, path: str) -> None:
    if path_allowed([pattern], path):
        assert conflicts(pattern, path)


@given(st.text(alphabet="ab/.*`~ \\", max_size=12))
def test_normalize_is_idempotent_and_never_escapes(raw: str) -> None:
    try:
        touch = normalize_touch(raw)
    except ValueError:
        return
    assert normalize_touch(touch) == touch
    assert not touch.startswith("/") and ".." not in touch.split("/")


@given(
    touches=st.lists(st.from_regex(r"[ab](/[ab.]{1,2}){0,2}/?", fullmatch=True), min_size=1, max_size=3),
    path=st.from_regex(r"[ab](/[ab.]{1,2}){0,3}", fullmatch=True),
)
def test_plain_touches_match_exactly_as_gitignore_does(touches: list[str], path: str) -> None:
    import pathspec

    spec = pathspec.GitIgnoreSpec.from_lines(["/" + t for t in touches])
    assert path_allowed(touches, path) == spec.match_file(path)


@pytest.mark.parametrize(
    ("inner", "outer", "inside"),
    [
        ("docs/a.md", ["docs/"], True),
        ("docs/", ["docs"], True),
        ("docs/sub/", ["docs/"], True),
        ("docs/**/*.md", ["docs/"], True),
        ("docs/x.md", ["docs/*.md"], True),
        ("anything/at/all", ["**"], True),
        ("src/a.py", ["src/a.py"], True),
        ("docs", ["docs/"], False),  # `docs` may be a file, which `docs/` does not allow
        ("frontend/", ["docs/", "src/a.py"], False),
        ("**/*.md", ["docs/"], False),
        ("*.md", ["docs/"], False),
        ("docs/*.py", ["docs/*.md"], False),
        ("src/", ["src/a.py"], False),
    ],
)
def test_contained_is_sound(inner: str, outer: list[str], inside: bool) -> None:
    assert contained(inner, outer) is inside
