"""What `git swarm plan check` reports about a valid plan: anti-patterns and the lock plan.

Errors are the parser's business (a plan that parses is well-formed); this module judges a
parsed Plan: warnings a user may accept, and which tasks serialize on which paths. Pure: the
command layer reads plan.md and the tracked file list and passes them in.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from swarmgit.domain.grounding import folders_of
from swarmgit.domain.plan import ConcurrencyClass, Plan, Task
from swarmgit.domain.touches import conflict_pairs, is_glob
from swarmgit.errors import Diagnostic

_WILDCARD_SEGMENTS = frozenset({"*", "**"})
_SHOWN = 8  # overlapping pairs listed per lock group


@dataclass(frozen=True)
class Overlap:
    """Two tasks (in plan order) whose touches conflict, and the first conflicting pair."""

    first: str
    second: str
    first_touch: str
    second_touch: str

    def describe(self) -> str:
        if self.first_touch == self.second_touch:
            return self.first_touch
        return f"{self.first_touch} ~ {self.second_touch}"


@dataclass(frozen=True)
class LockGroup:
    """Tasks linked by overlapping touches: no two overlapping ones ever run at once."""

    tasks: tuple[str, ...]
    overlaps: tuple[Overlap, ...]

    @property
    def paths(self) -> tuple[str, ...]:
        """The touches involved in the group's overlaps, in first-seen order."""
        seen = (t for o in self.overlaps for t in (o.first_touch, o.second_touch))
        return tuple(dict.fromkeys(seen))


@dataclass(frozen=True)
class LockPlan:
    """Lock groups, and the tasks whose touches overlap no other task's (read-only included)."""

    groups: tuple[LockGroup, ...]
    free: tuple[str, ...]


def overlaps(plan: Plan) -> list[Overlap]:
    """Every pair of tasks whose touches conflict, ordered by plan position."""
    owners: list[int] = []
    touches: list[str] = []
    for index, task in enumerate(plan.tasks):
        owners += [index] * len(task.touches)
        touches += task.touches
    found: dict[tuple[int, int], Overlap] = {}
    for i, j in sorted(conflict_pairs(touches)):
        a, b = sorted((owners[i], owners[j]))
        if a == b or (a, b) in found:
            continue
        touch_a, touch_b = (touches[i], touches[j]) if owners[i] == a else (touches[j], touches[i])
        found[a, b] = Overlap(plan.tasks[a].id, plan.tasks[b].id, touch_a, touch_b)
    return [found[key] for key in sorted(found)]


def lock_plan(plan: Plan) -> LockPlan:
    """Group tasks by overlapping touches (connected components), in plan order."""
    pairs = overlaps(plan)
    root = {task.id: task.id for task in plan.tasks}

    def find(task_id: str) -> str:
        while root[task_id] != task_id:
            root[task_id] = root[root[task_id]]
            task_id = root[task_id]
        return task_id

    for pair in pairs:
        root[find(pair.second)] = find(pair.first)
    members: dict[str, list[str]] = {}
    for task in plan.tasks:
        members.setdefault(find(task.id), []).append(task.id)
    groups = tuple(
        LockGroup(tuple(ids), tuple(p for p in pairs if find(p.first) == key))
        for key, ids in members.items()
        if len(ids) > 1
    )
    free = tuple(ids[0] for ids in members.values() if len(ids) == 1)
    return LockPlan(groups, free)


def plan_warnings(plan: Plan, tracked_files: Sequence[str] | None = None) -> list[Diagnostic]:
    """The parser's warnings (lines kept but not understood) and anti-patterns in a valid
    plan, as warning diagnostics ordered by line.

    Over-broad touches (the whole repository; a top-level folder holding more than half of
    `tracked_files` when given), Context paths that name nothing (no tracked file or folder,
    no touch of the plan: a sparse worktree would not hold them), overlapping tasks no
    dependency orders, write-shared tasks, tasks without acceptance criteria.
    """
    by_id = {task.id: task for task in plan.tasks}
    found: list[tuple[Task, str]] = []
    folder_sizes = _top_folder_sizes(tracked_files or ())
    known = _known_paths(plan, tracked_files) if tracked_files else None
    for task in plan.tasks:
        found += [(task, message) for message in _broad_touches(task, folder_sizes, tracked_files)]
        found += [(task, message) for message in _unknown_context(task, known)]
        if task.concurrency is ConcurrencyClass.WRITE_SHARED:
            found.append(
                (
                    task,
                    (
                        f"{task.id} is write-shared: swarmgit locks only its declared touches, so list "
                        "every path it changes (shared files included) and make it write-local"
                    ),
                )
            )
        if not task.acceptance.strip():
            found.append(
                (
                    task,
                    (
                        f"{task.id} has no acceptance criteria: add `- **Acceptance:** ...` so the "
                        "agent and the reviewer know when it is done"
                    ),
                )
            )
    bit = {task.id: 1 << n for n, task in enumerate(plan.tasks)}
    ancestors = _ancestors(plan, bit)
    for pair in overlaps(plan):
        if ancestors[pair.second] & bit[pair.first] or ancestors[pair.first] & bit[pair.second]:
            continue
        if pair.first_touch == pair.second_touch:
            where = f"both touch {pair.first_touch}"
        else:
            where = f"{pair.first}'s {pair.first_touch} overlaps {pair.second}'s {pair.second_touch}"
        found.append(
            (
                by_id[pair.second],
                (
                    f"{pair.first} and {pair.second} can never run in parallel: {where} and no "
                    "dependency orders them; add a dependency to choose the order, or narrow the "
                    "touches so they can run side by side"
                ),
            )
        )
    diagnostics = [*plan.warnings] + [
        Diagnostic(plan.path, task.line or None, message, level="warning", task=task.id)
        for task, message in found
    ]
    return sorted(diagnostics, key=lambda d: d.line or 0)


def _broad_touches(task: Task, folder_sizes: Counter[str], tracked: Sequence[str] | None) -> list[str]:
    messages = []
    for touch in task.touches:
        if set(touch.rstrip("/").split("/")) <= _WILDCARD_SEGMENTS:
            messages.append(
                f"{task.id} touches the whole repository ({touch}): it locks every path, so "
                "no other writing task can run beside it; list the folders and files it changes"
            )
            continue
        folder = _top_folder(touch)
        count = folder_sizes.get(folder, 0) if folder else 0
        if tracked and count * 2 > len(tracked):
            messages.append(
                f"{task.id} touches {touch}, which holds {count} of the {len(tracked)} tracked "
                "files: it locks most of the repository; name the sub-folders or files it changes"
            )
    return messages


def _known_paths(plan: Plan, tracked: Sequence[str]) -> tuple[frozenset[str], frozenset[str]]:
    """(tracked files and folders, the plan's plain touches: paths tasks may create)."""
    declared = (t.rstrip("/") for task in plan.tasks for t in task.touches if not is_glob(t))
    return frozenset(tracked) | folders_of(tracked), frozenset(declared)


def _unknown_context(task: Task, known: tuple[frozenset[str], frozenset[str]] | None) -> list[str]:
    """Plain Context paths neither tracked (as a file or folder) nor inside a plain touch."""
    if known is None:
        return []
    tracked, declared = known
    return [
        f"{task.id}'s context `{path}` names no tracked file or folder and no touch of the plan: "
        'a sparse worktree (worktrees.checkout = "sparse") would not hold it; fix the path'
        for path in task.context
        if not is_glob(path)
        and path.rstrip("/") not in tracked
        and not any(p in declared for p in _self_and_parents(path.rstrip("/")))
    ]


def _self_and_parents(path: str) -> list[str]:
    parts = path.split("/")
    return ["/".join(parts[:n]) for n in range(len(parts), 0, -1)]


def _top_folder(touch: str) -> str | None:
    """`src` for a touch covering a whole top-level folder (`src`, `src/`, `src/**`)."""
    for suffix in ("/**/*", "/**", "/"):
        touch = touch.removesuffix(suffix)
    return None if "/" in touch or "*" in touch else touch


def _top_folder_sizes(tracked: Sequence[str]) -> Counter[str]:
    return Counter(path.split("/", 1)[0] for path in tracked if "/" in path)


def _ancestors(plan: Plan, bit: dict[str, int]) -> dict[str, int]:
    """Each task's transitive dependencies as a bitmask of `bit`s (unknown deps and cycles are
    simply left out). Bitmasks keep a long dependency chain small in memory."""
    deps = {task.id: [d for d in task.deps if d != task.id] for task in plan.tasks}
    result: dict[str, int] = {}
    for start in deps:
        stack = [(start, iter(deps[start]))]
        visiting = {start}
        while stack:
            node, pending = stack[-1]
            dep = next(pending, None)
            if dep is None:
                stack.pop()
                mask = 0
                for below in deps[node]:
                    mask |= bit.get(below, 0) | result.get(below, 0)
                result[node] = mask
            elif dep in deps and dep not in result and dep not in visiting:
                visiting.add(dep)
                stack.append((dep, iter(deps[dep])))
    return result


def render_check(plan: Plan, warnings: Sequence[Diagnostic], locks: LockPlan) -> str:
    """The report `git swarm plan check` prints for a plan without errors."""
    read_only = sum(task.read_only for task in plan.tasks)
    deps = sum(len(task.deps) for task in plan.tasks)
    lines = [
        f"{plan.path}: {_count(len(plan.tasks), 'task')}, {_count(deps, 'dependency')}, "
        f"{read_only} read-only, {_count(len(warnings), 'warning')}"
    ]
    lines += [warning.render() for warning in warnings]
    lines.append("Lock plan:")
    if not locks.groups:
        lines.append("  no two tasks touch the same paths")
    for group in locks.groups:
        lines.append(f"  serialize {', '.join(group.tasks)}:")
        lines += [f"    {o.first} ~ {o.second}: {o.describe()}" for o in group.overlaps[:_SHOWN]]
        if len(group.overlaps) > _SHOWN:
            lines.append(f"    ... and {len(group.overlaps) - _SHOWN} more overlapping pairs")
    if locks.free:
        lines.append(f"  share no path with another task: {', '.join(locks.free)}")
    return "\n".join(lines) + "\n"


def _count(n: int, noun: str) -> str:
    if n == 1:
        return f"1 {noun}"
    return f"{n} {noun[:-1]}ies" if noun.endswith("y") else f"{n} {noun}s"
