"""`git swarm demo`: a bundled example repo and track, run end to end, offline.

It builds a small Python service in DIR (default: a new temp folder, left in place and named
at the start and the end), then runs the real commands one after another as a user would,
each printed before it runs with a line saying what it shows: init, new-track, plan check,
simulate (continuous dispatch against wave barriers), graph, implement (script agents in real
worktrees under the write fence), status, a review of one task, and the HTML run report.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Callable, Sequence
from importlib import resources
from importlib.abc import Traversable
from pathlib import Path

from swarmgit.commands.planning import simulate_track
from swarmgit.engine.run_report import report_path
from swarmgit.engine.workspace import open_workspace
from swarmgit.errors import UsageError, WorkFailed
from swarmgit.gitops.safe_git import run_git
from swarmgit.sandbox.fence import unavailable
from swarmgit.store.state import Store

DEMO_TRACK = "demo"
REVIEWED_TASK = "T05"  # started from T02, T03 and T04's work, yet changed one file itself
Echo = Callable[[str], None]


def _copy_tree(source: Traversable, target: Path) -> None:
    for entry in source.iterdir():
        if entry.name == "__pycache__":
            continue
        if entry.is_dir():
            (target / entry.name).mkdir(exist_ok=True)
            _copy_tree(entry, target / entry.name)
        else:
            (target / entry.name).write_bytes(entry.read_bytes())


def _git(repo: Path, *args: str) -> None:
    done = run_git(repo, *args)
    if done.returncode != 0:
        raise WorkFailed(f"git {args[0]} failed in {repo}: {done.stderr.strip()}")


def _has_identity(repo: Path) -> bool:
    return run_git(repo, "var", "GIT_COMMITTER_IDENT").returncode == 0


def build_demo_repo(target: Path) -> Path:
    """The example service as a fresh repository with one commit, swarmgit initialised."""
    if target.exists() and any(target.iterdir()):
        raise UsageError(f"{target} is not empty: give `git swarm demo` a new or empty folder")
    target.mkdir(parents=True, exist_ok=True)
    demo = resources.files("swarmgit.templates").joinpath("demo-track")
    _copy_tree(demo.joinpath("repo"), target)
    _git(target, "init", "-q", "-b", "main")
    if not _has_identity(target):
        _git(target, "config", "user.name", "swarm demo")
        _git(target, "config", "user.email", "demo@swarmgit.invalid")
    _git(target, "add", "-A")
    _git(target, "commit", "-q", "-m", "weather-svc: forecasts by city")
    return target


def _say(echo: Echo, text: str) -> None:
    """A line of the demo's own commentary, shown as a shell comment."""
    echo("\n" + "\n".join(textwrap.wrap(text, width=96, initial_indent="# ", subsequent_indent="# ")))


def _step(echo: Echo, cwd: Path, argv: Sequence[str], ok_codes: Sequence[int] = (0,)) -> int:
    shown = " ".join(shlex.quote(a) for a in argv)
    echo(f"$ {shown}")
    command = [sys.executable, "-m", "swarmgit", *argv[2:]] if argv[:2] == ["git", "swarm"] else list(argv)
    env = dict(os.environ, COLUMNS=os.environ.get("COLUMNS", "100"))
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, env=env)
    for text in (done.stdout, done.stderr):
        if text.strip():
            echo(text.rstrip())
    if done.returncode not in ok_codes:
        raise WorkFailed(f"demo step failed (exit {done.returncode}): {shown}")
    return done.returncode


def _prediction(repo: Path) -> dict[str, float]:
    """What `simulate --json` prints for the demo track."""
    sim: dict[str, float] = json.loads(simulate_track(open_workspace(repo), DEMO_TRACK, None, as_json=True))
    return sim


def dispatch_against_waves(sim: dict[str, float]) -> str:
    """`simulate`'s makespans, continuous dispatch against wave barriers, said in a sentence."""
    ours, waves, serial = sim["makespan_hours"], sim["waves_makespan_hours"], sim["serial_hours"]
    return (
        f"continuous dispatch: {ours:.1f} h vs waves: {waves:.1f} h (serial: {serial:.1f} h). "
        f"Starting each task the moment its dependencies are done and its files are free saves "
        f"{waves - ours:.1f} h over waiting for each wave to finish: T07 starts when T02 is done, "
        f"not when the slow T03 is."
    )


def real_run_seconds(repo: Path) -> float:
    """From the first task's start to the last task's end, as the run state recorded them."""
    ws = open_workspace(repo)
    with Store.open(ws.common_dir, ws.secrets) as store:
        rows = store.tasks(DEMO_TRACK)
    starts = [r.started_at for r in rows if r.started_at is not None]
    ends = [r.finished_at for r in rows if r.finished_at is not None]
    return max(ends) - min(starts) if starts and ends else 0.0


def _fence_note() -> str:
    why = unavailable()
    if why:
        return (
            f"T06 tried to append to app/service.py, outside its touches. This machine has no "
            f"write fence ({why}), so the edit was made, and T06's script undid it; otherwise "
            f"swarmgit's scope check would have refused to commit it."
        )
    return (
        "T06 tried to append to app/service.py, outside its touches: the write fence (Landlock, "
        'built from the task\'s touches) refused the write itself, "Permission denied". Agents '
        "cannot run git commit either: swarmgit commits each task's work after checking its scope."
    )


def run_demo(target: Path | None, echo: Echo) -> Path:
    """Build the demo repo and walk the whole workflow in it; returns the repo path."""
    folder = target or Path(tempfile.mkdtemp(prefix="swarm-demo-"))
    # In a fresh temp folder, the task worktrees (beside the repository) stay inside it too.
    repo = build_demo_repo(folder if target else folder / "weather-svc")
    echo(f"The demo works in a new git repository of a small Python service: {repo}")
    echo(
        "It stays there when the demo ends, for you to look around"
        + ("." if target else f"; remove it with: rm -rf {folder}")
    )
    _say(echo, "Set swarmgit up: .swarm.toml, the commit hook, the swarm/ folder.")
    _step(echo, repo, ["git", "swarm", "init"])
    config = repo / ".swarm.toml"
    config.write_text(
        config.read_text(encoding="utf-8").replace(
            'test_command = ""', f'test_command = "{sys.executable} -m pytest -q -p no:cacheprovider"'
        ),
        encoding="utf-8",
    )
    _say(
        echo,
        "A track is one feature. The demo brings its plan.md: 8 tasks, each with the files it "
        "may write (touches), its dependencies and an effort estimate.",
    )
    _step(
        echo,
        repo,
        ["git", "swarm", "new-track", "Add caching to forecast lookups", "--id", DEMO_TRACK, "--no-llm"],
    )
    plan = resources.files("swarmgit.templates").joinpath("demo-track", "plan.md").read_text("utf-8")
    (repo / "swarm" / "tracks" / DEMO_TRACK / "plan.md").write_text(plan, encoding="utf-8")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "swarm: track demo")
    _say(
        echo,
        "Check the plan. T03 and T04 both touch app/cache/, so they will run one after the "
        "other, the second starting from the first's result (the warning says so).",
    )
    _step(echo, repo, ["git", "swarm", "plan", "check", DEMO_TRACK])
    _say(
        echo, "Predict the run on a simulated clock, with the same scheduler and limits that implement uses."
    )
    _step(echo, repo, ["git", "swarm", "simulate", DEMO_TRACK])
    sim = _prediction(repo)
    _say(echo, dispatch_against_waves(sim))
    _step(echo, repo, ["git", "swarm", "graph", DEMO_TRACK])
    _say(
        echo,
        "Run it. Each task works in its own worktree and branch; the script agent sleeps one "
        "second per hour of effort, standing in for a coding agent's work. Then the tasks' "
        "changes land in order and the quality gates judge the merged tree.",
    )
    _step(echo, repo, ["git", "swarm", "implement", DEMO_TRACK])
    _say(
        echo,
        f"The tasks ran in {real_run_seconds(repo):.1f} s, where simulate predicted "
        f"{sim['makespan_hours']:.1f} s (its hours, at one second per hour of effort); the rest is "
        f"each task's worktree, commit and scope check.",
    )
    _say(
        echo,
        "The gates measured the merged tree before main moved: Improve, Optimize (the tests "
        "pass), Shrink and Modularize, each scored 0 to 1. The verdict is their mean, the IOSM "
        "index, against the threshold. Modularize scored low on its own: the track changed "
        "about half the files of this tiny repository, over its 20% limit; a finding, not a veto.",
    )
    _say(echo, _fence_note())
    _step(echo, repo, ["grep", "-A2", "not mine", f"swarm/tracks/{DEMO_TRACK}/logs/T06.log"])
    _say(echo, "Every task: its branch, the commit it started from, its own +/- and how long it took.")
    _step(echo, repo, ["git", "swarm", "status", DEMO_TRACK])
    _say(
        echo,
        f"Review a task like a pull request. {REVIEWED_TASK} started from the work of T02, T03 "
        "and T04, yet shows only its own change.",
    )
    _step(echo, repo, ["git", "swarm", "show", REVIEWED_TASK])
    _say(
        echo,
        "main got one commit per task, in integration order, each with Swarm-* trailers that "
        "lead from a line back to its task, agent, model and cost.",
    )
    _step(echo, repo, ["git", "log", "--oneline", "-10", "main"])
    _step(echo, repo, ["git", "log", "-1", "main"])
    _say(echo, "The whole run as one page: real timeline beside the prediction, graph, tasks, gates.")
    _step(echo, repo, ["git", "swarm", "report", DEMO_TRACK])
    page = report_path(open_workspace(repo), DEMO_TRACK)
    echo(f"\nDone. The demo's repository stays in {repo}. Look around:")
    echo(f"  {page.as_uri()}  # the run report: open it in a browser")
    echo(f"  cd {repo}; git swarm show T03  # any task's own change")
    echo(f"  {repo}/swarm/tracks/{DEMO_TRACK}/iosm_report.md  # gates and verdict")
    return repo
