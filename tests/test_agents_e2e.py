"""`git swarm implement` with the anthropic backend, end to end: the real CLI as a process, a
real repo with the installed hook, the real SDK pointed at a local Messages API server.

Every run keeps `max_parallel = 1`, so the tasks take the scripted turns one after another.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from swarmgit.sandbox.fence import unavailable
from tests.gitutil import git
from tests.messages_server import MessagesServer, Request, Turn, messages_server, text, tool_use
from tests.swarmrepo import swarm_process, task_md, track_repo

__all__ = ["messages_server"]  # the fixture

KEY = "sk-ant-api03-e2e-fake-key-that-must-never-leak-0123456789"
FILES = {
    "README.md": "# demo\n",
    "src/app.py": "def answer():\n    return 41\n",
    "docs/guide.md": "# Guide\n",
}
# Gates are judged in their own tests; here any verdict lets main advance.
BASE_CONFIG = """\
[agent]
backend = "anthropic"
[concurrency]
max_parallel = 1
[gates]
threshold = 0.0
"""


@pytest.fixture
def api(messages_server: MessagesServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[MessagesServer]:
    """The server, with the key and base URL the CLI processes inherit; every scripted turn
    must be used by the end of the test."""
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    monkeypatch.setenv("ANTHROPIC_BASE_URL", messages_server.url)
    yield messages_server
    assert messages_server.remaining == 0, "the script was not fully used"


def _usage(inp: int, out: int, write: int = 0, read: int = 0) -> dict[str, int]:
    return {
        "input_tokens": inp,
        "output_tokens": out,
        "cache_creation_input_tokens": write,
        "cache_read_input_tokens": read,
    }


def _finish(**report: Any) -> dict[str, Any]:
    return tool_use("finish", {"status": "done", "summary": "done.", **report})


def _edit(path: str) -> dict[str, Any]:
    """A shell edit of `path` (`$SWARM_TASK` expands), so the task changes something: a task
    with touches that changes nothing fails."""
    return tool_use("run_command", {"command": f'echo "$SWARM_TASK" >> "{path}"'})


def _status(repo: Path) -> dict[str, Any]:
    done = swarm_process(repo, "status", "t", "--json")
    assert done.returncode == 0, done.stderr
    data: dict[str, Any] = json.loads(done.stdout)
    return data


def _events(repo: Path) -> list[tuple[str, str | None, str]]:
    with sqlite3.connect(repo / ".git" / "swarm" / "state.db") as conn:
        return list(conn.execute("SELECT kind, task, message FROM events WHERE track='t' ORDER BY id"))


def _started(repo: Path) -> list[str]:
    """Task ids in the order they started (the store logs each `running` transition)."""
    return [task for kind, task, _ in _events(repo) if kind == "running" and task]


def _task_of(request: Request) -> str:
    """The task a request works for: the brief's heading `# Task <id>: ...`."""
    brief = request.body["messages"][0]["content"][0]["text"]
    return str(brief.split(":", 1)[0].removeprefix("# Task "))


def _tool_results(request: Request) -> dict[str, dict[str, Any]]:
    content = request.body["messages"][-1]["content"]
    return {b["tool_use_id"]: b for b in content if b.get("type") == "tool_result"}


def _output(done: subprocess.CompletedProcess[str]) -> str:
    return done.stdout + done.stderr


def test_a_task_edits_in_scope_and_its_spawn_candidate_runs_once_accepted(
    tmp_path: Path, api: MessagesServer
) -> None:
    plan = task_md("T01", "Fix the answer", touches="`src/`")
    repo = track_repo(tmp_path / "r", plan, files=FILES, config=BASE_CONFIG)
    api.script(
        Turn.reply(text("Reading first."), tool_use("read_file", {"path": "src/app.py"}, id="t_read")),
        Turn.reply(
            tool_use(
                "edit_file",
                {"path": "src/app.py", "old_string": "return 41", "new_string": "return 42"},
                id="t_edit",
            ),
            tool_use("write_file", {"path": "docs/guide.md", "content": "hacked\n"}, id="t_docs"),
        ),
        # the agent's own commit fails under the write fence; swarmgit commits its work after it
        Turn.reply(
            tool_use("run_command", {"command": "git add -A && git commit -q -m 'T01: 42'"}, id="t_commit")
        ),
        Turn.reply(
            _finish(
                files_touched=["src/app.py"],
                candidates=[
                    {
                        "id": "SC-01",
                        "subtask": "Explain the answer in the guide",
                        "touches": ["docs/guide.md"],
                        "effort": "S",
                        "severity": "low",
                        "dedup_key": "docs/guide.md|explain",
                        "accept": "the guide names 42",
                    }
                ],
            )
        ),
        # SC-01 edits and leaves the commit to the orchestrator
        Turn.reply(
            tool_use(
                "edit_file",
                {
                    "path": "docs/guide.md",
                    "old_string": "# Guide\n",
                    "new_string": "# Guide\n\nThe answer is 42.\n",
                },
            )
        ),
        Turn.reply(_finish(files_touched=["docs/guide.md"])),
    )

    first = swarm_process(repo, "implement", "t")
    assert first.returncode == 0, _output(first)
    # docs/ is outside the plan's touches (src/): the candidate waits for the user
    waiting = swarm_process(repo, "spawn", "list", "t").stdout
    assert "outside the track's planned touches (src/)" in waiting
    accepted = swarm_process(repo, "spawn", "accept", "docs/guide.md|explain", "--track", "t")
    assert accepted.returncode == 0, _output(accepted)
    done = swarm_process(repo, "implement", "t")

    assert done.returncode == 0, _output(done)
    requests = api.message_requests()
    assert [_task_of(r) for r in requests] == ["T01"] * 4 + ["SC-01"] * 2
    read = _tool_results(requests[1])["t_read"]
    assert not read["is_error"] and "return 41" in read["content"]
    refused = _tool_results(requests[2])
    assert not refused["t_edit"]["is_error"]
    assert refused["t_docs"]["is_error"]
    assert "outside this task's touches" in refused["t_docs"]["content"]
    commit = _tool_results(requests[3])["t_commit"]["content"]
    fenced = not unavailable()
    assert commit.startswith("exit code 128" if fenced else "exit code 0"), commit
    assert ("Permission denied" in commit) is fenced
    # SC-01 was told what to do: the candidate became its brief
    assert "Explain the answer in the guide" in requests[4].body["messages"][0]["content"][0]["text"]
    # the candidate is a task in plan.md, after T01, done
    plan_text = (repo / "swarm/tracks/t/plan.md").read_text()
    assert "- [x] **SC-01**: Explain the answer in the guide" in plan_text
    assert "- [x] **T01**: Fix the answer" in plan_text
    sc01 = plan_text[plan_text.index("**SC-01**") :]
    assert "**Depends on:** T01" in sc01 and "`docs/guide.md`" in sc01
    assert _started(repo) == ["T01", "SC-01"]
    assert ("spawn-held", "T01") in [(kind, task) for kind, task, _ in _events(repo)]
    # each branch holds only its task's work; main has both
    last = git(repo, "log", "--format=%s", "-1", "swarm/t/T01").stdout.strip()
    assert last == ("T01: Fix the answer" if fenced else "T01: 42")
    assert git(repo, "show", "swarm/t/T01:docs/guide.md").stdout == "# Guide\n"
    changed = git(repo, "diff", "--name-only", "swarm/t/T01", "swarm/t/SC-01").stdout.split()
    assert changed == ["docs/guide.md"]
    assert git(repo, "show", "main:src/app.py").stdout == "def answer():\n    return 42\n"
    assert git(repo, "show", "main:docs/guide.md").stdout == "# Guide\n\nThe answer is 42.\n"
    report = (repo / "swarm/tracks/t/reports/T01.md").read_text()
    assert "Explain the answer in the guide" in report


def test_status_shows_the_cost_of_each_task_and_model_from_the_pricing_table(
    tmp_path: Path, api: MessagesServer
) -> None:
    config = (
        BASE_CONFIG
        + """\
[pricing.claude-sonnet-5-5]
input = 3.0
output = 15.0
cache_write = 3.75
cache_read = 0.30
[pricing.claude-haiku-5-5]
input = 1.0
output = 5.0
cache_write = 1.25
cache_read = 0.10
"""
    )
    plan = task_md("T01", "Implement", touches="`src/`") + task_md(
        "T02", "Explore", deps="T01", touches="`docs/`", extra="  - **Model:** haiku"
    )
    repo = track_repo(tmp_path / "r", plan, files=FILES, config=config)
    api.script(
        Turn.reply(tool_use("list_dir", {}), usage=_usage(1000, 100, write=5000)),
        Turn.reply(_edit("src/app.py"), _finish(), usage=_usage(200, 50, read=5000)),
        Turn.reply(_edit("docs/guide.md"), _finish(), usage=_usage(4000, 400)),
    )

    done = swarm_process(repo, "implement", "t")

    assert done.returncode == 0, _output(done)
    assert [r.body["model"] for r in api.message_requests()] == [
        "claude-sonnet-5-5",
        "claude-sonnet-5-5",
        "claude-haiku-5-5",
    ]
    # by hand, USD per million tokens: input, output, cache write, cache read
    t01 = (1000 * 3.0 + 100 * 15.0 + 5000 * 3.75 + 200 * 3.0 + 50 * 15.0 + 5000 * 0.30) / 1e6
    t02 = (4000 * 1.0 + 400 * 5.0) / 1e6
    status = _status(repo)
    costs = {t["id"]: t["cost_usd"] for t in status["tasks"]}
    assert costs == {"T01": pytest.approx(t01, abs=1e-4), "T02": pytest.approx(t02, abs=1e-4)}
    assert status["cost_usd"] == pytest.approx(t01 + t02, abs=1e-4)
    assert status["remaining_usd"] == pytest.approx(10.0 - t01 - t02, abs=1e-4)
    assert status["by_model"] == {
        # the anthropic agent prices its own calls from the same table
        "claude-haiku-5-5": {
            "usd": pytest.approx(t02, abs=1e-4),
            "cli_usd": pytest.approx(t02, abs=1e-4),
            "input_tokens": 4000,
            "output_tokens": 400,
            "cache_write_tokens": 0,
            "cache_read_tokens": 0,
        },
        "claude-sonnet-5-5": {
            "usd": pytest.approx(t01, abs=1e-4),
            "cli_usd": pytest.approx(t01, abs=1e-4),
            "input_tokens": 1200,
            "output_tokens": 150,
            "cache_write_tokens": 5000,
            "cache_read_tokens": 5000,
        },
    }


def test_crossing_the_budget_pauses_the_run_and_resume_with_more_budget_finishes_it(
    tmp_path: Path, api: MessagesServer
) -> None:
    # each task costs $0.03 on sonnet (10k in at $2, 1k out at $10 per million);
    # $0.035: the first task passes the 80% warning, the second exhausts the budget
    config = BASE_CONFIG + "[budget]\ntrack_usd = 0.035\n"
    plan = "".join(task_md(f"T0{i}", f"part {i}", touches=f"`src/p{i}.py`") for i in (1, 2, 3))
    repo = track_repo(tmp_path / "r", plan, files=FILES, config=config)
    base = git(repo, "rev-parse", "main").stdout
    edit = _edit("src/p${SWARM_TASK#T0}.py")
    api.script(*[Turn.reply(edit, _finish(), usage=_usage(10_000, 1_000))] * 2)

    paused = swarm_process(repo, "implement", "t")

    assert paused.returncode == 1, _output(paused)
    assert "git swarm resume t --budget N" in paused.stdout
    assert "budget exhausted: spent $0.06" in paused.stdout
    started = _started(repo)
    assert len(started) == 2
    first, second = started
    budget_events = [message for kind, _, message in _events(repo) if kind == "budget"]
    assert len(budget_events) == 2
    assert "warning threshold" in budget_events[0] and "exhausted" in budget_events[1]
    status = _status(repo)
    states = {t["id"]: (t["status"], t["branch"]) for t in status["tasks"]}
    (third,) = set(states) - {first, second}
    assert states[first][0] == states[second][0] == "done"
    assert states[third] == ("todo", None)  # never started: no branch, no API call
    assert len(api.message_requests()) == 2
    assert status["remaining_usd"] == 0.0
    assert status["budget_state"] == "exhausted"
    assert "budget exhausted" in swarm_process(repo, "status", "t").stdout
    assert git(repo, "rev-parse", "main").stdout == base  # a paused run integrates nothing

    api.script(Turn.reply(edit, _finish(), usage=_usage(10_000, 1_000)))
    resumed = swarm_process(repo, "resume", "t", "--budget", "100")

    assert resumed.returncode == 0, _output(resumed)
    assert "budget of t raised to $100.00" in resumed.stdout
    assert _started(repo) == [first, second, third]
    status = _status(repo)
    assert {t["status"] for t in status["tasks"]} == {"done"}
    assert status["budget_usd"] == 100.0
    assert status["cost_usd"] == pytest.approx(0.09)
    assert status["remaining_usd"] == pytest.approx(99.91)


def test_the_api_key_never_reaches_logs_reports_state_views_or_the_event_log(
    tmp_path: Path, api: MessagesServer
) -> None:
    plan = task_md("T01", "Leaky", touches="`src/`") + task_md("T02", "Doomed", deps="T01", touches="`docs/`")
    repo = track_repo(tmp_path / "r", plan, files=FILES, config=BASE_CONFIG)
    api.script(
        Turn.error(529),  # retried by the SDK; an event in the log
        Turn.reply(
            tool_use(
                "run_command",
                {"command": "echo key=$ANTHROPIC_API_KEY; env; echo 1 > src/leaky.py"},
                id="t_env",
            )
        ),
        # a model that somehow learned the key repeats it wherever it can
        Turn.reply(
            text(f"The key is {KEY}"),
            _finish(
                summary=f"key {KEY}",
                files_touched=[f"src/{KEY}.py"],
                candidates=[
                    {
                        "id": "SC-01",
                        "subtask": f"rotate {KEY}",
                        "touches": ["src/"],
                        "user_input": True,
                        "dedup_key": f"src/|{KEY}",
                    }
                ],
            ),
        ),
        # T02: the API refuses, quoting the key back in its error message
        Turn(status=400, content=(text(f"invalid x-api-key {KEY}"),)),
    )

    done = swarm_process(repo, "implement", "t")

    assert done.returncode == 1, _output(done)
    assert KEY not in _output(done)
    # the key was really used, and the leak paths were really taken
    sent = api.requests[0].headers
    assert KEY in (sent.get("x-api-key"), sent.get("authorization", "").removeprefix("Bearer "))
    env_result = _tool_results(api.message_requests()[2])["t_env"]["content"]
    assert "key=" in env_result and KEY not in env_result
    kinds = [kind for kind, _, _ in _events(repo)]
    assert "rate-limited" in kinds and "spawn-held" in kinds and "failed" in kinds
    track = repo / "swarm/tracks/t"
    assert "***" in (track / "reports/T01.md").read_text()
    assert "***" in (track / "logs/T01.log").read_text()
    assert "invalid x-api-key ***" in (track / "iosm_state.md").read_text()
    checked = [
        track / "iosm_state.md",
        track / "plan.md",
        *track.glob("logs/*"),
        *track.glob("reports/*"),
        *(repo / ".git/swarm").glob("state.db*"),
    ]
    assert {p.name for p in checked} >= {"T01.log", "T02.log", "T01.md", "state.db"}
    for path in checked:
        assert KEY.encode() not in path.read_bytes(), path
    # nor anywhere else in the repository, its worktrees or the scratch space
    files = [*repo.rglob("*"), *(tmp_path / "r.swarm-worktrees").rglob("*")]
    leaks = [p for p in files if p.is_file() and KEY.encode() in p.read_bytes()]
    assert leaks == []


def test_a_shared_note_never_carries_the_key_into_shared_context_or_later_briefs(
    tmp_path: Path, api: MessagesServer
) -> None:
    plan = task_md("T01", "Note", touches="`src/`") + task_md(
        "T02", "Read the note", deps="T01", touches="`docs/`"
    )
    repo = track_repo(tmp_path / "r", plan, files=FILES, config=BASE_CONFIG)
    api.script(
        Turn.reply(tool_use("share_note", {"note": f"the API key is {KEY}"})),
        Turn.reply(_edit("src/app.py"), _finish()),
        Turn.reply(_edit("docs/guide.md"), _finish()),
    )

    done = swarm_process(repo, "implement", "t")

    assert done.returncode == 0, _output(done)
    t02_brief = api.message_requests()[2].body["messages"][0]["content"][0]["text"]
    assert "the API key is ***" in t02_brief
    files = [*repo.rglob("*"), *(tmp_path / "r.swarm-worktrees").rglob("*")]
    leaks = [p for p in files if p.is_file() and KEY.encode() in p.read_bytes()]
    assert leaks == []
