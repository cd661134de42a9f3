"""The write fence of one agent, as a policy: which paths it may write, and whether it runs
fenced at all. Pure: the filesystem is seen through the `kind` callback the caller passes.

What a task may write in its worktree, from its touches (the exact check stays at commit):
- a folder touch (`docs/`): that folder (the caller creates it first: git shows no empty
  folders, so creating one changes nothing the task commits);
- a plain path that exists: that file or folder;
- a glob, or a path that does not exist yet: the nearest existing folder that contains every
  path it can match (the glob's literal prefix, or the path's parent), up to the worktree root.
Besides the worktree: the task's own scratch folder (report, HOME, TMPDIR) and the devices
every program expects to write (`DEVICES`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from swarmgit.domain.touches import WHOLE_REPO, literal_prefix

Kind = Literal["dir", "file"] | None
"""What a worktree-relative path is: a real folder, a real file, or None (missing, or reached
through a symlink: a fence never follows one)."""

DEVICES = ("/dev/null", "/dev/zero", "/dev/full", "/dev/tty", "/dev/ptmx", "/dev/pts", "/dev/shm")


class SandboxMode(StrEnum):
    AUTO = "auto"  # fence where the kernel can; otherwise run unfenced and say so
    REQUIRED = "required"  # never start an agent unfenced
    OFF = "off"


@dataclass(frozen=True)
class Fence:
    """What one agent's process tree may write: absolute paths (folders cover all below them).
    `required`: the launcher refuses to run the agent when it cannot apply the fence."""

    writable: tuple[str, ...]
    required: bool = False


@dataclass(frozen=True)
class FenceDecision:
    """For a whole run: fence the agents, or run them unfenced with a warning, or refuse."""

    fenced: bool
    warning: str = ""
    refusal: str = ""


def decide(mode: SandboxMode, unavailable: str) -> FenceDecision:
    """`unavailable`: why the kernel cannot fence ("" when it can)."""
    if mode is SandboxMode.OFF:
        return FenceDecision(fenced=False)
    if not unavailable:
        return FenceDecision(fenced=True)
    if mode is SandboxMode.REQUIRED:
        return FenceDecision(
            fenced=False,
            refusal=(
                f'agent.sandbox = "required" but the write fence is unavailable ({unavailable}); '
                'use a Linux kernel with Landlock (5.13+), or set agent.sandbox = "auto"'
            ),
        )
    return FenceDecision(
        fenced=False,
        warning=(
            f"agents run without the write fence: {unavailable}; a write outside a task's touches "
            "is only caught when its work is committed"
        ),
    )


def folders_to_create(touches: Sequence[str]) -> tuple[str, ...]:
    """The folder touches (`docs/`), without their slash: created before the agent starts."""
    return tuple(t.rstrip("/") for t in touches if t.endswith("/") and _is_literal(t))


def worktree_writable(touches: Sequence[str], kind: Callable[[str], Kind]) -> tuple[str, ...]:
    """The worktree-relative paths ("" is the worktree root) the fence lets a task write, none
    below another; empty for a read-only task."""
    anchors = {_anchor(touch, kind) for touch in touches}
    return tuple(sorted(a for a in anchors if not any(_below(a, other) for other in anchors)))


def setup_fence(fence: Fence, worktree: str) -> Fence:
    """The fence of a task's setup commands (`worktrees.setup`): its agent's, with the whole
    worktree writable, since setup installs dependencies there; what lands is still judged by
    the commit's scope check. Setup may run code the agent wrote (a retry keeps its work), so
    it never runs unfenced when the agent would not."""
    outside = tuple(
        path for path in fence.writable if path != worktree and not path.startswith(f"{worktree}/")
    )
    return Fence((worktree, *outside), fence.required)


def fence_paths(worktree: str, relative: Iterable[str], scratch: str) -> tuple[str, ...]:
    """The absolute writable paths: the worktree's, the task's scratch folder, the devices."""
    inside = tuple(f"{worktree}/{rel}" if rel else worktree for rel in relative)
    return (*inside, scratch, *DEVICES)


def _is_literal(touch: str) -> bool:
    return touch != WHOLE_REPO and len(literal_prefix(touch)) == len(touch.rstrip("/").split("/"))


def _anchor(touch: str, kind: Callable[[str], Kind]) -> str:
    """The touch's literal path if it exists (a glob's literal prefix if it is a folder),
    else the nearest existing folder above it; "" is the worktree root."""
    path = "/".join(literal_prefix(touch))
    wanted: tuple[Kind, ...] = ("dir", "file") if _is_literal(touch) else ("dir",)
    while path and kind(path) not in wanted:
        path = path.rpartition("/")[0]
        wanted = ("dir",)
    return path


def _below(path: str, folder: str) -> bool:
    return path != folder and (folder == "" or path.startswith(folder + "/"))
