"""Running an agent's child process: its own process group, a log, a deadline, no stdin.

`run_process` starts the command in a new session (so the whole group can be signalled), with
stdin closed, stdout and stderr merged and streamed line by line to the log file (secrets
redacted) and to an optional `on_line` callback. On the deadline the group gets SIGTERM, then
SIGKILL after the grace period. When `on_line` returns True (the tool printed its final result),
the process has the grace period to exit before its group is killed: the result stands
(`result_seen`), which is how a headless CLI that hangs after answering is handled. When the
leader exits, whatever it left running in its group is stopped too. With a `fence`, the
command starts under the write fence (`swarmgit.sandbox.fence.start_fenced`): it and all it
starts may write only the fence's paths; when the fence cannot be applied, nothing starts and
the result is exit code 126 with the reason in the log.
"""

from __future__ import annotations

import shlex
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from swarmgit.crash_points import reached
from swarmgit.domain.fence import Fence
from swarmgit.domain.secrets import Secrets, secrets_from_env
from swarmgit.process.group import signal_group, stop_group
from swarmgit.sandbox.fence import FenceRefused, start_fenced
from swarmgit.sandbox.launch import REFUSED

LineHandler = Callable[[str], bool | None]
"""Called with each output line (unredacted); returns True when the line carries the result."""

_POLL_S = 0.1
_TAIL_LINES = 20


@dataclass(frozen=True)
class ProcessResult:
    returncode: int | None  # None only if the process could not be reaped
    timed_out: bool
    last_lines: tuple[str, ...]  # redacted
    result_seen: bool = False
    killed_after_result: bool = False


def with_tail(head: str, result: ProcessResult) -> str:
    """A diagnosis line followed by the process's last output lines, if any."""
    if not result.last_lines:
        return head
    return head + "\nlast output lines:\n" + "\n".join(result.last_lines)


def run_process(
    command: str | Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str],
    log_file: Path,
    timeout_s: float,
    kill_grace_s: float,
    on_line: LineHandler | None = None,
    pid_file: Path | None = None,
    fence: Fence | None = None,
) -> ProcessResult:
    """Run `command` (a string runs with `sh -c`) to completion, timeout, or post-result hang.

    While it runs, `pid_file` (if given) holds its process group id, so a later orchestrator
    can stop an agent orphaned by a crash (`stop_orphan`)."""
    argv = ["sh", "-c", command] if isinstance(command, str) else list(command)
    shown = command if isinstance(command, str) else shlex.join(command)
    log_file.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    secrets = secrets_from_env(env)
    with log_file.open("a", encoding="utf-8") as log:
        log.write(secrets.redact(f"$ {shown}\n"))
        log.flush()
        try:
            proc = _start(
                fence,
                lambda: subprocess.Popen(
                    argv,
                    cwd=cwd,
                    env=dict(env),
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                ),
            )
        except FenceRefused as exc:
            return _refused(log, secrets.redact(str(exc)))
        assert proc.stdout is not None
        if pid_file is not None:
            pid_file.write_text(str(proc.pid), encoding="utf-8")
        reached("agent-started")
        reader = _Reader(proc.stdout, log, secrets, on_line)
        reader.start()
        try:
            timed_out, killed_after_result = _supervise(proc, reader, started + timeout_s, kill_grace_s)
        finally:  # also on KeyboardInterrupt: never leave an agent running unsupervised
            if proc.returncode is None:
                _terminate_group(proc, kill_grace_s)
            _stop_leftovers(proc.pid, reader, kill_grace_s)
            reader.detach()
            if pid_file is not None:
                pid_file.unlink(missing_ok=True)
    return ProcessResult(
        returncode=proc.returncode,
        timed_out=timed_out,
        last_lines=reader.tail(),
        result_seen=reader.result_at is not None,
        killed_after_result=killed_after_result,
    )


def run_agent_command(
    command: str,
    *,
    foreground: bool,
    cwd: Path,
    env: Mapping[str, str],
    log_file: Path,
    timeout_s: float,
    kill_grace_s: float,
    on_line: LineHandler | None = None,
    pid_file: Path | None = None,
    fence: Fence | None = None,
) -> ProcessResult:
    """`command` as a task's agent runs it: attached to the terminal when `foreground` (a task
    that needs the user: its output is theirs, neither parsed nor kept), else `run_process`."""
    if foreground:
        return run_attached(
            command,
            cwd=cwd,
            env=env,
            log_file=log_file,
            timeout_s=timeout_s,
            kill_grace_s=kill_grace_s,
            fence=fence,
        )
    return run_process(
        command,
        cwd=cwd,
        env=env,
        log_file=log_file,
        timeout_s=timeout_s,
        kill_grace_s=kill_grace_s,
        on_line=on_line,
        pid_file=pid_file,
        fence=fence,
    )


def run_attached(
    command: str,
    *,
    cwd: Path,
    env: Mapping[str, str],
    log_file: Path,
    timeout_s: float,
    kill_grace_s: float,
    fence: Fence | None = None,
) -> ProcessResult:
    """Run `command` attached to this terminal (stdin, stdout and stderr inherited), for tasks
    that need the user. Its output is not captured; the log records the command and its exit."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    secrets = secrets_from_env(env)
    with log_file.open("a", encoding="utf-8") as log:
        log.write(secrets.redact(f"$ {command}   (attached to the terminal; output not captured)\n"))
        log.flush()
        try:
            proc = _start(fence, lambda: subprocess.Popen(["sh", "-c", command], cwd=cwd, env=dict(env)))
        except FenceRefused as exc:
            print(secrets.redact(str(exc)), file=sys.stderr)
            return _refused(log, secrets.redact(str(exc)))
        try:
            proc.wait(timeout=max(0.0, timeout_s))
            timed_out = False
        except subprocess.TimeoutExpired:
            timed_out = True
            proc.terminate()
            try:
                proc.wait(timeout=kill_grace_s)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        log.write(f"exit {proc.returncode}\n")
    return ProcessResult(returncode=proc.returncode, timed_out=timed_out, last_lines=())


def run_captured(
    command: str,
    cwd: Path,
    timeout_s: float,
    env: Mapping[str, str] | None = None,
    fence: Fence | None = None,
) -> tuple[int | None, str]:
    """Run `sh -c command` in its own group with stdin closed (and `env`, default ours), under
    `fence` when given: (exit code, or None on timeout; stdout+stderr as text). The group is
    killed at the end either way, so a child it left running cannot hold the folder or the
    pipe. A fence that cannot be applied starts nothing: (126, why)."""

    def start() -> subprocess.Popen[str]:
        return subprocess.Popen(
            command,
            shell=True,
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            errors="replace",
            start_new_session=True,
            env=None if env is None else dict(env),
        )

    try:
        started = start() if fence is None else start_fenced(fence, start)
    except FenceRefused as refused:
        return REFUSED, str(refused)
    with started as process:
        try:
            output, _ = process.communicate(timeout=timeout_s)
            code: int | None = process.returncode
        except subprocess.TimeoutExpired:
            signal_group(process.pid, signal.SIGKILL)
            output, _ = process.communicate()
            code = None
        signal_group(process.pid, signal.SIGKILL)
    return code, output


def _start(fence: Fence | None, start: Callable[[], subprocess.Popen[bytes]]) -> subprocess.Popen[bytes]:
    """The one way an agent's process starts: `start()`, under `fence` when there is one."""
    return start() if fence is None else start_fenced(fence, start)


def _refused(log: IO[str], reason: str) -> ProcessResult:
    """Nothing started: the fence could not be applied (`reason`, redacted)."""
    log.write(f"{reason}\nexit {REFUSED}\n")
    return ProcessResult(returncode=REFUSED, timed_out=False, last_lines=(reason,))


def _supervise(
    proc: subprocess.Popen[bytes], reader: _Reader, deadline: float, grace_s: float
) -> tuple[bool, bool]:
    """Wait for the leader; returns (timed_out, killed_after_result)."""
    while True:
        limit = deadline
        if reader.result_at is not None:
            limit = min(limit, reader.result_at + grace_s)
        remaining = limit - time.monotonic()
        if remaining <= 0:
            after_result = reader.result_at is not None
            _terminate_group(proc, grace_s)
            return not after_result, after_result
        try:
            proc.wait(timeout=min(remaining, _POLL_S))
            return False, False
        except subprocess.TimeoutExpired:
            continue


def _terminate_group(proc: subprocess.Popen[bytes], grace_s: float) -> None:
    """SIGTERM the group, SIGKILL it if the leader is still there after the grace period."""
    signal_group(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        signal_group(proc.pid, signal.SIGKILL)
        proc.wait()


def _stop_leftovers(pgid: int, reader: _Reader, grace_s: float) -> None:
    """The leader is gone: stop what it left in its group and let the reader drain the pipe."""
    signal_group(pgid, signal.SIGTERM)
    reader.join(timeout=max(grace_s, _POLL_S))
    if reader.is_alive():
        signal_group(pgid, signal.SIGKILL)
        reader.join(timeout=max(grace_s, 1.0))


class _Reader(threading.Thread):
    """Copies the child's output to the log (redacted) and the callback, keeping a tail."""

    def __init__(
        self,
        stream: IO[bytes],
        log: IO[str],
        secrets: Secrets,
        on_line: LineHandler | None,
    ) -> None:
        super().__init__(daemon=True)
        self._stream = stream
        self._log = log
        self._secrets = secrets
        self._on_line = on_line
        self._tail: deque[str] = deque(maxlen=_TAIL_LINES)
        self._lock = threading.Lock()
        self._log_open = True
        self.result_at: float | None = None

    def run(self) -> None:
        with self._stream:
            for raw in self._stream:
                line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
                clean = self._secrets.redact(line)
                with self._lock:
                    self._tail.append(clean)
                    if self._log_open:
                        self._log.write(clean + "\n")
                        self._log.flush()
                if self._on_line and self._on_line(line) and self.result_at is None:
                    self.result_at = time.monotonic()

    def detach(self) -> None:
        """Stop writing to the log (it is about to close) even if output still comes."""
        with self._lock:
            self._log_open = False

    def tail(self) -> tuple[str, ...]:
        with self._lock:
            return tuple(self._tail)


def stop_orphan(pid_file: Path, grace_s: float = 2.0) -> bool:
    """Stop the process group named in `pid_file` (left by a crashed orchestrator); True
    when one was still running. The file is removed either way."""
    try:
        pgid = int(pid_file.read_text(encoding="utf-8").strip())
    except (FileNotFoundError, ValueError):
        return False
    pid_file.unlink(missing_ok=True)
    return stop_group(pgid, grace_s)
