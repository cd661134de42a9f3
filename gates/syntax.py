"""libcst parsing shared by the gates: one parse per (side, path) per GateContext, with line
positions, and the public definitions that Gate-I (docstrings) and Gate-S (API growth) judge.

A file is judged by CPython's parser first (`cpython_error`): what it rejects for good (null
bytes, a source that does not decode, nesting past its limits, a statement of more than
MAX_STATEMENT_TOKENS tokens) is a syntax error without asking libcst, which hangs or crashes on
such input; what it rejects otherwise goes to libcst, which reads newer syntax than the
running Python.

Public means: a module-level function or class whose name has no leading underscore, or such a
method of a public module-level class, in a module whose path has no `_private` component
(`__init__.py` and `__main__.py` are public). Dunder methods are protocol, not API.
"""

from __future__ import annotations

import ast
import io
import tokenize
from collections.abc import Mapping
from dataclasses import dataclass

import libcst as cst
from libcst.metadata import CodeRange, MetadataWrapper, PositionProvider

from swarmgit.gates.base import GateContext, Side

# CPython's limits (too many nested parentheses, indentation levels, ...; an int literal past
# the digits limit): newer versions keep them, and the other parsers crash or hang past them.
_LIMITS = ("too many", "Exceeds the limit")
# A file CPython rejects with a statement of more tokens than this is not read by libcst
# (quadratic in it: 6000 terms of `1+1+...` take 20 s) nor by grimp's scanner (which crashes
# on 100k): CPython's own limit on such a chain is about 3000 terms.
MAX_STATEMENT_TOKENS = 5_000
_LAYOUT = frozenset({tokenize.NL, tokenize.COMMENT, tokenize.INDENT, tokenize.DEDENT, tokenize.ENCODING})


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
    """The file parsed at that side; None when it is absent, binary, not valid Python or too
    large to analyse (`GateContext.too_large`: never read)."""
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


def _definition(parsed: Parsed, node: cst.FunctionDef | cst.ClassDef, qualname: str, kind: str) -> Definition:
    return Definition(qualname, kind, parsed.line(node.name), parsed.span(node), node)


def cpython_error(data: bytes) -> tuple[tuple[int, str], bool] | None:
    """CPython's verdict on a module's bytes: None when it parses, else ((line, message),
    final). `final` is True when no newer Python would accept the file either (null bytes, a
    source that does not decode, nesting or length past the parser's limits) and so no other
    parser must be tried on it: libcst and grimp's scanner hang or crash on such input."""
    try:
        ast.parse(data)
    except (RecursionError, MemoryError):
        return (0, "too deeply nested for Python's parser"), True
    except SyntaxError as exc:
        final = (
            b"\0" in data or exc.msg.startswith(_LIMITS) or not _decodes(data) or _has_long_statement(data)
        )
        return (exc.lineno or 0, exc.msg), final
    except ValueError as exc:  # null bytes, on some 3.11 releases
        return (0, str(exc)), True
    return None


def _has_long_statement(data: bytes) -> bool:
    """True when a statement (logical line) has more than MAX_STATEMENT_TOKENS tokens, as far
    as the tokenizer gets; it stops at the first."""
    count = 0
    try:
        for token in tokenize.tokenize(io.BytesIO(data).readline):
            if token.type in (tokenize.NEWLINE, tokenize.ENDMARKER):
                count = 0
            elif token.type not in _LAYOUT:
                count += 1
                if count > MAX_STATEMENT_TOKENS:
                    return True
    except (tokenize.TokenError, SyntaxError):
        pass
    return False


def _decodes(data: bytes) -> bool:
    """True when the source decodes in the encoding it declares (UTF-8 by default)."""
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        data.decode(encoding)
    except (SyntaxError, LookupError, UnicodeDecodeError):
        return False
    return True


def _out_of_recursion(exc: BaseException | None) -> bool:
    """True when a RecursionError is behind `exc` (libcst's clean-up raises KeyError over it)."""
    while exc is not None:
        if isinstance(exc, RecursionError):
            return True
        exc = exc.__context__
    return False


def _parse_outcome(ctx: GateContext, side: Side, path: str) -> Parsed | tuple[int, str] | None:
    def compute() -> Parsed | tuple[int, str] | None:
        if ctx.blob_id(side, path) is None or ctx.too_large(side, path):
            return None
        verdict = cpython_error(ctx.blob_data(side, path))
        if verdict is not None and verdict[1]:
            return verdict[0]
        text = ctx.text(side, path)
        if text is None:
            return None
        try:
            module = cst.parse_module(text)
            positions = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
        except Exception as exc:
            if not isinstance(exc, cst.ParserSyntaxError) and not _out_of_recursion(exc):
                raise
            # CPython's own parser names the line exactly; code it accepts but libcst cannot
            # read (or nests deeper than libcst's recursion reaches: a long `a + b + ...`) is
            # skipped, not blamed.
            return None if verdict is None else verdict[0]
        return Parsed(module, positions)

    return ctx.cached(("cst", side, path), compute)
