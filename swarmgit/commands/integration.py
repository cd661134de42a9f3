"""`git swarm integrate` and `git swarm gates`."""

from __future__ import annotations

import json
from collections.abc import Callable

from swarmgit.commands.implement import describe_integration, progress_printer, redacting
from swarmgit.commands.report import announce
from swarmgit.engine.integrate import integrate
from swarmgit.engine.track_run import claimed
from swarmgit.engine.workspace import Workspace, resolve_track
from swarmgit.errors import EXIT_OK, EXIT_WORK_FAILED
from swarmgit.gates.runner import render_table, run_gates, to_json
from swarmgit.gitops import repo as gitrepo

Echo = Callable[[str], None]


def integrate_track(
    ws: Workspace,
    track: str | None,
    echo: Echo,
    *,
    target: str | None,
    advance: bool,
    partial: bool,
    accept_repo_changes: bool = False,
) -> int:
    """Merge the done branches, gate the result, advance the target on APPROVED.
    `accept_repo_changes`: the user inspected the git files that changed during tasks; their
    holds are dropped first (the tasks stay failed)."""
    track_id = resolve_track(ws, track)
    echo = redacting(echo, ws.secrets)
    with claimed(ws, track_id) as store:
        if accept_repo_changes:
            accepted = store.clear_tamper_holds(track_id, "changes to the git files accepted by the user")
            for task, message in accepted.items():
                echo(f"accepted the git file changes made while {task} ran:")
                echo("\n".join(line for line in message.splitlines()[1:] if line.startswith("  ")))
            if not accepted:
                echo("no git file changes were waiting to be accepted")
        result = integrate(
            ws,
            store,
            track_id,
            progress_printer(echo, ws.secrets),
            target=target,
            advance=advance,
            partial=partial,
        )
    for line in describe_integration(track_id, result):
        echo(line)
    announce(ws, track_id, echo)
    if result.spawned:
        echo(
            "fix tasks for the gate findings were added to plan.md: "
            f"`git swarm implement {track_id}` runs them"
        )
    return EXIT_OK if result.ok else EXIT_WORK_FAILED


def gates(ws: Workspace, base: str, head: str, as_json: bool, echo: Echo) -> int:
    """Run the four gates on any two commits; exit 1 when the index is under the threshold."""
    repo = gitrepo.discover(ws.root)
    report = run_gates(
        ws.root,
        gitrepo.resolve(repo, base),
        gitrepo.resolve(repo, head),
        ws.config.gates,
        ws.config.agent.sandbox,
    )
    echo(json.dumps(to_json(report), indent=2) if as_json else render_table(report))
    return EXIT_OK if report.passed else EXIT_WORK_FAILED
