"""Scope attacks by real script tasks through `git swarm implement`, in both fence modes
(tests/attacks.py): a widened run state, symlinks out of the touches, `..` tree entries, spawn
candidates outside the plan. Nothing outside the attacker's planned touches reaches the
integration branch; the honest sibling's work does."""

from __future__ import annotations

import json
import sqlite3
import sys
from pathlib import Path

import pytest

from tests.attacks import FENCED, MODES, UNFENCED, assert_contained, assert_refused_at_write, config, tasks
from tests.gitutil import git
from tests.swarmrepo import swarm, task_md, track_repo

HONEST = task_md("T02", "honest", touches="`src/b.py`", runs=("echo 'B = 1' > src/b.py",))
FILES = {"README.md": "# r\n", "src/app.py": "x = 1\n", "frontend/a.py": "A = 1\n"}

WIDEN = """
import json, os, sqlite3
db = sqlite3.connect(os.path.join(os.environ["SWARM_REPO_ROOT"], ".git", "swarm", "state.db"))
db.execute("UPDATE tasks SET touches = ? WHERE id = 'T01'", (json.dumps(["docs/", "frontend/"]),))
db.commit()
"""

DOTDOT = """
import subprocess
def obj(kind, data):
    return subprocess.run(["git", "hash-object", "-t", kind, "--literally", "-w", "--stdin"], input=data,
                          stdout=subprocess.PIPE, check=True).stdout.strip().decode()
def tree(entries):
    return obj("tree", b"".join(m + b" " + n + b"\\0" + bytes.fromhex(s) for m, n, s in entries))
blob = obj("blob", b"EVIL = 1\\n")
docs = tree([(b"40000", b"..", tree([(b"40000", b"frontend", tree([(b"100644", b"b.py", blob)]))]))])
listing = subprocess.run(["git", "ls-tree", "HEAD"], capture_output=True, check=True, text=True).stdout
root = [(line.split()[0].encode(), line.split("\\t")[1].encode(), line.split()[2]) for line in listing.splitlines()]
root.append((b"40000", b"docs", docs))
root.sort(key=lambda e: e[1] + (b"/" if e[0] == b"40000" else b""))
commit = subprocess.run(["git", "commit-tree", tree(root), "-p", "HEAD", "-m", "odd tree"],
                        capture_output=True, check=True, text=True).stdout.strip()
subprocess.run(["git", "update-ref", "HEAD", commit], check=True)
"""


def _script(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text)
    return f"{sys.executable} {path}"


def _run(
    tmp_path: Path, attacker: str, mode: str, parallel: int = 2
) -> tuple[Path, dict[str, dict[str, str]]]:
    repo = track_repo(tmp_path / "r", attacker + HONEST, files=FILES, config=config(mode, parallel=parallel))
    result = swarm(repo, "implement", "t")
    assert result.exit_code == 1, result.output
    status = tasks(repo)
    assert status["T02"]["status"] == "done"
    assert git(repo, "show", "swarm/t/integration:src/b.py").stdout == "B = 1\n"
    assert_contained(repo, ["src/b.py"])
    return repo, status


def _integrated(repo: Path, folder: str) -> list[str]:
    return git(repo, "ls-tree", "-r", "--name-only", "swarm/t/integration", folder).stdout.split()


@pytest.mark.parametrize("mode", MODES)
def test_touches_widened_in_the_run_state_do_not_widen_the_scope(tmp_path: Path, mode: str) -> None:
    # The attacker commits by itself after widening: fenced, the first write already fails.
    widen = _script(tmp_path, "widen.py", WIDEN)
    attacker = task_md(
        "T01",
        "widens",
        touches="`docs/`",
        runs=(widen, "echo 'B = 2' > frontend/b.py && git add -A && git commit -qm widened"),
    )
    repo, status = _run(tmp_path, attacker, mode)
    assert status["T01"]["status"] == "failed"
    assert _integrated(repo, "frontend") == ["frontend/a.py"]
    with sqlite3.connect(repo / ".git/swarm/state.db") as db:
        touches = db.execute("SELECT touches FROM tasks WHERE id = 'T01'").fetchone()[0]
    if mode == FENCED:  # the run state is outside the fence: the UPDATE fails, nothing changes
        assert_refused_at_write(repo, "T01", "readonly database")
        assert json.loads(touches) == ["docs/"]
    else:  # the run state was widened, yet the commit is judged by plan.md's touches
        assert json.loads(touches) == ["docs/", "frontend/"]
        assert "frontend/b.py" in status["T01"]["reason"]


def test_the_integrator_rejects_a_task_whose_run_state_touches_differ_from_the_plan(tmp_path: Path) -> None:
    # The rewrite happens after the run, as an unfenced agent of a later task could do it.
    repo = track_repo(
        tmp_path / "r",
        task_md("T01", "docs", touches="`docs/`", runs=("mkdir -p docs && echo d > docs/a.md",)) + HONEST,
        files=FILES,
        config=config(UNFENCED),
    )
    assert (
        swarm(
            repo,
            "implement",
            "t",
        ).exit_code
        == 0
    )
    with sqlite3.connect(repo / ".git/swarm/state.db") as db:
        db.execute("UPDATE tasks SET touches = ? WHERE id = 'T01'", (json.dumps(["docs/", "frontend/"]),))
    again = swarm(repo, "integrate", "t", "--no-advance")
    assert again.exit_code == 1
    assert (
        "T01 not merged: its touches in the run state (docs/, frontend/) differ from plan.md's (docs/)"
        in again.output
    )
    assert _integrated(repo, "docs") == [] and _integrated(repo, "src/b.py") == ["src/b.py"]


@pytest.mark.parametrize("mode", MODES)
def test_symlinks_out_of_the_touches_are_refused_committed_or_not(tmp_path: Path, mode: str) -> None:
    # A symlink inside the touches is a write inside the fence: the scope check refuses it in
    # both modes. The write through it, and the attacker's own commit, only succeed unfenced.
    attacker = task_md(
        "T01",
        "links",
        touches="`docs/`",
        runs=(
            "mkdir -p docs && ln -s ../frontend docs/fe",
            "echo PWNED >> docs/fe/a.py || true",
            "git add -A && git commit -qm link || true",
        ),
    ) + task_md("T03", "links", touches="`notes/`", runs=("mkdir -p notes && ln -s /etc/passwd notes/pw",))
    repo, status = _run(tmp_path, attacker, mode, parallel=3)
    assert status["T01"]["status"] == "failed"
    assert "docs/fe (a symlink to '../frontend', outside its touches)" in status["T01"]["reason"]
    assert status["T03"]["status"] == "failed"
    assert "notes/pw (a symlink to '/etc/passwd', outside the repository)" in status["T03"]["reason"]
    assert _integrated(repo, "docs") == [] and _integrated(repo, "notes") == []
    through = (Path(status["T01"]["worktree"]) / "frontend/a.py").read_text()
    if mode == FENCED:
        assert_refused_at_write(repo, "T01")
        assert through == "A = 1\n"
    else:
        assert through == "A = 1\nPWNED\n"
        assert "frontend/a.py" in status["T01"]["reason"]


@pytest.mark.parametrize("mode", MODES)
def test_tree_entries_with_dot_dot_do_not_pass_as_inside_the_touches(tmp_path: Path, mode: str) -> None:
    # The odd tree is written with git plumbing, so it needs the attacker to commit by itself:
    # fenced, writing the first object fails.
    attacker = task_md("T01", "odd tree", touches="`docs/`", runs=(_script(tmp_path, "dotdot.py", DOTDOT),))
    repo, status = _run(tmp_path, attacker, mode)
    assert status["T01"]["status"] == "failed"
    assert _integrated(repo, "frontend") == ["frontend/a.py"]
    if mode == FENCED:
        assert_refused_at_write(repo, "T01", "insufficient permission for adding an object")
    else:
        assert "docs/../frontend/b.py" in status["T01"]["reason"]


SPAWN_OUT = """\
**Status:** done

## SpawnCandidates

| ID | Subtask | Touches | Effort | User Input | Severity | Dedup Key | Accept Criteria |
|----|---------|---------|--------|------------|----------|-----------|-----------------|
| SC-01 | Rewrite the frontend | `frontend/` | S | false | low | fe | done |
| SC-02 | More docs | `docs/more.md` | S | false | low | more | done |
"""


@pytest.mark.parametrize("mode", MODES)
def test_a_spawn_candidate_outside_the_planned_touches_waits_for_the_user(tmp_path: Path, mode: str) -> None:
    report = tmp_path / "report.md"
    report.write_text(SPAWN_OUT)
    attacker = task_md(
        "T01",
        "asks for more",
        touches="`docs/`",
        runs=(f'cp {report} "$SWARM_REPORT"', "mkdir -p docs && echo d > docs/a.md"),
    )
    repo = track_repo(tmp_path / "r", attacker + HONEST, files=FILES, config=config(mode))
    ran = swarm(repo, "implement", "t")
    # The in-scope candidate ran at once (a script task with no Run: lines changes nothing, so fails).
    assert "task SC-01 spawned: More docs" in ran.output and "SC-01 failed: no change" in ran.output
    plan = (repo / "swarm/tracks/t/plan.md").read_text()
    assert "More docs" in plan and "Rewrite the frontend" not in plan
    listed = swarm(repo, "spawn", "list", "t").output
    assert listed.startswith(
        "fe  [waiting]  Rewrite the frontend  (candidate 1 of T01's report; touches frontend/; touches "
        "frontend/ outside the track's planned touches (docs/, src/b.py))"
    )
    assert git(repo, "show", "swarm/t/integration:src/b.py").stdout == "B = 1\n"
    accepted = swarm(repo, "spawn", "accept", "fe", "--track", "t")
    assert accepted.exit_code == 0 and "Rewrite the frontend" in (repo / "swarm/tracks/t/plan.md").read_text()
