"""The one Messages API client setup the planner and the anthropic agent share.

`client(env, ...)` builds the SDK client from the environment (ANTHROPIC_API_KEY, optional
ANTHROPIC_BASE_URL); `EPHEMERAL` is the prompt-cache marker both put on their system prompt and
last message; `usage_of` turns a response's token counts into a priced `Usage`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

import anthropic
from anthropic.types import CacheControlEphemeralParam

from swarmgit.backends.base import Usage
from swarmgit.config import Price
from swarmgit.domain.cost import cost_usd

EPHEMERAL: CacheControlEphemeralParam = {"type": "ephemeral"}


def client(
    env: Mapping[str, str],
    *,
    retries: int,
    timeout_s: float | None = None,
    on_response: Callable[[Any], None] | None = None,
) -> anthropic.Anthropic:
    """An SDK client for the key and base URL in `env`, retrying `retries` times; each HTTP
    response (the SDK's retries included) is passed to `on_response` when given."""
    hooks = {"response": [on_response]} if on_response else {}
    return anthropic.Anthropic(
        api_key=env.get("ANTHROPIC_API_KEY"),
        base_url=env.get("ANTHROPIC_BASE_URL") or None,
        max_retries=retries,
        http_client=anthropic.DefaultHttpxClient(event_hooks=hooks),
        timeout=anthropic.NOT_GIVEN if timeout_s is None else timeout_s,
    )


def usage_of(tokens: Any, model: str, price: Price | None) -> Usage:
    """A response's `usage` as a `Usage`, costed when the model has a price."""
    counted = Usage(
        model=model,
        input_tokens=tokens.input_tokens,
        output_tokens=tokens.output_tokens,
        cache_write_tokens=tokens.cache_creation_input_tokens or 0,
        cache_read_tokens=tokens.cache_read_input_tokens or 0,
    )
    return replace(counted, cost_usd=cost_usd(counted, price) if price else None)
