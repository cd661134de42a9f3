"""The crash log: what an unexpected error (a bug in swarmgit, exit 3) leaves for a report.

Written to `<git common dir>/swarm/crash/<time>-<pid>.log` when the command ran inside a
repository, else to the temp folder: the command line, versions, and the traceback, every
line redacted of the secret values of the environment.
"""

from __future__ import annotations

import os
import platform
import sys
import tempfile
import time
import traceback
from pathlib import Path

from swarmgit import __version__
from swarmgit.domain.secrets import secrets_from_env
from swarmgit.fsutil import write_atomic


def write_crash_log(exc: BaseException, cwd: Path) -> Path:
    """Write the log for `exc`; returns its path (never raises for a missing repository)."""
    folder = _crash_folder(cwd)
    path = folder / f"{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.log"
    text = "\n".join(
        [
            f"swarmgit {__version__} crashed: {type(exc).__name__}: {exc}",
            f"command: {' '.join(sys.argv)}",
            f"cwd: {cwd}",
            f"python {platform.python_version()} on {platform.platform()}",
            _libgit2_version(),
            "",
            "".join(traceback.format_exception(exc)),
        ]
    )
    write_atomic(path, redacted(text))
    return path


def redacted(text: str) -> str:
    """`text` without the secret values of this process's environment."""
    return secrets_from_env(os.environ).redact(text)


def _crash_folder(cwd: Path) -> Path:
    try:
        from swarmgit.gitops.repo import common_dir, discover

        return common_dir(discover(cwd)) / "swarm" / "crash"
    except Exception:  # no repository, or a broken one: a crash log must still be written
        return Path(tempfile.gettempdir()) / "swarmgit-crash"


def _libgit2_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"pygit2 {version('pygit2')}"
    except PackageNotFoundError:
        return "pygit2: not installed"
