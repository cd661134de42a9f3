"""`git swarm show` / `diff` / `status`: a task's own change, not what it was stacked on."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.gitutil import git
from tests.swarmrepo import swarm, task_md, track_repo

CONFIG = "[gates]\nthreshold = 0.0\n"
PLAN = (
    task_md(
        "T01",
        "api",
        touches="`src/api/`",
        runs=("mkdir -p src/api && printf 'def get():\\n    pass\\n' > src/api/get.py",),
    )
    + task_md(
        "T02", "db", touches="`src/db/`", runs=("mkdir -p src/db && echo 'conn = None' > src/db/conn.py",)
    )
    + task_md(
        "T03",
        "wire",
        deps="T01, T02",
        touches="`src/app.py`",
        runs=("test -f src/api/get.py && test -f src/db/conn.py && echo 'x = 2' > src/app.py",),
    )
    + task_md("T04", "look around", deps="T03", touches="read-only", runs=("cat src/app.py",))
)


@pytest.fixture(scope="module")
def ran(tmp_path_factory: pytest.TempPathFactory) -> Path:
    repo = track_repo(tmp_path_factory.mktemp("show") / "r", PLAN, config=CONFIG)
    result = swarm(repo, "implement", "t")
    assert result.exit_code == 0, result.output
    return repo


def test_diff_of_a_stacked_task_holds_only_its_own_change(ran: Path) -> None:
    result = swarm(ran, "diff", "T03")
    assert result.exit_code == 0, result.output
    files = [line[len("+++ b/") :] for line in result.output.splitlines() if line.startswith("+++ b/")]
    assert files == ["src/app.py"]
    assert "-x = 1" in result.output and "+x = 2" in result.output
    # The branch itself is stacked on T01 and T02: a plain three-dot diff lists their files too.
    base = json.loads(swarm(ran, "status", "t", "--json").output)["base_commit"]
    three_dot = git(ran, "diff", "--name-only", f"{base}...swarm/t/T03").stdout.split()
    assert {"src/api/get.py", "src/db/conn.py"} <= set(three_dot)


def test_diff_of_a_read_only_task_is_empty(ran: Path) -> None:
    result = swarm(ran, "diff", "T04")
    assert result.exit_code == 0, result.output
    assert result.output == ""


def test_show_tells_the_story_then_the_stat_and_diff(ran: Path) -> None:
    result = swarm(ran, "show", "T03")
    assert result.exit_code == 0, result.output
    out = result.output
    assert "task T03: wire  [done]" in out
    assert "start:" in out and "T01, T02" in out
    assert "attempts: 1" in out
    assert " src/app.py |" in out and "1 file(s) changed, 1 insertion(s)(+), 1 deletion(s)(-)" in out
    assert "src/api/get.py" not in out


def test_show_of_a_read_only_task_says_no_change(ran: Path) -> None:
    result = swarm(ran, "show", "T04")
    assert result.exit_code == 0, result.output
    assert "no change" in result.output
    assert "diff --git" not in result.output


def test_status_json_has_start_points_and_line_counts(ran: Path) -> None:
    result = swarm(ran, "status", "t", "--json")
    assert result.exit_code == 0, result.output
    tasks = {t["id"]: t for t in json.loads(result.output)["tasks"]}
    assert tasks["T03"]["start_commit"] and tasks["T03"]["final_commit"]
    assert (tasks["T03"]["files_changed"], tasks["T03"]["lines_added"], tasks["T03"]["lines_deleted"]) == (
        1,
        1,
        1,
    )
    assert (tasks["T01"]["files_changed"], tasks["T01"]["lines_added"]) == (1, 2)
    assert tasks["T04"]["files_changed"] == 0
    table = swarm(ran, "status", "t").output
    assert "START" in table and "+1/-1" in table


def test_unknown_task_is_bad_input(ran: Path) -> None:
    result = swarm(ran, "show", "T99")
    assert result.exit_code == 2
    assert "T99" in result.output
