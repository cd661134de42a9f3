"""Gate-O (Optimize): the test command passes on head; no inefficiency patterns in changed code.

Parts (weights renormalised over the parts that apply):
- tests (0.7): `gates.test_command` run through the shell in a temporary linked worktree of
  head (detached, removed afterwards), with `gates.test_timeout_seconds`; 1 when it exits 0,
  else 0, with the last lines of its output in the finding. Without a command this part says
  "not configured" and is left out, never scored 1.
- patterns (0.3): 1 / (1 + n), n = patterns found on changed lines of non-test modules:
  an I/O or query call inside a loop (a for/while body or a comprehension) - `open`, `urlopen`,
  `requests.*`, `httpx.*`, `urllib.*`, `.execute`, `.executemany`, `.query`, and ORM lookups
  through `.objects.` (the loop's own iterable is evaluated once and does not count);
  and a membership test (`in` / `not in`) inside a loop against a list: a list literal or
  comprehension, or a name last bound to one (`x = [...]`, `list(...)`, `sorted(...)`, or an
  annotation `list[...]`) in the same function. This part applies when changed lines touch a
  loop, so a change with no loops and no test command leaves the gate out of the index.
"""
from __future__ import annotations

import os
import signal
import subprocess
import tempfile
from pathlib import Path

import libcst as cst

from swarmgit.errors import WorkFailed
from swarmgit.gitops.safe_git import run_git
from swarmgit.gates.base import (
    Evidence,
    Finding,
    GateContext,
    GateResult,
    is_test_path,
)
from swarmgit.gates.syntax import Parsed, parse

KEY = "O"
NAME = "Optimize"
WEIGHTS = {"tests": 0.7, "patterns": 0.3}
OUTPUT_TAIL_LINES = 20

_IO_FUNCTIONS = frozenset({"open", "urlopen"})
_IO_MODULES = frozenset({"requests", "httpx", "urllib"})
_IO_METHODS = frozenset({"execute", "executemany", "query", "urlopen"})
_LIST_FACTORIES = frozenset({"list", "sorted"})


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
        return evidence.result(KEY, NAME, applies=applies, note="; ".join(notes),
                               score=None if applies else 0.0)


def _run_tests(
    ctx: GateContext, findings: list[Finding], metrics: dict[str, float | int | str]
) -> bool:
    """Run the test command in a temporary worktree of head; always remove the worktree."""
    command = ctx.config.test_command
    with tempfile.TemporaryDirectory(prefix="swarm-gate-tests-") as scratch:
        tree = Path(scratch) / "head"
        _git(ctx.repo_path, "worktree", "add", "--detach", "--quiet", str(tree), ctx.head)
        try:
            code, output = _run(command, tree, ctx.config.test_timeout_seconds)
        finally:
            _git(ctx.repo_path, "worktree", "remove", "--force", str(tree), check=False)
            _git(ctx.repo_path, "worktree", "prune", check=False)
    if code is None:
        metrics["tests"] = "timeout"
        message = f"`{command}` timed out after {ctx.config.test_timeout_seconds:g} s"
    else:
        metrics["tests"] = "passed" if code == 0 else f"failed (exit {code})"
        message = f"`{command}` exited {code}"
    if code != 0:
        findings.append(Finding(KEY, "", 0, "tests-failed", _with_tail(message, output)))
    return code == 0


def _run(command: str, cwd: Path, timeout: float) -> tuple[int | None, str]:
    """(exit code or None on timeout, stdout+stderr). The command runs in its own process
    group, killed at the end: a child it left running cannot hold the worktree or the pipe."""
    with subprocess.Popen(
        command, shell=True, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL, text=True, errors="replace", start_new_session=True,
    ) as process:
        try:
            output, _ = process.communicate(timeout=timeout)
            code: int | None = process.returncode
        except subprocess.TimeoutExpired:
            _kill_group(process.pid)
            output, _ = process.communicate()
            code = None
        _kill_group(process.pid)
    return code, output


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass  # the group has already exited


def _git(repo: Path, *args: str, check: bool = True) -> None:
    run = run_git(repo, *args)
    if check and run.returncode != 0:
        raise WorkFailed(f"git {' '.join(args)} failed in {repo}: {run.stderr.strip()}")


def _with_tail(message: str, output: str) -> str:
    tail = output.rstrip().splitlines()[-OUTPUT_TAIL_LINES:]
    return message + ("; last lines:\n" + "\n".join(tail) if tail else "")


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
                    node, "list-membership-in-loop",
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
        isinstance(node, cst.Call)
        and isinstance(node.func, cst.Name)
        and node.func.value in _LIST_FACTORIES
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
