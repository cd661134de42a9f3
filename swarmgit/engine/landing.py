"""Landing an approved integration on the target: only ever a commit that was gated.

- The target still at the base (or inside the integration): fast-forward to the integration.
- The target moved during the run: the integration is merged with its new tip, and the gates
  judge that merge (against the tip) before exactly that commit lands.
- Any commit of a task that was not merged (failed, rejected, left out, retired from plan.md)
  reachable from what would land stops it: such a commit got there another way (an agent
  moving the target with `git update-ref` or `git push . HEAD:main`), and was never judged.
- Files of the target's checkout that changed since the run began hold the advance, named:
  an agent may have written there; the user says so by integrating again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pygit2

from swarmgit.config import Gates
from swarmgit.crash_points import reached
from swarmgit.domain.events import EventSink
from swarmgit.errors import WorkFailed
from swarmgit.gates.runner import GateReport, run_gates
from swarmgit.gitops.advance import advance_branch
from swarmgit.gitops.diff import describe_paths
from swarmgit.gitops.merge import fold_merge
from swarmgit.gitops.refs import branch_tip
from swarmgit.gitops.repo import commits_between, contains
from swarmgit.gitops.worktrees import CheckoutState, changed_since, checkout_state


@dataclass(frozen=True)
class Guard:
    """What must not reach the target: each unmerged task's branch tips (task -> commits),
    except history also reachable from `allowed` (the base and the merged tasks' finals)."""

    kept_out: Mapping[str, Sequence[str]]
    allowed: Sequence[str]


@dataclass
class Landed:
    """`advanced` says how the target moved, `held` why it did not; `gates` judged the merge
    with a target that moved during the run (None when it had not moved)."""

    advanced: str = ""
    held: str = ""
    gates: GateReport | None = None


def land(
    root: Path,
    repo: pygit2.Repository,
    target: str,
    commit: str,
    *,
    base: str,
    guard: Guard,
    since: CheckoutState,
    views: str,
    gates: Gates,
    sandbox: str,
    message: str,
    emit: EventSink,
) -> Landed:
    """Move `target` to include `commit` (the gated integration), or say why it stays.
    `views`: the track's folder (relative), whose files swarmgit itself rewrites during a run."""
    landed = Landed()
    tip = branch_tip(repo, target)
    if tip is None:
        landed.held = f"branch {target} no longer exists"
        return landed
    if contains(repo, tip, commit):
        landed.advanced = f"{target}: up-to-date at {tip[:10]}"
        return landed
    moved = not contains(repo, commit, tip)
    try:
        landing = _merge_with_tip(repo, target, tip, commit, message) if moved else commit
        _check_guard(repo, landing, base, guard)
        _check_checkout(repo, target, since, views)
        if moved:
            emit(
                "moved",
                f"{target} moved during the run ({base[:10]} -> {tip[:10]}); gating its "
                "merge with the integration before it lands",
                None,
            )
            landed.gates = run_gates(root, tip, landing, gates, sandbox)
            _check_gates(target, tip, landed.gates)
        reached("before-advance")
        advance_branch(root, target, landing, message, expect=tip)
    except WorkFailed as exc:
        landed.held = str(exc)
        return landed
    landed.advanced = f"{target}: {'merge' if moved else 'fast-forward'} to {landing[:10]}"
    return landed


def _merge_with_tip(repo: pygit2.Repository, target: str, tip: str, commit: str, message: str) -> str:
    fold = fold_merge(repo, tip, [(commit, commit)], lambda _: message)
    if fold.conflict is not None:
        raise WorkFailed(
            f"{target} moved during the run to {tip[:12]}, and merging the integration into it "
            f"conflicts in {describe_paths(fold.conflict.paths)}; merge it by hand "
            f"(git merge {commit[:12]}) and run the gates on the result"
        )
    return fold.commit


def _check_guard(repo: pygit2.Repository, landing: str, base: str, guard: Guard) -> None:
    """WorkFailed naming the first unmerged task's commit that `landing` would bring."""
    would_land = commits_between(repo, [landing], [base])
    for task, tips in sorted(guard.kept_out.items()):
        for commit in sorted(commits_between(repo, tips, [base, *guard.allowed]) & would_land):
            raise WorkFailed(
                f"{task} was not merged, yet its commit {commit[:12]} is reachable from what would "
                f"land: the target was moved outside the integration (by an agent: git update-ref, "
                f"git push . HEAD:<branch>). Nothing was moved; inspect it (git log {commit[:12]}), "
                "reset the target to a commit you trust, then integrate again"
            )


def _check_checkout(repo: pygit2.Repository, target: str, since: CheckoutState, views: str) -> None:
    now = checkout_state(repo, target)
    changed = [p for p in changed_since(since, now) if not p.startswith(views.rstrip("/") + "/")]
    if changed:
        raise WorkFailed(
            f"files in {now.path} ({target} is checked out there) changed while the run went on: "
            f"{describe_paths(changed)}; nothing was moved. If you changed them, integrate again "
            "(the check starts over); if not, something else wrote there: look first"
        )


def _check_gates(target: str, tip: str, report: GateReport) -> None:
    if not report.passed:
        raise WorkFailed(
            f"{target} moved during the run to {tip[:12]}, and the merge of the integration with it "
            f"did not pass the gates (IOSM index {report.index_text}, threshold "
            f"{report.threshold:.2f}); see iosm_report.md"
        )
