"""`git swarm demo`: the bundled track runs end to end, offline, as `make demo` shows it."""
from __future__ import annotations

from pathlib import Path

from swarmgit.sandbox.fence import unavailable
from tests.gitutil import git
from tests.swarmrepo import swarm_process


def test_demo_runs_the_whole_workflow(tmp_path: Path) -> None:
    target = tmp_path / "demo"
    done = swarm_process(tmp_path, "demo", str(target), timeout=600)
    out = done.stdout + done.stderr
    assert done.returncode == 0, out
    for step in ["$ git swarm init", "$ git swarm plan check demo", "$ git swarm simulate demo",
                 "$ git swarm graph demo", "$ git swarm implement demo", "$ git swarm status demo"]:
        assert step in out
    if not unavailable():
        assert "Permission denied" in out  # the write itself failed
        assert "\ndemo: the write fence refused an edit outside T06's touches" in out
    assert "APPROVED" in out
    # main holds every task's work, merged in order.
    assert "class TTLCache" in git(target, "show", "main:app/cache/store.py").stdout
    assert "def city_key" in git(target, "show", "main:app/cache/keys.py").stdout
    assert "_CACHE = TTLCache" in git(target, "show", "main:app/service.py").stdout
    assert "# not mine" not in git(target, "show", "main:app/service.py").stdout
    # T01's note, written to its own copy of the shared context, reached the track's file
    notes = (target / "swarm/tracks/demo/shared_context.md").read_text()
    assert "- T01: forecast() in app/service.py sleeps on every call" in notes
    # T03 and T04 share app/cache/: whichever ran second built on the first.
    t03 = git(target, "ls-tree", "-r", "--name-only", "swarm/demo/T03").stdout
    t04 = git(target, "ls-tree", "-r", "--name-only", "swarm/demo/T04").stdout
    assert ("app/cache/keys.py" in t03) != ("app/cache/store.py" in t04)
    report = (target / "swarm/tracks/demo/iosm_report.md").read_text()
    assert "Verdict: **APPROVED**" in report
    for gate in ("Improve", "Optimize", "Modularize", "Shrink"):
        assert gate in report


def test_demo_refuses_a_non_empty_folder(tmp_path: Path) -> None:
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "file").write_text("x")
    done = swarm_process(tmp_path, "demo", str(tmp_path / "taken"))
    assert done.returncode == 2 and "not empty" in done.stderr
