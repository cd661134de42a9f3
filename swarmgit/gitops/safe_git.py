"""swarmgit's own git CLI calls, with nothing from the repository's config run on the way.

An agent (without a write fence) can write the repository's config and hooks: a hook, a
`core.fsmonitor` command or a `filter.<name>.smudge`/`clean`/`process` driver (named by a
`.gitattributes` line inside its touches) would run as the user the next time swarmgit calls
git. Every git command swarmgit starts goes through `run_git`, which:
- sets `core.hooksPath=/dev/null` (git finds no hook there), `core.fsmonitor=false` and
  `submodule.recurse=false` (a checkout does not go on into submodules a config names);
- empties every filter driver named in the repository's own config (local and worktree scope,
  includes followed), so git passes content through unchanged and `required` cannot fail;
- drops inherited `GIT_*` variables that redirect git (GIT_DIR, GIT_INDEX_FILE, ... as set
  inside a hook) or inject config, keeping only identity, trace and global-config ones.
The pre-commit hook's own `git diff --cached` runs inside the user's commit and is left alone.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence
from pathlib import Path

_KEPT_GIT_ENV = (
    "GIT_AUTHOR_",
    "GIT_COMMITTER_",
    "GIT_TRACE",
    "GIT_CONFIG_NOSYSTEM",
    "GIT_CONFIG_GLOBAL",
    "GIT_CONFIG_SYSTEM",
    "GIT_TERMINAL_PROMPT",
    "GIT_TEMPLATE_DIR",
)
_SAFE_OPTIONS = (
    "-c",
    "core.hooksPath=/dev/null",
    "-c",
    "core.fsmonitor=false",
    "-c",
    "submodule.recurse=false",
)
_REPO_SCOPES = frozenset({"local", "worktree"})
_FILTER_KEYS = (("clean", ""), ("smudge", ""), ("process", ""), ("required", "false"))


def clean_env(keep: Sequence[str] = ()) -> dict[str, str]:
    """This process's environment without the GIT_* variables that could point git elsewhere
    or inject config; the names in `keep` are kept too."""
    kept = (*_KEPT_GIT_ENV, *keep)
    return {k: v for k, v in os.environ.items() if not k.startswith("GIT_") or k.startswith(kept)}


def repo_filter_drivers(cwd: Path) -> list[str]:
    """Names of the filter drivers the repository's own config (local or worktree scope,
    following includes) defines, as git reads them."""
    proc = subprocess.run(
        ["git", *_SAFE_OPTIONS, "config", "--list", "--show-scope", "--includes", "--name-only", "-z"],
        cwd=cwd,
        env=clean_env(),
        capture_output=True,
        stdin=subprocess.DEVNULL,
    )
    fields = os.fsdecode(proc.stdout).split("\0")
    names = set()
    for scope, key in zip(fields[::2], fields[1::2], strict=False):
        section, _, rest = key.partition(".")
        if scope in _REPO_SCOPES and section.lower() == "filter" and "." in rest:
            names.add(rest.rpartition(".")[0])
    return sorted(names)


def safe_env(cwd: Path, keep: Sequence[str] = ()) -> dict[str, str]:
    """The environment of a safe git call in `cwd`: `clean_env(keep)`, plus GIT_CONFIG_COUNT/
    KEY/VALUE entries that empty every filter driver of the repository's config."""
    env = clean_env(keep)
    entries = [
        (f"filter.{name}.{key}", value) for name in repo_filter_drivers(cwd) for key, value in _FILTER_KEYS
    ]
    env["GIT_CONFIG_COUNT"] = str(len(entries))
    for index, (key, value) in enumerate(entries):
        env[f"GIT_CONFIG_KEY_{index}"] = key
        env[f"GIT_CONFIG_VALUE_{index}"] = value
    return env


def run_git(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run `git ARGS` in `cwd` with hooks, fsmonitor and the repository's filter drivers off;
    output captured, stdin closed, never raises on a non-zero exit."""
    return subprocess.run(
        ["git", *_SAFE_OPTIONS, *args],
        cwd=cwd,
        env=safe_env(cwd),
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
    )


def run_git_bytes(cwd: Path, *args: str, keep_env: Sequence[str] = ()) -> subprocess.CompletedProcess[bytes]:
    """`run_git` with bytes output (for -z lists and non-UTF-8 paths); `keep_env`: inherited
    GIT_* variables to pass on anyway (e.g. GIT_INDEX_FILE, which `git commit -a` sets)."""
    return subprocess.run(
        ["git", *_SAFE_OPTIONS, *args],
        cwd=cwd,
        env=safe_env(cwd, keep_env),
        capture_output=True,
        stdin=subprocess.DEVNULL,
    )
