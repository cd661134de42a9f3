"""Integration rules: the verdict, the order finished branches merge in, and fix tasks from
gate findings."""

from __future__ import annotations

from collections.abc import Mapping, Sequence, Set
from enum import StrEnum
from typing import Protocol

from swarmgit.domain.digraph import topological_order
from swarmgit.domain.plan import Severity
from swarmgit.domain.report import SpawnCandidate


class Verdict(StrEnum):
    """An integration's verdict, printed and recorded (iosm_report.md, iosm_report.json) as its
    value: CONFLICT when a change did not apply, else the gates' APPROVED or REJECTED."""

    APPROVED = "APPROVED"
    REJECTED = "REJECTED"
    CONFLICT = "CONFLICT"


def integration_order(edges: Mapping[str, Sequence[str]]) -> list[str]:
    """Topological order of tasks given each task's predecessors (deps + lock order) that are
    also in `edges`; ties broken by task id. Predecessors outside the set are ignored."""
    successors: dict[str, list[str]] = {t: [] for t in edges}
    for task, preds in edges.items():
        for pred in preds:
            if pred in successors:
                successors[pred].append(task)
    order, cyclic = topological_order(successors)
    return order + cyclic  # a cycle cannot come from a valid plan; keep every task


def unlanded_deps(
    deps: Mapping[str, Sequence[str]], finished: Set[str], rejected: Set[str]
) -> dict[str, list[str]]:
    """Nothing built on work that does not land may land. `deps`: each candidate's deps in
    the plan. Returns each candidate not `rejected` with its deps that do not land: not
    `finished`, `rejected`, or returned here themselves (found in rounds, by id in a round)."""
    found: dict[str, list[str]] = {}
    while True:
        more = {
            task: [d for d in task_deps if d not in finished or d in rejected or d in found]
            for task, task_deps in sorted(deps.items())
            if task not in rejected and task not in found
        }
        more = {task: missing for task, missing in more.items() if missing}
        if not more:
            return found
        found |= more


class FindingLike(Protocol):
    """A gate finding, as the domain needs it (gates' Finding satisfies it)."""

    @property
    def gate(self) -> str: ...
    @property
    def file(self) -> str: ...
    @property
    def line(self) -> int: ...
    @property
    def rule(self) -> str: ...
    @property
    def message(self) -> str: ...


def fix_candidates(findings: Sequence[FindingLike]) -> list[SpawnCandidate]:
    """One fix task per (gate, file): touches = that file, brief = its findings.

    Dedup key `gate:<gate>:<file>` so a finding that survives a fix is not spawned twice. A
    finding two gates report alike (same file, line and rule: a syntax error is Gate-I's and
    Gate-M's) is left to the first gate's task, so one problem spawns one fix."""
    grouped: dict[tuple[str, str], list[FindingLike]] = {}
    seen: set[tuple[str, int, str]] = set()
    for finding in findings:
        place = (finding.file, finding.line, finding.rule)
        if finding.file and place not in seen:
            seen.add(place)
            grouped.setdefault((finding.gate, finding.file), []).append(finding)
    candidates = []
    for number, ((gate, path), items) in enumerate(sorted(grouped.items()), start=1):
        listing = "; ".join(f"{f.file}:{f.line} {f.rule}: {f.message}" for f in items[:20])
        candidates.append(
            SpawnCandidate(
                id=f"FIX-{number:02d}",
                subtask=f"Fix {gate} findings in {path}",
                touches=(path,),
                effort="S",
                severity=Severity.HIGH,
                dedup_key=f"gate:{gate}:{path}",
                accept=f"{gate} reports nothing in {path} ({listing})",
            )
        )
    return candidates
