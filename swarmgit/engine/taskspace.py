"""A task's workspace: its branch, its worktree, its start point, its environment.

Start point = the track's base merged (in memory) with the final commits of the task's
finished dependencies and of every finished task it was lock-ordered after. A conflict there
blocks the task, naming the paths and tasks.
"""
from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pygit2

from swarmgit.domain.plan import Task
from swarmgit.engine.workspace import Workspace
from swarmgit.errors import UsageError, WorkFailed
from swarmgit.gitops import repo as gitrepo
from swarmgit.gitops.merge import fold_merge
from swarmgit.gitops.worktrees import create_task_worktree


def task_branch(track: str, task: str) -> str:
    return f"swarm/{track}/{task}"


WORKTREES_SUFFIX = ".swarm-worktrees"


def default_worktrees_root(common_dir: Path) -> Path:
    """`<parent>/<repo>.swarm-worktrees`, next to the repository's main working tree (for a
    bare repository, next to it): outside `.git`, where agent CLIs refuse to edit, and outside
    the user's working tree, so their test runner, editor and search never walk into task
    copies; on the repository's own file system; the same from every worktree of the
    repository."""
    main = (gitrepo.main_workdir(common_dir) or common_dir).resolve()
    return main.parent / f"{main.name}{WORKTREES_SUFFIX}"


def worktrees_root(ws: Workspace) -> Path:
    """Where new task worktrees go: `worktrees.root` (relative to the repository), else the
    default beside the repository."""
    if not ws.config.worktrees.root:
        return default_worktrees_root(ws.common_dir)
    root = Path(ws.config.worktrees.root).expanduser()
    return root if root.is_absolute() else ws.root / root


def worktree_path(ws: Workspace, track: str, task: str, recorded: str | None = None) -> Path:
    """The task's worktree: the one recorded in the run state if it has one (runs started
    under another root keep their worktrees), else a new one under `worktrees_root`."""
    if recorded:
        return Path(recorded)
    return worktrees_root(ws) / track / task


def worktree_name(track: str, task: str) -> str:
    """git worktree names are single path components."""
    return f"swarm-{track}-{task}".replace("/", "-")


@dataclass(frozen=True)
class Prepared:
    branch: str
    worktree: Path
    start_commit: str


@dataclass(frozen=True)
class StartBlocked:
    reason: str


def merge_message(track: str) -> Callable[[str], str]:
    """One message for every swarm merge of a track. Start points and the integration fold
    the same commits with the same message, so the integration reuses (fast-forwards through)
    the start points' merge commits instead of making new ones (fold_merge is deterministic)."""
    return lambda label: f"swarm({track}): merge {label}"


def start_point(
    repo: pygit2.Repository, track: str, base: str, task: Task, sources: Sequence[tuple[str, str]]
) -> str | StartBlocked:
    """Fold the final commits of `sources` (task id, commit) into base; a conflict blocks."""
    result = fold_merge(repo, base, sources, merge_message(track))
    if result.conflict is not None:
        paths = ", ".join(result.conflict.paths)
        merged = ", ".join(result.merged) or "the base"
        return StartBlocked(
            f"start point conflict: merging {result.conflict.label} into {merged} conflicts in {paths}"
        )
    return result.commit


def prepare(
    ws: Workspace, repo: pygit2.Repository, track: str, task: Task, start: str,
    recorded: str | None = None,
) -> Prepared:
    """Create (or reuse, on resume) the task's branch at `start` and its linked worktree
    (at `recorded`, the path the run state holds, when there is one)."""
    branch = task_branch(track, task.id)
    path = worktree_path(ws, track, task.id, recorded)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise WorkFailed(f"cannot create {path.parent} ({exc.strerror}): set worktrees.root in "
                         ".swarm.toml to a folder you can write") from exc
    create_task_worktree(repo, name=worktree_name(track, task.id), path=path, branch=branch, start=start)
    copy_files(ws.root, path, ws.config.worktrees.copy_files)
    return Prepared(branch=branch, worktree=path, start_commit=start)


def copy_files(root: Path, worktree: Path, files: Sequence[str]) -> None:
    """Copy `worktrees.copy` files (untracked ones, like .env) from the main worktree into a
    task worktree that lacks them. Each must stay inside the worktree and be ignored by git
    there, else every task would commit it (a scope violation): UsageError naming the entry,
    and nothing copied."""
    for rel in files:
        if not (worktree / rel).resolve().is_relative_to(worktree.resolve()):
            raise UsageError(f"worktrees.copy: {rel!r} is outside the repository")
    pending = [rel for rel in files if (root / rel).is_file() and not (worktree / rel).exists()]
    checkout = pygit2.Repository(str(worktree))
    for rel in pending:
        if not checkout.path_is_ignored(rel):
            raise UsageError(f"worktrees.copy: {rel} is not ignored by git, so every task would commit "
                             "it outside its touches; add it to .git/info/exclude or .gitignore")
    for rel in pending:
        (worktree / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / rel, worktree / rel)


def task_port(ws: Workspace, index: int) -> int:
    """The first port of the task's own block: distinct per task of the plan."""
    block = ws.config.worktrees.port_block
    return ws.config.worktrees.port_base + index * block


def task_env(
    ws: Workspace, track: str, task: Task, worktree: Path, report: Path, port: int, brief: Path,
) -> dict[str, str]:
    """The environment an agent runs with: the user's, plus the SWARM_* variables
    (SWARM_BRIEF: the brief of this attempt, with the last failure's diagnosis on a retry)."""
    env = dict(os.environ)
    env.update(
        SWARM_TRACK=track,
        SWARM_TASK=task.id,
        SWARM_WORKTREE=str(worktree),
        SWARM_TOUCHES="\n".join(task.touches),
        SWARM_REPORT=str(report),
        SWARM_SHARED_CONTEXT=str(ws.track_dir(track) / "shared_context.md"),
        SWARM_PORT=str(port),
        SWARM_REPO_ROOT=str(ws.root),
    )
    if brief is not None:
        env["SWARM_BRIEF"] = str(brief)
    return env


def run_setup(commands: Sequence[str], worktree: Path, env: Mapping[str, str], timeout_s: float) -> str:
    """Run worktree setup commands in order; returns '' or a 'setup failed' diagnosis."""
    for command in commands:
        try:
            done = subprocess.run(
                command, shell=True, cwd=worktree, env=dict(env), capture_output=True,
                text=True, timeout=timeout_s, stdin=subprocess.DEVNULL,
            )
        except subprocess.TimeoutExpired:
            return f"setup failed: `{command}` timed out after {timeout_s:.0f}s"
        if done.returncode != 0:
            tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-15:])
            return f"setup failed: `{command}` exited {done.returncode}\n{tail}"
    return ""
