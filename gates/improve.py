"""Gate-I (Improve): duplication, naming, magic numbers, docstrings and TODOs in what changed.

Applies when a Python file changed. Parts (weight; a part with nothing to check is dropped and
the weights of the rest renormalised):
- duplication (0.35): d = duplicated-line density of the changed Python files = lines of those
  files inside a new clone (duplication.ALGORITHM; a clone is new when more than half the lines
  of one of its copies are changed lines; each line counted once per file) / their physical
  lines. As in SonarQube, test code is left out of duplication. Copies are sought in every
  non-test Python file under the same top-level folder as a changed file (root files together),
  so a block pasted from an unchanged module counts. Score 1 while d <= gates.duplication_max,
  then falling linearly to 0 at DUPLICATION_ZERO_AT (4) x duplication_max.
- docstrings (0.20): documented / public functions, classes and methods (syntax.py) whose
  lines were changed, outside test modules; @overload stubs are skipped.
- naming (0.15): 1 - bad / names bound on changed lines. Classes are CapWords; functions and
  methods snake_case (unittest hooks such as setUp and visitor methods visit_X / leave_X
  excepted); parameters, variables and attributes assigned through self are not mixedCase.
- magic numbers (0.15): 1 - magic / numeric literals on changed lines inside function bodies of
  non-test modules. Not magic: -1, 0, 1, 2; default values, keyword arguments, subscripts and
  values assigned to UPPER_CASE names.
- todos (0.15): 1 - unreferenced / TODO or FIXME comments on changed lines; a reference is an
  issue number (#123), a tracker key (ABC-12) or a URL.
A changed Python file that does not parse sets the score to 0 (its finding names the line):
one CPython refuses and libcst cannot read, or one no Python reads (null bytes, not in its
declared encoding, nested past the parser's limits; syntax.cpython_error). So does a changed
Python file larger than gates.max_file_bytes, which no gate reads (a `too-large` finding; an
unanalysed change is never approved): it is left out of every part, and out of the duplication
corpus wherever it lies. Symlinks are not source: no gate reads one (base.GateContext).
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field

import libcst as cst

from swarmgit.gates import duplication
from swarmgit.gates.base import (
    TOO_LARGE,
    Evidence,
    Finding,
    GateContext,
    GateResult,
    clamp,
    is_test_path,
    rounded,
)
from swarmgit.gates.blobcache import pack_ints, unpack_ints
from swarmgit.gates.syntax import (
    Parsed,
    is_overload,
    is_public_module,
    parse,
    public_definitions,
    syntax_error,
)

KEY = "I"
NAME = "Improve"
WEIGHTS = {
    "duplication": 0.35,
    "docstrings": 0.20,
    "naming": 0.15,
    "magic": 0.15,
    "todos": 0.15,
}
# The per-blob cache kind (window hashes are Python's tuple hash: the version is part of it).
FINGERPRINTS = "fingerprints-v2-py{}{}".format(*sys.version_info[:2])
_LINE_CODE, _HASH_CODE = "I", "q"  # array typecodes: line numbers, 64-bit window hashes
DUPLICATION_ZERO_AT = 4  # x gates.duplication_max: the density that scores 0
ALLOWED_NUMBERS = frozenset({-1, 0, 1, 2})
MAX_SHOWN = 40  # characters of a literal a finding quotes
_COUNTED = ("docstrings", "naming", "magic", "todos")

_TODO = re.compile(r"\b(?:TODO|FIXME)\b", re.IGNORECASE)
_REFERENCE = re.compile(r"#\d+|\b[A-Z][A-Z0-9]+-\d+\b|https?://\S+")
_SNAKE = re.compile(r"^_*[a-z0-9_]*$")
_CAPWORDS = re.compile(r"^_*[A-Z][A-Za-z0-9]*$")
_MIXED = re.compile(r"^_*[a-z][a-z0-9]*[A-Z]")
_UPPER = re.compile(r"^_*[A-Z][A-Z0-9_]*$")
_VISITOR = re.compile(r"^(?:visit|leave|depart)_\w+$")
_TEST_HOOKS = frozenset(
    {
        "setUp",
        "tearDown",
        "setUpClass",
        "tearDownClass",
        "setUpModule",
        "tearDownModule",
        "setUpTestData",
        "asyncSetUp",
        "asyncTearDown",
        "addCleanup",
        "subTest",
    }
)


class Improve:
    """Gate-I; see the module docstring."""

    key = KEY
    name = NAME

    def evaluate(self, ctx: GateContext) -> GateResult:
        """Judge the changed Python files of head."""
        files = ctx.changed_files(".py")
        if not files:
            return GateResult(KEY, NAME, False, 1.0, {}, (), "no Python file changed")
        evidence = Evidence()
        findings, parts, metrics = evidence.findings, evidence.parts, evidence.metrics
        density = _duplication(ctx, files, findings, metrics)
        limit = ctx.config.duplication_max
        if density is not None:
            parts["duplication"] = (WEIGHTS["duplication"], _duplication_score(density, limit))
        tally = _Tally()
        broken = unanalysed = 0
        for path in files:
            reason = ctx.too_large("head", path)
            if reason is not None:
                unanalysed += 1
                findings.append(Finding(KEY, path, 0, TOO_LARGE, reason))
                continue
            parsed = parse(ctx, "head", path)
            if parsed is None:
                error = syntax_error(ctx, "head", path)
                if error is not None:
                    broken += 1
                    findings.append(Finding(KEY, path, error[0], "syntax-error", error[1]))
                continue
            visitor = _LineChecks(path, parsed, ctx.changed_lines.get(path, frozenset()), tally)
            parsed.module.visit(visitor)
            findings.extend(visitor.findings)
            _docstrings(path, parsed, ctx.changed_lines.get(path, frozenset()), tally, findings)
        for part, (checked, bad) in tally.counts().items():
            metrics[f"{part}_checked"] = checked
            metrics[f"{part}_bad"] = bad
            if checked:
                parts[part] = (WEIGHTS[part], 1 - bad / checked)
        metrics["syntax_errors"] = broken
        metrics["too_large_files"] = unanalysed
        return evidence.result(KEY, NAME, score=0.0 if broken or unanalysed else None)


@dataclass
class _Tally:
    """How many items each part checked and how many were bad."""

    checked: dict[str, int] = field(default_factory=lambda: dict.fromkeys(_COUNTED, 0))
    bad: dict[str, int] = field(default_factory=lambda: dict.fromkeys(_COUNTED, 0))

    def add(self, part: str, ok: bool) -> None:
        self.checked[part] += 1
        self.bad[part] += not ok

    def counts(self) -> dict[str, tuple[int, int]]:
        return {part: (self.checked[part], self.bad[part]) for part in sorted(self.checked)}


def _duplication(
    ctx: GateContext,
    files: tuple[str, ...],
    findings: list[Finding],
    metrics: dict[str, float | int | str],
) -> float | None:
    """The new-duplication density of the changed non-test files; None when there are none."""
    targets = [p for p in files if not is_test_path(p)]
    if not targets:
        return None
    scopes = {_top_folder(p) for p in targets}
    corpus = {}
    by_blob: dict[str | None, duplication.Normalised | None] = {}  # copies read back once
    for path in ctx.tracked_files("head"):
        if path.endswith(".py") and _top_folder(path) in scopes and not is_test_path(path):
            oid = ctx.blob_id("head", path)
            if oid not in by_blob:
                by_blob[oid] = fingerprints(ctx, path)
            found = by_blob[oid]
            if found is not None:
                corpus[path] = found
    tokens = {
        p: duplication.token_counts(text)
        for p in targets
        if p in corpus and (text := ctx.text("head", p)) is not None
    }
    duplicated: dict[str, set[int]] = {}
    reported: set[tuple[str, int]] = set()
    for clone in duplication.find_clones(corpus, tokens):
        mine = range(clone.start, clone.end + 1)
        theirs = range(clone.other_start, clone.other_end + 1)
        new = _mostly_changed(ctx, clone.file, mine) or _mostly_changed(ctx, clone.other, theirs)
        if not new:
            continue  # an old clone (perhaps grown or edited a little): debt base already had
        duplicated.setdefault(clone.file, set()).update(mine)
        if (clone.file, clone.start) not in reported:
            reported.add((clone.file, clone.start))
            findings.append(
                Finding(
                    KEY,
                    clone.file,
                    clone.start,
                    "duplicate-block",
                    f"lines {clone.start}-{clone.end} duplicate "
                    f"{clone.other}:{clone.other_start}-{clone.other_end} ({clone.tokens} tokens)",
                )
            )
    physical = sum(corpus[p].physical for p in targets if p in corpus)
    lines = sum(len(v) for v in duplicated.values())
    density = lines / physical if physical else 0.0
    metrics.update(
        duplication_algorithm=duplication.ALGORITHM,
        duplicated_lines=lines,
        physical_lines_checked=physical,
        duplication_density=rounded(density),
    )
    return density


def fingerprints(ctx: GateContext, path: str) -> duplication.Normalised | None:
    """The head file's normalised code lines (None when absent, binary or too large to
    analyse), kept per blob."""
    oid = ctx.blob_id("head", path)
    if oid is None or ctx.too_large("head", path):
        return None
    cache = ctx.blob_cache(FINGERPRINTS)
    try:
        entry = cache.get(oid)
        if entry is not None:
            return _fingerprints_from_json(entry)
    except (KeyError, TypeError, ValueError):
        pass  # a malformed entry is a miss
    text = ctx.text("head", path)
    if text is None:
        return None
    found = duplication.normalise(text)
    cache.put(
        oid,
        {
            "lines": pack_ints(found.lines, _LINE_CODE),
            "windows": pack_ints(found.windows, _HASH_CODE),
            "physical": found.physical,
        },
    )
    return found


def _fingerprints_from_json(entry: dict[str, object]) -> duplication.Normalised:
    lines = unpack_ints(entry["lines"], _LINE_CODE)
    windows = unpack_ints(entry["windows"], _HASH_CODE)
    physical = entry["physical"]
    if len(windows) != max(0, len(lines) - duplication.MIN_LINES + 1) or not isinstance(physical, int):
        raise ValueError("fingerprints of another shape")
    return duplication.Normalised(lines, windows, physical)


def _duplication_score(density: float, limit: float) -> float:
    if density <= limit:
        return 1.0
    return clamp(1 - (density - limit) / ((DUPLICATION_ZERO_AT - 1) * limit or 1))


def _mostly_changed(ctx: GateContext, path: str, lines: range) -> bool:
    changed = ctx.changed_lines.get(path, frozenset())
    return 2 * len(changed.intersection(lines)) > len(lines)


def _top_folder(path: str) -> str:
    """The first folder of a path ("" for a file at the root): the scope copies are sought in."""
    return path.split("/", 1)[0] if "/" in path else ""


def _docstrings(
    path: str, parsed: Parsed, changed: frozenset[int], tally: _Tally, findings: list[Finding]
) -> None:
    if is_test_path(path) or not is_public_module(path):
        return
    for definition in public_definitions(parsed):
        if changed.isdisjoint(definition.span) or is_overload(definition.node):
            continue
        documented = definition.node.get_docstring() is not None
        tally.add("docstrings", documented)
        if not documented:
            findings.append(
                Finding(
                    KEY,
                    path,
                    definition.line,
                    "missing-docstring",
                    f"public {definition.kind} {definition.qualname} has no docstring",
                )
            )


class _LineChecks(cst.CSTVisitor):
    """Naming, magic numbers and TODOs on the changed lines of one module."""

    def __init__(self, path: str, parsed: Parsed, changed: frozenset[int], tally: _Tally) -> None:
        super().__init__()
        self.path = path
        self.parsed = parsed
        self.changed = changed
        self.tally = tally
        self.findings: list[Finding] = []
        self.check_magic = not is_test_path(path)
        self.functions = 0
        self.exempt = 0  # > 0 inside a default, keyword argument, subscript or constant

    # naming ------------------------------------------------------------------------------
    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self._name(node.name, bool(_CAPWORDS.match(node.name.value)), "class name is not CapWords")

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        name = node.name.value
        ok = bool(_SNAKE.match(name)) or name in _TEST_HOOKS or bool(_VISITOR.match(name))
        self._name(node.name, ok, "function name is not snake_case")
        self.functions += 1

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self.functions -= 1

    def visit_Param(self, node: cst.Param) -> None:
        self._not_mixed(node.name, "parameter")
        self.exempt += 1

    def leave_Param(self, original_node: cst.Param) -> None:
        self.exempt -= 1

    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            for name in _bound_names(target.target):
                self._bound(name)
        self.exempt += _is_constant(node)

    def leave_Assign(self, original_node: cst.Assign) -> None:
        self.exempt -= _is_constant(original_node)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        for name in _bound_names(node.target):
            self._bound(name)

    # magic numbers -----------------------------------------------------------------------
    def visit_Arg(self, node: cst.Arg) -> None:
        self.exempt += node.keyword is not None

    def leave_Arg(self, original_node: cst.Arg) -> None:
        self.exempt -= original_node.keyword is not None

    def visit_SubscriptElement(self, node: cst.SubscriptElement) -> None:
        self.exempt += 1

    def leave_SubscriptElement(self, original_node: cst.SubscriptElement) -> None:
        self.exempt -= 1

    def visit_Integer(self, node: cst.Integer) -> None:
        self._number(node)

    def visit_Float(self, node: cst.Float) -> None:
        self._number(node)

    # todos -------------------------------------------------------------------------------
    def visit_Comment(self, node: cst.Comment) -> None:
        line = self.parsed.line(node)
        if line not in self.changed or not _TODO.search(node.value):
            return
        referenced = bool(_REFERENCE.search(node.value[1:]))
        self.tally.add("todos", referenced)
        if not referenced:
            self._find(line, "todo-without-reference", f"{node.value.strip()!r} names no issue")

    # helpers -----------------------------------------------------------------------------
    def _bound(self, node: cst.Name | cst.Attribute) -> None:
        if isinstance(node, cst.Attribute):
            self._not_mixed(node.attr, "attribute")
        else:
            self._not_mixed(node, "variable")

    def _not_mixed(self, name: cst.Name, what: str) -> None:
        self._name(name, not _MIXED.match(name.value), f"{what} name is mixedCase")

    def _name(self, name: cst.Name, ok: bool, problem: str) -> None:
        line = self.parsed.line(name)
        if line not in self.changed:
            return
        self.tally.add("naming", ok)
        if not ok:
            self._find(line, "naming", f"{problem}: {name.value}")

    def _number(self, node: cst.Integer | cst.Float) -> None:
        if not (self.check_magic and self.functions and not self.exempt):
            return
        line = self.parsed.line(node)
        if line not in self.changed:
            return
        try:
            value = node.evaluated_value
        except (SyntaxError, ValueError):  # an int past Python's digits limit
            value = None
        ok = value in ALLOWED_NUMBERS
        self.tally.add("magic", ok)
        if not ok:
            self._find(line, "magic-number", f"magic number {node.value[:MAX_SHOWN]}: name it as a constant")

    def _find(self, line: int, rule: str, message: str) -> None:
        self.findings.append(Finding(KEY, self.path, line, rule, message))


def _is_constant(node: cst.Assign) -> bool:
    """True for `NAME = ...` where every bound name is UPPER_CASE."""
    names = [n for t in node.targets for n in _bound_names(t.target)]
    return bool(names) and all(isinstance(n, cst.Name) and _UPPER.match(n.value) for n in names)


def _bound_names(target: cst.BaseExpression) -> list[cst.Name | cst.Attribute]:
    """Names (and self.attributes) an assignment target binds, through tuple unpacking."""
    if isinstance(target, cst.Name):
        return [target]
    if isinstance(target, cst.Attribute) and isinstance(target.value, cst.Name):
        return [target] if target.value.value == "self" else []
    if isinstance(target, (cst.Tuple, cst.List)):
        return [n for e in target.elements for n in _bound_names(e.value)]
    return []
