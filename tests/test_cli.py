"""The command line as a user meets it: help, init, new-track, and errors with exit 2."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.gitutil import write
from tests.swarmrepo import swarm, swarm_process

SUBCOMMANDS = [
    "init",
    "new-track",
    "plan",
    "simulate",
    "graph",
    "implement",
    "status",
    "integrate",
    "gates",
    "resume",
    "retry",
    "task",
    "watch",
    "clean",
    "hook",
    "demo",
]


def test_help_lists_every_command_and_each_has_an_example(repo: Path) -> None:
    out = swarm(repo, "--help").output
    for name in SUBCOMMANDS:
        assert name in out
    for name in [
        "init",
        "new-track",
        "simulate",
        "graph",
        "implement",
        "status",
        "integrate",
        "gates",
        "resume",
        "retry",
        "watch",
        "clean",
        "demo",
    ]:
        assert "Example: git swarm" in swarm(repo, name, "-h").output, name
    assert "Example: git swarm plan check" in swarm(repo, "plan", "check", "-h").output


def test_init_twice_changes_nothing_and_says_so(repo: Path) -> None:
    first = swarm(repo, "init")
    assert first.exit_code == 0
    assert "wrote .swarm.toml" in first.output and "created swarm/tracks/" in first.output
    config = (repo / ".swarm.toml").read_bytes()
    hook = (repo / ".git/hooks/pre-commit").read_bytes()
    second = swarm(repo, "init")
    assert second.exit_code == 0
    assert "already exists" in second.output and "already installed" in second.output
    assert (repo / ".swarm.toml").read_bytes() == config
    assert (repo / ".git/hooks/pre-commit").read_bytes() == hook


def test_new_track_writes_documents_from_templates_with_user_override(repo: Path) -> None:
    write(repo, "swarm/templates/spec.md", "# My spec for $title ($track)\n")
    result = swarm(repo, "new-track", "Add Redis caching")
    assert result.exit_code == 0, result.output
    folder = repo / "swarm/tracks/add-redis-caching"
    prd = (folder / "PRD.md").read_text()
    for section in [
        "Problem",
        "Goals",
        "Non-goals",
        "Users",
        "Requirements",
        "Constraints",
        "Risks",
        "IOSM Targets",
        "Rollout",
        "Open questions",
    ]:
        assert f". {section}" in prd
    assert (folder / "spec.md").read_text() == "# My spec for Add Redis caching (add-redis-caching)\n"
    assert "logs/" in (folder / ".gitignore").read_text().splitlines()
    assert swarm(repo, "plan", "check", "add-redis-caching").exit_code == 0
    again = swarm(repo, "new-track", "Add Redis caching")
    assert again.exit_code == 2 and "already exists" in again.output


def test_outside_a_git_repo_is_a_one_line_error_with_exit_2(tmp_path: Path) -> None:
    result = swarm_process(tmp_path, "status")
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "not a git repository" in result.stderr


def test_unknown_track_names_the_known_ones(repo: Path) -> None:
    swarm(repo, "new-track", "one", "--id", "one")
    result = swarm(repo, "simulate", "nope")
    assert result.exit_code == 2
    assert "unknown track 'nope'" in result.output and "one" in result.output


def test_bad_config_key_is_named_with_exit_2(repo: Path) -> None:
    swarm(repo, "new-track", "one", "--id", "one")
    write(repo, ".swarm.toml", "[concurrency]\nmax_paralel = 3\n")
    result = swarm(repo, "simulate", "one")
    assert result.exit_code == 2
    assert "concurrency.max_paralel" in result.output


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (("**Depends on:** T01", "**Depends on:** T99"), "T99"),
        (("**T02**", "**T01**"), "duplicate"),
        (("**Depends on:** none", "**Depends on:** T03"), "cycle"),
        (("**Effort:** M", "**Effort:** soon"), "effort"),
        (("`src/`", "`../outside/`"), ".."),
        (("`src/`", "`/etc/passwd`"), "absolute"),
        (("**Touches:** `src/`", "**Touches:** read-only"), "touches"),
    ],
)
def test_plan_errors_name_file_and_line_with_exit_2(repo: Path, edit: tuple[str, str], message: str) -> None:
    swarm(repo, "new-track", "one", "--id", "one", "--no-llm")
    plan = repo / "swarm/tracks/one/plan.md"
    plan.write_text(plan.read_text().replace(*edit, 1))
    result = swarm(repo, "plan", "check", "one")
    assert result.exit_code == 2, result.output
    assert re.search(r"swarm/tracks/one/plan\.md:\d+: error: ", result.output)
    assert message in result.output


def test_simulate_json_and_graph_formats(repo: Path) -> None:
    swarm(repo, "new-track", "one", "--id", "one", "--no-llm")
    data = json.loads(swarm(repo, "simulate", "one", "--json").output)
    assert {
        "makespan_hours",
        "serial_hours",
        "speedup",
        "critical_path",
        "waves_makespan_hours",
        "schedule",
    } <= set(data)
    assert data["critical_path"] == ["T01", "T02", "T03"]
    assert [s["task"] for s in data["schedule"]] == ["T01", "T02", "T03"]
    assert swarm(repo, "graph", "one", "--format", "mermaid").output.startswith("flowchart")
    assert "digraph" in swarm(repo, "graph", "one", "--format", "dot").output
    assert swarm(repo, "graph", "one", "--format", "svg").exit_code == 2


def test_git_swarm_runs_through_git(repo: Path) -> None:
    import os
    import subprocess
    import sys

    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    done = subprocess.run(["git", "swarm", "-h"], cwd=repo, env=env, capture_output=True, text=True)
    assert done.returncode == 0 and "git swarm" in done.stdout
    assert (Path(sys.executable).parent / "swarmgit").exists()
