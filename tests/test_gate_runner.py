"""The gate runner end to end on real repositories: index, threshold, verdict, rendering."""

from __future__ import annotations

import json
from pathlib import Path

import pathspec
import pytest

from swarmgit.config import Gates
from swarmgit.errors import UsageError
from swarmgit.gates.base import Finding, GateResult, is_test_path
from swarmgit.gates.runner import combine, render_markdown, render_table, run_gates, to_json
from tests.gitutil import git, make_repo, write


def _result(key: str, score: float, applies: bool = True) -> GateResult:
    return GateResult(key, key, applies, score, {}, ())


def _repo(tmp_path: Path) -> Path:
    files = {"app/__init__.py": "", "app/core.py": 'def run():\n    """Run."""\n    return 1\n'}
    files.update({f"docs/{n}.md": "doc\n" for n in range(10)})
    return make_repo(tmp_path / "repo", files)


def _commit(repo: Path, rel: str, text: str) -> None:
    write(repo, rel, text)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "change")


def test_index_is_the_mean_of_the_gates_that_apply() -> None:
    report = combine([_result("I", 0.9), _result("O", 0.0, applies=False), _result("M", 0.7)], 0.8)

    assert report.index == 0.8
    assert report.passed and report.verdict == "APPROVED"  # equal to the threshold passes


def test_below_the_threshold_is_rejected() -> None:
    report = combine([_result("I", 0.9), _result("M", 0.6)], 0.8)

    assert report.index == 0.75 and not report.passed and report.verdict == "REJECTED"


def test_a_clean_change_is_approved(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    _commit(repo, "app/extra.py", 'def double(x):\n    """Twice x."""\n    return x * 2\n')

    report = run_gates(repo, "HEAD~1", "HEAD", Gates())

    assert [r.key for r in report.results] == ["I", "O", "M", "S"]
    assert report.passed and report.index == 1.0
    optimize = report.results[1]
    assert not optimize.applies and "not configured" in optimize.note
    table = render_table(report)
    assert "IOSM-Index 1.00 (threshold 0.80): APPROVED" in table
    assert "O Optimize" in table and "n/a" in table


def test_a_bad_change_is_rejected_and_the_report_names_file_line_and_task(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    bad = "import app.core\n\ndef fetchAll(db, ids):\n    for i in ids:\n        db.execute(i)\n"
    _commit(repo, "app/core.py", 'import app.bad\n\ndef run():\n    """Run."""\n    return 1\n')
    _commit(repo, "app/bad.py", bad)

    report = run_gates(repo, "HEAD~2", "HEAD", Gates(threshold=0.9, test_command="! test -f app/bad.py"))

    assert not report.passed
    markdown = render_markdown(report, task_of=lambda f: "T07" if f == "app/bad.py" else None)
    assert "**REJECTED**" in markdown
    assert "- `app/bad.py:3` **I** naming: function name is not snake_case: fetchAll" in markdown
    assert "`app/bad.py:5` **O** io-in-loop" in markdown
    assert "(introduced by T07)" in markdown
    assert "`app/bad.py:1` **M** import-cycle" in markdown
    assert "`(repository)` **O** tests-failed" in markdown
    data = to_json(report)
    assert json.loads(json.dumps(data))["verdict"] == "REJECTED"
    gates = {g["key"]: g for g in data["gates"]}
    assert gates["O"]["passed"] is False and gates["M"]["metrics"]["new_cycles"] == 1


def test_markdown_without_findings_says_none() -> None:
    report = combine([_result("I", 1.0)], 0.8)

    assert render_markdown(report).rstrip().endswith("None.")


def test_multiline_messages_render_as_a_block() -> None:
    finding = Finding("O", "", 0, "tests-failed", "`make test` exited 2; last lines:\nE boom")
    report = combine([GateResult("O", "Optimize", True, 0.0, {}, (finding,))], 0.8)

    assert "    E boom" in render_markdown(report)


def test_an_unknown_revision_is_a_usage_error(tmp_path: Path) -> None:
    repo = _repo(tmp_path)

    with pytest.raises(UsageError, match="no-such-branch"):
        run_gates(repo, "no-such-branch", "HEAD", Gates())


def test_no_applicable_gate_is_na_and_the_verdict_says_why() -> None:
    report = combine([_result("I", 0.0, applies=False), _result("O", 0.0, applies=False)], 0.8)
    assert report.passed and not report.applies
    table = render_table(report)
    assert "IOSM-Index n/a (threshold 0.80): APPROVED" in table
    assert "no gate applied: nothing the gates measure changed" in table
    assert to_json(report)["index"] is None


def test_a_gate_under_the_threshold_next_to_an_approval_is_explained() -> None:
    report = combine([_result("I", 1.0), _result("M", 0.7)], 0.8)
    assert report.passed
    assert "scored under the threshold on its own; the verdict is the mean" in render_table(report)


def test_an_unchanged_pair_of_trees_is_judged_once(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    _commit(repo, "app/extra.py", 'def double(x):\n    """Twice x."""\n    return x * 2\n')
    runs = tmp_path / "runs.txt"  # outside the checkout: the test command runs unfenced here
    config = Gates(test_command=f"echo run >> {runs}")
    first = run_gates(repo, "HEAD~1", "HEAD", config, sandbox="off")
    second = run_gates(repo, "HEAD~1", "HEAD", config, sandbox="off")
    assert runs.read_text().count("run") == 1
    assert first == second
    changed = run_gates(
        repo, "HEAD~1", "HEAD", Gates(test_command=f"echo run >> {runs}; true"), sandbox="off"
    )
    assert changed.passed and runs.read_text().count("run") == 2  # another config: judged again


TEST_PATHS = {
    "test_app.py": True,
    "pkg/test_app.py": True,
    "pkg/app_test.py": True,
    "_test.py": True,
    "conftest.py": True,
    "a/conftest.py": True,
    "tests/app.py": True,
    "a/tests/b/c.py": True,
    "a/test/b.py": True,
    "test_dir.py/inner.py": True,
    "test_.py": True,
    "tests": False,
    "a/test": False,
    "atest/b.py": False,
    "a/btests/c.py": False,
    "test_app.pyc": False,
    "conftest.pyi": False,
    "contest.py": False,
    "app.py": False,
    "a/testing/b.py": False,
    "tests.py": False,
    "a/my_tests/b.py": False,
}


@pytest.mark.parametrize("path", sorted(TEST_PATHS))
def test_test_paths_are_what_the_gitignore_lines_would_match(path: str) -> None:
    spec = pathspec.GitIgnoreSpec.from_lines(["test_*.py", "*_test.py", "tests/", "test/", "conftest.py"])
    assert is_test_path(path) is TEST_PATHS[path] is spec.match_file(path)
