"""One source of truth for money: tokens x the [pricing] table, whatever the agent's tool says;
the tool's own figure kept beside it; models without a price warned about, or held."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from swarmgit.store.schema import SCHEMA_VERSION
from swarmgit.store.state import Store
from tests.agents import standin
from tests.gitutil import git, write
from tests.swarmrepo import swarm, task_md, track_repo

# The claude stand-in reports 1200 in, 340 out, 500 cache-write, 7000 cache-read tokens and its
# own figure of $0.0425; it writes agent_output.txt in its worktree.
CLI_USD = 0.0425
SONNET_USD = (1200 * 2.0 + 340 * 10.0 + 500 * 2.5 + 7000 * 0.20) / 1e6  # the bundled table
COMMAND = standin("claude") + ' -p "$(cat {brief_file})" --model {model} --output-format stream-json'
CONFIG = f"""\
[agent]
backend = "command"
command = '{COMMAND}'
[gates]
threshold = 0.0
"""
LOCAL = "my-local-model"


def _status(repo: Path) -> dict[str, Any]:
    result = swarm(repo, "status", "t", "--json")
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.output)
    return data


def _events(repo: Path, kind: str) -> list[str]:
    with Store.open(repo / ".git") as store:
        return [e.message for e in store.events("t") if e.kind == kind]


def test_cost_is_the_table_price_and_the_cli_figure_is_kept_beside_it(tmp_path: Path) -> None:
    repo = track_repo(tmp_path / "r", task_md("T01", "write", touches="`agent_output.txt`"), config=CONFIG)
    result = swarm(repo, "implement", "t")
    assert result.exit_code == 0, result.output
    data = _status(repo)
    (task,) = data["tasks"]
    assert task["cost_usd"] == pytest.approx(SONNET_USD, abs=1e-4)
    assert task["cli_cost_usd"] == CLI_USD
    assert data["cost_usd"] == pytest.approx(SONNET_USD, abs=1e-4)
    assert data["cli_cost_usd"] == CLI_USD
    assert data["remaining_usd"] == pytest.approx(10.0 - SONNET_USD, abs=1e-4)
    assert data["by_model"]["claude-sonnet-5-5"]["usd"] == pytest.approx(SONNET_USD, abs=1e-4)
    assert data["by_model"]["claude-sonnet-5-5"]["cli_usd"] == CLI_USD
    assert data["unpriced_models"] == []
    table = swarm(repo, "status", "t").output
    assert (
        "claude-sonnet-5-5: $0.01 (1200 in, 340 out, 7000 cache-read tokens; its tool reported $0.04)"
        in table
    )


def test_a_model_without_a_price_warns_at_start_and_in_status(tmp_path: Path) -> None:
    plan = task_md("T01", "write", touches="`agent_output.txt`", extra=f"  - **Model:** {LOCAL}")
    repo = track_repo(tmp_path / "r", plan, config=CONFIG)
    result = swarm(repo, "implement", "t")
    assert result.exit_code == 0, result.output
    (warning,) = _events(repo, "warning")
    assert warning.startswith(f"model {LOCAL} has no price in [pricing]")
    assert f'add [pricing."{LOCAL}"] with input and output' in warning
    assert f"model {LOCAL} has no price" in result.output
    data = _status(repo)
    assert data["unpriced_models"] == [LOCAL]
    # No price: the tool's own figure is all there is to count.
    assert data["tasks"][0]["cost_usd"] == CLI_USD
    table = swarm(repo, "status", "t").output
    assert f"warning: model {LOCAL} has no price" in table


def test_with_unpriced_pause_a_task_on_an_unpriced_model_does_not_start(tmp_path: Path) -> None:
    plan = (
        task_md("T01", "local", touches="`agent_output.txt`", extra=f"  - **Model:** {LOCAL}")
        + task_md("T02", "after it", deps="T01", touches="`agent_output.txt`")
        + task_md("T03", "priced", touches="`agent_output.txt`", extra="  - **Model:** sonnet")
    )
    config = CONFIG + '[budget]\nunpriced = "pause"\n'
    repo = track_repo(tmp_path / "r", plan, config=config)
    result = swarm(repo, "implement", "t")
    assert result.exit_code == 1
    tasks = {t["id"]: t for t in _status(repo)["tasks"]}
    assert tasks["T01"]["status"] == "todo" and tasks["T01"]["branch"] is None
    assert tasks["T02"]["status"] == "todo" and tasks["T02"]["branch"] is None
    assert "swarm/t/T01" not in git(repo, "branch", "--list", "swarm/*").stdout
    assert (
        f'T01 waiting: waits: model {LOCAL} has no price and budget.unpriced is "pause"; '
        f'add [pricing."{LOCAL}"] with input and output (USD per million tokens) to .swarm.toml, '
        "then resume"
    ) in result.output
    (warning,) = _events(repo, "warning")
    assert 'tasks on it wait (budget.unpriced = "pause"): T01' in warning
    assert tasks["T03"]["status"] == "done"  # on a priced model, it runs

    # Once the model has a price, resume starts it, and its cost is the table's.
    write(repo, ".swarm.toml", config + f'[pricing."{LOCAL}"]\ninput = 1.0\noutput = 2.0\n')
    git(repo, "commit", "-qam", "price the local model")
    resumed = swarm(repo, "resume", "t")
    assert resumed.exit_code == 0, resumed.output
    tasks = {t["id"]: t for t in _status(repo)["tasks"]}
    assert {t["status"] for t in tasks.values()} == {"done"}
    assert tasks["T01"]["cost_usd"] == pytest.approx((1200 * 1.0 + 340 * 2.0) / 1e6, abs=1e-4)
    assert tasks["T01"]["cli_cost_usd"] == CLI_USD


V1_USAGE = """CREATE TABLE usage (
    id INTEGER PRIMARY KEY AUTOINCREMENT, ts REAL NOT NULL, track TEXT NOT NULL,
    task TEXT NOT NULL, model TEXT NOT NULL, input_tokens INTEGER NOT NULL,
    output_tokens INTEGER NOT NULL, cache_write_tokens INTEGER NOT NULL,
    cache_read_tokens INTEGER NOT NULL, usd REAL NOT NULL
)"""


def test_a_version_1_database_opens_and_gains_the_cli_cost_column(tmp_path: Path) -> None:
    db = tmp_path / "swarm" / "state.db"
    db.parent.mkdir()
    conn = sqlite3.connect(db)
    with conn:
        conn.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        conn.execute("INSERT INTO meta VALUES ('schema_version', '1')")
        conn.execute(V1_USAGE)
        conn.execute(
            "INSERT INTO usage (ts, track, task, model, input_tokens, output_tokens, "
            "cache_write_tokens, cache_read_tokens, usd) VALUES (1, 't', 'T01', 'm', 10, 5, 0, 0, 0.5)"
        )
    conn.close()
    with Store.open(tmp_path) as store:
        store.add_usage(
            "t",
            "T02",
            model="m",
            input_tokens=1,
            output_tokens=1,
            cache_write_tokens=0,
            cache_read_tokens=0,
            usd=0.25,
            cli_usd=0.3,
        )
        cost = store.cost_summary("t")
    assert cost.usd == 0.75 and cost.total.cli_usd == 0.3
    assert cost.by_task["T01"].usd == 0.5 and cost.by_task["T01"].cli_usd is None
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone() == (
        str(SCHEMA_VERSION),
    )
    conn.close()
    with Store.open(tmp_path) as again:  # opening twice migrates nothing twice
        assert again.cost_summary("t").usd == 0.75
