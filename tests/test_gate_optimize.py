"""Gate-O on small real repositories: the test command in a throw-away worktree, and the
inefficiency patterns in changed loops."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from swarmgit.gates.optimize import Optimize
from tests.attacks import MODES, UNFENCED
from tests.gatecheck import commit_change, evaluate
from tests.gitutil import git, make_repo, write
from tests.swarmrepo import swarm_process

OLD = """\
def load_all(paths):
    out = []
    for path in paths:
        out.append(open(path).read())
    return out
"""


def _repo(tmp_path: Path) -> Path:
    """Base already has an open() in a loop: old debt, never reported."""
    return make_repo(tmp_path / "repo", {"app/__init__.py": "", "app/files.py": OLD})


def test_query_in_loop_and_list_membership_in_loop_are_found(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    new = (
        "def sync(cursor, users, names):\n"  # 1
        "    allowed = ['admin', 'staff']\n"  # 2
        "    for line in open('users.txt'):\n"  # 3  iterable: evaluated once
        "        pass\n"  # 4
        "    for user in users:\n"  # 5
        "        if user.role in allowed:\n"  # 6
        "            cursor.execute('select 1')\n"  # 7
        "    return [n for n in names if n in ['a', 'b']]\n"  # 8
    )
    commit_change(repo, {"app/sync.py": new})

    result = evaluate(Optimize(), repo)

    assert {(f.file, f.line, f.rule) for f in result.findings} == {
        ("app/sync.py", 6, "list-membership-in-loop"),
        ("app/sync.py", 7, "io-in-loop"),
        ("app/sync.py", 8, "list-membership-in-loop"),
    }
    assert result.applies and result.score == 0.25
    assert "not configured" in result.note


def test_clean_loop_change_scores_one(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    clean = (
        "def pick(users, names):\n"
        "    allowed = {'admin', 'staff'}\n"
        "    return [u for u in users if u.role in allowed and u.name in set(names)]\n"
    )
    commit_change(repo, {"app/pick.py": clean})

    result = evaluate(Optimize(), repo)

    assert result.findings == () and result.applies and result.score == 1.0


def test_no_command_and_no_loop_leaves_the_gate_out(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    commit_change(repo, {"app/const.py": "LIMIT = 3\n"})

    result = evaluate(Optimize(), repo)

    assert not result.applies
    assert result.metrics["tests"] == "not configured"


def test_test_command_runs_on_head_in_a_worktree_that_is_removed(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    commit_change(repo, {"app/const.py": "LIMIT = 3\n"})
    write(repo, "app/const.py", "LIMIT = 'uncommitted edit'\n")  # must not be what is tested

    result = evaluate(Optimize(), repo, test_command="grep -q 'LIMIT = 3' app/const.py")

    assert result.applies and result.score == 1.0 and result.metrics["tests"] == "passed"
    assert len(git(repo, "worktree", "list").stdout.splitlines()) == 1


def test_a_failing_test_command_fails_the_gate_with_its_output(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    commit_change(repo, {"app/const.py": "LIMIT = 3\n"})

    fails_on_the_change = "test -f app/const.py || exit 0; echo 'FAILED test_limit'; exit 3"
    result = evaluate(Optimize(), repo, test_command=fails_on_the_change)

    (finding,) = result.findings
    assert finding.rule == "tests-failed" and "exited 3" in finding.message
    assert "FAILED test_limit" in finding.message
    assert result.score == 0.0
    assert len(git(repo, "worktree", "list").stdout.splitlines()) == 1


def test_a_hanging_test_command_times_out(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    commit_change(repo, {"app/const.py": "LIMIT = 3\n"})

    hangs = "test -f app/const.py || exit 0; echo started; sleep 30; echo never"
    result = evaluate(Optimize(), repo, test_command=hangs, test_timeout_seconds=0.5)

    (finding,) = result.findings
    assert "timed out" in finding.message and "started" in finding.message
    assert result.metrics["tests"] == "timeout"
    assert result.score == 0.0


def _pytest_repo(tmp_path: Path) -> Path:
    files = {"tests/test_old.py": "def test_old_bug():\n    assert 1 == 2\n\n\ndef test_fine():\n    pass\n"}
    return make_repo(tmp_path / "repo", files)


def test_failures_that_already_happen_at_the_base_do_not_fail_the_track(tmp_path: Path) -> None:
    repo = _pytest_repo(tmp_path)
    commit_change(repo, {"tests/test_new.py": "def test_new():\n    pass\n"})
    result = evaluate(
        Optimize(), repo, test_command=f"{sys.executable} -m pytest -q -p no:cacheprovider tests"
    )
    assert result.applies and result.score == 1.0, result
    assert "pre-existing failures: 1 test(s) already fail(s) at the base" == result.metrics["tests"]
    assert not [f for f in result.findings if f.rule == "tests-failed"]


def test_a_newly_failing_test_fails_the_gate_and_is_named(tmp_path: Path) -> None:
    repo = _pytest_repo(tmp_path)
    commit_change(repo, {"tests/test_new.py": "def test_broken():\n    assert False\n"})
    result = evaluate(
        Optimize(), repo, test_command=f"{sys.executable} -m pytest -q -p no:cacheprovider tests"
    )
    assert result.score == 0.0
    (failed,) = [f for f in result.findings if f.rule == "tests-failed"]
    assert "newly failing: tests/test_new.py::test_broken" in failed.message
    assert "1 other failure(s) already fail at the base" in failed.message


@pytest.mark.parametrize("mode", MODES)
def test_the_test_command_runs_the_changes_code_under_the_write_fence(tmp_path: Path, mode: str) -> None:
    # The test command is the user's, but what it runs is the change's: here an agent's edit
    # of the test script plants a file outside the checkout (and uses a temporary file, which
    # the fence allows in the run's own TMPDIR).
    planted = tmp_path / "planted"
    repo = make_repo(tmp_path / "repo", {"run_tests.sh": "exit 0\n"})
    (repo / ".swarm.toml").write_text(
        f'[agent]\nsandbox = "{mode}"\n[gates]\ntest_command = "sh run_tests.sh"\n'
    )
    script = f'f=$(mktemp) && echo x > "$f" && rm "$f" || exit 1\necho x > {planted}\nexit 0\n'
    commit_change(repo, {"run_tests.sh": script})

    done = swarm_process(repo, "gates", "--json")

    assert done.returncode == 0, done.stdout + done.stderr  # the tests passed in both modes
    assert planted.exists() == (mode == UNFENCED)  # fenced: refused at the write
