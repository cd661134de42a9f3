"""`git swarm demo`: the bundled track runs end to end, offline, as `make demo` shows it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from swarmgit.sandbox.fence import unavailable
from tests.gitutil import git
from tests.swarmrepo import swarm_process


def _section(out: str, command: str) -> str:
    """What one demo step printed: from its `$ command` line to the next step or comment."""
    after = out.split(f"$ {command}\n", 1)[1]
    return re.split(r"\n(?:\$ |\n# )", after, maxsplit=1)[0]


@pytest.mark.slow  # the whole demo track; CI (.ci/run) runs it, and `make demo` is the same
def test_demo_runs_the_whole_workflow(tmp_path: Path) -> None:
    # As `make demo` runs it: no folder given, so it makes one in the temp dir (here tmp_path).
    done = subprocess.run(
        [sys.executable, "-m", "swarmgit", "demo"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
        stdin=subprocess.DEVNULL,
        env={**os.environ, "TMPDIR": str(tmp_path)},
    )
    out = done.stdout + done.stderr
    assert done.returncode == 0, out
    (folder,) = tmp_path.glob("swarm-demo-*")
    target = folder / "weather-svc"
    # It names its folder, and says it stays, at the start and at the end.
    assert out.startswith(f"The demo works in a new git repository of a small Python service: {target}\n")
    assert (
        f"It stays there when the demo ends, for you to look around; remove it with: rm -rf {folder}\n" in out
    )
    assert f"The demo's repository stays in {target}." in out
    for step in [
        "$ git swarm init",
        "$ git swarm plan check demo",
        "$ git swarm simulate demo",
        "$ git swarm graph demo",
        "$ git swarm implement demo",
        "$ git swarm status demo",
        "$ git swarm show T05",
        "$ git swarm report demo",
    ]:
        assert step in out
    # The plan is wide enough that continuous dispatch beats wave barriers, and the demo says so.
    said = re.search(r"# continuous dispatch: ([\d.]+) h vs waves: ([\d.]+) h", out)
    assert said, out
    assert float(said[1]) < float(said[2])
    assert f"wave barriers:   {said[2]} h makespan" in _section(out, "git swarm simulate demo")
    # Every task took real time, shown to the tenth of a second.
    times = re.findall(r"^(T0\d)\s+done\s.*\s(\d+\.\d)s\s+\$", _section(out, "git swarm status demo"), re.M)
    assert [task for task, _ in times] == [f"T0{i}" for i in range(1, 9)]
    assert all(float(seconds) > 0 for _, seconds in times)
    if not unavailable():
        assert "Permission denied" in out  # the write itself failed
        assert "\ndemo: the write fence refused an edit outside T06's touches, as it should\n" in out
    assert "APPROVED" in out
    # Reviewing T05 shows its own change: one file, though it started from T02, T03 and T04's work.
    review = _section(out, "git swarm show T05")
    assert "start:    " in review and "(the base with T02, T03, T04)" in review
    assert re.findall(r"^ (\S+)\s+\|", review, re.M) == ["app/service.py"]
    # It ends by writing the HTML run report and saying where it is.
    page = target / "swarm/tracks/demo/run_report.html"
    assert f"run report: {page}" in out and page.as_uri() in out.splitlines()[-3]
    assert "<svg" in page.read_text()
    # main holds every task's work, landed in order, one commit per task with its provenance.
    landed = _section(out, "git log -1 main")
    assert re.search(r"Swarm-Task: T0\d\n", landed) and "Swarm-Agent: script" in landed
    assert "class TTLCache" in git(target, "show", "main:app/cache/store.py").stdout
    assert "def city_key" in git(target, "show", "main:app/cache/keys.py").stdout
    assert "_CACHE = TTLCache" in git(target, "show", "main:app/service.py").stdout
    assert "CACHE_TTL_SECONDS" in git(target, "show", "main:app/health.py").stdout
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
