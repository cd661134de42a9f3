"""Per-file results keyed by git blob id, beside the whole-result cache of cache.py.

A gate that derives something from one file's content alone (Gate-I's clone fingerprints,
Gate-S's public API surface, Gate-M's imports) keeps it here, so a run on a tree that differs
from an earlier one in a few files recomputes only those. Entries are plain JSON values (never
code: the folder may be written by an unfenced agent), grouped in 256 shard files per kind,
`<cache>/blobs/<kind>/<first two hex digits of the key>.json`, each a JSON object key -> entry,
so a cold run over a large tree writes a few hundred files rather than one per file. A shard
that cannot be read is empty; an entry the caller cannot decode is a miss.
"""

from __future__ import annotations

import base64
import binascii
import json
from array import array
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from swarmgit.fsutil import write_atomic

SHARD_DIGITS = 2


class BlobCache:
    """One kind of per-blob entry; `root` None keeps nothing (the uncached path)."""

    def __init__(self, root: Path | None, kind: str) -> None:
        self.folder = None if root is None else root / "blobs" / kind
        self._shards: dict[str, dict[str, Any]] = {}
        self._added: dict[str, dict[str, Any]] = {}

    def get(self, key: str) -> Any | None:
        """The entry stored under `key` (which starts with a blob id), or None."""
        if self.folder is None:
            return None
        return self._shard(key[:SHARD_DIGITS]).get(key)

    def put(self, key: str, value: Any) -> None:
        """Keep an entry; it reaches the disk on `flush`."""
        if self.folder is None:
            return
        shard = key[:SHARD_DIGITS]
        self._shard(shard)[key] = value
        self._added.setdefault(shard, {})[key] = value

    def flush(self) -> None:
        """Write the shards that gained entries (merged with what another run wrote since)."""
        if self.folder is None:
            return
        for shard, added in self._added.items():
            path = self.folder / f"{shard}.json"
            merged = {**_read(path), **added}
            try:
                write_atomic(path, json.dumps(merged, separators=(",", ":")))
            except OSError:
                pass  # a cache that cannot be written only costs a recomputation
        self._added.clear()

    def _shard(self, shard: str) -> dict[str, Any]:
        if shard not in self._shards:
            assert self.folder is not None
            self._shards[shard] = _read(self.folder / f"{shard}.json")
        return self._shards[shard]


def _read(path: Path) -> dict[str, Any]:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def pack_ints(values: Sequence[int], typecode: str) -> str:
    """Integers as base64 of a machine array (compact, and fast to read back)."""
    return base64.b64encode(array(typecode, values).tobytes()).decode("ascii")


def unpack_ints(text: object, typecode: str) -> array[int]:
    """The integers `pack_ints` stored, as an array (no int object is made until one is read);
    ValueError (a miss) when `text` is not such a value."""
    if not isinstance(text, str):
        raise ValueError("not packed integers")
    values = array(typecode)
    values.frombytes(binascii.a2b_base64(text, strict_mode=True))  # binascii.Error: ValueError
    return values
