"""`git swarm watch`: a live view of a track (tasks, elapsed, cost, locks, last events).

Reads the store only, so it works from another terminal while `implement` runs. Started
before the run, it waits for the run to begin; it ends when the run ends (no orchestrator
claim, nothing running) or on Ctrl-C.
"""

from __future__ import annotations

import time
from dataclasses import replace

from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from swarmgit.commands.status import TrackStatus, budget_warning, lock_cell, status_data
from swarmgit.domain.plan import Status
from swarmgit.engine.notify import NOTIFY_KINDS
from swarmgit.engine.workspace import Workspace, resolve_track
from swarmgit.store.state import EventRow, Store

STATUS_STYLE = {
    Status.DONE: "green",
    Status.RUNNING: "cyan",
    Status.FAILED: "red",
    Status.BLOCKED: "yellow",
    Status.NEEDS_INPUT: "magenta",
}
EVENTS_SHOWN = 8


def render(data: TrackStatus, events: list[EventRow]) -> Group:
    table = Table(title=f"track {data.track}", expand=False)
    for column in ("task", "status", "time", "cost", "locks", "note"):
        table.add_column(column)
    tasks = data.tasks
    for t in tasks:
        style = STATUS_STYLE.get(t.status, "")
        note = t.reason.splitlines()[0][:60] if t.reason else ""
        table.add_row(
            t.id, Text(t.status, style=style), t.duration or "-", f"${t.cost_usd:.2f}", lock_cell(t), note
        )
    done = sum(1 for t in tasks if t.status is Status.DONE)
    footer = Text(f"{done}/{len(tasks)} done · cost ${data.cost_usd:.2f} of ${data.budget_usd:.2f}")
    if data.budget_state != "ok":
        footer.append(f" · {budget_warning(data)}", style="bold yellow")
    if data.retired:
        footer.append(f" · retired (no longer in plan.md): {', '.join(t.id for t in data.retired)}")
    lines = [
        Text(
            f"{time.strftime('%H:%M:%S', time.localtime(e.ts))} {e.kind:<9} "
            f"{(e.message.splitlines() or [''])[0]}",
            no_wrap=True,
            overflow="ellipsis",
        )
        for e in events[-EVENTS_SHOWN:]
    ]
    if not tasks:
        footer = Text(f"no run yet: waiting for `git swarm implement {data.track}` (Ctrl-C to stop watching)")
    return Group(table, footer, Text("last events:", style="bold"), *lines)


def watch(ws: Workspace, track: str | None, interval: float, once: bool) -> int:
    track_id = resolve_track(ws, track)
    console = Console()

    seen = 0

    def frame() -> tuple[Group, bool, bool]:
        """The view, whether the run is still active, and whether an event since the last
        frame concerns the user (a bell)."""
        nonlocal seen
        data = status_data(ws, track_id)
        with Store.open(ws.common_dir, ws.secrets) as store:
            events = [
                replace(e, message=ws.secrets.redact(e.message))
                for e in store.events(track_id)[-EVENTS_SHOWN:]
            ]
            live = store.claimant(track_id) is not None
        running = any(t.status is Status.RUNNING for t in data.tasks)
        ring = any(e.kind in NOTIFY_KINDS for e in events if e.id > seen)
        seen = max((e.id for e in events), default=seen)
        return render(data, events), live or running, ring

    view, active, _ = frame()
    if once or not console.is_terminal:
        console.print(view)
        return 0
    with Live(view, console=console, refresh_per_second=4) as live:
        try:
            begun = active  # started before the run: wait for it, then follow it to its end
            while active or not begun:
                time.sleep(interval)
                view, active, ring = frame()
                begun = begun or active
                live.update(view)
                if ring:
                    console.bell()
        except KeyboardInterrupt:
            pass
    return 0
