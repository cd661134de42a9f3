"""`plan check`, `simulate` and `graph`: read-only views of a track's plan."""

from __future__ import annotations

import json
import shutil

from swarmgit.domain.cost import estimate_plan_cost, unpriced_models
from swarmgit.domain.graph import render_graph
from swarmgit.domain.plan import Plan
from swarmgit.domain.plan_check import lock_plan, plan_warnings, render_check
from swarmgit.domain.scheduler import Limits
from swarmgit.domain.simulate import Simulation, render_timeline, simulate, to_json
from swarmgit.engine.workspace import Workspace, read_plan, resolve_track
from swarmgit.errors import UsageError
from swarmgit.gitops import repo as gitrepo


def _limits(ws: Workspace, workers: int | None) -> Limits:
    c = ws.config.concurrency
    if workers is not None:
        return Limits(max_background=workers, max_foreground=workers, max_parallel=workers)
    return Limits(
        max_background=c.max_background, max_foreground=c.max_foreground, max_parallel=c.max_parallel
    )


def cluster_workers(
    executor: str | None, nodes: int | None, slots: int | None, workers: int | None
) -> int | None:
    """The parallel slots `simulate` runs the scheduler with: --workers, or for a Ray cluster
    (`--executor ray`) nodes x agent slots per node, the cluster's `agent_slot` total."""
    if executor != "ray":
        if nodes is not None or slots is not None:
            raise UsageError("--nodes and --slots describe a Ray cluster: add --executor ray")
        return workers
    if workers is not None:
        raise UsageError("--workers and --executor ray both set the parallel slots: give one")
    if nodes is None or slots is None:
        raise UsageError("--executor ray needs --nodes N and --slots K (agent slots per node)")
    return nodes * slots


def plan_check(ws: Workspace, track: str | None) -> str:
    """The check report; malformed plans raise InvalidInput (exit 2) before this returns."""
    plan, _ = read_plan(ws, resolve_track(ws, track))
    repo = gitrepo.discover(ws.root)
    head = gitrepo.head_commit(repo)
    tracked = gitrepo.tracked_files(repo, head) if head else None
    return render_check(plan, plan_warnings(plan, tracked), lock_plan(plan))


def _simulated(plan: Plan, limits: Limits) -> Simulation:
    """simulate(), with limits under which a task could never start reported as bad input."""
    try:
        return simulate(plan, limits)
    except ValueError as exc:
        raise UsageError(f"{exc}; change [concurrency] in .swarm.toml or the task in plan.md") from exc


def simulate_track(ws: Workspace, track: str | None, workers: int | None, as_json: bool) -> str:
    plan, _ = read_plan(ws, resolve_track(ws, track))
    sim = _simulated(plan, _limits(ws, workers))
    cost = estimate_plan_cost(plan, ws.config)
    if as_json:
        return json.dumps({**to_json(sim), "estimated_cost_usd": round(cost, 2)}, indent=2)
    timeline = render_timeline(sim, shutil.get_terminal_size((100, 24)).columns)
    unpriced = unpriced_models(plan, ws.config)
    note = f" (no price for {', '.join(unpriced)}: add [pricing.<model>])" if unpriced else ""
    return (
        f"{timeline}\nestimated cost:  ${cost:.2f} if model agents do the work (pricing table)"
        f" (budget ${ws.config.budget.track_usd:.2f}){note}"
    )


def graph_track(ws: Workspace, track: str | None, fmt: str) -> str:
    """Lock-order edges are oriented as the configured limits would run them."""
    plan, _ = read_plan(ws, resolve_track(ws, track))
    limits = _limits(ws, None)
    lock_after = _simulated(plan, limits).lock_after
    return render_graph(plan, fmt, [(first, task) for task, firsts in lock_after.items() for first in firsts])
