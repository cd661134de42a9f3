"""Atomic writes keep modes: a new file gets the usual mode (umask), an existing one keeps its."""

from __future__ import annotations

import os
from pathlib import Path

from swarmgit.fsutil import write_atomic


def test_a_new_file_gets_the_umask_mode_not_0600(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        write_atomic(tmp_path / "new.md", "x")
    finally:
        os.umask(old)
    assert (tmp_path / "new.md").stat().st_mode & 0o777 == 0o644


def test_an_existing_file_keeps_its_mode(tmp_path: Path) -> None:
    path = tmp_path / "run.sh"
    path.write_text("old")
    path.chmod(0o750)
    write_atomic(path, "new")
    assert path.stat().st_mode & 0o777 == 0o750 and path.read_text() == "new"
