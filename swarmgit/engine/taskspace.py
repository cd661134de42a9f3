"""A task's workspace: its branch, its worktree, its start point, its environment.

Start point = the track's base merged (in memory) with the final commits of the task's
finished dependencies and of every finished task it was lock-ordered after. A conflict there
blocks the task, naming the paths and tasks.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pygit2

from swarmgit.backends.command import agent_caches
from swarmgit.domain.fence import Fence, setup_fence
from swarmgit.domain.plan import Status, Task
from swarmgit.domain.secrets import secrets_from_env
from swarmgit.engine.workspace import Workspace
from swarmgit.errors import UsageError, WorkFailed
from swarmgit.fsutil import read_agent_text
from swarmgit.gitops import repo as gitrepo
from swarmgit.gitops.merge import fold_merge
from swarmgit.gitops.worktrees import create_task_worktree, recycle_worktree
from swarmgit.process.home import clear_entry, own_home
from swarmgit.process.run import run_captured
from swarmgit.store.state import Store, TaskRow
from swarmgit.store.task_scope import task_branch

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


@dataclass(frozen=True)
class Prepared:
    """The task's branch, its worktree and start point; `recycled_from`: the finished task
    whose worktree it took over (that task's row must then forget it)."""

    branch: str
    worktree: Path
    start_commit: str
    recycled_from: str | None = None


@dataclass(frozen=True)
class StartBlocked:
    reason: str


def merge_message(track: str) -> Callable[[str], str]:
    """One message for every start-point merge of a track: with fold_merge deterministic, the
    same inputs give the same start point, so the integrator can recompute and compare it."""
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
    ws: Workspace,
    repo: pygit2.Repository,
    track: str,
    task: Task,
    start: str,
    recorded: str | None = None,
    pool: Sequence[tuple[str, str]] = (),
) -> Prepared:
    """Create (or reuse, on resume) the task's branch at `start` and its linked worktree
    (at `recorded`, the path the run state holds, when there is one). A task without one
    takes over a clean worktree from `pool` ((done task, folder) pairs, `worktree_pool`)
    when `worktrees.recycle` is on, else gets a new one. With `worktrees.checkout = "sparse"`
    a new or recycled worktree holds only the task's touches and context (`sparse_set`)."""
    branch = task_branch(track, task.id)
    path = worktree_path(ws, track, task.id, recorded)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise WorkFailed(
            f"cannot create {path.parent} ({exc.strerror}): set worktrees.root in "
            ".swarm.toml to a folder you can write"
        ) from exc
    donor = None
    sparse = sparse_set(task) if ws.config.worktrees.checkout == "sparse" else None
    if ws.config.worktrees.recycle and not recorded and not path.exists():
        caches = agent_caches(ws.config)  # left untracked by `finalize`, removed on recycle
        donor = next(
            (
                done
                for done, folder in pool
                if recycle_worktree(
                    repo, Path(folder), path=path, branch=branch, start=start, sparse=sparse, caches=caches
                )
            ),
            None,
        )
    if donor is None:
        create_task_worktree(repo, path=path, branch=branch, start=start, sparse=sparse)
    copy_files(ws.root, path, ws.config.worktrees.copy_files)
    return Prepared(branch=branch, worktree=path, start_commit=start, recycled_from=donor)


def sparse_set(task: Task) -> tuple[str, ...]:
    """What a sparse worktree of `task` checks out: its touches, then its context paths."""
    return (*task.touches, *(c for c in task.context if c not in task.touches))


def worktree_pool(store: Store, track: str, rows: Iterable[TaskRow]) -> list[tuple[str, str]]:
    """(task, folder) of the done tasks whose worktree still exists: their work is committed
    on their branches, so their worktrees can serve new tasks (`recycle_worktree` checks each
    is clean before it takes it). A done task whose folder is gone forgets it: a crash cut a
    handover short after the move (the new task finds the worktree at its own folder)."""
    pool = []
    for row in rows:
        if row.status == Status.DONE and row.worktree:
            if Path(row.worktree).is_dir():
                pool.append((row.id, row.worktree))
            else:
                store.release_worktree(track, row.id)
    return pool


def copy_files(root: Path, worktree: Path, files: Sequence[str]) -> None:
    """Copy `worktrees.copy` files (untracked ones, like .env) from the main worktree into a
    task worktree that lacks them. Each must stay inside the worktree and be ignored by git
    there, else every task would commit it (a scope violation): UsageError naming the entry,
    and nothing copied."""
    for rel in files:
        if not (worktree / rel).resolve().is_relative_to(worktree.resolve()):
            raise UsageError(f"worktrees.copy: {rel!r} is outside the repository")
    pending = [rel for rel in files if (root / rel).is_file() and not (worktree / rel).exists()]
    if not pending:
        return
    checkout = pygit2.Repository(str(worktree))
    for rel in pending:
        if not checkout.path_is_ignored(rel):
            raise UsageError(
                f"worktrees.copy: {rel} is not ignored by git, so every task would commit "
                "it outside its touches; add it to .git/info/exclude or .gitignore"
            )
    for rel in pending:
        (worktree / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / rel, worktree / rel)


def task_port(ws: Workspace, index: int) -> int:
    """The first port of the task's own block: distinct per task of the plan."""
    block = ws.config.worktrees.port_block
    return ws.config.worktrees.port_base + index * block


def task_env(
    ws: Workspace,
    track: str,
    task: Task,
    worktree: Path,
    report: Path,
    port: int,
    brief: Path,
    scratch: Path | None = None,
) -> dict[str, str]:
    """The environment an agent runs with: the user's, plus the SWARM_* variables
    (SWARM_BRIEF: the brief of this attempt, with the last failure's diagnosis on a retry),
    plus, given the task's own `scratch` folder, its own HOME and TMPDIR there (`own_home`)
    and its own copy of the shared context (`notes_copy`)."""
    env = dict(os.environ)
    if scratch is not None:
        env.update(own_home(scratch, env))
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
    if scratch is not None:
        env["SWARM_SHARED_CONTEXT"] = str(notes_copy(ws.track_dir(track) / NOTES, scratch))
    return env


NOTES = "shared_context.md"


def notes_copy(shared: Path, scratch: Path) -> Path:
    """The task's own copy of the track's shared context, its SWARM_SHARED_CONTEXT: the agent
    reads it and appends its notes there (the track's file is outside its write fence);
    `take_notes` carries the notes over when it is done."""
    copy = clear_entry(scratch / NOTES)
    # O_EXCL: never written through a symlink an earlier attempt may have planted
    with os.fdopen(
        os.open(copy, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644), "w", encoding="utf-8"
    ) as handle:
        handle.write(read_agent_text(shared)[0])
    return copy


def take_notes(copy: Path, shared: Path, env: Mapping[str, str]) -> None:
    """Append to `shared` the lines the agent added to its `copy` (non-blank lines `shared`
    does not hold yet), secrets redacted. A copy the agent replaced by anything but a regular
    file (a symlink, a fifo) is ignored."""
    if copy == shared or copy.is_symlink() or not copy.is_file():
        return
    current = read_agent_text(shared)[0]
    known = set(current.splitlines())
    added = [line for line in read_agent_text(copy)[0].splitlines() if line.strip() and line not in known]
    if added:
        with shared.open("a", encoding="utf-8") as handle:
            handle.write(
                ("" if current.endswith("\n") or not current else "\n")
                + secrets_from_env(env).redact("\n".join(added))
                + "\n"
            )


def run_setup(
    commands: Sequence[str], worktree: Path, env: Mapping[str, str], timeout_s: float, fence: Fence | None
) -> str:
    """Run worktree setup commands in order, under the task's fence widened to its whole
    worktree (`setup_fence`) when it has one; returns '' or a 'setup failed' diagnosis."""
    fenced = None if fence is None else setup_fence(fence, str(worktree.resolve()))
    for command in commands:
        code, output = run_captured(command, worktree, timeout_s, env, fenced)
        if code is None:
            return f"setup failed: `{command}` timed out after {timeout_s:.0f}s"
        if code != 0:
            tail = "\n".join(output.strip().splitlines()[-15:])
            return f"setup failed: `{command}` exited {code}\n{tail}"
    return ""
