"""plan.md and .swarm.toml as bytes: BOM, CRLF and non-UTF-8 files, through the real CLI."""
from __future__ import annotations

import re
from pathlib import Path

from tests.gitutil import git
from tests.swarmrepo import swarm, task_md, track_repo

WORK = "echo 'x = 2' > src/app.py"  # swarmgit commits it
PLAN = "# Plan\n\n" + task_md("T01", "app", touches="`src/app.py`", runs=(WORK,)) + "\nNotes  \n"


def _repo(tmp_path: Path, plan: bytes) -> Path:
    repo = track_repo(tmp_path / "r", "", config="[gates]\nthreshold = 0.0\n")
    (repo / "swarm/tracks/t/plan.md").write_bytes(plan)
    git(repo, "commit", "-qam", "plan bytes")
    return repo


def test_a_utf8_bom_before_the_first_task_is_accepted_and_kept(tmp_path: Path) -> None:
    plan = "\ufeff" + task_md("T01", "app", touches="`src/app.py`", runs=(WORK,))
    repo = _repo(tmp_path, plan.encode("utf-8"))

    check = swarm(repo, "plan", "check", "t")
    assert check.exit_code == 0, check.output
    assert "1 task," in check.output

    assert swarm(repo, "implement", "t").exit_code == 0
    written = (repo / "swarm/tracks/t/plan.md").read_bytes()
    assert written.startswith("\ufeff- [x] **T01**: app\n".encode("utf-8"))


def test_status_write_back_keeps_a_crlf_plan_crlf_byte_for_byte(tmp_path: Path) -> None:
    original = PLAN.replace("\n", "\r\n").encode("utf-8")
    repo = _repo(tmp_path, original)

    result = swarm(repo, "implement", "t")

    assert result.exit_code == 0, result.output
    written = (repo / "swarm/tracks/t/plan.md").read_bytes()
    assert written.count(b"\n") == written.count(b"\r\n") == original.count(b"\r\n") + 1
    status_line = b"  - **Status:** done\r\n"
    assert status_line in written
    assert written.replace(status_line, b"").replace(b"- [x] **T01**", b"- [ ] **T01**") == original


def test_latin1_plan_is_refused_with_file_line_and_byte_offset(tmp_path: Path) -> None:
    plan = PLAN.replace("app", "caf\u00e9", 1).encode("latin-1")
    repo = _repo(tmp_path, plan)
    offset = plan.index(b"\xe9")

    for command in (("plan", "check", "t"), ("implement", "t")):
        result = swarm(repo, *command)
        assert result.exit_code == 2, result.output
        assert re.search(
            rf"swarm/tracks/t/plan\.md:3: error: not valid UTF-8 at byte {offset} \(0xe9\)", result.output
        ), result.output


def test_latin1_config_is_refused_with_file_and_byte_offset(tmp_path: Path) -> None:
    repo = _repo(tmp_path, PLAN.encode("utf-8"))
    config = "# r\u00e9glages\n[gates]\nthreshold = 0.0\n".encode("latin-1")
    (repo / ".swarm.toml").write_bytes(config)

    result = swarm(repo, "plan", "check", "t")

    assert result.exit_code == 2, result.output
    assert re.search(r"\.swarm\.toml:1: error: not valid UTF-8 at byte 3 \(0xe9\)", result.output), result.output
