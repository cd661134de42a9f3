"""Gate-S (Shrink): public API growth and the change in declared dependencies, against base.

Applies when a public (non-test) Python module or a dependency file changed. Parts (weights
renormalised over the parts that apply):
- API (0.6): g = public definitions added minus removed (syntax.public_definitions: module-level
  functions and classes, methods of public classes) over the changed modules, a renamed file
  compared with its base path. The allowance grows with the change: a = API_GROWTH_ALLOWANCE
  + added lines of those modules / LINES_PER_DEFINITION. Score 1 while g <= a, then falling
  linearly to 0 at 3a; past the allowance every added definition is a finding.
- dependencies (0.4): d = declared dependencies at head minus at base, over changed
  `pyproject.toml` files (`[project] dependencies` and `optional-dependencies`,
  `[tool.poetry.*dependencies]`) and `requirements*.txt` files (any folder). Score 1 when
  d <= 0, else 1 / (1 + d), and then every added dependency is a finding.
A file larger than gates.max_file_bytes at either side is never read: such a module is left out
of the API part (Gate-I reports it and scores it 0); such a manifest is a `too-large` finding
here, and scores the dependencies part 0 (its dependencies are unknown).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator
from typing import Any

import pathspec

from swarmgit.gates.base import (
    TOO_LARGE,
    Evidence,
    Finding,
    GateContext,
    GateResult,
    Side,
    clamp,
    is_test_path,
    toml_table,
)
from swarmgit.gates.syntax import is_public_module, parse, public_definitions

KEY = "S"
NAME = "Shrink"
WEIGHTS = {"api": 0.6, "dependencies": 0.4}
API_GROWTH_ALLOWANCE = 5
LINES_PER_DEFINITION = 50
SURFACES = "api-surface-v1"  # the per-blob cache kind; a new version drops old entries

_DEPENDENCY_FILES = pathspec.GitIgnoreSpec.from_lines(["pyproject.toml", "requirements*.txt"])
_REQUIREMENT_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")
_QUOTED = re.compile(r"""["']([^"']+)["']""")


class Shrink:
    """Gate-S; see the module docstring."""

    key = KEY
    name = NAME

    def evaluate(self, ctx: GateContext) -> GateResult:
        """Compare head's public API and declared dependencies with base's."""
        evidence = Evidence()
        findings, parts, metrics = evidence.findings, evidence.parts, evidence.metrics
        modules = [
            p
            for p in sorted(ctx.changed_lines)
            if p.endswith(".py") and not is_test_path(p) and is_public_module(p) and not _too_large(ctx, p)
        ]
        if modules:
            parts["api"] = (WEIGHTS["api"], _api(ctx, modules, findings, metrics))
        manifests = [p for p in sorted(ctx.changed_lines) if _DEPENDENCY_FILES.match_file(p)]
        if manifests:
            parts["dependencies"] = (
                WEIGHTS["dependencies"],
                _dependencies(ctx, manifests, findings, metrics),
            )
        if not parts:
            note = "no public module or dependency file changed"
            return evidence.result(KEY, NAME, applies=False, note=note)
        return evidence.result(KEY, NAME)


def _api(
    ctx: GateContext,
    modules: list[str],
    findings: list[Finding],
    metrics: dict[str, float | int | str],
) -> float:
    added: list[Finding] = []
    removed = 0
    for path in modules:
        head = _surface(ctx, "head", path)
        base = _surface(ctx, "base", ctx.renames.get(path, path))
        removed += len(base.keys() - head.keys())
        for qualname in sorted(head.keys() - base.keys(), key=head.__getitem__):
            kind, line = head[qualname]
            added.append(Finding(KEY, path, line, "public-api-growth", f"new public {kind} {qualname}"))
    growth = len(added) - removed
    lines = sum(len(ctx.changed_lines[p]) for p in modules)
    allowance = API_GROWTH_ALLOWANCE + lines // LINES_PER_DEFINITION
    metrics.update(
        public_api_added=len(added),
        public_api_removed=removed,
        public_api_growth=growth,
        public_api_allowance=allowance,
    )
    if growth <= allowance:
        return 1.0
    findings.extend(added)
    return clamp(1 - (growth - allowance) / (2 * allowance))


def _too_large(ctx: GateContext, path: str) -> str | None:
    """Why a changed file is not read, when it is too large at head or at base."""
    return ctx.too_large("head", path) or ctx.too_large("base", ctx.renames.get(path, path))


def _surface(ctx: GateContext, side: Side, path: str) -> dict[str, tuple[str, int]]:
    """qualname -> (kind, line) of the public definitions of a module at that side, kept per
    blob (a malformed entry is a miss)."""
    oid = ctx.blob_id(side, path)
    if oid is None:
        return {}
    cache = ctx.blob_cache(SURFACES)
    entry = cache.get(oid)
    if isinstance(entry, dict):
        found = {str(name): (value[0], value[1]) for name, value in entry.items() if _is_definition(value)}
        if len(found) == len(entry):
            return found
    parsed = parse(ctx, side, path)
    found = {} if parsed is None else {d.qualname: (d.kind, d.line) for d in public_definitions(parsed)}
    cache.put(oid, {name: list(value) for name, value in found.items()})
    return found


def _is_definition(value: object) -> bool:
    match value:
        case [str(), int()]:
            return True
    return False


def _dependencies(
    ctx: GateContext,
    manifests: list[str],
    findings: list[Finding],
    metrics: dict[str, float | int | str],
) -> float:
    change = unknown = 0
    added: list[Finding] = []
    for path in manifests:
        reason = _too_large(ctx, path)
        if reason is not None:
            unknown += 1
            findings.append(Finding(KEY, path, 0, TOO_LARGE, reason))
            continue
        head = dict(_declared(path, ctx.text("head", path), findings))
        base = dict(_declared(path, ctx.text("base", ctx.renames.get(path, path)), []))
        change += len(head) - len(base)
        added += [
            Finding(KEY, path, head[name], "dependency-added", f"new dependency {name}")
            for name in sorted(head.keys() - base.keys())
        ]
    metrics["dependency_change"] = change
    if unknown:
        metrics["too_large_files"] = unknown
        findings.extend(added)
        return 0.0
    if change <= 0:
        return 1.0
    findings.extend(added)
    return 1 / (1 + change)


def _declared(path: str, text: str | None, findings: list[Finding]) -> Iterator[tuple[str, int]]:
    """(normalised name, line) of each dependency a manifest declares."""
    if text is None:
        return
    lines = text.splitlines()
    if not path.endswith(".toml"):
        for number, line in enumerate(lines, start=1):
            stripped = line.split("#", 1)[0].strip()
            if stripped and not stripped.startswith("-") and (name := _name(stripped)):
                yield name, number
        return
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        at = re.search(r"at line (\d+)", str(exc))
        findings.append(Finding(KEY, path, int(at[1]) if at else 0, "invalid-toml", str(exc)))
        return
    for name in sorted(_toml_names(data)):
        yield name, _line_of(name, lines)


def _toml_names(data: dict[str, Any]) -> set[str]:
    """Names of the requirements the file declares; parts of the wrong shape declare none."""
    project = toml_table(data, "project")
    specs = _listed(project.get("dependencies"))
    for group in toml_table(project, "optional-dependencies").values():
        specs += _listed(group)
    poetry = toml_table(data, "tool", "poetry")
    groups = [
        toml_table(g, "dependencies") for g in toml_table(poetry, "group").values() if isinstance(g, dict)
    ]
    for table in [toml_table(poetry, "dependencies"), toml_table(poetry, "dev-dependencies"), *groups]:
        specs += [k for k in table if k != "python"]
    return {name for spec in specs if (name := _name(spec))}


def _listed(value: object) -> list[str]:
    """The strings of a TOML array; [] when it is not one."""
    return [str(v) for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _line_of(name: str, lines: list[str]) -> int:
    """The first line quoting a requirement of that name, or starting `name =` (poetry)."""
    for number, line in enumerate(lines, start=1):
        if any(_name(q) == name for q in _QUOTED.findall(line)):
            return number
        key = line.split("=", 1)[0].strip()
        if "=" in line and not key.startswith("[") and _name(key.strip("\"'")) == name:
            return number
    return 0


def _name(spec: str) -> str:
    """PEP 503 normalised project name of a requirement spec, '' when it has none."""
    match = _REQUIREMENT_NAME.match(spec)
    return re.sub(r"[-_.]+", "-", match.group(1)).lower() if match else ""
