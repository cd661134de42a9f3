"""The scenario every real CLI is driven through, with `git swarm implement`, the `command`
backend and the CLI's preset, against a scripted model server speaking the CLI's protocol.

One task (touches `src/`) reads a file, writes one file in scope and one out of scope, runs a
shell command that leaves a marker and finishes; then three tasks in parallel each write their
own file. A `Cli` says how one CLI is reached: its preset, executable, environment (key and
base URL) and the tool calls of its script.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

from swarmgit.config import parse_config
from swarmgit.domain.cost import TokenUsage, cost_usd
from tests.gitutil import git
from tests.realcli import (
    cli_track,
    files_containing,
    implement_apart,
    output,
    status_json,
    swarm_config,
    use_cli,
)
from tests.realcli.scripted import ScriptedServer, Tokens, Turn, WireProtocol, serve
from tests.swarmrepo import swarm_process, task_md

PRICE = {"input": 2.0, "output": 10.0, "cache_write": 2.5, "cache_read": 0.2}
TOKENS = (
    Tokens(10_000, 1_000, 4_000),
    Tokens(12_000, 1_500, 8_000),
    Tokens(14_000, 500),
    Tokens(16_000, 2_000, 10_000),
    Tokens(20_000, 3_000, 12_000),
)


@dataclass(frozen=True)
class Cli:
    preset: str
    executable: str
    model: str
    """The task's model id (priced in the test's [pricing]); `spelled` is the CLI's name for it."""
    spelled: str
    key: str
    env: Callable[[str], Mapping[str, str]]
    """The environment pointing the CLI at the server (given its URL), with the key."""
    read: Callable[[Path, str], Turn]
    write: Callable[[Path, str, str], Turn]
    shell: Callable[[str], Turn]
    """Turns calling the CLI's own tools: read (worktree, path), write (worktree, path, content),
    run a shell command. Paths are relative to the worktree."""
    refusal: str
    """What the CLI's edit-time refusal of the out-of-scope write says to the model."""


def config(cli: Cli, worktrees: Path, parallel: int = 1, test_command: str = "") -> str:
    """The preset's .swarm.toml, plus the price of the task's model and the CLI's name for it."""
    price = "\n".join(f"{k} = {v}" for k, v in PRICE.items())
    models = (
        f'[agent.cli_models.{cli.preset}]\n"{cli.model}" = "{cli.spelled}"\n'
        if cli.spelled != cli.model
        else ""
    )
    gates = f'test_command = "{test_command}"' if test_command else ""
    return (
        swarm_config(cli.preset, worktrees, parallel, gates) + f'[pricing."{cli.model}"]\n{price}\n{models}'
    )


def _task(tid: str, title: str, touches: str, model: str) -> str:
    return task_md(tid, title, touches=touches, extra=f"  - **Model:** {model}")


def cli_server(cli: Cli, protocol: WireProtocol, monkeypatch: pytest.MonkeyPatch) -> Iterator[ScriptedServer]:
    """A started server speaking `protocol`, the environment (inherited by `git swarm`, then
    the CLI) pointing `cli` at it; stopped when the generator closes (for fixtures)."""
    for server in serve(protocol):
        use_cli(monkeypatch, cli.executable, dict(cli.env(server.url)))
        yield server


def _priced(tokens: tuple[Tokens, ...], cli: Cli) -> tuple[dict[str, int], float]:
    """What the server sent, as swarmgit records it, and its price from the table."""
    spent = {
        "input_tokens": sum(t.input - t.cached for t in tokens),
        "output_tokens": sum(t.output for t in tokens),
        "cache_write_tokens": 0,
        "cache_read_tokens": sum(t.cached for t in tokens),
    }
    price = parse_config(config(cli, Path("/unused"))).pricing[cli.model]
    return spent, cost_usd(TokenUsage(**spent), price)


def scope_shell_and_usage(tmp_path: Path, cli: Cli, server: ScriptedServer) -> None:
    """The one-task scenario; asserts branch, scope, shell marker, usage, cost and secrecy."""
    repo, worktrees = cli_track(
        tmp_path,
        _task("T01", "Fix the answer", "`src/`", cli.model),
        lambda root: config(cli, root, test_command="true"),
    )
    wt = worktrees / "t" / "T01"
    turns = (
        cli.read(wt, "src/app.py"),
        cli.write(wt, "src/app.py", "ANSWER = 42\n"),
        cli.write(wt, "docs/guide.md", "hacked\n"),
        cli.shell("echo ran > src/shell_marker.txt"),
        Turn.say("Done: ANSWER is 42."),
    )
    server.script("Task T01:", *(Turn(t.text, t.calls, tokens) for t, tokens in zip(turns, TOKENS)))
    base = git(repo, "rev-parse", "HEAD").stdout.strip()

    done = swarm_process(repo, "implement", "t")

    assert done.returncode == 0, output(done)
    assert server.remaining("Task T01:") == 0
    requests = server.turn_requests("Task T01:")
    assert "Run the project's tests with `true`" in requests[0].raw  # gates.test_command
    assert "ANSWER = 41" in requests[1].raw  # the read's result went back to the model
    assert cli.refusal in requests[3].raw  # refused at edit time, the model told why
    branch = "swarm/t/T01"
    assert git(repo, "show", f"{branch}:src/app.py").stdout == "ANSWER = 42\n"
    assert git(repo, "show", f"{branch}:src/shell_marker.txt").stdout == "ran\n"
    assert git(repo, "diff", "--name-only", base, branch).stdout.split() == [
        "src/app.py",
        "src/shell_marker.txt",
    ]
    assert (worktrees / "t" / "T01" / "docs/guide.md").read_text() == "# Guide\n"
    assert git(repo, "show", "main:docs/guide.md").stdout == "# Guide\n"
    # the usage the server sent, recorded under the task's model id, priced by the table
    expected, usd = _priced(TOKENS, cli)
    spent = status_json(repo)["by_model"]
    assert list(spent) == [cli.model]
    assert {k: spent[cli.model][k] for k in expected} == expected
    assert spent[cli.model]["usd"] == pytest.approx(usd, abs=1e-4)
    assert files_containing(cli.key, repo, worktrees) == []
    assert cli.key not in output(done)


def parallel_tasks(tmp_path: Path, cli: Cli, server: ScriptedServer) -> None:
    """Three tasks at once, each landing its own file on its own branch."""
    names = {"T01": "alpha", "T02": "beta", "T03": "gamma"}
    plan = "".join(_task(tid, f"Write {name}", f"`src/{name}/`", cli.model) for tid, name in names.items())
    repo, worktrees = cli_track(tmp_path, plan, lambda root: config(cli, root, 3))
    for tid, name in names.items():
        server.script(
            f"Task {tid}:",
            cli.write(worktrees / "t" / tid, f"src/{name}/out.txt", f"{name}\n"),
            Turn.say(f"wrote {name}"),
        )

    done = implement_apart(repo, {tid: f"src/{name}/out.txt" for tid, name in names.items()})

    for tid, name in names.items():
        assert server.remaining(f"Task {tid}:") == 0
        assert git(repo, "show", f"swarm/t/{tid}:src/{name}/out.txt").stdout == f"{name}\n"
    assert cli.key not in output(done)


def api_error_is_diagnosed(tmp_path: Path, cli: Cli, server: ScriptedServer) -> None:
    """The model API refuses the key: the task fails with the API's message, not silently."""
    repo, worktrees = cli_track(
        tmp_path, _task("T01", "Fix the answer", "`src/`", cli.model), lambda root: config(cli, root)
    )
    server.script("Task T01:", *[Turn.error(401, "Incorrect API key provided: sk-...wxyz")] * 8)

    done = swarm_process(repo, "implement", "t")

    assert done.returncode == 1, output(done)
    task = {t["id"]: t for t in status_json(repo)["tasks"]}["T01"]
    assert task["status"] == "failed"
    assert "Incorrect API key provided" in task["reason"], task["reason"]
    assert cli.key not in output(done)
