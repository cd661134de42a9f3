"""What is uncommitted in a worktree, as the git CLI sees it, sparse worktrees included.

A sparse task worktree (`worktrees.checkout = "sparse"`) has only part of the tree on disk:
the other index entries carry git's skip-worktree bit. libgit2 ignores that bit (it would
call every absent file deleted), so swarmgit asks the git CLI, which honours it, and which
walks a large tree faster than libgit2 anyway. A worktree is sparse when its own git dir
holds `info/sparse-checkout` (per worktree in git; `worktrees.set_sparse` writes it);
swarmgit's git calls there pass `core.sparseCheckout=true`, so git also notices a file that
was written at a path outside the sparse set (it counts as modified, never hidden).

`git status` refreshes the index's stat data when it can, holding `index.lock` meanwhile: a
git command someone runs in that worktree at that moment fails ("index.lock: File exists").
That is fine (and makes later calls faster) in a task worktree swarmgit owns, whose agent is
done; in the user's own checkout swarmgit only reads (`refresh=False`: git's
`--no-optional-locks`, the index file is never written).
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


def status_entries(worktree: Path, *, refresh: bool, ignored: bool = False) -> list[bytes] | None:
    """`git status --porcelain -z` entries of `worktree` (`XY path`, no rename pairing), or
    None when git fails: untracked files one by one, or, with `ignored`, the ignored entries
    too and untracked folders as one entry each (the cheap answer to "anything at all?").
    `refresh`: git may rewrite the index's stat data (only where swarmgit owns the worktree)."""
    listing = ("--ignored",) if ignored else ("--untracked-files=all",)
    locks = () if refresh else ("--no-optional-locks",)
    done = run_git_bytes(
        worktree, *locks, *sparse_option(worktree), "status", "--porcelain", "-z", "--no-renames", *listing
    )
    if done.returncode != 0:
        return None
    return [entry for entry in done.stdout.split(b"\0") if entry]


def uncommitted(worktree: Path, *, refresh: bool) -> dict[str, str]:
    """Each path with uncommitted changes in `worktree` -> its two-letter `git status` code
    (staged, unstaged, untracked not ignored; a rename is its deletion and its addition);
    files a sparse worktree leaves off disk are not changes. WorkFailed when git status fails.
    `refresh` as in `status_entries`."""
    entries = status_entries(worktree, refresh=refresh)
    if entries is None:
        raise WorkFailed(f"git status failed in {worktree}: is it still a worktree of this repository?")
    return {os.fsdecode(entry[3:]): entry[:2].decode("ascii", "replace") for entry in entries}


def dirty_paths(worktree: Path, *, refresh: bool) -> list[str]:
    """The paths `uncommitted` lists, sorted."""
    return sorted(uncommitted(worktree, refresh=refresh))
