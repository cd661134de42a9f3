"""The user's repository as the commands see it: root, common dir, config, and its tracks.

Track documents live in `swarm/tracks/<id>/` (PRD.md, spec.md, plan.md, reports/, logs/,
shared_context.md, iosm_state.md, iosm_report.md).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from swarmgit.config import Config, load_config
from swarmgit.domain.plan import Plan
from swarmgit.domain.plan_parser import MAX_PLAN_BYTES, parse_plan, too_large
from swarmgit.domain.secrets import NO_SECRETS, Secrets, secrets_from_env
from swarmgit.errors import Diagnostic, InvalidInput, UsageError
from swarmgit.fsutil import read_user_text
from swarmgit.gitops import repo as gitrepo

TRACKS_DIR = Path("swarm") / "tracks"
_SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9._-]*$")


@dataclass(frozen=True)
class Workspace:
    """`secrets`: the secret values of the orchestrator's environment, redacted from
    everything swarmgit writes or prints (`domain.secrets`)."""

    root: Path
    common_dir: Path
    config: Config
    secrets: Secrets = NO_SECRETS

    @property
    def tracks_dir(self) -> Path:
        return self.root / TRACKS_DIR

    def track_dir(self, track: str) -> Path:
        return self.tracks_dir / track

    def plan_path(self, track: str) -> Path:
        return self.track_dir(track) / "plan.md"


def open_workspace(cwd: Path | None = None) -> Workspace:
    """The repository containing cwd (exit 2 outside a git repo) and its config."""
    repo = gitrepo.discover(cwd or Path.cwd())
    root = gitrepo.workdir(repo)
    return Workspace(
        root=root,
        common_dir=gitrepo.common_dir(repo),
        config=load_config(root),
        secrets=secrets_from_env(os.environ),
    )


def slugify(text: str) -> str:
    """A track id from a description: lower-case words joined by dashes, at most 40 chars."""
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug[:40].rstrip("-") or "track"


def check_track_id(track: str) -> str:
    if not _SLUG_RE.match(track) or "/" in track:
        raise UsageError(f"bad track id {track!r}: use lower-case letters, digits, '.', '_' and '-'")
    return track


def list_tracks(ws: Workspace) -> list[str]:
    if not ws.tracks_dir.is_dir():
        return []
    return sorted(p.name for p in ws.tracks_dir.iterdir() if (p / "plan.md").is_file())


def resolve_track(ws: Workspace, track: str | None) -> str:
    """The named track, or the only one there is; exit 2 naming the choices otherwise."""
    tracks = list_tracks(ws)
    if track is None:
        if len(tracks) == 1:
            return tracks[0]
        if not tracks:
            raise UsageError('no tracks yet: create one with `git swarm new-track "<description>"`')
        raise UsageError(f"several tracks; name one of: {', '.join(tracks)}")
    if track not in tracks:
        known = f" (known: {', '.join(tracks)})" if tracks else ""
        raise UsageError(f"unknown track {track!r}: no {TRACKS_DIR / track / 'plan.md'}{known}")
    return track


def read_plan(ws: Workspace, track: str) -> tuple[Plan, str]:
    """The track's parsed plan and its text; malformed plans, and a plan with no task (nothing
    to check, simulate or run), raise InvalidInput (exit 2)."""
    path = ws.plan_path(track)
    shown = str(path.relative_to(ws.root))
    if (size := path.stat().st_size) > MAX_PLAN_BYTES:  # refused before it is read
        raise InvalidInput([too_large(shown, f"{size} bytes")])
    text = read_user_text(path, shown)
    plan = parse_plan(text, shown)
    if not plan.tasks:
        raise InvalidInput([Diagnostic(shown, None, NO_TASKS)])
    return plan, text


NO_TASKS = (
    "the plan has no task: a task is a line like `- [ ] **T01**: Add the cache service`, "
    "with its fields indented under it (`  - **Touches:** `src/cache.py``, "
    '`  - **Depends on:** none`); see "The plan format" in README.md'
)
