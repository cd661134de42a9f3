"""The scope check of a task's commit: every staged path must be allowed by the task's touches.

Run by the installed pre-commit hook, only in a task worktree (`git diff --cached --name-only
-z --no-renames | python -m swarmgit.hookcheck --hook --common-dir DIR --branch REF`), and by
hand as `git swarm hook check` (`main([])`: this worktree). Every task commit pays for this
module's imports, so it imports only os, sys, `swarmgit.store.task_scope` (os; sqlite3 only
without a touches file) and `swarmgit.domain.path_rules` (nothing); in hook mode not even
subprocess or collections.
"""

from __future__ import annotations

import os
import sys

from swarmgit.domain.path_rules import paths_outside
from swarmgit.store.task_scope import StateUnreadable, lookup_touches, parse_task_branch

TYPE_CHECKING = False  # as typing.TYPE_CHECKING, without importing typing
if TYPE_CHECKING:
    from collections.abc import Sequence

USAGE = "usage: python -m swarmgit.hookcheck [--hook] [--common-dir DIR] [--branch REF]"
STAGED_DIFF = ("diff", "--cached", "--name-only", "-z", "--no-renames", "--no-ext-diff")


class _GitFailed(Exception):
    pass


def refusal(track: str, task: str, touches: Sequence[str], offenders: Sequence[str]) -> str:
    """What the hook prints when it refuses a commit: the allowed touches, each offending path,
    and what to do."""
    allowed = [f"  {touch}" for touch in touches] or ["  (nothing: it is a read-only task)"]
    return "\n".join(
        [
            f"swarm: commit refused: task {task} (track {track}) may only touch:",
            *allowed,
            "staged paths outside those touches:",
            *(f"  {path}" for path in offenders),
            "To fix: unstage them (git restore --staged <path>; for a rename, both sides), or add",
            f"them to {task}'s Touches in the plan, or leave that work to another task (a spawn",
            "candidate in your report).",
        ]
    )


def staged_paths() -> list[str]:
    """Every path the index changes against HEAD: added, modified, deleted, mode and type
    changes, and both sides of renames (rename detection off). Honours GIT_INDEX_FILE, which
    `git commit -a` and `git commit <paths>` point at a temporary index."""
    return parse_name_list(_git(*STAGED_DIFF))


def parse_name_list(raw: bytes) -> list[str]:
    """Paths from `git diff --name-only -z` output, where every record ends with NUL. Output
    that does not (the hook appends a marker when git fails) raises ValueError."""
    if raw and not raw.endswith(b"\0"):
        raise ValueError("could not list the staged changes (git diff failed)")
    return [os.fsdecode(name) for name in raw.split(b"\0") if name]


def main(argv: Sequence[str] | None = None) -> int:
    """Check the staged changes of a task worktree; 0 allowed, 1 refused, 2 bad usage.
    `--hook`: called by the pre-commit hook, which pipes in the staged paths (`STAGED_DIFF`
    output); silent unless it refuses. Without it: asks git, and says what it checked.
    `--common-dir` and `--branch` default to this worktree's."""
    try:
        hook, common_dir, branch = _options(sys.argv[1:] if argv is None else argv)
    except ValueError as exc:
        print(f"swarm: {exc}\n{USAGE}", file=sys.stderr)
        return 2
    try:
        return _check(hook, common_dir, branch)
    except _GitFailed as exc:
        print(f"swarm: {exc}", file=sys.stderr)
        return 2


def _check(hook: bool, common_dir: str | None, branch: str | None) -> int:
    def say(message: str) -> None:
        if not hook:
            print(f"swarm: {message}")

    if common_dir is None:
        common_dir = os.fsdecode(_git("rev-parse", "--path-format=absolute", "--git-common-dir")).strip()
    if branch is None:
        branch = os.fsdecode(_git("symbolic-ref", "-q", "HEAD", allow_fail=True)).strip()
    key = parse_task_branch(branch)
    if key is None:
        say("HEAD is not a task branch (swarm/<track>/<task>): nothing to check")
        return 0
    track, task = key
    try:
        touches = lookup_touches(common_dir, branch)
    except StateUnreadable as exc:
        print(f"swarm: commit refused: cannot read the run state of track {track}: {exc}", file=sys.stderr)
        return 1
    if touches is None:
        say(f"the run state has no task {task} in track {track}: nothing to check")
        return 0
    try:
        paths = parse_name_list(sys.stdin.buffer.read()) if hook else staged_paths()
    except ValueError as exc:
        print(f"swarm: commit refused: {exc}", file=sys.stderr)
        return 1
    offenders = paths_outside(touches, paths)
    if offenders:
        print(refusal(track, task, touches, offenders), file=sys.stderr)
        return 1
    say(f"{len(paths)} staged path(s), all within the touches of task {task} (track {track})")
    return 0


def _options(args: Sequence[str]) -> tuple[bool, str | None, str | None]:
    hook = False
    values: dict[str, str | None] = {"--common-dir": None, "--branch": None}
    rest = list(args)
    while rest:
        arg = rest.pop(0)
        if arg == "--hook":
            hook = True
        elif arg in values and rest:
            values[arg] = rest.pop(0)
        else:
            raise ValueError(f"unexpected argument {arg!r}")
    return hook, values["--common-dir"], values["--branch"]


def _git(*args: str, allow_fail: bool = False) -> bytes:
    """stdout of a git command run here; a failure raises _GitFailed unless `allow_fail`
    (then the output is empty)."""
    # Here, not at the top: the hook never needs these (subprocess alone costs it ~5 ms).
    from pathlib import Path

    from swarmgit.gitops.safe_git import run_git_bytes

    proc = run_git_bytes(Path.cwd(), *args, keep_env=("GIT_INDEX_FILE",))
    if proc.returncode != 0:
        if allow_fail:
            return b""
        detail = os.fsdecode(proc.stderr).strip() or f"exit {proc.returncode}"
        raise _GitFailed(f"git {args[0]} failed: {detail}")
    return proc.stdout


if __name__ == "__main__":
    sys.exit(main())
