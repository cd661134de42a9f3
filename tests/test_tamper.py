"""An agent that plants code in the repository's git files: hooks, config, filters, fsmonitor.

Each attack is a real script task run by `git swarm implement` next to an honest task, in both
fence modes (tests/attacks.py). Fenced, the plant fails at the write and the git files stay as
they were. Unfenced, the plant lands and is caught after the agent ends: the attacker fails
naming what changed, the target does not advance. Either way the planted code never runs and the
honest task's work reaches the integration branch. `integrate --accept-repo-changes` is the way
out once the user has looked.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.attacks import FENCED, MODES, UNFENCED, assert_contained, assert_refused_at_write, config, tasks
from tests.gitutil import git
from tests.swarmrepo import swarm, task_md, track_repo

CONFIG = config(UNFENCED)
# Unfenced, the honest task ends after the attacker (it waits for the attacker's last step, then a
# little more), so the plant is blamed on the attacker alone.
HONEST = task_md(
    "T02",
    "honest",
    touches="`src/b.py`",
    runs=(
        'for i in $(seq 600); do [ -f "$SWARM_REPO_ROOT/../attacker-done" ] && break; sleep 0.1; done',
        "sleep 0.5",
        "echo 'B = 1' > src/b.py",
    ),
)
HONEST_FENCED = task_md("T02", "honest", touches="`src/b.py`", runs=("echo 'B = 1' > src/b.py",))
DONE = 'touch "$SWARM_REPO_ROOT/../attacker-done"'
COMMON = '"$SWARM_REPO_ROOT/.git"'


def _planted(markers: Path) -> str:
    """A shell snippet writing an executable script at $P that leaves a marker when run."""
    return f'printf \'#!/bin/sh\\ntouch {markers}/ran-$$\\ncat\\n\' > "$P" && chmod +x "$P"'


ATTACKS = {
    "post-merge hook": (f"P={COMMON}/hooks/post-merge && {{plant}}", ".git/hooks/post-merge (added)"),
    "pre-commit replaced": (f"P={COMMON}/hooks/pre-commit && {{plant}}", ".git/hooks/pre-commit (modified)"),
    "fsmonitor": (
        'P="$SWARM_REPO_ROOT/../fsm.sh" && {plant} && git config core.fsmonitor "$P"',
        ".git/config (modified)",
    ),
    "smudge filter": (
        'P="$SWARM_REPO_ROOT/../smudge.sh" && {plant} && git config filter.x.smudge "$P" && '
        "mkdir -p docs && echo '* filter=x' > docs/.gitattributes",
        ".git/config (modified)",
    ),
    "hooksPath": (
        'mkdir -p "$SWARM_REPO_ROOT/../evil" && P="$SWARM_REPO_ROOT/../evil/pre-commit" && {plant} '
        '&& git config core.hooksPath "$SWARM_REPO_ROOT/../evil"',
        ".git/config (modified)",
    ),
}


def _repo(tmp_path: Path, attack: str, mode: str = UNFENCED) -> tuple[Path, Path]:
    markers = tmp_path / "markers"
    markers.mkdir()
    script = attack.format(plant=_planted(markers))
    fenced = mode == FENCED
    runs = (script, "mkdir -p docs && echo hi > docs/a.md", *(() if fenced else (DONE,)))
    plan = task_md("T01", "attacker", touches="`docs/`", runs=runs)
    honest = HONEST_FENCED if fenced else HONEST
    return track_repo(tmp_path / "r", plan + honest, config=config(mode)), markers


def _git_files(repo: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(repo)): p.read_bytes()
        for p in [repo / ".git/config", *sorted((repo / ".git/hooks").iterdir())]
    }


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", sorted(ATTACKS))
def test_planted_git_files_fail_at_the_write_or_fail_the_task_and_hold_the_target(
    tmp_path: Path, name: str, mode: str
) -> None:
    attack, named = ATTACKS[name]
    repo, markers = _repo(tmp_path, attack, mode)
    main_before = git(repo, "rev-parse", "main").stdout
    git_files = _git_files(repo)
    result = swarm(repo, "implement", "t")
    assert result.exit_code == 1, result.output
    status = tasks(repo)
    assert status["T01"]["status"] == "failed"
    assert status["T02"]["status"] == "done"
    assert git(repo, "show", "swarm/t/integration:src/b.py").stdout == "B = 1\n"
    assert git(repo, "ls-tree", "-r", "--name-only", "swarm/t/integration", "docs").stdout == ""
    assert git(repo, "rev-parse", "main").stdout == main_before  # a task failed: no advance
    assert_contained(repo, ["src/b.py"])
    assert list(markers.iterdir()) == []
    if mode == FENCED:
        assert_refused_at_write(repo, "T01")
        assert status["T01"]["reason"].startswith("command failed")
        assert _git_files(repo) == git_files
        return
    assert "git files changed while T01 ran" in status["T01"]["reason"] and named in status["T01"]["reason"]
    assert "--accept-repo-changes" in result.output and "main not advanced" in result.output
    assert (
        "hold on the advance (T01): the repository's git files changed" in swarm(repo, "status", "t").output
    )


# The tests below need the plant to land, so they run unfenced (as without Landlock).


def test_the_user_accepts_after_inspecting_and_the_honest_work_lands(tmp_path: Path) -> None:
    repo, markers = _repo(tmp_path, ATTACKS["post-merge hook"][0])
    assert swarm(repo, "implement", "t").exit_code == 1
    held = swarm(repo, "integrate", "t")
    assert held.exit_code == 1 and "git files changed while T01 ran" in held.output
    (repo / ".git/hooks/post-merge").unlink()  # the user looked, and removed it
    accepted = swarm(repo, "integrate", "t", "--accept-repo-changes", "--partial")
    assert accepted.exit_code == 0, accepted.output
    assert ".git/hooks/post-merge (added)" in accepted.output
    assert git(repo, "show", "main:src/b.py").stdout == "B = 1\n"
    assert git(repo, "ls-tree", "-r", "--name-only", "main", "docs").stdout == ""
    assert list(markers.iterdir()) == []


def test_a_new_run_starts_nothing_while_a_hold_waits(tmp_path: Path) -> None:
    plan = task_md(
        "T01",
        "attacker",
        touches="`docs/`",
        runs=(f"mkdir -p {COMMON}/info && echo x >> {COMMON}/info/exclude",),
    ) + task_md("T03", "later", touches="`src/c.py`", runs=("echo c > src/c.py",))
    repo = track_repo(tmp_path / "r", plan, config=config(UNFENCED, parallel=1))
    first = swarm(repo, "implement", "t")
    assert first.exit_code == 1 and ".git/info/exclude (added)" in first.output
    assert "T03 waiting" in first.output
    again = swarm(repo, "implement", "t")
    assert again.exit_code == 1 and "--accept-repo-changes" in again.output
    assert git(repo, "branch", "--list", "swarm/t/T03").stdout == ""


def test_a_change_made_by_an_agent_orphaned_by_a_crash_is_caught_on_resume(tmp_path: Path) -> None:
    repo = track_repo(
        tmp_path / "r",
        task_md("T01", "x", touches="`docs/`", runs=("mkdir -p docs && echo d > docs/a",)),
        config=CONFIG,
    )
    assert (
        swarm(
            repo,
            "implement",
            "t",
        ).exit_code
        == 0
    )
    # As if the orchestrator had died while T01 ran, and T01's agent wrote a hook meanwhile.
    with sqlite3.connect(repo / ".git/swarm/state.db") as db:
        db.execute("UPDATE tasks SET status = 'running' WHERE id = 'T01'")
    hook = repo / ".git/hooks/post-merge"
    hook.write_text("#!/bin/sh\nexit 0\n")
    resumed = swarm(repo, "resume", "t")
    assert resumed.exit_code == 1
    assert "T01 failed: the repository's git files changed while T01 ran" in resumed.output
    assert ".git/hooks/post-merge (added)" in resumed.output
