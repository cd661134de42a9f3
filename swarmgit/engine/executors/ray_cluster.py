"""The Ray executor: each attempt is one Ray task on a cluster; everything else stays here.

The head (this process) keeps the scheduler, the lock table, the run state and the
integration. Per attempt it puts the attempt's first commit on the shared remote
(`refs/swarm/<track>/start/<task>`), submits `remote_task.run_remote` needing one
`agent_slot` and `ray.num_cpus` CPUs, retried `ray.max_retries` times when its worker or node
dies (never for the agent's own failure, which comes back as an outcome). While it runs, its
agent's events come back on a Ray queue the watcher drains every second into the event log.
When it ends, the
head fetches the pushed branch into the task's own worktree, checks it is the commit the
worker reported and descends from the start point, and moves the worktree there; the
dispatcher then finalizes it exactly as a local attempt (scope and secret checks again).
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pygit2
import ray
from ray.util.queue import Queue

from swarmgit.backends.base import AgentJob, AgentOutcome, FailureKind
from swarmgit.engine.executors.remote_task import (
    MAX_EVENT_CHARS,
    MAX_KIND_CHARS,
    RemoteAttempt,
    RemoteResult,
    branch_ref,
    land,
    run_remote,
    start_ref,
)
from swarmgit.engine.workspace import Workspace
from swarmgit.errors import UsageError, WorkFailed
from swarmgit.gitops import remote as gitremote
from swarmgit.gitops.repo import signature

SLOT = "agent_slot"
EVENT_QUEUE = 10_000  # events waiting for the head; a worker drops what does not fit
_ON_WORKER = (
    "SWARM_WORKTREE",
    "SWARM_REPORT",
    "SWARM_BRIEF",
    "SWARM_REPO_ROOT",
    "SWARM_SHARED_CONTEXT",
    "SWARM_PORT",
)


class RayExecutor:
    """Submits attempts to the cluster at `ray.address`; one watcher thread delivers them."""

    name = "ray"

    def __init__(
        self,
        ws: Workspace,
        deliver: Callable[[str, AgentOutcome], None],
        event: Callable[[str, str, str], None],
    ) -> None:
        self.ws = ws
        self.deliver = deliver
        self.event = event
        self.url = gitremote.remote_url(ws.root, ws.config.ray.remote)
        address = ws.config.ray.address or "auto"
        if not ray.is_initialized():
            try:
                ray.init(
                    address=address, logging_level=logging.ERROR, log_to_driver=False, configure_logging=False
                )
            except (ConnectionError, RuntimeError) as exc:
                raise UsageError(
                    f"cannot join the Ray cluster at {address} ({exc}): start it "
                    "(`ray start`) or set ray.address in .swarm.toml"
                ) from exc
        self.task = ray.remote(run_remote).options(
            resources={SLOT: 1},
            num_cpus=ws.config.ray.num_cpus,
            max_retries=ws.config.ray.max_retries,
            retry_exceptions=False,
        )
        self.events = Queue(maxsize=EVENT_QUEUE, actor_options={"num_cpus": 0})
        sig = signature(pygit2.Repository(str(ws.root)))
        self.author = (sig.name, sig.email)
        self.lock = threading.Lock()
        self.pending: dict[Any, tuple[AgentJob, RemoteAttempt]] = {}
        self.watcher: threading.Thread | None = None

    def submit(self, job: AgentJob, start_commit: str) -> None:
        task = job.task
        first = str(pygit2.Repository(str(job.worktree)).head.target)
        gitremote.put_ref(self.ws.root, self.url, first, start_ref(job.track, task.id))
        spec = RemoteAttempt(
            remote=self.url,
            track=job.track,
            task=task,
            run_id=uuid.uuid4().hex,
            start_commit=start_commit,
            first_commit=first,
            expect=gitremote.remote_tip(self.ws.root, self.url, branch_ref(job.track, task.id)),
            brief=job.brief_file.read_text(encoding="utf-8"),
            notes=Path(job.env["SWARM_SHARED_CONTEXT"]).read_text(encoding="utf-8"),
            env={k: v for k, v in job.env.items() if k not in _ON_WORKER},
            config=job.config,
            model=job.model,
            budget_usd=job.budget_usd,
            attempt=job.attempt,
            port=int(job.env["SWARM_PORT"]),
            author=self.author,
        )
        ref = self.task.remote(spec, self.events)
        with self.lock:
            self.pending[ref] = (job, spec)
            if self.watcher is None or not self.watcher.is_alive():
                self.watcher = threading.Thread(target=self._watch, name="ray-watcher", daemon=True)
                self.watcher.start()

    def cancel(self, task_id: str) -> None:
        with self.lock:
            refs = [ref for ref, (job, _) in self.pending.items() if job.task.id == task_id]
        for ref in refs:
            ray.cancel(ref, force=True)

    def _watch(self) -> None:
        while True:
            with self.lock:
                refs = list(self.pending)
                if not refs:
                    self.watcher = None
                    return
            ready, _ = ray.wait(refs, num_returns=1, timeout=1.0)
            self._drain()  # after the wait: a finished task's events are all queued by now
            for ref in ready:
                with self.lock:
                    job, spec = self.pending.pop(ref)
                self.deliver(job.task.id, self._outcome(ref, job, spec))

    def _drain(self) -> None:
        """Pass on the agents' queued events, each under the task its run id was submitted
        for; anything else on the queue (a worker's forgery, a stale run) is dropped."""
        try:
            items = self.events.get_nowait_batch(min(self.events.qsize(), EVENT_QUEUE))
        except Exception:  # the queue's actor lost: events are progress, not results
            return
        with self.lock:
            tasks = {spec.run_id: job.task.id for job, spec in self.pending.values()}
        for item in items:
            if (
                isinstance(item, tuple)
                and len(item) == 3
                and all(isinstance(x, str) for x in item)
                and item[0] in tasks
            ):
                self.event(tasks[item[0]], item[1][:MAX_KIND_CHARS], item[2][:MAX_EVENT_CHARS])

    def _outcome(self, ref: Any, job: AgentJob, spec: RemoteAttempt) -> AgentOutcome:
        try:
            result = ray.get(ref)
        except Exception as exc:  # the worker, its node or the remote was lost for good
            return AgentOutcome(
                ok=False,
                kind=FailureKind.EXECUTOR_ERROR,
                diagnosis=f"the Ray task for {job.task.id} failed: {exc}",
            )
        assert isinstance(result, RemoteResult)
        try:
            return land(job, spec, result)
        except WorkFailed as exc:
            return replace(result.outcome, ok=False, kind=FailureKind.REMOTE_REJECTED, diagnosis=str(exc))
