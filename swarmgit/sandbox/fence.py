"""Applying the write fence: probe the kernel, turn a task into a `Fence`, start a process
under it.

`start_fenced` starts a process we start ourselves: from a new thread that restricts only
itself, so no new interpreter runs per agent process. A tool that starts the agent's program
itself gets `fenced_cli`: an executable running `python -I -S launch.py [--required] --write
P... -- PROGRAM...` (the launcher restricts itself, then execs; `fenced_argv` is that command
line), for tools that take a program path (the Claude Code SDK's `cli_path`).
"""

from __future__ import annotations

import errno
import gc
import os
import shlex
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import TypeVar

from swarmgit.domain.fence import (
    Fence,
    FenceDecision,
    Kind,
    SandboxMode,
    decide,
    fence_paths,
    folders_to_create,
    worktree_writable,
)
from swarmgit.sandbox import landlock

LAUNCHER = Path(__file__).with_name("launch.py")
_STARTING = threading.Lock()
T = TypeVar("T")
_WHY = {
    errno.ENOSYS: "this kernel has no Landlock: Linux 5.13 or later is needed",
    errno.EOPNOTSUPP: "Landlock is disabled: add `landlock` to the kernel's lsm= boot parameter",
}


@cache
def unavailable() -> str:
    """Why this kernel cannot fence agents, or "" when it can (probed once per process)."""
    try:
        landlock.abi_version()
    except landlock.LandlockError as exc:
        return _WHY.get(exc.errno or 0, f"Landlock is unavailable ({exc.strerror or exc})")
    return ""


def fence_decision(sandbox: str) -> FenceDecision:
    """The decision for `agent.sandbox` on this machine (the kernel is probed unless "off")."""
    mode = SandboxMode(sandbox)
    return decide(mode, "" if mode is SandboxMode.OFF else unavailable())


def task_fence(worktree: Path, touches: Sequence[str], scratch: Path, *, required: bool) -> Fence:
    """The fence of one task: creates its folder touches in `worktree` (an empty folder is
    invisible to git), then lists what it may write (see swarmgit.domain.fence)."""
    root = worktree.resolve()
    for folder in folders_to_create(touches):
        target = root / folder
        if not target.exists() and target.resolve().is_relative_to(root):  # no symlink out
            try:
                target.mkdir(parents=True, exist_ok=True)
            except OSError:  # a file on the way (`docs` for `docs/api/`): the nearest folder
                pass
    relative = worktree_writable(touches, lambda rel: _kind(root, rel))
    return Fence(writable=fence_paths(str(root), relative, str(scratch.resolve())), required=required)


def _kind(root: Path, rel: str) -> Kind:
    """A real file or folder at root/rel; None when missing or reached through a symlink."""
    path = root / rel if rel not in ("", ".") else root
    if os.path.realpath(path) != str(path):
        return None
    return "dir" if path.is_dir() else "file" if path.is_file() else None


class FenceRefused(Exception):
    """The fence could not be applied, so the agent must not run (it never runs half-fenced)."""


def start_fenced(fence: Fence, start: Callable[[], T]) -> T:
    """`start()`, which starts a process, called in a new thread that first restricts itself
    to `fence`: the process, and everything it starts, inherit the restriction; the other
    threads of this process stay free (Landlock restricts the calling thread). Nothing runs in
    the child between fork and exec, so this is safe while other threads run.

    Raises FenceRefused when the fence cannot be applied (a path that cannot be opened, a
    refused ruleset, or no Landlock while `fence.required`); without Landlock and not required,
    `start()` runs unfenced, as the launcher does. One start at a time, with the cyclic garbage
    collector paused: a collection in the fenced thread would run other objects' finalizers
    under the fence (a temporary folder's cleanup would fail)."""
    started: list[T] = []
    failed: list[BaseException] = []

    def fenced() -> None:
        try:
            landlock.restrict_writes(list(fence.writable))
        except OSError as exc:
            if landlock.must_refuse(exc, fence.required):
                failed.append(
                    FenceRefused(f"swarmgit fence: refusing to run the agent without its write fence: {exc}")
                )
                return
        except BaseException as exc:  # anything else: never start it half-fenced
            failed.append(exc)
            return
        try:
            started.append(start())
        except BaseException as exc:
            failed.append(exc)

    with _STARTING:
        collecting = gc.isenabled()
        gc.disable()
        try:
            thread = threading.Thread(target=fenced, name="swarm-fenced-start", daemon=True)
            thread.start()
            thread.join()
        finally:
            if collecting:
                gc.enable()
    if failed:
        raise failed[0]
    return started[0]


def fenced_argv(fence: Fence, argv: Sequence[str]) -> list[str]:
    """`argv` run through the launcher under `fence` (what `fenced_cli` runs)."""
    head = [sys.executable, "-I", "-S", str(LAUNCHER)]
    if fence.required:
        head.append("--required")
    for path in fence.writable:
        head += ["--write", path]
    return [*head, "--", *argv]


@contextmanager
def fenced_cli(fence: Fence, program: str) -> Iterator[Path]:
    """An executable that runs `program` with its arguments under `fence`, for as long as the
    context lasts. It lives in a private temporary folder, out of the fenced agent's reach."""
    with tempfile.TemporaryDirectory(prefix="swarm-fence-") as folder:
        wrapper = Path(folder) / "fenced"
        wrapper.write_text(
            f'#!/bin/sh\nexec {shlex.join(fenced_argv(fence, [program]))} "$@"\n', encoding="utf-8"
        )
        wrapper.chmod(0o700)
        yield wrapper
