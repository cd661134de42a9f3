"""`.swarm.toml`: the configuration model, its defaults, and the loader.

Every key is documented, with its default, in `.swarm.example.toml`. Unknown keys and bad values
are errors that name the key (exit 2). Without a `.swarm.toml` the defaults apply.
"""

from __future__ import annotations

import re
import tomllib
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from swarmgit.errors import Diagnostic, InvalidInput
from swarmgit.fsutil import read_user_text

CONFIG_FILE = ".swarm.toml"


MERGED_TABLES = ("agent.models", "agent.roles", "pricing")
"""Tables whose entries a user's config adds to the bundled ones instead of replacing them."""


@lru_cache(maxsize=1)
def _bundled_maps() -> dict[str, dict[str, Any]]:
    """The MERGED_TABLES of the bundled example config: the defaults of model ids and prices."""
    text = resources.files("swarmgit.templates").joinpath("swarm.example.toml").read_text("utf-8")
    data = tomllib.loads(text)
    return {key: dict(_table(data, key)) for key in MERGED_TABLES}


def _table(data: dict[str, Any], dotted: str) -> dict[str, Any]:
    """The nested table at a dotted key (the same object, so callers may update it); {} if none."""
    for part in dotted.split("."):
        found = data.get(part)
        if not isinstance(found, dict):
            return {}
        data = found
    return data


def _merge_bundled(data: dict[str, Any]) -> dict[str, Any]:
    """The user's config with each MERGED_TABLES table laid over the bundled one."""
    for dotted in MERGED_TABLES:
        parent, _, name = dotted.rpartition(".")
        holder = _table(data, parent) if parent else data
        if isinstance(holder.get(name), dict):
            holder[name] = {**_bundled_maps()[dotted], **holder[name]}
    return data


class _Section(BaseModel):
    # strict: `max_parallel = true` or `timeout_minutes = "30"` are errors, not 1 and 30.
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


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
    # Model ids, role choices and prices live in the bundled .swarm.example.toml, not in code.
    models: dict[str, str] = Field(default_factory=lambda: dict(_bundled_maps()["agent.models"]))
    roles: dict[str, str] = Field(default_factory=lambda: dict(_bundled_maps()["agent.roles"]))
    # Per CLI preset: the task's model id -> the CLI's own spelling of it (see backends/clis/).
    cli_models: dict[str, dict[str, str]] = Field(default_factory=dict)
    max_turns: int = Field(40, ge=1)
    max_tokens: int = Field(8192, ge=256)
    command_timeout_seconds: float = Field(120, gt=0)
    output_cap_bytes: int = Field(20000, ge=1000)
    sandbox: Literal["auto", "required", "off"] = "auto"  # the write fence (swarmgit.sandbox)


class Price(_Section):
    input: float = Field(ge=0)
    output: float = Field(ge=0)
    cache_write: float = Field(0, ge=0)
    cache_read: float = Field(0, ge=0)


def _default_pricing() -> dict[str, Price]:
    return {model: Price.model_validate(price) for model, price in _bundled_maps()["pricing"].items()}


class Budget(_Section):
    track_usd: float = Field(10.0, ge=0)
    warn_fraction: float = Field(0.8, gt=0, le=1)
    unpriced: Literal["warn", "pause"] = "warn"  # a task whose model has no [pricing] entry


class Spawn(_Section):
    budget: int = Field(20, ge=0)


class Gates(_Section):
    threshold: float = Field(0.80, ge=0, le=1)
    test_command: str = ""
    test_timeout_seconds: float = Field(600, gt=0)
    duplication_max: float = Field(0.05, ge=0, le=1)
    change_surface_max: float = Field(0.20, ge=0, le=1)
    max_file_bytes: int = Field(512 * 1024, ge=1)  # a larger file is a finding, never parsed
    contracts: list[dict[str, object]] = Field(default_factory=list)


class Worktrees(_Section):
    root: str = ""  # empty: <parent>/<repo>.swarm-worktrees (taskspace.default_worktrees_root)
    setup: list[str] = Field(default_factory=list)
    copy_files: list[str] = Field(default_factory=list, alias="copy")
    port_base: int = Field(20000, ge=1024, le=65000)
    port_block: int = Field(10, ge=1)
    recycle: bool = True  # a new task takes over a done task's clean worktree (taskspace.prepare)
    checkout: Literal["full", "sparse"] = "full"  # sparse: only touches + Context on disk


class Integrate(_Section):
    target: str = ""  # empty: the branch checked out when `implement` first ran
    history: Literal["tasks", "squash", "merge"] = "tasks"  # how landed tasks are recorded


class Review(_Section):
    required: bool = False  # hold the target's advance until every landed task is accepted


class Notify(_Section):
    command: str = ""  # a shell command run when a task needs you, fails, or the run ends
    timeout_seconds: float = Field(30, gt=0)


class Ray(_Section):
    address: str = ""  # empty: "auto", the cluster this machine's `ray start` joined
    remote: str = ""  # the git remote every node reaches; empty: the repository's `origin`
    max_retries: int = Field(3, ge=0)  # re-runs of an attempt whose worker or node died
    num_cpus: float = Field(0.25, gt=0)  # CPU each task reserves besides its agent_slot


class Config(_Section):
    executor: Literal["local", "ray"] = "local"  # where agents run (swarmgit.engine.executors)
    ray: Ray = Field(default_factory=Ray)
    concurrency: Concurrency = Field(default_factory=Concurrency)
    agent: Agent = Field(default_factory=Agent)
    pricing: dict[str, Price] = Field(default_factory=_default_pricing)
    budget: Budget = Field(default_factory=Budget)
    spawn: Spawn = Field(default_factory=Spawn)
    gates: Gates = Field(default_factory=Gates)
    worktrees: Worktrees = Field(default_factory=Worktrees)
    integrate: Integrate = Field(default_factory=Integrate)
    review: Review = Field(default_factory=Review)
    notify: Notify = Field(default_factory=Notify)


def parse_config(text: str, path: str = CONFIG_FILE) -> Config:
    """Parse TOML text into a Config; raises InvalidInput naming the file and each bad key."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        found = re.search(r"at line (\d+)", str(exc))
        line = int(found.group(1)) if found else None
        raise InvalidInput([Diagnostic(path, line, f"not valid TOML: {exc}")]) from exc
    try:
        return Config.model_validate(_merge_bundled(data))
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
    if not path.exists():
        return Config()
    if not path.is_file():
        raise InvalidInput(
            [
                Diagnostic(
                    str(path),
                    None,
                    "is not a file: remove it, or make it the config file (`git swarm init` writes one)",
                )
            ]
        )
    return parse_config(read_user_text(path).removeprefix("\ufeff"), str(path))  # BOM: Notepad
