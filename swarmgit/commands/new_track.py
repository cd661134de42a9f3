"""`git swarm new-track`: a track folder with PRD.md, spec.md and plan.md from templates.

Templates come from `swarm/templates/<name>` in the repo when present (the user's override),
else from the package. They use `$title`, `$track` and `$date` placeholders.
"""
from __future__ import annotations

import datetime as dt
from importlib import resources
from pathlib import Path
from string import Template

from swarmgit.engine.workspace import Workspace, check_track_id, slugify
from swarmgit.errors import UsageError
from swarmgit.fsutil import write_atomic

TRACK_DOCUMENTS = ("PRD.md", "spec.md", "plan.md")
USER_TEMPLATES = Path("swarm") / "templates"


def _template(ws: Workspace, name: str) -> str:
    override = ws.root / USER_TEMPLATES / name
    if override.is_file():
        return override.read_text(encoding="utf-8")
    return resources.files("swarmgit.templates").joinpath(name).read_text("utf-8")


def new_track(ws: Workspace, title: str, track: str | None = None, today: dt.date | None = None) -> Path:
    """Create swarm/tracks/<id>/ with the three documents; refuses to overwrite a track."""
    if not title.strip():
        raise UsageError("the track needs a description, e.g. git swarm new-track \"Add Redis caching\"")
    track_id = check_track_id(track or slugify(title))
    folder = ws.track_dir(track_id)
    if folder.exists():
        raise UsageError(f"track {track_id!r} already exists at {folder}; pick another --id")
    values = {"title": title.strip(), "track": track_id, "date": (today or dt.date.today()).isoformat()}
    for name in TRACK_DOCUMENTS:
        write_atomic(folder / name, Template(_template(ws, name)).safe_substitute(values))
    write_atomic(folder / "shared_context.md", f"# Shared context: {values['title']}\n")
    return folder
