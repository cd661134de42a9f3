"""What is uncommitted in a worktree, as the git CLI sees it, sparse worktrees included.

A sparse task worktree (`worktrees.checkout = "sparse"`) has only part of the tree on disk:
the other index entries carry git's skip-worktree bit. libgit2 ignores that bit (it would
call every absent file deleted), so swarmgit asks the git CLI, which honours it, and which
walks a large tree faster than libgit2 anyway. A worktree is sparse when its own git dir
holds `info/sparse-checkout` (per worktree in git; `worktrees.set_sparse` writes it);
swarmgit's git calls there pass `core.sparseCheckout=true`, so git also notices a file that
was written at a path outside the sparse set (it counts as modified, never hidden).
"""

from __future__ import annotations

import os
from pathlib import Path

from swarmgit.errors import WorkFailed
from swarmgit.gitops.safe_git import run_git_bytes

SPARSE_FILE = Path("info") / "sparse-checkout"


def own_git_dir(worktree: Path) -> Path | None:
    """The git dir a linked worktree's `.git` file names (None: not a linked worktree)."""
    try:
        pointer = (worktree / ".git").read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None
    if not pointer.startswith("gitdir:"):
        return None
    return worktree / pointer[len("gitdir:") :].strip()  # an absolute gitdir replaces worktree


def is_sparse(worktree: Path) -> bool:
    """Whether `worktree` is a sparse linked worktree (its git dir has sparse patterns)."""
    git_dir = own_git_dir(worktree)
    return git_dir is not None and (git_dir / SPARSE_FILE).is_file()


def sparse_option(worktree: Path) -> tuple[str, ...]:
    """The git options swarmgit's calls in `worktree` take: sparse checkout on in a sparse one."""
    return ("-c", "core.sparseCheckout=true") if is_sparse(worktree) else ()


def status_entries(worktree: Path, *, ignored: bool = False) -> list[bytes] | None:
    """`git status --porcelain -z` entries of `worktree` (`XY path`, no rename pairing), or
    None when git fails: untracked files one by one, or, with `ignored`, the ignored entries
    too and untracked folders as one entry each (the cheap answer to "anything at all?")."""
    listing = ("--ignored",) if ignored else ("--untracked-files=all",)
    done = run_git_bytes(
        worktree, *sparse_option(worktree), "status", "--porcelain", "-z", "--no-renames", *listing
    )
    if done.returncode != 0:
        return None
    return [entry for entry in done.stdout.split(b"\0") if entry]


def dirty_paths(worktree: Path) -> list[str]:
    """Paths with uncommitted changes in `worktree`: staged, unstaged, untracked (not ignored);
    files a sparse worktree leaves off disk are not changes. WorkFailed when git status fails."""
    entries = status_entries(worktree)
    if entries is None:
        raise WorkFailed(f"git status failed in {worktree}: is it still a worktree of this repository?")
    return sorted({os.fsdecode(entry[3:]) for entry in entries})
