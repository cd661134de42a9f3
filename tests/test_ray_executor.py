"""executor = "ray": a real two-node Ray cluster on loopback runs a track's agents; the
branches match the local executor's, and a worker killed mid-task is retried exactly once.
The worker-side attempt is also run without Ray, to pin down the retry's no-double-push rule."""

from __future__ import annotations

import contextlib
import os
import signal
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from tests.gitutil import git
from tests.swarmrepo import swarm, task_md, track_repo

SLOW = "sleep 4.321"  # the task whose worker is killed: found by this exact command line


def _plan() -> str:
    """12 tasks: a read-only explorer, parallel tasks, dependencies, and overlapping touches
    that the lock table orders (T03 after T02 on src/api/, T09 after T08 on docs/notes.md)."""
    t = task_md
    return (
        t("T01", "explore", touches="read-only", runs=("ls",))
        + t(
            "T02",
            "api",
            deps="T01",
            touches="`src/api/`",
            runs=("mkdir -p src/api && echo 'get = 1' > src/api/get.py",),
        )
        + t(
            "T03",
            "api auth",
            deps="T01",
            touches="`src/api/auth.py`",
            runs=("test -f src/api/get.py && echo 'auth = 1' > src/api/auth.py",),
        )
        + t(
            "T04",
            "db",
            deps="T01",
            touches="`src/db/`",
            runs=("mkdir -p src/db && echo 'db = 1' > src/db/conn.py",),
        )
        + t(
            "T05",
            "ui",
            deps="T01",
            touches="`src/ui/`",
            runs=("mkdir -p src/ui && echo 'ui = 1' > src/ui/view.py",),
        )
        + t(
            "T06",
            "wire",
            deps="T02, T04",
            touches="`src/app.py`",
            runs=("test -f src/api/get.py && test -f src/db/conn.py && echo 'x = 2' > src/app.py",),
        )
        + t(
            "T07",
            "slow",
            deps="T01",
            touches="`src/slow.py`",
            runs=(f"{SLOW} && echo 'slow = 1' > src/slow.py",),
        )
        + t("T08", "notes", touches="`docs/notes.md`", runs=("mkdir -p docs && echo one >> docs/notes.md",))
        + t(
            "T09",
            "more notes",
            touches="`docs/notes.md`",
            runs=("mkdir -p docs && echo two >> docs/notes.md",),
        )
        + t(
            "T10",
            "ui docs",
            deps="T05",
            touches="`docs/ui.md`",
            runs=("mkdir -p docs && echo ui > docs/ui.md",),
        )
        + t(
            "T11",
            "tests",
            deps="T06, T07",
            touches="`tests/`",
            runs=("mkdir -p tests && echo 'def test(): pass' > tests/test_app.py",),
        )
        + t("T12", "readme", deps="T09, T10", touches="`README.md`", runs=("echo '# r2' > README.md",))
    )


IDS = [f"T{i:02d}" for i in range(1, 13)]
CONFIG = "[concurrency]\nmax_background = 4\nmax_parallel = 4\n[gates]\nthreshold = 0.0\n"


def _changes(repo: Path) -> dict[str, str]:
    """Each branch's and the target's change from the track's base (the two repositories'
    bases differ only in .swarm.toml), as a full-index patch: same patch, same trees."""
    base = git(repo, "rev-parse", "refs/swarm/t/base").stdout.strip()
    return {
        rev: git(repo, "diff", "--full-index", base, rev).stdout
        for rev in [*(f"swarm/t/{t}" for t in IDS), "main"]
    }


def _kill_worker_of(command: str, killed: list[int], stop: threading.Event) -> None:
    """SIGKILL the Ray worker process running `command` (once)."""
    from tests.raycluster import ray_worker_ancestor

    wanted = command.encode().replace(b" ", b"\0")
    while not stop.is_set() and not killed:
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                cmdline = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if cmdline.rstrip(b"\0") == wanted and (worker := ray_worker_ancestor(int(entry.name))):
                os.kill(worker, signal.SIGKILL)
                killed.append(worker)
                return
        time.sleep(0.2)


@pytest.mark.slow
def _implement_beside(repo: Path, watch: Callable[..., None], *args: object) -> Result:
    """`git swarm implement t` while `watch(*args, stop)` runs in a thread, stopped at the end."""
    stop = threading.Event()
    watcher = threading.Thread(target=watch, args=(*args, stop), daemon=True)
    watcher.start()
    try:
        return swarm(repo, "implement", "t")
    finally:
        stop.set()
        watcher.join()


def test_ray_cluster_runs_the_track_like_the_local_executor(tmp_path: Path) -> None:
    pytest.importorskip("ray")
    from tests.raycluster import ray_cluster

    local = track_repo(tmp_path / "local", _plan(), config=CONFIG)
    result = swarm(local, "implement", "t")
    assert result.exit_code == 0, result.output

    remote = tmp_path / "remote.git"
    with ray_cluster(tmp_path) as address:
        config = f'executor = "ray"\n{CONFIG}[ray]\naddress = "{address}"\nmax_retries = 2\n'
        repo = track_repo(tmp_path / "r", _plan(), config=config)
        git(tmp_path, "clone", "-q", "--bare", str(repo), str(remote))
        git(repo, "remote", "add", "origin", str(remote))
        killed: list[int] = []
        result = _implement_beside(repo, _kill_worker_of, SLOW, killed)
        assert result.exit_code == 0, result.output
        assert killed, "the slow task's Ray worker was never seen running"

    # Same branches, same trees as the local executor; the target advanced the same way.
    assert _changes(repo) == _changes(local)
    assert git(repo, "show", "main:src/slow.py").stdout == "slow = 1\n"
    assert sorted(git(repo, "show", "main:docs/notes.md").stdout.split()) == ["one", "two"]
    # Every task's branch on the remote is the one the head recorded.
    for tid in IDS[1:]:
        assert (
            git(remote, "rev-parse", f"swarm/t/{tid}").stdout
            == git(repo, "rev-parse", f"swarm/t/{tid}").stdout
        )
    # The killed task was run again and its branch landed once: one commit, one run id.
    start = git(remote, "rev-parse", "refs/swarm/t/start/T07").stdout.strip()
    messages = git(remote, "log", "--format=%B%x00", f"{start}..swarm/t/T07").stdout.split("\0")[:-1]
    assert len(messages) == 1 and messages[0].count("Swarm-Run: ") == 1


@pytest.mark.slow
def test_ray_executor_needs_a_remote_every_node_reaches(tmp_path: Path) -> None:
    pytest.importorskip("ray")
    repo = track_repo(tmp_path / "r", _plan(), config=f'executor = "ray"\n{CONFIG}')
    result = swarm(repo, "implement", "t")
    assert result.exit_code == 2
    assert "origin" in result.output and "ray.remote" in result.output


def _touch_when_logged(db: Path, needle: str, go: Path, stop: threading.Event) -> None:
    """Create `go` once the head's event log holds an event of T01 containing `needle`."""
    while not stop.is_set():
        try:
            with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
                rows = conn.execute("SELECT message FROM events WHERE task = 'T01'").fetchall()
        except sqlite3.Error:  # not created yet, or busy
            rows = []
        if any(needle in message for (message,) in rows):
            go.touch()
            return
        time.sleep(0.2)


@pytest.mark.slow
def test_ray_events_stream_mid_task_and_a_rerun_counts_the_pushed_runs_usage(tmp_path: Path) -> None:
    """T01's agent (a command printing Claude Code's result line) waits for a file the test
    creates only once the head's event log shows the agent's start: it can only succeed if the
    event streamed mid-task. Its worker then dies right after its push (a crash point), Ray
    re-runs it, the re-run finds the branch pushed, and the head counts the first run's tokens
    from its run record."""
    pytest.importorskip("ray")
    from tests.raycluster import ray_cluster
    from tests.test_cli_presets import CLAUDE_RESULT

    go = tmp_path / "go"
    agent = (
        f"for i in $(seq 1200); do test -f {go} && break; sleep 0.1; done; "
        f"test -f {go} && echo ok > a.txt && echo '{CLAUDE_RESULT}'"
    )
    plan = task_md("T01", "wait for the head", touches="`a.txt`")
    with ray_cluster(tmp_path, worker_env={"SWARMGIT_CRASH_AT": "ray-pushed"}) as address:
        config = (
            f'executor = "ray"\n{CONFIG}[ray]\naddress = "{address}"\n'
            f"[agent]\nbackend = \"command\"\ncommand = '''{agent}'''\n"
        )
        repo = track_repo(tmp_path / "r", plan, config=config)
        git(tmp_path, "clone", "-q", "--bare", str(repo), str(tmp_path / "remote.git"))
        git(repo, "remote", "add", "origin", str(tmp_path / "remote.git"))
        result = _implement_beside(
            repo, _touch_when_logged, repo / ".git" / "swarm" / "state.db", "test -f", go
        )
    assert result.exit_code == 0, result.output
    assert go.exists() and git(repo, "show", "swarm/t/T01:a.txt").stdout == "ok\n"
    (log,) = repo.parent.rglob("T01.log")
    assert "(already pushed by an earlier run)" in log.read_text()
    with contextlib.closing(sqlite3.connect(repo / ".git" / "swarm" / "state.db")) as conn:
        usage = conn.execute(
            "SELECT input_tokens, output_tokens, cli_usd FROM usage WHERE task = 'T01'"
        ).fetchall()
    assert usage == [(10, 5, 0.5)]
