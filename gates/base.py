"""The gate interface: what a gate reads (GateContext, with the changed lines every gate judges
against) and what it returns (GateResult, Finding).

Modelled on import-linter's Contract: `evaluate` returns a result object and never renders;
rendering lives in `runner.py`. A gate is delta-aware: it reports what changed between `base`
and `head`, never debts `base` already had. Paths are repo-relative with `/` separators.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol, TypeVar

import pygit2
from pygit2.enums import DeltaStatus

from swarmgit.config import Gates
from swarmgit.errors import UsageError
from swarmgit.gates.blobcache import BlobCache
from swarmgit.gates.cache import GateCache
from swarmgit.gitops.diff import line_changes
from swarmgit.gitops.repo import REGULAR_FILE_MODES, resolve, tree_regular_files

Side = Literal["base", "head"]
TOO_LARGE = "too-large"  # the rule of the finding on a file past gates.max_file_bytes
TREE_LISTINGS = "files-v2"  # the cache kind of base's listings (regular files only)
SCORE_DIGITS = 4
T = TypeVar("T")

# What the .gitignore lines `test_*.py`, `*_test.py`, `conftest.py`, `tests/` and `test/`
# match: a path with such a component (a module named so, or a folder the path lies in).
_TEST_PATHS = re.compile(r"(?:^|/)(?:(?:test_[^/]*|[^/]*_test|conftest)\.py(?:/|$)|tests?/)")


@dataclass(frozen=True)
class Finding:
    """One problem at file:line (line 0 and file "" when it has no place, e.g. a test run)."""

    gate: str
    file: str
    line: int
    rule: str
    message: str

    @property
    def where(self) -> str:
        """`file:line`, or just the file, or "(repository)" when the finding has no place."""
        if not self.file:
            return "(repository)"
        return f"{self.file}:{self.line}" if self.line else self.file


@dataclass(frozen=True)
class GateResult:
    """A gate's verdict. `applies=False` leaves it out of the IOSM-Index; `score` is in [0, 1]."""

    key: str
    name: str
    applies: bool
    score: float
    metrics: dict[str, float | int | str]
    findings: tuple[Finding, ...]
    note: str = ""


@dataclass(eq=False)
class GateContext:
    """What a gate may read: both commits, the changed lines, the gate config.

    `changed_lines` maps every path changed between base and head (added, modified, renamed:
    the new path; deleted: the old path) to the head line numbers added or modified (empty for
    deletions and pure renames); `renames` maps a renamed file's head path to its base path.
    `cache_root` is the cache folder per-file results are kept in (None: kept for this context
    only); `close()` (or leaving the `with` block) writes the per-file results computed.
    The files a gate sees are the regular files of each side: a symlink (its blob is the link's
    target path, not source) or a submodule is absent from every listing and read here.
    """

    repo_path: Path
    base: str
    head: str
    changed_lines: Mapping[str, frozenset[int]]
    config: Gates
    renames: Mapping[str, str] = field(default_factory=dict)
    cache_root: Path | None = None
    sandbox: str = "auto"  # agent.sandbox: how Gate-O fences the test command (agent-written code)
    _repo: pygit2.Repository = field(init=False, repr=False)
    _memo: dict[Hashable, object] = field(init=False, repr=False, default_factory=dict)
    _listings: dict[Side, dict[str, pygit2.Oid]] = field(init=False, repr=False, default_factory=dict)
    _cleanup: contextlib.ExitStack = field(init=False, repr=False, default_factory=contextlib.ExitStack)

    def __post_init__(self) -> None:
        self._repo = pygit2.Repository(str(self.repo_path))

    @classmethod
    def between(
        cls,
        repo_path: Path,
        base: str,
        head: str,
        config: Gates,
        *,
        cached: bool = True,
        sandbox: str = "auto",
    ) -> GateContext:
        """A context for two revisions (any rev git understands), with the diff computed;
        per-file results are kept in the repository's gate cache unless `cached` is False."""
        base, head = resolve_commit(repo_path, base), resolve_commit(repo_path, head)
        changes = line_changes(pygit2.Repository(str(repo_path)), base, head)
        root = GateCache(repo_path).root if cached else None
        return cls(repo_path, base, head, changes.lines, config, changes.renames, root, sandbox)

    def __enter__(self) -> GateContext:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Write the per-file results computed (see `blob_cache`)."""
        self._cleanup.close()

    def commit(self, side: Side) -> pygit2.Commit:
        """The base or head commit."""
        obj = self._repo[self.base if side == "base" else self.head]
        assert isinstance(obj, pygit2.Commit)
        return obj

    def text(self, side: Side, path: str) -> str | None:
        """The file's text at that side; None when absent there, binary or `too_large`."""

        def compute() -> str | None:
            oid = self._blob_ids(side).get(path)
            if oid is None or self.too_large(side, path):
                return None
            blob = self._repo.get(oid)  # a submodule's commit is not in this repo
            if not isinstance(blob, pygit2.Blob):
                return None
            return None if blob.is_binary else blob.data.decode("utf-8", errors="replace")

        return self.cached(("text", side, path), compute)

    def blob_id(self, side: Side, path: str) -> str | None:
        """The id of the file's blob at that side; None when absent there."""
        oid = self._blob_ids(side).get(path)
        return None if oid is None else str(oid)

    def blob_data(self, side: Side, path: str) -> bytes:
        """The file's bytes at that side (empty when absent there, not a blob or `too_large`)."""
        oid = self._blob_ids(side).get(path)
        blob = None if oid is None or self.too_large(side, path) else self._repo.get(oid)
        return blob.data if isinstance(blob, pygit2.Blob) else b""

    def too_large(self, side: Side, path: str) -> str | None:
        """Why the file is not analysed when it is larger than gates.max_file_bytes (its size
        is read from the object's header, its content not at all), else None. A gate reads
        no such file: parsing one costs minutes."""

        def compute() -> str | None:
            oid = self._blob_ids(side).get(path)
            if oid is None:
                return None
            size = self._repo.odb.read_header(oid)[1]
            limit = self.config.max_file_bytes
            if size <= limit:
                return None
            return (
                f"too large to analyse: {size} bytes, limit {limit}; split it or raise gates.max_file_bytes"
            )

        return self.cached(("too-large", side, path), compute)

    def blob_cache(self, kind: str) -> BlobCache:
        """The per-blob entries of one kind (see blobcache.py), written on close."""

        def compute() -> BlobCache:
            cache = BlobCache(self.cache_root, kind)
            self._cleanup.callback(cache.flush)
            return cache

        return self.cached(("blob-cache", kind), compute)

    def tracked_files(self, side: Side = "head") -> tuple[str, ...]:
        """Every regular file's path in that side's tree, sorted."""
        return self.cached(("tracked", side), lambda: tuple(sorted(self._blob_ids(side))))

    def changed_files(self, suffix: str = "") -> tuple[str, ...]:
        """Changed paths that exist at head and end with `suffix`, sorted."""
        head = self._blob_ids("head")
        return tuple(p for p in sorted(self.changed_lines) if p in head and p.endswith(suffix))

    def cached(self, key: Hashable, compute: Callable[[], T]) -> T:
        """Memoise a derived value (a parse, a graph) for the life of this context."""
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]  # type: ignore[return-value]

    def _blob_ids(self, side: Side) -> dict[str, pygit2.Oid]:
        """Path -> blob id of every regular file at that side: base's listed once per tree (and
        kept in the cache), head's as base's updated by the diff between the two trees."""
        if side in self._listings:  # looked up once per file: kept cheap
            return self._listings[side]
        if side == "head":
            listed = _updated(self._blob_ids("base"), self.commit("base").tree, self.commit("head").tree)
        else:
            tree = self.commit(side).tree
            cache = GateCache(self.repo_path) if self.cache_root is not None else None
            found = _listing_from_json(cache.get(TREE_LISTINGS, str(tree.id))) if cache else None
            listed = tree_regular_files(self._repo, self.base) if found is None else found
            if cache is not None and found is None:
                cache.put(TREE_LISTINGS, str(tree.id), {p: str(o) for p, o in listed.items()})
        self._listings[side] = listed
        return listed


class Gate(Protocol):
    """One gate: `key` is I, O, M or S; `name` its word (Improve, Optimize, ...)."""

    key: str
    name: str

    def evaluate(self, ctx: GateContext) -> GateResult:
        """Judge head against base; never raise for problems in the analysed code."""
        ...


def _updated(
    listing: Mapping[str, pygit2.Oid], before: pygit2.Tree, after: pygit2.Tree
) -> dict[str, pygit2.Oid]:
    """The listing of `before` turned into that of `after` (renames are a removal and an
    addition here; a path that becomes a symlink or a submodule leaves the listing)."""
    updated = dict(listing)
    for delta in before.diff_to_tree(after).deltas:
        updated.pop(delta.old_file.path, None)
        if delta.status != DeltaStatus.DELETED and delta.new_file.mode in REGULAR_FILE_MODES:
            updated[delta.new_file.path] = delta.new_file.id
    return updated


def _listing_from_json(data: dict[str, object] | None) -> dict[str, pygit2.Oid] | None:
    """A cached tree listing; None (a miss) when it is not one."""
    if data is None or not all(isinstance(oid, str) for oid in data.values()):
        return None
    try:
        return {path: pygit2.Oid(hex=str(oid)) for path, oid in data.items()}
    except ValueError:
        return None


def scratch_root() -> str | None:
    """RAM-backed /dev/shm when usable, else the default temp folder: exports can be thousands
    of small files, and creating those on a disk-backed /tmp can take seconds."""
    shm = "/dev/shm"
    return shm if os.path.isdir(shm) and os.access(shm, os.W_OK) else None


def is_test_path(path: str) -> bool:
    """True for test modules and anything under a tests/ or test/ folder."""
    return _TEST_PATHS.search(path) is not None


def resolve_commit(repo_path: Path, rev: str) -> str:
    """The commit hex a revision names; UsageError when it names none or there is no repo."""
    try:
        repo = pygit2.Repository(str(repo_path))
    except pygit2.GitError as exc:
        raise UsageError(f"{repo_path} is not a git repository") from exc
    return resolve(repo, rev)


def toml_table(data: Mapping[str, object], *keys: str) -> dict[str, object]:
    """The table at `keys` in parsed TOML; {} when absent or not a table (a file of the wrong
    shape is the analysed code's problem, never the gate's)."""
    for key in keys:
        value = data.get(key)
        if not isinstance(value, dict):
            return {}
        data = value
    return dict(data)


def rounded(score: float) -> float:
    """A score as reported: SCORE_DIGITS decimals."""
    return round(score, SCORE_DIGITS)


def clamp(value: float) -> float:
    """Clip a score into [0, 1]."""
    return max(0.0, min(1.0, value))


def weighted(parts: Mapping[str, tuple[float, float]]) -> float:
    """Combine (weight, score) parts, renormalising over the parts present; 1.0 when none."""
    total = sum(weight for weight, _ in parts.values())
    if not total:
        return 1.0
    return clamp(sum(weight * score for weight, score in parts.values()) / total)


@dataclass
class Evidence:
    """What a gate gathers while it evaluates: findings, measured values, and its weighted
    parts as (weight, score); `result` turns them into the gate's GateResult."""

    findings: list[Finding] = field(default_factory=list)
    metrics: dict[str, float | int | str] = field(default_factory=dict)
    parts: dict[str, tuple[float, float]] = field(default_factory=dict)

    def result(
        self, key: str, name: str, *, applies: bool = True, note: str = "", score: float | None = None
    ) -> GateResult:
        """Score = the weighted parts unless given; findings and metrics as gathered."""
        value = weighted(self.parts) if score is None else score
        return GateResult(key, name, applies, rounded(value), self.metrics, tuple(self.findings), note)
