"""`git swarm implement` end to end: real worktrees, real hook, script agents, real merges."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from tests.attacks import MODES, config
from tests.gitutil import git
from tests.swarmrepo import barrier, swarm, task_md, track_repo

UNFENCED = '[agent]\nsandbox = "off"\n'


def _events(repo: Path, track: str = "t") -> list[tuple[float, str, str | None, str]]:
    db = repo / ".git" / "swarm" / "state.db"
    with sqlite3.connect(db) as conn:
        return list(
            conn.execute("SELECT ts, kind, task, message FROM events WHERE track=? ORDER BY id", (track,))
        )


def _intervals(repo: Path) -> dict[str, tuple[float, float]]:
    starts: dict[str, float] = {}
    spans: dict[str, tuple[float, float]] = {}
    for ts, kind, task, _ in _events(repo):
        if kind == "running" and task:
            starts[task] = ts
        elif kind in ("done", "failed") and task in starts:
            spans[task] = (starts[task], ts)
    return spans


def _overlap(a: tuple[float, float], b: tuple[float, float]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def _commits(repo: Path, rev_range: str) -> list[str]:
    return git(repo, "log", "--format=%s", rev_range).stdout.split("\n")[:-1]


# T02, T03 and T04 become ready together: each waits for the other two (`barrier`), so the
# run only passes if they really run at the same time.
MEET = barrier("T02", "T03", "T04")
PLAN = (
    task_md("T01", "explore", touches="read-only", runs=("true",))
    + task_md(
        "T02",
        "api",
        deps="T01",
        touches="`src/api/`",
        runs=("mkdir -p src/api && echo 'def get(): pass' > src/api/get.py", MEET),
    )
    + task_md(
        "T03",
        "db",
        deps="T01",
        touches="`src/db/`",
        runs=("mkdir -p src/db && echo 'conn = None' > src/db/conn.py", MEET),
    )
    + task_md(
        "T04",
        "ui",
        deps="T01",
        touches="`src/ui/`",
        runs=("mkdir -p src/ui && echo 'view = 1' > src/ui/view.py", MEET),
    )
    + task_md(
        "T05",
        "api auth",
        deps="T01",
        touches="`src/api/auth.py`",
        runs=("test -f src/api/get.py && echo 'auth = 1' > src/api/auth.py",),
    )
    + task_md(
        "T06",
        "wire",
        deps="T02, T03",
        touches="`src/app.py`",
        runs=("test -f src/api/get.py && test -f src/db/conn.py && echo 'x = 2' > src/app.py",),
    )
    + task_md("T07", "docs", deps="T04", touches="`docs/`", runs=("mkdir -p docs && echo hi > docs/ui.md",))
)


def test_tasks_run_in_parallel_on_their_own_branches(tmp_path: Path) -> None:
    # Gates are judged in their own tests; here any verdict lets main advance.
    repo = track_repo(tmp_path / "r", PLAN, config=config("auto", parallel=3))
    base = git(repo, "rev-parse", "HEAD").stdout.strip()
    result = swarm(repo, "implement", "t")
    assert result.exit_code == 0, result.output
    spans = _intervals(repo)
    assert set(spans) == {f"T0{i}" for i in range(1, 8)}
    # T02, T03 and T04 passed their barrier: they ran at the same time (see MEET).
    # T05 overlaps T02 on src/api/: never at once, and T05 was lock-ordered after T02.
    assert not _overlap(spans["T02"], spans["T05"])
    assert spans["T05"][0] >= spans["T02"][1]
    # Each branch holds exactly its task's commit on top of its start point.
    assert _commits(repo, f"{base}..swarm/t/T03") == ["T03: db"]
    assert _commits(repo, f"{base}..swarm/t/T07")[0] == "T07: docs"
    assert git(repo, "show", "swarm/t/T05:src/api/get.py").stdout == "def get(): pass\n"
    files = git(repo, "diff", "--name-only", "swarm/t/T05~1", "swarm/t/T05").stdout.split()
    assert files == ["src/api/auth.py"]
    status = json.loads(swarm(repo, "status", "t", "--json").output)
    assert {t["id"]: t["status"] for t in status["tasks"]} == {f"T0{i}": "done" for i in range(1, 8)}
    table = swarm(repo, "status", "t").output
    # Tasks that started after others were done took over their worktrees (the pool).
    kept = [Path(t["worktree"]).name for t in status["tasks"] if t["worktree"]]
    assert "WORKTREE" in table and 1 <= len(kept) < 7
    assert all(f"../r.swarm-worktrees/t/{name}" in table for name in kept)
    plan_text = (repo / "swarm/tracks/t/plan.md").read_text()
    assert plan_text.count("- [x] **T0") == 7
    # The main branch advanced to the integration and holds every task's work.
    assert git(repo, "show", "main:src/app.py").stdout == "x = 2\n"
    assert git(repo, "show", "main:docs/ui.md").stdout == "hi\n"


@pytest.mark.parametrize("mode", MODES)
def test_independent_tasks_run_at_the_same_time(tmp_path: Path, mode: str) -> None:
    """Four independent tasks, four slots: each waits until all four have arrived. Run one
    after another, the first would wait in vain and fail; fenced, each still writes only its
    own folder."""
    ids = ("T01", "T02", "T03", "T04")
    plan = "".join(
        task_md(
            tid,
            f"part {tid}",
            touches=f"`src/{tid}.py`",
            runs=(f"echo 'part = 1' > src/{tid}.py", barrier(*ids)),
        )
        for tid in ids
    )
    repo = track_repo(tmp_path / "r", plan, config=config(mode, parallel=4))
    result = swarm(repo, "implement", "t")
    assert result.exit_code == 0, result.output
    assert all(git(repo, "show", f"main:src/{tid}.py").stdout == "part = 1\n" for tid in ids)


def test_a_dependent_starts_while_an_unrelated_task_still_runs(tmp_path: Path) -> None:
    """Continuous dispatch, no waves: T02 (after the quick T01) starts while T03, started with
    T01, still runs; T03 only ends once T02 has arrived, so a dispatcher that waited for T01's
    whole batch before starting T02 would fail T03."""
    plan = (
        task_md("T01", "quick", touches="`src/a.py`", runs=("echo 'a = 1' > src/a.py",))
        + task_md(
            "T02",
            "after the quick one",
            deps="T01",
            touches="`src/b.py`",
            runs=(barrier(), "echo 'b = 1' > src/b.py"),
        )
        + task_md("T03", "long", touches="`src/c.py`", runs=(barrier("T02"), "echo 'c = 1' > src/c.py"))
    )
    repo = track_repo(tmp_path / "r", plan, config=config("auto"))
    result = swarm(repo, "implement", "t")
    assert result.exit_code == 0, result.output
    assert git(repo, "show", "main:src/c.py").stdout == "c = 1\n"


def test_hook_refuses_out_of_scope_commit_and_branch_check_catches_no_verify(tmp_path: Path) -> None:
    plan = (
        task_md(
            "T01",
            "sneaky",
            touches="`src/a.py`",
            runs=("echo a > src/a.py && echo b > README.md && git add -A && git commit -qm sneaky",),
        )
        + task_md(
            "T02",
            "no verify",
            touches="`src/b.py`",
            runs=("echo b > src/b.py && echo c > README.md && git add -A && git commit -qm nv --no-verify",),
        )
        + task_md(
            "T03",
            "rename out",
            touches="`src/app.py`",
            runs=("git mv src/app.py other.py && git commit -qm mv --no-verify",),
        )
        + task_md(
            "T04",
            "delete out",
            touches="`src/c.py`",
            runs=("git rm -q README.md && git commit -qm rm --no-verify",),
        )
    )
    repo = track_repo(tmp_path / "r", plan, config=UNFENCED)  # agents commit: see test_fence.py
    result = swarm(repo, "implement", "t")
    assert result.exit_code == 1
    out = result.output
    assert "T01 failed" in out and "commit refused" in (repo / "swarm/tracks/t/logs/T01.log").read_text()
    status = {t["id"]: t for t in json.loads(swarm(repo, "status", "t", "--json").output)["tasks"]}
    assert all(status[t]["status"] == "failed" for t in ("T01", "T02", "T03", "T04"))
    assert "README.md" in status["T02"]["reason"]
    assert "other.py" in status["T03"]["reason"]
    assert "README.md" in status["T04"]["reason"]
    # Nothing outside touches reached main.
    assert git(repo, "show", "main:README.md").stdout == "# r\n"


def test_failed_task_blocks_dependents_and_names_the_reason(tmp_path: Path) -> None:
    plan = task_md(
        "T01", "breaks", touches="`src/a.py`", runs=("echo partial > src/a.py", "echo boom >&2; exit 3")
    ) + task_md("T02", "after", deps="T01", touches="`src/b.py`", runs=("true",))
    repo = track_repo(tmp_path / "r", plan)
    result = swarm(repo, "implement", "t")
    assert result.exit_code == 1
    assert "T01 failed" in result.output and "boom" in result.output
    assert "T02 blocked" in result.output and "T01" in result.output
    # The failed task's partial work is kept on its branch.
    assert git(repo, "show", "swarm/t/T01:src/a.py").stdout == "partial\n"


def test_second_orchestrator_on_a_running_track_refuses(tmp_path: Path) -> None:
    import os
    import socket

    from swarmgit.store.state import Store

    repo = track_repo(tmp_path / "r", task_md("T01", "x", touches="`src/a.py`", runs=("true",)))
    with Store.open(repo / ".git") as store:
        store.ensure_track(
            "t",
            base_commit=git(repo, "rev-parse", "HEAD").stdout.strip(),
            target_branch="main",
            plan_path="swarm/tracks/t/plan.md",
        )
        assert store.claim("t", os.getppid(), socket.gethostname())
    result = swarm(repo, "implement", "t")
    assert result.exit_code == 2
    assert "already being run" in result.output


def test_task_needing_user_input_waits_then_runs_attached_to_the_terminal(tmp_path: Path) -> None:
    import subprocess
    import sys

    plan = task_md(
        "T01",
        "ask",
        touches="`src/answer.txt`",
        runs=('read answer && echo "$answer" > src/answer.txt',),
        extra="  - **Needs user input:** true",
    )
    repo = track_repo(tmp_path / "r", plan)
    waiting = swarm(repo, "implement", "t")  # no terminal here: the task waits
    assert waiting.exit_code == 1 and "git swarm run T01" in waiting.output
    status = json.loads(swarm(repo, "status", "t", "--json").output)
    assert status["tasks"][0]["status"] == "needs-input"
    done = subprocess.run(
        [sys.executable, "-m", "swarmgit", "run", "T01"],
        cwd=repo,
        input="forty-two\n",
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert git(repo, "show", "swarm/t/T01:src/answer.txt").stdout == "forty-two\n"


def test_implement_on_a_detached_head_without_a_target_refuses_before_running(tmp_path: Path) -> None:
    repo = track_repo(
        tmp_path / "r", task_md("T01", "x", touches="`src/a.py`", runs=("echo A=1 > src/a.py",))
    )
    git(repo, "checkout", "-q", "--detach")
    result = swarm(repo, "implement", "t")
    assert result.exit_code == 2 and "integrate.target" in result.output
    assert git(repo, "branch", "--list", "swarm/t/T01").stdout == ""  # nothing ran


def test_edits_to_plan_md_during_a_run_are_kept(tmp_path: Path) -> None:
    plan = task_md(
        "T01",
        "edits the plan like a user would",
        touches="`src/a.py`",
        runs=(
            "printf '\\n%s-%s\\n' user-note mid-run >> \"$SWARM_REPO_ROOT/swarm/tracks/t/plan.md\"",
            "echo 'A = 1' > src/a.py",
        ),
    ) + task_md("T02", "after", deps="T01", touches="`src/b.py`", runs=("echo 'B = 1' > src/b.py",))
    # The unfenced script agent stands in for the user (a fenced agent cannot write plan.md).
    repo = track_repo(tmp_path / "r", plan, config="[gates]\nthreshold = 0.0\n" + UNFENCED)
    assert swarm(repo, "implement", "t").exit_code == 0
    text = (repo / "swarm/tracks/t/plan.md").read_text()
    assert "user-note-mid-run" in text  # the command spells it apart
    assert "- [x] **T01**" in text and "- [x] **T02**" in text


def test_plan_md_follows_the_run_while_a_long_task_still_runs(tmp_path: Path) -> None:
    """Views are written at most once per interval, but never left stale while the loop
    waits: T01 (still running, so no event of its own wakes the loop) sees T02 done."""
    wait_for_t02 = (
        "for i in $(seq 300); do grep -q '^- \\[x\\] \\*\\*T02' "
        '"$SWARM_REPO_ROOT/swarm/tracks/t/plan.md" && exit 0; sleep 0.1; done; exit 1'
    )
    plan = task_md(
        "T01", "waits for T02 to show as done", touches="read-only", runs=(wait_for_t02,)
    ) + task_md("T02", "quick", touches="`src/b.py`", runs=("echo 'B = 1' > src/b.py",))
    repo = track_repo(tmp_path / "r", plan, config="[gates]\nthreshold = 0.0\n")
    result = swarm(repo, "implement", "t")
    assert result.exit_code == 0, result.output
    text = (repo / "swarm/tracks/t/plan.md").read_text()
    assert "- [x] **T01**" in text and "- [x] **T02**" in text
