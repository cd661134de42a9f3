"""`git swarm`: the command line. Thin by design: parse, call one function, render, exit.

Every SwarmError becomes one clear message and its exit code (0 ok, 1 work failed,
2 bad input); anything unexpected is a bug: exit 3 with a crash log (`--debug` shows the
traceback).
"""

from __future__ import annotations

import functools
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from swarmgit import __version__
from swarmgit.errors import EXIT_BUG, InvalidInput, SwarmError

F = TypeVar("F", bound=Callable[..., Any])
CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}
TRACK = click.argument("track", required=False)


def fail(message: str) -> None:
    click.echo(f"swarm: error: {message}", err=True)


def run_guarded(debug: bool, body: Callable[[], int | None]) -> int:
    """Run a command body under the one error handler; returns the exit code."""
    try:
        return body() or 0
    except InvalidInput as exc:
        for diagnostic in exc.diagnostics:
            click.echo(diagnostic.render(), err=True)
        return exc.exit_code
    except SwarmError as exc:
        fail(str(exc))
        return exc.exit_code
    except KeyboardInterrupt:
        fail("interrupted")
        return 130
    except Exception as exc:  # the single place unexpected errors (bugs) are reported
        if debug:
            traceback.print_exc()
        from swarmgit.crash_log import redacted, write_crash_log

        log = write_crash_log(exc, Path.cwd())
        fail(
            redacted(
                f"unexpected {type(exc).__name__}: {exc}\nThis is a bug in swarmgit: the "
                f"crash log is {log} (please attach it to a report; --debug shows the "
                "traceback here)"
            )
        )
        return EXIT_BUG


def exits(fn: F) -> F:
    """Make a command function's return value its exit code, under the one error handler."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        ctx = click.get_current_context()
        debug = bool(ctx.find_root().params.get("debug"))
        ctx.exit(run_guarded(debug, lambda: fn(*args, **kwargs)))

    return wrapper  # type: ignore[return-value]


@click.group(context_settings=CONTEXT)
@click.version_option(__version__, prog_name="git swarm")
@click.option("--debug", is_flag=True, help="Show tracebacks of unexpected errors.")
def main(debug: bool) -> None:
    """git swarm: run many coding agents on one feature without letting them trample each other.

    \b
    A track's plan.md lists tasks with dependencies and declared touches. Each task runs in its
    own worktree on branch swarm/<track>/<task> as soon as its dependencies are done and its
    touches collide with nothing running; a pre-commit hook refuses commits outside the touches;
    the integrator lands each task's change in order and moves your branch only if the gates pass.

    \b
    Typical day:
      git swarm init
      git swarm new-track "Add Redis caching"
      git swarm plan check add-redis-caching
      git swarm simulate add-redis-caching
      git swarm implement add-redis-caching
      git log swarm/add-redis-caching/T03

    Exit codes: 0 success, 1 the work failed, 2 bad input or usage.
    """


def _ws() -> Any:
    from swarmgit.engine.workspace import open_workspace

    return open_workspace(Path.cwd())


@main.command("init", context_settings=CONTEXT)
@exits
def init_cmd() -> int:
    """Set up swarmgit here: .swarm.toml, swarm/tracks/, the pre-commit hook.

    Safe to run again: it changes nothing that exists and says so.

    Example: git swarm init
    """
    from swarmgit.commands.init import init

    for line in init(Path.cwd()):
        click.echo(line)
    return 0


@main.command("new-track", context_settings=CONTEXT)
@click.argument("description")
@click.option("--id", "track_id", help="Track id (default: a slug of the description).")
@click.option(
    "--no-llm", is_flag=True, help="Write the offline templates even when ANTHROPIC_API_KEY is set."
)
@click.option("--yes", "-y", is_flag=True, help="Take the default answer to every planning question.")
@click.option(
    "--greenfield/--brownfield",
    default=None,
    help="A new project, or a change to existing code (default: asked; guessed from the repo).",
)
@click.option("--priority", "priorities", multiple=True, help="What matters most (repeatable).")
@click.option("--constraint", "constraints", multiple=True, help="A constraint to respect (repeatable).")
@exits
def new_track_cmd(
    description: str,
    track_id: str | None,
    no_llm: bool,
    yes: bool,
    greenfield: bool | None,
    priorities: tuple[str, ...],
    constraints: tuple[str, ...],
) -> int:
    """Create swarm/tracks/<id>/ with PRD.md, spec.md and plan.md.

    With ANTHROPIC_API_KEY set, the architect's model reads the repo and writes all three after
    a few questions; its plan is checked like `plan check` and sent back with the errors until
    valid. Without a key, or with --no-llm, templates are used (swarm/templates/ overrides the
    bundled ones).

    Example: git swarm new-track "Add Redis caching" --id redis --brownfield --priority latency -y
    """
    import sys

    from swarmgit.commands.new_track import Planning, new_track
    from swarmgit.engine.seed import BROWNFIELD, GREENFIELD, Question, Seed

    def ask(question: Question) -> str:
        kind = click.Choice(question.choices) if question.choices else None
        return str(click.prompt(question.prompt, default=question.default, type=kind))

    mode = None if greenfield is None else (GREENFIELD if greenfield else BROWNFIELD)
    interactive = not yes and sys.stdin.isatty()
    planning = (
        None
        if no_llm
        else Planning(seed=Seed(mode, priorities, constraints), ask=ask if interactive else None)
    )
    ws = _ws()
    folder = new_track(ws, description, track_id, planning=planning, echo=click.echo)
    rel = folder.relative_to(ws.root)
    click.echo(f"created {rel}/ (PRD.md, spec.md, plan.md)")
    click.echo(f"next: review {rel}/plan.md, then `git swarm plan check {folder.name}`")
    return 0


@main.group("plan", context_settings=CONTEXT)
def plan_group() -> None:
    """Check a track's plan."""


@plan_group.command("check", context_settings=CONTEXT)
@TRACK
@exits
def plan_check_cmd(track: str | None) -> int:
    """Parse plan.md: errors (exit 2), warnings, and the lock plan.

    Errors name the file and line: duplicate ids, unknown deps, cycles, bad effort, touches
    that escape the repo, write tasks without touches, near misses of a field ("did you mean
    **Depends on:**?"), task lines that do not parse. Warnings: lines kept but not understood
    (unknown fields), over-broad touches, tasks that can never run in parallel, write-shared
    tasks, missing acceptance.

    Example: git swarm plan check redis
    """
    from swarmgit.commands.planning import plan_check

    click.echo(plan_check(_ws(), track))
    return 0


@main.command("simulate", context_settings=CONTEXT)
@TRACK
@click.option(
    "--workers", type=click.IntRange(1, 1000), help="Parallel workers (default: concurrency.max_parallel)."
)
@click.option(
    "--executor",
    type=click.Choice(["local", "ray"]),
    default=None,
    help="ray: predict a cluster run of --nodes nodes with --slots agent slots each.",
)
@click.option("--nodes", type=click.IntRange(1, 100000), help="With --executor ray: the cluster's nodes.")
@click.option("--slots", type=click.IntRange(1, 1000), help="With --executor ray: agent slots per node.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@exits
def simulate_cmd(
    track: str | None,
    workers: int | None,
    executor: str | None,
    nodes: int | None,
    slots: int | None,
    as_json: bool,
) -> int:
    """Run the real scheduler on a simulated clock from the tasks' efforts.

    Prints an ASCII timeline, serial hours, the parallel makespan, speedup, the critical path,
    and the makespan the same plan gets with wave barriers.

    Example: git swarm simulate redis --workers 3
             git swarm simulate redis --executor ray --nodes 20 --slots 4
    """
    from swarmgit.commands.planning import cluster_workers, simulate_track

    workers = cluster_workers(executor, nodes, slots, workers)
    click.echo(simulate_track(_ws(), track, workers, as_json))
    return 0


@main.command("graph", context_settings=CONTEXT)
@TRACK
@click.option(
    "--format", "fmt", type=click.Choice(["mermaid", "dot", "ascii"]), default="ascii", show_default=True
)
@exits
def graph_cmd(track: str | None, fmt: str) -> int:
    """Print the dependency graph; lock-order edges (overlapping touches) are dashed.

    Example: git swarm graph redis --format mermaid
    """
    from swarmgit.commands.planning import graph_track

    click.echo(graph_track(_ws(), track, fmt))
    return 0


@main.command("implement", context_settings=CONTEXT)
@TRACK
@exits
def implement_cmd(track: str | None) -> int:
    """Run the track: continuous dispatch until every task is done, failed or blocked.

    Each task gets branch swarm/<track>/<task> and its own worktree, starting the moment its
    dependencies are done and its touches collide with nothing running. Exit 0 when all are
    done, 1 when any failed or is blocked (each is named with its reason).

    Example: git swarm implement redis
    """
    from swarmgit.commands.implement import implement

    return implement(_ws(), track, click.echo)


@main.command("status", context_settings=CONTEXT)
@TRACK
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@exits
def status_cmd(track: str | None, as_json: bool) -> int:
    """Tasks with status, branch, duration, cost and the locks they hold.

    Example: git swarm status redis --json
    """
    from swarmgit.commands.status import status

    click.echo(status(_ws(), track, as_json))
    return 0


@main.group("hook", context_settings=CONTEXT)
def hook_group() -> None:
    """Install, remove or run the scope-enforcing pre-commit hook."""


@hook_group.command("install", context_settings=CONTEXT)
@exits
def hook_install_cmd() -> int:
    """Install the pre-commit hook (an existing hook is kept and still runs)."""
    from swarmgit.gitops.hook_install import install

    hook = install(_ws().root)
    click.echo(f"pre-commit hook {hook.outcome}: {hook.hook}")
    return 0


@hook_group.command("uninstall", context_settings=CONTEXT)
@exits
def hook_uninstall_cmd() -> int:
    """Remove the hook and restore the one that was there before, byte for byte."""
    from swarmgit.gitops.hook_install import uninstall

    click.echo(f"pre-commit hook: {uninstall(_ws().root)}")
    return 0


@main.command("demo", context_settings=CONTEXT)
@click.argument("directory", required=False, type=click.Path(file_okay=False, path_type=Path))
@exits
def demo_cmd(directory: Path | None) -> int:
    """Build an example repo and run a whole track in it, offline.

    Creates a small Python service in DIRECTORY (default: a new temp folder; either is left in
    place and named) and runs init, new-track, plan check, simulate, graph, implement, status,
    show and report, saying what each step shows.

    Example: git swarm demo /tmp/swarm-demo
    """
    from swarmgit.commands.demo import run_demo

    run_demo(directory, click.echo)
    return 0


@main.command("integrate", context_settings=CONTEXT)
@TRACK
@click.option(
    "--target",
    help="Branch to advance (default: integrate.target, else the branch checked out at implement).",
)
@click.option("--no-advance", is_flag=True, help="Only merge, gate and report; move no user branch.")
@click.option("--partial", is_flag=True, help="Advance even when some planned tasks are not done.")
@click.option(
    "--accept-repo-changes",
    is_flag=True,
    help=(
        "You inspected the git files (.git/config, hooks, info) that changed while tasks ran: lift the hold."
    ),
)
@exits
def integrate_cmd(
    track: str | None, target: str | None, no_advance: bool, partial: bool, accept_repo_changes: bool
) -> int:
    """Land finished tasks' changes in order, re-check them, run the gates, write iosm_report.md.

    Each task's change (start point -> final commit, never its history) is applied in memory
    onto swarm/<track>/integration, one commit per task with Swarm-* trailers (integrate.history);
    your working tree is untouched. The target advances only when the gates approve, and only to
    a gated commit (a target that moved is merged and gated again), never by force. Exit 1 when
    rejected or held. If the repository's git files (.git/config, hooks, info) changed while a
    task ran, the target stays until --accept-repo-changes.

    Example: git swarm integrate redis --no-advance
    """
    from swarmgit.commands.integration import integrate_track

    return integrate_track(
        _ws(),
        track,
        click.echo,
        target=target,
        advance=not no_advance,
        partial=partial,
        accept_repo_changes=accept_repo_changes,
    )


@main.command("gates", context_settings=CONTEXT)
@click.option("--base", default="HEAD~1", show_default=True, help="The commit the change is judged against.")
@click.option("--head", default="HEAD", show_default=True, help="The commit to judge.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@exits
def gates_cmd(base: str, head: str, as_json: bool) -> int:
    """Run the static IOSM gates (Improve, Optimize, Modularize, Shrink) on any repository.

    Judges what changed between BASE and HEAD, not old debts. Exit 1 when the IOSM index is
    under gates.threshold.

    Example: git swarm gates --base main --head my-feature
    """
    from swarmgit.commands.integration import gates

    return gates(_ws(), base, head, as_json, click.echo)


@main.command("resume", context_settings=CONTEXT)
@TRACK
@click.option("--budget", type=click.FloatRange(0), help="Raise the track's budget (USD) and go on.")
@exits
def resume_cmd(track: str | None, budget: float | None) -> int:
    """Carry on after a crash, a kill -9 or a reboot, or after the budget paused the run.

    Tasks whose agent is gone are re-run in their worktrees with their committed work kept;
    no lock stays held by a dead task.

    Example: git swarm resume redis --budget 20
    """
    from swarmgit.commands.recovery import resume

    return resume(_ws(), track, budget, click.echo)


@main.command("retry", context_settings=CONTEXT)
@click.argument("task")
@click.option("--track", help="The track (needed only when several tracks have this task id).")
@click.option("--reset", is_flag=True, help="Start the task's branch afresh from its start point.")
@exits
def retry_cmd(task: str, track: str | None, reset: bool) -> int:
    """Run a failed or blocked task again, with a diagnosis of the last attempt in its brief.

    Retries per task are bounded by agent.max_retries. --reset refuses when the task's
    worktree has uncommitted changes.

    Example: git swarm retry T03 --reset
    """
    from swarmgit.commands.recovery import retry

    return retry(_ws(), task, track, reset, click.echo)


@main.command("show", context_settings=CONTEXT)
@click.argument("task")
@click.option("--track", help="The track (needed only when several tracks have this task id).")
@exits
def show_cmd(task: str, track: str | None) -> int:
    """One task's own change (start point -> final commit) with its story.

    Status, start point, attempts, time, cost, report summary and spawned tasks, then a stat
    and the diff, through git's pager. Stacked tasks show only their own change; a read-only
    task shows none.

    Example: git swarm show T03
    """
    from swarmgit.commands.show import page, show

    ws = _ws()
    return show(ws, task, track, page(ws.root))


@main.command("diff", context_settings=CONTEXT)
@click.argument("task")
@click.option("--track", help="The track (needed only when several tracks have this task id).")
@exits
def diff_cmd(task: str, track: str | None) -> int:
    """Print the plain unified diff of one task's own change, for tools (no pager).

    Example: git swarm diff T03 | git apply --stat
    """
    from swarmgit.commands.show import diff

    return diff(_ws(), task, track, click.echo)


@main.command("review", context_settings=CONTEXT)
@TRACK
@click.option("--as", "reviewer", help="Reviewer name for Swarm-Reviewed-By (default: your git identity).")
@exits
def review_cmd(track: str | None, reviewer: str | None) -> int:
    """Walk the finished tasks in integration order like a stack of pull requests.

    Each task is shown as `git swarm show` does; then accept it (a), reject it with a message
    (r), skip it (s) or quit (q). A rejected task runs again with your words in its brief, and
    every task built on it is re-based and run again.

    Example: git swarm review redis
    """
    from swarmgit.commands.review import review

    return review(_ws(), track, reviewer, click.echo, lambda question: click.prompt(question, default="s"))


@main.command("accept", context_settings=CONTEXT)
@click.argument("tasks", nargs=-1, required=True)
@click.option("--track", help="The track (needed only when there are several).")
@click.option("--as", "reviewer", help="Reviewer name for Swarm-Reviewed-By (default: your git identity).")
@exits
def accept_cmd(tasks: tuple[str, ...], track: str | None, reviewer: str | None) -> int:
    """Accept done tasks' work: their landed commits carry Swarm-Reviewed-By.

    With review.required = true the target advances only once every landing task is accepted.

    Example: git swarm accept T01 T02
    """
    from swarmgit.commands.review import accept_tasks

    return accept_tasks(_ws(), track, tasks, reviewer, click.echo)


@main.command("reject", context_settings=CONTEXT)
@click.argument("task")
@click.option("-m", "--message", required=True, help="Why: it goes into the task's next brief.")
@click.option("--track", help="The track (needed only when there are several).")
@click.option("--as", "reviewer", help="Reviewer name (default: your git identity).")
@exits
def reject_cmd(task: str, message: str, track: str | None, reviewer: str | None) -> int:
    """Send a done task back with your words; re-base and re-run everything built on it.

    Its dependents and the tasks lock-ordered after it lose their branches (kept under
    refs/swarm/<track>/replaced/) and run again from a new start point, so nothing built on
    rejected work can land.

    Example: git swarm reject T03 -m "cache keys must include the tenant id"
    """
    from swarmgit.commands.review import reject_task

    return reject_task(_ws(), track, task, message, reviewer, click.echo)


@main.command("report", context_settings=CONTEXT)
@TRACK
@click.option(
    "--html",
    "html_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the page (default: swarm/tracks/<track>/run_report.html).",
)
@exits
def report_cmd(track: str | None, html_file: Path | None) -> int:
    """Write the run as one self-contained HTML page (no network, no external assets).

    The real timeline beside simulate's prediction, the task graph with lock-order edges,
    every task (status, start point, time, cost, files, +/-), the gates with findings linked
    to their tasks, and the spend over time. implement and integrate write it too.

    Example: git swarm report redis --html /tmp/redis.html
    """
    from swarmgit.commands.report import report

    return report(_ws(), track, html_file, click.echo)


@main.group("task", context_settings=CONTEXT)
def task_group() -> None:
    """Change a task's state by hand."""


@task_group.command("update", context_settings=CONTEXT)
@click.argument("task")
@click.option("--status", required=True, type=click.Choice(["done", "failed", "blocked", "todo"]))
@click.option("--track", help="The track (needed only when several tracks have this task id).")
@exits
def task_update_cmd(task: str, status: str, track: str | None) -> int:
    """Set a task's status; plan.md's checkbox follows.

    Example: git swarm task update T04 --status done
    """
    from swarmgit.commands.recovery import update_task

    return update_task(_ws(), task, track, status, click.echo)


@main.command("watch", context_settings=CONTEXT)
@TRACK
@click.option(
    "--interval",
    type=click.FloatRange(0.1),
    default=1.0,
    show_default=True,
    help="Seconds between refreshes.",
)
@click.option("--once", is_flag=True, help="Print one frame and exit.")
@exits
def watch_cmd(track: str | None, interval: float, once: bool) -> int:
    """A live view of a track: tasks, elapsed time, cost, locks and the last events.

    Works while `git swarm implement` runs in another terminal; ends when the run ends or on
    Ctrl-C.

    Example: git swarm watch redis
    """
    from swarmgit.commands.watch import watch

    return watch(_ws(), track, interval, once)


@main.command("clean", context_settings=CONTEXT)
@TRACK
@click.option("--dry-run", is_flag=True, help="Say what would go; change nothing.")
@click.option("--branches", is_flag=True, help="Also delete task branches already in the target branch.")
@exits
def clean_cmd(track: str | None, dry_run: bool, branches: bool) -> int:
    """Remove task worktrees whose work is committed and integrated; prune git's records.

    Never deletes a worktree with uncommitted changes or a branch with unintegrated commits;
    says which it kept and why.

    Example: git swarm clean redis --dry-run
    """
    from swarmgit.commands.clean import clean

    return clean(_ws(), track, dry_run, branches, click.echo)


@main.group("spawn", context_settings=CONTEXT)
def spawn_group() -> None:
    """Spawn candidates from agents' reports that wait for you (user input, critical, budget)."""


@spawn_group.command("list", context_settings=CONTEXT)
@TRACK
@click.option("--all", "show_all", is_flag=True, help="Also list spawned, rejected and other candidates.")
@exits
def spawn_list_cmd(track: str | None, show_all: bool) -> int:
    """List the candidates that wait for a decision, by dedup key.

    Example: git swarm spawn list redis
    """
    from swarmgit.commands.spawn import list_candidates

    return list_candidates(_ws(), track, show_all, click.echo)


@spawn_group.command("accept", context_settings=CONTEXT)
@click.argument("key")
@click.option("--track", help="The track (default: the only one).")
@exits
def spawn_accept_cmd(key: str, track: str | None) -> int:
    """Turn a waiting candidate into a plan task (SC-NN).

    Example: git swarm spawn accept cache-eviction --track redis
    """
    from swarmgit.commands.spawn import decide

    return decide(_ws(), track, key, True, click.echo)


@spawn_group.command("reject", context_settings=CONTEXT)
@click.argument("key")
@click.option("--track", help="The track (default: the only one).")
@exits
def spawn_reject_cmd(key: str, track: str | None) -> int:
    """Drop a waiting candidate; its dedup key stays known, so it is not proposed again.

    Example: git swarm spawn reject cache-eviction --track redis
    """
    from swarmgit.commands.spawn import decide

    return decide(_ws(), track, key, False, click.echo)


@hook_group.command("check", context_settings=CONTEXT)
@exits
def hook_check_cmd() -> int:
    """Run the hook's scope check on this worktree's staged changes, by hand.

    In a task worktree (branch swarm/<track>/<task>) every staged path must lie within the
    task's touches; exit 1 lists the paths outside.

    Example: git swarm hook check
    """
    from swarmgit.hookcheck import main as check

    return check([])


@main.command("run", context_settings=CONTEXT)
@click.argument("task")
@click.option("--track", help="The track (default: the only one).")
@exits
def run_cmd(task: str, track: str | None) -> int:
    """Run one task now, in the foreground slot.

    Tasks marked `Needs user input: true` wait as needs-input when `implement` has no
    terminal; run them with this. It starts as soon as its dependencies are done and no
    running task holds a lock it needs (else exit 2, naming them), whatever the whole plan's
    dispatch would start first.

    Example: git swarm run T05 --track redis
    """
    from swarmgit.commands.implement import run_task

    return run_task(_ws(), track, task, click.echo)


def run() -> None:
    """Console-script entry point (`git-swarm`, `swarmgit`): usage reads `git swarm`."""
    main(prog_name="git swarm")
