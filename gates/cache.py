"""Results the gates already computed, kept in `<git common dir>/swarm/cache/`.

Two kinds, both keyed by git tree ids (content, never commit ids or time):
- `tests`: one run of the test command on one tree (exit code, failing test ids, output tail),
  so the base's result is computed once per track and an unchanged head is never re-tested;
- `gates`: every gate's result for (base tree, head tree, gate config), so integrating an
  unchanged tree again costs nothing.
Entries are plain JSON (never code) written atomically; an unreadable or malformed entry is
a miss, and the value is computed again.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pygit2

from swarmgit.fsutil import write_atomic
from swarmgit.gitops.repo import common_dir

CACHE_DIR = ("swarm", "cache")


def cache_key(*parts: object) -> str:
    """A file-name-safe digest of `parts` (JSON-encoded, so order and types count)."""
    text = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:40]


def tree_id(repo: pygit2.Repository, commit: str) -> str:
    """The tree of a commit: what a cached result depends on."""
    return str(repo[commit].peel(pygit2.Tree).id)


class GateCache:
    """The cache folder of one repository (shared by its worktrees)."""

    def __init__(self, repo_path: Path) -> None:
        self.root = common_dir(pygit2.Repository(str(repo_path))).joinpath(*CACHE_DIR)

    def get(self, kind: str, key: str) -> dict[str, Any] | None:
        try:
            value = json.loads((self.root / kind / f"{key}.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return value if isinstance(value, dict) else None

    def put(self, kind: str, key: str, value: dict[str, Any]) -> None:
        try:
            write_atomic(self.root / kind / f"{key}.json", json.dumps(value, sort_keys=True))
        except OSError:
            pass  # a cache that cannot be written only costs a recomputation
