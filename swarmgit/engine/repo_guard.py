"""Tamper detection: the repository's git files must be the same after a task as before it.

Before a task's agent starts, the fingerprint of the git files that can make git run code
(`gitops.git_files`) is taken and kept (in memory, and in the store for a crash). After the
agent ends, any change fails the task and records a hold on the track: the integrator does not
advance the target (`tamper_hold`) and no further task starts until the user has inspected the
changes and run `git swarm integrate <track> --accept-repo-changes`.

Without a write fence, a change made while several tasks ran cannot be pinned on one of them:
the first of them to end is failed for it, and the others are not failed again for the same
change (they are compared with what was already blamed).
"""

from __future__ import annotations

import json

from swarmgit.engine.workspace import Workspace
from swarmgit.gitops.git_files import FileChange, Fingerprint, changes, fingerprint
from swarmgit.store.state import Store

Blamed = dict[str, "str | None"]
"""Each changed path already blamed on a task → its state then (None: removed)."""


def accept_hint(track: str) -> str:
    return f"inspect them, then run `git swarm integrate {track} --accept-repo-changes`"


def take_baseline(ws: Workspace, store: Store, track: str, task: str) -> Fingerprint:
    """The fingerprint now, also stored for `task` (so a crash does not lose it)."""
    now = fingerprint(ws.root, ws.common_dir)
    store.set_git_baseline(track, task, json.dumps(now, sort_keys=True))
    return now


def stored_baseline(store: Store, track: str, task: str) -> Fingerprint | None:
    text = store.git_baseline(track, task)
    return None if text is None else dict(json.loads(text))


def new_changes(ws: Workspace, before: Fingerprint, blamed: Blamed) -> list[FileChange]:
    """What changed since `before`, less what was already blamed in this state; `blamed` is
    updated with what is returned."""
    now = fingerprint(ws.root, ws.common_dir)
    found = [c for c in changes(before, now) if c.path not in blamed or blamed[c.path] != now.get(c.path)]
    blamed.update({c.path: now.get(c.path) for c in found})
    return found


def hold_message(track: str, task: str, found: list[FileChange]) -> str:
    """The failure and hold reason: which git files changed and how (never their contents)."""
    listing = "\n".join(f"  {change.render()}" for change in found)
    return (
        f"the repository's git files changed while {task} ran (code planted there would run "
        f"as you):\n{listing}\n{accept_hint(track)}"
    )


def tamper_hold(store: Store, track: str) -> str:
    """Why the target must not advance: the tasks during which git files changed, or ''."""
    holds = store.tamper_holds(track)
    if not holds:
        return ""
    return (
        f"the repository's git files changed while {', '.join(holds)} ran (see `git swarm "
        f"status {track}` and the events); {accept_hint(track)}"
    )
