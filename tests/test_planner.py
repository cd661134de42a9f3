"""LLM planning for `new-track`: the real SDK against a local Messages API replaying turns."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from swarmgit.commands.new_track import NO_KEY_NOTE, Planning, new_track
from swarmgit.commands.planning import plan_check
from swarmgit.config import Config
from swarmgit.domain.cost import TokenUsage, cost_usd
from swarmgit.domain.plan_parser import parse_plan
from swarmgit.engine.planner import PRD_SECTIONS, SPEC_SECTIONS, TrackInfo, plan_from_input
from swarmgit.engine.repo_digest import DigestLimits, read_digest, tracked_at_head
from swarmgit.engine.seed import BROWNFIELD, GREENFIELD, Question, Seed, answer_seed
from swarmgit.engine.workspace import open_workspace
from swarmgit.errors import InvalidInput, UsageError, WorkFailed
from tests.gitutil import make_repo, write
from tests.messages_server import MessagesServer, Turn, messages_server, tool_use

__all__ = ["messages_server"]  # the fixture

KEY = "sk-ant-api03-planner-key-that-must-never-leak"
OPUS = "claude-opus-5-5"
INFO = TrackInfo("Add caching to forecast lookups", "cache", "2025-01-02")
FILES = ["README.md", "src/forecast/__init__.py", "src/forecast/lookup.py", "tests/test_lookup.py"]


def _documents() -> dict[str, Any]:
    return {
        "prd": {key: f"The {title.lower()} of caching." for key, title in PRD_SECTIONS},
        "spec": {key: f"The {title.lower()} of the cache." for key, title in SPEC_SECTIONS},
    }


def _task(tid: str, touches: list[str], deps: list[str], **over: Any) -> dict[str, Any]:
    return {
        "id": tid,
        "title": f"Task {tid}",
        "role": "Implementer",
        "deps": deps,
        "touches": touches,
        "concurrency": "write-local" if touches else "read-only",
        "effort": "2h",
        "severity": "medium",
        "acceptance": f"{tid} tests pass",
        "needs_user_input": False,
        **over,
    }


def _plan(
    *, cache_touch: str = "src/forecast/cache.py", t03_deps: tuple[str, ...] = ("T02",), **t02: Any
) -> dict[str, Any]:
    return {
        "tasks": [
            _task("T01", [], [], role="Explorer", effort="S"),
            _task("T02", [cache_touch, "src/forecast/lookup.py"], ["T01"], **t02),
            _task("T03", ["tests/test_cache.py"], list(t03_deps), role="Tester"),
        ]
    }


@pytest.fixture
def forecast(tmp_path: Path) -> Path:
    """A brownfield repo whose README (wrongly) holds the API key, and a tracked .env file."""
    return make_repo(
        tmp_path / "repo",
        {
            "README.md": f"# Forecast service\nServes forecasts. Run with ANTHROPIC_API_KEY={KEY}\n",
            "pyproject.toml": '[project]\nname = "forecast"\n',
            "src/forecast/__init__.py": "",
            "src/forecast/lookup.py": "def lookup(city):\n    return {'city': city}\n",
            "tests/test_lookup.py": "def test_lookup():\n    assert True\n",
            ".env": "DATABASE_PASSWORD=hunter2-very-secret\n",
        },
    )


def _planning(server: MessagesServer, **over: Any) -> Planning:
    env = {"ANTHROPIC_API_KEY": KEY, "ANTHROPIC_BASE_URL": server.url}
    return Planning(**{"env": env, "api_retries": 0, **over})


def _files_under(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): p.read_text() for p in folder.rglob("*") if p.is_file()}


def test_new_track_fixes_an_invalid_plan_from_the_errors_then_writes_all_three(
    forecast: Path, messages_server: MessagesServer
) -> None:
    messages_server.script(
        Turn.reply(
            tool_use("write_documents", _documents()),
            tool_use("write_plan", _plan(cache_touch="cache/redis.py")),
            usage={"input_tokens": 3000, "output_tokens": 2000},
        ),
        Turn.reply(
            tool_use("write_plan", _plan()),
            usage={"input_tokens": 400, "output_tokens": 700, "cache_read_input_tokens": 3000},
        ),
    )
    asked: list[Question] = []
    answers = {"mode": "b", "priorities": "latency under 5 ms", "constraints": "no new dependencies"}

    def ask(question: Question) -> str:
        asked.append(question)
        return answers[question.key]

    said: list[str] = []
    ws = open_workspace(forecast)
    folder = new_track(
        ws, INFO.title, "cache", planning=_planning(messages_server, ask=ask), echo=said.append
    )

    assert [q.key for q in asked] == ["mode", "priorities", "constraints"]
    assert asked[0].default == BROWNFIELD
    first, second = (r.body for r in messages_server.message_requests())
    assert first["model"] == OPUS
    prompt = first["messages"][0]["content"][0]["text"]
    for shown in (
        "brownfield",
        "latency under 5 ms",
        "no new dependencies",
        "src/forecast/lookup.py",
        "# Forecast service",
        'name = "forecast"',
    ):
        assert shown in prompt
    assert "hunter2" not in prompt  # .env is listed, never quoted
    results = [b for b in second["messages"][-1]["content"] if b["type"] == "tool_result"]
    assert [r["is_error"] for r in results] == [False, True]
    assert "cache/redis.py" in results[1]["content"] and "does not exist" in results[1]["content"]

    documents = _files_under(folder)
    assert sorted(documents) == [".gitignore", "PRD.md", "plan.md", "shared_context.md", "spec.md"]
    for n, (_, heading) in enumerate(PRD_SECTIONS, 1):
        assert f"## {n}. {heading}\nThe {heading.lower()} of caching." in documents["PRD.md"]
    assert "## Acceptance tests\nThe acceptance tests of the cache." in documents["spec.md"]
    plan = parse_plan(documents["plan.md"])
    assert plan.ids == ("T01", "T02", "T03")
    assert plan.task("T02").touches == ("src/forecast/cache.py", "src/forecast/lookup.py")
    assert "0 warnings" in plan_check(ws, "cache")

    spent = TokenUsage(input_tokens=3400, output_tokens=2700, cache_read_tokens=3000)
    expected = cost_usd(spent, Config().pricing[OPUS])
    assert f"planned by {OPUS} in 2 turns" in said[-1] and f"${expected:.4f}" in said[-1]
    everything = [*documents.values(), *said, *(json.dumps(r.body) for r in messages_server.requests)]
    assert not [piece for piece in everything if KEY in piece]


def test_plan_still_invalid_after_the_last_attempt_exits_2_and_writes_nothing(
    forecast: Path, messages_server: MessagesServer
) -> None:
    messages_server.script(
        Turn.reply(
            tool_use("write_documents", _documents()), tool_use("write_plan", _plan(t03_deps=("T09",)))
        ),
        Turn.reply(tool_use("write_plan", _plan(effort="two days"))),
        Turn.reply(tool_use("write_plan", _plan()), stop_reason="max_tokens"),
    )
    ws = open_workspace(forecast)
    with pytest.raises(InvalidInput) as failed:
        new_track(ws, INFO.title, "cache", planning=_planning(messages_server))

    assert failed.value.exit_code == 2
    message = str(failed.value)
    assert "after 3 turns" in message and "nothing was written" in message
    assert "cut off at the output limit" in message
    requests = messages_server.message_requests()
    assert "'T09', which is not a task" in json.dumps(requests[1].body)
    assert "bad effort 'two days'" in json.dumps(requests[2].body)
    assert not (forecast / "swarm").exists()


def test_warnings_go_back_to_the_model_but_the_last_attempt_accepts_them(
    forecast: Path, messages_server: MessagesServer
) -> None:
    unchecked = _plan(acceptance="")
    messages_server.script(
        Turn.reply(tool_use("write_documents", _documents()), tool_use("write_plan", unchecked)),
        Turn.reply(tool_use("write_plan", unchecked)),
    )
    said: list[str] = []
    folder = new_track(
        open_workspace(forecast),
        INFO.title,
        "cache",
        planning=_planning(messages_server, max_attempts=2),
        echo=said.append,
    )

    second = json.dumps(messages_server.message_requests()[1].body)
    assert "T02 has no acceptance criteria" in second
    assert any(line.startswith("warning: T02 has no acceptance criteria") for line in said)
    assert parse_plan((folder / "plan.md").read_text()).task("T02").acceptance == ""


def test_api_failure_is_exit_1_names_the_status_and_writes_nothing(
    forecast: Path, messages_server: MessagesServer
) -> None:
    messages_server.script(Turn.error(529))
    with pytest.raises(WorkFailed) as failed:
        new_track(open_workspace(forecast), INFO.title, "cache", planning=_planning(messages_server))
    assert failed.value.exit_code == 1
    assert "HTTP 529" in str(failed.value) and KEY not in str(failed.value)
    assert not (forecast / "swarm" / "tracks" / "cache").exists()


def test_no_llm_writes_the_templates_and_calls_no_model(
    forecast: Path, messages_server: MessagesServer
) -> None:
    said: list[str] = []
    folder = new_track(open_workspace(forecast), INFO.title, "cache", planning=None, echo=said.append)
    assert "## 1. Problem\nWhat is wrong or missing today" in (folder / "PRD.md").read_text()
    assert parse_plan((folder / "plan.md").read_text()).ids == ("T01", "T02", "T03")
    assert messages_server.requests == [] and said == []


def test_without_a_key_the_templates_are_written_with_a_note(forecast: Path) -> None:
    said: list[str] = []
    folder = new_track(open_workspace(forecast), INFO.title, "cache", planning=Planning(), echo=said.append)
    assert said == [NO_KEY_NOTE]
    assert "What is wrong or missing today" in (folder / "PRD.md").read_text()


def test_default_answers_are_taken_without_asking_greenfield_in_an_empty_repo(
    repo: Path, messages_server: MessagesServer
) -> None:
    messages_server.script(
        Turn.reply(
            tool_use("write_documents", _documents()),
            tool_use(
                "write_plan",
                {
                    "tasks": [
                        _task("T01", ["app/"], []),
                        _task("T02", ["app/main.py", "app/api/"], ["T01"]),
                        _task("T03", ["app/api/routes.py"], ["T02"]),
                    ]
                },
            ),
        ),
    )
    folder = new_track(
        open_workspace(repo), "A todo app", "todo", planning=_planning(messages_server, ask=None)
    )
    prompt = messages_server.message_requests()[0].body["messages"][0]["content"][0]["text"]
    assert "Project: greenfield" in prompt and "Priorities: correctness" in prompt
    assert "Constraints: none given" in prompt
    assert parse_plan((folder / "plan.md").read_text()).task("T03").deps == ("T02",)


def test_only_unanswered_questions_are_asked_and_a_bad_mode_is_refused() -> None:
    asked: list[str] = []

    def ask(question: Question) -> str:
        asked.append(question.key)
        return ""

    seed = answer_seed(Seed(mode=GREENFIELD, constraints=("py3.11",)), FILES, ask)
    assert asked == ["priorities"]
    assert seed == Seed(GREENFIELD, ("correctness, small, reviewable changes",), ("py3.11",))
    with pytest.raises(UsageError, match="greenfield or brownfield"):
        answer_seed(Seed(), FILES, lambda q: "sideways")


@pytest.mark.parametrize(
    "touches, problem",
    [
        (["src/forecast/lookup.py", "src/forecast/"], None),  # tracked file, tracked folder
        (["src/forecast/cache.py"], None),  # new file in a tracked folder
        (["src/forecast/cache/", "src/forecast/cache/redis.py"], None),  # declared new folder
        (["src/forecast/**/*.py"], None),  # glob under a tracked folder
        (["lib/cache.py"], "folder `lib/` does not exist"),
        (["src/store/redis/client.py"], "folder `src/store/redis/` does not exist"),
        (["lib/**/*.py"], "glob under `lib/`"),
    ],
)
def test_touches_must_name_real_paths_or_new_ones_under_real_folders(
    touches: list[str], problem: str | None
) -> None:
    attempt = plan_from_input({"tasks": [_task("T01", touches, [])]}, FILES, INFO)
    if problem is None:
        assert attempt.errors == ()
    else:
        assert len(attempt.errors) == 1 and problem in attempt.errors[0]
        assert attempt.errors[0].startswith("T01: touch")


def test_malformed_tool_input_is_reported_per_task() -> None:
    attempt = plan_from_input(
        {
            "tasks": [
                _task("T01", ["src/"], ["T02"]),
                _task("T02", ["tests/"], ["T01"], severity="urgent"),
                "not a task",
            ]
        },
        FILES,
        INFO,
    )
    assert any(e.startswith("T02: severity") for e in attempt.errors)
    assert "write_plan: tasks[2] is not an object" in attempt.errors
    cycle = plan_from_input(
        {"tasks": [_task("T01", ["src/"], ["T02"]), _task("T02", ["tests/"], ["T01"])]}, FILES, INFO
    )
    assert any("dependency cycle" in e for e in cycle.errors)
    assert plan_from_input({"tasks": []}, FILES, INFO).errors[0].startswith("write_plan:")


def test_digest_caps_the_tree_and_quotes_key_files_within_the_budget(tmp_path: Path) -> None:
    files = {f"pkg/mod{i:03}.py": "x = 1\n" for i in range(50)}
    files.update(
        {
            "README.md": "# Readme\n",
            "pyproject.toml": "[project]\n",
            "pkg/caching.py": "CACHE = {}\n" * 200,
            "pkg/logo.png.py": "\0binary",
            "secrets/credentials.py": "TOKEN = 'x'\n",
        }
    )
    root = make_repo(tmp_path / "big", files)
    write(root, "untracked_cache.py", "not tracked\n")
    tracked = tracked_at_head(root)
    limits = DigestLimits(tree_entries=10, total_bytes=700, file_bytes=1000)
    digest = read_digest(root, tracked, "Add caching and credentials", limits)

    assert digest.files == tracked and "untracked_cache.py" not in digest.text
    quoted = [
        line[3:] for line in digest.text.splitlines() if line.startswith("## ") and "Tracked" not in line
    ]
    assert quoted == ["README.md", "pyproject.toml", "pkg/caching.py"]
    assert "pkg/ (52 files)" in digest.text and "more lines left out" in digest.text
    assert "(cut: 681 of 2200 bytes shown)" in digest.text  # what README and pyproject left
    assert "TOKEN" not in digest.text


def test_the_planners_context_paths_reach_plan_md_and_a_missing_one_is_a_warning() -> None:
    attempt = plan_from_input(
        {
            "tasks": [
                _task(
                    "T01", ["src/forecast/cache.py"], [], context=["src/forecast/lookup.py", "docs/cache.md"]
                ),
            ]
        },
        FILES,
        INFO,
    )

    assert attempt.errors == ()
    assert "- **Context:** `src/forecast/lookup.py`, `docs/cache.md`" in attempt.text
    assert parse_plan(attempt.text).tasks[0].context == ("src/forecast/lookup.py", "docs/cache.md")
    assert [w for w in attempt.warnings if "docs/cache.md" in w] == [
        "T01's context `docs/cache.md` names no tracked file or folder and no touch of the plan: "
        'a sparse worktree (worktrees.checkout = "sparse") would not hold it; fix the path'
    ]
