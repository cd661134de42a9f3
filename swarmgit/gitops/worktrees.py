"""One linked worktree per task: created on its branch, reused on resume, recycled from a
finished task when clean, never deleted live.

A worktree holding uncommitted changes (untracked files included, ignored ones not) or a
detached HEAD that no branch contains is never removed, and never recycled (the agent CLI's
own untracked caches, which the caller names, aside: they are removed on recycle). Worktrees are
found by folder (`registered_at`), not by name: a recycled one keeps the name git gave it.

A sparse worktree (`sparse` patterns given) has on disk only the paths its patterns match,
plus every .gitignore and .gitattributes: git's non-cone sparse checkout, set up per worktree
(the patterns in the worktree's own `info/sparse-checkout`, `core.sparseCheckout` passed on
swarmgit's own command lines). Nothing goes into the shared config: per-worktree config would
need `extensions.worktreeConfig` in `.git/config` and a `config.worktree` for the worktree,
both repository-wide files the tamper guard watches. The skip-worktree bits git sets in the
worktree's index carry the sparseness to every later git command there, the agent's `git
status`, `git add -A` and `git commit` included: absent files are not deletions.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pathspec
import pygit2
from pygit2.enums import CheckoutStrategy

from swarmgit.errors import WorkFailed
from swarmgit.fsutil import write_atomic
from swarmgit.gitops.diff import describe_paths
from swarmgit.gitops.refs import branch_tip, set_branch
from swarmgit.gitops.repo import common_dir, contains, current_branch
from swarmgit.gitops.safe_git import run_git_bytes
from swarmgit.gitops.status import SPARSE_FILE, dirty_paths, own_git_dir, status_entries, uncommitted

# Always on disk in a sparse worktree: what tells git and other tools (libgit2, ripgrep) what
# is ignored and how files are filtered.
SPARSE_ALWAYS = (".gitignore", ".gitattributes")


@dataclass(frozen=True)
class WorktreeInfo:
    """A linked worktree: its name (in `.git/worktrees/`), folder and branch (None: detached)."""

    name: str
    path: Path
    branch: str | None


def create_task_worktree(
    repo: pygit2.Repository, *, path: Path, branch: str, start: str, sparse: Sequence[str] | None = None
) -> Path:
    """A linked worktree at `path`, checked out on `branch`, which starts at `start`; with
    `sparse` (touch-style patterns), only what they match is checked out (`sparse_lines`).

    Created by `git worktree add` (through `safe_git`: no hook, fsmonitor or filter driver
    runs), which checks out faster than libgit2; git names it after the folder. A sparse one
    is added without a checkout, given its patterns, then checked out.
    Resumable: an existing `branch` is reused when it contains `start` (else WorkFailed, the
    branch is never moved), and the worktree registered at `path` is reused: on `branch`, or
    switched to it when it is clean (`switch_worktree`); one whose creation a crash cut short
    (no agent ever ran there) is made again.
    An existing non-empty folder at `path` that is not a worktree is a WorkFailed.
    Nothing at `path` (the usual case) goes straight to `git worktree add`, which refuses a
    path still registered; only then are the registrations read (one lookup per worktree).
    """
    _ensure_branch(repo, branch, start)
    lazy = () if sparse is None else ("--no-checkout",)
    if not os.path.lexists(path) and _add(repo, path, branch, lazy).returncode == 0:
        return _finish(path, branch, sparse)
    name = registered_at(repo, path)
    if name is not None:
        if _unfinished(repo, name):
            _discard(repo, name, path)
        elif path.exists():
            return _resume(repo, name, path, branch, sparse)
        elif repo.lookup_worktree(name).is_prunable:  # its folder is gone
            repo.lookup_worktree(name).prune(False)
    if path.exists() and not _clear_empty(path):
        if not _interrupted_creation(repo, path):
            raise WorkFailed(f"{path} already exists and is not a task worktree: move it away")
        # A crash cut the creation short before git registered it: keep the files, aside.
        path.rename(path.with_name(f"{path.name}.interrupted-{uuid.uuid4().hex[:8]}"))
    done = _add(repo, path, branch, lazy)
    if done.returncode != 0:
        raise WorkFailed(f"cannot create worktree at {path}: {os.fsdecode(done.stderr).strip()}")
    return _finish(path, branch, sparse)


def _add(
    repo: pygit2.Repository, path: Path, branch: str, options: Sequence[str]
) -> subprocess.CompletedProcess[bytes]:
    """`git worktree add` of `branch` at `path` (its parent folders made first)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    return _git(common_dir(repo), "worktree", "add", "--quiet", *options, str(path), branch)


def _finish(path: Path, branch: str, sparse: Sequence[str] | None) -> Path:
    """The worktree git has just added at `path`: a sparse one given its patterns and checked out."""
    if sparse is not None:
        git_dir = own_git_dir(path)  # as git has just written it: no agent has run there
        if git_dir is None:
            raise WorkFailed(f"git worktree add left no .git file in {path}")
        _checkout(path, git_dir, branch, sparse)
    return path


def sparse_lines(patterns: Sequence[str]) -> list[str]:
    """git's sparse-checkout lines (non-cone, gitignore syntax) for touch-style patterns:
    each anchored at the root, as the scope check reads them, plus `SPARSE_ALWAYS`."""
    return [*("/" + pattern for pattern in patterns), *SPARSE_ALWAYS]


def _checkout(path: Path, git_dir: Path, branch: str, sparse: Sequence[str] | None) -> None:
    """Check out `branch` in the worktree at `path` (its git dir `git_dir`: from git's
    registration, or from the `.git` file git has just written, never from one an agent could
    have rewritten): sparse with these patterns, or full (a sparse worktree is widened to the
    whole tree first, then made an ordinary one again)."""
    patterns = git_dir / SPARSE_FILE
    widen = sparse is None and patterns.is_file()
    if sparse is not None or widen:
        patterns.parent.mkdir(exist_ok=True)
        lines = ["/*"] if sparse is None else sparse_lines(sparse)
        write_atomic(patterns, "".join(f"{line}\n" for line in lines))
    option = ("-c", "core.sparseCheckout=true") if sparse is not None or widen else ()
    _git(path, *option, "checkout", "--quiet", branch, "--", failure=f"cannot check out {branch} in {path}")
    if widen:
        patterns.unlink()


def recycle_worktree(
    repo: pygit2.Repository,
    donor: Path,
    *,
    path: Path,
    branch: str,
    start: str,
    sparse: Sequence[str] | None = None,
    caches: Sequence[str] = (),
) -> bool:
    """Turn the clean linked worktree at `donor` (a finished task's) into `branch`'s worktree
    at `path`: moved there, its ignored files and agent caches removed, `branch` checked out
    (only the files that differ are written; the worktree keeps its own index), sparse with the
    `sparse` patterns or full (a donor of the other kind is switched over). `caches`: the
    gitignore-style patterns of the agent CLI's own files, which `commit_all` leaves untracked
    (an untracked entry they match counts as clean). False, and nothing changed, when `donor`
    is not a registered worktree, is locked, has a detached HEAD or holds any other uncommitted
    change (untracked files included), or when `path` is taken."""
    _ensure_branch(repo, branch, start)
    name = registered_at(repo, donor)
    if (
        name is None
        or path.exists()
        or (common_dir(repo) / "worktrees" / name / "locked").exists()
        or _branch_of(repo, name) is None
    ):
        return False
    ignored = _status(donor, caches)
    if ignored is None:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    if _git(common_dir(repo), "worktree", "move", str(donor), str(path)).returncode != 0:
        return False
    _switch(path, common_dir(repo) / "worktrees" / name, branch, ignored, sparse)
    return True


def switch_worktree(path: Path, git_dir: Path, branch: str, sparse: Sequence[str] | None = None) -> None:
    """Check out `branch` in the clean worktree `path` (sparse with `sparse` patterns, else
    full) and delete its ignored files, so nothing of what ran there before is left.
    WorkFailed, nothing changed, when the worktree holds uncommitted changes."""
    ignored = _status(path)
    if ignored is None:
        raise WorkFailed(
            f"worktree {path} has uncommitted changes (or git status failed there); "
            "commit or discard them, then resume"
        )
    _switch(path, git_dir, branch, ignored, sparse)


def _switch(path: Path, git_dir: Path, branch: str, ignored: list[str], sparse: Sequence[str] | None) -> None:
    if ignored:  # build output, caches, copied .env files: nothing of the task before stays
        # -x: ignored and untracked alike (the untracked ones are only agent caches, `_status`)
        _git(path, "clean", "-ffdxq", failure=f"cannot clear {path}")
    _checkout(path, git_dir, branch, sparse)


def registered_at(repo: pygit2.Repository, path: Path) -> str | None:
    """The name of the linked worktree git has registered at `path`, if any."""
    wanted = path.resolve()
    for name in repo.list_worktrees():
        if Path(repo.lookup_worktree(name).path).resolve() == wanted:
            return name
    return None


def _status(path: Path, caches: Sequence[str] = ()) -> list[str] | None:
    """The worktree's ignored entries and untracked ones matching the `caches` patterns, or
    None when it holds any other uncommitted change. An untracked folder is one entry: it
    passes only when the folder itself matches. The git CLI walks a large tree several times
    faster than libgit2."""
    entries = status_entries(path, refresh=True, ignored=True)
    if entries is None:
        return None
    spec = pathspec.GitIgnoreSpec.from_lines(caches)
    paths = [os.fsdecode(entry[3:]) for entry in entries]
    if any(
        not (entry.startswith(b"!! ") or (entry.startswith(b"?? ") and spec.match_file(found)))
        for entry, found in zip(entries, paths, strict=True)
    ):
        return None
    return paths


def _git(cwd: Path, *args: str, failure: str = "") -> subprocess.CompletedProcess[bytes]:
    """A safe git call; with `failure`, a non-zero exit is a WorkFailed with git's message."""
    done = run_git_bytes(cwd, *args)
    if failure and done.returncode != 0:
        raise WorkFailed(f"{failure}: {os.fsdecode(done.stderr).strip()}")
    return done


def _unfinished(repo: pygit2.Repository, name: str) -> bool:
    """`git worktree add` locks the worktree as "initializing" until its checkout is done: a
    lock still saying so means a crash cut the creation short, before any agent ran."""
    lock = common_dir(repo) / "worktrees" / name / "locked"
    try:
        return lock.read_text(encoding="utf-8").strip() == "initializing"
    except OSError:
        return False


def _discard(repo: pygit2.Repository, name: str, path: Path) -> None:
    """Remove a worktree whose creation never finished: its folder and its registration."""
    if path.exists():
        shutil.rmtree(path)
    shutil.rmtree(common_dir(repo) / "worktrees" / name)


def _interrupted_creation(repo: pygit2.Repository, path: Path) -> bool:
    """`path` holds a `.git` file naming a worktree of this repository that git does not know
    (it is in no worktree list): the leftover of a creation a crash interrupted."""
    target = own_git_dir(path)
    if target is None:
        return False
    return target.parent == common_dir(repo) / "worktrees" and target.name not in repo.list_worktrees()


@dataclass(frozen=True)
class CheckoutState:
    """The uncommitted changes of the worktree (`path`; None: checked out nowhere) that has a
    branch checked out: each dirty path -> its git status and the hash of its content."""

    path: Path | None
    dirty: Mapping[str, str]


def checkout_state(repo: pygit2.Repository, branch: str) -> CheckoutState:
    """What is uncommitted, right now, where `branch` is checked out (most often the user's
    own checkout): asked of `git status`, which walks a large tree faster than libgit2, with
    no optional lock taken (the index is never written: a git command the user runs at the
    same moment does not fail on index.lock). WorkFailed when git status fails there."""
    where = checked_out_at(repo, branch)
    if where is None:
        return CheckoutState(None, {})
    status = uncommitted(where, refresh=False)
    return CheckoutState(
        where, {path: f"{code}:{_content_id(where / path)}" for path, code in status.items()}
    )


def changed_since(before: CheckoutState, now: CheckoutState) -> list[str]:
    """Paths whose uncommitted state differs between two looks at a checkout (another
    checkout counts as all new)."""
    earlier = before.dirty if before.path == now.path else {}
    return sorted(p for p in {*earlier, *now.dirty} if earlier.get(p) != now.dirty.get(p))


def _content_id(path: Path) -> str:
    if path.is_symlink():
        return str(pygit2.hash(os.readlink(path)))
    if path.is_file():
        return str(pygit2.hashfile(str(path)))
    return "absent"


def remove_worktree(repo: pygit2.Repository, path: Path) -> None:
    """Delete the linked worktree at `path`, folder and registration; the branch is kept.

    WorkFailed, and nothing removed, when the folder holds uncommitted changes, has a
    detached HEAD no branch contains, or is not a registered worktree of `repo`.
    """
    name = registered_at(repo, path)
    if name is None:
        if path.exists():
            raise WorkFailed(f"{path} is not a worktree of this repository; not removing it")
        return
    if path.exists():
        _refuse_if_live(repo, path)
        shutil.rmtree(path)
    repo.lookup_worktree(name).prune(True)


def prune(repo: pygit2.Repository) -> list[str]:
    """Forget worktrees whose folder is gone (and that are not locked); returns their names."""
    pruned = []
    for name in repo.list_worktrees():
        worktree = repo.lookup_worktree(name)
        if worktree.is_prunable:
            worktree.prune(False)
            pruned.append(name)
    return pruned


def list_worktrees(repo: pygit2.Repository) -> list[WorktreeInfo]:
    """The linked worktrees (not the main one), by name."""
    return [
        WorktreeInfo(name, Path(repo.lookup_worktree(name).path), _branch_of(repo, name))
        for name in sorted(repo.list_worktrees())
    ]


def checked_out_at(repo: pygit2.Repository, branch: str) -> Path | None:
    """The folder of the worktree (main or linked) that has `branch` checked out, if any."""
    main = pygit2.Repository(str(common_dir(repo)))
    if main.workdir is not None and current_branch(main) == branch:
        return Path(main.workdir)
    for info in list_worktrees(repo):
        if info.branch == branch and info.path.exists():
            return info.path
    return None


def _ensure_branch(repo: pygit2.Repository, branch: str, start: str) -> None:
    tip = branch_tip(repo, branch)
    if tip is None:
        set_branch(repo, branch, start, expect=None, message=f"swarm: branch at {start[:12]}")
    elif not contains(repo, tip, start):
        raise WorkFailed(
            f"branch {branch} already exists at {tip[:12]}, which does not contain the task's "
            f"start point {start[:12]}; rename or delete that branch, then resume"
        )


def _resume(
    repo: pygit2.Repository, name: str, path: Path, branch: str, sparse: Sequence[str] | None
) -> Path:
    if not (common_dir(repo) / "worktrees" / name / "index").exists():
        # The index is written when checkout ends: without it, a crash interrupted the
        # checkout (no agent has run there yet), so finish it rather than commit the gaps.
        git_dir = common_dir(repo) / "worktrees" / name
        if sparse is not None or (git_dir / SPARSE_FILE).is_file():
            _checkout(path, git_dir, _branch_of(repo, name) or branch, sparse)
        else:  # pygit2 ships checkout_head without annotations.
            pygit2.Repository(str(path)).checkout_head(strategy=CheckoutStrategy.FORCE)  # type: ignore[no-untyped-call]
    checked_out = _branch_of(repo, name)
    if checked_out is None:
        raise WorkFailed(f"worktree {path} is on a detached HEAD, not {branch}")
    if checked_out != branch:
        # A crash between a recycled worktree's move and its checkout (or a branch switched
        # by hand): a clean worktree is switched over, one with changes refused.
        switch_worktree(path, common_dir(repo) / "worktrees" / name, branch, sparse)
    return path


def _branch_of(repo: pygit2.Repository, name: str) -> str | None:
    # The worktree's git dir opens even when its folder is gone.
    return current_branch(pygit2.Repository(str(common_dir(repo) / "worktrees" / name)))


def _refuse_if_live(repo: pygit2.Repository, path: Path) -> None:
    dirty = dirty_paths(path, refresh=False)  # removed next: no index worth refreshing
    if dirty:
        raise WorkFailed(
            f"worktree {path} has uncommitted changes ({describe_paths(dirty)}); "
            "commit or discard them, then remove it"
        )
    worktree = pygit2.Repository(str(path))
    if worktree.head_is_detached:
        head = str(worktree.head.target)
        if not any(contains(repo, tip, head) for tip in _branch_tips(repo)):
            raise WorkFailed(
                f"worktree {path} has a detached HEAD {head[:12]} that no branch contains; "
                "create a branch there first"
            )


def _branch_tips(repo: pygit2.Repository) -> list[str]:
    refs = (repo.references[name] for name in repo.references if name.startswith("refs/heads/"))
    return [str(ref.target) for ref in refs]


def _clear_empty(folder: Path) -> bool:
    """Remove `folder` if it is an empty directory; True when it no longer exists."""
    if folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()
    return not folder.exists()
