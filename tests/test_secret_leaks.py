"""Secret values of the orchestrator's environment never reach what swarmgit writes or commits.

Each test runs a real track through `git swarm implement` (script agents, real worktrees, the
real hook and merges) with an API key and a database URL holding a password in the
environment, and agents that try to leak them every way a report, a note, a log or a change can,
in both fence modes (tests/attacks.py): redaction and the refusal of a change holding a secret
do not depend on the fence.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from swarmgit.domain.secrets import is_secret_name
from tests.attacks import FENCED, MODES, assert_contained, assert_refused_at_write, config
from tests.gitutil import git
from tests.swarmrepo import swarm, task_md, track_repo

KEY = "sk-ant-api03-Zq7fakekeyvalue-0123456789"
PASSWORD = "hunter2pass"
DATABASE_URL = f"postgres://u:{PASSWORD}@db/x"

LEAKY_AGENT = """\
set -e
mkdir -p src/a && echo 'a = 1' > src/a/a.py
echo "calling the API with $ANTHROPIC_API_KEY on $DATABASE_URL"
printf '\\n- T01: the key is %s and the db is %s\\n' "$ANTHROPIC_API_KEY" "$DATABASE_URL" >> "$SWARM_SHARED_CONTEXT"
cat > "$SWARM_REPORT" <<EOF
**Status:** done

## Summary
Used the key $ANTHROPIC_API_KEY against $DATABASE_URL.

## SpawnCandidates

| ID | Subtask | Touches | Effort | User Input | Severity | Dedup Key | Accept Criteria |
|----|---------|---------|--------|------------|----------|-----------|-----------------|
| SC-01 | Rotate $ANTHROPIC_API_KEY now | src/a/rotate.py | S | false | low | rotate-$ANTHROPIC_API_KEY | $PASSWORD-free |
EOF
"""


@pytest.fixture
def secret_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only our two secrets in the orchestrator's environment (the runner's own are dropped,
    so the failure names exactly our lines)."""
    for name in list(os.environ):
        if is_secret_name(name):
            monkeypatch.delenv(name)
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    monkeypatch.setenv("DATABASE_URL", DATABASE_URL)


def _leaks(text: str) -> list[str]:
    return [name for name, value in (("key", KEY), ("password", PASSWORD)) if value in text]


def _files(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): p.read_text(errors="replace")
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _all_history(repo: Path) -> str:
    """Every commit of every ref: messages and full patches (binary ones as text)."""
    return git(repo, "log", "--all", "-p", "--text", "--format=%H %B").stdout


def _state_bytes(repo: Path) -> str:
    folder = repo / ".git" / "swarm"
    return "".join(p.read_bytes().decode("latin-1") for p in folder.glob("state.db*"))


@pytest.mark.parametrize("mode", MODES)
def test_no_secret_reaches_reports_plan_events_status_briefs_logs_or_commits(
    tmp_path: Path, secret_env: None, mode: str
) -> None:
    plan = (
        task_md("T01", "leaky", touches="`src/a/`", runs=("sh tools/leaky.sh",))
        + task_md(
            "T02",
            "dump env",
            touches="`docs/`",
            runs=('mkdir -p docs && env > docs/env.txt && touch "docs/key-$ANTHROPIC_API_KEY"',),
        )
        + task_md(
            "T03",
            "honest reader",
            deps="T01",
            touches="`src/b/`",
            runs=("mkdir -p src/b && echo 'b = 1' > src/b/b.py",),
        )
    )
    files = {"README.md": "# r\n", "tools/leaky.sh": LEAKY_AGENT}
    repo = track_repo(tmp_path / "r", plan, files=files, config=config(mode, parallel=4))

    result = swarm(repo, "implement", "t")

    assert result.exit_code == 1, result.output
    status = json.loads(swarm(repo, "status", "t", "--json").output)
    by_id = {t["id"]: t for t in status["tasks"]}
    assert {tid: t["status"] for tid, t in by_id.items()} == {
        "T01": "done",
        "T02": "failed",
        "T03": "done",
        "SC-01": "failed",
    }
    assert by_id["SC-01"]["reason"].startswith("no change")  # spawned: a script task with no Run: lines
    # The env dump fails before swarmgit commits it, naming each line that holds a secret.
    env_file = Path(by_id["T02"]["worktree"]) / "docs" / "env.txt"
    lines = env_file.read_text().splitlines()
    expected = [f"docs/env.txt:{n}" for n, line in enumerate(lines, 1) if _leaks(line)]
    assert len(expected) == 2
    reason = by_id["T02"]["reason"]
    assert reason.startswith("secret value in the change (uncommitted changes) at ")
    assert all(where in reason for where in expected)
    assert "the name of docs/key-***" in reason
    assert "docs/env.txt" not in git(repo, "ls-tree", "-r", "--name-only", "swarm/t/T02").stdout
    assert all(where in result.output for where in expected)
    # The honest work landed on the integration branch.
    assert git(repo, "show", "swarm/t/integration:src/b/b.py").stdout == "b = 1\n"
    assert git(repo, "show", "swarm/t/integration:src/a/a.py").stdout == "a = 1\n"
    assert_contained(repo, ["src/a/", "src/b/"])

    track = repo / "swarm" / "tracks" / "t"
    scratch = repo / ".git" / "swarm" / "scratch" / "t"
    watch = swarm(repo, "watch", "t", "--once").output
    written = {
        "implement output": result.output,
        "status --json": json.dumps(status),
        "status": swarm(repo, "status", "t").output,
        "watch": watch,
        "run state": _state_bytes(repo),
        "history": _all_history(repo),
        **{f"track/{name}": text for name, text in _files(track).items()},
        **{f"scratch/{name}": text for name, text in _files(scratch).items()},
    }
    assert {where: _leaks(text) for where, text in written.items() if _leaks(text)} == {}

    # Each leak was redacted in place, not dropped: the reader still sees what happened.
    assert "Used the key *** against postgres://u:***@db/x." in written["track/reports/T01.md"]
    assert "calling the API with *** on postgres://u:***@db/x" in written["track/logs/T01.log"]
    assert "the key is *** and the db is postgres://u:***@db/x" in written["track/shared_context.md"]
    assert "the key is *** and the db is postgres://u:***@db/x" in written["scratch/T03.brief.md"]
    assert "- [ ] **SC-01**: Rotate *** now" in written["track/plan.md"]
    assert re.search(
        r"task SC-01 spawned: Rotate \*\*\* now \(from candidate 1 of T01's report",
        written["implement output"],
    )


@pytest.mark.parametrize("mode", MODES)
def test_a_secret_the_agent_commits_itself_fails_the_task_and_never_reaches_integration(
    tmp_path: Path, secret_env: None, mode: str
) -> None:
    # Fenced, the agent's own commit fails at the write: swarmgit's scan of what it left refuses it.
    commit = (
        "mkdir -p notes && echo safe > notes/ok.md && printf 'db: %s\\n' \"$DATABASE_URL\" "
        '> notes/db.md && (git add notes && git commit -qm "T01: notes for $ANTHROPIC_API_KEY" || true)'
    )
    plan = task_md("T01", "commits a secret", touches="`notes/`", runs=(commit,)) + task_md(
        "T02", "honest", touches="`src/b/`", runs=("mkdir -p src/b && echo 'b = 1' > src/b/b.py",)
    )
    repo = track_repo(tmp_path / "r", plan, config=config(mode))

    result = swarm(repo, "implement", "t")

    assert result.exit_code == 1, result.output
    status = json.loads(swarm(repo, "status", "t", "--json").output)
    reason = {t["id"]: t["reason"] for t in status["tasks"] if t["status"] == "failed"}
    assert list(reason) == ["T01"]
    assert "notes/ok.md" not in reason["T01"]
    if mode == FENCED:
        assert_refused_at_write(repo, "T01")
        assert reason["T01"].startswith("secret value in the change (uncommitted changes) at notes/db.md:1")
        assert "notes/db.md" not in git(repo, "ls-tree", "-r", "--name-only", "swarm/t/T01").stdout
    else:
        assert re.match(
            r"secret value in the change \(committed on the branch\) at notes/db\.md:1, "
            r"the message of commit [0-9a-f]{7}: ",
            reason["T01"],
        )
        # The agent's own commit stays on its failed branch for the user to see; it lands nowhere.
        assert PASSWORD in git(repo, "show", "swarm/t/T01:notes/db.md").stdout
    landed = git(repo, "log", "-p", "--text", "--format=%B", "swarm/t/integration", "main").stdout
    assert not _leaks(landed) and "b = 1" in landed
    assert_contained(repo, ["src/b/"])
    assert _leaks(result.output) == [] and _leaks(_state_bytes(repo)) == []
