"""`plan check` on a valid plan: anti-pattern warnings, the lock plan, and the printed report."""

from __future__ import annotations

from swarmgit.domain.plan import ConcurrencyClass, Plan, Task
from swarmgit.domain.plan_check import lock_plan, plan_warnings, render_check
from swarmgit.domain.plan_parser import parse_plan
from tests.fixtures.plans import REDIS_CACHING_PLAN


def task(task_id: str, *touches: str, deps: tuple[str, ...] = (), **more: object) -> Task:
    fields: dict[str, object] = {
        "concurrency": ConcurrencyClass.WRITE_LOCAL if touches else ConcurrencyClass.READ_ONLY,
        "acceptance": "it works",
        **more,
    }
    fields.update(id=task_id, title=f"task {task_id}", touches=touches, deps=deps)
    return Task.model_validate(fields)


def plan_of(*tasks: Task) -> Plan:
    numbered = [t.model_copy(update={"line": t.line or 10 * (n + 1)}) for n, t in enumerate(tasks)]
    return Plan(tasks=tuple(numbered), path="swarm/tracks/x/plan.md")


def messages(plan: Plan, tracked: list[str] | None = None) -> list[str]:
    return [w.message for w in plan_warnings(plan, tracked)]


def test_redis_plan_warns_about_the_two_tasks_sharing_a_folder_and_an_unknown_field() -> None:
    plan = parse_plan(REDIS_CACHING_PLAN, "swarm/tracks/redis-cache/plan.md")

    warning, unknown = plan_warnings(plan)

    assert (warning.level, warning.task, warning.line) == ("warning", "T05", plan.task("T05").line)
    assert warning.path == "swarm/tracks/redis-cache/plan.md"
    assert "T04 and T05 can never run in parallel" in warning.message
    assert "both touch app/cache/" in warning.message and "add a dependency" in warning.message
    assert (unknown.level, unknown.task) == ("warning", "T07")
    assert unknown.message.startswith(
        "T07: unknown field **Artifacts:** is kept but swarmgit does not use it"
    )


def test_redis_plan_lock_plan_serializes_the_cache_folder() -> None:
    locks = lock_plan(parse_plan(REDIS_CACHING_PLAN))

    [group] = locks.groups
    assert group.tasks == ("T03", "T04", "T05")
    assert group.paths == ("app/cache/client.py", "app/cache/")
    pairs = [(o.first, o.second) for o in group.overlaps]
    assert pairs == [("T03", "T04"), ("T03", "T05"), ("T04", "T05")]
    assert locks.free == ("T01", "T02", "T06", "T07")


def test_render_check_prints_summary_warnings_and_lock_plan() -> None:
    plan = parse_plan(REDIS_CACHING_PLAN, "swarm/tracks/redis-cache/plan.md")
    warnings = plan_warnings(plan)

    text = render_check(plan, warnings, lock_plan(plan))

    lines = text.splitlines()
    assert lines[0] == ("swarm/tracks/redis-cache/plan.md: 7 tasks, 7 dependencies, 1 read-only, 2 warnings")
    assert lines[1:3] == [warning.render() for warning in warnings]
    where = f"swarm/tracks/redis-cache/plan.md:{plan.task('T05').line}: warning: "
    assert lines[1].startswith(where)
    assert lines[3:] == [
        "Lock plan:",
        "  serialize T03, T04, T05:",
        "    T03 ~ T04: app/cache/client.py ~ app/cache/",
        "    T03 ~ T05: app/cache/client.py ~ app/cache/",
        "    T04 ~ T05: app/cache/",
        "  share no path with another task: T01, T02, T06, T07",
    ]


def test_render_check_without_overlaps_or_warnings() -> None:
    plan = plan_of(task("T01", "a.py"), task("T02", deps=("T01",)))

    text = render_check(plan, plan_warnings(plan), lock_plan(plan))

    assert text == (
        "swarm/tracks/x/plan.md: 2 tasks, 1 dependency, 1 read-only, 0 warnings\n"
        "Lock plan:\n"
        "  no two tasks touch the same paths\n"
        "  share no path with another task: T01, T02\n"
    )


def test_whole_repository_touches_are_over_broad() -> None:
    plan = plan_of(task("T01", "**"), task("T02", "*"), task("T03", "**/*"), task("T04", "src/**"))

    found = plan_warnings(plan)
    broad = [w for w in found if "whole repository" in w.message]

    assert [(w.task, w.line) for w in broad] == [("T01", 10), ("T02", 20), ("T03", 30)]
    assert "list the folders and files it changes" in broad[0].message


def test_top_level_folder_holding_most_tracked_files_is_over_broad() -> None:
    tracked = ["src/a.py", "src/b.py", "src/c/d.py", "docs/x.md", "README.md"]
    plan = plan_of(
        task("T01", "src/", deps=()),
        task("T02", "src/**", deps=("T01",)),
        task("T03", "docs/", deps=("T02",)),
        task("T04", "src/c/", deps=("T03",)),
    )

    found = [w for w in plan_warnings(plan, tracked) if "tracked files" in w.message]

    assert [w.task for w in found] == ["T01", "T02"]
    assert "T01 touches src/, which holds 3 of the 5 tracked files" in found[0].message
    assert not [m for m in messages(plan) if "tracked files" in m]  # needs the file list


def test_overlapping_unordered_tasks_name_both_patterns() -> None:
    plan = plan_of(task("T01", "api/"), task("T02", "docs/", "api/**/*.py"))

    [warning] = plan_warnings(plan)

    assert (warning.task, warning.line) == ("T02", 20)
    assert "T01 and T02 can never run in parallel" in warning.message
    assert "T01's api/ overlaps T02's api/**/*.py" in warning.message


def test_overlap_ordered_by_a_transitive_dependency_is_fine() -> None:
    plan = plan_of(
        task("T01", "api/"),
        task("T02", "docs/", deps=("T01",)),
        task("T03", "api/routes.py", deps=("T02",)),
    )

    assert plan_warnings(plan) == []
    assert lock_plan(plan).groups[0].tasks == ("T01", "T03")


def test_write_shared_and_missing_acceptance_are_warned() -> None:
    plan = plan_of(
        task("T01", "a.py", concurrency=ConcurrencyClass.WRITE_SHARED),
        task("T02", "b.py").model_copy(update={"acceptance": "  "}),
    )

    found = plan_warnings(plan)

    assert [(w.task, w.line) for w in found] == [("T01", 10), ("T02", 20)]
    assert "T01 is write-shared" in found[0].message and "write-local" in found[0].message
    assert "T02 has no acceptance criteria" in found[1].message
    assert "- **Acceptance:**" in found[1].message


def test_read_only_tasks_never_lock() -> None:
    plan = plan_of(task("T01"), task("T02"), task("T03", "a.py"))

    locks = lock_plan(plan)

    assert locks.groups == () and locks.free == ("T01", "T02", "T03")


def test_lock_groups_chain_through_shared_paths() -> None:
    plan = plan_of(
        task("T01", "a/x.py"),
        task("T02", "b/"),
        task("T03", "a/", "c.py"),
        task("T04", "c.py"),
        task("T05", "b/y.py"),
        task("T06", "d.py"),
    )

    locks = lock_plan(plan)

    assert [g.tasks for g in locks.groups] == [("T01", "T03", "T04"), ("T02", "T05")]
    assert locks.groups[0].paths == ("a/x.py", "a/", "c.py")
    assert locks.free == ("T06",)


def test_many_overlaps_are_summarised_in_the_report() -> None:
    plan = plan_of(*(task(f"T{n:02d}", "shared/") for n in range(1, 7)))

    text = render_check(plan, [], lock_plan(plan))

    assert "  serialize T01, T02, T03, T04, T05, T06:" in text
    assert "... and 7 more overlapping pairs" in text  # 15 pairs, 8 shown


def test_tasks_overlapping_on_several_paths_make_one_pair() -> None:
    plan = plan_of(
        task("T01", "a/x.py", "a/y.py"),
        task("T02", "a/", "a/z.py"),  # overlaps itself too: that is no pair
    )

    [group] = lock_plan(plan).groups
    assert [(o.first, o.second, o.describe()) for o in group.overlaps] == [("T01", "T02", "a/x.py ~ a/")]
    assert len(plan_warnings(plan)) == 1


def test_dependencies_listed_before_their_tasks_still_order_overlaps() -> None:
    plan = plan_of(
        task("T03", "api/routes.py", deps=("T02",)),
        task("T02", "docs/", deps=("T01",)),
        task("T01", "api/"),
    )

    assert plan_warnings(plan) == []


def test_context_paths_that_name_nothing_are_warned_about() -> None:
    plan = plan_of(
        task("T01", "src/gen/", context=("docs/",)),
        task(
            "T02",
            "src/app.py",
            deps=("T01",),
            context=("docs/guide.md", "docs/gide.md", "src/gen/out.py", "src/**/*.py", "nope/"),
        ),
    )

    found = messages(plan, ["docs/guide.md", "src/app.py"])

    assert found == [
        "T02's context `docs/gide.md` names no tracked file or folder and no touch of the plan: "
        'a sparse worktree (worktrees.checkout = "sparse") would not hold it; fix the path',
        "T02's context `nope/` names no tracked file or folder and no touch of the plan: "
        'a sparse worktree (worktrees.checkout = "sparse") would not hold it; fix the path',
    ]
    assert messages(plan) == []  # without the tracked files nothing is judged
