"""`git swarm review`, `accept` and `reject`: a swarm reviewed like a stack of pull requests."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from swarmgit.commands.show import show
from swarmgit.domain.integration import integration_order
from swarmgit.domain.plan import Status
from swarmgit.engine.review import accept, accepted_work, reject, reviewer_name
from swarmgit.engine.track_run import claimed
from swarmgit.engine.workspace import Workspace, resolve_track
from swarmgit.store.state import Store

Echo = Callable[[str], None]
Ask = Callable[[str], str]


def accept_tasks(
    ws: Workspace, track: str | None, tasks: Sequence[str], reviewer: str | None, echo: Echo
) -> int:
    track_id = resolve_track(ws, track)
    who = reviewer or reviewer_name(ws)
    with claimed(ws, track_id) as store:
        accept(store, track_id, tasks, who)
    echo(f"accepted {', '.join(tasks)} (Swarm-Reviewed-By: {who})")
    return 0


def reject_task(
    ws: Workspace, track: str | None, task: str, message: str, reviewer: str | None, echo: Echo
) -> int:
    track_id = resolve_track(ws, track)
    with claimed(ws, track_id) as store:
        rebased = reject(ws, store, track_id, task, message, reviewer or reviewer_name(ws))
    echo(f"rejected {task}: it goes back to todo with your words in its next brief")
    if rebased:
        echo(
            f"built on it, so re-based and run again: {', '.join(rebased)} "
            f"(their old branches are kept under refs/swarm/{track_id}/replaced/)"
        )
    echo(f"`git swarm implement {track_id}` runs them")
    return 0


def review(ws: Workspace, track: str | None, reviewer: str | None, out: Echo, ask: Ask) -> int:
    """Walk the done tasks without a verdict on their current work, in integration order:
    show each, then accept (a), reject with a message (r), skip (s) or quit (q)."""
    track_id = resolve_track(ws, track)
    who = reviewer or reviewer_name(ws)
    with Store.open(ws.common_dir, ws.secrets) as store:
        rows = {row.id: row for row in store.tasks(track_id) if row.status == Status.DONE}
        done_already = accepted_work(store, track_id)
    order = [
        t
        for t in integration_order({t: (*r.deps, *r.after) for t, r in rows.items()})
        if t not in done_already
    ]
    if not order:
        out("nothing to review: every done task's work is accepted")
        return 0
    for position, task in enumerate(order, 1):
        with Store.open(ws.common_dir, ws.secrets) as store:
            row = store.task(track_id, task)
        if row is None or row.status != Status.DONE:
            continue  # re-based by an earlier rejection
        show(ws, task, track_id, out)
        answer = ask(f"[{position}/{len(order)}] {task}: (a)ccept, (r)eject, (s)kip, (q)uit?").strip().lower()
        if answer.startswith("a"):
            accept_tasks(ws, track_id, [task], who, out)
        elif answer.startswith("r"):
            reject_task(ws, track_id, task, ask("why (goes into its next brief)?"), who, out)
        elif answer.startswith("q"):
            break
    return 0
