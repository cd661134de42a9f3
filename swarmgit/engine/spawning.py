"""Spawn candidates from reports into the plan, within the track's spawn budget.

The pure decision is `domain.spawn.decide_spawn`; this module records it: every
non-duplicate candidate is remembered in the store by dedup key (so duplicates are caught
across the whole track), spawned tasks are appended to plan.md, the rest wait in the queue
(`git swarm spawn list|accept|reject`).
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from swarmgit.domain.plan import Plan, Task
from swarmgit.domain.plan_render import append_tasks
from swarmgit.domain.report import Report, SpawnCandidate
from swarmgit.domain.spawn import decide_spawn
from swarmgit.engine.workspace import Workspace
from swarmgit.fsutil import write_atomic
from swarmgit.store.state import Store

SPAWNED = "spawned"
WAITING = "waiting"
QUEUED = "queued"
REJECTED = "rejected"

Event = Callable[[str, str, "str | None"], None]


def budget_left(ws: Workspace, store: Store, track: str) -> int:
    return max(0, ws.config.spawn.budget - len(store.candidates(track, SPAWNED)))


def save_report(path: Path, text: str) -> None:
    write_atomic(path, text)


def add_tasks_to_plan(ws: Workspace, track: str, tasks: list[Task]) -> None:
    path = ws.plan_path(track)
    write_atomic(path, append_tasks(path.read_text(encoding="utf-8"), tasks))


def take_candidates(
    ws: Workspace, store: Store, track: str, plan: Plan, reporter: Task, report: Report, event: Event
) -> bool:
    """Record a report's candidates; returns True when tasks were appended to plan.md."""
    if not report.candidates:
        return False
    seen = {c.dedup_key for c in store.candidates(track)}
    decision = decide_spawn(reporter.id, report.candidates, seen, budget_left(ws, store, track), plan.ids)
    by_key = {c.dedup_key.strip(): c for c in report.candidates}
    for task in decision.spawn:
        key = task.extra["Dedup key"]
        store.queue_candidate(track, key, by_key[key].model_dump_json(), SPAWNED)
        store.set_candidate_state(track, key, SPAWNED, task.id)
        event("spawned", f"{task.id} spawned from {reporter.id}: {task.title}", task.id)
    for state, held in ((WAITING, decision.wait_for_user), (QUEUED, decision.over_budget)):
        for item in held:
            store.queue_candidate(track, item.candidate.dedup_key.strip(), item.candidate.model_dump_json(), state)
            event("spawn-held", f"{item.candidate.id} from {reporter.id} waits ({item.reason}): "
                  f"{item.candidate.subtask}", reporter.id)
    for item in decision.duplicates:
        event("spawn-dup", f"{item.candidate.id} from {reporter.id} skipped: {item.reason}", reporter.id)
    if decision.spawn:
        add_tasks_to_plan(ws, track, list(decision.spawn))
    return bool(decision.spawn)


def candidate_from_payload(payload: str) -> SpawnCandidate:
    return SpawnCandidate.model_validate_json(payload)
