"""`Scheduler.start_alone`: one task on its own under the lock rule (what `git swarm run` asks),
without the reservations and width the whole plan's dispatch uses."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from swarmgit.domain.plan import Plan
from swarmgit.domain.scheduler import Limits, RunState, Scheduler, Start
from tests.test_scheduler import naive_decide, random_limits, random_plan, started, state, task

TWO = Limits(max_background=2, max_foreground=1, max_parallel=2)
# T3 shares src/a.py with T1, on the critical path T0 -> T1 -> T2: with two slots the plan's
# dispatch holds T3 back until T1 has started (test_scheduler.py explains why).
RESERVING = Plan(
    tasks=(
        task("T0", effort=120),
        task("T1", deps=["T0"], touches=["src/a.py"], effort=120),
        task("T2", deps=["T1"], touches=["tests/"], effort=180),
        task("T3", touches=["src/a.py"], effort=180),
    )
)


def test_a_task_held_back_for_the_plan_starts_alone() -> None:
    scheduler = Scheduler(RESERVING)
    assert started(scheduler.decide(state(), TWO)) == ["T0"]  # T3 held back for T1
    assert scheduler.start_alone("T3", state(), TWO) == Start("T3", ())
    # The lock rule still holds: T1 running locks src/a.py.
    assert scheduler.start_alone("T3", state(done=["T0"], running=["T1"]), TWO) == (
        "its touches overlap those of T1, which is running"
    )
    assert scheduler.start_alone("T3", state(done=["T0", "T1"]), TWO) == Start("T3", ("T1",))


def test_a_task_outside_the_plans_width_starts_alone() -> None:
    one = Limits(max_background=1, max_foreground=1, max_parallel=1)
    scheduler = Scheduler(Plan(tasks=(task("T1", effort=180), task("T2", effort=60))))
    assert started(scheduler.decide(state(), one)) == ["T1"]
    assert scheduler.start_alone("T2", state(), one) == Start("T2", ())
    assert scheduler.start_alone("T2", state(running=["T1"]), one) == (
        "no slot is free (T1 is running; max_parallel 1, max_background 1)"
    )


def test_refusals_name_the_part_of_the_rule_and_the_tasks_in_the_way() -> None:
    scheduler = Scheduler(RESERVING)
    assert scheduler.start_alone("T2", state(), TWO) == "its dependency T1 is not done"
    assert scheduler.start_alone("T0", state(done=["T0"]), TWO) == "it is done"
    assert scheduler.start_alone("T0", state(running=["T0"]), TWO) == "it is running"
    assert scheduler.start_alone("T0", state(failed=["T0"]), TWO) == "it is failed or blocked"
    joined = Plan(tasks=(task("A"), task("B"), task("C", deps=["A", "B"])))
    assert Scheduler(joined).start_alone("C", state(done=["B"]), TWO) == "its dependency A is not done"
    assert Scheduler(joined).start_alone("C", state(), TWO) == "its dependencies A, B are not done"
    asking = Plan(tasks=(task("A", user_input=True),))
    assert Scheduler(asking).start_alone("A", state(), Limits(4, 0, 4)) == (
        "no slot is free (nothing is running; max_parallel 4, max_foreground 0)"
    )


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_start_alone_is_the_naive_rule_with_the_task_offered_first(seed: int) -> None:
    """For every task of a random plan in random states: it starts alone exactly when the naive
    rule, without reservations, offered it first, would start it; else a reason is given."""
    rng = random.Random(seed)
    plan = random_plan(rng, rng.randint(1, 18))
    scheduler = Scheduler(plan)
    for _ in range(10):
        where = {task_id: rng.choice(["todo", "todo", "done", "running", "failed"]) for task_id in plan.ids}
        run = RunState(
            *(
                frozenset(t for t, s in where.items() if s == status)
                for status in ("done", "running", "failed")
            )
        )
        limits = random_limits(rng)
        for task_id in plan.ids:
            order = [task_id, *(t for t in plan.ids if t != task_id)]
            naive = [s for s in naive_decide(plan, run, limits, order)[:1] if s.task == task_id]
            alone = scheduler.start_alone(task_id, run, limits)
            if naive:
                assert alone == naive[0]
            else:
                assert isinstance(alone, str) and alone
