"""Operating a run end to end through the CLI: retry, task update, clean, watch, spawning,
worktree setup, ports, and tasks that wait for the user. Real repos, real hook, script agents."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.attacks import MODES, UNFENCED, config
from tests.gitutil import git, write
from tests.swarmrepo import swarm, task_md, track_repo

GATES_OFF = "[gates]\nthreshold = 0.0\n"  # gates are judged in their own tests


def _status(repo: Path, track: str = "t") -> dict[str, dict[str, object]]:
    result = swarm(repo, "status", track, "--json")
    assert result.exit_code == 0, result.output
    return {t["id"]: t for t in json.loads(result.output)["tasks"]}


def _branches(repo: Path) -> set[str]:
    return set(git(repo, "for-each-ref", "--format=%(refname:short)", "refs/heads/").stdout.split())


def _worktree(repo: Path, task: str) -> Path:
    return Path(str(_status(repo)[task]["worktree"]))


def _flaky(marker: Path) -> tuple[str, ...]:
    """Add a line to src/a.py, then fail until `marker` exists, when it adds `fixed`."""
    return (
        "echo attempt >> src/a.py",
        f"test -f {marker} || {{ echo boom >&2; exit 3; }}",
        "echo fixed >> src/a.py",
    )


# ---- retry ----------------------------------------------------------------------------------


def test_retry_reruns_a_failed_task_with_its_diagnosis_and_unblocks_dependents(tmp_path: Path) -> None:
    marker = tmp_path / "ok"
    plan = task_md(
        "T01", "flaky", touches="`src/a.py`", runs=('cp "$SWARM_BRIEF" "$TMPDIR/brief.md"', *_flaky(marker))
    ) + task_md(
        "T02", "after", deps="T01", touches="`src/b.py`", runs=("test -f src/a.py && echo b > src/b.py",)
    )
    repo = track_repo(tmp_path / "r", plan, config=GATES_OFF)
    brief = repo / ".git/swarm/scratch/t/T01/tmp/brief.md"  # the task's own TMPDIR
    first = swarm(repo, "implement", "t")
    assert first.exit_code == 1
    assert "## Previous attempt failed" not in brief.read_text()
    assert _status(repo)["T02"]["status"] == "blocked"

    marker.touch()
    again = swarm(repo, "retry", "T01")
    assert again.exit_code == 0, again.output
    text = brief.read_text()
    assert "## Previous attempt failed" in text
    assert "command failed (exit code 3)" in text and "boom" in text
    status = _status(repo)
    assert status["T01"]["status"] == "done" and status["T01"]["attempts"] == 2
    assert status["T02"]["status"] == "done"
    # The first attempt's work is kept: the retry went on from the same branch.
    assert git(repo, "show", "swarm/t/T01:src/a.py").stdout == "attempt\nattempt\nfixed\n"
    assert git(repo, "show", "main:src/b.py").stdout == "b\n"


def test_retry_reset_starts_the_branch_afresh_and_refuses_a_dirty_worktree(tmp_path: Path) -> None:
    marker = tmp_path / "ok"
    repo = track_repo(
        tmp_path / "r", task_md("T01", "flaky", touches="`src/a.py`", runs=_flaky(marker)), config=GATES_OFF
    )
    assert swarm(repo, "implement", "t").exit_code == 1
    failed_tip = git(repo, "rev-parse", "swarm/t/T01").stdout.strip()
    worktree = _worktree(repo, "T01")
    write(worktree, "src/a.py", "hand edit\n")

    refused = swarm(repo, "retry", "T01", "--reset")
    assert refused.exit_code == 2
    assert "uncommitted changes" in refused.output and "src/a.py" in refused.output
    assert (worktree / "src/a.py").read_text() == "hand edit\n"  # nothing was touched
    assert git(repo, "rev-parse", "swarm/t/T01").stdout.strip() == failed_tip
    assert _status(repo)["T01"]["status"] == "failed"

    git(worktree, "checkout", "--", "src/a.py")
    marker.touch()
    fresh = swarm(repo, "retry", "T01", "--reset")
    assert fresh.exit_code == 0, fresh.output
    # The failed attempt's commit is gone from the branch: one line, one commit on the base.
    assert git(repo, "show", "swarm/t/T01:src/a.py").stdout == "attempt\nfixed\n"
    assert git(repo, "merge-base", "--is-ancestor", failed_tip, "swarm/t/T01", check=False).returncode == 1
    # main has its change, landed as one commit (the change, not the branch's history).
    assert git(repo, "show", "main:src/a.py").stdout == "attempt\nfixed\n"
    assert git(repo, "log", "-1", "--format=%s", "main").stdout == "T01: flaky\n"


def test_retries_are_bounded_by_agent_max_retries(tmp_path: Path) -> None:
    config = GATES_OFF + "[agent]\nmax_retries = 1\n"
    repo = track_repo(
        tmp_path / "r", task_md("T01", "never", touches="`src/a.py`", runs=("exit 1",)), config=config
    )
    assert swarm(repo, "implement", "t").exit_code == 1
    assert swarm(repo, "retry", "T01").exit_code == 1  # the one retry allowed, failing again
    refused = swarm(repo, "retry", "T01")
    assert refused.exit_code == 2
    assert "agent.max_retries" in refused.output
    assert _status(repo)["T01"]["attempts"] == 2


def test_retry_refuses_a_task_that_is_done(tmp_path: Path) -> None:
    repo = track_repo(
        tmp_path / "r",
        task_md("T01", "fine", touches="`src/a.py`", runs=("echo 1 > src/a.py",)),
        config=GATES_OFF,
    )
    assert swarm(repo, "implement", "t").exit_code == 0
    refused = swarm(repo, "retry", "T01")
    assert refused.exit_code == 2 and "T01 is done" in refused.output


# ---- task update ----------------------------------------------------------------------------


def test_task_update_sets_the_status_and_plan_checkbox(tmp_path: Path) -> None:
    repo = track_repo(
        tmp_path / "r",
        task_md("T01", "breaks", touches="`src/a.py`", runs=("exit 1",))
        + task_md("T02", "later", touches="`src/b.py`", runs=("true",)),
        config=GATES_OFF,
    )
    assert swarm(repo, "implement", "t").exit_code == 1
    plan = repo / "swarm/tracks/t/plan.md"
    assert "- [ ] **T01**" in plan.read_text()
    result = swarm(repo, "task", "update", "T01", "--status", "done")
    assert result.exit_code == 0, result.output
    assert "T01: failed -> done" in result.output
    assert "- [x] **T01**" in plan.read_text()
    assert _status(repo)["T01"]["status"] == "done"
    back = swarm(repo, "task", "update", "T01", "--status", "todo")
    assert back.exit_code == 0
    assert "- [ ] **T01**" in plan.read_text() and _status(repo)["T01"]["status"] == "todo"
    unknown = swarm(repo, "task", "update", "T09", "--status", "done")
    assert unknown.exit_code == 2 and "T09" in unknown.output


# ---- clean ----------------------------------------------------------------------------------


def test_clean_removes_integrated_worktrees_and_keeps_live_work(tmp_path: Path) -> None:
    plan = (
        task_md("T01", "one", touches="`src/a.py`", runs=("echo a > src/a.py",))
        + task_md("T02", "two", touches="`src/b.py`", runs=("echo b > src/b.py",))
        + task_md("T03", "three", touches="`src/c.py`", runs=("echo c > src/c.py", "exit 1"))
    )
    repo = track_repo(tmp_path / "r", plan, config=GATES_OFF)
    assert swarm(repo, "implement", "t").exit_code == 1
    one, two, three = (_worktree(repo, t) for t in ("T01", "T02", "T03"))
    write(two, "src/b.py", "unsaved\n")

    dry = swarm(repo, "clean", "t", "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert f"would remove worktree {one}" in dry.output
    assert one.is_dir() and str(one) in git(repo, "worktree", "list").stdout

    result = swarm(repo, "clean", "t")
    assert result.exit_code == 0, result.output
    assert not one.exists() and str(one) not in git(repo, "worktree", "list").stdout
    scratch = repo / ".git/swarm/scratch/t"
    assert not (scratch / "T01").exists() and (scratch / "T02/home").is_dir()
    assert f"kept {two}: uncommitted changes (src/b.py)" in result.output
    assert (two / "src/b.py").read_text() == "unsaved\n"
    assert f"kept {three}: task failed, its work is not integrated yet" in result.output
    assert three.is_dir()
    assert {"swarm/t/T01", "swarm/t/T02", "swarm/t/T03"} <= _branches(repo)


def test_clean_branches_deletes_only_branches_in_the_target(tmp_path: Path) -> None:
    plan = (
        task_md("T01", "one", touches="`src/a.py`", runs=("echo a > src/a.py",))
        + task_md("T02", "two", touches="`src/b.py`", runs=("echo b > src/b.py",))
        + task_md("T03", "three", touches="`src/c.py`", runs=("echo c > src/c.py",))
    )
    repo = track_repo(tmp_path / "r", plan, config=GATES_OFF)
    assert swarm(repo, "implement", "t").exit_code == 0
    # After the run: T02 gets a commit main lacks; T03's worktree gets an unsaved edit.
    two, three = _worktree(repo, "T02"), _worktree(repo, "T03")
    write(two, "src/b.py", "more\n")
    git(two, "commit", "-qam", "T02: more")
    write(three, "src/c.py", "unsaved\n")

    dry = swarm(repo, "clean", "t", "--branches", "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert (
        "would remove branch swarm/t/T01" in dry.output
        and "would remove branch swarm/t/T03" not in dry.output
    )
    assert {"swarm/t/T01", "swarm/t/T02", "swarm/t/T03"} <= _branches(repo)

    result = swarm(repo, "clean", "t", "--branches")
    assert result.exit_code == 0, result.output
    branches = _branches(repo)
    assert "swarm/t/T01" not in branches
    assert "swarm/t/T02" in branches and "kept branch swarm/t/T02" in result.output
    assert git(repo, "show", "swarm/t/T02:src/b.py").stdout == "more\n"
    # T03's worktree is kept for its unsaved edit, and so is the branch checked out there.
    assert "swarm/t/T03" in branches and (three / "src/c.py").read_text() == "unsaved\n"
    assert f"kept branch swarm/t/T03: checked out in {three}" in result.output
    assert "main" in branches and git(repo, "show", "main:src/a.py").stdout == "a\n"


# ---- watch ----------------------------------------------------------------------------------


def test_watch_once_prints_tasks_and_last_events_without_a_terminal(tmp_path: Path) -> None:
    plan = task_md("T01", "one", touches="`src/a.py`", runs=("echo a > src/a.py",)) + task_md(
        "T02", "two", deps="T01", touches="`src/b.py`", runs=("exit 1",)
    )
    repo = track_repo(tmp_path / "r", plan, config=GATES_OFF)
    assert swarm(repo, "implement", "t").exit_code == 1
    result = swarm(repo, "watch", "t", "--once")
    assert result.exit_code == 0, result.output
    out = result.output
    assert "track t" in out and "1/2 done" in out
    assert "T01" in out and "done" in out and "T02" in out and "failed" in out
    assert "last events:" in out and "T02 failed" in out


# ---- spawning -------------------------------------------------------------------------------

SPAWN_REPORT = """\
**Status:** done

## Summary
Found more work.

## SpawnCandidates

| ID | Subtask | Touches | Effort | User Input | Severity | Dedup Key | Accept Criteria |
|----|---------|---------|--------|------------|----------|-----------|-----------------|
| SC-01 | Add docs page | `docs/page.md` | S | false | medium | docs-page | page exists |
| SC-02 | Add docs page again | `docs/page.md` | S | false | medium | docs-page | page exists |
| SC-03 | Choose a cache size | `src/cache.py` | M | true | medium | cache-size | size chosen |
| SC-04 | Fix auth bypass | `src/auth.py` | M | false | critical | auth-bypass | no bypass |
"""


def test_report_spawns_one_task_now_and_holds_the_ones_for_the_user(tmp_path: Path) -> None:
    report = write(tmp_path, "report.md", SPAWN_REPORT)
    # The planned touches cover every candidate's: none waits for lying outside the plan.
    repo = track_repo(
        tmp_path / "r",
        task_md(
            "T01",
            "explore",
            touches="`src/`, `docs/`",
            runs=("mkdir -p docs && echo seen > docs/seen.md", f'cp {report} "$SWARM_REPORT"'),
        ),
        config=GATES_OFF,
    )
    result = swarm(repo, "implement", "t")
    # The spawned task ran, but the script agent has no commands for it: it changed nothing.
    assert result.exit_code == 1, result.output
    plan = (repo / "swarm/tracks/t/plan.md").read_text()
    assert plan.count("**SC-") == 1 and "- [ ] **SC-01**: Add docs page" in plan
    assert "swarm/t/SC-01" in _branches(repo)
    assert _status(repo)["SC-01"]["status"] == "failed"
    assert str(_status(repo)["SC-01"]["reason"]).startswith("no change: SC-01 may change docs/page.md")
    assert (repo / "swarm/tracks/t/reports/T01.md").is_file()
    # Candidates are named by their row in the report, tasks by their plan id: the report's own
    # ids (SC-02…SC-04 here, SC-02 later a plan task) never name anything in the output.
    out = result.output
    assert (
        "task SC-01 spawned: Add docs page (from candidate 1 of T01's report, dedup key 'docs-page')" in out
    )
    assert "candidate 2 of T01's report skipped: dedup key 'docs-page' appears twice" in out
    assert "candidate 3 of T01's report waits for you (needs user input): Choose a cache size" in out
    assert "candidate 4 of T01's report waits for you (severity critical)" in out
    assert "spawn accept cache-size" in out
    assert not any(f"SC-0{n}" in out for n in (2, 3, 4))

    listed = swarm(repo, "spawn", "list", "t")
    assert listed.exit_code == 0
    lines = listed.output.splitlines()
    assert len(lines) == 2
    assert any(line.startswith("cache-size  [waiting]") and "needs user input" in line for line in lines)
    assert any(line.startswith("auth-bypass  [waiting]") and "critical" in line for line in lines)

    accepted = swarm(repo, "spawn", "accept", "cache-size", "--track", "t")
    assert accepted.exit_code == 0, accepted.output
    assert "task SC-02 added to plan.md; it needs user input: `git swarm run SC-02" in accepted.output
    plan = (repo / "swarm/tracks/t/plan.md").read_text()
    accepted_block = plan[plan.index("- [ ] **SC-02**: Choose a cache size") :]
    assert "**Needs user input:** true" in accepted_block  # the candidate's `User Input: true` is kept
    rejected = swarm(repo, "spawn", "reject", "auth-bypass", "--track", "t")
    assert rejected.exit_code == 0 and "rejected auth-bypass" in rejected.output
    assert "no spawn candidates wait for you" in swarm(repo, "spawn", "list", "t").output
    assert "Fix auth bypass" not in (repo / "swarm/tracks/t/plan.md").read_text()
    for decided in ("auth-bypass", "docs-page"):  # rejected, spawned: no longer the user's to decide
        assert swarm(repo, "spawn", "accept", decided, "--track", "t").exit_code == 2
        assert swarm(repo, "spawn", "reject", decided, "--track", "t").exit_code == 2
    every = swarm(repo, "spawn", "list", "t", "--all").output
    assert "docs-page  [spawned -> task SC-01]  Add docs page  (candidate 1 of T01's report" in every
    assert "auth-bypass  [rejected]" in every

    # Accepted, it still waits for a person: no unattended run starts it.
    again = swarm(repo, "implement", "t")
    assert again.exit_code == 1 and "SC-02 waiting: needs user input" in again.output
    assert _status(repo)["SC-02"]["status"] == "needs-input" and "swarm/t/SC-02" not in _branches(repo)
    assert swarm(repo, "run", "SC-02", "--track", "t").exit_code == 1  # the script agent changes nothing
    assert _status(repo)["SC-02"]["status"] == "failed" and "swarm/t/SC-02" in _branches(repo)


def test_spawn_budget_zero_queues_candidates_instead(tmp_path: Path) -> None:
    report = write(tmp_path, "report.md", SPAWN_REPORT)
    repo = track_repo(
        tmp_path / "r",
        task_md(
            "T01",
            "explore",
            touches="`src/`, `docs/`",
            runs=("mkdir -p docs && echo seen > docs/seen.md", f'cp {report} "$SWARM_REPORT"'),
        ),
        config=GATES_OFF + "[spawn]\nbudget = 0\n",
    )
    assert swarm(repo, "implement", "t").exit_code == 0
    assert "**SC-" not in (repo / "swarm/tracks/t/plan.md").read_text()
    assert not any(b.startswith("swarm/t/SC-") for b in _branches(repo))
    listed = swarm(repo, "spawn", "list", "t").output
    assert "docs-page  [queued]" in listed and "cache-size  [waiting]" in listed


# ---- worktree setup, copy, ports ------------------------------------------------------------


def test_setup_copy_and_ports_per_worktree(tmp_path: Path) -> None:
    # Setup runs under the task's fence widened to its worktree: it logs to the task's own HOME.
    config = GATES_OFF + (
        "[worktrees]\n"
        'setup = ["echo \\"$SWARM_TASK $SWARM_PORT $(cat .env)\\" >> $HOME/setup.log", '
        '"test $SWARM_TASK != T03 || { echo no-deps-for-T03 >&2; exit 4; }"]\n'
        'copy = [".env"]\n'
    )
    plan = "".join(
        task_md(
            t, f"task {t}", touches=f"`src/{t}.py`", runs=(f"grep -q SECRET=1 .env && echo ok > src/{t}.py",)
        )
        for t in ("T01", "T02", "T03")
    )
    repo = track_repo(
        tmp_path / "r", plan, config=config, files={"src/app.py": "x = 1\n", ".gitignore": ".env\n"}
    )
    write(repo, ".env", "SECRET=1\n")
    result = swarm(repo, "implement", "t")
    assert result.exit_code == 1
    status = _status(repo)
    assert status["T01"]["status"] == "done" and status["T02"]["status"] == "done"
    assert git(repo, "show", "swarm/t/T01:src/T01.py").stdout == "ok\n"
    assert status["T03"]["status"] == "failed"
    reason = str(status["T03"]["reason"])
    assert reason.startswith("setup failed: `test $SWARM_TASK != T03") and "no-deps-for-T03" in reason
    assert git(repo, "show", "swarm/t/T03:src/T03.py", check=False).returncode != 0  # agent never ran
    # The copied .env is in each worktree but never committed.
    assert (_worktree(repo, "T02") / ".env").read_text() == "SECRET=1\n"
    assert git(repo, "show", "swarm/t/T02:.env", check=False).returncode != 0
    lines = [(repo / f".git/swarm/scratch/t/{t}/home/setup.log").read_text() for t in ("T01", "T02", "T03")]
    ports = {line.split()[0]: line.split()[1] for line in lines}
    assert set(ports) == {"T01", "T02", "T03"} and len(set(ports.values())) == 3
    assert all(line.endswith("SECRET=1\n") for line in lines)


@pytest.mark.parametrize("mode", MODES)
def test_setup_runs_under_the_tasks_fence_widened_to_its_worktree(tmp_path: Path, mode: str) -> None:
    # A retry keeps the agent's work, so setup may run code an agent wrote: it may write its
    # worktree (dependencies: node_modules/, .venv/) but, fenced, nothing outside.
    planted = tmp_path / "planted"
    setup = f'setup = ["mkdir -p node_modules && echo x > node_modules/dep", "echo x > {planted} || true"]\n'
    plan = task_md(
        "T01", "one", touches="`src/one.py`", runs=("test -f node_modules/dep && echo ok > src/one.py",)
    )
    files = {".gitignore": "node_modules/\n", "src/one.py": "x = 0\n"}
    repo = track_repo(tmp_path / "r", plan, config=config(mode, "[worktrees]\n" + setup), files=files)
    result = swarm(repo, "implement", "t")
    assert result.exit_code == 0, result.output
    assert git(repo, "show", "main:src/one.py").stdout == "ok\n"
    assert planted.exists() == (mode == UNFENCED)


def test_copy_refuses_a_file_git_would_commit(tmp_path: Path) -> None:
    config = GATES_OFF + '[worktrees]\ncopy = [".env"]\n'
    repo = track_repo(
        tmp_path / "r",
        task_md("T01", "x", touches="`src/a.py`", runs=("grep -q S=1 .env && echo ok > src/a.py",)),
        config=config,
    )
    write(repo, ".env", "S=1\n")
    refused = swarm(repo, "implement", "t")
    assert refused.exit_code == 2
    assert "worktrees.copy: .env is not ignored by git" in refused.output
    assert _status(repo)["T01"]["status"] == "todo"
    write(repo, ".git/info/exclude", ".env\n")
    assert swarm(repo, "implement", "t").exit_code == 0
    assert git(repo, "show", "swarm/t/T01:.env", check=False).returncode != 0


# ---- tasks that need the user ---------------------------------------------------------------


def test_needs_input_task_waits_without_a_terminal_then_run_runs_it(tmp_path: Path) -> None:
    plan = task_md("T01", "auto", touches="`src/a.py`", runs=("echo a > src/a.py",)) + task_md(
        "T02",
        "ask",
        touches="`src/b.py`",
        runs=("echo b > src/b.py",),
        extra="  - **Needs user input:** true",
    )
    repo = track_repo(tmp_path / "r", plan, config=GATES_OFF)
    result = swarm(repo, "implement", "t")
    assert result.exit_code == 1
    assert "T02 waiting" in result.output and "git swarm run T02" in result.output
    status = _status(repo)
    assert status["T01"]["status"] == "done" and status["T02"]["status"] == "needs-input"
    assert "swarm/t/T02" not in _branches(repo)

    ran = swarm(repo, "run", "T02", "--track", "t")
    assert ran.exit_code == 0, ran.output
    assert "T02 done" in ran.output
    assert git(repo, "show", "swarm/t/T02:src/b.py").stdout == "b\n"
    assert _status(repo)["T02"]["status"] == "done"


def test_task_update_works_on_a_task_that_never_ran_and_integration_counts_it_in(tmp_path: Path) -> None:
    plan = task_md("T01", "manual", touches="`docs/`", runs=("false",)) + task_md(
        "T02", "code", deps="T01", touches="`src/b.py`", runs=("echo 'B = 1' > src/b.py",)
    )
    repo = track_repo(tmp_path / "r", plan, config="[gates]\nthreshold = 0.0\n")
    marked = swarm(repo, "task", "update", "T01", "--status", "done")
    assert marked.exit_code == 0, marked.output
    assert "- [x] **T01**" in (repo / "swarm/tracks/t/plan.md").read_text()
    result = swarm(repo, "implement", "t")
    assert result.exit_code == 0, result.output
    assert git(repo, "show", "main:src/b.py").stdout == "B = 1\n"
