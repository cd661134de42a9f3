"""`git swarm spawn list|accept|reject`: the candidates that wait for the user."""

from __future__ import annotations

from collections.abc import Callable

from swarmgit.domain.plan import Severity
from swarmgit.domain.spawn import CandidateState
from swarmgit.engine import spawning
from swarmgit.engine.track_run import claimed
from swarmgit.engine.workspace import Workspace, resolve_track
from swarmgit.errors import UsageError
from swarmgit.store.state import Store

Echo = Callable[[str], None]


def list_candidates(ws: Workspace, track: str | None, show_all: bool, echo: Echo) -> int:
    track_id = resolve_track(ws, track)
    with Store.open(ws.common_dir, ws.secrets) as store:
        rows = store.candidates(track_id)
    shown = [r for r in rows if show_all or r.state.undecided]
    if not shown:
        echo("no spawn candidates wait for you" if not show_all else "no spawn candidates yet")
    for row in shown:
        candidate = spawning.from_payload(row.payload)[1]
        flags = spawning.waiting_reason(row.payload) or ", ".join(
            f
            for f, on in (
                ("needs user input", candidate.user_input),
                ("critical", candidate.severity is Severity.CRITICAL),
            )
            if on
        )
        task = f" -> task {row.task_id}" if row.task_id else ""
        echo(
            f"{row.dedup_key}  [{row.state}{task}]  {candidate.subtask}  "
            f"({spawning.candidate_name(row.payload)}; "
            f"touches {', '.join(candidate.touches) or 'none'}{'; ' + flags if flags else ''})"
        )
    return 0


def decide(ws: Workspace, track: str | None, key: str, accept: bool, echo: Echo) -> int:
    track_id = resolve_track(ws, track)
    with claimed(ws, track_id) as store:
        if accept:
            task = spawning.accept(ws, store, track_id, key)
            runs = (
                f"it needs user input: `git swarm run {task.id} --track {track_id}` runs it with you"
                if task.needs_user_input
                else f"`git swarm implement {track_id}` runs it"
            )
            echo(f"accepted candidate {key!r}: task {task.id} added to plan.md; {runs}")
            return 0
        if not any(c.dedup_key == key and c.state.undecided for c in store.candidates(track_id)):
            raise UsageError(
                f"no waiting spawn candidate with key {key!r} in track {track_id} "
                f"(see `git swarm spawn list {track_id}`)"
            )
        store.set_candidate_state(track_id, key, CandidateState.REJECTED)
    echo(f"rejected {key}")
    return 0
