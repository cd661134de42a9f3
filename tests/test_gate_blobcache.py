"""Per-file results kept by blob id: the cached path judges exactly as the uncached one, on the
first run, on a later change of one file, and with damaged cache entries; the import graph built
from git's blobs is the one grimp builds from the files on disk; Gate-M skips both graphs only
when a change keeps every internal import, and then judges as it does with them."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import grimp
import pytest

from swarmgit.config import Gates
from swarmgit.gates.base import TREE_LISTINGS, Finding, GateContext, GateResult
from swarmgit.gates.cache import GateCache
from swarmgit.gates.importgraph import IMPORTS, import_graph, same_internal_imports
from swarmgit.gates.modularize import Modularize, package_layout, strongly_connected
from swarmgit.gates.runner import GATES
from tests.gatecheck import commit_change
from tests.gitutil import make_repo

BLOCK = '''\
def {name}(rows, limit):
    """Totals per key."""
    totals = {{}}
    for row in rows:
        key = row.get("key", "none")
        value = row.get("value", 0) * 3 + row.get("extra", 0)
        if value > limit and key not in ("skip", "drop"):
            totals[key] = totals.get(key, 0) + value
        elif value < -limit:
            totals[key] = totals.get(key, 0) - value
        else:
            totals["rest"] = totals.get("rest", 0) + value // 2
    return sorted(totals.items(), key=lambda item: (item[1], item[0]))
'''
PYPROJECT = """\
[project]
name = "shop"

[tool.setuptools.package-dir]
"shop.plugins" = "plugins"
"""


def _repo(tmp_path: Path) -> Path:
    """shop/ with an old cycle, relative imports, a clone source, a package mapped from
    plugins/, external imports, and padding so a one-file change is a small surface."""
    files = {
        "pyproject.toml": PYPROJECT,
        "shop/__init__.py": "",
        "shop/a.py": "from shop import b\nimport os\n",
        "shop/b.py": "from . import c\nVALUE = 1\n",
        "shop/c.py": "from .sub import deep\nimport json.decoder\n",
        "shop/sub/__init__.py": "",
        "shop/sub/deep.py": "from .. import x\nimport os.path\n",
        "shop/x.py": "import shop.y\n",
        "shop/y.py": "import shop.x\n",
        "shop/report.py": BLOCK.format(name="totals"),
        "plugins/__init__.py": "from shop import a\n",
        "plugins/extra.py": "from shop.plugins import helpers\n",
        "plugins/helpers.py": "import shop.b\n",
    }
    files.update({f"docs/page{n}.md": f"page {n}\n" for n in range(12)})
    return make_repo(tmp_path / "repo", files)


def _judge(repo: Path, *, cached: bool) -> list[GateResult]:
    with GateContext.between(repo, "HEAD~1", "HEAD", Gates(), cached=cached) as ctx:
        return [gate.evaluate(ctx) for gate in GATES]


def _shards(repo: Path) -> list[Path]:
    """The per-blob shards, the tree listings and base's import cycles."""
    root = GateCache(repo).root
    kept = (root / TREE_LISTINGS).glob("*.json"), (root / "cycle-groups").glob("*.json")
    return sorted([*(root / "blobs").rglob("*.json"), *kept[0], *kept[1]])


def test_cached_verdicts_and_findings_equal_the_uncached_ones(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    commit_change(
        repo,
        {
            "shop/copy.py": BLOCK.format(name="sums"),
            "shop/b.py": "from . import c\nVALUE = 1\nfrom shop import a\n",
        },
    )
    uncached = _judge(repo, cached=False)
    assert not _shards(repo)  # the uncached path keeps nothing
    cold = _judge(repo, cached=True)
    assert _shards(repo)
    warm = _judge(repo, cached=True)
    assert cold == warm == uncached
    rules = {f.rule for r in uncached for f in r.findings}
    assert {"duplicate-block", "import-cycle"} <= rules  # the comparison covers real findings

    # A later change of one file: the rest comes from the cache, the verdict is unchanged.
    commit_change(repo, {"shop/copy.py": BLOCK.format(name="sums") + "\n\nLIMIT = 3\n"})
    assert _judge(repo, cached=True) == _judge(repo, cached=False)


def _damaged(shard: Path, damage: str) -> str:
    if damage == "not json":
        return "{not json"
    if damage == "a list":
        return '["a list"]'
    return json.dumps(dict.fromkeys(json.loads(shard.read_text()), {"lines": "5"}))


@pytest.mark.parametrize("damage", ["not json", "a list", "entries of another shape"])
def test_a_malformed_entry_is_a_miss(tmp_path: Path, damage: str) -> None:
    repo = _repo(tmp_path)
    commit_change(repo, {"shop/copy.py": BLOCK.format(name="sums")})
    expected = _judge(repo, cached=False)
    _judge(repo, cached=True)
    for shard in _shards(repo):
        shard.write_text(_damaged(shard, damage))
    assert _judge(repo, cached=True) == expected
    assert _judge(repo, cached=True) == expected  # the entries written again are good


def test_the_graph_from_blobs_is_the_one_grimp_builds_from_disk(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    commit_change(repo, {"shop/b.py": "from . import c\nfrom shop import a\n"})
    with GateContext.between(repo, "HEAD~1", "HEAD", Gates()) as ctx:
        layout = {"shop": "shop"}  # grimp alone knows no package-dir mapping
        ours = import_graph(ctx, "head", layout).graph
        assert package_layout(ctx)["shop.plugins"] == "plugins"
        mapped = import_graph(ctx, "head", package_layout(ctx)).graph
    sys.path.insert(0, str(repo))
    try:
        theirs = grimp.build_graph("shop", include_external_packages=True, cache_dir=None)
    finally:
        sys.path.remove(str(repo))
    assert ours.modules == theirs.modules
    for module in sorted(theirs.modules):
        for imported in theirs.find_modules_directly_imported_by(module):
            assert ours.get_import_details(importer=module, imported=imported) == theirs.get_import_details(
                importer=module, imported=imported
            )
        assert ours.find_modules_directly_imported_by(module) == theirs.find_modules_directly_imported_by(
            module
        )
    assert "shop.plugins.extra" in mapped.modules
    assert mapped.direct_import_exists(importer="shop.plugins.helpers", imported="shop.b")


def test_a_warm_build_takes_each_modules_imports_from_the_cache(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    commit_change(repo, {"shop/b.py": "from . import c\nVALUE = 2\n"})
    with GateContext.between(repo, "HEAD~1", "HEAD", Gates()) as ctx:
        cold = import_graph(ctx, "head", {"shop": "shop"}).graph
    assert "planted" not in cold.modules
    for shard in (GateCache(repo).root / "blobs" / IMPORTS).glob("*.json"):
        entries = json.loads(shard.read_text())
        for _, imports in entries.values():  # a well-formed entry the scanner never made
            imports.append(["planted", 1, "import planted", False])
        shard.write_text(json.dumps(entries))
    with GateContext.between(repo, "HEAD~1", "HEAD", Gates()) as ctx:
        warm = import_graph(ctx, "head", {"shop": "shop"}).graph
    assert warm.find_modules_that_directly_import("planted") == {
        m for m in cold.modules if not cold.is_module_squashed(m)
    }


# change -> (files written, files deleted, the changed modules, internal edges kept)
EDGE_CHANGES: dict[str, tuple[dict[str, str], tuple[str, ...], dict[str, str], bool]] = {
    "a body change in a module of an old cycle": (
        {"shop/x.py": "import shop.y\n\nLIMIT = 4\n"},
        (),
        {"shop.x": "shop/x.py"},
        True,
    ),
    "an external import added, an import reworded": (
        {"shop/a.py": "import re\nimport shop.b\nimport os\n"},
        (),
        {"shop.a": "shop/a.py"},
        True,
    ),
    "a new import closing a cycle": (
        {"shop/b.py": "from . import c\nVALUE = 1\nfrom shop import a\n"},
        (),
        {"shop.b": "shop/b.py"},
        False,
    ),
    "an old cycle broken": ({"shop/y.py": "VALUE = 0\n"}, (), {"shop.y": "shop/y.py"}, False),
    "a mapped package's import removed": (
        {"plugins/helpers.py": "VALUE = 3\n"},
        (),
        {"shop.plugins.helpers": "plugins/helpers.py"},
        False,
    ),
    "a module added": ({"shop/new.py": "VALUE = 5\n"}, (), {"shop.new": "shop/new.py"}, False),
    "a module removed": ({}, ("shop/report.py",), {}, False),
    "a syntax error": ({"shop/a.py": "from shop import (\n"}, (), {"shop.a": "shop/a.py"}, False),
}


@pytest.mark.parametrize("change", sorted(EDGE_CHANGES))
def test_graphs_are_skipped_only_when_the_internal_edges_are_kept(tmp_path: Path, change: str) -> None:
    files, delete, modules, kept = EDGE_CHANGES[change]
    repo = _repo(tmp_path)
    commit_change(repo, files, delete)
    with GateContext.between(repo, "HEAD~1", "HEAD", Gates(), cached=False) as ctx:
        layout = package_layout(ctx)
        assert same_internal_imports(ctx, layout, modules) is kept
        base = strongly_connected(import_graph(ctx, "base", layout).graph)
        head = strongly_connected(import_graph(ctx, "head", layout).graph)
        result = Modularize().evaluate(ctx)
    if kept:
        assert head == base  # what the shortcut relies on
    if modules:
        assert result.metrics["cycle_groups_base"] == len(base)
        assert result.metrics["cycle_groups_head"] == len(head)
    assert (result.metrics, result.findings) == _with_both_graphs(repo)


def _with_both_graphs(repo: Path) -> tuple[dict[str, float | int | str], tuple[Finding, ...]]:
    """Gate-M's metrics and findings with both graphs built: a contract that holds forces
    them (its own metrics are left out)."""
    contract = {
        "name": "any",
        "type": "forbidden",
        "source_modules": ["shop.a"],
        "forbidden_modules": ["nowhere"],
        "allow_indirect_imports": True,
    }
    with GateContext.between(repo, "HEAD~1", "HEAD", Gates(contracts=[contract]), cached=False) as ctx:
        full = Modularize().evaluate(ctx)
    assert full.metrics["contracts_kept"] == 1
    return {k: v for k, v in full.metrics.items() if not k.startswith("contracts_")}, full.findings


def test_a_module_that_is_not_utf8_is_left_to_the_whole_graphs(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    (repo / "shop/a.py").write_bytes(b"from shop import b\nNAME = '\xff'\n")
    commit_change(repo, {})
    with GateContext.between(repo, "HEAD~1", "HEAD", Gates(), cached=False) as ctx:
        assert not same_internal_imports(ctx, package_layout(ctx), {"shop.a": "shop/a.py"})
