"""Spawn candidates from reports into the plan, within the track's spawn budget.

The pure decision is `domain.spawn.decide_spawn`; this module records it: every
non-duplicate candidate is remembered in the store by dedup key (so duplicates are caught
across the whole track), spawned tasks are appended to plan.md, the rest wait in the queue
(`git swarm spawn list|accept|reject`).
"""

from __future__ import annotations

import json
import shlex
from pathlib import Path

from swarmgit.domain.events import EventSink
from swarmgit.domain.plan import Plan, Task
from swarmgit.domain.plan_render import append_tasks
from swarmgit.domain.report import Report, SpawnCandidate
from swarmgit.domain.spawn import (
    DEDUP_FIELD,
    CandidateState,
    accepted_task,
    candidate_label,
    decide_spawn,
    planned_touches,
)
from swarmgit.engine.workspace import Workspace, read_plan
from swarmgit.errors import UsageError
from swarmgit.fsutil import read_user_text, write_atomic
from swarmgit.store.state import Store


def budget_left(ws: Workspace, store: Store, track: str) -> int:
    return max(0, ws.config.spawn.budget - len(store.candidates(track, CandidateState.SPAWNED)))


def save_report(path: Path, text: str) -> None:
    write_atomic(path, text)


def add_tasks_to_plan(ws: Workspace, track: str, tasks: list[Task]) -> None:
    """Append the tasks to plan.md; what is appended is redacted of the secret values."""
    path = ws.plan_path(track)
    text = read_user_text(path)
    appended = append_tasks(text, tasks)[len(text) :]
    write_atomic(path, text + ws.secrets.redact(appended))


def take_candidates(
    ws: Workspace,
    store: Store,
    track: str,
    plan: Plan,
    reporter: Task,
    report: Report,
    event: EventSink,
    *,
    source: str = "",
) -> bool:
    """Record a report's candidates; returns True when tasks were appended to plan.md.
    `source` names where they come from in messages (default "<reporter>'s report")."""
    if not report.candidates:
        return False
    source = source or f"{reporter.id}'s report"
    seen = {c.dedup_key for c in store.candidates(track)}
    decision = decide_spawn(
        reporter.id, report.candidates, seen, budget_left(ws, store, track), plan.ids, planned_touches(plan)
    )

    def label(candidate: SpawnCandidate) -> str:
        number = next(n for n, c in enumerate(report.candidates, start=1) if c is candidate)
        return candidate_label(number, source)

    by_key: dict[str, SpawnCandidate] = {}
    for candidate in report.candidates:  # the first row of a key is the one spawned
        by_key.setdefault(candidate.dedup_key.strip(), candidate)
    for task in decision.spawn:
        key = task.extra[DEDUP_FIELD]
        named = label(by_key[key])
        store.queue_candidate(
            track, key, payload(reporter.id, by_key[key], label=named), CandidateState.SPAWNED
        )
        store.set_candidate_state(track, key, CandidateState.SPAWNED, task.id)
        event("spawned", f"task {task.id} spawned: {task.title} (from {named}, dedup key {key!r})", task.id)
    for state, held in (
        (CandidateState.WAITING, decision.wait_for_user),
        (CandidateState.QUEUED, decision.over_budget),
    ):
        for item in held:
            named = label(item.candidate)
            key = item.candidate.dedup_key.strip()
            store.queue_candidate(
                track, key, payload(reporter.id, item.candidate, item.reason, label=named), state
            )
            event(
                "spawn-held",
                f"{named} waits for you ({item.reason}): {item.candidate.subtask}\n"
                f"decide with `git swarm spawn accept {shlex.quote(key)}` or `... reject {shlex.quote(key)}`",
                reporter.id,
            )
    for item in decision.duplicates:
        event("spawn-dup", f"{label(item.candidate)} skipped: {item.reason}", reporter.id)
    if decision.spawn:
        add_tasks_to_plan(ws, track, list(decision.spawn))
    return bool(decision.spawn)


def payload(reporter: str, candidate: SpawnCandidate, reason: str = "", *, label: str = "") -> str:
    """What the queue keeps of a candidate: who reported it, the candidate itself, why it
    waits (if it does) and how messages name it (`candidate_label`)."""
    return json.dumps(
        {
            "reporter": reporter,
            "candidate": candidate.model_dump(mode="json"),
            "reason": reason,
            "label": label,
        }
    )


def from_payload(text: str) -> tuple[str, SpawnCandidate]:
    data = json.loads(text)
    return data["reporter"], SpawnCandidate.model_validate(data["candidate"])


def candidate_name(text: str) -> str:
    """How messages name the candidate in this payload (an older payload: by its reporter)."""
    data = json.loads(text)
    return str(data.get("label") or f"a candidate from {data['reporter']}")


def waiting_reason(text: str) -> str:
    """Why the candidate in this payload waits ('' when not recorded)."""
    return str(json.loads(text).get("reason", ""))


def accept(ws: Workspace, store: Store, track: str, dedup_key: str) -> Task:
    """The user accepts a waiting or queued candidate: it becomes a task now, whatever its
    user-input flag, severity or the budget (the user decided); it keeps its user-input flag
    (`domain.spawn.accepted_task`). An event records it."""
    row = next((c for c in store.candidates(track) if c.dedup_key == dedup_key), None)
    if row is None or not row.state.undecided:
        raise UsageError(f"no waiting spawn candidate with key {dedup_key!r} in track {track}")
    reporter, candidate = from_payload(row.payload)
    try:
        task = accepted_task(reporter, candidate, read_plan(ws, track)[0].ids)
    except ValueError as exc:
        raise UsageError(f"candidate {dedup_key!r} cannot become a task: bad touches: {exc}") from exc
    add_tasks_to_plan(ws, track, [task])
    store.set_candidate_state(track, dedup_key, CandidateState.SPAWNED, task.id)
    needs = "; it needs user input" if task.needs_user_input else ""
    store.add_event(
        track,
        "spawned",
        f"task {task.id} spawned: {task.title} (from "
        f"{candidate_name(row.payload)}, dedup key {dedup_key!r}, accepted by the user{needs})",
        task.id,
    )
    return task
