"""`git swarm demo`: a bundled example repo and track, run end to end, offline.

It builds a small Python service in DIR, then runs the real commands one after another as a
user would (each printed before it runs): init, new-track, plan check, simulate, graph,
implement (script agents in real worktrees, the real hook), status, and the task branches.
"""
from __future__ import annotations

import os
import shlex
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from importlib import resources
from importlib.abc import Traversable
from pathlib import Path

from swarmgit.errors import UsageError, WorkFailed

DEMO_TRACK = "demo"
Echo = Callable[[str], None]


def _copy_tree(source: Traversable, target: Path) -> None:
    for entry in source.iterdir():
        if entry.name == "__pycache__":
            continue
        if entry.is_dir():
            (target / entry.name).mkdir(exist_ok=True)
            _copy_tree(entry, target / entry.name)
        else:
            (target / entry.name).write_bytes(entry.read_bytes())


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True)


def _has_identity(repo: Path) -> bool:
    done = subprocess.run(["git", "var", "GIT_COMMITTER_IDENT"], cwd=repo, capture_output=True, text=True)
    return done.returncode == 0


def build_demo_repo(target: Path) -> Path:
    """The example service as a fresh repository with one commit, swarmgit initialised."""
    if target.exists() and any(target.iterdir()):
        raise UsageError(f"{target} is not empty: give `git swarm demo` a new or empty folder")
    target.mkdir(parents=True, exist_ok=True)
    demo = resources.files("swarmgit.templates").joinpath("demo-track")
    _copy_tree(demo.joinpath("repo"), target)
    _git(target, "init", "-q", "-b", "main")
    if not _has_identity(target):
        _git(target, "config", "user.name", "swarm demo")
        _git(target, "config", "user.email", "demo@swarmgit.invalid")
    _git(target, "add", "-A")
    _git(target, "commit", "-q", "-m", "weather-svc: forecasts by city")
    return target


def _step(echo: Echo, cwd: Path, argv: Sequence[str], ok_codes: Sequence[int] = (0,)) -> int:
    shown = " ".join(shlex.quote(a) for a in argv)
    echo(f"\n$ {shown}")
    command = [sys.executable, "-m", "swarmgit", *argv[2:]] if argv[:2] == ["git", "swarm"] else list(argv)
    env = dict(os.environ, COLUMNS=os.environ.get("COLUMNS", "100"))
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, env=env)
    for text in (done.stdout, done.stderr):
        if text.strip():
            echo(text.rstrip())
    if done.returncode not in ok_codes:
        raise WorkFailed(f"demo step failed (exit {done.returncode}): {shown}")
    return done.returncode


def run_demo(target: Path | None, echo: Echo) -> Path:
    """Build the demo repo and walk the whole workflow in it; returns the repo path."""
    repo = build_demo_repo(target or Path(tempfile.mkdtemp(prefix="swarm-demo-")))
    echo(f"demo repository: {repo}")
    _step(echo, repo, ["git", "swarm", "init"])
    config = repo / ".swarm.toml"
    config.write_text(
        config.read_text(encoding="utf-8").replace(
            'test_command = ""', f'test_command = "{sys.executable} -m pytest -q -p no:cacheprovider"'
        ),
        encoding="utf-8",
    )
    _step(echo, repo, ["git", "swarm", "new-track", "Add caching to forecast lookups", "--id", DEMO_TRACK, "--no-llm"])
    plan = resources.files("swarmgit.templates").joinpath("demo-track", "plan.md").read_text("utf-8")
    (repo / "swarm" / "tracks" / DEMO_TRACK / "plan.md").write_text(plan, encoding="utf-8")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "swarm: track demo")
    _step(echo, repo, ["git", "swarm", "plan", "check", DEMO_TRACK])
    _step(echo, repo, ["git", "swarm", "simulate", DEMO_TRACK, "--workers", "3"])
    _step(echo, repo, ["git", "swarm", "graph", DEMO_TRACK])
    _step(echo, repo, ["git", "swarm", "implement", DEMO_TRACK])
    _step(echo, repo, ["grep", "-A2", "not mine", f"swarm/tracks/{DEMO_TRACK}/logs/T06.log"])
    _step(echo, repo, ["git", "swarm", "status", DEMO_TRACK])
    _step(echo, repo, ["git", "log", "--oneline", "--graph", f"swarm/{DEMO_TRACK}/T03"])
    _step(echo, repo, ["git", "log", "--oneline", "-8", "main"])
    echo(f"\nDone. Look around in {repo}:")
    echo(f"  git -C {repo} log swarm/{DEMO_TRACK}/T03        # a task's branch")
    echo(f"  {repo}/swarm/tracks/{DEMO_TRACK}/iosm_state.md  # the run state")
    echo(f"  {repo}/swarm/tracks/{DEMO_TRACK}/iosm_report.md # gates and verdict")
    return repo

