from __future__ import annotations

import json
import os
import time
from dataclasses import replace
from pathlib import Path

import pytest

from swarmgit.backends.agent_tools import (
    MAX_SEARCH_MATCHES,
    TOOL_SCHEMAS,
    Workspace,
    run_tool,
    without_secrets,
)
from swarmgit.domain.report import parse_report
from swarmgit.sandbox.fence import task_fence, unavailable
from tests.gitutil import write

KEY = "sk-ant-api03-never-show-this-key"


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    root = tmp_path / "wt"
    write(root, "src/app.py", "def main():\n    return 1\n")
    write(root, "src/util.py", "def helper():\n    return 2\n")
    write(root, "docs/guide.md", "# Guide\n")
    write(root, ".git", "gitdir: /elsewhere\n")
    write(tmp_path, "outside/secret.txt", "outside\n")
    return Workspace(
        root=root.resolve(),
        touches=("src/",),
        task_id="T01",
        shared_context=tmp_path / "track" / "shared_context.md",
        env={"PATH": os.environ["PATH"], "ANTHROPIC_API_KEY": KEY, "SWARM_TASK": "T01"},
        log_file=tmp_path / "T01.log",
        command_timeout=10,
        kill_grace=1,
        output_cap=2000,
    )


def test_reads_lists_and_searches_inside_the_worktree(ws: Workspace) -> None:
    assert run_tool(ws, "read_file", {"path": "src/app.py"}).content.startswith("def main")
    second = run_tool(ws, "read_file", {"path": "src/app.py", "offset": 2, "limit": 1})
    assert second.content == "    return 1\n"
    listing = run_tool(ws, "list_dir", {}).content.splitlines()
    assert listing == ["docs/", "src/"]  # .git is hidden
    found = run_tool(ws, "search", {"pattern": r"def \w+\(", "glob": "*.py"}).content
    assert found.splitlines() == ["src/app.py:1: def main():", "src/util.py:1: def helper():"]
    assert run_tool(ws, "search", {"pattern": "nothing-like-this"}).content == "no matches"


@pytest.mark.parametrize("path", ["../outside/secret.txt", "src/../../outside/secret.txt"])
def test_dotdot_paths_are_refused(ws: Workspace, path: str) -> None:
    result = run_tool(ws, "read_file", {"path": path})
    assert result.is_error and "outside this task's worktree" in result.content


def test_absolute_paths_outside_are_refused_inside_allowed(ws: Workspace) -> None:
    outside = ws.root.parent / "outside" / "secret.txt"
    assert run_tool(ws, "read_file", {"path": str(outside)}).is_error
    result = run_tool(ws, "write_file", {"path": str(ws.root / "src/new.py"), "content": "x\n"})
    assert not result.is_error
    assert (ws.root / "src/new.py").read_text() == "x\n"


def test_symlinks_leading_outside_are_refused_for_read_write_and_search(ws: Workspace) -> None:
    outside = ws.root.parent / "outside"
    (ws.root / "src" / "escape").symlink_to(outside)
    (ws.root / "src" / "link.txt").symlink_to(outside / "secret.txt")
    assert run_tool(ws, "read_file", {"path": "src/link.txt"}).is_error
    write_result = run_tool(ws, "write_file", {"path": "src/escape/new.txt", "content": "x"})
    assert write_result.is_error
    assert not (outside / "new.txt").exists()
    edit = {"path": "src/link.txt", "old_string": "outside", "new_string": "pwned"}
    assert run_tool(ws, "edit_file", edit).is_error
    assert (outside / "secret.txt").read_text() == "outside\n"
    assert "secret.txt" not in run_tool(ws, "search", {"pattern": "outside"}).content


def test_a_symlink_inside_touches_to_a_file_outside_touches_is_refused(ws: Workspace) -> None:
    (ws.root / "src" / "guide.md").symlink_to(ws.root / "docs" / "guide.md")
    result = run_tool(ws, "write_file", {"path": "src/guide.md", "content": "changed"})
    assert result.is_error and "docs/guide.md is outside this task's touches" in result.content
    assert (ws.root / "docs" / "guide.md").read_text() == "# Guide\n"


def test_git_dir_is_off_limits(ws: Workspace) -> None:
    assert run_tool(ws, "read_file", {"path": ".git"}).is_error


def test_writes_outside_touches_are_refused_with_what_is_allowed(ws: Workspace) -> None:
    result = run_tool(ws, "write_file", {"path": "docs/guide.md", "content": "changed"})
    assert result.is_error
    assert "outside this task's touches (src/)" in result.content
    assert "spawn candidate" in result.content
    assert (ws.root / "docs/guide.md").read_text() == "# Guide\n"


def test_a_read_only_task_writes_nothing(ws: Workspace) -> None:
    read_only = replace(ws, touches=())
    result = run_tool(read_only, "write_file", {"path": "src/app.py", "content": ""})
    assert result.is_error and "read-only" in result.content


def test_write_creates_folders_inside_touches(ws: Workspace) -> None:
    result = run_tool(ws, "write_file", {"path": "src/pkg/mod.py", "content": "A = 1\n"})
    assert not result.is_error
    assert (ws.root / "src/pkg/mod.py").read_text() == "A = 1\n"


def test_edit_replaces_exactly_one_occurrence(ws: Workspace) -> None:
    edit = {"path": "src/app.py", "old_string": "return 1", "new_string": "return 42"}
    assert not run_tool(ws, "edit_file", edit).is_error
    assert "return 42" in (ws.root / "src/app.py").read_text()
    missing = run_tool(ws, "edit_file", edit)
    assert missing.is_error and "does not occur" in missing.content
    write(ws.root, "src/twice.py", "x = 1\nx = 1\n")
    twice = {"path": "src/twice.py", "old_string": "x = 1", "new_string": "x = 2"}
    result = run_tool(ws, "edit_file", twice)
    assert result.is_error and "occurs 2 times" in result.content
    assert (ws.root / "src/twice.py").read_text() == "x = 1\nx = 1\n"


def test_run_command_runs_in_the_worktree_without_secrets(ws: Workspace) -> None:
    result = run_tool(ws, "run_command", {"command": "pwd; echo task=$SWARM_TASK; env; exit 3"})
    assert not result.is_error
    assert result.content.startswith("exit code 3")
    assert str(ws.root) in result.content and "task=T01" in result.content
    assert KEY not in result.content and "ANTHROPIC_API_KEY" not in result.content
    assert KEY not in ws.log_file.read_text()


def test_secret_values_are_redacted_from_any_tool_output(ws: Workspace) -> None:
    write(ws.root, "src/.env", f"ANTHROPIC_API_KEY={KEY}\n")
    assert KEY not in run_tool(ws, "read_file", {"path": "src/.env"}).content
    assert KEY not in run_tool(ws, "search", {"pattern": "API_KEY"}).content
    assert KEY not in run_tool(ws, "run_command", {"command": "cat src/.env"}).content


def test_run_command_times_out_and_kills_its_process_group(ws: Workspace) -> None:
    quick = replace(ws, command_timeout=1.0)
    started = time.monotonic()
    command = "(sleep 30; touch late) & echo $! > pid; sleep 30"
    result = run_tool(quick, "run_command", {"command": command})
    assert result.is_error and "timed out" in result.content
    child = int((ws.root / "pid").read_text())
    deadline = time.monotonic() + 5
    while _alive(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(child)
    assert time.monotonic() - started < 25  # it did not wait for the sleeps


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    status = Path(f"/proc/{pid}/stat")
    return not (status.exists() and status.read_text().split()[2] == "Z")


def test_long_output_is_capped_keeping_head_and_tail(ws: Workspace) -> None:
    result = run_tool(ws, "run_command", {"command": "seq 1 20000"})
    assert len(result.content.encode()) < 2 * ws.output_cap
    lines = result.content.splitlines()
    assert lines[1] == "1" and lines[-1] == "20000"
    assert any("lines cut" in line for line in lines)


def test_search_stops_at_its_cap(ws: Workspace) -> None:
    write(ws.root, "src/many.txt", "hit\n" * (MAX_SEARCH_MATCHES + 50))
    roomy = replace(ws, output_cap=1_000_000)
    content = run_tool(roomy, "search", {"pattern": "hit"}).content
    assert content.count("src/many.txt:") == MAX_SEARCH_MATCHES
    assert "narrow the search" in content


def test_bad_inputs_come_back_as_tool_errors(ws: Workspace) -> None:
    assert run_tool(ws, "search", {"pattern": "("}).is_error
    assert run_tool(ws, "read_file", {}).is_error
    assert run_tool(ws, "read_file", {"path": "src/missing.py"}).is_error
    assert run_tool(ws, "delete_everything", {}).is_error


def test_share_note_appends_to_the_tracks_shared_context(ws: Workspace) -> None:
    run_tool(ws, "share_note", {"note": "The cache key is user:<id>."})
    run_tool(ws, "share_note", {"note": "Second fact."})
    text = ws.shared_context.read_text()
    assert text.count("### Note from T01") == 2
    assert text.index("user:<id>") < text.index("Second fact.")


def test_finish_validates_the_report(ws: Workspace) -> None:
    bad = run_tool(ws, "finish", {"status": "great", "candidates": [{"id": "SC-01"}]})
    assert bad.is_error and bad.report is None
    assert "status" in bad.content and "subtask" in bad.content
    good = run_tool(
        ws,
        "finish",
        {
            "status": "done",
            "summary": "Added the cache.",
            "files_touched": ["src/app.py"],
            "candidates": [
                {"id": "SC-01", "subtask": "Document the cache", "touches": ["docs/"], "severity": "low"}
            ],
        },
    )
    assert not good.is_error and good.report is not None
    assert good.report.candidates[0].touches == ("docs/",)


def test_every_tool_has_a_schema_the_api_accepts(ws: Workspace) -> None:
    names = [schema["name"] for schema in TOOL_SCHEMAS]
    assert names == [
        "read_file",
        "list_dir",
        "search",
        "write_file",
        "edit_file",
        "run_command",
        "share_note",
        "finish",
    ]
    for schema in TOOL_SCHEMAS:
        assert schema["input_schema"]["type"] == "object"
        assert "$ref" not in json.dumps(schema)  # definitions are inlined
    finish = TOOL_SCHEMAS[-1]["input_schema"]
    severity = finish["properties"]["candidates"]["items"]["properties"]["severity"]
    assert severity["enum"] == ["low", "medium", "high", "critical"]
    for name in names:  # no schema names a tool the dispatcher does not know
        assert "unknown tool" not in run_tool(ws, name, {}).content


def test_a_report_made_by_finish_round_trips_through_markdown(ws: Workspace) -> None:
    from swarmgit.domain.report import render_report

    result = run_tool(
        ws,
        "finish",
        {"status": "partial", "summary": "half", "candidates": [{"id": "SC-01", "subtask": "rest"}]},
    )
    assert result.report is not None
    parsed, warnings = parse_report(render_report(result.report), "report.md")
    assert warnings == [] and parsed.candidates[0].subtask == "rest"


def test_without_secrets_drops_keys_tokens_and_passwords() -> None:
    env = {
        "PATH": "/bin",
        "ANTHROPIC_API_KEY": KEY,
        "GITHUB_TOKEN": "t" * 20,
        "DB_PASSWORD": "p" * 12,
        "GIT_AUTHOR_NAME": "A",
    }
    assert without_secrets(env) == {"PATH": "/bin", "GIT_AUTHOR_NAME": "A"}


@pytest.mark.skipif(bool(unavailable()), reason=unavailable() or "")
def test_run_command_runs_inside_the_write_fence(ws: Workspace) -> None:
    fenced = replace(ws, fence=task_fence(ws.root, ws.touches, ws.log_file.parent / "scratch", required=True))
    result = run_tool(fenced, "run_command", {"command": "echo ok > src/new.py; echo x >> docs/guide.md"})
    assert result.content.startswith("exit code 2") and "Permission denied" in result.content
    assert (ws.root / "src/new.py").read_text() == "ok\n"
    assert (ws.root / "docs/guide.md").read_text() == "# Guide\n"
