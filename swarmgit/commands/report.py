"""`git swarm report [TRACK] --html FILE`: the run as one self-contained HTML page."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from swarmgit.engine.run_report import write_report
from swarmgit.engine.workspace import Workspace, resolve_track
from swarmgit.store.state import Store

Echo = Callable[[str], None]


def announce(ws: Workspace, track: str, echo: Echo) -> None:
    """Write the track's run report beside iosm_report.md and say where it is."""
    with Store.open(ws.common_dir, ws.secrets) as store:
        written = write_report(ws, store, track)
    echo(f"run report: {written.relative_to(ws.root)}")


def report(ws: Workspace, track: str | None, html_file: Path | None, echo: Echo) -> int:
    track_id = resolve_track(ws, track)
    with Store.open(ws.common_dir, ws.secrets) as store:
        written = write_report(ws, store, track_id, html_file)
    echo(f"run report: {written}")
    return 0
