"""A real two-node Ray cluster on loopback for the tests that need one (marked `slow`).

Both nodes are `ray start --block` subprocesses in their own sessions, on 127.0.0.2 (Ray
rewrites 127.0.0.1 to the machine's address), dashboard and usage stats off, small object
stores. They are ended by their process groups' ids: never `ray stop`, which ends every Ray
process on the machine.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

IP = "127.0.0.2"
OBJECT_STORE = str(80 * 1024 * 1024)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((IP, 0))
        return int(sock.getsockname()[1])


def _ray_start(
    args: list[str], log: Path, extra_env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    ray = Path(sys.executable).with_name("ray")
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0", **(extra_env or {})}
    with log.open("wb") as out:
        return subprocess.Popen(
            [
                str(ray),
                "start",
                "--block",
                "--node-ip-address",
                IP,
                "--disable-usage-stats",
                "--object-store-memory",
                OBJECT_STORE,
                *args,
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            start_new_session=True,
        )


def _slots(address: str) -> float:
    """The agent_slot resources the cluster at `address` advertises (asked in a subprocess,
    so this process is not connected to it yet)."""
    code = (
        "import ray; ray.init(address=%r, logging_level='ERROR', log_to_driver=False); "
        "print(ray.cluster_resources().get('agent_slot', 0))" % address
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    try:
        return float(done.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        return 0.0


def _end(proc: subprocess.Popen[bytes]) -> None:
    """Stop a node: SIGTERM to its session, then SIGKILL what is left."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=15)
            if sig == signal.SIGTERM:
                time.sleep(1)  # its children (raylet, workers) share the session: sweep them next
        except subprocess.TimeoutExpired:
            pass


@contextmanager
def ray_cluster(workdir: Path, slots: int = 2, worker_env: dict[str, str] | None = None) -> Iterator[str]:
    """A head (no agent slots) and a worker node with `slots` agent slots (its processes with
    `worker_env` added to their environment); yields the address."""
    port = _free_port()
    address = f"{IP}:{port}"
    temp = Path(f"/tmp/rt{os.getpid()}")  # Ray's socket paths must stay short
    nodes = [
        _ray_start(
            [
                "--head",
                "--port",
                str(port),
                "--include-dashboard",
                "false",
                "--num-cpus",
                "1",
                "--temp-dir",
                str(temp),
            ],
            workdir / "ray-head.log",
        )
    ]
    try:
        nodes.append(
            _ray_start(
                ["--address", address, "--num-cpus", "2", "--resources", '{"agent_slot": %d}' % slots],
                workdir / "ray-worker.log",
                worker_env,
            )
        )
        deadline = time.monotonic() + 120
        while _slots(address) < slots:
            if time.monotonic() > deadline or any(n.poll() is not None for n in nodes):
                logs = "\n".join(p.read_text(errors="replace")[-2000:] for p in workdir.glob("ray-*.log"))
                raise RuntimeError(f"the Ray cluster did not come up:\n{logs}")
            time.sleep(1)
        yield address
    finally:
        import ray

        if ray.is_initialized():
            ray.shutdown()
        for node in reversed(nodes):
            _end(node)
        subprocess.run(["rm", "-rf", str(temp)], check=False)


def ray_worker_ancestor(pid: int) -> int | None:
    """The Ray worker process (`ray::...` in its title) `pid` runs under, if any."""
    while pid > 1:
        try:
            title = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0]
            parent = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            return None
        if title.startswith(b"ray::"):
            return pid
        pid = parent
    return None
