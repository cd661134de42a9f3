"""`git swarm status`: the --json shape scripts rely on, and the table and watch built from the
same records. A real run of script agents in a real repository."""

from __future__ import annotations

import json
from pathlib import Path

from swarmgit.store.state import Store
from tests.swarmrepo import swarm, task_md, track_repo

TOP_KEYS = [
    "track",
    "base_commit",
    "target_branch",
    "worktrees_root",
    "tasks",
    "retired",
    "run_report",
    "repo_holds",
    "cost_usd",
    "budget_usd",
    "remaining_usd",
    "budget_state",
    "sandbox",
    "cli_cost_usd",
    "unpriced_models",
    "by_model",
]
TASK_KEYS = [
    "id",
    "title",
    "status",
    "reason",
    "branch",
    "worktree",
    "attempts",
    "branch_exists",
    "worktree_exists",
    "start_commit",
    "final_commit",
    "files_changed",
    "lines_added",
    "lines_deleted",
    "duration",
    "cost_usd",
    "cli_cost_usd",
    "locks",
]
RETIRED_KEYS = ["id", "title", "status", "branch", "worktree"]
SANDBOX_KEYS = ["mode", "fenced", "warning"]
SPEND_KEYS = ["usd", "cli_usd", "input_tokens", "output_tokens", "cache_write_tokens", "cache_read_tokens"]


def _ran(tmp_path: Path) -> Path:
    """A track after one run: T01 done, T02 failed, T03 done then retired from the run state,
    and usage recorded under two models."""
    plan = (
        task_md("T01", "writes a", touches="`src/a.py`", runs=("echo a > src/a.py",))
        + task_md("T02", "fails", touches="`src/b.py`", runs=("echo boom >&2; exit 3",))
        + task_md("T03", "writes c", touches="`src/c.py`", runs=("echo c > src/c.py",))
    )
    repo = track_repo(tmp_path / "r", plan, config="[gates]\nthreshold = 0.0\n")
    assert swarm(repo, "implement", "t").exit_code == 1
    with Store.open(repo / ".git") as store:
        store.add_usage(
            "t",
            "T01",
            model="m-small",
            input_tokens=10,
            output_tokens=2,
            cache_write_tokens=1,
            cache_read_tokens=3,
            usd=0.25,
            cli_usd=0.3,
        )
        store.add_usage(
            "t",
            "T02",
            model="m-big",
            input_tokens=5,
            output_tokens=1,
            cache_write_tokens=0,
            cache_read_tokens=0,
            usd=0.5,
        )
        store.retire_missing("t", ["T01", "T02"])
    return repo


def test_status_json_keeps_its_keys_in_order_and_its_layout(tmp_path: Path) -> None:
    repo = _ran(tmp_path)
    result = swarm(repo, "status", "t", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert result.output == json.dumps(data, indent=2) + "\n"
    assert list(data) == TOP_KEYS
    assert [list(t) for t in data["tasks"]] == [TASK_KEYS, TASK_KEYS]
    assert [list(t) for t in data["retired"]] == [RETIRED_KEYS]
    assert list(data["sandbox"]) == SANDBOX_KEYS
    assert list(data["by_model"]) == ["m-big", "m-small"]
    assert all(list(spend) == SPEND_KEYS for spend in data["by_model"].values())
    t01, t02 = data["tasks"]
    assert (t01["id"], t01["status"], t01["reason"], t01["locks"]) == ("T01", "done", "", ["src/a.py"])
    assert (t01["files_changed"], t01["lines_added"], t01["lines_deleted"]) == (1, 1, 0)
    assert (t01["cost_usd"], t01["cli_cost_usd"], t01["branch_exists"]) == (0.25, 0.3, True)
    assert (t02["status"], t02["locks"], t02["cli_cost_usd"]) == ("failed", [], None)
    assert "command failed (exit code 3)" in t02["reason"]
    assert data["retired"][0]["id"] == "T03" and data["retired"][0]["status"] == "done"
    assert (data["cost_usd"], data["cli_cost_usd"], data["unpriced_models"]) == (
        0.75,
        0.3,
        ["m-big", "m-small"],
    )
    assert data["by_model"]["m-small"] == {
        "usd": 0.25,
        "cli_usd": 0.3,
        "input_tokens": 10,
        "output_tokens": 2,
        "cache_write_tokens": 1,
        "cache_read_tokens": 3,
    }
    assert data["repo_holds"] == {} and data["budget_state"] == "ok"
    assert data["run_report"] == str(repo / "swarm/tracks/t/run_report.html")


def test_the_table_and_watch_show_the_same_records(tmp_path: Path) -> None:
    repo = _ran(tmp_path)
    table = swarm(repo, "status", "t").output
    assert "src/a.py (held until integrated)" in table
    assert "T02: command failed (exit code 3)" in table
    assert "retired (no longer in plan.md): T03 (was done, branch swarm/t/T03 kept)" in table
    assert "m-small: $0.25 (10 in, 2 out, 3 cache-read tokens; its tool reported $0.30)" in table
    watched = swarm(repo, "watch", "t", "--once").output
    assert "1/2 done · cost $0.75" in watched and "retired (no longer in plan.md): T03" in watched
