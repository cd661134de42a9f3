"""The worker's side of executor = "ray", run in this process without Ray: a fresh checkout of
the start ref from a shared bare remote, the script agent under the same scope check, and a
create-only push whose re-run (a Ray retry) returns the branch instead of pushing twice."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from swarmgit.config import Config
from swarmgit.domain.plan_parser import parse_plan
from swarmgit.engine.executors.remote_task import RemoteAttempt, run_remote, start_ref
from tests.gitutil import git, make_repo
from tests.swarmrepo import task_md


def _attempt(tmp_path: Path, runs: str, touches: str = "`a.txt`") -> RemoteAttempt:
    repo = make_repo(tmp_path / "repo", {"README.md": "# r\n"})
    remote = tmp_path / "remote.git"
    git(tmp_path, "clone", "-q", "--bare", str(repo), str(remote))
    start = git(repo, "rev-parse", "HEAD").stdout.strip()
    git(repo, "push", "-q", str(remote), f"{start}:{start_ref('t', 'T01')}")
    plan = parse_plan("# Plan\n\n" + task_md("T01", "write a", touches=touches, runs=(runs,)), "plan.md")
    return RemoteAttempt(
        remote=str(remote), track="t", task=plan.task("T01"), run_id="run-1", start_commit=start,
        first_commit=start, expect="", brief="do it", notes="# notes\n", env={}, config=Config(),
        model="m", budget_usd=None, attempt=1, port=20000, author=("Swarm Test", "test@swarmgit.invalid"),
    )


def _log(remote: Path, spec: RemoteAttempt) -> list[str]:
    return git(remote, "log", "--format=%B%x00", f"{spec.start_commit}..swarm/t/T01").stdout.split("\0")[:-1]


def test_worker_pushes_its_branch_once_and_a_rerun_returns_it(tmp_path: Path) -> None:
    spec = _attempt(tmp_path, "echo a >> a.txt")
    remote = Path(spec.remote)
    first = run_remote(spec)
    assert first.outcome.ok and not first.reused, first.outcome.diagnosis
    assert git(remote, "rev-parse", "swarm/t/T01").stdout.strip() == first.final_commit
    assert git(remote, "show", "swarm/t/T01:a.txt").stdout == "a\n"
    assert [m.strip() for m in _log(remote, spec)] == ["T01: write a\n\nSwarm-Run: run-1"]
    # Ray re-runs the same attempt (its worker died after the push): the agent does not run
    # again and nothing is pushed twice.
    again = run_remote(spec)
    assert again.reused and again.outcome.ok and again.final_commit == first.final_commit
    assert git(remote, "show", "swarm/t/T01:a.txt").stdout == "a\n" and len(_log(remote, spec)) == 1
    # Another attempt that expected the branch absent is refused: never overwritten.
    other = run_remote(replace(spec, run_id="run-2"))
    assert not other.outcome.ok and other.outcome.kind == "push-refused"
    assert git(remote, "rev-parse", "swarm/t/T01").stdout.strip() == first.final_commit


def test_worker_refuses_leftovers_outside_the_touches(tmp_path: Path) -> None:
    spec = _attempt(tmp_path, "echo a > a.txt && echo b > b.txt")
    result = run_remote(spec)
    assert not result.outcome.ok and result.outcome.kind == "scope-violation"
    assert "b.txt" in result.outcome.diagnosis
    assert result.final_commit == spec.first_commit
    assert git(Path(spec.remote), "rev-parse", "--verify", "-q", "swarm/t/T01", check=False).returncode != 0
