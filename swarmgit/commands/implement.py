"""`git swarm implement` / `resume`: run a track to the end, then report what happened."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

from swarmgit.commands.report import announce
from swarmgit.domain.events import EventSink
from swarmgit.domain.secrets import Secrets
from swarmgit.engine.dispatch import RunSummary
from swarmgit.engine.integration_report import Integration
from swarmgit.engine.notify import notifier, tee
from swarmgit.engine.track_run import TrackOutcome, implement_track, run_one
from swarmgit.engine.workspace import Workspace, read_plan, resolve_track
from swarmgit.errors import EXIT_OK, EXIT_WORK_FAILED, UsageError
from swarmgit.gates.runner import render_table
from swarmgit.store.state import Store

Echo = Callable[[str], None]
QUIET_KINDS = frozenset({"output"})
MESSAGE_WIDTH = 100
MORE_LINES = 8


def redacting(echo: Echo, secrets: Secrets) -> Echo:
    """`echo` printing every line redacted of the secret values."""
    return lambda line: echo(secrets.redact(line))


def progress_printer(echo: Echo, secrets: Secrets) -> Callable[[str, str, str | None], None]:
    """An event sink that prints each event with the time since the run started, redacted
    before it is cut to the terminal's width (a cut secret would not be recognised)."""
    started = time.monotonic()

    def emit(kind: str, message: str, task: str | None) -> None:
        if kind in QUIET_KINDS:
            return
        elapsed = time.monotonic() - started
        first, *rest = secrets.redact(message).splitlines() or [""]
        if len(first) > MESSAGE_WIDTH:
            first = first[: MESSAGE_WIDTH - 1] + "…"
        echo(f"[{elapsed:6.1f}s] {kind:<9} {first}")
        for line in rest[:MORE_LINES]:
            echo(f"{'':20}{line}")

    return emit


def summarize(track: str, summary: RunSummary) -> list[str]:
    """The closing lines: counts, then every task that did not finish and why."""
    total = len(summary.done) + len(summary.failed) + len(summary.blocked) + len(summary.waiting)
    lines = [f"track {track}: {len(summary.done)}/{total} tasks done"]
    for label, items in (
        ("failed", summary.failed),
        ("blocked", summary.blocked),
        ("waiting", summary.waiting),
    ):
        for task, reason in items.items():
            first, *rest = (reason or "no reason recorded").splitlines()
            lines.append(f"  {task} {label}: {first}")
            lines.extend(f"      {line}" for line in rest[:12])
    if summary.paused:
        lines.append(f"paused: {summary.paused}")
    if summary.failed:
        lines.append(
            "retry a failed task with `git swarm retry <task>` after reading its log in "
            f"swarm/tracks/{track}/logs/"
        )
    return lines


def describe_integration(track: str, result: Integration) -> list[str]:
    lines = [
        f"integration: {result.verdict} ({len(result.merged)} task change(s) applied to "
        f"swarm/{track}/integration as {result.history} history)"
    ]
    if result.gates is not None:
        lines += render_table(result.gates).splitlines()
    lines += [f"  {tid} not merged: {why}" for tid, why in result.rejected.items()]
    lines += [f"  note: {tid}: {why}" for tid, why in result.notes.items()]
    if result.conflict:
        lines.append(f"  conflict: {result.conflict}")
    if result.target_gates is not None:
        lines.append("gates on the merge with the target, which moved during the run:")
        lines += render_table(result.target_gates).splitlines()
    if result.advanced:
        lines.append(f"advanced {result.advanced}")
    if result.held:
        lines.append(f"  {result.held}")
    lines.append(f"report: swarm/tracks/{track}/iosm_report.md")
    return lines


def implement(ws: Workspace, track: str | None, echo: Echo) -> int:
    """Run every task of the track, integrate and gate; exit 0 when all are done and the
    gates approved, 1 otherwise (each reason is printed)."""
    track_id = resolve_track(ws, track)
    read_plan(ws, track_id)  # a plan that does not read (or has no task) stops here: nothing written
    echo = redacting(echo, ws.secrets)
    for warning in read_plan(ws, track_id)[0].warnings:  # what `plan check` would say
        echo(warning.render())
    notify = notifier(
        ws.config.notify.command, track_id, ws.root, ws.config.notify.timeout_seconds, ws.secrets
    )
    outcome = implement_track(
        ws, track_id, tee(progress_printer(echo, ws.secrets), notify), interactive=sys.stdin.isatty()
    )
    for line in summarize(track_id, outcome.summary):
        echo(line)
    if outcome.integration is not None:
        for line in describe_integration(track_id, outcome.integration):
            echo(line)
    announce(ws, track_id, echo)
    _notify_end(ws, track_id, outcome, tee(_recorder(ws, track_id), notify))
    return EXIT_OK if outcome.ok else EXIT_WORK_FAILED


def _recorder(ws: Workspace, track: str) -> EventSink:
    """An event sink that appends to the track's event log (watch reads it)."""

    def record(kind: str, message: str, task: str | None) -> None:
        with Store.open(ws.common_dir, ws.secrets) as store:
            store.add_event(track, kind, message, task)

    return record


def _notify_end(ws: Workspace, track: str, outcome: TrackOutcome, sink: EventSink) -> None:
    """Tell the user which tasks wait for them, and that the run ended and how."""
    needing = {t.id for t in read_plan(ws, track)[0].tasks if t.needs_user_input}
    for task in outcome.summary.waiting:
        if task in needing:
            sink("needs-input", f"{task} needs you: run it with `git swarm run {task}`", task)
    verdict = "ok" if outcome.ok else "work failed or waits"
    sink("ended", f"run of {track} ended: {verdict}", None)


def run_task(ws: Workspace, track: str | None, task: str, echo: Echo) -> int:
    """Run one task in the foreground; exit 0 when it is done."""
    track_id = resolve_track(ws, track)
    if task not in read_plan(ws, track_id)[0].ids:
        raise UsageError(f"no task {task!r} in swarm/tracks/{track_id}/plan.md")
    echo = redacting(echo, ws.secrets)
    summary = run_one(ws, track_id, task, progress_printer(echo, ws.secrets))
    if task in summary.done:
        echo(f"{task} done")
        return EXIT_OK
    if summary.refused:
        raise UsageError(f"{task} cannot start now: {summary.refused}")
    reason = {**summary.failed, **summary.blocked, **summary.waiting}.get(task, "did not start")
    echo(f"{task} not done: {reason}")
    return EXIT_WORK_FAILED
