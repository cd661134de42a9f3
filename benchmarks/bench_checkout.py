"""Benchmark: reading the user's checkout (`checkout_state`) on a 50,000-file repository.

A run with `integrate.advance` on looks at the checkout of the target branch at its start and
again before it moves the target (`checkout_state`): what is uncommitted there. The checkout
is a full worktree (RAM disk) of the repository `bench_worktrees` keeps, holding an edit, a
staged edit, a deletion, a staged rename and a new file in a new nested folder; one plain
`git status` first refreshes its index, as the user's own git commands would have. Contenders,
taking turns for ROUNDS rounds:

1. the git CLI: the `git status` query `checkout_state` makes, run directly (the reference);
2. before: libgit2's `status()` of the checkout, plus each dirty file's hash (what
   `checkout_state` did);
3. now: `checkout_state` (`git status` through safe_git, no optional lock, plus the hashes).

Both swarmgit versions must list the same paths, and the index file must be left as it was.
CPU: user + system of this process and its children.

`run()` returns a markdown section; `python -m benchmarks.bench_checkout` prints it.
"""

from __future__ import annotations

import shutil
import statistics
import tempfile
from collections.abc import Callable
from pathlib import Path

import pygit2

from benchmarks.bench_worktrees import FILES, WORK, Cost, _median, _ram_disk, _repository, _reset, _timed
from benchmarks.gitbench import git, ms
from swarmgit.gitops.status import own_git_dir
from swarmgit.gitops.worktrees import _content_id, checkout_state

ROUNDS = 9
BRANCH = "checkout-bench"


def run() -> str:
    repo, base = _repository(WORK / f"repo-{FILES}")
    _reset(repo)
    trees = Path(tempfile.mkdtemp(prefix="swarmgit-bench-checkout-", dir=_ram_disk()))
    checkout = trees / "user"
    r = pygit2.Repository(str(repo))
    try:
        git(repo, "worktree", "add", "-q", "-b", BRANCH, str(checkout), base)
        _change(checkout)
        git(checkout, "status", "--porcelain")  # the user's git has refreshed the index
        costs, listed = _rounds(r, checkout)
    finally:
        shutil.rmtree(trees, ignore_errors=True)
        _reset(repo)
    return _table(costs, listed)


def _rounds(r: pygit2.Repository, checkout: Path) -> tuple[dict[str, list[Cost]], list[str]]:
    """Each contender's costs over ROUNDS rounds, and the paths both versions list (the same
    paths, or RuntimeError; so is a rewritten index)."""
    index = _index(checkout)
    listed = {name: step(r, checkout) for name, step in CONTENDERS.items()}
    if listed[BEFORE] != listed[NOW]:
        raise RuntimeError(f"the listings differ: {listed[BEFORE]} != {listed[NOW]}")
    costs: dict[str, list[Cost]] = {name: [] for name in CONTENDERS}
    order = list(CONTENDERS.items())
    for i in range(ROUNDS):
        for name, step in order[i % len(order) :] + order[: i % len(order)]:
            costs[name].append(_timed(lambda: step(r, checkout)))
    if _index(checkout) != index:
        raise RuntimeError("the checkout's index file was rewritten")
    return costs, sorted(listed[NOW])


def _change(checkout: Path) -> None:
    (checkout / "pkg001" / "mod_00.py").write_text("changed = True\n", encoding="utf-8")
    (checkout / "pkg001" / "mod_01.py").write_text("staged = True\n", encoding="utf-8")
    git(checkout, "add", "pkg001/mod_01.py")
    (checkout / "pkg002" / "mod_01.py").unlink()
    git(checkout, "mv", "pkg003/mod_02.py", "pkg003/renamed.py")
    (checkout / "newdir" / "sub").mkdir(parents=True)
    (checkout / "newdir" / "sub" / "new.py").write_text("NEW = 1\n", encoding="utf-8")


def _index(checkout: Path) -> tuple[int, int, int]:
    git_dir = own_git_dir(checkout)
    if git_dir is None:
        raise RuntimeError(f"{checkout} is not a linked worktree")
    found = (git_dir / "index").stat()
    return found.st_ino, found.st_mtime_ns, found.st_size


def _git_status(repo: pygit2.Repository, checkout: Path) -> set[str]:
    git(checkout, *QUERY)
    return set()


def _libgit2_state(repo: pygit2.Repository, checkout: Path) -> set[str]:
    """What `checkout_state` did before: libgit2's status of the whole checkout, each dirty
    file hashed."""
    status = pygit2.Repository(str(checkout)).status()
    dirty = {path: f"{flags}:{_content_id(checkout / path)}" for path, flags in status.items()}
    return set(dirty)


def _checkout_state(repo: pygit2.Repository, checkout: Path) -> set[str]:
    state = checkout_state(repo, BRANCH)
    if state.path is None or state.path.resolve() != checkout.resolve():
        raise RuntimeError(f"{BRANCH} was found checked out at {state.path}, not {checkout}")
    return set(state.dirty)


QUERY = ("--no-optional-locks", "status", "--porcelain", "-z", "--no-renames", "--untracked-files=all")
CLI = "git CLI: `" + " ".join(QUERY) + "`"
BEFORE = "before: libgit2 `status()` + hashes"
NOW = "now: `checkout_state` (git status, no optional lock, + hashes)"
CONTENDERS: dict[str, Callable[[pygit2.Repository, Path], set[str]]] = {
    CLI: _git_status,
    BEFORE: _libgit2_state,
    NOW: _checkout_state,
}


def _table(costs: dict[str, list[Cost]], listed: list[str]) -> str:
    cli = _median(costs[CLI])
    ratios = [n.cpu / b.cpu for n, b in zip(costs[NOW], costs[BEFORE])]
    lines = [
        f"## checkout: reading the user's checkout on a {FILES:,}-file repository",
        "",
        f"`checkout_state` of a full worktree (RAM disk) of the generated {FILES:,}-file "
        f"repository holding {len(listed)} uncommitted paths (an edit, a staged edit, a "
        "deletion, a staged rename, a new file in a new nested folder), its index refreshed "
        f"by a plain `git status` first; {ROUNDS} rounds, the contenders taking turns. Both "
        "versions list the same paths; the index file is left untouched. CPU: user + system "
        "of this process and its children.",
        "",
        "| per look | wall (median) | CPU (median) | CPU / git CLI status |",
        "| --- | ---: | ---: | ---: |",
    ]
    lines += [
        f"| {label} | {ms(_median(c).wall)} | {ms(_median(c).cpu)} | {_median(c).cpu / cli.cpu:.2f}x |"
        for label, c in costs.items()
    ]
    lines += [
        "",
        "Per round, now / before (CPU): "
        + ", ".join(f"{r:.2f}x" for r in ratios)
        + f"; median {statistics.median(ratios):.2f}x.",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    print(run())
