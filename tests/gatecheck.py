"""Helpers for gate tests: commit a change, evaluate one gate on HEAD~1..HEAD, list findings."""

from __future__ import annotations

from pathlib import Path

from swarmgit.config import Gates
from swarmgit.gates.base import Gate, GateContext, GateResult
from tests.gitutil import git, write


def commit_change(repo: Path, files: dict[str, str], delete: tuple[str, ...] = ()) -> None:
    """Write `files`, remove `delete`, and commit everything as one change."""
    for rel, text in files.items():
        write(repo, rel, text)
    for rel in delete:
        git(repo, "rm", "-q", rel)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "change")


def evaluate(gate: Gate, repo: Path, **config: object) -> GateResult:
    """The gate's verdict on the last commit, with `config` as [gates] settings."""
    with GateContext.between(repo, "HEAD~1", "HEAD", Gates.model_validate(config)) as ctx:
        return gate.evaluate(ctx)


def where(result: GateResult) -> set[tuple[str, int, str]]:
    return {(f.file, f.line, f.rule) for f in result.findings}
