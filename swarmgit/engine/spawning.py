"""Spawn candidates from reports into the plan, within the track's spawn budget.

The pure decision is `domain.spawn.decide_spawn`; this module records it: every
non-duplicate candidate is remembered in the store by dedup key (so duplicates are caught
across the whole track), spawned tasks are appended to plan.md, the rest wait in the queue
(`git swarm spawn list|accept|reject`).
"""
from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from swarmgit.domain.plan import Plan, Severity, Task
from swarmgit.domain.plan_render import append_tasks
from swarmgit.domain.report import Report, SpawnCandidate
from swarmgit.domain.spawn import DEDUP_FIELD, decide_spawn, planned_touches
from swarmgit.engine.workspace import Workspace, read_plan
from swarmgit.errors import UsageError
from swarmgit.fsutil import read_user_text, write_atomic
from swarmgit.store.state import Store

SPAWNED = "spawned"
WAITING = "waiting"
QUEUED = "queued"
REJECTED = "rejected"
UNDECIDED = (WAITING, QUEUED)
"""States of the candidates that wait for the user's accept or reject."""

Event = Callable[[str, str, "str | None"], None]


def budget_left(ws: Workspace, store: Store, track: str) -> int:
    return max(0, ws.config.spawn.budget - len(store.candidates(track, SPAWNED)))


def save_report(path: Path, text: str) -> None:
    write_atomic(path, text)


def add_tasks_to_plan(ws: Workspace, track: str, tasks: list[Task]) -> None:
    """Append the tasks to plan.md; what is appended is redacted of the secret values."""
    path = ws.plan_path(track)
    text = read_user_text(path)
    appended = append_tasks(text, tasks)[len(text):]
    write_atomic(path, text + ws.secrets.redact(appended))


def take_candidates(
    ws: Workspace, store: Store, track: str, plan: Plan, reporter: Task, report: Report, event: Event
) -> bool:
    """Record a report's candidates; returns True when tasks were appended to plan.md."""
    if not report.candidates:
        return False
    seen = {c.dedup_key for c in store.candidates(track)}
    decision = decide_spawn(reporter.id, report.candidates, seen, budget_left(ws, store, track), plan.ids,
                            planned_touches(plan))
    by_key: dict[str, SpawnCandidate] = {}
    for candidate in report.candidates:  # the first row of a key is the one spawned
        by_key.setdefault(candidate.dedup_key.strip(), candidate)
    for task in decision.spawn:
        key = task.extra[DEDUP_FIELD]
        store.queue_candidate(track, key, payload(reporter.id, by_key[key]), SPAWNED)
        store.set_candidate_state(track, key, SPAWNED, task.id)
        event("spawned", f"{task.id} spawned from {reporter.id}: {task.title}", task.id)
    for state, held in ((WAITING, decision.wait_for_user), (QUEUED, decision.over_budget)):
        for item in held:
            store.queue_candidate(track, item.candidate.dedup_key.strip(),
                                  payload(reporter.id, item.candidate, item.reason), state)
            event("spawn-held", f"{item.candidate.id} from {reporter.id} waits ({item.reason}): "
                  f"{item.candidate.subtask}", reporter.id)
    for item in decision.duplicates:
        event("spawn-dup", f"{item.candidate.id} from {reporter.id} skipped: {item.reason}", reporter.id)
    if decision.spawn:
        add_tasks_to_plan(ws, track, list(decision.spawn))
    return bool(decision.spawn)


def payload(reporter: str, candidate: SpawnCandidate, reason: str = "") -> str:
    """What the queue keeps of a candidate: who reported it, the candidate itself, and why it
    waits (if it does)."""
    return json.dumps({"reporter": reporter, "candidate": candidate.model_dump(mode="json"), "reason": reason})


def from_payload(text: str) -> tuple[str, SpawnCandidate]:
    data = json.loads(text)
    return data["reporter"], SpawnCandidate.model_validate(data["candidate"])


def waiting_reason(text: str) -> str:
    """Why the candidate in this payload waits ('' when not recorded)."""
    return str(json.loads(text).get("reason", ""))


def accept(ws: Workspace, store: Store, track: str, dedup_key: str) -> Task:
    """The user accepts a waiting or queued candidate: it becomes a task now, whatever its
    user-input flag, severity or the budget (the user decided)."""
    row = next((c for c in store.candidates(track) if c.dedup_key == dedup_key), None)
    if row is None or row.state not in UNDECIDED:
        raise UsageError(f"no waiting spawn candidate with key {dedup_key!r} in track {track}")
    reporter, candidate = from_payload(row.payload)
    plan = read_plan(ws, track)[0]
    cleared = candidate.model_copy(update={"user_input": False, "severity": Severity.HIGH
                                           if candidate.severity is Severity.CRITICAL else candidate.severity})
    decision = decide_spawn(reporter, [cleared], (), 1, plan.ids)
    if not decision.spawn:
        reason = decision.wait_for_user[0].reason if decision.wait_for_user else "not spawnable"
        raise UsageError(f"candidate {dedup_key!r} cannot become a task: {reason}")
    task = decision.spawn[0]
    add_tasks_to_plan(ws, track, [task])
    store.set_candidate_state(track, dedup_key, SPAWNED, task.id)
    return task
