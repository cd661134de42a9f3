"""The fingerprint of the repository's git files, and what changed between two of them."""

from __future__ import annotations

from pathlib import Path

from swarmgit.gitops.git_files import FileChange, changes, fingerprint
from tests.gitutil import git, make_repo


def test_fingerprint_covers_config_hooks_info_and_worktree_configs_and_names_each_change(
    tmp_path: Path,
) -> None:
    repo = make_repo(tmp_path / "r")
    common = repo / ".git"
    (common / "hooks").mkdir(exist_ok=True)
    (common / "hooks" / "pre-commit").write_text("#!/bin/sh\n")
    (common / "hooks" / "gone").write_text("x\n")
    (common / "worktrees" / "w").mkdir(parents=True)
    before = fingerprint(repo, common)
    assert {".git/config", ".git/hooks/pre-commit", ".git/hooks/gone"} <= set(before)
    assert all("pre-commit" not in v for v in before.values())  # digests, never contents

    git(repo, "config", "core.fsmonitor", "/tmp/x")
    (common / "hooks" / "pre-commit").chmod(0o755)
    (common / "hooks" / "gone").unlink()
    (common / "hooks" / "post-merge").symlink_to("/tmp/evil")
    (common / "info").mkdir(exist_ok=True)
    (common / "info" / "attributes").write_text("* filter=x\n")
    (common / "worktrees" / "w" / "config.worktree").write_text("[core]\n\tfsmonitor = x\n")
    outside = tmp_path / "hooks"
    outside.mkdir()
    (outside / "pre-commit").write_text("#!/bin/sh\n")
    git(repo, "config", "core.hooksPath", str(outside))

    assert changes(before, fingerprint(repo, common)) == [
        FileChange(".git/config", "modified"),
        FileChange(".git/hooks/gone", "removed"),
        FileChange(".git/hooks/post-merge", "added"),
        FileChange(".git/hooks/pre-commit", "mode changed"),
        FileChange(".git/info/attributes", "added"),
        FileChange(".git/worktrees/w/config.worktree", "added"),
        FileChange(str(outside / "pre-commit"), "added"),
    ]
    again = fingerprint(repo, common)
    assert changes(again, fingerprint(repo, common)) == []
