from __future__ import annotations

import pytest

from swarmgit.backends.base import Usage
from swarmgit.config import Agent, Config, Price, parse_config
from swarmgit.domain.cost import (
    TOKENS_PER_EFFORT_HOUR,
    TokenUsage,
    budget_state,
    cost_usd,
    estimate_plan_cost,
    estimate_task_cost,
    model_for,
    per_task_cap,
    recorded_cost,
    unpriced_holds,
    unpriced_models,
)
from swarmgit.domain.plan import ConcurrencyClass, Plan, Task

SONNET = Price(input=2.0, output=10.0, cache_write=2.5, cache_read=0.20)


def _task(**fields: object) -> Task:
    base: dict[str, object] = {"id": "T01", "title": "t", "touches": ("src/",)}
    return Task.model_validate({**base, **fields})


def test_cost_counts_every_token_kind_at_its_own_price() -> None:
    usage = Usage(
        "claude-sonnet-5-5",
        input_tokens=1_000_000,
        output_tokens=100_000,
        cache_write_tokens=200_000,
        cache_read_tokens=3_000_000,
    )
    # 1M * 2 + 0.1M * 10 + 0.2M * 2.5 + 3M * 0.2 = 2 + 1 + 0.5 + 0.6
    assert cost_usd(usage, SONNET) == pytest.approx(4.1)
    assert cost_usd(TokenUsage(), SONNET) == 0


def test_cache_reads_are_much_cheaper_than_fresh_input() -> None:
    fresh = cost_usd(TokenUsage(input_tokens=50_000), SONNET)
    cached = cost_usd(TokenUsage(cache_read_tokens=50_000), SONNET)
    assert cached == pytest.approx(fresh / 10)


def test_an_explicit_model_wins_and_aliases_map_to_ids() -> None:
    agent = Agent()
    assert model_for(_task(model="opus", role="Explorer"), agent) == "claude-opus-5-5"
    assert model_for(_task(model="Haiku"), agent) == "claude-haiku-5-5"
    assert model_for(_task(model="claude-custom-1"), agent) == "claude-custom-1"


@pytest.mark.parametrize(
    ("role", "touches", "expected"),
    [
        ("Explorer", (), "claude-haiku-5-5"),
        ("Implementer", (), "claude-haiku-5-5"),  # read-only work
        ("Architect", ("docs/",), "claude-opus-5-5"),
        ("Security Reviewer", ("src/",), "claude-opus-5-5"),
        ("Architect", (), "claude-opus-5-5"),  # the role is more specific than read-only
        ("Implementer", ("src/",), "claude-sonnet-5-5"),
        ("Test Writer", ("tests/",), "claude-sonnet-5-5"),
    ],
)
def test_auto_picks_the_model_by_role(role: str, touches: tuple[str, ...], expected: str) -> None:
    concurrency = ConcurrencyClass.READ_ONLY if not touches else ConcurrencyClass.WRITE_LOCAL
    task = _task(role=role, touches=touches, concurrency=concurrency)
    assert model_for(task, Agent()) == expected


def test_roles_and_models_come_from_the_config() -> None:
    config = parse_config(
        '[agent.models]\nfast = "m-fast"\n[agent.roles]\nimplementer = "fast"\ndefault = "some-model-id"\n'
    )
    assert model_for(_task(role="Implementer"), config.agent) == "m-fast"
    assert model_for(_task(role="Writer"), config.agent) == "some-model-id"
    # the user's tables are laid over the bundled ones: Explorer keeps the bundled choice
    assert model_for(_task(role="Explorer"), config.agent) == "claude-haiku-5-5"


def test_budget_warns_at_the_fraction_and_is_exhausted_at_the_limit() -> None:
    assert budget_state(7.99, 10.0, 0.8) == "ok"
    assert budget_state(8.0, 10.0, 0.8) == "warn"
    assert budget_state(9.99, 10.0, 0.8) == "warn"
    assert budget_state(10.0, 10.0, 0.8) == "exhausted"
    assert budget_state(12.0, 10.0, 0.8) == "exhausted"
    assert budget_state(0.0, 0.0, 0.8) == "exhausted"


def test_per_task_cap_shares_the_remaining_budget() -> None:
    assert per_task_cap(9.0, 0) == 9.0
    assert per_task_cap(9.0, 2) == 3.0
    assert per_task_cap(-1.0, 1) == 0.0
    with pytest.raises(ValueError):
        per_task_cap(1.0, -1)


def test_plan_estimate_follows_effort_and_model_prices() -> None:
    config = Config()
    hour_sonnet = cost_usd(TOKENS_PER_EFFORT_HOUR, config.pricing["claude-sonnet-5-5"])
    hour_haiku = cost_usd(TOKENS_PER_EFFORT_HOUR, config.pricing["claude-haiku-5-5"])
    plan = Plan(
        tasks=(
            _task(id="T01", effort_minutes=120),
            _task(id="T02", role="Explorer", touches=(), effort_minutes=30),
        )
    )
    assert estimate_task_cost(plan.tasks[0], config) == pytest.approx(2 * hour_sonnet)
    assert estimate_plan_cost(plan, config) == pytest.approx(2 * hour_sonnet + hour_haiku / 2)
    assert hour_haiku < hour_sonnet
    assert unpriced_models(plan, config) == ()


def test_models_without_a_price_are_listed_not_guessed() -> None:
    config = Config()
    plan = Plan(tasks=(_task(id="T01", model="gpt-x"), _task(id="T02", effort_minutes=60)))
    assert estimate_task_cost(plan.tasks[0], config) is None
    expected = cost_usd(TOKENS_PER_EFFORT_HOUR, config.pricing["claude-sonnet-5-5"])
    assert estimate_plan_cost(plan, config) == pytest.approx(expected)
    assert unpriced_models(plan, config) == ("gpt-x",)


def test_recorded_cost_is_the_table_price_whenever_tokens_and_a_price_are_known() -> None:
    usage = Usage("claude-sonnet-5-5", input_tokens=1_000_000, output_tokens=100_000, cost_usd=9.99)
    assert recorded_cost(usage, SONNET, usage.cost_usd) == pytest.approx(3.0)  # not the tool's 9.99
    assert recorded_cost(usage, None, usage.cost_usd) == 9.99  # no price: the tool's figure
    assert recorded_cost(usage, None, None) == 0.0
    assert recorded_cost(TokenUsage(), SONNET, 0.5) == 0.5  # no tokens reported: the figure
    assert recorded_cost(TokenUsage(), SONNET, None) == 0.0


def test_unpriced_models_hold_their_tasks_only_when_the_policy_is_pause() -> None:
    plan = Plan(tasks=(_task(id="T01", model="gpt-x"), _task(id="T02")))
    assert unpriced_holds(plan, Config()) == {}
    held = unpriced_holds(plan, parse_config('[budget]\nunpriced = "pause"\n'))
    assert list(held) == ["T01"]
    assert held["T01"].startswith('waits: model gpt-x has no price and budget.unpriced is "pause"')
    assert 'add [pricing."gpt-x"]' in held["T01"]
    priced = parse_config('[budget]\nunpriced = "pause"\n[pricing.gpt-x]\ninput = 1\noutput = 2\n')
    assert unpriced_holds(plan, priced) == {}
