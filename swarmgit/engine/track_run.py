"""A whole track run: dispatch, integrate, gate, spawn fixes, repeat until done or stuck.

One orchestrator per track: the claim in the store is held for the run; a live claim by
another process refuses (exit 2), a dead process's claim is taken over.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from swarmgit.domain.events import EventSink
from swarmgit.engine.dispatch import Dispatcher, RunSummary, open_track
from swarmgit.engine.integrate import integrate
from swarmgit.engine.integration_report import Integration
from swarmgit.engine.workspace import Workspace
from swarmgit.errors import UsageError
from swarmgit.gitops import repo as gitrepo
from swarmgit.gitops.worktrees import checkout_state
from swarmgit.store.state import Store


@dataclass(frozen=True)
class TrackOutcome:
    summary: RunSummary
    integration: Integration | None

    @property
    def ok(self) -> bool:
        return self.summary.ok and self.integration is not None and self.integration.ok


@contextmanager
def claimed(ws: Workspace, track: str) -> Iterator[Store]:
    """The store, with this process holding the track's orchestrator claim."""
    with Store.open(ws.common_dir, ws.secrets) as store:
        open_track(ws, store, track)
        if not store.claim(track, os.getpid(), socket.gethostname()):
            holder = store.claimant(track)
            who = f"pid {holder[0]} on {holder[1]}" if holder else "another process"
            raise UsageError(
                f"track {track!r} is already being run by {who}; wait for it to finish or stop it"
            )
        try:
            yield store
        finally:
            store.release(track, os.getpid())


def implement_track(ws: Workspace, track: str, emit: EventSink, *, interactive: bool = False) -> TrackOutcome:
    """Dispatch until no task can start, integrate what is done, and go on while the gates
    spawn fix tasks. Bounded: every round must spawn new tasks, which the spawn budget caps."""
    with claimed(ws, track) as store:
        info = store.track(track)
        if info is None or not (ws.config.integrate.target or info.target_branch):
            raise UsageError(
                f"track {track!r} has no target branch to integrate into (HEAD was detached when "
                "it first ran): set integrate.target in .swarm.toml"
            )
        # The target's checkout as the run found it: the advance holds over files changed since.
        since = checkout_state(gitrepo.discover(ws.root), ws.config.integrate.target or info.target_branch)
        while True:
            summary = Dispatcher(ws, store, track, emit, interactive=interactive).run()
            if summary.paused or not summary.done:
                return TrackOutcome(summary, None)
            result = integrate(ws, store, track, emit, since=since)
            if not result.spawned:
                return TrackOutcome(summary, result)
            emit("round", "gates spawned fix tasks; dispatching them", None)


def run_one(ws: Workspace, track: str, task: str, emit: EventSink) -> RunSummary:
    """Run one task now, in the foreground slot (tasks that need user input wait for this)."""
    with claimed(ws, track) as store:
        return Dispatcher(ws, store, track, emit, interactive=True, only=task).run()
