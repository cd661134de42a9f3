"""What the planner shows the model of a repository: its tracked files and a few key files.

A digest is bounded whatever the repository's size: the file tree is capped (a large tree is
summarised by folders and file counts), and the files quoted in full (README, package
manifests, the source files whose paths share the most words with the track's description)
share one byte budget, each file capped on its own. Binary files and files whose names suggest
secrets (`.env`, keys, credentials) are never read.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from swarmgit.gitops import repo as gitrepo

README_NAMES = ("README.md", "README.rst", "README.txt", "README")
MANIFESTS = (
    "pyproject.toml", "setup.cfg", "setup.py", "requirements.txt", "package.json", "Cargo.toml",
    "go.mod", "Gemfile", "pom.xml", "build.gradle", "composer.json", "Makefile",
)  # fmt: skip
SOURCE_SUFFIXES = frozenset({
    ".py", ".js", ".jsx", ".ts", ".tsx", ".go", ".rs", ".java", ".kt", ".rb", ".php", ".c",
    ".h", ".cc", ".cpp", ".hpp", ".cs", ".swift", ".scala", ".sh", ".sql", ".toml", ".yaml",
    ".yml", ".md",
})  # fmt: skip
_SECRET_NAME_RE = re.compile(
    r"^\.env|\.(pem|key|p12|pfx|keystore)$|^id_(rsa|dsa|ecdsa|ed25519)|secret|credential", re.I
)
_WORD_RE = re.compile(r"[a-z0-9]{3,}")
_STOP_WORDS = frozenset({"add", "and", "the", "for", "with", "from", "into", "use", "new", "make"})
_SUFFIXES = ("ing", "ed", "es", "s")
_MIN_STEM = 4
_BINARY_PROBE_BYTES = 8000
_MIN_QUOTE_BYTES = 400  # below this a quoted file says too little to be worth its header


@dataclass(frozen=True)
class DigestLimits:
    """How much of a repository a digest may show."""

    tree_entries: int = 300
    total_bytes: int = 48_000
    file_bytes: int = 8_000
    matched_files: int = 6  # source files picked for sharing words with the description


@dataclass(frozen=True)
class RepoDigest:
    """The tracked files (at HEAD, sorted) and the markdown text the model reads."""

    files: tuple[str, ...]
    text: str


def tracked_at_head(root: Path) -> tuple[str, ...]:
    """Every file tracked at HEAD of the repository at root (none on an unborn branch)."""
    repo = gitrepo.discover(root)
    head = gitrepo.head_commit(repo)
    return tuple(gitrepo.tracked_files(repo, head)) if head else ()


def read_digest(
    root: Path, files: Sequence[str], description: str, limits: DigestLimits = DigestLimits()
) -> RepoDigest:
    """The digest of the working tree at root whose tracked files are `files`."""
    sections = [f"## Tracked files ({len(files)})\n", _tree(files, limits.tree_entries)]
    budget = limits.total_bytes
    for path in key_files(files, description, limits.matched_files):
        room = min(limits.file_bytes, budget)
        if room < _MIN_QUOTE_BYTES:
            break
        body = _read_text(root / path, room)
        if body is None:
            continue
        budget -= len(body.encode("utf-8"))
        sections.append(f"\n## {path}\n\n````\n{body}\n````\n")
    return RepoDigest(tuple(files), "".join(sections))


def key_files(files: Sequence[str], description: str, matched: int) -> list[str]:
    """The files worth quoting, most useful first: the README, the package manifests at the
    root, then up to `matched` source files whose path words appear in the description."""
    readable = [f for f in files if not _SECRET_NAME_RE.search(PurePosixPath(f).name)]
    present = set(readable)
    chosen = [name for name in README_NAMES if name in present][:1]
    chosen += [name for name in MANIFESTS if name in present]
    words = {_stem(w) for w in _WORD_RE.findall(description.lower()) if w not in _STOP_WORDS}
    scored = [
        (-score, f.count("/"), f)
        for f in readable
        if f not in chosen
        and PurePosixPath(f).suffix in SOURCE_SUFFIXES
        and (score := _shared_words(f, words)) > 0
    ]
    return chosen + [f for _, _, f in sorted(scored)[:matched]]


def _stem(word: str) -> str:
    """A crude stem, enough for paths: `caching` -> `cach`, `routes` -> `rout`."""
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= _MIN_STEM:
            return word[: -len(suffix)]
    return word


def _shared_words(path: str, stems: set[str]) -> int:
    """How many description word stems a path contains (`caching` matches `cache.py`)."""
    lowered = path.lower()
    return sum(1 for stem in stems if stem in lowered)


def _tree(files: Sequence[str], cap: int) -> str:
    """All files one per line when they fit in cap lines; else each folder (up to three deep)
    with its file count, then the shallowest files, until cap lines."""
    if len(files) <= cap:
        return "".join(f"{f}\n" for f in files) or "(no tracked files: a new repository)\n"
    counts: Counter[str] = Counter()
    for f in files:
        parts = f.split("/")[:-1]
        for depth in range(1, min(len(parts), 3) + 1):
            counts["/".join(parts[:depth])] += 1
    lines = [f"{folder}/ ({n} files)" for folder, n in sorted(counts.items())]
    lines += sorted(files, key=lambda f: (f.count("/"), f))
    shown = lines[:cap]
    left_out = f"... ({len(lines) - cap} more lines left out)\n"
    return "".join(f"{line}\n" for line in shown) + left_out


def _read_text(path: Path, cap: int) -> str | None:
    """The file's text cut to cap bytes (marked when cut); None for binary or unreadable files."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    if b"\0" in data[:_BINARY_PROBE_BYTES]:
        return None
    if len(data) <= cap:
        return data.decode("utf-8", errors="replace")
    cut = data[:cap].decode("utf-8", errors="ignore")
    return f"{cut}\n... (cut: {cap} of {len(data)} bytes shown)"
