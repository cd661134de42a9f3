"""Helpers of the real-CLI suite (`pytest -m real_cli`, `make test-real`): the agent CLIs as
`make agents` installs them (pinned, under .agents/), never skipped when missing."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

AGENTS = Path(__file__).resolve().parents[2] / ".agents"
_BINS = {"aider": AGENTS / "aider-venv" / "bin"}


def agent_bin(name: str) -> Path:
    """The installed executable `name`; fails the test (not a skip) when it is missing."""
    path = _BINS.get(name, AGENTS / "node_modules" / ".bin") / name
    if not os.access(path, os.X_OK):
        pytest.fail(f"{name} is not installed at {path}: run `make agents`", pytrace=False)
    return path


def path_with(name: str) -> str:
    """PATH with the folder of the installed `name` first."""
    return f"{agent_bin(name).parent}{os.pathsep}{os.environ['PATH']}"


def files_containing(secret: str, *roots: Path) -> list[Path]:
    """Every file under `roots` whose bytes contain `secret`."""
    needle = secret.encode()
    return [path for root in roots for path in root.rglob("*")
            if path.is_file() and not path.is_symlink() and needle in path.read_bytes()]
