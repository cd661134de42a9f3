from __future__ import annotations

import pytest

from swarmgit.domain.plan import ConcurrencyClass, Severity, Task
from swarmgit.domain.report import SpawnCandidate, parse_report
from swarmgit.domain.spawn import (
    DEDUP_FIELD,
    Held,
    SpawnDecision,
    accepted_task,
    candidate_label,
    decide_spawn,
)

REPORT = """\
**Status:** done

## SpawnCandidates

| ID | Subtask | Touches | Effort | User Input | Severity | Dedup Key | Accept Criteria |
|----|---------|---------|--------|------------|----------|-----------|-----------------|
| SC-01 | Add cache metrics | `./backend/metrics.py` | 90min | false | high | metrics.py\\|add | metrics exported |
| SC-02 | Add cache metrics again | `backend/metrics.py` | S | false | low | metrics.py\\|add | - |
| SC-03 | Fix auth typing | `backend/auth.py` | S | false | medium | auth.py\\|types | mypy passes |
| SC-04 | Choose an eviction policy | `backend/cache/` | M | true | medium | cache\\|policy | decided |
| SC-05 | Password hashes are MD5 | `backend/users.py` | L | false | critical | users\\|hash | bcrypt |
| SC-06 | Tidy outside the repo | `../elsewhere.py` | S | false | low | outside\\|tidy | - |
| SC-07 | Document the cache | `docs/cache.md` | a while | false | low | `docs|cache` | page exists |
| SC-08 | Survey callers | read-only | S | false | low | callers\\|survey | list written |
| SC-09 | malformed row | `x.py` | S | sometimes | low | x | y |
"""


def test_report_table_spawns_exactly_the_right_tasks() -> None:
    report, warnings = parse_report(REPORT, "reports/T03.md")
    assert [(w.line, w.level) for w in warnings] == [(15, "warning")]  # SC-09 skipped

    decision = decide_spawn(
        "T03",
        report.candidates,
        seen_keys={"auth.py|types"},
        budget_left=20,
        existing_ids={"T01", "T02", "T03", "SC-01", "SC-02"},
    )

    by_id = {c.id: c for c in report.candidates}
    assert decision.duplicates == (
        Held(by_id["SC-02"], "dedup key 'metrics.py|add' appears twice in this report"),
        Held(by_id["SC-03"], "dedup key 'auth.py|types' already seen in this track"),
    )
    assert [(h.candidate.id, h.reason) for h in decision.wait_for_user] == [
        ("SC-04", "needs user input"),
        ("SC-05", "severity critical"),
        ("SC-06", decision.wait_for_user[2].reason),
    ]
    assert decision.wait_for_user[2].reason.startswith("bad touches:")
    assert "'..'" in decision.wait_for_user[2].reason
    assert decision.over_budget == ()
    assert decision.spawn == (
        Task(
            id="SC-03",
            title="Add cache metrics",
            deps=("T03",),
            touches=("backend/metrics.py",),
            effort_minutes=90,
            severity=Severity.HIGH,
            acceptance="metrics exported",
            extra={DEDUP_FIELD: "metrics.py|add"},
        ),
        Task(
            id="SC-04",
            title="Document the cache",
            deps=("T03",),
            touches=("docs/cache.md",),
            effort_minutes=150,
            severity=Severity.LOW,
            acceptance="page exists",
            extra={DEDUP_FIELD: "docs|cache"},
        ),
        Task(
            id="SC-05",
            title="Survey callers",
            deps=("T03",),
            touches=(),
            concurrency=ConcurrencyClass.READ_ONLY,
            effort_minutes=30,
            severity=Severity.LOW,
            acceptance="list written",
            extra={DEDUP_FIELD: "callers|survey"},
        ),
    )


def _candidates(count: int) -> list[SpawnCandidate]:
    return [
        SpawnCandidate(id=f"SC-{n:02d}", subtask=f"fix {n}", touches=(f"m{n}.py",), effort="S")
        for n in range(1, count + 1)
    ]


def test_budget_stops_spawning_at_its_limit() -> None:
    decision = decide_spawn("T01", _candidates(5), set(), budget_left=3, existing_ids={"T01"})

    assert [t.id for t in decision.spawn] == ["SC-01", "SC-02", "SC-03"]
    assert [h.candidate.subtask for h in decision.over_budget] == ["fix 4", "fix 5"]
    assert all("budget" in h.reason for h in decision.over_budget)

    exhausted = decide_spawn("T01", _candidates(2), set(), budget_left=0, existing_ids={"T01"})
    assert exhausted.spawn == ()
    assert len(exhausted.over_budget) == 2


def test_held_candidates_do_not_use_the_budget() -> None:
    held = SpawnCandidate(id="X", subtask="ask", user_input=True)
    decision = decide_spawn("T01", [held, *_candidates(1)], set(), budget_left=1, existing_ids={"T01"})
    assert [t.id for t in decision.spawn] == ["SC-01"]
    assert decision.wait_for_user == (Held(held, "needs user input"),)


def test_new_ids_continue_after_existing_sc_ids_and_skip_taken_ones() -> None:
    decision = decide_spawn(
        "T02",
        _candidates(3),
        set(),
        budget_left=9,
        existing_ids={"T02", "SC-01", "SC-7", "SC-09"},
    )
    assert [t.id for t in decision.spawn] == ["SC-10", "SC-11", "SC-12"]


def test_nothing_reported_decides_nothing() -> None:
    assert decide_spawn("T01", [], set(), 5, {"T01"}) == SpawnDecision((), (), (), ())


def test_candidates_outside_the_planned_touches_wait_for_the_user() -> None:
    from swarmgit.domain.plan import Plan
    from swarmgit.domain.spawn import planned_touches

    plan = Plan(
        tasks=(
            Task(id="T01", title="a", touches=("docs/", "src/app.py")),
            Task(id="SC-01", title="spawned", touches=("frontend/",), extra={DEDUP_FIELD: "k"}),
        )
    )
    planned = planned_touches(plan)
    assert planned == ("docs/", "src/app.py")  # a spawned task's touches do not widen the plan

    def candidate(key: str, touches: list[str]) -> SpawnCandidate:
        return SpawnCandidate(
            id=key,
            subtask=key,
            touches=touches,
            effort="S",
            user_input=False,
            severity=Severity.LOW,
            dedup_key=key,
            accept="-",
        )

    decision = decide_spawn(
        "T01",
        [
            candidate("in", ["docs/x/**/*.md", "src/app.py"]),
            candidate("out", ["frontend/b.py"]),
            candidate("glob", ["**/*.md"]),
        ],
        (),
        20,
        plan.ids,
        planned,
    )
    assert [t.touches for t in decision.spawn] == [("docs/x/**/*.md", "src/app.py")]
    assert [(h.candidate.id, h.reason) for h in decision.wait_for_user] == [
        ("out", "touches frontend/b.py outside the track's planned touches (docs/, src/app.py)"),
        ("glob", "touches **/*.md outside the track's planned touches (docs/, src/app.py)"),
    ]


def test_an_accepted_candidate_keeps_its_user_input_and_severity() -> None:
    asks = SpawnCandidate(
        id="SC-01",
        subtask="Choose a policy",
        touches=("./cache/",),
        user_input=True,
        severity=Severity.CRITICAL,
        dedup_key="policy",
    )
    task = accepted_task("T03", asks, {"T03", "SC-01"})  # the report's own id is taken in the plan
    assert (task.id, task.needs_user_input, task.severity, task.touches) == (
        "SC-02",
        True,
        Severity.CRITICAL,
        ("cache/",),
    )
    assert not accepted_task("T03", asks.model_copy(update={"user_input": False}), {"T03"}).needs_user_input
    with pytest.raises(ValueError, match="'..'"):
        accepted_task("T03", asks.model_copy(update={"touches": ("../x",)}), {"T03"})
    assert candidate_label(2, "T03's report") == "candidate 2 of T03's report"
