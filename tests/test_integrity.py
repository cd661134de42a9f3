"""The integrator trusts nothing an agent can write: attacks run by real script tasks through
`git swarm implement`, on real repositories, next to an honest sibling whose work must land,
in both fence modes (tests/attacks.py). History tricks, rewritten run state, plan.md edits,
writes to other trees and moved refs: fenced, each fails at the write; unfenced, the
integrator's re-checks contain it, except an edit of plan.md, of the user's working tree or of
another task's worktree inside that task's touches, which look like their owner's own."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.attacks import FENCED, MODES, UNFENCED, assert_contained, assert_refused_at_write, config, tasks
from tests.gitutil import git, write
from tests.swarmrepo import swarm, task_md, track_repo

ANY_VERDICT = config(UNFENCED)
# Wait (bounded) until T01's branch holds the commit swarmgit made of its work, so T02 can
# reach for it while both run.
WAIT_FOR_T01 = (
    "for i in $(seq 300); do git log -1 --format=%s swarm/t/T01 | grep -q '^T01: honest' "
    "&& break; sleep 0.1; done"
)
HONEST_T01 = task_md("T01", "honest", touches="`src/a.py`", runs=("echo 'a = 1' > src/a.py",))
# The attacker's own commit of a change outside its touches: only possible unfenced.
COMMIT_EVIL = "echo evil > README.md && git commit -qam evil --no-verify"


def _rev(repo: Path, rev: str) -> str:
    return git(repo, "rev-parse", rev).stdout.strip()


def _report(repo: Path) -> str:
    return (repo / "swarm/tracks/t/iosm_report.md").read_text(encoding="utf-8")


def _log(repo: Path, rev_range: str, fmt: str = "%s") -> list[str]:
    return git(repo, "log", f"--format={fmt}", rev_range).stdout.splitlines()


# ---- history tricks -------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_a_task_that_merges_a_sibling_and_reverts_it_cannot_remove_the_siblings_work(
    tmp_path: Path, mode: str
) -> None:
    # The merge and the revert are commits of the attacker's own: fenced, the merge fails.
    attacker = task_md(
        "T02",
        "sneaky",
        touches="`src/b.py`",
        runs=(
            WAIT_FOR_T01,
            "git merge -q --no-edit swarm/t/T01 && git revert -m 1 --no-edit HEAD || true",
            "echo 'b = 1' > src/b.py",
        ),
    )
    repo = track_repo(tmp_path / "r", HONEST_T01 + attacker, config=config(mode))
    base = _rev(repo, "main")

    result = swarm(repo, "implement", "t")

    assert result.exit_code == 0, result.output
    if mode == FENCED:
        assert_refused_at_write(repo, "T02")
        assert _log(repo, "swarm/t/T02")[:1] == ["T02: sneaky"]
    else:  # The attack happened: T02's own branch holds the merge of T01 and its revert.
        assert any(s.startswith("Revert") for s in _log(repo, "swarm/t/T02"))
        assert "a = 1" not in git(repo, "show", "swarm/t/T02:src/a.py", check=False).stdout
    # Both changes landed, as one commit each, and the report says so truthfully.
    assert git(repo, "show", "main:src/a.py").stdout == "a = 1\n"
    assert git(repo, "show", "main:src/b.py").stdout == "b = 1\n"
    assert _log(repo, f"{base}..main") == ["T02: sneaky", "T01: honest"]
    assert _log(repo, f"{base}..main", "%P") == [_rev(repo, "main~1"), base]
    assert "Merged: T01, T02" in _report(repo) and "advanced main: fast-forward" in result.output


@pytest.mark.parametrize("mode", MODES)
def test_history_merge_keeps_branch_history_but_the_tree_still_comes_from_the_change(
    tmp_path: Path, mode: str
) -> None:
    attacker = task_md(
        "T02",
        "sneaky",
        touches="`src/b.py`",
        runs=(
            WAIT_FOR_T01,
            "git merge -q --no-edit swarm/t/T01 && git revert -m 1 --no-edit HEAD || true",
            "echo 'b = 1' > src/b.py",
        ),
    )
    repo = track_repo(
        tmp_path / "r", HONEST_T01 + attacker, config=config(mode, '[integrate]\nhistory = "merge"\n')
    )
    base = _rev(repo, "main")

    assert swarm(repo, "implement", "t").exit_code == 0
    assert git(repo, "show", "main:src/a.py").stdout == "a = 1\n"
    assert git(repo, "show", "main:src/b.py").stdout == "b = 1\n"
    # One merge commit per task; the task branches' histories are reachable for browsing.
    assert _log(repo, f"{base}..main", "%s")[:1] == ["T02: sneaky"]
    assert len(git(repo, "rev-list", "--parents", "-n1", "main").stdout.split()) == 3
    assert _rev(repo, "main^2") == _rev(repo, "swarm/t/T02")


# ---- state tampering --------------------------------------------------------------------------


def _tamper(sql: str) -> str:
    """A script step that rewrites the run state the way an unfenced agent could."""
    return (
        'python3 -c "import sqlite3,subprocess,sys; '
        "d=subprocess.run(['git','rev-parse','--git-common-dir'],capture_output=True,text=True).stdout.strip(); "
        "c=sqlite3.connect(d+'/swarm/state.db'); c.execute(sys.argv[1], sys.argv[2:]); c.commit()\" "
        f"{sql}"
    )


def _recorded(repo: Path, sql: str) -> str:
    with sqlite3.connect(repo / ".git/swarm/state.db") as db:
        return str(db.execute(sql).fetchone()[0])


@pytest.mark.parametrize("mode", MODES)
def test_a_rewritten_base_in_the_run_state_stops_the_integration(tmp_path: Path, mode: str) -> None:
    # T02 points the track's base at its own commit, which holds a change outside its touches
    # (its own commit, then the run state: fenced, both writes fail).
    attacker = task_md(
        "T02",
        "rebaser",
        touches="`src/b.py`",
        runs=(
            f"{COMMIT_EVIL} || true",
            _tamper('"UPDATE tracks SET base_commit = ?" $(git rev-parse HEAD)'),
            "echo 'b = 1' > src/b.py",
        ),
    )
    repo = track_repo(tmp_path / "r", HONEST_T01 + attacker, config=config(mode))
    base = _rev(repo, "main")

    result = swarm(repo, "implement", "t")

    assert result.exit_code == 1
    assert _rev(repo, "refs/swarm/t/base") == base  # pinned when the track first ran
    assert git(repo, "show", "main:README.md").stdout == "# r\n"
    if mode == FENCED:
        assert_refused_at_write(repo, "T02")
        assert_refused_at_write(repo, "T02", "readonly database")
        assert _recorded(repo, "SELECT base_commit FROM tracks") == base
        assert tasks(repo)["T02"]["status"] == "failed"
        assert git(repo, "show", "swarm/t/integration:src/a.py").stdout == "a = 1\n"
        assert_contained(repo, ["src/a.py"])
        return
    assert (
        f"differs from the base pinned when it first ran (refs/swarm/t/base = {base[:12]})" in result.output
    )
    assert "git update-ref refs/swarm/t/base" in result.output
    assert _rev(repo, "main") == base
    assert (
        git(repo, "rev-parse", "-q", "--verify", "swarm/t/integration", check=False).stdout == ""
    )  # nothing merged


def test_a_missing_base_pin_stops_the_integration_and_says_how_to_pin_it(tmp_path: Path) -> None:
    repo = track_repo(tmp_path / "r", HONEST_T01, config=ANY_VERDICT)
    base = _rev(repo, "main")
    assert swarm(repo, "implement", "t").exit_code == 0
    git(repo, "update-ref", "-d", "refs/swarm/t/base")

    result = swarm(repo, "integrate", "t")  # the pin is not re-made once tasks have run

    assert result.exit_code == 1
    assert "refs/swarm/t/base is missing" in result.output
    assert f"git update-ref refs/swarm/t/base {base}" in result.output
    git(repo, "update-ref", "refs/swarm/t/base", base)
    assert swarm(repo, "integrate", "t").exit_code == 0


@pytest.mark.parametrize("mode", MODES)
def test_a_rewritten_start_point_is_rejected_and_its_hidden_commit_never_lands(
    tmp_path: Path, mode: str
) -> None:
    # T02 commits a change outside its touches, then records that commit as its start point,
    # so its start->final diff (the branch check) looks clean. Fenced, both writes fail.
    attacker = task_md(
        "T02",
        "hider",
        touches="`src/b.py`",
        runs=(
            f"{COMMIT_EVIL} || true",
            _tamper("\"UPDATE tasks SET start_commit = ? WHERE id = 'T02'\" $(git rev-parse HEAD) || true"),
            "echo 'b = 1' > src/b.py",
        ),
    )
    repo = track_repo(tmp_path / "r", HONEST_T01 + attacker, config=config(mode))
    base = _rev(repo, "main")

    result = swarm(repo, "implement", "t")

    assert_contained(repo, ["src/a.py", "src/b.py"])
    if mode == FENCED:
        assert result.exit_code == 0, result.output
        assert_refused_at_write(repo, "T02")
        assert_refused_at_write(repo, "T02", "readonly database")
        assert git(repo, "show", "main:src/b.py").stdout == "b = 1\n"
        assert git(repo, "show", "main:src/a.py").stdout == "a = 1\n"
        return
    assert result.exit_code == 1
    assert "T02 not merged: its recorded start point" in result.output
    report = _report(repo)
    assert "## Rejected (not merged)\n- T02: its recorded start point" in report
    assert f"({base[:12]}, from the base and the base alone)" in report
    assert "Merged: T01\n" in report
    assert git(repo, "show", "swarm/t/integration:README.md").stdout == "# r\n"
    assert git(repo, "show", "swarm/t/integration:src/a.py").stdout == "a = 1\n"
    assert _rev(repo, "main") == base


@pytest.mark.parametrize("mode", MODES)
def test_an_edit_of_plan_md(tmp_path: Path, mode: str) -> None:
    extra = write(
        tmp_path, "T09.md", task_md("T09", "pwned", touches="`frontend/`", runs=("echo PWNED > frontend/x",))
    )
    attacker = task_md(
        "T02",
        "planner",
        touches="`src/b.py`",
        runs=(f'cat {extra} >> "$SWARM_REPO_ROOT/swarm/tracks/t/plan.md" || true', "echo 'b = 1' > src/b.py"),
    )
    repo = track_repo(tmp_path / "r", HONEST_T01 + attacker, config=config(mode))

    result = swarm(repo, "implement", "t")

    assert result.exit_code == 0, result.output
    assert git(repo, "show", "main:src/b.py").stdout == "b = 1\n"
    assert_contained(repo, ["src/a.py", "src/b.py"])
    added = "**T09**: pwned" in (repo / "swarm/tracks/t/plan.md").read_text()
    if mode == FENCED:
        assert_refused_at_write(repo, "T02")
        assert not added
    else:  # indistinguishable from the user's own edit: the next implement, resume or retry reads it
        assert added


# ---- other trees and refs moved -----------------------------------------------------------------

# The attacker commits by itself, then moves the target: fenced, both fail. `git push` into the
# branch checked out in the user's tree is refused by git itself, so it aims at one that is not.
MOVES = {
    "update-ref": ("main", "git update-ref refs/heads/main HEAD"),
    "push": ("release", "git push -q . HEAD:release"),
}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("move", sorted(MOVES))
def test_a_failed_task_that_moved_the_target_stops_the_advance(tmp_path: Path, move: str, mode: str) -> None:
    target, command = MOVES[move]
    attacker = task_md("T02", "mover", touches="`src/b.py`", runs=(COMMIT_EVIL, command, "exit 1"))
    repo = track_repo(
        tmp_path / "r", HONEST_T01 + attacker, config=config(mode, f'[integrate]\ntarget = "{target}"\n')
    )
    base = _rev(repo, "main")
    if target != "main":
        git(repo, "branch", target, base)
    assert swarm(repo, "implement", "t").exit_code == 1

    result = swarm(repo, "integrate", "t", "--partial")

    assert git(repo, "show", f"{target}:README.md").stdout == "# r\n" or mode == UNFENCED
    if mode == FENCED:
        assert_refused_at_write(repo, "T02")
        assert result.exit_code == 0, result.output  # T01's work lands; T02's commit never existed
        assert git(repo, "show", f"{target}:src/a.py").stdout == "a = 1\n"
        assert_contained(repo, ["src/a.py"], target)
        return
    planted = _rev(repo, "swarm/t/T02")
    assert _rev(repo, target) == planted  # the agent did move it
    assert result.exit_code == 1
    assert (
        f"T02 was not merged, yet its commit {planted[:12]} is reachable from what would land"
        in result.output
    )
    assert f"{target} not advanced" in _report(repo)
    assert _rev(repo, target) == planted  # nothing built on top of it
    assert git(repo, "show", "swarm/t/integration:src/a.py").stdout == "a = 1\n"
    assert_contained(repo, ["src/a.py"], "swarm/t/integration")


def test_a_task_dropped_from_plan_md_after_it_moved_the_target_still_stops_the_advance(
    tmp_path: Path,
) -> None:
    # Unfenced, T02 moves main to its own commit, then fails; the user drops it from plan.md
    # (retired, its branch kept). Its commit on main was never judged: main must not advance.
    attacker = task_md(
        "T02", "mover", touches="`src/b.py`", runs=(COMMIT_EVIL, MOVES["update-ref"][1], "exit 1")
    )
    repo = track_repo(tmp_path / "r", HONEST_T01 + attacker, config=ANY_VERDICT)
    assert swarm(repo, "implement", "t").exit_code == 1
    planted = _rev(repo, "swarm/t/T02")
    assert _rev(repo, "main") == planted
    write(repo, "swarm/tracks/t/plan.md", "# Plan\n\n" + HONEST_T01)

    result = swarm(repo, "integrate", "t")

    assert "T02 retired: it is no longer in plan.md (was failed)" in result.output
    assert result.exit_code == 1, result.output
    assert (
        f"T02 was not merged, yet its commit {planted[:12]} is reachable from what would land"
        in result.output
    )
    assert _rev(repo, "main") == planted  # nothing built on top of it


@pytest.mark.parametrize("mode", MODES)
def test_files_of_the_users_checkout_changed_during_the_run_hold_the_advance(
    tmp_path: Path, mode: str
) -> None:
    writer = task_md(
        "T02",
        "writer",
        touches="`src/b.py`",
        runs=(
            "echo 'b = 1' > src/b.py",
            'echo planted > "$SWARM_REPO_ROOT/notes.txt" || true',
        ),
    )
    repo = track_repo(tmp_path / "r", HONEST_T01 + writer, config=config(mode))
    write(repo, "README.md", "# my edit before the run\n")  # the user's own, kept and not named
    base = _rev(repo, "main")

    held = swarm(repo, "implement", "t")

    if mode == FENCED:
        assert_refused_at_write(repo, "T02")
        assert held.exit_code == 0, held.output
        assert not (repo / "notes.txt").exists()
    else:  # the write itself is indistinguishable from the user's: it stays, and holds the advance
        assert held.exit_code == 1
        assert (repo / "notes.txt").read_text() == "planted\n"
        assert "changed while the run went on: notes.txt;" in held.output
        assert "README.md" not in held.output.split("changed while the run went on")[1].splitlines()[0]
        assert _rev(repo, "main") == base
        # The user looked, and says so by integrating again: the check starts over.
        again = swarm(repo, "integrate", "t")
        assert again.exit_code == 0, again.output
    assert git(repo, "show", "main:src/b.py").stdout == "b = 1\n"
    assert (repo / "README.md").read_text() == "# my edit before the run\n"
    assert_contained(repo, ["src/a.py", "src/b.py"])


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("where", ["inside", "outside"])
def test_a_write_into_another_tasks_worktree(tmp_path: Path, where: str, mode: str) -> None:
    # T01 (the victim) is still running when T02 writes into its worktree: into the file T01
    # is writing (inside T01's touches), or a new file outside them.
    victim = task_md("T01", "honest", touches="`src/a.py`", runs=("echo 'a = 1' > src/a.py && sleep 2",))
    planted = {"inside": "echo PWNED >> ../T01/src/a.py", "outside": "echo PWNED > ../T01/src/evil.py"}[where]
    attacker = task_md(
        "T02",
        "intruder",
        touches="`src/b.py`",
        runs=(
            "for i in $(seq 100); do test -f ../T01/src/a.py && break; sleep 0.05; done",
            f"{planted} || true",
            "echo 'b = 1' > src/b.py",
        ),
    )
    repo = track_repo(tmp_path / "r", victim + attacker, config=config(mode))

    result = swarm(repo, "implement", "t")

    assert git(repo, "show", "swarm/t/integration:src/b.py").stdout == "b = 1\n"
    assert_contained(repo, ["src/a.py", "src/b.py"])  # in every mode, nothing outside the plan
    landed = git(repo, "show", "swarm/t/integration:src/a.py", check=False).stdout
    if mode == FENCED:
        assert_refused_at_write(repo, "T02")
        assert result.exit_code == 0, result.output
        assert landed == "a = 1\n"
    elif where == "inside":  # it looks like T01's agent's own work: it lands as T01's
        assert result.exit_code == 0, result.output
        assert landed == "a = 1\nPWNED\n"
    else:  # outside T01's touches, T01's scope check fails T01: the victim's work is lost
        assert result.exit_code == 1
        status = tasks(repo)
        assert status["T01"]["status"] == "failed" and "src/evil.py" in status["T01"]["reason"]
        assert landed == ""


def test_a_target_that_moved_is_merged_and_that_merge_is_gated_before_it_lands(tmp_path: Path) -> None:
    # The test command fails only when the user's new file and the track's file meet.
    config = (
        '[gates]\nthreshold = 0.8\ntest_command = "test ! -f user.txt || test ! -f src/b.py"\n'
        '[integrate]\ntarget = "moved"\n'
    )
    plan = task_md("T01", "b", touches="`src/b.py`", runs=("echo 'b = 1' > src/b.py",))
    repo = track_repo(tmp_path / "r", plan, config=config)
    base = _rev(repo, "main")
    git(repo, "branch", "moved", base)
    write(repo, "user.txt", "mine\n")
    git(repo, "add", "user.txt")
    tree_id = git(repo, "write-tree").stdout.strip()
    git(repo, "reset", "-q")
    (repo / "user.txt").unlink()
    own = git(repo, "commit-tree", tree_id, "-p", base, "-m", "the user's work").stdout.strip()
    git(repo, "update-ref", "refs/heads/moved", own)

    result = swarm(repo, "implement", "t")

    assert result.exit_code == 1
    assert "APPROVED" in result.output  # the integration alone passes
    assert "moved moved during the run" in result.output
    assert "the merge of the integration with it did not pass the gates" in result.output
    assert "gates on the merge with the target, which moved during the run:" in result.output
    assert "## Gates on the merge with the moved target" in _report(repo)
    assert _rev(repo, "moved") == own


# ---- code planted in the repository ---------------------------------------------------------------


def test_advancing_the_checked_out_target_runs_no_planted_hook_fsmonitor_or_filter(tmp_path: Path) -> None:
    # The task commits a .gitattributes inside its touches that routes its files through a
    # smudge filter; a post-merge hook and an fsmonitor are planted in the shared git dir.
    plan = task_md(
        "T01",
        "docs",
        touches="`docs/`",
        runs=("mkdir -p docs && echo '* filter=evil' > docs/.gitattributes && echo guide > docs/guide.md",),
    )
    repo = track_repo(tmp_path / "r", plan, config=ANY_VERDICT)
    marker = tmp_path / "ran"
    hook = write(repo, ".git/hooks/post-merge", f"#!/bin/sh\necho post-merge >> {marker}\n")
    monitor = write(tmp_path, "fsmonitor.sh", f"#!/bin/sh\necho fsmonitor >> {marker}\n")
    for script in (hook, monitor):
        script.chmod(0o755)
    git(repo, "config", "core.fsmonitor", str(monitor))
    git(repo, "config", "filter.evil.smudge", f"sh -c 'echo smudge >> {marker}; cat'")
    git(repo, "config", "filter.evil.clean", "cat")

    result = swarm(repo, "implement", "t")

    assert result.exit_code == 0, result.output
    assert "advanced main: fast-forward" in result.output
    assert not marker.exists()
    assert (repo / "docs/guide.md").read_text() == "guide\n"
    assert git(repo, "-c", "core.fsmonitor=", "status", "--porcelain", "--", "docs").stdout == ""
    # The plants are live: git itself runs them on the same checkout.
    (repo / "docs/guide.md").unlink()
    git(repo, "checkout", "--", "docs/guide.md")
    assert {"smudge", "fsmonitor"} <= set(marker.read_text().split())
