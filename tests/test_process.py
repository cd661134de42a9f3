"""The process layer against real processes: deadlines, process groups, liveness by start time."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from swarmgit.process.group import alive_since, group_alive, stop_group
from swarmgit.process.run import run_captured


def test_run_captured_returns_code_and_merged_output(tmp_path: Path) -> None:
    code, output = run_captured("echo out; echo err >&2; exit 3", tmp_path, timeout_s=30)
    assert code == 3
    assert "out" in output and "err" in output


def test_run_captured_times_out_and_kills_what_the_command_left(tmp_path: Path) -> None:
    pid_file = tmp_path / "child.pid"
    code, _ = run_captured(f"sleep 300 & echo $! > {pid_file}; wait", tmp_path, timeout_s=0.5)
    assert code is None
    child = int(pid_file.read_text())
    deadline = time.monotonic() + 10
    while _running(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _running(child), "the background child of a timed-out command must be killed"


def test_stop_group_stops_a_running_group_and_reports_it() -> None:
    proc = subprocess.Popen(["sleep", "300"], start_new_session=True)
    try:
        assert group_alive(proc.pid)
        assert stop_group(proc.pid, grace_s=5)
        proc.wait(timeout=10)
        assert not group_alive(proc.pid)
        assert not stop_group(proc.pid, grace_s=0), "a finished group is not running"
    finally:
        proc.kill()
        proc.wait()


def test_a_pid_is_alive_only_for_claims_made_after_its_process_started() -> None:
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"])
    try:
        assert alive_since(proc.pid, time.time())
        assert not alive_since(proc.pid, time.time() - 3600), "started after the claim: a reused id"
    finally:
        proc.kill()
        proc.wait()
    assert not alive_since(proc.pid, time.time())
    assert not alive_since(-1, time.time())
    assert alive_since(os.getpid(), time.time())


def _running(pid: int) -> bool:
    """True while `pid` exists and is not a zombie (an orphan reaped by init disappears)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state != "Z"
