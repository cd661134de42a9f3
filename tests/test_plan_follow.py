"""The run state follows plan.md, and every view shows only what exists: a task removed from
the plan is retired (its branch and worktree kept), an empty plan is refused, and `status`
shows a failure's paths, removed branches and worktrees, and locks only where they are held.
Real repos, the real hook, script agents, `git swarm` through the CLI."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.gitutil import git, write
from tests.swarmrepo import swarm, task_md, track_repo

GATES_OFF = "[gates]\nthreshold = 0.0\n"
UNFENCED = '[agent]\nsandbox = "off"\n'  # the write lands; the scope check after the agent fails it


def _status(repo: Path) -> dict[str, Any]:
    result = swarm(repo, "status", "t", "--json")
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.output)
    return data


def _branches(repo: Path) -> set[str]:
    return set(git(repo, "for-each-ref", "--format=%(refname:short)", "refs/heads/").stdout.split())


ONE = task_md("T01", "one", touches="`src/a.py`", runs=("echo a > src/a.py",))
ASKS = task_md(
    "T02", "asks", touches="`src/b.py`", runs=("echo b > src/b.py",), extra="  - **Needs user input:** true"
)
BREAKS = task_md("T03", "breaks", touches="`src/c.py`", runs=("echo c > src/c.py", "exit 1"))


def test_a_task_removed_from_the_plan_is_retired_and_every_command_agrees(tmp_path: Path) -> None:
    repo = track_repo(tmp_path / "r", ONE + ASKS + BREAKS, config=GATES_OFF)
    first = swarm(repo, "implement", "t")
    assert first.exit_code == 1, first.output
    worktree = Path(_status(repo)["tasks"][2]["worktree"])
    assert worktree.is_dir() and "swarm/t/T03" in _branches(repo)

    # The user drops the task that waits for them: implement carries on without it.
    write(repo, "swarm/tracks/t/plan.md", "# Plan\n\n" + ONE + BREAKS)
    second = swarm(repo, "implement", "t")  # was: "unexpected KeyError" (exit 3)
    assert second.exit_code == 1 and "unexpected" not in second.output, second.output
    assert "T02 retired: it is no longer in plan.md (was needs-input)" in second.output
    assert "track t: 1/2 tasks done" in second.output and "T02" not in second.output.split("retired")[-1]
    # Then the one that failed: integrate no longer waits for it.
    write(repo, "swarm/tracks/t/plan.md", "# Plan\n\n" + ONE)
    integrated = swarm(repo, "integrate", "t")
    assert integrated.exit_code == 0, integrated.output
    assert "T03 retired: it is no longer in plan.md (was failed); its branch swarm/t/T03" in integrated.output
    assert git(repo, "show", "main:src/a.py").stdout == "a\n"
    again = swarm(repo, "implement", "t")
    assert again.exit_code == 0, again.output
    assert "1/1 tasks done" in again.output and "retired" not in again.output  # said once

    # Nothing lost: the retired task's branch and worktree stay.
    assert "swarm/t/T03" in _branches(repo) and (worktree / "src/c.py").read_text() == "c\n"
    data = _status(repo)
    assert [t["id"] for t in data["tasks"]] == ["T01"]
    assert [(t["id"], t["status"], t["branch"]) for t in data["retired"]] == [
        ("T02", "needs-input", None),
        ("T03", "failed", "swarm/t/T03"),
    ]
    line = "retired (no longer in plan.md): T02 (was needs-input), T03 (was failed, branch swarm/t/T03 kept)"
    assert line in swarm(repo, "status", "t").output
    assert line in (repo / "swarm/tracks/t/iosm_state.md").read_text()
    assert "1/1 done" in (repo / "swarm/tracks/t/iosm_state.md").read_text()
    watched = swarm(repo, "watch", "t", "--once").output
    assert "1/1 done" in watched and "retired (no longer in plan.md): T02, T03" in watched
    assert "[failed, retired: no longer in plan.md]" in swarm(repo, "show", "T03", "--track", "t").output
    cleaned = swarm(repo, "clean", "t", "--branches")
    assert (
        cleaned.exit_code == 0
        and f"kept branch swarm/t/T03 and worktree {worktree}: T03 is retired" in cleaned.output
    )
    assert "swarm/t/T03" in _branches(repo) and worktree.is_dir()
    refused = swarm(repo, "retry", "T03", "--track", "t")
    assert refused.exit_code == 2 and "T03 is retired" in refused.output

    # Back in the plan, it is restored with its run state.
    write(repo, "swarm/tracks/t/plan.md", "# Plan\n\n" + ONE + BREAKS)
    back = swarm(repo, "implement", "t")
    assert (
        back.exit_code == 1
        and "T03 restored: it is in plan.md again, and keeps its run state (failed)" in back.output
    )
    assert [t["id"] for t in _status(repo)["tasks"]] == ["T01", "T03"] and _status(repo)["retired"][0][
        "id"
    ] == "T02"


@pytest.mark.parametrize("command", [("plan", "check", "t"), ("simulate", "t"), ("implement", "t")])
def test_an_empty_plan_is_bad_input_naming_the_file_and_a_task_line(
    tmp_path: Path, command: tuple[str, ...]
) -> None:
    repo = track_repo(tmp_path / "r", "Nothing planned yet.\n", config=GATES_OFF)
    result = swarm(repo, *command)
    assert result.exit_code == 2, result.output
    assert "swarm/tracks/t/plan.md: error: the plan has no task" in result.output
    assert "- [ ] **T01**: " in result.output
    assert not (repo / ".git/swarm/state.db").exists() or _status(repo)["tasks"] == []


def test_status_shows_a_failures_paths_only_existing_branches_and_only_held_locks(tmp_path: Path) -> None:
    outside = tuple(f"echo x > src/out{n}.py" for n in range(5))
    plan = (
        ONE
        + task_md("T02", "two", touches="`src/b.py`", runs=("echo b > src/b.py",))
        + task_md("T03", "strays", touches="`src/c.py`", runs=("echo c > src/c.py", *outside))
    )
    repo = track_repo(tmp_path / "r", plan, config=GATES_OFF + UNFENCED)
    assert swarm(repo, "implement", "t").exit_code == 1  # T03 failed: main is held

    table = swarm(repo, "status", "t").output
    lines = table.splitlines()
    reason = lines.index(next(line for line in lines if line.startswith("T03: scope violation")))
    assert lines[reason + 1 : reason + 5] == [
        "  src/out0.py",
        "  src/out1.py",
        "  src/out2.py",
        "  … 2 more line(s): `git swarm status --json` has them",
    ]
    # Done but not integrated (main was held): the lock is held by design, and says so.
    row = {line.split()[0]: line for line in lines[1:4]}
    assert "src/a.py (held until integrated)" in row["T01"]
    assert row["T03"].rstrip().endswith("-")  # failed: holds nothing
    assert _status(repo)["tasks"][2]["locks"] == []

    landed = swarm(repo, "integrate", "t", "--partial")  # T03 stays out; T01 and T02 land
    assert landed.exit_code == 0, landed.output
    assert git(repo, "show", "main:src/b.py").stdout == "b\n"
    integrated = {line.split()[0]: line for line in swarm(repo, "status", "t").output.splitlines()[1:4]}
    assert integrated["T01"].rstrip().endswith("-") and "held" not in integrated["T02"]

    cleaned = swarm(repo, "clean", "t", "--branches")
    assert cleaned.exit_code == 0 and "removed branch swarm/t/T01" in cleaned.output
    data = {t["id"]: t for t in _status(repo)["tasks"]}
    assert (data["T01"]["branch_exists"], data["T01"]["worktree_exists"]) == (False, False)
    assert (data["T03"]["branch_exists"], data["T03"]["worktree_exists"]) == (True, True)
    after = {line.split()[0]: line for line in swarm(repo, "status", "t").output.splitlines()[1:4]}
    assert "swarm/t/T01" not in after["T01"] and after["T01"].split()[2] == "(removed)"
    assert after["T01"].count("(removed)") == 2 and "swarm/t/T03" in after["T03"]
