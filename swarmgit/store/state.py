"""The run state: one SQLite database, `<git common dir>/swarm/state.db`, in WAL mode.

Tracks, tasks and their status, held locks, one orchestrator claim per track, the append-only
event log, token usage and cost, and the spawn queue. Invariants:
- every method that writes is one transaction, begun IMMEDIATE (it takes the write lock before
  reading, so a read-then-write never fails with "database is locked" mid-way) and waits up to
  the busy timeout for another writer;
- readers (the pre-commit hook) never block writers nor wait for them (WAL);
- timestamps are `time.time()` here, at the edge; the domain never reads the clock.
A `Store` may be shared by the orchestrator's threads: each call holds the connection's lock.
Task rows are cached per track and read incrementally: a write through this `Store` re-reads the
one row it changed (and moves its id between the per-status id sets, `task_ids_by_status`); a
commit by any other connection (`PRAGMA data_version`) drops the cache.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType

from swarmgit.domain.plan import Status
from swarmgit.domain.review import ReviewVerdict
from swarmgit.domain.secrets import NO_SECRETS, Secrets
from swarmgit.domain.spawn import CandidateState
from swarmgit.errors import UsageError, WorkFailed
from swarmgit.fsutil import write_bytes_atomic
from swarmgit.process.group import alive_since
from swarmgit.store.rows import (
    CandidateRow,
    CostSummary,
    EventRow,
    LockRow,
    ReviewRow,
    Spend,
    TaskRow,
    TaskSpec,
    TrackRow,
)
from swarmgit.store.schema import create_schema
from swarmgit.store.task_scope import (
    BUSY_TIMEOUT_SECONDS,
    db_file,
    decode_list,
    encode_list,
    encode_touches_file,
    parse_task_branch,
    read_touches_file,
    task_touches,
    touches_file,
)

__all__ = [
    "CandidateRow",
    "CostSummary",
    "EventRow",
    "LockRow",
    "ReviewRow",
    "Spend",
    "Store",
    "TaskRow",
    "TaskSpec",
    "TrackRow",
]


_TRACK_FIELDS = frozenset({"base_commit", "target_branch", "plan_path", "budget_usd", "integrated_commit"})
_LOCK_KEEPING = frozenset({Status.RUNNING, Status.DONE})
_TASK_COLUMNS = (
    "track, id, title, status, reason, touches, deps, branch, worktree, "
    "start_commit, final_commit, after, attempts, started_at, finished_at, pid, retired_at"
)
_SPEND_SUMS = (
    ", ".join(
        f"COALESCE(SUM({column}), 0)"
        for column in ("input_tokens", "output_tokens", "cache_write_tokens", "cache_read_tokens", "usd")
    )
    + ", SUM(cli_usd)"
)  # NULL when no row has a figure from the tool


def _task_row(row: sqlite3.Row) -> TaskRow:
    return TaskRow(
        **{
            **dict(row),
            "status": Status(row["status"]),
            "touches": decode_list(row["touches"]),
            "deps": decode_list(row["deps"]),
            "after": decode_list(row["after"]),
        }
    )


def _listed_as(row: TaskRow) -> Status | None:
    """The status set of `Store.task_ids_by_status` that holds the row (None: retired)."""
    return row.status if row.retired_at is None else None


def _move_id(
    index: dict[Status, frozenset[str]], task: str, before: Status | None, after: Status | None
) -> None:
    if before is after:
        return
    if before is not None:
        index[before] = index[before] - {task}
        if not index[before]:
            del index[before]
    if after is not None:
        index[after] = index.get(after, frozenset()) | {task}


def _spend(sums: Sequence[float | None]) -> Spend:
    inp, out, write, read, usd, cli = sums
    return Spend(
        int(inp or 0),
        int(out or 0),
        int(write or 0),
        int(read or 0),
        usd=float(usd or 0.0),
        cli_usd=None if cli is None else float(cli),
    )


class Store:
    """The run-state database of one repository. Open with `Store.open(common_dir, secrets)`.

    Every text it stores (task titles, reasons, event messages) is redacted of `secrets`
    first, so no writer can put a secret value into the run state."""

    def __init__(self, conn: sqlite3.Connection, path: Path, secrets: Secrets = NO_SECRETS) -> None:
        self._conn = conn
        self._lock = threading.RLock()
        self._secrets = secrets
        self.path = path
        self._task_cache: dict[str, dict[str, TaskRow]] = {}  # track -> id -> row, in seq order
        self._status_ids: dict[str, dict[Status, frozenset[str]]] = {}  # track -> status -> ids
        self._spent: dict[str, float] = {}  # track -> USD, until this Store records usage
        self._seen_version: int | None = None

    @classmethod
    def open(cls, common_dir: Path, secrets: Secrets = NO_SECRETS) -> Store:
        """Open (creating the `swarm/` folder, the database and its schema when missing)."""
        path = Path(db_file(common_dir))
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(
            path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None, check_same_thread=False
        )
        conn.row_factory = sqlite3.Row
        store = cls(conn, path, secrets)
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            with store._write() as locked:
                create_schema(locked, str(path))
        except sqlite3.DatabaseError as exc:
            conn.close()
            if isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc):
                raise store._locked_error() from exc
            raise UsageError(
                f"the run state {path} cannot be read ({exc}): move it aside "
                f"(mv {path} {path}.broken) and start the track again; task branches and "
                "worktrees are kept"
            ) from exc
        except BaseException:
            conn.close()
            raise
        return store

    def _locked_error(self) -> WorkFailed:
        return WorkFailed(
            f"the run state {self.path} stayed locked by another process for more than "
            f"{BUSY_TIMEOUT_SECONDS:g} s; nothing was written. Find the process holding it "
            f"(fuser {self.path}), then run the command again (`git swarm resume` after a run)"
        )

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: BEGIN IMMEDIATE … COMMIT, rolled back on any error."""
        with self._lock:
            try:
                self._conn.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                if "locked" in str(exc):
                    raise self._locked_error() from exc
                raise
            try:
                yield self._conn
                self._conn.execute("COMMIT")
            except BaseException:
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                raise

    def _read(self, sql: str, args: Sequence[object] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._conn.execute(sql, args).fetchall()

    # ---- tracks and claims -------------------------------------------------------------

    def ensure_track(self, track: str, *, base_commit: str, target_branch: str, plan_path: str) -> TrackRow:
        """Insert the track if missing; an existing row is returned unchanged."""
        with self._write() as conn:
            conn.execute(
                "INSERT OR IGNORE INTO tracks (id, base_commit, target_branch, plan_path, "
                "created_at) VALUES (?, ?, ?, ?, ?)",
                (track, base_commit, target_branch, plan_path, time.time()),
            )
            row = conn.execute("SELECT * FROM tracks WHERE id = ?", (track,)).fetchone()
        return TrackRow(**dict(row))

    def track(self, track: str) -> TrackRow | None:
        rows = self._read("SELECT * FROM tracks WHERE id = ?", (track,))
        return TrackRow(**dict(rows[0])) if rows else None

    def set_track_fields(self, track: str, **fields: str | float | None) -> None:
        """Update some of base_commit, target_branch, plan_path, budget_usd, integrated_commit."""
        unknown = set(fields) - _TRACK_FIELDS
        if unknown:
            raise ValueError(f"not a track field: {', '.join(sorted(unknown))}")
        if not fields:
            return
        assignments = ", ".join(f"{name} = ?" for name in fields)
        with self._write() as conn:
            cursor = conn.execute(f"UPDATE tracks SET {assignments} WHERE id = ?", (*fields.values(), track))
            if cursor.rowcount == 0:
                raise UsageError(f"unknown track {track!r}")

    def claim(self, track: str, pid: int, host: str) -> bool:
        """Claim the track for one orchestrator. True when free, already ours, or held by a
        dead process on this host (taken over); False while another live claimant holds it."""
        with self._write() as conn:
            row = conn.execute("SELECT * FROM claims WHERE track = ?", (track,)).fetchone()
            if row is not None and (row["pid"], row["host"]) != (pid, host):
                if row["host"] != host or alive_since(row["pid"], row["claimed_at"]):
                    return False
            conn.execute("INSERT OR REPLACE INTO claims VALUES (?, ?, ?, ?)", (track, pid, host, time.time()))
        return True

    def release(self, track: str, pid: int) -> None:
        """Drop the claim if `pid` holds it; another process's claim is left alone."""
        with self._write() as conn:
            conn.execute("DELETE FROM claims WHERE track = ? AND pid = ?", (track, pid))

    def claimant(self, track: str) -> tuple[int, str] | None:
        rows = self._read("SELECT pid, host FROM claims WHERE track = ?", (track,))
        return (rows[0]["pid"], rows[0]["host"]) if rows else None

    # ---- tasks and locks ---------------------------------------------------------------

    def sync_tasks(self, track: str, tasks: Sequence[TaskSpec]) -> list[tuple[str, str, str]]:
        """Make the run state follow the plan: `tasks` is the whole task list. New tasks start as
        todo; known ones keep their run state and take the plan's title, touches and deps. A
        known task missing from `tasks` is retired (hidden from `tasks()`, its locks released,
        its branch and worktree untouched) unless it is running; a retired task back in `tasks`
        is restored with its run state (a done one locks its touches again). Returns the events
        logged, (kind "retired" or "restored", message, task), for the caller to show."""
        changed: list[tuple[str, str, str]] = []
        with self._write() as conn:
            (seq,) = conn.execute(
                "SELECT COALESCE(MAX(seq), 0) FROM tasks WHERE track = ?", (track,)
            ).fetchone()
            known = {
                row["id"]: row
                for row in conn.execute(
                    "SELECT id, status, retired_at, touches FROM tasks WHERE track = ?", (track,)
                )
            }
            for offset, spec in enumerate(tasks, start=1):
                self._write_touches_file(track, spec, known.get(spec.id))
                conn.execute(
                    "INSERT INTO tasks (track, id, title, status, touches, deps, seq) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (track, id) DO UPDATE SET "
                    "title = excluded.title, touches = excluded.touches, deps = excluded.deps, "
                    "retired_at = NULL",
                    (
                        track,
                        spec.id,
                        self._secrets.redact(spec.title),
                        Status.TODO.value,
                        encode_list(spec.touches),
                        encode_list(spec.deps),
                        seq + offset,
                    ),
                )
                row = known.get(spec.id)
                if row is not None and row["retired_at"] is not None:
                    if row["status"] in _LOCK_KEEPING:
                        conn.executemany(
                            "INSERT OR IGNORE INTO locks VALUES (?, ?, ?)",
                            [(track, spec.id, pattern) for pattern in spec.touches],
                        )
                    message = (
                        f"{spec.id} restored: it is in plan.md again, "
                        f"and keeps its run state ({row['status']})"
                    )
                    self._event(conn, track, spec.id, "restored", message)
                    changed.append(("restored", message, spec.id))
            changed += self._retire_missing(conn, track, {spec.id for spec in tasks})
        self._forget_tasks(track)
        return changed

    def _write_touches_file(self, track: str, spec: TaskSpec, stored: sqlite3.Row | None) -> None:
        """The hook's copy of a task's touches (`task_scope.touches_file`), written when they
        change (or the file is missing), inside the transaction storing them: never wider than
        the plan last taken. Not fsynced: a crash leaves the old file, or an empty one (a
        read-only task: the hook refuses more, never less)."""
        path = touches_file(self.path.parent.parent, track, spec.id)  # path: <common>/swarm/state.db
        if (
            stored is not None
            and decode_list(stored["touches"]) == tuple(spec.touches)
            and read_touches_file(path) == tuple(spec.touches)
        ):
            return
        write_bytes_atomic(Path(path), encode_touches_file(spec.touches), durable=False)

    def retire_missing(self, track: str, planned: Collection[str]) -> list[tuple[str, str, str]]:
        """Retire (as `sync_tasks` does) the known tasks not in `planned`, and nothing else: the
        other tasks' run state, touches included, stays as stored. Returns the events logged."""
        with self._write() as conn:
            retired = self._retire_missing(conn, track, planned)
        self._forget_tasks(track)
        return retired

    def _retire_missing(
        self, conn: sqlite3.Connection, track: str, planned: Collection[str]
    ) -> list[tuple[str, str, str]]:
        retired: list[tuple[str, str, str]] = []
        for row in conn.execute(
            "SELECT id, status, branch FROM tasks WHERE track = ? AND retired_at IS NULL ORDER BY seq",
            (track,),
        ).fetchall():
            if row["id"] in planned or row["status"] == Status.RUNNING:
                continue  # a running one: an agent works on it; retired at a later sync, once it ended
            conn.execute(
                "UPDATE tasks SET retired_at = ? WHERE track = ? AND id = ?", (time.time(), track, row["id"])
            )
            conn.execute("DELETE FROM locks WHERE track = ? AND task = ?", (track, row["id"]))
            kept = f"; its branch {row['branch']} and worktree are kept" if row["branch"] else ""
            message = f"{row['id']} retired: it is no longer in plan.md (was {row['status']}){kept}"
            self._event(conn, track, row["id"], "retired", message)
            retired.append(("retired", message, row["id"]))
        return retired

    def tasks(self, track: str) -> list[TaskRow]:
        """The track's tasks (those in the plan: retired ones left out) in the order they were
        first synced."""
        return [row for row in self._cached_tasks(track).values() if row.retired_at is None]

    def retired_tasks(self, track: str) -> list[TaskRow]:
        """The track's retired tasks: once run-state tasks, no longer in plan.md."""
        return [row for row in self._cached_tasks(track).values() if row.retired_at is not None]

    def task(self, track: str, task: str) -> TaskRow | None:
        """One task's row, retired or not (`retired_at` says)."""
        return self._cached_tasks(track).get(task)

    def task_ids_by_status(self, track: str) -> dict[Status, frozenset[str]]:
        """The ids of the track's tasks (retired ones left out) per status; a status no task
        has is missing. Kept with the task rows' cache, so a call costs what changed since the
        last, and a set that did not change is the very object returned before."""
        with self._lock:
            rows = self._cached_tasks(track)
            index = self._status_ids.get(track)
            if index is None:
                found: dict[Status, set[str]] = {}
                for row in rows.values():
                    if row.retired_at is None:
                        found.setdefault(row.status, set()).add(row.id)
                index = self._status_ids[track] = {status: frozenset(ids) for status, ids in found.items()}
            return dict(index)

    def _follow_others(self) -> None:
        """Drop every cache when another connection committed since the last read."""
        (version,) = self._conn.execute("PRAGMA data_version").fetchone()
        if version != self._seen_version:
            self._task_cache.clear()
            self._status_ids.clear()
            self._spent.clear()
            self._seen_version = version

    def _cached_tasks(self, track: str) -> dict[str, TaskRow]:
        with self._lock:
            self._follow_others()
            rows = self._task_cache.get(track)
            if rows is None:
                found = self._conn.execute(
                    f"SELECT {_TASK_COLUMNS} FROM tasks WHERE track = ? ORDER BY seq", (track,)
                )
                rows = self._task_cache[track] = {row.id: row for row in map(_task_row, found)}
                self._status_ids.pop(track, None)
            return rows

    def _reread_task(self, track: str, task: str) -> None:
        """After this Store changed one task row: the cache takes it, in place."""
        with self._lock:
            rows = self._task_cache.get(track)
            if rows is None:
                return
            found = self._conn.execute(
                f"SELECT {_TASK_COLUMNS} FROM tasks WHERE track = ? AND id = ?", (track, task)
            ).fetchone()
            if found is None or task not in rows:
                self._forget_tasks(track)
                return
            before, rows[task] = rows[task], _task_row(found)
            index = self._status_ids.get(track)
            if index is not None:
                _move_id(index, task, _listed_as(before), _listed_as(rows[task]))

    def _forget_tasks(self, track: str) -> None:
        with self._lock:
            self._task_cache.pop(track, None)
            self._status_ids.pop(track, None)

    def touches_for_branch(self, branch: str) -> list[str] | None:
        """The touches of the task on `swarm/<track>/<task>`; None when unknown."""
        key = parse_task_branch(branch)
        if key is None:
            return None
        with self._lock:
            touches = task_touches(self._conn, *key)
        return None if touches is None else list(touches)

    def mark_running(
        self,
        track: str,
        task: str,
        *,
        branch: str,
        worktree: str,
        start_commit: str,
        after: Sequence[str],
        pid: int | None = None,
    ) -> None:
        """Start an attempt: status running, attempts + 1, its touches locked, an event."""
        with self._write() as conn:
            touches = self._existing_touches(conn, track, task)
            conn.execute(
                "UPDATE tasks SET status = ?, reason = '', branch = ?, worktree = ?, "
                "start_commit = ?, final_commit = NULL, after = ?, attempts = attempts + 1, "
                "started_at = ?, finished_at = NULL, pid = ? WHERE track = ? AND id = ?",
                (
                    Status.RUNNING.value,
                    branch,
                    worktree,
                    start_commit,
                    encode_list(list(after)),
                    time.time(),
                    pid,
                    track,
                    task,
                ),
            )
            conn.execute("DELETE FROM locks WHERE track = ? AND task = ?", (track, task))
            conn.executemany(
                "INSERT INTO locks VALUES (?, ?, ?)", [(track, task, pattern) for pattern in touches]
            )
            (attempts,) = conn.execute(
                "SELECT attempts FROM tasks WHERE track = ? AND id = ?", (track, task)
            ).fetchone()
            self._event(
                conn,
                track,
                task,
                Status.RUNNING.value,
                f"{task} running on {branch} from {start_commit[:12]} (attempt {attempts})",
            )
        self._reread_task(track, task)

    def mark_finished(
        self, track: str, task: str, state: Status, *, final_commit: str | None = None, reason: str = ""
    ) -> None:
        """End an attempt as done, failed or blocked. Done keeps its locks until integration
        (`release_locks`); failed and blocked release them."""
        if not state.finished:
            raise ValueError(f"not a finished status: {state.value!r} (done, failed or blocked)")
        with self._write() as conn:
            self._existing_touches(conn, track, task)
            conn.execute(
                "UPDATE tasks SET status = ?, reason = ?, final_commit = ?, finished_at = ? "
                "WHERE track = ? AND id = ?",
                (state.value, self._secrets.redact(reason), final_commit, time.time(), track, task),
            )
            self._settle_locks(conn, track, task, state)
            where = f" at {final_commit[:12]}" if final_commit else ""
            self._event(
                conn,
                track,
                task,
                state.value,
                f"{task} {state.value}{where}" + (f": {reason}" if reason else ""),
            )
        self._reread_task(track, task)

    def set_status(self, track: str, task: str, state: Status, reason: str = "") -> None:
        """Set a status by hand (retry → todo, blocked, needs-input, …), with an event. Locks
        are released unless the new status is running or done."""
        with self._write() as conn:
            self._existing_touches(conn, track, task)
            conn.execute(
                "UPDATE tasks SET status = ?, reason = ?, finished_at = ? WHERE track = ? AND id = ?",
                (
                    state.value,
                    self._secrets.redact(reason),
                    time.time() if state.finished else None,
                    track,
                    task,
                ),
            )
            self._settle_locks(conn, track, task, state)
            self._event(
                conn, track, task, state.value, f"{task} {state.value}" + (f": {reason}" if reason else "")
            )
        self._reread_task(track, task)

    def release_worktree(self, track: str, task: str) -> None:
        """Forget `task`'s worktree (another task took it over); its branch stays recorded."""
        with self._write() as conn:
            conn.execute("UPDATE tasks SET worktree = NULL WHERE track = ? AND id = ?", (track, task))
        self._reread_task(track, task)

    def reset_for_rerun(self, track: str, task: str, reason: str) -> None:
        """Back to todo with no branch, worktree, start point or result recorded, so the next
        run starts it afresh from a newly folded start point; locks released, an event."""
        with self._write() as conn:
            self._existing_touches(conn, track, task)
            conn.execute(
                "UPDATE tasks SET status = ?, reason = ?, branch = NULL, worktree = NULL, "
                "start_commit = NULL, final_commit = NULL, after = '[]', started_at = NULL, "
                "finished_at = NULL, pid = NULL WHERE track = ? AND id = ?",
                (Status.TODO.value, self._secrets.redact(reason), track, task),
            )
            self._settle_locks(conn, track, task, Status.TODO)
            self._event(conn, track, task, Status.TODO.value, f"{task} will run again: {reason}")
        self._reread_task(track, task)

    # ---- reviews -----------------------------------------------------------------------

    def set_review(
        self, track: str, task: str, *, verdict: ReviewVerdict, reviewer: str, message: str, final_commit: str
    ) -> None:
        """Record a reviewer's verdict on the task's work at `final_commit`, with an event."""
        with self._write() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO reviews VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    track,
                    task,
                    verdict.value,
                    self._secrets.redact(reviewer),
                    self._secrets.redact(message),
                    final_commit,
                    time.time(),
                ),
            )
            said = f": {message}" if message else ""
            self._event(conn, track, task, f"review-{verdict}", f"{task} {verdict} by {reviewer}{said}")

    def reviews(self, track: str) -> dict[str, ReviewRow]:
        """The latest verdict per task of the track."""
        rows = self._read("SELECT * FROM reviews WHERE track = ? ORDER BY task", (track,))
        return {
            row["task"]: ReviewRow(**{**dict(row), "verdict": ReviewVerdict(row["verdict"])}) for row in rows
        }

    def release_locks(self, track: str, tasks: Sequence[str]) -> None:
        """Drop the locks of these tasks (e.g. once their branches are integrated)."""
        with self._write() as conn:
            conn.executemany(
                "DELETE FROM locks WHERE track = ? AND task = ?", [(track, task) for task in tasks]
            )

    def locks(self, track: str) -> list[LockRow]:
        rows = self._read("SELECT task, pattern FROM locks WHERE track = ? ORDER BY task, rowid", (track,))
        return [LockRow(row["task"], row["pattern"]) for row in rows]

    @staticmethod
    def _existing_touches(conn: sqlite3.Connection, track: str, task: str) -> tuple[str, ...]:
        touches = task_touches(conn, track, task)
        if touches is None:
            raise UsageError(f"unknown task {task!r} in track {track!r}")
        return touches

    @staticmethod
    def _settle_locks(conn: sqlite3.Connection, track: str, task: str, state: Status) -> None:
        if state not in _LOCK_KEEPING:
            conn.execute("DELETE FROM locks WHERE track = ? AND task = ?", (track, task))

    # ---- events and cost ---------------------------------------------------------------

    def add_event(self, track: str, kind: str, message: str, task: str | None = None) -> None:
        with self._write() as conn:
            self._event(conn, track, task, kind, message)

    def _event(self, conn: sqlite3.Connection, track: str, task: str | None, kind: str, message: str) -> None:
        conn.execute(
            "INSERT INTO events (ts, track, task, kind, message) VALUES (?, ?, ?, ?, ?)",
            (time.time(), track, task, kind, self._secrets.redact(message)),
        )

    def events(self, track: str, after_id: int = 0, limit: int | None = None) -> list[EventRow]:
        """The track's events with id > after_id, oldest first, at most `limit`."""
        rows = self._read(
            "SELECT id, ts, track, task, kind, message FROM events WHERE track = ? AND id > ? "
            "ORDER BY id LIMIT ?",
            (track, after_id, -1 if limit is None else limit),
        )
        return [EventRow(**dict(row)) for row in rows]

    def add_usage(
        self,
        track: str,
        task: str,
        *,
        model: str,
        input_tokens: int,
        output_tokens: int,
        cache_write_tokens: int,
        cache_read_tokens: int,
        usd: float,
        cli_usd: float | None = None,
    ) -> None:
        """Record one usage: `usd` is what swarmgit counts (`cost.recorded_cost`), `cli_usd`
        what the agent's tool reported, if it did (kept for comparison only)."""
        with self._write() as conn:
            conn.execute(
                "INSERT INTO usage (ts, track, task, model, input_tokens, output_tokens, "
                "cache_write_tokens, cache_read_tokens, usd, cli_usd) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    time.time(),
                    track,
                    task,
                    model,
                    input_tokens,
                    output_tokens,
                    cache_write_tokens,
                    cache_read_tokens,
                    usd,
                    cli_usd,
                ),
            )
            self._spent.pop(track, None)

    def spend_over_time(self, track: str) -> list[tuple[float, float]]:
        """(time, cumulative USD) after each usage record of the track, oldest first."""
        rows = self._read("SELECT ts, usd FROM usage WHERE track = ? ORDER BY id", (track,))
        points, total = [], 0.0
        for row in rows:
            total += row["usd"]
            points.append((row["ts"], total))
        return points

    def spent_usd(self, track: str) -> float:
        """The USD the track has spent, as `cost_summary(track).usd`; kept until the next usage
        record (this Store's or another connection's), so the live loop does not sum every
        record of the track again for each task."""
        with self._lock:
            self._follow_others()
            if track not in self._spent:
                (usd,) = self._conn.execute(
                    "SELECT COALESCE(SUM(usd), 0) FROM usage WHERE track = ?", (track,)
                ).fetchone()
                self._spent[track] = float(usd or 0.0)
            return self._spent[track]

    def cost_summary(self, track: str) -> CostSummary:
        """Tokens and dollars spent on the track: in total, per task and per model."""
        with self._lock:
            total = self._conn.execute(
                f"SELECT {_SPEND_SUMS} FROM usage WHERE track = ?", (track,)
            ).fetchone()
            by_task = self._conn.execute(
                f"SELECT task, {_SPEND_SUMS} FROM usage WHERE track = ? GROUP BY task ORDER BY task", (track,)
            ).fetchall()
            by_model = self._conn.execute(
                f"SELECT model, {_SPEND_SUMS} FROM usage WHERE track = ? GROUP BY model ORDER BY model",
                (track,),
            ).fetchall()
        return CostSummary(
            total=_spend(tuple(total)),
            by_task={row[0]: _spend(tuple(row)[1:]) for row in by_task},
            by_model={row[0]: _spend(tuple(row)[1:]) for row in by_model},
        )

    # ---- the repository's git files (tamper detection) ---------------------------------

    def set_git_baseline(self, track: str, task: str, fingerprint: str) -> None:
        """Remember the git files' fingerprint (JSON) taken as `task` started."""
        with self._write() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO git_files VALUES (?, ?, 'baseline', ?, ?)",
                (track, task, fingerprint, time.time()),
            )

    def git_baseline(self, track: str, task: str) -> str | None:
        rows = self._read(
            "SELECT value FROM git_files WHERE track = ? AND task = ? AND kind = 'baseline'", (track, task)
        )
        return str(rows[0]["value"]) if rows else None

    def add_tamper_hold(self, track: str, task: str, message: str) -> None:
        """Hold the track's advance: the git files changed while `task` ran (`message` says
        what); an event records it too."""
        with self._write() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO git_files VALUES (?, ?, 'hold', ?, ?)",
                (track, task, message, time.time()),
            )
            self._event(conn, track, task, "tamper", message)

    def tamper_holds(self, track: str) -> dict[str, str]:
        """The track's holds: task id → what changed while it ran."""
        rows = self._read(
            "SELECT task, value FROM git_files WHERE track = ? AND kind = 'hold' ORDER BY created_at, task",
            (track,),
        )
        return {row["task"]: row["value"] for row in rows}

    def clear_tamper_holds(self, track: str, note: str) -> dict[str, str]:
        """Drop the track's holds (the user inspected the changes); returns what they were.
        The event `note` records who cleared them."""
        with self._write() as conn:
            rows = conn.execute(
                "SELECT task, value FROM git_files WHERE track = ? AND kind = 'hold'", (track,)
            ).fetchall()
            conn.execute("DELETE FROM git_files WHERE track = ? AND kind = 'hold'", (track,))
            if rows:
                self._event(conn, track, None, "tamper-accepted", note)
        return {row["task"]: row["value"] for row in rows}

    def task_models(self, track: str) -> dict[str, tuple[str, ...]]:
        """The models each task of the track used (sorted), from its usage rows."""
        found: dict[str, tuple[str, ...]] = {}
        for row in self._read(
            "SELECT DISTINCT task, model FROM usage WHERE track = ? ORDER BY task, model", (track,)
        ):
            found[row[0]] = (*found.get(row[0], ()), row[1])
        return found

    # ---- spawn queue -------------------------------------------------------------------

    def queue_candidate(self, track: str, dedup_key: str, payload: str, state: CandidateState) -> bool:
        """Queue a spawn candidate; False (and nothing changes) when the track already has
        one with this dedup key."""
        now = time.time()
        with self._write() as conn:
            (seq,) = conn.execute(
                "SELECT COALESCE(MAX(seq), 0) FROM candidates WHERE track = ?", (track,)
            ).fetchone()
            cursor = conn.execute(
                "INSERT OR IGNORE INTO candidates (track, dedup_key, payload, state, "
                "created_at, updated_at, seq) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (track, dedup_key, payload, state.value, now, now, seq + 1),
            )
        return cursor.rowcount == 1

    def candidates(self, track: str, state: CandidateState | None = None) -> list[CandidateRow]:
        """The track's candidates in queue order, optionally only those in `state`."""
        wanted = None if state is None else state.value
        rows = self._read(
            "SELECT track, dedup_key, payload, state, task_id, created_at FROM candidates "
            "WHERE track = ? AND (? IS NULL OR state = ?) ORDER BY seq",
            (track, wanted, wanted),
        )
        return [CandidateRow(**{**dict(row), "state": CandidateState(row["state"])}) for row in rows]

    def set_candidate_state(
        self, track: str, dedup_key: str, state: CandidateState, task_id: str | None = None
    ) -> None:
        """Move a candidate to `state`; `task_id` (when given) records the task it became."""
        with self._write() as conn:
            cursor = conn.execute(
                "UPDATE candidates SET state = ?, task_id = COALESCE(?, task_id), "
                "updated_at = ? WHERE track = ? AND dedup_key = ?",
                (state.value, task_id, time.time(), track, dedup_key),
            )
            if cursor.rowcount == 0:
                raise UsageError(f"no spawn candidate with dedup key {dedup_key!r} in track {track!r}")
