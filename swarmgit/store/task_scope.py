"""Where the run state lives and how a task branch maps to its touches.

The pre-commit hook imports this module, so it imports only os at module level (no pathlib,
json or dataclasses: each costs the hook milliseconds per commit). It reads a task's touches
from its touches file (`touches_file`), which `Store.sync_tasks` writes whenever it stores new
touches, before the transaction commits: the file is never wider than the plan the store last
took. Only without that file (a run state from before it existed) does the hook open the
database, and pay SQLite's ~7 ms start. Both live in the git common dir, which the write
fence keeps agents from writing; an unfenced agent could widen either, which only widens this
early check: the branch re-check after the agent and the integrator take touches from plan.md.
`Store` reads touches with the same query as the hook.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False  # as typing.TYPE_CHECKING, without importing typing
if TYPE_CHECKING:
    import sqlite3

STATE_DIR = "swarm"
STATE_FILE = "state.db"
TOUCHES_DIR = "touches"
BUSY_TIMEOUT_SECONDS = 10.0
TASK_BRANCH_PREFIX = "swarm/"
INTEGRATION_BRANCH = "integration"


def db_file(common_dir: str | os.PathLike[str]) -> str:
    """The state database of the repository whose git common dir is `common_dir`."""
    return os.path.join(os.fspath(common_dir), STATE_DIR, STATE_FILE)


def touches_file(common_dir: str | os.PathLike[str], track: str, task: str) -> str:
    """A task's touches file: `<common dir>/swarm/touches/<track>/<task>`."""
    return os.path.join(os.fspath(common_dir), STATE_DIR, TOUCHES_DIR, track, task)


def encode_touches_file(touches: tuple[str, ...] | list[str]) -> bytes:
    """The touches file's content: each touch in UTF-8 followed by NUL (none: read-only)."""
    return b"".join(touch.encode("utf-8") + b"\0" for touch in touches)


def read_touches_file(path: str) -> tuple[str, ...] | None:
    """The touches a touches file holds; None when it is missing, unreadable or not whole
    (every record ends with NUL): then the database decides."""
    try:
        with open(path, "rb") as file:
            data = file.read()
    except OSError:
        return None
    if data and not data.endswith(b"\0"):
        return None
    try:
        return tuple(record.decode("utf-8") for record in data.split(b"\0")[:-1])
    except UnicodeDecodeError:
        return None


def task_branch(track: str, task: str) -> str:
    """The branch a task runs on: `swarm/<track>/<task>`."""
    return f"{TASK_BRANCH_PREFIX}{track}/{task}"


def parse_task_branch(branch: str) -> tuple[str, str] | None:
    """(track, task) of `swarm/<track>/<task>` (or `refs/heads/swarm/...`); None for any other
    branch, including a track's `swarm/<track>/integration` branch."""
    name = branch.removeprefix("refs/heads/")
    if not name.startswith(TASK_BRANCH_PREFIX):
        return None
    parts = name[len(TASK_BRANCH_PREFIX) :].split("/")
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
        "WHERE tasks.track = ? AND tasks.id = ? ORDER BY each.key",
        (track, task),
    ).fetchall()
    return None if not rows else tuple(row[0] for row in rows if row[0] is not None)


class StateUnreadable(Exception):
    """The run state could not be read (the hook refuses the commit)."""


def lookup_touches(common_dir: str, branch: str) -> tuple[str, ...] | None:
    """The touches of the task whose branch is `branch`, read without creating anything:
    from its touches file, else from the database; None when the branch is not a task branch,
    the database does not exist, or the task is unknown. Waits out a writer's lock (busy
    timeout) instead of failing; StateUnreadable when the database cannot be read."""
    key = parse_task_branch(branch)
    path = db_file(common_dir)
    if key is None or not os.path.isfile(path):
        return None
    touches = read_touches_file(touches_file(common_dir, *key))
    return touches if touches is not None else _stored_touches(path, *key)


def _stored_touches(path: str, track: str, task: str) -> tuple[str, ...] | None:
    import sqlite3  # here: the touches file spares the hook SQLite's start

    uri = "file:" + path.replace("%", "%25").replace("?", "%3f").replace("#", "%23") + "?mode=rw"
    try:
        conn = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_SECONDS)
        try:
            return task_touches(conn, track, task)
        finally:
            conn.close()
    except sqlite3.OperationalError as exc:
        if "no such table" in str(exc):
            return None
        raise StateUnreadable(str(exc)) from exc
    except sqlite3.Error as exc:
        raise StateUnreadable(str(exc)) from exc
