"""Continuous dispatch: the live run of a track.

Each loop: reconcile blocked tasks, ask the scheduler (the same pure function `simulate`
uses) what may start now, prepare each task's worktree on its start point, run its agent in a
thread, and wait for any event or completion. Completions are finalized on this thread: the
store is only written from here, one transaction per transition.
"""

from __future__ import annotations

import contextlib
import os
import queue
import time
from dataclasses import dataclass, field
from pathlib import Path

from swarmgit.backends.base import Agent, AgentJob, AgentOutcome
from swarmgit.backends.command import agent_caches
from swarmgit.backends.registry import get_agent
from swarmgit.crash_points import reached
from swarmgit.domain.brief import render_brief
from swarmgit.domain.cost import (
    budget_state,
    model_for,
    per_task_cap,
    price_hint,
    recorded_cost,
    unpriced_holds,
    unpriced_models,
)
from swarmgit.domain.events import EventSink
from swarmgit.domain.fence import Fence, SandboxMode
from swarmgit.domain.plan import Plan, Status, Task
from swarmgit.domain.report import parse_report, render_report, report_from_commits
from swarmgit.domain.scheduler import Limits, RunState, Scheduler, Start
from swarmgit.engine import repo_guard, spawning
from swarmgit.engine.executors import make_executor
from swarmgit.engine.executors.local import run_attempt
from swarmgit.engine.finalize import finalize
from swarmgit.engine.no_change import attempt_log, log_size, no_change_diagnosis
from swarmgit.engine.plan_sync import follow_plan
from swarmgit.engine.recheck import check_unpinned, pin_base
from swarmgit.engine.taskspace import (
    StartBlocked,
    prepare,
    start_point,
    take_notes,
    task_env,
    task_port,
    worktree_pool,
)
from swarmgit.engine.views import ViewWriter, refresh, track_budget
from swarmgit.engine.workspace import Workspace, read_plan
from swarmgit.errors import UsageError, WorkFailed
from swarmgit.fsutil import read_agent_text, rewrite_atomic
from swarmgit.gitops import repo as gitrepo
from swarmgit.gitops.git_files import Fingerprint
from swarmgit.gitops.refs import clear_stale_locks
from swarmgit.gitops.status import is_sparse
from swarmgit.process.home import clear_entry
from swarmgit.process.run import stop_orphan
from swarmgit.sandbox.fence import fence_decision, task_fence
from swarmgit.store.state import Store, TaskRow

VIEWS_INTERVAL_SECONDS = 1.0  # the views lag the store by at most this while a run goes on


@dataclass(frozen=True)
class AgentEvent:
    """Inbox message from an agent thread: progress to record in the event log."""

    task: str
    kind: str
    message: str


@dataclass(frozen=True)
class AttemptEnded:
    """Inbox message from the executor: an attempt's outcome, finalized on the loop's thread."""

    task: str
    outcome: AgentOutcome


InboxMessage = AgentEvent | AttemptEnded


@dataclass
class RunSummary:
    """How a run ended: task ids per final status, and why it stopped early if it did."""

    done: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    blocked: dict[str, str] = field(default_factory=dict)
    waiting: dict[str, str] = field(default_factory=dict)
    paused: str = ""
    refused: str = ""  # `run TASK`: why that task cannot start now (deps, locks), if it did not

    @property
    def ok(self) -> bool:
        return not (self.failed or self.blocked or self.waiting or self.paused)


def scratch_dir(ws: Workspace, track: str) -> Path:
    """Per-track scratch space outside every worktree: briefs and pid files (which no agent
    may write), and one folder per task that only its agent may write (`task_scratch`)."""
    return ws.common_dir / "swarm" / "scratch" / track


def task_scratch(ws: Workspace, track: str, task: str) -> Path:
    """The task's own writable folder: its report file, HOME and TMPDIR."""
    return scratch_dir(ws, track) / task


def open_track(ws: Workspace, store: Store, track: str) -> None:
    """Record the track's base commit and target branch the first time it runs, and pin the
    base in a ref then (the integrator checks the run state against it; never re-pinned)."""
    repo = gitrepo.discover(ws.root)
    base = gitrepo.head_commit(repo)
    if base is None:
        raise UsageError("the repository has no commits yet: commit something first")
    if store.track(track) is not None:
        return
    check_unpinned(repo, track, base)
    target = ws.config.integrate.target or gitrepo.current_branch(repo) or ""
    plan_path = str(ws.plan_path(track).relative_to(ws.root))
    info = store.ensure_track(track, base_commit=base, target_branch=target, plan_path=plan_path)
    pin_base(repo, track, info.base_commit)


class Dispatcher:
    """One live run of one track; holds the orchestrator claim for its lifetime."""

    def __init__(
        self,
        ws: Workspace,
        store: Store,
        track: str,
        emit: EventSink,
        *,
        interactive: bool = False,
        only: str | None = None,
    ) -> None:
        self.ws = ws
        self.only = only
        self.only_asked = False  # `run TASK`: whether the scheduler was asked about it (once)
        self.refused = ""
        self.store = store
        self.track = track
        self.emit = emit
        self.interactive = interactive
        self.repo = gitrepo.discover(ws.root)
        self._follow(read_plan(ws, track)[0])
        self.agent: Agent = get_agent(ws.config)
        self.fencing = fence_decision(ws.config.agent.sandbox)
        self.agent_caches = agent_caches(ws.config)  # the CLI's own files, kept out of commits
        self.inbox: queue.Queue[InboxMessage] = queue.Queue()
        self.inflight: dict[str, AgentJob] = {}
        self.log_marks: dict[str, int] = {}  # where each running attempt's output starts in its log
        self.paused = ""
        self.last_progress = ""
        self.git_baselines: dict[str, Fingerprint] = {}
        self.blamed: repo_guard.Blamed = {}
        self.tampered = repo_guard.tamper_hold(store, track)
        self.unpriced_seen: set[str] = set()  # models already warned about in this run
        self.views = ViewWriter(ws, track)
        self.views_stale = False
        self.views_due = 0.0  # time.monotonic() from which the views may be written again
        self.launching: list[tuple[AgentJob, str]] = []  # started this loop turn, not yet submitted
        self.donors: list[str] | None = None  # tasks whose worktree the pool may offer (_worktree_pool)
        self.executor = make_executor(ws, self._work, self._deliver, self._agent_event)

    # ---- public -------------------------------------------------------------------------

    def run(self) -> RunSummary:
        self._reconcile_orphans()  # first: a task that ran when plan.md lost it is retired too
        follow_plan(self.store, self.track, self.plan, self.emit)
        if self.fencing.warning:
            self._event("sandbox", self.fencing.warning)
        self._warn_unpriced(unpriced_models(self.plan, self.ws.config))
        self._refresh_views()
        try:
            while True:
                self._block_unreachable()
                if not (self.paused or self.tampered):
                    for start in self._starts():
                        self._start(start)
                    self._launch()
                if not self.inflight:
                    break
                self._handle(self._next_item())
        except BaseException:  # Ctrl-C, a SwarmError, or a bug: no agent runs on unsupervised
            self._stop_agents()
            with contextlib.suppress(Exception):  # best effort: `resume` rewrites them anyway
                self._flush_views()
            raise
        return self._summary()

    def _stop_agents(self) -> None:
        """Ctrl-C or an error that ends the run: stop every running agent's process group.
        Their tasks stay `running`, so `resume` re-runs them with their work kept."""
        for task_id in self.inflight:
            self.executor.cancel(task_id)

    # ---- state --------------------------------------------------------------------------

    def _follow(self, plan: Plan) -> None:
        """Run `plan` from now on (at the start, and after a spawn appended tasks to it)."""
        self.plan = plan
        self.scheduler = Scheduler(plan)
        self.positions = {task_id: n for n, task_id in enumerate(plan.ids)}
        self.held = frozenset(unpriced_holds(plan, self.ws.config))

    def _row(self, task_id: str) -> TaskRow:
        row = self.store.task(self.track, task_id)
        assert row is not None, f"{task_id} is in the run state (follow_plan put it there)"
        return row

    def _state(self) -> RunState:
        """The run state by status, read from the store's per-status id sets: a loop turn
        costs what changed since the last, not a scan of the plan."""
        ids = self.store.task_ids_by_status(self.track)
        none: frozenset[str] = frozenset()
        return RunState(
            done=ids.get(Status.DONE, none),
            running=ids.get(Status.RUNNING, none),
            failed=ids.get(Status.FAILED, none) | ids.get(Status.BLOCKED, none),
        )

    def _startable(self) -> RunState:
        """The state the scheduler decides on: tasks held for an unpriced model count as failed
        there (they and their dependents do not start), but nothing is marked blocked."""
        state = self._state()
        return RunState(done=state.done, running=state.running, failed=state.failed | self.held)

    def _limits(self) -> Limits:
        c = self.ws.config.concurrency
        foreground = c.max_foreground if self.interactive else 0
        return Limits(max_background=c.max_background, max_foreground=foreground, max_parallel=c.max_parallel)

    def _event(self, kind: str, message: str, task: str | None = None) -> None:
        """Record an event in the store's log and show it."""
        self.store.add_event(self.track, kind, message, task)
        self.emit(kind, message, task)

    def _say(self, kind: str, message: str, task: str | None = None) -> None:
        """Show a status transition; the store already logged it with the transition."""
        self.emit(kind, message, task)

    def _refresh_views(self) -> None:
        """The views are out of date: the loop rewrites them before it next waits."""
        self.views_stale = True

    def _next_item(self) -> InboxMessage:
        """The next event or completion. Out-of-date views are written before waiting, at
        most once per VIEWS_INTERVAL_SECONDS: rendering them grows with the plan."""
        while self.views_stale:
            wait = self.views_due - time.monotonic()
            if wait <= 0:
                self._flush_views()
                break
            try:
                return self.inbox.get(timeout=wait)
            except queue.Empty:
                continue
        return self.inbox.get()

    def _flush_views(self) -> None:
        if not self.views_stale:
            return
        self.views_due = time.monotonic() + VIEWS_INTERVAL_SECONDS
        refresh(
            self.ws, self.store, self.track, spawning.budget_left(self.ws, self.store, self.track), self.views
        )
        self.views_stale = False
        self._progress()

    def _progress(self) -> None:
        """A progress line for the terminal (not stored): what runs, and the counts."""
        counts = {status: len(ids) for status, ids in self.store.task_ids_by_status(self.track).items()}
        running = ", ".join(sorted(self.inflight)) or "nothing"
        others = " · ".join(
            f"{n} {status}"
            for status, n in sorted(counts.items())
            if status not in (Status.DONE, Status.RUNNING)
        )
        line = f"running {running} · done {counts.get(Status.DONE, 0)}/{sum(counts.values())}"
        line = f"{line} · {others}" if others else line
        if line != self.last_progress:
            self.last_progress = line
            self.emit("progress", line, None)

    def _block_unreachable(self) -> None:
        state = self._state()
        if not state.failed:  # only a failed (or blocked) dep makes a task unreachable
            return
        blocked = False
        for task_id, reason in self.scheduler.blocked(state).items():
            row = self.store.task(self.track, task_id)
            if row is not None and row.status in (Status.TODO, Status.READY):
                self.store.set_status(self.track, task_id, Status.BLOCKED, reason)
                self._say("blocked", reason, task_id)
                blocked = True
        if blocked:
            self._refresh_views()

    # ---- starting -----------------------------------------------------------------------

    def _starts(self) -> list[Start]:
        """What starts now: the scheduler's decision for the whole plan; for `run TASK`, that
        task alone, asked once, under the lock rule only (`Scheduler.start_alone`: no
        reservation or width meant for tasks this run does not start). A task done, running,
        failed, blocked or held has its reason in the summary; any other refusal (deps not
        done, a lock held) is `refused`."""
        if self.only is None:
            return self.scheduler.decide(self._startable(), self._limits())
        if self.only_asked:
            return []
        self.only_asked = True
        state = self._startable()
        alone = self.scheduler.start_alone(self.only, state, self._limits())
        if isinstance(alone, Start):
            return [alone]
        if not any(self.only in ids for ids in (state.done, state.running, state.failed)):
            self.refused = alone
        return []

    def _start(self, start: Start) -> None:
        task = self.plan.tasks[self.positions[start.task]]
        if self.fencing.refusal:
            self.store.set_status(self.track, task.id, Status.FAILED, self.fencing.refusal)
            self._say("failed", f"{task.id} not started: {self.fencing.refusal}", task.id)
            return
        row = self._row(task.id)
        track = self.store.track(self.track)
        assert track is not None
        point = self._start_point(task, start, row, track.base_commit)
        if isinstance(point, StartBlocked):
            self.store.set_status(self.track, task.id, Status.BLOCKED, point.reason)
            self._say("blocked", point.reason, task.id)
            return
        try:
            prepared = prepare(
                self.ws, self.repo, self.track, task, point, row.worktree, pool=self._worktree_pool()
            )
        except WorkFailed as exc:  # e.g. its branch exists elsewhere: this task only
            self.store.set_status(self.track, task.id, Status.FAILED, f"worktree setup failed: {exc}")
            self._say("failed", f"{task.id} failed: worktree setup failed: {exc}", task.id)
            return
        if prepared.recycled_from:
            self.store.release_worktree(self.track, prepared.recycled_from)
        reached("worktree-ready")
        job = self._job(task, prepared.worktree, row)
        self.git_baselines[task.id] = repo_guard.take_baseline(self.ws, self.store, self.track, task.id)
        self.log_marks[task.id] = log_size(job.log_file)
        self.store.mark_running(
            self.track,
            task.id,
            branch=prepared.branch,
            worktree=str(prepared.worktree),
            start_commit=point,
            after=start.after,
            pid=os.getpid(),
        )
        after = f" after {', '.join(start.after)}" if start.after else ""
        self._say("started", f"{task.id} started on {prepared.branch}{after}", task.id)
        self.inflight[task.id] = job
        self._refresh_views()
        self.launching.append((job, point))

    def _launch(self) -> None:
        """Hand this turn's starts to the executor, after plan.md shows them running (an agent
        that reads or, unfenced, edits plan.md never races the writer)."""
        if self.launching:
            self.views.write_plan(self.store.task_ids_by_status(self.track))
        for job, point in self.launching:
            self.executor.submit(job, point)
        self.launching.clear()

    def _start_point(self, task: Task, start: Start, row: TaskRow, base: str) -> str | StartBlocked:
        """A re-run (resume, retry) keeps the start point its branch was made on; a first
        run folds base + finished deps + lock-ordered predecessors."""
        if row.start_commit and row.branch and row.branch in self.repo.branches.local:
            return row.start_commit
        sources = [(dep, self._row(dep).final_commit or "") for dep in (*task.deps, *start.after)]
        return start_point(self.repo, self.track, base, task, [s for s in sources if s[1]])

    def _worktree_pool(self) -> list[tuple[str, str]]:
        """`worktree_pool` over the tasks that may hold a reusable worktree: at the first start
        every task of the plan, then only those kept from then and those done since (this loop
        adds them), so a start does not scan the plan."""
        if self.donors is None:
            rows = self.store.tasks(self.track)
        else:
            found = (self.store.task(self.track, task_id) for task_id in self.donors)
            rows = [row for row in found if row is not None and row.retired_at is None]
        pool = worktree_pool(self.store, self.track, rows)
        self.donors = [task_id for task_id, _ in pool]
        return pool

    def _job(self, task: Task, worktree: Path, row: TaskRow) -> AgentJob:
        folder = self.ws.track_dir(self.track)
        scratch = scratch_dir(self.ws, self.track)
        own = task_scratch(self.ws, self.track, task.id)
        own.mkdir(parents=True, exist_ok=True)
        report = clear_entry(own / "report.md")
        brief = scratch / f"{task.id}.brief.md"
        diagnosis = row.reason if row.status in (Status.FAILED, Status.TODO) else ""
        brief.write_text(
            self.ws.secrets.redact(
                render_brief(
                    self.track,
                    task,
                    prd=_read(folder / "PRD.md"),
                    spec=_read(folder / "spec.md"),
                    shared_context=_read(folder / "shared_context.md"),
                    diagnosis=diagnosis,
                    sparse=is_sparse(worktree),
                )
            ),
            encoding="utf-8",
        )
        log = folder / "logs" / f"{task.id}.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        port = task_port(self.ws, self.positions[task.id])
        return AgentJob(
            track=self.track,
            task=task,
            worktree=worktree,
            brief_file=brief,
            report_file=report,
            shared_context=folder / "shared_context.md",
            log_file=log,
            env=task_env(self.ws, self.track, task, worktree, report, port, brief, own),
            config=self.ws.config,
            model=model_for(task, self.ws.config.agent),
            budget_usd=per_task_cap(self._budget_left(), len(self.inflight)),
            attempt=row.attempts + 1,
            pid_file=scratch / f"{task.id}.pid",
            foreground=task.needs_user_input and self.interactive,
            fence=self._fence(task, worktree, own),
        )

    def _fence(self, task: Task, worktree: Path, own: Path) -> Fence | None:
        if not self.fencing.fenced:
            return None
        required = SandboxMode(self.ws.config.agent.sandbox) is SandboxMode.REQUIRED
        return task_fence(worktree, task.touches, own, required=required)

    def _work(self, job: AgentJob) -> AgentOutcome:
        """Agent thread (local executor): setup, then the agent. Never touches the store."""

        def on_event(kind: str, message: str) -> None:
            self._agent_event(job.task.id, kind, message)

        return run_attempt(self.agent, job, on_event)

    def _agent_event(self, task_id: str, kind: str, message: str) -> None:
        self.inbox.put(AgentEvent(task_id, kind, message))

    def _deliver(self, task_id: str, outcome: AgentOutcome) -> None:
        self.inbox.put(AttemptEnded(task_id, outcome))

    # ---- completing ---------------------------------------------------------------------

    def _handle(self, item: InboxMessage) -> None:
        if isinstance(item, AgentEvent):
            self._event(item.kind, item.message, item.task)
            return
        self._complete(self.inflight.pop(item.task), item.outcome)

    def _complete(self, job: AgentJob, outcome: AgentOutcome) -> None:
        task = job.task
        row = self.store.task(self.track, task.id)
        assert row is not None and row.branch and row.start_commit
        reached("agent-exited")
        self._record_usage(task.id, outcome)
        take_notes(Path(job.env["SWARM_SHARED_CONTEXT"]), job.shared_context, job.env)
        result = finalize(
            self.repo,
            task,
            job.worktree,
            row.branch,
            row.start_commit,
            secrets=self.ws.secrets,
            exclude=self.agent_caches,
        )
        reached("work-committed")
        agent_report, bad_bytes = read_agent_text(job.report_file)
        if bad_bytes:
            self._event("warning", bad_bytes, task.id)
        report_text = self.ws.secrets.redact(agent_report or outcome.report_text or "")
        notes_copy = Path(job.env["SWARM_SHARED_CONTEXT"])
        for written in (job.shared_context, notes_copy, job.log_file, job.report_file):  # agent-writable
            rewrite_atomic(written, self.ws.secrets.redact)
        tampered = self._git_files_changed(task.id, self.git_baselines.pop(task.id, None))
        if tampered:
            self.store.mark_finished(
                self.track, task.id, Status.FAILED, final_commit=result.final_commit, reason=tampered
            )
            self._say("failed", f"{task.id} failed: {tampered}", task.id)
        elif not outcome.ok:
            self.store.mark_finished(
                self.track, task.id, Status.FAILED, final_commit=result.final_commit, reason=outcome.diagnosis
            )
            self._say("failed", f"{task.id} failed ({outcome.kind}): {outcome.diagnosis}", task.id)
        elif not result.ok:
            self.store.mark_finished(
                self.track, task.id, Status.FAILED, final_commit=result.final_commit, reason=result.diagnosis
            )
            self._say("failed", f"{task.id} failed: {result.diagnosis}", task.id)
        elif task.touches and not result.changed:  # read-only tasks may end with no change
            lines = attempt_log(job.log_file, self.log_marks.pop(task.id, 0))
            reason = no_change_diagnosis(task, outcome, lines, str(job.log_file.relative_to(self.ws.root)))
            self.store.mark_finished(
                self.track, task.id, Status.FAILED, final_commit=result.final_commit, reason=reason
            )
            self._say("failed", f"{task.id} failed: {reason}", task.id)
        else:
            self.store.mark_finished(self.track, task.id, Status.DONE, final_commit=result.final_commit)
            if self.donors is not None:  # its worktree may serve the next task
                self.donors.append(task.id)
            self._say("done", f"{task.id} done at {result.final_commit[:10]}", task.id)
            reached("task-done")
            self._take_report(task, report_text, result.files, result.messages)
        self._refresh_views()

    def _git_files_changed(self, task_id: str, before: Fingerprint | None) -> str:
        """'' when the git files are as they were when the task started; else the reason it
        fails, after recording the hold and stopping further starts."""
        if before is None:
            before = repo_guard.stored_baseline(self.store, self.track, task_id)
        found = repo_guard.new_changes(self.ws, before, self.blamed) if before is not None else []
        if not found:
            return ""
        message = repo_guard.hold_message(self.track, task_id, found)
        self.store.add_tamper_hold(self.track, task_id, message)
        self.tampered = repo_guard.tamper_hold(self.store, self.track)
        return message

    def _take_report(
        self, task: Task, text: str | None, files: tuple[str, ...], messages: tuple[str, ...]
    ) -> None:
        path = self.ws.track_dir(self.track) / "reports" / f"{task.id}.md"
        if text:
            report, warnings = parse_report(text, str(path.relative_to(self.ws.root)))
            for warning in warnings:
                self._event("warning", warning.render(), task.id)
        else:
            report = report_from_commits(task.id, list(files), list(messages))
        spawning.save_report(path, render_report(report))
        spawned = spawning.take_candidates(
            self.ws, self.store, self.track, self.plan, task, report, self._event
        )
        if spawned:
            self._follow(read_plan(self.ws, self.track)[0])
            follow_plan(self.store, self.track, self.plan, self.emit)

    # ---- money --------------------------------------------------------------------------

    def _budget(self) -> float:
        return track_budget(self.ws, self.store, self.track)

    def _budget_left(self) -> float:
        return max(0.0, self._budget() - self.store.spent_usd(self.track))

    def _record_usage(self, task_id: str, outcome: AgentOutcome) -> None:
        before = budget_state(
            self.store.spent_usd(self.track), self._budget(), self.ws.config.budget.warn_fraction
        )
        for usage in outcome.usage:
            usd = recorded_cost(usage, self.ws.config.pricing.get(usage.model), usage.cost_usd)
            self.store.add_usage(
                self.track,
                task_id,
                model=usage.model,
                input_tokens=usage.input_tokens,
                output_tokens=usage.output_tokens,
                cache_write_tokens=usage.cache_write_tokens,
                cache_read_tokens=usage.cache_read_tokens,
                usd=usd,
                cli_usd=usage.cost_usd,
            )
        self._warn_unpriced(tuple(u.model for u in outcome.usage if u.model not in self.ws.config.pricing))
        spent = self.store.spent_usd(self.track)
        after = budget_state(spent, self._budget(), self.ws.config.budget.warn_fraction)
        if after != before and after == "warn":
            self._event("budget", f"spent ${spent:.2f} of ${self._budget():.2f} (warning threshold)")
        if after == "exhausted" and not self.paused:
            self.paused = (
                f"budget exhausted: spent ${spent:.2f} of ${self._budget():.2f}; "
                f"raise it with `git swarm resume {self.track} --budget N`"
            )
            self._event("budget", self.paused)

    def _warn_unpriced(self, models: tuple[str, ...]) -> None:
        """One warning event per model without a price, the first time this run meets it."""
        for model in dict.fromkeys(models):
            if model in self.unpriced_seen:
                continue
            self.unpriced_seen.add(model)
            held = sorted(
                t.id
                for t in self.plan.tasks
                if t.id in self.held and model_for(t, self.ws.config.agent) == model
            )
            effect = (
                f'tasks on it wait (budget.unpriced = "pause"): {", ".join(held)}'
                if held
                else "its spend counts only what the agent's tool reports, if anything"
            )
            self._event("warning", f"model {model} has no price in [pricing]: {effect}; {price_hint(model)}")

    # ---- recovery -----------------------------------------------------------------------

    def _reconcile_orphans(self) -> None:
        """Tasks left `running` by a dead orchestrator: stop an agent it left behind, keep
        the work (committed or not: the worktree is reused), and run them again; and free the
        track's refs from the lock files a killed process left."""
        for row in self.store.tasks(self.track):
            if row.status != Status.RUNNING:
                continue
            if stop_orphan(scratch_dir(self.ws, self.track) / f"{row.id}.pid"):
                self._event("resumed", f"stopped {row.id}'s agent, orphaned by the crash", row.id)
            tampered = self._git_files_changed(row.id, None)
            if tampered:
                self.store.set_status(self.track, row.id, Status.FAILED, tampered)
                self._say("failed", f"{row.id} failed: {tampered}", row.id)
                continue
            self.store.set_status(
                self.track,
                row.id,
                Status.TODO,
                "the orchestrator stopped while this task ran; its committed work is kept",
            )
            self._say("resumed", f"{row.id} was running when the orchestrator stopped; re-running it", row.id)
        # No other process writes the track's refs now (its claim is ours, its agents stopped).
        namespaces = (f"refs/heads/swarm/{self.track}", f"refs/swarm/{self.track}")
        for ref in clear_stale_locks(self.ws.common_dir, namespaces):
            self._event("resumed", f"removed the lock on {ref}, left by a process killed while it wrote it")

    # ---- end ----------------------------------------------------------------------------

    def _summary(self) -> RunSummary:
        summary = RunSummary(paused=self.paused, refused=self.refused)
        holds = unpriced_holds(self.plan, self.ws.config)
        for row in self.store.tasks(self.track):
            if row.status == Status.DONE:
                summary.done.append(row.id)
            elif row.status == Status.FAILED:
                summary.failed[row.id] = row.reason
            elif row.status == Status.BLOCKED:
                summary.blocked[row.id] = row.reason
            else:
                task = self.plan.task(row.id)
                reason = (
                    "needs user input: run it with `git swarm run " + row.id + "`"
                    if task.needs_user_input and not self.interactive
                    else self.paused or self.tampered or holds.get(row.id, "not started")
                )
                if task.needs_user_input and not self.interactive and row.status != Status.NEEDS_INPUT:
                    self.store.set_status(self.track, row.id, Status.NEEDS_INPUT, reason)
                summary.waiting[row.id] = reason
        self._refresh_views()
        self._flush_views()
        return summary


def _read(path: Path) -> str:
    """A file's text, "" unless it is a regular file (an agent may leave a fifo there); bad
    bytes read as U+FFFD (agents write shared_context.md: never crash on its bytes)."""
    return read_agent_text(path)[0]
