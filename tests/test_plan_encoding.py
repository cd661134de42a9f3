"""plan.md and .swarm.toml as bytes: BOM, CRLF, non-UTF-8 files and the plan size limit."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from swarmgit.domain.plan_parser import MAX_PLAN_BYTES, MAX_PLAN_TASKS, parse_plan
from swarmgit.errors import InvalidInput
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
    expected = r"\.swarm\.toml:1: error: not valid UTF-8 at byte 3 \(0xe9\)"
    assert re.search(expected, result.output), result.output


def test_a_bom_before_the_config_is_read_past(tmp_path: Path) -> None:
    repo = _repo(tmp_path, PLAN.encode("utf-8"))
    (repo / ".swarm.toml").write_bytes("\ufeff[concurrency]\r\nmax_paralel = 3\r\n".encode("utf-8"))

    result = swarm(repo, "plan", "check", "t")

    assert result.exit_code == 2, result.output
    assert "key concurrency.max_paralel: Extra inputs are not permitted" in result.output


def test_a_plan_over_the_byte_limit_is_refused_before_it_is_read(tmp_path: Path) -> None:
    task = task_md("T01", "app", touches="`src/app.py`")
    repo = _repo(tmp_path, (task + "\nfiller line\n" * (MAX_PLAN_BYTES // 12)).encode("utf-8"))
    size = (repo / "swarm/tracks/t/plan.md").stat().st_size

    result = swarm(repo, "plan", "check", "t")

    assert result.exit_code == 2, result.output
    assert result.output.strip() == (
        f"swarm/tracks/t/plan.md: error: the plan is too large ({size} bytes); the limits are "
        f"{MAX_PLAN_TASKS} tasks and {MAX_PLAN_BYTES} bytes: split the work into several tracks"
    )


def test_a_plan_over_the_task_limit_is_refused_naming_both_limits() -> None:
    text = "".join(f"- [ ] **T{n}**: t\n  - **Touches:** `m{n}.py`\n" for n in range(MAX_PLAN_TASKS + 1))

    with pytest.raises(InvalidInput) as caught:
        parse_plan(text, "plan.md")

    [error] = caught.value.diagnostics
    assert error.message.startswith(f"the plan is too large ({MAX_PLAN_TASKS + 1} tasks); the limits")


def test_plan_text_over_the_byte_limit_is_refused_before_it_is_scanned() -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_plan("x" * (MAX_PLAN_BYTES + 1), "plan.md")

    [error] = caught.value.diagnostics
    assert error.message.startswith(f"the plan is too large ({MAX_PLAN_BYTES + 1} characters)")


def test_a_latin1_template_override_is_refused_with_file_and_byte_offset(tmp_path: Path) -> None:
    repo = _repo(tmp_path, PLAN.encode("utf-8"))
    (repo / "swarm/templates").mkdir(parents=True)
    (repo / "swarm/templates/spec.md").write_bytes("# Sp\u00e9c for $title\n".encode("latin-1"))

    result = swarm(repo, "new-track", "Add caching", "--no-llm")

    assert result.exit_code == 2, result.output
    assert "swarm/templates/spec.md:1: error: not valid UTF-8 at byte 4 (0xe9)" in result.output
