"""A process's own home: HOME, TMPDIR and the XDG folders in a scratch folder, so the tools an
agent (or the gates' test command) runs keep their state where the write fence allows, never in
the user's home, while git keeps the user's identity."""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from pathlib import Path


def own_home(scratch: Path, env: Mapping[str, str]) -> dict[str, str]:
    """HOME, TMPDIR and the XDG folders inside `scratch` (created), so an agent's tools keep
    their state there, where its write fence allows, and never in the user's home; git keeps
    the user's identity through GIT_CONFIG_GLOBAL."""
    home, tmp = scratch / "home", scratch / "tmp"
    dirs = {
        "HOME": home,
        "TMPDIR": tmp,
        "XDG_CONFIG_HOME": home / ".config",
        "XDG_CACHE_HOME": home / ".cache",
        "XDG_DATA_HOME": home / ".local" / "share",
    }
    for folder in dirs.values():
        if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
            clear_entry(folder)  # left by an earlier attempt: never create folders through it
        folder.mkdir(parents=True, exist_ok=True)
    own = {name: str(folder) for name, folder in dirs.items()}
    if "GIT_CONFIG_GLOBAL" not in env and (gitconfig := user_gitconfig(env)):
        own["GIT_CONFIG_GLOBAL"] = str(gitconfig)
    return own


def clear_entry(path: Path) -> Path:
    """Remove what `path` names in an agent-writable folder (file, symlink, folder, fifo), so
    the orchestrator's next write there creates a fresh file; returns `path`."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)
    return path


def user_gitconfig(env: Mapping[str, str]) -> Path | None:
    """The user's global git config file under `env`'s HOME (or XDG_CONFIG_HOME), so a process
    given a HOME of its own keeps the user's identity through GIT_CONFIG_GLOBAL."""
    home = Path(env.get("HOME") or Path.home())
    xdg = Path(env.get("XDG_CONFIG_HOME") or home / ".config")
    for candidate in (home / ".gitconfig", xdg / "git" / "config"):
        if candidate.is_file():
            return candidate
    return None
