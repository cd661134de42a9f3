"""Gate-S on small real repositories: public API growth and declared dependencies."""

from __future__ import annotations

from pathlib import Path

from swarmgit.gates.shrink import API_GROWTH_ALLOWANCE, Shrink
from tests.gatecheck import commit_change, evaluate
from tests.gitutil import make_repo

PYPROJECT = """\
[project]
name = "shop"
dependencies = [
    "click>=8",
    "pydantic>=2",
]
"""
API = """\
def load(path):
    return path


class Cart:
    def add(self, item):
        return item

    def _merge(self):
        return None
"""


def _repo(tmp_path: Path) -> Path:
    return make_repo(
        tmp_path / "repo",
        {
            "pyproject.toml": PYPROJECT,
            "requirements-dev.txt": "pytest>=8\n",
            "shop/__init__.py": "",
            "shop/api.py": API,
        },
    )


def _functions(names: list[str]) -> str:
    return "".join(f"\n\ndef {name}():\n    return None\n" for name in names)


def test_api_growth_past_the_allowance_lists_every_new_public_definition(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    names = [f"helper_{n}" for n in range(API_GROWTH_ALLOWANCE + 2)]
    private_and_tests = {
        "shop/_internal.py": _functions(["lots", "of", "things"]),
        "tests/test_api.py": _functions(["test_one", "test_two"]),
    }
    commit_change(repo, {"shop/api.py": API + _functions(["_private"] + names), **private_and_tests})

    result = evaluate(Shrink(), repo)

    assert result.metrics["public_api_growth"] == API_GROWTH_ALLOWANCE + 2
    first = API.count("\n") + 7  # after API: the _private function, then helper_0
    assert [(f.file, f.line, f.rule) for f in result.findings] == [
        ("shop/api.py", first + 4 * n, "public-api-growth") for n in range(len(names))
    ]
    assert result.score < 1.0


def test_growth_within_the_allowance_net_of_removals_scores_one(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    kept = API.replace("def load(path):\n    return path\n", "")  # load removed
    commit_change(repo, {"shop/api.py": kept + _functions(["a", "b", "c", "d", "e", "f"])})

    result = evaluate(Shrink(), repo)

    assert result.metrics["public_api_removed"] == 1
    assert result.metrics["public_api_growth"] == API_GROWTH_ALLOWANCE
    assert result.findings == () and result.score == 1.0


def test_a_new_dependency_is_a_finding_at_its_line(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    pyproject = PYPROJECT.replace('"pydantic>=2",\n', '"pydantic>=2",\n    "Requests[socks]>=2",\n')
    commit_change(repo, {"pyproject.toml": pyproject, "requirements-dev.txt": "pytest>=8\nhypothesis\n"})

    result = evaluate(Shrink(), repo)

    assert {(f.file, f.line, f.rule, f.message) for f in result.findings} == {
        ("pyproject.toml", 6, "dependency-added", "new dependency requests"),
        ("requirements-dev.txt", 2, "dependency-added", "new dependency hypothesis"),
    }
    assert result.metrics["dependency_change"] == 2
    assert result.score < 0.8


def test_swapping_a_dependency_and_renaming_a_module_is_not_growth(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    commit_change(
        repo,
        {"pyproject.toml": PYPROJECT.replace("click>=8", "typer>=0.9"), "shop/cart.py": API},
        delete=("shop/api.py",),
    )

    result = evaluate(Shrink(), repo)

    assert result.findings == () and result.score == 1.0
    assert result.metrics["public_api_growth"] == 0


def test_a_change_without_modules_or_manifests_leaves_the_gate_out(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    commit_change(repo, {"README.md": "# shop\n", "tests/test_api.py": "def test_x():\n    pass\n"})

    assert not evaluate(Shrink(), repo).applies
