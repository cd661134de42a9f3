"""`.swarm.toml`: the example documents every key with its default; bad keys are named."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import BaseModel

from swarmgit.config import Config, load_config, parse_config
from swarmgit.errors import InvalidInput

EXAMPLE = Path(__file__).resolve().parents[1] / ".swarm.example.toml"


def _keys(model: type[BaseModel], prefix: str = "") -> list[str]:
    keys = []
    for name, field in model.model_fields.items():
        key = field.alias or name
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            keys += _keys(annotation, f"{prefix}{key}.")
        else:
            keys.append(f"{prefix}{key}")
    return keys


def test_example_config_is_exactly_the_defaults() -> None:
    assert parse_config(EXAMPLE.read_text(encoding="utf-8")) == Config()


def test_example_config_documents_every_key() -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    for key in _keys(Config):
        section, _, name = key.rpartition(".")
        if section:
            assert f"[{section}]" in text, key
        assert re.search(rf"^#?\s*{re.escape(name)} = ", text, re.M) or f"[{key}" in text, key


def test_missing_file_gives_defaults(tmp_path: Path) -> None:
    assert load_config(tmp_path) == Config()


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("[concurrency]\nmax_paralel = 2\n", "concurrency.max_paralel"),
        ("[gates]\nthreshold = 2.0\n", "gates.threshold"),
        ("[agent]\ntimeout_minutes = 'soon'\n", "agent.timeout_minutes"),
        ("[budgett]\n", "budgett"),
    ],
)
def test_bad_keys_and_values_are_named(text: str, named: str) -> None:
    with pytest.raises(InvalidInput) as info:
        parse_config(text, ".swarm.toml")
    assert named in str(info.value) and ".swarm.toml" in str(info.value)


def test_invalid_toml_names_the_line() -> None:
    with pytest.raises(InvalidInput) as info:
        parse_config("[gates]\nthreshold = = 1\n", ".swarm.toml")
    assert info.value.diagnostics[0].line == 2


def test_user_prices_and_models_add_to_the_bundled_ones() -> None:
    config = parse_config(
        '[pricing.my-model]\ninput = 1.0\noutput = 2.0\n[agent.models]\nopus = "my-model"\n'
    )
    assert config.pricing["my-model"].output == 2.0
    assert config.pricing["claude-sonnet-5-5"] == Config().pricing["claude-sonnet-5-5"]
    assert config.agent.models == {**Config().agent.models, "opus": "my-model"}


def test_model_ids_and_prices_are_not_written_in_the_code() -> None:
    source = (Path(__file__).resolve().parents[1] / "swarmgit" / "config.py").read_text()
    assert "claude-haiku" not in source and "claude-sonnet" not in source and "0.50" not in source
