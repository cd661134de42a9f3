"""The write fence: the pure policy, and the launcher restricting real processes (Landlock)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from swarmgit.domain.fence import (
    DEVICES,
    Fence,
    Kind,
    SandboxMode,
    decide,
    fence_paths,
    folders_to_create,
    worktree_writable,
)
from swarmgit.process.run import run_attached, run_process
from swarmgit.sandbox import landlock
from swarmgit.sandbox.fence import (
    LAUNCHER,
    FenceRefused,
    fenced_argv,
    fenced_cli,
    start_fenced,
    task_fence,
    unavailable,
)

needs_landlock = pytest.mark.skipif(bool(unavailable()), reason=unavailable() or "")

TREE: dict[str, Kind] = {
    "": "dir",
    "docs": "dir",
    "docs/guide.md": "file",
    "src": "dir",
    "src/api": "dir",
    "src/app.py": "file",
    "link": None,
}


def _writable(*touches: str) -> tuple[str, ...]:
    return worktree_writable(touches, TREE.get)


# ---------------------------------------------------------------- policy (pure)


def test_existing_touches_are_writable_as_named() -> None:
    assert _writable("docs/") == ("docs",)
    assert _writable("src/app.py") == ("src/app.py",)
    assert _writable("src/api") == ("src/api",)


def test_missing_paths_and_globs_open_their_nearest_existing_folder() -> None:
    assert _writable("src/api/new/deep.py") == ("src/api",)
    assert _writable("src/**/*.py") == ("src",)
    assert _writable("src/api/*.py") == ("src/api",)
    assert _writable("lib/**") == ("",)  # lib does not exist: only the root contains it
    assert _writable("*.md") == ("",)
    assert _writable("**") == ("",)


def test_a_symlink_is_never_an_anchor() -> None:
    assert _writable("link/x.py") == ("",)


def test_nested_anchors_collapse_and_read_only_tasks_write_nothing() -> None:
    assert _writable("src/", "src/app.py", "docs/guide.md") == ("docs/guide.md", "src")
    assert _writable() == ()


def test_only_literal_folder_touches_are_created() -> None:
    assert folders_to_create(("docs/", "src/app.py", "api/**/", "lib/x/")) == ("docs", "lib/x")


def test_fence_paths_add_scratch_and_devices() -> None:
    paths = fence_paths("/w", ("", "docs"), "/s/T01")
    assert paths == ("/w", "/w/docs", "/s/T01", *DEVICES)


def test_decision_per_mode() -> None:
    assert (
        decide(SandboxMode.OFF, "no landlock") == decide(SandboxMode.OFF, "") == decide(SandboxMode.OFF, "x")
    )
    assert not decide(SandboxMode.OFF, "").fenced
    assert decide(SandboxMode.AUTO, "").fenced and decide(SandboxMode.REQUIRED, "").fenced
    auto = decide(SandboxMode.AUTO, "Landlock is unavailable (ENOSYS)")
    assert not auto.fenced and not auto.refusal and "ENOSYS" in auto.warning
    required = decide(SandboxMode.REQUIRED, "Landlock is unavailable (ENOSYS)")
    assert not required.fenced and not required.warning
    assert "required" in required.refusal and "ENOSYS" in required.refusal


# ---------------------------------------------------------------- the launcher (real processes)


def _fenced(fence: Fence, script: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        fenced_argv(fence, ["sh", "-c", script]), cwd=cwd, capture_output=True, text=True, timeout=60
    )


@needs_landlock
def test_the_launcher_fences_the_command_and_its_children(tmp_path: Path) -> None:
    ok, other = tmp_path / "ok", tmp_path / "other"
    ok.mkdir()
    other.mkdir()
    (other / "kept.txt").write_text("before\n")
    fence = Fence(writable=(str(ok), "/dev/null"))
    done = _fenced(
        fence,
        "echo a > ok/new.txt && mkdir ok/sub && mv ok/new.txt ok/sub/ && echo b > /dev/null && echo done",
        tmp_path,
    )
    assert done.returncode == 0 and done.stdout == "done\n", done.stderr
    for attempt in (
        "echo x > other/kept.txt",
        "echo x > other/new.txt",
        "rm other/kept.txt",
        "mkdir other/d",
        "ln -s /etc other/l",
        "mv ok/sub/new.txt other/",
        f"{sys.executable} -c \"open('other/kept.txt', 'w')\"",
    ):
        denied = _fenced(fence, attempt, tmp_path)
        assert denied.returncode != 0, attempt
        assert "denied" in denied.stderr.lower(), (attempt, denied.stderr)
    assert (other / "kept.txt").read_text() == "before\n"
    assert sorted(p.name for p in other.iterdir()) == ["kept.txt"]


@needs_landlock
def test_a_file_rule_allows_that_file_only(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("a\n")
    fence = Fence(writable=(str(tmp_path / "a.txt"),))
    assert _fenced(fence, "echo new > a.txt", tmp_path).returncode == 0
    assert (tmp_path / "a.txt").read_text() == "new\n"
    assert _fenced(fence, "echo x > b.txt", tmp_path).returncode != 0
    assert not (tmp_path / "b.txt").exists()


@needs_landlock
def test_task_fence_creates_folder_touches_and_fences_a_wrapped_cli(tmp_path: Path) -> None:
    worktree, scratch = tmp_path / "wt", tmp_path / "scratch"
    (worktree / "src").mkdir(parents=True)
    scratch.mkdir()
    fence = task_fence(worktree, ("docs/", "src/app.py"), scratch, required=True)
    assert (worktree / "docs").is_dir()
    (worktree / "lib").write_text("a file where a folder touch points below")
    assert task_fence(worktree, ("lib/api/",), scratch, required=False).writable[0] == str(worktree)
    assert fence.writable[:3] == (str(worktree / "docs"), str(worktree / "src"), str(scratch))
    assert fence.required
    with fenced_cli(fence, "sh") as cli:
        done = subprocess.run(
            [str(cli), "-c", "echo a > docs/a.md; echo b > README.md"],
            cwd=worktree,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert not cli.exists()
    assert done.returncode != 0 and "denied" in done.stderr.lower()
    assert (worktree / "docs/a.md").read_text() == "a\n" and not (worktree / "README.md").exists()


@needs_landlock
def test_a_fenced_start_fences_the_process_and_its_children_but_no_other_thread(
    tmp_path: Path,
) -> None:
    ok, other = tmp_path / "ok", tmp_path / "other"
    ok.mkdir()
    other.mkdir()
    fence = Fence(writable=(str(ok), "/dev/null"))
    script = "echo a > ok/a.txt; echo b > other/b.txt; sh -c 'echo c > other/c.txt'; echo d > ok/d.txt"
    proc = start_fenced(
        fence, lambda: subprocess.Popen(["sh", "-c", script], cwd=tmp_path, stderr=subprocess.PIPE, text=True)
    )
    _, errors = proc.communicate(timeout=60)
    assert sorted(p.name for p in ok.iterdir()) == ["a.txt", "d.txt"]
    assert list(other.iterdir()) == [] and errors.lower().count("denied") == 2, errors
    (other / "free.txt").write_text("this thread was never fenced\n")
    plain = subprocess.run(["sh", "-c", "echo e > other/e.txt"], cwd=tmp_path, timeout=60)
    assert plain.returncode == 0 and (other / "e.txt").exists()


@needs_landlock
def test_a_fence_that_cannot_be_applied_starts_nothing(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    fence = Fence(writable=(str(tmp_path / "file" / "below"),))  # ENOTDIR, not a missing path
    started: list[str] = []
    with pytest.raises(FenceRefused, match="refusing to run the agent"):
        start_fenced(fence, lambda: started.append("started"))
    assert started == []
    log = tmp_path / "agent.log"
    result = run_process(
        f"echo ran > {tmp_path}/ran.txt",
        cwd=tmp_path,
        env=dict(os.environ),
        log_file=log,
        timeout_s=60,
        kill_grace_s=1,
        fence=fence,
    )
    assert result.returncode == 126 and "refusing to run the agent" in result.last_lines[0]
    assert "refusing to run the agent" in log.read_text() and not (tmp_path / "ran.txt").exists()
    attached = run_attached(
        f"echo ran > {tmp_path}/ran.txt",
        cwd=tmp_path,
        env=dict(os.environ),
        log_file=log,
        timeout_s=60,
        kill_grace_s=1,
        fence=fence,
    )
    assert attached.returncode == 126 and not (tmp_path / "ran.txt").exists()


def test_without_landlock_a_required_fence_refuses_and_another_runs_unfenced(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def no_landlock() -> int:  # the kernel is the edge faked here: this machine has Landlock
        raise landlock.LandlockError(38, "syscall 444: Function not implemented")

    monkeypatch.setattr(landlock, "abi_version", no_landlock)
    writes = f"echo ran > {tmp_path}/ran.txt"
    with pytest.raises(FenceRefused, match="Function not implemented"):
        start_fenced(Fence(writable=(), required=True), lambda: subprocess.run(["sh", "-c", writes]))
    assert not (tmp_path / "ran.txt").exists()
    done = start_fenced(Fence(writable=()), lambda: subprocess.run(["sh", "-c", writes]))
    assert done.returncode == 0 and (tmp_path / "ran.txt").exists()


def test_the_launcher_refuses_a_bad_command_line_and_a_missing_program(tmp_path: Path) -> None:
    launcher = [sys.executable, "-I", "-S", str(LAUNCHER)]
    for bad in ([], ["--write"], ["--bogus", "--", "true"], ["--write", "/x", "--"]):
        done = subprocess.run([*launcher, *bad], capture_output=True, text=True, timeout=60)
        assert done.returncode == 2 and "usage:" in done.stderr, bad
    missing = subprocess.run(
        [*launcher, "--", str(tmp_path / "nope")], capture_output=True, text=True, timeout=60
    )
    assert missing.returncode == 127 and "cannot run" in missing.stderr


def test_the_launcher_imports_almost_nothing() -> None:
    code = (
        "import sys; sys.argv = ['launch.py', '--', 'true']; "
        f"exec(compile(open({str(LAUNCHER)!r}).read(), 'launch.py', 'exec'), "
        "{'__name__': 'probe', '__file__': " + repr(str(LAUNCHER)) + "}); "
        "print(' '.join(sorted(m for m in sys.modules if not m.startswith('_'))))"
    )
    done = subprocess.run(
        [sys.executable, "-I", "-S", "-c", code], capture_output=True, text=True, timeout=60
    )
    loaded = set(done.stdout.split())
    assert "landlock" in loaded, done.stderr
    for heavy in ("typing", "swarmgit", "subprocess", "pathlib", "re", "enum", "dataclasses"):
        assert heavy not in loaded, heavy


@needs_landlock
@pytest.mark.skipif(
    os.geteuid() != 0 or not shutil.which("setpriv"),
    reason="drops to another user with setpriv (root reads any folder)",
)
def test_a_path_that_cannot_be_opened_refuses_rather_than_run_half_fenced(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    (locked / "inner").mkdir(parents=True)
    locked.chmod(0)
    try:
        done = subprocess.run(
            [
                "setpriv",
                "--reuid=65534",
                "--regid=65534",
                "--clear-groups",
                *fenced_argv(Fence(writable=(str(locked / "inner"),)), ["echo", "ran"]),
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        locked.chmod(0o755)
    assert done.returncode == 126 and "refusing to run the agent" in done.stderr, done
    assert "ran" not in done.stdout


def test_handled_rights_grow_with_the_abi_version() -> None:
    refer, truncate, ioctl_dev = 1 << 13, 1 << 14, 1 << 15
    rights = {abi: landlock.write_rights(abi) for abi in range(1, 8)}
    assert not rights[1] & (refer | truncate | ioctl_dev)
    assert rights[2] & refer and not rights[2] & truncate
    assert rights[3] & truncate and rights[4] == rights[3] and not rights[4] & ioctl_dev
    assert rights[5] & ioctl_dev and rights[7] == rights[5]
    assert all(not r & (1 << 2 | 1 << 3 | 1 << 0) for r in rights.values())  # read, readdir, exec stay free
