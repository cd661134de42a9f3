"""File I/O helpers: atomic writes (a reader sees the old file or the new one, never half of
either), and reading user-written and agent-written text without surprises."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from functools import cache
from pathlib import Path

from swarmgit.errors import Diagnostic, InvalidInput


def write_atomic(path: Path, text: str, *, durable: bool = True) -> None:
    """Write text (UTF-8, line endings as given) to path atomically; see `write_bytes_atomic`."""
    write_bytes_atomic(path, text.encode("utf-8"), durable=durable)


def write_bytes_atomic(path: Path, data: bytes, mode: int | None = None, *, durable: bool = True) -> None:
    """Write data to path via a temp file in the same folder, fsync, then rename over it. The
    file gets `mode` when given, else the mode of the file it replaces, else the usual mode
    (umask). `durable=False` skips the fsync: for files derived from the store, rebuilt after
    a crash."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            if durable:
                os.fsync(handle.fileno())
        if mode is None:  # mkstemp makes the file 0600
            mode = path.stat().st_mode & 0o7777 if path.exists() else 0o666 & ~_umask()
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@cache
def _umask() -> int:
    """This process's umask, read once without changing it (Linux), else the common 022."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except OSError:
        pass
    return 0o022


def rewrite_atomic(path: Path, change: Callable[[str], str]) -> bool:
    """Rewrite a text file through `change` (atomically), only when it exists and `change`
    alters it; True when it was rewritten."""
    text, _ = read_agent_text(path)
    changed = change(text)
    if changed == text:
        return False
    write_atomic(path, changed)
    return True


def read_user_text(path: Path, shown: str | None = None) -> str:
    """A file the user wrote (plan.md, .swarm.toml), exactly as stored: line endings are not
    translated (a CRLF file is written back as CRLF) and a BOM is kept for the parser to skip.

    Raises InvalidInput naming the file (`shown`, default `path`), the line and the byte offset
    when it is not UTF-8.
    """
    data = path.read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        message = (
            f"not valid UTF-8 at byte {exc.start} (0x{data[exc.start]:02x}): save the file as "
            "UTF-8 (e.g. `iconv -f latin1 -t utf-8`)"
        )
        raise InvalidInput([Diagnostic(shown or str(path), line, message)]) from None


def read_agent_text(path: Path) -> tuple[str, str | None]:
    """A file an agent may have written (its report, shared notes): never raises on content.

    Returns the text ("" when the file is missing) and, when the bytes are not UTF-8, a warning
    naming the file and the first bad byte; such bytes read as U+FFFD.
    """
    if not path.is_file():  # missing, a folder, or a fifo an agent left to make us block
        return "", None
    try:
        data = path.read_bytes()
    except OSError:
        return "", None
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError as exc:
        warning = f"not valid UTF-8 at byte {exc.start} of {path} (bad bytes read as U+FFFD)"
        return data.decode("utf-8", errors="replace"), warning
