"""The run record: a small JSON blob a Ray worker pushes beside its task branch, in the same
atomic push, under `refs/swarm/<track>/runs/<task>/<run id>`.

It holds the attempt's outcome (ok, failure kind, diagnosis) and its token usage, so a re-run of
the attempt (Ray retried it after its worker died) that finds the branch already pushed reports
what the first run did and spent, never a free success. The remote is shared and agents may
reach it, so the head reads the record as untrusted input: bounded in size and entries, every
field type-checked, its commit the branch's; a record that fails any check is refused whole.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from swarmgit.backends.base import AgentOutcome, FailureKind, Usage
from swarmgit.errors import WorkFailed

MAX_BYTES = 16 * 1024
MAX_USAGE_ENTRIES = 64
MAX_TOKENS = 10**12  # per count: far above any real run, small enough to price safely
MAX_MODEL_CHARS = 200
MAX_DIAGNOSIS_CHARS = 4000
_TOKEN_FIELDS = ("input_tokens", "output_tokens", "cache_write_tokens", "cache_read_tokens")


def record_ref(track: str, task: str, run_id: str) -> str:
    return f"refs/swarm/{track}/runs/{task}/{run_id}"


def encode(run_id: str, commit: str, outcome: AgentOutcome) -> bytes:
    """The record of the run `run_id` that pushed `commit` and ended with `outcome`."""
    usage = [
        {
            "model": u.model[:MAX_MODEL_CHARS],
            "cost_usd": u.cost_usd,
            **{name: getattr(u, name) for name in _TOKEN_FIELDS},
        }
        for u in outcome.usage
    ]
    return json.dumps(
        {
            "run": run_id,
            "commit": commit,
            "ok": outcome.ok,
            "kind": outcome.kind.value if outcome.kind else None,
            "diagnosis": outcome.diagnosis[:MAX_DIAGNOSIS_CHARS],
            "usage": usage[:MAX_USAGE_ENTRIES],
        },
        sort_keys=True,
    ).encode("utf-8")


def decode(data: bytes, run_id: str, commit: str) -> AgentOutcome:
    """The outcome a record holds, if it is the record of run `run_id` pushing `commit`;
    WorkFailed saying what is wrong otherwise."""
    if len(data) > MAX_BYTES:
        raise WorkFailed(f"the run record of {run_id} is {len(data)} bytes (at most {MAX_BYTES})")
    try:
        record = json.loads(data.decode("utf-8"))
        if not isinstance(record, dict) or record.get("run") != run_id or record.get("commit") != commit:
            raise ValueError(f"it is not the record of run {run_id} pushing {commit}")
        ok, kind, diagnosis = record.get("ok"), record.get("kind"), record.get("diagnosis")
        if not isinstance(ok, bool) or not isinstance(diagnosis, str) or len(diagnosis) > MAX_DIAGNOSIS_CHARS:
            raise ValueError("bad ok or diagnosis")
        if (kind is None) != ok:
            raise ValueError("a failure kind must be given exactly when it failed")
        entries = record.get("usage")
        if not isinstance(entries, list) or len(entries) > MAX_USAGE_ENTRIES:
            raise ValueError("bad usage list")
        return AgentOutcome(
            ok=ok,
            kind=None if kind is None else FailureKind(kind),
            diagnosis=diagnosis,
            usage=tuple(_usage(entry) for entry in entries),
        )
    except (UnicodeDecodeError, ValueError) as exc:  # JSONDecodeError and a bad kind are ValueErrors
        raise WorkFailed(f"the run record of {run_id} is not valid: {exc}") from exc


def pushed_commit(data: bytes, run_id: str) -> str:
    """The commit the record says run `run_id` pushed, '' when it is not such a record (the
    worker's quick look; the head decodes the record in full)."""
    try:
        record = json.loads(data.decode("utf-8")) if len(data) <= MAX_BYTES else None
    except (UnicodeDecodeError, ValueError):
        return ""
    commit = record.get("commit") if isinstance(record, dict) and record.get("run") == run_id else None
    return commit if isinstance(commit, str) and re.fullmatch(r"[0-9a-f]{40}", commit) else ""


def _usage(entry: Any) -> Usage:
    if not isinstance(entry, dict) or set(entry) != {"model", "cost_usd", *_TOKEN_FIELDS}:
        raise ValueError("a usage entry has the wrong fields")
    model, cost = entry["model"], entry["cost_usd"]
    if not isinstance(model, str) or not 0 < len(model) <= MAX_MODEL_CHARS:
        raise ValueError("a usage entry has a bad model")
    if cost is not None and (
        isinstance(cost, bool)
        or not isinstance(cost, int | float)
        or not math.isfinite(cost)
        or not 0 <= cost <= MAX_TOKENS
    ):
        raise ValueError("a usage entry has a bad cost")
    counts = {name: entry[name] for name in _TOKEN_FIELDS}
    if any(
        isinstance(n, bool) or not isinstance(n, int) or not 0 <= n <= MAX_TOKENS for n in counts.values()
    ):
        raise ValueError("a usage entry has a bad token count")
    return Usage(model, **counts, cost_usd=None if cost is None else float(cost))
