"""Test-only reference over touch lists, built from the domain's pairwise `conflicts`."""

from __future__ import annotations

from collections.abc import Sequence

from swarmgit.domain.touches import conflicts


def overlap(a: Sequence[str], b: Sequence[str]) -> tuple[str, str] | None:
    """The first pair (one touch of `a`, one of `b`) that conflicts, or None."""
    return next(((x, y) for x in a for y in b if conflicts(x, y)), None)
