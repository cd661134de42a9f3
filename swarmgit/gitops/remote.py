"""A git remote the head and the cluster's workers share: task start points go up, task
branches come back. Every call is a `safe_git.run_git` (no hooks, fsmonitor or filters)."""
from __future__ import annotations

from pathlib import Path

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
        raise UsageError("executor = \"ray\" needs a git remote every node reaches: add an `origin` "
                         "remote or set ray.remote in .swarm.toml")
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
    listing = _checked(cwd, "ls-remote", url, ref)
    return next((line.split()[0] for line in listing.splitlines() if line.split()[1:] == [ref]), "")


def put_ref(cwd: Path, url: str, commit: str, ref: str) -> None:
    """Set `ref` on the remote to `commit`, whatever it held (start points, owned by the head)."""
    _checked(cwd, "push", "--quiet", url, f"+{commit}:{ref}")


def push_expecting(cwd: Path, url: str, commit: str, ref: str, expect: str) -> bool:
    """Compare-and-set `ref` on the remote to `commit` if it still holds `expect` ('' for
    absent: create-only); False when someone else moved it."""
    done = run_git(cwd, "push", "--quiet", "--porcelain", f"--force-with-lease={ref}:{expect}",
                   url, f"{commit}:{ref}")
    return done.returncode == 0


def fetch(cwd: Path, url: str, ref: str) -> str:
    """Fetch `ref` from the remote into this repository's objects; its commit."""
    _checked(cwd, "fetch", "--quiet", "--no-tags", url, ref)
    return _checked(cwd, "rev-parse", "FETCH_HEAD^{commit}")


def descends(cwd: Path, ancestor: str, commit: str) -> bool:
    return run_git(cwd, "merge-base", "--is-ancestor", ancestor, commit).returncode == 0
