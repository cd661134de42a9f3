"""Helpers of the real-CLI suite (`pytest -m real_cli`, `make test-real`): the agent CLIs as
`make agents` installs them (pinned, under .agents/), never skipped when missing, run by
`git swarm implement` against the local model server of the test."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

from swarmgit.config import Config
from tests.gitutil import git
from tests.swarmrepo import swarm_process, task_md, track_repo

FILES = {"README.md": "# demo\n", "src/app.py": "ANSWER = 41\n", "docs/guide.md": "# Guide\n"}
FIX = task_md("T01", "Fix the answer", touches="`src/`")
PARALLEL = {tid: f"src/{tid.lower()}.py" for tid in ("T01", "T02", "T03")}  # each task's own file
PARALLEL_PLAN = "".join(
    task_md(tid, f"Add {tid.lower()}", touches=f"`{path}`") for tid, path in PARALLEL.items()
)
AGENTS = Path(__file__).resolve().parents[2] / ".agents"
_BINS = {"aider": AGENTS / "aider-venv" / "bin"}


def agent_bin(name: str) -> Path:
    """The installed executable `name`; fails the test (not a skip) when it is missing."""
    path = _BINS.get(name, AGENTS / "node_modules" / ".bin") / name
    if not os.access(path, os.X_OK):
        pytest.fail(f"{name} is not installed at {path}: run `make agents`", pytrace=False)
    return path


def use_cli(monkeypatch: pytest.MonkeyPatch, name: str, env: dict[str, str]) -> None:
    """Put the installed `name` first on PATH and set `env`, for the `git swarm` processes.
    The test's HOME gets a git identity, as a user's has (aider writes a placeholder one into
    the repository's config when there is none, racing its parallel runs)."""
    (Path.home() / ".gitconfig").write_text(
        "[user]\n\tname = Swarm Test\n\temail = test@swarmgit.invalid\n", encoding="utf-8"
    )
    monkeypatch.setenv("PATH", f"{agent_bin(name).parent}{os.pathsep}{os.environ['PATH']}")
    for key, value in env.items():
        monkeypatch.setenv(key, value)


def swarm_config(preset: str, worktrees: Path, parallel: int = 1, gates: str = "") -> str:
    """A .swarm.toml running `preset` with worktrees under `worktrees` (outside .git)."""
    return f"""\
[agent]
backend = "command"
command = "{preset}"
timeout_minutes = 5
kill_grace_seconds = 5
[concurrency]
max_parallel = {parallel}
max_background = {parallel}
[gates]
threshold = 0.0
{gates}
[worktrees]
root = "{worktrees}"
"""


def cli_track(tmp_path: Path, plan: str, config: Callable[[Path], str]) -> tuple[Path, Path]:
    """(repository, worktrees): FILES and the track `plan` committed, `.swarm.toml` =
    `config(worktrees)`, the task worktrees going to tmp_path/worktrees (outside .git)."""
    worktrees = tmp_path / "worktrees"
    return track_repo(tmp_path / "r", plan, files=FILES, config=config(worktrees)), worktrees


def implement_apart(repo: Path, files: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
    """Run `git swarm implement t` and check that it succeeded, each task's branch changed
    only its own file (`files[task]`) and main holds them all; returns the run."""
    base = git(repo, "rev-parse", "main").stdout.strip()
    done = swarm_process(repo, "implement", "t")
    assert done.returncode == 0, output(done)
    for tid, path in files.items():
        assert git(repo, "diff", "--name-only", base, f"swarm/t/{tid}").stdout.split() == [path]
        assert git(repo, "cat-file", "-e", f"main:{path}", check=False).returncode == 0, path
    return done


def status_json(repo: Path, track: str = "t") -> dict[str, Any]:
    done = swarm_process(repo, "status", track, "--json")
    assert done.returncode == 0, done.stderr
    data: dict[str, Any] = json.loads(done.stdout)
    return data


def table_price(model: str, input_tokens: int, output_tokens: int) -> float:
    """USD for the tokens at the bundled [pricing] table's price of `model`, by hand."""
    price = Config().pricing[model]
    return (input_tokens * price.input + output_tokens * price.output) / 1e6


def output(done: subprocess.CompletedProcess[str]) -> str:
    return done.stdout + done.stderr


def files_containing(secret: str, *roots: Path) -> list[Path]:
    """Every file under `roots` whose bytes contain `secret`."""
    needle = secret.encode()
    return [
        path
        for root in roots
        for path in root.rglob("*")
        if path.is_file() and not path.is_symlink() and needle in path.read_bytes()
    ]
