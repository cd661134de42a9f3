"""The real aider (PyPI `aider-chat`, installed by `make agents` in its own venv) run by
`git swarm implement` through the `command` backend's `aider` preset, against the local
Messages API stand-in (litellm's Anthropic client): the in-scope edit, the out-of-scope write
refused by the write fence or at commit (aider allows no edit-time hook), gates.test_command run as its --test-cmd,
usage as the server sent it, its cache folder kept out, secrets, and parallel tasks."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.gitutil import git
from tests.messages_server import MessagesServer, Turn, messages_server, text
from tests.realcli import (
    FIX,
    PARALLEL,
    PARALLEL_PLAN,
    cli_track,
    files_containing,
    implement_apart,
    output,
    status_json,
    swarm_config,
    table_price,
    use_cli,
)
from tests.swarmrepo import swarm_process

__all__ = ["messages_server"]  # the fixture
pytestmark = pytest.mark.real_cli

KEY = "sk-ant-api03-real-aider-key-never-logged-0123456789abcdef"
TESTS = 'test_command = "echo tested > src/tests_ran.txt"'


@pytest.fixture
def api(messages_server: MessagesServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[MessagesServer]:
    use_cli(monkeypatch, "aider", {"ANTHROPIC_API_KEY": KEY, "ANTHROPIC_BASE_URL": messages_server.url})
    yield messages_server
    assert messages_server.remaining == 0, "the script was not fully used"


def _edit(*files: tuple[str, str], usage: dict[str, int] | None = None) -> tuple[Turn, Turn]:
    """An answer in aider's `whole` edit format (each file's path, then its new content), twice:
    aider adds the files it mentions to the chat and asks again before it applies the edit."""
    answer = text("".join(f"{path}\n```\n{content}```\n\n" for path, content in files))
    return Turn.reply(answer, usage=usage), Turn.reply(answer, usage=usage)


def test_edits_in_scope_runs_the_test_command_and_records_the_usage_sent(
    tmp_path: Path, api: MessagesServer
) -> None:
    repo, worktrees = cli_track(tmp_path, FIX, lambda root: swarm_config("aider", root, gates=TESTS))
    api.script(*_edit(("src/app.py", "ANSWER = 42\n"), usage={"input_tokens": 900, "output_tokens": 120}))

    base = git(repo, "rev-parse", "main").stdout.strip()
    done = swarm_process(repo, "implement", "t")

    assert done.returncode == 0, output(done)
    first, second = (r.body for r in api.message_requests())
    assert first["model"] == "claude-sonnet-5-5"  # sent as anthropic/claude-sonnet-5-5
    assert "ANSWER = 41" in str(second["messages"])  # aider read the file it added
    branch = "swarm/t/T01"
    assert git(repo, "show", f"{branch}:src/app.py").stdout == "ANSWER = 42\n"
    assert git(repo, "show", f"{branch}:src/tests_ran.txt").stdout == "tested\n"
    assert git(repo, "diff", "--name-only", base, branch).stdout.split() == [
        "src/app.py",
        "src/tests_ran.txt",
    ]
    assert "Your Name" not in (repo / ".git" / "config").read_text()
    status = status_json(repo)
    spent = status["by_model"]["claude-sonnet-5-5"]
    assert (spent["input_tokens"], spent["output_tokens"]) == (2 * 900, 2 * 120)
    assert status["cost_usd"] == pytest.approx(table_price("claude-sonnet-5-5", 2 * 900, 2 * 120), abs=1e-6)
    assert files_containing(KEY, repo, worktrees) == []
    assert KEY not in output(done)


def test_a_write_outside_the_touches_is_refused_and_the_edit_kept(
    tmp_path: Path, api: MessagesServer
) -> None:
    repo, worktrees = cli_track(tmp_path, FIX, lambda root: swarm_config("aider", root))
    api.script(*_edit(("src/app.py", "ANSWER = 42\n"), ("docs/guide.md", "hacked\n")))

    base = git(repo, "rev-parse", "main").stdout.strip()
    done = swarm_process(repo, "implement", "t")

    branch = "swarm/t/T01"
    wt = worktrees / "t" / "T01"
    assert git(repo, "show", f"{branch}:docs/guide.md").stdout == "# Guide\n"
    if done.returncode == 0:  # under the write fence: refused as aider wrote it
        assert (wt / "docs/guide.md").read_text() == "# Guide\n"
        assert git(repo, "show", f"{branch}:src/app.py").stdout == "ANSWER = 42\n"
    else:  # unfenced: refused at commit, nothing committed, the edit left in the worktree
        assert "scope violation" in output(done) and "docs/guide.md" in output(done)
        assert ".aider" not in output(done)  # its caches are not what the diagnosis blames
        assert git(repo, "rev-parse", branch).stdout.strip() == base
        assert (wt / "src/app.py").read_text() == "ANSWER = 42\n"


def test_three_tasks_in_parallel_each_land_their_own_file(tmp_path: Path, api: MessagesServer) -> None:
    repo, _ = cli_track(tmp_path, PARALLEL_PLAN, lambda root: swarm_config("aider", root, parallel=3))
    for tid, path in PARALLEL.items():
        # the brief names the file (its touches): aider adds it to the chat from the start
        api.script_for(f"# Task {tid}:", _edit((path, f"NAME = {tid!r}\n"))[0])

    implement_apart(repo, PARALLEL)

    assert sorted(git(repo, "ls-tree", "--name-only", "main", "src/").stdout.split()) == [
        "src/app.py",
        "src/t01.py",
        "src/t02.py",
        "src/t03.py",
    ]


def test_aider_exiting_0_without_an_answer_fails_with_its_error_line(
    tmp_path: Path, api: MessagesServer
) -> None:
    repo, _ = cli_track(tmp_path, FIX, lambda root: swarm_config("aider", root))
    api.script(Turn(status=401, content=(text("invalid x-api-key (scripted)"),)))

    done = swarm_process(repo, "implement", "t")

    assert done.returncode == 1
    assert "T01 failed (command-failed): the agent reported an error: litellm.AuthenticationError" in (
        output(done)
    )
    assert "invalid x-api-key (scripted)" in output(done)
    assert KEY not in output(done)
