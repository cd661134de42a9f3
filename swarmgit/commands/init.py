"""`git swarm init`: .swarm.toml, swarm/tracks/, and the scope-enforcing pre-commit hook."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from swarmgit.config import CONFIG_FILE
from swarmgit.engine.workspace import TRACKS_DIR
from swarmgit.fsutil import write_atomic
from swarmgit.gitops import repo as gitrepo
from swarmgit.gitops.hook_install import install


def example_config() -> str:
    """The documented example config shipped with the package (every key, its default)."""
    return resources.files("swarmgit.templates").joinpath("swarm.example.toml").read_text("utf-8")


def init(cwd: Path) -> list[str]:
    """Set up swarmgit in the repository at cwd; returns one line per thing done or found.

    Idempotent: a second run changes nothing and says so.
    """
    root = gitrepo.workdir(gitrepo.discover(cwd))
    lines: list[str] = []
    config = root / CONFIG_FILE
    if config.exists():
        lines.append(f"{CONFIG_FILE} already exists (left as it is)")
    else:
        write_atomic(config, example_config())
        lines.append(f"wrote {CONFIG_FILE} (every key documented, with its default)")
    tracks = root / TRACKS_DIR
    if tracks.is_dir():
        lines.append(f"{TRACKS_DIR}/ already exists")
    else:
        tracks.mkdir(parents=True)
        lines.append(f"created {TRACKS_DIR}/")
    hook = install(root)
    chained = f" (your previous hook is kept as {hook.legacy.name} and still runs)" if hook.legacy else ""
    lines.append(f"pre-commit hook {hook.outcome}: {hook.hook}{chained}")
    return lines
