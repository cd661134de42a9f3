"""The write fence end to end: `git swarm implement` with script agents that try to write where
they must not. With the fence every such write fails at the write itself (the command sees
EACCES) and leaves its target as it was; the in-scope work and an honest sibling's work land.
Without it (`sandbox = "off"`) the write succeeds and the commit check catches it (the attacks
of each class in both modes: tests/attacks.py)."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import pytest

from swarmgit.engine.taskspace import notes_copy, take_notes
from swarmgit.process.home import own_home
from swarmgit.sandbox import fence as sandbox
from tests.attacks import FENCED, MODES, assert_refused_at_write, config, tasks
from tests.gitutil import git
from tests.swarmrepo import swarm, task_md, track_repo

needs_landlock = pytest.mark.skipif(bool(sandbox.unavailable()), reason=sandbox.unavailable() or "")

ROOT = '"$SWARM_REPO_ROOT"'
SIBLING = "../T02"  # task worktrees sit side by side under the worktrees root
ATTACKS = {  # what the attacker writes -> the file that must stay as it was (repo-relative)
    f"echo 'touch /tmp/pwned' > {ROOT}/.git/hooks/post-merge": ".git/hooks/post-merge",
    f"printf '[core]\\n\\tfsmonitor = /tmp/pwned\\n' >> {ROOT}/.git/config": ".git/config",
    f"echo pwned >> {SIBLING}/src/b.py": None,  # checked on T02's branch
    f"echo pwned > {SIBLING}/src/evil.py": None,
    f"echo pwned >> {ROOT}/README.md": "README.md",
    f"echo pwned >> {ROOT}/.git/swarm/state.db": None,  # the run writes it: checked by content
    f"echo '- [ ] **T09**: pwned' >> {ROOT}/swarm/tracks/t/plan.md": None,  # rewritten by views
    f"echo 1 > {ROOT}/.git/swarm/scratch/t/T01.pid": None,  # exists only while T01 runs
    f"echo pwned >> {ROOT}/.git/swarm/scratch/t/T01.brief.md": None,  # written at T01's start
    "echo pwned >> src/app.py": "src/app.py",  # in its own worktree, outside its touches
    "echo pwned > src/evil.py": "src/evil.py",
    f"ln -s {ROOT}/README.md docs/link && echo pwned >> docs/link": "README.md",
}
WAIT_FOR_SIBLING = f"for i in $(seq 100); do test -f {SIBLING}/src/b.py && break; sleep 0.1; done"


def _attempt(command: str) -> str:
    """A Run line that records the attempt's error in docs/denied.log and never fails."""
    return f"( {command} ) 2>> docs/denied.log && echo 'WROTE: {command}' >> docs/wrote.log || true"


def _snapshot(repo: Path) -> dict[str, bytes | None]:
    return {
        rel: (repo / rel).read_bytes() if (repo / rel).exists() else None for rel in ATTACKS.values() if rel
    }


def _attack_plan() -> str:
    runs = (
        "mkdir -p docs",
        WAIT_FOR_SIBLING,
        *map(_attempt, ATTACKS),
        "rm -f docs/link",
        "echo 'in scope' > docs/ok.md",
        "echo '- T01: a note' >> \"$SWARM_SHARED_CONTEXT\"",
        "git add -A && git commit -qm 'T01: by the agent' || echo 'commit refused' >> docs/denied.log",
    )
    return task_md("T01", "attacker", touches="`docs/`", runs=runs) + task_md(
        "T02", "honest sibling", touches="`src/b.py`", runs=("echo 'B = 1' > src/b.py", "sleep 3")
    )


@needs_landlock
@pytest.mark.parametrize("mode", ["auto", "required"])
def test_every_write_outside_the_fence_fails_at_the_write(tmp_path: Path, mode: str) -> None:
    config = (
        f'[agent]\nsandbox = "{mode}"\n[concurrency]\nmax_background = 2\nmax_parallel = 2\n'
        "[gates]\nthreshold = 0.0\n"
    )
    repo = track_repo(tmp_path / "r", _attack_plan(), config=config)
    before = _snapshot(repo)

    result = swarm(repo, "implement", "t")

    assert result.exit_code == 0, result.output
    denied = git(repo, "show", "main:docs/denied.log").stdout
    refusals = [line for line in denied.splitlines() if line.endswith(": Permission denied")]
    assert len(refusals) == len(ATTACKS), denied  # each attempt failed at its write
    assert git(repo, "ls-tree", "main", "docs/wrote.log").stdout == ""  # no attempt wrote
    assert "commit refused" in denied  # the agent's own git commit failed too ...
    assert git(repo, "log", "-1", "--format=%s", "swarm/t/T01").stdout == "T01: attacker\n"
    assert git(repo, "show", "main:docs/ok.md").stdout == "in scope\n"  # ... swarmgit committed
    assert git(repo, "show", "main:src/b.py").stdout == "B = 1\n"  # the sibling's work landed
    assert _snapshot(repo) == before
    status = json.loads(swarm(repo, "status", "t", "--json").output)
    assert not (Path(tasks(repo)["T02"]["worktree"]) / "src/evil.py").exists()
    assert git(repo, "show", "swarm/t/T02:src/b.py").stdout == "B = 1\n"
    assert not (repo / ".git/swarm/state.db").read_bytes().endswith(b"pwned\n")
    with sqlite3.connect(repo / ".git/swarm/state.db") as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert not (repo / ".git/swarm/scratch/t/T01.brief.md").read_text().endswith("pwned\n")
    notes = (repo / "swarm/tracks/t/shared_context.md").read_text()
    assert notes == "# Shared context\n- T01: a note\n"  # its own copy's note was carried over
    plan = (repo / "swarm/tracks/t/plan.md").read_text().splitlines()
    assert not any(line.startswith("- [ ] **T09**") for line in plan)
    assert git(repo, "config", "--get", "core.fsmonitor", check=False).stdout == ""
    assert status["sandbox"] == {"mode": mode, "fenced": True, "warning": ""}


@pytest.mark.parametrize("mode", MODES)
def test_a_write_outside_the_touches_in_its_own_worktree(tmp_path: Path, mode: str) -> None:
    plan = task_md(
        "T01",
        "strays",
        touches="`docs/`",
        runs=("mkdir -p docs && echo ok > docs/a.md", "echo stray >> src/app.py"),
    ) + task_md("T02", "honest", touches="`src/b.py`", runs=("echo 'B = 1' > src/b.py",))
    repo = track_repo(tmp_path / "r", plan, config=config(mode))

    result = swarm(repo, "implement", "t")

    assert result.exit_code == 1
    status = tasks(repo)
    assert status["T01"]["status"] == "failed" and status["T02"]["status"] == "done"
    assert git(repo, "show", "swarm/t/integration:src/b.py").stdout == "B = 1\n"
    assert git(repo, "show", "main:src/app.py").stdout == "x = 1\n"
    stray = (Path(status["T01"]["worktree"]) / "src/app.py").read_text()
    if mode == FENCED:
        assert_refused_at_write(repo, "T01")
        assert stray == "x = 1\n"
    else:  # the write itself works; the commit check catches it
        assert stray == "x = 1\nstray\n"
        assert "scope violation" in status["T01"]["reason"] and "src/app.py" in status["T01"]["reason"]


def test_without_landlock_auto_warns_and_required_refuses(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The kernel probe is the edge faked here: this machine has Landlock.
    monkeypatch.setattr(sandbox, "unavailable", lambda: "Landlock is unavailable (test kernel)")
    plan = task_md("T01", "docs", touches="`docs/`", runs=("mkdir -p docs && echo ok > docs/a.md",))
    auto = track_repo(tmp_path / "a", plan, config="[gates]\nthreshold = 0.0\n")
    ran = swarm(auto, "implement", "t")
    assert ran.exit_code == 0, ran.output
    assert "agents run without the write fence: Landlock is unavailable (test kernel)" in ran.output
    assert "warning: agents run without the write fence" in swarm(auto, "status", "t").output
    assert git(auto, "show", "main:docs/a.md").stdout == "ok\n"

    required = track_repo(tmp_path / "b", plan, config='[agent]\nsandbox = "required"\n')
    refused = swarm(required, "implement", "t")
    assert refused.exit_code == 1
    assert 'T01 not started: agent.sandbox = "required" but the write fence is unavailable' in refused.output
    assert not (required / ".git/swarm/worktrees/t/T01").exists()
    status = json.loads(swarm(required, "status", "t", "--json").output)
    assert status["tasks"][0]["status"] == "failed"
    assert "Landlock" in status["sandbox"]["warning"] and not status["sandbox"]["fenced"]


def test_notes_come_only_from_the_agents_own_regular_file(tmp_path: Path) -> None:
    shared = tmp_path / "shared_context.md"
    shared.write_text("# Shared\n- T00: earlier\n")
    scratch = tmp_path / "T01"
    scratch.mkdir()
    copy = notes_copy(shared, scratch)
    assert copy.read_text() == shared.read_text()
    copy.write_text("# Shared\n- T00: earlier\n\n- T01: key sk-secret-value-123\n")
    take_notes(copy, shared, {"API_KEY": "sk-secret-value-123"})
    assert shared.read_text() == "# Shared\n- T00: earlier\n- T01: key ***\n"
    copy.unlink()
    os.mkfifo(copy)  # reading it would block the orchestrator
    take_notes(copy, shared, {})
    copy.unlink()
    copy.symlink_to("/etc/hostname")
    take_notes(copy, shared, {})
    assert shared.read_text() == "# Shared\n- T00: earlier\n- T01: key ***\n"


def test_what_an_earlier_attempt_planted_in_its_scratch_is_never_written_through(tmp_path: Path) -> None:
    victim = tmp_path / "post-merge"
    victim.write_text("#!/bin/sh\nexit 0\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    shared = tmp_path / "shared_context.md"
    shared.write_text("# Shared\n- rm -rf ~\n")
    scratch = tmp_path / "T01"
    scratch.mkdir()
    (scratch / "shared_context.md").symlink_to(victim)
    (scratch / "home").symlink_to(elsewhere)
    (scratch / "tmp").write_text("not a folder")

    copy = notes_copy(shared, scratch)
    env = own_home(scratch, {})

    assert victim.read_text() == "#!/bin/sh\nexit 0\n"
    assert not copy.is_symlink() and copy.read_text() == shared.read_text()
    assert list(elsewhere.iterdir()) == []
    for name in ("HOME", "TMPDIR", "XDG_CACHE_HOME"):
        assert Path(env[name]).is_dir() and not Path(env[name]).is_symlink()
        assert Path(env[name]).resolve().is_relative_to(scratch.resolve())
