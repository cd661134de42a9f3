from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from swarmgit.domain.dispatch_rule import Limits, PlanIndex
from swarmgit.domain.plan import Plan
from swarmgit.domain.serial_schedule import Placer, justified, listed, makespan
from tests.test_scheduler import random_plan, task
from tests.touch_reference import overlap


def assert_feasible(plan: Plan, start: list[int], limits: Limits) -> None:
    """Deps finish first, overlapping tasks never run at once, no limit is ever exceeded."""
    end = [s + t.effort_minutes for s, t in zip(start, plan.tasks)]
    at = {task_id: i for i, task_id in enumerate(plan.ids)}
    for i, a in enumerate(plan.tasks):
        assert all(end[at[d]] <= start[i] for d in a.deps), a.id
        for j, b in enumerate(plan.tasks[i + 1 :], i + 1):
            if overlap(a.touches, b.touches):
                assert end[i] <= start[j] or end[j] <= start[i], (a.id, b.id)
    for minute in set(start):
        running = [t for i, t in enumerate(plan.tasks) if start[i] <= minute < end[i]]
        front = sum(t.needs_user_input for t in running)
        assert len(running) <= limits.max_parallel
        assert front <= limits.max_foreground and len(running) - front <= limits.max_background


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 4))
def test_serial_schedules_obey_deps_locks_and_limits_and_justifying_never_lengthens(
    seed: int,
    workers: int,
) -> None:
    rng = random.Random(seed)
    plan = random_plan(rng, rng.randint(1, 25))
    limits = Limits(max_background=workers, max_foreground=1, max_parallel=workers)
    index = PlanIndex.of(plan)
    forward, backward = Placer(index), Placer(index.reversed())
    start = forward.place(listed(index, [rng.random() for _ in plan.tasks]), limits)
    assert_feasible(plan, start, limits)
    again = justified(forward, backward, start, limits)
    assert_feasible(plan, again, limits)
    assert makespan(index, again) <= makespan(index, start)


def test_a_placed_task_waits_for_a_lock_rather_than_taking_it_early() -> None:
    # Placed first, T1 holds src/a.py from 2 h to 4 h; T3, placed last, cannot fit before it
    # (3 h from 0 would overlap), so it goes after, though a slot is free from the start.
    plan = Plan(
        tasks=(
            task("T0", effort=120),
            task("T1", deps=["T0"], touches=["src/a.py"], effort=120),
            task("T2", deps=["T1"], effort=180),
            task("T3", touches=["src/a.py"], effort=180),
        )
    )
    index = PlanIndex.of(plan)
    start = Placer(index).place([0, 1, 2, 3], Limits(2, 1, 2))
    assert start == [0, 120, 240, 240]
    assert makespan(index, start) == 420


def test_a_task_without_a_slot_of_its_kind_is_an_error() -> None:
    index = PlanIndex.of(Plan(tasks=(task("U1", user_input=True),)))
    with pytest.raises(ValueError, match="no slot for task U1"):
        Placer(index).place([0], Limits(max_background=2, max_foreground=0, max_parallel=2))


def test_the_list_keeps_deps_first_and_prefers_the_smallest_key() -> None:
    plan = Plan(tasks=(task("A"), task("B", deps=["C"]), task("C"), task("D")))
    assert listed(PlanIndex.of(plan), [0, -5, 9, 1]) == [0, 3, 2, 1]
