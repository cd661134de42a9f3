"""Reviewing a swarm: accept, reject with feedback, review.required, and what is built on rejected
or failed work — real repos, real runs, real landed commits."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from swarmgit.cli import main
from tests.gitutil import git
from tests.swarmrepo import swarm, task_md, track_repo

# T01 writes 1, or 2 once its brief carries the reviewer's words; T02 copies T01's file, so its
# work stands on T01's; T03 is independent.
PLAN = (
    task_md(
        "T01",
        "value",
        touches="`src/a/`",
        runs=(
            "mkdir -p src/a && if grep -q 'use two' \"$SWARM_BRIEF\"; then echo 2 > src/a/x.txt; "
            "else echo 1 > src/a/x.txt; fi",
        ),
    )
    + task_md(
        "T02",
        "copy",
        deps="T01",
        touches="`src/b/`",
        runs=("mkdir -p src/b && cp src/a/x.txt src/b/copy.txt",),
    )
    + task_md("T03", "other", touches="`src/c/`", runs=("mkdir -p src/c && echo c > src/c/c.txt",))
)
REQUIRED = "[gates]\nthreshold = 0.0\n[review]\nrequired = true\n"


def _main_file(repo: Path, path: str) -> str:
    return git(repo, "show", f"main:{path}").stdout


def test_review_required_holds_the_advance_until_every_task_is_accepted(tmp_path: Path) -> None:
    repo = track_repo(tmp_path / "r", PLAN, config=REQUIRED)
    before = git(repo, "rev-parse", "main").stdout
    result = swarm(repo, "implement", "t")
    assert result.exit_code == 1, result.output
    assert "review.required: T01, T02, T03 not accepted yet" in result.output
    assert git(repo, "rev-parse", "main").stdout == before

    assert swarm(repo, "accept", "T01", "T03", "--as", "Rita <rita@example.org>").exit_code == 0
    held = swarm(repo, "integrate", "t")
    assert held.exit_code == 1 and "T02 not accepted yet" in held.output
    assert swarm(repo, "accept", "T02", "--as", "Rita <rita@example.org>").exit_code == 0
    landed = swarm(repo, "integrate", "t")
    assert landed.exit_code == 0, landed.output
    reviewed = git(repo, "log", "--format=%(trailers:key=Swarm-Reviewed-By,valueonly)", "main").stdout
    assert reviewed.count("Rita <rita@example.org>") == 3


def test_rejecting_a_task_reruns_it_with_the_words_and_rebases_what_stands_on_it(tmp_path: Path) -> None:
    repo = track_repo(tmp_path / "r", PLAN, config=REQUIRED)
    swarm(repo, "implement", "t")
    old_t02 = git(repo, "rev-parse", "swarm/t/T02").stdout.strip()

    result = swarm(repo, "reject", "T01", "-m", "use two, not one", "--as", "Rita <r@x>")
    assert result.exit_code == 0, result.output
    assert "re-based and run again: T02" in result.output
    assert "swarm/t/T02" not in git(repo, "branch", "--list", "swarm/t/T02").stdout
    kept = git(repo, "for-each-ref", "--format=%(refname) %(objectname)", "refs/swarm/t/replaced/").stdout
    assert old_t02 in kept  # the old work is kept, only moved aside

    assert swarm(repo, "accept", "T03").exit_code == 0
    again = swarm(repo, "implement", "t")
    assert again.exit_code == 1  # T01 and T02 ran again: their new work waits for a verdict
    assert swarm(repo, "accept", "T01", "T02").exit_code == 0
    assert swarm(repo, "integrate", "t").exit_code == 0
    assert _main_file(repo, "src/a/x.txt") == "2\n"
    assert _main_file(repo, "src/b/copy.txt") == "2\n"  # rebased: built on the new T01
    history = git(repo, "log", "-p", "main").stdout
    assert "+1\n" not in history  # the rejected change never landed, not even in history


def test_a_reject_needs_words_and_a_done_task(tmp_path: Path) -> None:
    repo = track_repo(tmp_path / "r", PLAN, config=REQUIRED)
    swarm(repo, "implement", "t")
    assert swarm(repo, "reject", "T01", "-m", " ").exit_code == 2
    swarm(repo, "reject", "T01", "-m", "again")
    result = swarm(repo, "accept", "T01")
    assert result.exit_code == 2 and "T01 is todo: only done tasks are reviewed" in result.output


def test_marking_a_task_failed_by_hand_keeps_what_stands_on_it_out(tmp_path: Path) -> None:
    repo = track_repo(tmp_path / "r", PLAN, config=REQUIRED)  # held: nothing lands yet
    base = git(repo, "rev-parse", "main").stdout.strip()
    swarm(repo, "implement", "t")
    result = swarm(repo, "task", "update", "T01", "--status", "failed")
    assert result.exit_code == 0, result.output
    assert "re-based to run again without its work: T02" in result.output
    partial = swarm(repo, "integrate", "t", "--partial", "--no-advance")
    assert partial.exit_code == 0, partial.output
    changed = git(repo, "diff", "--name-only", f"{base}..swarm/t/integration").stdout.split()
    assert changed == ["src/c/c.txt"]


def test_interactive_review_walks_the_stack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = track_repo(tmp_path / "r", PLAN, config=REQUIRED)
    swarm(repo, "implement", "t")
    monkeypatch.chdir(repo)
    result = CliRunner().invoke(main, ["review", "t", "--as", "Rita <r@x>"], input="r\nuse two, not one\na\n")
    assert result.exit_code == 0, result.output
    assert "task T01: value  [done]" in result.output
    assert "re-based and run again: T02" in result.output
    assert "task T02" not in result.output.split("rejected T01")[1]  # T02 was re-based, not asked
    assert "accepted T03" in result.output
