"""Money: what tokens cost, which model a task gets, and where a budget stands.

Pure functions over config values. Prices are USD per million tokens (`config.Price`); the
table lives in `.swarm.toml`, never in code, because prices change.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal, Protocol

from swarmgit.config import Agent, Config, Price
from swarmgit.domain.plan import ConcurrencyClass, Plan, Task

BudgetState = Literal["ok", "warn", "exhausted"]

_PER_TOKEN = 1 / 1_000_000
_ROLE_WORD = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_DEFAULT_ROLE = "default"
_READ_ONLY_ROLE = "read-only"
_FALLBACK_ALIAS = "sonnet"  # when `agent.roles` has no `default`


class TokenCounts(Protocol):
    """Token counts of one or more model calls (`backends.base.Usage` has this shape)."""

    @property
    def input_tokens(self) -> int: ...

    @property
    def output_tokens(self) -> int: ...

    @property
    def cache_write_tokens(self) -> int: ...

    @property
    def cache_read_tokens(self) -> int: ...


@dataclass(frozen=True)
class TokenUsage:
    """Plain token counts (satisfies TokenCounts)."""

    input_tokens: int = 0
    output_tokens: int = 0
    cache_write_tokens: int = 0
    cache_read_tokens: int = 0


TOKENS_PER_EFFORT_HOUR = TokenUsage(
    input_tokens=200_000,
    output_tokens=40_000,
    cache_write_tokens=100_000,
    cache_read_tokens=1_600_000,
)
"""The estimate's assumption for one hour of a task's `Effort`: an agent takes about one turn a
minute, each turn re-sends a context of ~30k tokens (mostly read from the prompt cache), adds
~3k new uncached tokens and writes ~700 tokens. With the default Sonnet prices that is about
1.4 USD per effort-hour. Real runs record real usage; this only feeds `simulate`."""


def cost_usd(usage: TokenCounts, price: Price) -> float:
    """USD for the given token counts at the given per-million prices."""
    return _PER_TOKEN * (
        usage.input_tokens * price.input
        + usage.output_tokens * price.output
        + usage.cache_write_tokens * price.cache_write
        + usage.cache_read_tokens * price.cache_read
    )


def recorded_cost(usage: TokenCounts, price: Price | None, reported: float | None) -> float:
    """The USD one usage record counts for, against the budget and in `status`: its tokens at
    the pricing table's price whenever the model has one and tokens are known (whatever the
    tool itself reported, so every backend is priced alike); else the tool's own figure; else 0."""
    tokens = (usage.input_tokens, usage.output_tokens, usage.cache_write_tokens, usage.cache_read_tokens)
    if price is not None and any(tokens):
        return cost_usd(usage, price)
    return reported or 0.0


def price_hint(model: str) -> str:
    """How to give `model` a price (what every unpriced-model message ends with)."""
    return f'add [pricing."{model}"] with input and output (USD per million tokens) to .swarm.toml'


def unpriced_holds(plan: Plan, config: Config) -> dict[str, str]:
    """Tasks that may not start, by id, with the reason: with `budget.unpriced = "pause"`, every
    task whose model has no price (its spend could not be counted against the budget)."""
    if config.budget.unpriced != "pause":
        return {}
    holds: dict[str, str] = {}
    for task in plan.tasks:
        model = model_for(task, config.agent)
        if model not in config.pricing:
            holds[task.id] = (
                f"waits: model {model} has no price and budget.unpriced is "
                f'"pause"; {price_hint(model)}, then resume'
            )
    return holds


def model_for(task: Task, agent: Agent) -> str:
    """The model id a task runs on.

    A task's own `Model` wins unless it is `auto`: an alias (`haiku`, `sonnet`, `opus`, any key of
    `agent.models`) maps to its id, anything else is taken as a model id. For `auto` the role
    decides through `agent.roles`: the lower-cased role itself, else a configured word in it
    (`Security Reviewer` → `security`), else `read-only` for tasks without touches, else
    `default`. A role's value is again an alias or a model id.
    """
    if task.model.strip().lower() != "auto":
        return _resolve_alias(task.model.strip(), agent)
    return _resolve_alias(agent.roles.get(_role_key(task, agent), _FALLBACK_ALIAS), agent)


def _role_key(task: Task, agent: Agent) -> str:
    role = task.role.strip().lower()
    if role in agent.roles:
        return role
    words: list[str] = _ROLE_WORD.findall(role)
    for word in words:
        if word in agent.roles and word != _DEFAULT_ROLE:
            return word
    if task.read_only or task.concurrency is ConcurrencyClass.READ_ONLY:
        if _READ_ONLY_ROLE in agent.roles:
            return _READ_ONLY_ROLE
    return _DEFAULT_ROLE


def _resolve_alias(name: str, agent: Agent) -> str:
    return agent.models.get(name.lower(), name)


def budget_state(spent: float, limit: float, warn_fraction: float) -> BudgetState:
    """`exhausted` once spent reaches the limit (a limit of 0 allows no spending), `warn` from
    warn_fraction of it, else `ok`."""
    if spent >= limit:
        return "exhausted"
    if spent >= warn_fraction * limit:
        return "warn"
    return "ok"


def per_task_cap(remaining: float, running_tasks: int) -> float:
    """The most a task being started now may spend: an equal share of what is left among it and
    the `running_tasks` already running (not counting itself); never negative.

    Running tasks keep the caps they started with, so a run can overshoot its budget by at most
    the caps still outstanding; no task is ever started once the budget is exhausted.
    """
    if running_tasks < 0:
        raise ValueError(f"running_tasks must be >= 0, got {running_tasks}")
    return max(0.0, remaining) / (running_tasks + 1)


def estimate_task_cost(task: Task, config: Config) -> float | None:
    """Estimated USD of one task from its effort (see TOKENS_PER_EFFORT_HOUR); None when the
    task's model has no price in the pricing table."""
    price = config.pricing.get(model_for(task, config.agent))
    if price is None:
        return None
    return task.effort_minutes / 60 * cost_usd(TOKENS_PER_EFFORT_HOUR, price)


def estimate_plan_cost(plan: Plan, config: Config) -> float:
    """Estimated USD of a whole plan; tasks whose model has no price count as 0 (list them with
    `unpriced_models`)."""
    return sum(estimate_task_cost(task, config) or 0.0 for task in plan.tasks)


def unpriced_models(plan: Plan, config: Config) -> tuple[str, ...]:
    """Model ids the plan's tasks would use that the pricing table does not list, sorted."""
    models = {model_for(task, config.agent) for task in plan.tasks}
    return tuple(sorted(m for m in models if m not in config.pricing))
