"""Files no gate should read: one past `gates.max_file_bytes` (parsing it costs minutes) is a
`too-large` finding, never analysed; a symlink (its blob is the link's target path) is not
source. Judged through `git swarm gates`, the same verdict cold and warm."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from swarmgit.gates.cache import GateCache
from tests.gitutil import git, make_repo, write
from tests.swarmrepo import swarm, swarm_process

PACKAGE = {
    "pkg/__init__.py": "",
    "pkg/a.py": "from pkg import b\n\n\ndef f():\n    return b.g()\n",
    "pkg/b.py": "def g():\n    return 1\n",
}
# 30 lines with a mixedCase name, a missing docstring and a magic number: Gate-I finds them all
# whenever it reads the file.
BLOCK = "".join(f"def fun{n}(badName):\n    return badName * {1000 + n}\n\n\n" for n in range(30))
LIMIT = 1000
# Code lines no two alike after normalisation (a pasted copy of it is a clone of ~800 tokens).
UNIQUE = "".join(f"v{n} = " + " + ".join(["w"] * n) + "\n" for n in range(1, 40))


def _gates(repo: Path) -> dict[str, Any]:
    run = swarm(repo, "gates", "--json")
    assert run.exit_code in (0, 1), run.output
    data: dict[str, Any] = json.loads(run.stdout)
    assert (run.exit_code == 0) == data["passed"]
    return data


def _cold_and_warm(repo: Path) -> dict[str, Any]:
    """The gates' answer with no cache, then from the per-file caches alone (the whole-result
    cache dropped), which must be the same."""
    cache = GateCache(repo).root
    shutil.rmtree(cache, ignore_errors=True)
    cold = _gates(repo)
    shutil.rmtree(cache / "gates")
    assert _gates(repo) == cold
    assert _gates(repo) == cold  # the whole result from the cache
    return cold


def _findings(data: dict[str, Any]) -> dict[tuple[str, str, int, str], str]:
    return {
        (g["key"], f["file"], f["line"], f["rule"]): f["message"]
        for g in data["gates"]
        for f in g["findings"]
    }


def _limit(repo: Path, limit: int) -> None:
    (repo / ".swarm.toml").write_text(f"[gates]\nmax_file_bytes = {limit}\n")  # untracked


def _large_change(root: Path) -> Path:
    repo = make_repo(root, {**PACKAGE, "pkg/c.py": ""})
    # a new import: Gate-M builds the graph (and keeps the module's imports) when it reads it
    write(repo, "pkg/a.py", "from pkg import c\n" + PACKAGE["pkg/a.py"] + "\n\n" + BLOCK)
    git(repo, "commit", "-qam", "large")
    return repo


def test_a_file_past_the_limit_is_a_finding_that_rejects_and_is_never_read(tmp_path: Path) -> None:
    repo = _large_change(tmp_path / "r")
    size = (repo / "pkg/a.py").stat().st_size
    assert size > LIMIT
    _limit(repo, LIMIT)

    data = _cold_and_warm(repo)

    found = _findings(data)
    words = f"too large to analyse: {size} bytes, limit {LIMIT}; split it or raise gates.max_file_bytes"
    # Reported by Gate-I (scored 0: an unanalysed change is never approved) and by Gate-M (its
    # imports are unknown; not scored again); nothing else is read from it.
    assert found.keys() == {("I", "pkg/a.py", 0, "too-large"), ("M", "pkg/a.py", 0, "too-large")}
    assert found[("I", "pkg/a.py", 0, "too-large")] == words
    assert found[("M", "pkg/a.py", 0, "too-large")].startswith(words)
    gates = {g["key"]: g for g in data["gates"]}
    assert gates["I"]["score"] == 0.0 and gates["I"]["metrics"]["too_large_files"] == 1
    assert gates["M"]["score"] == 1.0 and gates["M"]["metrics"]["unscanned_modules"] == 1
    assert gates["S"]["applies"] is False  # its API is not compared either
    assert data["verdict"] == "REJECTED"


def test_a_changed_limit_is_never_answered_from_the_caches(tmp_path: Path) -> None:
    repo = _large_change(tmp_path / "r")

    _limit(repo, LIMIT)
    small = _cold_and_warm(repo)
    _limit(repo, 1024 * 1024)
    large = _gates(repo)  # per-file caches warm from the run under the lower limit
    _limit(repo, LIMIT)
    again = _gates(repo)
    shutil.rmtree(GateCache(repo).root / "gates")
    again_from_blobs = _gates(repo)  # imports and fingerprints now cached for pkg/a.py

    assert ("M", "pkg/a.py", 0, "too-large") in _findings(small)
    rules = {(k, r) for k, f, _, r in _findings(large) if f == "pkg/a.py"}
    assert {("I", "naming"), ("I", "magic-number"), ("I", "missing-docstring")} <= rules
    assert not {r for _, r in rules} & {"too-large"}
    assert again == small and again_from_blobs == small


def test_the_duplication_corpus_leaves_out_a_file_past_the_limit(tmp_path: Path) -> None:
    # pkg/big.py (unchanged, past the limit) holds UNIQUE; pkg/c.py (under it) pastes it: no
    # copy is found in a file no gate reads, while under a higher limit the clone is reported.
    repo = make_repo(tmp_path / "r", {**PACKAGE, "pkg/big.py": UNIQUE + "# padding\n" * 200})
    write(repo, "pkg/c.py", UNIQUE)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "pasted")

    _limit(repo, (repo / "pkg/c.py").stat().st_size)
    skipped = _findings(_cold_and_warm(repo))
    _limit(repo, 1024 * 1024)
    read = _findings(_gates(repo))

    assert not any(r in ("duplicate-block", "too-large") for _, _, _, r in skipped)
    assert ("I", "pkg/c.py", 1, "duplicate-block") in read


def test_the_default_limit_keeps_a_large_generated_module_out_of_every_gate(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "r", PACKAGE)
    write(repo, "pkg/table.py", "TABLE = [\n" + "    1,\n" * 100_000 + "]\n")  # ~700 KB
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "generated")

    run = swarm_process(repo, "gates", "--json")  # a real process, with the defaults

    assert run.returncode == 1, run.stderr
    found = _findings(json.loads(run.stdout))
    assert found.keys() == {("I", "pkg/table.py", 0, "too-large"), ("M", "pkg/table.py", 0, "too-large")}
    assert "limit 524288" in found[("I", "pkg/table.py", 0, "too-large")]


def test_a_dependency_file_past_the_limit_scores_shrinks_dependencies_0(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "r", {**PACKAGE, "requirements.txt": "requests\n"})
    write(repo, "requirements.txt", "requests\n" + "# padding\n" * 300)
    git(repo, "commit", "-qam", "padded")
    _limit(repo, LIMIT)

    data = _cold_and_warm(repo)

    assert _findings(data).keys() == {("S", "requirements.txt", 0, "too-large")}
    shrink = next(g for g in data["gates"] if g["key"] == "S")
    assert shrink["score"] == 0.0 and shrink["metrics"]["too_large_files"] == 1


# Symlinks: a link's blob is its target path, which can be any text, even Python every gate
# would flag (a link may hold newlines). None of it is source.
LINKED = "from pkg import a\nfor x in y:\n    open(x)\ndef badName():\n    pass\n"


LINKS = {
    "pkg/link.py": LINKED,  # would close a cycle: a imports link
    "pkg/etc.py": "/etc/passwd",  # would be a syntax error
    "top.py": LINKED,
    "requirements.txt": "requests\nhttpx\nrich\n",  # would add dependencies
    "pyproject.toml": '[project]\nname = "x"\ndependencies = ["flask"]\n',
}


def _link(repo: Path, path: str, target: str) -> None:
    (repo / path).unlink(missing_ok=True)
    os.symlink(target, repo / path)


def _linked_repo(root: Path, at_base: bool) -> Path:
    """Head's links as LINKS says; `at_base`: base had them already (pointing elsewhere),
    else base had requirements.txt and pyproject.toml as files and no other link."""
    repo = make_repo(root, {**PACKAGE, "requirements.txt": "requests\n", "pyproject.toml": ""})
    if at_base:
        for path in LINKS:
            _link(repo, path, "elsewhere")
        git(repo, "add", "-A")
        git(repo, "commit", "-qm", "old links")
    for path, target in LINKS.items():
        _link(repo, path, target)
    write(repo, "pkg/a.py", "from pkg import b, link, etc\n\n\ndef f():\n    return b.g()\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "links")
    listed = git(repo, "ls-files", "-s", "pkg/link.py", "requirements.txt").stdout
    assert listed.count("120000 ") == 2  # stored as symlinks
    return repo


@pytest.mark.parametrize("at_base", [False, True], ids=["added", "retargeted"])
@pytest.mark.parametrize("key", ["I", "O", "M", "S"])
def test_no_gate_reads_a_symlink_as_source(tmp_path: Path, key: str, at_base: bool) -> None:
    repo = _linked_repo(tmp_path / "r", at_base)

    data = _cold_and_warm(repo)

    gate = next(g for g in data["gates"] if g["key"] == key)
    assert gate["findings"] == [], gate
    metrics = gate["metrics"]
    expected: dict[str, dict[str, object]] = {
        "I": {"naming_checked": 0, "docstrings_checked": 0, "syntax_errors": 0},
        "O": {"changed_loops": 0},
        "M": {"new_cycles": 0, "unscanned_modules": 0},
        # requests: gone from a file, or no file at either side
        "S": {"public_api_added": 0, "dependency_change": 0 if at_base else -1},
    }
    assert {k: metrics.get(k) for k in expected[key]} == expected[key]


def test_a_module_past_the_limit_at_base_is_not_compared_by_shrink(tmp_path: Path) -> None:
    # Split down under the limit: its 7 public functions are no growth against a base that was
    # never read (read as empty, they would all be new: past the allowance of 5).
    kept = "".join(f'def kept{n}():\n    """Kept."""\n\n\n' for n in range(7))
    repo = make_repo(tmp_path / "r", {**PACKAGE, "pkg/a.py": kept + BLOCK})
    write(repo, "pkg/a.py", kept)
    git(repo, "commit", "-qam", "split")
    _limit(repo, LIMIT)
    assert (repo / "pkg/a.py").stat().st_size <= LIMIT

    data = _cold_and_warm(repo)

    shrink = next(g for g in data["gates"] if g["key"] == "S")
    assert shrink["applies"] is False and shrink["findings"] == []
    assert _findings(data) == {}
