"""Where the run state lives and how a task branch maps to its touches.

The pre-commit hook imports this module, so it imports only os and sqlite3 (no pathlib, json or
dataclasses: each costs the hook milliseconds per commit; SQLite decodes the touches itself). `Store` uses the same functions,
so the hook and the orchestrator read touches one way.
"""
from __future__ import annotations

import os
import sqlite3

STATE_DIR = "swarm"
STATE_FILE = "state.db"
BUSY_TIMEOUT_SECONDS = 10.0
TASK_BRANCH_PREFIX = "swarm/"
INTEGRATION_BRANCH = "integration"


def db_file(common_dir: str | os.PathLike[str]) -> str:
    """The state database of the repository whose git common dir is `common_dir`."""
    return os.path.join(os.fspath(common_dir), STATE_DIR, STATE_FILE)


def task_branch(track: str, task: str) -> str:
    """The branch a task runs on: `swarm/<track>/<task>`."""
    return f"{TASK_BRANCH_PREFIX}{track}/{task}"


def parse_task_branch(branch: str) -> tuple[str, str] | None:
    """(track, task) of `swarm/<track>/<task>` (or `refs/heads/swarm/...`); None for any other
    branch, including a track's `swarm/<track>/integration` branch."""
    name = branch.removeprefix("refs/heads/")
    if not name.startswith(TASK_BRANCH_PREFIX):
        return None
    parts = name[len(TASK_BRANCH_PREFIX):].split("/")
    if len(parts) != 2 or not all(parts) or parts[1] == INTEGRATION_BRANCH:
        return None
    return parts[0], parts[1]


def encode_list(items: tuple[str, ...] | list[str]) -> str:
    """A tuple column (touches, deps, after) as stored: a JSON array of strings."""
    import json

    return json.dumps(list(items))


def decode_list(text: str) -> tuple[str, ...]:
    import json

    return tuple(json.loads(text))


def task_touches(conn: sqlite3.Connection, track: str, task: str) -> tuple[str, ...] | None:
    """The task's touches; None when the store does not know the task."""
    rows = conn.execute(
        "SELECT each.value FROM tasks LEFT JOIN json_each(tasks.touches) AS each "
        "WHERE tasks.track = ? AND tasks.id = ? ORDER BY each.key", (track, task)
    ).fetchall()
    return None if not rows else tuple(row[0] for row in rows if row[0] is not None)


def lookup_touches(common_dir: str, branch: str) -> tuple[str, ...] | None:
    """The touches of the task whose branch is `branch`, read without creating anything:
    None when the branch is not a task branch, the database does not exist, or the task is
    unknown. Waits out a writer's lock (busy timeout) instead of failing."""
    key = parse_task_branch(branch)
    path = db_file(common_dir)
    if key is None or not os.path.isfile(path):
        return None
    uri = "file:" + path.replace("%", "%25").replace("?", "%3f").replace("#", "%23") + "?mode=rw"
    conn = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_SECONDS)
    try:
        return task_touches(conn, *key)
    except sqlite3.OperationalError as exc:
        if "no such table" in str(exc):
            return None
        raise
    finally:
        conn.close()
