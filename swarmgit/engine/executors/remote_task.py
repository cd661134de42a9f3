"""One attempt of one task on a cluster worker: the code a Ray task runs (no Ray here).

In a fresh folder of the worker: fetch the attempt's start ref from the shared remote into a
bare repository, check it out on the task's branch in a linked worktree, run the agent exactly as
the local executor does (same brief,
environment, write fence, setup, pre-commit hook), commit its leftovers through the same scope check
(`finalize`), and push the branch create-only (compare-and-set against what the head saw).
`land` is the head's side: the result brought into the task's worktree there.
Every commit swarmgit makes carries `Swarm-Run: <run id>`, and the push carries the attempt's
run record (`run_record`: outcome and token usage) beside the branch, atomically. A re-run of
the same attempt (Ray retries after a worker died) that finds the branch pushed with its run
record returns that commit instead of running the agent again; the head then takes the outcome
and usage from the record, so the first run's spending is counted.
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import pygit2

from swarmgit.backends.base import AgentEvents, AgentJob, AgentOutcome, FailureKind
from swarmgit.backends.command import agent_caches
from swarmgit.backends.registry import get_agent
from swarmgit.config import Config
from swarmgit.crash_points import reached
from swarmgit.domain.fence import SandboxMode
from swarmgit.domain.plan import Task
from swarmgit.domain.secrets import Secrets, secrets_from_env
from swarmgit.engine.executors import run_record
from swarmgit.engine.executors.local import run_attempt
from swarmgit.engine.executors.run_record import record_ref
from swarmgit.engine.finalize import finalize
from swarmgit.engine.taskspace import notes_copy
from swarmgit.errors import WorkFailed
from swarmgit.fsutil import write_atomic
from swarmgit.gitops import hook_install
from swarmgit.gitops import remote as gitremote
from swarmgit.gitops.safe_git import run_git
from swarmgit.gitops.status import sparse_option
from swarmgit.process.home import own_home
from swarmgit.sandbox.fence import fence_decision, task_fence
from swarmgit.store.rows import TaskSpec
from swarmgit.store.state import Store
from swarmgit.store.task_scope import task_branch

RUN_TRAILER = "Swarm-Run"
LOG_TAIL_LINES = 200
START = "refs/swarm/start"  # the attempt's start ref, fetched into the worker's repository
MAX_EVENTS = 1000  # per attempt
MAX_EVENT_CHARS = 2000
MAX_KIND_CHARS = 40
# The head's values of these name its own folders or tools; the worker sets its own.
_NODE_LOCAL = (
    "PATH",
    "HOME",
    "TMPDIR",
    "TMP",
    "TEMP",
    "PWD",
    "OLDPWD",
    "VIRTUAL_ENV",
    "XDG_CONFIG_HOME",
    "XDG_CACHE_HOME",
    "XDG_DATA_HOME",
    "XDG_RUNTIME_DIR",
    "GIT_CONFIG_GLOBAL",
)


def start_ref(track: str, task: str) -> str:
    """Where the head puts an attempt's first commit for the workers to fetch."""
    return f"refs/swarm/{track}/start/{task}"


def branch_ref(track: str, task: str) -> str:
    return f"refs/heads/{task_branch(track, task)}"


@dataclass(frozen=True)
class RemoteAttempt:
    """What travels from the head to the worker (pickled by Ray)."""

    remote: str  # URL every node reaches
    track: str
    task: Task  # as in the head's plan.md
    run_id: str  # one per submitted attempt: Ray's re-runs share it
    start_commit: str  # the task's start point: scope and descent are checked from here
    first_commit: str  # where this attempt begins (the branch tip on the head; on start_ref)
    expect: str  # the branch's commit on the remote when submitted ('' absent)
    brief: str
    notes: str  # the track's shared context
    env: dict[str, str]  # the agent's environment on the head (node-local entries replaced)
    config: Config
    model: str
    budget_usd: float | None
    attempt: int
    port: int
    author: tuple[str, str]  # name, email of the head's commits


@dataclass(frozen=True)
class RemoteResult:
    """What travels back: the outcome and the branch's final commit (pushed when it moved)."""

    outcome: AgentOutcome
    final_commit: str
    report: str = ""
    notes: str = ""
    log_tail: str = ""
    node: str = ""
    reused: bool = False  # an earlier run of this attempt had pushed it already


def run_trailer(run_id: str) -> str:
    return f"{RUN_TRAILER}: {run_id}"


class EventQueue(Protocol):
    """Where a worker streams its agent's events for the head (a `ray.util.queue.Queue`)."""

    def put_nowait(self, item: tuple[str, str, str]) -> None: ...


def run_remote(spec: RemoteAttempt, events: EventQueue | None) -> RemoteResult:
    """The Ray task's body. Raises only for lost infrastructure (the remote unreachable);
    an agent's failure is a result. The agent's events go to `events` as they happen."""
    root = Path(tempfile.mkdtemp(prefix=f"swarm-{spec.task.id}-"))
    try:
        store = _fetch(spec, root / "repo.git")
        pushed = _pushed_before(spec, store)
        if pushed:
            return RemoteResult(AgentOutcome(ok=True), pushed, node=socket.gethostname(), reused=True)
        return _attempt(spec, store, _checkout(spec, store, root / "work"), root / "scratch", events)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _records(spec: RemoteAttempt) -> str:
    """The refspec fetching this task's run records to `refs/runs/<run id>`."""
    return f"+{record_ref(spec.track, spec.task.id, '*')}:refs/runs/*"


def _fetch(spec: RemoteAttempt, store: Path) -> Path:
    """A bare repository with the attempt's start ref and its task's run records, fetched in
    one call; git is configured in-process."""
    repo = pygit2.init_repository(str(store), bare=True)
    repo.config["user.name"], repo.config["user.email"] = spec.author
    gitremote.fetch_refs(
        store, spec.remote, f"+{start_ref(spec.track, spec.task.id)}:{START}", _records(spec)
    )
    first = str(repo.references[START].peel(pygit2.Commit).id)
    if first != spec.first_commit:
        raise RuntimeError(f"{start_ref(spec.track, spec.task.id)} moved: {first} is not {spec.first_commit}")
    return store


def _checkout(spec: RemoteAttempt, store: Path, worktree: Path) -> Path:
    """The task's branch checked out in a linked worktree of `store`: the layout of a task
    worktree on the head (its git folder outside the worktree), which the hook checks."""
    _git(
        store,
        "worktree",
        "add",
        "--quiet",
        "-b",
        task_branch(spec.track, spec.task.id),
        str(worktree),
        spec.first_commit,
    )
    return worktree


def _git(cwd: Path, *args: str) -> None:
    done = run_git(cwd, *args)
    if done.returncode != 0:
        raise RuntimeError(f"git {args[0]} failed: {done.stderr.strip()}")


def _pushed_before(spec: RemoteAttempt, store: Path) -> str:
    """The commit a run of this attempt pushed (its run record was fetched: the atomic push
    landed it with the branch), else ''. The head checks the branch and record again."""
    try:
        data = gitremote.read_blob(store, f"refs/runs/{spec.run_id}", run_record.MAX_BYTES)
    except WorkFailed:
        return ""
    return run_record.pushed_commit(data, spec.run_id)


def _install_hook(spec: RemoteAttempt, store: Path, worktree: Path) -> None:
    """The pre-commit hook as on the head (`hook_install`), with a run state in the clone
    holding this task's touches, so an agent's own commit outside them is refused at once."""
    hook_install.install(worktree)
    state = Store.open(store)
    try:
        state.sync_tasks(
            spec.track, [TaskSpec(id=spec.task.id, title=spec.task.title, touches=spec.task.touches)]
        )
    finally:
        state.close()


def _environment(
    spec: RemoteAttempt, worktree: Path, scratch: Path, brief: Path, report: Path
) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k in _NODE_LOCAL}
    env.update({k: v for k, v in spec.env.items() if k not in _NODE_LOCAL})
    env.update(own_home(scratch, env))
    shared = scratch / "track-notes.md"
    shared.write_text(spec.notes, encoding="utf-8")
    env.update(
        SWARM_WORKTREE=str(worktree),
        SWARM_REPORT=str(report),
        SWARM_BRIEF=str(brief),
        SWARM_REPO_ROOT=str(worktree),
        SWARM_PORT=str(spec.port),
        SWARM_SHARED_CONTEXT=str(notes_copy(shared, scratch)),
    )
    return env


def _streamer(spec: RemoteAttempt, secrets: Secrets, events: EventQueue | None) -> AgentEvents:
    """The agent's on_event on the worker: each event redacted, cut to MAX_EVENT_CHARS and put
    on `events` as (run id, kind, message) at once; after MAX_EVENTS, one last saying so. An
    event that cannot be put (the queue full or gone) is dropped: progress, not the result."""
    sent = 0

    def post(kind: str, message: str) -> None:
        nonlocal sent
        if events is None or sent > MAX_EVENTS:
            return
        sent += 1
        if sent > MAX_EVENTS:
            kind, message = "ray", f"more than {MAX_EVENTS} events: the rest are not shown"
        try:
            events.put_nowait((spec.run_id, kind[:MAX_KIND_CHARS], secrets.redact(message)[:MAX_EVENT_CHARS]))
        except Exception:  # the queue full or its actor lost: the attempt goes on
            pass

    return post


def _attempt(
    spec: RemoteAttempt, store: Path, worktree: Path, scratch: Path, events: EventQueue | None
) -> RemoteResult:
    scratch.mkdir(parents=True)
    brief, report, log = scratch / "brief.md", scratch / "report.md", scratch / "agent.log"
    brief.write_text(spec.brief, encoding="utf-8")
    _install_hook(spec, store, worktree)
    env = _environment(spec, worktree, scratch, brief, report)
    secrets = secrets_from_env(env)
    decision = fence_decision(spec.config.agent.sandbox)
    required = SandboxMode(spec.config.agent.sandbox) is SandboxMode.REQUIRED
    job = AgentJob(
        track=spec.track,
        task=spec.task,
        worktree=worktree,
        brief_file=brief,
        report_file=report,
        shared_context=Path(env["SWARM_SHARED_CONTEXT"]),
        log_file=log,
        env=env,
        config=spec.config,
        model=spec.model,
        budget_usd=spec.budget_usd,
        attempt=spec.attempt,
        pid_file=scratch / "agent.pid",
        fence=task_fence(worktree, spec.task.touches, scratch, required=required)
        if decision.fenced
        else None,
    )
    if decision.refusal:
        outcome = AgentOutcome(ok=False, diagnosis=decision.refusal, kind=FailureKind.SANDBOX)
    else:
        outcome = run_attempt(get_agent(spec.config), job, _streamer(spec, secrets, events))
    repo = pygit2.Repository(str(worktree))
    result = finalize(
        repo,
        spec.task,
        worktree,
        task_branch(spec.track, spec.task.id),
        spec.start_commit,
        secrets=secrets,
        exclude=agent_caches(spec.config),
        trailer=run_trailer(spec.run_id),
    )
    if outcome.ok and not result.ok:  # e.g. leftovers outside the touches: nothing committed
        outcome = AgentOutcome(ok=False, diagnosis=result.diagnosis, kind=result.kind, usage=outcome.usage)
    final = result.final_commit
    if final != spec.first_commit and _push(spec, repo, worktree, final, outcome):
        reached("ray-pushed")
    elif final != spec.first_commit:
        gitremote.fetch_refs(store, spec.remote, _records(spec))  # did a twin run of it push?
        pushed = _pushed_before(spec, store)
        if not pushed:
            outcome = AgentOutcome(
                ok=False,
                usage=outcome.usage,
                kind=FailureKind.PUSH_REFUSED,
                diagnosis=f"{task_branch(spec.track, spec.task.id)} on the remote "
                "was moved by someone else while this task ran",
            )
        final = pushed or spec.first_commit
    return RemoteResult(
        outcome,
        final,
        report=_text(report),
        notes=_text(Path(env["SWARM_SHARED_CONTEXT"])),
        log_tail=_tail(log),
        node=socket.gethostname(),
    )


def _push(
    spec: RemoteAttempt, repo: pygit2.Repository, worktree: Path, final: str, outcome: AgentOutcome
) -> bool:
    """Push the branch create-only with its run record beside it, atomically."""
    record = repo.create_blob(run_record.encode(spec.run_id, final, outcome))
    return gitremote.push_expecting(
        worktree,
        spec.remote,
        final,
        branch_ref(spec.track, spec.task.id),
        spec.expect,
        also=((str(record), record_ref(spec.track, spec.task.id, spec.run_id)),),
    )


def land(job: AgentJob, spec: RemoteAttempt, result: RemoteResult) -> AgentOutcome:
    """Bring a worker's attempt into the task's worktree on the head: its report, notes and
    log tail into the task's files, and its branch, once verified, checked out there."""
    if result.report:
        write_atomic(job.report_file, result.report)
    write_atomic(Path(job.env["SWARM_SHARED_CONTEXT"]), result.notes)
    ran = f"[ray] ran on {result.node}" + (" (already pushed by an earlier run)" if result.reused else "")
    with job.log_file.open("a", encoding="utf-8") as log:
        log.write("\n".join([*result.log_tail.splitlines(), ran]) + "\n")
    if result.final_commit == spec.first_commit and not result.reused:
        return result.outcome
    fetched = gitremote.fetch(job.worktree, spec.remote, branch_ref(spec.track, spec.task.id))
    if fetched != result.final_commit:
        raise WorkFailed(
            f"the remote's {branch_ref(spec.track, spec.task.id)} is {fetched}, "
            f"not the {result.final_commit} the worker reported"
        )
    if not gitremote.descends(job.worktree, spec.start_commit, fetched):
        raise WorkFailed(f"the pushed {fetched} does not descend from the start point {spec.start_commit}")
    outcome = _first_run(job, spec, fetched) if result.reused else result.outcome
    if (
        run_git(job.worktree, *sparse_option(job.worktree), "reset", "--quiet", "--hard", fetched).returncode
        != 0
    ):
        raise WorkFailed(f"cannot check out {fetched} in {job.worktree}")
    return outcome


def _first_run(job: AgentJob, spec: RemoteAttempt, pushed: str) -> AgentOutcome:
    """A re-run found the branch already pushed: the outcome and usage of the run that pushed
    it, from its run record on the remote (untrusted: bounded and validated)."""
    data = gitremote.fetch_blob(
        job.worktree, spec.remote, record_ref(spec.track, spec.task.id, spec.run_id), run_record.MAX_BYTES
    )
    return run_record.decode(data, spec.run_id, pushed)


def _text(path: Path) -> str:
    if path.is_symlink() or not path.is_file():
        return ""
    return path.read_text(encoding="utf-8", errors="replace")


def _tail(path: Path) -> str:
    return "\n".join(_text(path).splitlines()[-LOG_TAIL_LINES:])
