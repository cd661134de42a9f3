"""The integrator trusts nothing an agent can write: attacks run by real script tasks through
`git swarm implement`, on real repositories, next to an honest sibling whose work must land."""
from __future__ import annotations

from pathlib import Path

from tests.gitutil import git, write
from tests.swarmrepo import swarm, task_md, track_repo

# The git-level checks alone (the write fence is off): tests/test_fence.py has the fenced runs.
ANY_VERDICT = "[gates]\nthreshold = 0.0\n[agent]\nsandbox = \"off\"\n"
# Wait (bounded) until T01's branch holds its commit, so T02 can reach for it while both run.
WAIT_FOR_T01 = ("for i in $(seq 1200); do git log -1 --format=%s swarm/t/T01 | grep -q '^T01 work' "
                "&& break; sleep 0.1; done")
HONEST_T01 = task_md("T01", "honest", touches="`src/a.py`",
                     runs=("echo 'a = 1' > src/a.py && git add src/a.py && git commit -qm 'T01 work'",))


def _rev(repo: Path, rev: str) -> str:
    return git(repo, "rev-parse", rev).stdout.strip()


def _report(repo: Path) -> str:
    return (repo / "swarm/tracks/t/iosm_report.md").read_text(encoding="utf-8")


def _log(repo: Path, rev_range: str, fmt: str = "%s") -> list[str]:
    return git(repo, "log", f"--format={fmt}", rev_range).stdout.splitlines()


# ---- history tricks -------------------------------------------------------------------------

def test_a_task_that_merges_a_sibling_and_reverts_it_cannot_remove_the_siblings_work(tmp_path: Path) -> None:
    attacker = task_md("T02", "sneaky", touches="`src/b.py`", runs=(
        WAIT_FOR_T01,
        "git merge -q --no-edit swarm/t/T01 && git revert -m 1 --no-edit HEAD",
        "echo 'b = 1' > src/b.py",
    ))
    repo = track_repo(tmp_path / "r", HONEST_T01 + attacker, config=ANY_VERDICT)
    base = _rev(repo, "main")

    result = swarm(repo, "implement", "t")

    assert result.exit_code == 0, result.output
    # The attack happened: T02's own branch holds the merge of T01 and its revert.
    assert any(s.startswith("Revert") for s in _log(repo, "swarm/t/T02"))
    assert "a = 1" not in git(repo, "show", "swarm/t/T02:src/a.py", check=False).stdout
    # Yet both changes landed, as one commit each, and the report says so truthfully.
    assert git(repo, "show", "main:src/a.py").stdout == "a = 1\n"
    assert git(repo, "show", "main:src/b.py").stdout == "b = 1\n"
    assert _log(repo, f"{base}..main") == ["T02: sneaky", "T01: honest"]
    assert _log(repo, f"{base}..main", "%P") == [_rev(repo, "main~1"), base]
    assert "Merged: T01, T02" in _report(repo) and "advanced main: fast-forward" in result.output
    assert "note: T02: its branch holds commits of T01 (merged or reset onto); only its own change" in result.output
    assert "## Notes\n- T02: its branch holds commits of T01" in _report(repo)


def test_history_merge_keeps_branch_history_but_the_tree_still_comes_from_the_change(tmp_path: Path) -> None:
    attacker = task_md("T02", "sneaky", touches="`src/b.py`", runs=(
        WAIT_FOR_T01,
        "git merge -q --no-edit swarm/t/T01 && git revert -m 1 --no-edit HEAD",
        "echo 'b = 1' > src/b.py",
    ))
    repo = track_repo(tmp_path / "r", HONEST_T01 + attacker,
                      config=ANY_VERDICT + '[integrate]\nhistory = "merge"\n')
    base = _rev(repo, "main")

    assert swarm(repo, "implement", "t").exit_code == 0
    assert git(repo, "show", "main:src/a.py").stdout == "a = 1\n"
    assert git(repo, "show", "main:src/b.py").stdout == "b = 1\n"
    # One merge commit per task; the task branches' histories are reachable for browsing.
    assert _log(repo, f"{base}..main", "%s") [:1] == ["T02: sneaky"]
    assert len(git(repo, "rev-list", "--parents", "-n1", "main").stdout.split()) == 3
    assert _rev(repo, "main^2") == _rev(repo, "swarm/t/T02")


# ---- state tampering --------------------------------------------------------------------------

def _tamper(sql: str) -> str:
    """A script step that rewrites the run state the way an unfenced agent could."""
    return ("python3 -c \"import sqlite3,subprocess,sys; "
            "d=subprocess.run(['git','rev-parse','--git-common-dir'],capture_output=True,text=True).stdout.strip(); "
            "c=sqlite3.connect(d+'/swarm/state.db'); c.execute(sys.argv[1], sys.argv[2:]); c.commit()\" "
            f"{sql}")


def test_a_rewritten_base_in_the_run_state_stops_the_integration(tmp_path: Path) -> None:
    # T02 points the track's base at its own commit, which holds a change outside its touches.
    attacker = task_md("T02", "rebaser", touches="`src/b.py`", runs=(
        "echo evil > README.md && git commit -qam evil --no-verify",
        _tamper("\"UPDATE tracks SET base_commit = ?\" $(git rev-parse HEAD)"),
        "echo 'b = 1' > src/b.py",
    ))
    repo = track_repo(tmp_path / "r", HONEST_T01 + attacker, config=ANY_VERDICT)
    base = _rev(repo, "main")

    result = swarm(repo, "implement", "t")

    assert result.exit_code == 1
    assert _rev(repo, "refs/swarm/t/base") == base  # pinned when the track first ran
    assert f"differs from the base pinned when it first ran (refs/swarm/t/base = {base[:12]})" in result.output
    assert "git update-ref refs/swarm/t/base" in result.output
    assert _rev(repo, "main") == base
    assert git(repo, "show", "main:README.md").stdout == "# r\n"


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


def test_a_new_run_state_over_an_old_pin_refuses_before_any_task_runs(tmp_path: Path) -> None:
    repo = track_repo(tmp_path / "r", HONEST_T01, config=ANY_VERDICT)
    assert swarm(repo, "implement", "t").exit_code == 0
    old = _rev(repo, "refs/swarm/t/base")
    for leftover in (repo / ".git/swarm").glob("state.db*"):
        leftover.unlink()  # the user throws the run state away, and main has moved on

    refused = swarm(repo, "implement", "t")

    assert refused.exit_code == 2
    assert f"track t ran before from base {old[:12]}" in refused.output
    assert "git update-ref -d refs/swarm/t/base" in refused.output
    assert _rev(repo, "refs/swarm/t/base") == old and "started" not in refused.output
    git(repo, "update-ref", "-d", "refs/swarm/t/base")
    head = _rev(repo, "main")
    swarm(repo, "implement", "t")  # (T01's old branch is still there: cleaning it up is the user's)
    assert _rev(repo, "refs/swarm/t/base") == head != old


def test_a_rewritten_start_point_is_rejected_and_its_hidden_commit_never_lands(tmp_path: Path) -> None:
    # T02 commits a change outside its touches, then records that commit as its start point,
    # so its start->final diff (the branch check) looks clean.
    attacker = task_md("T02", "hider", touches="`src/b.py`", runs=(
        "echo evil > README.md && git commit -qam evil --no-verify",
        _tamper("\"UPDATE tasks SET start_commit = ? WHERE id = 'T02'\" $(git rev-parse HEAD)"),
        "echo 'b = 1' > src/b.py",
    ))
    repo = track_repo(tmp_path / "r", HONEST_T01 + attacker, config=ANY_VERDICT)
    base = _rev(repo, "main")

    result = swarm(repo, "implement", "t")

    assert result.exit_code == 1
    assert "T02 not merged: its recorded start point" in result.output
    report = _report(repo)
    assert "## Rejected (not merged)\n- T02: its recorded start point" in report
    assert f"({base[:12]}, from the base and the base alone)" in report
    assert "Merged: T01\n" in report
    assert git(repo, "show", "swarm/t/integration:README.md").stdout == "# r\n"
    assert git(repo, "show", "swarm/t/integration:src/a.py").stdout == "a = 1\n"
    assert _rev(repo, "main") == base


# ---- other trees and refs moved -----------------------------------------------------------------

def test_a_failed_task_that_moved_the_target_stops_the_advance(tmp_path: Path) -> None:
    attacker = task_md("T02", "mover", touches="`src/b.py`", runs=(
        "echo evil > README.md && git commit -qam evil --no-verify",
        "git update-ref refs/heads/main HEAD",
        "exit 1",
    ))
    repo = track_repo(tmp_path / "r", HONEST_T01 + attacker, config=ANY_VERDICT)
    assert swarm(repo, "implement", "t").exit_code == 1
    planted = _rev(repo, "swarm/t/T02")
    assert _rev(repo, "main") == planted  # the agent did move it

    result = swarm(repo, "integrate", "t", "--partial")

    assert result.exit_code == 1
    assert f"T02 was not merged, yet its commit {planted[:12]} is reachable from what would land" in result.output
    assert "main not advanced" in _report(repo)
    assert _rev(repo, "main") == planted  # nothing built on top of it


def test_files_of_the_users_checkout_changed_during_the_run_hold_the_advance(tmp_path: Path) -> None:
    writer = task_md("T02", "writer", touches="`src/b.py`", runs=(
        "echo 'b = 1' > src/b.py", "echo planted > \"$SWARM_REPO_ROOT/notes.txt\"",
    ))
    repo = track_repo(tmp_path / "r", HONEST_T01 + writer, config=ANY_VERDICT)
    write(repo, "README.md", "# my edit before the run\n")  # the user's own, kept and not named
    base = _rev(repo, "main")

    held = swarm(repo, "implement", "t")

    assert held.exit_code == 1
    assert "changed while the run went on: notes.txt;" in held.output
    assert "README.md" not in held.output.split("changed while the run went on")[1].splitlines()[0]
    assert _rev(repo, "main") == base
    # The user looked, and says so by integrating again: the check starts over.
    again = swarm(repo, "integrate", "t")
    assert again.exit_code == 0, again.output
    assert git(repo, "show", "main:src/b.py").stdout == "b = 1\n"
    assert (repo / "README.md").read_text() == "# my edit before the run\n"


def test_a_target_that_moved_is_merged_and_that_merge_is_gated_before_it_lands(tmp_path: Path) -> None:
    # The test command fails only when the user's new file and the track's file meet.
    config = ('[gates]\nthreshold = 0.8\ntest_command = "test ! -f user.txt || test ! -f src/b.py"\n'
              '[integrate]\ntarget = "moved"\n')
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
    plan = task_md("T01", "docs", touches="`docs/`", runs=(
        "mkdir -p docs && echo '* filter=evil' > docs/.gitattributes && echo guide > docs/guide.md",))
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
