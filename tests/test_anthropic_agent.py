"""The anthropic backend: the real SDK, pointed at a local Messages API that replays turns."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from swarmgit.backends.anthropic_agent import NUDGE, AnthropicAgent
from swarmgit.backends.base import AgentJob, AgentOutcome
from swarmgit.config import Config, parse_config
from swarmgit.domain.cost import cost_usd
from swarmgit.domain.plan import Task
from swarmgit.domain.report import parse_report
from tests.gitutil import git, make_repo
from tests.messages_server import MessagesServer, Turn, messages_server, text, tool_use

__all__ = ["messages_server"]  # the fixture

KEY = "sk-ant-api03-test-key-that-must-never-leak"
MODEL = "claude-sonnet-5-5"
FAST = {"api_retries": 0, "retry_delays": (0.0,)}


@pytest.fixture
def job(tmp_path: Path, messages_server: MessagesServer) -> AgentJob:
    """T01 in a real linked worktree of a real repo; touches `src/`."""
    repo = make_repo(
        tmp_path / "repo",
        {
            "src/app.py": "def answer():\n    return 41\n",
            "docs/guide.md": "# Guide\n",
            "README.md": "# demo\n",
        },
    )
    worktree = tmp_path / "worktrees" / "T01"
    git(repo, "worktree", "add", "-q", "-b", "swarm/demo/T01", str(worktree))
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "victim.txt").write_text("untouched\n")
    track = tmp_path / "track"
    track.mkdir()
    brief = track / "T01.brief.md"
    brief.write_text("# Task T01: make answer() return 42\n\nTouches: `src/`\n")
    return AgentJob(
        track="demo",
        task=Task(id="T01", title="Fix the answer", touches=("src/",)),
        worktree=worktree,
        brief_file=brief,
        report_file=track / "reports" / "T01.md",
        shared_context=track / "shared_context.md",
        log_file=tmp_path / "logs" / "T01.log",
        env={"ANTHROPIC_API_KEY": KEY, "ANTHROPIC_BASE_URL": messages_server.url},
        config=Config(),
        model=MODEL,
    )


class Events:
    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []

    def __call__(self, kind: str, message: str) -> None:
        self.seen.append((kind, message))

    def kinds(self) -> list[str]:
        return [kind for kind, _ in self.seen]


def _run(job: AgentJob, config: Config | None = None, **options: Any) -> tuple[AgentOutcome, Events]:
    events = Events()
    agent = AnthropicAgent(config or job.config, **{**FAST, **options})
    return agent.run(job, events), events


def _tool_results(request_body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The tool_result blocks of the request's last message, by tool_use id."""
    content = request_body["messages"][-1]["content"]
    return {b["tool_use_id"]: b for b in content if b.get("type") == "tool_result"}


def _usage(inp: int, out: int, write: int = 0, read: int = 0) -> dict[str, int]:
    return {
        "input_tokens": inp,
        "output_tokens": out,
        "cache_creation_input_tokens": write,
        "cache_read_input_tokens": read,
    }


def test_a_full_task_reads_edits_is_refused_outside_commits_and_reports(
    job: AgentJob, messages_server: MessagesServer
) -> None:
    (job.worktree / "src" / "escape").symlink_to(job.worktree.parent.parent / "outside")
    messages_server.script(
        Turn.reply(
            text("Let me look around."),
            tool_use("list_dir", {"path": "."}, id="t_list"),
            tool_use("read_file", {"path": "src/app.py"}, id="t_read"),
            tool_use("search", {"pattern": "return 4"}, id="t_search"),
            usage=_usage(1200, 80, write=900),
        ),
        Turn.reply(
            tool_use(
                "edit_file",
                {"path": "src/app.py", "old_string": "return 41", "new_string": "return 42"},
                id="t_edit",
            ),
            tool_use("write_file", {"path": "docs/guide.md", "content": "hacked"}, id="t_docs"),
            tool_use("write_file", {"path": "../../outside/victim.txt", "content": "x"}, id="t_dotdot"),
            tool_use("write_file", {"path": "src/escape/victim.txt", "content": "x"}, id="t_link"),
            usage=_usage(300, 150, read=900),
        ),
        Turn.reply(
            tool_use(
                "run_command",
                {"command": "git add -A src && git commit -q -m 'T01: 42' && git log --format=%s -1"},
                id="t_commit",
            ),
            tool_use("share_note", {"note": "answer() now returns 42"}, id="t_note"),
            usage=_usage(400, 60, read=900),
        ),
        Turn.reply(
            tool_use(
                "finish",
                {
                    "status": "done",
                    "summary": "answer() returns 42.",
                    "files_touched": ["src/app.py"],
                    "candidates": [
                        {
                            "id": "SC-01",
                            "subtask": "Explain the answer in the guide",
                            "touches": ["docs/guide.md"],
                            "effort": "S",
                            "severity": "low",
                            "dedup_key": "docs/guide.md|explain",
                        }
                    ],
                },
                id="t_finish",
            ),
            usage=_usage(500, 90, read=900),
        ),
    )

    outcome, events = _run(job)

    assert outcome.ok, outcome.diagnosis
    # the edit inside the touches landed and was committed on the task's branch
    assert (job.worktree / "src/app.py").read_text() == "def answer():\n    return 42\n"
    assert git(job.worktree, "log", "--format=%s", "-1").stdout.strip() == "T01: 42"
    assert git(job.worktree, "status", "--porcelain").stdout == ""
    # nothing outside the touches or the worktree changed
    assert (job.worktree / "docs/guide.md").read_text() == "# Guide\n"
    assert (job.worktree.parent.parent / "outside/victim.txt").read_text() == "untouched\n"
    # what the model was told, turn by turn
    requests = messages_server.message_requests()
    assert len(requests) == 4
    first = _tool_results(requests[1].body)
    assert "def answer" in first["t_read"]["content"] and not first["t_read"]["is_error"]
    assert "src/app.py:2:" in first["t_search"]["content"]
    assert "src/" in first["t_list"]["content"]
    second = _tool_results(requests[2].body)
    assert not second["t_edit"]["is_error"]
    assert second["t_docs"]["is_error"]
    assert "outside this task's touches (src/)" in second["t_docs"]["content"]
    for refused in ("t_dotdot", "t_link"):
        assert second[refused]["is_error"]
        assert "outside this task's worktree" in second[refused]["content"]
    third = _tool_results(requests[3].body)
    assert third["t_commit"]["content"].startswith("exit code 0")
    assert "answer() now returns 42" in job.shared_context.read_text()
    # the report, with its spawn candidate, as markdown the orchestrator parses
    assert outcome.report_text is not None
    report, warnings = parse_report(outcome.report_text, "T01.md")
    assert warnings == []
    assert report.status == "done" and report.files_touched == ("src/app.py",)
    assert [c.id for c in report.candidates] == ["SC-01"]
    assert report.candidates[0].touches == ("docs/guide.md",)
    assert job.report_file.read_text() == outcome.report_text
    assert events.seen == []


def test_usage_of_every_response_is_recorded_and_priced(
    job: AgentJob, messages_server: MessagesServer
) -> None:
    messages_server.script(
        Turn.reply(tool_use("list_dir", {}), usage=_usage(1000, 100, write=5000)),
        Turn.reply(tool_use("finish", {"status": "done"}), usage=_usage(200, 50, read=5000)),
    )
    outcome, _ = _run(job)
    assert outcome.ok
    assert [
        (u.model, u.input_tokens, u.output_tokens, u.cache_write_tokens, u.cache_read_tokens)
        for u in outcome.usage
    ] == [(MODEL, 1000, 100, 5000, 0), (MODEL, 200, 50, 0, 5000)]
    price = job.config.pricing[MODEL]
    # by hand: (1000*2 + 100*10 + 5000*2.5) / 1e6 and (200*2 + 50*10 + 5000*0.2) / 1e6
    assert sum(u.cost_usd or 0 for u in outcome.usage) == pytest.approx(0.0155 + 0.0019)
    assert outcome.usage[0].cost_usd == pytest.approx(cost_usd(outcome.usage[0], price))


def test_system_prompt_brief_and_latest_turn_are_marked_for_the_cache(
    job: AgentJob, messages_server: MessagesServer
) -> None:
    messages_server.script(
        Turn.reply(tool_use("list_dir", {})),
        Turn.reply(tool_use("read_file", {"path": "README.md"})),
        Turn.reply(tool_use("finish", {"status": "done"})),
    )
    assert _run(job)[0].ok
    for request in messages_server.message_requests():
        body = request.body
        assert body["system"][-1]["cache_control"] == {"type": "ephemeral"}
        brief = body["messages"][0]["content"][0]
        assert "make answer() return 42" in brief["text"]
        assert brief["cache_control"] == {"type": "ephemeral"}
        marks = json.dumps(body).count('"cache_control"')
        assert marks <= 4  # the API allows four breakpoints
    last = messages_server.message_requests()[-1].body["messages"]
    assert last[-1]["content"][-1]["cache_control"] == {"type": "ephemeral"}
    assert "cache_control" not in last[-3]["content"][-1]  # the breakpoint moved on


def test_an_overloaded_api_is_retried_and_reported(job: AgentJob, messages_server: MessagesServer) -> None:
    messages_server.script(Turn.error(529), Turn.reply(tool_use("finish", {"status": "done"})))
    outcome, events = _run(job, api_retries=2)
    assert outcome.ok
    assert events.kinds() == ["rate-limited"]
    assert "529" in events.seen[0][1] and events.seen[0][1].startswith("T01:")
    assert messages_server.requests[1].headers["x-stainless-retry-count"] == "1"


def test_our_own_backoff_retries_after_the_sdk_gives_up(
    job: AgentJob, messages_server: MessagesServer
) -> None:
    messages_server.script(Turn.error(429), Turn.reply(tool_use("finish", {"status": "done"})))
    slept: list[float] = []
    outcome, events = _run(job, api_retries=0, retry_delays=(0.25,), sleep=slept.append)
    assert outcome.ok
    assert slept == [0.25]
    assert events.kinds() == ["rate-limited", "rate-limited"]
    assert "retry 1/1" in events.seen[1][1]


def test_rate_limits_that_do_not_end_fail_the_task_not_the_run(
    job: AgentJob, messages_server: MessagesServer
) -> None:
    messages_server.script(*[Turn.error(429)] * 4)
    outcome, events = _run(job, api_retries=1, retry_delays=(0.0,))
    assert not outcome.ok
    assert outcome.kind == "rate-limited"
    assert "429" in outcome.diagnosis
    assert messages_server.remaining == 0
    assert events.kinds().count("rate-limited") >= 3


def test_without_a_key_it_fails_with_a_diagnosis_and_calls_nothing(
    job: AgentJob, messages_server: MessagesServer
) -> None:
    keyless = AgentJob(**{**job.__dict__, "env": {"ANTHROPIC_BASE_URL": messages_server.url}})
    outcome, _ = _run(keyless)
    assert not outcome.ok and outcome.kind == "setup-failed"
    assert "ANTHROPIC_API_KEY" in outcome.diagnosis
    assert messages_server.requests == []


def test_a_rejected_key_is_a_setup_failure(job: AgentJob, messages_server: MessagesServer) -> None:
    messages_server.script(Turn.error(401))
    outcome, _ = _run(job)
    assert not outcome.ok and outcome.kind == "setup-failed"
    assert KEY not in outcome.diagnosis


def test_turn_limit_stops_an_agent_that_never_finishes(
    job: AgentJob, messages_server: MessagesServer
) -> None:
    messages_server.script(Turn.reply(text("thinking")), Turn.reply(text("still thinking")))
    config = parse_config("[agent]\nmax_turns = 2\n")
    outcome, _ = _run(job, config)
    assert not outcome.ok and outcome.kind == "max-turns"
    nudge = messages_server.message_requests()[1].body["messages"][-1]["content"][-1]
    assert nudge["text"] == NUDGE
    assert len(outcome.usage) == 2


def test_the_per_task_budget_cap_stops_the_loop(job: AgentJob, messages_server: MessagesServer) -> None:
    capped = AgentJob(**{**job.__dict__, "budget_usd": 0.01})
    messages_server.script(Turn.reply(tool_use("list_dir", {}), usage=_usage(10_000, 1_000)))
    outcome, _ = _run(capped)
    assert not outcome.ok and outcome.kind == "budget"
    assert messages_server.remaining == 0 and len(messages_server.message_requests()) == 1


def test_a_reported_failure_is_a_failed_attempt_with_the_report(
    job: AgentJob, messages_server: MessagesServer
) -> None:
    messages_server.script(
        Turn.reply(tool_use("finish", {"status": "blocked", "summary": "needs a DB password"}))
    )
    outcome, _ = _run(job)
    assert not outcome.ok and outcome.kind == "reported-blocked"
    assert "needs a DB password" in outcome.diagnosis
    assert outcome.report_text is not None and "blocked" in outcome.report_text


def test_an_invalid_report_is_sent_back_to_the_model(job: AgentJob, messages_server: MessagesServer) -> None:
    messages_server.script(
        Turn.reply(tool_use("finish", {"status": "fine"}, id="t_bad")),
        Turn.reply(tool_use("finish", {"status": "done"})),
    )
    outcome, _ = _run(job)
    assert outcome.ok
    bad = _tool_results(messages_server.message_requests()[1].body)["t_bad"]
    assert bad["is_error"] and "status" in bad["content"]


def test_the_key_never_leaks_into_log_outcome_events_or_tool_results(
    job: AgentJob, messages_server: MessagesServer
) -> None:
    (job.worktree / "src" / "settings.py").write_text(f'API_KEY = "{KEY}"\n')
    messages_server.script(
        Turn.error(529),
        Turn.reply(tool_use("run_command", {"command": "echo key=$ANTHROPIC_API_KEY; env"})),
        Turn.reply(tool_use("read_file", {"path": "src/settings.py"})),
        Turn.reply(text(f"I found {KEY}"), tool_use("finish", {"status": "done", "summary": f"key {KEY}"})),
    )
    outcome, events = _run(job, api_retries=1)
    assert outcome.ok
    sent = messages_server.requests[0].headers
    assert KEY in (sent.get("x-api-key"), sent.get("authorization", "").removeprefix("Bearer "))
    assert KEY not in job.log_file.read_text()
    assert KEY not in repr(outcome)
    assert KEY not in repr(events.seen)
    for request in messages_server.message_requests()[1:]:
        assert KEY not in json.dumps(request.body["messages"][1:])


@pytest.fixture(autouse=True)
def _no_stray_servers(messages_server: MessagesServer) -> Iterator[None]:
    yield
    assert messages_server.remaining == 0, "the script was not fully used"


def test_wall_time_limit_ends_a_hanging_request(job: AgentJob, messages_server: MessagesServer) -> None:
    messages_server.script(Turn.reply(text("too late"), delay=3.0))
    config = parse_config("[agent]\ntimeout_minutes = 0.01\n")  # 0.6 s
    outcome, _ = _run(job, config)
    assert not outcome.ok and outcome.kind == "timeout"
    assert "agent.timeout_minutes" in outcome.diagnosis
