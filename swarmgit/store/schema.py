"""The run-state schema: created with IF NOT EXISTS, versioned by a `schema_version` row.

Tuple columns (touches, deps, after) hold JSON arrays (`task_scope.encode_list`). `seq` keeps
insertion order for tasks and spawn candidates. `git_files` holds, per task, the fingerprint
of the repository's git files taken when it started (kind `baseline`) and, when they changed
while it ran, the hold on the track's advance naming what changed (kind `hold`). `reviews`
holds each task's latest review verdict. Columns added after a table first shipped are
listed in ADDED_COLUMNS too: a database made by an older swarmgit gets them (ALTER TABLE) when
it is opened, and its version is raised; a newer database is refused.

Versions: 1 the first; 2 `usage.cli_usd` (the cost the agent's tool reported, beside `usd`,
the cost swarmgit counts); 3 `tasks.retired_at` (set when a task left plan.md).
"""

from __future__ import annotations

import sqlite3

from swarmgit.errors import UsageError

SCHEMA_VERSION = 3

ADDED_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("usage", "cli_usd", "REAL"),
    ("tasks", "retired_at", "REAL"),
)
"""(table, column, type) of every column added after its table first shipped."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tracks (
    id TEXT PRIMARY KEY, base_commit TEXT NOT NULL, target_branch TEXT NOT NULL,
    plan_path TEXT NOT NULL, created_at REAL NOT NULL, budget_usd REAL, integrated_commit TEXT
);
CREATE TABLE IF NOT EXISTS claims (
    track TEXT PRIMARY KEY, pid INTEGER NOT NULL, host TEXT NOT NULL, claimed_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS tasks (
    track TEXT NOT NULL, id TEXT NOT NULL, title TEXT NOT NULL, status TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '', touches TEXT NOT NULL, deps TEXT NOT NULL,
    branch TEXT, worktree TEXT, start_commit TEXT, final_commit TEXT,
    after TEXT NOT NULL DEFAULT '[]', attempts INTEGER NOT NULL DEFAULT 0,
    started_at REAL, finished_at REAL, pid INTEGER, seq INTEGER NOT NULL,
    PRIMARY KEY (track, id)
);
CREATE TABLE IF NOT EXISTS locks (
    track TEXT NOT NULL, task TEXT NOT NULL, pattern TEXT NOT NULL,
    PRIMARY KEY (track, task, pattern)
);
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY AUTOINCREMENT, ts REAL NOT NULL, track TEXT NOT NULL, task TEXT,
    kind TEXT NOT NULL, message TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_by_track ON events (track, id);
CREATE TABLE IF NOT EXISTS usage (
    id INTEGER PRIMARY KEY AUTOINCREMENT, ts REAL NOT NULL, track TEXT NOT NULL,
    task TEXT NOT NULL, model TEXT NOT NULL, input_tokens INTEGER NOT NULL,
    output_tokens INTEGER NOT NULL, cache_write_tokens INTEGER NOT NULL,
    cache_read_tokens INTEGER NOT NULL, usd REAL NOT NULL, cli_usd REAL
);
CREATE INDEX IF NOT EXISTS usage_by_track ON usage (track);
CREATE TABLE IF NOT EXISTS reviews (
    track TEXT NOT NULL, task TEXT NOT NULL, verdict TEXT NOT NULL, reviewer TEXT NOT NULL,
    message TEXT NOT NULL, final_commit TEXT NOT NULL, at REAL NOT NULL,
    PRIMARY KEY (track, task)
);
CREATE TABLE IF NOT EXISTS candidates (
    track TEXT NOT NULL, dedup_key TEXT NOT NULL, payload TEXT NOT NULL, state TEXT NOT NULL,
    task_id TEXT, created_at REAL NOT NULL, updated_at REAL NOT NULL, seq INTEGER NOT NULL,
    PRIMARY KEY (track, dedup_key)
);
CREATE TABLE IF NOT EXISTS git_files (
    track TEXT NOT NULL, task TEXT NOT NULL, kind TEXT NOT NULL, value TEXT NOT NULL,
    created_at REAL NOT NULL, PRIMARY KEY (track, task, kind)
);
"""


def create_schema(conn: sqlite3.Connection, where: str) -> None:
    """Create missing tables and record the version, inside the caller's write transaction.
    A database written by a newer swarmgit is refused rather than misread."""
    stored = _stored_version(conn)
    if stored is not None and stored > SCHEMA_VERSION:
        raise UsageError(
            f"{where} has schema version {stored}, newer than this swarmgit understands "
            f"({SCHEMA_VERSION}): upgrade swarmgit"
        )
    for statement in _SCHEMA.split(";"):
        if statement.strip():
            conn.execute(statement)
    for table, column, kind in ADDED_COLUMNS:
        present = {info[1] for info in conn.execute(f"PRAGMA table_info({table})")}
        if column not in present:
            conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")
    conn.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))


def _stored_version(conn: sqlite3.Connection) -> int | None:
    """The stored schema version, None for a new database (no meta table or no row yet)."""
    exists = conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'").fetchone()
    if exists is None:
        return None
    row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    return None if row is None else int(row[0])
