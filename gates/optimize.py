"""Gate-O (Optimize): the test command passes on head; no inefficiency patterns in changed code.

Parts (weights renormalised over the parts that apply):
- tests (0.7): `gates.test_command` run through the shell in a temporary linked worktree of
  head (detached, removed afterwards), with `gates.test_timeout_seconds`; 1 when it exits 0.
  When it fails, it is run on the base too: failures that already happen there are
  pre-existing and do not fail the track (1, said in the metrics); a failure the track
  introduced scores 0, with the newly failing tests (pytest's summary lines) and the last
  lines of the output in the finding. Each tree's run is cached by tree id (gates/cache.py),
  so the base is tested once per track and an unchanged tree never again. Without a command
  this part says "not configured" and is left out, never scored 1. The command runs the
  change's code, which agents wrote: unless agent.sandbox is "off" it runs under a write fence
  like an agent's (only its temporary checkout, its own HOME and TMPDIR, and the devices).
- patterns (0.3): 1 / (1 + n), n = patterns found on changed lines of non-test modules:
  an I/O or query call inside a loop (a for/while body or a comprehension) - `open`, `urlopen`,
  `requests.*`, `httpx.*`, `urllib.*`, `.execute`, `.executemany`, `.query`, and ORM lookups
  through `.objects.` (the loop's own iterable is evaluated once and does not count);
  and a membership test (`in` / `not in`) inside a loop against a list: a list literal or
  comprehension, or a name last bound to one (`x = [...]`, `list(...)`, `sorted(...)`, or an
  annotation `list[...]`) in the same function. This part applies when changed lines touch a
  loop, so a change with no loops and no test command leaves the gate out of the index.
  A file past gates.max_file_bytes is not read (Gate-I reports it and scores it 0).
"""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

import libcst as cst

from swarmgit.domain.fence import DEVICES, Fence, SandboxMode
from swarmgit.errors import WorkFailed
from swarmgit.gates.base import (
    Evidence,
    Finding,
    GateContext,
    GateResult,
    Side,
    is_test_path,
)
from swarmgit.gates.cache import GateCache, cache_key
from swarmgit.gates.syntax import Parsed, parse
from swarmgit.gitops.safe_git import run_git
from swarmgit.process.home import own_home
from swarmgit.process.run import run_captured

KEY = "O"
NAME = "Optimize"
WEIGHTS = {"tests": 0.7, "patterns": 0.3}
OUTPUT_TAIL_LINES = 20

_IO_FUNCTIONS = frozenset({"open", "urlopen"})
_IO_MODULES = frozenset({"requests", "httpx", "urllib"})
_IO_METHODS = frozenset({"execute", "executemany", "query", "urlopen"})
_LIST_FACTORIES = frozenset({"list", "sorted"})
_FAILED_RE = re.compile(r"^(?:FAILED|ERROR) (\S+)", re.M)


class Optimize:
    """Gate-O; see the module docstring."""

    key = KEY
    name = NAME

    def evaluate(self, ctx: GateContext) -> GateResult:
        """Run the test command (if any) on head; look for patterns in changed loops."""
        evidence = Evidence()
        findings, parts, metrics = evidence.findings, evidence.parts, evidence.metrics
        notes: list[str] = []
        if ctx.config.test_command:
            passed = _run_tests(ctx, findings, metrics)
            parts["tests"] = (WEIGHTS["tests"], 1.0 if passed else 0.0)
        else:
            metrics["tests"] = "not configured"
            notes.append("test command not configured")
        loops = 0
        for path in ctx.changed_files(".py"):
            parsed = parse(ctx, "head", path)
            if parsed is None or is_test_path(path):
                continue
            visitor = _Patterns(path, parsed, ctx.changed_lines.get(path, frozenset()))
            parsed.module.visit(visitor)
            loops += visitor.loops_touched
            findings.extend(visitor.findings)
        patterns = sum(1 for f in findings if f.rule != "tests-failed")
        metrics.update(changed_loops=loops, inefficiency_patterns=patterns)
        if loops:
            parts["patterns"] = (WEIGHTS["patterns"], 1 / (1 + patterns))
        else:
            notes.append("no loop in changed code")
        applies = bool(parts)
        return evidence.result(
            KEY, NAME, applies=applies, note="; ".join(notes), score=None if applies else 0.0
        )


@dataclass(frozen=True)
class TestRun:
    """One run of the test command on one tree: exit code (None: timed out), the failing test
    ids it names (pytest's FAILED/ERROR summary lines; empty when it names none) and the last
    lines of its output."""

    code: int | None
    failed: frozenset[str]
    tail: str

    @property
    def passed(self) -> bool:
        return self.code == 0

    def describe(self, command: str, timeout: float) -> str:
        if self.code is None:
            return f"`{command}` timed out after {timeout:g} s"
        return f"`{command}` exited {self.code}"


def _run_tests(ctx: GateContext, findings: list[Finding], metrics: dict[str, float | int | str]) -> bool:
    """The tests part: passes when the command passes on head, or when everything that fails
    on head already failed on the base (pre-existing failures do not fail the track)."""
    command, timeout = ctx.config.test_command, ctx.config.test_timeout_seconds
    head = _test_run(ctx, "head")
    if head.passed:
        metrics["tests"] = "passed"
        return True
    base = _test_run(ctx, "base")
    new = head.failed - base.failed
    if base.passed or (head.failed and new) or (head.code is None and base.code is not None):
        metrics["tests"] = "timeout" if head.code is None else f"failed (exit {head.code})"
        message = head.describe(command, timeout)
        if not base.passed and new:
            message += (
                f"; newly failing: {', '.join(sorted(new))} "
                f"({len(head.failed & base.failed)} other failure(s) already fail at the base)"
            )
        findings.append(Finding(KEY, "", 0, "tests-failed", _with_tail(message, head.tail)))
        return False
    known = f"{len(head.failed)} test(s)" if head.failed else "the command"
    metrics["tests"] = f"pre-existing failures: {known} already fail(s) at the base"
    return True


def _test_run(ctx: GateContext, side: Side) -> TestRun:
    """The test command's result on that side's tree, from the cache when this tree (with this
    command and timeout) was tested before; else run in a temporary detached worktree."""
    command, timeout = ctx.config.test_command, ctx.config.test_timeout_seconds
    cache = GateCache(ctx.repo_path)
    key = cache_key(str(ctx.commit(side).tree_id), command, timeout)
    hit = cache.get("tests", key)
    if hit is not None and isinstance(hit.get("failed"), list):
        return TestRun(hit.get("code"), frozenset(map(str, hit["failed"])), str(hit.get("tail", "")))
    with tempfile.TemporaryDirectory(prefix="swarm-gate-tests-") as scratch:
        tree = Path(scratch) / side
        commit = ctx.head if side == "head" else ctx.base
        _git(ctx.repo_path, "worktree", "add", "--detach", "--quiet", str(tree), commit)
        try:
            code, output = run_captured(command, tree, timeout, *_confined(ctx.sandbox, Path(scratch)))
        finally:
            _git(ctx.repo_path, "worktree", "remove", "--force", str(tree), check=False)
            _git(ctx.repo_path, "worktree", "prune", check=False)
    tail = "\n".join(output.rstrip().splitlines()[-OUTPUT_TAIL_LINES:])
    run = TestRun(code, frozenset(_FAILED_RE.findall(output)), tail)
    cache.put("tests", key, {"code": run.code, "failed": sorted(run.failed), "tail": run.tail})
    return run


def _confined(sandbox: str, scratch: Path) -> tuple[dict[str, str] | None, Fence | None]:
    """The test command's environment and fence. It runs the change's code, which agents wrote,
    so unless `sandbox` is off it may write only `scratch` (the checkout and its own HOME and
    TMPDIR) and the devices, as an agent could; `required` refuses to run it unfenced."""
    if SandboxMode(sandbox) is SandboxMode.OFF:
        return None, None
    env = {**os.environ, **own_home(scratch, os.environ)}
    fence = Fence((str(scratch.resolve()), *DEVICES), required=SandboxMode(sandbox) is SandboxMode.REQUIRED)
    return env, fence


def _git(repo: Path, *args: str, check: bool = True) -> None:
    run = run_git(repo, *args)
    if check and run.returncode != 0:
        raise WorkFailed(f"git {' '.join(args)} failed in {repo}: {run.stderr.strip()}")


def _with_tail(message: str, tail: str) -> str:
    return message + ("; last lines:\n" + tail if tail else "")


class _Patterns(cst.CSTVisitor):
    """I/O calls and list membership tests inside loops, on changed lines of one module."""

    def __init__(self, path: str, parsed: Parsed, changed: frozenset[int]) -> None:
        super().__init__()
        self.path = path
        self.parsed = parsed
        self.changed = changed
        self.findings: list[Finding] = []
        self.loops_touched = 0
        self.depth = [0]  # loop depth per enclosing function scope
        self.lists: list[set[str]] = [set()]  # names bound to lists, per scope

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._enter_scope()

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self._leave_scope()

    def visit_Lambda(self, node: cst.Lambda) -> None:
        self._enter_scope()

    def leave_Lambda(self, original_node: cst.Lambda) -> None:
        self._leave_scope()

    def visit_While(self, node: cst.While) -> None:
        self._touch(node)
        self.depth[-1] += 1

    def leave_While(self, original_node: cst.While) -> None:
        self.depth[-1] -= 1

    def visit_For(self, node: cst.For) -> bool:
        # The iterable is evaluated once, before the loop; `else` runs once, after it.
        self._touch(node)
        node.iter.visit(self)
        self._in_loop(node.target, node.body)
        if node.orelse is not None:
            node.orelse.visit(self)
        return False

    def visit_ListComp(self, node: cst.ListComp) -> bool:
        return self._comprehension(node, node.elt)

    def visit_SetComp(self, node: cst.SetComp) -> bool:
        return self._comprehension(node, node.elt)

    def visit_GeneratorExp(self, node: cst.GeneratorExp) -> bool:
        return self._comprehension(node, node.elt)

    def visit_DictComp(self, node: cst.DictComp) -> bool:
        return self._comprehension(node, node.key, node.value)

    def visit_Param(self, node: cst.Param) -> None:
        self._bind(node.name, None, node.annotation)

    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            if isinstance(target.target, cst.Name):
                self._bind(target.target, node.value, None)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if isinstance(node.target, cst.Name):
            self._bind(node.target, node.value, node.annotation)

    def visit_Call(self, node: cst.Call) -> None:
        if self.depth[-1] and _is_io_call(node.func):
            self._find(node, "io-in-loop", f"{_dotted(node.func)}(...) called inside a loop")

    def visit_Comparison(self, node: cst.Comparison) -> None:
        if not self.depth[-1]:
            return
        for target in node.comparisons:
            membership = isinstance(target.operator, (cst.In, cst.NotIn))
            if membership and self._is_list(target.comparator):
                self._find(
                    node,
                    "list-membership-in-loop",
                    f"membership test on a list inside a loop: use a set "
                    f"({self.parsed.module.code_for_node(target.comparator)[:40]})",
                )

    def _comprehension(self, node: cst.BaseComp | cst.DictComp, *parts: cst.CSTNode) -> bool:
        # Only the outermost iterable is evaluated once; everything else runs per item.
        self._touch(node)
        outer = node.for_in
        outer.iter.visit(self)
        inner = [outer.target, *outer.ifs, *([outer.inner_for_in] if outer.inner_for_in else [])]
        self._in_loop(*inner, *parts)
        return False

    def _in_loop(self, *nodes: cst.CSTNode) -> None:
        self.depth[-1] += 1
        for node in nodes:
            node.visit(self)
        self.depth[-1] -= 1

    def _touch(self, loop: cst.CSTNode) -> None:
        if not self.changed.isdisjoint(self.parsed.span(loop)):
            self.loops_touched += 1

    def _enter_scope(self) -> None:
        self.depth.append(0)
        self.lists.append(set())

    def _leave_scope(self) -> None:
        self.depth.pop()
        self.lists.pop()

    def _bind(
        self, name: cst.Name, value: cst.BaseExpression | None, annotation: cst.Annotation | None
    ) -> None:
        if _is_list_value(value) or _is_list_annotation(annotation):
            self.lists[-1].add(name.value)
        else:
            self.lists[-1].discard(name.value)

    def _is_list(self, node: cst.BaseExpression) -> bool:
        return _is_list_value(node) or (isinstance(node, cst.Name) and node.value in self.lists[-1])

    def _find(self, node: cst.CSTNode, rule: str, message: str) -> None:
        line = self.parsed.line(node)
        if line in self.changed:
            self.findings.append(Finding(KEY, self.path, line, rule, message))


def _is_list_value(node: cst.BaseExpression | None) -> bool:
    if isinstance(node, (cst.List, cst.ListComp)):
        return True
    return (
        isinstance(node, cst.Call) and isinstance(node.func, cst.Name) and node.func.value in _LIST_FACTORIES
    )


def _is_list_annotation(annotation: cst.Annotation | None) -> bool:
    if annotation is None:
        return False
    node = annotation.annotation
    if isinstance(node, cst.Subscript):
        node = node.value
    return isinstance(node, cst.Name) and node.value in ("list", "List")


def _is_io_call(func: cst.BaseExpression) -> bool:
    if isinstance(func, cst.Name):
        return func.value in _IO_FUNCTIONS
    if not isinstance(func, cst.Attribute):
        return False
    if func.attr.value in _IO_METHODS:
        return True
    parts = _dotted(func).split(".")
    return parts[0] in _IO_MODULES or "objects" in parts[1:-1]


def _dotted(node: cst.BaseExpression) -> str:
    """`a.b.c` for a Name/Attribute chain; `…` stands for anything else in the chain."""
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        return f"{_dotted(node.value)}.{node.attr.value}"
    return "…"
