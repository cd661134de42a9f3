"""Install and uninstall swarmgit's pre-commit hook, chaining to the hook that was there.

The hooks folder is git's: `core.hooksPath` when set (a relative value is taken from the top of
the work tree, as git runs hooks there), else `<common dir>/hooks`, shared by every worktree.
Git resolves a relative `core.hooksPath` in each worktree's own top level, so task worktrees
only find the hook under an absolute `core.hooksPath` or the default folder.
A foreign hook is moved aside, byte for byte and mode kept, to `pre-commit.legacy`; ours runs it
after its own check, and `uninstall` moves it back. Both are idempotent. The installed script
execs the absolute path of the installing interpreter (a version-manager shim would add ~100 ms
per commit) and imports swarmgit without `site`, from the folders found here at install time.
"""

from __future__ import annotations

import json
import os
import shlex
import site
import sys
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import swarmgit
from swarmgit.errors import UsageError
from swarmgit.fsutil import write_bytes_atomic
from swarmgit.gitops.repo import common_dir, discover, workdir

HOOK_NAME = "pre-commit"
LEGACY_NAME = "pre-commit.legacy"
MARKER = b"# swarmgit-hook v"

INSTALLED = "installed"
ALREADY_INSTALLED = "already installed"
UPDATED = "updated"
REMOVED = "removed"
RESTORED = "restored"
NOT_INSTALLED = "not installed"


@dataclass(frozen=True)
class InstallResult:
    """`outcome`: installed | already installed | updated. `legacy`: the foreign hook now
    chained after ours, if any."""

    outcome: str
    hook: Path
    legacy: Path | None


def hooks_dir(repo_root: Path) -> Path:
    """The folder git runs this repository's hooks from."""
    repo = discover(repo_root)
    try:
        configured = str(repo.config["core.hooksPath"])
    except KeyError:
        return common_dir(repo) / "hooks"
    return workdir(repo) / os.path.expanduser(configured)


def is_swarmgit_hook(path: Path) -> bool:
    """Whether the file at `path` is a hook swarmgit wrote (any version)."""
    try:
        head = path.read_bytes()[:512]
    except (FileNotFoundError, IsADirectoryError):
        return False
    return MARKER in head


def hook_import_path() -> list[str]:
    """The folders the hook's `python -S` imports swarmgit and its dependencies from: the
    one holding the swarmgit package, then this interpreter's site-packages (after the
    standard library, as site would put them)."""
    path = [_package_root(), *site.getsitepackages()]
    if site.ENABLE_USER_SITE:
        path.append(site.getusersitepackages())
    return path


def render_hook(python: str | None = None) -> bytes:
    """The hook script for interpreter `python` (default: this one)."""
    root = _package_root()
    check = (
        f"import sys; sys.path += {json.dumps(hook_import_path())}; "
        "from swarmgit.hookcheck import main; sys.exit(main())"
    )
    template = (resources.files("swarmgit.hooks") / HOOK_NAME).read_text(encoding="utf-8")
    text = (
        template.replace("@SWARM_PYTHON@", shlex.quote(python or sys.executable))
        .replace("@SWARM_CHECK@", shlex.quote(check))
        .replace("@SWARM_MODULE@", shlex.quote(os.path.join(root, "swarmgit", "hookcheck.py")))
    )
    return text.encode("utf-8")


def install(repo_root: Path, python: str | None = None) -> InstallResult:
    """Install the hook (running `python`, default this interpreter). A foreign pre-commit hook
    is moved to pre-commit.legacy and chained; an older swarmgit hook is replaced. Refuses
    (UsageError) when a foreign hook and a pre-commit.legacy both exist, rather than overwrite
    either."""
    folder = hooks_dir(repo_root)
    hook, legacy = folder / HOOK_NAME, folder / LEGACY_NAME
    wanted = render_hook(python)
    chained = legacy if legacy.exists() or legacy.is_symlink() else None
    if is_swarmgit_hook(hook):
        if hook.read_bytes() == wanted and os.access(hook, os.X_OK):
            return InstallResult(ALREADY_INSTALLED, hook, chained)
        write_bytes_atomic(hook, wanted, mode=0o755)
        return InstallResult(UPDATED, hook, chained)
    if hook.exists() or hook.is_symlink():
        if chained is not None:
            raise UsageError(
                f"cannot install the swarmgit hook: both {hook} and {legacy} exist; merge them "
                f"into one, or move {legacy.name} away, then run `git swarm init` again"
            )
        os.replace(hook, legacy)
        chained = legacy
    folder.mkdir(parents=True, exist_ok=True)
    write_bytes_atomic(hook, wanted, mode=0o755)
    return InstallResult(INSTALLED, hook, chained)


def uninstall(repo_root: Path) -> str:
    """Remove our hook and put back the one it replaced, exactly: `restored`, `removed`
    (there was none), or `not installed` (nothing of ours there; nothing touched)."""
    folder = hooks_dir(repo_root)
    hook, legacy = folder / HOOK_NAME, folder / LEGACY_NAME
    if not is_swarmgit_hook(hook):
        return NOT_INSTALLED
    if legacy.exists() or legacy.is_symlink():
        os.replace(legacy, hook)
        return RESTORED
    hook.unlink()
    return REMOVED


def _package_root() -> str:
    return str(Path(swarmgit.__file__).resolve().parent.parent)
