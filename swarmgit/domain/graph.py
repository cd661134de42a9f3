"""`graph`: the plan's dependency graph with its lock-order edges, as mermaid, dot or ascii.

Declared dependencies are solid edges. Lock-order edges join tasks whose touches overlap but
that deps do not order; they point from the task that runs first to the one that starts from its
result, and are drawn dashed and labelled "lock". A lock edge already implied by a path through
other edges is left out, so a chain of tasks on one folder reads as a chain.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from swarmgit.domain import digraph
from swarmgit.domain.plan import Plan, Task
from swarmgit.domain.scheduler import Limits, topological_order
from swarmgit.domain.simulate import simulate

FORMATS = ("mermaid", "dot", "ascii")
_TITLE_WIDTH = 40
_MERMAID_RESERVED = {"end", "graph", "subgraph", "flowchart", "class", "style", "click"}


def render_graph(
    plan: Plan,
    fmt: str,
    lock_order: Sequence[tuple[str, str]] | None = None,
    limits: Limits | None = None,
) -> str:
    """The graph as text. `lock_order` holds (earlier, later) pairs; None: as `simulate` runs
    the plan with `limits` (default limits when None). Raises ValueError for an unknown format
    or task id."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown graph format {fmt!r}: use {', '.join(FORMATS)}")
    if lock_order is None:
        lock_after = simulate(plan, limits or Limits()).lock_after
        lock_order = [(first, task) for task, firsts in lock_after.items() for first in firsts]
    deps = [(dep, t.id) for t in plan.tasks for dep in t.deps]
    locks = _without_implied(plan, deps, lock_order)
    render = {"mermaid": _mermaid, "dot": _dot, "ascii": _ascii}[fmt]
    return render(plan, deps, locks)


def _without_implied(
    plan: Plan, deps: Sequence[tuple[str, str]], locks: Sequence[tuple[str, str]]
) -> list[tuple[str, str]]:
    """Lock edges not implied by another path (deps and locks). Kept as given if cyclic."""
    ids = plan.ids
    index = {task_id: i for i, task_id in enumerate(ids)}
    unknown = sorted({t for pair in locks for t in pair} - set(ids))
    if unknown:
        raise ValueError(f"lock order names {', '.join(unknown)}, not in the plan")
    successors: list[set[int]] = [set() for _ in ids]
    for a, b in [*deps, *locks]:
        successors[index[a]].add(index[b])
    order, cyclic = digraph.topological_order(dict(enumerate(successors)))
    if cyclic:
        return list(dict.fromkeys(locks))
    reach = [0] * len(ids)  # bitmask of nodes reachable in one or more steps
    for node in reversed(order):
        for nxt in successors[node]:
            reach[node] |= reach[nxt] | (1 << nxt)
    kept = []
    for a, b in dict.fromkeys(locks):
        i, j = index[a], index[b]
        if not any(other != j and (reach[other] >> j) & 1 for other in successors[i]):
            kept.append((a, b))
    return kept


def _mermaid(plan: Plan, deps: list[tuple[str, str]], locks: list[tuple[str, str]]) -> str:
    names: dict[str, str] = {}
    for task in plan.tasks:
        name = re.sub(r"\W", "_", task.id)
        if not name[:1].isalpha() or name.lower() in _MERMAID_RESERVED or name in names.values():
            name = f"t{len(names)}_{name}"
        names[task.id] = name
    lines = ["flowchart TD"]
    for task in plan.tasks:
        label = f"{task.id}: {task.title}".replace('"', "#quot;")
        lines.append(f'    {names[task.id]}["{label}"]')
    lines += [f"    {names[a]} --> {names[b]}" for a, b in deps]
    lines += [f"    {names[a]} -. lock .-> {names[b]}" for a, b in locks]
    return "\n".join(lines) + "\n"


def _dot(plan: Plan, deps: list[tuple[str, str]], locks: list[tuple[str, str]]) -> str:
    def quote(text: str) -> str:
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'

    lines = ["digraph plan {", "    rankdir=LR;", "    node [shape=box];"]
    for task in plan.tasks:
        lines.append(f"    {quote(task.id)} [label={quote(task.id + ': ' + task.title)}];")
    lines += [f"    {quote(a)} -> {quote(b)};" for a, b in deps]
    lines += [f'    {quote(a)} -> {quote(b)} [style=dashed, label="lock"];' for a, b in locks]
    return "\n".join(lines + ["}"]) + "\n"


def _ascii(plan: Plan, deps: list[tuple[str, str]], locks: list[tuple[str, str]]) -> str:
    level: dict[str, int] = {}
    for i in topological_order(plan):
        task = plan.tasks[i]
        level[task.id] = 1 + max((level[d] for d in task.deps), default=-1)
    after: dict[str, list[str]] = {task_id: [] for task_id in plan.ids}
    for a, b in deps:
        after[b].append(a)
    lock_after: dict[str, list[str]] = {task_id: [] for task_id in plan.ids}
    for a, b in locks:
        lock_after[b].append(a)
    width = max((len(task_id) for task_id in plan.ids), default=0)
    lines = ["X  <-- Y: X depends on Y.  X  <.. Y (lock): X runs after Y, their touches overlap."]
    by_level: dict[int, list[Task]] = {}
    for task in plan.tasks:  # grouped once: a long chain has as many levels as tasks
        by_level.setdefault(level[task.id], []).append(task)
    for current in range(max(level.values(), default=-1) + 1):
        lines.append(f"level {current}")
        for task in by_level[current]:
            title = task.title
            if len(title) > _TITLE_WIDTH:
                title = title[: _TITLE_WIDTH - 3] + "..."
            edges = "".join(f"  <-- {a}" for a in after[task.id])
            edges += "".join(f"  <.. {a} (lock)" for a in lock_after[task.id])
            lines.append(f"  {task.id:<{width}}  {title:<{_TITLE_WIDTH}}{edges}".rstrip())
    return "\n".join(lines) + "\n"
