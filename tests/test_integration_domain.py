"""Integration rules: the verdict, merge order, and fix tasks from gate findings."""

from __future__ import annotations

import json
from dataclasses import dataclass

from hypothesis import given
from hypothesis import strategies as st

from swarmgit.domain.integration import Verdict, fix_candidates, integration_order, unlanded_deps
from swarmgit.domain.plan import Severity


@dataclass(frozen=True)
class _Finding:
    gate: str
    file: str
    line: int
    rule: str
    message: str


def test_predecessors_come_first_and_ties_go_by_id() -> None:
    edges = {"T05": (), "T04": ("T03",), "T03": (), "T02": (), "T01": ("T02",)}

    assert integration_order(edges) == ["T02", "T01", "T03", "T04", "T05"]


def test_predecessors_outside_the_set_are_ignored() -> None:
    # T01 failed and is not merged: T02, which depended on it, still has a place.
    assert integration_order({"T02": ("T01",), "T03": ("T02", "T03")}) == ["T02", "T03"]


def test_a_cycle_keeps_every_task() -> None:
    assert integration_order({"B": ("A",), "A": ("B",), "C": ()}) == ["C", "A", "B"]


@st.composite
def _dags(draw: st.DrawFn) -> dict[str, tuple[str, ...]]:
    ids = [f"T{i:02d}" for i in draw(st.permutations(range(draw(st.integers(0, 12)))))]
    edges: dict[str, tuple[str, ...]] = {}
    for n, task in enumerate(ids):  # predecessors drawn among earlier tasks: acyclic
        edges[task] = tuple(draw(st.lists(st.sampled_from(ids[:n]), max_size=3))) if n else ()
    return edges


@given(_dags())
def test_order_is_the_smallest_topological_order_by_id(edges: dict[str, tuple[str, ...]]) -> None:
    order = integration_order(edges)

    assert sorted(order) == sorted(edges)
    position = {task: i for i, task in enumerate(order)}
    assert all(position[p] < position[t] for t, preds in edges.items() for p in preds)
    for i, task in enumerate(order):  # each pick is the smallest id whose predecessors are placed
        placed = set(order[:i])
        ready = [t for t in edges if t not in placed and set(edges[t]) <= placed]
        assert task == min(ready)


def test_one_fix_task_per_gate_and_file_with_its_findings() -> None:
    findings = [
        _Finding("I", "src/b.py", 3, "naming", "function name is not snake_case: getX"),
        _Finding("I", "src/a.py", 1, "missing-docstring", "public function get has no docstring"),
        _Finding("O", "src/a.py", 9, "io-in-loop", "db.execute(...) called inside a loop"),
        _Finding("I", "src/b.py", 7, "todo-without-reference", "'# TODO' names no issue"),
        _Finding("M", "", 0, "change-surface", "4 of 9 tracked files changed"),
    ]

    candidates = fix_candidates(findings)

    assert [(c.touches, c.dedup_key) for c in candidates] == [
        (("src/a.py",), "gate:I:src/a.py"),
        (("src/b.py",), "gate:I:src/b.py"),
        (("src/a.py",), "gate:O:src/a.py"),
    ]
    assert len({c.id for c in candidates}) == 3
    b = candidates[1]
    assert b.subtask == "Fix I findings in src/b.py" and b.severity is Severity.HIGH
    assert "src/b.py:3 naming: function name is not snake_case: getX" in b.accept
    assert "src/b.py:7 todo-without-reference" in b.accept
    assert "src/a.py" not in b.accept


def test_a_finding_two_gates_report_alike_spawns_one_fix_task() -> None:
    findings = [
        _Finding("I", "pkg/a.py", 3, "syntax-error", "invalid syntax"),
        _Finding("M", "pkg/a.py", 3, "syntax-error", "invalid syntax (its imports are unknown)"),
        _Finding("M", "pkg/b.py", 2, "import-cycle", "new import cycle: pkg.b -> pkg.c -> pkg.b"),
    ]

    candidates = fix_candidates(findings)

    assert [c.dedup_key for c in candidates] == ["gate:I:pkg/a.py", "gate:M:pkg/b.py"]
    assert "pkg/a.py:3 syntax-error: invalid syntax" in candidates[0].accept


def test_no_findings_no_fix_tasks() -> None:
    assert fix_candidates([]) == []
    assert fix_candidates([_Finding("M", "", 0, "change-surface", "too wide")]) == []


def test_a_verdict_prints_and_records_as_the_bare_word() -> None:
    # iosm_report.md, the CLI's lines and iosm_report.json show the word, never `Verdict.X`.
    for verdict in Verdict:
        assert f"{verdict}" == str(verdict) == verdict.value == verdict.name
        assert json.loads(json.dumps({"verdict": verdict})) == {"verdict": verdict.name}
        assert Verdict(verdict.name) is verdict


def test_what_is_built_on_work_that_does_not_land_does_not_land_either() -> None:
    # T02 waits on an unfinished T09, T03 on a rejected T01; T04 builds on T03, T05 on T04.
    deps = {"T01": (), "T02": ("T09",), "T03": ("T01",), "T04": ("T03", "T06"), "T05": ("T04",), "T06": ()}
    found = unlanded_deps(deps, finished={"T01", "T02", "T03", "T04", "T05", "T06"}, rejected={"T01"})
    # By id within a round, rounds in order: T02 and T03, then T04, then T05.
    assert list(found.items()) == [("T02", ["T09"]), ("T03", ["T01"]), ("T04", ["T03"]), ("T05", ["T04"])]
    assert unlanded_deps(deps, finished=set(deps) | {"T09"}, rejected=set()) == {}
