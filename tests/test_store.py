"""The run-state store: a real SQLite file in a real repository's common dir."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from swarmgit.domain.plan import Status
from swarmgit.domain.review import ReviewVerdict
from swarmgit.domain.secrets import secrets_from_env
from swarmgit.domain.spawn import CandidateState
from swarmgit.errors import UsageError
from swarmgit.process.group import pid_alive
from swarmgit.store.schema import SCHEMA_VERSION
from swarmgit.store.state import LockRow, Spend, Store, TaskSpec
from swarmgit.store.task_scope import lookup_touches, parse_task_branch

HOST = "host-a"


@pytest.fixture
def common(repo: Path) -> Path:
    return repo / ".git"


@pytest.fixture
def store(common: Path) -> Iterator[Store]:
    with Store.open(common) as opened:
        opened.ensure_track("demo", base_commit="b" * 40, target_branch="main", plan_path="plan.md")
        opened.sync_tasks(
            "demo",
            [
                TaskSpec("T01", "API", ("api/", "config.py"), ()),
                TaskSpec("T02", "Docs", ("docs/**/*.md",), ("T01",)),
                TaskSpec("T03", "Survey", (), ()),
            ],
        )
        yield opened


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_open_creates_the_database_in_wal_mode_with_a_schema_version(common: Path) -> None:
    with Store.open(common) as store:
        assert store.path == common / "swarm" / "state.db"
    conn = sqlite3.connect(common / "swarm" / "state.db")
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone() == (
        str(SCHEMA_VERSION),
    )
    conn.close()


def test_reopening_keeps_the_state(common: Path, store: Store) -> None:
    store.close()
    with Store.open(common) as again:
        assert [t.id for t in again.tasks("demo")] == ["T01", "T02", "T03"]


def test_a_database_from_a_newer_swarmgit_is_refused(common: Path, store: Store) -> None:
    conn = sqlite3.connect(store.path)
    with conn:
        conn.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    conn.close()
    with pytest.raises(UsageError, match="schema version 99"):
        Store.open(common)


def test_ensure_track_inserts_once_then_returns_the_row_unchanged(store: Store) -> None:
    again = store.ensure_track("demo", base_commit="c" * 40, target_branch="dev", plan_path="x.md")
    assert (again.base_commit, again.target_branch, again.plan_path) == ("b" * 40, "main", "plan.md")
    assert again == store.track("demo")
    assert again.budget_usd is None and again.integrated_commit is None
    assert store.track("nope") is None


def test_set_track_fields(store: Store) -> None:
    store.set_track_fields("demo", budget_usd=25.0, integrated_commit="d" * 40)
    row = store.track("demo")
    assert row is not None and (row.budget_usd, row.integrated_commit) == (25.0, "d" * 40)
    with pytest.raises(ValueError, match="not a track field: colour"):
        store.set_track_fields("demo", colour="red")
    with pytest.raises(UsageError, match="unknown track"):
        store.set_track_fields("nope", budget_usd=1.0)


def test_one_orchestrator_per_track(store: Store) -> None:
    assert store.claimant("demo") is None
    assert store.claim("demo", os.getpid(), HOST)
    assert store.claimant("demo") == (os.getpid(), HOST)
    assert store.claim("demo", os.getpid(), HOST), "the holder may claim again"
    store.release("demo", os.getpid())
    assert store.claimant("demo") is None


def test_a_live_claimant_keeps_the_track(store: Store) -> None:
    assert store.claim("demo", os.getpid(), HOST)
    assert not store.claim("demo", os.getppid(), HOST)
    assert store.claimant("demo") == (os.getpid(), HOST)
    store.release("demo", os.getppid())  # not the holder: no effect
    assert store.claimant("demo") == (os.getpid(), HOST)


def test_a_dead_claimant_on_this_host_is_taken_over(store: Store) -> None:
    dead = _dead_pid()
    assert not pid_alive(dead)
    assert store.claim("demo", dead, HOST)
    assert store.claim("demo", os.getpid(), HOST)
    assert store.claimant("demo") == (os.getpid(), HOST)


def test_a_claim_from_another_host_is_never_taken_over(store: Store) -> None:
    assert store.claim("demo", _dead_pid(), "other-host")
    assert not store.claim("demo", os.getpid(), HOST)


def test_racing_claims_have_exactly_one_winner(common: Path, store: Store) -> None:
    live = [os.getpid(), os.getppid(), 1]
    results: list[bool] = []

    def claim(pid: int) -> None:
        with Store.open(common) as own:
            results.append(own.claim("other", pid, HOST))

    threads = [threading.Thread(target=claim, args=(pid,)) for pid in live]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False, False, True]


def test_sync_tasks_adds_todo_tasks_and_updates_plan_fields_only(store: Store) -> None:
    t01 = store.task("demo", "T01")
    assert t01 is not None
    assert (t01.status, t01.touches, t01.deps, t01.attempts) == ("todo", ("api/", "config.py"), (), 0)
    store.mark_running(
        "demo", "T01", branch="swarm/demo/T01", worktree="/wt/T01", start_commit="a" * 40, after=()
    )
    store.sync_tasks(
        "demo",
        [
            TaskSpec("T01", "API v2", ("api/",), ("T00",)),
            TaskSpec("T02", "Docs", ("docs/**/*.md",), ("T01",)),
            TaskSpec("T03", "Survey", (), ()),
            TaskSpec("T04", "New", ("new/",), ()),
        ],
    )
    t01 = store.task("demo", "T01")
    assert t01 is not None
    assert (t01.title, t01.touches, t01.deps) == ("API v2", ("api/",), ("T00",))
    assert (t01.status, t01.branch, t01.attempts) == ("running", "swarm/demo/T01", 1)
    assert [t.id for t in store.tasks("demo")] == ["T01", "T02", "T03", "T04"]
    assert store.tasks("other") == [] and store.task("demo", "T99") is None


def test_sync_tasks_retires_what_left_the_plan_and_restores_what_came_back(store: Store) -> None:
    for task in ("T01", "T02"):
        store.mark_running(
            "demo", task, branch=f"swarm/demo/{task}", worktree=f"/wt/{task}", start_commit="a" * 40, after=()
        )
    store.mark_finished("demo", "T02", Status.DONE, final_commit="c" * 40)
    changed = store.sync_tasks("demo", [TaskSpec("T03", "Survey", (), ())])
    # T01 runs (an agent works on it): it is retired at a later sync, once it ended.
    assert [(kind, task) for kind, _, task in changed] == [("retired", "T02")]
    assert "swarm/demo/T02 and worktree are kept" in changed[0][1]
    assert [t.id for t in store.tasks("demo")] == ["T01", "T03"]
    assert [t.id for t in store.retired_tasks("demo")] == ["T02"]
    assert {lock.task for lock in store.locks("demo")} == {"T01"}
    retired = store.task("demo", "T02")
    assert retired is not None and retired.retired_at is not None and retired.status == "done"
    assert [e.message for e in store.events("demo") if e.kind == "retired"] == [changed[0][1]]
    store.mark_finished("demo", "T01", Status.FAILED, reason="boom")
    assert [task for _, _, task in store.sync_tasks("demo", [TaskSpec("T03", "Survey", (), ())])] == ["T01"]
    assert store.sync_tasks("demo", [TaskSpec("T03", "Survey", (), ())]) == []  # said once
    back = store.sync_tasks(
        "demo", [TaskSpec("T02", "Docs", ("docs/",), ()), TaskSpec("T03", "Survey", (), ())]
    )
    assert back == [
        ("restored", "T02 restored: it is in plan.md again, and keeps its run state (done)", "T02")
    ]
    assert [t.id for t in store.tasks("demo")] == ["T02", "T03"]
    assert store.locks("demo") == [LockRow("T02", "docs/")]  # done: held until integrated
    # What integrate does: retire only, the others' stored touches untouched (it compares them).
    assert [task for _, _, task in store.retire_missing("demo", ["T02"])] == ["T03"]
    t02 = store.task("demo", "T02")
    assert t02 is not None and t02.touches == ("docs/",) and [t.id for t in store.tasks("demo")] == ["T02"]


def test_a_transition_that_fails_midway_changes_nothing(store: Store) -> None:
    bad = TaskSpec("T06", None, (), ())  # type: ignore[arg-type]  # NOT NULL fails at the 2nd row
    with pytest.raises(sqlite3.IntegrityError):
        store.sync_tasks("demo", [TaskSpec("T05", "Fine", (), ()), bad])
    assert store.task("demo", "T05") is None


def test_mark_running_locks_the_touches_and_counts_attempts(store: Store) -> None:
    store.mark_running(
        "demo",
        "T01",
        branch="swarm/demo/T01",
        worktree="/wt/T01",
        start_commit="a" * 40,
        after=("T00",),
        pid=123,
    )
    row = store.task("demo", "T01")
    assert row is not None
    assert (row.status, row.attempts, row.after, row.pid, row.worktree) == (
        "running",
        1,
        ("T00",),
        123,
        "/wt/T01",
    )
    assert row.start_commit == "a" * 40 and row.started_at is not None and row.finished_at is None
    assert store.locks("demo") == [LockRow("T01", "api/"), LockRow("T01", "config.py")]
    assert store.events("demo")[-1].kind == "running"

    store.mark_finished("demo", "T01", Status.FAILED, reason="tests failed")
    store.mark_running(
        "demo", "T01", branch="swarm/demo/T01", worktree="/wt/T01", start_commit="e" * 40, after=()
    )
    row = store.task("demo", "T01")
    assert row is not None
    assert (row.attempts, row.final_commit, row.reason, row.start_commit) == (2, None, "", "e" * 40)
    assert store.locks("demo") == [LockRow("T01", "api/"), LockRow("T01", "config.py")]


def test_task_reads_follow_every_writer(common: Path, store: Store) -> None:
    """Task rows are cached per Store: its own writes update them in place, and a commit by
    another connection (another process's Store, sqlite3 by hand) is seen on the next read."""
    assert [row.status for row in store.tasks("demo")] == ["todo", "todo", "todo"]
    store.mark_running(
        "demo", "T03", branch="swarm/demo/T03", worktree="/wt", start_commit="c" * 40, after=["T01"]
    )
    assert [row.after for row in store.tasks("demo")] == [(), (), ("T01",)]
    with Store.open(common) as other:
        assert [row.status for row in other.tasks("demo")] == ["todo", "todo", "running"]
        other.mark_finished("demo", "T03", Status.DONE, final_commit="d" * 40)
        kept = [TaskSpec(row.id, row.title, row.touches, row.deps) for row in other.tasks("demo")]
        other.sync_tasks("demo", [*kept, TaskSpec("T04", "New", (), ())])  # the whole plan
    assert [(row.id, row.status) for row in store.tasks("demo")] == [
        ("T01", "todo"),
        ("T02", "todo"),
        ("T03", "done"),
        ("T04", "todo"),
    ]
    with sqlite3.connect(common / "swarm" / "state.db") as conn:
        conn.execute("UPDATE tasks SET reason = 'by hand' WHERE id = 'T01'")
    assert [row.reason for row in store.tasks("demo")][0] == "by hand"
    store.set_status("demo", "T02", Status.BLOCKED, "waits")
    assert [row.status for row in store.tasks("demo")] == ["todo", "blocked", "done", "todo"]


def test_status_is_stored_as_text_and_read_back_as_the_enum(common: Path, store: Store) -> None:
    """The column keeps the plain values an older state.db holds; rows decode them once."""
    store.set_status("demo", "T01", Status.NEEDS_INPUT, "which cache?")
    with sqlite3.connect(common / "swarm" / "state.db") as conn:
        stored = dict(conn.execute("SELECT id, typeof(status) || ':' || status FROM tasks"))
        conn.execute("UPDATE tasks SET status = 'failed' WHERE id = 'T02'")  # as an old swarmgit wrote it
    assert stored["T01"] == "text:needs-input"
    statuses = {row.id: row.status for row in store.tasks("demo")}
    assert statuses == {"T01": Status.NEEDS_INPUT, "T02": Status.FAILED, "T03": Status.TODO}
    assert all(type(status) is Status for status in statuses.values())


def test_review_verdicts_are_stored_as_text_and_read_back_as_the_enum(common: Path, store: Store) -> None:
    store.set_review(
        "demo", "T01", verdict=ReviewVerdict.ACCEPTED, reviewer="ann", message="", final_commit="a" * 40
    )
    store.set_review(
        "demo",
        "T02",
        verdict=ReviewVerdict.REJECTED,
        reviewer="bo",
        message="no tests",
        final_commit="b" * 40,
    )
    with sqlite3.connect(common / "swarm" / "state.db") as conn:
        assert dict(conn.execute("SELECT task, verdict FROM reviews")) == {
            "T01": "accepted",
            "T02": "rejected",
        }
    reviews = store.reviews("demo")
    assert (reviews["T01"].verdict, reviews["T02"].verdict) == (
        ReviewVerdict.ACCEPTED,
        ReviewVerdict.REJECTED,
    )
    assert type(reviews["T01"].verdict) is ReviewVerdict
    assert [e.kind for e in store.events("demo")][-2:] == ["review-accepted", "review-rejected"]


def test_ids_by_status_follow_every_writer(common: Path, store: Store) -> None:
    """The per-status id sets move with this Store's own writes, keep an unchanged set the same
    object, and are rebuilt after another connection's commit or a plan sync."""

    def by_status() -> dict[str, set[str]]:
        return {status.value: set(ids) for status, ids in store.task_ids_by_status("demo").items()}

    assert by_status() == {"todo": {"T01", "T02", "T03"}}
    store.mark_running(
        "demo", "T03", branch="swarm/demo/T03", worktree="/wt", start_commit="c" * 40, after=()
    )
    first = store.task_ids_by_status("demo")
    assert by_status() == {"todo": {"T01", "T02"}, "running": {"T03"}}
    store.add_event("demo", "note", "no task row changes")
    assert store.task_ids_by_status("demo")[Status.RUNNING] is first[Status.RUNNING]
    store.mark_finished("demo", "T03", Status.DONE, final_commit="d" * 40)
    assert by_status() == {"todo": {"T01", "T02"}, "done": {"T03"}}
    with Store.open(common) as other:
        other.set_status("demo", "T01", Status.BLOCKED, "by another process")
    assert by_status() == {"todo": {"T02"}, "blocked": {"T01"}, "done": {"T03"}}
    store.retire_missing("demo", ["T02", "T03"])
    assert by_status() == {"todo": {"T02"}, "done": {"T03"}}
    with sqlite3.connect(common / "swarm" / "state.db") as conn:
        conn.execute("UPDATE tasks SET status = 'failed' WHERE id = 'T02'")
    assert by_status() == {"failed": {"T02"}, "done": {"T03"}}
    assert by_status() == {
        status: {row.id for row in store.tasks("demo") if row.status == status}
        for status in ("failed", "done")
    }


def test_releasing_a_worktree_is_seen_by_the_next_read(store: Store) -> None:
    """The cached row forgets a released worktree at once (else the worktree pool offers a
    folder another task took over, and releases it again on every start)."""
    store.mark_running(
        "demo", "T03", branch="swarm/demo/T03", worktree="/wt/T03", start_commit="a" * 40, after=()
    )
    store.mark_finished("demo", "T03", Status.DONE, final_commit="f" * 40)
    assert [row.worktree for row in store.tasks("demo")] == [None, None, "/wt/T03"]
    store.release_worktree("demo", "T03")
    row = store.task("demo", "T03")
    assert row is not None and (row.worktree, row.branch) == (None, "swarm/demo/T03")
    assert [row.worktree for row in store.tasks("demo")] == [None, None, None]


def test_a_read_only_task_holds_no_lock(store: Store) -> None:
    store.mark_running(
        "demo", "T03", branch="swarm/demo/T03", worktree="/wt/T03", start_commit="a" * 40, after=()
    )
    assert store.locks("demo") == []


def test_done_keeps_its_locks_until_released_failed_and_blocked_drop_them(store: Store) -> None:
    for task in ("T01", "T02"):
        store.mark_running(
            "demo", task, branch=f"swarm/demo/{task}", worktree="/wt", start_commit="a" * 40, after=()
        )
    store.mark_finished("demo", "T01", Status.DONE, final_commit="f" * 40)
    store.mark_finished("demo", "T02", Status.BLOCKED, reason="merge conflict in docs/a.md")
    t01, t02 = store.task("demo", "T01"), store.task("demo", "T02")
    assert t01 is not None and t02 is not None
    assert (t01.status, t01.final_commit) == ("done", "f" * 40) and t01.finished_at is not None
    assert (t02.status, t02.reason) == ("blocked", "merge conflict in docs/a.md")
    assert {lock.task for lock in store.locks("demo")} == {"T01"}
    store.release_locks("demo", ["T01"])
    assert store.locks("demo") == []
    messages = [e.message for e in store.events("demo") if e.task == "T02"]
    assert messages[-1] == "T02 blocked: merge conflict in docs/a.md"


def test_mark_finished_refuses_unfinished_statuses_and_unknown_tasks(store: Store) -> None:
    with pytest.raises(ValueError, match="not a finished status"):
        store.mark_finished("demo", "T01", Status.RUNNING)
    with pytest.raises(UsageError, match="unknown task 'T99'"):
        store.mark_finished("demo", "T99", Status.DONE)


def test_set_status_by_hand(store: Store) -> None:
    store.mark_running(
        "demo", "T01", branch="swarm/demo/T01", worktree="/wt", start_commit="a" * 40, after=()
    )
    store.set_status("demo", "T01", Status.RUNNING, "still going")
    assert len(store.locks("demo")) == 2
    store.set_status("demo", "T01", Status.NEEDS_INPUT, "which cache backend?")
    row = store.task("demo", "T01")
    assert row is not None and (row.status, row.reason) == ("needs-input", "which cache backend?")
    assert store.locks("demo") == []
    store.set_status("demo", "T01", Status.TODO)
    row = store.task("demo", "T01")
    assert row is not None and row.status == "todo" and row.finished_at is None
    with pytest.raises(UsageError):
        store.set_status("demo", "T99", Status.TODO)


def test_touches_for_branch(store: Store, common: Path) -> None:
    assert store.touches_for_branch("swarm/demo/T01") == ["api/", "config.py"]
    assert store.touches_for_branch("refs/heads/swarm/demo/T02") == ["docs/**/*.md"]
    assert store.touches_for_branch("swarm/demo/T03") == []
    assert store.touches_for_branch("swarm/demo/T99") is None
    assert store.touches_for_branch("swarm/demo/integration") is None
    assert store.touches_for_branch("main") is None
    assert lookup_touches(str(common), "refs/heads/swarm/demo/T01") == ("api/", "config.py")


def test_lookup_touches_creates_nothing(tmp_path: Path) -> None:
    assert lookup_touches(str(tmp_path), "swarm/demo/T01") is None
    assert not (tmp_path / "swarm").exists()


def test_parse_task_branch() -> None:
    assert parse_task_branch("swarm/demo/T01") == ("demo", "T01")
    assert parse_task_branch("refs/heads/swarm/demo/SC-01") == ("demo", "SC-01")
    for other in ("swarm/demo/integration", "swarm/demo", "swarm/a/b/c", "feature/x", "swarm//T1"):
        assert parse_task_branch(other) is None


def test_events_are_appended_and_paged(store: Store) -> None:
    store.add_event("demo", "note", "track started")
    store.add_event("demo", "agent", "T01 wrote api/x.py", task="T01")
    store.add_event("other", "note", "elsewhere")
    events = store.events("demo")
    assert [(e.kind, e.task, e.message) for e in events] == [
        ("note", None, "track started"),
        ("agent", "T01", "T01 wrote api/x.py"),
    ]
    assert events[0].id < events[1].id and events[0].ts <= events[1].ts
    assert store.events("demo", after_id=events[0].id) == events[1:]
    assert store.events("demo", limit=1) == events[:1]


def test_cost_summary_sums_per_task_and_model(store: Store) -> None:
    assert store.cost_summary("demo").total == Spend()
    store.add_usage(
        "demo",
        "T01",
        model="m-small",
        input_tokens=100,
        output_tokens=10,
        cache_write_tokens=5,
        cache_read_tokens=50,
        usd=0.25,
    )
    store.add_usage(
        "demo",
        "T01",
        model="m-big",
        input_tokens=200,
        output_tokens=20,
        cache_write_tokens=0,
        cache_read_tokens=0,
        usd=1.0,
    )
    store.add_usage(
        "demo",
        "T02",
        model="m-small",
        input_tokens=1,
        output_tokens=1,
        cache_write_tokens=0,
        cache_read_tokens=0,
        usd=0.5,
    )
    store.add_usage(
        "other",
        "T01",
        model="m-big",
        input_tokens=9,
        output_tokens=9,
        cache_write_tokens=9,
        cache_read_tokens=9,
        usd=9.0,
    )
    cost = store.cost_summary("demo")
    assert cost.usd == pytest.approx(1.75)
    assert cost.total == Spend(301, 31, 5, 50, pytest.approx(1.75))  # type: ignore[arg-type]
    assert cost.by_task["T01"].usd == pytest.approx(1.25)
    assert cost.by_task["T02"].input_tokens == 1
    assert cost.by_model["m-small"] == Spend(101, 11, 5, 50, pytest.approx(0.75))  # type: ignore[arg-type]
    assert set(cost.by_model) == {"m-small", "m-big"}


def test_spent_usd_follows_every_usage_record(common: Path, store: Store) -> None:
    """The live loop's spend is kept between reads, yet sees this Store's records and another
    process's at once, and always equals the cost summary's total."""

    def usage(on: Store, usd: float, track: str = "demo") -> None:
        on.add_usage(
            track,
            "T01",
            model="m",
            input_tokens=1,
            output_tokens=1,
            cache_write_tokens=0,
            cache_read_tokens=0,
            usd=usd,
        )

    assert store.spent_usd("demo") == 0.0
    usage(store, 0.25)
    assert store.spent_usd("demo") == store.cost_summary("demo").usd == 0.25
    with Store.open(common) as other:
        usage(other, 1.0)
        usage(other, 9.0, track="other")
    assert store.spent_usd("demo") == store.cost_summary("demo").usd == 1.25
    with sqlite3.connect(common / "swarm" / "state.db") as conn:
        conn.execute("DELETE FROM usage WHERE usd = 0.25")
    assert store.spent_usd("demo") == 1.0 and store.spent_usd("other") == 9.0


def test_spawn_queue_dedups_by_key_across_the_track(store: Store) -> None:
    assert store.queue_candidate("demo", "cache-ttl", '{"id": "a"}', CandidateState.QUEUED)
    assert store.queue_candidate("demo", "auth", '{"id": "b"}', CandidateState.WAITING)
    assert not store.queue_candidate("demo", "cache-ttl", '{"id": "c"}', CandidateState.QUEUED)
    assert store.queue_candidate("other", "cache-ttl", "{}", CandidateState.QUEUED)
    assert [c.dedup_key for c in store.candidates("demo")] == ["cache-ttl", "auth"]
    assert store.candidates("demo")[0].payload == '{"id": "a"}'
    store.set_candidate_state("demo", "cache-ttl", CandidateState.SPAWNED, task_id="SC-01")
    store.set_candidate_state("demo", "cache-ttl", CandidateState.REJECTED)
    (rejected,) = store.candidates("demo", CandidateState.REJECTED)
    assert (rejected.dedup_key, rejected.task_id, rejected.state) == (
        "cache-ttl",
        "SC-01",
        CandidateState.REJECTED,
    )
    (waiting,) = store.candidates("demo", CandidateState.WAITING)
    assert waiting.dedup_key == "auth" and type(waiting.state) is CandidateState and waiting.state.undecided
    with pytest.raises(UsageError, match="no spawn candidate"):
        store.set_candidate_state("demo", "missing", CandidateState.REJECTED)


def test_concurrent_writers_lose_nothing(common: Path, store: Store) -> None:
    """Separate connections (as separate processes have) and one shared Store, all at once."""
    errors: list[BaseException] = []

    def own_connection(n: int) -> None:
        try:
            with Store.open(common) as own:
                for i in range(40):
                    own.queue_candidate("demo", f"k{n}-{i}", "{}", CandidateState.QUEUED)
                    own.add_event("demo", "tick", f"{n}-{i}")
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    def shared(n: int) -> None:
        try:
            for i in range(40):
                store.add_usage(
                    "demo",
                    f"T{n}",
                    model="m",
                    input_tokens=1,
                    output_tokens=0,
                    cache_write_tokens=0,
                    cache_read_tokens=0,
                    usd=0.01,
                )
                store.set_status("demo", "T02", Status.TODO, f"{n}-{i}")
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=own_connection, args=(n,)) for n in range(3)]
    threads += [threading.Thread(target=shared, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(store.candidates("demo")) == 120
    assert len([e for e in store.events("demo") if e.kind == "tick"]) == 120
    assert store.cost_summary("demo").total.input_tokens == 80


def test_a_claim_whose_pid_now_names_a_newer_process_is_taken_over(tmp_path: Path) -> None:
    """After a reboot (or pid reuse) the claimant's pid may belong to another, later process."""
    import socket
    import time

    newer = subprocess.Popen(["sleep", "30"])
    try:
        with Store.open(tmp_path) as store:
            store.ensure_track("t", base_commit="0" * 40, target_branch="main", plan_path="p")
            assert store.claim("t", newer.pid, socket.gethostname())
            with store._write() as conn:  # the claim was made an hour before `newer` started
                conn.execute("UPDATE claims SET claimed_at = ? WHERE track = 't'", (time.time() - 3600,))
            assert store.claim("t", os.getpid(), socket.gethostname())
            assert store.claimant("t") == (os.getpid(), socket.gethostname())
    finally:
        newer.kill()
        newer.wait()


def test_git_file_baselines_and_tamper_holds(store: Store) -> None:
    assert store.git_baseline("t", "T01") is None and store.tamper_holds("t") == {}
    store.set_git_baseline("t", "T01", '{"a": "1"}')
    store.set_git_baseline("t", "T01", '{"a": "2"}')
    assert store.git_baseline("t", "T01") == '{"a": "2"}'
    store.add_tamper_hold("t", "T01", "hooks changed")
    store.add_tamper_hold("t", "T02", "config changed")
    assert store.tamper_holds("t") == {"T01": "hooks changed", "T02": "config changed"}
    assert store.tamper_holds("other") == {}
    assert store.clear_tamper_holds("t", "accepted") == {"T01": "hooks changed", "T02": "config changed"}
    assert store.tamper_holds("t") == {} and store.git_baseline("t", "T01") == '{"a": "2"}'
    assert [e.kind for e in store.events("t")] == ["tamper", "tamper", "tamper-accepted"]
    assert store.clear_tamper_holds("t", "again") == {}


def test_every_text_the_store_writes_is_redacted_of_its_secrets(common: Path) -> None:
    key = "sk-ant-api03-store-secret-1234"
    with Store.open(common, secrets_from_env({"ANTHROPIC_API_KEY": key})) as store:
        store.ensure_track("s", base_commit="b" * 40, target_branch="main", plan_path="plan.md")
        store.sync_tasks(
            "s", [TaskSpec("T01", f"use {key}", ("a/",), ()), TaskSpec("T02", "plain", ("b/",), ())]
        )
        store.set_status("s", "T01", Status.BLOCKED, f"blocked on {key}")
        store.mark_running("s", "T02", branch="swarm/s/T02", worktree="w", start_commit="c" * 40, after=())
        store.mark_finished("s", "T02", Status.FAILED, reason=f"saw {key}!")
        store.add_event("s", "note", f"[{key}]", "T02")
        rows = {t.id: (t.title, t.reason) for t in store.tasks("s")}
        events = [e.message for e in store.events("s")]
    assert rows == {"T01": ("use ***", "blocked on ***"), "T02": ("plain", "saw ***!")}
    assert "T02 failed: saw ***!" in events[-2] and events[-1] == "[***]"
    raw = b"".join(p.read_bytes() for p in (common / "swarm").glob("state.db*"))
    assert key.encode() not in raw
