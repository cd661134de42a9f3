"""`git swarm new-track`: a track folder with PRD.md, spec.md and plan.md.

With `planning` given and `ANTHROPIC_API_KEY` set, the architect's model writes the three
documents (`swarmgit.engine.planner`); otherwise they come from templates:
`swarm/templates/<name>` in the repo when present (the user's override), else the package's,
with `$title`, `$track` and `$date` placeholders. The track folder appears whole or not at all:
its files are written into a hidden sibling folder that is then renamed into place.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from string import Template

from swarmgit.engine.planner import DEFAULT_ATTEMPTS, PlanRequest, TrackInfo, plan_track
from swarmgit.engine.repo_digest import read_digest, tracked_at_head
from swarmgit.engine.seed import Ask, Seed, answer_seed
from swarmgit.engine.workspace import Workspace, check_track_id, slugify
from swarmgit.errors import UsageError
from swarmgit.fsutil import read_user_text, write_atomic

TRACK_DOCUMENTS = ("PRD.md", "spec.md", "plan.md")
USER_TEMPLATES = Path("swarm") / "templates"
NO_KEY_NOTE = (
    "note: ANTHROPIC_API_KEY is not set, so the documents come from the offline templates; "
    "set it to have the model plan the track (or pass --no-llm to skip this note)"
)


@dataclass(frozen=True)
class Planning:
    """How to plan with the model. `ask` None takes the default answers (`--yes`, no terminal);
    `env` None reads the process environment."""

    seed: Seed = field(default_factory=Seed)
    ask: Ask | None = None
    env: Mapping[str, str] | None = None
    max_attempts: int = DEFAULT_ATTEMPTS
    api_retries: int = 2


def _template(ws: Workspace, name: str) -> str:
    override = ws.root / USER_TEMPLATES / name
    if override.is_file():
        return read_user_text(override, str(override.relative_to(ws.root)))
    return resources.files("swarmgit.templates").joinpath(name).read_text("utf-8")


def new_track(
    ws: Workspace,
    title: str,
    track: str | None = None,
    today: dt.date | None = None,
    *,
    planning: Planning | None = None,
    echo: Callable[[str], None] = lambda _: None,
) -> Path:
    """Create swarm/tracks/<id>/ with the three documents; refuses to overwrite a track.

    `planning` None writes the templates; otherwise the model plans when a key is set (else the
    templates, with a note through `echo`). Progress, cost and plan warnings go to `echo`.
    """
    if not title.strip():
        raise UsageError('the track needs a description, e.g. git swarm new-track "Add Redis caching"')
    track_id = check_track_id(track or slugify(title))
    folder = ws.track_dir(track_id)
    if folder.exists():
        raise UsageError(f"track {track_id!r} already exists at {folder}; pick another --id")
    info = TrackInfo(title.strip(), track_id, (today or dt.date.today()).isoformat())
    documents = _planned(ws, info, planning, echo) if planning else None
    if documents is None:
        values = {"title": info.title, "track": info.track, "date": info.date}
        documents = {name: Template(_template(ws, name)).safe_substitute(values) for name in TRACK_DOCUMENTS}
    _write_track(
        folder,
        {
            "shared_context.md": f"# Shared context: {info.title}\n",
            ".gitignore": (
                "# agents' raw output (may be large); reports/ and the state files are for review\nlogs/\n"
            ),
            **documents,
        },
    )
    return folder


def _planned(
    ws: Workspace, info: TrackInfo, planning: Planning, echo: Callable[[str], None]
) -> dict[str, str] | None:
    """The model's documents; None (after a note) when no API key is set."""
    env = os.environ if planning.env is None else planning.env
    if not env.get("ANTHROPIC_API_KEY"):
        echo(NO_KEY_NOTE)
        return None
    files = tracked_at_head(ws.root)
    seed = answer_seed(planning.seed, files, planning.ask)
    request = PlanRequest(info, seed, read_digest(ws.root, files, info.title))
    planned = plan_track(
        request,
        ws.config,
        env,
        max_attempts=planning.max_attempts,
        api_retries=planning.api_retries,
        progress=echo,
    )
    echo(planned.summary())
    for warning in planned.warnings:
        echo(f"warning: {warning}")
    return {"PRD.md": planned.prd, "spec.md": planned.spec, "plan.md": planned.plan}


def _write_track(folder: Path, documents: Mapping[str, str]) -> None:
    """All documents or none: written into a hidden sibling folder, renamed into place last.

    plan.md goes in last, so a staging folder a crash leaves behind holds a plan.md (and so
    lists as a track) only when the crash fell between that write and the rename.
    """
    staging = folder.parent / f".{folder.name}.{uuid.uuid4().hex[:8]}.tmp"
    staging.mkdir(parents=True)
    try:
        for name in sorted(documents, key=lambda n: n == "plan.md"):
            write_atomic(staging / name, documents[name])
        staging.rename(folder)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
