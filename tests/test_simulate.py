from __future__ import annotations

import json
import random

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from swarmgit.domain import priority as priority_module
from swarmgit.domain.plan import Plan, Task
from swarmgit.domain.scheduler import Limits, RunState, Scheduler
from swarmgit.domain.simulate import render_timeline, simulate, to_json
from tests.test_scheduler import priority, quick_search, random_plan, task
from tests.touch_reference import overlap

# Three pairwise-overlapping tasks (api/, tests/, docs/index.md), two dependents. Critical path
# first runs T02, T03, T00 and ends at 7 h; running T00 before T03 lets T04 overlap T03: 6 h.
LOCK_HEAVY = Plan(
    tasks=(
        task("T00", touches=["api/users.py", "docs/index.md"], effort=60),
        task("T01", deps=["T00"], touches=["api/", "api/**/*.py"], effort=30),
        task("T02", touches=["api/", "tests/"], effort=150),
        task("T03", touches=["tests/", "docs/index.md"], effort=150),
        task("T04", deps=["T02", "T00"], touches=["db/"], effort=60),
    )
)


def test_continuous_dispatch_beats_wave_barriers() -> None:
    plan = Plan(
        tasks=(
            task("T01", effort=60),
            task("T02", effort=480),
            task("T03", deps=["T01"], effort=60),
            task("T04", deps=["T03"], effort=60),
        )
    )
    sim = simulate(plan, Limits())
    assert sim.makespan_hours == 8.0  # T03, T04 run beside the long T02
    assert sim.waves_makespan_hours == 10.0  # 8 h wave, then T03, then T04
    assert sim.serial_hours == 11.0
    assert sim.speedup == pytest.approx(11 / 8)
    assert sim.critical_path == ("T02",)


def test_the_schedule_obeys_deps_locks_and_limits() -> None:
    rng = random.Random(7)
    for _ in range(12):
        plan = random_plan(rng, rng.randint(2, 25))
        limits = Limits(rng.randint(1, 3), rng.randint(1, 2), rng.randint(1, 4))
        sim = simulate(plan, limits)
        slot = {s.task: s for s in sim.schedule}
        by_id = {t.id: t for t in plan.tasks}
        assert sorted(slot) == sorted(plan.ids)
        for t in plan.tasks:
            took = slot[t.id].end_hours - slot[t.id].start_hours
            assert took == pytest.approx(t.effort_minutes / 60)
            assert all(slot[d].end_hours <= slot[t.id].start_hours for d in t.deps)
        for a in sim.schedule:
            at = [b for b in sim.schedule if b.start_hours <= a.start_hours < b.end_hours]
            assert len(at) <= limits.max_parallel
            assert sum(by_id[b.task].needs_user_input for b in at) <= limits.max_foreground
            assert sum(not by_id[b.task].needs_user_input for b in at) <= limits.max_background
            for b in at:
                assert b is a or not overlap(by_id[a.task].touches, by_id[b.task].touches)
        assert sim.makespan_hours >= sim.lower_bound_hours - 1e-9


def test_lock_after_names_the_earlier_overlapping_task() -> None:
    plan = Plan(
        tasks=(
            task("T01", touches=["backend/cache/"], effort=120),
            task("T02", touches=["backend/cache/redis.py"], effort=60),
            task("T03", deps=["T01"], touches=["backend/cache/ttl.py"], effort=30),
        )
    )
    sim = simulate(plan, Limits())
    assert sim.lock_after == {"T01": (), "T02": ("T01",), "T03": ()}  # T03 is ordered by its dep


def test_lower_bound_counts_work_on_one_path() -> None:
    plan = Plan(
        tasks=(
            task("T01", touches=["src/"], effort=60),
            task("T02", touches=["src/app.py"], effort=60),
            task("T03", touches=["src/*.py"], effort=60),
            task("T04", touches=["docs/"], effort=60),
        )
    )
    sim = simulate(plan, Limits(max_background=4, max_parallel=4))
    assert sim.lower_bound_hours == 3.0  # T01, T02, T03 all write src/app.py
    assert sim.makespan_hours == 3.0


def test_improved_order_finds_the_shorter_schedule() -> None:
    limits = Limits(max_background=3, max_foreground=1, max_parallel=3)
    assert simulate(LOCK_HEAVY, limits).makespan_hours == 6.0
    assert priority(Scheduler(LOCK_HEAVY), limits)[0][:3] == ["T02", "T00", "T03"]


def test_critical_path_first_alone_is_what_the_improvement_beats(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(priority_module, "IMPROVE_MAX_TASKS", 0)
    assert simulate(LOCK_HEAVY, Limits(3, 1, 3)).makespan_hours == 7.0


@settings(max_examples=6, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 4))
def test_improved_order_is_never_worse(seed: int, workers: int) -> None:
    plan = random_plan(random.Random(seed), 30)
    limits = Limits(max_background=workers, max_foreground=1, max_parallel=workers)
    improved = Scheduler(plan).makespan_minutes(limits)
    original = priority_module.IMPROVE_MAX_TASKS
    priority_module.IMPROVE_MAX_TASKS = 0
    try:
        plain = Scheduler(plan).makespan_minutes(limits)
    finally:
        priority_module.IMPROVE_MAX_TASKS = original
    assert improved is not None and plain is not None and improved <= plain


def test_limits_that_leave_a_task_unstartable_are_an_error() -> None:
    plan = Plan(tasks=(task("T01"), task("T02", user_input=True)))
    with pytest.raises(ValueError, match="T02 can never start"):
        simulate(plan, Limits(max_foreground=0))


def test_empty_plan() -> None:
    sim = simulate(Plan(tasks=()), Limits())
    assert (sim.makespan_hours, sim.speedup, sim.schedule) == (0.0, 1.0, ())
    assert "critical path:   (none)" in render_timeline(sim, 80)


def test_json_has_exactly_the_documented_keys() -> None:
    plan = Plan(tasks=(task("T01", effort=90), task("T02", deps=["T01"], effort=30)))
    document = json.loads(json.dumps(to_json(simulate(plan, Limits()))))
    assert document == {
        "makespan_hours": 2.0,
        "serial_hours": 2.0,
        "speedup": 1.0,
        "critical_path": ["T01", "T02"],
        "waves_makespan_hours": 2.0,
        "lower_bound_hours": 2.0,
        "schedule": [
            {"task": "T01", "start_hours": 0.0, "end_hours": 1.5},
            {"task": "T02", "start_hours": 1.5, "end_hours": 2.0},
        ],
    }


def test_timeline_draws_one_scaled_row_per_task_and_the_summary() -> None:
    plan = Plan(
        tasks=(
            task("T01", effort=240),
            task("T02", effort=120),
            task("T03", deps=["T02"], effort=120),
        )
    )
    text = render_timeline(simulate(plan, Limits()), 60)
    lines = text.splitlines()
    rows = {line.split()[0]: line for line in lines if line.startswith("T0")}
    assert set(rows) == {"T01", "T02", "T03"}
    assert all(len(line) <= 60 for line in lines[: 2 + len(rows)])
    bar = {task_id: row.split("|")[1] for task_id, row in rows.items()}
    assert bar["T01"].count("#") == len(bar["T01"])  # T01 spans the whole 4 h
    first, second = bar["T02"].rstrip(), bar["T03"].lstrip()  # back to back, half each
    assert set(first) == set(second) == {"#"}
    assert len(first) + len(second) == len(bar["T01"]) and abs(len(first) - len(second)) <= 1
    assert "0h" in lines[0] and "4h" in lines[0]
    for figure in (
        "serial:          8.0 h",
        "parallel:        4.0 h makespan, speedup 2.00x",
        "critical path:   T01",
        "wave barriers:   6.0 h makespan",
        "lower bound:     4.0 h (no schedule can be shorter; ours is 1.00x)",
    ):
        assert figure in text


_LOCK_HEAVY_TREE = [
    "src/",
    "src/a.py",
    "src/b/",
    "src/b/c.py",
    "src/**/__init__.py",
    "tests/",
    "tests/test_a.py",
    "docs/*.md",
    "README.md",
]


def lock_heavy_plan(rng: random.Random) -> Plan:
    """8–20 tasks, each writing 1–2 nodes of a small tree where most nodes overlap."""
    tasks: list[Task] = []
    for n in range(rng.randint(8, 20)):
        earlier = [t.id for t in tasks]
        tasks.append(
            task(
                f"T{n:02d}",
                deps=rng.sample(earlier, min(len(earlier), rng.choice([0, 0, 1, 2]))),
                touches=rng.sample(_LOCK_HEAVY_TREE, rng.choice([1, 1, 2])),
                effort=rng.choice([30, 60, 90, 150, 240, 480]),
                user_input=rng.random() < 0.1,
            )
        )
    return Plan(tasks=tuple(tasks))


def makespans_by_workers(plan: Plan, most: int) -> list[int]:
    """The simulated makespan with 1..most workers, as `--workers` sets them and with one
    foreground slot (one scheduler: widths searched once)."""
    scheduler = Scheduler(plan)
    spans = []
    for w in range(1, most + 1):
        for limits in (Limits(w, w, w), Limits(w, 1, w)):
            spans.append(scheduler.makespan_minutes(limits) or 0)
    assert spans[-1] == simulate(plan, Limits(most, 1, most)).makespan_hours * 60
    return spans


def assert_never_slower_with_more_workers(plan: Plan, most: int) -> None:
    spans = makespans_by_workers(plan, most)
    for same_kind in (spans[0::2], spans[1::2]):
        assert all(later <= earlier for earlier, later in zip(same_kind, same_kind[1:])), same_kind


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_more_workers_never_make_a_plan_slower(seed: int) -> None:
    with quick_search():  # the guarantee holds however hard each width is searched
        assert_never_slower_with_more_workers(lock_heavy_plan(random.Random(seed)), 4)


@pytest.mark.slow
@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_more_workers_never_make_a_plan_slower_many_plans(seed: int) -> None:
    assert_never_slower_with_more_workers(lock_heavy_plan(random.Random(seed)), 8)


def live_run_on_a_clock(plan: Plan, limits: Limits) -> list[tuple[str, int]]:
    """(task, start minute) when `Scheduler.decide` is asked, as the live run asks it, at each
    minute some task finishes (each takes its effort); sorted."""
    scheduler = Scheduler(plan)
    effort = {t.id: t.effort_minutes for t in plan.tasks}
    done: set[str] = set()
    ends: dict[str, int] = {}
    starts, now = [], 0
    while True:
        for start in scheduler.decide(RunState(frozenset(done), frozenset(ends)), limits):
            ends[start.task] = now + effort[start.task]
            starts.append((start.task, now))
        if not ends:
            return sorted(starts)
        now = min(ends.values())
        for finished in [t for t, end in ends.items() if end == now]:
            del ends[finished]
            done.add(finished)


# T3 shares src/a.py with T1 on the critical path; the scheduler holds T3 back (test_scheduler).
HELD_BACK = Plan(
    tasks=(
        task("T0", effort=120),
        task("T1", deps=["T0"], touches=["src/a.py"], effort=120),
        task("T2", deps=["T1"], touches=["tests/"], effort=180),
        task("T3", touches=["src/a.py"], effort=180),
    )
)


def live_matches_simulated(seed: int, workers: int) -> None:
    plan = HELD_BACK if seed % 4 == 0 else lock_heavy_plan(random.Random(seed))
    limits = Limits(max_background=workers, max_foreground=1, max_parallel=workers)
    simulated = Scheduler(plan).schedule(limits)
    assert simulated is not None
    assert live_run_on_a_clock(plan, limits) == sorted((t, start) for t, start, _ in simulated)


@settings(max_examples=8, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 4))
@example(0, 2)  # HELD_BACK with two workers: a reservation decides
def test_the_live_decisions_on_a_clock_give_the_simulated_schedule(seed: int, workers: int) -> None:
    live_matches_simulated(seed, workers)


@pytest.mark.slow
@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 4))
def test_the_live_decisions_on_a_clock_give_the_simulated_schedule_many_plans(
    seed: int, workers: int
) -> None:
    live_matches_simulated(seed, workers)
