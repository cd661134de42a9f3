"""Provenance of landed work: the commit messages the integration writes, with git trailers.

Every commit a track lands names its track and task(s) in trailers, so `git log
--format=%(trailers)` and `git blame` lead from a line to the task, its report and its cost.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Provenance:
    """Who and what produced one task's change. `reviewed_by` is empty until someone accepts it."""

    track: str
    task: str
    title: str
    touches: tuple[str, ...]
    agent: str
    models: tuple[str, ...]
    tokens: int
    cost_usd: float
    attempts: int
    reviewed_by: str = ""


def task_message(p: Provenance) -> str:
    """`<task>: <title>`, a blank line, then the Swarm-* trailers."""
    trailers = [
        ("Swarm-Track", p.track),
        ("Swarm-Task", p.task),
        ("Swarm-Touches", ", ".join(p.touches) or "read-only"),
        ("Swarm-Agent", p.agent),
        ("Swarm-Model", ", ".join(p.models) or "none"),
        ("Swarm-Tokens", str(p.tokens)),
        ("Swarm-Cost-USD", f"{p.cost_usd:.4f}"),
        ("Swarm-Attempts", str(p.attempts)),
    ]
    if p.reviewed_by:
        trailers.append(("Swarm-Reviewed-By", p.reviewed_by))
    return _message(f"{p.task}: {p.title}", [], trailers)


def squash_message(track: str, items: Sequence[Provenance]) -> str:
    """One message for a whole track: a line per task, then trailers naming every task and
    the summed tokens and cost."""
    trailers = [
        ("Swarm-Track", track),
        *[("Swarm-Task", p.task) for p in items],
        ("Swarm-Tokens", str(sum(p.tokens for p in items))),
        ("Swarm-Cost-USD", f"{sum(p.cost_usd for p in items):.4f}"),
    ]
    body = [f"- {p.task}: {_one_line(p.title)}" for p in items]
    return _message(f"swarm({track}): {len(items)} task(s)", body, trailers)


def _message(subject: str, body: list[str], trailers: list[tuple[str, str]]) -> str:
    parts = [_one_line(subject)]
    if body:
        parts.append("\n".join(body))
    parts.append("\n".join(f"{key}: {_one_line(value)}" for key, value in trailers))
    return "\n\n".join(parts) + "\n"


def _one_line(text: str) -> str:
    """Trailers and subjects are single lines: fold any line break into a space."""
    return " ".join(text.split())
