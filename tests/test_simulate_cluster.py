"""`git swarm simulate --executor ray --nodes N --slots K`: the same scheduler with the
cluster's N x K agent slots."""

from __future__ import annotations

import json
from pathlib import Path

from tests.swarmrepo import swarm, task_md, track_repo

PLAN = "".join(task_md(f"T0{i}", f"part {i}", touches=f"`src/p{i}.py`") for i in range(1, 7))


def _makespan(repo: Path, *args: str) -> float:
    result = swarm(repo, "simulate", "t", "--json", *args)
    assert result.exit_code == 0, result.output
    return float(json.loads(result.output)["makespan_hours"])


def test_cluster_slots_are_nodes_times_slots(tmp_path: Path) -> None:
    repo = track_repo(tmp_path / "r", PLAN)  # six independent 30-minute tasks
    assert _makespan(repo, "--executor", "ray", "--nodes", "3", "--slots", "2") == 0.5
    assert _makespan(repo, "--executor", "ray", "--nodes", "2", "--slots", "2") == 1.0
    assert _makespan(repo, "--executor", "ray", "--nodes", "1", "--slots", "1") == _makespan(
        repo, "--workers", "1"
    )
    text = swarm(repo, "simulate", "t", "--executor", "ray", "--nodes", "3", "--slots", "2").output
    assert "makespan" in text.lower()


def test_cluster_options_without_each_other_are_bad_input(tmp_path: Path) -> None:
    repo = track_repo(tmp_path / "r", PLAN)
    for args, message in [
        (("--nodes", "2"), "--executor ray"),
        (("--executor", "ray", "--nodes", "2"), "--slots"),
        (("--executor", "ray", "--nodes", "2", "--slots", "1", "--workers", "3"), "give one"),
    ]:
        result = swarm(repo, "simulate", "t", *args)
        assert result.exit_code == 2 and message in result.output, result.output
