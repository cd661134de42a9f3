"""A fingerprint of the repository's own git files that could make git run code, and its diff.

What an agent without a write fence could plant to run code as the user: `.git/config`
(`core.fsmonitor`, `core.hooksPath`, filter drivers, includes), every file of `.git/hooks/`,
`.git/info/` (attributes, exclude, sparse-checkout), the hooks folder `core.hooksPath` names
(where the swarmgit hook lives then), and each linked worktree's own `config.worktree`.
A fingerprint maps each file's display path to `<mode>:<sha256>` (a symlink: `link:<target>`);
file contents are never kept, so a diff names paths and how they changed, nothing more.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from swarmgit.gitops.hook_install import hooks_dir

Fingerprint = dict[str, str]


@dataclass(frozen=True)
class FileChange:
    """One changed git file: `how` is added, removed, modified or mode changed."""

    path: str
    how: str

    def render(self) -> str:
        return f"{self.path} ({self.how})"


def fingerprint(root: Path, common_dir: Path) -> Fingerprint:
    """The fingerprint of the repository at `root` (main worktree) with git common dir
    `common_dir`; paths inside `root` are shown relative to it."""
    files: Fingerprint = {}
    for path in _watched(root, common_dir):
        entry = _entry(path)
        if entry is not None:
            files[_display(root, path)] = entry
    return files


def changes(before: Mapping[str, str], after: Mapping[str, str]) -> list[FileChange]:
    """What differs from `before` to `after`, sorted by path."""
    found = []
    for path in sorted(set(before) | set(after)):
        old, new = before.get(path), after.get(path)
        if old == new:
            continue
        if old is None:
            found.append(FileChange(path, "added"))
        elif new is None:
            found.append(FileChange(path, "removed"))
        elif old.split(":", 1)[1] == new.split(":", 1)[1]:
            found.append(FileChange(path, "mode changed"))
        else:
            found.append(FileChange(path, "modified"))
    return found


def _watched(root: Path, common_dir: Path) -> Iterator[Path]:
    yield common_dir / "config"
    yield common_dir / "config.worktree"
    yield from _tree(common_dir / "hooks")
    yield from _tree(common_dir / "info")
    configured = hooks_dir(root)
    if not _inside(configured, common_dir / "hooks"):
        yield from _tree(configured)
    yield from _worktree_configs(common_dir)


def _worktree_configs(common_dir: Path) -> Iterator[Path]:
    """Each linked worktree's config.worktree that exists, one lstat each: a run has hundreds
    of worktrees, and every task's start and end takes a fingerprint."""
    folder = os.path.join(common_dir, "worktrees")
    try:
        names = sorted(os.listdir(folder))
    except (FileNotFoundError, NotADirectoryError):
        return
    for name in names:
        path = os.path.join(folder, name, "config.worktree")
        if os.path.lexists(path):
            yield Path(path)


def _tree(folder: Path) -> Iterator[Path]:
    """Every file and symlink under `folder` (symlinks are not followed)."""
    if not folder.is_dir() or folder.is_symlink():
        if folder.is_symlink():
            yield folder
        return
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames.sort()
        here = Path(dirpath)
        for name in sorted(filenames):
            yield here / name
        for name in dirnames:
            if (here / name).is_symlink():
                yield here / name


def _entry(path: Path) -> str | None:
    """`<mode>:<sha256>`, `link:<target>`, or None when there is no such file."""
    try:
        info = path.lstat()
    except FileNotFoundError:
        return None
    if stat.S_ISLNK(info.st_mode):
        return "link:" + os.readlink(path)
    if not stat.S_ISREG(info.st_mode):
        return f"{stat.S_IFMT(info.st_mode):o}:special"
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 16), b""):
            digest.update(block)
    return f"{stat.S_IMODE(info.st_mode):o}:{digest.hexdigest()}"


def _display(root: Path, path: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


def _inside(path: Path, folder: Path) -> bool:
    try:
        return path.resolve().is_relative_to(folder.resolve())
    except OSError:
        return False
