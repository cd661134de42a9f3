"""The plan parser never drops text it does not understand: each such line is an error (running
on would do something the user did not write) or a warning (kept or harmless), shown by
`git swarm plan check` with its line and the likely intent."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from swarmgit.domain.plan_parser import parse_plan
from swarmgit.errors import InvalidInput
from tests.gitutil import git
from tests.swarmrepo import swarm, track_repo

T01 = "- [ ] **T01**: one\n  - **Touches:** `a.py`\n  - **Acceptance:** done\n"


def t02(*fields: str, header: str = "- [ ] **T02**: two") -> str:
    return T01 + header + "\n" + "".join(f"  {field}\n" for field in fields) + "  - **Acceptance:** ok\n"


def plan_check(tmp_path: Path, body: str) -> tuple[int, str]:
    repo = track_repo(tmp_path / "r", "")
    (repo / "swarm/tracks/t/plan.md").write_text("# Plan\n\n" + body, encoding="utf-8")
    git(repo, "commit", "-qam", "plan")
    result = swarm(repo, "plan", "check", "t")
    return result.exit_code, result.output


ERRORS = {
    "near miss of Depends on": (
        t02("- **Depend on:** T01", "- **Touches:** `b.py`"),
        7,
        "T02: unknown field **Depend on:** would be ignored: did you mean **Depends on:**?",
    ),
    "near miss of Touches": (t02("- **Touch:** `b.py`"), 7, "did you mean **Touches:**?"),
    "Dependency for Dependencies": (
        t02("- **Dependency:** T01", "- **Touches:** `b.py`"),
        7,
        "did you mean **Depends on:**?",
    ),
    "run together": (
        t02("- **DependsOn:** T01", "- **Touches:** `b.py`"),
        7,
        "did you mean **Depends on:**?",
    ),
    "another word for Depends on": (
        t02("- **Blocked by:** T01", "- **Touches:** `b.py`"),
        7,
        "did you mean **Depends on:**?",
    ),
    "another word for Touches": (t02("- **Files:** `b.py`"), 7, "did you mean **Touches:**?"),
    "not bold": (
        t02("- Depends on: T01", "- **Touches:** `b.py`"),
        7,
        "T02: this line looks like the **Depends on:** field but is not written as one, so it "
        "would be ignored: write `- **Depends on:** value`",
    ),
    "plain Dependencies": (
        t02("- Dependencies: T01", "- **Touches:** `b.py`"),
        7,
        "looks like the **Depends on:** field",
    ),
    "no space after the dash": (
        t02("-**Depends on:** T01", "- **Touches:** `b.py`"),
        7,
        "looks like the **Depends on:** field",
    ),
    "no colon": (
        t02("- **Depends on** T01", "- **Touches:** `b.py`"),
        7,
        "looks like the **Depends on:** field",
    ),
    "space inside the bold": (
        t02("- ** Depends on:** T01", "- **Touches:** `b.py`"),
        7,
        "looks like the **Depends on:** field",
    ),
    "italic": (t02("- *Touches:* `b.py`"), 7, "looks like the **Touches:** field"),
    "unbalanced backtick in touches": (
        t02("- **Touches:** `src/a.py, `src/b.py`"),
        7,
        "T02: Touches '`src/a.py, `src/b.py`' has a backtick that closes no code span: give each "
        "path its own, like `src/a.py`, `src/b.py`",
    ),
    "two paths in one code span": (
        t02("- **Touches:** `src/a.py, src/b.py`"),
        7,
        "touch 'src/a.py, src/b.py' holds a comma",
    ),
    "two paths without a comma": (
        t02("- **Touches:** src/a.py src/b.py"),
        7,
        "touch 'src/a.py src/b.py' holds a space",
    ),
    "unclosed backtick in run": (
        t02("- **Touches:** `b.py`", "- **Run:** `make test"),
        8,
        "T02: Run '`make test' has a backtick that closes no code span, so the shell would run it as written",
    ),
    "heading-style task": (
        T01 + "\n### T02: two\n- **Depends on:** T01\n- **Touches:** `b.py`\n",
        7,
        "heading looks like task T02 but tasks are checkbox lines, so it and its fields would be "
        "dropped: write `- [ ] **T02**: two`",
    ),
    "truncated task line": (
        T01 + "- [ ] **T0",
        6,
        "task line does not parse, so the task would be dropped: the line is cut off",
    ),
    "numbered task line": (
        T01 + "2. [ ] **T02**: two\n   - **Touches:** `b.py`\n",
        6,
        "task line does not parse, so the task would be dropped: did you mean `- [ ] **T02**: two`?",
    ),
    "task id not in bold": (
        T01 + "- [ ] T02: two\n  - **Touches:** `b.py`\n",
        6,
        "task line does not parse, so the task would be dropped: did you mean `- [ ] **T02**: two`?",
    ),
}


@pytest.mark.parametrize("case", ERRORS, ids=list(ERRORS))
def test_a_line_that_would_be_lost_is_an_error_naming_line_and_intent(tmp_path: Path, case: str) -> None:
    body, line, message = ERRORS[case]

    code, output = plan_check(tmp_path, body)

    assert code == 2, output
    [error] = [row for row in output.splitlines() if f"plan.md:{line}: error: " in row]
    assert message in error, output
    assert "Traceback" not in output


WARNINGS = {
    "unknown field": (
        t02("- **Notes:** ask ops first", "- **Touches:** `b.py`"),
        7,
        "T02: unknown field **Notes:** is kept but swarmgit does not use it",
    ),
    "prose inside a task": (
        t02("- **Touches:** `b.py`", "remember the cache"),
        8,
        "T02: this line is not a field and is ignored: fields are written `- **Name:** value`",
    ),
    "checkbox that is not a task": (
        T01 + "- [ ] review with ops\n",
        6,
        "checkbox line is not a task and is ignored",
    ),
    "known field under a heading": (
        T01 + "\n## Notes\n- **Effort:** XL\n",
        8,
        "field **Effort:** is under no task (a heading ends the task above it), so it is ignored",
    ),
    "a known field indented under another": (
        t02("- **Touches:** `b.py`", "- **Brief:** use the cache", "    - **Depends on:** T01"),
        9,
        "T02: this **Depends on:** line is indented under **Brief:** (line 8), so it is part of that value",
    ),
    "task-like heading without fields": (
        T01 + "\n## T9: roadmap\n\nlater\n",
        7,
        "heading looks like task T9, which is not a task",
    ),
}


@pytest.mark.parametrize("case", WARNINGS, ids=list(WARNINGS))
def test_text_kept_or_harmless_but_not_understood_is_a_warning(tmp_path: Path, case: str) -> None:
    body, line, message = WARNINGS[case]

    code, output = plan_check(tmp_path, body)

    assert code == 0, output
    assert re.search(r"plan\.md: \d tasks?, .* [1-9] warnings?\n", output), output
    [warning] = [row for row in output.splitlines() if f"plan.md:{line}: warning: " in row]
    assert message in warning, output


def test_unknown_fields_are_kept_and_case_and_spacing_variants_are_read() -> None:
    plan = parse_plan(t02("- **DEPENDS  ON :** T01", "- **touches:** `b.py`", "- **Notes:** ask ops"))

    task = plan.task("T02")
    assert task.deps == ("T01",) and task.touches == ("b.py",)
    assert task.extra == {"Notes": "ask ops"}
    assert [w.line for w in plan.warnings] == [7]


def test_a_name_close_in_spelling_but_not_in_meaning_is_only_unknown() -> None:
    plan = parse_plan(t02("- **Touches:** `b.py`", "- **Dependents:** T03"))

    [warning] = plan.warnings
    assert "unknown field **Dependents:** is kept" in warning.message


def test_fields_swarmgit_writes_itself_give_no_warning() -> None:
    plan = parse_plan(t02("- **Touches:** `b.py`", "- **Status:** done", "- **Dedup key:** b.py|x"))

    assert plan.warnings == ()


def test_a_heading_that_names_a_real_task_or_no_task_like_id_is_a_heading() -> None:
    plan = parse_plan("## T01: one\n\n" + T01 + "\n## P0 - must have\n\n## Q3: later\n")

    assert plan.ids == ("T01",) and plan.warnings == ()


def test_balanced_backticks_in_run_are_the_users_command() -> None:
    plan = parse_plan(
        t02("- **Touches:** `b.py`", "- **Run:** echo `date` > b.py", "- **Run:** `` echo ` ``")
    )

    assert plan.task("T02").run == ("echo `date` > b.py", "echo `")


def test_fields_of_a_task_line_that_does_not_parse_are_not_given_to_the_task_above() -> None:
    text = T01 + "- [ ] T02: two\n  - **Touches:** `b.py`\n  - **Effort:** XL\n"

    with pytest.raises(InvalidInput) as caught:
        parse_plan(text)
    assert [d.line for d in caught.value.diagnostics] == [4]


def test_plan_check_shows_the_warnings_beside_the_errors(tmp_path: Path) -> None:
    body = t02("- **Notes:** x", "- **Depend on:** T01", "- **Touches:** `b.py`")

    code, output = plan_check(tmp_path, body)

    assert code == 2, output
    assert "plan.md:7: warning: T02: unknown field **Notes:** is kept" in output
    assert "plan.md:8: error: T02: unknown field **Depend on:** would be ignored" in output


def test_implement_shows_the_plan_warnings_before_it_runs(tmp_path: Path) -> None:
    run = "- **Run:** `echo 'x = 2' > src/app.py`"
    plan = "- [ ] **T01**: one\n  - **Touches:** `src/app.py`\n  - **Notes:** ask ops\n  " + run + "\n"
    repo = track_repo(tmp_path / "r", plan, config="[gates]\nthreshold = 0.0\n")

    result = swarm(repo, "implement", "t")

    assert result.exit_code == 0, result.output
    first = result.output.splitlines()[0]
    assert first.startswith("swarm/tracks/t/plan.md:5: warning: T01: unknown field **Notes:** is kept")


def test_a_bold_task_line_whose_id_is_not_an_id_is_an_error() -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_plan(T01 + "- [ ] **02**: two\n")

    [error] = caught.value.diagnostics
    assert (error.line, error.level) == (4, "error")
    assert "write `- [ ] **T01**: title` (the id in bold" in error.message


def test_a_path_with_a_space_in_backticks_is_one_touch() -> None:
    plan = parse_plan(t02("- **Touches:** `docs/my notes.md`, src/"))

    assert plan.task("T02").touches == ("docs/my notes.md", "src/")


def test_a_character_class_in_a_touch_is_a_glob_not_a_note() -> None:
    plan = parse_plan(t02("- **Touches:** src/[ab].py, [read-only analysis] `lib/[cd].py`"))

    assert plan.task("T02").touches == ("src/[ab].py", "lib/[cd].py")
