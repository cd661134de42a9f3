"""Gate-M (Modularize): no new import cycles, import contracts hold, a small change surface.

Parts (weights renormalised over the parts that apply):
- cycles (0.4): 1 when there is no new import cycle, else 0. The import graphs of base and head
  are built with grimp straight from their git trees (importgraph.py; imports kept per blob)
  (packages: top-level folders, or folders under `src/`, holding `__init__.py`, and packages
  setuptools' `package-dir` maps elsewhere). A new cycle is a strongly connected group of modules
  at head that holds a changed
  module and is not inside one group at base; each head import inside it that base lacks is a
  finding at its line. Old cycles (Django has 14 groups) are not reported. Applies when a
  changed Python file belongs to a package. A change that adds, removes and renames no module
  and keeps every import between the packages' modules (the changed modules are scanned at both
  sides) keeps base's cycles, so no graph is built then (without a contract to check).
  A changed module grimp cannot scan is in the graph importing nothing, its imports unknown,
  and is a finding that costs Gate-M no score: `syntax-error` at Gate-I's line and words when
  the file does not parse (Gate-I scores it 0), `too-large` past gates.max_file_bytes (never
  read; Gate-I scores it 0), else `unscannable` (e.g. a relative import past the top package,
  on which grimp's scanner panics).
- contracts (0.3): 1 when no contract is broken by the change, else 0. Contracts come from the
  repository's import-linter configuration at head (`.importlinter`, `setup.cfg`,
  `pyproject.toml`, first that has one) and from `gates.contracts` (same shape), and are checked
  by import-linter's own contract classes on the head graph. A broken contract counts when one
  of its offending imports is new against base, or, for contracts whose report names no import
  (acyclic_siblings), when the contract held at base. Applies when there is a contract.
- change surface (0.3): s = changed files / tracked files at head; 1 while
  s <= gates.change_surface_max, then falling linearly to 0 at 2 x change_surface_max. Left out
  when head tracks fewer than SURFACE_MIN_FILES files: there any change is a large share.
When no part applies (a tiny repository, no package changed, no contract), the gate is left out
of the index.
"""

from __future__ import annotations

import copy
import tempfile
import tomllib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grimp
from grimp.exceptions import GrimpException
from importlinter import api as importlinter_api
from importlinter.contracts.acyclic_siblings import AcyclicSiblingsContract
from importlinter.contracts.forbidden import ForbiddenContract
from importlinter.contracts.independence import IndependenceContract
from importlinter.contracts.layers import LayersContract
from importlinter.contracts.protected import ProtectedContract
from importlinter.domain.contract import Contract, InvalidContractOptions

from swarmgit.domain.digraph import cyclic_groups
from swarmgit.gates.base import (
    TOO_LARGE,
    Evidence,
    Finding,
    GateContext,
    GateResult,
    clamp,
    rounded,
    toml_table,
)
from swarmgit.gates.cache import GateCache, cache_key
from swarmgit.gates.importgraph import import_graph, same_internal_imports
from swarmgit.gates.syntax import syntax_error

KEY = "M"
NAME = "Modularize"
CYCLE_GROUPS = "cycle-groups-v1"  # the cache kind of base's import cycles
SURFACE_MIN_FILES = 10  # below this, the share of changed files says nothing
WEIGHTS = {"cycles": 0.4, "contracts": 0.3, "surface": 0.3}
CONFIG_FILES = (".importlinter", "setup.cfg", "pyproject.toml")
SWARM_CONFIG = ".swarm.toml"
# What checking a contract of the wrong shape raises (a module it names is missing: grimp's
# ModuleNotPresent; an option of the wrong type: TypeError or AttributeError inside it).
_BAD_CONTRACT = (InvalidContractOptions, GrimpException, KeyError, ValueError, TypeError, AttributeError)
CONTRACT_TYPES: dict[str, type[Contract]] = {
    "forbidden": ForbiddenContract,
    "layers": LayersContract,
    "independence": IndependenceContract,
    "protected": ProtectedContract,
    "acyclic_siblings": AcyclicSiblingsContract,
}


@dataclass(frozen=True)
class _Graphs:
    """Both sides' import graphs over head's package layout; base's is built on first use
    (a change that closes no cycle and breaks no contract never needs it)."""

    layout: Mapping[str, str]  # package name -> its folder in the repo (package_layout)
    paths: Mapping[str, str]  # module name -> its file at head
    head: grimp.ImportGraph
    unscannable: Mapping[str, tuple[int, str]]  # head's files left out (SideGraph)
    base_graph: Callable[[], grimp.ImportGraph]

    @property
    def base(self) -> grimp.ImportGraph:
        return self.base_graph()


class Modularize:
    """Gate-M; see the module docstring."""

    key = KEY
    name = NAME

    def evaluate(self, ctx: GateContext) -> GateResult:
        """Judge head's import graph and file count against base's."""
        evidence = Evidence()
        findings, parts, metrics = evidence.findings, evidence.parts, evidence.metrics
        if len(ctx.tracked_files("head")) >= SURFACE_MIN_FILES:
            parts["surface"] = (WEIGHTS["surface"], _surface(ctx, findings, metrics))
        layout = package_layout(ctx)
        contracts = _contract_options(ctx, layout, findings)
        changed_modules = _changed_modules(ctx, layout)
        graphs = None
        if changed_modules and not contracts and same_internal_imports(ctx, layout, changed_modules):
            parts["cycles"] = (WEIGHTS["cycles"], _same_cycles(ctx, layout, metrics))
        elif changed_modules or contracts:
            graphs = _graphs(ctx, layout)
        if graphs is not None and changed_modules:
            _unscanned(ctx, graphs, changed_modules, findings, metrics)
            new_cycles = _cycles(ctx, graphs, changed_modules, findings, metrics)
            parts["cycles"] = (WEIGHTS["cycles"], 0.0 if new_cycles else 1.0)
        if contracts:
            broken = _contracts(graphs, contracts, findings, metrics)
            parts["contracts"] = (WEIGHTS["contracts"], 0.0 if broken else 1.0)
        if not parts:
            return evidence.result(
                KEY, NAME, applies=False, note="no package changed, no contract, repository too small"
            )
        return evidence.result(KEY, NAME)


# change surface ------------------------------------------------------------------------------


def _surface(ctx: GateContext, findings: list[Finding], metrics: dict[str, float | int | str]) -> float:
    tracked = len(ctx.tracked_files("head"))
    changed = len(ctx.changed_lines)
    ratio = changed / tracked if tracked else 1.0
    limit = ctx.config.change_surface_max
    metrics.update(changed_files=changed, tracked_files=tracked, change_surface=rounded(ratio))
    if ratio <= limit:
        return 1.0
    findings.append(
        Finding(
            KEY,
            "",
            0,
            "change-surface",
            f"{changed} of {tracked} tracked files changed ({ratio:.0%}, limit {limit:.0%}): "
            "split the change",
        )
    )
    return clamp(1 - (ratio - limit) / (limit or 1))


# import graphs -------------------------------------------------------------------------------


def _package_roots(files: Iterable[str]) -> dict[str, str]:
    """Top-level packages: `pkg/__init__.py` or `src/pkg/__init__.py` -> {pkg: folder}."""
    roots: dict[str, str] = {}
    for path in files:
        match path.split("/"):
            case [name, "__init__.py"] if name.isidentifier():
                roots.setdefault(name, name)
            case ["src", name, "__init__.py"] if name.isidentifier():
                roots.setdefault(name, f"src/{name}")
    return roots


def package_layout(ctx: GateContext) -> dict[str, str]:
    """Package name -> folder at head: the top-level packages, plus each package that
    setuptools' `package-dir` in pyproject.toml maps elsewhere (`"swarmgit.gates" = "gates"`),
    whose folder then stops being a top-level package of its own."""
    files = ctx.tracked_files("head")
    layout = _package_roots(files)
    for name, folder in _package_dirs(ctx.text("head", "pyproject.toml")).items():
        if "." in name and f"{folder}/__init__.py" in files:
            layout = {n: f for n, f in layout.items() if f != folder}
            layout[name] = folder
    return layout


def _package_dirs(pyproject: str | None) -> dict[str, str]:
    try:
        data = tomllib.loads(pyproject or "")
    except tomllib.TOMLDecodeError:
        return {}  # Gate-S reports the broken file
    mapping = toml_table(data, "tool", "setuptools", "package-dir")
    return {str(name): str(folder).strip("/") for name, folder in mapping.items()}


def _module_name(path: str, layout: Mapping[str, str]) -> str | None:
    """The module a file is, by the deepest package folder holding it."""
    if not path.endswith(".py"):
        return None
    holders = [(folder, name) for name, folder in layout.items() if path.startswith(folder + "/")]
    if not holders:
        return None
    folder, name = max(holders, key=lambda h: len(h[0]))
    inner = path[len(folder) + 1 : -3].split("/")
    if inner[-1] == "__init__":
        inner.pop()
    return ".".join([name, *inner])


def _changed_modules(ctx: GateContext, layout: Mapping[str, str]) -> dict[str, str]:
    """Module name -> path, for changed Python files at head that belong to a package."""
    found = {}
    for path in ctx.changed_files(".py"):
        module = _module_name(path, layout)
        if module is not None:
            found[module] = path
    return found


def _graphs(ctx: GateContext, layout: Mapping[str, str]) -> _Graphs | None:
    """Import graphs of base and head; None when head has no package."""
    if not layout:
        return None
    files = ctx.tracked_files("head")
    paths = {m: p for p in files if (m := _module_name(p, layout)) is not None}
    head = import_graph(ctx, "head", layout)
    return _Graphs(
        layout,
        paths,
        head.graph,
        head.unscannable,
        lambda: ctx.cached(("import-graph", "base"), lambda: import_graph(ctx, "base", layout).graph),
    )


def _unscanned(
    ctx: GateContext,
    graphs: _Graphs,
    changed: Mapping[str, str],
    findings: list[Finding],
    metrics: dict[str, float | int | str],
) -> None:
    """A finding for each changed module grimp could not scan: `syntax-error` at the line and
    with the words of Gate-I's finding when the file does not parse, `too-large` when it is
    past the limit (neither scored here: Gate-I already scores it 0), else `unscannable` with
    what grimp said."""
    paths = sorted(p for p in changed.values() if p in graphs.unscannable)
    for path in paths:
        error = syntax_error(ctx, "head", path)
        line, message = error or graphs.unscannable[path]
        rule = TOO_LARGE if ctx.too_large("head", path) else "syntax-error" if error else "unscannable"
        findings.append(
            Finding(
                KEY,
                path,
                line,
                rule,
                f"{message} (its imports are unknown: left out of the graph)",
            )
        )
    metrics["unscanned_modules"] = len(paths)


# cycles --------------------------------------------------------------------------------------


def _cycles(
    ctx: GateContext,
    graphs: _Graphs,
    changed: Mapping[str, str],
    findings: list[Finding],
    metrics: dict[str, float | int | str],
) -> int:
    head_groups = strongly_connected(graphs.head)
    base_groups = _base_groups(ctx, graphs.layout, lambda: graphs.base)
    base_group_of = {m: i for i, group in enumerate(base_groups) for m in group}
    new = 0
    for group in head_groups:
        if group.isdisjoint(changed):
            continue
        if len({base_group_of.get(m, -1 - n) for n, m in enumerate(group)}) == 1:
            continue  # the whole group was already one cycle at base
        new += 1
        findings.extend(_cycle_findings(graphs, group))
    metrics.update(cycle_groups_base=len(base_groups), cycle_groups_head=len(head_groups), new_cycles=new)
    return new


def _same_cycles(ctx: GateContext, layout: Mapping[str, str], metrics: dict[str, float | int | str]) -> float:
    """The cycles part when head's graph has base's internal edges (`same_internal_imports`):
    head's cycles are base's, so none is new (and every changed module was scanned)."""
    groups = _base_groups(ctx, layout, lambda: import_graph(ctx, "base", layout).graph)
    metrics.update(
        unscanned_modules=0, cycle_groups_base=len(groups), cycle_groups_head=len(groups), new_cycles=0
    )
    return 1.0


def _base_groups(
    ctx: GateContext, layout: Mapping[str, str], base: Callable[[], grimp.ImportGraph]
) -> list[frozenset[str]]:
    """`strongly_connected` of base's graph (built by `base` on a miss), kept per (base tree,
    layout, file size limit: a file past it imports nothing) in the gate cache."""
    cache = GateCache(ctx.repo_path) if ctx.cache_root is not None else None
    parts = (str(ctx.commit("base").tree.id), sorted(layout.items()), ctx.config.max_file_bytes)
    key = cache_key(CYCLE_GROUPS, *parts)
    entry = cache.get("cycle-groups", key) if cache else None
    groups = entry.get("groups") if entry else None
    if isinstance(groups, list) and all(
        isinstance(g, list) and all(isinstance(m, str) for m in g) for g in groups
    ):
        return [frozenset(g) for g in groups]
    found = strongly_connected(base())
    if cache is not None:
        cache.put("cycle-groups", key, {"groups": [sorted(g) for g in found]})
    return found


def strongly_connected(graph: grimp.ImportGraph) -> list[frozenset[str]]:
    """Groups of two or more modules that import each other, directly or not (Tarjan)."""
    internal = {m for m in graph.modules if not graph.is_module_squashed(m)}
    edges = {m: sorted(graph.find_modules_directly_imported_by(m) & internal) for m in internal}
    return cyclic_groups({m: edges[m] for m in sorted(internal)})


def _cycle_findings(graphs: _Graphs, group: frozenset[str]) -> list[Finding]:
    found = []
    for importer in sorted(group):
        for imported in sorted(graphs.head.find_modules_directly_imported_by(importer) & group):
            if _edge(graphs.base, importer, imported):
                continue
            back = graphs.head.find_shortest_chain(importer=imported, imported=importer) or ()
            cycle = " -> ".join([importer, *back])
            path = graphs.paths.get(importer, "")
            for line in _lines(graphs.head, importer, imported):
                found.append(Finding(KEY, path, line, "import-cycle", f"new import cycle: {cycle}"))
    return found


def _edge(graph: grimp.ImportGraph, importer: str, imported: str) -> bool:
    modules = graph.modules
    return (
        importer in modules
        and imported in modules
        and graph.direct_import_exists(importer=importer, imported=imported)
    )


def _lines(graph: grimp.ImportGraph, importer: str, imported: str) -> list[int]:
    details = graph.get_import_details(importer=importer, imported=imported)
    return sorted({d["line_number"] for d in details}) or [0]


# contracts -----------------------------------------------------------------------------------


def _contract_options(
    ctx: GateContext, layout: Mapping[str, str], findings: list[Finding]
) -> list[dict[str, Any]]:
    """Contract options from the repo's import-linter config and gates.contracts, each tagged
    with `_source` (its file) and `_root_packages` (the session's root packages)."""
    session, contracts, source = _repo_config(ctx, findings)
    roots = session.get("root_packages") or (
        [session["root_package"]]
        if "root_package" in session
        else sorted(name for name in layout if "." not in name)
    )
    roots = [str(r) for r in roots] if isinstance(roots, list) else [str(roots)]
    tagged = [dict(c, _source=source, _root_packages=roots) for c in contracts]
    for number, options in enumerate(ctx.config.contracts, start=1):
        tagged.append(
            {
                "name": f"gates.contracts[{number}]",
                **{k: _option(v) for k, v in options.items()},
                "_source": SWARM_CONFIG,
                "_root_packages": roots,
            }
        )
    return tagged


def _repo_config(
    ctx: GateContext, findings: list[Finding]
) -> tuple[dict[str, Any], list[dict[str, Any]], str]:
    for name in CONFIG_FILES:
        text = ctx.text("head", name)
        if text is None or "importlinter" not in text:
            continue
        with tempfile.TemporaryDirectory(prefix="swarm-gate-config-") as scratch:
            copy_path = Path(scratch) / name
            copy_path.write_text(text, encoding="utf-8")
            try:
                options = importlinter_api.read_configuration(str(copy_path))
            except Exception as exc:  # import-linter raises many kinds on a bad file
                findings.append(Finding(KEY, name, 0, "contract-invalid", f"unreadable: {exc}"))
                continue
        return options["session_options"], options["contracts_options"], name
    return {}, [], ""


def _option(value: object) -> object:
    """import-linter wants booleans as strings (its TOML reader converts them the same way)."""
    return str(value) if isinstance(value, bool) else value


def _contracts(
    graphs: _Graphs | None,
    contracts: list[dict[str, Any]],
    findings: list[Finding],
    metrics: dict[str, float | int | str],
) -> int:
    broken = kept = old = 0
    for options in contracts:
        source = options["_source"]
        roots = options["_root_packages"]
        clean = {k: v for k, v in options.items() if not k.startswith("_")}
        name = str(clean.get("name", "?"))
        if graphs is None or not set(roots) <= set(graphs.layout):
            missing = sorted(set(roots) - set(graphs.layout if graphs else ()))
            findings.append(
                Finding(KEY, source, 0, "contract-invalid", f"{name}: no package {missing} at head")
            )
            broken += 1
            continue
        session = {"root_packages": roots, "include_external_packages": "True"}
        try:
            head_check = _check(clean, session, graphs.head)
        except _BAD_CONTRACT as exc:
            detail = exc.errors if isinstance(exc, InvalidContractOptions) else exc
            findings.append(Finding(KEY, source, 0, "contract-invalid", f"{name}: {detail}"))
            broken += 1
            continue
        if head_check.kept:
            kept += 1
            continue
        located = list(_offending_imports(head_check.metadata))
        new = [i for i in located if not _edge(graphs.base, i[0], i[1])]
        if located and not new:
            old += 1
            continue
        if not located and _held(clean, session, graphs.base) is False:
            old += 1
            continue
        broken += 1
        findings.extend(_contract_findings(name, source, new, graphs))
    metrics.update(contracts_kept=kept, contracts_broken_new=broken, contracts_broken_before=old)
    return broken


def _check(options: dict[str, Any], session: dict[str, Any], graph: grimp.ImportGraph) -> Any:
    kind = CONTRACT_TYPES.get(str(options.get("type")))
    if kind is None:
        known = ", ".join(sorted(CONTRACT_TYPES))
        raise ValueError(f"unknown contract type {options.get('type')!r} (known: {known})")
    contract = kind(name=str(options.get("name")), session_options=session, contract_options=options)
    return contract.check(copy.deepcopy(graph), verbose=False)


def _held(options: dict[str, Any], session: dict[str, Any], graph: grimp.ImportGraph) -> bool | None:
    """Whether the contract held on this graph; None when it cannot be checked there (e.g. its
    modules do not exist yet)."""
    try:
        return bool(_check(options, session, graph).kept)
    except _BAD_CONTRACT:
        return None


def _offending_imports(metadata: object) -> Iterator[tuple[str, str, tuple[int | None, ...]]]:
    """Every (importer, imported, line_numbers) in a ContractCheck's metadata, at any depth."""
    if isinstance(metadata, dict):
        if {"importer", "imported", "line_numbers"} <= metadata.keys():
            yield metadata["importer"], metadata["imported"], tuple(metadata["line_numbers"])
        for value in metadata.values():
            yield from _offending_imports(value)
    elif isinstance(metadata, (list, tuple, set, frozenset)):
        for value in metadata:
            yield from _offending_imports(value)


def _contract_findings(
    name: str,
    source: str,
    new: list[tuple[str, str, tuple[int | None, ...]]],
    graphs: _Graphs,
) -> list[Finding]:
    if not new:
        return [Finding(KEY, source, 0, "contract-broken", f"{name}: broken (held at base)")]
    return [
        Finding(
            KEY,
            graphs.paths.get(importer, ""),
            line or 0,
            "contract-broken",
            f"{name}: {importer} imports {imported}",
        )
        for importer, imported, lines in sorted(set(new))
        for line in sorted({n or 0 for n in lines})
    ]
