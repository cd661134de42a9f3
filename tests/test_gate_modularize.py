"""Gate-M on small real repositories: new import cycles, import contracts, change surface."""

from __future__ import annotations

from pathlib import Path

from swarmgit.gates.modularize import Modularize
from tests.gatecheck import commit_change, evaluate, where
from tests.gitutil import make_repo

PYPROJECT = """\
[project]
name = "shop"

[tool.importlinter]
root_packages = ["shop"]

[[tool.importlinter.contracts]]
name = "domain stays pure"
type = "forbidden"
source_modules = ["shop.domain"]
forbidden_modules = ["shop.io"]
"""


def _repo(tmp_path: Path) -> Path:
    """shop/ with an old cycle (x <-> y), a clean a -> b import, and padding files so that a
    one-file change is a small surface."""
    files = {
        "pyproject.toml": PYPROJECT,
        "shop/__init__.py": "",
        "shop/a.py": "from shop import b\n",
        "shop/b.py": "VALUE = 1\n",
        "shop/x.py": "import shop.y\n",
        "shop/y.py": "import shop.x\n",
        "shop/domain.py": "VALUE = 2\n",
        "shop/io.py": "import shop.domain\n",
    }
    files.update({f"docs/page{n}.md": f"page {n}\n" for n in range(12)})
    return make_repo(tmp_path / "repo", files)


def test_a_new_cycle_is_found_at_the_import_that_closes_it(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    commit_change(repo, {"shop/b.py": "VALUE = 1\n\nfrom shop import a\n"})

    result = evaluate(Modularize(), repo)

    assert where(result) == {("shop/b.py", 3, "import-cycle")}
    assert "shop.b -> shop.a -> shop.b" in result.findings[0].message
    assert result.metrics["new_cycles"] == 1 and result.metrics["cycle_groups_base"] == 1
    assert result.score < 0.8


def test_touching_a_module_of_an_old_cycle_is_not_a_new_cycle(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    commit_change(repo, {"shop/x.py": "import shop.y\n\nLIMIT = 4\n"})

    result = evaluate(Modularize(), repo)

    assert result.findings == () and result.score == 1.0
    assert result.metrics["new_cycles"] == 0


def test_the_repos_import_linter_contract_is_checked_against_new_imports(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    commit_change(repo, {"shop/domain.py": "VALUE = 2\nimport shop.io\n"})

    result = evaluate(Modularize(), repo)

    assert ("shop/domain.py", 2, "contract-broken") in where(result)
    assert result.metrics["contracts_broken_new"] == 1


def test_a_contract_from_swarm_config_is_checked_too_and_old_breaches_are_not(
    tmp_path: Path,
) -> None:
    repo = _repo(tmp_path)
    commit_change(repo, {"shop/b.py": "VALUE = 1\nimport shop.x\n"})
    layers = {"name": "b below a", "type": "layers", "layers": ["shop.a", "shop.b"]}
    old_breach = {
        "name": "io apart",
        "type": "forbidden",
        "source_modules": ["shop.io"],
        "forbidden_modules": ["shop.domain"],
    }

    result = evaluate(Modularize(), repo, contracts=[layers, old_breach])

    assert result.findings == ()
    assert result.metrics["contracts_kept"] == 2
    assert result.metrics["contracts_broken_before"] == 1

    commit_change(repo, {"shop/b.py": "VALUE = 1\nimport shop.x\nimport shop.a\n"})
    result = evaluate(Modularize(), repo, contracts=[layers])
    assert ("shop/b.py", 3, "contract-broken") in where(result)


def test_an_invalid_contract_is_reported_not_raised(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    commit_change(repo, {"shop/b.py": "VALUE = 3\n"})

    result = evaluate(Modularize(), repo, contracts=[{"name": "typo", "type": "forbiden"}])

    assert (".swarm.toml", 0, "contract-invalid") in where(result)


def test_a_wide_change_exceeds_the_change_surface(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    commit_change(repo, {f"docs/page{n}.md": "rewritten\n" for n in range(8)})

    result = evaluate(Modularize(), repo)

    assert where(result) == {("", 0, "change-surface")}
    assert result.metrics["change_surface"] == round(8 / 20, 4)
    assert result.score < 1.0


def test_a_small_clean_change_scores_one(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    commit_change(repo, {"shop/c.py": "from shop import b\n\nTWICE = b.VALUE * 2\n"})

    result = evaluate(Modularize(), repo)

    assert result.findings == () and result.score == 1.0
    assert result.metrics["contracts_kept"] == 1


def test_a_package_setuptools_maps_elsewhere_is_part_of_its_parent(tmp_path: Path) -> None:
    """Like swarmgit's own gates/ (installed as swarmgit.gates)."""
    pyproject = PYPROJECT + '\n[tool.setuptools]\npackage-dir = {"shop.plugins" = "plugins"}\n'
    repo = _repo(tmp_path)
    commit_change(
        repo,
        {"pyproject.toml": pyproject, "plugins/__init__.py": "", "plugins/tax.py": "from shop import b\n"},
    )
    layers = {"name": "plugins on top", "type": "layers", "layers": ["shop.plugins", "shop.b"]}

    commit_change(repo, {"shop/b.py": "VALUE = 1\nfrom shop.plugins import tax\n"})
    result = evaluate(Modularize(), repo, contracts=[layers])

    assert where(result) == {
        ("shop/b.py", 2, "import-cycle"),
        ("shop/b.py", 2, "contract-broken"),
    }
    assert "shop.b -> shop.plugins.tax -> shop.b" in result.findings[0].message


def test_change_surface_is_left_out_of_a_tiny_repository(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "tiny", {"a.txt": "a\n", "b.txt": "b\n"})
    commit_change(repo, {"a.txt": "changed\n"})
    result = evaluate(Modularize(), repo)
    assert not result.applies and "change-surface" not in {f.rule for f in result.findings}
