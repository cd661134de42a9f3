"""`git swarm integrate` and `git swarm gates` end to end: real repos, script agents, real merges."""

from __future__ import annotations

import json
from pathlib import Path

from tests.gitutil import git, make_repo, write
from tests.swarmrepo import swarm, swarm_process, task_md, track_repo

# Gates are judged in their own tests; here any verdict approves unless a test says otherwise.
# Agents here commit by themselves, as unfenced agents can (tests/test_fence.py has the fenced runs).
ANY_VERDICT = '[gates]\nthreshold = 0.0\n[agent]\nsandbox = "off"\n'
NEEDS_INPUT = "  - **Needs user input:** true"


def _rev(repo: Path, rev: str) -> str:
    return git(repo, "rev-parse", rev).stdout.strip()


def _subjects(repo: Path, rev_range: str, *flags: str) -> list[str]:
    return git(repo, "log", *flags, "--format=%s", rev_range).stdout.splitlines()


def _statuses(repo: Path) -> dict[str, str]:
    tasks = json.loads(swarm(repo, "status", "t", "--json").output)["tasks"]
    return {t["id"]: t["status"] for t in tasks}


def _report(repo: Path) -> str:
    return (repo / "swarm/tracks/t/iosm_report.md").read_text(encoding="utf-8")


def _user_changes(repo: Path) -> list[str]:
    """`git status` of the user's files (the track folder holds views swarmgit keeps current)."""
    return [line for line in git(repo, "status", "--porcelain").stdout.splitlines() if " swarm/" not in line]


def _parents(repo: Path, rev: str) -> list[str]:
    return git(repo, "rev-list", "--parents", "-n1", rev).stdout.split()[1:]


# ---- order, integration branch, the user's working tree -------------------------------------

ORDERED = (
    # T02 holds the widest touch and the longest effort: it runs first, T01 is lock-ordered after it.
    task_md(
        "T02", "x package", touches="`src/x/`", runs=("mkdir -p src/x && echo 'b = 1' > src/x/b.py",)
    ).replace("30min", "2h")
    + task_md(
        "T01", "x module", touches="`src/x/a.py`", runs=("test -f src/x/b.py && echo 'a = 1' > src/x/a.py",)
    )
    + task_md("T03", "c", touches="`src/c.py`", runs=("echo 'c = 1' > src/c.py",))
    + task_md("T04", "d", deps="T03", touches="`src/d.py`", runs=("echo 'd = 1' > src/d.py",))
    + task_md(
        "T05",
        "docs",
        touches="`docs/`",
        runs=("mkdir -p docs && echo hi > docs/guide.md",),
        extra=NEEDS_INPUT,
    )
)


def test_branches_merge_in_dependency_and_lock_order_without_touching_the_working_tree(
    tmp_path: Path,
) -> None:
    repo = track_repo(tmp_path / "r", ORDERED, config=ANY_VERDICT)
    base = _rev(repo, "HEAD")
    write(repo, "README.md", "# local edit\n")
    write(repo, "notes.txt", "staged\n")
    git(repo, "add", "notes.txt")
    before = _user_changes(repo)

    result = swarm(repo, "implement", "t")  # T05 waits for the user; the rest integrates
    assert result.exit_code == 1
    assert "main not advanced" in result.output and "T05" in result.output

    # T01 came after T02 (lock order) despite its id; T04 after its dep T03; ties by id.
    assert "Merged: T02, T01, T03, T04" in _report(repo)
    # One commit per task, each on the one before (no merges): the task's change, not its history.
    assert _subjects(repo, f"{base}..swarm/t/integration") == [
        "T04: d",
        "T03: c",
        "T01: x module",
        "T02: x package",
    ]
    assert _parents(repo, "swarm/t/integration~3") == [base]
    for path, text in (
        ("src/x/a.py", "a = 1"),
        ("src/x/b.py", "b = 1"),
        ("src/c.py", "c = 1"),
        ("src/d.py", "d = 1"),
    ):
        assert git(repo, "show", f"swarm/t/integration:{path}").stdout == text + "\n"
    assert git(repo, "ls-tree", "swarm/t/integration", "docs").stdout == ""
    assert "## Left out\n- T05: needs-input" in _report(repo)

    again = swarm(repo, "integrate", "t", "--no-advance")
    assert again.exit_code == 0, again.output
    assert "4 task change(s) applied to swarm/t/integration as tasks history" in again.output
    # Neither run checked anything out: HEAD, main, the index and the user's edits are as they were.
    assert _rev(repo, "HEAD") == _rev(repo, "main") == base
    assert _user_changes(repo) == before == [" M README.md", "A  notes.txt"]
    assert (repo / "README.md").read_text() == "# local edit\n"
    assert not (repo / "src/x").exists()


# ---- tasks left out, --partial, --no-advance, --target ---------------------------------------

PARTIAL = task_md("T01", "app", touches="`src/app.py`", runs=("echo 'x = 2' > src/app.py",)) + task_md(
    "T02", "docs", touches="`docs/`", runs=("mkdir -p docs && echo hi > docs/guide.md",), extra=NEEDS_INPUT
)


def test_target_waits_for_every_planned_task_then_fast_forwards_the_checkout(tmp_path: Path) -> None:
    repo = track_repo(tmp_path / "r", PARTIAL, config=ANY_VERDICT)
    base = _rev(repo, "main")
    assert swarm(repo, "implement", "t").exit_code == 1

    held = swarm(repo, "integrate", "t")
    assert held.exit_code == 1
    assert "main not advanced" in held.output and "T02" in held.output and "--partial" in held.output
    assert "Target: main not advanced: not every planned task is done (T02)" in _report(repo)
    assert _rev(repo, "main") == base

    assert swarm(repo, "run", "T02").exit_code == 0  # the user runs the task that needed them
    done = swarm(repo, "integrate", "t")
    assert done.exit_code == 0, done.output
    assert "advanced main: fast-forward" in done.output
    assert _rev(repo, "main") == _rev(repo, "swarm/t/integration")
    # main is checked out: its files and index followed the move.
    assert (repo / "src/app.py").read_text() == "x = 2\n"
    assert (repo / "docs/guide.md").read_text() == "hi\n"
    assert _user_changes(repo) == []
    assert "Advanced main: fast-forward" in _report(repo)


def test_partial_advances_a_clean_checkout_and_refuses_local_changes_in_affected_paths(
    tmp_path: Path,
) -> None:
    repo = track_repo(tmp_path / "r", PARTIAL, config=ANY_VERDICT)
    base = _rev(repo, "main")
    assert swarm(repo, "implement", "t").exit_code == 1
    write(repo, "src/app.py", "x = 'mine'\n")  # the integration changes this file
    write(repo, "README.md", "# mine\n")  # and not this one

    refused = swarm(repo, "integrate", "t", "--partial")
    assert refused.exit_code == 1
    assert "main not advanced" in refused.output
    assert "local changes" in refused.output and "src/app.py" in refused.output
    assert "commit or stash them" in refused.output
    assert _rev(repo, "main") == base
    assert (repo / "src/app.py").read_text() == "x = 'mine'\n"

    git(repo, "restore", "src/app.py")
    moved = swarm(repo, "integrate", "t", "--partial")
    assert moved.exit_code == 0, moved.output
    assert _rev(repo, "main") == _rev(repo, "swarm/t/integration") != base
    assert (repo / "src/app.py").read_text() == "x = 2\n"
    # The local change elsewhere survives; nothing else is left dirty or staged.
    assert _user_changes(repo) == [" M README.md"]
    assert git(repo, "diff", "--cached", "--name-only").stdout == ""


def test_no_advance_never_reads_the_target_checkout(tmp_path: Path) -> None:
    plan = task_md("T01", "app", touches="`src/app.py`", runs=("echo 'x = 2' > src/app.py",))
    repo = track_repo(tmp_path / "r", plan, config=ANY_VERDICT)
    assert swarm(repo, "implement", "t").exit_code == 0
    # main's checkout is unreadable to git (a torn index): only an advance needs its status.
    (repo / ".git/index").write_bytes(b"not an index")
    quiet = swarm(repo, "integrate", "t", "--no-advance")
    assert quiet.exit_code == 0, quiet.output
    assert "1 task change(s) applied to swarm/t/integration" in quiet.output


def test_no_advance_and_another_target_never_force_move_a_branch(tmp_path: Path) -> None:
    plan = task_md("T01", "app", touches="`src/app.py`", runs=("echo 'x = 2' > src/app.py",))
    repo = track_repo(tmp_path / "r", plan, config=ANY_VERDICT)
    base = _rev(repo, "main")
    for branch in ("quiet", "other", "moved"):
        git(repo, "branch", branch, base)
    # `moved` gains a commit of its own after the track started.
    tree = git(repo, "write-tree").stdout.strip()
    own = git(repo, "commit-tree", tree, "-p", base, "-m", "moved meanwhile").stdout.strip()
    git(repo, "update-ref", "refs/heads/moved", own)
    assert swarm(repo, "implement", "t").exit_code == 0
    integration = _rev(repo, "swarm/t/integration")

    missing = swarm(repo, "integrate", "t", "--target", "nope")
    assert missing.exit_code == 2 and "no branch nope" in missing.output

    quiet = swarm(repo, "integrate", "t", "--target", "quiet", "--no-advance")
    assert quiet.exit_code == 0, quiet.output
    assert _rev(repo, "quiet") == base and "advanced" not in quiet.output

    other = swarm(repo, "integrate", "t", "--target", "other")
    assert other.exit_code == 0, other.output
    assert "advanced other: fast-forward" in other.output
    assert _rev(repo, "other") == integration

    merged = swarm(repo, "integrate", "t", "--target", "moved")
    assert merged.exit_code == 0, merged.output
    assert "advanced moved: merge" in merged.output
    assert _parents(repo, "moved") == [own, integration]
    assert git(repo, "show", "moved:src/app.py").stdout == "x = 2\n"


# ---- scope re-check and conflicts ------------------------------------------------------------


def test_a_done_branch_with_changes_outside_its_touches_is_rejected_and_not_merged(tmp_path: Path) -> None:
    plan = task_md(
        "T01",
        "sneaky",
        touches="`src/a.py`",
        runs=("echo a > src/a.py && echo c > README.md && git add -A && git commit -qm nv --no-verify",),
    ) + task_md("T02", "fine", touches="`src/b.py`", runs=("echo b > src/b.py",))
    # without the write fence, as on a kernel without Landlock: the agent commits by itself
    repo = track_repo(tmp_path / "r", plan, config=ANY_VERDICT)
    base = _rev(repo, "main")
    assert swarm(repo, "implement", "t").exit_code == 1  # the dispatcher fails T01 ...
    assert swarm(repo, "task", "update", "T01", "--status", "done").exit_code == 0  # ... the user insists

    result = swarm(repo, "integrate", "t")
    assert result.exit_code == 1
    assert "T01 not merged: changes outside its touches: README.md" in result.output
    assert "main not advanced" in result.output
    report = _report(repo)
    assert "## Rejected (not merged)\n- T01: changes outside its touches: README.md" in report
    assert "Merged: T02\n" in report
    assert git(repo, "show", "swarm/t/integration:README.md").stdout == "# r\n"
    assert git(repo, "show", "swarm/t/integration:src/b.py").stdout == "b\n"
    assert git(repo, "ls-tree", "swarm/t/integration", "src/a.py").stdout == ""
    assert _rev(repo, "main") == base


def test_a_task_built_on_a_rejected_dependency_is_not_merged_either(tmp_path: Path) -> None:
    plan = (
        task_md(
            "T01",
            "sneaky",
            touches="`src/a.py`",
            runs=("echo a > src/a.py && echo c > README.md && git add -A && git commit -qm nv --no-verify",),
        )
        + task_md("T02", "on top", deps="T01", touches="`src/b.py`", runs=("echo b > src/b.py",))
        + task_md("T03", "apart", touches="`src/c.py`", runs=("echo c > src/c.py",))
    )
    repo = track_repo(tmp_path / "r", plan, config=ANY_VERDICT)
    assert swarm(repo, "implement", "t").exit_code == 1  # T01 fails its branch check; T02 waits
    assert swarm(repo, "task", "update", "T01", "--status", "done").exit_code == 0

    result = swarm(repo, "retry", "T02")  # T02 runs on T01's work; the integrator rejects both

    assert result.exit_code == 1
    assert "T02 not merged: it depends on T01, which is not merged" in result.output
    report = _report(repo)
    assert "- T01: changes outside its touches: README.md\n- T02: it depends on T01" in report
    assert "Merged: T03\n" in report
    assert git(repo, "ls-tree", "--name-only", "swarm/t/integration", "src/").stdout.split() == [
        "src/app.py",
        "src/c.py",
    ]
    assert git(repo, "show", "swarm/t/integration:README.md").stdout == "# r\n"


def test_a_conflict_stops_the_integration_naming_tasks_and_paths_and_keeps_every_branch(
    tmp_path: Path,
) -> None:
    # T01 edits (swarmgit commits it) and then fails, so T02 (same file, no lock order after a failed task) starts
    # from the base; marking T01 done by hand gives two done branches editing the same line.
    plan = task_md(
        "T01", "first", touches="`src/app.py`", runs=("echo 'x = 10' > src/app.py", "exit 1")
    ) + task_md("T02", "second", touches="`src/app.py`", runs=("echo 'x = 20' > src/app.py",))
    repo = track_repo(tmp_path / "r", plan, config=ANY_VERDICT)
    base = _rev(repo, "main")
    assert swarm(repo, "implement", "t").exit_code == 1
    assert swarm(repo, "task", "update", "T01", "--status", "done").exit_code == 0
    tips = {b: _rev(repo, f"swarm/t/{b}") for b in ("T01", "T02")}

    result = swarm(repo, "integrate", "t")
    assert result.exit_code == 1
    assert "integration: CONFLICT" in result.output
    assert "T02 conflicts with T01 in src/app.py" in result.output
    assert "Verdict: **CONFLICT**" in _report(repo)
    # Every branch is kept as it was; the integration branch holds what merged before the conflict.
    assert {b: _rev(repo, f"swarm/t/{b}") for b in tips} == tips
    assert _subjects(repo, f"{base}..swarm/t/integration") == ["T01: first"]
    assert git(repo, "diff", tips["T01"], "swarm/t/integration").stdout == ""
    assert _rev(repo, "main") == base
    assert _statuses(repo) == {"T01": "done", "T02": "done"}


# ---- gates: fix tasks, rounds, the spawn budget, iosm_report.md ------------------------------

STRICT = "[gates]\nthreshold = 1.0\nchange_surface_max = 1.0\n"
# A stand-in agent (a real process): T01 writes an undocumented public function, a fix task documents it.
AGENT = (
    'case "$SWARM_TASK" in\n'
    "  T01) printf 'def get():\\n    return 1\\n' > src/api.py ;;\n"
    '  SC-*) printf \'def get():\\n    %s\\n    return 1\\n\' \'"""The answer."""\' > src/api.py ;;\n'
    "esac\n"
)


def test_rejected_gates_spawn_a_fix_task_that_implement_runs_before_integrating_again(tmp_path: Path) -> None:
    config = '[agent]\nbackend = "command"\ncommand = "sh agent.sh"\n' + STRICT
    files = {"README.md": "# r\n", "src/app.py": "x = 1\n", "agent.sh": AGENT}
    repo = track_repo(
        tmp_path / "r", task_md("T01", "api", touches="`src/api.py`"), files=files, config=config
    )

    result = swarm(repo, "implement", "t")
    assert result.exit_code == 0, result.output
    out = result.output
    assert out.index("REJECTED") < out.index(
        "task SC-01 spawned: Fix I findings in src/api.py (from candidate 1 of the gate findings"
    )
    assert out.index("SC-01 started") < out.index("APPROVED") < out.index("advanced  main: fast-forward")
    plan = (repo / "swarm/tracks/t/plan.md").read_text()
    fix = plan[plan.index("**SC-01**") :]
    assert "**Depends on:** T01" in fix and "**Touches:** `src/api.py`" in fix
    assert "**Dedup key:** gate:I:src/api.py" in fix and "src/api.py:1 missing-docstring" in fix
    assert _statuses(repo) == {"T01": "done", "SC-01": "done"}
    assert '"""The answer."""' in git(repo, "show", "main:src/api.py").stdout
    assert _subjects(repo, "main", "-2") == ["SC-01: Fix I findings in src/api.py", "T01: api"]
    assert "Verdict: **APPROVED**" in _report(repo) and "Merged: T01, SC-01" in _report(repo)


def test_gates_stop_when_no_fix_can_help_within_the_spawn_budget_and_the_report_says_why(
    tmp_path: Path,
) -> None:
    # Script agents: the spawned fix task has no commands, so it changes nothing.
    plan = task_md(
        "T01", "api", touches="`src/api.py`", runs=("printf 'def get():\\n    return 1\\n' > src/api.py",)
    ) + task_md(
        "T02",
        "util",
        touches="`src/util.py`",
        runs=('printf \'"""Util."""\\n# TODO: speed up\\nLIMIT = 3\\n\' > src/util.py',),
    )
    repo = track_repo(tmp_path / "r", plan, config="[spawn]\nbudget = 1\n" + STRICT)
    base = _rev(repo, "main")

    result = swarm(repo, "implement", "t")
    assert result.exit_code == 1
    out = result.output
    # One fix task fits the budget; the other waits in the queue; no round can make progress.
    assert "task SC-01 spawned: Fix" in out and "spawn budget is used up" in out
    assert out.count("gates spawned fix tasks") == 1
    assert "no new fix task can be spawned" in out
    assert "I src/api.py:1: missing-docstring" in out and "I src/util.py:2: todo-without-reference" in out
    assert "**SC-02**" not in (repo / "swarm/tracks/t/plan.md").read_text()
    assert "gate:I:src/util.py  [queued]" in swarm(repo, "spawn", "list").output
    assert _rev(repo, "main") == base

    report = _report(repo)
    assert "Verdict: **REJECTED**" in report and "Merged: T01, T02" in report
    assert "- SC-01: failed: no change: SC-01 may change src/api.py" in report
    assert "| I Improve | 0.65 | 1.00 | FAIL | 2 |" in report
    assert "| O Optimize | - | 1.00 | n/a (test command not configured" in report
    assert "| M Modularize | - | 1.00 | n/a (no package changed, no contract, repository too small)" in report
    assert "**IOSM-Index:** 0.82 (threshold 1.00) — **REJECTED**" in report
    assert (
        "- `src/api.py:1` **I** missing-docstring: public function get has no docstring (introduced by T01)"
        in report
    )
    assert (
        "- `src/util.py:2` **I** todo-without-reference: '# TODO: speed up' names no issue (introduced by T02)"
        in report
    )


# ---- `git swarm gates` on any repository -----------------------------------------------------


def test_gates_command_judges_two_commits_of_a_plain_repository(tmp_path: Path) -> None:
    files = {"app/__init__.py": "", "app/core.py": 'def run():\n    """Run."""\n    return 1\n'}
    files.update({f"docs/{n}.md": "doc\n" for n in range(10)})
    repo = make_repo(tmp_path / "plain", files)  # no `git swarm init`
    write(repo, "app/extra.py", '"""Extra."""\n\n\ndef double(x):\n    """Twice x."""\n    return x * 2\n')
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "clean")
    write(repo, "app/core.py", 'import app.bad\n\ndef run():\n    """Run."""\n    return 1\n')
    write(
        repo,
        "app/bad.py",
        "import app.core\n\n# TODO later\ndef fetchAll(db, ids):\n    for i in ids:\n        db.execute(i)\n",
    )
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "bad")

    clean = swarm(repo, "gates", "--base", "HEAD~2", "--head", "HEAD~1", "--json")
    assert clean.exit_code == 0
    data = json.loads(clean.stdout)
    assert (data["verdict"], data["index"], data["threshold"]) == ("APPROVED", 1.0, 0.8)
    assert [g["key"] for g in data["gates"]] == ["I", "O", "M", "S"]

    bad = swarm_process(repo, "gates", "--base", "HEAD~1", "--json")  # a real process; --head is HEAD
    assert bad.returncode == 1, bad.stderr
    data = json.loads(bad.stdout)
    assert data["verdict"] == "REJECTED" and data["index"] < 0.8
    findings = {(f["file"], f["line"], f["rule"]) for g in data["gates"] for f in g["findings"]}
    assert {
        ("app/bad.py", 4, "naming"),
        ("app/bad.py", 6, "io-in-loop"),
        ("app/bad.py", 1, "import-cycle"),
    } <= findings

    table = swarm(repo, "gates", "--base", "HEAD~1")
    assert table.exit_code == 1 and "REJECTED" in table.output and "app/bad.py:4" in table.output
    assert git(repo, "status", "--porcelain", "--ignored").stdout == ""  # nothing left behind
    assert swarm(repo, "gates", "--base", "nope").exit_code == 2


# ---- provenance: one commit per task with trailers, or one for the track -----------------------

TWO = task_md("T01", "api", touches="`src/api.py`", runs=("echo 'x = 1' > src/api.py",)) + task_md(
    "T02", "docs", touches="`docs/`", runs=("mkdir -p docs && echo hi > docs/guide.md",)
)


def test_each_landed_commit_carries_its_tasks_provenance_and_integrating_again_changes_nothing(
    tmp_path: Path,
) -> None:
    repo = track_repo(tmp_path / "r", TWO, config=ANY_VERDICT)
    base = _rev(repo, "main")
    assert swarm(repo, "implement", "t").exit_code == 0
    landed = _rev(repo, "main")

    assert _subjects(repo, f"{base}..main") == ["T02: docs", "T01: api"]
    trailers = git(repo, "log", "-1", "--format=%(trailers)", "main~1").stdout.strip()
    assert trailers.splitlines() == [
        "Swarm-Track: t",
        "Swarm-Task: T01",
        "Swarm-Touches: src/api.py",
        "Swarm-Agent: script",
        "Swarm-Model: none",
        "Swarm-Tokens: 0",
        "Swarm-Cost-USD: 0.0000",
        "Swarm-Attempts: 1",
    ]
    # The recipe the README gives: from a line to its task.
    blamed = git(repo, "blame", "--porcelain", "-L1,1", "main", "--", "docs/guide.md").stdout.split()[0]
    task = git(repo, "log", "-1", "--format=%(trailers:key=Swarm-Task,valueonly)", blamed).stdout.strip()
    assert task == "T02" and (repo / f"swarm/tracks/t/reports/{task}.md").exists()

    again = swarm(repo, "integrate", "t")  # a resumed or repeated integration lands the same commits
    assert again.exit_code == 0, again.output
    assert _rev(repo, "swarm/t/integration") == landed == _rev(repo, "main")
    assert "advanced main: up-to-date" in again.output


def test_history_squash_lands_one_commit_for_the_whole_track(tmp_path: Path) -> None:
    repo = track_repo(tmp_path / "r", TWO, config=ANY_VERDICT + '[integrate]\nhistory = "squash"\n')
    base = _rev(repo, "main")
    assert swarm(repo, "implement", "t").exit_code == 0

    assert _parents(repo, "main") == [base]
    message = git(repo, "log", "-1", "--format=%B", "main").stdout
    assert message.startswith("swarm(t): 2 task(s)\n\n- T01: api\n- T02: docs\n\n")
    assert git(repo, "log", "-1", "--format=%(trailers:key=Swarm-Task,valueonly)", "main").stdout.split() == [
        "T01",
        "T02",
    ]
    assert git(repo, "show", "main:docs/guide.md").stdout == "hi\n"
    assert git(repo, "show", "main:src/api.py").stdout == "x = 1\n"

    bad = swarm(repo, "integrate", "t", "--no-advance")
    assert bad.exit_code == 0  # the config is read each time; a bad value is exit 2:
    write(repo, ".swarm.toml", '[integrate]\nhistory = "rebase"\n')
    assert swarm(repo, "integrate", "t").exit_code == 2
