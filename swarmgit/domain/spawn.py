"""Spawn rules: which of a report's candidates become plan tasks now, and which are held.

Each candidate, in report order, lands in exactly one bucket, checked in this order:
1. duplicate: its dedup key was already seen in the track, or earlier in the same report;
2. wait for the user: it needs user input, is of severity critical, has touches that do not
   normalise, or touches that do not lie inside the track's planned touches (`planned_touches`:
   what the tasks the user planned may touch; when unsure, not inside) (the reason says which);
3. over budget: the track's spawn budget is used up;
4. spawn: a new task SC-NN (numbered after the highest existing SC id), depending on the task
   that reported it, its dedup key kept in the task's fields so the plan remembers it.
A candidate the user accepts (`accepted_task`) becomes a task keeping its user-input flag.
A candidate's own `ID` column is local to its report (an agent may write SC-02 where the plan
has a task SC-02): messages name a candidate by its place in its report (`candidate_label`).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from enum import StrEnum

from swarmgit.domain.plan import (
    DEFAULT_EFFORT_MINUTES,
    ConcurrencyClass,
    Plan,
    Severity,
    Task,
    parse_effort,
)
from swarmgit.domain.report import SpawnCandidate
from swarmgit.domain.touches import contained, normalize_touch

DEDUP_FIELD = "Dedup key"
"""The plan field (kept among a task's unknown fields) holding a spawned task's dedup key."""

_SC_ID_RE = re.compile(r"^SC-(\d+)$")


class CandidateState(StrEnum):
    """Where a queued candidate stands (the run state's `candidates.state` column holds the
    value): it became a task, waits for the user (user input, critical, outside the plan's
    touches), waits for spawn budget, or the user rejected it."""

    SPAWNED = "spawned"
    WAITING = "waiting"
    QUEUED = "queued"
    REJECTED = "rejected"

    @property
    def undecided(self) -> bool:
        """Waits for the user's accept or reject."""
        return self in (CandidateState.WAITING, CandidateState.QUEUED)


@dataclass(frozen=True)
class Held:
    """A candidate that did not become a task now, and why."""

    candidate: SpawnCandidate
    reason: str


@dataclass(frozen=True)
class SpawnDecision:
    spawn: tuple[Task, ...]
    wait_for_user: tuple[Held, ...]
    duplicates: tuple[Held, ...]
    over_budget: tuple[Held, ...]


def decide_spawn(
    reporter: str,
    candidates: Sequence[SpawnCandidate],
    seen_keys: Collection[str],
    budget_left: int,
    existing_ids: Collection[str],
    planned: Sequence[str] | None = None,
) -> SpawnDecision:
    """Sort `reporter`'s candidates into spawn / wait / duplicate / over-budget (see module doc).
    `planned`: the track's planned touches; None (the user accepts) skips that rule."""
    spawn: list[Task] = []
    wait: list[Held] = []
    dupes: list[Held] = []
    over: list[Held] = []
    keys_here: set[str] = set()
    next_number = _next_sc_number(existing_ids)
    for candidate in candidates:
        key = candidate.dedup_key.strip()
        if duplicate := _duplicate(key, seen_keys, keys_here):
            dupes.append(Held(candidate, duplicate))
            continue
        keys_here.add(key)
        reason = _needs_user(candidate)
        touches: tuple[str, ...] = ()
        if not reason:
            try:
                touches = tuple(normalize_touch(t) for t in candidate.touches)
            except ValueError as exc:
                reason = f"bad touches: {exc}"
        if not reason and planned is not None:
            reason = _outside_plan(touches, planned)
        if reason:
            wait.append(Held(candidate, reason))
        elif len(spawn) >= budget_left:
            over.append(Held(candidate, "the track's spawn budget is used up"))
        else:
            task_id = _free_id(next_number, existing_ids)
            next_number = int(task_id[3:]) + 1
            spawn.append(_task(task_id, reporter, candidate, touches))
    return SpawnDecision(tuple(spawn), tuple(wait), tuple(dupes), tuple(over))


def candidate_label(number: int, source: str) -> str:
    """How every message names a candidate: its row number in `source` (e.g. "T03's report"),
    never its report-local id (which may equal a plan task's id)."""
    return f"candidate {number} of {source}"


def _duplicate(key: str, seen_keys: Collection[str], keys_here: Collection[str]) -> str:
    if key in seen_keys:
        return f"dedup key {key!r} already seen in this track"
    if key in keys_here:
        return f"dedup key {key!r} appears twice in this report"
    return ""


def _needs_user(candidate: SpawnCandidate) -> str:
    if candidate.user_input:
        return "needs user input"
    if candidate.severity is Severity.CRITICAL:
        return "severity critical"
    return ""


def planned_touches(plan: Plan) -> tuple[str, ...]:
    """The touches of the tasks the user planned (not spawned ones, which carry a dedup key)."""
    return tuple(
        dict.fromkeys(t for task in plan.tasks if DEDUP_FIELD not in task.extra for t in task.touches)
    )


def _outside_plan(touches: Sequence[str], planned: Sequence[str]) -> str:
    outside = [touch for touch in touches if not contained(touch, planned)]
    if not outside:
        return ""
    return (
        f"touches {', '.join(outside)} outside the track's planned touches ({', '.join(planned) or 'none'})"
    )


def _next_sc_number(existing_ids: Collection[str]) -> int:
    numbers = [int(m.group(1)) for i in existing_ids if (m := _SC_ID_RE.match(i))]
    return max(numbers, default=0) + 1


def _free_id(number: int, existing_ids: Collection[str]) -> str:
    while (task_id := f"SC-{number:02d}") in existing_ids:
        number += 1
    return task_id


def accepted_task(reporter: str, candidate: SpawnCandidate, existing_ids: Collection[str]) -> Task:
    """The task a candidate the user accepts becomes, whatever its user-input flag, severity or
    the budget (the user decided): it keeps both, so a task that needs user input still runs
    only with a person attached. Raises ValueError when its touches do not normalise."""
    touches = tuple(normalize_touch(t) for t in candidate.touches)
    return _task(_free_id(_next_sc_number(existing_ids), existing_ids), reporter, candidate, touches)


def _task(task_id: str, reporter: str, candidate: SpawnCandidate, touches: tuple[str, ...]) -> Task:
    try:
        effort = parse_effort(candidate.effort)
    except ValueError:
        effort = DEFAULT_EFFORT_MINUTES
    return Task(
        id=task_id,
        title=candidate.subtask,
        deps=(reporter,),
        touches=touches,
        concurrency=ConcurrencyClass.WRITE_LOCAL if touches else ConcurrencyClass.READ_ONLY,
        needs_user_input=candidate.user_input,
        effort_minutes=effort,
        severity=candidate.severity,
        acceptance=candidate.accept,
        extra={DEDUP_FIELD: candidate.dedup_key.strip()},
    )
