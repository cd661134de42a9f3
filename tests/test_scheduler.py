from __future__ import annotations

import random
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import cache

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from swarmgit.domain import priority as priority_module
from swarmgit.domain.dispatch_rule import Board, PlanIndex
from swarmgit.domain.plan import Plan, Severity, Task
from swarmgit.domain.scheduler import Limits, RunState, Scheduler, Start, topological_order
from tests.touch_reference import overlap


def task(
    task_id: str,
    deps: Sequence[str] = (),
    touches: Sequence[str] = (),
    effort: int = 60,
    severity: Severity = Severity.MEDIUM,
    user_input: bool = False,
) -> Task:
    return Task(
        id=task_id,
        title=task_id,
        deps=tuple(deps),
        touches=tuple(touches),
        effort_minutes=effort,
        severity=severity,
        needs_user_input=user_input,
    )


def state(done: Sequence[str] = (), running: Sequence[str] = (), failed: Sequence[str] = ()) -> RunState:
    return RunState(frozenset(done), frozenset(running), frozenset(failed))


def started(starts: list[Start]) -> list[str]:
    return [s.task for s in starts]


# ---- the naive reference: the rules of the docstring, written the obvious O(n²) way ----------


def naive_decide(
    plan: Plan,
    run: RunState,
    limits: Limits,
    order: Sequence[str],
    ahead: Mapping[str, Sequence[str]] | None = None,
) -> list[Start]:
    """Start, one at a time, the first ready task in `order` (the scheduler's priority) that
    fits and is not held back (some task reserved `ahead` of it has not started, and something
    runs), until none is left: starting a task may release one held back behind it."""
    ahead = ahead or {}
    by_id = {t.id: t for t in plan.tasks}
    rank = {task_id: n for n, task_id in enumerate(order)}

    @cache
    def ancestors(task_id: str) -> frozenset[str]:
        deps = by_id[task_id].deps
        return frozenset(deps).union(*(ancestors(d) for d in deps))

    ready = [
        t
        for t in plan.tasks
        if all(d in run.done for d in t.deps) and t.id not in run.done | run.running | run.failed
    ]
    ready.sort(key=lambda t: rank[t.id])
    running = [by_id[r] for r in run.running]
    chosen: list[Task] = []

    def fits(candidate: Task) -> bool:
        same_class = sum(r.needs_user_input == candidate.needs_user_input for r in running)
        cap = limits.max_foreground if candidate.needs_user_input else limits.max_background
        if len(running) >= limits.max_parallel or same_class >= cap:
            return False
        if any(overlap(candidate.touches, r.touches) for r in running):
            return False
        begun = run.done | run.running | run.failed | {c.id for c in chosen}
        return not running or begun.issuperset(ahead.get(candidate.id, ()))

    while next_one := next((t for t in ready if t not in chosen and fits(t)), None):
        running.append(next_one)
        chosen.append(next_one)
    return [
        Start(
            t.id,
            tuple(
                d.id
                for d in plan.tasks
                if d.id in run.done and d.id not in ancestors(t.id) and overlap(t.touches, d.touches)
            ),
        )
        for t in chosen
    ]


_TREE = [
    "api/",
    "api/users.py",
    "api/orders.py",
    "api/**/*.py",
    "db/",
    "db/schema.sql",
    "docs/*.md",
    "docs/index.md",
    "web/app.js",
    "**/conftest.py",
    "tests/",
    "tests/api/",
]


def random_plan(rng: random.Random, size: int) -> Plan:
    tasks: list[Task] = []
    for n in range(size):
        earlier = [t.id for t in tasks]
        tasks.append(
            task(
                f"T{n:02d}",
                deps=rng.sample(earlier, min(len(earlier), rng.choice([0, 0, 1, 1, 2, 3]))),
                touches=rng.sample(_TREE, rng.choice([0, 1, 1, 2])),
                effort=rng.choice([30, 60, 60, 150]),
                severity=rng.choice(list(Severity)),
                user_input=rng.random() < 0.15,
            )
        )
    rng.shuffle(tasks)  # plan order is not dependency order
    return Plan(tasks=tuple(tasks))


def priority(scheduler: Scheduler, limits: Limits) -> tuple[list[str], Limits, dict[str, list[str]]]:
    """Every task id in the order ready tasks are offered with these limits, best first, the
    (perhaps narrower) limits they are dispatched under, and the reservations: task → the
    tasks reserved ahead of it."""
    choice = scheduler.priorities.choice(limits)
    ids = scheduler.priorities.index.ids
    order = sorted(ids, key=lambda task_id: choice.position[ids.index(task_id)])
    ahead = {ids[x]: [ids[y] for y in firsts] for x, firsts in enumerate(choice.ahead)}
    return order, choice.limits, ahead


@contextmanager
def quick_search() -> Iterator[None]:
    """The fewest restarts: for tests of the rule, where how hard the order was searched for
    does not matter (the reference asks the same scheduler for its order)."""
    saved = priority_module.MAX_RESTARTS
    priority_module.MAX_RESTARTS = priority_module.RESTARTS
    try:
        yield
    finally:
        priority_module.MAX_RESTARTS = saved


def random_limits(rng: random.Random) -> Limits:
    return Limits(rng.randint(0, 4), rng.randint(0, 2), rng.randint(1, 5))


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_decide_equals_the_naive_rules_along_random_runs(seed: int) -> None:
    with quick_search():
        decide_along_a_random_run(random.Random(seed))


def decide_along_a_random_run(rng: random.Random) -> None:
    plan = random_plan(rng, rng.randint(1, 18))
    reference = Scheduler(plan)  # only asked for its priority order, width and reservations
    walk_a_random_run(rng, plan, Scheduler(plan).decide, lambda limits: priority(reference, limits))


Decide = Callable[[RunState, Limits], list[Start]]
Reference = Callable[[Limits], tuple[list[str], Limits, dict[str, list[str]]]]


def walk_a_random_run(rng: random.Random, plan: Plan, decide: Decide, reference: Reference) -> None:
    """Decide along a random run (starts, finishes, failures, retries, resets, resumes), each
    answer checked against the naive rules with the reference's order, limits and reservations;
    and whenever nothing runs but something could, something starts (neither idling on purpose
    nor a reservation ever stalls a run)."""
    done: set[str] = set()
    running: set[str] = set()
    failed: set[str] = set()
    for _ in range(40):
        limits = random_limits(rng)
        run = RunState(frozenset(done), frozenset(running), frozenset(failed))
        decision = decide(run, limits)
        order, narrowed, ahead = reference(limits)
        assert decision == naive_decide(plan, run, narrowed, order, ahead)
        if not running and naive_decide(plan, run, limits, order):
            assert decision
        if rng.random() < 0.8:  # the caller usually starts what it was told
            running |= set(started(decision))
        move = rng.random()
        if running and move < 0.5:
            finished = rng.choice(sorted(running))
            running.discard(finished)
            (failed if rng.random() < 0.15 else done).add(finished)
        elif failed and move < 0.6:
            failed.discard(rng.choice(sorted(failed)))  # retry
        elif done and move < 0.65:
            done.discard(rng.choice(sorted(done)))  # reset a task
        elif move < 0.7:
            running.add(rng.choice(plan.ids))  # resumed run: something already running
            done -= running
            failed -= running


@pytest.mark.slow
@settings(max_examples=400, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_decide_equals_the_naive_rules_along_many_random_runs(seed: int) -> None:
    with quick_search():
        decide_along_a_random_run(random.Random(seed))


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_random_reservations_follow_the_naive_rules_along_random_runs(seed: int) -> None:
    """The board with any order and any reservations (cycles too), against the naive rules:
    the search rarely reserves on random plans, so the rule is checked on its own here."""
    rng = random.Random(seed)
    plan = random_plan(rng, rng.randint(1, 18))
    index, ids = PlanIndex.of(plan), plan.ids
    order = rng.sample(ids, len(ids))
    ahead = {x: [y for y in rng.sample(ids, min(len(ids), rng.choice([0, 1, 2]))) if y != x] for x in ids}
    board = Board(
        index, [order.index(x) for x in ids], ahead=[[index.index[y] for y in ahead[x]] for x in ids]
    )

    def decide(run: RunState, limits: Limits) -> list[Start]:
        return [Start(ids[i], tuple(ids[j] for j in board.after(i))) for i in board.decide(run, limits)]

    walk_a_random_run(rng, plan, decide, lambda limits: (order, limits, ahead))


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_fresh_scheduler_agrees_with_a_used_one(seed: int) -> None:
    rng = random.Random(seed)
    plan = random_plan(rng, 15)
    with quick_search():
        used = Scheduler(plan)
        for _ in range(10):
            run = state(
                done=rng.sample(plan.ids, rng.randint(0, 8)),
                running=rng.sample(plan.ids, rng.randint(0, 3)),
            )
            limits = random_limits(rng)
            assert used.decide(run, limits) == Scheduler(plan).decide(run, limits)


def test_overlapping_tasks_never_start_together_and_the_later_builds_on_the_earlier() -> None:
    plan = Plan(
        tasks=(
            task("T01", touches=["backend/cache/"], effort=120),
            task("T02", touches=["backend/cache/service.py"], effort=60),
            task("T03", touches=["docs/"], effort=30),
        )
    )
    scheduler = Scheduler(plan)
    first = scheduler.decide(state(), Limits())
    assert started(first) == ["T01", "T03"]
    assert all(s.after == () for s in first)
    assert scheduler.decide(state(running=["T01", "T03"]), Limits()) == []
    assert scheduler.decide(state(done=["T01", "T03"]), Limits()) == [Start("T02", ("T01",))]


def test_after_lists_lock_order_not_dependencies() -> None:
    plan = Plan(
        tasks=(
            task("T01", touches=["api/"]),
            task("T02", deps=["T01"], touches=["api/users.py"]),
            task("T03", deps=["T02"], touches=["api/"]),
            task("T04", touches=["api/orders.py"]),
        )
    )
    decision = Scheduler(plan).decide(state(done=["T01", "T02", "T04"]), Limits())
    assert decision == [Start("T03", ("T04",))]


def test_read_only_tasks_run_beside_anything() -> None:
    plan = Plan(tasks=(task("T01", touches=["**"]), task("T02"), task("T03")))
    assert started(Scheduler(plan).decide(state(running=["T01"]), Limits())) == ["T02", "T03"]


def test_order_is_critical_path_then_severity_then_id() -> None:
    plan = Plan(
        tasks=(
            task("T01", effort=60),
            task("T02", effort=60, severity=Severity.CRITICAL),
            task("T03", effort=30),
            task("T04", deps=["T03"], effort=60),  # T03's chain is 90 minutes: first
            task("T05", effort=60, severity=Severity.CRITICAL),
        )
    )
    decision = Scheduler(plan).decide(state(), Limits(max_background=3, max_parallel=3))
    assert started(decision) == ["T03", "T02", "T05"]


def test_dispatch_is_continuous_not_in_waves() -> None:
    plan = Plan(
        tasks=(
            task("T01", effort=30),
            task("T02", effort=600),
            task("T03", deps=["T01"]),
        )
    )
    scheduler = Scheduler(plan)
    assert started(scheduler.decide(state(), Limits())) == ["T02", "T01"]
    # T01 finished while T02 still runs: T03 starts now, no barrier.
    assert started(scheduler.decide(state(done=["T01"], running=["T02"]), Limits())) == ["T03"]


def test_foreground_background_and_total_limits() -> None:
    plan = Plan(
        tasks=(
            task("A1"),
            task("A2"),
            task("A3"),
            task("U1", user_input=True),
            task("U2", user_input=True),
        )
    )
    scheduler = Scheduler(plan)
    decision = scheduler.decide(state(), Limits(max_background=2, max_foreground=1, max_parallel=4))
    assert started(decision) == ["A1", "A2", "U1"]
    assert started(scheduler.decide(state(), Limits(2, 1, 2))) == ["A1", "A2"]
    assert started(scheduler.decide(state(), Limits(3, 0, 9))) == ["A1", "A2", "A3"]
    assert started(scheduler.decide(state(running=["U1"]), Limits(0, 2, 2))) == ["U2"]


def test_a_task_whose_start_is_not_recorded_is_offered_again() -> None:
    plan = Plan(tasks=(task("T01", touches=["a/"]), task("T02", touches=["a/x"])))
    scheduler = Scheduler(plan)
    assert started(scheduler.decide(state(), Limits())) == ["T01"]
    assert started(scheduler.decide(state(), Limits())) == ["T01"]  # e.g. worktree failed


def test_failed_dependencies_block_their_dependents() -> None:
    plan = Plan(
        tasks=(
            task("T01"),
            task("T02", deps=["T01"]),
            task("T03", deps=["T02"]),
            task("T04"),
        )
    )
    scheduler = Scheduler(plan)
    run = state(failed=["T01"])
    assert scheduler.blocked(run) == {
        "T02": "depends on T01, which failed",
        "T03": "depends on T02, which cannot run because T01 failed",
    }
    assert started(scheduler.decide(run, Limits())) == ["T04"]
    assert scheduler.blocked(state()) == {}


def test_critical_path_follows_the_longest_chain() -> None:
    plan = Plan(
        tasks=(
            task("T01", effort=30),
            task("T02", deps=["T01"], effort=300),
            task("T03", deps=["T01"], effort=60),
            task("T04", deps=["T02", "T03"], effort=30),
            task("T05", effort=120),
        )
    )
    scheduler = Scheduler(plan)
    assert scheduler.critical_path() == ["T01", "T02", "T04"]
    assert scheduler.critical_path_minutes() == 360
    assert Scheduler(Plan(tasks=())).critical_path() == []


def test_unknown_task_in_state_and_cycles_are_errors() -> None:
    plan = Plan(tasks=(task("T01"),))
    with pytest.raises(ValueError, match="T99"):
        Scheduler(plan).decide(state(done=["T99"]), Limits())
    cyclic = Plan(tasks=(task("T01", deps=["T02"]), task("T02", deps=["T01"]), task("T03")))
    with pytest.raises(ValueError, match="cycle among tasks T01, T02"):
        topological_order(cyclic)


def test_many_tasks_on_one_folder_run_one_at_a_time_in_priority_order() -> None:
    plan = Plan(tasks=tuple(task(f"T{n:04d}", touches=["src/"], effort=10 + n % 7) for n in range(300)))
    scheduler = Scheduler(plan)
    done: list[str] = []
    order = sorted(plan.tasks, key=lambda t: (-t.effort_minutes, t.id))
    for expected in order:
        decision = scheduler.decide(state(done=done), Limits(max_background=8, max_parallel=8))
        assert started(decision) == [expected.id]
        assert decision[0].after == tuple(t.id for t in plan.tasks if t.id in done)
        done.append(expected.id)


def test_a_slot_is_left_idle_when_filling_it_would_delay_the_critical_path() -> None:
    # Filling a third slot at once with T02 (src/a.py) locks out T01 (src/**/__init__.py
    # overlaps it), which sits on the critical path T00 -> T01 -> T04: 9 h instead of 8 h.
    plan = Plan(
        tasks=(
            task("T00", effort=120),
            task("T01", deps=["T00"], touches=["src/**/__init__.py"], effort=180),
            task("T02", touches=["src/a.py"], effort=180),
            task("T03", effort=240),
            task("T04", deps=["T01"], effort=180),
        )
    )
    three = Limits(max_background=3, max_foreground=1, max_parallel=3)
    scheduler = Scheduler(plan)
    assert scheduler.makespan_minutes(three) == scheduler.makespan_minutes(Limits(2, 1, 2)) == 480
    assert started(scheduler.decide(state(), three)) == ["T00", "T03"]  # one slot idle
    assert started(scheduler.decide(state(done=["T00"], running=["T03"]), three)) == ["T01"]
    assert started(scheduler.decide(state(done=["T00"], running=["T03", "T01"]), three)) == []
    # Nothing running: something ready always starts, idle slots or not.
    assert started(scheduler.decide(state(done=["T00", "T01", "T03", "T04"]), three)) == ["T02"]


def test_a_task_is_held_back_so_it_does_not_lock_out_the_critical_path(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # T3 shares src/a.py with T1, on the critical path T0 -> T1 -> T2 (7 h). Two slots are free
    # at the start, and filling both (T0 and T3) makes T1 wait for T3: 8 h; one slot only is
    # 10 h. Holding T3 back until T1 has started reaches the critical path, the optimum.
    plan = Plan(
        tasks=(
            task("T0", effort=120),
            task("T1", deps=["T0"], touches=["src/a.py"], effort=120),
            task("T2", deps=["T1"], touches=["tests/"], effort=180),
            task("T3", touches=["src/a.py"], effort=180),
        )
    )
    two = Limits(max_background=2, max_foreground=1, max_parallel=2)
    scheduler = Scheduler(plan)
    assert scheduler.makespan_minutes(two) == scheduler.critical_path_minutes() == 420
    assert started(scheduler.decide(state(), two)) == ["T0"]  # T3 waits, a slot idle
    assert started(scheduler.decide(state(done=["T0"]), two)) == ["T1"]  # now T3 is locked out
    assert sorted(started(scheduler.decide(state(done=["T0", "T1"]), two))) == ["T2", "T3"]
    # A reservation never stalls a run: T1 cannot start once T0 failed, and nothing runs.
    assert started(scheduler.decide(state(failed=["T0"]), two)) == ["T3"]
    monkeypatch.setattr(priority_module, "REPAIR_REPLAYS", 1)  # no replay left to add one
    assert Scheduler(plan).makespan_minutes(two) == 480
    monkeypatch.setattr(priority_module, "RESERVE_MAX_TASKS", 0)
    assert Scheduler(plan).makespan_minutes(two) == 480  # the best any order and width reach
