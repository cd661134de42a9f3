"""`git swarm run TASK`: the task asked for starts as soon as its deps are done and its locks
are free, whatever the whole plan's dispatch would start first; or the run says why not."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from swarmgit.domain import priority
from swarmgit.domain.plan_parser import parse_plan
from swarmgit.domain.scheduler import Limits, RunState, Scheduler
from tests.gitutil import git
from tests.swarmrepo import swarm, task_md, track_repo

TWO_SLOTS = "[gates]\nthreshold = 0.0\n[concurrency]\nmax_background = 2\nmax_parallel = 2\n"


def _task(tid: str, effort: str, path: str, *, deps: str = "none") -> str:
    """A task that appends its id to `path`, the one file it touches."""
    md = task_md(tid, f"{tid} writes {path}", deps=deps, touches=f"`{path}`", runs=(f"echo {tid} >> {path}",))
    return md.replace("30min", effort)


def _statuses(repo: Path) -> dict[str, str]:
    result = swarm(repo, "status", "t", "--json")
    assert result.exit_code == 0, result.output
    return {t["id"]: t["status"] for t in json.loads(result.output)["tasks"]}


def _ran(repo: Path, task: str) -> str:
    ran = swarm(repo, "run", task, "--track", "t")
    assert ran.exit_code == 0, ran.output
    assert f"{task} done" in ran.output
    return ran.output


def test_run_starts_a_task_the_plan_holds_back_behind_a_reservation(tmp_path: Path) -> None:
    # With two slots the whole plan holds T3 (src/a.py) back until T1 (src/a.py, on the critical
    # path T0 -> T1 -> T2) has started; `run T3` asks for T3 alone, which runs nothing else.
    plan = (
        _task("T0", "2h", "t0.md")
        + _task("T1", "2h", "src/a.py", deps="T0")
        + _task("T2", "3h", "t2.py", deps="T1")
        + _task("T3", "3h", "src/a.py")
    )
    repo = track_repo(tmp_path / "r", plan, config=TWO_SLOTS)
    _ran(repo, "T3")
    assert git(repo, "show", "swarm/t/T3:src/a.py").stdout == "T3\n"
    assert _statuses(repo) == {"T0": "todo", "T1": "todo", "T2": "todo", "T3": "done"}


def test_run_starts_a_task_the_plan_leaves_out_of_its_narrower_width(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Without reservations the plan's dispatch uses two workers of three, and starts T1 and T0
    # first (T2 would lock b.py away from T3, on the longest chain T1 -> T3 -> T4).
    monkeypatch.setattr(priority, "RESERVE_MAX_TASKS", 0)
    plan = (
        _task("T0", "4h", "t0.md")
        + _task("T1", "1h", "t1.py")
        + _task("T2", "2h", "b.py")
        + _task("T3", "3h", "b.py", deps="T1")
        + _task("T4", "4h", "t4.py", deps="T3")
        + _task("T5", "1h", "t5.py", deps="T1, T3")
    )
    three = Limits(max_background=3, max_foreground=1, max_parallel=3)
    scheduler = Scheduler(parse_plan("# Plan\n\n" + plan))
    assert scheduler.priorities.choice(three).limits.max_parallel == 2
    assert [s.task for s in scheduler.decide(RunState(frozenset(), frozenset()), three)] == ["T1", "T0"]
    config = "[gates]\nthreshold = 0.0\n[concurrency]\nmax_background = 3\nmax_parallel = 3\n"
    repo = track_repo(tmp_path / "r", plan, config=config)
    _ran(repo, "T2")
    assert _statuses(repo)["T2"] == "done"
    assert {s for t, s in _statuses(repo).items() if t != "T2"} == {"todo"}


def test_run_takes_the_one_slot_when_another_ready_task_comes_first(tmp_path: Path) -> None:
    # One slot: the plan's dispatch gives it to T1 (the longer task); `run T2` gives it to T2.
    plan = _task("T1", "3h", "src/a.py") + _task("T2", "1h", "src/b.py")
    config = "[gates]\nthreshold = 0.0\n[concurrency]\nmax_background = 1\nmax_parallel = 1\n"
    repo = track_repo(tmp_path / "r", plan, config=config)
    _ran(repo, "T2")
    assert _statuses(repo) == {"T1": "todo", "T2": "done"}


def test_run_of_a_task_whose_deps_are_not_done_says_which_and_exits_2(tmp_path: Path) -> None:
    plan = _task("T1", "1h", "src/a.py") + _task("T2", "1h", "src/b.py", deps="T1")
    repo = track_repo(tmp_path / "r", plan, config=TWO_SLOTS)
    refused = swarm(repo, "run", "T2", "--track", "t")
    assert refused.exit_code == 2, refused.output
    assert "T2 cannot start now: its dependency T1 is not done" in refused.output
    assert _statuses(repo) == {"T1": "todo", "T2": "todo"}
    _ran(repo, "T1")
    _ran(repo, "T2")
