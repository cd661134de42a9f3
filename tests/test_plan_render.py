"""Writing status and spawned tasks back into plan.md: only the intended bytes change."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from swarmgit.domain.plan import Status, Task
from swarmgit.domain.plan_parser import parse_plan
from swarmgit.domain.plan_render import StatusLines, append_tasks, render_status
from tests.fixtures.plans import REDIS_CACHING_PLAN

# Hand-edited plan: CRLF on some lines, trailing whitespace, prose, an existing upper-case
# Status, a task with no fields, `*` bullets, a capital X, and no newline at the very end.
MESSY = (
    "# Plan  \r\n"
    "\r\n"
    "Intro prose with trailing tabs\t\t\n"
    "- [ ] **T01**: first   \r\n"
    "  - **Touches:** `a.py`  \r\n"
    "  - **Status:** TODO\r\n"
    "\n"
    "- [X] **T02**: second\n"
    "    * **Touches:** `b/`\n"
    "    * **Brief:**\n"
    "      line one\n"
    "\n"
    "      line two\n"
    "Closing prose, not part of T02.\n"
    "- [ ] **T03**: no fields yet\n"
    "  - **Concurrency class:** read-only"
)


def changed_lines(before: str, after: str) -> list[tuple[str, str]]:
    """Pairs of differing lines, when no line was inserted or removed."""
    old, new = before.split("\n"), after.split("\n")
    assert len(old) == len(new)
    return [(a, b) for a, b in zip(old, new) if a != b]


def test_status_rewrites_checkbox_and_existing_status_value_only() -> None:
    after = render_status(MESSY, {"T01": Status.DONE})

    assert changed_lines(MESSY, after) == [
        ("- [ ] **T01**: first   \r", "- [x] **T01**: first   \r"),
        ("  - **Status:** TODO\r", "  - **Status:** DONE\r"),
    ]


def test_status_is_inserted_after_the_last_field_line_in_the_task_style() -> None:
    after = render_status(MESSY, {"T02": Status.RUNNING})

    expected = MESSY.replace("- [X] **T02**", "- [ ] **T02**").replace(
        "      line two\n", "      line two\n    * **Status:** running\n"
    )
    assert after == expected


def test_status_on_a_last_line_without_newline_keeps_the_file_unterminated() -> None:
    after = render_status(MESSY, {"T03": Status.FAILED})

    assert after == MESSY + "\n  - **Status:** failed"
    assert render_status("- [ ] **T09**: bare", {"T09": Status.DONE}) == (
        "- [x] **T09**: bare\n  - **Status:** done"
    )


def test_status_keeps_a_capital_x_and_crlf_of_the_line_it_follows() -> None:
    text = "- [X] **T01**: a\r\n  - **Touches:** `a.py`\r\n\r\nafter\r\n"

    after = render_status(text, {"T01": Status.DONE})

    assert after == ("- [X] **T01**: a\r\n  - **Touches:** `a.py`\r\n  - **Status:** done\r\n\r\nafter\r\n")


def test_status_is_idempotent_and_reads_back() -> None:
    statuses = {"T01": Status.DONE, "T02": Status.BLOCKED, "T03": Status.DONE, "T99": Status.DONE}
    once = render_status(MESSY, statuses)

    assert render_status(once, statuses) == once
    plan = parse_plan(once)
    assert [t.checked for t in plan.tasks] == [True, False, True]
    assert [t.extra["Status"] for t in plan.tasks] == ["DONE", "blocked", "done"]
    assert plan.task("T02").brief == "line one\n\nline two"


def test_status_on_the_redis_plan_leaves_every_other_task_alone() -> None:
    after = render_status(REDIS_CACHING_PLAN, {"T04": Status.DONE})
    before_plan, after_plan = parse_plan(REDIS_CACHING_PLAN), parse_plan(after)

    for old, new in zip(before_plan.tasks, after_plan.tasks):
        if old.id != "T04":
            assert new.model_copy(update={"line": 0}) == old.model_copy(update={"line": 0})
    done = after_plan.task("T04")
    assert done.checked and done.extra == {"Status": "done"}
    assert done.brief == before_plan.task("T04").brief  # inserted after the Brief block
    assert after.replace("  - **Status:** done\n", "", 1).replace("[x] **T04**", "[ ] **T04**") == (
        REDIS_CACHING_PLAN
    )


def spawned(task_id: str) -> Task:
    return Task(
        id=task_id,
        title=f"Fix what {task_id} found",
        deps=("T03",),
        touches=("app/cache/client.py",),
        acceptance="the gate passes",
    )


def test_append_tasks_adds_a_spawned_section_once() -> None:
    once = append_tasks(REDIS_CACHING_PLAN, [spawned("SC-01")])
    twice = append_tasks(once, [spawned("SC-02"), spawned("SC-03")])

    assert once.startswith(REDIS_CACHING_PLAN)
    assert twice.startswith(once)
    assert twice.count("## Spawned tasks") == 1
    plan = parse_plan(twice)
    assert plan.ids[-3:] == ("SC-01", "SC-02", "SC-03")
    assert plan.task("SC-02").model_copy(update={"line": 0}) == spawned("SC-02")
    assert "\n\n## Spawned tasks\n\n- [ ] **SC-01**" in once


def test_append_tasks_follows_the_file_line_endings_and_missing_final_newline() -> None:
    text = "- [ ] **T03**: base\r\n  - **Touches:** `app/cache/client.py`"

    after = append_tasks(text, [spawned("SC-01")])

    assert after.startswith(text + "\r\n\r\n## Spawned tasks\r\n\r\n- [ ] **SC-01**")
    assert "\n" not in after.replace("\r\n", "")
    assert parse_plan(after).ids == ("T03", "SC-01")


def test_append_no_tasks_changes_nothing() -> None:
    assert append_tasks(MESSY, []) == MESSY


def test_status_fills_an_empty_status_field() -> None:
    text = "- [ ] **T01**: a\n  - **Touches:** `a.py`\n  - **Status:**\n"

    assert render_status(text, {"T01": Status.RUNNING}) == text.replace("**Status:**", "**Status:** running")


@given(
    # (a final line without newline gains one when a Status goes after it: tested above)
    st.sampled_from([REDIS_CACHING_PLAN, REDIS_CACHING_PLAN.replace("\n", "\r\n"), MESSY + "\n"]),
    st.dictionaries(st.sampled_from(["T01", "T02", "T03", "T04"]), st.sampled_from(list(Status))),
)
def test_status_changes_only_checkboxes_and_status_lines(text: str, statuses: dict[str, Status]) -> None:
    after = render_status(text, statuses)

    assert render_status(after, statuses) == after
    kept = [line for line in after.splitlines(keepends=True) if "**Status:**" not in line]
    original = [line for line in text.splitlines(keepends=True) if "**Status:**" not in line]
    unchecked = [line.replace("[x]", "[ ]").replace("[X]", "[ ]") for line in kept]
    assert unchecked == [line.replace("[x]", "[ ]").replace("[X]", "[ ]") for line in original]
    for task in parse_plan(after).tasks:
        if task.id in statuses:
            assert task.checked == (statuses[task.id] is Status.DONE)
            assert task.extra["Status"].lower() == statuses[task.id].value


def test_a_multi_line_status_becomes_one_line() -> None:
    text = "- [ ] **T01**: a\n  - **Status:** running\n    since Monday\n  - **Touches:** `a.py`\n"

    assert render_status(text, {"T01": Status.DONE}) == (
        "- [x] **T01**: a\n  - **Status:** done\n  - **Touches:** `a.py`\n"
    )


def test_a_status_line_is_shaped_like_the_last_field_so_it_never_continues_it() -> None:
    text = "- [ ] **T01**: a\n\t- **Effort:** XL\n  - **Touches:** `a.py`\n"  # tab, then spaces

    once = render_status(text, {"T01": Status.DONE})

    assert once == "- [x] **T01**: a\n\t- **Effort:** XL\n  - **Touches:** `a.py`\n  - **Status:** done\n"
    assert render_status(once, {"T01": Status.DONE}) == once
    assert parse_plan(once).task("T01").touches == ("a.py",)


_IDS = ["T01", "T02", "T03", "T04"]


@settings(max_examples=60)
@given(
    st.sampled_from(
        [REDIS_CACHING_PLAN, REDIS_CACHING_PLAN.replace("\n", "\r\n"), MESSY + "\n", "\ufeff" + MESSY + "\n"]
    ),
    st.lists(st.dictionaries(st.sampled_from(_IDS), st.sampled_from(list(Status))), max_size=6),
)
def test_status_lines_update_as_a_full_render_would(text: str, steps: list[dict[str, Status]]) -> None:
    """The live run's incremental writer: after one full render of every task, each step's
    update gives the very text a full render of the same statuses gives."""
    ids = [task.id for task in parse_plan(text).tasks]
    current = {task: Status.TODO for task in ids}
    full = render_status(text, current)
    lines = StatusLines(full)
    for step in steps:
        changed = {task: status for task, status in step.items() if task in current}
        current.update(changed)
        full = render_status(full, current)
        assert lines.update(changed) == full


def test_status_lines_refuse_a_task_without_a_status_line() -> None:
    lines = StatusLines(MESSY)  # T03 has no Status line yet: only a full render adds one
    assert lines.update({"T03": Status.DONE}) is None
    assert lines.update({"T09": Status.DONE}) is None
    assert lines.update({"T01": Status.DONE}) == render_status(MESSY, {"T01": Status.DONE})
