"""Stand-in agents (real processes) and the helpers the backend tests share."""

from __future__ import annotations

import shlex
import sys
import time
from pathlib import Path

from swarmgit.backends.base import AgentJob
from swarmgit.config import Config
from swarmgit.domain.plan import Task

AGENTS = Path(__file__).parent


def standin(name: str) -> str:
    """A shell command running the stand-in `name` (claude, codex, aider) with this Python."""
    return f"{shlex.quote(sys.executable)} {shlex.quote(str(AGENTS / f'{name}.py'))}"


def fake_cli(bin_dir: Path, name: str) -> Path:
    """An executable called `name` in bin_dir that runs the stand-in of the same name."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    exe = bin_dir / name
    exe.write_text(f'#!/bin/sh\nexec {standin(name)} "$@"\n', encoding="utf-8")
    exe.chmod(0o755)
    return exe


def make_job(
    tmp_path: Path,
    worktree: Path,
    task: Task,
    config: Config,
    env: dict[str, str] | None = None,
    brief: str = "Do the task.",
    budget_usd: float | None = None,
) -> AgentJob:
    """A job for `task` in `worktree`, with its brief, report and log under tmp_path/run."""
    run = tmp_path / "run"
    run.mkdir(parents=True, exist_ok=True)
    brief_file = run / "brief.md"
    brief_file.write_text(brief, encoding="utf-8")
    report_file = run / "reports" / f"{task.id}.md"
    report_file.parent.mkdir(exist_ok=True)
    return AgentJob(
        track="demo",
        task=task,
        worktree=worktree,
        brief_file=brief_file,
        report_file=report_file,
        shared_context=run / "shared_context.md",
        log_file=run / "logs" / f"{task.id}.log",
        env={"SWARM_TASK": task.id, "SWARM_REPORT": str(report_file), **(env or {})},
        config=config,
        model="claude-sonnet-5-5",
        budget_usd=budget_usd,
    )


def alive(pid: int, settle_s: float = 5.0) -> bool:
    """Whether process `pid` still runs (not gone, not a zombie) after up to `settle_s`: a killed
    process closes its files before it turns zombie, so it may look running for a moment."""
    deadline = time.monotonic() + settle_s
    while _running(pid) and time.monotonic() < deadline:
        time.sleep(0.01)
    return _running(pid)


def _running(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"
