"""plan.md parsing: the Swarm-IOSM format, every error with its line, and the render round trip."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from swarmgit.domain.plan import ConcurrencyClass, Plan, Severity, Task
from swarmgit.domain.plan_parser import HEADER_RE, parse_plan, plan_text_for_tasks, render_task
from swarmgit.errors import Diagnostic, InvalidInput
from tests.fixtures.plans import REDIS_CACHING_PLAN


def errors_of(text: str) -> list[Diagnostic]:
    with pytest.raises(InvalidInput) as caught:
        parse_plan(text, "swarm/tracks/t/plan.md")
    return list(caught.value.diagnostics)


def only_error(text: str) -> Diagnostic:
    found = errors_of(text)
    assert len(found) == 1, found
    return found[0]


def task_md(task_id: str, *fields: str, title: str = "do it", mark: str = " ") -> str:
    lines = [f"- [{mark}] **{task_id}**: {title}", *(f"  - {field}" for field in fields)]
    return "\n".join(lines) + "\n"


WRITES_A = "**Touches:** `a.py`"


# --- the format -----------------------------------------------------------------------------


def test_redis_plan_parses_every_field() -> None:
    plan = parse_plan(REDIS_CACHING_PLAN, "swarm/tracks/redis-cache/plan.md")

    assert plan.ids == ("T01", "T02", "T03", "T04", "T05", "T06", "T07")
    assert plan.path == "swarm/tracks/redis-cache/plan.md"
    explore = plan.task("T01")
    assert explore.read_only and explore.concurrency is ConcurrencyClass.READ_ONLY
    assert (explore.role, explore.model, explore.effort_minutes) == ("Explorer", "haiku", 30)
    client = plan.task("T03")
    assert client.touches == ("app/cache/client.py", "app/settings.py")
    assert client.deps == ("T02",)
    assert client.effort_minutes == 90 and client.severity is Severity.HIGH
    assert client.run == ("python -m pytest -q tests/test_settings.py",)
    assert client.acceptance.startswith("`get_client()` returns")
    users = plan.task("T04")
    assert users.brief == (
        "Wrap `get_user` in a read-through cache keyed `user:{id}`.\nDelete the key in `update_user`."
    )
    tests = plan.task("T07")
    assert tests.deps == ("T04", "T05") and tests.effort_minutes == 90
    assert tests.extra == {"Artifacts": "`reports/T07.md`"}
    lines = REDIS_CACHING_PLAN.splitlines()
    assert lines[tests.line - 1] == "- [ ] **T07**: Test cache hits, expiry and invalidation"


def test_swarm_iosm_plan_imports_unchanged() -> None:
    # The shapes Swarm-IOSM's own plans use: bracketed notes, efforts with a comment,
    # deps with a comment, upper-case status, unknown fields, a multi-line bullet acceptance.
    text = (
        "# Implementation Plan\n\n**Status:** In Progress\n\n### Phase 0\n\n"
        "- [x] **T01**: Analyze current performance\n"
        "  - **Owner role:** Explorer\n"
        "  - **Depends on:** None\n"
        "  - **Touches:** [read-only analysis]\n"
        "  - **Concurrency class:** read-only\n"
        "  - **Needs user input:** false\n"
        "  - **Effort:** S (1 hour)\n"
        "  - **Auto-spawn allowed:** safe-only\n"
        "  - **Acceptance:**\n"
        "    - baseline documented\n"
        "    - slow queries listed\n"
        "  - **Status:** DONE\n\n"
        "- [ ] **T02**: Security audit\n"
        "  - **Depends on:** T01 (after the analysis)\n"
        "  - **Touches:** [Read-only scan of the code], `security_scan.json`, `reports/`\n"
        "  - **Effort:** M (3-5 hours)\n"
        "  - **IOSM checks:** Gate-I\n"
    )
    plan = parse_plan(text)

    first, second = plan.tasks
    assert first.checked and first.read_only and first.effort_minutes == 30
    assert first.acceptance == "- baseline documented\n- slow queries listed"
    assert first.extra == {"Auto-spawn allowed": "safe-only", "Status": "DONE"}
    assert second.deps == ("T01",)
    assert second.touches == ("security_scan.json", "reports/")
    assert second.concurrency is ConcurrencyClass.WRITE_LOCAL
    assert second.effort_minutes == 150 and not second.checked


def test_variant_spellings_are_accepted() -> None:
    text = (
        "* [X] **T1:** star bullets\n"
        "    * **Touches**: `./src//app/`\n"
        "    * **Needs user input:** Yes\n"
        "    * **Severity:** `critical`\n"
        "- [ ] **SC-01** — spawned fix\n"
        "  - **Depends on:** `T1`\n"
        "  - **Touches:** tests/test_app.py, docs/\n"
        "  - **Effort:** 2H\n"
    )
    plan = parse_plan(text)

    star, spawned = plan.tasks
    assert (star.id, star.title, star.checked) == ("T1", "star bullets", True)
    assert star.touches == ("src/app/",)
    assert star.needs_user_input and star.severity is Severity.CRITICAL
    assert (spawned.id, spawned.title, spawned.deps) == ("SC-01", "spawned fix", ("T1",))
    assert spawned.touches == ("tests/test_app.py", "docs/")
    assert spawned.effort_minutes == 120


def test_touches_read_only_without_a_concurrency_class_means_read_only() -> None:
    text = task_md("T01", "**Touches:** read-only") + task_md("T02", "**Touches:** none")
    plan = parse_plan(text)

    assert all(t.read_only and t.concurrency is ConcurrencyClass.READ_ONLY for t in plan.tasks)


def test_prose_headings_code_fences_and_tables_are_ignored() -> None:
    text = (
        "# Plan\n\nSome prose with **bold:** words.\n\n| a | b |\n|---|---|\n\n"
        "```markdown\n- **Model:** haiku   # an example, not a field\n"
        "- [ ] **T09**: not a task\n```\n\n"
        + task_md("T01", WRITES_A, "**Acceptance:** works")
        + "\n## Progress\n\n- **Last updated:** today\n- [ ] plain checklist item\n"
    )
    plan = parse_plan(text)

    assert plan.ids == ("T01",)
    assert plan.task("T01").extra == {}


def test_a_heading_ends_the_task_above_it() -> None:
    text = task_md("T01", WRITES_A) + "## Notes\n  - **Effort:** XL\n"

    assert parse_plan(text).task("T01").effort_minutes == 150


def test_crlf_plans_parse_like_lf_plans() -> None:
    assert parse_plan(REDIS_CACHING_PLAN.replace("\n", "\r\n")) == parse_plan(REDIS_CACHING_PLAN)


def test_run_is_repeatable_and_keeps_backticks_inside_the_command() -> None:
    text = task_md("T01", WRITES_A, "**Run:** `make lint`", "**Run:** ``echo `date` > a.py``")

    assert parse_plan(text).task("T01").run == ("make lint", "echo `date` > a.py")


# --- errors: each with its line and what to do ------------------------------------------------


def test_duplicate_ids_name_both_lines() -> None:
    text = task_md("T01", WRITES_A) + task_md("T01", "**Touches:** `b.py`")

    error = only_error(text)
    assert (error.line, error.task) == (3, "T01")
    assert "duplicate task id T01" in error.message and "line 1" in error.message
    assert error.render().startswith("swarm/tracks/t/plan.md:3: error:")


def test_unknown_dependency_is_named() -> None:
    text = task_md("T01", WRITES_A) + task_md("T02", WRITES_A, "**Depends on:** T01, T09")
    error = only_error(text)

    assert error.line == 5  # the Depends on line
    assert "T02 depends on 'T09'" in error.message and "add the task" in error.message


def test_dependency_cycle_is_named_in_dependency_order() -> None:
    text = (
        task_md("T01", WRITES_A)
        + task_md("T02", WRITES_A, "**Depends on:** T01, T04")
        + task_md("T03", WRITES_A, "**Depends on:** T02")
        + task_md("T04", WRITES_A, "**Depends on:** T03")
    )
    error = only_error(text)

    assert error.line == 5 and error.task == "T02"  # T02's Depends on line
    assert "dependency cycle T02 -> T04 -> T03 -> T02" in error.message
    assert "remove one of these dependencies" in error.message


def test_self_dependency_is_a_cycle() -> None:
    error = only_error(task_md("T01", WRITES_A, "**Depends on:** T01"))

    assert "dependency cycle T01 -> T01" in error.message


def test_each_separate_cycle_is_reported() -> None:
    text = (
        task_md("A1", WRITES_A, "**Depends on:** A2")
        + task_md("A2", WRITES_A, "**Depends on:** A1")
        + task_md("B1", WRITES_A, "**Depends on:** B2")
        + task_md("B2", WRITES_A, "**Depends on:** B1")
    )
    messages = [e.message for e in errors_of(text)]

    assert any("A1 -> A2 -> A1" in m for m in messages)
    assert any("B1 -> B2 -> B1" in m for m in messages)


@pytest.mark.parametrize(
    ("field", "words"),
    [
        ("**Effort:** a week", ["bad effort 'a week'", "S, M, L, XL", "90min"]),
        ("**Needs user input:** maybe", ["bad Needs user input 'maybe'", "true or false"]),
        ("**Severity:** urgent", ["bad Severity 'urgent'", "low, medium, high, critical"]),
        (
            "**Concurrency class:** shared",
            ["bad Concurrency class 'shared'", "read-only, write-local, write-shared"],
        ),
        ("**Touches:** `ok.py`, `/etc/passwd`", ["'/etc/passwd'", "absolute", "repo root"]),
        ("**Touches:** `src/../../x`, ok.py", ["'src/../../x'", "'..'", "repo root"]),
        ("**Run:**", ["Run is empty", "one shell command"]),
    ],
)
def test_bad_values_name_their_line_and_what_is_allowed(field: str, words: list[str]) -> None:
    other = "**Acceptance:** done" if "Touches" in field else "**Touches:** `ok.py`"
    text = task_md("T01", other, field)

    found = errors_of(text)
    error = next(e for e in found if e.line == 3)
    assert error.message.startswith("T01: ") and error.task == "T01"
    for word in words:
        assert word in error.message


def test_write_task_without_touches_is_an_error() -> None:
    error = only_error(task_md("T01", "**Concurrency class:** write-local"))

    assert error.line == 1
    assert "T01 is write-local but has no touches" in error.message
    assert "Concurrency class:** read-only" in error.message


def test_task_without_any_touches_field_is_a_write_task_without_touches() -> None:
    error = only_error(task_md("T01", "**Effort:** S"))

    assert "has no touches" in error.message


def test_read_only_task_that_lists_touches_is_an_error() -> None:
    error = only_error(task_md("T01", "**Concurrency class:** read-only", WRITES_A))

    assert error.line == 1 and "read-only but lists touches" in error.message


def test_context_is_parsed_like_touches_and_grants_no_write() -> None:
    plan = parse_plan(task_md("T01", WRITES_A, "**Context:** `./docs/`, `src/**/*.py`, `docs/`"))

    task = plan.tasks[0]
    assert task.context == ("docs/", "src/**/*.py") and task.touches == ("a.py",)
    assert parse_plan(render_task(task)).tasks[0].context == task.context
    assert parse_plan(task_md("T01", WRITES_A, "**Context:** none")).tasks[0].context == ()


def test_context_only_task_is_still_read_only() -> None:
    task = parse_plan(task_md("T01", "**Touches:** read-only", "**Context:** `docs/`")).tasks[0]

    assert task.read_only and task.concurrency == ConcurrencyClass.READ_ONLY


@pytest.mark.parametrize(
    ("value", "said"),
    [
        ("`../secrets`", "'..'"),
        ("`/etc/passwd`", "absolute"),
        ("docs/ a b", "context path 'docs/ a b' holds a space"),
        ("`a.py, b.py`", "context path 'a.py, b.py' holds a comma"),
        ("`docs/", "Context '`docs/' has a backtick"),
    ],
)
def test_bad_context_paths_are_errors_with_the_line(value: str, said: str) -> None:
    error = only_error(task_md("T01", WRITES_A, f"**Context:** {value}"))

    assert error.line == 3 and error.task == "T01" and said in error.message


def test_field_before_any_task_is_an_error() -> None:
    error = only_error("# Plan\n\n- **Effort:** M\n\n" + task_md("T01", WRITES_A))

    assert error.line == 3
    assert "'Effort' comes before any task" in error.message


def test_field_not_indented_under_its_task_is_an_error() -> None:
    text = task_md("T01", WRITES_A) + "- **Effort:** M\n"

    error = only_error(text)
    assert error.line == 3
    assert "not indented under task T01 (line 1)" in error.message


def test_a_field_given_twice_is_an_error() -> None:
    error = only_error(task_md("T01", WRITES_A, "**Effort:** S", "**effort:** M"))

    assert error.line == 4 and "effort is given twice (first on line 3)" in error.message


def test_every_error_is_reported_at_once_in_line_order() -> None:
    text = (
        "- **Model:** opus\n"
        + task_md("T01", WRITES_A, "**Effort:** soon")
        + task_md("T01", "**Touches:** `../up`", "**Depends on:** T07")
    )
    found = errors_of(text)

    assert [e.line for e in found] == [1, 4, 5, 6, 7]
    joined = "\n".join(e.message for e in found)
    for words in ("before any task", "bad effort", "duplicate task id", "'..'", "'T07'"):
        assert words in joined


# --- rendering round trip -------------------------------------------------------------------

_WORD = st.text("abcdefghijklmnopqrstuvwxyz0123456789_.", min_size=1, max_size=6).filter(
    lambda w: w not in {".", ".."}
)
_TOUCH = st.tuples(st.lists(_WORD, min_size=1, max_size=3), st.sampled_from(["", "/", "/**/*.py"]))
_TOUCHES = st.lists(
    _TOUCH.map(lambda t: "/".join(t[0]) + t[1]).filter(lambda t: not t.startswith(".git")),
    max_size=3,
    unique=True,
)
_TEXT = st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\u2028\u2029\x85")
# A value line that is itself a task header would start a task: the one thing values can't hold.
_LINE = (
    st.text(_TEXT, min_size=1, max_size=30)
    .map(str.strip)
    .filter(lambda s: bool(s) and not HEADER_RE.match(s))
)
_VALUE = st.one_of(st.just(""), _LINE, st.lists(_LINE, min_size=1, max_size=4).map("\n".join))
_EXTRA_NAMES = st.sampled_from(["Artifacts", "IOSM checks", "Discoveries expected", "Status"])


@st.composite
def tasks(draw: st.DrawFn, count: int) -> list[Task]:
    """Tasks T01..Tn as the parser would produce them; deps point at earlier tasks."""
    made: list[Task] = []
    for n in range(count):
        touches = tuple(draw(_TOUCHES))
        writes = st.sampled_from([ConcurrencyClass.WRITE_LOCAL, ConcurrencyClass.WRITE_SHARED])
        earlier = [task.id for task in made]
        made.append(
            Task(
                id=f"T{n + 1:02d}",
                title=draw(_LINE),
                role=draw(_LINE),
                deps=tuple(draw(st.lists(st.sampled_from(earlier), unique=True))) if made else (),
                touches=touches,
                concurrency=draw(writes) if touches else ConcurrencyClass.READ_ONLY,
                needs_user_input=draw(st.booleans()),
                effort_minutes=draw(st.integers(1, 5000)),
                model=draw(st.sampled_from(["auto", "haiku", "claude-sonnet-5-5"])),
                severity=draw(st.sampled_from(list(Severity))),
                acceptance=draw(_VALUE),
                run=tuple(draw(st.lists(_LINE, max_size=2))),
                brief=draw(_VALUE),
                checked=draw(st.booleans()),
                extra=draw(st.dictionaries(_EXTRA_NAMES, _VALUE, max_size=2)),
            )
        )
    return made


@given(st.integers(1, 4).flatmap(tasks))
def test_rendered_tasks_parse_back_to_the_same_tasks(generated: list[Task]) -> None:
    text = plan_text_for_tasks(generated, heading="Generated")
    plan = parse_plan(text)

    assert [t.model_copy(update={"line": 0}) for t in plan.tasks] == generated
    header_lines = [n + 1 for n, line in enumerate(text.split("\n")) if line.startswith("- [")]
    assert [t.line for t in plan.tasks] == header_lines


def test_render_task_output_reads_like_the_plan_format() -> None:
    task = Task(
        id="T03",
        title="Implement cache service",
        deps=("T02", "T01"),
        touches=("backend/cache/", "backend/config.py"),
        effort_minutes=180,
        acceptance="cache hit returns in < 5 ms; unit tests pass",
        run=("python -m pytest -q",),
    )

    assert render_task(task) == (
        "- [ ] **T03**: Implement cache service\n"
        "  - **Owner role:** Implementer\n"
        "  - **Depends on:** T02, T01\n"
        "  - **Touches:** `backend/cache/`, `backend/config.py`\n"
        "  - **Concurrency class:** write-local\n"
        "  - **Needs user input:** false\n"
        "  - **Effort:** 3h\n"
        "  - **Model:** auto\n"
        "  - **Severity:** medium\n"
        "  - **Acceptance:** cache hit returns in < 5 ms; unit tests pass\n"
        "  - **Run:** `python -m pytest -q`\n"
    )


def test_the_redis_plan_survives_a_render_round_trip() -> None:
    plan = parse_plan(REDIS_CACHING_PLAN)
    again = parse_plan(plan_text_for_tasks(plan.tasks))

    assert isinstance(again, Plan)
    assert [t.model_copy(update={"line": 0}) for t in again.tasks] == [
        t.model_copy(update={"line": 0}) for t in plan.tasks
    ]


def test_values_that_look_like_markdown_structure_stay_values() -> None:
    task = Task(
        id="T01",
        title="# not a heading",
        touches=("a.py",),
        acceptance="- **Touches:** `b.py`",
        brief="```\n# not a heading\n- **Effort:** XL\n```\n\n  indented tail",
        extra={"Notes": "## also not a heading\n* [ ] not a task"},
    )
    text = render_task(task) + "- [ ] **T02**: next\n  - **Touches:** `c.py`\n"

    plan = parse_plan(text)
    assert plan.tasks[0] == task.model_copy(update={"line": 1})
    assert plan.task("T02").touches == ("c.py",)


def test_a_quoted_path_named_like_a_marker_is_still_a_path() -> None:
    text = task_md("T01", "**Touches:** `none`, read-only, `read-only/`")

    assert parse_plan(text).task("T01").touches == ("none", "read-only/")


def test_an_unclosed_code_fence_hides_the_rest_of_the_file() -> None:
    text = task_md("T01", WRITES_A) + "\n~~~\n- [ ] **T02**: inside the example\n"

    assert parse_plan(text).ids == ("T01",)


def test_run_made_of_several_code_spans_is_kept_whole_and_touches_dedupe() -> None:
    text = task_md("T01", "**Touches:** `a.py`, ./a.py, `b/`", "**Run:** `make` && `make test`")

    parsed = parse_plan(text).task("T01")
    assert parsed.run == ("`make` && `make test`",)
    assert parsed.touches == ("a.py", "b/")
