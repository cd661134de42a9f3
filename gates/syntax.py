"""libcst parsing shared by the gates: one parse per (side, path) per GateContext, with line
positions, and the public definitions that Gate-I (docstrings) and Gate-S (API growth) judge.

Public means: a module-level function or class whose name has no leading underscore, or such a
method of a public module-level class, in a module whose path has no `_private` component
(`__init__.py` and `__main__.py` are public). Dunder methods are protocol, not API.
"""
from __future__ import annotations

import ast
from collections.abc import Mapping
from dataclasses import dataclass

import libcst as cst
from libcst.metadata import CodeRange, MetadataWrapper, PositionProvider

from swarmgit.gates.base import GateContext, Side


@dataclass(frozen=True)
class Parsed:
    """A parsed module and the source range of every node."""

    module: cst.Module
    positions: Mapping[cst.CSTNode, CodeRange]

    def line(self, node: cst.CSTNode) -> int:
        """The node's first line."""
        return self.positions[node].start.line

    def span(self, node: cst.CSTNode) -> range:
        """The node's lines, first to last inclusive."""
        where = self.positions[node]
        return range(where.start.line, where.end.line + 1)


@dataclass(frozen=True)
class Definition:
    """A public function, class or method: `qualname` is `f`, `C` or `C.m`; `line` its name's."""

    qualname: str
    kind: str  # "function" | "class" | "method"
    line: int
    span: range
    node: cst.FunctionDef | cst.ClassDef


def parse(ctx: GateContext, side: Side, path: str) -> Parsed | None:
    """The file parsed at that side; None when it is absent, binary or not valid Python."""
    outcome = _parse_outcome(ctx, side, path)
    return outcome if isinstance(outcome, Parsed) else None


def syntax_error(ctx: GateContext, side: Side, path: str) -> tuple[int, str] | None:
    """(line, message) when the file exists at that side but is not valid Python."""
    outcome = _parse_outcome(ctx, side, path)
    return outcome if isinstance(outcome, tuple) else None


def is_public_module(path: str) -> bool:
    """No `_private` folder or file on the path (`__init__.py`, `__main__.py` are public)."""
    parts = path.split("/")
    stem = parts[-1].removesuffix(".py")
    return not any(p.startswith("_") for p in parts[:-1]) and (
        stem in ("__init__", "__main__") or not stem.startswith("_")
    )


def is_public_name(name: str) -> bool:
    """No leading underscore."""
    return not name.startswith("_")


def public_definitions(parsed: Parsed) -> tuple[Definition, ...]:
    """Public module-level functions and classes, and public methods of public classes."""
    found: list[Definition] = []
    for stmt in parsed.module.body:
        if isinstance(stmt, cst.FunctionDef) and is_public_name(stmt.name.value):
            found.append(_definition(parsed, stmt, stmt.name.value, "function"))
        elif isinstance(stmt, cst.ClassDef) and is_public_name(stmt.name.value):
            found.append(_definition(parsed, stmt, stmt.name.value, "class"))
            for member in stmt.body.body:
                if isinstance(member, cst.FunctionDef) and is_public_name(member.name.value):
                    qualname = f"{stmt.name.value}.{member.name.value}"
                    found.append(_definition(parsed, member, qualname, "method"))
    return tuple(found)


def is_overload(node: cst.FunctionDef | cst.ClassDef) -> bool:
    """True for `@overload` / `@typing.overload` stubs (their docstring lives on the real def)."""
    for decorator in node.decorators:
        target = decorator.decorator
        if isinstance(target, cst.Attribute):
            target = target.attr
        if isinstance(target, cst.Name) and target.value == "overload":
            return True
    return False


def _definition(
    parsed: Parsed, node: cst.FunctionDef | cst.ClassDef, qualname: str, kind: str
) -> Definition:
    return Definition(qualname, kind, parsed.line(node.name), parsed.span(node), node)


def _parse_outcome(ctx: GateContext, side: Side, path: str) -> Parsed | tuple[int, str] | None:
    def compute() -> Parsed | tuple[int, str] | None:
        text = ctx.text(side, path)
        if text is None:
            return None
        try:
            module = cst.parse_module(text)
        except cst.ParserSyntaxError:
            # CPython's own parser names the line exactly; code it accepts but libcst cannot
            # read is skipped, not blamed.
            try:
                ast.parse(text)
            except SyntaxError as exc:
                return (exc.lineno or 0, exc.msg)
            return None
        wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
        return Parsed(module, wrapper.resolve(PositionProvider))

    return ctx.cached(("cst", side, path), compute)
