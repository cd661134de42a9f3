"""`.swarm.toml`: the configuration model, its defaults, and the loader.

Every key is documented, with its default, in `.swarm.example.toml`. Unknown keys and bad values
are errors that name the key (exit 2). Without a `.swarm.toml` the defaults apply.
"""
from __future__ import annotations

import re
import tomllib
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from swarmgit.errors import Diagnostic, InvalidInput

CONFIG_FILE = ".swarm.toml"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Concurrency(_Section):
    max_background: int = Field(4, ge=1)
    max_foreground: int = Field(1, ge=0)
    max_parallel: int = Field(4, ge=1)


class Agent(_Section):
    backend: str = "script"  # script | command | anthropic | claude-code
    command: str = ""  # a template with {brief_file} {task} {worktree} {model}, or a preset name
    timeout_minutes: float = Field(30, gt=0)
    kill_grace_seconds: float = Field(10, ge=0)
    max_retries: int = Field(2, ge=0)
    models: dict[str, str] = Field(
        default_factory=lambda: {
            "haiku": "claude-haiku-5-5",
            "sonnet": "claude-sonnet-5-5",
            "opus": "claude-opus-5-5",
        }
    )
    roles: dict[str, str] = Field(
        default_factory=lambda: {
            "explorer": "haiku",
            "read-only": "haiku",
            "architect": "opus",
            "security": "opus",
            "default": "sonnet",
        }
    )
    max_turns: int = Field(40, ge=1)
    max_tokens: int = Field(8192, ge=256)
    command_timeout_seconds: float = Field(120, gt=0)
    output_cap_bytes: int = Field(20000, ge=1000)


class Price(_Section):
    input: float = Field(ge=0)
    output: float = Field(ge=0)
    cache_write: float = Field(0, ge=0)
    cache_read: float = Field(0, ge=0)


def _default_pricing() -> dict[str, Price]:
    return {
        "claude-haiku-5-5": Price(input=0.10, output=0.50, cache_write=0.125, cache_read=0.01),
        "claude-sonnet-5-5": Price(input=2.0, output=10.0, cache_write=2.5, cache_read=0.20),
        "claude-opus-5-5": Price(input=4.0, output=20.0, cache_write=5.0, cache_read=0.40),
    }


class Budget(_Section):
    track_usd: float = Field(10.0, ge=0)
    warn_fraction: float = Field(0.8, gt=0, le=1)


class Spawn(_Section):
    budget: int = Field(20, ge=0)


class Gates(_Section):
    threshold: float = Field(0.80, ge=0, le=1)
    test_command: str = ""
    test_timeout_seconds: float = Field(600, gt=0)
    duplication_max: float = Field(0.05, ge=0, le=1)
    change_surface_max: float = Field(0.20, ge=0, le=1)
    contracts: list[dict[str, object]] = Field(default_factory=list)


class Worktrees(_Section):
    root: str = ""  # empty: <git common dir>/swarm/worktrees
    setup: list[str] = Field(default_factory=list)
    copy_files: list[str] = Field(default_factory=list, alias="copy")
    port_base: int = Field(20000, ge=1024, le=65000)
    port_block: int = Field(10, ge=1)


class Integrate(_Section):
    target: str = ""  # empty: the branch checked out when `implement` first ran


class Config(_Section):
    concurrency: Concurrency = Field(default_factory=Concurrency)
    agent: Agent = Field(default_factory=Agent)
    pricing: dict[str, Price] = Field(default_factory=_default_pricing)
    budget: Budget = Field(default_factory=Budget)
    spawn: Spawn = Field(default_factory=Spawn)
    gates: Gates = Field(default_factory=Gates)
    worktrees: Worktrees = Field(default_factory=Worktrees)
    integrate: Integrate = Field(default_factory=Integrate)


def parse_config(text: str, path: str = CONFIG_FILE) -> Config:
    """Parse TOML text into a Config; raises InvalidInput naming the file and each bad key."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        found = re.search(r"at line (\d+)", str(exc))
        line = int(found.group(1)) if found else None
        raise InvalidInput([Diagnostic(path, line, f"not valid TOML: {exc}")]) from exc
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        raise InvalidInput(
            [
                Diagnostic(path, None, f"key {'.'.join(str(p) for p in err['loc'])}: {err['msg']}")
                for err in exc.errors()
            ]
        ) from exc


def load_config(repo_root: Path) -> Config:
    """The repo's `.swarm.toml`, or the defaults when there is none."""
    path = repo_root / CONFIG_FILE
    if not path.is_file():
        return Config()
    return parse_config(path.read_text(encoding="utf-8"), str(path))
