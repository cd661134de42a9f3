"""The worker's side of executor = "ray", run in this process without Ray: a fresh checkout of
the start ref from a shared bare remote, the script agent under the same scope check, and a
create-only push whose re-run (a Ray retry) returns the branch instead of pushing twice."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pygit2
import pytest

from swarmgit.backends.base import AgentJob, AgentOutcome, Usage
from swarmgit.config import Config
from swarmgit.domain.plan_parser import parse_plan
from swarmgit.engine.executors import remote_task
from swarmgit.engine.executors.remote_task import RemoteAttempt, RemoteResult, land, run_remote, start_ref
from swarmgit.engine.executors.run_record import record_ref
from swarmgit.engine.finalize import finalize
from swarmgit.errors import WorkFailed
from tests.gitutil import git, make_repo
from tests.swarmrepo import task_md
from tests.test_cli_presets import CLAUDE_RESULT


def _attempt(tmp_path: Path, runs: str, touches: str = "`a.txt`") -> RemoteAttempt:
    repo = make_repo(tmp_path / "repo", {"README.md": "# r\n"})
    remote = tmp_path / "remote.git"
    git(tmp_path, "clone", "-q", "--bare", str(repo), str(remote))
    start = git(repo, "rev-parse", "HEAD").stdout.strip()
    git(repo, "push", "-q", str(remote), f"{start}:{start_ref('t', 'T01')}")
    plan = parse_plan("# Plan\n\n" + task_md("T01", "write a", touches=touches, runs=(runs,)), "plan.md")
    return RemoteAttempt(
        remote=str(remote),
        track="t",
        task=plan.task("T01"),
        run_id="run-1",
        start_commit=start,
        first_commit=start,
        expect="",
        brief="do it",
        notes="# notes\n",
        env={},
        config=Config(),
        model="m",
        budget_usd=None,
        attempt=1,
        port=20000,
        author=("Swarm Test", "test@swarmgit.invalid"),
    )


def _log(remote: Path, spec: RemoteAttempt) -> list[str]:
    return git(remote, "log", "--format=%B%x00", f"{spec.start_commit}..swarm/t/T01").stdout.split("\0")[:-1]


def test_worker_pushes_its_branch_once_and_a_rerun_returns_it(tmp_path: Path) -> None:
    spec = _attempt(tmp_path, "echo a >> a.txt")
    remote = Path(spec.remote)
    first = run_remote(spec, None)
    assert first.outcome.ok and not first.reused, first.outcome.diagnosis
    assert git(remote, "rev-parse", "swarm/t/T01").stdout.strip() == first.final_commit
    assert git(remote, "show", "swarm/t/T01:a.txt").stdout == "a\n"
    assert [m.strip() for m in _log(remote, spec)] == ["T01: write a\n\nSwarm-Run: run-1"]
    # Ray re-runs the same attempt (its worker died after the push): the agent does not run
    # again and nothing is pushed twice.
    again = run_remote(spec, None)
    assert again.reused and again.outcome.ok and again.final_commit == first.final_commit
    assert git(remote, "show", "swarm/t/T01:a.txt").stdout == "a\n" and len(_log(remote, spec)) == 1
    # Another attempt that expected the branch absent is refused: never overwritten.
    other = run_remote(replace(spec, run_id="run-2"), None)
    assert not other.outcome.ok and other.outcome.kind == "push-refused"
    assert git(remote, "rev-parse", "swarm/t/T01").stdout.strip() == first.final_commit


def test_worker_refuses_leftovers_outside_the_touches(tmp_path: Path) -> None:
    spec = _attempt(tmp_path, "echo a > a.txt && echo b > b.txt")
    result = run_remote(spec, None)
    assert not result.outcome.ok and result.outcome.kind == "scope-violation"
    assert "b.txt" in result.outcome.diagnosis
    assert result.final_commit == spec.first_commit
    assert git(Path(spec.remote), "rev-parse", "--verify", "-q", "swarm/t/T01", check=False).returncode != 0


def _head_job(tmp_path: Path, spec: RemoteAttempt) -> AgentJob:
    """The head's side: the task's branch checked out at the start point in `repo`."""
    repo = tmp_path / "repo"
    git(repo, "checkout", "-q", "-b", "swarm/t/T01", spec.start_commit)
    files = tmp_path / "head"
    files.mkdir()
    return AgentJob(
        track="t",
        task=spec.task,
        worktree=repo,
        brief_file=files / "brief.md",
        report_file=files / "report.md",
        shared_context=files / "shared.md",
        log_file=files / "log",
        env={"SWARM_SHARED_CONTEXT": str(files / "notes.md")},
        config=Config(),
        model="m",
    )


def test_head_checks_out_the_pushed_branch_and_finalizes_it_like_a_local_attempt(tmp_path: Path) -> None:
    spec = _attempt(tmp_path, "echo a > a.txt && echo '- a.txt is new' >> \"$SWARM_SHARED_CONTEXT\"")
    job = _head_job(tmp_path, spec)
    result = run_remote(spec, None)
    outcome = land(job, spec, result)
    assert outcome.ok
    assert git(job.worktree, "rev-parse", "HEAD").stdout.strip() == result.final_commit
    assert (job.worktree / "a.txt").read_text() == "a\n"
    assert "- a.txt is new" in Path(job.env["SWARM_SHARED_CONTEXT"]).read_text()
    assert "[ray] ran on" in job.log_file.read_text()
    done = finalize(
        pygit2.Repository(str(job.worktree)), spec.task, job.worktree, "swarm/t/T01", spec.start_commit
    )
    assert done.ok and done.changed and done.final_commit == result.final_commit


def test_head_refuses_a_pushed_branch_it_cannot_vouch_for(tmp_path: Path) -> None:
    spec = _attempt(tmp_path, "echo a > a.txt")
    job = _head_job(tmp_path, spec)
    result = run_remote(spec, None)
    forged = RemoteResult(result.outcome, "0" * 40)
    with pytest.raises(WorkFailed, match="not the"):
        land(job, spec, forged)
    # A worker that pushed history not grown from the start point (an orphan commit).
    other = tmp_path / "other"
    git(tmp_path, "clone", "-q", spec.remote, str(other))
    git(other, "checkout", "-q", "--orphan", "fake")
    (other / "a.txt").write_text("forged\n")
    git(other, "add", "-A")
    git(other, "commit", "-q", "-m", "T01: forged")
    fake = git(other, "rev-parse", "HEAD").stdout.strip()
    git(other, "push", "-q", "--force", "origin", "fake:refs/heads/swarm/t/T01")
    with pytest.raises(WorkFailed, match="does not descend"):
        land(job, spec, RemoteResult(result.outcome, fake))
    assert git(job.worktree, "rev-parse", "HEAD").stdout.strip() == spec.start_commit


def test_a_rerun_reports_the_usage_of_the_run_that_pushed(tmp_path: Path) -> None:
    """A worker killed after its push (Ray re-runs the attempt): the re-run spends nothing, and
    the head counts the first run's tokens from the run record pushed beside the branch."""
    agent = {"backend": "command", "command": f"echo a > a.txt && echo '{CLAUDE_RESULT}'"}
    spec = replace(_attempt(tmp_path, "true"), config=Config.model_validate({"agent": agent}))
    job = _head_job(tmp_path, spec)
    first = run_remote(spec, None)
    spent = (Usage("m", input_tokens=10, output_tokens=5, cost_usd=0.5),)
    assert first.outcome.ok and first.outcome.usage == spent, first.outcome.diagnosis
    again = run_remote(spec, None)
    assert again.reused and again.outcome.usage == ()
    landed = land(job, spec, again)
    assert landed.ok and landed.usage == spent
    assert git(job.worktree, "rev-parse", "HEAD").stdout.strip() == first.final_commit


@pytest.mark.parametrize(
    ("record", "why"),
    [
        (
            '{"run": "run-1", "commit": "%s", "ok": true, "kind": null, "diagnosis": "", "usage": '
            '[{"model": "m", "cost_usd": null, "input_tokens": -5, "output_tokens": 0, "cache_write_tokens": 0, '
            '"cache_read_tokens": 0}]}',
            "token count",
        ),
        (
            '{"run": "run-1", "commit": "0000", "ok": true, "kind": null, "diagnosis": "", "usage": []}',
            "not the record",
        ),
        (
            '{"run": "run-1", "commit": "%s", "ok": true, "kind": null, "diagnosis": "", "usage": []}'
            + " " * 20000,
            "bytes",
        ),
        ("not json %s", "not valid"),
    ],
)
def test_head_refuses_a_run_record_it_cannot_trust(tmp_path: Path, record: str, why: str) -> None:
    """A worker says an earlier run pushed the branch: the head reads that run's record itself."""
    spec = _attempt(tmp_path, "echo a > a.txt")
    job = _head_job(tmp_path, spec)
    first = run_remote(spec, None)
    remote = Path(spec.remote)
    (tmp_path / "record").write_text(record.replace("%s", first.final_commit))
    forged = git(remote, "hash-object", "-w", str(tmp_path / "record")).stdout.strip()
    git(remote, "update-ref", record_ref("t", "T01", "run-1"), forged)
    with pytest.raises(WorkFailed, match=why):
        land(job, spec, RemoteResult(AgentOutcome(ok=True), first.final_commit, reused=True))


def test_the_hook_on_the_worker_refuses_the_agents_own_commit_outside_its_touches(tmp_path: Path) -> None:
    """The agent commits a deletion of README.md (outside its touches) itself: the worker's
    pre-commit hook refuses it at commit time, and the agent records what git said. (Fenced,
    it cannot commit at all: the git dir is outside the worktree, as on the head.)"""
    spec = _attempt(tmp_path, "git rm -q --cached README.md; git commit -qm sneaky 2> a.txt; git reset -q")
    spec = replace(spec, config=Config.model_validate({"agent": {"sandbox": "off"}}))
    result = run_remote(spec, None)
    assert result.outcome.ok, result.outcome.diagnosis
    said = git(Path(spec.remote), "show", "swarm/t/T01:a.txt").stdout
    assert "commit refused: task T01 (track t) may only touch" in said and "README.md" in said
    assert [m.strip() for m in _log(Path(spec.remote), spec)] == ["T01: write a\n\nSwarm-Run: run-1"]


class _Queue:
    """An event queue that notes, as each event arrives, whether the task's second command
    has run yet (it leaves a marker)."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker
        self.items: list[tuple[tuple[str, str, str], bool]] = []

    def put_nowait(self, item: tuple[str, str, str]) -> None:
        self.items.append((item, self.marker.exists()))


def test_the_workers_events_stream_while_the_agent_runs_redacted(tmp_path: Path) -> None:
    marker = tmp_path / "second-ran"
    spec = _attempt(tmp_path, "echo sk-ant-0123456789abcdef > /dev/null; echo a > a.txt")
    second = parse_plan(
        "# Plan\n\n"
        + task_md(
            "T01",
            "write a",
            touches="`a.txt`",
            runs=("echo sk-ant-0123456789abcdef > /dev/null; echo a > a.txt", f"touch {marker}"),
        ),
        "plan.md",
    ).task("T01")
    spec = replace(
        spec,
        task=second,
        env={"ANTHROPIC_API_KEY": "sk-ant-0123456789abcdef"},
        config=Config.model_validate({"agent": {"sandbox": "off"}}),
    )
    queue = _Queue(marker)
    assert run_remote(spec, queue).outcome.ok and marker.exists()
    (first, second_ran), (last, _) = queue.items
    assert not second_ran, "the first command's event arrived only after the task's next command ran"
    assert first[:2] == ("run-1", "command") and "sk-ant-0123456789abcdef" not in first[2]
    assert last == ("run-1", "command", f"touch {marker}")


class _FullQueue:
    def put_nowait(self, item: tuple[str, str, str]) -> None:
        raise RuntimeError("full")


def test_the_workers_events_are_bounded_and_a_full_queue_does_not_fail_the_task(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(remote_task, "MAX_EVENTS", 2)
    runs = ("echo a > a.txt", "echo b >> a.txt", "echo c >> a.txt", "echo d >> a.txt")
    task = parse_plan("# Plan\n\n" + task_md("T01", "write a", touches="`a.txt`", runs=runs), "plan.md").task(
        "T01"
    )
    spec = replace(_attempt(tmp_path, "true"), task=task)
    queue = _Queue(tmp_path / "never")
    assert run_remote(spec, queue).outcome.ok
    assert [item for item, _ in queue.items] == [
        ("run-1", "command", runs[0]),
        ("run-1", "command", runs[1]),
        ("run-1", "ray", "more than 2 events: the rest are not shown"),
    ]
    again = run_remote(
        replace(
            spec, run_id="run-2", expect=git(Path(spec.remote), "rev-parse", "swarm/t/T01").stdout.strip()
        ),
        _FullQueue(),
    )
    assert again.outcome.ok, again.outcome.diagnosis
