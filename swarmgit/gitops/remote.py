"""A git remote the head and the cluster's workers share: task start points go up, task
branches come back. Every git process is a `safe_git.run_git` (no hooks, fsmonitor or
filters); reading what a fetch brought is done in-process (pygit2)."""

from __future__ import annotations

from pathlib import Path

import pygit2

from swarmgit.errors import UsageError, WorkFailed
from swarmgit.gitops.safe_git import run_git


def remote_url(repo_root: Path, remote: str) -> str:
    """The URL workers use: `remote` as given (a configured remote's name gives its URL, a
    relative path is made absolute); empty: the repository's `origin`."""
    name = remote or "origin"
    known = run_git(repo_root, "remote", "get-url", name)
    if known.returncode == 0:
        return known.stdout.strip()
    if not remote:
        raise UsageError(
            'executor = "ray" needs a git remote every node reaches: add an `origin` '
            "remote or set ray.remote in .swarm.toml"
        )
    path = Path(remote)
    if "://" not in remote and ":" not in remote.partition("/")[0] and not path.is_absolute():
        return str((repo_root / path).resolve())
    return remote


def _checked(cwd: Path, *args: str) -> str:
    done = run_git(cwd, *args)
    if done.returncode != 0:
        raise WorkFailed(f"git {' '.join(args[:2])} failed: {done.stderr.strip()[-500:]}")
    return done.stdout.strip()


def remote_tip(cwd: Path, url: str, ref: str) -> str:
    """The commit `ref` names on the remote, '' when it has no such ref."""
    return remote_tips(cwd, url, ref)[ref]


def remote_tips(cwd: Path, url: str, *refs: str) -> dict[str, str]:
    """The object each of `refs` names on the remote ('' when absent), in one call."""
    found = dict.fromkeys(refs, "")
    for line in _checked(cwd, "ls-remote", url, *refs).splitlines():
        oid, _, name = line.partition("\t")
        if name in found:
            found[name] = oid
    return found


def put_ref(cwd: Path, url: str, commit: str, ref: str) -> None:
    """Set `ref` on the remote to `commit`, whatever it held (start points, owned by the head)."""
    _checked(cwd, "push", "--quiet", url, f"+{commit}:{ref}")


def push_expecting(
    cwd: Path, url: str, commit: str, ref: str, expect: str, also: tuple[tuple[str, str], ...] = ()
) -> bool:
    """Compare-and-set `ref` on the remote to `commit` if it still holds `expect` ('' for
    absent: create-only), and create each (object, ref) of `also` in the same atomic push:
    all or none land. False when someone else moved `ref` (or holds one of `also`)."""
    done = run_git(
        cwd,
        "push",
        "--quiet",
        "--porcelain",
        "--atomic",
        f"--force-with-lease={ref}:{expect}",
        url,
        f"{commit}:{ref}",
        *(f"{oid}:{name}" for oid, name in also),
    )
    return done.returncode == 0


def fetch(cwd: Path, url: str, ref: str) -> str:
    """Fetch `ref` from the remote into this repository's objects; its commit."""
    fetch_refs(cwd, url, ref)
    try:
        return str(pygit2.Repository(str(cwd)).revparse_single("FETCH_HEAD").peel(pygit2.Commit).id)
    except (KeyError, ValueError, pygit2.GitError) as exc:
        raise WorkFailed(f"the remote's {ref} is not a commit: {exc}") from exc


def fetch_refs(cwd: Path, url: str, *refspecs: str) -> None:
    """One fetch of `refspecs` from the remote (a glob that matches nothing is no error)."""
    _checked(cwd, "fetch", "--quiet", "--no-tags", url, *refspecs)


def read_blob(cwd: Path, name: str, limit: int) -> bytes:
    """The blob `name` (a ref, or FETCH_HEAD) names here; WorkFailed when it is missing, not a
    blob, or larger than `limit` bytes (never read whole then)."""
    try:
        blob = pygit2.Repository(str(cwd)).revparse_single(name)
    except (KeyError, pygit2.GitError) as exc:
        raise WorkFailed(f"{name} names no object: {exc}") from exc
    if not isinstance(blob, pygit2.Blob) or blob.size > limit:
        raise WorkFailed(f"{name} is not a blob of at most {limit} bytes")
    return bytes(blob.data)


def fetch_blob(cwd: Path, url: str, ref: str, limit: int) -> bytes:
    """The blob `ref` names on the remote, fetched into this repository's objects; WorkFailed
    when it is not a blob or is larger than `limit` bytes (never read whole then)."""
    fetch_refs(cwd, url, ref)
    try:
        return read_blob(cwd, "FETCH_HEAD", limit)
    except WorkFailed as exc:
        raise WorkFailed(f"the remote's {ref}: {exc}") from exc


def descends(cwd: Path, ancestor: str, commit: str) -> bool:
    """Whether `commit` is `ancestor` or grew from it (both in this repository's objects)."""
    if ancestor == commit:
        return True
    try:
        return bool(pygit2.Repository(str(cwd)).descendant_of(commit, ancestor))
    except (KeyError, ValueError, pygit2.GitError):
        return False
