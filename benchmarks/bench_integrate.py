"""Benchmark: integrating many task branches, and the git cost of one task, against the git CLI.

1. A 10,000-file repository (written with pygit2, packed) and 50 task branches, each changing
   3 files no other task touches. The integrator's `replay` of all 50 changes (one commit per
   task) is timed against a loop of `git merge --no-ff` in a worktree (the classic way), and
   against a loop of git's own in-memory `git merge-tree --write-tree` + `git commit-tree`.
   All three must give the same tree. Target: `replay` at least 5x faster than the `git
   merge` loop.
2. On a 1,000-file repository, 100 tasks: a worktree on a new branch, one file written, one
   commit, through `create_task_worktree` + `commit_all`, against `git worktree add -b` +
   `git add -A` + `git commit` (each contender in its own identical repository).

`run()` returns a markdown section; `python -m benchmarks.bench_integrate` prints it.
"""

from __future__ import annotations

import shutil
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import pygit2
from pygit2.enums import FileMode

from benchmarks.gitbench import git, ms
from swarmgit.gitops.commit import commit_all
from swarmgit.gitops.replay import Change, replay
from swarmgit.gitops.worktrees import create_task_worktree

BIG_FILES = 10_000
BRANCHES = 50
FILES_PER_TASK = 3
SMALL_FILES = 1_000
TASKS = 100
TARGET_RATIO = 5.0

_SIG = pygit2.Signature("bench", "bench@swarmgit.invalid")


def run() -> str:
    """Run both measurements in a temporary folder; the markdown section with their tables."""
    with tempfile.TemporaryDirectory(prefix="swarmgit-bench-") as tmp:
        integrate = _integrate_table(Path(tmp) / "integrate")
        per_task = _per_task_table(Path(tmp) / "tasks")
    return "\n".join(["## Integration and per-task git overhead", "", integrate, "", per_task])


def _integrate_table(root: Path) -> str:
    # Each method gets its own copy of the repository, so none finds objects another wrote.
    original, base, heads = _big_repo(root / "original")
    copies = {name: root / name for name in ("fold", "merge-tree", "merge")}
    for copy in copies.values():
        shutil.copytree(original, copy, symlinks=True)
    repo = pygit2.Repository(str(copies["fold"]))
    changes = [Change(label, base, head, f"{label}: work") for label, head in heads]
    started = time.perf_counter()
    result = replay(repo, base, changes, "tasks", lambda applied: "squash")
    fold = time.perf_counter() - started
    fold_tree = str(repo[result.commit].peel(pygit2.Tree).id)

    merge_tree_time, merge_tree_tree = _merge_tree_loop(copies["merge-tree"], base, heads)
    merge_loop, checkout, merge_loop_tree = _merge_loop(root, copies["merge"], base, heads)

    same = fold_tree == merge_tree_tree == merge_loop_tree
    ratio = merge_loop / fold
    verdict = "met" if ratio >= TARGET_RATIO else "NOT met"
    return "\n".join(
        [
            f"Integrating {BRANCHES} task branches ({FILES_PER_TASK} distinct files each) on a "
            f"{BIG_FILES:,}-file packed repository (task objects loose, as after a run); each "
            "method on its own fresh copy, timed once.",
            "",
            "| method | time | time / replay |",
            "| --- | ---: | ---: |",
            f"| swarmgit `replay` (pygit2, in memory, one commit per task) | {ms(fold)} | 1.0x |",
            f"| loop of `git merge-tree --write-tree` + `git commit-tree` "
            f"| {ms(merge_tree_time)} | {merge_tree_time / fold:.1f}x |",
            f"| loop of `git merge --no-ff` in a worktree | {ms(merge_loop)} | {ratio:.1f}x |",
            "",
            f"The `git merge` loop also needs its worktree: checkout took {ms(checkout)} "
            f"(not counted above). Same final tree from all three: {'yes' if same else 'NO'}. "
            f"Target >= {TARGET_RATIO:.0f}x against the `git merge` loop: {verdict} ({ratio:.1f}x).",
        ]
    )


def _merge_loop(
    root: Path, repo_path: Path, base: str, heads: Sequence[tuple[str, str]]
) -> tuple[float, float, str]:
    """Seconds for the `git merge --no-ff` loop, seconds for its checkout, final tree."""
    worktree = root / "integration"
    started = time.perf_counter()
    git(repo_path, "worktree", "add", "-q", "-b", "integration", str(worktree), base)
    checkout = time.perf_counter() - started
    started = time.perf_counter()
    for label, head in heads:
        git(worktree, "merge", "--no-ff", "-q", "-m", f"merge {label}", head)
    return time.perf_counter() - started, checkout, git(worktree, "rev-parse", "HEAD^{tree}")


def _merge_tree_loop(repo_path: Path, base: str, heads: Sequence[tuple[str, str]]) -> tuple[float, str]:
    """Seconds for git's in-memory merge loop, and its final tree."""
    current = base
    started = time.perf_counter()
    for label, head in heads:
        tree = git(repo_path, "merge-tree", "--write-tree", current, head).splitlines()[0]
        current = git(repo_path, "commit-tree", tree, "-p", current, "-p", head, "-m", f"merge {label}")
    return time.perf_counter() - started, tree


def _per_task_table(root: Path) -> str:
    repo, base = write_repo(root / "ours", SMALL_FILES)
    git_path = root / "git"
    shutil.copytree(root / "ours", git_path, symlinks=True)

    def ours_worktree(i: int) -> Path:
        return create_task_worktree(
            repo,
            path=root / "wt-ours" / f"T{i:03d}",
            branch=f"swarm/bench/T{i:03d}",
            start=base,
        )

    def ours_commit(path: Path, i: int) -> None:
        commit_all(path, f"T{i:03d}: work", lambda paths: [])

    def git_worktree(i: int) -> Path:
        path = root / "wt-git" / f"T{i:03d}"
        git(git_path, "worktree", "add", "-q", "-b", f"swarm/bench/T{i:03d}", str(path), base)
        return path

    def git_commit(path: Path, i: int) -> None:
        git(path, "add", "-A")
        git(path, "commit", "-q", "-m", f"T{i:03d}: work")

    ours, cli = _time_tasks([(ours_worktree, ours_commit), (git_worktree, git_commit)])
    rows = [
        ("worktree + branch", _median(ours, 0), _median(cli, 0)),
        ("commit (stage all, commit)", _median(ours, 1), _median(cli, 1)),
        ("total per task", _median(ours, 2), _median(cli, 2)),
    ]
    lines = [
        f"Per task on a {SMALL_FILES:,}-file repository, {TASKS} tasks, the two contenders "
        "taking turns (median per task; `commit_all` includes its scope-check call).",
        "",
        "| step | swarmgit | git CLI | git CLI / swarmgit |",
        "| --- | ---: | ---: | ---: |",
    ]
    lines += [f"| {step} | {ms(a)} | {ms(b)} | {b / a:.2f}x |" for step, a, b in rows]
    return "\n".join(lines)


_Contender = tuple[Callable[[int], Path], Callable[[Path, int], None]]


def _time_tasks(contenders: Sequence[_Contender]) -> list[list[tuple[float, float, float]]]:
    """Per contender, per task: seconds for (worktree, commit, both); each task writes one
    new file. Contenders alternate, first one then the other going first, so that a busy
    machine slows both alike."""
    times: list[list[tuple[float, float, float]]] = [[] for _ in contenders]
    for i in range(TASKS):
        order = range(len(contenders)) if i % 2 == 0 else reversed(range(len(contenders)))
        for which in order:
            make_worktree, commit = contenders[which]
            started = time.perf_counter()
            path = make_worktree(i)
            created = time.perf_counter()
            (path / "pkg000" / f"task_{i:03d}.py").write_text(f"VALUE = {i}\n", encoding="utf-8")
            commit_started = time.perf_counter()
            commit(path, i)
            done = time.perf_counter()
            worktree, committed = created - started, done - commit_started
            times[which].append((worktree, committed, worktree + committed))
    return times


def _median(times: Sequence[tuple[float, float, float]], column: int) -> float:
    return statistics.median(t[column] for t in times)


def _big_repo(path: Path) -> tuple[Path, str, list[tuple[str, str]]]:
    """The packed 10k-file repository, its base commit, and (label, head) per task branch."""
    repo, base = write_repo(path, BIG_FILES)
    base_tree = repo[base].peel(pygit2.Tree)
    heads = []
    for task in range(BRANCHES):
        index = pygit2.Index()
        index.read_tree(base_tree)
        for k in range(FILES_PER_TASK):
            # 61 is coprime with the file count, so every task gets files no other task has.
            number = ((task * FILES_PER_TASK + k) * 61) % BIG_FILES
            text = _content(number) + f"# changed by task {task}\n"
            index.add(pygit2.IndexEntry(_file_path(number), repo.create_blob(text), FileMode.BLOB))
        label = f"T{task:02d}"
        head = repo.create_commit(
            f"refs/heads/swarm/bench/{label}",
            _SIG,
            _SIG,
            f"{label}: work",
            index.write_tree(repo),
            [pygit2.Oid(hex=base)],
        )
        heads.append((label, str(head)))
    return path, base, heads


def write_repo(path: Path, files: int) -> tuple[pygit2.Repository, str]:
    """A repository on `main` with one commit of `files` Python files, then packed."""
    repo = pygit2.init_repository(str(path), initial_head="main")
    index = pygit2.Index()
    for number in range(files):
        blob = repo.create_blob(_content(number))
        index.add(pygit2.IndexEntry(_file_path(number), blob, FileMode.BLOB))
    commit = repo.create_commit("refs/heads/main", _SIG, _SIG, "base", index.write_tree(repo), [])
    # libgit2 is slow over many loose objects; a real repository is packed.
    git(path, "repack", "-a", "-d", "-q")
    return pygit2.Repository(str(path)), str(commit)


def _file_path(number: int) -> str:
    return f"pkg{number // 100:03d}/mod_{number % 100:02d}.py"


def _content(number: int) -> str:
    return "".join(f"def f{number}_{i}(x):\n    return x + {i}\n\n" for i in range(8))


if __name__ == "__main__":
    print(run())
