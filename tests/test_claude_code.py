"""The claude-code backend: the real bundled Claude Code CLI pointed at a local Messages API
that replays scripted turns (its scope rules: tests/test_shell_writes.py)."""

from __future__ import annotations

import importlib.util
import os
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from swarmgit.backends import claude_code
from swarmgit.backends.base import AgentJob, AgentOutcome
from swarmgit.backends.claude_code import ClaudeCodeAgent
from swarmgit.config import Config, parse_config
from swarmgit.domain.plan import Task
from swarmgit.domain.report import parse_report
from swarmgit.process.home import own_home
from swarmgit.sandbox.fence import task_fence, unavailable
from tests.gitutil import git, make_repo
from tests.messages_server import MessagesServer, Turn, messages_server, text, tool_use

__all__ = ["messages_server"]  # the fixture

KEY = "sk-ant-api03-claude-code-test-key-never-logged"
MODEL = "claude-sonnet-5-5"
needs_sdk = pytest.mark.skipif(
    importlib.util.find_spec("claude_agent_sdk") is None,
    reason="claude-agent-sdk is not installed: pip install 'swarmgit[claude-code]'",
)


@pytest.fixture
def job(tmp_path: Path, messages_server: MessagesServer) -> AgentJob:
    repo = make_repo(tmp_path / "repo", {"src/app.py": "ANSWER = 41\n", "docs/guide.md": "# G\n"})
    worktree = tmp_path / "worktrees" / "T01"
    git(repo, "worktree", "add", "-q", "-b", "swarm/demo/T01", str(worktree))
    track = tmp_path / "track"
    track.mkdir()
    brief = track / "T01.brief.md"
    brief.write_text("# Task T01: set ANSWER to 42\n\nWrite your report to $SWARM_REPORT.\n")
    report = track / "reports" / "T01.md"
    report.parent.mkdir()
    return AgentJob(
        track="demo",
        task=Task(id="T01", title="Set the answer", touches=("src/",)),
        worktree=worktree,
        brief_file=brief,
        report_file=report,
        shared_context=track / "shared_context.md",
        log_file=tmp_path / "logs" / "T01.log",
        env={
            "ANTHROPIC_API_KEY": KEY,
            "ANTHROPIC_BASE_URL": messages_server.url,
            "SWARM_REPORT": str(report),
            "CLAUDE_CODE_MAX_RETRIES": "2",
        },
        config=Config(),
        model=MODEL,
        budget_usd=5.0,
    )


def _run(job: AgentJob) -> tuple[AgentOutcome, list[tuple[str, str]]]:
    events: list[tuple[str, str]] = []
    outcome = ClaudeCodeAgent(job.config).run(job, lambda kind, msg: events.append((kind, msg)))
    return outcome, events


def _tool_results(server: MessagesServer) -> list[dict[str, Any]]:
    """Every tool_result block Claude Code sent back, in order."""
    last = server.message_requests()[-1].body["messages"]
    return [
        block
        for message in last
        if isinstance(message["content"], list)
        for block in message["content"]
        if block.get("type") == "tool_result"
    ]


REPORT = """**Status:** done

## Summary

ANSWER is 42.

## Files Touched

- `src/app.py`

## SpawnCandidates

| ID | Subtask | Touches | Effort | User Input | Severity | Dedup Key | Accept Criteria |
|---|---|---|---|---|---|---|---|
| SC-01 | Document the answer | `docs/guide.md` | S | false | low | docs|answer | guide says 42 |
"""


@needs_sdk
def test_claude_code_edits_within_touches_is_refused_outside_and_reports(
    job: AgentJob, messages_server: MessagesServer
) -> None:
    wt = job.worktree.resolve()
    messages_server.script(
        Turn.reply(
            text("Editing."),
            tool_use("Write", {"file_path": str(wt / "src/app.py"), "content": "ANSWER = 42\n"}),
        ),
        Turn.reply(tool_use("Write", {"file_path": str(wt / "docs/guide.md"), "content": "x"})),
        Turn.reply(tool_use("Bash", {"command": "echo x > ../../outside.txt"})),
        Turn.reply(tool_use("Bash", {"command": "git add -A && git commit -q -m 'T01: 42'"})),
        Turn.reply(
            tool_use("Write", {"file_path": str(job.report_file), "content": REPORT}),
            usage={"input_tokens": 1000, "output_tokens": 200},
        ),
        Turn.reply(text("Done."), usage={"input_tokens": 1000, "output_tokens": 100}),
    )

    outcome, events = _run(job)

    assert outcome.ok, outcome.diagnosis
    assert (wt / "src/app.py").read_text() == "ANSWER = 42\n"
    assert (wt / "docs/guide.md").read_text() == "# G\n"
    assert not (job.worktree.parent.parent / "outside.txt").exists()
    assert git(wt, "log", "--format=%s", "-1").stdout.strip() == "T01: 42"
    results = _tool_results(messages_server)
    assert [bool(r.get("is_error")) for r in results[:3]] == [False, True, True]
    assert "outside this task's touches (src/)" in str(results[1]["content"])
    assert "outside this task's worktree" in str(results[2]["content"])
    assert [kind for kind, _ in events] == ["scope-refused", "scope-refused"]
    report, _ = parse_report(outcome.report_text or "", "T01.md")
    assert report.status == "done" and [c.id for c in report.candidates] == ["SC-01"]
    # usage and cost as Claude Code reports them: 4 turns of 10 + 1000 + 1000 input tokens
    assert sum(u.input_tokens for u in outcome.usage) == 2040
    assert sum(u.output_tokens for u in outcome.usage) == 5 * 4 + 200 + 100
    assert {u.model for u in outcome.usage} == {MODEL}
    assert sum(u.cost_usd or 0 for u in outcome.usage) > 0
    assert _live_children_running("claude") == []  # the CLI ended with the task


def _live_children_running(name: str) -> list[int]:
    """Child processes of this test process (not zombies) whose command line mentions `name`."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            cmdline = (stat.parent / "cmdline").read_bytes()
        except OSError:
            continue
        if int(fields[1]) == os.getpid() and fields[0] != "Z" and name.encode() in cmdline:
            found.append(int(stat.parent.name))
    return found


@needs_sdk
def test_claude_code_runs_isolated_retries_529_and_never_logs_the_key(
    job: AgentJob, messages_server: MessagesServer
) -> None:
    messages_server.script(
        Turn.error(529),
        Turn.reply(tool_use("Bash", {"command": "echo home=$HOME key=$ANTHROPIC_API_KEY"})),
        Turn.reply(text(f"**Status:** done\n\nThe key is {KEY}\n")),
    )
    job.report_file.write_text("**Status:** failed\n\nfrom an earlier attempt\n")
    outcome, events = _run(job)
    assert outcome.ok, outcome.diagnosis
    assert "earlier attempt" not in (outcome.report_text or "")  # the final message is used
    assert "rate-limited" in [kind for kind, _ in events]
    home = job.log_file.with_name("T01.claude-home")
    assert (home / ".claude").is_dir()
    assert not (Path.home() / ".claude").exists()  # the user's own home is left alone
    assert f"home={home}" in str(_tool_results(messages_server)[0]["content"])
    log = job.log_file.read_text()
    assert "home=" in log and KEY not in log
    assert KEY not in repr(outcome) and KEY not in repr(events)


@needs_sdk
def test_claude_code_stops_at_the_task_budget(job: AgentJob, messages_server: MessagesServer) -> None:
    capped = AgentJob(**{**job.__dict__, "budget_usd": 0.001})
    messages_server.script(
        Turn.reply(
            tool_use("Bash", {"command": "true"}), usage={"input_tokens": 100_000, "output_tokens": 10_000}
        ),
        Turn.reply(text("never reached")),
    )
    outcome, _ = _run(capped)
    assert not outcome.ok and outcome.kind == "budget"
    assert sum(u.cost_usd or 0 for u in outcome.usage) > 0.001


def test_without_the_sdk_it_says_how_to_install_it(job: AgentJob, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "claude_agent_sdk", None)  # import now raises ImportError
    outcome, _ = _run(job)
    assert not outcome.ok and outcome.kind == "setup-failed"
    assert "swarmgit[claude-code]" in outcome.diagnosis


@needs_sdk
def test_without_a_key_it_fails_before_starting(job: AgentJob) -> None:
    keyless = AgentJob(**{**job.__dict__, "env": {}})
    outcome, _ = _run(keyless)
    assert not outcome.ok and outcome.kind == "setup-failed"
    assert "ANTHROPIC_API_KEY" in outcome.diagnosis


@needs_sdk
def test_claude_code_is_stopped_at_the_wall_time_limit(
    job: AgentJob, messages_server: MessagesServer
) -> None:
    slow = AgentJob(**{**job.__dict__, "config": parse_config("[agent]\ntimeout_minutes = 0.02\n")})
    messages_server.script(Turn.reply(text("too late"), delay=5.0))
    outcome, _ = _run(slow)
    assert not outcome.ok and outcome.kind == "timeout"
    deadline = time.monotonic() + 10
    while _processes_in(job.worktree) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _processes_in(job.worktree) == []  # nothing left running in the worktree


def _processes_in(folder: Path) -> list[int]:
    """Pids of live processes whose working directory is `folder`."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and Path(os.readlink(proc / "cwd")) == folder.resolve():
                if (proc / "stat").read_text().split()[2] != "Z":
                    found.append(int(proc.name))
        except OSError:
            continue
    return found


@needs_sdk
def test_fenced_without_a_cli_to_wrap_it_fails_rather_than_let_the_sdk_start_one_unfenced(
    job: AgentJob, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No bundled CLI and no `claude` on PATH: the SDK would look in its own places and start
    # what it finds there outside the fence.
    monkeypatch.setattr(claude_code, "_installed_cli", lambda: None)
    scratch = tmp_path / "scratch" / "T01"
    scratch.mkdir(parents=True)
    fenced = AgentJob(
        **{
            **job.__dict__,
            "fence": task_fence(job.worktree.resolve(), job.task.touches, scratch, required=False),
        }
    )
    outcome, _ = _run(fenced)
    assert not outcome.ok and outcome.kind == "setup-failed"
    assert "under the write fence" in outcome.diagnosis


@needs_sdk
@pytest.mark.skipif(bool(unavailable()), reason=unavailable() or "")
def test_claude_code_runs_inside_the_write_fence(
    job: AgentJob, messages_server: MessagesServer, tmp_path: Path
) -> None:
    wt = job.worktree.resolve()
    scratch = tmp_path / "scratch" / "T01"
    scratch.mkdir(parents=True)
    fenced = AgentJob(
        **{
            **job.__dict__,
            "env": {**job.env, **own_home(scratch, job.env)},
            "fence": task_fence(wt, job.task.touches, scratch, required=True),
        }
    )
    sneaky = "python3 -c \"open('docs/guide.md', 'a').write('pwned')\""  # beyond the Bash check
    messages_server.script(
        Turn.reply(tool_use("Bash", {"command": sneaky})),
        Turn.reply(tool_use("Write", {"file_path": str(wt / "src/app.py"), "content": "ANSWER = 42\n"})),
        Turn.reply(tool_use("Bash", {"command": "git add -A && git commit -q -m 'T01: 42'"})),
        Turn.reply(text("Done.")),
    )

    outcome, events = _run(fenced)

    assert outcome.ok, outcome.diagnosis
    results = _tool_results(messages_server)
    assert "Permission denied" in str(results[0]["content"])  # the OS refused the write
    assert (wt / "docs/guide.md").read_text() == "# G\n"
    assert (wt / "src/app.py").read_text() == "ANSWER = 42\n"
    assert "Permission denied" in str(results[2]["content"])  # so did git, in .git
    assert git(wt, "log", "--format=%s", "-1").stdout.strip() != "T01: 42"
    assert (scratch / "home" / ".claude").is_dir()  # Claude Code's state is in the task's home
