"""Test helpers that drive the real git CLI in temporary repositories."""

from __future__ import annotations

import subprocess
from pathlib import Path


def git(cwd: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run real git in cwd; returns the completed process (stdout/stderr as text)."""
    return subprocess.run(["git", *args], cwd=cwd, check=check, capture_output=True, text=True)


def write(root: Path, rel: str, text: str) -> Path:
    """Write a file under root, creating folders."""
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def make_repo(root: Path, files: dict[str, str] | None = None, branch: str = "main") -> Path:
    """A real repository at root with one commit holding `files` (default: a README)."""
    root.mkdir(parents=True, exist_ok=True)
    git(root, "init", "-q", "-b", branch)
    for rel, text in (files or {"README.md": "# demo\n"}).items():
        write(root, rel, text)
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "initial")
    return root
